//! The functions of `wasi_unstable` (preview0) whose ABI differs from preview1: the
//! `whence` numbering of `fd_seek`, the 56-byte `filestat` and the 56-byte
//! `subscription` (see [`crate::abi::preview0`]). Each decodes or encodes its
//! snapshot's layout around the preview1 implementation; every other preview0
//! function is the preview1 one.

use vm_core::host_fn;

use super::{fd, path, poll};
use crate::abi::{Errno, Whence, preview0};
use crate::ctx::WasiCtx;

/// `fd_seek(fd, offset, whence) -> newoffset`, with preview0's `whence` (cur, end, set).
#[host_fn(fault = Errno::Fault)]
pub(crate) fn fd_seek(
    ctx: &mut WasiCtx,
    fd: u32,
    offset: i64,
    whence: u32,
    #[out] newoffset: &mut u64,
) -> Result<(), Errno> {
    *newoffset = fd::seek(ctx, fd, offset, Whence::preview0(whence))?;
    Ok(())
}

/// `fd_filestat_get(fd) -> filestat`, in preview0's layout.
#[host_fn(fault = Errno::Fault)]
pub(crate) fn fd_filestat_get(
    ctx: &mut WasiCtx,
    fd: u32,
    #[out] stat: &mut [u8; preview0::FILESTAT_SIZE],
) -> Result<(), Errno> {
    *stat = fd::fd_stat(ctx, fd)?.encode_preview0();
    Ok(())
}

/// `path_filestat_get(fd, flags, path) -> filestat`, in preview0's layout.
#[host_fn(fault = Errno::Fault)]
pub(crate) fn path_filestat_get(
    ctx: &mut WasiCtx,
    fd: u32,
    flags: u32,
    path: &[u8],
    #[out] stat: &mut [u8; preview0::FILESTAT_SIZE],
) -> Result<(), Errno> {
    *stat = path::path_stat(ctx, fd, flags, path)?.encode_preview0();
    Ok(())
}

/// `poll_oneoff(in, out, nsubscriptions) -> nevents`, reading preview0's
/// subscriptions (events are laid out as in preview1).
#[host_fn(fault = Errno::Fault)]
pub(crate) fn poll_oneoff(
    ctx: &mut WasiCtx,
    #[memory] mem: &mut [u8],
    subs_ptr: u32,
    events_ptr: u32,
    nsubscriptions: u32,
    #[out] nevents: &mut u32,
) -> Result<(), Errno> {
    *nevents = poll::poll(ctx, mem, subs_ptr, events_ptr, nsubscriptions, &preview0::SUBSCRIPTION)?;
    Ok(())
}
