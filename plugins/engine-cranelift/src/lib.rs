//! The `engine-cranelift` plugin: compiles every function of a module to native code
//! with Cranelift when the module is compiled, and runs it directly.
//!
//! - [`translate`] turns wasm operators into Cranelift IR; every layout-dependent
//!   access goes through [`env`](mod@env), which reads `vm_core::runtime::offsets`.
//! - [`code`] holds a module's machine code in pages that are never writable and
//!   executable at once, with its trap sites and source locations.
//! - Traps: with the `virt` plugin's guard pages, in-bounds memory accesses carry no
//!   check and an out-of-bounds access faults; division, conversion, `unreachable`,
//!   table and signature checks trap with recorded trap codes; function prologues
//!   compare the stack pointer against the `virt` plugin's stack limit. The engine
//!   never installs a handler or enters code itself: it describes each module's
//!   code as a `vm_core::runtime::native::CodeMap` (trap sites, function ranges,
//!   wasm offsets), hands the host functions its code calls (runtime functions,
//!   host calls, math helpers) to `Virt::link_libcalls` and calls the addresses it
//!   gets back, and runs a call with `Virt::enter` through its entry trampoline.
//!   The `virt` plugin turns faults at trap sites into [`Trap`] values with a wasm
//!   backtrace; the host process survives. It needs a `virt` plugin with
//!   `Virt::NATIVE_CODE` (a build with another one fails to compile).
//! - Tail calls: every wasm function (and the host-call trampolines that stand in
//!   for host functions) uses Cranelift's `tail` calling convention (System V's
//!   registers, callee-saved ones included; the callee pops its stack arguments),
//!   so `return_call` and `return_call_indirect` lower to Cranelift's
//!   `return_call`/`return_call_indirect`, which replace the caller's frame even
//!   when the callee takes more stack arguments: constant stack space, through
//!   imports and other instances too. The entry trampolines stay System V (the
//!   `virt` plugin calls them) and call wasm code like any caller; ordinary calls
//!   are unchanged. A tail call inside a `try_table` is a plain `return_call`, never
//!   a `try_call`: the caller's frame and its handlers are gone, so what the callee
//!   throws is not caught there (as the exception-handling proposal says). On an
//!   exceptional edge Cranelift treats every register as clobbered after a call of
//!   a `tail` function, so landing pads need no callee-saved register from the
//!   unwinder there; it still restores them for the frames it passes.
//! - Typed function references are funcref pointers like `funcref` (vm-core's
//!   representation): `call_ref`/`return_call_ref` trap on null and call through
//!   the funcref's code with the type's signature (no check: validation proved it),
//!   `ref.as_non_null` is a `trapz`, `br_on_null`/`br_on_non_null` a `brif` on the
//!   reference.
//! - Multi-memory: memory 0 keeps its scheme (with guard pages, no check and a
//!   base the optimizer may hoist); an access to memory `n > 0` loads its
//!   definition from `vmctx->memories[n]` and checks its bounds explicitly
//!   ([`env::FuncEnv::heap_addr`]); bulk operators pass the memory indexes to
//!   vm-core's runtime functions.
//! - memory64 and table64: vm-core's `operators::index64` lowering: each `i64`
//!   operand is clamped to `u32::MAX` (`umin`) and narrowed to `i32`, the 32-bit
//!   operator runs unchanged (guard pages cover a clamped address: a 64-bit memory
//!   holds less than 4 GiB), static offsets past `u32::MAX` are clamped, and
//!   `grow`/`size` results are sign-/zero-extended.
//! - Exceptions (`throw`, `throw_ref`, `try_table`): zero cost on the path that does
//!   not throw. Every call inside a `try_table` is a Cranelift `try_call` whose
//!   exceptional edge goes to the `try_table`'s landing block, which matches the
//!   clauses in order (runtime function `exn_is`), loads the payload
//!   (`exn_payload`) and branches to the clause's label, or throws the exception on
//!   to the enclosing handler. A throw calls the module's throw stub
//!   (`vm_core::runtime::native::exn::throw_stub`, appended to the module's code),
//!   itself a `try_call` inside a `try_table`. vm-core finds the handler by walking
//!   the frame-pointer chain: each handled call site is in the module's `CodeMap`
//!   with its landing pad and frame size (Cranelift's call-site records), each
//!   function and trampoline with the callee-saved registers its prologue saves
//!   (Cranelift's unwind info, which is why `unwind_info` is on: it changes no
//!   code), so the registers the handler's frame expects are restored on the way.
//!   The host-call trampoline throws a host function's exception on. Under
//!   `virt-kvm` the walk runs on the host side of the runtime call, over the guest
//!   stack mapped at the same addresses, and the stub continues in the guest.
//! - Wasm-call observer events cost nothing unless an observer of the composition
//!   subscribes; then each call first reports its callee.
//! - simd128: every operator of the WebAssembly 2.0 SIMD proposal and of relaxed
//!   SIMD (computing vm-core's deterministic choices, `vm_core::runtime::simd`); v128 values travel in locals, parameters, results, globals,
//!   blocks, `select`, direct, indirect and host calls. Each simd operator costs one
//!   fuel unit, like every other operator. The composition's `simd` plugin picks the
//!   x86-64 instruction-set flags the code is generated with, read at compile time
//!   in `Engine::compile_for` (each ISA is built once, on first use):
//!
//! | `simd` plugin | code uses | what changes |
//! |---|---|---|
//! | none | every extension the host has | no v128 code (simd128 modules are rejected) |
//! | `simd-scalar` | x86-64 baseline (SSE2) | v128 lowers to SSE2 sequences; `pshufb`-based operators (swizzle, some shuffles, popcnt) and vector rounding call runtime routines; scalar code loses POPCNT/LZCNT/BMI too |
//! | `simd-sse41` | up to SSE4.2 and POPCNT (x86-64-v2), no AVX | one instruction for most operators, legacy (non-VEX) encodings |
//! | `simd-avx2` | also AVX, AVX2, FMA, BMI1/2, LZCNT (x86-64-v3), no AVX-512 | VEX three-operand encodings, fewer register copies |
//!
//! A flag is only ever set when the host CPU has it (see [`isa::level_flags`]).
//!
//! | config key | default | meaning |
//! |---|---|---|
//! | `opt_level` | `speed` | `none`, `speed` or `speed_and_size` |
//! | `verifier` | `false` | run Cranelift's IR verifier on every function |
//! | `fuel` | 0 | fuel every new store starts with, one unit per wasm operator (see `vm_core::runtime::limits`); 0 = unmetered, and no metering code is emitted |
//! | `timeout_ms` | 0 | wall-clock limit of one call from the host; past it the guest traps with "interrupted" at its next function entry or loop header; 0 = none, and no check code is emitted |
//! | `interruptible` | `false` | emit the interruption checks without a timeout, for `Vm::interrupt_handle` |

