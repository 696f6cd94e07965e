//! The single-pass translator: one pass over a function's operators (through
//! vm-core's [`Wasm2Operators`] filter), emitting x86-64 as it goes. The value
//! stack and register allocation are in [`stack`]; each instruction family has its
//! own file.

mod binary;
mod branch;
mod call;
mod exn;
mod float;
mod limits;
pub(crate) mod locals;
mod memory;
mod runtime;
mod simd;
mod stack;

use dynasm::dynasm;
use dynasmrt::{DynamicLabel, DynasmApi, DynasmLabelApi};
use vm_core::runtime::limits::{RunStart, run_after};
use vm_core::runtime::native::{TrapKind, TrapSite};
use vm_core::runtime::offsets as o;
use vm_core::runtime::operators::{OperatorSink, Wasm2Operators, Widen, index64};
use vm_core::runtime::{CompileError, FuncType, ModuleInfo, TrapCode, ValType};
use wasmparser::{BinaryReader, FunctionBody, Operator};

pub(crate) use binary::Cc;
pub(crate) use stack::Loc;

use locals::{Local, LocalKind, RegLocals};
use stack::ValueStack;

/// The assembler a module is emitted into.
pub(crate) type Asm = dynasmrt::VecAssembler<dynasmrt::x64::X64Relocation>;

/// Register numbers (x86-64 encoding).
pub(crate) mod reg {
    pub const RAX: u8 = 0;
    pub const RCX: u8 = 1;
    pub const RDX: u8 = 2;
    /// The scratch register (`r11`): never allocated, free between two emitted
    /// sequences. (`r15` holds the instance context at every control-flow edge,
    /// see `stack::VMCTX`.)
    pub const SCRATCH: u8 = 11;
    /// Memory 0's base (`r14`) in every function of a module with a memory 0:
    /// loaded by the prologue and after every call, never allocated there.
    pub const MEMBASE: u8 = 14;
    /// The scratch xmm register (`xmm15`), likewise never allocated.
    pub const XSCRATCH: u8 = 15;
}

/// What the translator needs of the module, shared by all its functions.
pub(crate) struct ModuleEnv<'m> {
    pub module: &'m ModuleInfo,
    /// The entry label of each defined function.
    pub func_labels: Vec<DynamicLabel>,
    /// Whether memory 0 sits in a guard-page reservation (accesses with a static
    /// offset up to [`GUARDED_OFFSET`] carry no explicit check).
    pub guard_pages: bool,
    /// The module has a memory 0 (defined or imported): its functions keep its
    /// base in [`reg::MEMBASE`].
    pub memory: bool,
    /// The host CPU's features (SSE4.1's `roundss`/`roundsd` for the float
    /// rounding operators), checked once per module.
    pub cpu: crate::Cpu,
    /// How v128 operators are encoded (or why they cannot be on this CPU), `None`
    /// when v128 is unsupported (no simd plugin composed).
    pub simd: Option<Result<crate::VecIsa, String>>,
    /// Fuel metering is compiled in.
    pub fuel: bool,
    /// Interruption checks are compiled in.
    pub interrupt: bool,
    /// Calls report wasm-call events (an observer of the composition subscribes).
    pub call_events: bool,
    /// The module's throw stub (`vm_core::runtime::native::exn::throw_stub`).
    pub throw_stub: DynamicLabel,
    /// Some memory or table of the module has 64-bit indexes (otherwise no
    /// operator needs `vm_core::runtime::operators::index64`'s lowering, and the
    /// translator skips asking for it).
    pub index64: bool,
}

impl ModuleEnv<'_> {
    /// Whether runs are tracked (fuel or interruption compiled in).
    pub fn limits_on(&self) -> bool {
        self.fuel || self.interrupt
    }
}

/// The largest static offset the guard region covers: the `virt` plugin reserves
/// 4 GiB of addressable memory plus at least this much.
pub(crate) const GUARDED_OFFSET: u64 = 0x8000_0000;

/// What the module's code records besides its bytes.
#[derive(Default)]
pub(crate) struct Sites {
    pub traps: Vec<TrapSite>,
    pub srclocs: Vec<(u32, u32)>,
    /// (offset just past a 4-byte displacement, value) pairs to write once the
    /// frame size of the function is known.
    pub patches: Vec<(usize, i32)>,
    /// Code ranges to overwrite with `nop`s: the loads of memory 0's base in
    /// functions that need none (see `FuncCompiler::load_membase`).
    pub nops: Vec<std::ops::Range<usize>>,
    /// Call sites with an exception handler (see `exn.rs`).
    pub handlers: Vec<vm_core::runtime::native::HandlerSite>,
}

