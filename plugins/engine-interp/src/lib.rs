//! The `engine-interp` plugin: translates each function body once into
//! register-machine code ([`code::Op`]: operands are frame slots, constants and
//! locals are read in place, comparisons fuse with branches, `local.set` redirects
//! results) and runs it as direct-threaded code whose handlers are monomorphized
//! over the composition and tail-call one another. Calls between wasm functions
//! allocate nothing and pass arguments in place; depth and slot stack are bounded by
//! the `virt` plugin's limits and trap with "call stack exhausted".
//!
//! ## Tail calls
//!
//! `return_call` to a function of the module is [`code::Op::ReturnCall`]: the
//! argument slots move to the start of the running frame (the callee's frame
//! starts there too) and execution continues at the callee's `Enter` with no frame
//! record pushed, so the callee returns straight to the caller's caller and a
//! chain of tail calls runs in constant slot stack and call depth (the `Enter`
//! still checks the callee's frame against the stack). `return_call` of an import
//! and `return_call_indirect` resolve the funcref at run time
//! (`Exec::tail_call_ref`): a wasm callee, of any instance, replaces the frame the
//! same way (switching instance; the caller's frame record switches back on
//! return); a host function is called with its results at the arguments' slots,
//! and the return the translator emitted after the instruction returns them; when
//! it throws, the exception unwinds from the caller's caller (the frame the tail
//! call replaced is gone, so a `try_table` around a `return_call` does not catch
//! what its callee throws, as the exception-handling proposal says).
//! Ordinary calls are unchanged.
//!
//! ## Typed function references
//!
//! A typed reference is a funcref in its slot (vm-core's representation, see
//! `vm_core::runtime::types`): `call_ref` is [`code::Op::CallRef`] (null traps with
//! "null function reference", the type needs no check), `return_call_ref` is
//! [`code::Op::ReturnCallRef`] (as `return_call_indirect`), `ref.as_non_null` is
//! [`code::Op::RefAsNonNull`] ("null reference"), and `br_on_null`/`br_on_non_null`
//! are a `BrIfEqz`/`BrIfNez` on the reference's slot with the branch's moves, the
//! reference dropped on the path where the proposal drops it.
//!
//! ## simd128
//!
//! A `v128` occupies two consecutive 8-byte frame slots, low half first: the
//! translator's operand stack and the local numbering count it as two entries
//! (a local's slot is the prefix sum of the slots of the locals before it;
//! parameters, results and block arities are counted in slots), so copies at
//! joins, calls whose callee frame starts at the first argument, returns and the
//! embedding API's marshalling handle it as two scalars and the scalar code paths
//! are unchanged. The alternative, 16-byte slots for every frame, would double
//! the frame size and the copies of scalar code; measured on the scalar corpus,
//! the two-slot layout leaves it exactly as fast as before (same instructions,
//! same dispatch). SIMD instructions (`exec::simd`) read and write 16 bytes from
//! their operands' first slots; the translator never folds constants into, fuses,
//! or partially copies a `v128` other than half by half, and a `local.set` of a
//! `v128` redirects the SIMD instruction that produced it, as for scalars. Lane
//! loads and stores are a scalar access plus `replace_lane`/`extract_lane` through
//! a slot above the operands.
//!
//! The lane operations are the composition's: `<C::Simd as Simd>::Lanes`, chosen
//! when the handlers are monomorphized (portable per-lane code with
//! `simd-scalar`, SSE4.1 or AVX2 intrinsics with `simd-sse41`/`simd-avx2`),
//! never by a run-time branch per instruction. Their arguments are `u128`s and
//! scalars passed in registers: an argument passed by reference would keep a
//! handler's frame alive and stop its final call from becoming a jump.
//!
//! Relaxed SIMD computes vm-core's deterministic choices (`vm_core::runtime::simd`,
//! "Relaxed SIMD"): most relaxed operators reach the translator as their 2.0
//! operators; `relaxed_madd`/`nmadd` and the dot products are instructions of their
//! own calling the `Lanes` methods of the same names.
//!
//! ## Multi-memory
//!
//! Memory 0's base and length live in the handlers' registers (`mb`, `ml`) and its
//! operators carry no memory index, so a module with several memories runs memory
//! 0 exactly as a module with one. An operator on memory `n > 0` (a load, a store,
//! `memory.size`, `memory.fill`, `memory.init`) is translated between
//! `Op::MemSelect(n)`, which loads memory `n`'s definition from
//! `vmctx->memories` into those registers, and `Op::MemSelect(0)`, and is fused
//! with nothing; `memory.grow` and a `memory.copy` that involves another memory
//! name their memories in the instruction. The bulk semantics are vm-core's.
//!
//! ## memory64 and table64
//!
//! An operator on a 64-bit memory or table runs as its 32-bit form after
//! `Op::Clamp64` has clamped each `i64` operand (address, length, table index) to
//! `u32::MAX` in its slot (constants are clamped at translation), and a `grow`
//! result is sign-extended: vm-core's `operators::index64` lowering, exact because a
//! 64-bit memory holds less than 4 GiB (`MAX_PAGES64`). A static offset past
//! `u32::MAX` is clamped too. The 32-bit handlers, their checks and memory 0's
//! registers are unchanged.
//!
//! ## Exceptions
//!
//! `throw`, `throw_ref` and `try_table` (all four catch clauses). A `try_table`
//! costs nothing on the path that does not throw but a branch over its landing
//! pads: its clauses are a table of the module ([`code::Catch`]: a range of
//! instructions, a tag, a landing pad), and each landing pad is an
//! [`code::Op::Caught`] that copies the payload (and the `exnref`) to the slots
//! its label expects, followed by the branch there. A throw creates the exception
//! in the store (vm-core's `Store::new_exception`) and unwinds
//! ([`exec::exn`]): the first clause of the module's table covering the throwing
//! instruction whose tag matches handles it; else the frame record is popped and
//! the caller's call instruction is looked up the same way, switching instances as
//! returns do. A host function's exception (`Caller::throw`) unwinds from the call
//! instruction. An exception no frame handles ends the call with
//! `TrapCode::Exception`, which the embedding API reports as
//! `InvokeError::Exception`.
//!
//! ## GC
//!
//! With a `gc` plugin composed, every GC instruction is one [`code::Op::Gc`] over
//! consecutive slots (operands, then results, from its `base`) whose
//! [`code::GcInstr`] names the operation; the handler (`exec::gc`) calls vm-core's
//! semantics (`vm_core::runtime::gc::{ops, object}`) and allocates through the
//! store's heap. `br_on_cast`/`br_on_cast_fail` are a `ref.test` into the slot above
//! the reference and a conditional branch.
//!
//! Roots are precise (the plugin provides `roots:precise`): the translator runs
//! wasmparser's function validator in step with each body, so at a safepoint it knows
//! the type of every local and operand (only in the functions that can hold an
//! object: every function of a module that declares struct or array types or
//! `any`/`extern` references in its signatures, globals, tables or element
//! segments, otherwise those whose own locals have such a type, since every other
//! source of such a value is one of those declarations; the other functions' maps
//! are empty without a second validation). An allocation's stack map is the locals that
//! can hold an object (`anyref` or `externref` hierarchies) and the operand-stack
//! entries of those types that are in their own slot, operands included; a call's
//! map is the same without its arguments (they belong to the callee's frame). When
//! a collection runs, the running frame's slots come from the allocating
//! instruction's map and each suspended caller's from the map of the call it is in
//! (the last call before its frame record's return address). No slot outside a map
//! is ever read as a reference, so a moving collector rewrites exactly these. The
//! collectors composed so far need no write barrier; a store into an object calls the
//! heap's barrier only when `Collector::NEEDS_WRITE_BARRIER` is true (a constant:
//! no code otherwise). A host function that calls back into wasm starts a new
//! executor whose collections do not see the outer call's frames: GC modules must
//! not allocate in such nested calls while the outer frames hold the only
//! references (not yet covered).
//!
//! | config key | default | meaning |
//! |---|---|---|
//! | `fuel` | 0 | fuel every new store starts with, one unit per wasm operator (see `vm_core::runtime::limits`); 0 = unmetered and no metering code; running out traps with "out of fuel" |
//! | `timeout_ms` | 0 | wall-clock limit of one call from the host; past it the guest traps with "interrupted" at its next function entry or loop header; 0 = none and no check code |
//! | `interruptible` | `false` | emit the interruption checks without a timeout, for `Vm::interrupt_handle` |
//! | `verify` | false | check the translated code of every function before it can run (`verify`); always on in debug builds; needs the crate feature `verify` |
//!
//! | crate feature | default | what it adds |
//! |---|---|---|
//! | `verify` | on | the verifier of translated code (module `verify`, config key `verify`) and `Debug` of [`code::Op`]; a build without it is smaller, and `verify = true` is then an error naming the feature |
//!
//! It fills the `engine` slot of a composition (`engine: vm_engine_interp::Interp` in
//! `compose!`); `vm_core::guide` has a composition with it that runs.

