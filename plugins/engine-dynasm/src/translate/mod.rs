//! The single-pass translator: one pass over a function's operators (through
//! vm-core's [`Wasm2Operators`] filter), emitting x86-64 as it goes. The value
//! stack and register allocation are in [`stack`]; each instruction family has its
//! own file.

mod binary;
mod branch;
mod call;
mod float;
mod limits;
mod memory;
mod runtime;
mod stack;

use dynasm::dynasm;
use dynasmrt::{DynamicLabel, DynasmApi, DynasmLabelApi};
use vm_core::runtime::limits::{RunStart, run_after};
use vm_core::runtime::native::{TrapKind, TrapSite};
use vm_core::runtime::offsets as o;
use vm_core::runtime::operators::{OperatorSink, Wasm2Operators};
use vm_core::runtime::{CompileError, FuncType, ModuleInfo, TrapCode, ValType};
use wasmparser::{FunctionBody, Operator};

pub(crate) use stack::Loc;
use stack::ValueStack;

/// The assembler a module is emitted into.
pub(crate) type Asm = dynasmrt::VecAssembler<dynasmrt::x64::X64Relocation>;

/// Register numbers (x86-64 encoding).
pub(crate) mod reg {
    pub const RAX: u8 = 0;
    pub const RCX: u8 = 1;
    pub const RDX: u8 = 2;
    /// The scratch register (`r11`): never allocated, free between two emitted
    /// sequences. (`r15` holds the instance context in every wasm function.)
    pub const SCRATCH: u8 = 11;
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
    /// Whether the host CPU has SSE4.1 (`roundss`/`roundsd` for the float
    /// rounding operators), checked once per module.
    pub sse41: bool,
    /// Fuel metering is compiled in.
    pub fuel: bool,
    /// Interruption checks are compiled in.
    pub interrupt: bool,
    /// Calls report wasm-call events (an observer of the composition subscribes).
    pub call_events: bool,
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
    /// `rbp` displacement of each local.
    locals: Vec<i32>,
    /// Whether each local is a float (read into an xmm register).
    local_float: Vec<bool>,
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
    /// Slots of the argument/result area (larger of parameter and result counts).
    area: usize,
    nresults: usize,
    /// Offsets where the frame size goes.
    frame_patches: Vec<usize>,
}

/// Whether a value type is carried in one 8-byte slot by this engine.
fn check_type(t: ValType, offset: u64) -> Result<(), CompileError> {
    match t {
        ValType::V128 => Err(CompileError::unsupported("v128 value", "simd", offset)),
        _ => Ok(()),
    }
}

/// [`check_type`] for a `wasmparser` type.
fn check_wp_type(t: wasmparser::ValType, offset: u64) -> Result<(), CompileError> {
    match t {
        wasmparser::ValType::V128 => Err(CompileError::unsupported("v128 value", "simd", offset)),
        _ => Ok(()),
    }
}

/// Whether values of type `t` live in xmm registers.
fn is_float(t: ValType) -> bool {
    matches!(t, ValType::F32 | ValType::F64)
}

/// `rbp` displacement of parameter `i` of a function whose argument/result area has
/// `area` slots: the caller's stack top lies at the lowest address, so slot `k`
/// (a parameter's or result's index) is at `rbp + 16 + 8 * (area - 1 - k)`.
pub(crate) fn area_slot(area: usize, k: usize) -> i32 {
    16 + 8 * (area - 1 - k) as i32
}

/// `rbp` displacement of the `vmctx` spill slot.
const VMCTX_SLOT: i32 = -8;

