//! Translation of a function body into register-machine [`Op`]s, in one pass.
//!
//! Every operand-stack height has a frame slot (after the parameters and locals).
//! The translator keeps a compile-time model of the operand stack whose entries are
//! either in their own slot, a local (`local.get` copies nothing) or a constant
//! (folded into immediates where an instruction has them). A `local.set` redirects
//! the result of the instruction that produced its value, a comparison feeding a
//! `br_if`/`if` becomes a compare-and-branch, and calls take their arguments where
//! they already are: the callee's frame starts at its first argument's slot.
//!
//! At every control-flow join (block entry, branch, `else`, `end`) values live in
//! their own slots, so all paths into a label agree on where values are.

mod gc;
mod simd;

#[cfg(test)]
mod tests;

use vm_core::runtime::limits::{self, RunStart};
use vm_core::runtime::module::ModuleInfo;
use vm_core::runtime::operators::{
    Index64, OperatorSink, Wasm2Operators, Widen, index64, memory_index,
};
use vm_core::runtime::{CompileError, ExecLimits, FuncType, ValType, clamp_index64};
use wasmparser::{BlockType, FunctionBody, Operator};

use crate::code::{BinaryOp, CATCH_ALL, Catch, FuncCode, Op, slot_count, slots_of};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CtrlKind {
    Block,
    Loop,
    If,
    Else,
}

#[derive(Debug)]
struct Ctrl {
    kind: CtrlKind,
    /// Operand-stack height below the block's parameters.
    height: usize,
    params: u32,
    results: u32,
    /// Loop header (branch target of a `loop`).
    start: usize,
    /// Branches to patch with the block's end.
    fixups: Vec<usize>,
    /// The `if`'s conditional branch to patch with the `else` or end.
    if_branch: Option<usize>,
    /// The block's type (where its `v128` parameters and results are).
    ty: BlockType,
    /// A `try_table`'s catch clauses: (tag or [`CATCH_ALL`], landing pad).
    catches: Vec<(u32, u32)>,
}

/// Where a value of the compile-time operand stack is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Val {
    /// In the slot of its stack height.
    Slot,
    /// In local `n` (which is not written while this entry lives).
    Local(u32),
    /// A constant (raw bits).
    Const(u64),
}

/// Translates the functions of one module into one code array.
pub struct FuncTranslator<'m> {
    module: &'m ModuleInfo,
    ops: Vec<Op>,
    ctrl: Vec<Ctrl>,
    stack: Vec<Val>,
    /// First temporary slot (parameters + locals).
    locals_end: u32,
    /// First declared local (the parameter count).
    locals_start: u32,
    max_stack: usize,
    /// Code after an unconditional branch is skipped until the frame's `else`/`end`.
    unreachable: bool,
    /// Nesting depth of blocks opened inside skipped code.
    dead_depth: u32,
    /// Index of the `Fuel`/`FuelCheck` op charging the current straight-line run.
    fuel_op: Option<usize>,
    fuel: bool,
    /// Interruption checks are emitted.
    interrupt: bool,
    /// First instruction that may be rewritten by later ones (after the last label).
    barrier: usize,
    /// The [`Op::Call`] just emitted, with no label since: a `local.set` of its
    /// result may still become its `ret`.
    call_at: Option<usize>,
    /// First instruction of the function's entry run (the straight-line code
    /// before the first label, run once per call), while still in it.
    entry_run: Option<usize>,
    results: u32,
    offset: u64,
    /// Constants read from slots by the current function (slot `CONST_TAG | k`
    /// until the function's frame size is known).
    consts: Vec<u64>,
    /// Every function's constants, back to back.
    pool: Vec<u64>,
    /// Which stack entries are the high half of a `v128` (by height; entries above
    /// the stack are stale).
    hi: Vec<bool>,
    /// The slot and `v128`-ness of every local of the current function, when it has
    /// a `v128` parameter or local (otherwise a local's slot is its index).
    local_slots: Vec<(u32, bool)>,
    /// The module's `v128` constants and shuffle lane indexes.
    v128s: Vec<u128>,
    /// The catch clauses of every function translated so far.
    catches: Vec<Catch>,
    /// The validator of the function being translated, run in step with it (the
    /// types of operands and locals at a safepoint; see `gc.rs`).
    validator: Option<wasmparser::FuncValidator<wasmparser::ValidatorResources>>,
    /// Slots of the current function's locals that can hold GC objects.
    ref_locals: Vec<u32>,
    /// The GC instructions of the code translated so far.
    gc: Vec<crate::code::GcInstr>,
    /// The stack maps of the calls translated so far (see [`crate::code::ModuleCode`]).
    call_maps: crate::code::CallMaps,
    /// The roots of the call being translated, until its instruction is emitted.
    pending_call_map: Option<Box<[u32]>>,
}

/// Marks a constant slot number before it is resolved.
const CONST_TAG: u32 = 1 << 31;

/// Longest entry run scanned for writes of a local (bounds translation time).
const ENTRY_RUN_SCAN: usize = 64;

/// Constants per function kept in slots; beyond, constants are materialized.
const MAX_CONSTS: usize = 64;

fn limit(n: usize) -> Result<u32, CompileError> {
    u32::try_from(n).map_err(|_| CompileError::Limit("code size"))
}

impl<'m> FuncTranslator<'m> {
    /// A translator for `module`, emitting the fuel charges and interruption checks
    /// `limits` asks for.
    pub fn new(module: &'m ModuleInfo, limits: ExecLimits) -> Self {
        Self {
            module,
            ops: Vec::new(),
            ctrl: Vec::new(),
            stack: Vec::new(),
            locals_end: 0,
            locals_start: 0,
            max_stack: 0,
            unreachable: false,
            dead_depth: 0,
            fuel_op: None,
            fuel: limits.metering(),
            interrupt: limits.interrupt_checks(),
            barrier: 0,
            call_at: None,
            entry_run: None,
            results: 0,
            offset: 0,
            consts: Vec::new(),
            pool: Vec::new(),
            hi: Vec::new(),
            local_slots: Vec::new(),
            v128s: Vec::new(),
            catches: Vec::new(),
            validator: None,
            ref_locals: Vec::new(),
            gc: Vec::new(),
            call_maps: Vec::new(),
            pending_call_map: None,
        }
    }

    /// The validator of the next function to translate, whose types give the stack
    /// maps of its safepoints (without one, only its locals are roots).
    pub fn set_validator(&mut self, v: wasmparser::FuncValidator<wasmparser::ValidatorResources>) {
        self.validator = Some(v);
    }

    /// The GC instructions and call stack maps of the code translated so far, taken out.
    pub fn take_gc(&mut self) -> (Vec<crate::code::GcInstr>, crate::code::CallMaps) {
        (std::mem::take(&mut self.gc), std::mem::take(&mut self.call_maps))
    }

    /// The `v128` constants and shuffle lane indexes of the code translated so far
    /// (indexes of [`Op::V128Const`] and [`Op::I8x16Shuffle`]), taken out.
    pub fn take_v128s(&mut self) -> Vec<u128> {
        std::mem::take(&mut self.v128s)
    }

    /// The code translated so far and the constant pool.
    pub fn finish(self) -> (Vec<Op>, Vec<u64>) {
        (self.ops, self.pool)
    }

    /// The catch clauses of the code translated so far (see [`Catch`]), taken out.
    pub fn take_catches(&mut self) -> Vec<Catch> {
        std::mem::take(&mut self.catches)
    }

