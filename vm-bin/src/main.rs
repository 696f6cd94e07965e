//! The `vm` command: runs WebAssembly with the plugins its Cargo features compose.
//!
//! Which plugin fills each slot is decided at build time:
//! `cargo build --release -p vm-bin --no-default-features --features engine-interp,virt-host,host-wasi`
//! (the interpreter instead of the default Cranelift JIT).
//! Two plugins for one slot, or none, does not compile.
#![deny(unused_crate_dependencies)]

// Name every plugin crate the features select: a crate nothing names is never loaded
// by rustc and would be silently missing from the registry.
#[cfg(feature = "engine-cranelift")]
use vm_engine_cranelift as _;
#[cfg(feature = "engine-interp")]
use vm_engine_interp as _;
#[cfg(feature = "host-wasi")]
use vm_host_wasi as _;
#[cfg(feature = "virt-host")]
use vm_virt_host as _;

mod cli;
mod composition;
mod report;
mod run;
mod wast;

use std::process::ExitCode;

fn main() -> ExitCode {
    cli::main()
}
