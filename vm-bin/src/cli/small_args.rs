//! A small hand-written argument parser for builds without feature `clap`: the same
//! commands and options as the full parser, with a fixed usage text instead of
//! generated help.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use super::{Command, NewSlot, RunArgs, StatsFormat};
use crate::Options;

const USAGE: &str = "\
Usage: vm <COMMAND>

Commands:
  run [--dir HOST[::GUEST]]... [--env KEY[=VAL]]... [--invoke NAME]
      [-C SECTION.KEY=VALUE]... [--stats[=text|json]] [--no-cache] FILE [ARGS]...
                     Run a WebAssembly module (`_start`, or the export named by --invoke)
  compile [-C SECTION.KEY=VALUE]... -o OUT FILE
                     Compile a module ahead of time into OUT, which `vm run` loads
  wast [-C SECTION.KEY=VALUE]... FILE...
                     Run WebAssembly spec scripts (.wast)
  plugins [--json]   List every plugin registered in this binary
  info [--json]      Show this binary's composition and init order
  config [--json]    Print every composed plugin's config keys
  new-plugin NAME --slot host|observer|extra [--dir DIR] [--vm-path PATH]
                     Write a new plugin crate

Options:
  -h, --help         Print this text
  -V, --version      Print the version

(This binary's command line is the small one: built without feature `clap`.)";

/// Parses `args` (program name first); on `--help`, `--version` or an error, prints
/// and returns the exit status.
pub(super) fn parse(
    opts: &Options,
    args: impl IntoIterator<Item = OsString>,
) -> Result<Command, ExitCode> {
    let mut args = args.into_iter().skip(1);
    let Some(first) = args.next() else {
        eprintln!("error: a command is required\n\n{USAGE}");
        return Err(ExitCode::from(2));
    };
    let rest: Vec<OsString> = args.collect();
    let parsed = match first.to_str() {
        Some("-h" | "--help" | "help") => {
            outln!("A WebAssembly VM composed from plugins at compile time.\n\n{USAGE}");
            return Err(ExitCode::SUCCESS);
        }
        Some("-V" | "--version") => {
            outln!("vm {}", opts.version);
            return Err(ExitCode::SUCCESS);
        }
        Some("run") => run(rest).map(Command::Run),
        Some("compile") => compile(rest),
        Some("wast") => wast(rest),
        Some("plugins") => json_flag("plugins", rest).map(|json| Command::Plugins { json }),
        Some("info") => json_flag("info", rest).map(|json| Command::Info { json }),
        Some("config") => json_flag("config", rest).map(|json| Command::Config { json }),
        Some("new-plugin") => new_plugin(rest),
        _ => Err(format!("unrecognized subcommand `{}`", first.to_string_lossy())),
    };
    parsed.map_err(|e| {
        if e.is_empty() {
            outln!("{USAGE}");
            ExitCode::SUCCESS
        } else {
            eprintln!("error: {e}\n\n{USAGE}");
            ExitCode::from(2)
        }
    })
}

/// The argument as text.
fn text(arg: &OsString) -> Result<&str, String> {
    arg.to_str().ok_or_else(|| format!("argument `{}` is not UTF-8", arg.to_string_lossy()))
}

/// `--name VALUE` or `--name=VALUE` (`-C VALUE` or `-CVALUE` for short options) at
/// `arg`; the value, if `arg` is that option.
fn option_value(
    name: &str,
    arg: &str,
    rest: &mut impl Iterator<Item = OsString>,
) -> Result<Option<String>, String> {
    let attached = if name.len() == 2 {
        arg.strip_prefix(name).filter(|v| !v.is_empty())
    } else {
        arg.strip_prefix(name).and_then(|v| v.strip_prefix('='))
    };
    if let Some(v) = attached {
        return Ok(Some(v.to_owned()));
    }
    if arg != name {
        return Ok(None);
    }
    match rest.next() {
        Some(v) => text(&v).map(|v| Some(v.to_owned())),
        None => Err(format!("option `{name}` needs a value")),
    }
}

fn run(args: Vec<OsString>) -> Result<RunArgs, String> {
    let mut out = RunArgs::default();
    let mut it = args.into_iter();
    let file = loop {
        let Some(arg) = it.next() else {
            return Err("`vm run` needs a FILE".to_owned());
        };
        let Some(a) = arg.to_str().filter(|a| a.starts_with('-')) else {
            break arg;
        };
        if a == "--" {
            match it.next() {
                Some(file) => break file,
                None => return Err("`vm run` needs a FILE".to_owned()),
            }
        }
        if a == "-h" || a == "--help" {
            return Err(String::new());
        }
        if let Some(v) = option_value("--dir", a, &mut it)? {
            out.dirs.push(v);
        } else if let Some(v) = option_value("--env", a, &mut it)? {
            out.env.push(v);
        } else if let Some(v) = option_value("--invoke", a, &mut it)? {
            out.invoke = Some(v);
        } else if let Some(v) = option_value("-C", a, &mut it)? {
            out.settings.push(v);
        } else if a == "--no-cache" {
            out.no_cache = true;
        } else if a == "--stats" {
            out.stats = Some(StatsFormat::Text);
        } else if let Some(f) = a.strip_prefix("--stats=") {
            out.stats = Some(match f {
                "text" => StatsFormat::Text,
                "json" => StatsFormat::Json,
                _ => return Err(format!("`--stats={f}`: expected `text` or `json`")),
            });
        } else {
            return Err(format!("unexpected argument `{a}` for `vm run`"));
        }
    };
    out.file = PathBuf::from(file);
    for arg in it {
        out.args.push(text(&arg)?.to_owned());
    }
    Ok(out)
}

fn compile(args: Vec<OsString>) -> Result<Command, String> {
    let (mut settings, mut output, mut file) = (Vec::new(), None, None);
    let mut it = args.into_iter();
    while let Some(arg) = it.next() {
        let a = text(&arg)?;
        if a == "-h" || a == "--help" {
            return Err(String::new());
        } else if let Some(v) = option_value("-C", a, &mut it)? {
            settings.push(v);
        } else if let Some(v) = option_value("-o", a, &mut it)? {
            output = Some(PathBuf::from(v));
        } else if let Some(v) = option_value("--output", a, &mut it)? {
            output = Some(PathBuf::from(v));
        } else if a.starts_with('-') || file.is_some() {
            return Err(format!("unexpected argument `{a}` for `vm compile`"));
        } else {
            file = Some(PathBuf::from(a));
        }
    }
    let file = file.ok_or("`vm compile` needs a FILE")?;
    let output = output.ok_or("`vm compile` needs `-o OUT`")?;
    Ok(Command::Compile { file, output, settings })
}

fn wast(args: Vec<OsString>) -> Result<Command, String> {
    let (mut settings, mut files) = (Vec::new(), Vec::new());
    let mut it = args.into_iter();
    while let Some(arg) = it.next() {
        match arg.to_str() {
            Some(a) if a.starts_with("-C") => {
                if let Some(v) = option_value("-C", a, &mut it)? {
                    settings.push(v);
                }
            }
            _ => files.push(PathBuf::from(arg)),
        }
    }
    if files.is_empty() {
        return Err("`vm wast` needs at least one FILE".to_owned());
    }
    Ok(Command::Wast { settings, files })
}

fn json_flag(command: &str, args: Vec<OsString>) -> Result<bool, String> {
    match args.as_slice() {
        [] => Ok(false),
        [a] if a == "--json" => Ok(true),
        [a, ..] => Err(format!("unexpected argument `{}` for `vm {command}`", a.to_string_lossy())),
    }
}

fn new_plugin(args: Vec<OsString>) -> Result<Command, String> {
    let (mut name, mut slot, mut dir, mut vm_path) = (None, None, PathBuf::from("."), None);
    let mut it = args.into_iter();
    while let Some(arg) = it.next() {
        let a = text(&arg)?;
        if let Some(v) = option_value("--slot", a, &mut it)? {
            slot = Some(match v.as_str() {
                "host" => NewSlot::Host,
                "observer" => NewSlot::Observer,
                "extra" => NewSlot::Extra,
                _ => return Err(format!("`--slot {v}`: expected host, observer or extra")),
            });
        } else if let Some(v) = option_value("--dir", a, &mut it)? {
            dir = PathBuf::from(v);
        } else if let Some(v) = option_value("--vm-path", a, &mut it)? {
            vm_path = Some(PathBuf::from(v));
        } else if a.starts_with('-') || name.is_some() {
            return Err(format!("unexpected argument `{a}` for `vm new-plugin`"));
        } else {
            name = Some(a.to_owned());
        }
    }
    let name = name.ok_or("`vm new-plugin` needs a NAME")?;
    let slot = slot.ok_or("`vm new-plugin` needs `--slot host|observer|extra`")?;
    Ok(Command::NewPlugin { name, slot, dir, vm_path })
}