impl<'a, 'm> FuncCompiler<'a, 'm> {
    /// Translates defined function `index` (module index space) with body `body`.
    pub fn compile(
        ops: &'a mut Asm,
        env: &'a ModuleEnv<'m>,
        sites: &'a mut Sites,
        index: u32,
        body: &FunctionBody<'_>,
    ) -> Result<(), CompileError> {
        let start_offset = body.range().start;
        let ty = env.module.func_type(index).ok_or(CompileError::Limit("function type"))?;
        let nparams = ty.params().len();
        let nresults = ty.results().len();
        for &t in ty.params().iter().chain(ty.results()) {
            check_type(t, start_offset)?;
        }
        let area = nparams.max(nresults);
        let mut locals: Vec<i32> = (0..nparams).map(|i| area_slot(area, i)).collect();
        let mut local_float: Vec<bool> = ty.params().iter().map(|&t| is_float(t)).collect();
        let mut reader = body.get_locals_reader()?;
        let mut nbody = 0usize;
        for _ in 0..reader.get_count() {
            let (count, t) = reader.read()?;
            check_wp_type(t, start_offset)?;
            for _ in 0..count {
                if nbody >= 1 << 20 {
                    return Err(CompileError::Limit("engine-dynasm: more than 2^20 locals"));
                }
                locals.push(-16 - 8 * nbody as i32);
                local_float.push(matches!(t, wasmparser::ValType::F32 | wasmparser::ValType::F64));
                nbody += 1;
            }
        }
        // Below the locals: the value stack's canonical slots.
        let slot0 = -16 - 8 * nbody as i32;
        let mut c = FuncCompiler {
            ops,
            env,
            sites,
            stack: ValueStack::new(slot0),
            locals,
            local_float,
            controls: Vec::new(),
            reachable: true,
            dead_depth: 0,
            trap_stubs: Vec::new(),
            run: None,
            offset: start_offset,
            area,
            nresults,
            frame_patches: Vec::new(),
        };
        c.prologue(nbody);
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
        });
        let mut reader = body.get_operators_reader()?;
        while !reader.eof() {
            c.offset = reader.original_position();
            reader.visit_operator(&mut Wasm2Operators(&mut c))??;
        }
        c.finish(slot0)
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

    /// Emits the trap stubs and writes the frame size into the prologue and the
    /// call sites.
    fn finish(mut self, slot0: i32) -> Result<(), CompileError> {
        if !self.controls.is_empty() {
            return Err(CompileError::Body {
                offset: self.offset,
                message: "engine-dynasm: function body ends inside a block".into(),
            });
        }
        self.finish_run()?;
        for (label, kind, wasm) in std::mem::take(&mut self.trap_stubs) {
            dynasm!(self.ops ; .arch x64 ; =>label);
            let at = self.ops.offset().0 as u32;
            self.sites.traps.push(TrapSite { offset: at, kind });
            self.sites.srclocs.push((at, wasm));
            dynasm!(self.ops ; .arch x64 ; ud2);
        }
        // The frame: vmctx, locals, the deepest value stack, rounded to 16 bytes.
        let bottom = -(slot0 as i64) + 8 * self.stack.max_depth() as i64;
        let frame = (bottom + 15) & !15;
        let frame = i32::try_from(frame)
            .map_err(|_| CompileError::Limit("engine-dynasm: frame larger than 2 GiB"))?;
        for at in self.frame_patches {
            self.sites.patches.push((at, -frame));
        }
        Ok(())
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

    /// The `rbp` displacement of local `i`.
    pub fn local(&self, i: u32) -> Result<i32, CompileError> {
        self.locals.get(i as usize).copied().ok_or(CompileError::Limit("no such local"))
    }

    /// The (parameter count, result count) of a block type.
    pub fn block_arity(&self, bt: wasmparser::BlockType) -> Result<(usize, usize), CompileError> {
        Ok(match bt {
            wasmparser::BlockType::Empty => (0, 0),
            wasmparser::BlockType::Type(t) => {
                check_wp_type(t, self.offset)?;
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

    /// The epilogue: the results from value-stack slots `0..n` into the
    /// argument/result area, then return.
    pub fn epilogue(&mut self) {
        for j in 0..self.nresults {
            let src = self.stack.slot(j);
            let dst = area_slot(self.area, j);
            dynasm!(self.ops
                ; .arch x64
                ; mov r11, [rbp + src]
                ; mov [rbp + dst], r11
            );
        }
        dynasm!(self.ops
            ; .arch x64
            ; mov rsp, rbp
            ; pop rbp
            ; ret
        );
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
                O::Block { .. } | O::Loop { .. } | O::If { .. } => {
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
        let at = self.ops.offset().0 as u32;
        self.sites.srclocs.push((at, self.offset as u32));
        if live {
            self.charge(&op);
        }
        let next = run_after(&op);
        match op {
            O::Nop => {}
            O::Unreachable => {
                self.trap_here(TrapCode::Unreachable);
                dynasm!(self.ops ; .arch x64 ; ud2);
                self.reachable = false;
            }
            O::Block { blockty } => self.block(Kind::Block, blockty)?,
            O::Loop { blockty } => self.block(Kind::Loop, blockty)?,
            O::If { blockty } => self.if_(blockty)?,
            O::Else => self.else_()?,
            O::End => self.end()?,
            O::Br { relative_depth } => self.br(relative_depth)?,
            O::BrIf { relative_depth } => self.br_if(relative_depth)?,
            O::BrTable { targets } => self.br_table(&targets)?,
            O::Return => self.br(self.controls.len() as u32 - 1)?,
            O::Call { function_index } => self.call(function_index)?,
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
                    || self.runtime_op(&op)?)
                {
                    return Err(self.not_yet(name));
                }
            }
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
        let c = self.pop_reg();
        let n = self.stack.len();
        if matches!(self.stack.entry(n - 1), Some(Loc::Xmm(_)))
            || matches!(self.stack.entry(n - 2), Some(Loc::Xmm(_)))
        {
            return self.select_xmm(c);
        }
        let b = self.pop_reg();
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

    fn local_get(&mut self, i: u32) -> Result<(), CompileError> {
        let disp = self.local(i)?;
        if self.local_float[i as usize] {
            let x = self.alloc_xmm();
            dynasm!(self.ops ; .arch x64 ; movsd Rx(x), [rbp + disp]);
            self.stack.push(Loc::Xmm(x));
            return Ok(());
        }
        let r = self.alloc();
        dynasm!(self.ops ; .arch x64 ; mov Rq(r), [rbp + disp]);
        self.stack.push(Loc::Reg(r));
        Ok(())
    }

    fn local_set(&mut self, i: u32, tee: bool) -> Result<(), CompileError> {
        let disp = self.local(i)?;
        match self.stack.peek() {
            Some(Loc::Const(c)) if !tee && i32::try_from(c).is_ok() => {
                self.stack.pop();
                dynasm!(self.ops ; .arch x64 ; mov QWORD [rbp + disp], c as i32);
            }
            Some(Loc::Xmm(x)) => {
                self.stack.pop();
                dynasm!(self.ops ; .arch x64 ; movsd [rbp + disp], Rx(x));
                if tee {
                    self.stack.push(Loc::Xmm(x));
                } else {
                    self.stack.free_xmm(x);
                }
            }
            _ => {
                let r = self.pop_reg();
                dynasm!(self.ops ; .arch x64 ; mov [rbp + disp], Rq(r));
                if tee {
                    self.stack.push(Loc::Reg(r));
                } else {
                    self.stack.free(r);
                }
            }
        }
        Ok(())
    }

    /// The address of global `i`'s storage into `r`.
    fn global_addr(&mut self, r: u8, i: u32) {
        dynasm!(self.ops
            ; .arch x64
            ; mov Rq(r), [r15 + o::VMCTX_GLOBALS as i32]
            ; mov Rq(r), [Rq(r) + 8 * i as i32]
        );
    }

    fn global_get(&mut self, i: u32) -> Result<(), CompileError> {
        let ty = self.env.module.globals.get(i as usize).ok_or(CompileError::Limit("global"))?;
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
        if let Some(Loc::Xmm(x)) = self.stack.peek() {
            self.stack.pop();
            self.global_addr(reg::SCRATCH, i);
            dynasm!(self.ops ; .arch x64 ; movsd [r11 + o::GLOBAL_LO as i32], Rx(x));
            self.stack.free_xmm(x);
            return;
        }
        let v = self.pop_reg();
        self.global_addr(reg::SCRATCH, i);
        dynasm!(self.ops ; .arch x64 ; mov [r11 + o::GLOBAL_LO as i32], Rq(v));
        self.stack.free(v);
    }
}