/// Allocations the translation of one function uses, kept from function to
/// function of a module (cleared, not freed): a module of a few hundred small
/// functions otherwise spends a tenth of its compile time allocating.
#[derive(Default)]
pub(crate) struct Scratch {
    locals: Vec<Local>,
    results: Vec<(i32, bool)>,
    stack: (Vec<Loc>, Vec<u32>),
    controls: Vec<Control>,
    trap_stubs: Vec<(DynamicLabel, TrapKind, u32)>,
    frame_patches: Vec<usize>,
    membase_loads: Vec<std::ops::Range<usize>>,
    counts: Vec<u64>,
}

/// The operator after the current one, as [`FuncCompiler::next_op`] sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NextOp {
    /// `local.set` or `local.tee` of an integer local, with its register if it
    /// has one.
    Set(Option<u8>),
    /// Any other operator, by its first byte.
    Other(u8),
}

impl NextOp {
    /// `br_if` or `if`: a branch on the value the current operator produces.
    pub fn branches(self) -> bool {
        matches!(self, NextOp::Other(0x0d | 0x04))
    }
}

/// What kind of construct a control frame is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Func,
    Block,
    Loop,
    If,
    Else,
}

/// One entry of the control stack.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Control {
    pub kind: Kind,
    /// Where a branch to this frame goes (a loop's head, else the end).
    pub label: DynamicLabel,
    /// An `if`'s else branch.
    pub else_label: Option<DynamicLabel>,
    /// Value stack depth below the frame's parameters.
    pub height: usize,
    pub params: usize,
    pub results: usize,
    /// The frame's signature (which of its values are v128).
    pub sig: Sig,
    /// A `try_table`'s index among the function's (see `exn.rs`).
    pub try_id: Option<usize>,
}

/// A block's or function's signature, as far as slot sizes go.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Sig {
    Empty,
    /// One result, a v128 or not.
    One(bool),
    /// A type of the module.
    Type(u32),
}

impl Control {
    /// How many values a branch to this frame carries.
    pub fn arity(&self) -> usize {
        if self.kind == Kind::Loop { self.params } else { self.results }
    }
}

/// Translates one function.
pub(crate) struct FuncCompiler<'a, 'm> {
    pub ops: &'a mut Asm,
    pub env: &'a ModuleEnv<'m>,
    pub sites: &'a mut Sites,
    pub stack: ValueStack,
    /// Where each local lives.
    locals: Vec<Local>,
    /// The locals that live in registers.
    reg_locals: RegLocals,
    pub controls: Vec<Control>,
    /// Whether the operator being translated can run.
    pub reachable: bool,
    /// Blocks opened while unreachable (skipped with their `end`).
    dead_depth: u32,
    /// Out-of-line trap stubs emitted after the body: label, kind, wasm offset.
    trap_stubs: Vec<(DynamicLabel, TrapKind, u32)>,
    /// The current fuel run: where its cost goes (see [`Sites::patches`]) and the
    /// cost so far.
    run: Option<(usize, u64)>,
    /// The operator's wasm byte offset.
    pub offset: u64,
    /// Where each result goes: its `rbp` displacement in the argument/result area
    /// and whether it is a v128.
    results: Vec<(i32, bool)>,
    /// Units of this function's own argument/result area (`area_units` of its
    /// type): where a tail call puts its callee's area.
    area: u32,
    /// Offsets where the frame size goes.
    frame_patches: Vec<usize>,
    /// The code ranges of this function's loads of memory 0's base.
    membase_loads: Vec<std::ops::Range<usize>>,
    /// The function accesses memory 0 or makes a call other than a direct one, so
    /// it keeps its loads of memory 0's base.
    needs_membase: bool,
    /// v128 constants emitted after the body (16-byte aligned), by label.
    pub consts: Vec<(DynamicLabel, u128)>,
    /// A comparison whose result is still only in the flags, for the `br_if` or
    /// `if` that follows it (see `FuncCompiler::next_op`): the condition under
    /// which the value is 1. Its stack entry holds a register of no value.
    pub pending: Option<Cc>,
    /// A register the last instruction emitted wrote with a 32-bit operation
    /// (so its upper half is zero), and the code offset just past it: an address
    /// in it needs no zero-extension.
    pub zext: (u8, usize),
    /// The landing pad's offset of each `try_table` (by `Control::try_id`).
    landings: Vec<Option<u32>>,
    /// Call sites inside a `try_table`: (return address offset, `try_id`).
    try_calls: Vec<(u32, usize)>,
}

/// Whether this engine carries a value of type `t`: v128 only when a simd plugin
/// is composed.
fn check_type(env: &ModuleEnv<'_>, t: ValType, offset: u64) -> Result<(), CompileError> {
    match t {
        ValType::V128 => env.vec_isa(offset).map(|_| ()),
        _ => Ok(()),
    }
}

