//! The seeded loop on stable: inputs drawn from a seed and an index, each run under
//! `catch_unwind` and a watchdog, findings written to disk for replay.

use std::fs::{self, File};
use std::os::unix::fs::FileExt;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::{Finding, Stats, Target};

/// How to run a target.
#[derive(Clone, Debug)]
pub struct LoopConfig {
    /// Inputs to run.
    pub iterations: u64,
    /// The seed the inputs are drawn from.
    pub seed: u64,
    /// The index of the first input (to resume, or to rerun one input).
    pub start: u64,
    /// Where findings go (`<dir>/<target>/…`).
    pub findings_dir: PathBuf,
    /// An input still running after this long is a hang: it is saved and the
    /// process aborts.
    pub timeout: Duration,
    /// Print a progress line to stderr every this many inputs (0: never).
    pub progress_every: u64,
    /// Stop at the first finding.
    pub stop_on_finding: bool,
}

impl LoopConfig {
    /// `iterations` inputs from `seed`, findings under [`default_findings_dir`].
    pub fn new(iterations: u64, seed: u64) -> Self {
        LoopConfig {
            iterations,
            seed,
            start: 0,
            findings_dir: default_findings_dir(),
            timeout: Duration::from_secs(60),
            progress_every: 0,
            stop_on_finding: false,
        }
    }
}

/// What a loop did.
#[derive(Debug, Default)]
pub struct Summary {
    /// Inputs run.
    pub executed: u64,
    /// What the target counted.
    pub stats: Stats,
    /// The saved findings: the input file of each.
    pub findings: Vec<PathBuf>,
    /// Wall time.
    pub elapsed: Duration,
}

/// `target/fuzz-findings` of the workspace (or of `CARGO_TARGET_DIR`).
pub fn default_findings_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("fuzz-findings")
}

/// A splitmix64 step: a small, fixed generator, so an input is a pure function of
/// its seed and index on every machine.
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Input number `index` of `seed` for `target`.
pub fn input(target: &Target, seed: u64, index: u64) -> Vec<u8> {
    let mut state = seed ^ index.wrapping_mul(0xd1b5_4a32_d192_ed03);
    let (lo, hi) = (*target.input_len.start(), *target.input_len.end());
    let len = lo + (splitmix(&mut state) % (hi - lo + 1) as u64) as usize;
    let mut data = Vec::with_capacity(len + 8);
    while data.len() < len {
        data.extend_from_slice(&splitmix(&mut state).to_le_bytes());
    }
    data.truncate(len);
    data
}

/// Runs one input, turning a panic into a finding.
///
/// # Errors
/// The target's finding, or the panic's message.
pub fn run_one(target: &Target, data: &[u8], stats: &mut Stats) -> Result<(), Finding> {
    crate::oracle::pass_oracle_panics();
    match panic::catch_unwind(AssertUnwindSafe(|| (target.run)(data, stats))) {
        Ok(result) => result,
        Err(payload) => {
            let msg = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic without a message".to_owned());
            Err(Finding::new(format!("panic: {msg}"), None))
        }
    }
}

/// Writes a finding: `<name>.input` (replay it with `--replay`), `<name>.txt` (what
/// happened and how to replay) and `<name>.wasm` (the module, when there is one).
///
/// # Errors
/// The files could not be written.
pub fn save_finding(
    dir: &Path,
    target: &Target,
    name: &str,
    data: &[u8],
    finding: &Finding,
) -> std::io::Result<PathBuf> {
    let dir = dir.join(target.name);
    fs::create_dir_all(&dir)?;
    let input = dir.join(format!("{name}.input"));
    fs::write(&input, data)?;
    let mut text = format!(
        "{}\n\nreplay: cargo run --release -p vm-fuzz -- {} --replay {}\n",
        finding.message,
        target.name,
        input.display()
    );
    if let Some(module) = &finding.module {
        let wasm = dir.join(format!("{name}.wasm"));
        fs::write(&wasm, module)?;
        text.push_str(&format!("module: {}\n", wasm.display()));
    }
    fs::write(dir.join(format!("{name}.txt")), text)?;
    Ok(input)
}

/// What the watchdog sees: the running input's index and bytes.
struct Current {
    index: AtomicU64,
    data: Mutex<Vec<u8>>,
}

/// Runs `config.iterations` inputs of `target`.
pub fn run_loop(target: &'static Target, config: &LoopConfig) -> Summary {
    let started = Instant::now();
    let mut summary = Summary::default();
    let current =
        Arc::new(Current { index: AtomicU64::new(u64::MAX), data: Mutex::new(Vec::new()) });
    spawn_watchdog(target, config, Arc::clone(&current));
    // A hung oracle is killed and its input skipped well before the watchdog
    // would abort the loop.
    crate::oracle::set_timeout(config.timeout / 2);
    // The index of the running input, rewritten in place before each: if the
    // process dies (a fault that is not a trap), the file says which input it was.
    let last = fs::create_dir_all(config.findings_dir.join(target.name))
        .and_then(|()| File::create(config.findings_dir.join(target.name).join("last-input")))
        .ok();
    for index in config.start..config.start.saturating_add(config.iterations) {
        let data = input(target, config.seed, index);
        if let Some(f) = &last {
            let line = format!("seed {} index {:<20}\n", config.seed, index);
            let _ = f.write_all_at(line.as_bytes(), 0);
        }
        if let Ok(mut d) = current.data.lock() {
            d.clone_from(&data);
        }
        current.index.store(index, Ordering::SeqCst);
        let result = run_one(target, &data, &mut summary.stats);
        summary.executed += 1;
        if let Err(finding) = result {
            let name = format!("s{}-i{index}", config.seed);
            eprintln!("finding at seed {} index {index}: {finding}", config.seed);
            match save_finding(&config.findings_dir, target, &name, &data, &finding) {
                Ok(path) => summary.findings.push(path),
                Err(e) => eprintln!("could not save the finding: {e}"),
            }
            if config.stop_on_finding {
                break;
            }
        }
        if config.progress_every > 0 && summary.executed % config.progress_every == 0 {
            let secs = started.elapsed().as_secs_f64();
            eprintln!(
                "{}: {} inputs (next index {}), {:.0}/s, {} findings",
                target.name,
                summary.executed,
                index + 1,
                summary.executed as f64 / secs,
                summary.findings.len()
            );
        }
    }
    current.index.store(u64::MAX, Ordering::SeqCst);
    summary.elapsed = started.elapsed();
    summary
}

/// A thread that saves the running input and aborts when one input runs longer
/// than the timeout: a hang is a finding, and nothing else can stop it.
fn spawn_watchdog(target: &'static Target, config: &LoopConfig, current: Arc<Current>) {
    let timeout = config.timeout;
    let dir = config.findings_dir.clone();
    let seed = config.seed;
    std::thread::spawn(move || {
        let mut seen = u64::MAX;
        let mut since = Instant::now();
        loop {
            std::thread::sleep(Duration::from_millis(500).min(timeout));
            let now = current.index.load(Ordering::SeqCst);
            if now != seen || now == u64::MAX {
                seen = now;
                since = Instant::now();
                continue;
            }
            if since.elapsed() >= timeout {
                let data = current.data.lock().map(|d| d.clone()).unwrap_or_default();
                let finding =
                    Finding::new(format!("hang: input ran longer than {timeout:?}"), None);
                let name = format!("s{seed}-i{now}-hang");
                let saved = save_finding(&dir, target, &name, &data, &finding);
                eprintln!("hang at seed {seed} index {now} (saved: {saved:?}); aborting");
                std::process::abort();
            }
        }
    });
}