    /// Translates function `index` (module index space) with body `body`.
    ///
    /// # Errors
    /// An unsupported operator or an engine limit.
    pub fn translate(
        &mut self,
        index: u32,
        body: &FunctionBody<'_>,
    ) -> Result<FuncCode, CompileError> {
        let ty: &FuncType =
            self.module.func_type(index).ok_or(CompileError::Limit("function type"))?;
        let params = slots_of(ty.params());
        self.results = slots_of(ty.results());
        let mut locals: u32 = 0;
        let mut wide = ty.params().contains(&ValType::V128);
        for l in body.get_locals_reader()? {
            let (n, t) = l?;
            let n = if t == wasmparser::ValType::V128 {
                wide = true;
                n.checked_mul(2).ok_or(CompileError::Limit("locals"))?
            } else {
                n
            };
            locals = locals
                .checked_add(n)
                .filter(|&n| n <= 1_000_000)
                .ok_or(CompileError::Limit("locals"))?;
        }
        self.local_slots.clear();
        if wide {
            let mut at = 0;
            for &t in ty.params() {
                self.local_slots.push((at, t == ValType::V128));
                at += slot_count(t);
            }
            for l in body.get_locals_reader()? {
                let (n, t) = l?;
                let v = t == wasmparser::ValType::V128;
                for _ in 0..n {
                    self.local_slots.push((at, v));
                    at += if v { 2 } else { 1 };
                }
            }
        }
        let entry = limit(self.ops.len())?;
        let first_catch = self.catches.len();
        let (first_gc, first_map) = (self.gc.len(), self.call_maps.len());
        self.ref_locals.clear();
        if let Some(v) = &mut self.validator {
            let mut r = body.get_binary_reader();
            v.read_locals(&mut r).map_err(|e| CompileError::Limit(leak_reason(&e)))?;
            for i in 0..v.len_locals() {
                if v.get_local_type(i).is_some_and(|t| gc::holds_objects(v, t)) {
                    let slot = if self.local_slots.is_empty() {
                        i
                    } else {
                        self.local_slots.get(i as usize).map_or(i, |l| l.0)
                    };
                    self.ref_locals.push(slot);
                }
            }
        }
        self.locals_end = params + locals;
        self.locals_start = params;
        self.stack.clear();
        self.max_stack = 0;
        self.unreachable = false;
        self.dead_depth = 0;
        self.fuel_op = None;
        // Filled in below, once the frame size is known.
        self.emit(Op::Enter { frame: 0, func: index, zero_at: params, zeros: locals });
        self.barrier = self.ops.len();
        self.consts.clear();
        self.ctrl.clear();
        self.ctrl.push(Ctrl {
            kind: CtrlKind::Block,
            height: 0,
            params: 0,
            results: self.results,
            start: entry as usize,
            fixups: Vec::new(),
            if_branch: None,
            ty: BlockType::Empty,
            catches: Vec::new(),
        });
        self.fuel_point(Some(RunStart::Check));
        self.entry_run = Some(self.ops.len());
        let mut reader = body.get_operators_reader()?;
        // The validator reads the same operators with a reader of its own, one step
        // behind the translator (so that while an operator is translated the
        // validator's operand stack is the one before it): no `Operator` is built or
        // cloned for it.
        let mut validated = reader.get_binary_reader();
        while !reader.eof() {
            self.offset = reader.original_position();
            reader.visit_operator(&mut Wasm2Operators(&mut *self))??;
            if let Some(v) = &mut self.validator {
                let at = validated.original_position();
                validated
                    .visit_operator(&mut v.visitor(at))
                    .and_then(|r| r)
                    .map_err(|e| CompileError::Limit(leak_reason(&e)))?;
            }
        }
        // Frame: parameters, locals, constants, temporaries.
        let consts_at = self.locals_end;
        let consts_len = self.consts.len() as u32;
        let frame = (consts_at as usize + consts_len as usize)
            .checked_add(self.max_stack + 1)
            .filter(|&n| n < CONST_TAG as usize / 2)
            .ok_or(CompileError::Limit("frame size"))? as u32;
        if consts_len != 0 {
            let remap = |s: u32| {
                if s & CONST_TAG != 0 {
                    consts_at + (s & !CONST_TAG)
                } else if s >= consts_at {
                    s + consts_len
                } else {
                    s
                }
            };
            for op in &mut self.ops[entry as usize..] {
                op.map_slots(remap);
            }
            for g in &mut self.gc[first_gc..] {
                g.roots.iter_mut().for_each(|s| *s = remap(*s));
            }
            for (at, roots) in &mut self.call_maps[first_map..] {
                // The `Consts` instruction goes in after the entry, below.
                *at += 1;
                roots.iter_mut().for_each(|s| *s = remap(*s));
            }
        }
        self.validator = None;
        let consts_start = limit(self.pool.len())?;
        self.pool.extend_from_slice(&self.consts);
        if let Some(Op::Enter { frame: f, .. }) = self.ops.get_mut(entry as usize) {
            *f = frame;
        }
        if consts_len != 0 {
            // Branch offsets are relative and no branch targets the entry, so an
            // instruction can still go in right after it.
            let op = Op::Consts { at: consts_at, start: consts_start, len: consts_len };
            self.ops.insert(entry as usize + 1, op);
            // Every covered range and landing pad is after the entry.
            for c in &mut self.catches[first_catch..] {
                c.start += 1;
                c.end += 1;
                c.landing += 1;
            }
        }
        Ok(FuncCode { entry, params, locals, frame, index, consts_at, consts_start, consts_len })
    }

    fn emit(&mut self, op: Op) {
        self.ops.push(op);
    }

    /// The slot of operand-stack height `h`.
    fn slot(&self, h: usize) -> u32 {
        self.locals_end + h as u32
    }

    /// Pushes a value that is in its own slot; returns that slot.
    fn push_slot(&mut self) -> u32 {
        let s = self.slot(self.stack.len());
        self.push(Val::Slot);
        s
    }

    fn push(&mut self, v: Val) {
        self.set_hi(self.stack.len(), false);
        self.stack.push(v);
        self.max_stack = self.max_stack.max(self.stack.len());
    }

    /// Pushes a `v128` in its own two slots; returns the first.
    fn push_v128(&mut self) -> u32 {
        let s = self.push_slot();
        self.push_slot();
        self.set_hi(self.stack.len() - 1, true);
        s
    }

    /// Pushes a `v128` whose halves are at `lo` and `hi` (a local's slots).
    fn push_v128_local(&mut self, lo: u32) {
        self.push(Val::Local(lo));
        self.push(Val::Local(lo + 1));
        self.set_hi(self.stack.len() - 1, true);
    }

    fn set_hi(&mut self, h: usize, hi: bool) {
        if h >= self.hi.len() {
            self.hi.resize(h + 1, false);
        }
        self.hi[h] = hi;
    }

    /// Whether stack entry `h` is the high half of a `v128`.
    fn is_hi(&self, h: usize) -> bool {
        self.hi.get(h).copied().unwrap_or(false)
    }

    /// Pushes values of types `tys` in their own slots.
    fn push_types(&mut self, tys: &[ValType]) {
        for &t in tys {
            if t == ValType::V128 {
                self.push_v128();
            } else {
                self.push_slot();
            }
        }
    }

    /// Pushes the parameters (or, with `results`, the results) of block type `bt`
    /// in their own slots.
    fn push_block_types(&mut self, bt: BlockType, results: bool) -> Result<(), CompileError> {
        match bt {
            BlockType::Empty => {}
            BlockType::Type(t) if results => {
                if t == wasmparser::ValType::V128 {
                    self.push_v128();
                } else {
                    self.push_slot();
                }
            }
            BlockType::Type(_) => {}
            BlockType::FuncType(i) => {
                let module = self.module;
                let t = module.types.get(i as usize).ok_or(CompileError::Limit("block type"))?;
                self.push_types(if results { t.results() } else { t.params() });
            }
        }
        Ok(())
    }

    /// The slot of local `l` and whether it is a `v128` (two slots from there).
    fn local(&self, l: u32) -> (u32, bool) {
        if self.local_slots.is_empty() {
            (l, false)
        } else {
            self.local_slots.get(l as usize).copied().unwrap_or((l, false))
        }
    }

    fn pop(&mut self) -> Val {
        self.stack.pop().unwrap_or(Val::Slot)
    }

    /// A slot holding stack entry `h`: its own, a local's, or a constant slot
    /// (materializing the constant in its own slot when the function has many).
    fn operand(&mut self, h: usize) -> u32 {
        match self.stack[h] {
            Val::Slot => self.slot(h),
            Val::Local(l) => l,
            Val::Const(c) if let Some(k) = self.consts.iter().position(|&v| v == c) => {
                CONST_TAG | k as u32
            }
            Val::Const(c) if self.consts.len() < MAX_CONSTS => {
                self.consts.push(c);
                CONST_TAG | (self.consts.len() - 1) as u32
            }
            Val::Const(c) => {
                let dst = self.slot(h);
                self.emit(Op::Const { dst, lo: c as u32, hi: (c >> 32) as u32 });
                self.stack[h] = Val::Slot;
                dst
            }
        }
    }

    /// Writes value `v` to slot `dst`.
    fn copy_to(&mut self, dst: u32, v: Val, own: u32) {
        match v {
            Val::Slot if own == dst => {}
            Val::Slot => self.emit_copy(dst, own),
            Val::Local(l) if l == dst => {}
            Val::Local(l) => self.emit_copy(dst, l),
            Val::Const(c) => self.emit(Op::Const { dst, lo: c as u32, hi: (c >> 32) as u32 }),
        }
    }

    /// Emits `dst = src`; folds it into an `i32.add` by a constant just before it
    /// (no label between) that increments a slot in place, or that computes `src`.
    fn emit_copy(&mut self, dst: u32, src: u32) {
        if self.ops.len() > self.barrier
            && let Some(&Op::I32AddImm { dst: d, lhs, imm }) = self.ops.last()
        {
            let at = self.ops.len() - 1;
            if d == lhs {
                self.ops[at] = Op::I32AddImmCopy { a: d, k: imm, dst, src };
                return;
            }
            if src == d {
                self.ops[at] = Op::I32AddImmTee { dst: d, lhs, imm, dst2: dst };
                return;
            }
        }
        self.emit(Op::Copy { dst, src });
    }

