//! What one run of a module shows, in terms every engine and the oracle share: the
//! call plan, the observation (instantiation, each call's results or trap, exported
//! globals and memories), running a plan on a composition, and comparing two
//! observations.

use std::fmt;

use arbitrary::Unstructured;
use vm::runtime::{InstantiationError, InvokeError, Linker, RunContext, TrapCode, Val};
use vm::{Composition, Settings, Vm};

/// A value as compared: floats as bits, references as null or not (handles differ
/// between stores, so only null-ness is comparable).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value {
    /// i32
    I32(i32),
    /// i64
    I64(i64),
    /// f32 bits
    F32(u32),
    /// f64 bits
    F64(u64),
    /// v128
    V128(u128),
    /// funcref: whether it is non-null
    FuncRef(bool),
    /// externref: whether it is non-null
    ExternRef(bool),
    /// exnref: whether it is non-null
    ExnRef(bool),
}

impl Value {
    /// Whether two results agree. Floats agree when their bits are equal or both
    /// are NaN: the modules are generated with NaNs canonicalized, so any NaN an
    /// engine produces is the canonical one modulo sign, and a NaN's payload is
    /// not part of the comparison.
    pub fn agrees(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::F32(a), Value::F32(b)) => {
                a == b || (f32::from_bits(*a).is_nan() && f32::from_bits(*b).is_nan())
            }
            (Value::F64(a), Value::F64(b)) => {
                a == b || (f64::from_bits(*a).is_nan() && f64::from_bits(*b).is_nan())
            }
            _ => self == other,
        }
    }

    /// The embedding API's value for an argument (references are passed as null).
    pub fn to_vm(self) -> Val {
        match self {
            Value::I32(v) => Val::I32(v),
            Value::I64(v) => Val::I64(v),
            Value::F32(v) => Val::F32(v),
            Value::F64(v) => Val::F64(v),
            Value::V128(v) => Val::V128(v),
            Value::FuncRef(_) => Val::FuncRef(None),
            Value::ExternRef(_) => Val::ExternRef(None),
            Value::ExnRef(_) => Val::ExnRef(None),
        }
    }

    /// The compared form of an embedding-API value.
    pub fn from_vm(v: Val) -> Value {
        match v {
            Val::I32(v) => Value::I32(v),
            Val::I64(v) => Value::I64(v),
            Val::F32(v) => Value::F32(v),
            Val::F64(v) => Value::F64(v),
            Val::V128(v) => Value::V128(v),
            Val::FuncRef(r) => Value::FuncRef(r.is_some()),
            Val::ExternRef(r) => Value::ExternRef(r.is_some()),
            Val::ExnRef(r) => Value::ExnRef(r.is_some()),
            // `Val` is non-exhaustive; a new kind of value shows up as a divergence
            // against the oracle rather than being silently equal.
            #[allow(unreachable_patterns)]
            _ => Value::V128(u128::MAX),
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::I32(v) => write!(f, "i32:{v}"),
            Value::I64(v) => write!(f, "i64:{v}"),
            Value::F32(b) => write!(f, "f32:{}(0x{b:08x})", f32::from_bits(*b)),
            Value::F64(b) => write!(f, "f64:{}(0x{b:016x})", f64::from_bits(*b)),
            Value::V128(v) => write!(f, "v128:0x{v:032x}"),
            Value::FuncRef(nn) => f.write_str(if *nn { "funcref" } else { "funcref:null" }),
            Value::ExternRef(nn) => f.write_str(if *nn { "externref" } else { "externref:null" }),
            Value::ExnRef(nn) => f.write_str(if *nn { "exnref" } else { "exnref:null" }),
        }
    }
}

/// A parameter type of an exported function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamType {
    /// i32
    I32,
    /// i64
    I64,
    /// f32
    F32,
    /// f64
    F64,
    /// v128
    V128,
    /// funcref (passed as null)
    FuncRef,
    /// externref (passed as null)
    ExternRef,
    /// exnref (passed as null)
    ExnRef,
}

/// One call of the plan.
#[derive(Clone, Debug)]
pub struct Call {
    /// The exported function.
    pub export: String,
    /// Its arguments.
    pub args: Vec<Value>,
}

/// What to run on an instance and what to look at afterwards, the same for every
/// engine and the oracle.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    /// Calls in order.
    pub calls: Vec<Call>,
    /// Exported globals to read at the end.
    pub globals: Vec<String>,
    /// Exported memories to read at the end.
    pub memories: Vec<String>,
}

