//! `vm run`: load a module, link WASI and other host modules, call `_start` or the
//! export named by `--invoke`, and exit with the guest's status.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use vm_core::runtime::artifact::{Cache, CacheOutcome, cache};
use vm_core::runtime::{
    Error, Extern, InstantiationError, InvokeError, Linker, RunContext, Trap, TrapCode, Val,
    ValType,
};
use vm_core::slot::Engine;
use vm_core::{Composition, Settings, Vm};

use crate::cli::{RunArgs, StatsFormat};

/// Exit status when the guest traps (as an abort would).
const TRAP_STATUS: u8 = 134;

/// Runs `vm run`.
pub fn run<C: Composition>(args: RunArgs) -> ExitCode {
    match execute::<C>(args) {
        Ok(code) => code,
        Err(msg) => {
            eprintln!("error: {msg}");
            ExitCode::FAILURE
        }
    }
}

/// Defaults ⊕ `vm.toml` ⊕ `VM_<SECTION>_<KEY>` ⊕ `-C`.
pub fn settings<C: Composition>(flags: &[String]) -> Result<Settings, String> {
    let mut s = Settings::new();
    s.merge_file_if_exists(Path::new("vm.toml")).map_err(|e| e.to_string())?;
    let sections: Vec<&str> = (0..C::PLUGINS.len()).map(C::section).collect();
    s.merge_env(std::env::vars(), &sections);
    for f in flags {
        s.merge_flag(f).map_err(|e| e.to_string())?;
    }
    Ok(s)
}

/// The on-disk cache `vm run` compiles through, or `None` when it is off: on by
/// default for engines with native code; `VM_CACHE=false` or `-C cache=false` (or
/// `--no-cache`) turn it off, `VM_CACHE_DIR` or `-C cache.dir=PATH` move it from
/// [`cache::default_dir`], `VM_CACHE_MAX_MB` or `-C cache.max_mb=N` change its size
/// cap (512 MiB). Returns the other settings flags too.
fn cache_settings<C: Composition>(
    flags: &[String],
    no_cache: bool,
) -> Result<(Vec<String>, Option<Cache>), String> {
    let mut on = <C::Engine as Engine>::AOT;
    let mut dir = cache::default_dir();
    let mut max_mb = cache::DEFAULT_MAX_BYTES >> 20;
    let bool_of = |key: &str, v: &str| match v {
        "true" | "1" | "on" => Ok(true),
        "false" | "0" | "off" => Ok(false),
        _ => Err(format!("`{key}={v}`: expected true or false")),
    };
    let mb_of = |key: &str, v: &str| {
        v.parse::<u64>()
            .ok()
            .filter(|&n| n <= 1 << 20)
            .ok_or_else(|| format!("`{key}={v}`: expected a size in MiB, 0..=1048576"))
    };
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    if let Some(v) = env("VM_CACHE") {
        on &= bool_of("VM_CACHE", &v)?;
    }
    if let Some(v) = env("VM_CACHE_DIR") {
        dir = Some(PathBuf::from(v));
    }
    if let Some(v) = env("VM_CACHE_MAX_MB") {
        max_mb = mb_of("VM_CACHE_MAX_MB", &v)?;
    }
    let mut rest = Vec::new();
    for f in flags {
        match f.split_once('=') {
            Some(("cache", v)) => on &= bool_of("cache", v)?,
            Some(("cache.dir", v)) => dir = Some(PathBuf::from(v)),
            Some(("cache.max_mb", v)) => max_mb = mb_of("cache.max_mb", v)?,
            Some((k, _)) if k.starts_with("cache.") => {
                return Err(format!(
                    "`-C {f}`: unknown cache key; valid keys: cache=true|false, cache.dir=PATH, cache.max_mb=N"
                ));
            }
            _ => rest.push(f.clone()),
        }
    }
    // Compiled out for engines without ahead-of-time compilation.
    let on = <C::Engine as Engine>::AOT && on && !no_cache;
    let cache = on.then_some(dir).flatten().map(|d| Cache::new(d, max_mb << 20));
    Ok((rest, cache))
}

/// Runs `vm compile FILE -o OUT`.
pub fn compile<C: Composition>(file: &Path, output: &Path, flags: &[String]) -> ExitCode {
    let done = (|| {
        let (flags, _) = cache_settings::<C>(flags, true)?;
        let settings = settings::<C>(&flags)?;
        let vm = Vm::<C>::new(&settings).map_err(|e| e.to_string())?;
        let mut vm = vm.init().map_err(|e| e.to_string())?.start().map_err(|e| e.to_string())?;
        let bytes =
            std::fs::read(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        let artifact = vm.precompile(&bytes).map_err(|e| format!("{}: {e}", file.display()))?;
        std::fs::write(output, artifact)
            .map_err(|e| format!("cannot write {}: {e}", output.display()))
    })();
    match done {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("error: {msg}");
            ExitCode::FAILURE
        }
    }
}

