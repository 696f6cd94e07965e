//! Translation of a function body into [`Op`]s: one pass, tracking the operand stack
//! height so every branch carries precomputed `drop`/`keep` counts.

mod visit;

use vm_core::runtime::module::ModuleInfo;
use vm_core::runtime::{CompileError, FuncType};
use wasmparser::{BlockType, FunctionBody, Operator};

use crate::code::{FuncCode, Op};

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
    /// Operand height below the block's parameters.
    height: u32,
    params: u32,
    results: u32,
    /// Loop header (branch target of a `loop`).
    start: u32,
    /// Branches to patch with the block's end.
    fixups: Vec<usize>,
    /// The `if`'s conditional branch to patch with the `else` or end.
    if_branch: Option<usize>,
}

/// Translates the functions of one module into one code array.
pub struct FuncTranslator<'m> {
    module: &'m ModuleInfo,
    ops: Vec<Op>,
    ctrl: Vec<Ctrl>,
    height: u32,
    max_height: u32,
    /// Code after an unconditional branch is skipped until the frame's `else`/`end`.
    unreachable: bool,
    /// Nesting depth of blocks opened inside skipped code.
    dead_depth: u32,
    /// Index of the `Fuel` op charging the current straight-line run.
    fuel_op: Option<usize>,
    fuel: bool,
    /// First instruction that may be fused with later ones (after the last label).
    barrier: usize,
    results: u32,
    offset: u64,
}

fn limit(n: usize) -> Result<u32, CompileError> {
    u32::try_from(n).map_err(|_| CompileError::Limit("code size"))
}

impl<'m> FuncTranslator<'m> {
    /// A translator for `module`; with `fuel`, fuel charges are emitted.
    pub fn new(module: &'m ModuleInfo, fuel: bool) -> Self {
        Self {
            module,
            ops: Vec::new(),
            ctrl: Vec::new(),
            height: 0,
            max_height: 0,
            unreachable: false,
            dead_depth: 0,
            fuel_op: None,
            fuel,
            barrier: 0,
            results: 0,
            offset: 0,
        }
    }

    /// The code translated so far.
    pub fn finish(self) -> Vec<Op> {
        self.ops
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
        let params = limit(ty.params().len())?;
        self.results = limit(ty.results().len())?;
        let mut locals: u32 = 0;
        for l in body.get_locals_reader()? {
            let (n, _) = l?;
            locals = locals
                .checked_add(n)
                .filter(|&n| n <= 1_000_000)
                .ok_or(CompileError::Limit("locals"))?;
        }
        let entry = limit(self.ops.len())?;
        self.height = params + locals;
        self.max_height = self.height;
        self.unreachable = false;
        self.dead_depth = 0;
        self.fuel_op = None;
        self.barrier = self.ops.len();
        self.ctrl.clear();
        self.ctrl.push(Ctrl {
            kind: CtrlKind::Block,
            height: self.height,
            params: 0,
            results: self.results,
            start: entry,
            fixups: Vec::new(),
            if_branch: None,
        });
        self.fuel_point();
        let mut reader = body.get_operators_reader()?;
        while !reader.eof() {
            self.offset = reader.original_position();
            reader.visit_operator(self)??;
        }
        Ok(FuncCode {
            entry,
            params,
            locals,
            max_height: self.max_height - params - locals + 1,
            index,
        })
    }

    fn pc(&self) -> u32 {
        self.ops.len() as u32
    }

    fn emit(&mut self, op: Op) {
        self.ops.push(op);
    }

    fn push(&mut self, n: u32) {
        self.height += n;
        self.max_height = self.max_height.max(self.height);
    }

    fn pop(&mut self, n: u32) {
        self.height = self.height.saturating_sub(n);
    }

    /// Starts a new straight-line run for fuel accounting.
    fn fuel_point(&mut self) {
        self.label();
        if self.fuel {
            self.fuel_op = Some(self.ops.len());
            self.emit(Op::Fuel(0));
        }
    }

    /// Marks the current position as a possible branch target: no fusion across it.
    fn label(&mut self) {
        self.barrier = self.ops.len();
    }

    /// The op `back` places before the end, if it may be fused.
    fn fusable(&self, back: usize) -> Option<Op> {
        let i = self.ops.len().checked_sub(back)?;
        if i < self.barrier {
            return None;
        }
        self.ops.get(i).copied()
    }

    fn charge(&mut self) {
        if let Some(i) = self.fuel_op
            && let Some(Op::Fuel(n)) = self.ops.get_mut(i)
        {
            *n += 1;
        }
    }

