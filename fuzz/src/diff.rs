//! The `diff` target: a wasm-smith module run on every composition and on the
//! oracle, compared call by call.
//!
//! Modules use the WebAssembly 2.0 feature set (wasm-smith picks a subset per input),
//! with NaNs canonicalized, termination ensured by wasm-smith's fuel global, no
//! imports and bounded memories and tables. A composition with a `simd` or `gc`
//! plugin gets modules with those proposals as well: the input decides whether to
//! use a proposal that at least one composition supports, and only compositions that
//! support the chosen set run the module. The reference is the oracle when it
//! supports the set, else the first composition that runs it.

use arbitrary::Unstructured;
use vm::runtime::{Features, TrapCode};

use crate::compositions::COMPOSITIONS;
use crate::observe::{self, Comparison, Observation, Outcome, Plan};
use crate::{Finding, Stats, oracle};

/// The generator's termination fuel: loop iterations plus calls a module may make
/// in total. It also bounds recursion depth far below every engine's stack limit.
pub const TERMINATION_FUEL: u32 = 1_000;

/// Whether a composition (or the oracle) that accepts `have` can run a module
/// that uses `want`.
fn covers(have: Features, want: Features) -> bool {
    (have.simd || !want.simd) && (have.gc || !want.gc)
}

/// The proposals beyond 2.0 to use for this input: each one that some composition
/// supports, at the input's choice.
fn choose_features(u: &mut Unstructured<'_>) -> Features {
    let any_simd = COMPOSITIONS.iter().any(|e| e.features.simd);
    let any_gc = COMPOSITIONS.iter().any(|e| e.features.gc);
    Features {
        simd: any_simd && u.arbitrary().unwrap_or(false),
        gc: any_gc && u.arbitrary().unwrap_or(false),
    }
}

/// wasm-smith's configuration: a swarm of the input's choosing, then held to the
/// feature set and the bounds above.
pub fn module_config(
    u: &mut Unstructured<'_>,
    features: Features,
) -> arbitrary::Result<wasm_smith::Config> {
    let mut c: wasm_smith::Config = u.arbitrary()?;
    c.simd_enabled = features.simd;
    c.relaxed_simd_enabled = false;
    c.gc_enabled = features.gc;
    if features.gc {
        c.reference_types_enabled = true;
    }
    c.threads_enabled = false;
    c.shared_everything_threads_enabled = false;
    c.exceptions_enabled = false;
    c.memory64_enabled = false;
    c.tail_call_enabled = false;
    c.wide_arithmetic_enabled = false;
    c.extended_const_enabled = false;
    c.custom_page_sizes_enabled = false;
    c.custom_descriptors_enabled = false;
    c.compact_imports_enabled = false;
    c.multibyte_array_access_enabled = false;
    c.acquire_release_atomics_enabled = false;
    c.max_memories = c.max_memories.min(1);
    c.max_tables = c.max_tables.min(if c.reference_types_enabled { 4 } else { 1 });
    c.max_imports = 0;
    c.min_imports = 0;
    c.available_imports = None;
    c.canonicalize_nans = true;
    c.export_everything = true;
    c.memory_max_size_required = true;
    c.max_memory32_bytes = c.max_memory32_bytes.min(16 * 65536);
    c.table_max_size_required = true;
    c.max_table_elements = c.max_table_elements.min(1_000);
    c.max_funcs = c.max_funcs.min(100);
    c.max_instructions = c.max_instructions.min(1_000);
    c.max_data_segments = c.max_data_segments.min(20);
    c.max_element_segments = c.max_element_segments.min(20);
    c.generate_custom_sections = false;
    Ok(c)
}

/// The module and plan for one input, or `None` when the input is too short for
/// the generator.
pub fn generate(data: &[u8]) -> Option<(Features, Vec<u8>, Plan)> {
    let mut u = Unstructured::new(data);
    let features = choose_features(&mut u);
    let config = module_config(&mut u, features).ok()?;
    let mut module = wasm_smith::Module::new(config, &mut u).ok()?;
    module.ensure_termination(TERMINATION_FUEL).ok()?;
    let bytes = module.to_bytes();
    let plan = Plan::draw(&bytes, &mut u).ok()?;
    Some((features, bytes, plan))
}

/// Runs the target on one input.
///
/// # Errors
/// An engine diverged from the reference, or failed where the reference did not.
pub fn run(data: &[u8], stats: &mut Stats) -> Result<(), Finding> {
    let Some((features, module, plan)) = generate(data) else {
        stats.bump("skipped: input too short for the generator");
        return Ok(());
    };
    run_module(features, module, &plan, stats)
}

