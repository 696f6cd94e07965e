//! Traps raised by native code.
//!
//! Every call from the host enters guest code through [`vm_enter`], which saves the
//! callee-saved registers and the stack pointer in a [`CallState`]. A trapping
//! instruction (a `ud2` with a recorded trap code, or a load/store that faults in the
//! guard region of linear memory) raises a signal; the handler, installed once per
//! process and chaining to whatever handler was there before, checks that the
//! faulting instruction is a recorded trap site of the current call's code, records
//! the trap and the wasm frames (by walking frame pointers), and resumes the thread
//! at [`vm_trap_landing`], which returns from `vm_enter` with status 1. Faults
//! anywhere else are passed on to the previous handler untouched.

use std::cell::Cell;
use std::sync::Once;

use vm_core::runtime::Trap;

use crate::code::{ModuleCode, TrapKind};

/// Most frames recorded in a trap's backtrace.
pub const MAX_FRAMES: usize = 1024;

/// Finds the module whose code contains a pc, for the store of the current call.
pub type Lookup = unsafe fn(store: *const (), pc: usize) -> Option<*const ModuleCode>;

/// The state of one call from the host into guest code.
#[repr(C)]
pub struct CallState {
    /// Stack pointer saved by `vm_enter` (first field: the assembly writes it).
    saved_sp: usize,
    lookup: Lookup,
    store: *const (),
    stack_lo: usize,
    /// The trap that ended the call, if any.
    pub trap: Option<TrapKind>,
    /// A trap recorded by a runtime function before it returned a failure.
    pub pending: Option<Trap>,
    /// Return addresses (innermost first) of the wasm frames at the trap.
    pub pcs: [usize; MAX_FRAMES],
    /// How many of `pcs` are set.
    pub npcs: usize,
    /// Host functions called during the call.
    pub host_calls: u64,
    prev: *mut CallState,
}

// SAFETY: the raw pointers are dereferenced only during a call, on the thread making
// it; between calls they are stale and `reset` replaces them before the next use.
unsafe impl Send for CallState {}

impl CallState {
    /// Readies a (reused) state for a call into code of `store` (found with `lookup`).
    pub fn reset(&mut self, lookup: Lookup, store: *const (), stack_lo: usize) {
        self.lookup = lookup;
        self.store = store;
        self.stack_lo = stack_lo;
        self.trap = None;
        self.pending = None;
        self.npcs = 0;
        self.host_calls = 0;
    }

    /// A state for a call into code of `store` (found with `lookup`).
    pub fn new(lookup: Lookup, store: *const (), stack_lo: usize) -> Box<Self> {
        Box::new(Self {
            saved_sp: 0,
            lookup,
            store,
            stack_lo,
            trap: None,
            pending: None,
            pcs: [0; MAX_FRAMES],
            npcs: 0,
            host_calls: 0,
            prev: std::ptr::null_mut(),
        })
    }

    /// Runs `entry(callee_vmctx, caller_vmctx, code, args)` with this state current,
    /// returning `true` when it returned and `false` when it trapped.
    ///
    /// # Safety
    /// `entry` is an entry trampoline of a live module and its arguments are what that
    /// trampoline expects; `args` has room for the parameters and results.
    pub unsafe fn enter(
        &mut self,
        entry: *const u8,
        vmctx: *mut u8,
        code: *const u8,
        args: *mut u128,
    ) -> bool {
        install_handlers();
        self.prev = CURRENT.with(|c| c.replace(self));
        // SAFETY: the caller's contract; `self` outlives the call and is the current
        // state while guest code runs, so a trap lands back here.
        let rc = unsafe { vm_enter(self, entry, vmctx, vmctx, code, args) };
        CURRENT.with(|c| c.set(self.prev));
        rc == 0
    }
}

thread_local! {
    static CURRENT: Cell<*mut CallState> = const { Cell::new(std::ptr::null_mut()) };
}

/// Records a trap raised by a runtime function; the caller then returns a failure
/// status and the generated code traps with [`TrapKind::Pending`].
pub fn set_pending(trap: Trap) {
    let st = CURRENT.with(Cell::get);
    if !st.is_null() {
        // SAFETY: the current state lives for the whole call on this thread, and no
        // other reference to it is in use while a runtime function runs.
        unsafe { (*st).pending = Some(trap) };
    }
}

/// Counts a host-function call of the current call.
pub fn count_host_call() {
    let st = CURRENT.with(Cell::get);
    if !st.is_null() {
        // SAFETY: as in `set_pending`.
        unsafe { (*st).host_calls += 1 };
    }
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
// `state.saved_sp`, calls `entry(callee_vmctx, caller_vmctx, code, args)` and returns
// 0. The landing restores the same registers from that stack pointer and returns 1.
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

fn install_handlers() {
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
    let st = CURRENT.with(Cell::get);
    // SAFETY: `st` is null or the live state of the call running on this thread;
    // `ctx` is the kernel's ucontext for this signal.
    if !st.is_null() && unsafe { handle(&mut *st, ctx.cast()) } {
        return;
    }
    // SAFETY: forwards the signal to the handler that was installed before ours.
    unsafe { chain(sig, info, ctx) }
}

/// # Safety
/// `uc` is the signal's ucontext on the thread that owns `st`.
unsafe fn handle(st: &mut CallState, uc: *mut libc::ucontext_t) -> bool {
    // SAFETY: the kernel's ucontext for this signal, valid during the handler.
    let gregs = unsafe { &mut (*uc).uc_mcontext.gregs };
    let pc = gregs[libc::REG_RIP as usize] as usize;
    let fp = gregs[libc::REG_RBP as usize] as usize;
    // SAFETY: the lookup reads the store's module list, which does not change while
    // guest code of this call runs.
    let Some(module) = (unsafe { (st.lookup)(st.store, pc) }) else { return false };
    // SAFETY: modules of the store outlive the call.
    let module = unsafe { &*module };
    let Some(kind) = module.trap_at(pc) else { return false };
    st.trap = Some(kind);
    st.npcs = 0;
    if module.func_at(pc).is_some() {
        st.pcs[0] = pc;
        st.npcs = 1;
    }
    // Walk the frame-pointer chain while return addresses are in guest code.
    let (lo, hi) = (st.stack_lo, st.saved_sp);
    let mut fp = fp;
    while st.npcs < MAX_FRAMES && fp >= lo && fp + 16 <= hi && fp.is_multiple_of(8) {
        // SAFETY: `fp` is inside this thread's stack below the entry frame, where
        // generated code keeps (saved fp, return address) pairs.
        let (next, ret) = unsafe { (*(fp as *const usize), *((fp + 8) as *const usize)) };
        // SAFETY: as above for the lookup.
        let Some(m) = (unsafe { (st.lookup)(st.store, ret) }) else { break };
        // SAFETY: as above.
        if unsafe { (*m).func_at(ret - 1) }.is_some() {
            st.pcs[st.npcs] = ret - 1;
            st.npcs += 1;
        }
        if next <= fp {
            break;
        }
        fp = next;
    }
    gregs[libc::REG_RSP as usize] = st.saved_sp as i64;
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
