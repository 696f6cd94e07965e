//! `vm_cli`: the `vm` command line as a library, generic over the composition.
//!
//! A custom VM binary is a `compose!` and one line of `main`; it gets every subcommand
//! (`run`, `wast`, `plugins`, `info`, `config`, `new-plugin`), the config layers (defaults, `vm.toml`,
//! `VM_<SECTION>_<KEY>`, `-C section.key=value`) and `--stats`:
//!
//! ```no_run
//! vm_core::compose! {
//!     /// The plugins of this binary.
//!     pub struct MyVm {
//!         engine: vm_engine_cranelift::Cranelift,
//!         virt: vm_virt_host::HostVirt,
//!         hosts: [vm_host_wasi::Wasi],
//!     }
//! }
//!
//! fn main() -> std::process::ExitCode {
//!     vm_cli::main::<MyVm>()
//! }
//! ```
//!
//! The default `vm` binary of this workspace is exactly that, for the composition its
//! Cargo features pick.
//!
//! | Cargo feature | what it adds (all in `cli-full`, which is in the defaults) |
//! |---|---|
//! | `wat` | `.wat` text wherever `.wasm` is |
//! | `config-file` | `vm.toml` |
//! | `wast` | `vm wast` |
//! | `json` | `--json`, `--stats=json` |
//! | `clap` | clap's parser (generated help, suggestions); without it a small parser reads the same commands |
//! | `new-plugin` | `vm new-plugin` |
//!
//! A build without one still recognises the command or flag and answers with an error
//! naming the feature.

/// `println!` for the command's own output: a closed stdout (`vm info | head -1`) ends
/// the process quietly instead of panicking.
macro_rules! outln {
    ($($t:tt)*) => { $crate::print_line(format_args!($($t)*)) };
}

mod cli;
// Optional parts of the command line, each swapped for a stub that names its feature.
#[cfg_attr(not(feature = "json"), path = "json_disabled.rs")]
mod json;
#[cfg_attr(not(feature = "new-plugin"), path = "new_plugin_disabled.rs")]
mod new_plugin;
mod report;
mod run;
#[cfg_attr(not(feature = "wast"), path = "wast_disabled.rs")]
mod wast;

use std::ffi::OsString;
use std::process::ExitCode;

use vm_core::Composition;

pub use cli::StatsFormat;
pub use run::parse_val;

/// What `vm info` says about the binary.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// The program's name.
    pub name: &'static str,
    /// Its version.
    pub version: &'static str,
    /// The Cargo features it was built with (empty when the binary does not say).
    pub features: &'static [&'static str],
}

impl Default for Options {
    fn default() -> Self {
        Self { name: "vm", version: env!("CARGO_PKG_VERSION"), features: &[] }
    }
}

/// Runs the `vm` command line on composition `C` with the process's arguments; `vm
/// info` names the program after its executable.
pub fn main<C: Composition>() -> ExitCode {
    let name = std::env::args_os()
        .next()
        .and_then(|a| {
            std::path::Path::new(&a).file_stem().map(|s| s.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| "vm".to_owned());
    // Once per process: `Options` holds `'static` text.
    let opts = Options { name: Box::leak(name.into_boxed_str()), ..Options::default() };
    main_with::<C>(&opts, std::env::args_os())
}

/// Runs the `vm` command line on composition `C` with `args` (program name first).
pub fn main_with<C: Composition>(
    opts: &Options,
    args: impl IntoIterator<Item = OsString>,
) -> ExitCode {
    cli::main::<C>(opts, args)
}

/// Writes one line to stdout; on a broken pipe the reader is gone, so the process
/// exits with status 0, as line-oriented tools do.
fn print_line(args: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_fmt(args).and_then(|()| out.write_all(b"\n")) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        panic!("writing to stdout: {e}");
    }
}
