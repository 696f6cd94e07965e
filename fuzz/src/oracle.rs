//! The oracle: the same module and plan on `wasmi`, a peer interpreter used here as
//! a test oracle only, run in a child process of its own (see [`observe`]).

mod wire;

use std::cell::Cell;
use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, Once, PoisonError};
use std::time::Duration;

use vm::runtime::{Features, TrapCode};
use wasmi::{CompilationMode, Config, Engine, Extern, Linker, Module, Store, Val};

use crate::isolate::{Died, Worker};
use crate::observe::{Observation, Outcome, Plan, Value};

/// The proposals beyond 2.0 the oracle judges: those wasmi 2.0 runs as built here
/// (its `simd` cargo feature, and the configuration in `run`). Not memory64: that
/// takes wasmi's `memory64` cargo feature, which widens the offsets of its
/// instructions and changes how its lane-store bug shows (see
/// `tests::a_fault_of_wasmi_skips_the_module`); not exceptions, relaxed SIMD or GC,
/// which wasmi 2.0 does not run.
pub const FEATURES: Features = Features::SIMD
    .union(Features::EXTENDED_CONST)
    .union(Features::MULTI_MEMORY)
    .union(Features::TAIL_CALL);

/// Why the oracle could not judge a module, and the detail; the input is skipped,
/// not a finding.
#[derive(Clone, Debug)]
pub struct Skip(pub Why, pub String);

/// Why the oracle could not judge a module (its `Display` is what the loop counts).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Why {
    /// wasmi rejected the module.
    Rejected,
    /// wasmi panicked.
    Panicked,
    /// wasmi's instance lacks an export the plan calls.
    NoExport,
    /// wasmi failed with an error that is not a WebAssembly trap.
    FailedWithoutTrap,
    /// wasmi hit a resource limit of its own.
    ResourceLimit,
    /// The process running wasmi died (a fault or an abort) or answered garbage.
    Crashed,
    /// The process running wasmi ran longer than the oracle's timeout.
    Hung,
    /// No process could be started to run wasmi.
    NotStarted,
}

impl Why {
    /// Every reason, in the order of their discriminants.
    pub const ALL: [Why; 8] = [
        Why::Rejected,
        Why::Panicked,
        Why::NoExport,
        Why::FailedWithoutTrap,
        Why::ResourceLimit,
        Why::Crashed,
        Why::Hung,
        Why::NotStarted,
    ];
}

impl fmt::Display for Why {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Why::Rejected => "oracle rejected",
            Why::Panicked => "oracle panicked",
            Why::NoExport => "oracle has no export",
            Why::FailedWithoutTrap => "oracle failed without a trap",
            Why::ResourceLimit => "oracle hit a resource limit",
            Why::Crashed => "oracle crashed",
            Why::Hung => "oracle hung",
            Why::NotStarted => "oracle could not be started",
        })
    }
}

/// How long the oracle may run one module, in milliseconds (see [`set_timeout`]).
static TIMEOUT_MS: AtomicU64 = AtomicU64::new(10_000);

/// Sets how long the oracle may run one module before it counts as hung (default
/// 10 s). The seeded loop sets half its own per-input timeout, so that a hang of
/// the oracle skips the input before the loop's watchdog would abort.
pub fn set_timeout(timeout: Duration) {
    let ms = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX).max(1);
    TIMEOUT_MS.store(ms, Ordering::Relaxed);
}

thread_local! {
    /// Set while wasmi runs, so the libFuzzer panic hook lets its panics unwind.
    static IN_ORACLE: Cell<bool> = const { Cell::new(false) };
}

/// Whether the current thread is inside the oracle (for a panic hook).
pub fn in_oracle() -> bool {
    IN_ORACLE.with(Cell::get)
}

/// Wraps the current panic hook so that it does not see the oracle's panics: they
/// unwind silently to [`observe`]'s `catch_unwind` (under libFuzzer, whose hook
/// aborts, and in the seeded loop, where the report would be noise). Installed once;
/// call it after any other hook is set.
pub fn pass_oracle_panics() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !in_oracle() {
                previous(info);
            }
        }));
    });
}