impl ModuleEnv<'_> {
    /// The encoding of v128 code: "unsupported: simd" without a simd plugin, an
    /// error naming the missing CPU feature when the level needs one.
    pub fn vec_isa(&self, offset: u64) -> Result<crate::VecIsa, CompileError> {
        match &self.simd {
            None => Err(CompileError::unsupported("v128 value", "simd", offset)),
            Some(Ok(isa)) => Ok(*isa),
            Some(Err(message)) => Err(CompileError::Body { offset, message: message.clone() }),
        }
    }
}

/// The vm-core type of a `wasmparser` value type.
fn from_wp(t: wasmparser::ValType) -> ValType {
    match t {
        wasmparser::ValType::I32 => ValType::I32,
        wasmparser::ValType::I64 => ValType::I64,
        wasmparser::ValType::F32 => ValType::F32,
        wasmparser::ValType::F64 => ValType::F64,
        wasmparser::ValType::V128 => ValType::V128,
        // References are one 8-byte slot like an i64.
        wasmparser::ValType::Ref(_) => ValType::I64,
    }
}

/// Whether values of type `t` live in xmm registers as scalars.
fn is_float(t: ValType) -> bool {
    matches!(t, ValType::F32 | ValType::F64)
}

/// 8-byte slot units a value of type `t` takes: 2 for a v128, else 1.
pub(crate) fn units(t: ValType) -> u32 {
    if t == ValType::V128 { 2 } else { 1 }
}

/// Units of the argument/result area of a call to a function of type `ty`: the
/// larger of the parameters' and the results' units.
pub(crate) fn area_units(ty: &FuncType) -> u32 {
    let sum = |ts: &[ValType]| ts.iter().map(|&t| units(t)).sum::<u32>();
    sum(ty.params()).max(sum(ty.results()))
}

/// The displacement of each of `types` (the parameters or the results) from the
/// base of an argument/result area of `area` units (`rsp` at the call): the
/// caller's stack top lies at the lowest address, so value `k`, ending `end_k`
/// units into the list, starts at `8 * (area - end_k)` (for scalars only:
/// `8 * (area - 1 - k)`).
pub(crate) fn area_offsets(types: &[ValType], area: u32) -> Vec<i32> {
    area_offsets_iter(types, area).collect()
}

/// [`area_offsets`] as an iterator.
fn area_offsets_iter(types: &[ValType], area: u32) -> impl Iterator<Item = i32> + '_ {
    let mut end = 0;
    types.iter().map(move |&t| {
        end += units(t);
        8 * (area - end) as i32
    })
}

/// The allocation of `v`, emptied, taken out of it.
fn cleared<T>(v: &mut Vec<T>) -> Vec<T> {
    let mut v = std::mem::take(v);
    v.clear();
    v
}

/// Which of `types` are v128.
pub(crate) fn wide_types(types: &[ValType]) -> impl Iterator<Item = bool> + '_ {
    types.iter().map(|&t| t == ValType::V128)
}

/// `rbp` displacement of the `vmctx` spill slot.
const VMCTX_SLOT: i32 = -8;

