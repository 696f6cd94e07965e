//! `args_*` and `environ_*`: the guest's argv and environment, as NUL-terminated
//! strings in a buffer plus a table of pointers into it.

use vm_core::host_fn;

use super::size32;
use crate::abi::Errno;
use crate::ctx::WasiCtx;
use crate::mem;

/// Writes `strings` to `buf` and their addresses to the `u32` table at `table`.
fn write_strings(mem: &mut [u8], strings: &[Vec<u8>], table: u32, buf: u32) -> Result<(), Errno> {
    let mut at = buf as usize;
    for (i, s) in strings.iter().enumerate() {
        mem::write(mem, table as usize + 4 * i, &size32(at)?.to_le_bytes())?;
        mem::write(mem, at, s)?;
        at += s.len();
    }
    Ok(())
}

/// `(count, total bytes with NULs)` of a string list.
fn sizes(strings: &[Vec<u8>]) -> Result<(u32, u32), Errno> {
    Ok((size32(strings.len())?, size32(strings.iter().map(Vec::len).sum())?))
}

/// `args_get(argv, argv_buf)`.
#[host_fn(fault = Errno::Fault)]
pub(crate) fn args_get(
    ctx: &mut WasiCtx,
    #[memory] mem: &mut [u8],
    argv: u32,
    argv_buf: u32,
) -> Result<(), Errno> {
    write_strings(mem, &ctx.args, argv, argv_buf)
}

/// `args_sizes_get() -> (argc, argv_buf_size)`.
#[host_fn(fault = Errno::Fault)]
pub(crate) fn args_sizes_get(
    ctx: &mut WasiCtx,
    #[out] argc: &mut u32,
    #[out] buf_size: &mut u32,
) -> Result<(), Errno> {
    (*argc, *buf_size) = sizes(&ctx.args)?;
    Ok(())
}

/// `environ_get(environ, environ_buf)`.
#[host_fn(fault = Errno::Fault)]
pub(crate) fn environ_get(
    ctx: &mut WasiCtx,
    #[memory] mem: &mut [u8],
    environ: u32,
    environ_buf: u32,
) -> Result<(), Errno> {
    write_strings(mem, &ctx.env, environ, environ_buf)
}

/// `environ_sizes_get() -> (count, buf_size)`.
#[host_fn(fault = Errno::Fault)]
pub(crate) fn environ_sizes_get(
    ctx: &mut WasiCtx,
    #[out] count: &mut u32,
    #[out] buf_size: &mut u32,
) -> Result<(), Errno> {
    (*count, *buf_size) = sizes(&ctx.env)?;
    Ok(())
}
