//! Kicking a running vCPU out from another thread.
//!
//! [`Interrupter::interrupt`] sets `kvm_run.immediate_exit` (which makes a
//! `KVM_RUN` that has not entered the guest yet return at once) and sends
//! [`interrupt_signal`] to the thread inside `KVM_RUN` (which makes one that
//! has entered return). Both end in `EINTR`; the sandbox then reports
//! [`Exit::Interrupted`](crate::Exit::Interrupted). The signal's handler does
//! nothing and is installed without `SA_RESTART`.

use std::sync::{Arc, Mutex, MutexGuard, Once};

use kvm_bindings::kvm_run;

/// The signal used to kick a vCPU thread: `SIGRTMIN + 7`.
pub fn interrupt_signal() -> i32 {
    libc::SIGRTMIN() + 7
}

extern "C" fn on_signal(_: i32) {}

pub(crate) fn install_handler() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // SAFETY: a zeroed sigaction is valid; the handler is async-signal-safe
        // (it does nothing).
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = on_signal as extern "C" fn(i32) as usize;
            sa.sa_flags = 0;
            libc::sigemptyset(&mut sa.sa_mask);
            libc::sigaction(interrupt_signal(), &sa, std::ptr::null_mut());
        }
    });
}

#[derive(Debug)]
struct Slot {
    /// The vCPU's `kvm_run` page; `None` once the sandbox is gone.
    run: Option<*mut kvm_run>,
    /// The thread inside `KVM_RUN`, if any.
    thread: Option<libc::pthread_t>,
    requested: bool,
}

/// State shared between a sandbox and its interrupters.
#[derive(Debug)]
pub(crate) struct Shared(Mutex<Slot>);

// SAFETY: the raw `kvm_run` pointer is only dereferenced under the mutex, and
// the sandbox clears it (under the mutex) before the mapping goes away.
unsafe impl Send for Shared {}
// SAFETY: as above; all access goes through the mutex.
unsafe impl Sync for Shared {}

impl Shared {
    pub(crate) fn new(run: *mut kvm_run) -> Arc<Self> {
        Arc::new(Shared(Mutex::new(Slot { run: Some(run), thread: None, requested: false })))
    }

    fn lock(&self) -> MutexGuard<'_, Slot> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The calling thread is about to enter `KVM_RUN`.
    pub(crate) fn enter(&self) {
        // SAFETY: pthread_self has no preconditions.
        self.lock().thread = Some(unsafe { libc::pthread_self() });
    }

    /// The calling thread left `KVM_RUN`.
    pub(crate) fn leave(&self) {
        self.lock().thread = None;
    }

    /// After an `EINTR`: clears `immediate_exit` and says whether it was an
    /// interrupt request (and consumes it).
    pub(crate) fn take(&self) -> bool {
        let mut s = self.lock();
        if let Some(run) = s.run {
            // SAFETY: `run` points to the live kvm_run mapping (cleared before it
            // is unmapped); a volatile byte store races with nothing harmful.
            unsafe { std::ptr::addr_of_mut!((*run).immediate_exit).write_volatile(0) };
        }
        std::mem::take(&mut s.requested)
    }

    /// Drops a request that arrived while no call was running.
    pub(crate) fn clear(&self) {
        self.take();
    }

    /// The sandbox is going away.
    pub(crate) fn detach(&self) {
        let mut s = self.lock();
        s.run = None;
        s.thread = None;
    }
}

/// A handle that ends the guest code a sandbox is running, from any thread.
#[derive(Debug, Clone)]
pub struct Interrupter(pub(crate) Arc<Shared>);

impl Interrupter {
    /// Makes the current (or the next) run of the sandbox return
    /// [`Exit::Interrupted`](crate::Exit::Interrupted). A request made while no
    /// call runs is dropped when the next top-level call starts. Does nothing
    /// once the sandbox is dropped.
    pub fn interrupt(&self) {
        let mut s = self.0.lock();
        let Some(run) = s.run else { return };
        s.requested = true;
        // SAFETY: `run` is the live kvm_run mapping (see `Shared`).
        unsafe { std::ptr::addr_of_mut!((*run).immediate_exit).write_volatile(1) };
        if let Some(t) = s.thread {
            // SAFETY: `t` is a thread that is inside `KVM_RUN` right now (it
            // clears the slot under this mutex before it can exit), and the
            // signal has a do-nothing handler installed.
            unsafe { libc::pthread_kill(t, interrupt_signal()) };
        }
    }
}