impl<'a, 'm> FuncCompiler<'a, 'm> {
    /// Translates defined function `index` (module index space) with body `body`.
    pub fn compile(
        ops: &'a mut Asm,
        env: &'a ModuleEnv<'m>,
        sites: &'a mut Sites,
        scratch: &mut Scratch,
        index: u32,
        body: &FunctionBody<'_>,
    ) -> Result<(), CompileError> {
        let start_offset = body.range().start;
        let ty = env.module.func_type(index).ok_or(CompileError::Limit("function type"))?;
        let nresults = ty.results().len();
        for &t in ty.params().iter().chain(ty.results()) {
            check_type(env, t, start_offset)?;
        }
        let area = area_units(ty);
        let mut locals = std::mem::take(&mut scratch.locals);
        locals.clear();
        locals.extend(
            area_offsets_iter(ty.params(), area)
                .zip(ty.params())
                .map(|(d, &t)| Local::new(16 + d, t)),
        );
        let mut results = std::mem::take(&mut scratch.results);
        results.clear();
        results.extend(
            area_offsets_iter(ty.results(), area)
                .zip(ty.results())
                .map(|(d, &t)| (16 + d, t == ValType::V128)),
        );
        let mut reader = body.get_locals_reader()?;
        // 8-byte units of the body's locals (a v128 takes two).
        let mut nbody = 0usize;
        for _ in 0..reader.get_count() {
            let (count, t) = reader.read()?;
            let t = from_wp(t);
            check_type(env, t, start_offset)?;
            for _ in 0..count {
                if nbody >= 1 << 20 {
                    return Err(CompileError::Limit("engine-dynasm: more than 2^20 locals"));
                }
                nbody += units(t) as usize;
                locals.push(Local::new(-8 - 8 * nbody as i32, t));
            }
        }
        // Below the locals: the value stack's canonical slots.
        let slot0 = -16 - 8 * nbody as i32;
        let mut code = body.get_binary_reader_for_operators()?;
        let code_offset = code.original_position();
        let code = code.read_bytes(code.bytes_remaining())?;
        let reg_locals = RegLocals::plan(code, &mut locals, ty.params().len(), &mut scratch.counts);
        let stack = (cleared(&mut scratch.stack.0), cleared(&mut scratch.stack.1));
        let mut c = FuncCompiler {
            ops,
            env,
            sites,
            stack: ValueStack::new(
                slot0,
                env.memory,
                reg_locals.gp_mask,
                reg_locals.xmm_mask,
                stack,
            ),
            locals,
            reg_locals,
            controls: cleared(&mut scratch.controls),
            reachable: true,
            dead_depth: 0,
            trap_stubs: cleared(&mut scratch.trap_stubs),
            run: None,
            offset: start_offset,
            results,
            area,
            frame_patches: cleared(&mut scratch.frame_patches),
            membase_loads: cleared(&mut scratch.membase_loads),
            needs_membase: false,
            consts: Vec::new(),
            pending: None,
            zext: (u8::MAX, 0),
            landings: Vec::new(),
            try_calls: Vec::new(),
        };
        c.prologue(nbody);
        c.load_reg_locals();
        if env.limits_on() {
            c.start_run(RunStart::Check)?;
        }
        let label = c.ops.new_dynamic_label();
        c.controls.push(Control {
            kind: Kind::Func,
            label,
            else_label: None,
            height: 0,
            params: 0,
            results: nresults,
            sig: Sig::Type(env.module.funcs[index as usize]),
            try_id: None,
        });
        // The body was validated: `Wasm2Operators`' frame stack checks nothing, and
        // the most frequent operators (the locals' and `i32.const`, about half of
        // them) are read here without `wasmparser`'s dispatch.
        let mut reader = BinaryReader::new(code, code_offset);
        while let Some(&byte) = code.get(reader.current_position()) {
            c.offset = reader.original_position();
            match byte {
                0x20 | 0x21 | 0x22 | 0x41 => {
                    reader.read_u8()?;
                    if byte == 0x41 {
                        let value = reader.read_var_i32()?;
                        if c.begin_simple(&Operator::I32Const { value }) {
                            c.stack.push(Loc::Const(i64::from(value)));
                        }
                        continue;
                    }
                    let local_index = reader.read_var_u32()?;
                    match byte {
                        0x20 => {
                            if c.begin_simple(&Operator::LocalGet { local_index }) {
                                c.local_get(local_index)?;
                            }
                        }
                        _ => {
                            let tee = byte == 0x22;
                            if c.begin_simple(&Operator::LocalSet { local_index }) {
                                c.local_set(local_index, tee)?;
                            }
                        }
                    }
                }
                _ => reader.visit_operator(&mut Wasm2Operators(&mut c))??,
            }
        }
        c.finish(slot0)?;
        scratch.locals = c.locals;
        scratch.results = c.results;
        scratch.stack = c.stack.into_allocations();
        scratch.controls = c.controls;
        scratch.trap_stubs = c.trap_stubs;
        scratch.frame_patches = c.frame_patches;
        scratch.membase_loads = c.membase_loads;
        Ok(())
    }

    /// `push rbp; mov rbp, rsp`, the stack-limit check, `vmctx` into its register and
    /// slot, and the body's locals zeroed.
    fn prologue(&mut self, nbody: usize) {
        let overflow = self.trap_label(TrapCode::StackOverflow);
        dynasm!(self.ops
            ; .arch x64
            ; push rbp
            ; mov rbp, rsp
            ; lea rax, [rbp + 0x7fff_0000]
        );
        self.frame_patches.push(self.ops.offset().0);
        dynasm!(self.ops
            ; .arch x64
            ; mov r11, [rdi + o::VMCTX_STORE as i32]
            ; cmp rax, [r11 + o::STORE_STACK_LIMIT as i32]
            ; jb =>overflow
            ; mov rsp, rax
            ; mov [rbp + VMCTX_SLOT], rdi
            ; mov r15, rdi
        );
        self.load_membase();
        if nbody == 0 {
            return;
        }
        let lowest = -16 - 8 * (nbody as i32 - 1);
        if nbody <= 8 {
            dynasm!(self.ops ; .arch x64 ; xor eax, eax);
            for i in 0..nbody as i32 {
                dynasm!(self.ops ; .arch x64 ; mov [rbp + lowest + 8 * i], rax);
            }
        } else {
            dynasm!(self.ops
                ; .arch x64
                ; lea rdi, [rbp + lowest]
                ; mov ecx, nbody as i32
                ; xor eax, eax
                ; rep stosq
            );
        }
    }