pub mod code;
pub mod env;
pub mod isa;
mod libcalls;
mod trampoline;
pub mod translate;

use std::ops::Range;
use std::time::{Duration, Instant};

use cranelift_codegen::binemit::Reloc;
use cranelift_codegen::control::ControlPlane;
use cranelift_codegen::ir::{self, ExternalName, LibCall, UserFuncName};
use cranelift_codegen::isa::OwnedTargetIsa;
use cranelift_codegen::isa::unwind::UnwindInst;
use cranelift_codegen::{Context, FinalizedMachExceptionHandler, FinalizedRelocTarget};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use vm_core::plugin::PluginStats;
use vm_core::runtime::artifact::{self, CodeImage, RelocKind, RelocTarget};
use vm_core::runtime::native::{
    self, CallState, CodeMap, HandlerSite, NativeEngine, TrapKind, TrapSite,
};
use vm_core::runtime::{
    CompileError, ExecLimits, Features, ModuleInfo, Store, Trap, TrapCode, Val,
};
use vm_core::slot::{Engine, EventKind, Simd, SimdLevel, Virt};
use vm_core::{Composition, Plugin, PluginError};
use wasmparser::{BinaryReader, FunctionBody};

use code::{CodeMemory, ModuleCode};
use env::{FuncEnv, NUM_LIBCALLS, trap};
use libcalls::NUM_HELPERS;
use translate::FuncTranslator;

/// Cranelift's optimization level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OptLevel {
    /// No optimization (fastest compile).
    None,
    /// Optimize for speed.
    Speed,
    /// Optimize for speed and size.
    SpeedAndSize,
}

impl OptLevel {
    fn as_str(self) -> &'static str {
        match self {
            OptLevel::None => "none",
            OptLevel::Speed => "speed",
            OptLevel::SpeedAndSize => "speed_and_size",
        }
    }
}

