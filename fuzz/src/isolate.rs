//! Running code that may crash in a child process of its own.
//!
//! The oracle is a peer's code: a fault in it (wasmi 2.0 jumps to address 0x2 on
//! seed 20261207 input 11,349 of the `diff` loop), an abort or a hang would end the
//! fuzz loop or libFuzzer with it. A [`Worker`] is a forked child that runs a job
//! on each request and answers through a socket; the parent sees a fault, an abort
//! or a hang as a [`Died`], and the next request forks a new child.
//!
//! The child is forked, not executed: it is a copy of the parent, so the job needs
//! no setup of its own and the same code works in the seeded loop, in `cargo test`
//! and under libFuzzer. One child serves many requests, since forking a process
//! as large as the fuzz loop costs more than running most inputs.

use std::fmt;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

/// How a child ended without answering.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Died {
    /// It was killed by this signal (a fault, an abort).
    Signal(i32),
    /// It exited with this status (101: the job panicked).
    Exit(i32),
    /// It ran longer than the timeout and was killed.
    Hung(Duration),
    /// No child could be started, or talking to it failed.
    Io(io::ErrorKind),
}

impl fmt::Display for Died {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Died::Signal(s) => write!(f, "killed by signal {s}"),
            Died::Exit(c) => write!(f, "exited with status {c} without answering"),
            Died::Hung(t) => write!(f, "ran longer than {t:?}"),
            Died::Io(e) => write!(f, "could not fork it or talk to it: {e}"),
        }
    }
}

/// Signals whose handlers a child resets to the default action, so that a fault
/// kills the child only: libFuzzer, sanitizers and std install handlers that
/// would report the parent's input as a crash or print a stack-overflow message.
const FATAL_SIGNALS: [libc::c_int; 6] =
    [libc::SIGSEGV, libc::SIGBUS, libc::SIGILL, libc::SIGFPE, libc::SIGABRT, libc::SIGTRAP];

/// A child process that runs `job` on each request: forked on the first request
/// and again on the first after it died.
pub struct Worker {
    job: fn(&[u8]) -> Vec<u8>,
    child: Option<Child>,
}

/// A running child: its id and the parent's end of the socket to it.
struct Child {
    pid: libc::pid_t,
    socket: OwnedFd,
}

impl Worker {
    /// A worker for `job`; no child runs until the first [`call`](Self::call).
    ///
    /// `job` runs in the child with only the calling thread (fork copies no
    /// other), so it must not wait on other threads or locks they may hold.
    pub const fn new(job: fn(&[u8]) -> Vec<u8>) -> Self {
        Worker { job, child: None }
    }

    /// Sends `request` to the child and returns the job's answer.
    ///
    /// # Errors
    /// The child died (by a signal, or by exiting: a panic in the job), ran longer
    /// than `timeout` (it is then killed), or could not be forked. The next call
    /// forks a new child.
    pub fn call(&mut self, request: &[u8], timeout: Duration) -> Result<Vec<u8>, Died> {
        let child = match &mut self.child {
            Some(c) => c,
            None => self.child.insert(Child::fork(self.job).map_err(|e| Died::Io(e.kind()))?),
        };
        let deadline = Instant::now() + timeout;
        let answer = send_frame(&child.socket, request)
            .and_then(|()| recv_frame(&child.socket, deadline, timeout));
        match answer {
            Ok(Some(bytes)) => Ok(bytes),
            // The child hung up or the socket broke: it died, of what its status says.
            Ok(None) | Err(Died::Io(_)) => Err(self.bury(None)),
            Err(e) => Err(self.bury(Some(e))),
        }
    }

    /// Kills and reaps the child; what it died of (`why`, else its wait status).
    fn bury(&mut self, why: Option<Died>) -> Died {
        let Some(child) = self.child.take() else {
            return why.unwrap_or(Died::Io(io::ErrorKind::NotConnected));
        };
        let status = child.kill();
        why.unwrap_or(match status {
            Some(s) if libc::WIFSIGNALED(s) => Died::Signal(libc::WTERMSIG(s)),
            Some(s) if libc::WIFEXITED(s) => Died::Exit(libc::WEXITSTATUS(s)),
            _ => Died::Io(io::ErrorKind::Other),
        })
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        if let Some(child) = self.child.take() {
            child.kill();
        }
    }
}

impl Child {
    fn fork(job: fn(&[u8]) -> Vec<u8>) -> io::Result<Child> {
        let mut fds = [0; 2];
        // SAFETY: `fds` has room for the two descriptors `socketpair` writes.
        let r = unsafe {
            libc::socketpair(
                libc::AF_UNIX,
                libc::SOCK_STREAM | libc::SOCK_CLOEXEC,
                0,
                fds.as_mut_ptr(),
            )
        };
        if r != 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `socketpair` succeeded, so both descriptors are open and ours only.
        let (parent, child) =
            unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        // SAFETY: the child runs only `serve` and exits with `_exit`, never returning
        // into the parent's code; glibc's fork resets the allocator's locks in the
        // child, so the job may allocate.
        let pid = unsafe { libc::fork() };
        if pid < 0 {
            return Err(io::Error::last_os_error());
        }
        if pid == 0 {
            drop(parent);
            serve(child, job);
        }
        Ok(Child { pid, socket: parent })
    }

