//! Sockets: preview1 only operates on sockets the embedder preopens, and this plugin
//! preopens none, so every call answers `Badf` (unknown fd) or `Notsock`.

use vm_core::host_fn;

use crate::abi::Errno;
use crate::ctx::WasiCtx;

fn not_a_socket(ctx: &WasiCtx, fd: u32) -> Result<(), Errno> {
    ctx.fds.get(fd)?;
    Err(Errno::Notsock)
}

/// `sock_accept(fd, flags) -> fd`.
#[host_fn]
pub(crate) fn sock_accept(ctx: &mut WasiCtx, fd: u32, _flags: u32, _out: u32) -> Result<(), Errno> {
    not_a_socket(ctx, fd)
}

/// `sock_recv(fd, ri_data, ri_data_len, ri_flags) -> (ro_datalen, ro_flags)`.
#[host_fn]
pub(crate) fn sock_recv(
    ctx: &mut WasiCtx,
    fd: u32,
    _ri_data: u32,
    _ri_data_len: u32,
    _ri_flags: u32,
    _ro_datalen: u32,
    _ro_flags: u32,
) -> Result<(), Errno> {
    not_a_socket(ctx, fd)
}

/// `sock_send(fd, si_data, si_data_len, si_flags) -> so_datalen`.
#[host_fn]
pub(crate) fn sock_send(
    ctx: &mut WasiCtx,
    fd: u32,
    _si_data: u32,
    _si_data_len: u32,
    _si_flags: u32,
    _so_datalen: u32,
) -> Result<(), Errno> {
    not_a_socket(ctx, fd)
}

/// `sock_shutdown(fd, how)`.
#[host_fn]
pub(crate) fn sock_shutdown(ctx: &mut WasiCtx, fd: u32, _how: u32) -> Result<(), Errno> {
    not_a_socket(ctx, fd)
}