    /// Puts stack entry `h` into its own slot.
    fn materialize(&mut self, h: usize) {
        let own = self.slot(h);
        let v = self.stack[h];
        self.copy_to(own, v, own);
        self.stack[h] = Val::Slot;
    }

    /// Puts the top `n` stack entries into their own slots.
    fn materialize_top(&mut self, n: usize) {
        for h in self.stack.len().saturating_sub(n)..self.stack.len() {
            self.materialize(h);
        }
    }

    /// Puts every stack entry into its own slot.
    fn materialize_all(&mut self) {
        self.materialize_top(self.stack.len());
    }

    /// The last instruction, if it produced the top stack entry in its own slot and
    /// may still be rewritten.
    fn top_producer(&mut self) -> Option<usize> {
        let h = self.stack.len().checked_sub(1)?;
        if self.stack[h] != Val::Slot || self.ops.len() <= self.barrier {
            return None;
        }
        let at = self.ops.len() - 1;
        let own = self.slot(h);
        (self.ops[at].dst_mut().copied() == Some(own)).then_some(at)
    }

    /// Starts a new straight-line run for fuel accounting (`kind` from
    /// [`limits::run_after`], or the function entry's check); returns where the run's
    /// code starts.
    fn fuel_point(&mut self, kind: Option<RunStart>) -> usize {
        self.label();
        let start = self.ops.len();
        debug_assert!(kind.is_some(), "a run starts only where vm-core says");
        let check = kind == Some(RunStart::Check);
        if self.fuel {
            self.fuel_op = Some(self.ops.len());
            self.emit(if check { Op::FuelCheck(0) } else { Op::Fuel(0) });
        }
        if check && self.interrupt {
            self.emit(Op::Interrupt);
        }
        start
    }

    /// Marks the current position as a possible branch target: no rewriting across it.
    fn label(&mut self) {
        self.barrier = self.ops.len();
        self.call_at = None;
        self.entry_run = None;
    }

    fn charge(&mut self, op: &Operator<'_>) {
        if let Some(i) = self.fuel_op
            && let Some(Op::Fuel(n) | Op::FuelCheck(n)) = self.ops.get_mut(i)
        {
            *n += limits::cost(op) as u32;
        }
    }

    fn block_arity(&self, bt: BlockType) -> Result<(u32, u32), CompileError> {
        Ok(match bt {
            BlockType::Empty => (0, 0),
            BlockType::Type(t) => (0, if t == wasmparser::ValType::V128 { 2 } else { 1 }),
            BlockType::FuncType(i) => {
                let t =
                    self.module.types.get(i as usize).ok_or(CompileError::Limit("block type"))?;
                (slots_of(t.params()), slots_of(t.results()))
            }
        })
    }

    /// The slots of a call's arguments.
    /// The operands of a call through a table element or a function reference
    /// (`call_indirect`, `call_ref` and their tail-call forms): the callee's type, its
    /// parameter count, the operand holding the element index or reference (popped)
    /// and where the arguments start.
    fn dynamic_call(
        &mut self,
        type_index: u32,
    ) -> Result<(&'m FuncType, usize, u32, u32), CompileError> {
        let ty =
            self.module.types.get(type_index as usize).ok_or(CompileError::Limit("type index"))?;
        let p = self.call_arity(ty)?;
        let h = self.stack.len() - 1;
        let index = self.operand(h);
        self.stack.pop();
        let base = self.call_args(p);
        Ok((ty, p, index, base))
    }

    /// The stack map of a `call_indirect` or `call_ref` of type `type_index` (its
    /// arguments and the callee operand are not roots of the caller).
    fn dynamic_call_map(&mut self, type_index: u32) {
        let n = self.module.types.get(type_index as usize).map_or(0, |t| t.params().len());
        self.call_map(n + 1);
    }

    fn call_arity(&self, ty: &FuncType) -> Result<usize, CompileError> {
        Ok(slots_of(ty.params()) as usize)
    }

    fn frame_index(&self, depth: u32) -> Result<usize, CompileError> {
        self.ctrl.len().checked_sub(1 + depth as usize).ok_or(CompileError::Limit("branch depth"))
    }

    /// Whether a branch to frame `idx` needs more than a jump.
    fn needs_moves(&self, idx: usize) -> bool {
        if idx == 0 {
            return true;
        }
        let f = &self.ctrl[idx];
        let keep = if f.kind == CtrlKind::Loop { f.params } else { f.results } as usize;
        let top = self.stack.len() - keep;
        (0..keep).any(|k| self.stack[top + k] != Val::Slot || top != f.height)
    }

    /// Emits the jump of a branch to frame `idx` (after its moves); records a fixup
    /// for a forward target.
    fn jump(&mut self, idx: usize, at: usize) {
        let f = &mut self.ctrl[idx];
        if f.kind == CtrlKind::Loop {
            let to = f.start;
            self.ops[at].set_offset(rel(at, to));
        } else {
            f.fixups.push(at);
        }
    }

    /// Emits an unconditional branch to frame `idx`: moves the carried values to
    /// the target's slots, then jumps (or returns, for the function's frame).
    fn branch_to(&mut self, idx: usize) {
        if idx == 0 {
            self.emit_return();
            return;
        }
        let f = &self.ctrl[idx];
        let keep = if f.kind == CtrlKind::Loop { f.params } else { f.results } as usize;
        let height = f.height;
        let top = self.stack.len() - keep;
        for k in 0..keep {
            let (v, own) = (self.stack[top + k], self.slot(top + k));
            let dst = self.slot(height + k);
            self.copy_to(dst, v, own);
        }
        let at = self.emit_br();
        self.jump(idx, at);
    }

    /// Emits an unconditional branch (offset to be set); returns its index. A copy
    /// or an `i32.add` by a constant just before it (with no label between) is
    /// folded into it.
    fn emit_br(&mut self) -> usize {
        if self.ops.len() > self.barrier {
            let at = self.ops.len() - 1;
            let fused = match self.ops[at] {
                Op::Copy { dst, src } => Some(Op::CopyBr { dst, src, offset: 0 }),
                Op::I32AddImm { dst, lhs, imm } => {
                    Some(Op::I32AddImmBr { dst, lhs, imm, offset: 0 })
                }
                _ => None,
            };
            if let Some(op) = fused {
                self.ops[at] = op;
                return at;
            }
        }
        self.emit(Op::Br { offset: 0 });
        self.ops.len() - 1
    }

    /// Returns the top results. Leaves the stack model alone: a conditional return
    /// is followed by code that still sees the entries where they were.
    fn emit_return(&mut self) {
        let n = self.results as usize;
        let top = self.stack.len() - n;
        match n {
            0 => self.emit(Op::Return0),
            1 => {
                let own = self.slot(top);
                let src = match self.stack[top] {
                    Val::Local(l) => l,
                    v => {
                        self.copy_to(own, v, own);
                        own
                    }
                };
                self.emit(Op::Return1 { src });
            }
            _ => {
                for h in top..top + n {
                    let own = self.slot(h);
                    let v = self.stack[h];
                    self.copy_to(own, v, own);
                }
                let base = self.slot(top);
                self.emit(Op::ReturnN { base, n: n as u32 });
            }
        }
    }

    /// Emits a branch on the popped condition `cond`: taken when it is nonzero (or
    /// zero, with `negate`); fuses a comparison that just produced it. Returns the
    /// branch's index, its offset to be set.
    fn cond_branch(&mut self, negate: bool) -> usize {
        if let Some(at) = self.top_producer()
            && let Some(op) = self.ops[at].branch_on(negate, 0)
        {
            self.stack.pop();
            self.ops[at] = op;
            if at > self.barrier
                && let Some(fused) = op.fuse_add_branch(self.ops[at - 1])
            {
                self.ops[at - 1] = fused;
                self.ops.truncate(at);
                return at - 1;
            }
            if at > self.barrier
                && let Some(fused) = op.fuse_load_branch(self.ops[at - 1])
            {
                self.ops[at - 1] = fused;
                self.ops.truncate(at);
                return at - 1;
            }
            return at;
        }
        let h = self.stack.len() - 1;
        let cond = self.operand(h);
        self.stack.pop();
        let at = self.ops.len();
        self.emit(if negate {
            Op::BrIfEqz { cond, offset: 0 }
        } else {
            Op::BrIfNez { cond, offset: 0 }
        });
        at
    }

    fn patch(&mut self, at: usize, to: usize) {
        self.ops[at].set_offset(rel(at, to));
    }