/// The child process wasmi runs in, shared by every thread of this process.
static WORKER: Mutex<Worker> = Mutex::new(Worker::new(serve));

/// Runs `plan` on wasmi in a child process, which answers the observation
/// through a socket.
///
/// wasmi 2.0 fails in ways that would take the fuzz loop with it: it jumps to
/// address 0x2 on some simd modules (seed 20261207, input 11,349 of the `diff`
/// loop), a fault no handler can recover from in process. A child that dies, or
/// runs longer than the timeout ([`set_timeout`]), skips the input (it says
/// nothing about our engines), and the next module gets a new child.
///
/// # Errors
/// As [`observe_in_process`], and: the child crashed, hung or could not be
/// started.
pub fn observe(module: &[u8], plan: &Plan) -> Result<Observation, Skip> {
    let timeout = Duration::from_millis(TIMEOUT_MS.load(Ordering::Relaxed));
    let request = wire::encode_request(module, plan);
    let answer = WORKER.lock().unwrap_or_else(PoisonError::into_inner).call(&request, timeout);
    match answer {
        Ok(bytes) => wire::decode(&bytes)
            .unwrap_or_else(|| Err(Skip(Why::Crashed, "an unreadable answer".to_owned()))),
        Err(died @ Died::Hung(_)) => Err(Skip(Why::Hung, died.to_string())),
        Err(died @ Died::Io(_)) => Err(Skip(Why::NotStarted, died.to_string())),
        Err(died) => Err(Skip(Why::Crashed, died.to_string())),
    }
}

/// The child's job: a request in, the encoded answer out.
fn serve(request: &[u8]) -> Vec<u8> {
    let answer = match wire::decode_request(request) {
        Some((module, plan)) => observe_in_process(module, &plan),
        None => Err(Skip(Why::Crashed, "an unreadable request".to_owned())),
    };
    wire::encode(&answer)
}

/// Runs `plan` on wasmi in this process: what [`observe`]'s child runs.
///
/// wasmi 2.0 panics in its translator on some valid modules (seed 1, input 101944
/// of the `diff` loop: `unreachable` in `translator/func/mod.rs`); a panic of the
/// oracle skips the input, since it says nothing about our engines.
///
/// # Errors
/// wasmi rejected the module, panicked, or failed in a way that is not a
/// WebAssembly trap (a resource limit of its own).
pub fn observe_in_process(module: &[u8], plan: &Plan) -> Result<Observation, Skip> {
    IN_ORACLE.with(|f| f.set(true));
    let result = panic::catch_unwind(AssertUnwindSafe(|| run(module, plan)));
    IN_ORACLE.with(|f| f.set(false));
    result.unwrap_or_else(|_| Err(Skip(Why::Panicked, String::new())))
}