fn run_context(args: &RunArgs) -> Result<RunContext, String> {
    let mut ctx = RunContext::default();
    ctx.args.push(args.file.display().to_string());
    let guest_args = match args.args.first().map(String::as_str) {
        Some("--") => &args.args[1..],
        _ => &args.args[..],
    };
    ctx.args.extend(guest_args.iter().cloned());
    for e in &args.env {
        match e.split_once('=') {
            Some(("", _)) => return Err(format!("--env `{e}`: expected KEY=VAL or KEY")),
            Some((k, v)) => ctx.env.push((k.to_owned(), v.to_owned())),
            // `--env NAME` passes on the host's value; a name the host lacks is skipped.
            None => {
                if let Some(v) = std::env::var_os(e) {
                    let v = v
                        .into_string()
                        .map_err(|_| format!("--env `{e}`: the host's value is not UTF-8"))?;
                    ctx.env.push((e.clone(), v));
                }
            }
        }
    }
    for d in &args.dirs {
        let (host, guest) = match d.split_once("::") {
            Some((h, g)) => (h, g),
            None => (d.as_str(), d.as_str()),
        };
        let host = PathBuf::from(host);
        if !host.is_dir() {
            return Err(format!("--dir `{d}`: `{}` is not a directory", host.display()));
        }
        ctx.preopens.push((host, guest.to_owned()));
    }
    Ok(ctx)
}

fn execute<C: Composition>(args: RunArgs) -> Result<ExitCode, String> {
    if args.stats == Some(StatsFormat::Json) {
        crate::json::available()?;
    }
    let (flags, cache) = cache_settings::<C>(&args.settings, args.no_cache)?;
    let settings = settings::<C>(&flags)?;
    let ctx = run_context(&args)?;
    let vm = Vm::<C>::new(&settings).map_err(|e| e.to_string())?;
    let mut vm = vm.init().map_err(|e| e.to_string())?.start().map_err(|e| e.to_string())?;
    let failed = |e: Error| match e {
        Error::Io { path, source } => format!("cannot read {path}: {source}"),
        e => format!("{}: {e}", args.file.display()),
    };
    let (module, cached) = match &cache {
        Some(cache) => {
            let bytes = std::fs::read(&args.file)
                .map_err(|e| format!("cannot read {}: {e}", args.file.display()))?;
            let (m, o) = vm.compile_cached(&bytes, Some(&args.file), cache).map_err(failed)?;
            (m, Some(o))
        }
        None => (vm.load(&args.file).map_err(failed)?, None),
    };
    let mut linker = Linker::new(ctx.clone());
    let outcome = match vm.instantiate(&module, &mut linker) {
        Ok(instance) => call(&mut vm, &mut linker, instance, &args, &ctx),
        Err(InstantiationError::Trap(t)) => Err(t),
        Err(e) => return Err(format!("{}: {e}", args.file.display())),
    };
    let code = match outcome {
        Ok(code) => code,
        Err(t) => trap_status(&t),
    };
    if let Some(fmt) = args.stats {
        let fuel = (vm.fuel_consumed(&linker), vm.fuel_remaining(&linker));
        eprintln!("{}", stats(&vm, fmt, fuel));
        if fmt == StatsFormat::Text {
            eprintln!("{}", cache_line(cache.as_ref(), cached));
        }
    }
    Ok(code)
}

/// The exit status for a trap: the guest's status for `proc_exit`, otherwise the trap
/// message and backtrace on stderr and [`TRAP_STATUS`].
fn trap_status(t: &Trap) -> ExitCode {
    match t.code {
        TrapCode::Exit(status) => ExitCode::from((status & 0xff) as u8),
        _ => {
            eprintln!("error: wasm trap: {t}");
            ExitCode::from(TRAP_STATUS)
        }
    }
}

