//! Fuzz targets for the VM, runnable two ways: under libFuzzer with
//! `cargo +nightly fuzz run <target>` (coverage-guided), and as a seeded loop on
//! stable (`cargo run --release -p vm-fuzz -- <target> --iterations N --seed S`),
//! which CI runs briefly through `cargo test`.
//!
//! ```no_run
//! use vm_fuzz::{Stats, target};
//! let mut stats = Stats::default();
//! // Any bytes: an error or success on every engine, never a panic.
//! (target("decode").unwrap().run)(b"\0asm\x01\0\0\0", &mut stats).unwrap();
//! ```
//!
//! | target | what it checks |
//! |---|---|
//! | `decode` | arbitrary bytes into decode, compile and instantiate on every engine: no panic, abort or hang |
//! | `diff` | a wasm-smith module on every engine and on the `wasmi` oracle: same results, traps, globals and memories |
//! | `artifact` | compiled-module files (`vm compile` output) damaged, with and without a recomputed checksum, into the loader of every engine with native code: an error or a module, never a panic; an intact file loads |
//! | `fuel` | the same modules with a fuel budget on every engine: the same consumption after every call and the same out-of-fuel point |
//!
//! The engines are those composed in [`compositions`]; a target never names one.
//! A new target is a module with a `run` function and one line in [`TARGETS`].

pub mod artifact;
pub mod compositions;
pub mod decode;
pub mod diff;
pub mod driver;
pub mod fuel;
pub mod isolate;
pub mod observe;
pub mod oracle;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::fmt;
use std::ops::RangeInclusive;

// Only the fuzz_targets binaries use libFuzzer, and only under `cargo fuzz`.
#[cfg(fuzzing)]
use libfuzzer_sys as _;

/// Counters of what a target saw, by a description of the case.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    /// Count per case.
    pub counts: BTreeMap<String, u64>,
}

impl Stats {
    /// Counts one more of `case`.
    pub fn bump(&mut self, case: impl AsRef<str>) {
        let case = case.as_ref();
        match self.counts.get_mut(case) {
            Some(n) => *n += 1,
            None => {
                self.counts.insert(case.to_owned(), 1);
            }
        }
    }

    /// Adds `n` to `case` (a total, such as time spent).
    pub fn add(&mut self, case: impl AsRef<str>, n: u64) {
        let case = case.as_ref();
        match self.counts.get_mut(case) {
            Some(c) => *c += n,
            None => {
                self.counts.insert(case.to_owned(), n);
            }
        }
    }

    /// The count of `case`.
    pub fn get(&self, case: &str) -> u64 {
        self.counts.get(case).copied().unwrap_or(0)
    }
}

impl fmt::Display for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (case, n) in &self.counts {
            writeln!(f, "  {n:>10}  {case}")?;
        }
        Ok(())
    }
}

/// An input that made an engine misbehave.
#[derive(Clone, Debug)]
pub struct Finding {
    /// What went wrong.
    pub message: String,
    /// The module the engines ran, when the target built one.
    pub module: Option<Vec<u8>>,
}

impl Finding {
    /// A finding with its message and module.
    pub fn new(message: impl Into<String>, module: Option<Vec<u8>>) -> Self {
        Finding { message: message.into(), module }
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// A fuzz target.
pub struct Target {
    /// Its name on the command line and under `fuzz_targets/`.
    pub name: &'static str,
    /// Runs one input.
    pub run: fn(&[u8], &mut Stats) -> Result<(), Finding>,
    /// Lengths of the inputs the seeded loop draws.
    pub input_len: RangeInclusive<usize>,
}

/// Every target.
pub const TARGETS: &[Target] = &[
    Target { name: "decode", run: decode::run, input_len: 1..=2048 },
    Target { name: "diff", run: diff::run, input_len: 64..=8192 },
    Target { name: "fuel", run: fuel::run, input_len: 64..=8192 },
    Target { name: "artifact", run: artifact::run, input_len: 16..=4096 },
];

/// The target called `name`.
pub fn target(name: &str) -> Option<&'static Target> {
    TARGETS.iter().find(|t| t.name == name)
}

/// Runs target `name` on one input for libFuzzer: a finding panics, which libFuzzer
/// reports as a crash and saves.
///
/// # Panics
/// On a finding, or when there is no target `name`.
pub fn fuzz_one(name: &str, data: &[u8]) {
    // libFuzzer's hook aborts on every panic; the oracle's own panics must unwind
    // to its `catch_unwind` instead (they skip the input).
    oracle::pass_oracle_panics();
    let Some(target) = target(name) else {
        panic!("no fuzz target `{name}`");
    };
    if let Err(finding) = (target.run)(data, &mut Stats::default()) {
        panic!("{name}: {finding}");
    }
}

/// Replays saved inputs of target `name` (what a `fuzz_targets` binary does when it
/// is built without `cargo fuzz`): prints each verdict, fails if any is a finding.
pub fn replay_files(
    name: &str,
    files: impl Iterator<Item = std::ffi::OsString>,
) -> std::process::ExitCode {
    let Some(target) = target(name) else {
        eprintln!("no fuzz target `{name}`");
        return std::process::ExitCode::from(2);
    };
    let mut failed = false;
    let mut any = false;
    for file in files {
        any = true;
        let path = std::path::PathBuf::from(file);
        match std::fs::read(&path) {
            Ok(data) => match driver::run_one(target, &data, &mut Stats::default()) {
                Ok(()) => println!("{}: no finding", path.display()),
                Err(finding) => {
                    println!("{}: {finding}", path.display());
                    failed = true;
                }
            },
            Err(e) => {
                eprintln!("{}: {e}", path.display());
                failed = true;
            }
        }
    }
    if !any {
        eprintln!("usage: {name} INPUT...  (to fuzz: cargo +nightly fuzz run {name})");
        return std::process::ExitCode::from(2);
    }
    if failed { std::process::ExitCode::FAILURE } else { std::process::ExitCode::SUCCESS }
}
