//! The functions of `wasi_snapshot_preview1`, one family per file, and in `preview0`
//! the `wasi_unstable` variants of the few whose ABI differs. Each is a plain Rust
//! function under `#[host_fn]`, which generates its `HostFuncDef` constant.

pub(crate) mod args;
pub(crate) mod clock;
pub(crate) mod fd;
pub(crate) mod path;
pub(crate) mod poll;
pub(crate) mod preview0;
pub(crate) mod proc;
pub(crate) mod sock;

use crate::abi::Errno;

/// Retries a system call interrupted by a signal.
pub(crate) fn retry<T>(mut f: impl FnMut() -> rustix::io::Result<T>) -> Result<T, Errno> {
    loop {
        match f() {
            Err(rustix::io::Errno::INTR) => continue,
            r => return r.map_err(Errno::from),
        }
    }
}

/// A host count as the guest's `u32` size.
pub(crate) fn size32(n: usize) -> Result<u32, Errno> {
    u32::try_from(n).map_err(|_| Errno::Overflow)
}
