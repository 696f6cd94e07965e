//! The `diff` target: a wasm-smith module run on every composition and on the
//! oracle, compared call by call.
//!
//! Modules use the WebAssembly 2.0 feature set (wasm-smith picks a subset per input),
//! with NaNs canonicalized, termination ensured by wasm-smith's fuel global, no
//! imports and bounded memories and tables. A composition with a `simd` or `gc`
//! plugin, or whose engine handles exceptions, gets modules with those proposals
//! as well: the input decides whether to
//! use a proposal that at least one composition supports, and only compositions that
//! support the chosen set run the module. The reference is the oracle when it
//! supports the set, else the first composition that runs it.

use arbitrary::Unstructured;
use vm::runtime::Features;

use crate::compositions::{self, COMPOSITIONS};
use crate::observe::{self, Comparison, Observation, Plan};
use crate::{Finding, Stats, oracle};

/// The generator's termination fuel: loop iterations plus calls a module may make
/// in total. It also bounds recursion depth far below every engine's stack limit.
pub const TERMINATION_FUEL: u32 = 1_000;

/// Whether a composition (or the oracle) that accepts `have` can run a module
/// that uses `want`.
fn covers(have: Features, want: Features) -> bool {
    have.contains(want)
}

/// The proposals the generator may use, each when some composition accepts it.
const FUZZED: &[(Features, &str)] = &[
    (Features::SIMD, "simd"),
    (Features::GC, "gc"),
    (Features::EXTENDED_CONST, "extended-const"),
    (Features::RELAXED_SIMD, "relaxed-simd"),
    (Features::MULTI_MEMORY, "multi-memory"),
    (Features::MEMORY64, "memory64"),
    (Features::TAIL_CALL, "tail-call"),
    (Features::EXCEPTIONS, "exceptions"),
];

/// The proposals beyond 2.0 to use for this input: each one that some composition
/// supports, at the input's choice. (Every composition of the build counts, ready
/// here or not, so an input makes the same module on every machine.)
fn choose_features(u: &mut Unstructured<'_>) -> Features {
    let mut chosen = Features::NONE;
    for &(f, _) in FUZZED {
        if COMPOSITIONS.iter().any(|e| e.features.contains(f)) && u.arbitrary().unwrap_or(false) {
            chosen = chosen | f;
        }
    }
    if !chosen.contains(Features::SIMD) {
        chosen = chosen.difference(Features::RELAXED_SIMD);
    }
    chosen
}