impl Plan {
    /// The plan for `module` (a valid binary without imports): every exported
    /// function called one to three times in export order, with arguments drawn
    /// from `u` (boundary values a quarter of the time).
    ///
    /// # Errors
    /// When `module` cannot be parsed (it came from the generator, so that is a
    /// generator bug and the input is skipped).
    pub fn draw(
        module: &[u8],
        u: &mut Unstructured<'_>,
    ) -> Result<Plan, wasmparser::BinaryReaderError> {
        let mut types = Vec::new();
        let mut funcs = Vec::new();
        let mut exports = Vec::new();
        for payload in wasmparser::Parser::new(0).parse_all(module) {
            match payload? {
                wasmparser::Payload::TypeSection(r) => {
                    for ty in r.into_iter_err_on_gc_types() {
                        types.push(ty?.params().iter().map(|t| param_type(*t)).collect::<Vec<_>>());
                    }
                }
                wasmparser::Payload::ImportSection(r) => {
                    for import in r.into_imports() {
                        if let wasmparser::TypeRef::Func(t) = import?.ty {
                            funcs.push(t);
                        }
                    }
                }
                wasmparser::Payload::FunctionSection(r) => {
                    for t in r {
                        funcs.push(t?);
                    }
                }
                wasmparser::Payload::ExportSection(r) => {
                    for e in r {
                        let e = e?;
                        exports.push((e.name.to_owned(), e.kind, e.index));
                    }
                }
                _ => {}
            }
        }
        let mut plan = Plan::default();
        for (name, kind, index) in exports {
            match kind {
                wasmparser::ExternalKind::Func => {
                    let Some(params) =
                        funcs.get(index as usize).and_then(|t| types.get(*t as usize))
                    else {
                        continue;
                    };
                    let times = u.int_in_range(1..=3).unwrap_or(1);
                    for _ in 0..times {
                        let args = params.iter().map(|t| draw_value(u, *t)).collect();
                        plan.calls.push(Call { export: name.clone(), args });
                    }
                }
                wasmparser::ExternalKind::Global => plan.globals.push(name),
                wasmparser::ExternalKind::Memory => plan.memories.push(name),
                _ => {}
            }
        }
        Ok(plan)
    }
}

fn param_type(t: wasmparser::ValType) -> ParamType {
    match t {
        wasmparser::ValType::I32 => ParamType::I32,
        wasmparser::ValType::I64 => ParamType::I64,
        wasmparser::ValType::F32 => ParamType::F32,
        wasmparser::ValType::F64 => ParamType::F64,
        wasmparser::ValType::V128 => ParamType::V128,
        wasmparser::ValType::Ref(r) if r.is_func_ref() => ParamType::FuncRef,
        wasmparser::ValType::Ref(r) if r == wasmparser::RefType::EXNREF => ParamType::ExnRef,
        wasmparser::ValType::Ref(_) => ParamType::ExternRef,
    }
}

/// An argument of type `t`: a boundary value a quarter of the time, else any bits.
fn draw_value(u: &mut Unstructured<'_>, t: ParamType) -> Value {
    let special = u.ratio(1u8, 4u8).unwrap_or(false);
    match t {
        ParamType::I32 => Value::I32(if special {
            *u.choose(&[0, 1, -1, i32::MIN, i32::MAX, 0x8000, 0xffff]).unwrap_or(&0)
        } else {
            u.arbitrary().unwrap_or(0)
        }),
        ParamType::I64 => Value::I64(if special {
            *u.choose(&[0, 1, -1, i64::MIN, i64::MAX, i64::from(i32::MIN), 1 << 32]).unwrap_or(&0)
        } else {
            u.arbitrary().unwrap_or(0)
        }),
        ParamType::F32 => Value::F32(if special {
            *u.choose(&[
                0.0f32.to_bits(),
                (-0.0f32).to_bits(),
                1.0f32.to_bits(),
                f32::INFINITY.to_bits(),
                f32::NEG_INFINITY.to_bits(),
                f32::NAN.to_bits(),
                2147483648.0f32.to_bits(),
                (-2147483904.0f32).to_bits(),
                f32::MIN_POSITIVE.to_bits(),
                1,
            ])
            .unwrap_or(&0)
        } else {
            u.arbitrary().unwrap_or(0)
        }),
        ParamType::F64 => Value::F64(if special {
            *u.choose(&[
                0.0f64.to_bits(),
                (-0.0f64).to_bits(),
                1.0f64.to_bits(),
                f64::INFINITY.to_bits(),
                f64::NEG_INFINITY.to_bits(),
                f64::NAN.to_bits(),
                9223372036854775808.0f64.to_bits(),
                (-2147483649.0f64).to_bits(),
                f64::MIN_POSITIVE.to_bits(),
                1,
            ])
            .unwrap_or(&0)
        } else {
            u.arbitrary().unwrap_or(0)
        }),
        ParamType::V128 => Value::V128(u.arbitrary().unwrap_or(0)),
        ParamType::FuncRef => Value::FuncRef(false),
        ParamType::ExternRef => Value::ExternRef(false),
        ParamType::ExnRef => Value::ExnRef(false),
    }
}

