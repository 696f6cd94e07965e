//! The per-instance WASI state: arguments, environment and the descriptor table.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::PathBuf;

use rustix::fs::{FileType, Mode, OFlags};
use thiserror::Error;
use vm_core::runtime::RunContext;

use crate::WasiConfig;
use crate::abi::{Errno, filetype, rights};

/// The most descriptors one instance may be configured to hold open (the upper bound
/// of `max_open_files`).
pub const MAX_FDS: usize = 1 << 14;

/// Why a [`WasiCtx`] could not be built from a [`RunContext`].
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum WasiError {
    /// A preopened directory could not be opened.
    #[error("cannot preopen `{}` (as `{guest}`): {source}", host.display())]
    Preopen {
        /// Host path.
        host: PathBuf,
        /// Guest path.
        guest: String,
        /// The host's error.
        source: std::io::Error,
    },
    /// An argument or environment entry contains a NUL byte (or a name contains `=`).
    #[error("invalid {what} `{value}`: {reason}")]
    BadString {
        /// `argument`, `environment variable`.
        what: &'static str,
        /// The value, lossily.
        value: String,
        /// Why.
        reason: &'static str,
    },
}

/// One directory listing entry, as `fd_readdir` serializes it.
#[derive(Clone, Debug)]
pub(crate) struct DirItem {
    pub ino: u64,
    pub filetype: u8,
    pub name: Vec<u8>,
}

/// What a descriptor is.
#[derive(Debug)]
pub(crate) enum Kind {
    /// A file, terminal, pipe or socket the host opened.
    File,
    /// A directory: preopened (with its guest path) or opened through `path_open`. The
    /// listing is read at cookie 0 and served from here for later cookies.
    Dir { preopen: Option<String>, listing: Vec<DirItem> },
}

/// One open descriptor.
#[derive(Debug)]
pub(crate) struct Entry {
    pub fd: OwnedFd,
    pub filetype: u8,
    pub rights_base: u64,
    pub rights_inheriting: u64,
    pub kind: Kind,
}

impl Entry {
    /// The directory's host descriptor, or `Errno::Notdir`.
    pub fn dir(&self) -> Result<BorrowedFd<'_>, Errno> {
        match self.kind {
            Kind::Dir { .. } => Ok(self.fd.as_fd()),
            Kind::File => Err(Errno::Notdir),
        }
    }
}

/// The preview1 type of a host file type.
pub(crate) fn wasi_filetype(ft: FileType) -> u8 {
    match ft {
        FileType::RegularFile => filetype::REGULAR_FILE,
        FileType::Directory => filetype::DIRECTORY,
        FileType::Symlink => filetype::SYMBOLIC_LINK,
        FileType::CharacterDevice => filetype::CHARACTER_DEVICE,
        FileType::BlockDevice => filetype::BLOCK_DEVICE,
        FileType::Socket => filetype::SOCKET_STREAM,
        _ => filetype::UNKNOWN,
    }
}

/// The guest's descriptors, by number. Slots are reused lowest first, like POSIX; at
/// most `max` are open at once (`Mfile` past it, like `EMFILE` past `RLIMIT_NOFILE`).
#[derive(Debug)]
pub(crate) struct FdTable {
    slots: Vec<Option<Entry>>,
    open: usize,
    max: usize,
}

impl FdTable {
    pub fn get(&self, fd: u32) -> Result<&Entry, Errno> {
        self.slots.get(fd as usize).and_then(Option::as_ref).ok_or(Errno::Badf)
    }

    pub fn get_mut(&mut self, fd: u32) -> Result<&mut Entry, Errno> {
        self.slots.get_mut(fd as usize).and_then(Option::as_mut).ok_or(Errno::Badf)
    }

    fn new(max: usize) -> Self {
        Self { slots: Vec::new(), open: 0, max: max.min(MAX_FDS) }
    }

    /// Descriptors open now.
    #[cfg(test)]
    pub fn open(&self) -> usize {
        self.open
    }

    pub fn insert(&mut self, entry: Entry) -> Result<u32, Errno> {
        if self.open >= self.max {
            return Err(Errno::Mfile);
        }
        let index = match self.slots.iter().position(Option::is_none) {
            Some(i) => i,
            None => {
                self.slots.push(None);
                self.slots.len() - 1
            }
        };
        self.slots[index] = Some(entry);
        self.open += 1;
        u32::try_from(index).map_err(|_| Errno::Mfile)
    }

    pub fn remove(&mut self, fd: u32) -> Result<Entry, Errno> {
        let entry = self.slots.get_mut(fd as usize).and_then(Option::take).ok_or(Errno::Badf)?;
        self.open -= 1;
        Ok(entry)
    }

    /// Moves `from` onto `to` (which must be open; it is closed).
    pub fn renumber(&mut self, from: u32, to: u32) -> Result<(), Errno> {
        self.get(from)?;
        self.get(to)?;
        if from != to {
            let entry = self.remove(from)?;
            // `to`'s entry is dropped (closed): one fewer open overall.
            self.slots[to as usize] = Some(entry);
        }
        Ok(())
    }

    /// Puts `entry` at `fd` (0–2 only: stdio), replacing what was there.
    fn set(&mut self, fd: usize, entry: Option<Entry>) {
        if self.slots.len() <= fd {
            self.slots.resize_with(fd + 1, || None);
        }
        let was = self.slots[fd].is_some();
        let now = entry.is_some();
        self.slots[fd] = entry;
        self.open = self.open + usize::from(now) - usize::from(was);
    }
}