    /// Loads memory 0's base from `vmctx` (`r15`) into [`reg::MEMBASE`] when the
    /// module has a memory 0: in the prologue and after every call, since a callee
    /// may have grown the memory (which can move the base without guard pages) or
    /// belong to another instance (whose prologue loaded its own base).
    ///
    /// A function that neither accesses memory nor makes a call other than a
    /// direct one gets these loads turned into `nop`s once it is translated
    /// ([`Sites::nops`]): it never changes `r14`, so it returns the base it was
    /// entered with. Direct calls need no reload: a direct callee shares this
    /// module's memory and returns with `r14` holding its current base (it either
    /// loaded and reloaded it, or left the caller's untouched and could not have
    /// moved the memory, a growth being a runtime call).
    pub fn load_membase(&mut self) {
        if self.env.memory {
            let start = self.ops.offset().0;
            if o::VMCTX_MEMORY0 == 0 && o::MEMORY_BASE == 0 {
                // Six bytes instead of fourteen (dynasm gives a displacement that is
                // not a literal four bytes), a single `nop` when patched.
                dynasm!(self.ops ; .arch x64 ; mov r14, [r15] ; mov r14, [r14]);
            } else {
                dynasm!(self.ops
                    ; .arch x64
                    ; mov r14, [r15 + o::VMCTX_MEMORY0 as i32]
                    ; mov r14, [r14 + o::MEMORY_BASE as i32]
                );
            }
            self.membase_loads.push(start..self.ops.offset().0);
        }
    }

    /// Records that the function needs memory 0's base in `r14`: it accesses
    /// memory, or makes a call after which the base may differ.
    pub fn need_membase(&mut self) {
        self.needs_membase = true;
    }

    /// Emits the trap stubs and writes the frame size into the prologue and the
    /// call sites.
    fn finish(&mut self, slot0: i32) -> Result<(), CompileError> {
        if !self.controls.is_empty() {
            return Err(CompileError::Body {
                offset: self.offset,
                message: "engine-dynasm: function body ends inside a block".into(),
            });
        }
        self.finish_run()?;
        for k in 0..self.trap_stubs.len() {
            let (label, kind, wasm) = self.trap_stubs[k];
            dynasm!(self.ops ; .arch x64 ; =>label);
            let at = self.ops.offset().0 as u32;
            self.sites.traps.push(TrapSite { offset: at, kind });
            self.sites.srclocs.push((at, wasm));
            dynasm!(self.ops ; .arch x64 ; ud2);
        }
        if !self.consts.is_empty() {
            self.ops.align(16, 0xcc);
            for (label, v) in std::mem::take(&mut self.consts) {
                dynasm!(self.ops ; .arch x64 ; =>label);
                self.ops.extend(v.to_le_bytes());
            }
        }
        // The frame: vmctx, locals, the deepest value stack, rounded to 16 bytes.
        let bottom = -(slot0 as i64) + 8 * self.stack.max_units() as i64;
        let frame = (bottom + 15) & !15;
        let frame = i32::try_from(frame)
            .map_err(|_| CompileError::Limit("engine-dynasm: frame larger than 2 GiB"))?;
        for &at in &self.frame_patches {
            self.sites.patches.push((at, -frame));
        }
        for (ret, id) in std::mem::take(&mut self.try_calls) {
            if let Some(Some(landing)) = self.landings.get(id) {
                let frame = frame as u32;
                self.sites.handlers.push(vm_core::runtime::native::HandlerSite {
                    ret,
                    landing: *landing,
                    frame,
                });
            }
        }
        if !self.needs_membase {
            self.sites.nops.append(&mut self.membase_loads);
        }
        Ok(())
    }

    /// What [`OperatorSink::translate`] does before lowering `op`, an operator that
    /// neither opens nor closes a block, starts no fuel run and uses no 64-bit
    /// index (`local.get`/`set`/`tee`, `i32.const`): `false` when it is
    /// unreachable (skipped), else its source location recorded and its fuel
    /// counted.
    fn begin_simple(&mut self, op: &Operator<'_>) -> bool {
        if !self.reachable {
            return false;
        }
        debug_assert!(self.pending.is_none(), "a comparison left in the flags for {op:?}");
        debug_assert!(run_after(op).is_none());
        let at = self.ops.offset().0 as u32;
        self.sites.srclocs.push((at, self.offset as u32));
        self.charge(op);
        true
    }

    /// A label of an out-of-line `ud2` recorded as a trap site with `code` and this
    /// operator's wasm offset.
    pub fn trap_label(&mut self, code: TrapCode) -> DynamicLabel {
        let label = self.ops.new_dynamic_label();
        self.trap_stubs.push((label, TrapKind::Wasm(code), self.offset as u32));
        label
    }

    /// A label of an out-of-line `ud2` recorded as a [`TrapKind::Pending`] trap
    /// site: a runtime function returned a failure after recording the trap.
    pub fn pending_label(&mut self) -> DynamicLabel {
        let label = self.ops.new_dynamic_label();
        self.trap_stubs.push((label, TrapKind::Pending, self.offset as u32));
        label
    }