/// How one call ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// It returned these results.
    Returned(Vec<Value>),
    /// It trapped with this code.
    Trapped(TrapCode),
    /// An exception no handler caught: its tag's store address and payload.
    Threw(u32, Vec<Value>),
}

impl Outcome {
    /// Whether two outcomes agree: the same trap code, or results that agree.
    pub fn agrees(&self, other: &Outcome) -> bool {
        match (self, other) {
            (Outcome::Returned(a), Outcome::Returned(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.agrees(y))
            }
            (Outcome::Trapped(a), Outcome::Trapped(b)) => a == b,
            (Outcome::Threw(t, a), Outcome::Threw(u, b)) => {
                t == u && a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.agrees(y))
            }
            _ => false,
        }
    }

    fn is_stack_exhaustion(&self) -> bool {
        matches!(self, Outcome::Trapped(TrapCode::StackOverflow))
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Returned(vals) => {
                f.write_str("returned [")?;
                for (i, v) in vals.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str("]")
            }
            Outcome::Trapped(code) => write!(f, "trapped: {}", code.message()),
            Outcome::Threw(tag, vals) => {
                write!(f, "threw tag {tag} [")?;
                for (i, v) in vals.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str("]")
            }
        }
    }
}

/// Everything one engine showed for a module and a plan.
#[derive(Clone, Debug, Default)]
pub struct Observation {
    /// The trap of instantiation (a segment initializer or the start function), if
    /// any; then nothing else was run.
    pub instantiation_trap: Option<TrapCode>,
    /// The outcome of each call of the plan, in order. Running stops after a
    /// stack-exhaustion trap (see [`compare`]).
    pub calls: Vec<Outcome>,
    /// The exported globals at the end.
    pub globals: Vec<Option<Value>>,
    /// The exported memories' bytes at the end.
    pub memories: Vec<Option<Vec<u8>>>,
    /// The store's consumed fuel after instantiation and after each call, when the
    /// engine meters fuel (empty otherwise).
    pub fuel: Vec<u64>,
}

/// An engine failed to do something the oracle did (compile or instantiate a valid
/// module, accept a call): always a finding.
#[derive(Clone, Debug)]
pub struct EngineFailure(pub String);

/// Runs `plan` on a fresh VM of composition `C`.
///
/// # Errors
/// The VM could not be built, or it rejected the module, failed to instantiate it
/// without a trap, or refused a call of the plan.
pub fn observe<C: Composition>(module: &[u8], plan: &Plan) -> Result<Observation, EngineFailure> {
    observe_with::<C>(module, plan, &Settings::new())
}

