//! Dispatch by tail call (release builds): each handler ends by calling the next
//! instruction's handler in tail position, which the optimizer turns into a jump.

use vm_core::Composition;

use super::{Exec, Handler, Instr, Status};

/// Continues with the instruction at `pc`.
macro_rules! next {
    ($pc:expr, $fp:expr, $mb:expr, $ml:expr, $x:expr) => {{
        let pc: *const crate::exec::Instr = $pc;
        // `h` was stored by `threaded::<C>` from a `Handler<C>` (see `handler!`).
        let h = core::mem::transmute::<usize, crate::exec::Handler<C>>((*pc).h);
        return h(pc, $fp, $mb, $ml, $x);
    }};
}
pub(crate) use next;

/// Continues with the instruction at `pc`, whose handler `h` (a `Handler<C>`
/// address) the caller already has.
macro_rules! next_with {
    ($h:expr, $pc:expr, $fp:expr, $mb:expr, $ml:expr, $x:expr) => {{
        let h = core::mem::transmute::<usize, crate::exec::Handler<C>>($h);
        return h($pc, $fp, $mb, $ml, $x);
    }};
}
pub(crate) use next_with;

/// Continues with the target of a taken branch: like [`next`], but from a dispatch
/// site of its own (the optimizer must not merge it with the fall-through one), so
/// the wasm branch is a conditional jump of the host and each indirect jump has a
/// steady target.
macro_rules! taken {
    ($pc:expr, $fp:expr, $mb:expr, $ml:expr, $x:expr) => {{
        let pc: *const crate::exec::Instr = $pc;
        let h = core::mem::transmute::<usize, crate::exec::Handler<C>>((*pc).h);
        // SAFETY: an empty instruction sequence, distinct from the fall-through path.
        unsafe { core::arch::asm!("/* taken */", options(nomem, nostack, preserves_flags)) };
        return h(pc, $fp, $mb, $ml, $x);
    }};
}
pub(crate) use taken;

/// Runs threaded code from `pc` until the outermost frame returns or a trap.
///
/// # Safety
/// As for every handler: `pc` is threaded code of `x`'s module for `C`, `fp` a
/// checked frame, `mb`/`ml` the memory view.
pub unsafe fn run<C: Composition<Engine = crate::Interp>>(
    pc: *const Instr,
    fp: *mut u64,
    mb: *mut u8,
    ml: u64,
    x: &mut Exec<C>,
) -> Status {
    // SAFETY: the caller's contract; `h` was stored from a `Handler<C>`.
    unsafe {
        let h = core::mem::transmute::<usize, Handler<C>>((*pc).h);
        h(pc, fp, mb, ml, x)
    }
}