/// Configuration of `engine-cranelift`.
#[derive(Debug, Clone, serde::Deserialize, vm_core::PluginConfig)]
#[serde(default, deny_unknown_fields)]
pub struct CraneliftConfig {
    /// Optimization level: `none`, `speed` or `speed_and_size`.
    #[config(default = OptLevel::Speed, default_text = "speed")]
    pub opt_level: OptLevel,
    /// Run Cranelift's IR verifier on every function.
    #[config(default = false)]
    pub verifier: bool,
    /// Fuel every new store starts with, one unit per wasm operator (0 = unmetered).
    #[config(default = 0, range = "0..")]
    pub fuel: u64,
    /// Wall-clock limit of one call from the host in milliseconds (0 = none).
    #[config(default = 0, range = "0..=86400000")]
    pub timeout_ms: u64,
    /// Emit interruption checks without a timeout (for interrupt handles).
    #[config(default = false)]
    pub interruptible: bool,
}

impl CraneliftConfig {
    /// The execution limits this configuration compiles in.
    pub fn limits(&self) -> ExecLimits {
        ExecLimits {
            fuel: self.fuel,
            timeout_ms: self.timeout_ms,
            interruptible: self.interruptible,
        }
    }
}

/// The Cranelift JIT engine.
#[vm_core::plugin(id = "engine-cranelift", slot = engine, provides = ["engine@1.0.0", "native-code@1.0.0"], requires = ["virt ^1"])]
pub struct Cranelift {
    config: CraneliftConfig,
    /// The ISAs built so far, by `isa::slot` (the host's is built by `new`).
    isas: isa::IsaCache,
    /// The runtime functions and math helpers as the `virt` plugin linked them
    /// (see [`libcalls`]), once per engine.
    libcalls: Option<Box<[usize]>>,
    /// The state of calls from the host, kept between calls (it is large).
    call_state: Option<Box<CallState>>,
    functions: u64,
    compile_time: Duration,
    code_bytes: u64,
    host_calls: u64,
    traps: u64,
}

impl Plugin for Cranelift {
    type Config = CraneliftConfig;

    fn new(config: CraneliftConfig) -> Result<Self, PluginError> {
        let native =
            isa::build(&config, None).map_err(|e| PluginError::new("engine-cranelift", e))?;
        Ok(Self {
            config,
            isas: [Some(native), None, None, None],
            libcalls: None,
            call_state: None,
            functions: 0,
            compile_time: Duration::ZERO,
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
        s
    }
}

/// Where a relocation points.
enum Target {
    /// A function of the module (module index space).
    Func(u32),
    /// An offset in the module's code.
    Code(u32),
    /// A math routine.
    Lib(LibCall),
    /// The module's throw stub.
    ThrowStub,
}

struct PendingReloc {
    at: u32,
    kind: Reloc,
    target: Target,
    addend: i64,
}

/// What a trap site of generated code means. Every code the translator and
/// Cranelift emit has its own arm; any other code is a compile error, never a
/// silent "unreachable".
fn trap_kind(c: ir::TrapCode) -> Result<TrapKind, CompileError> {
    let w = TrapKind::Wasm;
    Ok(match c {
        ir::TrapCode::STACK_OVERFLOW => w(TrapCode::StackOverflow),
        ir::TrapCode::INTEGER_OVERFLOW => w(TrapCode::IntegerOverflow),
        ir::TrapCode::HEAP_OUT_OF_BOUNDS => w(TrapCode::MemoryOutOfBounds),
        ir::TrapCode::INTEGER_DIVISION_BY_ZERO => w(TrapCode::IntegerDivisionByZero),
        ir::TrapCode::BAD_CONVERSION_TO_INTEGER => w(TrapCode::BadConversionToInteger),
        trap::UNREACHABLE => w(TrapCode::Unreachable),
        trap::TABLE_OUT_OF_BOUNDS => w(TrapCode::TableOutOfBounds),
        trap::INDIRECT_CALL_TO_NULL => w(TrapCode::IndirectCallToNull),
        trap::BAD_SIGNATURE => w(TrapCode::BadSignature),
        trap::OUT_OF_FUEL => w(TrapCode::OutOfFuel),
        trap::INTERRUPTED => w(TrapCode::Interrupted),
        trap::NULL_REFERENCE => w(TrapCode::NullReference),
        trap::NULL_FUNCTION_REFERENCE => w(TrapCode::NullFunctionReference),
        trap::PENDING => TrapKind::Pending,
        other => {
            return Err(CompileError::Body {
                offset: 0,
                message: format!("cranelift: trap code {other} has no wasm meaning"),
            });
        }
    })
}

/// Threads to compile with (at most 4, at least 1).
fn compile_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get()).min(4)
}