    /// Records the instruction about to be emitted as a trap site with `code`.
    pub fn trap_here(&mut self, code: TrapCode) {
        let at = self.ops.offset().0 as u32;
        self.sites.traps.push(TrapSite { offset: at, kind: TrapKind::Wasm(code) });
    }

    /// `lea rsp, [rbp - frame]` (the frame size is patched in by [`Self::finish`]).
    pub fn reset_rsp(&mut self) {
        dynasm!(self.ops ; .arch x64 ; lea rsp, [rbp + 0x7fff_0000]);
        self.frame_patches.push(self.ops.offset().0);
    }

    /// Local `i`.
    pub fn local(&self, i: u32) -> Result<Local, CompileError> {
        self.locals.get(i as usize).copied().ok_or(CompileError::Limit("no such local"))
    }

    /// The (parameter count, result count) of a block type.
    pub fn block_arity(&self, bt: wasmparser::BlockType) -> Result<(usize, usize), CompileError> {
        Ok(match bt {
            wasmparser::BlockType::Empty => (0, 0),
            wasmparser::BlockType::Type(t) => {
                check_type(self.env, from_wp(t), self.offset)?;
                (0, 1)
            }
            wasmparser::BlockType::FuncType(i) => {
                let ty: &FuncType = self
                    .env
                    .module
                    .types
                    .get(i as usize)
                    .ok_or(CompileError::Limit("block type"))?;
                (ty.params().len(), ty.results().len())
            }
        })
    }

    /// The signature of a block type.
    pub fn sig_of(bt: wasmparser::BlockType) -> Sig {
        match bt {
            wasmparser::BlockType::Empty => Sig::Empty,
            wasmparser::BlockType::Type(t) => Sig::One(t == wasmparser::ValType::V128),
            wasmparser::BlockType::FuncType(i) => Sig::Type(i),
        }
    }

    /// Which of a signature's parameters (`results`: results) are v128, in
    /// module `module`.
    pub fn sig_wide(
        module: &ModuleInfo,
        sig: Sig,
        results: bool,
    ) -> impl Iterator<Item = bool> + '_ {
        let (one, types): (Option<bool>, &[ValType]) = match sig {
            Sig::Empty => (None, &[]),
            Sig::One(w) => (results.then_some(w), &[]),
            Sig::Type(i) => {
                let ty = &module.types[i as usize];
                (None, if results { ty.results() } else { ty.params() })
            }
        };
        one.into_iter().chain(wide_types(types))
    }

    /// Copies 8 bytes (16 when `wide`) from `rbp + from` to `rbp + to`.
    pub fn copy_slot(&mut self, from: i32, to: i32, wide: bool) {
        if wide {
            dynasm!(self.ops
                ; .arch x64
                ; movdqu xmm15, [rbp + from]
                ; movdqu [rbp + to], xmm15
            );
        } else {
            dynasm!(self.ops
                ; .arch x64
                ; mov r11, [rbp + from]
                ; mov [rbp + to], r11
            );
        }
    }

    /// The epilogue: the results from value-stack slots `0..n` into the
    /// argument/result area, then return.
    pub fn epilogue(&mut self) {
        for j in 0..self.results.len() {
            let src = self.stack.slot(j);
            let (dst, wide) = self.results[j];
            self.copy_slot(src, dst, wide);
        }
        dynasm!(self.ops
            ; .arch x64
            ; mov rsp, rbp
            ; pop rbp
            ; ret
        );
    }

    /// The operator after the current one, when the current one is encoded in
    /// one byte (every operator that asks): `local.set`/`local.tee` with the
    /// general-purpose register of the local it writes, if it has one, or the
    /// opcode of any other. The body was validated, so the next operator starts
    /// at the next byte.
    pub fn next_op(&self) -> NextOp {
        self.op_at(self.offset as usize + 1)
    }

    /// The operator after the current one when the current one is its opcode
    /// byte and one LEB128 immediate (`local.get`).
    pub fn next_op_after_leb(&self) -> NextOp {
        self.op_at(self.after_leb(self.offset as usize + 1))
    }

    /// The operator after the current one when the current one is its opcode
    /// byte and a memory argument (the one-byte loads).
    pub fn next_op_after_memarg(&self) -> NextOp {
        let at = self.offset as usize + 1;
        let bytes = &self.env.module.bytes;
        // Bit 6 of the flags (the first LEB128 byte's bit 6, whatever the
        // encoding's length): a memory index follows them.
        let memory = bytes.get(at).is_some_and(|&b| b & 0x40 != 0);
        let mut at = self.after_leb(at);
        if memory {
            at = self.after_leb(at);
        }
        self.op_at(self.after_leb(at))
    }

    /// The module byte offset just past the LEB128 number at `at`.
    fn after_leb(&self, at: usize) -> usize {
        let bytes = &self.env.module.bytes;
        bytes
            .get(at..)
            .and_then(|b| b.iter().position(|&b| b & 0x80 == 0))
            .map_or(bytes.len(), |k| at + k + 1)
    }

    /// The operator at module byte offset `at`, as [`Self::next_op`] tells it.
    fn op_at(&self, at: usize) -> NextOp {
        let bytes = &self.env.module.bytes;
        match bytes.get(at) {
            Some(&op @ (0x21 | 0x22)) => {
                let mut index = 0u32;
                for (k, &b) in bytes.iter().skip(at + 1).take(5).enumerate() {
                    index |= u32::from(b & 0x7f) << (7 * k);
                    if b & 0x80 == 0 {
                        break;
                    }
                }
                match self.locals.get(index as usize) {
                    Some(l) if l.kind == LocalKind::Int => NextOp::Set(l.reg()),
                    _ => NextOp::Other(op),
                }
            }
            Some(&op) => NextOp::Other(op),
            None => NextOp::Other(0),
        }
    }

    /// A register for the result of the current operator, which writes it
    /// without reading it after its operands: the register local that `next`
    /// (the next operator) sets, its old value's aliases on the stack moved out
    /// first (the `local.set` then finds its own register on the stack and does
    /// nothing), or else a free register.
    pub fn result_for(&mut self, next: NextOp) -> u8 {
        match next {
            NextOp::Set(Some(dst)) => {
                self.unalias(Loc::Reg(dst));
                dst
            }
            _ => self.alloc(),
        }
    }

    /// "engine-dynasm does not lower <op> yet", as an unsupported-operator error.
    fn not_yet(&self, name: &'static str) -> CompileError {
        CompileError::unsupported(name, "not yet lowered by engine-dynasm", self.offset)
    }
}