pub mod code;
pub mod exec;
pub mod translate;
#[cfg(feature = "verify")]
pub mod verify;

#[cfg(test)]
mod testing;

use std::time::{Duration, Instant};

use vm_core::plugin::PluginStats;
use vm_core::runtime::{CompileError, ExecLimits, Features, ModuleInfo, Store, Trap, Val};
use vm_core::slot::{Engine, Virt};
use vm_core::{Composition, Plugin, PluginError};
use wasmparser::{BinaryReader, FunctionBody};

use code::{FuncCode, ModuleCode};
use exec::{ExecBuffers, Limits};
use translate::FuncTranslator;

/// Configuration of `engine-interp`.
#[derive(Debug, Clone, serde::Deserialize, vm_core::PluginConfig)]
#[serde(default, deny_unknown_fields)]
pub struct InterpConfig {
    /// Fuel every new store starts with, one unit per wasm operator (0 = unmetered).
    #[config(default = 0, range = "0..")]
    pub fuel: u64,
    /// Check the translated code of every function before it can run (always on in
    /// debug builds): a translator bug becomes a compile error, not memory corruption.
    #[config(default = false)]
    pub verify: bool,
    /// Wall-clock limit of one call from the host in milliseconds (0 = none).
    #[config(default = 0, range = "0..=86400000")]
    pub timeout_ms: u64,
    /// Emit interruption checks without a timeout (for interrupt handles).
    #[config(default = false)]
    pub interruptible: bool,
}