/// Splits the function bodies into at most `n` contiguous ranges of similar byte size
/// (one range when the module is small).
fn chunks(module: &ModuleInfo, n: usize) -> Vec<Range<usize>> {
    let total: usize = module.bodies.iter().map(|b| b.range.len()).sum();
    if n <= 1 || module.bodies.len() < 8 || total < 16 * 1024 {
        return std::iter::once(0..module.bodies.len()).collect();
    }
    let per = total.div_ceil(n);
    let mut out = Vec::with_capacity(n);
    let (mut start, mut acc) = (0, 0);
    for (i, b) in module.bodies.iter().enumerate() {
        acc += b.range.len();
        if acc >= per && out.len() + 1 < n {
            out.push(start..i + 1);
            start = i + 1;
            acc = 0;
        }
    }
    if start < module.bodies.len() {
        out.push(start..module.bodies.len());
    }
    out
}

/// The Cranelift IR and the machine code (as text) of defined function `index` of
/// `module`, as this engine compiles it with `config` for a composition whose `simd`
/// plugin has `level` (`None`: no `simd` plugin), for inspecting code quality.
///
/// # Errors
/// The ISA cannot be built or the function does not compile.
pub fn disassemble(
    config: &CraneliftConfig,
    level: Option<SimdLevel>,
    module: &ModuleInfo,
    index: u32,
    guard_pages: bool,
) -> Result<String, CompileError> {
    let isa =
        isa::build(config, level).map_err(|e| CompileError::Body { offset: 0, message: e })?;
    let i = index.checked_sub(module.num_imported_funcs).ok_or(CompileError::Limit("imported"))?;
    let body = module.bodies.get(i as usize).ok_or(CompileError::Limit("no such function"))?;
    let ty = module.func_type(index).ok_or(CompileError::Limit("function type"))?;
    let bytes =
        module.bytes.get(body.range.clone()).ok_or(CompileError::Limit("function body range"))?;
    let fb = FunctionBody::new(BinaryReader::new(bytes, body.range.start as u64));
    let mut env = FuncEnv::new(module, guard_pages, config.limits(), false);
    let mut ctx = Context::new();
    let mut fctx = FunctionBuilderContext::new();
    ctx.func.signature = env::wasm_signature(ty);
    ctx.func.name = UserFuncName::user(0, index);
    FuncTranslator::translate(
        &mut env,
        FunctionBuilder::new(&mut ctx.func, &mut fctx),
        ty,
        &fb,
        isa.frontend_config(),
    )?;
    let clif = ctx.func.display().to_string();
    ctx.set_disasm(true);
    ctx.compile(&*isa, &mut ControlPlane::default()).map_err(|e| CompileError::Body {
        offset: 0,
        message: format!("cranelift: {:?}", e.inner),
    })?;
    let asm = ctx.compiled_code().and_then(|c| c.vcode.clone()).unwrap_or_default();
    Ok(format!("{clif}\n{asm}"))
}

/// A chunk's code and the code range of each of its functions.
type Chunk = (Assembler, Vec<Range<u32>>);

/// Compiles the defined functions `range` (indices into `module.bodies`).
fn compile_chunk(
    isa: &OwnedTargetIsa,
    module: &ModuleInfo,
    (guard_pages, limits, call_events, inline_bulk): (bool, ExecLimits, bool, bool),
    range: Range<usize>,
) -> Result<Chunk, CompileError> {
    let cfg = isa.frontend_config();
    let mut env = FuncEnv::new(module, guard_pages, limits, call_events);
    env.inline_bulk_memory = inline_bulk;
    let mut ctx = Context::new();
    let mut fctx = FunctionBuilderContext::new();
    let mut asm = Assembler::new();
    let mut funcs = Vec::with_capacity(range.len());
    for i in range {
        let body = &module.bodies[i];
        let index = module.num_imported_funcs + i as u32;
        let ty = module.func_type(index).ok_or(CompileError::Limit("function type"))?;
        let bytes = module
            .bytes
            .get(body.range.clone())
            .ok_or(CompileError::Limit("function body range"))?;
        let fb = FunctionBody::new(BinaryReader::new(bytes, body.range.start as u64));
        ctx.clear();
        ctx.func.signature = env::wasm_signature(ty);
        ctx.func.name = UserFuncName::user(0, index);
        env.reset();
        let b = FunctionBuilder::new(&mut ctx.func, &mut fctx);
        FuncTranslator::translate(&mut env, b, ty, &fb, cfg)?;
        funcs.push(asm.add(&mut ctx, isa, body.range.start as u64)?);
    }
    Ok((asm, funcs))
}

