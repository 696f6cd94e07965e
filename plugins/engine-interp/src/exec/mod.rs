//! The executor: direct-threaded code. Each instruction carries the address of its
//! handler, a function monomorphized over the composition that does the work and
//! then tail-calls the next instruction's handler, so every handler ends in its own
//! indirect jump (better predicted than one shared dispatch) and the hot state —
//! `pc`, `fp` and the memory view — travels in argument registers. Nothing is
//! allocated per wasm call.
//!
//! Frame layout on the slot stack: `fp` points at local 0 (parameters first, then
//! declared locals, zeroed on entry), the translator's temporaries follow. A call's
//! arguments are already in consecutive caller slots, where the callee's frame
//! starts; a return copies the results down to `fp`, which is where the caller
//! expects them.
//!
//! Release builds rely on the optimizer turning each handler's final call into a
//! jump; debug builds, which do not, return to a driver loop instead
//! (`dispatch_loop.rs`).

pub mod binary;
pub mod branch;
pub mod call;
pub mod convert;
pub mod exn;
pub mod gc;
pub mod memory;
pub mod numeric;
pub mod raw;
pub mod simd;
pub mod table;
pub mod unary;
pub mod variable;

#[cfg_attr(debug_assertions, path = "dispatch_loop.rs")]
#[cfg_attr(not(debug_assertions), path = "dispatch_tail.rs")]
mod dispatch;

use std::sync::OnceLock;

use vm_core::Composition;
use vm_core::runtime::{
    FuncKind, InstanceData, Store, Trap, TrapCode, VMContext, VMGlobal, VMMemoryDefinition, Val,
};

use crate::code::{FuncCode, ModuleCode, Op, for_each_numeric};
use call::Frame;

/// Reusable buffers of the executor, kept by the plugin between calls.
#[derive(Debug, Default)]
pub struct ExecBuffers {
    /// The slot stack.
    pub stack: Vec<u64>,
    /// Suspended frames.
    pub frames: Vec<Frame>,
}

// SAFETY: the frame pointers refer into the stack and store of the call that filled
// them; buffers are only reused, never read, by later calls (frames are cleared).
unsafe impl Send for ExecBuffers {}

/// Limits and counters of one call from the host.
#[derive(Debug)]
pub struct Limits {
    /// Deepest call stack.
    pub max_depth: usize,
    /// Remaining fuel (when metering).
    pub fuel: i64,
    /// Host calls made.
    pub host_calls: u64,
}

/// One instruction of threaded code: its handler's address and its operands.
#[repr(C)]
#[derive(Clone, Copy)]
#[cfg_attr(any(test, feature = "verify"), derive(Debug))]
pub struct Instr {
    /// A `Handler<C>` for the composition the module belongs to.
    pub h: usize,
    /// The instruction.
    pub op: Op,
}

/// The threaded code of a module, built on its first call.
#[derive(Default)]
pub struct Threaded {
    code: OnceLock<(usize, Box<[Instr]>)>,
}

impl std::fmt::Debug for Threaded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Whether it is built, and its length: the instructions' `Debug` is not in
        // every build.
        let len = self.code.get().map(|(_, code)| code.len());
        f.debug_struct("Threaded").field("instrs", &len).finish()
    }
}

/// How a handler chain ends: `>= 0` results returned, [`TRAP`] (recorded in
/// [`Exec::trap`]) or, in debug builds, `dispatch::CONTINUE`.
pub type Status = isize;

/// Execution ended with a trap.
pub const TRAP: Status = -1;

/// An instruction handler.
pub type Handler<C> = unsafe fn(*const Instr, *mut u64, *mut u8, u64, &mut Exec<C>) -> Status;

