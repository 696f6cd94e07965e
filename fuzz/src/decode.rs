//! The `decode` target: arbitrary bytes into decode, validation, compilation and
//! instantiation on every composition. Each may fail with an error or a trap; none
//! may panic, abort or hang, and every engine must compile what the shared decoder
//! accepted if any engine does.

use arbitrary::Unstructured;
use vm::runtime::{Error, InstantiationError, Linker, RunContext, TrapCode};
use vm::{Composition, Settings, Vm};

use crate::compositions;
use crate::{Finding, Stats};

/// Fuel for start functions, so a module that loops at instantiation stops.
const START_FUEL: u64 = 100_000;
/// Memory bound for instantiation (64 MiB), so a fuzzed module cannot commit much.
const MAX_MEMORY_PAGES: u32 = 1024;

/// How far one composition got with the bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecodeOutcome {
    /// The VM could not be set up (a bug of the harness or a plugin's config).
    Setup(String),
    /// Decoding or validation rejected the bytes (shared by every engine).
    Invalid,
    /// The engine could not compile a module the decoder accepted.
    CompileFailed(String),
    /// Instantiation failed without a trap (an import, a resource limit).
    NotInstantiated,
    /// Instantiation trapped (a segment initializer or the start function).
    Trapped(TrapCode),
    /// The module was instantiated.
    Instantiated,
}

/// Decodes, compiles and instantiates `bytes` on a fresh VM of composition `C`,
/// with fuel and a memory bound so a start function cannot run forever or commit
/// a lot.
pub fn check<C: Composition>(bytes: &[u8]) -> DecodeOutcome {
    let mut settings = Settings::new();
    for flag in
        [format!("engine.fuel={START_FUEL}"), format!("virt.max_memory_pages={MAX_MEMORY_PAGES}")]
    {
        if let Err(e) = settings.merge_flag(&flag) {
            return DecodeOutcome::Setup(e.to_string());
        }
    }
    let vm = match Vm::<C>::new(&settings) {
        Ok(vm) => vm,
        Err(e) => return DecodeOutcome::Setup(e.to_string()),
    };
    let mut vm = match vm.init().and_then(|vm| vm.start()) {
        Ok(vm) => vm,
        Err(e) => return DecodeOutcome::Setup(e.to_string()),
    };
    let module = match vm.compile(bytes) {
        Ok(m) => m,
        Err(Error::Decode(_)) => return DecodeOutcome::Invalid,
        Err(e) => return DecodeOutcome::CompileFailed(e.to_string()),
    };
    let mut linker = Linker::<C>::new(RunContext::default());
    match vm.instantiate(&module, &mut linker) {
        Ok(_) => DecodeOutcome::Instantiated,
        Err(InstantiationError::Trap(t)) => DecodeOutcome::Trapped(t.code),
        Err(_) => DecodeOutcome::NotInstantiated,
    }
}

/// Runs the target on one input.
///
/// # Errors
/// A composition could not be set up, or the engines disagree on whether the
/// module compiles. (A panic is caught by the caller.)
pub fn run(data: &[u8], stats: &mut Stats) -> Result<(), Finding> {
    let bytes = module_bytes(data);
    let mut compiled: Option<(&str, bool)> = None;
    for entry in compositions::usable() {
        let outcome = (entry.decode)(&bytes);
        let key = match &outcome {
            DecodeOutcome::Setup(e) => {
                return Err(Finding::new(format!("{}: VM setup failed: {e}", entry.id), None));
            }
            DecodeOutcome::Invalid => "invalid",
            DecodeOutcome::CompileFailed(_) => "compile error",
            DecodeOutcome::NotInstantiated => "not instantiated",
            DecodeOutcome::Trapped(_) => "trapped at instantiation",
            DecodeOutcome::Instantiated => "instantiated",
        };
        stats.bump(format!("{}: {key}", entry.id));
        if outcome == DecodeOutcome::Invalid {
            continue;
        }
        let ok = !matches!(outcome, DecodeOutcome::CompileFailed(_));
        match compiled {
            Some((other, other_ok)) if other_ok != ok => {
                let detail = match &outcome {
                    DecodeOutcome::CompileFailed(e) => format!("{} failed: {e}", entry.id),
                    _ => format!("{} compiled it", entry.id),
                };
                return Err(Finding::new(
                    format!(
                        "engines disagree on compiling a valid module: {other} compiled={other_ok}, {detail}"
                    ),
                    Some(bytes),
                ));
            }
            _ => compiled = Some((entry.id, ok)),
        }
    }
    Ok(())
}

/// The bytes the engines see. An input that starts with the wasm magic is used as
/// is (so real modules seed a libFuzzer corpus); otherwise its first byte picks raw
/// bytes, raw bytes behind a valid header, or a wasm-smith module of any feature
/// set with a few byte-level mutations, so both the header checks and the depths
/// of section and code validation are reached.
pub fn module_bytes(data: &[u8]) -> Vec<u8> {
    if data.starts_with(b"\0asm") {
        return data.to_vec();
    }
    let Some((&mode, rest)) = data.split_first() else {
        return Vec::new();
    };
    match mode % 4 {
        0 => rest.to_vec(),
        1 => [b"\0asm\x01\0\0\0".as_slice(), rest].concat(),
        2 => smith_mutated(rest, true).unwrap_or_else(|| rest.to_vec()),
        _ => smith_mutated(rest, false).unwrap_or_else(|| rest.to_vec()),
    }
}

/// A wasm-smith module from the front of `data` (of the 2.0 feature set the diff
/// target uses, or of any proposal), mutated by the back.
fn smith_mutated(data: &[u8], wasm2: bool) -> Option<Vec<u8>> {
    let split = data.len() - (data.len() / 8).min(32);
    let (body, control) = data.split_at(split);
    let mut u = Unstructured::new(body);
    let mut config = if wasm2 {
        crate::diff::module_config(&mut u, vm::runtime::Features::default()).ok()?
    } else {
        u.arbitrary().ok()?
    };
    config.max_funcs = config.max_funcs.min(50);
    config.max_instructions = config.max_instructions.min(500);
    config.max_memory32_bytes = config.max_memory32_bytes.min(1 << 26);
    config.max_table_elements = config.max_table_elements.min(10_000);
    let module = wasm_smith::Module::new(config, &mut u).ok()?;
    let mut bytes = module.to_bytes();
    let mut c = Unstructured::new(control);
    let mutations = c.int_in_range(0..=3u8).unwrap_or(0);
    for _ in 0..mutations {
        if bytes.is_empty() {
            break;
        }
        let at = c.choose_index(bytes.len()).unwrap_or(0);
        match c.int_in_range(0..=4u8).unwrap_or(0) {
            0 => bytes[at] = c.arbitrary().unwrap_or(0),
            1 => bytes[at] ^= 1 << c.int_in_range(0..=7u8).unwrap_or(0),
            2 => {
                bytes.remove(at);
            }
            3 => bytes.insert(at, c.arbitrary().unwrap_or(0)),
            _ => bytes.truncate(at),
        }
    }
    Some(bytes)
}