    /// Translates one operator of a supported proposal.
    fn op(&mut self, op: Operator<'_>, name: &'static str) -> Result<(), CompileError> {
        if self.unreachable {
            match op {
                Operator::Block { .. }
                | Operator::Loop { .. }
                | Operator::If { .. }
                | Operator::TryTable { .. } => {
                    self.dead_depth += 1;
                    return Ok(());
                }
                Operator::Else if self.dead_depth == 0 => {}
                Operator::End if self.dead_depth == 0 => {}
                Operator::End => {
                    self.dead_depth -= 1;
                    return Ok(());
                }
                _ => return Ok(()),
            }
        } else {
            // Only reachable operators cost fuel (vm-core's definition).
            self.charge(&op);
        }
        let run = limits::run_after(&op);
        // Slots are untyped and every 32-bit consumer reads only the low half, so
        // wrapping and reinterpreting change nothing: the operand stays where it is.
        if matches!(
            op,
            Operator::I32WrapI64
                | Operator::I32ReinterpretF32
                | Operator::F32ReinterpretI32
                | Operator::I64ReinterpretF64
                | Operator::F64ReinterpretI64
        ) {
            return Ok(());
        }
        if let Some(make) = Op::unary(&op) {
            let h = self.stack.len() - 1;
            let src = self.operand(h);
            let dst = self.slot(h);
            self.emit(make(dst, src));
            self.stack[h] = Val::Slot;
            return Ok(());
        }
        if let Some(bin) = Op::binary(&op) {
            self.binary(bin);
            return Ok(());
        }
        match op {
            Operator::Unreachable => {
                self.emit(Op::Unreachable);
                self.unreachable = true;
            }
            Operator::Nop => {}
            Operator::Block { blockty } => {
                let (params, results) = self.block_arity(blockty)?;
                self.materialize_all();
                self.ctrl.push(Ctrl {
                    kind: CtrlKind::Block,
                    height: self.stack.len() - params as usize,
                    params,
                    results,
                    start: self.ops.len(),
                    fixups: Vec::new(),
                    if_branch: None,
                    ty: blockty,
                    catches: Vec::new(),
                });
            }
            Operator::Loop { blockty } => {
                let (params, results) = self.block_arity(blockty)?;
                self.materialize_all();
                let start = self.fuel_point(run);
                self.ctrl.push(Ctrl {
                    kind: CtrlKind::Loop,
                    height: self.stack.len() - params as usize,
                    params,
                    results,
                    start,
                    fixups: Vec::new(),
                    if_branch: None,
                    ty: blockty,
                    catches: Vec::new(),
                });
            }
            Operator::If { blockty } => {
                let (params, results) = self.block_arity(blockty)?;
                let cond = self.pop();
                self.materialize_all();
                self.stack.push(cond);
                let at = self.cond_branch(true);
                self.ctrl.push(Ctrl {
                    kind: CtrlKind::If,
                    height: self.stack.len() - params as usize,
                    params,
                    results,
                    start: self.ops.len(),
                    fixups: Vec::new(),
                    if_branch: Some(at),
                    ty: blockty,
                    catches: Vec::new(),
                });
                self.fuel_point(run);
            }
            Operator::Else => {
                let idx = self.ctrl.len() - 1;
                if !self.unreachable {
                    let n = self.ctrl[idx].results as usize;
                    self.materialize_top(n);
                    let at = self.emit_br();
                    self.ctrl[idx].fixups.push(at);
                }
                let pc = self.ops.len();
                self.label();
                let f = &mut self.ctrl[idx];
                f.kind = CtrlKind::Else;
                let branch = f.if_branch.take();
                let (height, ty) = (f.height, f.ty);
                self.stack.truncate(height);
                self.push_block_types(ty, false)?;
                self.unreachable = false;
                if let Some(b) = branch {
                    self.patch(b, pc);
                }
                self.fuel_point(run);
            }
            Operator::End => {
                let reachable = !self.unreachable;
                let idx = self.ctrl.len() - 1;
                if idx == 0 {
                    if reachable {
                        self.emit_return();
                    }
                    self.ctrl.pop();
                    self.unreachable = false;
                    return Ok(());
                }
                let f = &self.ctrl[idx];
                let results = f.results as usize;
                if reachable {
                    self.materialize_top(results);
                }
                let f = self.ctrl.pop().ok_or(CompileError::Limit("end"))?;
                if !f.catches.is_empty() {
                    let (start, end) = (limit(f.start)?, limit(self.ops.len())?);
                    for &(tag, landing) in &f.catches {
                        self.catches.push(Catch { start, end, tag, landing });
                    }
                }
                self.unreachable = false;
                self.stack.truncate(f.height);
                self.push_block_types(f.ty, true)?;
                let pc = self.ops.len();
                self.label();
                for at in f.fixups {
                    self.patch(at, pc);
                }
                if let Some(b) = f.if_branch {
                    self.patch(b, pc);
                }
                self.fuel_point(run);
            }
            Operator::Br { relative_depth } => {
                let idx = self.frame_index(relative_depth)?;
                self.branch_to(idx);
                self.unreachable = true;
            }
            Operator::TryTable { try_table } => self.try_table(&try_table)?,
            Operator::Throw { tag_index } => {
                let ty = self.module.tag_type(tag_index).ok_or(CompileError::Limit("tag index"))?;
                let n = slots_of(ty.params()) as usize;
                let base = self.call_args(n);
                self.emit(Op::Throw { tag: tag_index, base });
                self.unreachable = true;
            }
            Operator::ThrowRef => {
                let h = self.stack.len() - 1;
                let src = self.operand(h);
                self.stack.pop();
                self.emit(Op::ThrowRef { src });
                self.unreachable = true;
            }
            Operator::BrIf { relative_depth } => {
                let idx = self.frame_index(relative_depth)?;
                let cond = self.pop();
                let moves = self.needs_moves(idx);
                self.stack.push(cond);
                if moves {
                    let skip = self.cond_branch(true);
                    self.branch_to(idx);
                    let pc = self.ops.len();
                    self.patch(skip, pc);
                } else {
                    let at = self.cond_branch(false);
                    self.jump(idx, at);
                }
                self.fuel_point(run);
            }
            Operator::BrTable { targets } => {
                let h = self.stack.len() - 1;
                let index = self.operand(h);
                self.stack.pop();
                let len = limit(targets.len() as usize)?;
                self.emit(Op::BrTable { index, len });
                let mut entries = Vec::with_capacity(len as usize + 1);
                for t in targets.targets().chain(std::iter::once(Ok(targets.default()))) {
                    let idx = self.frame_index(t?)?;
                    entries.push((self.ops.len(), idx));
                    self.emit(Op::Br { offset: 0 });
                }
                for (at, idx) in entries {
                    if self.needs_moves(idx) {
                        let pc = self.ops.len();
                        self.patch(at, pc);
                        self.branch_to(idx);
                    } else {
                        self.jump(idx, at);
                    }
                }
                self.unreachable = true;
            }
            Operator::Return => {
                self.emit_return();
                self.unreachable = true;
            }
            Operator::Call { function_index } => {
                let ty = self
                    .module
                    .func_type(function_index)
                    .ok_or(CompileError::Limit("function index"))?;
                let p = self.call_arity(ty)?;
                self.call_map(ty.params().len());
                let base = self.call_args(p);
                let imported = self.module.num_imported_funcs;
                if function_index < imported {
                    self.emit(Op::CallImport { func: function_index, base });
                } else {
                    let func = function_index - imported;
                    let last = self.ops.len().checked_sub(1).filter(|&at| at >= self.barrier);
                    match last.map(|at| self.ops[at]) {
                        // An argument copied just before the call: one dispatch less.
                        Some(Op::Copy { dst, src }) => {
                            *self.ops.last_mut().expect("last") =
                                Op::CallCopy { base, entry: func, dst, src };
                        }
                        _ => self.emit(Op::Call { func, base, entry: 0, ret: base }),
                    }
                }
                let call_at = self.ops.len() - 1;
                self.file_call_map(call_at);
                self.push_types(ty.results());
                self.fuel_point(run);
                if matches!(self.ops[call_at], Op::Call { .. }) {
                    self.call_at = Some(call_at);
                }
            }
            Operator::CallIndirect { type_index, table_index } => {
                self.dynamic_call_map(type_index);
                let (ty, _, index, base) = self.dynamic_call(type_index)?;
                self.file_call_map(self.ops.len());
                self.emit(Op::CallIndirect { ty: type_index, index, base });
                self.emit(Op::Arg(table_index));
                self.push_types(ty.results());
                self.fuel_point(run);
            }
            Operator::ReturnCall { function_index } => {
                let ty = self
                    .module
                    .func_type(function_index)
                    .ok_or(CompileError::Limit("function index"))?;
                let p = self.call_arity(ty)?;
                let base = self.call_args(p);
                let n = p as u32;
                let imported = self.module.num_imported_funcs;
                if function_index < imported {
                    self.emit(Op::ReturnCallImport { func: function_index, base, n });
                    // A host callee's results come back at `base`: returned from there.
                    self.push_types(ty.results());
                    self.emit_return();
                } else {
                    self.emit(Op::ReturnCall { entry: function_index - imported, base, n });
                }
                self.unreachable = true;
            }
            Operator::ReturnCallIndirect { type_index, table_index } => {
                let (ty, p, index, base) = self.dynamic_call(type_index)?;
                self.emit(Op::ReturnCallIndirect { ty: type_index, index, base, n: p as u32 });
                self.emit(Op::Arg(table_index));
                self.push_types(ty.results());
                self.emit_return();
                self.unreachable = true;
            }
            Operator::CallRef { type_index } => {
                self.dynamic_call_map(type_index);
                let (ty, _, index, base) = self.dynamic_call(type_index)?;
                self.file_call_map(self.ops.len());
                self.emit(Op::CallRef { ty: type_index, index, base });
                self.push_types(ty.results());
                self.fuel_point(run);
            }
            Operator::ReturnCallRef { type_index } => {
                let (ty, p, index, base) = self.dynamic_call(type_index)?;
                self.emit(Op::ReturnCallRef { ty: type_index, index, base, n: p as u32 });
                self.push_types(ty.results());
                self.emit_return();
                self.unreachable = true;
            }
            Operator::RefAsNonNull => {
                let h = self.stack.len() - 1;
                let src = self.operand(h);
                self.emit(Op::RefAsNonNull { src });
            }
            Operator::BrOnNull { relative_depth } => {
                // Taken with the reference dropped; otherwise it stays.
                let idx = self.frame_index(relative_depth)?;
                let h = self.stack.len() - 1;
                let r = self.stack[h];
                let src = self.operand(h);
                self.stack.pop();
                if self.needs_moves(idx) {
                    let skip = self.ops.len();
                    self.emit(Op::BrIfNez { cond: src, offset: 0 });
                    self.branch_to(idx);
                    let pc = self.ops.len();
                    self.patch(skip, pc);
                } else {
                    let at = self.ops.len();
                    self.emit(Op::BrIfEqz { cond: src, offset: 0 });
                    self.jump(idx, at);
                }
                self.stack.push(r);
                self.fuel_point(run);
            }
            Operator::BrOnNonNull { relative_depth } => {
                // Taken with the reference; otherwise it is dropped.
                let idx = self.frame_index(relative_depth)?;
                let h = self.stack.len() - 1;
                let src = self.operand(h);
                if self.needs_moves(idx) {
                    let skip = self.ops.len();
                    self.emit(Op::BrIfEqz { cond: src, offset: 0 });
                    self.branch_to(idx);
                    let pc = self.ops.len();
                    self.patch(skip, pc);
                } else {
                    let at = self.ops.len();
                    self.emit(Op::BrIfNez { cond: src, offset: 0 });
                    self.jump(idx, at);
                }
                self.stack.pop();
                self.fuel_point(run);
            }
            Operator::Drop => {
                if self.is_hi(self.stack.len() - 1) {
                    self.pop();
                }
                self.pop();
            }
            Operator::TypedSelect { ty: wasmparser::ValType::V128 } => self.v128_select(),
            Operator::Select if self.is_hi(self.stack.len() - 2) => self.v128_select(),
            Operator::Select | Operator::TypedSelect { .. } => {
                let h = self.stack.len() - 3;
                let cond = self.operand(h + 2);
                let rhs = self.operand(h + 1);
                self.materialize(h);
                let dst = self.slot(h);
                self.stack.truncate(h + 1);
                self.emit(Op::Select { dst, rhs, cond });
            }
            Operator::TypedSelectMulti { .. } => {
                return Err(CompileError::unsupported(name, "gc", self.offset));
            }
            Operator::LocalGet { local_index } => match self.local(local_index) {
                (l, false) => self.push(Val::Local(l)),
                (l, true) => self.push_v128_local(l),
            },
            Operator::LocalSet { local_index } => match self.local(local_index) {
                (l, false) => self.local_set(l, false),
                (l, true) => self.v128_local_set(l, false),
            },
            Operator::LocalTee { local_index } => match self.local(local_index) {
                (l, false) => self.local_set(l, true),
                (l, true) => self.v128_local_set(l, true),
            },
            Operator::GlobalGet { global_index } if self.global_is_v128(global_index) => {
                let dst = self.push_v128();
                self.emit(Op::V128GlobalGet { dst, global: global_index });
            }
            Operator::GlobalSet { global_index } if self.global_is_v128(global_index) => {
                let h = self.stack.len() - 2;
                let src = self.v128_operand(h);
                self.stack.truncate(h);
                self.emit(Op::V128GlobalSet { src, global: global_index });
            }
            Operator::GlobalGet { global_index } => {
                let dst = self.push_slot();
                self.emit(Op::GlobalGet { dst, global: global_index });
            }
            Operator::GlobalSet { global_index } => {
                let h = self.stack.len() - 1;
                let src = self.operand(h);
                self.stack.pop();
                self.emit(Op::GlobalSet { src, global: global_index });
            }
            Operator::I32Const { value } => self.push(Val::Const(u64::from(value as u32))),
            Operator::I64Const { value } => self.push(Val::Const(value as u64)),
            Operator::F32Const { value } => self.push(Val::Const(u64::from(value.bits()))),
            Operator::F64Const { value } => self.push(Val::Const(value.bits())),
            Operator::RefNull { .. } => self.push(Val::Const(0)),
            Operator::RefIsNull => {
                let h = self.stack.len() - 1;
                let src = self.operand(h);
                let dst = self.slot(h);
                self.stack[h] = Val::Slot;
                self.emit(Op::RefIsNull { dst, src });
            }
            Operator::RefFunc { function_index } => {
                let dst = self.push_slot();
                self.emit(Op::RefFunc { dst, func: function_index });
            }
            Operator::MemorySize { .. } => {
                let dst = self.push_slot();
                self.emit(Op::MemorySize { dst });
            }
            Operator::MemoryGrow { mem } => {
                let base = self.bulk(1, 1);
                self.emit(Op::MemoryGrow { base, mem });
            }
            Operator::MemoryFill { .. } => {
                let base = self.bulk(3, 0);
                self.emit(Op::MemoryFill { base });
            }
            Operator::MemoryCopy { dst_mem: 0, src_mem: 0 } => {
                let base = self.bulk(3, 0);
                self.emit(Op::MemoryCopy { base });
            }
            Operator::MemoryCopy { dst_mem, src_mem } => {
                let base = self.bulk(3, 0);
                self.emit(Op::MemoryCopyBetween { base, dst: dst_mem, src: src_mem });
            }
            Operator::MemoryInit { data_index, .. } => {
                let base = self.bulk(3, 0);
                self.emit(Op::MemoryInit { seg: data_index, base });
            }
            Operator::DataDrop { data_index } => self.emit(Op::DataDrop(data_index)),
            Operator::TableGet { table } => {
                let base = self.bulk(1, 1);
                self.emit(Op::TableGet { table, base });
            }
            Operator::TableSet { table } => {
                let base = self.bulk(2, 0);
                self.emit(Op::TableSet { table, base });
            }
            Operator::TableSize { table } => {
                let dst = self.push_slot();
                self.emit(Op::TableSize { table, dst });
            }
            Operator::TableGrow { table } => {
                let base = self.bulk(2, 1);
                self.emit(Op::TableGrow { table, base });
            }
            Operator::TableFill { table } => {
                let base = self.bulk(3, 0);
                self.emit(Op::TableFill { table, base });
            }
            Operator::TableCopy { dst_table, src_table } => {
                let base = self.bulk(3, 0);
                self.emit(Op::TableCopy { dst: dst_table, src: src_table, base });
            }
            Operator::TableInit { elem_index, table } => {
                let base = self.bulk(3, 0);
                self.emit(Op::TableInit { table, elem: elem_index, base });
            }
            Operator::ElemDrop { elem_index } => self.emit(Op::ElemDrop(elem_index)),
            op if self.gc_op(&op, run)? => {}
            op => return self.memory_op(op, name),
        }
        Ok(())
    }