impl InterpConfig {
    fn limits(&self) -> ExecLimits {
        ExecLimits {
            fuel: self.fuel,
            timeout_ms: self.timeout_ms,
            interruptible: self.interruptible,
        }
    }
}

/// Debug builds verify every function whatever the configuration says (when the
/// verifier is built in).
const ALWAYS_VERIFY: bool = cfg!(all(debug_assertions, feature = "verify"));

/// The interpreter engine.
#[vm_core::plugin(id = "engine-interp", slot = engine, provides = ["engine@1.0.0", "interpreter@1.0.0", "roots:precise@1.0.0"], requires = ["virt ^1"])]
pub struct Interp {
    config: InterpConfig,
    buffers: ExecBuffers,
    functions: u64,
    compile_time: Duration,
    verified: u64,
    verify_time: Duration,
    code_bytes: u64,
    host_calls: u64,
    traps: u64,
}

impl Plugin for Interp {
    type Config = InterpConfig;

    fn new(config: InterpConfig) -> Result<Self, PluginError> {
        if config.verify && !cfg!(feature = "verify") {
            return Err(PluginError::new(
                "engine-interp",
                "`engine.verify` needs the verifier, and this build has none (built without \
                 feature `verify` of vm-engine-interp)",
            ));
        }
        Ok(Self {
            config,
            buffers: ExecBuffers::default(),
            functions: 0,
            compile_time: Duration::ZERO,
            verified: 0,
            verify_time: Duration::ZERO,
            code_bytes: 0,
            host_calls: 0,
            traps: 0,
        })
    }

    fn stats(&self) -> PluginStats {
        let mut s = PluginStats::default();
        s.functions_compiled = self.functions;
        s.compile_time = self.compile_time;
        s.code_bytes = self.code_bytes;
        s.host_calls = self.host_calls;
        s.traps = self.traps;
        s.custom.push(("functions_verified", self.verified));
        s.custom.push(("verify_time_us", self.verify_time.as_micros() as u64));
        s
    }
}

/// Checks every function of a translated module (see [`verify`]).
#[cfg(feature = "verify")]
fn verify_module(
    module: &ModuleInfo,
    ops: &[code::Op],
    funcs: &[FuncCode],
    consts: &[u64],
    v128s: &[u128],
    catches: &[code::Catch],
    gc: &[code::GcInstr],
) -> Result<(), CompileError> {
    let mut v = verify::Verifier::new(module, ops, funcs, consts.len())
        .with_v128s(v128s.len())
        .with_catches(catches)
        .with_gc(gc);
    for i in 0..funcs.len() {
        v.function(i)?;
    }
    Ok(())
}