/// wasm-smith's configuration: a swarm of the input's choosing, then held to the
/// feature set and the bounds above.
pub fn module_config(
    u: &mut Unstructured<'_>,
    features: Features,
) -> arbitrary::Result<wasm_smith::Config> {
    let mut c: wasm_smith::Config = u.arbitrary()?;
    c.simd_enabled = features.contains(Features::SIMD);
    // Relaxed SIMD: the oracle does not run it (its choices differ from vm-core's), so
    // such modules are compared between our engines.
    c.relaxed_simd_enabled = features.contains(Features::SIMD.union(Features::RELAXED_SIMD));
    c.gc_enabled = features.contains(Features::GC);
    if c.gc_enabled {
        c.reference_types_enabled = true;
    }
    c.threads_enabled = false;
    c.shared_everything_threads_enabled = false;
    c.exceptions_enabled = features.contains(Features::EXCEPTIONS);
    c.memory64_enabled = features.contains(Features::MEMORY64);
    c.tail_call_enabled = features.contains(Features::TAIL_CALL);
    c.wide_arithmetic_enabled = false;
    c.extended_const_enabled = features.contains(Features::EXTENDED_CONST);
    c.custom_page_sizes_enabled = false;
    c.custom_descriptors_enabled = false;
    c.compact_imports_enabled = false;
    c.multibyte_array_access_enabled = false;
    c.acquire_release_atomics_enabled = false;
    c.max_memories =
        c.max_memories.min(if features.contains(Features::MULTI_MEMORY) { 4 } else { 1 });
    c.max_tables = c.max_tables.min(if c.reference_types_enabled { 4 } else { 1 });
    c.max_imports = 0;
    c.min_imports = 0;
    c.available_imports = None;
    c.canonicalize_nans = true;
    c.export_everything = true;
    c.memory_max_size_required = true;
    c.max_memory32_bytes = c.max_memory32_bytes.min(16 * 65536);
    c.max_memory64_bytes = c.max_memory64_bytes.min(16 * 65536);
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
    stats.bump(if features.contains(Features::SIMD) {
        "inputs with simd"
    } else {
        "inputs without simd"
    });
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
    for (id, why) in compositions::unusable() {
        stats.bump(format!("{id}: not run: {why}"));
    }
    let mut engines =
        compositions::usable().iter().copied().filter(|e| covers(e.features, features));
    let oracle_runs = covers(oracle::FEATURES, features) && {
        let wide = has_wide_lane_store(&module);
        if wide {
            stats.bump("wasmi lane-store bug: the first engine is the reference");
        }
        !wide
    };
    let (reference_id, reference): (&str, Observation) = if oracle_runs {
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
    for proposal in used_proposals(&module) {
        stats.bump(format!("modules using {proposal}: reference {reference_id}"));
    }
    let mut observed = Vec::new();
    for entry in engines {
        let pair = format!("{} vs {reference_id}", entry.id);
        let started = std::time::Instant::now();
        let obs = (entry.observe)(&module, plan);
        stats.add(format!("{}: µs running", entry.id), started.elapsed().as_micros() as u64);
        let verdict = match &obs {
            Ok(ours) => observe::compare(plan, &reference, ours),
            Err(e) => Err(format!("{} (the reference ran it)", e.0)),
        };
        observed.push((pair, obs.ok(), verdict));
    }
    if reference_id == "wasmi"
        && let Some(bug) = oracle_bug(&module, plan, &observed)
    {
        stats.bump(format!("skipped: wasmi {bug} bug"));
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

/// The filter for known wasmi 2.0 bugs, both of which make wasmi compute a wrong
/// value (`tests/fuzz-regressions/wasmi-*.wast` show them on every engine):
///
/// - `select` whose condition is an `i32.eqz` or a `ref.is_null` can yield the
///   wrong operand (5 instructions show it), so wasmi computes a wrong value or
///   traps on a division wasm-smith guarded with `select(1, x, x == 0)`;
/// - `br_table` whose targets carry a `v128` and differ moves the vector wrongly
///   when it has to move it down the stack (seed 20261207, input 52,316): the
///   target gets zeros, or lanes shifted by 64 bits.
///
/// An input is skipped when the module has the pattern of one of them, at least
/// two engines are compared, every engine diverged from wasmi, and every engine
/// observed exactly what the first one did: two independent engines agreeing
/// against wasmi on a module with the pattern is what makes it wasmi's bug.
/// Returns the bug's name.
fn oracle_bug(
    module: &[u8],
    plan: &Plan,
    observed: &[(String, Option<Observation>, Result<Comparison, String>)],
) -> Option<&'static str> {
    let (_, Some(first), _) = observed.first()? else {
        return None;
    };
    let against_wasmi = observed.len() >= 2
        && observed.iter().all(|(_, obs, verdict)| {
            verdict.is_err()
                && obs
                    .as_ref()
                    .is_some_and(|o| observe::compare(plan, first, o) == Ok(Comparison::Agreed))
        });
    if !against_wasmi {
        return None;
    }
    if has_eqz_select(module) {
        Some("select")
    } else if has_v128_br_table(module) {
        Some("br_table v128")
    } else {
        None
    }
}

/// The proposals among exceptions, tail calls and multi-memory whose operators or
/// sections `module` really uses (the chosen features only allow them), so the loop
/// counts what was compared.
fn used_proposals(module: &[u8]) -> Vec<&'static str> {
    use wasmparser::{Operator, Parser, Payload};
    let (mut exceptions, mut tail_calls, mut memories) = (false, false, 0u32);
    for payload in Parser::new(0).parse_all(module) {
        match payload {
            Ok(Payload::MemorySection(r)) => memories += r.count(),
            Ok(Payload::CodeSectionEntry(body)) => {
                let Ok(mut ops) = body.get_operators_reader() else {
                    continue;
                };
                while !ops.eof() {
                    let Ok(op) = ops.read() else {
                        break;
                    };
                    match op {
                        Operator::Throw { .. } | Operator::ThrowRef | Operator::TryTable { .. } => {
                            exceptions = true
                        }
                        Operator::ReturnCall { .. }
                        | Operator::ReturnCallIndirect { .. }
                        | Operator::ReturnCallRef { .. } => tail_calls = true,
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    let mut used = Vec::new();
    if exceptions {
        used.push("exceptions");
    }
    if tail_calls {
        used.push("tail calls");
    }
    if memories > 1 {
        used.push("multi-memory");
    }
    used
}

/// Whether any function body has a `select` right after an `eqz` or `ref.is_null`.
fn has_eqz_select(module: &[u8]) -> bool {
    use wasmparser::{Operator, Parser, Payload};
    for payload in Parser::new(0).parse_all(module) {
        let Ok(Payload::CodeSectionEntry(body)) = payload else {
            continue;
        };
        let Ok(mut ops) = body.get_operators_reader() else {
            continue;
        };
        let mut after_eqz = false;
        while !ops.eof() {
            let Ok(op) = ops.read() else {
                break;
            };
            if after_eqz && matches!(op, Operator::Select | Operator::TypedSelect { .. }) {
                return true;
            }
            after_eqz = matches!(op, Operator::I32Eqz | Operator::I64Eqz | Operator::RefIsNull);
        }
    }
    false
}

/// Whether any function body has a `v128.store8_lane` or `v128.store16_lane` with
/// an offset of 65,536 or more: wasmi 2.0 runs it wrongly (seed 20261207, inputs
/// 11,349 and 112,088; seed 11, inputs 7,138 to 192,054). Its child process
/// faults (a jump to address 0x2), traps, or stores elsewhere and computes
/// wrong values, differently from run to run, so such modules are compared
/// against the first engine instead. The smallest form:
/// `(func (param i32 v128) local.get 0 local.get 1 v128.store16_lane offset=65536 0)`
/// called with zeros in a memory of 2 pages (`tests/fuzz-regressions/wasmi-lane-store-offset.wast`).
fn has_wide_lane_store(module: &[u8]) -> bool {
    use wasmparser::{Operator, Parser, Payload};
    for payload in Parser::new(0).parse_all(module) {
        let Ok(Payload::CodeSectionEntry(body)) = payload else {
            continue;
        };
        let Ok(mut ops) = body.get_operators_reader() else {
            continue;
        };
        while !ops.eof() {
            let Ok(op) = ops.read() else {
                break;
            };
            if let Operator::V128Store8Lane { memarg, .. }
            | Operator::V128Store16Lane { memarg, .. } = op
                && memarg.offset > u64::from(u16::MAX)
            {
                return true;
            }
        }
    }
    false
}

/// Whether any function body has a `br_table` with distinct targets whose labels
/// carry a `v128`.
fn has_v128_br_table(module: &[u8]) -> bool {
    use wasmparser::{BlockType, Operator, Parser, Payload, ValType};
    let mut types = Vec::new();
    let mut funcs = Vec::new();
    let mut bodies = 0;
    for payload in Parser::new(0).parse_all(module) {
        match payload {
            Ok(Payload::TypeSection(r)) => {
                for ty in r.into_iter_err_on_gc_types() {
                    let Ok(ty) = ty else {
                        return false;
                    };
                    types.push((ty.params().to_vec(), ty.results().to_vec()));
                }
            }
            Ok(Payload::FunctionSection(r)) => funcs.extend(r.into_iter().flatten()),
            Ok(Payload::CodeSectionEntry(body)) => {
                let results = funcs
                    .get(bodies)
                    .and_then(|t| types.get(*t as usize))
                    .map(|(_, r)| r.clone())
                    .unwrap_or_default();
                bodies += 1;
                let Ok(mut ops) = body.get_operators_reader() else {
                    continue;
                };
                // The types each enclosing label carries, innermost last.
                let mut labels = vec![results];
                while !ops.eof() {
                    let Ok(op) = ops.read() else {
                        break;
                    };
                    let label = |ty: BlockType, is_loop: bool| match ty {
                        BlockType::Empty => Vec::new(),
                        BlockType::Type(t) if !is_loop => vec![t],
                        BlockType::Type(_) => Vec::new(),
                        BlockType::FuncType(i) => types
                            .get(i as usize)
                            .map(|(p, r)| if is_loop { p.clone() } else { r.clone() })
                            .unwrap_or_default(),
                    };
                    match op {
                        Operator::Block { blockty } | Operator::If { blockty } => {
                            labels.push(label(blockty, false))
                        }
                        Operator::Loop { blockty } => labels.push(label(blockty, true)),
                        Operator::End => {
                            labels.pop();
                        }
                        Operator::BrTable { targets } => {
                            let depths: Vec<u32> = targets
                                .targets()
                                .flatten()
                                .chain(std::iter::once(targets.default()))
                                .collect();
                            let carries_v128 = depths.first().is_some_and(|d| {
                                labels
                                    .len()
                                    .checked_sub(1 + *d as usize)
                                    .and_then(|i| labels.get(i))
                                    .is_some_and(|l| l.contains(&ValType::V128))
                            });
                            if carries_v128 && depths.iter().any(|d| *d != depths[0]) {
                                return true;
                            }
                        }
                        _ => {}
                    }
                }
            }
            Ok(_) => {}
            Err(_) => return false,
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