/// Runs `module` with `plan` on every composition that supports `features` and on
/// the reference, and compares. Every engine is compared, so a finding names each
/// engine that diverged.
///
/// # Errors
/// An engine diverged from the reference, or failed where the reference did not.
pub fn run_module(
    features: Features,
    module: Vec<u8>,
    plan: &Plan,
    stats: &mut Stats,
) -> Result<(), Finding> {
    let mut engines = COMPOSITIONS.iter().filter(|e| covers(e.features, features));
    let (reference_id, reference): (&str, Observation) = if covers(oracle::FEATURES, features) {
        match oracle::observe(&module, plan) {
            Ok(obs) => ("wasmi", obs),
            Err(oracle::Skip(why, _)) => {
                stats.bump(format!("skipped: {why}"));
                return Ok(());
            }
        }
    } else {
        let Some(first) = engines.next() else {
            return Ok(());
        };
        match (first.observe)(&module, plan) {
            Ok(obs) => (first.id, obs),
            Err(e) => {
                return Err(Finding::new(format!("{}: {}", first.id, e.0), Some(module)));
            }
        }
    };
    stats.bump("modules");
    let mut observed = Vec::new();
    for entry in engines {
        let pair = format!("{} vs {reference_id}", entry.id);
        let obs = (entry.observe)(&module, plan);
        let verdict = match &obs {
            Ok(ours) => observe::compare(plan, &reference, ours),
            Err(e) => Err(format!("{} (the reference ran it)", e.0)),
        };
        observed.push((pair, obs.ok(), verdict));
    }
    if reference_id == "wasmi" && oracle_bug(plan, &reference, &observed) {
        stats.bump("skipped: wasmi traps on a guarded division (oracle bug)");
        return Ok(());
    }
    let mut diverged = Vec::new();
    for (pair, _, verdict) in observed {
        match verdict {
            Ok(Comparison::Agreed) => stats.bump(format!("{pair}: agreed")),
            Ok(Comparison::StackExhausted(_)) => {
                stats.bump(format!("{pair}: agreed up to stack exhaustion"))
            }
            Err(diff) => {
                stats.bump(format!("{pair}: DIVERGED"));
                diverged.push(format!("{pair}: {diff}"));
            }
        }
    }
    if diverged.is_empty() { Ok(()) } else { Err(Finding::new(diverged.join("\n"), Some(module))) }
}

/// The filter for a known wasmi 2.0 bug: in some functions with a deep operand
/// stack it traps "integer divide by zero" on an `i32.rem_u` whose divisor is
/// `select(1, x, x == 0)` (wasm-smith's guard against division by zero), where the
/// divisor is 1 (`tests/fuzz-regressions/wasmi-guarded-rem.wast` runs such a
/// module on our engines).
///
/// An input is skipped when the first difference from wasmi is wasmi trapping
/// with that code where the engine did not, at least two engines are compared, and
/// every engine observed exactly the same as the first one. Two independent
/// engines agreeing on not trapping is what makes this a wasmi bug and not ours.
fn oracle_bug(
    plan: &Plan,
    reference: &Observation,
    observed: &[(String, Option<Observation>, Result<Comparison, String>)],
) -> bool {
    let Some((_, Some(first), _)) = observed.first() else {
        return false;
    };
    observed.len() >= 2
        && observed.iter().all(|(_, obs, verdict)| {
            verdict.is_err()
                && obs.as_ref().is_some_and(|o| {
                    observe::compare(plan, first, o) == Ok(Comparison::Agreed)
                        && wasmi_division_trap(reference, o)
                })
        })
}

/// Whether the first difference between `reference` and `ours` is the reference
/// trapping with "integer divide by zero" where ours went on.
fn wasmi_division_trap(reference: &Observation, ours: &Observation) -> bool {
    let div = TrapCode::IntegerDivisionByZero;
    if reference.instantiation_trap != ours.instantiation_trap {
        return reference.instantiation_trap == Some(div) && ours.instantiation_trap.is_none();
    }
    for (r, e) in reference.calls.iter().zip(&ours.calls) {
        if !r.agrees(e) {
            return *r == Outcome::Trapped(div) && matches!(e, Outcome::Returned(_));
        }
    }
    false
}

/// Runs a module file (binary or text) with the plan an empty input draws (every
/// export called once, zero arguments): what `vm-fuzz diff --module` and test-case
/// reduction use.
///
/// # Errors
/// The file is not a module, or an engine diverged.
pub fn run_module_file(bytes: &[u8], stats: &mut Stats) -> Result<(), Finding> {
    let module = wat::parse_bytes(bytes)
        .map_err(|e| Finding::new(format!("not a module: {e}"), None))?
        .into_owned();
    let plan = Plan::draw(&module, &mut Unstructured::new(&[]))
        .map_err(|e| Finding::new(format!("not a module: {e}"), None))?;
    run_module(Features::default(), module, &plan, stats)
}
