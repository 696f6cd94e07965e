use std::sync::atomic::{AtomicUsize, Ordering};

use vm_core::Plugin;
use vm_core::runtime::TrapCode;
use vm_core::runtime::native::{CodeMap, TrapKind, TrapSite};

use super::*;

/// Hand-assembled code: a trampoline and three functions.
const CODE: &[(usize, &[u8])] = &[
    // 0x00 trampoline(callee, caller, code, args): push rbp; mov rbp, rsp;
    // call rdx; pop rbp; ret
    (0x00, &[0x55, 0x48, 0x89, 0xe5, 0xff, 0xd2, 0x5d, 0xc3]),
    // 0x10 function 0: push rbp; mov rbp, rsp; mov qword [rcx], 42; pop rbp; ret
    (0x10, &[0x55, 0x48, 0x89, 0xe5, 0x48, 0xc7, 0x01, 42, 0, 0, 0, 0x5d, 0xc3]),
    // 0x20 function 1: push rbp; mov rbp, rsp; ud2 (a trap site)
    (0x20, &[0x55, 0x48, 0x89, 0xe5, 0x0f, 0x0b]),
    // 0x30 function 2: push rbp; mov rbp, rsp; ud2 (not a trap site); pop rbp; ret
    (0x30, &[0x55, 0x48, 0x89, 0xe5, 0x0f, 0x0b, 0x5d, 0xc3]),
];

/// The code in read-execute pages, and its map. Leaked: tests share it.
fn code() -> &'static (usize, CodeMap) {
    static CODE_PAGE: std::sync::OnceLock<(usize, CodeMap)> = std::sync::OnceLock::new();
    CODE_PAGE.get_or_init(|| {
        // SAFETY: a fresh private anonymous mapping, filled and then made read-execute.
        let base = unsafe {
            let p = libc::mmap(
                std::ptr::null_mut(),
                4096,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            );
            assert_ne!(p, libc::MAP_FAILED);
            let buf = std::slice::from_raw_parts_mut(p.cast::<u8>(), 4096);
            buf.fill(0xcc);
            for (off, bytes) in CODE {
                buf[*off..*off + bytes.len()].copy_from_slice(bytes);
            }
            assert_eq!(libc::mprotect(p, 4096, libc::PROT_READ | libc::PROT_EXEC), 0);
            p as usize
        };
        let map = CodeMap::new(
            base,
            4096,
            0,
            vec![0x10..0x20, 0x20..0x30, 0x30..0x40],
            vec![TrapSite { offset: 0x24, kind: TrapKind::Wasm(TrapCode::Unreachable) }],
            Vec::new(),
        );
        (base, map)
    })
}

unsafe fn lookup(map: *const (), pc: usize) -> Option<*const CodeMap> {
    // SAFETY: the tests pass the leaked map.
    let m = unsafe { &*map.cast::<CodeMap>() };
    m.contains(pc).then_some(m as *const CodeMap)
}

/// SIGILLs the previous handler saw.
static PREVIOUS_SAW: AtomicUsize = AtomicUsize::new(0);

/// The handler that was there before ours: counts the signal and skips the `ud2`.
extern "C" fn previous(_: libc::c_int, _: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    PREVIOUS_SAW.fetch_add(1, Ordering::SeqCst);
    // SAFETY: the kernel's ucontext for this signal.
    unsafe {
        let gregs = &mut (*ctx.cast::<libc::ucontext_t>()).uc_mcontext.gregs;
        gregs[libc::REG_RIP as usize] += 2;
    }
}

/// Installs `previous` for SIGILL, then ours over it (once for the test binary).
fn setup() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // SAFETY: installs a SA_SIGINFO handler for SIGILL before ours exists.
        unsafe {
            let mut act: libc::sigaction = std::mem::zeroed();
            act.sa_sigaction = previous as *const () as usize;
            act.sa_flags = libc::SA_SIGINFO | libc::SA_NODEFER;
            libc::sigemptyset(&mut act.sa_mask);
            assert_eq!(libc::sigaction(libc::SIGILL, &act, std::ptr::null_mut()), 0);
        }
        install_handlers();
    });
}

/// Enters function `func_off` through the trampoline; the call's state and result.
fn run(func_off: usize) -> (bool, Box<CallState>, u128) {
    setup();
    let (base, map) = code();
    let mut state = CallState::with_lookup(lookup, (map as *const CodeMap).cast(), guest_stack());
    let mut args = [0u128; 1];
    let entry = Entry {
        trampoline: *base as *const u8,
        vmctx: std::ptr::null_mut(),
        code: (base + func_off) as *const u8,
        args: args.as_mut_ptr(),
        slots: 1,
    };
    let mut virt = crate::HostVirt::new(Default::default()).unwrap();
    // SAFETY: the trampoline and functions above follow the entry convention and
    // touch nothing but `args`.
    let ok = unsafe { state.enter(&mut virt, &(), entry) };
    (ok, state, args[0])
}

#[test]
fn code_that_returns_returns_its_results() {
    let (ok, state, result) = run(0x10);
    assert!(ok);
    assert_eq!(result, 42);
    assert_eq!(state.trap, None);
    assert!(native::current().is_null(), "the state is current only during the call");
}

#[test]
fn a_fault_at_a_trap_site_lands_back_with_the_trap_and_its_frame() {
    let (ok, state, _) = run(0x20);
    assert!(!ok);
    assert_eq!(state.trap, Some(TrapKind::Wasm(TrapCode::Unreachable)));
    let (base, _) = code();
    assert_eq!(&state.pcs[..state.npcs], [base + 0x24], "the trampoline is no wasm frame");
    assert!(native::current().is_null());
    // The thread survives and can call again.
    assert!(run(0x10).0);
}

#[test]
fn a_fault_outside_a_trap_site_goes_to_the_previous_handler() {
    let before = PREVIOUS_SAW.load(Ordering::SeqCst);
    // Inside a call, at an instruction of registered code that is not a trap site.
    let (ok, state, _) = run(0x30);
    assert!(ok, "the previous handler skipped the instruction and the code returned");
    assert_eq!(state.trap, None);
    assert!(PREVIOUS_SAW.load(Ordering::SeqCst) > before);
    // Outside any call: the same code run directly.
    let before = PREVIOUS_SAW.load(Ordering::SeqCst);
    let (base, _) = code();
    // SAFETY: function 2 with no arguments is `push rbp; ...; pop rbp; ret` around a
    // `ud2` that the previous handler skips.
    let f: extern "sysv64" fn() = unsafe { std::mem::transmute(base + 0x30) };
    f();
    assert!(PREVIOUS_SAW.load(Ordering::SeqCst) > before);
}

#[test]
fn the_guest_stack_leaves_a_reserve_below_its_limit() {
    let s = guest_stack();
    assert_ne!(s.lo, 0, "the thread's stack is known");
    assert_eq!(s.limit, s.lo + STACK_RESERVE);
    let here = &raw const s as usize;
    assert!(s.limit < here);
}