    fn block_arity(&self, bt: BlockType) -> Result<(u32, u32), CompileError> {
        Ok(match bt {
            BlockType::Empty => (0, 0),
            BlockType::Type(_) => (0, 1),
            BlockType::FuncType(i) => {
                let t =
                    self.module.types.get(i as usize).ok_or(CompileError::Limit("block type"))?;
                (limit(t.params().len())?, limit(t.results().len())?)
            }
        })
    }

    fn call_arity(&self, ty: &FuncType) -> Result<(u32, u32), CompileError> {
        Ok((limit(ty.params().len())?, limit(ty.results().len())?))
    }

    /// Emits a branch to relative depth `depth`; `cond` selects `br_if`.
    fn branch(&mut self, depth: u32, cond: bool) -> Result<(), CompileError> {
        let idx = self
            .ctrl
            .len()
            .checked_sub(1 + depth as usize)
            .ok_or(CompileError::Limit("branch depth"))?;
        let f = &self.ctrl[idx];
        let keep = if f.kind == CtrlKind::Loop { f.params } else { f.results };
        let drop = self.height - f.height - keep;
        let target = if f.kind == CtrlKind::Loop { f.start } else { u32::MAX };
        let op = match (cond, drop) {
            (false, 0) => Op::Br { target },
            (false, _) => Op::BrAdjust { target, drop, keep },
            (true, 0) => Op::BrIf { target },
            (true, _) => Op::BrIfAdjust { target, drop, keep },
        };
        if target == u32::MAX {
            let at = self.ops.len();
            self.ctrl[idx].fixups.push(at);
        }
        self.emit(op);
        Ok(())
    }

    fn patch(&mut self, at: usize, to: u32) {
        match self.ops.get_mut(at) {
            Some(Op::Br { target })
            | Some(Op::BrAdjust { target, .. })
            | Some(Op::BrIf { target })
            | Some(Op::BrIfAdjust { target, .. })
            | Some(Op::BrIfNot { target }) => *target = to,
            _ => {}
        }
    }

    fn return_op(&mut self) {
        self.emit(Op::Return { results: self.results });
    }

