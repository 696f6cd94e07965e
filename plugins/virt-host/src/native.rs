//! Running native code in this process.
//!
//! Every call from the host enters guest code through `vm_enter`, which saves the
//! callee-saved registers and stores the stack pointer in the call's
//! [`CallState::entry_sp`]. A trapping instruction (a `ud2` at a recorded trap site,
//! or a load/store that faults in the guard region of linear memory) raises a
//! signal; the handler, installed once per process and chaining to whatever handler
//! was there before, lets [`CallState::record_trap`] check that the faulting
//! instruction is a trap site of the current call's code and record the trap and
//! the wasm frames, then resumes the thread at `vm_trap_landing`, which returns
//! from `vm_enter` with status 1. Faults anywhere else (no call running on the
//! thread, or a pc that is not a trap site) go to the previous handler untouched.

use std::cell::Cell;
use std::sync::Once;

use vm_core::runtime::native::{self, CallState, Entry, GuestStack};

#[cfg(test)]
mod tests;

/// Stack kept free below guest frames for runtime functions, host functions and
/// the signal handler.
pub const STACK_RESERVE: usize = 256 * 1024;

/// Runs `entry` on this thread with `state` current; `true` when it returned.
///
/// # Safety
/// As [`vm_core::slot::Virt::enter`].
pub unsafe fn enter(state: &mut CallState, entry: Entry) -> bool {
    install_handlers();
    let vmctx = entry.vmctx.cast::<u8>();
    // SAFETY: the caller's contract; `state` outlives the call and is the thread's
    // current state while guest code runs, so a trap lands back here.
    let rc = unsafe { vm_enter(state, entry.trampoline, vmctx, vmctx, entry.code, entry.args) };
    rc == 0
}

/// The stack of the calling thread, keeping [`STACK_RESERVE`] bytes free at its
/// bottom (or, when the thread's stack is unknown, 1 MiB below the caller's
/// frame).
pub fn guest_stack() -> GuestStack {
    let lo = thread_stack_low();
    let here = &raw const lo as usize;
    let limit = if lo != 0 && here > lo + STACK_RESERVE {
        lo + STACK_RESERVE
    } else {
        here.saturating_sub(1 << 20)
    };
    GuestStack { lo, limit }
}

/// The lowest address of the current thread's stack.
pub fn thread_stack_low() -> usize {
    thread_local! {
        static LOW: Cell<usize> = const { Cell::new(0) };
    }
    LOW.with(|low| {
        if low.get() == 0 {
            // SAFETY: plain pthread queries on the calling thread with a zeroed attr
            // that pthread_getattr_np initializes and we destroy.
            unsafe {
                let mut attr: libc::pthread_attr_t = std::mem::zeroed();
                if libc::pthread_getattr_np(libc::pthread_self(), &mut attr) == 0 {
                    let mut addr: *mut libc::c_void = std::ptr::null_mut();
                    let mut size: libc::size_t = 0;
                    if libc::pthread_attr_getstack(&attr, &mut addr, &mut size) == 0 {
                        low.set(addr as usize);
                    }
                    libc::pthread_attr_destroy(&mut attr);
                }
            }
        }
        low.get()
    })
}

// The entry: saves callee-saved registers and the frame, stores the stack pointer in
// `state.entry_sp` (offset 0), calls `entry(callee_vmctx, caller_vmctx, code, args)`
// and returns 0. The landing restores the same registers from that stack pointer
// and returns 1.
#[cfg(target_arch = "x86_64")]
#[unsafe(naked)]
unsafe extern "sysv64" fn vm_enter(
    state: *mut CallState,
    entry: *const u8,
    callee_vmctx: *mut u8,
    caller_vmctx: *mut u8,
    code: *const u8,
    args: *mut u128,
) -> u32 {
    core::arch::naked_asm!(
        "push rbp",
        "mov rbp, rsp",
        "push rbx",
        "push r12",
        "push r13",
        "push r14",
        "push r15",
        "push rdi",
        "mov [rdi], rsp",
        "mov rax, rsi",
        "mov rdi, rdx",
        "mov rsi, rcx",
        "mov rdx, r8",
        "mov rcx, r9",
        "call rax",
        "xor eax, eax",
        "add rsp, 8",
        "pop r15",
        "pop r14",
        "pop r13",
        "pop r12",
        "pop rbx",
        "pop rbp",
        "ret",
    )
}

