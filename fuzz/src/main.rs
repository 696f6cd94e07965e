//! `vm-fuzz`: the seeded fuzz loop on stable, and replay of saved inputs.
//!
//! ```text
//! cargo run --release -p vm-fuzz -- diff --iterations 100000 --seed 1
//! cargo run --release -p vm-fuzz -- diff --replay target/fuzz-findings/diff/s1-i42.input
//! ```

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use vm_fuzz::driver::{self, LoopConfig};
use vm_fuzz::{Stats, TARGETS};

/// Runs a fuzz target on seeded inputs, or replays one input.
#[derive(Parser, Debug)]
#[command(name = "vm-fuzz", version)]
struct Args {
    /// The target: decode or diff.
    target: String,
    /// Inputs to run.
    #[arg(long, default_value_t = 10_000)]
    iterations: u64,
    /// The seed the inputs are drawn from.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The index of the first input.
    #[arg(long, default_value_t = 0)]
    start: u64,
    /// Run this saved input (a libFuzzer artifact or a `.input` file) instead.
    #[arg(long)]
    replay: Option<PathBuf>,
    /// With `diff`: run this module (`.wasm` or `.wat`), each export called once
    /// with zero arguments; exits 1 when an engine diverges (for test-case
    /// reduction).
    #[arg(long)]
    module: Option<PathBuf>,
    /// Where findings go (default: target/fuzz-findings).
    #[arg(long)]
    findings: Option<PathBuf>,
    /// Seconds one input may run before it counts as a hang.
    #[arg(long, default_value_t = 60)]
    timeout: u64,
    /// Print progress every this many inputs.
    #[arg(long, default_value_t = 10_000)]
    progress: u64,
    /// Stop at the first finding.
    #[arg(long)]
    stop: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let Some(target) = vm_fuzz::target(&args.target) else {
        let names: Vec<_> = TARGETS.iter().map(|t| t.name).collect();
        eprintln!("no target `{}`; the targets are: {}", args.target, names.join(", "));
        return ExitCode::from(2);
    };
    if let Some(path) = args.module {
        let data = match std::fs::read(&path) {
            Ok(d) => d,
            Err(e) => {
                eprintln!("{}: {e}", path.display());
                return ExitCode::from(2);
            }
        };
        let mut stats = Stats::default();
        return match vm_fuzz::diff::run_module_file(&data, &mut stats) {
            Ok(()) => {
                // A skipped module was not compared: say why instead of claiming agreement.
                let skipped: Vec<&str> = stats
                    .counts
                    .keys()
                    .map(String::as_str)
                    .filter(|case| case.starts_with("skipped"))
                    .collect();
                if skipped.is_empty() {
                    println!("{}: every engine agrees with the reference", path.display());
                } else {
                    println!("{}: not compared ({})", path.display(), skipped.join("; "));
                }
                ExitCode::SUCCESS
            }
            Err(finding) => {
                println!("{}: {finding}", path.display());
                ExitCode::FAILURE
            }
        };
    }
    if let Some(path) = args.replay {
        let data = match std::fs::read(&path) {
            Ok(d) => d,
            Err(e) => {
                eprintln!("{}: {e}", path.display());
                return ExitCode::from(2);
            }
        };
        let mut stats = Stats::default();
        return match driver::run_one(target, &data, &mut stats) {
            Ok(()) => {
                println!("{}: no finding\n{stats}", target.name);
                ExitCode::SUCCESS
            }
            Err(finding) => {
                println!("{}: {finding}", target.name);
                if let Some(module) = finding.module {
                    let out = path.with_extension("wasm");
                    if std::fs::write(&out, module).is_ok() {
                        println!("module: {}", out.display());
                    }
                }
                ExitCode::FAILURE
            }
        };
    }
    let mut config = LoopConfig::new(args.iterations, args.seed);
    config.start = args.start;
    config.timeout = Duration::from_secs(args.timeout.max(1));
    config.progress_every = args.progress;
    config.stop_on_finding = args.stop;
    if let Some(dir) = args.findings {
        config.findings_dir = dir;
    }
    let summary = driver::run_loop(target, &config);
    let secs = summary.elapsed.as_secs_f64();
    println!(
        "{}: {} inputs from seed {} (indexes {}..{}) in {secs:.1} s ({:.0}/s), {} findings",
        target.name,
        summary.executed,
        args.seed,
        args.start,
        args.start + summary.executed,
        summary.executed as f64 / secs,
        summary.findings.len()
    );
    print!("{}", summary.stats);
    for f in &summary.findings {
        println!("finding: {}", f.display());
    }
    if summary.findings.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}