    /// `try_table`: a block whose catch clauses get landing pads, emitted before the
    /// body (which a branch skips): each writes the caught values to the slots above
    /// the block's height, as the operand stack of the clause's label expects them,
    /// and branches there. The body's range and the pads go to the module's catch
    /// table at the block's `end`.
    fn try_table(&mut self, t: &wasmparser::TryTable) -> Result<(), CompileError> {
        let (params, results) = self.block_arity(t.ty)?;
        self.materialize_all();
        let height = self.stack.len() - params as usize;
        let mut catches = Vec::with_capacity(t.catches.len());
        if !t.catches.is_empty() {
            let skip = self.emit_br();
            let (saved, saved_hi) = (self.stack.clone(), self.hi.clone());
            for c in &t.catches {
                let (tag, label, with_ref) = match *c {
                    wasmparser::Catch::One { tag, label } => (tag, label, false),
                    wasmparser::Catch::OneRef { tag, label } => (tag, label, true),
                    wasmparser::Catch::All { label } => (CATCH_ALL, label, false),
                    wasmparser::Catch::AllRef { label } => (CATCH_ALL, label, true),
                };
                self.label();
                let landing = limit(self.ops.len())?;
                self.stack.truncate(height);
                let n = if tag == CATCH_ALL {
                    0
                } else {
                    let module = self.module;
                    let ty = module.tag_type(tag).ok_or(CompileError::Limit("tag index"))?;
                    self.push_types(ty.params());
                    slots_of(ty.params())
                };
                if with_ref {
                    self.push_slot();
                }
                self.emit(Op::Caught { dst: self.slot(height), n, with_ref: u32::from(with_ref) });
                let idx = self.frame_index(label)?;
                self.branch_to(idx);
                self.stack.clone_from(&saved);
                self.hi.clone_from(&saved_hi);
                catches.push((tag, landing));
            }
            let pc = self.ops.len();
            self.patch(skip, pc);
        }
        self.label();
        self.ctrl.push(Ctrl {
            kind: CtrlKind::Block,
            height,
            params,
            results,
            start: self.ops.len(),
            fixups: Vec::new(),
            if_branch: None,
            ty: t.ty,
            catches,
        });
        Ok(())
    }