/// Without the verifier: `Interp::new` refused `verify = true`, so this is never
/// reached; it fails rather than pass code unchecked.
#[cfg(not(feature = "verify"))]
fn verify_module(
    _: &ModuleInfo,
    _: &[code::Op],
    _: &[FuncCode],
    _: &[u64],
    _: &[u128],
    _: &[code::Catch],
    _: &[code::GcInstr],
) -> Result<(), CompileError> {
    Err(CompileError::Verify {
        func: 0,
        at: 0,
        op: "no instruction".to_owned(),
        message: "engine-interp was built without feature `verify`".to_owned(),
    })
}

impl Engine for Interp {
    const NATIVE_CODE: bool = false;
    const PROPOSALS: Features = Features::SIMD
        .union(Features::RELAXED_SIMD)
        .union(Features::EXTENDED_CONST)
        .union(Features::MULTI_MEMORY)
        .union(Features::MEMORY64)
        .union(Features::TAIL_CALL)
        .union(Features::FUNCTION_REFERENCES)
        .union(Features::EXCEPTIONS)
        .union(Features::GC);
    type Code = ModuleCode;

    fn compile(&mut self, module: &ModuleInfo) -> Result<ModuleCode, CompileError> {
        let t0 = Instant::now();
        let mut tr = FuncTranslator::new(module, self.config.limits());
        let mut funcs: Vec<FuncCode> = Vec::with_capacity(module.bodies.len());
        // Stack maps come from a validator run in step with the translator: only for
        // the functions that can hold a GC object (revalidating costs about as much as
        // decoding's validation).
        let all_maps = module.declares_gc_refs();
        let mut validators: Option<Vec<Option<_>>> = None;
        for (i, body) in module.bodies.iter().enumerate() {
            let bytes = module
                .bytes
                .get(body.range.clone())
                .ok_or(CompileError::Limit("function body range"))?;
            let fb = FunctionBody::new(BinaryReader::new(bytes, body.range.start as u64));
            if all_maps || vm_core::runtime::module::body_declares_gc_refs(&fb)? {
                if validators.is_none() {
                    validators = Some(module.func_validators()?.into_iter().map(Some).collect());
                }
                if let Some(v) =
                    validators.as_mut().and_then(|v| v.get_mut(i)).and_then(Option::take)
                {
                    tr.set_validator(v);
                }
            }
            funcs.push(tr.translate(module.num_imported_funcs + i as u32, &fb)?);
        }
        let v128s = tr.take_v128s();
        let catches = tr.take_catches();
        let (gc, call_maps) = tr.take_gc();
        let (mut ops, consts) = tr.finish();
        code::link_calls(&mut ops, &funcs);
        if ALWAYS_VERIFY || self.config.verify {
            let t1 = Instant::now();
            verify_module(module, &ops, &funcs, &consts, &v128s, &catches, &gc)?;
            self.verified += funcs.len() as u64;
            self.verify_time += t1.elapsed();
        }
        self.functions += funcs.len() as u64;
        self.code_bytes += (ops.len() * core::mem::size_of::<code::Op>()) as u64;
        self.compile_time += t0.elapsed();
        Ok(ModuleCode {
            ops: ops.into(),
            funcs: funcs.into(),
            consts: consts.into(),
            v128s: v128s.into(),
            num_imported_funcs: module.num_imported_funcs,
            catches: catches.into(),
            gc: gc.into(),
            call_maps: call_maps.into(),
            threaded: Default::default(),
        })
    }

    fn exec_limits(&self) -> ExecLimits {
        self.config.limits()
    }

    fn call<C: Composition<Engine = Self>>(
        plugins: &mut C,
        store: &mut Store<C>,
        func: u32,
        args: &[Val],
        results: &mut Vec<Val>,
    ) -> Result<(), Trap> {
        let max_depth = plugins.virt().max_call_depth() as usize;
        let slots = plugins.virt().max_stack_slots();
        let engine = plugins.engine_mut();
        let mut buf = std::mem::take(&mut engine.buffers);
        if buf.stack.len() != slots {
            buf.stack = vec![0; slots];
        }
        let mut limits = Limits { max_depth, fuel: store.fuel_counter(), host_calls: 0 };
        let r = exec::call::<C>(plugins, store, &mut buf, &mut limits, func, args, results);
        store.set_fuel_counter(limits.fuel);
        let engine = plugins.engine_mut();
        engine.buffers = buf;
        engine.host_calls += limits.host_calls;
        if r.is_err() {
            engine.traps += 1;
        }
        r
    }
}
