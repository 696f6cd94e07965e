//! Clocks and randomness.

use rustix::time::{ClockId, Timespec};
use vm_core::host_fn;

use crate::abi::{Errno, clockid};
use crate::ctx::WasiCtx;

/// The host clock of a preview1 clock id.
pub(crate) fn host_clock(id: u32) -> Result<ClockId, Errno> {
    Ok(match id {
        clockid::REALTIME => ClockId::Realtime,
        clockid::MONOTONIC => ClockId::Monotonic,
        clockid::PROCESS_CPUTIME_ID => ClockId::ProcessCPUTime,
        clockid::THREAD_CPUTIME_ID => ClockId::ThreadCPUTime,
        _ => return Err(Errno::Inval),
    })
}

/// Nanoseconds of a timespec (0 before the epoch, saturating far after it).
pub(crate) fn nanos(t: Timespec) -> u64 {
    let secs = u64::try_from(t.tv_sec).unwrap_or(0);
    let nsec = u64::try_from(t.tv_nsec).unwrap_or(0);
    secs.saturating_mul(1_000_000_000).saturating_add(nsec)
}

/// Now, on a preview1 clock, in nanoseconds.
pub(crate) fn now(id: u32) -> Result<u64, Errno> {
    Ok(nanos(rustix::time::clock_gettime(host_clock(id)?)))
}

/// `clock_res_get(id) -> resolution`.
#[host_fn(fault = Errno::Fault)]
pub(crate) fn clock_res_get(
    _ctx: &mut WasiCtx,
    id: u32,
    #[out] resolution: &mut u64,
) -> Result<(), Errno> {
    *resolution = nanos(rustix::time::clock_getres(host_clock(id)?)).max(1);
    Ok(())
}

/// `clock_time_get(id, precision) -> time` (the precision hint is not needed).
#[host_fn(fault = Errno::Fault)]
pub(crate) fn clock_time_get(
    _ctx: &mut WasiCtx,
    id: u32,
    _precision: u64,
    #[out] time: &mut u64,
) -> Result<(), Errno> {
    *time = now(id)?;
    Ok(())
}

/// `random_get(buf, buf_len)`: fills the buffer from the host's CSPRNG.
#[host_fn(fault = Errno::Fault)]
pub(crate) fn random_get(_ctx: &mut WasiCtx, buf: &mut [u8]) -> Result<(), Errno> {
    let mut filled = 0;
    while let Some(rest) = buf.get_mut(filled..).filter(|r| !r.is_empty()) {
        let n = super::retry(|| {
            rustix::rand::getrandom(&mut *rest, rustix::rand::GetRandomFlags::empty())
        })?;
        filled += n;
    }
    Ok(())
}