    /// Puts the top `p` entries (a call's arguments) into their own slots, pops
    /// them and returns the first one's slot.
    fn call_args(&mut self, p: usize) -> u32 {
        self.materialize_top(p);
        let h = self.stack.len() - p;
        self.stack.truncate(h);
        // The callee's results come back from `base` on.
        self.slot(h)
    }

    /// Operands of a bulk instruction: the top `n` entries in their own slots,
    /// replaced by `r` results there; returns the first slot.
    fn bulk(&mut self, n: usize, r: usize) -> u32 {
        let base = self.call_args(n);
        for _ in 0..r {
            self.push_slot();
        }
        base
    }

    fn binary(&mut self, bin: BinaryOp) {
        let n = self.stack.len();
        let (a, b) = (self.stack[n - 2], self.stack[n - 1]);
        let dst = self.slot(n - 2);
        let fits = |c: u64, wide: bool| !wide || i64::from(c as i64 as i32) == c as i64;
        if let Some((make, wide)) = bin.imm {
            let imm = match (a, b) {
                (_, Val::Const(c)) if fits(c, wide) => Some((n - 2, c)),
                (Val::Const(c), Val::Local(_) | Val::Slot) if bin.commutative && fits(c, wide) => {
                    Some((n - 1, c))
                }
                _ => None,
            };
            if let Some((h, c)) = imm {
                let lhs = self.operand(h);
                let op = make(dst, lhs, c as i32);
                let folded = match op {
                    Op::I32AddImm { imm, .. } => self.fold_add_imm(h, lhs, dst, imm),
                    _ => None,
                };
                self.stack.truncate(n - 2);
                match folded {
                    Some(op) => {
                        let at = self.ops.len() - 1;
                        self.ops[at] = op;
                    }
                    None => self.emit(op),
                }
                self.push_slot();
                return;
            }
        }
        let lhs = self.operand(n - 2);
        let rhs = self.operand(n - 1);
        let op = (bin.reg)(dst, lhs, rhs);
        let fused = match op {
            Op::I32Add { .. } => match self.fuse_add_shl(dst, (a, lhs), (b, rhs), n) {
                Some((op, Some(at))) => {
                    // The folded `base + imm` goes; the fused add replaces the shift.
                    self.ops.remove(at);
                    Some(op)
                }
                r => r.map(|(op, _)| op),
            },
            Op::F64Add { .. } | Op::F64Sub { .. }
                if a == Val::Slot && lhs == dst && b == Val::Slot && rhs == self.slot(n - 1) =>
            {
                self.fuse_mul_acc(op, dst, rhs)
            }
            _ => None,
        };
        let fused = fused
            .or_else(|| self.fuse_f64_pair(op, (a, lhs), (b, rhs), n))
            .or_else(|| self.fuse_f64_load(op, (b, rhs), n));
        self.stack.truncate(n - 2);
        match fused {
            Some(op) => {
                let at = self.ops.len() - 1;
                self.ops[at] = op;
            }
            None => self.emit(op),
        }
        self.push_slot();
    }

    /// The `f64` operator `op` on slots `lhs` and `rhs` (stack entries `n - 2`,
    /// `n - 1`), one of which the last instruction, another `f64` operator, just
    /// computed into its own temporary slot (read only by `op`): both in one
    /// instruction that replaces that last one.
    fn fuse_f64_pair(&self, op: Op, lhs: (Val, u32), rhs: (Val, u32), n: usize) -> Option<Op> {
        if self.ops.len() <= self.barrier {
            return None;
        }
        let first = *self.ops.last()?;
        let temp = |(v, s): (Val, u32), h: usize| v == Val::Slot && s == self.slot(h);
        let r = temp(rhs, n - 1).then(|| Op::fuse_f64_pair(first, op, rhs.1)).flatten();
        r.or_else(|| temp(lhs, n - 2).then(|| Op::fuse_f64_pair(first, op, lhs.1)).flatten())
    }

    /// The `f64` add, sub or mul `op` whose right operand `rhs` (stack entry
    /// `n - 1`) the last instruction, an `f64.load`, just loaded into its own
    /// temporary slot: one instruction that loads and computes, replacing the load.
    fn fuse_f64_load(&self, op: Op, rhs: (Val, u32), n: usize) -> Option<Op> {
        if self.ops.len() <= self.barrier || rhs.0 != Val::Slot || rhs.1 != self.slot(n - 1) {
            return None;
        }
        let Some(&Op::F64Load { dst: t, addr, offset }) = self.ops.last() else {
            return None;
        };
        Some(match op {
            Op::F64Add { dst, lhs, rhs } if rhs == t && lhs != t => {
                Op::F64AddLoad { dst, lhs, addr, offset }
            }
            Op::F64Sub { dst, lhs, rhs } if rhs == t && lhs != t => {
                Op::F64SubLoad { dst, lhs, addr, offset }
            }
            Op::F64Mul { dst, lhs, rhs } if rhs == t && lhs != t => {
                Op::F64MulLoad { dst, lhs, addr, offset }
            }
            _ => return None,
        })
    }

    /// `dst += t` or `dst -= t` (`op`) where the last instruction, an `f64.mul`,
    /// just computed `t` into a temporary slot read only by `op`: the fused
    /// multiply-accumulate that replaces that `mul`.
    fn fuse_mul_acc(&self, op: Op, dst: u32, t: u32) -> Option<Op> {
        if self.ops.len() <= self.barrier {
            return None;
        }
        let Some(&Op::F64Mul { dst: m, lhs, rhs }) = self.ops.last() else {
            return None;
        };
        if m != t || t & CONST_TAG != 0 {
            return None;
        }
        match op {
            Op::F64Add { .. } => Some(Op::F64MulAdd { dst, lhs, rhs }),
            Op::F64Sub { .. } => Some(Op::F64MulSub { dst, lhs, rhs }),
            _ => None,
        }
    }

    /// An `i32.add` of slots `lhs` and `rhs` (stack entries `n - 2`, `n - 1`) one of
    /// which the last instruction, an `i32.shl` by 2 or 3, just computed into its
    /// own temporary slot (read only by this add): the fused `lhs + (idx << k)`
    /// that replaces that `shl`. When the other operand is a temporary that the
    /// instruction before the `shl` computed as `base + imm`, that add is folded in
    /// too (`base + imm + (idx << k)`): the result then also names that add's index,
    /// to be removed.
    fn fuse_add_shl(
        &self,
        dst: u32,
        lhs: (Val, u32),
        rhs: (Val, u32),
        n: usize,
    ) -> Option<(Op, Option<usize>)> {
        if self.ops.len() <= self.barrier {
            return None;
        }
        let Some(&Op::I32ShlImm { dst: t, lhs: idx, imm }) = self.ops.last() else {
            return None;
        };
        let (other, other_temp) = if rhs.0 == Val::Slot && rhs.1 == t && t == self.slot(n - 1) {
            (lhs.1, lhs.0 == Val::Slot && lhs.1 == self.slot(n - 2))
        } else if lhs.0 == Val::Slot && lhs.1 == t && t == self.slot(n - 2) {
            (rhs.1, rhs.0 == Val::Slot && rhs.1 == self.slot(n - 1))
        } else {
            return None;
        };
        if other_temp
            && other & CONST_TAG == 0
            && other != idx
            && let Some((at, base, k)) = self.base_plus_imm(other)
        {
            return match imm {
                2 => Some((Op::I32AddShl2Imm { dst, lhs: base, rhs: idx, imm: k }, Some(at))),
                3 => Some((Op::I32AddShl3Imm { dst, lhs: base, rhs: idx, imm: k }, Some(at))),
                _ => None,
            };
        }
        match imm {
            2 => Some((Op::I32AddShl2 { dst, lhs: other, rhs: idx }, None)),
            3 => Some((Op::I32AddShl3 { dst, lhs: other, rhs: idx }, None)),
            _ => None,
        }
    }

