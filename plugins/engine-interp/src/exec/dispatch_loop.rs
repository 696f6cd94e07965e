//! Dispatch through a driver loop (debug builds, where handlers' final calls are
//! not turned into jumps): each handler saves the next state and returns.

use vm_core::Composition;

use super::{Exec, Handler, Instr, Status};

/// A handler finished; the driver continues from [`Exec::regs`].
pub const CONTINUE: Status = -2;

/// Continues with the instruction at `pc`.
macro_rules! next {
    ($pc:expr, $fp:expr, $mb:expr, $ml:expr, $x:expr) => {{
        let regs = ($pc, $fp, $mb, $ml);
        $x.regs = regs;
        return crate::exec::dispatch::CONTINUE;
    }};
}
pub(crate) use next;

/// Continues with the instruction at `pc`, whose handler is `h` (the driver loop
/// reads it from `pc` itself).
macro_rules! next_with {
    ($h:expr, $pc:expr, $fp:expr, $mb:expr, $ml:expr, $x:expr) => {{
        let _ = $h;
        next!($pc, $fp, $mb, $ml, $x)
    }};
}
pub(crate) use next_with;

/// Continues with the target of a taken branch.
macro_rules! taken {
    ($pc:expr, $fp:expr, $mb:expr, $ml:expr, $x:expr) => {
        next!($pc, $fp, $mb, $ml, $x)
    };
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
    x.regs = (pc, fp, mb, ml);
    loop {
        let (pc, fp, mb, ml) = x.regs;
        // SAFETY: the caller's contract; `h` was stored from a `Handler<C>`.
        let s = unsafe {
            let h = core::mem::transmute::<usize, Handler<C>>((*pc).h);
            h(pc, fp, mb, ml, x)
        };
        if s != CONTINUE {
            return s;
        }
    }
}