impl<'a> OperatorSink<'a> for FuncCompiler<'_, '_> {
    fn translate(&mut self, op: Operator<'a>, name: &'static str) -> Result<(), CompileError> {
        use Operator as O;
        let live = self.reachable;
        if !live {
            match op {
                O::Block { .. } | O::Loop { .. } | O::If { .. } | O::TryTable { .. } => {
                    self.dead_depth += 1;
                    return Ok(());
                }
                O::End if self.dead_depth > 0 => {
                    self.dead_depth -= 1;
                    return Ok(());
                }
                O::Else | O::End if self.dead_depth == 0 => {}
                _ => return Ok(()),
            }
        }
        debug_assert!(
            self.pending.is_none() || matches!(op, O::BrIf { .. } | O::If { .. }),
            "a comparison left in the flags for {op:?}"
        );
        let at = self.ops.offset().0 as u32;
        self.sites.srclocs.push((at, self.offset as u32));
        if live {
            self.charge(&op);
        }
        let next = if self.env.limits_on() { run_after(&op) } else { None };
        let module = self.env.module;
        let wide = if self.env.index64 && live {
            index64(&op, &module.memories, &module.tables)
        } else {
            None
        };
        if let Some(l) = wide {
            let n = self.stack.len();
            for d in (0..8).filter(|d| l.clamp & (1 << d) != 0) {
                self.clamp_index64(n - 1 - d);
            }
        }
        match op {
            O::Nop => {}
            O::Unreachable => {
                self.trap_here(TrapCode::Unreachable);
                dynasm!(self.ops ; .arch x64 ; ud2);
                self.reachable = false;
            }
            O::Block { blockty } => self.block(Kind::Block, blockty)?,
            O::TryTable { try_table } => self.try_table(&try_table)?,
            O::Throw { tag_index } => self.throw(tag_index)?,
            O::ThrowRef => self.throw_ref(),
            O::Loop { blockty } => self.block(Kind::Loop, blockty)?,
            O::If { blockty } => self.if_(blockty)?,
            O::Else => self.else_()?,
            O::End => self.end()?,
            O::Br { relative_depth } => self.br(relative_depth)?,
            O::BrIf { relative_depth } => self.br_if(relative_depth)?,
            O::BrOnNull { relative_depth } => self.br_on_null(relative_depth, true)?,
            O::BrOnNonNull { relative_depth } => self.br_on_null(relative_depth, false)?,
            O::BrTable { targets } => self.br_table(&targets)?,
            O::Return => self.br(self.controls.len() as u32 - 1)?,
            O::Call { function_index } => self.call(function_index)?,
            O::ReturnCall { function_index } => self.return_call(function_index)?,
            O::Drop => self.drop_(),
            O::Select | O::TypedSelect { .. } => self.select(),
            O::LocalGet { local_index } => self.local_get(local_index)?,
            O::LocalSet { local_index } => self.local_set(local_index, false)?,
            O::LocalTee { local_index } => self.local_set(local_index, true)?,
            O::GlobalGet { global_index } => self.global_get(global_index)?,
            O::GlobalSet { global_index } => self.global_set(global_index),
            O::I32Const { value } => self.stack.push(Loc::Const(i64::from(value))),
            O::I64Const { value } => self.stack.push(Loc::Const(value)),
            O::F32Const { value } => self.stack.push(Loc::Const(i64::from(value.bits() as i32))),
            O::F64Const { value } => self.stack.push(Loc::Const(value.bits() as i64)),
            op => {
                if !(self.binary(&op)?
                    || self.memory(&op)?
                    || self.float(&op, name)?
                    || self.simd(&op, name)?
                    || self.runtime_op(&op)?)
                {
                    return Err(self.not_yet(name));
                }
            }
        }
        match wide.map(|l| l.result) {
            Some(Widen::Size) => {
                let r = self.pop_reg();
                dynasm!(self.ops ; .arch x64 ; mov Rd(r), Rd(r));
                self.stack.push(Loc::Reg(r));
            }
            Some(Widen::Grow) => {
                let r = self.pop_reg();
                dynasm!(self.ops ; .arch x64 ; movsxd Rq(r), Rd(r));
                self.stack.push(Loc::Reg(r));
            }
            _ => {}
        }
        self.after_op(next)
    }