/// Accumulates the machine code of one module.
struct Assembler {
    bytes: Vec<u8>,
    relocs: Vec<PendingReloc>,
    traps: Vec<TrapSite>,
    srclocs: Vec<(u32, u32)>,
    /// Call sites with an exception handler.
    handlers: Vec<HandlerSite>,
    /// The callee-saved registers each piece of code saves (see
    /// `CodeMap::with_exceptions`).
    saves: Vec<(Range<u32>, native::RegSaves)>,
}

impl Assembler {
    fn new() -> Self {
        Self {
            bytes: Vec::new(),
            relocs: Vec::new(),
            traps: Vec::new(),
            srclocs: Vec::new(),
            handlers: Vec::new(),
            saves: Vec::new(),
        }
    }

    /// Appends the module's throw stub (see `vm_core::runtime::native::exn::throw_stub`);
    /// returns its offset.
    fn add_throw_stub(&mut self) -> u32 {
        self.align();
        let start = self.bytes.len() as u32;
        let (code, trap_at) = native::exn::throw_stub();
        self.bytes.extend_from_slice(&code);
        self.traps.push(TrapSite { offset: start + trap_at, kind: TrapKind::Pending });
        start
    }

    fn align(&mut self) {
        while !self.bytes.len().is_multiple_of(16) {
            self.bytes.push(0xcc);
        }
    }

    /// Appends another assembler's code; returns the offset it starts at.
    fn append(&mut self, other: Assembler) -> u32 {
        self.align();
        let shift = self.bytes.len() as u32;
        self.bytes.extend_from_slice(&other.bytes);
        self.relocs.extend(other.relocs.into_iter().map(|mut r| {
            r.at += shift;
            if let Target::Code(off) = &mut r.target {
                *off += shift;
            }
            r
        }));
        self.traps
            .extend(other.traps.into_iter().map(|t| TrapSite { offset: t.offset + shift, ..t }));
        self.srclocs.extend(other.srclocs.into_iter().map(|(c, w)| (c + shift, w)));
        self.handlers.extend(other.handlers.into_iter().map(|h| HandlerSite {
            ret: h.ret + shift,
            landing: h.landing + shift,
            ..h
        }));
        self.saves
            .extend(other.saves.into_iter().map(|(r, s)| (r.start + shift..r.end + shift, s)));
        shift
    }

    /// Compiles `ctx.func` and appends it; returns its offset range.
    fn add(
        &mut self,
        ctx: &mut Context,
        isa: &OwnedTargetIsa,
        offset: u64,
    ) -> Result<Range<u32>, CompileError> {
        ctx.compile(&**isa, &mut ControlPlane::default()).map_err(|e| CompileError::Body {
            offset,
            message: format!("cranelift: {:?}", e.inner),
        })?;
        let compiled = ctx.compiled_code().ok_or(CompileError::Limit("cranelift: no code"))?;
        self.align();
        let start = self.bytes.len() as u32;
        self.bytes.extend_from_slice(compiled.code_buffer());
        let buf = &compiled.buffer;
        for r in buf.relocs() {
            let target = match &r.target {
                FinalizedRelocTarget::ExternalName(ExternalName::User(n)) => {
                    let name = &ctx.func.params.user_named_funcs()[*n];
                    if name.namespace == env::THROW_STUB_NAMESPACE {
                        Target::ThrowStub
                    } else {
                        Target::Func(name.index)
                    }
                }
                FinalizedRelocTarget::ExternalName(ExternalName::LibCall(lc)) => Target::Lib(*lc),
                FinalizedRelocTarget::Func(off) => Target::Code(start + off),
                _ => return Err(CompileError::Limit("cranelift: unsupported relocation target")),
            };
            self.relocs.push(PendingReloc {
                at: start + r.offset,
                kind: r.kind,
                target,
                addend: r.addend,
            });
        }
        for t in buf.traps() {
            self.traps.push(TrapSite { offset: start + t.offset, kind: trap_kind(t.code)? });
        }
        for s in buf.get_srclocs_sorted() {
            if !s.loc.is_default() {
                self.srclocs.push((start + s.start, s.loc.bits()));
            }
        }
        for cs in buf.call_sites() {
            let landing = cs.exception_handlers.iter().find_map(|h| match h {
                FinalizedMachExceptionHandler::Default(off) => Some(*off),
                _ => None,
            });
            if let Some(landing) = landing {
                let frame = cs.frame_offset.ok_or(CompileError::Limit(
                    "cranelift: a handled call site without a frame offset",
                ))?;
                self.handlers.push(HandlerSite {
                    ret: start + cs.ret_addr,
                    landing: start + landing,
                    frame,
                });
            }
        }
        // The callee-saved registers the prologue saves, as offsets below the frame
        // pointer: the unwinder restores them for the frames an exception passes.
        let mut clobbers = 0;
        let mut saves = Vec::new();
        for (_, u) in &buf.unwind_info {
            match u {
                UnwindInst::DefineNewFrame { offset_downward_to_clobbers, .. } => {
                    clobbers = *offset_downward_to_clobbers;
                }
                UnwindInst::SaveReg { clobber_offset, reg } => {
                    let below =
                        clobbers.checked_sub(*clobber_offset).ok_or(CompileError::Limit(
                            "cranelift: a callee-saved register above the frame pointer",
                        ))?;
                    saves.push((reg.hw_enc(), below));
                }
                _ => {}
            }
        }
        let end = self.bytes.len() as u32;
        if !saves.is_empty() {
            self.saves.push((start..end, saves.into()));
        }
        Ok(start..end)
    }
}