/// The execution state that is not needed by every instruction: behind one
/// pointer, while `pc`, `fp` and the memory view are handler arguments.
pub struct Exec<C: Composition> {
    /// The composition, for observer events (read only while running).
    pub plugins: *const C,
    /// The store being run.
    pub store: *mut Store<C>,
    /// Suspended callers.
    pub frames: Vec<Frame>,
    /// Deepest call stack.
    pub max_depth: usize,
    /// Remaining fuel (when metering).
    pub fuel: i64,
    /// The store's interrupt flag.
    pub interrupt: *const core::sync::atomic::AtomicU32,
    /// Host calls made.
    pub host_calls: u64,
    /// End of the slot stack.
    pub stack_end: *mut u64,
    /// The running function's instance.
    pub inst: *const InstanceData<C>,
    /// Its context.
    pub vmctx: *const VMContext,
    /// Its module's code.
    pub code: *const ModuleCode,
    /// Its module's threaded code.
    pub instrs: *const Instr,
    /// Its memory 0, or null.
    pub mem: *mut VMMemoryDefinition,
    /// Base of memory 0 (when `mem` is not null).
    pub mem_base: *mut u8,
    /// Length of memory 0 in bytes (0 without a memory).
    pub mem_len: u64,
    /// Its globals.
    pub globals: *const *mut VMGlobal,
    /// The running function's module index (for backtraces).
    pub cur_func: u32,
    /// The trap that ended execution.
    pub trap: Option<Trap>,
    /// The raw `exnref` of the exception being caught (read by the landing pad).
    pub caught: u32,
    /// Saved registers between handlers (debug builds' driver loop).
    pub regs: (*const Instr, *mut u64, *mut u8, u64),
}

/// Records a trap with `code`.
#[cold]
#[inline(never)]
pub fn set_trap<C: Composition>(x: &mut Exec<C>, code: TrapCode) -> Status {
    x.trap = Some(Trap::new(code));
    TRAP
}

