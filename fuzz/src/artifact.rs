//! The `artifact` target: compiled-module files (`vm compile` output) as the loader
//! sees them, damaged. A module from the input (as the `decode` target makes one)
//! is compiled ahead of time on every composition with native code; the artifact
//! is then mutated by the rest of the input (bytes overwritten, bits flipped, bytes
//! inserted or removed, the file cut short), half the time with its checksum and
//! module hash recomputed afterwards so the mutation reaches the structural checks
//! behind them. Loading must end in an error or a module, never a panic, abort or
//! hang; an artifact left intact must load.
//!
//! A mutated file with a recomputed checksum is only loaded, never run: its machine
//! code may have been altered, and no loader can tell altered machine code from the
//! original (the checksum is the guard against damage). A file whose checksum still
//! holds after mutation is instantiated like the `decode` target's modules.

use arbitrary::Unstructured;
use vm::runtime::artifact::{self, HEADER_LEN};
use vm::runtime::{CompileError, Error, Linker, RunContext};
use vm::{Composition, Settings, Vm};

use crate::compositions;
use crate::{Finding, Stats};

/// What became of one artifact on one composition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ArtifactOutcome {
    /// The VM could not be set up.
    Setup(String),
    /// The module did not decode or compile (nothing to write).
    NoModule,
    /// The engine has no ahead-of-time compilation.
    NoAot,
    /// The mutated artifact was rejected with this error.
    Rejected(String),
    /// The artifact loaded (and, when its checksum held, was instantiated).
    Loaded,
    /// The artifact was left intact and did not load: a finding.
    IntactFailed(String),
}

/// Applies the mutations `control` draws to `file`; whether anything changed.
fn mutate(file: &mut Vec<u8>, c: &mut Unstructured<'_>) -> bool {
    let n = c.int_in_range(0..=4u8).unwrap_or(0);
    let mut changed = false;
    for _ in 0..n {
        if file.is_empty() {
            break;
        }
        let at = c.choose_index(file.len()).unwrap_or(0);
        let before = file.clone();
        match c.int_in_range(0..=5u8).unwrap_or(0) {
            0 => file[at] = c.arbitrary().unwrap_or(0),
            1 => file[at] ^= 1 << c.int_in_range(0..=7u8).unwrap_or(0),
            2 => {
                file.remove(at);
            }
            3 => file.insert(at, c.arbitrary().unwrap_or(0)),
            // A little-endian word overwritten: counts, offsets, lengths.
            4 => {
                let w: u32 = c.arbitrary().unwrap_or(u32::MAX);
                for (i, b) in w.to_le_bytes().into_iter().enumerate() {
                    if let Some(x) = file.get_mut(at + i) {
                        *x = b;
                    }
                }
            }
            _ => file.truncate(at),
        }
        changed |= *file != before;
    }
    changed
}

/// Rewrites the header's module hash, length and checksum to match the body.
fn reseal(file: &mut [u8]) {
    if file.len() < HEADER_LEN {
        return;
    }
    let rest_len = (file.len() - HEADER_LEN) as u64;
    file[24..32].copy_from_slice(&rest_len.to_le_bytes());
    // The module's bytes follow the composition text: both length-prefixed.
    let body = &file[HEADER_LEN..];
    let field = |at: usize| -> Option<(usize, usize)> {
        let n = u64::from_le_bytes(body.get(at..at + 8)?.try_into().ok()?) as usize;
        let end = (at + 8).checked_add(n)?;
        (end <= body.len()).then_some((at + 8, end))
    };
    if let Some((_, text_end)) = field(0)
        && let Some((w0, w1)) = field(text_end)
    {
        let h = artifact::hash64(&body[w0..w1]);
        file[16..24].copy_from_slice(&h.to_le_bytes());
    }
    let sum = artifact::hash64(&file[HEADER_LEN..]);
    file[32..40].copy_from_slice(&sum.to_le_bytes());
}

/// Compiles `module` ahead of time on a fresh VM of composition `C`, mutates the
/// artifact with `control` and loads it.
pub fn check<C: Composition>(module: &[u8], control: &[u8]) -> ArtifactOutcome {
    let mut settings = Settings::new();
    for flag in ["engine.fuel=100000", "virt.max_memory_pages=1024"] {
        if let Err(e) = settings.merge_flag(flag) {
            return ArtifactOutcome::Setup(e.to_string());
        }
    }
    let vm = match Vm::<C>::new(&settings) {
        Ok(vm) => vm,
        Err(e) => return ArtifactOutcome::Setup(e.to_string()),
    };
    let mut vm = match vm.init().and_then(|vm| vm.start()) {
        Ok(vm) => vm,
        Err(e) => return ArtifactOutcome::Setup(e.to_string()),
    };
    let mut file = match vm.precompile(module) {
        Ok(f) => f,
        Err(Error::Compile(CompileError::NoAot { .. })) => return ArtifactOutcome::NoAot,
        Err(_) => return ArtifactOutcome::NoModule,
    };
    let mut c = Unstructured::new(control);
    let resealed = c.arbitrary::<bool>().unwrap_or(false);
    let changed = mutate(&mut file, &mut c);
    if resealed {
        reseal(&mut file);
    }
    let loaded = vm.load_artifact(&file);
    match loaded {
        Err(e) if !changed => ArtifactOutcome::IntactFailed(e.to_string()),
        Err(e) => ArtifactOutcome::Rejected(e.to_string()),
        // Altered code behind a recomputed checksum is never run.
        Ok(_) if changed && resealed => ArtifactOutcome::Loaded,
        Ok(m) => {
            let mut linker = Linker::<C>::new(RunContext::default());
            let _ = vm.instantiate(&m, &mut linker);
            ArtifactOutcome::Loaded
        }
    }
}

/// Runs the target on one input: the first half makes the module (as the `decode`
/// target does), the second half the mutations.
///
/// # Errors
/// A composition could not be set up, or an intact artifact did not load.
pub fn run(data: &[u8], stats: &mut Stats) -> Result<(), Finding> {
    let (front, control) = data.split_at(data.len() - (data.len() / 4).min(64));
    let module = crate::decode::module_bytes(front);
    for entry in compositions::usable() {
        let outcome = (entry.artifact)(&module, control);
        let key = match &outcome {
            ArtifactOutcome::Setup(e) => {
                return Err(Finding::new(format!("{}: VM setup failed: {e}", entry.id), None));
            }
            ArtifactOutcome::IntactFailed(e) => {
                return Err(Finding::new(
                    format!("{}: an intact artifact did not load: {e}", entry.id),
                    Some(module),
                ));
            }
            ArtifactOutcome::NoModule => "no module",
            ArtifactOutcome::NoAot => "no aot",
            ArtifactOutcome::Rejected(e) => {
                // Group by the kind of error, not its details.
                let kind = e.split(':').next().unwrap_or("").to_owned();
                stats.bump(format!("{}: rejected: {kind}", entry.id));
                continue;
            }
            ArtifactOutcome::Loaded => "loaded",
        };
        stats.bump(format!("{}: {key}", entry.id));
    }
    Ok(())
}