    /// Translates one operator of a supported proposal.
    fn op(&mut self, op: Operator<'_>, name: &'static str) -> Result<(), CompileError> {
        if self.unreachable {
            match op {
                Operator::Block { .. } | Operator::Loop { .. } | Operator::If { .. } => {
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
        }
        self.charge();
        if let Some((num, effect)) = Op::numeric(&op) {
            match num.fuse(self.fusable(2), self.fusable(1)) {
                Some((fused, n)) => {
                    self.ops.truncate(self.ops.len() - n);
                    self.emit(fused);
                }
                None => self.emit(num),
            }
            if effect < 0 {
                self.pop(1);
            }
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
                self.ctrl.push(Ctrl {
                    kind: CtrlKind::Block,
                    height: self.height - params,
                    params,
                    results,
                    start: self.pc(),
                    fixups: Vec::new(),
                    if_branch: None,
                });
            }
            Operator::Loop { blockty } => {
                let (params, results) = self.block_arity(blockty)?;
                self.label();
                self.fuel_point();
                self.ctrl.push(Ctrl {
                    kind: CtrlKind::Loop,
                    height: self.height - params,
                    params,
                    results,
                    start: self.fuel_op.map_or(self.pc(), |i| i as u32),
                    fixups: Vec::new(),
                    if_branch: None,
                });
            }
            Operator::If { blockty } => {
                let (params, results) = self.block_arity(blockty)?;
                self.pop(1);
                let at = self.ops.len();
                self.emit(Op::BrIfNot { target: u32::MAX });
                self.ctrl.push(Ctrl {
                    kind: CtrlKind::If,
                    height: self.height - params,
                    params,
                    results,
                    start: self.pc(),
                    fixups: Vec::new(),
                    if_branch: Some(at),
                });
                self.fuel_point();
            }
            Operator::Else => {
                if !self.unreachable {
                    let at = self.ops.len();
                    self.emit(Op::Br { target: u32::MAX });
                    if let Some(f) = self.ctrl.last_mut() {
                        f.fixups.push(at);
                    }
                }
                let pc = self.pc();
                self.label();
                let f = self.ctrl.last_mut().ok_or(CompileError::Limit("else"))?;
                f.kind = CtrlKind::Else;
                let branch = f.if_branch.take();
                self.height = f.height + f.params;
                self.unreachable = false;
                if let Some(b) = branch {
                    self.patch(b, pc);
                }
                self.fuel_point();
            }
            Operator::End => {
                let f = self.ctrl.pop().ok_or(CompileError::Limit("end"))?;
                self.unreachable = false;
                self.height = f.height + f.results;
                self.max_height = self.max_height.max(self.height);
                if self.ctrl.is_empty() {
                    // The function's end: its branches target the return below.
                    let pc = self.pc();
                    for at in f.fixups {
                        self.patch(at, pc);
                    }
                    self.return_op();
                    return Ok(());
                }
                let pc = self.pc();
                self.label();
                for at in f.fixups {
                    self.patch(at, pc);
                }
                if let Some(b) = f.if_branch {
                    self.patch(b, pc);
                }
                if f.kind != CtrlKind::Loop {
                    self.fuel_point();
                }
            }
            Operator::Br { relative_depth } => {
                self.branch(relative_depth, false)?;
                self.unreachable = true;
            }
            Operator::BrIf { relative_depth } => {
                self.pop(1);
                // `i32.eqz; br_if` branches on zero: invert instead of computing.
                let negate = self.fusable(1) == Some(Op::I32Eqz);
                if negate {
                    self.ops.pop();
                }
                self.branch(relative_depth, true)?;
                if negate {
                    let at = self.ops.len() - 1;
                    match self.ops[at] {
                        Op::BrIf { target } => self.ops[at] = Op::BrIfNot { target },
                        _ => {
                            // A branch that adjusts the stack: keep the `eqz`.
                            let op = self.ops[at];
                            self.ops[at] = Op::I32Eqz;
                            self.ops.push(op);
                            for f in &mut self.ctrl {
                                for x in &mut f.fixups {
                                    if *x == at {
                                        *x = at + 1;
                                    }
                                }
                            }
                        }
                    }
                }
                self.fuel_point();
            }
            Operator::BrTable { targets } => {
                self.pop(1);
                let len = limit(targets.len() as usize)?;
                self.emit(Op::BrTable { len });
                for t in targets.targets() {
                    self.branch(t?, false)?;
                }
                self.branch(targets.default(), false)?;
                self.unreachable = true;
            }
            Operator::Return => {
                self.return_op();
                self.unreachable = true;
            }
            Operator::Call { function_index } => {
                let ty = self
                    .module
                    .func_type(function_index)
                    .ok_or(CompileError::Limit("function index"))?;
                let (p, r) = self.call_arity(ty)?;
                let imported = self.module.num_imported_funcs;
                self.emit(if function_index < imported {
                    Op::CallImport { func: function_index }
                } else {
                    Op::Call { func: function_index - imported }
                });
                self.pop(p);
                self.push(r);
                self.fuel_point();
            }
            Operator::CallIndirect { type_index, table_index } => {
                let ty = self
                    .module
                    .types
                    .get(type_index as usize)
                    .ok_or(CompileError::Limit("type index"))?;
                let (p, r) = self.call_arity(ty)?;
                self.pop(1);
                self.emit(Op::CallIndirect { ty: type_index, table: table_index });
                self.pop(p);
                self.push(r);
                self.fuel_point();
            }
            Operator::Drop => {
                self.emit(Op::Drop);
                self.pop(1);
            }
            Operator::Select | Operator::TypedSelect { .. } => {
                self.emit(Op::Select);
                self.pop(2);
            }
            Operator::TypedSelectMulti { .. } => {
                return Err(unsupported(name, "gc", self.offset));
            }
            Operator::LocalGet { local_index } => {
                self.emit(Op::LocalGet(local_index));
                self.push(1);
            }
            Operator::LocalSet { local_index } => {
                self.emit(Op::LocalSet(local_index));
                self.pop(1);
            }
            Operator::LocalTee { local_index } => self.emit(Op::LocalTee(local_index)),
            Operator::GlobalGet { global_index } => {
                self.emit(Op::GlobalGet(global_index));
                self.push(1);
            }
            Operator::GlobalSet { global_index } => {
                self.emit(Op::GlobalSet(global_index));
                self.pop(1);
            }
            Operator::I32Const { value } => self.constant(u64::from(value as u32)),
            Operator::I64Const { value } => self.constant(value as u64),
            Operator::F32Const { value } => self.constant(u64::from(value.bits())),
            Operator::F64Const { value } => self.constant(value.bits()),
            Operator::RefNull { .. } => self.constant(0),
            Operator::RefIsNull => self.emit(Op::RefIsNull),
            Operator::RefFunc { function_index } => {
                self.emit(Op::RefFunc(function_index));
                self.push(1);
            }
            Operator::MemorySize { .. } => {
                self.emit(Op::MemorySize);
                self.push(1);
            }
            Operator::MemoryGrow { .. } => self.emit(Op::MemoryGrow),
            Operator::MemoryFill { .. } => {
                self.emit(Op::MemoryFill);
                self.pop(3);
            }
            Operator::MemoryCopy { .. } => {
                self.emit(Op::MemoryCopy);
                self.pop(3);
            }
            Operator::MemoryInit { data_index, .. } => {
                self.emit(Op::MemoryInit(data_index));
                self.pop(3);
            }
            Operator::DataDrop { data_index } => self.emit(Op::DataDrop(data_index)),
            Operator::TableGet { table } => self.emit(Op::TableGet(table)),
            Operator::TableSet { table } => {
                self.emit(Op::TableSet(table));
                self.pop(2);
            }
            Operator::TableSize { table } => {
                self.emit(Op::TableSize(table));
                self.push(1);
            }
            Operator::TableGrow { table } => {
                self.emit(Op::TableGrow(table));
                self.pop(1);
            }
            Operator::TableFill { table } => {
                self.emit(Op::TableFill(table));
                self.pop(3);
            }
            Operator::TableCopy { dst_table, src_table } => {
                self.emit(Op::TableCopy { dst: dst_table, src: src_table });
                self.pop(3);
            }
            Operator::TableInit { elem_index, table } => {
                self.emit(Op::TableInit { table, elem: elem_index });
                self.pop(3);
            }
            Operator::ElemDrop { elem_index } => self.emit(Op::ElemDrop(elem_index)),
            op => return self.memory_op(op, name),
        }
        Ok(())
    }

    fn constant(&mut self, v: u64) {
        self.emit(Op::Const(v));
        self.push(1);
    }

    fn memory_op(&mut self, op: Operator<'_>, name: &'static str) -> Result<(), CompileError> {
        use Operator as O;
        let (o, pops) = match op {
            O::I32Load { memarg } => (Op::I32Load { offset: off(&memarg)? }, 0),
            O::I64Load { memarg } => (Op::I64Load { offset: off(&memarg)? }, 0),
            O::F32Load { memarg } => (Op::F32Load { offset: off(&memarg)? }, 0),
            O::F64Load { memarg } => (Op::F64Load { offset: off(&memarg)? }, 0),
            O::I32Load8S { memarg } => (Op::I32Load8S { offset: off(&memarg)? }, 0),
            O::I32Load8U { memarg } => (Op::I32Load8U { offset: off(&memarg)? }, 0),
            O::I32Load16S { memarg } => (Op::I32Load16S { offset: off(&memarg)? }, 0),
            O::I32Load16U { memarg } => (Op::I32Load16U { offset: off(&memarg)? }, 0),
            O::I64Load8S { memarg } => (Op::I64Load8S { offset: off(&memarg)? }, 0),
            O::I64Load8U { memarg } => (Op::I64Load8U { offset: off(&memarg)? }, 0),
            O::I64Load16S { memarg } => (Op::I64Load16S { offset: off(&memarg)? }, 0),
            O::I64Load16U { memarg } => (Op::I64Load16U { offset: off(&memarg)? }, 0),
            O::I64Load32S { memarg } => (Op::I64Load32S { offset: off(&memarg)? }, 0),
            O::I64Load32U { memarg } => (Op::I64Load32U { offset: off(&memarg)? }, 0),
            O::I32Store { memarg } => (Op::I32Store { offset: off(&memarg)? }, 2),
            O::I64Store { memarg } => (Op::I64Store { offset: off(&memarg)? }, 2),
            O::F32Store { memarg } => (Op::F32Store { offset: off(&memarg)? }, 2),
            O::F64Store { memarg } => (Op::F64Store { offset: off(&memarg)? }, 2),
            O::I32Store8 { memarg } => (Op::I32Store8 { offset: off(&memarg)? }, 2),
            O::I32Store16 { memarg } => (Op::I32Store16 { offset: off(&memarg)? }, 2),
            O::I64Store8 { memarg } => (Op::I64Store8 { offset: off(&memarg)? }, 2),
            O::I64Store16 { memarg } => (Op::I64Store16 { offset: off(&memarg)? }, 2),
            O::I64Store32 { memarg } => (Op::I64Store32 { offset: off(&memarg)? }, 2),
            _ => return Err(unsupported(name, "unknown", self.offset)),
        };
        self.emit(o);
        self.pop(pops);
        Ok(())
    }
}

fn off(m: &wasmparser::MemArg) -> Result<u32, CompileError> {
    if m.target != wasmparser::MemArgTarget::Memory(0) {
        return Err(CompileError::Limit("multi-memory"));
    }
    u32::try_from(m.offset).map_err(|_| CompileError::Limit("memory64 offset"))
}

pub(crate) fn unsupported(op: &'static str, proposal: &'static str, offset: u64) -> CompileError {
    CompileError::Unsupported { op, proposal, offset }
}