impl Cranelift {
    /// The ISA for a composition whose `simd` plugin has `level` (`None`: none),
    /// built on first use.
    fn isa_for(&mut self, level: Option<SimdLevel>) -> Result<OwnedTargetIsa, CompileError> {
        let slot = &mut self.isas[isa::slot(level)];
        if let Some(isa) = slot {
            return Ok(isa.clone());
        }
        let built = isa::build(&self.config, level)
            .map_err(|message| CompileError::Body { offset: 0, message })?;
        Ok(slot.insert(built).clone())
    }

    /// Compiles `module` into an image: its code with symbolic relocations.
    fn compile_image_for(
        &mut self,
        level: Option<SimdLevel>,
        module: &ModuleInfo,
        (guard_pages, call_events, inline_bulk): (bool, bool, bool),
    ) -> Result<CodeImage, CompileError> {
        let t0 = Instant::now();
        let isa = self.isa_for(level)?;
        let cfg = isa.frontend_config();
        let flags = (guard_pages, self.config.limits(), call_events, inline_bulk);
        // Functions compile in parallel, in contiguous chunks of similar byte size,
        // each into an assembler of its own; the chunks are then laid out in order.
        let chunks = chunks(module, compile_threads());
        let compiled: Vec<Result<Chunk, CompileError>> = if chunks.len() <= 1 {
            vec![compile_chunk(&isa, module, flags, 0..module.bodies.len())]
        } else {
            std::thread::scope(|sc| {
                let handles: Vec<_> = chunks
                    .iter()
                    .map(|r| {
                        let (isa, r) = (&isa, r.clone());
                        sc.spawn(move || compile_chunk(isa, module, flags, r))
                    })
                    .collect();
                handles
                    .into_iter()
                    .map(|h| {
                        h.join().unwrap_or(Err(CompileError::Limit(
                            "cranelift: a compile thread panicked",
                        )))
                    })
                    .collect()
            })
        };
        let mut asm = Assembler::new();
        let mut funcs = Vec::with_capacity(module.bodies.len());
        for c in compiled {
            let (part, ranges) = c?;
            let shift = asm.append(part);
            funcs.extend(ranges.into_iter().map(|r| r.start + shift..r.end + shift));
        }
        let mut ctx = Context::new();
        let mut fctx = FunctionBuilderContext::new();
        let mut entries = Vec::with_capacity(module.types.len());
        let mut host_calls = Vec::with_capacity(module.types.len());
        for ty in &module.types {
            ctx.clear();
            trampoline::entry(&mut ctx.func, &mut fctx, ty, cfg);
            entries.push(asm.add(&mut ctx, &isa, 0)?.start);
            ctx.clear();
            trampoline::host_call(&mut ctx.func, &mut fctx, ty, cfg);
            host_calls.push(asm.add(&mut ctx, &isa, 0)?.start);
        }
        let stub = asm.add_throw_stub();
        let Assembler { bytes, relocs, traps, srclocs, handlers, saves, .. } = asm;
        let relocs = relocs
            .into_iter()
            .map(|r| {
                let target = match r.target {
                    Target::Func(i) => RelocTarget::Func(i),
                    Target::Code(off) => RelocTarget::Code(off),
                    Target::ThrowStub => RelocTarget::Code(stub),
                    Target::Lib(lc) => RelocTarget::Helper(
                        libcalls::helper_index(lc)
                            .ok_or(CompileError::Limit("unsupported libcall"))?
                            as u32,
                    ),
                };
                let kind = match r.kind {
                    Reloc::X86CallPCRel4 | Reloc::X86PCRel4 | Reloc::X86CallPLTRel4 => {
                        RelocKind::PcRel4
                    }
                    Reloc::Abs8 => RelocKind::Abs8,
                    _ => return Err(CompileError::Limit("unsupported relocation kind")),
                };
                Ok(artifact::Reloc { at: r.at, kind, target, addend: r.addend })
            })
            .collect::<Result<Vec<_>, CompileError>>()?;
        self.functions += funcs.len() as u64;
        self.code_bytes += bytes.len() as u64;
        self.compile_time += t0.elapsed();
        Ok(CodeImage {
            code: bytes,
            funcs,
            entries,
            host_calls,
            traps,
            srclocs,
            handlers,
            saves,
            relocs,
        })
    }