#[cfg(target_arch = "x86_64")]
#[unsafe(naked)]
unsafe extern "sysv64" fn vm_trap_landing() -> u32 {
    core::arch::naked_asm!(
        "mov eax, 1",
        "add rsp, 8",
        "pop r15",
        "pop r14",
        "pop r13",
        "pop r12",
        "pop rbx",
        "pop rbp",
        "ret",
    )
}

const SIGNALS: [libc::c_int; 4] = [libc::SIGSEGV, libc::SIGBUS, libc::SIGILL, libc::SIGFPE];

struct PrevActions(std::cell::UnsafeCell<[std::mem::MaybeUninit<libc::sigaction>; 4]>);
// SAFETY: written once inside `INSTALL` before any handler that reads it is installed,
// read-only afterwards.
unsafe impl Sync for PrevActions {}
static PREV: PrevActions =
    PrevActions(std::cell::UnsafeCell::new([std::mem::MaybeUninit::uninit(); 4]));
static INSTALL: Once = Once::new();

/// Installs the handlers for the signals guest code raises, once per process,
/// saving the handlers they replace.
pub fn install_handlers() {
    INSTALL.call_once(|| {
        for (i, &sig) in SIGNALS.iter().enumerate() {
            // SAFETY: installs our handler for one signal, saving the previous action
            // into its slot before the handler can run (the slot is written here only).
            unsafe {
                let mut act: libc::sigaction = std::mem::zeroed();
                act.sa_sigaction = handler as *const () as usize;
                act.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK | libc::SA_NODEFER;
                libc::sigemptyset(&mut act.sa_mask);
                let prev = (*PREV.0.get())[i].as_mut_ptr();
                libc::sigaction(sig, &act, prev);
            }
        }
    });
}

unsafe extern "C" fn handler(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    let st = native::current();
    // SAFETY: `st` is null or the live state of the call running on this thread;
    // `ctx` is the kernel's ucontext for this signal.
    if !st.is_null() && unsafe { handle(&mut *st, ctx.cast()) } {
        return;
    }
    // SAFETY: forwards the signal to the handler that was installed before ours.
    unsafe { chain(sig, info, ctx) }
}

/// Records the fault as the call's trap when it is at a trap site of its code and
/// redirects the thread to the landing.
///
/// # Safety
/// `uc` is the signal's ucontext on the thread that owns `st`.
unsafe fn handle(st: &mut CallState, uc: *mut libc::ucontext_t) -> bool {
    // SAFETY: the kernel's ucontext for this signal, valid during the handler.
    let gregs = unsafe { &mut (*uc).uc_mcontext.gregs };
    let pc = gregs[libc::REG_RIP as usize] as usize;
    let fp = gregs[libc::REG_RBP as usize] as usize;
    // SAFETY: guest frames live on this thread's stack between `stack_lo` and the
    // entry frame (`entry_sp`), all readable.
    if !unsafe { st.record_trap(pc, fp) } {
        return false;
    }
    gregs[libc::REG_RSP as usize] = st.entry_sp as i64;
    gregs[libc::REG_RIP as usize] = vm_trap_landing as *const () as usize as i64;
    true
}

/// # Safety
/// Called from our signal handler with its arguments.
unsafe fn chain(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    let Some(i) = SIGNALS.iter().position(|&s| s == sig) else { return };
    // SAFETY: written before our handler was installed (see `install_handlers`).
    let prev = unsafe { (*PREV.0.get())[i].assume_init_ref() };
    let h = prev.sa_sigaction;
    if h == libc::SIG_DFL || h == libc::SIG_IGN {
        // Restore the previous disposition; returning re-executes the faulting
        // instruction, which then gets the default behavior.
        // SAFETY: reinstalls the saved action for this signal.
        unsafe { libc::sigaction(sig, prev, std::ptr::null_mut()) };
    } else if prev.sa_flags & libc::SA_SIGINFO != 0 {
        // SAFETY: the previous handler was installed with SA_SIGINFO, so it has this
        // signature.
        unsafe {
            let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
                std::mem::transmute(h);
            f(sig, info, ctx);
        }
    } else {
        // SAFETY: a plain handler takes the signal number only.
        unsafe {
            let f: extern "C" fn(libc::c_int) = std::mem::transmute(h);
            f(sig);
        }
    }
}