/// Runs `plan` on a fresh VM of composition `C` built with `settings` (the `fuel`
/// target sets `engine.fuel`); records the store's consumed fuel after
/// instantiation and after each call when the engine meters it.
///
/// # Errors
/// As [`observe`].
pub fn observe_with<C: Composition>(
    module: &[u8],
    plan: &Plan,
    settings: &Settings,
) -> Result<Observation, EngineFailure> {
    let fail = |what: &str, e: &dyn fmt::Display| EngineFailure(format!("{what}: {e}"));
    let vm = Vm::<C>::new(settings).map_err(|e| fail("configuring the VM", &e))?;
    let vm = vm.init().map_err(|e| fail("initializing the VM", &e))?;
    let mut vm = vm.start().map_err(|e| fail("starting the VM", &e))?;
    let module = vm.compile(module).map_err(|e| fail("compiling", &e))?;
    let mut linker = Linker::<C>::new(RunContext::default());
    let mut obs = Observation::default();
    let instance = match vm.instantiate(&module, &mut linker) {
        Ok(i) => i,
        Err(InstantiationError::Trap(t)) => {
            obs.instantiation_trap = Some(t.code);
            obs.fuel.extend(vm.fuel_consumed(&linker));
            return Ok(obs);
        }
        Err(e) => return Err(fail("instantiating", &e)),
    };
    obs.fuel.extend(vm.fuel_consumed(&linker));
    let mut args = Vec::new();
    for call in &plan.calls {
        args.clear();
        args.extend(call.args.iter().map(|a| a.to_vm()));
        let outcome = match vm.invoke(&mut linker, instance, &call.export, &args) {
            Ok(results) => Outcome::Returned(results.into_iter().map(Value::from_vm).collect()),
            Err(InvokeError::Trap(t)) => Outcome::Trapped(t.code),
            Err(InvokeError::Exception(e)) => {
                Outcome::Threw(e.tag, e.payload.into_iter().map(Value::from_vm).collect())
            }
            Err(e) => return Err(fail("calling", &e)),
        };
        let stop = outcome.is_stack_exhaustion();
        obs.calls.push(outcome);
        obs.fuel.extend(vm.fuel_consumed(&linker));
        if stop {
            return Ok(obs);
        }
    }
    obs.globals =
        plan.globals.iter().map(|g| vm.global(&linker, instance, g).map(Value::from_vm)).collect();
    obs.memories =
        plan.memories.iter().map(|m| vm.memory(&linker, instance, m).map(<[u8]>::to_vec)).collect();
    Ok(obs)
}

/// What comparing two observations found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Comparison {
    /// Everything agreed.
    Agreed,
    /// A side exhausted its call stack at call `n` and the comparison stopped
    /// there; everything before agreed.
    StackExhausted(usize),
}

/// Compares an engine's observation with the reference's.
///
/// The stack-exhaustion rule: engines size their stacks differently, so a
/// "call stack exhausted" trap on either side is not compared with the other
/// side's outcome of that call, and nothing after it is compared (the state that
/// the deeper side left behind differs legitimately). The module generator bounds
/// recursion through its termination fuel well below every engine's limit, so
/// this rule rarely applies; the fuzz loop counts how often it does.
///
/// # Errors
/// A description of the first difference.
pub fn compare(
    plan: &Plan,
    reference: &Observation,
    engine: &Observation,
) -> Result<Comparison, String> {
    if reference.instantiation_trap != engine.instantiation_trap {
        let show = |t: Option<TrapCode>| t.map_or("instantiated", |c| c.message());
        return Err(format!(
            "instantiation: reference {}, engine {}",
            show(reference.instantiation_trap),
            show(engine.instantiation_trap)
        ));
    }
    for (i, (r, e)) in reference.calls.iter().zip(&engine.calls).enumerate() {
        if r.is_stack_exhaustion() || e.is_stack_exhaustion() {
            return Ok(Comparison::StackExhausted(i));
        }
        if !r.agrees(e) {
            let call = &plan.calls[i];
            let args: Vec<String> = call.args.iter().map(ToString::to_string).collect();
            return Err(format!(
                "call #{i} `{}`({}): reference {r}, engine {e}",
                call.export,
                args.join(", ")
            ));
        }
    }
    if reference.calls.len() != engine.calls.len() {
        return Err(format!(
            "ran {} calls on the reference and {} on the engine",
            reference.calls.len(),
            engine.calls.len()
        ));
    }
    for (i, (r, e)) in reference.globals.iter().zip(&engine.globals).enumerate() {
        let same = match (r, e) {
            (Some(r), Some(e)) => r.agrees(e),
            (None, None) => true,
            _ => false,
        };
        if !same {
            return Err(format!("global `{}`: reference {r:?}, engine {e:?}", plan.globals[i]));
        }
    }
    for (i, (r, e)) in reference.memories.iter().zip(&engine.memories).enumerate() {
        if r != e {
            let detail = match (r, e) {
                (Some(r), Some(e)) if r.len() != e.len() => {
                    format!("{} bytes vs {} bytes", r.len(), e.len())
                }
                (Some(r), Some(e)) => {
                    let at = r.iter().zip(e).position(|(a, b)| a != b).unwrap_or(0);
                    format!("first difference at byte {at}: {} vs {}", r[at], e[at])
                }
                _ => "present on one side only".to_owned(),
            };
            return Err(format!("memory `{}`: {detail}", plan.memories[i]));
        }
    }
    Ok(Comparison::Agreed)
}