fn run(module: &[u8], plan: &Plan) -> Result<Observation, Skip> {
    let mut config = Config::default();
    config
        .wasm_multi_value(true)
        .wasm_bulk_memory(true)
        .wasm_reference_types(true)
        .wasm_sign_extension(true)
        .wasm_saturating_float_to_int(true)
        .wasm_mutable_global(true)
        .wasm_multi_memory(true)
        .wasm_tail_call(true)
        .wasm_extended_const(true)
        .wasm_custom_page_sizes(false)
        .wasm_wide_arithmetic(false)
        .wasm_simd(true)
        .wasm_relaxed_simd(false)
        // Deep enough that the generator's termination fuel, not this limit, bounds
        // recursion.
        .set_max_recursion_depth(20_000)
        .compilation_mode(CompilationMode::Eager);
    let engine = Engine::new(&config);
    let module = Module::new(&engine, module).map_err(|e| Skip(Why::Rejected, e.to_string()))?;
    let mut store = Store::new(&engine, ());
    let linker = Linker::<()>::new(&engine);
    let mut obs = Observation::default();
    let instance = match linker.instantiate_and_start(&mut store, &module) {
        Ok(i) => i,
        Err(e) => {
            obs.instantiation_trap = Some(trap_code(&e)?);
            return Ok(obs);
        }
    };
    let mut args = Vec::new();
    let mut results = Vec::new();
    for call in &plan.calls {
        let Some(func) = instance.get_func(&store, &call.export) else {
            return Err(Skip(Why::NoExport, call.export.clone()));
        };
        args.clear();
        args.extend(call.args.iter().map(|a| to_wasmi(*a)));
        results.clear();
        results.extend(func.ty(&store).results().iter().map(|t| Val::default_for_ty(*t)));
        let outcome = match func.call(&mut store, &args, &mut results) {
            Ok(()) => Outcome::Returned(results.iter().map(from_wasmi).collect()),
            Err(e) => Outcome::Trapped(trap_code(&e)?),
        };
        let stop = outcome == Outcome::Trapped(TrapCode::StackOverflow);
        obs.calls.push(outcome);
        if stop {
            return Ok(obs);
        }
    }
    obs.globals = plan
        .globals
        .iter()
        .map(|g| match instance.get_export(&store, g) {
            Some(Extern::Global(g)) => Some(from_wasmi(&g.get(&store))),
            _ => None,
        })
        .collect();
    obs.memories = plan
        .memories
        .iter()
        .map(|m| match instance.get_export(&store, m) {
            Some(Extern::Memory(m)) => Some(m.data(&store).to_vec()),
            _ => None,
        })
        .collect();
    Ok(obs)
}

/// wasmi's trap code in our terms; a failure that is not a WebAssembly trap skips
/// the input.
fn trap_code(e: &wasmi::Error) -> Result<TrapCode, Skip> {
    use wasmi::TrapCode as W;
    let Some(code) = e.as_trap_code() else {
        return Err(Skip(Why::FailedWithoutTrap, e.to_string()));
    };
    Ok(match code {
        W::UnreachableCodeReached => TrapCode::Unreachable,
        W::MemoryOutOfBounds => TrapCode::MemoryOutOfBounds,
        W::TableOutOfBounds => TrapCode::TableOutOfBounds,
        W::IndirectCallToNull => TrapCode::IndirectCallToNull,
        W::IntegerDivisionByZero => TrapCode::IntegerDivisionByZero,
        W::IntegerOverflow => TrapCode::IntegerOverflow,
        W::BadConversionToInteger => TrapCode::BadConversionToInteger,
        W::StackOverflow => TrapCode::StackOverflow,
        W::BadSignature => TrapCode::BadSignature,
        W::OutOfFuel => TrapCode::OutOfFuel,
        W::GrowthOperationLimited | W::OutOfSystemMemory => {
            return Err(Skip(Why::ResourceLimit, e.to_string()));
        }
    })
}

fn to_wasmi(v: Value) -> Val {
    match v {
        Value::I32(v) => Val::I32(v),
        Value::I64(v) => Val::I64(v),
        Value::F32(b) => Val::F32(wasmi::F32::from_bits(b)),
        Value::F64(b) => Val::F64(wasmi::F64::from_bits(b)),
        Value::V128(v) => Val::V128(wasmi::V128::from(v)),
        Value::FuncRef(_) => Val::default_for_ty(wasmi::ValType::FuncRef),
        Value::ExternRef(_) | Value::ExnRef(_) => Val::default_for_ty(wasmi::ValType::ExternRef),
    }
}

fn from_wasmi(v: &Val) -> Value {
    match v {
        Val::I32(v) => Value::I32(*v),
        Val::I64(v) => Value::I64(*v),
        Val::F32(v) => Value::F32(v.to_bits()),
        Val::F64(v) => Value::F64(v.to_bits()),
        Val::FuncRef(r) => Value::FuncRef(!r.is_null()),
        Val::ExternRef(r) => Value::ExternRef(!r.is_null()),
        Val::V128(v) => Value::V128(v.as_u128()),
    }
}

#[cfg(test)]
mod tests;