/// The state of the `wasi_snapshot_preview1` module for one instance: the guest's
/// `argv`, environment and descriptors (0–2 inherit the host's stdio, the preopened
/// directories follow from 3 in the order given).
#[derive(Debug)]
pub struct WasiCtx {
    /// Each argument with its NUL.
    pub(crate) args: Vec<Vec<u8>>,
    /// Each `KEY=value` with its NUL.
    pub(crate) env: Vec<Vec<u8>>,
    pub(crate) fds: FdTable,
}

fn nul_terminated(what: &'static str, s: &str) -> Result<Vec<u8>, WasiError> {
    if s.as_bytes().contains(&0) {
        return Err(WasiError::BadString { what, value: s.to_owned(), reason: "contains NUL" });
    }
    let mut v = Vec::with_capacity(s.len() + 1);
    v.extend_from_slice(s.as_bytes());
    v.push(0);
    Ok(v)
}

impl WasiCtx {
    /// Builds the state from the embedder's run context with the default
    /// [`WasiConfig`] (see [`WasiCtx::with_config`]).
    ///
    /// # Errors
    /// As [`WasiCtx::with_config`].
    pub fn new(run: &RunContext) -> Result<Self, WasiError> {
        Self::with_config(run, &WasiConfig::default())
    }

    /// Builds the state from the embedder's run context: arguments (program name
    /// first), environment, and the preopened directories `(host path, guest path)`,
    /// which are opened now; `config` gives the limits.
    ///
    /// # Errors
    /// A preopened directory that cannot be opened (`EMFILE` when stdio and the
    /// preopens exceed `max_open_files`), or a string with a NUL byte.
    pub fn with_config(run: &RunContext, config: &WasiConfig) -> Result<Self, WasiError> {
        let args =
            run.args.iter().map(|a| nul_terminated("argument", a)).collect::<Result<_, _>>()?;
        let env = run
            .env
            .iter()
            .map(|(k, v)| {
                if k.is_empty() || k.contains('=') {
                    return Err(WasiError::BadString {
                        what: "environment variable",
                        value: k.clone(),
                        reason: "names are non-empty and have no `=`",
                    });
                }
                nul_terminated("environment variable", &format!("{k}={v}"))
            })
            .collect::<Result<_, _>>()?;
        let mut fds = FdTable::new(config.max_open_files as usize);
        let (stdin, stdout, stderr) = (std::io::stdin(), std::io::stdout(), std::io::stderr());
        let stdio: [BorrowedFd<'_>; 3] = [stdin.as_fd(), stdout.as_fd(), stderr.as_fd()];
        for (i, host) in stdio.into_iter().enumerate() {
            // A closed host stdio stream leaves the guest's closed too.
            fds.set(i, stdio_entry(host).ok());
        }
        for (host, guest) in &run.preopens {
            let fd = rustix::fs::open(
                host,
                OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
                Mode::empty(),
            )
            .map_err(|e| WasiError::Preopen {
                host: host.clone(),
                guest: guest.clone(),
                source: e.into(),
            })?;
            fds.insert(Entry {
                fd,
                filetype: filetype::DIRECTORY,
                rights_base: rights::DIRECTORY,
                rights_inheriting: rights::DIRECTORY | rights::FILE,
                kind: Kind::Dir { preopen: Some(guest.clone()), listing: Vec::new() },
            })
            .map_err(|_| WasiError::Preopen {
                host: host.clone(),
                guest: guest.clone(),
                source: std::io::Error::from_raw_os_error(rustix::io::Errno::MFILE.raw_os_error()),
            })?;
        }
        Ok(Self { args, env, fds })
    }

    /// Replaces the guest's stdin, stdout or stderr (`fd` 0, 1 or 2) with a host file,
    /// pipe or socket, e.g. to capture a guest's output. The state is reached after
    /// instantiation through the store's host states.
    ///
    /// # Errors
    /// `Errno::Badf` for an `fd` above 2; the host's errno if `file` cannot be
    /// inspected.
    pub fn set_stdio(&mut self, fd: u32, file: OwnedFd) -> Result<(), Errno> {
        if fd > 2 {
            return Err(Errno::Badf);
        }
        let mut entry = stdio_entry(file.as_fd())?;
        entry.fd = file;
        self.fds.set(fd as usize, Some(entry));
        Ok(())
    }

    /// The guest's arguments, program name first.
    pub fn args(&self) -> impl Iterator<Item = &[u8]> {
        self.args.iter().map(|a| &a[..a.len().saturating_sub(1)])
    }
}

/// A descriptor entry sharing the host's stdio stream `host` (a duplicate, so the
/// guest's `fd_close` leaves the host's stream open).
fn stdio_entry(host: BorrowedFd<'_>) -> Result<Entry, Errno> {
    let fd = rustix::io::fcntl_dupfd_cloexec(host, 0)?;
    let ft = wasi_filetype(FileType::from_raw_mode(rustix::fs::fstat(&fd)?.st_mode));
    let rights_base = if ft == filetype::REGULAR_FILE { rights::FILE } else { rights::STREAM };
    Ok(Entry { fd, filetype: ft, rights_base, rights_inheriting: 0, kind: Kind::File })
}
