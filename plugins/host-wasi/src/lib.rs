//! The `host-wasi` plugin: WASI preview1 (`wasi_snapshot_preview1`) for ordinary C
//! programs — arguments, environment, clocks, randomness, stdio, and files inside the
//! preopened directories — and the same under its predecessor's name `wasi_unstable`
//! (preview0), which older toolchains still emit.
//!
//! ```
//! use vm_core::runtime::{Caller, RunContext, Val};
//! use vm_host_wasi::{WASI_MODULE, WasiCtx};
//!
//! let run = RunContext { args: vec!["app".into(), "7".into()], ..Default::default() };
//! let mut state = (WASI_MODULE.new_state)(&run, None).unwrap();
//! let mut memory = vec![0u8; 64];
//! let mut caller = Caller::new(Some(&mut memory), state.as_mut());
//! let args_sizes_get = WASI_MODULE.functions.iter().find(|f| f.name == "args_sizes_get").unwrap();
//! let mut errno = [Val::I32(-1)];
//! (args_sizes_get.call)(&mut caller, &[Val::I32(0), Val::I32(4)], &mut errno).unwrap();
//! assert_eq!(errno, [Val::I32(0)]);
//! assert_eq!(&memory[0..8], &[2, 0, 0, 0, 6, 0, 0, 0]); // argc 2, "app\0" + "7\0"
//! # let _ = WasiCtx::new(&run).unwrap();
//! ```
//!
//! | piece | where |
//! |---|---|
//! | the modules linkers find by name | [`WASI_MODULE`] and [`WASI_UNSTABLE_MODULE`] (`<Wasi as HostModule>::MODULES`) |
//! | per-instance state | [`WasiCtx`], built from a [`RunContext`]; [`WasiCtx::set_stdio`] redirects 0–2 |
//! | errno values | [`Errno`] |
//! | the plugin | [`Wasi`] (`host-wasi`, provides `wasi:preview1@1.0.0` and `wasi:preview0@1.0.0`) |
//!
//! Every function of `wasi_snapshot_preview1` is present with its signature, so a
//! standard libc program always links. Signals (`proc_raise`) answer `Nosys`; sockets
//! answer `Notsock` (none can be preopened yet). Rights are reported as libc expects
//! but not enforced beyond what the host's open mode enforces.
//!
//! **Preview0.** `wasi_unstable` has the same functions (but no `sock_accept`) over
//! the same context: a guest importing from both modules sees one set of descriptors.
//! Its ABI differs in three places ([`abi::preview0`]): `fd_seek`'s `whence` counts
//! cur, end, set (preview1: set, cur, end); `filestat` is 56 bytes with a `u32`
//! `nlink` at 20 (`fd_filestat_get`, `path_filestat_get`); and a clock
//! `subscription` carries a `u64` `identifier` first, so subscriptions are 56 bytes
//! (`poll_oneoff`; events are the same 32 bytes).
//!
//! **Sandbox.** Paths resolve component by component below the directory descriptor
//! they are relative to, with `O_NOFOLLOW` at every step and `..` handled on a stack of
//! the directories walked (never by the kernel): absolute paths, `..` above that
//! directory, and symbolic links whose target is absolute or climbs out are
//! `Notcapable`; creating such a link is refused too. Intermediate directories are
//! opened `O_PATH | O_DIRECTORY | O_NOFOLLOW`, so a component swapped for a link
//! mid-walk fails rather than being followed.
//!
//! **Limits.** What a guest asks for is bounded before anything is allocated for it:
//! open descriptors (`max_open_files`, `Mfile` past it), iovec counts ([`MAX_IOVS`],
//! `Inval` as POSIX `readv` past `IOV_MAX`), poll subscriptions
//! ([`MAX_SUBSCRIPTIONS`], `Inval`), path lengths ([`MAX_PATH`] bytes and
//! [`MAX_NAME`] per component, `Nametoolong`). Every guest buffer is a checked range
//! of its own memory (`Fault` past it), never a host allocation of the size it names.

pub mod abi;
mod ctx;
mod funcs;
mod mem;
mod sandbox;

use std::any::Any;
use std::sync::atomic::{AtomicU64, Ordering};