    /// Places `image` in executable memory, resolving its relocations (calls of
    /// math helpers to `helpers`, the linked addresses in [`libcalls::HELPERS`]
    /// order), and describes it. Every offset was checked against the code by
    /// [`CodeImage::validate`] or comes from [`Cranelift::compile_image_for`].
    fn publish(
        image: &CodeImage,
        imported: u32,
        helpers: &[usize; NUM_HELPERS],
    ) -> Result<ModuleCode, CompileError> {
        let funcs = &image.funcs;
        let mem = CodeMemory::publish(&image.code, |buf, base| {
            for r in &image.relocs {
                let target = match r.target {
                    RelocTarget::Func(i) => {
                        let f = funcs
                            .get(i.wrapping_sub(imported) as usize)
                            .ok_or(CompileError::Limit("relocation to an unknown function"))?;
                        base + f.start as usize
                    }
                    RelocTarget::Code(off) => base + off as usize,
                    RelocTarget::Helper(i) => *helpers
                        .get(i as usize)
                        .ok_or(CompileError::Limit("relocation to an unknown helper"))?,
                    _ => return Err(CompileError::Limit("unsupported relocation target")),
                };
                let at = r.at as usize;
                let value = (target as i64).wrapping_add(r.addend);
                let field = buf
                    .get_mut(at..at + r.kind.size() as usize)
                    .ok_or(CompileError::Limit("relocation outside the code"))?;
                match r.kind {
                    RelocKind::PcRel4 => {
                        let rel = value - (base + at) as i64;
                        let rel = i32::try_from(rel)
                            .map_err(|_| CompileError::Limit("relocation out of range"))?;
                        field.copy_from_slice(&rel.to_le_bytes());
                    }
                    RelocKind::Abs8 => field.copy_from_slice(&value.to_le_bytes()),
                    _ => return Err(CompileError::Limit("unsupported relocation kind")),
                }
            }
            Ok(())
        })?;
        let range = mem.range();
        let map = CodeMap::new(
            range.start,
            range.len(),
            imported,
            image.funcs.clone(),
            image.traps.clone(),
            image.srclocs.clone(),
        )
        .with_exceptions(image.handlers.clone(), image.saves.clone());
        Ok(ModuleCode {
            mem,
            map,
            entries: image.entries.clone(),
            host_calls: image.host_calls.clone(),
        })
    }

    /// The math helpers of composition `C` as its `virt` plugin links them.
    fn helpers<C: Composition<Engine = Self>>(
        plugins: &mut C,
    ) -> Result<[usize; NUM_HELPERS], CompileError> {
        let linked = Self::linked(plugins)?;
        let mut helpers = [0; NUM_HELPERS];
        helpers.copy_from_slice(
            linked.get(NUM_LIBCALLS..).ok_or(CompileError::Limit("libcall table too short"))?,
        );
        Ok(helpers)
    }

    /// What code generation for composition `C` reads from it.
    fn options<C: Composition<Engine = Self>>(
        plugins: &C,
    ) -> (Option<SimdLevel>, (bool, bool, bool)) {
        const {
            assert!(
                <C::Virt as Virt>::NATIVE_CODE,
                "engine-cranelift needs a virt plugin that runs native code (`Virt::NATIVE_CODE`)"
            );
        }
        let events = C::EVENTS.contains(EventKind::WasmCall);
        let level = <C::Simd as Simd>::PRESENT.then_some(<C::Simd as Simd>::LEVEL);
        let guard_pages = <C::Virt as Virt>::GUARD_PAGES && plugins.virt().guard_pages();
        let inline_bulk = !<C::Virt as Virt>::CHEAP_HOST_CALLS;
        (level, (guard_pages, events, inline_bulk))
    }

    /// The runtime functions and math helpers of composition `C` as its `virt`
    /// plugin links them, linked on first use.
    ///
    /// # Errors
    /// The plugin returned a table of another length.
    fn linked<C: Composition<Engine = Self>>(plugins: &mut C) -> Result<&[usize], CompileError> {
        if plugins.engine().libcalls.is_none() {
            let linked = native::link_table(plugins.virt_mut(), &libcalls::table::<C>())?;
            plugins.engine_mut().libcalls = Some(linked);
        }
        Ok(plugins.engine().libcalls.as_deref().unwrap_or_default())
    }
}