/// Defines a handler: `handler!(name(pc, fp, mb, ml, x) { body })`, or
/// `handler!([#[attr]…] name(…) { body })` with attributes such as the
/// `#[target_feature]` of a simd level (see `simd.rs`).
macro_rules! handler {
    ($name:ident($pc:ident, $fp:ident, $mb:ident, $ml:ident, $x:ident) $body:block) => {
        crate::exec::handler!([] $name($pc, $fp, $mb, $ml, $x) $body);
    };
    ([$(#[$attr:meta])*] $name:ident($pc:ident, $fp:ident, $mb:ident, $ml:ident, $x:ident) $body:block) => {
        #[allow(non_snake_case, unreachable_code, unused_unsafe, clippy::missing_safety_doc)]
        $(#[$attr])*
        pub(crate) unsafe fn $name<C: vm_core::Composition<Engine = crate::Interp>>(
            $pc: *const crate::exec::Instr,
            $fp: *mut u64,
            $mb: *mut u8,
            $ml: u64,
            $x: &mut crate::exec::Exec<C>,
        ) -> crate::exec::Status {
            // SAFETY: handlers run only from threaded code built by this engine for
            // a validated module: `pc` points at this handler's own instruction
            // (so its operand pattern matches), its `h` fields hold `Handler<C>`s,
            // slot operands are below the frame size checked at function entry,
            // and `mb`/`ml` describe the instance's memory 0 as of now.
            unsafe { $body }
        }
    };
}
pub(crate) use handler;

/// Binds the operands of the instruction at `pc`, which is known to be `$pat`.
macro_rules! operands {
    ($pc:expr, $($pat:tt)*) => {
        // A handler is only installed for its own instruction (see `handler!`).
        let $($pat)* = (*$pc).op else { core::hint::unreachable_unchecked() };
    };
}
pub(crate) use operands;

/// Ends with a trap: the one already recorded, or a new one with `code`.
macro_rules! trap {
    ($x:ident) => {
        crate::exec::TRAP
    };
    ($x:ident, $code:expr) => {
        crate::exec::set_trap($x, $code)
    };
}
pub(crate) use dispatch::{next, next_with, taken};
pub(crate) use trap;

/// The threaded code of `code` for composition `C`, built on first use.
///
/// A module's code belongs to one `Module<C>`, so one composition runs it.
pub fn threaded<C: Composition<Engine = crate::Interp>>(code: &ModuleCode) -> *const Instr {
    let key = handler_of::<C> as fn(&Op) -> usize as usize;
    let (k, instrs) = code.threaded.code.get_or_init(|| {
        let mut instrs: Box<[Instr]> =
            code.ops.iter().map(|op| Instr { h: handler_of::<C>(op), op: *op }).collect();
        // The `Br`s after a `BrTable` run only through it (see `branch::br_table`):
        // each holds its target's handler instead of its own, one load less on the
        // way to the target.
        for i in 0..instrs.len() {
            if let Op::BrTable { len, .. } = instrs[i].op {
                for e in i + 1..=i + 1 + len as usize {
                    if let Some(Instr { op: Op::Br { offset }, .. }) = instrs.get(e)
                        && let Some(to) = (e as isize + 1).checked_add(*offset as isize)
                        && let Some(target) = code.ops.get(to as usize)
                    {
                        instrs[e].h = handler_of::<C>(target);
                    }
                }
            }
        }
        (key, instrs)
    });
    debug_assert_eq!(*k, key, "module code run by two compositions");
    instrs.as_ptr()
}

/// Calls function `func` of `store` with `args`, appending results.
pub fn call<C: Composition<Engine = crate::Interp>>(
    plugins: &C,
    store: &mut Store<C>,
    buf: &mut ExecBuffers,
    limits: &mut Limits,
    func: u32,
    args: &[Val],
    results: &mut Vec<Val>,
) -> Result<(), Trap> {
    let Some(slot) = store.funcs.get(func as usize) else {
        return Err(Trap::host("no such function"));
    };
    let (sig, kind) = (slot.vm().sig, slot.kind);
    let result_types: Vec<_> =
        store.sigs.get(sig).map(|t| t.results().to_vec()).unwrap_or_default();
    let (inst_id, index) = match kind {
        FuncKind::Host { def, state } => {
            let mut args = args.iter();
            let mut next = || args.next().copied().unwrap_or(Val::I32(0));
            store.call_host(def, state, None, |_, _| next(), |_, v| results.push(v))?;
            limits.host_calls += 1;
            return Ok(());
        }
        FuncKind::Wasm { instance, index } => (instance, index),
    };
    let inst: *const InstanceData<C> = &*store.instances[inst_id as usize];
    buf.frames.clear();
    let mut at = 0;
    for a in args {
        at += store.put_val64(&mut buf.stack[..], at, *a);
    }
    let n = run::<C>(plugins, store, buf, limits, inst, index)?;
    let mut at = 0;
    for ty in &result_types {
        if at >= n {
            break;
        }
        results.push(store.get_val64(&buf.stack[..], at, *ty));
        at += ty.slots64() as usize;
    }
    Ok(())
}

/// The callee's code for a wasm function of `inst`.
///
/// # Safety
/// `inst` is a live instance whose module was compiled by this engine.
#[inline(always)]
pub(crate) unsafe fn code_of<C: Composition<Engine = crate::Interp>>(
    inst: *const InstanceData<C>,
) -> *const ModuleCode {
    // SAFETY: the caller guarantees `inst` is live.
    unsafe { (*inst).module.code() }
}

/// Runs function `index` of `inst` whose arguments are at the bottom of the stack;
/// returns the number of results left there.
fn run<C: Composition<Engine = crate::Interp>>(
    plugins: &C,
    store: &mut Store<C>,
    buf: &mut ExecBuffers,
    limits: &mut Limits,
    inst: *const InstanceData<C>,
    index: u32,
) -> Result<usize, Trap> {
    let stack_base = buf.stack.as_mut_ptr();
    let stack_len = buf.stack.len();
    // SAFETY: the module was validated and translated by this engine, so slot
    // indexes are below the frame size the translator computed, branch offsets land
    // on instructions of the same function, and every index is in range; every
    // function entry checks its frame against the stack end and the call depth;
    // instance, code, memory, table, global and funcref pointers come from the
    // store, whose guest data and instances stay put until it is dropped;
    // memory accesses are checked against the memory view, refreshed whenever it
    // may change (grow, host call, instance switch).
    unsafe {
        let code = code_of(inst);
        let mut x = Exec::<C> {
            plugins,
            store,
            frames: std::mem::take(&mut buf.frames),
            max_depth: limits.max_depth,
            fuel: limits.fuel,
            interrupt: (*store.vm_store_context()).interrupt,
            host_calls: 0,
            stack_end: stack_base.add(stack_len),
            inst,
            code,
            instrs: threaded::<C>(&*code),
            vmctx: (*inst).vmctx_ptr(),
            mem: (*inst).vmctx().memory0,
            mem_base: core::ptr::null_mut(),
            mem_len: 0,
            globals: (*inst).vmctx().globals,
            cur_func: index,
            trap: None,
            caught: 0,
            regs: (core::ptr::null(), core::ptr::null_mut(), core::ptr::null_mut(), 0),
        };
        x.refresh_mem();
        x.frames.clear();
        // `enter` relies on room for every frame up to the depth limit.
        x.frames.reserve(limits.max_depth);
        let funcs: &[FuncCode] = &(*code).funcs;
        let fc = *funcs.get_unchecked((index - (*code).num_imported_funcs) as usize);
        let status = if limits.max_depth == 0 {
            set_trap(&mut x, TrapCode::StackOverflow)
        } else {
            // The entry checks the frame against the stack.
            let pc = x.instrs.add(fc.entry as usize);
            dispatch::run(pc, stack_base, x.mem_base, x.mem_len, &mut x)
        };
        limits.fuel = x.fuel;
        limits.host_calls += x.host_calls;
        let r = if status >= 0 {
            Ok(status as usize)
        } else {
            let mut t = x.trap.take().unwrap_or_else(|| Trap::host("trap without a reason"));
            t.backtrace = call::backtrace::<C>((x.inst.cast(), x.cur_func), &x.frames);
            Err(t)
        };
        x.frames.clear();
        buf.frames = x.frames;
        r
    }
}

macro_rules! define_handler_of {
    (
        lanes
        unary { $( $vu:ident $vuf:ident $vuk:ident; )* }
        binary { $( $vb:ident $vbf:ident $vbk:ident; )* }
        shift { $( $vs:ident $vsf:ident $vsk:ident; )* }
        test { $( $vt:ident $vtf:ident $vtk:ident; )* }
        splat { $( $vp:ident $vpf:ident $vpk:ident; )* }
        extract { $( $ve:ident $vef:ident $vek:ident; )* }
        replace { $( $vr:ident $vrf:ident $vrk:ident; )* }
        unary { $( $u:ident ($ua:ty) -> $ur:ty = $uf:path; )* }
        unary_trap { $( $ut:ident ($uta:ty) -> $utr:ty = $utf:path; )* }
        binary { $( $b:ident ($ba:ty, $bb:ty) -> $br:ty = $bf:path; )* }
        binary_imm { $( $bi:ident [$bii:ident] ($bia:ty, $bib:ty) -> $bir:ty = $bif:path, $bix:path; )* }
        binary_trap { $( $bt:ident ($bta:ty, $btb:ty) -> $btr:ty = $btf:path; )* }
        branch { $( $c:ident $ci:ident [$cb:ident $cbi:ident] ! [$nb:ident $nbi:ident] ($ca:ty) = $cf:path, $cx:path; )* }
        add_branch { $( $ab:ident [$abr:ident $abi:ident $abl:ident] ($abt:ty) = $abf:path; )* }
        f64_pair { $( $fp:ident [$fp1:ident $fp2:ident] = $ff1:path, $ff2:path, $fside:ident; )* }
    ) => {
        /// The address of the handler of `op` for composition `C`.
        fn handler_of<C: Composition<Engine = crate::Interp>>(op: &Op) -> usize {
            let h: Handler<C> = match op {
                Op::Unreachable => branch::unreachable::<C>,
                Op::Fuel(_) => branch::fuel::<C>,
                Op::FuelCheck(_) => branch::fuel_check::<C>,
                Op::Interrupt => branch::interrupt::<C>,
                Op::Arg(_) => branch::arg::<C>,
                Op::Br { .. } => branch::br::<C>,
                Op::BrIfNez { .. } => branch::br_if_nez::<C>,
                Op::BrIfEqz { .. } => branch::br_if_eqz::<C>,
                Op::BrTable { .. } => branch::br_table::<C>,
                Op::Return0 => call::return0::<C>,
                Op::Return1 { .. } => call::return1::<C>,
                Op::ReturnN { .. } => call::return_n::<C>,
                Op::Call { .. } => call::call::<C>,
                Op::CallCopy { .. } => call::call_copy::<C>,
                Op::Enter { zeros: 0, .. } => call::enter0::<C>,
                Op::Enter { zeros: 1, .. } => call::enter1::<C>,
                Op::Enter { zeros: 2, .. } => call::enter2::<C>,
                Op::Enter { zeros: 3, .. } => call::enter3::<C>,
                Op::Enter { zeros: 4, .. } => call::enter4::<C>,
                Op::Enter { .. } => call::enter_n::<C>,
                Op::Consts { len: 1, .. } => call::consts1::<C>,
                Op::Consts { len: 2, .. } => call::consts2::<C>,
                Op::Consts { len: 3, .. } => call::consts3::<C>,
                Op::Consts { len: 4, .. } => call::consts4::<C>,
                Op::Consts { .. } => call::consts_n::<C>,
                Op::CallImport { .. } => call::call_import::<C>,
                Op::CallIndirect { .. } => call::call_indirect::<C>,
                Op::ReturnCall { .. } => call::return_call::<C>,
                Op::ReturnCallImport { .. } => call::return_call_import::<C>,
                Op::ReturnCallIndirect { .. } => call::return_call_indirect::<C>,
                Op::CallRef { .. } => call::call_ref::<C>,
                Op::ReturnCallRef { .. } => call::return_call_ref::<C>,
                Op::RefAsNonNull { .. } => variable::ref_as_non_null::<C>,
                Op::Gc { .. } => gc::gc::<C>,
                Op::Select { .. } => variable::select::<C>,
                Op::Copy { .. } => variable::copy::<C>,
                Op::Const { .. } => variable::constant::<C>,
                Op::GlobalGet { .. } => variable::global_get::<C>,
                Op::GlobalSet { .. } => variable::global_set::<C>,
                Op::RefIsNull { .. } => variable::ref_is_null::<C>,
                Op::Clamp64 { .. } => memory::clamp64::<C>,
                Op::RefFunc { .. } => variable::ref_func::<C>,
                Op::Throw { .. } => exn::throw::<C>,
                Op::ThrowRef { .. } => exn::throw_ref::<C>,
                Op::Caught { .. } => exn::caught::<C>,
                Op::I32Load { .. } => memory::i32_load::<C>,
                Op::I64Load { .. } => memory::i64_load::<C>,
                Op::F32Load { .. } => memory::f32_load::<C>,
                Op::F64Load { .. } => memory::f64_load::<C>,
                Op::I32Load8S { .. } => memory::i32_load8_s::<C>,
                Op::I32Load8U { .. } => memory::i32_load8_u::<C>,
                Op::I32Load16S { .. } => memory::i32_load16_s::<C>,
                Op::I32Load16U { .. } => memory::i32_load16_u::<C>,
                Op::I64Load8S { .. } => memory::i64_load8_s::<C>,
                Op::I64Load8U { .. } => memory::i64_load8_u::<C>,
                Op::I64Load16S { .. } => memory::i64_load16_s::<C>,
                Op::I64Load16U { .. } => memory::i64_load16_u::<C>,
                Op::I64Load32S { .. } => memory::i64_load32_s::<C>,
                Op::I64Load32U { .. } => memory::i64_load32_u::<C>,
                Op::Store8 { .. } => memory::store8::<C>,
                Op::Store16 { .. } => memory::store16::<C>,
                Op::Store32 { .. } => memory::store32::<C>,
                Op::Store64 { .. } => memory::store64::<C>,
                Op::I32LoadAdd { .. } => memory::i32_load_add::<C>,
                Op::I32LoadAddImm { .. } => memory::i32_load_add_imm::<C>,
                Op::I64LoadAdd { .. } => memory::i64_load_add::<C>,
                Op::I64LoadAddImm { .. } => memory::i64_load_add_imm::<C>,
                Op::F32LoadAdd { .. } => memory::f32_load_add::<C>,
                Op::F32LoadAddImm { .. } => memory::f32_load_add_imm::<C>,
                Op::F64LoadAdd { .. } => memory::f64_load_add::<C>,
                Op::F64LoadAddImm { .. } => memory::f64_load_add_imm::<C>,
                Op::I32Load8UAdd { .. } => memory::i32_load8_u_add::<C>,
                Op::I32Load8UAddImm { .. } => memory::i32_load8_u_add_imm::<C>,
                Op::I32Load8SAdd { .. } => memory::i32_load8_s_add::<C>,
                Op::I32Load8SAddImm { .. } => memory::i32_load8_s_add_imm::<C>,
                Op::I32Load16UAdd { .. } => memory::i32_load16_u_add::<C>,
                Op::I32Load16UAddImm { .. } => memory::i32_load16_u_add_imm::<C>,
                Op::I64Load32SAdd { .. } => memory::i64_load32_s_add::<C>,
                Op::I64Load32SAddImm { .. } => memory::i64_load32_s_add_imm::<C>,
                Op::I64Load32UAdd { .. } => memory::i64_load32_u_add::<C>,
                Op::I64Load32UAddImm { .. } => memory::i64_load32_u_add_imm::<C>,
                Op::Store8Add { .. } => memory::store8_add::<C>,
                Op::Store8AddImm { .. } => memory::store8_add_imm::<C>,
                Op::Store16Add { .. } => memory::store16_add::<C>,
                Op::Store16AddImm { .. } => memory::store16_add_imm::<C>,
                Op::Store32Add { .. } => memory::store32_add::<C>,
                Op::Store32AddImm { .. } => memory::store32_add_imm::<C>,
                Op::Store64Add { .. } => memory::store64_add::<C>,
                Op::Store64AddImm { .. } => memory::store64_add_imm::<C>,
                Op::BrF32Eq { .. } => branch::BrF32Eq::<C>,
                Op::BrF32NotEq { .. } => branch::BrF32NotEq::<C>,
                Op::BrF32Ne { .. } => branch::BrF32Ne::<C>,
                Op::BrF32NotNe { .. } => branch::BrF32NotNe::<C>,
                Op::BrF32Lt { .. } => branch::BrF32Lt::<C>,
                Op::BrF32NotLt { .. } => branch::BrF32NotLt::<C>,
                Op::BrF32Gt { .. } => branch::BrF32Gt::<C>,
                Op::BrF32NotGt { .. } => branch::BrF32NotGt::<C>,
                Op::BrF32Le { .. } => branch::BrF32Le::<C>,
                Op::BrF32NotLe { .. } => branch::BrF32NotLe::<C>,
                Op::BrF32Ge { .. } => branch::BrF32Ge::<C>,
                Op::BrF32NotGe { .. } => branch::BrF32NotGe::<C>,
                Op::BrF64Eq { .. } => branch::BrF64Eq::<C>,
                Op::BrF64NotEq { .. } => branch::BrF64NotEq::<C>,
                Op::BrF64Ne { .. } => branch::BrF64Ne::<C>,
                Op::BrF64NotNe { .. } => branch::BrF64NotNe::<C>,
                Op::BrF64Lt { .. } => branch::BrF64Lt::<C>,
                Op::BrF64NotLt { .. } => branch::BrF64NotLt::<C>,
                Op::BrF64Gt { .. } => branch::BrF64Gt::<C>,
                Op::BrF64NotGt { .. } => branch::BrF64NotGt::<C>,
                Op::BrF64Le { .. } => branch::BrF64Le::<C>,
                Op::BrF64NotLe { .. } => branch::BrF64NotLe::<C>,
                Op::BrF64Ge { .. } => branch::BrF64Ge::<C>,
                Op::BrF64NotGe { .. } => branch::BrF64NotGe::<C>,
                Op::I32LoadIdx { .. } => memory::i32_load_idx::<C>,
                Op::F32LoadIdx { .. } => memory::f32_load_idx::<C>,
                Op::I64LoadIdx { .. } => memory::i64_load_idx::<C>,
                Op::F64LoadIdx { .. } => memory::f64_load_idx::<C>,
                Op::Store32Idx { .. } => memory::store32_idx::<C>,
                Op::Store64Idx { .. } => memory::store64_idx::<C>,
                Op::F64MulAdd { .. } => numeric::f64_mul_add::<C>,
                Op::F64MulSub { .. } => numeric::f64_mul_sub::<C>,
                Op::I32AddShl2 { .. } => memory::i32_add_shl2::<C>,
                Op::I32AddShl3 { .. } => memory::i32_add_shl3::<C>,
                Op::I32LoadShl { .. } => memory::i32_load_shl::<C>,
                Op::I32LoadShlU8 { .. } => memory::i32_load_shl_u8::<C>,
                Op::F32LoadShl { .. } => memory::f32_load_shl::<C>,
                Op::I64LoadShl { .. } => memory::i64_load_shl::<C>,
                Op::F64LoadShl { .. } => memory::f64_load_shl::<C>,
                Op::I32AddShl2Imm { .. } => memory::i32_add_shl2_imm::<C>,
                Op::I32AddShl3Imm { .. } => memory::i32_add_shl3_imm::<C>,
                Op::I32LoadIdxImm { .. } => memory::i32_load_idx_imm::<C>,
                Op::F32LoadIdxImm { .. } => memory::f32_load_idx_imm::<C>,
                Op::I64LoadIdxImm { .. } => memory::i64_load_idx_imm::<C>,
                Op::F64LoadIdxImm { .. } => memory::f64_load_idx_imm::<C>,
                Op::Store32IdxImm { .. } => memory::store32_idx_imm::<C>,
                Op::Store64IdxImm { .. } => memory::store64_idx_imm::<C>,
                Op::F64AddLoad { .. } => memory::f64_add_load::<C>,
                Op::F64SubLoad { .. } => memory::f64_sub_load::<C>,
                Op::F64MulLoad { .. } => memory::f64_mul_load::<C>,
                Op::F64MulAddLoad { .. } => memory::f64_mul_add_load::<C>,
                Op::F64MulSubLoad { .. } => memory::f64_mul_sub_load::<C>,
                Op::I32AddImmCopy { .. } => numeric::i32_add_imm_copy::<C>,
                Op::I32AddImmTee { .. } => numeric::i32_add_imm_tee::<C>,
                Op::CopyBr { .. } => branch::copy_br::<C>,
                Op::I32AddImmBr { .. } => branch::i32_add_imm_br::<C>,
                Op::I32AddImm2 { .. } => numeric::i32_add_imm2::<C>,
                Op::MemorySize { .. } => memory::memory_size::<C>,
                Op::MemoryGrow { .. } => memory::memory_grow::<C>,
                Op::MemoryFill { .. } => memory::memory_fill::<C>,
                Op::MemoryCopy { .. } => memory::memory_copy::<C>,
                Op::MemoryCopyBetween { .. } => memory::memory_copy_between::<C>,
                Op::MemSelect(_) => memory::mem_select::<C>,
                Op::MemoryInit { .. } => memory::memory_init::<C>,
                Op::DataDrop(_) => memory::data_drop::<C>,
                Op::TableGet { .. } => table::table_get::<C>,
                Op::TableSet { .. } => table::table_set::<C>,
                Op::TableSize { .. } => table::table_size::<C>,
                Op::TableGrow { .. } => table::table_grow::<C>,
                Op::TableFill { .. } => table::table_fill::<C>,
                Op::TableCopy { .. } => table::table_copy::<C>,
                Op::TableInit { .. } => table::table_init::<C>,
                Op::ElemDrop(_) => table::elem_drop::<C>,
                Op::V128Const { .. } => simd::if_present!(v128_const),
                Op::V128Copy { .. } => simd::if_present!(v128_copy),
                Op::V128Select { .. } => simd::if_present!(v128_select),
                Op::V128GlobalGet { .. } => simd::if_present!(v128_global_get),
                Op::V128GlobalSet { .. } => simd::if_present!(v128_global_set),
                Op::V128Bitselect { .. } => simd::by_level!(v128_bitselect),
                Op::F32x4RelaxedMadd { .. } => simd::by_level!(f32x4_relaxed_madd),
                Op::F32x4RelaxedNmadd { .. } => simd::by_level!(f32x4_relaxed_nmadd),
                Op::F64x2RelaxedMadd { .. } => simd::by_level!(f64x2_relaxed_madd),
                Op::F64x2RelaxedNmadd { .. } => simd::by_level!(f64x2_relaxed_nmadd),
                Op::I32x4RelaxedDotI8x16I7x16AddS { .. } => simd::by_level!(i32x4_relaxed_dot_i8x16_i7x16_add_s),
                Op::I8x16Shuffle { .. } => simd::by_level!(i8x16_shuffle),
                Op::V128Load { .. } => simd::if_present!(v128_load),
                Op::V128Load8x8S { .. } => simd::by_level!(v128_load8x8_s),
                Op::V128Load8x8U { .. } => simd::by_level!(v128_load8x8_u),
                Op::V128Load16x4S { .. } => simd::by_level!(v128_load16x4_s),
                Op::V128Load16x4U { .. } => simd::by_level!(v128_load16x4_u),
                Op::V128Load32x2S { .. } => simd::by_level!(v128_load32x2_s),
                Op::V128Load32x2U { .. } => simd::by_level!(v128_load32x2_u),
                Op::V128Load8Splat { .. } => simd::by_level!(v128_load8_splat),
                Op::V128Load16Splat { .. } => simd::by_level!(v128_load16_splat),
                Op::V128Load32Splat { .. } => simd::by_level!(v128_load32_splat),
                Op::V128Load64Splat { .. } => simd::by_level!(v128_load64_splat),
                Op::V128Load32Zero { .. } => simd::if_present!(v128_load32_zero),
                Op::V128Load64Zero { .. } => simd::if_present!(v128_load64_zero),
                Op::V128Store { .. } => simd::if_present!(v128_store),
                $( Op::$vu { .. } => simd::by_level!($vu), )*
                $( Op::$vb { .. } => simd::by_level!($vb), )*
                $( Op::$vs { .. } => simd::by_level!($vs), )*
                $( Op::$vt { .. } => simd::by_level!($vt), )*
                $( Op::$vp { .. } => simd::by_level!($vp), )*
                $( Op::$ve { .. } => simd::by_level!($ve), )*
                $( Op::$vr { .. } => simd::by_level!($vr), )*
                $( Op::$u { .. } => numeric::$u::<C>, )*
                $( Op::$ut { .. } => numeric::$ut::<C>, )*
                $( Op::$b { .. } => numeric::$b::<C>, )*
                $( Op::$bi { .. } => numeric::$bi::<C>, )*
                $( Op::$bii { .. } => numeric::$bii::<C>, )*
                $( Op::$bt { .. } => numeric::$bt::<C>, )*
                $( Op::$cb { .. } => branch::$cb::<C>, )*
                $( Op::$cbi { .. } => branch::$cbi::<C>, )*
                $( Op::$abr { .. } => branch::$abr::<C>, )*
                $( Op::$abi { .. } => branch::$abi::<C>, )*
                $( Op::$abl { .. } => branch::$abl::<C>, )*
                $( Op::$fp { .. } => numeric::$fp::<C>, )*
            };
            h as usize
        }
    };
}
crate::code::for_each_op!(define_handler_of);