use vm_core::plugin::PluginStats;
use vm_core::runtime::{HostModuleDef, RunContext, Trap};
use vm_core::{Plugin, PluginError};

pub use abi::Errno;
pub use ctx::{MAX_FDS, WasiCtx, WasiError};
pub use funcs::poll::MAX_SUBSCRIPTIONS;
pub use mem::MAX_IOVS;
pub use sandbox::{MAX_NAME, MAX_PATH};

use funcs::{args, clock, fd, path, poll, preview0, proc, sock};

/// The `wasi_snapshot_preview1` host module: every preview1 function, and a state
/// constructor that builds a [`WasiCtx`] from the [`RunContext`].
pub static WASI_MODULE: HostModuleDef = HostModuleDef {
    module: "wasi_snapshot_preview1",
    functions: &[
        args::ARGS_GET,
        args::ARGS_SIZES_GET,
        args::ENVIRON_GET,
        args::ENVIRON_SIZES_GET,
        clock::CLOCK_RES_GET,
        clock::CLOCK_TIME_GET,
        fd::FD_ADVISE,
        fd::FD_ALLOCATE,
        fd::FD_CLOSE,
        fd::FD_DATASYNC,
        fd::FD_FDSTAT_GET,
        fd::FD_FDSTAT_SET_FLAGS,
        fd::FD_FDSTAT_SET_RIGHTS,
        fd::FD_FILESTAT_GET,
        fd::FD_FILESTAT_SET_SIZE,
        fd::FD_FILESTAT_SET_TIMES,
        fd::FD_PREAD,
        fd::FD_PRESTAT_GET,
        fd::FD_PRESTAT_DIR_NAME,
        fd::FD_PWRITE,
        fd::FD_READ,
        fd::FD_READDIR,
        fd::FD_RENUMBER,
        fd::FD_SEEK,
        fd::FD_SYNC,
        fd::FD_TELL,
        fd::FD_WRITE,
        path::PATH_CREATE_DIRECTORY,
        path::PATH_FILESTAT_GET,
        path::PATH_FILESTAT_SET_TIMES,
        path::PATH_LINK,
        path::PATH_OPEN,
        path::PATH_READLINK,
        path::PATH_REMOVE_DIRECTORY,
        path::PATH_RENAME,
        path::PATH_SYMLINK,
        path::PATH_UNLINK_FILE,
        poll::POLL_ONEOFF,
        proc::PROC_EXIT,
        proc::PROC_RAISE,
        proc::SCHED_YIELD,
        clock::RANDOM_GET,
        sock::SOCK_ACCEPT,
        sock::SOCK_RECV,
        sock::SOCK_SEND,
        sock::SOCK_SHUTDOWN,
    ],
    new_state,
};

/// The `wasi_unstable` (preview0) host module: the functions of [`WASI_MODULE`] but
/// `sock_accept`, with preview0's `fd_seek`, `fd_filestat_get`, `path_filestat_get`
/// and `poll_oneoff`, and the same state constructor (so both modules share one
/// [`WasiCtx`] per instance).
pub static WASI_UNSTABLE_MODULE: HostModuleDef = HostModuleDef {
    module: "wasi_unstable",
    functions: &[
        args::ARGS_GET,
        args::ARGS_SIZES_GET,
        args::ENVIRON_GET,
        args::ENVIRON_SIZES_GET,
        clock::CLOCK_RES_GET,
        clock::CLOCK_TIME_GET,
        fd::FD_ADVISE,
        fd::FD_ALLOCATE,
        fd::FD_CLOSE,
        fd::FD_DATASYNC,
        fd::FD_FDSTAT_GET,
        fd::FD_FDSTAT_SET_FLAGS,
        fd::FD_FDSTAT_SET_RIGHTS,
        preview0::FD_FILESTAT_GET,
        fd::FD_FILESTAT_SET_SIZE,
        fd::FD_FILESTAT_SET_TIMES,
        fd::FD_PREAD,
        fd::FD_PRESTAT_GET,
        fd::FD_PRESTAT_DIR_NAME,
        fd::FD_PWRITE,
        fd::FD_READ,
        fd::FD_READDIR,
        fd::FD_RENUMBER,
        preview0::FD_SEEK,
        fd::FD_SYNC,
        fd::FD_TELL,
        fd::FD_WRITE,
        path::PATH_CREATE_DIRECTORY,
        preview0::PATH_FILESTAT_GET,
        path::PATH_FILESTAT_SET_TIMES,
        path::PATH_LINK,
        path::PATH_OPEN,
        path::PATH_READLINK,
        path::PATH_REMOVE_DIRECTORY,
        path::PATH_RENAME,
        path::PATH_SYMLINK,
        path::PATH_UNLINK_FILE,
        preview0::POLL_ONEOFF,
        proc::PROC_EXIT,
        proc::PROC_RAISE,
        proc::SCHED_YIELD,
        clock::RANDOM_GET,
        sock::SOCK_RECV,
        sock::SOCK_SEND,
        sock::SOCK_SHUTDOWN,
    ],
    new_state,
};

