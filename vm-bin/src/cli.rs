//! Command-line parsing and dispatch.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use vm_core::Composition;

use crate::new_plugin::NewSlot;
use crate::{Options, new_plugin, report, run, wast};

/// A WebAssembly VM composed from plugins at compile time.
#[derive(Parser, Debug)]
#[command(name = "vm", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// How `--stats` prints.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum StatsFormat {
    /// One line per plugin.
    Text,
    /// A JSON array.
    Json,
}

/// Arguments of `vm run`.
#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// Preopen a host directory for the guest: `HOST` (seen as the same path) or
    /// `HOST::GUEST`.
    #[arg(long = "dir", value_name = "HOST[::GUEST]")]
    pub dirs: Vec<String>,
    /// Give the guest an environment variable: `KEY=VAL`, or `KEY` to pass on the
    /// host's value (skipped when the host has none).
    #[arg(long = "env", value_name = "KEY[=VAL]")]
    pub env: Vec<String>,
    /// Call this export instead of `_start`; the arguments after FILE are its
    /// parameters, and its results are printed one per line.
    #[arg(long, value_name = "NAME")]
    pub invoke: Option<String>,
    /// Set a plugin setting: `section.key=value` (see `vm config`).
    #[arg(short = 'C', value_name = "SECTION.KEY=VALUE")]
    pub settings: Vec<String>,
    /// Print every plugin's counters to stderr when the guest finishes.
    #[arg(long, value_name = "FORMAT", num_args = 0..=1, default_missing_value = "text", require_equals = true)]
    pub stats: Option<StatsFormat>,
    /// The module: `.wasm` or `.wat`.
    pub file: PathBuf,
    /// Arguments for the guest (a `--` right after FILE is accepted and not passed on).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<String>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run a WebAssembly module (`_start`, or the export named by --invoke).
    Run(RunArgs),
    /// Run WebAssembly spec scripts (.wast); ends with `N passed, M failed`.
    Wast {
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

/// Parses `args` (program name first) and runs the command on composition `C`.
pub fn main<C: Composition>(opts: &Options, args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { ExitCode::from(2) } else { ExitCode::SUCCESS };
        }
    };
    match cli.command {
        Command::Run(args) => run::run::<C>(args),
        Command::Wast { files } => wast::run::<C>(&files),
        Command::Plugins { json } => print(report::plugins(json)),
        Command::Info { json } => print(report::info::<C>(opts, json)),
        Command::Config { json } => print(report::config::<C>(json)),
        Command::NewPlugin { name, slot, dir, vm_path } => {
            new_plugin::run(&name, slot, &dir, vm_path)
        }
    }
}

fn print(text: String) -> ExitCode {
    outln!("{}", text.trim_end());
    ExitCode::SUCCESS
}