    fn offset(&self) -> u64 {
        self.offset
    }
}

impl FuncCompiler<'_, '_> {
    fn drop_(&mut self) {
        match self.stack.pop() {
            Some(Loc::Reg(r)) => self.stack.free(r),
            Some(Loc::Xmm(x)) => self.stack.free_xmm(x),
            _ => {}
        }
    }

    fn select(&mut self) {
        let c = self.pop_read();
        let n = self.stack.len();
        if self.stack.wide(n - 1) {
            return self.select_v128(c);
        }
        if matches!(self.stack.entry(n - 1), Some(Loc::Xmm(_)))
            || matches!(self.stack.entry(n - 2), Some(Loc::Xmm(_)))
        {
            return self.select_xmm(c);
        }
        let b = self.pop_read();
        let a = self.pop_reg();
        dynasm!(self.ops
            ; .arch x64
            ; test Rd(c), Rd(c)
            ; cmovz Rq(a), Rq(b)
        );
        self.stack.free(b);
        self.stack.free(c);
        self.stack.push(Loc::Reg(a));
    }

    /// The address of global `i`'s storage into `r`.
    fn global_addr(&mut self, r: u8, i: u32) {
        self.vmctx_field(r, o::VMCTX_GLOBALS as i32);
        dynasm!(self.ops ; .arch x64 ; mov Rq(r), [Rq(r) + 8 * i as i32]);
    }

    fn global_get(&mut self, i: u32) -> Result<(), CompileError> {
        let ty = self.env.module.globals.get(i as usize).ok_or(CompileError::Limit("global"))?;
        check_type(self.env, ty.ty, self.offset)?;
        if ty.ty == ValType::V128 {
            let x = self.alloc_xmm();
            self.global_addr(reg::SCRATCH, i);
            dynasm!(self.ops ; .arch x64 ; movdqu Rx(x), [r11 + o::GLOBAL_LO as i32]);
            self.stack.push_v128(x);
            return Ok(());
        }
        if is_float(ty.ty) {
            let x = self.alloc_xmm();
            self.global_addr(reg::SCRATCH, i);
            dynasm!(self.ops ; .arch x64 ; movsd Rx(x), [r11 + o::GLOBAL_LO as i32]);
            self.stack.push(Loc::Xmm(x));
            return Ok(());
        }
        let r = self.alloc();
        self.global_addr(r, i);
        dynasm!(self.ops ; .arch x64 ; mov Rq(r), [Rq(r) + o::GLOBAL_LO as i32]);
        self.stack.push(Loc::Reg(r));
        Ok(())
    }

    fn global_set(&mut self, i: u32) {
        if self.stack.wide(self.stack.len() - 1) {
            let x = self.pop_v128();
            self.global_addr(reg::SCRATCH, i);
            dynasm!(self.ops ; .arch x64 ; movdqu [r11 + o::GLOBAL_LO as i32], Rx(x));
            self.stack.free_xmm(x);
            return;
        }
        if let Some(Loc::Xmm(x)) = self.stack.peek() {
            self.stack.pop();
            self.global_addr(reg::SCRATCH, i);
            dynasm!(self.ops ; .arch x64 ; movsd [r11 + o::GLOBAL_LO as i32], Rx(x));
            self.stack.free_xmm(x);
            return;
        }
        let v = self.pop_read();
        self.global_addr(reg::SCRATCH, i);
        dynasm!(self.ops ; .arch x64 ; mov [r11 + o::GLOBAL_LO as i32], Rq(v));
        self.stack.free(v);
    }
}
