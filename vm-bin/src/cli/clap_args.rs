//! The full argument parser: clap, with generated help and suggestions.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use super::{Command, NewSlot, RunArgs, StatsFormat};
use crate::Options;

/// A WebAssembly VM composed from plugins at compile time.
#[derive(Parser, Debug)]
#[command(name = "vm", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: ClapCommand,
}

/// Arguments of `vm run`.
#[derive(clap::Args, Debug)]
struct ClapRunArgs {
    /// Preopen a host directory for the guest: `HOST` (seen as the same path) or
    /// `HOST::GUEST`.
    #[arg(long = "dir", value_name = "HOST[::GUEST]")]
    dirs: Vec<String>,
    /// Give the guest an environment variable: `KEY=VAL`, or `KEY` to pass on the
    /// host's value (skipped when the host has none).
    #[arg(long = "env", value_name = "KEY[=VAL]")]
    env: Vec<String>,
    /// Call this export instead of `_start`; the arguments after FILE are its
    /// parameters, and its results are printed one per line.
    #[arg(long, value_name = "NAME")]
    invoke: Option<String>,
    /// Set a plugin setting: `section.key=value` (see `vm config`).
    #[arg(short = 'C', value_name = "SECTION.KEY=VALUE")]
    settings: Vec<String>,
    /// Print every plugin's counters to stderr when the guest finishes.
    #[arg(long, value_name = "FORMAT", num_args = 0..=1, default_missing_value = "text", require_equals = true)]
    stats: Option<StatsFormat>,
    /// Compile without the on-disk cache of compiled modules (also `-C cache=false`).
    #[arg(long)]
    no_cache: bool,
    /// The module: `.wasm`, `.wat`, or a compiled module (`.vmc`) from `vm compile`.
    file: PathBuf,
    /// Arguments for the guest (a `--` right after FILE is accepted and not passed on).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    args: Vec<String>,
}

#[derive(Subcommand, Debug)]
enum ClapCommand {
    /// Run a WebAssembly module (`_start`, or the export named by --invoke).
    Run(ClapRunArgs),
    /// Compile a module ahead of time into a file that `vm run` loads without
    /// compiling (for this binary's composition only; native-code engines).
    Compile {
        /// Set a plugin setting: `section.key=value` (those that change code must
        /// match when the file is run).
        #[arg(short = 'C', value_name = "SECTION.KEY=VALUE")]
        settings: Vec<String>,
        /// The compiled module to write.
        #[arg(short = 'o', long = "output", value_name = "OUT")]
        output: PathBuf,
        /// The module: `.wasm` or `.wat`.
        file: PathBuf,
    },
    /// Run WebAssembly spec scripts (.wast); ends with `N passed, M failed`.
    Wast {
        /// Set a plugin setting: `section.key=value` (see `vm config`).
        #[arg(short = 'C', value_name = "SECTION.KEY=VALUE")]
        settings: Vec<String>,
        /// The scripts.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// List every plugin registered in this binary.
    Plugins {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show this binary's composition: the plugin in each slot and the init order.
    Info {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print every composed plugin's config keys, types, defaults and docs.
    Config {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Write a new plugin crate that builds, registers itself and has a passing test.
    NewPlugin {
        /// The plugin's id and crate name (kebab-case, e.g. `acme-env`).
        name: String,
        /// The slot it fills.
        #[arg(long, value_enum)]
        slot: NewSlot,
        /// The directory to create the crate in.
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        /// Path of the vm source tree to depend on (default: the tree this binary was
        /// built from, when it still exists; else a crates.io version).
        #[arg(long, value_name = "PATH")]
        vm_path: Option<PathBuf>,
    },
}

/// Parses `args` (program name first); on `--help`, `--version` or an error, prints
/// and returns the exit status.
pub(super) fn parse(
    _opts: &Options,
    args: impl IntoIterator<Item = OsString>,
) -> Result<Command, ExitCode> {
    let cli = Cli::try_parse_from(args).map_err(|e| {
        let _ = e.print();
        if e.use_stderr() { ExitCode::from(2) } else { ExitCode::SUCCESS }
    })?;
    Ok(match cli.command {
        ClapCommand::Run(a) => Command::Run(RunArgs {
            dirs: a.dirs,
            env: a.env,
            invoke: a.invoke,
            settings: a.settings,
            stats: a.stats,
            no_cache: a.no_cache,
            file: a.file,
            args: a.args,
        }),
        ClapCommand::Compile { settings, output, file } => {
            Command::Compile { file, output, settings }
        }
        ClapCommand::Wast { settings, files } => Command::Wast { settings, files },
        ClapCommand::Plugins { json } => Command::Plugins { json },
        ClapCommand::Info { json } => Command::Info { json },
        ClapCommand::Config { json } => Command::Config { json },
        ClapCommand::NewPlugin { name, slot, dir, vm_path } => {
            Command::NewPlugin { name, slot, dir, vm_path }
        }
    })
}