/// Builds the per-instance [`WasiCtx`] (the modules' `new_state`), with the limits of
/// the composed [`Wasi`] plugin's config (the defaults when none is composed).
///
/// # Errors
/// A host trap naming the preopened directory that could not be opened, or the bad
/// argument or environment string.
pub fn new_state(run: &RunContext, plugin: Option<&dyn Any>) -> Result<Box<dyn Any + Send>, Trap> {
    let config = plugin.and_then(|p| p.downcast_ref::<Wasi>()).map(|w| w.config.clone());
    let ctx = WasiCtx::with_config(run, &config.unwrap_or_default())
        .map_err(|e| Trap::host(format!("host-wasi: {e}")))?;
    STATS.instances.fetch_add(1, Ordering::Relaxed);
    Ok(Box::new(ctx))
}

/// Process-wide counters (host modules are plain `fn`s, so they cannot reach a plugin
/// instance; relaxed atomics on the I/O paths only).
pub(crate) struct Stats {
    instances: AtomicU64,
    bytes_read: AtomicU64,
    bytes_written: AtomicU64,
    files_opened: AtomicU64,
}

impl Stats {
    pub(crate) fn read(&self, n: usize) {
        self.bytes_read.fetch_add(n as u64, Ordering::Relaxed);
    }
    pub(crate) fn wrote(&self, n: usize) {
        self.bytes_written.fetch_add(n as u64, Ordering::Relaxed);
    }
    pub(crate) fn opened(&self) {
        self.files_opened.fetch_add(1, Ordering::Relaxed);
    }
}

pub(crate) static STATS: Stats = Stats {
    instances: AtomicU64::new(0),
    bytes_read: AtomicU64::new(0),
    bytes_written: AtomicU64::new(0),
    files_opened: AtomicU64::new(0),
};

/// The config of `host-wasi` (section `[host-wasi]`, `-C host-wasi.KEY=VALUE`).
#[derive(Debug, Clone, serde::Deserialize, vm_core::PluginConfig)]
#[serde(default, deny_unknown_fields)]
pub struct WasiConfig {
    /// Descriptors one instance may hold open, stdio and preopens included (`EMFILE` past it).
    #[config(default = 1024, range = "4..=16384")]
    pub max_open_files: u32,
}

/// WASI preview1 (and preview0) for ordinary C programs (args, env, clocks, random, files
/// inside preopens).
#[vm_core::plugin(
    id = "host-wasi",
    slot = host,
    provides = ["wasi:preview1@1.0.0", "wasi:preview0@1.0.0"]
)]
#[derive(Debug, Default)]
pub struct Wasi {
    config: WasiConfig,
}

impl Plugin for Wasi {
    type Config = WasiConfig;

    fn new(config: WasiConfig) -> Result<Self, PluginError> {
        Ok(Self { config })
    }

    fn stats(&self) -> PluginStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let mut stats = PluginStats::default();
        stats.custom = vec![
            ("instances", get(&STATS.instances)),
            ("files_opened", get(&STATS.files_opened)),
            ("bytes_read", get(&STATS.bytes_read)),
            ("bytes_written", get(&STATS.bytes_written)),
        ];
        stats
    }
}

impl vm_core::slot::HostModule for Wasi {
    const MODULE: &'static HostModuleDef = &WASI_MODULE;
    const MODULES: &'static [&'static HostModuleDef] = &[&WASI_MODULE, &WASI_UNSTABLE_MODULE];
}

#[cfg(test)]
mod tests;