    /// Kills the child and returns its wait status.
    fn kill(self) -> Option<libc::c_int> {
        drop(self.socket);
        // SAFETY: `pid` is our child, not yet reaped, so the id is still its own.
        unsafe { libc::kill(self.pid, libc::SIGKILL) };
        let mut status = 0;
        loop {
            // SAFETY: `status` is a valid out pointer; `pid` is our child.
            let r = unsafe { libc::waitpid(self.pid, &mut status, 0) };
            if r == self.pid {
                return Some(status);
            }
            if r < 0 && io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return None;
        }
    }
}

/// The child's loop: answer each request until the parent hangs up, then exit
/// without running the parent's exit handlers or destructors.
fn serve(socket: OwnedFd, job: fn(&[u8]) -> Vec<u8>) -> ! {
    // Only the socket stays open (as descriptor 3) besides the standard streams:
    // a copy of another worker's socket, forked by another thread, would keep
    // that worker from seeing its own child hang up.
    // SAFETY: descriptor 3 is replaced by a copy of the socket, which stays open;
    // the descriptors closed after it belong to this child's copy of the table only.
    let socket = unsafe {
        if socket.as_raw_fd() != 3 && libc::dup2(socket.as_raw_fd(), 3) != 3 {
            libc::_exit(1);
        }
        std::mem::forget(socket);
        libc::close_range(4, libc::c_uint::MAX, 0);
        OwnedFd::from_raw_fd(3)
    };
    for sig in FATAL_SIGNALS {
        // SAFETY: resetting a handler to the default action is always sound.
        unsafe { libc::signal(sig, libc::SIG_DFL) };
    }
    let no_core = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: `no_core` is a valid rlimit; a fault should leave no core file.
    unsafe { libc::setrlimit(libc::RLIMIT_CORE, &no_core) };
    let mut code = 0;
    while let Ok(Some(request)) = recv_frame(&socket, Instant::now(), Duration::MAX) {
        match std::panic::catch_unwind(|| job(&request)) {
            Ok(answer) if send_frame(&socket, &answer).is_ok() => {}
            Ok(_) => break,
            Err(_) => {
                code = 101;
                break;
            }
        }
    }
    // SAFETY: `_exit` ends the child without touching state the parent owns.
    unsafe { libc::_exit(code) }
}

/// Sends one frame: its length as a little-endian `u64`, then its bytes.
fn send_frame(socket: &OwnedFd, bytes: &[u8]) -> Result<(), Died> {
    send_all(socket, &(bytes.len() as u64).to_le_bytes())?;
    send_all(socket, bytes)
}

fn send_all(socket: &OwnedFd, mut bytes: &[u8]) -> Result<(), Died> {
    while !bytes.is_empty() {
        // SAFETY: `bytes` is valid for `bytes.len()` bytes of reading. MSG_NOSIGNAL:
        // a dead peer is an error here, not a SIGPIPE that would kill the sender.
        let n = unsafe {
            libc::send(socket.as_raw_fd(), bytes.as_ptr().cast(), bytes.len(), libc::MSG_NOSIGNAL)
        };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(Died::Io(e.kind()));
        }
        bytes = &bytes[n as usize..];
    }
    Ok(())
}

/// Receives one frame; `None` when the peer hung up before a whole frame.
fn recv_frame(
    socket: &OwnedFd,
    start: Instant,
    timeout: Duration,
) -> Result<Option<Vec<u8>>, Died> {
    let mut len = [0u8; 8];
    if !recv_exact(socket, &mut len, start, timeout)? {
        return Ok(None);
    }
    let Ok(len) = usize::try_from(u64::from_le_bytes(len)) else {
        return Ok(None);
    };
    let mut bytes = vec![0u8; len];
    Ok(recv_exact(socket, &mut bytes, start, timeout)?.then_some(bytes))
}

/// Fills `buf`; `false` when the peer hung up first.
fn recv_exact(
    socket: &OwnedFd,
    buf: &mut [u8],
    start: Instant,
    timeout: Duration,
) -> Result<bool, Died> {
    let mut at = 0;
    while at < buf.len() {
        let ms = match timeout.checked_sub(start.elapsed()) {
            None => return Err(Died::Hung(timeout)),
            Some(left) => left.as_millis().clamp(1, i32::MAX as u128) as libc::c_int,
        };
        let mut ready = libc::pollfd { fd: socket.as_raw_fd(), events: libc::POLLIN, revents: 0 };
        // SAFETY: `ready` is one valid pollfd.
        if unsafe { libc::poll(&mut ready, 1, ms) } <= 0 {
            continue;
        }
        let rest = &mut buf[at..];
        // SAFETY: `rest` is valid for `rest.len()` bytes of writing.
        let n = unsafe { libc::recv(socket.as_raw_fd(), rest.as_mut_ptr().cast(), rest.len(), 0) };
        match n {
            0 => return Ok(false),
            n if n > 0 => at += n as usize,
            _ => {
                let e = io::Error::last_os_error();
                if e.kind() != io::ErrorKind::Interrupted {
                    return Err(Died::Io(e.kind()));
                }
            }
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests;
