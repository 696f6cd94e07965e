//! The `vm` command: runs WebAssembly with the plugins its Cargo features compose.
//!
//! Which plugin fills each slot is decided at build time:
//! `cargo build --release -p vm-bin --no-default-features --features engine-interp,virt-host,host-wasi,cli-full`
//! (the interpreter instead of the default Cranelift JIT).
//! Two plugins for one slot, or none, does not compile. Everything else is the
//! [`vm_cli`] library, which a custom binary calls with a composition of its own.

mod composition;

// build.rs links size-optimized builds without unwind tables, which only a binary that
// never unwinds can do without.
#[cfg(all(vm_no_unwind_tables, not(panic = "abort")))]
compile_error!(
    "a size-optimized `vm` (opt-level \"s\" or \"z\") is linked without unwind tables and \
     needs `panic = \"abort\"`: build with `--profile release-small`, or set `panic = \"abort\"` \
     in your size profile"
);

use std::process::ExitCode;

fn main() -> ExitCode {
    let opts = vm_cli::Options { features: composition::FEATURES, ..Default::default() };
    vm_cli::main_with::<composition::BinVm>(&opts, std::env::args_os())
}