    /// The `i32.add` by an immediate, `t = base + imm`, among the few instructions
    /// before the last one (after the last label), whose result `t` (a temporary)
    /// only the instruction being built reads; returns its index, `base` and `imm`.
    /// The instructions after it write one slot each, other than `base`, and do not
    /// touch `t`, so the sum may as well be computed later.
    fn base_plus_imm(&self, t: u32) -> Option<(usize, u32, i32)> {
        let last = self.ops.len().checked_sub(1)?;
        for at in (self.barrier.max(last.saturating_sub(3))..last).rev() {
            if let Op::I32AddImm { dst, lhs, imm } = self.ops[at]
                && dst == t
            {
                if lhs == t {
                    return None;
                }
                let between = &self.ops[at + 1..=last];
                let clear = between.iter().all(|op| {
                    let mut op = *op;
                    op.dst_mut().is_some_and(|d| *d != lhs) && !mentions(op, t)
                });
                return clear.then_some((at, lhs, imm));
            }
        }
        None
    }

    /// An `i32.add` of the immediate `c` to slot `lhs` (stack entry `h`) into `dst`
    /// when the last instruction just computed `lhs`, a temporary read only by this
    /// add, as a sum with an immediate or an address sum: that instruction with `c`
    /// folded into its immediate, replacing it.
    fn fold_add_imm(&self, h: usize, lhs: u32, dst: u32, c: i32) -> Option<Op> {
        if self.ops.len() <= self.barrier
            || self.stack[h] != Val::Slot
            || lhs != self.slot(h)
            || lhs & CONST_TAG != 0
        {
            return None;
        }
        let prev = *self.ops.last()?;
        Some(match prev {
            Op::I32AddImm { dst: t, lhs: b, imm } if t == lhs => {
                Op::I32AddImm { dst, lhs: b, imm: imm.wrapping_add(c) }
            }
            Op::I32AddShl2Imm { dst: t, lhs: b, rhs: i, imm } if t == lhs => {
                Op::I32AddShl2Imm { dst, lhs: b, rhs: i, imm: imm.wrapping_add(c) }
            }
            Op::I32AddShl3Imm { dst: t, lhs: b, rhs: i, imm } if t == lhs => {
                Op::I32AddShl3Imm { dst, lhs: b, rhs: i, imm: imm.wrapping_add(c) }
            }
            Op::I32AddShl2 { dst: t, lhs: b, rhs: i } if t == lhs => {
                Op::I32AddShl2Imm { dst, lhs: b, rhs: i, imm: c }
            }
            Op::I32AddShl3 { dst: t, lhs: b, rhs: i } if t == lhs => {
                Op::I32AddShl3Imm { dst, lhs: b, rhs: i, imm: c }
            }
            _ => return None,
        })
    }

    /// `local.set` (or `local.tee`, keeping the value on the stack).
    fn local_set(&mut self, l: u32, tee: bool) {
        let h = self.stack.len() - 1;
        let v = self.stack[h];
        let aliased = self.stack[..h].contains(&Val::Local(l));
        let own = self.slot(h);
        // A declared local is zero on entry: setting it to zero before anything
        // may have written it (in the entry run) changes nothing.
        if v == Val::Const(0)
            && l >= self.locals_start
            && let Some(from) = self.entry_run
            && self.ops.len() - from <= ENTRY_RUN_SCAN
            && !self.ops[from..].iter().any(|op| mentions(*op, l))
        {
            self.stack.pop();
            if tee {
                self.push(v);
            }
            return;
        }
        // The result of the call just before: the return stores it to `l` too.
        if !aliased
            && v == Val::Slot
            && let Some(at) = self.call_at.filter(|&at| at + 1 == self.ops.len())
            && let Op::Call { base, ret, .. } = &mut self.ops[at]
            && *base == own
            && *ret == own
        {
            *ret = l;
            self.call_at = None;
            self.stack.pop();
            if tee {
                self.push(Val::Local(l));
            }
            return;
        }
        if !aliased && let Some(at) = self.top_producer() {
            if let Some(dst) = self.ops[at].dst_mut() {
                *dst = l;
            }
            self.fuse_local_mul_acc(at, l, self.slot(h));
            self.fuse_add_imm_pair(at);
            self.stack.pop();
            if tee {
                self.push(Val::Local(l));
            }
            return;
        }
        // Entries reading the local's old value get their own copy first.
        for i in 0..h {
            if self.stack[i] == Val::Local(l) {
                self.materialize(i);
            }
        }
        self.copy_to(l, v, own);
        self.stack.pop();
        if tee {
            self.push(if v == Val::Slot { Val::Local(l) } else { v });
        }
    }

    /// After the `f64.add`/`f64.sub` at `at` (the last instruction) was redirected
    /// to local `l`: when it computes `l + t`, `t + l` or `l - t` for a temporary
    /// `t` (at or above `dead`, the popped entry's slot) that the `f64.mul` just
    /// before produced, folds both into one multiply-accumulate on `l`.
    fn fuse_local_mul_acc(&mut self, at: usize, l: u32, dead: u32) {
        if at == 0 || at - 1 < self.barrier {
            return;
        }
        if let Op::F64MulLoad { dst: t, lhs: x, addr, offset } = self.ops[at - 1]
            && t >= dead
            && t & CONST_TAG == 0
            && x != l
            && addr != l
        {
            let op = match self.ops[at] {
                Op::F64Add { dst, lhs, rhs }
                    if dst == l && ((lhs == l && rhs == t) || (lhs == t && rhs == l)) =>
                {
                    Op::F64MulAddLoad { dst: l, lhs: x, addr, offset }
                }
                Op::F64Sub { dst, lhs, rhs } if dst == l && lhs == l && rhs == t => {
                    Op::F64MulSubLoad { dst: l, lhs: x, addr, offset }
                }
                _ => return,
            };
            self.ops[at - 1] = op;
            self.ops.truncate(at);
            return;
        }
        let Op::F64Mul { dst: t, lhs: x, rhs: y } = self.ops[at - 1] else { return };
        if t < dead || t & CONST_TAG != 0 {
            return;
        }
        let op = match self.ops[at] {
            Op::F64Add { dst, lhs, rhs }
                if dst == l && ((lhs == l && rhs == t) || (lhs == t && rhs == l)) =>
            {
                Op::F64MulAdd { dst: l, lhs: x, rhs: y }
            }
            Op::F64Sub { dst, lhs, rhs } if dst == l && lhs == l && rhs == t => {
                Op::F64MulSub { dst: l, lhs: x, rhs: y }
            }
            _ => return,
        };
        self.ops[at - 1] = op;
        self.ops.truncate(at);
    }

    /// After the instruction at `at` was redirected to a local: when it is the last
    /// one and increments that local in place by a constant, as does the one before
    /// it (another `i32.add` to a local, no label between), makes one instruction
    /// of both.
    fn fuse_add_imm_pair(&mut self, at: usize) {
        if at == 0 || at - 1 < self.barrier || at + 1 != self.ops.len() {
            return;
        }
        if let Op::I32AddImm { dst: b, lhs: lb, imm: kb } = self.ops[at]
            && b == lb
            && let Op::I32AddImm { dst: a, lhs: la, imm: ka } = self.ops[at - 1]
            && a == la
            && (a | b) & CONST_TAG == 0
        {
            self.ops[at - 1] = Op::I32AddImm2 { a, ka, b, kb };
            self.ops.truncate(at);
        }
    }

    /// Folds an `i32.and` by 255 before the `I32LoadShl` at `at` (the last
    /// instruction) into it, when that `and` only feeds the index: a table lookup
    /// by a byte.
    fn fuse_masked(&mut self, at: usize) {
        if at == 0 || at - 1 < self.barrier {
            return;
        }
        if let Op::I32LoadShl { dst, idx, offset } = self.ops[at]
            && let Op::I32AndImm { dst: t, lhs: i, imm: 255 } = self.ops[at - 1]
            && t == idx
            && t >= self.locals_end + self.stack.len() as u32 - 1
            && t & CONST_TAG == 0
        {
            self.ops[at - 1] = Op::I32LoadShlU8 { dst, idx: i, offset };
            self.ops.truncate(at);
        }
    }

