//! Command-line parsing and dispatch.
//!
//! Two parsers read the same commands into [`Command`]: clap's (feature `clap`: generated
//! help, suggestions) and a small hand-written one for embedded builds. A command whose
//! feature is left out is still recognised and answered with an error naming the
//! feature.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use vm_core::Composition;

use crate::{Options, new_plugin, report, run, wast};

#[cfg_attr(feature = "clap", path = "cli/clap_args.rs")]
#[cfg_attr(not(feature = "clap"), path = "cli/small_args.rs")]
mod args;

/// How `--stats` prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum StatsFormat {
    /// One line per plugin.
    Text,
    /// A JSON array.
    Json,
}

/// The slot of a plugin that `vm new-plugin` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum NewSlot {
    /// A host module: functions a guest imports.
    Host,
    /// An observer of runtime events.
    Observer,
    /// An extra plugin with a config key and a counter.
    Extra,
}

/// Arguments of `vm run`.
#[derive(Debug, Default)]
pub struct RunArgs {
    /// Preopened directories: `HOST` or `HOST::GUEST`.
    pub dirs: Vec<String>,
    /// Guest environment: `KEY=VAL`, or `KEY` for the host's value.
    pub env: Vec<String>,
    /// The export to call instead of `_start`.
    pub invoke: Option<String>,
    /// `section.key=value` settings.
    pub settings: Vec<String>,
    /// Print every plugin's counters to stderr when the guest finishes.
    pub stats: Option<StatsFormat>,
    /// Compile without the on-disk cache of compiled modules.
    pub no_cache: bool,
    /// The module.
    pub file: PathBuf,
    /// Arguments for the guest (a leading `--` is not passed on).
    pub args: Vec<String>,
}

/// One command, as either parser reads it.
#[derive(Debug)]
enum Command {
    Run(RunArgs),
    Compile { file: PathBuf, output: PathBuf, settings: Vec<String> },
    Wast { settings: Vec<String>, files: Vec<PathBuf> },
    Plugins { json: bool },
    Info { json: bool },
    Config { json: bool },
    NewPlugin { name: String, slot: NewSlot, dir: PathBuf, vm_path: Option<PathBuf> },
}

/// Parses `args` (program name first) and runs the command on composition `C`.
pub fn main<C: Composition>(opts: &Options, args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let command = match args::parse(opts, args) {
        Ok(command) => command,
        Err(exit) => return exit,
    };
    match command {
        Command::Run(args) => run::run::<C>(args),
        Command::Compile { file, output, settings } => run::compile::<C>(&file, &output, &settings),
        Command::Wast { settings, files } => wast::run::<C>(&settings, &files),
        Command::Plugins { json } => print(report::plugins(json)),
        Command::Info { json } => print(report::info::<C>(opts, json)),
        Command::Config { json } => print(report::config::<C>(json)),
        Command::NewPlugin { name, slot, dir, vm_path } => {
            new_plugin::run(&name, slot, &dir, vm_path)
        }
    }
}

fn print(text: Result<String, String>) -> ExitCode {
    match text {
        Ok(text) => {
            outln!("{}", text.trim_end());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