impl Engine for Cranelift {
    const NATIVE_CODE: bool = true;
    const AOT: bool = true;
    const PROPOSALS: Features = Features::SIMD
        .union(Features::RELAXED_SIMD)
        .union(Features::EXTENDED_CONST)
        .union(Features::MULTI_MEMORY)
        .union(Features::MEMORY64)
        .union(Features::TAIL_CALL)
        .union(Features::FUNCTION_REFERENCES)
        .union(Features::EXCEPTIONS);
    type Code = ModuleCode;

    /// Compiles for code running in this process (math helpers at their host
    /// addresses, no guard pages); [`Engine::compile_for`] compiles for a
    /// composition and its `virt` plugin.
    fn compile(&mut self, module: &ModuleInfo) -> Result<ModuleCode, CompileError> {
        let image = self.compile_image_for(None, module, (false, false, false))?;
        Self::publish(&image, module.num_imported_funcs, &libcalls::host_helpers())
    }

    fn compile_for<C: Composition<Engine = Self>>(
        plugins: &mut C,
        module: &ModuleInfo,
    ) -> Result<ModuleCode, CompileError> {
        let image = Self::compile_image(plugins, module)?;
        Self::load_image(plugins, module, &image)
    }

    fn compile_image<C: Composition<Engine = Self>>(
        plugins: &mut C,
        module: &ModuleInfo,
    ) -> Result<CodeImage, CompileError> {
        let (level, flags) = Self::options(plugins);
        plugins.engine_mut().compile_image_for(level, module, flags)
    }

    fn load_image<C: Composition<Engine = Self>>(
        plugins: &mut C,
        module: &ModuleInfo,
        image: &CodeImage,
    ) -> Result<ModuleCode, CompileError> {
        let helpers = Self::helpers(plugins)?;
        let code = Self::publish(image, module.num_imported_funcs, &helpers)?;
        // Compiled out unless a composed observer subscribes (a perf map writer).
        if C::EVENTS.contains(EventKind::CodeLoaded) {
            native::code_loaded(plugins, module, &code.map);
        }
        Ok(code)
    }

    fn aot_key<C: Composition<Engine = Self>>(
        plugins: &mut C,
    ) -> Result<Vec<(&'static str, String)>, CompileError> {
        let (level, (guard_pages, events, inline_bulk)) = Self::options(plugins);
        let engine = plugins.engine_mut();
        let isa = engine.isa_for(level)?;
        let limits = engine.config.limits();
        Ok(vec![
            ("cranelift.opt_level", engine.config.opt_level.as_str().to_owned()),
            (
                "cranelift.isa",
                format!(
                    "{} {}",
                    isa.triple(),
                    isa.isa_flags().iter().map(|f| f.to_string()).collect::<Vec<_>>().join(",")
                ),
            ),
            ("cranelift.flags", isa.flags().to_string().replace('\n', ",")),
            (
                "cranelift.codegen",
                format!(
                    "guard_pages={guard_pages} fuel={} interrupt={} call_events={events} inline_bulk={inline_bulk}",
                    limits.metering(),
                    limits.interrupt_checks()
                ),
            ),
        ])
    }

    fn native_entry(code: &ModuleCode, index: u32) -> *const u8 {
        code.map.function(index).map_or(std::ptr::null(), |r| r.start as *const u8)
    }

    fn host_entry(code: &ModuleCode, ty: u32) -> *const u8 {
        code.host_calls.get(ty as usize).map_or(std::ptr::null(), |&off| code.addr(off))
    }

    fn code_map(code: &ModuleCode) -> Option<&CodeMap> {
        Some(&code.map)
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
        native::call_from_host(plugins, store, func, args, results)
    }
}

impl NativeEngine for Cranelift {
    fn entry_trampoline(code: &ModuleCode, ty: u32) -> *const u8 {
        code.addr(code.entries[ty as usize])
    }

    fn linked_table<C: Composition<Engine = Self>>(
        plugins: &mut C,
    ) -> Result<*const usize, CompileError> {
        Ok(Self::linked(plugins)?.as_ptr())
    }

    fn call_state(&mut self) -> &mut Option<Box<CallState>> {
        &mut self.call_state
    }

    fn count_call(&mut self, host_calls: u64, trapped: bool) {
        self.host_calls += host_calls;
        self.traps += u64::from(trapped);
    }
}