    /// Folds the `shl` before the fused access at `at` (the last instruction) into
    /// it, when that `shl` only feeds the access: its result is a temporary slot,
    /// dead once the address is computed, and no label lies between them.
    fn fuse_scaled(&mut self, at: usize) {
        if at == 0 || at - 1 < self.barrier {
            return;
        }
        if let Some((op, t)) = self.ops[at].fuse_scaled(self.ops[at - 1])
            && t >= self.locals_end + self.stack.len() as u32 - 1
            && t & CONST_TAG == 0
        {
            self.ops[at - 1] = op;
            self.ops.truncate(at);
        }
    }

    fn memory_op(&mut self, op: Operator<'_>, name: &'static str) -> Result<(), CompileError> {
        use Operator as O;
        type Load = fn(u32, u32, u32) -> Op;
        let load: Option<(Load, &wasmparser::MemArg)> = match &op {
            O::I32Load { memarg } => {
                Some((|dst, addr, offset| Op::I32Load { dst, addr, offset }, memarg))
            }
            O::I64Load { memarg } => {
                Some((|dst, addr, offset| Op::I64Load { dst, addr, offset }, memarg))
            }
            O::F32Load { memarg } => {
                Some((|dst, addr, offset| Op::F32Load { dst, addr, offset }, memarg))
            }
            O::F64Load { memarg } => {
                Some((|dst, addr, offset| Op::F64Load { dst, addr, offset }, memarg))
            }
            O::I32Load8S { memarg } => {
                Some((|dst, addr, offset| Op::I32Load8S { dst, addr, offset }, memarg))
            }
            O::I32Load8U { memarg } => {
                Some((|dst, addr, offset| Op::I32Load8U { dst, addr, offset }, memarg))
            }
            O::I32Load16S { memarg } => {
                Some((|dst, addr, offset| Op::I32Load16S { dst, addr, offset }, memarg))
            }
            O::I32Load16U { memarg } => {
                Some((|dst, addr, offset| Op::I32Load16U { dst, addr, offset }, memarg))
            }
            O::I64Load8S { memarg } => {
                Some((|dst, addr, offset| Op::I64Load8S { dst, addr, offset }, memarg))
            }
            O::I64Load8U { memarg } => {
                Some((|dst, addr, offset| Op::I64Load8U { dst, addr, offset }, memarg))
            }
            O::I64Load16S { memarg } => {
                Some((|dst, addr, offset| Op::I64Load16S { dst, addr, offset }, memarg))
            }
            O::I64Load16U { memarg } => {
                Some((|dst, addr, offset| Op::I64Load16U { dst, addr, offset }, memarg))
            }
            O::I64Load32S { memarg } => {
                Some((|dst, addr, offset| Op::I64Load32S { dst, addr, offset }, memarg))
            }
            O::I64Load32U { memarg } => {
                Some((|dst, addr, offset| Op::I64Load32U { dst, addr, offset }, memarg))
            }
            _ => None,
        };
        if let Some((make, memarg)) = load {
            let offset = off(memarg)?;
            let h = self.stack.len() - 1;
            let dst = self.slot(h);
            if let Some(at) = self.top_producer() {
                let load = make(dst, 0, offset);
                if let Some(op) = load.fuse_address(self.ops[at]) {
                    self.ops[at] = op;
                    self.fuse_scaled(at);
                    return Ok(());
                }
                if let Some(op) = load.fuse_shift(self.ops[at]) {
                    self.ops[at] = op;
                    self.fuse_masked(at);
                    return Ok(());
                }
            }
            let addr = self.operand(h);
            let dst = self.slot(h);
            self.stack[h] = Val::Slot;
            self.emit(make(dst, addr, offset));
            return Ok(());
        }
        type Store = fn(u32, u32, u32) -> Op;
        let (make, memarg): (Store, _) = match &op {
            O::I32Store { memarg } | O::F32Store { memarg } | O::I64Store32 { memarg } => {
                (|addr, val, offset| Op::Store32 { addr, val, offset }, memarg)
            }
            O::I64Store { memarg } | O::F64Store { memarg } => {
                (|addr, val, offset| Op::Store64 { addr, val, offset }, memarg)
            }
            O::I32Store8 { memarg } | O::I64Store8 { memarg } => {
                (|addr, val, offset| Op::Store8 { addr, val, offset }, memarg)
            }
            O::I32Store16 { memarg } | O::I64Store16 { memarg } => {
                (|addr, val, offset| Op::Store16 { addr, val, offset }, memarg)
            }
            _ => return self.simd(op, name),
        };
        let offset = off(memarg)?;
        let h = self.stack.len() - 2;
        let val = self.operand(h + 1);
        let v = self.stack.pop();
        let fused = self.top_producer().and_then(|at| {
            let op = make(0, val, offset).fuse_address(self.ops[at])?;
            Some((at, op))
        });
        if let Some(v) = v {
            self.stack.push(v);
        }
        if let Some((at, op)) = fused {
            self.ops[at] = op;
            self.fuse_scaled(at);
            self.stack.truncate(h);
            return Ok(());
        }
        let addr = self.operand(h);
        self.stack.truncate(h);
        self.emit(make(addr, val, offset));
        Ok(())
    }
}

/// A validation error of a module that validated when it was decoded (its bytes
/// changed since, which `ModuleInfo` does not allow): the reason, as a limit.
fn leak_reason(_: &wasmparser::BinaryReaderError) -> &'static str {
    "function revalidation for stack maps"
}

/// Whether `op` reads or writes slot `s`.
fn mentions(mut op: Op, s: u32) -> bool {
    let hit = core::cell::Cell::new(false);
    op.map_slots(|x| {
        hit.set(hit.get() || x == s);
        x
    });
    hit.get()
}

/// The offset from the instruction after `at` to `to`.
fn rel(at: usize, to: usize) -> i32 {
    (to as i64 - at as i64 - 1) as i32
}

fn off(m: &wasmparser::MemArg) -> Result<u32, CompileError> {
    // A memory64 offset past `u32::MAX` is out of bounds like any (see
    // `clamp_index64`); memory32 offsets never are.
    Ok(clamp_index64(m.offset))
}

/// Operators of the WebAssembly 2.0 proposals come here through vm-core's
/// [`Wasm2Operators`] filter; every other one is unsupported there.
impl<'a> OperatorSink<'a> for FuncTranslator<'_> {
    fn translate(&mut self, op: Operator<'a>, name: &'static str) -> Result<(), CompileError> {
        let module = self.module;
        match index64(&op, &module.memories, &module.tables) {
            Some(l) if !self.unreachable => self.lower_index64(l, op, name)?,
            _ => self.selected(op, name)?,
        }
        Ok(())
    }

    fn offset(&self) -> u64 {
        self.offset
    }
}

impl FuncTranslator<'_> {
    /// `op` on a 64-bit memory or table: its `i64` operands clamped into their slots
    /// (constants folded), the 32-bit operator, its result widened (vm-core's
    /// [`index64`] lowering).
    fn lower_index64(
        &mut self,
        l: Index64,
        op: Operator<'_>,
        name: &'static str,
    ) -> Result<(), CompileError> {
        for d in 0..8 {
            if l.clamp & (1 << d) == 0 {
                continue;
            }
            let h = self.stack.len() - 1 - d;
            match self.stack[h] {
                Val::Const(c) => self.stack[h] = Val::Const(u64::from(clamp_index64(c))),
                _ => {
                    let src = self.operand(h);
                    let dst = self.slot(h);
                    self.emit(Op::Clamp64 { dst, src });
                    self.stack[h] = Val::Slot;
                }
            }
        }
        self.barrier = self.ops.len();
        self.selected(op, name)?;
        if l.result == Widen::Grow {
            let h = self.stack.len() - 1;
            let src = self.operand(h);
            let dst = self.slot(h);
            self.emit(Op::I64ExtendI32S { dst, src });
            self.stack[h] = Val::Slot;
            self.barrier = self.ops.len();
        }
        Ok(())
    }

    /// Translates `op`, on memory 0 or another memory.
    fn selected(&mut self, op: Operator<'_>, name: &'static str) -> Result<(), CompileError> {
        // An operator on a memory other than 0 runs between `MemSelect(n)` and
        // `MemSelect(0)`, fused with nothing (`memory.grow` and `memory.copy` name
        // their memories themselves).
        match memory_index(&op) {
            Some(n @ 1..)
                if !self.unreachable
                    && !matches!(op, Operator::MemoryGrow { .. } | Operator::MemoryCopy { .. }) =>
            {
                self.emit(Op::MemSelect(n));
                self.barrier = self.ops.len();
                self.op(op, name)?;
                self.emit(Op::MemSelect(0));
                self.barrier = self.ops.len();
                Ok(())
            }
            _ => self.op(op, name),
        }
    }
}
