//! Process control: exit, signals, yielding.

use vm_core::host_fn;
use vm_core::runtime::Trap;

use crate::abi::Errno;
use crate::ctx::WasiCtx;

/// `proc_exit(rval)`: ends the run with this status (a `Trap::exit`).
#[host_fn]
pub(crate) fn proc_exit(_ctx: &mut WasiCtx, rval: u32) -> Result<(), Trap> {
    Err(Trap::exit(rval as i32))
}

/// `proc_raise(sig)`: signals are not supported.
#[host_fn]
pub(crate) fn proc_raise(_ctx: &mut WasiCtx, _sig: u32) -> Result<(), Errno> {
    Err(Errno::Nosys)
}

/// `sched_yield()`.
#[host_fn]
pub(crate) fn sched_yield(_ctx: &mut WasiCtx) -> Result<(), Errno> {
    std::thread::yield_now();
    Ok(())
}