fn call<C: Composition, S: vm_core::compose::lifecycle::Started>(
    vm: &mut Vm<C, S>,
    linker: &mut Linker<C>,
    instance: vm_core::runtime::Instance,
    args: &RunArgs,
    ctx: &RunContext,
) -> Result<ExitCode, Trap> {
    let Some(name) = &args.invoke else {
        if linker.export(instance, "_start").is_none() {
            eprintln!(
                "error: {} exports no `_start`; use --invoke NAME to call one of its exports",
                args.file.display()
            );
            return Ok(ExitCode::FAILURE);
        }
        return match vm.invoke(linker, instance, "_start", &[]) {
            Ok(_) => Ok(ExitCode::SUCCESS),
            Err(e) => failed(linker, instance, e),
        };
    };
    let Some(Extern::Func(addr)) = linker.export(instance, name) else {
        eprintln!("error: {} exports no function `{name}`", args.file.display());
        return Ok(ExitCode::FAILURE);
    };
    let params: Vec<ValType> =
        linker.store().func_type(addr).map(|t| t.params().to_vec()).unwrap_or_default();
    let given = &ctx.args[1..];
    if given.len() != params.len() {
        let types: Vec<String> = params.iter().map(ToString::to_string).collect();
        eprintln!(
            "error: `{name}` takes {} argument(s) ({}), got {}",
            params.len(),
            types.join(" "),
            given.len()
        );
        return Ok(ExitCode::FAILURE);
    }
    let mut values = Vec::with_capacity(params.len());
    for (ty, text) in params.iter().zip(given) {
        match parse_val(*ty, text) {
            Ok(v) => values.push(v),
            Err(e) => {
                eprintln!("error: argument `{text}` of `{name}`: {e}");
                return Ok(ExitCode::FAILURE);
            }
        }
    }
    match vm.call_func(linker, addr, &values, name) {
        Ok(results) => {
            for r in results {
                outln!("{r}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => failed(linker, instance, e),
    }
}

/// A call from the command line failed: a trap goes back to the caller; anything
/// else is printed, an uncaught exception with its tag's export name when the
/// instance exports the tag (`tag "e"`), else its store address (`tag 3`).
fn failed<C: Composition>(
    linker: &Linker<C>,
    instance: vm_core::runtime::Instance,
    e: InvokeError,
) -> Result<ExitCode, Trap> {
    match e {
        InvokeError::Trap(t) => return Err(t),
        InvokeError::Exception(x) => {
            let name = linker.export_name(instance, Extern::Tag(x.tag));
            eprintln!("error: uncaught exception: {}", x.named(name));
        }
        e => eprintln!("error: {e}"),
    }
    Ok(ExitCode::FAILURE)
}

/// Parses a command-line argument as a value of type `ty` (decimal or `0x` hex
/// integers, floats as Rust reads them).
pub fn parse_val(ty: ValType, text: &str) -> Result<Val, String> {
    fn int(text: &str) -> Result<i128, String> {
        let (neg, t) = match text.strip_prefix('-') {
            Some(t) => (true, t),
            None => (false, text),
        };
        let v = match t.strip_prefix("0x") {
            Some(h) => i128::from_str_radix(h, 16),
            None => t.parse::<i128>(),
        }
        .map_err(|_| "not an integer".to_owned())?;
        Ok(if neg { -v } else { v })
    }
    match ty {
        ValType::I32 => {
            let v = int(text)?;
            if v < i128::from(i32::MIN) || v > i128::from(u32::MAX) {
                return Err("out of range for i32".into());
            }
            Ok(Val::I32(v as i32))
        }
        ValType::I64 => {
            let v = int(text)?;
            if v < i128::from(i64::MIN) || v > i128::from(u64::MAX) {
                return Err("out of range for i64".into());
            }
            Ok(Val::I64(v as i64))
        }
        ValType::F32 => {
            text.parse::<f32>().map(|f| Val::F32(f.to_bits())).map_err(|_| "not a number".into())
        }
        ValType::F64 => {
            text.parse::<f64>().map(|f| Val::F64(f.to_bits())).map_err(|_| "not a number".into())
        }
        other => Err(format!("cannot pass a {other} from the command line")),
    }
}

/// The `--stats` line about the cache: `cache: hit dir=...`, or `cache: off`.
fn cache_line(cache: Option<&Cache>, outcome: Option<CacheOutcome>) -> String {
    match (cache, outcome) {
        (Some(c), Some(o)) => format!("cache: {} dir={}", o.name(), c.dir().display()),
        _ => "cache: off".to_owned(),
    }
}

/// Per-plugin stats, then the store's fuel: `(consumed, remaining)`, `None` when the
/// engine does not meter fuel.
fn stats<C: Composition, S>(
    vm: &Vm<C, S>,
    fmt: StatsFormat,
    fuel: (Option<u64>, Option<u64>),
) -> String {
    let health = vm.health();
    match fmt {
        StatsFormat::Json => crate::json::stats(&health, fuel),
        StatsFormat::Text => health
            .iter()
            .map(|h| {
                let s = &h.stats;
                let mut line = format!(
                    "{}: {} errors={} functions_compiled={} compile_time={:.3}ms code_bytes={} host_calls={} traps={} memory_bytes={}",
                    h.id,
                    h.state.name(),
                    h.errors,
                    s.functions_compiled,
                    s.compile_time.as_secs_f64() * 1e3,
                    s.code_bytes,
                    s.host_calls,
                    s.traps,
                    s.memory_bytes
                );
                for (k, v) in &s.custom {
                    line += &format!(" {k}={v}");
                }
                for t in &s.tables {
                    for row in &t.rows {
                        line += &format!("\n  {}: {}", t.name, row.label);
                        for (c, v) in t.columns.iter().zip(&row.values) {
                            line += &format!(" {c}={v}");
                        }
                    }
                }
                line
            })
            .chain(std::iter::once(match fuel {
                (Some(c), Some(r)) => format!("store: fuel_consumed={c} fuel_remaining={r}"),
                _ => "store: fuel=off".to_owned(),
            }))
            .collect::<Vec<_>>()
            .join("\n"),
    }
}
