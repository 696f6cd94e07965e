//! Wasm function bodies to Cranelift IR.
//!
//! Locals are frontend variables (SSA is built by `cranelift-frontend`), the operand
//! stack is a vector of IR values, and each wasm block, loop and if is a frame whose
//! exit (or loop header) is a Cranelift block taking the results (or parameters) as
//! block parameters. Blocks are sealed as soon as all their predecessors are known:
//! exits at the matching `end`, loop headers at the end of the loop, branch arms at
//! creation. Code after an unconditional branch is skipped until the enclosing frame
//! ends. Everything that depends on the runtime layout goes through [`FuncEnv`].

mod bulk;
mod simd;

use std::collections::HashMap;

use cranelift_codegen::ir::{
    self, Block, BlockArg, BlockCall, InstBuilder, JumpTableData, MemFlagsData, Type, Value,
    condcodes::{FloatCC, IntCC},
    immediates::{Ieee32, Ieee64},
    types,
};
use cranelift_codegen::isa::TargetFrontendConfig;
use cranelift_frontend::{FunctionBuilder, Variable};
use vm_core::runtime::limits::{self, RunStart};
use vm_core::runtime::operators::{Index64, OperatorSink, Wasm2Operators, Widen, index64};
use vm_core::runtime::{CompileError, FuncType};
use wasmparser::{BlockType, FunctionBody, MemArg, Operator};

use crate::env::{FuncEnv, Libcall, ir_type, trap};

fn mem_index(m: &MemArg) -> u32 {
    match m.target {
        wasmparser::MemArgTarget::Memory(i) | wasmparser::MemArgTarget::Array(i) => i,
    }
}

fn body_error(offset: u64, e: impl std::fmt::Display) -> CompileError {
    CompileError::Body { offset, message: e.to_string() }
}

fn wp_type(t: wasmparser::ValType) -> Type {
    match t {
        wasmparser::ValType::I32 => types::I32,
        wasmparser::ValType::I64 => types::I64,
        wasmparser::ValType::F32 => types::F32,
        wasmparser::ValType::F64 => types::F64,
        wasmparser::ValType::V128 => types::I8X16,
        wasmparser::ValType::Ref(_) => types::I64,
    }
}

#[derive(Debug)]
enum FrameKind {
    Block,
    Loop { header: Block },
    If { else_block: Option<Block>, else_params: Vec<Value> },
}

#[derive(Debug)]
struct Frame {
    kind: FrameKind,
    /// Where control continues after the frame; takes the results.
    exit: Block,
    params: usize,
    results: usize,
    /// Stack height below the frame's parameters.
    height: usize,
    /// Some branch targets `exit`.
    branched: bool,
    /// A `try_table`'s catch clauses and the block its calls unwind to.
    catch: Option<Box<Catch>>,
}

/// The catch clauses of a `try_table`.
#[derive(Debug)]
struct Catch {
    /// Where its calls' exceptional edges go, with the `exnref` (`i64`).
    landing: Block,
    /// Whether some call targets `landing`.
    used: bool,
    /// (tag or `None` for `catch_all`, index of the target frame, with the
    /// `exnref`), in order.
    clauses: Vec<(Option<u32>, usize, bool)>,
}

impl Frame {
    /// The block a branch to this frame jumps to and how many values it carries.
    fn target(&mut self) -> (Block, usize) {
        match self.kind {
            FrameKind::Loop { header } => (header, self.params),
            _ => {
                self.branched = true;
                (self.exit, self.results)
            }
        }
    }
}

/// Translates one function body.
pub struct FuncTranslator<'e, 'm, 'b> {
    env: &'e mut FuncEnv<'m>,
    b: FunctionBuilder<'b>,
    stack: Vec<Value>,
    frames: Vec<Frame>,
    locals: Vec<Variable>,
    reachable: bool,
    /// Frames opened while unreachable (skipped with their contents).
    dead_depth: u32,
    /// The fuel charge of the current run and the run's cost so far.
    run: Option<(ir::Inst, u64)>,
    offset: u64,
    results: usize,
}

impl<'e, 'm, 'b> FuncTranslator<'e, 'm, 'b> {
    /// Translates `body` (of type `ty`) into `b`'s function and finalizes it.
    ///
    /// # Errors
    /// An unsupported operator or an unreadable body.
    pub fn translate(
        env: &'e mut FuncEnv<'m>,
        mut b: FunctionBuilder<'b>,
        ty: &FuncType,
        body: &FunctionBody<'_>,
        cfg: TargetFrontendConfig,
    ) -> Result<(), CompileError> {
        let entry = b.create_block();
        b.append_block_params_for_function_params(entry);
        b.switch_to_block(entry);
        b.seal_block(entry);
        env.set_vmctx(b.block_params(entry)[0]);
        env.set_stack_limit(&mut b);
        let mut locals = Vec::new();
        for (i, &t) in ty.params().iter().enumerate() {
            let var = b.declare_var(ir_type(t));
            let v = b.block_params(entry)[i + 2];
            b.def_var(var, v);
            locals.push(var);
        }
        let mut reader = body.get_locals_reader().map_err(|e| body_error(0, e))?;
        for _ in 0..reader.get_count() {
            let off = reader.original_position();
            let (count, t) = reader.read().map_err(|e| body_error(off, e))?;
            let t = wp_type(t);
            for _ in 0..count {
                let var = b.declare_var(t);
                let zero = match t {
                    types::F32 => b.ins().f32const(Ieee32::with_bits(0)),
                    types::F64 => b.ins().f64const(Ieee64::with_bits(0)),
                    types::I8X16 => {
                        let c = b.func.dfg.constants.insert(vec![0u8; 16].into());
                        b.ins().vconst(types::I8X16, c)
                    }
                    t => b.ins().iconst(t, 0),
                };
                b.def_var(var, zero);
                locals.push(var);
            }
        }
        let exit = b.create_block();
        for &t in ty.results() {
            b.append_block_param(exit, ir_type(t));
        }
        let mut t = FuncTranslator {
            env,
            b,
            stack: Vec::new(),
            frames: vec![Frame {
                kind: FrameKind::Block,
                exit,
                params: 0,
                results: ty.results().len(),
                height: 0,
                branched: false,
                catch: None,
            }],
            locals,
            reachable: true,
            dead_depth: 0,
            run: None,
            offset: 0,
            results: ty.results().len(),
        };
        t.start_run(Some(RunStart::Check));
        let mut ops = body.get_operators_reader().map_err(|e| body_error(0, e))?;
        while !ops.eof() {
            t.offset = ops.original_position();
            t.b.set_srcloc(ir::SourceLoc::new(t.offset as u32));
            ops.visit_operator(&mut Wasm2Operators(&mut t))
                .map_err(|e| body_error(t.offset, e))??;
        }
        t.finish_run();
        t.b.finalize(cfg);
        Ok(())
    }

    fn pop(&mut self) -> Value {
        self.stack.pop().expect("validated: operand stack underflow")
    }

    fn pop2(&mut self) -> (Value, Value) {
        let y = self.pop();
        let x = self.pop();
        (x, y)
    }

    fn pop3(&mut self) -> (Value, Value, Value) {
        let z = self.pop();
        let (x, y) = self.pop2();
        (x, y, z)
    }

    fn top(&self, n: usize) -> &[Value] {
        &self.stack[self.stack.len() - n..]
    }

    fn push(&mut self, v: Value) {
        self.stack.push(v);
    }

    fn block_type(&self, bt: BlockType) -> Result<(Vec<Type>, Vec<Type>), CompileError> {
        Ok(match bt {
            BlockType::Empty => (vec![], vec![]),
            BlockType::Type(t) => (vec![], vec![wp_type(t)]),
            BlockType::FuncType(i) => {
                let ft = &self.env.module.types[i as usize];
                (
                    ft.params().iter().map(|&t| ir_type(t)).collect(),
                    ft.results().iter().map(|&t| ir_type(t)).collect(),
                )
            }
        })
    }

    /// Starts a straight-line run (see `vm_core::runtime::limits`): charges its cost
    /// on entry and, at a check point, checks fuel and the interrupt flag.
    fn start_run(&mut self, kind: Option<RunStart>) {
        self.finish_run();
        let Some(kind) = kind else { return };
        let check = kind == RunStart::Check;
        if self.env.fuel {
            let inst = self.env.fuel_charge(&mut self.b, check);
            self.run = Some((inst, 0));
        }
        if check && self.env.interrupt {
            self.env.interrupt_check(&mut self.b);
        }
    }

    /// Sets the cost of the run that ends here.
    fn finish_run(&mut self) {
        if let Some((inst, cost)) = self.run.take() {
            FuncEnv::set_run_cost(&mut self.b, inst, cost);
        }
    }

    /// Block arguments: `vals` with v128s in the canonical type.
    fn args(&mut self, vals: &[Value]) -> Vec<BlockArg> {
        vals.iter().map(|&v| BlockArg::Value(self.canon(v))).collect()
    }

    fn jump(&mut self, to: Block, vals: &[Value]) {
        let args = self.args(vals);
        self.b.ins().jump(to, &args);
    }

    fn return_(&mut self, vals: &[Value]) {
        let vals = self.canon_all(vals);
        self.b.ins().return_(&vals);
    }

    fn new_block(&mut self, tys: &[Type]) -> Block {
        let blk = self.b.create_block();
        for &t in tys {
            self.b.append_block_param(blk, t);
        }
        blk
    }

    fn enter_unreachable(&mut self) {
        self.reachable = false;
    }

    /// A branch to the frame `depth` levels out: its block and arity.
    fn branch_target(&mut self, depth: u32) -> (Block, usize) {
        let i = self.frames.len() - 1 - depth as usize;
        self.frames[i].target()
    }

    /// The operator while code is unreachable: only frame structure matters.
    fn dead_op(&mut self, op: &Operator<'_>) -> Result<(), CompileError> {
        match op {
            Operator::Block { .. }
            | Operator::Loop { .. }
            | Operator::If { .. }
            | Operator::TryTable { .. } => {
                self.dead_depth += 1;
            }
            Operator::Else if self.dead_depth == 0 => self.op_else(),
            Operator::End if self.dead_depth > 0 => self.dead_depth -= 1,
            Operator::End => self.op_end(),
            _ => {}
        }
        Ok(())
    }

    fn op_else(&mut self) {
        let reachable = self.reachable;
        let frame = self.frames.last_mut().expect("validated: else in a frame");
        let results = frame.results;
        let FrameKind::If { else_block, else_params } = &mut frame.kind else {
            unreachable!("validated: else closes an if")
        };
        let eb = else_block.take().expect("validated: one else per if");
        let params = std::mem::take(else_params);
        let (exit, height) = (frame.exit, frame.height);
        if reachable {
            frame.branched = true;
            let vals = self.top(results).to_vec();
            self.jump(exit, &vals);
        }
        self.stack.truncate(height);
        self.stack.extend(params);
        self.b.switch_to_block(eb);
        self.reachable = true;
    }

    fn op_end(&mut self) {
        let mut frame = self.frames.pop().expect("validated: end closes a frame");
        if self.reachable {
            let vals = self.top(frame.results).to_vec();
            self.jump(frame.exit, &vals);
            frame.branched = true;
        }
        if let Some(c) = frame.catch.take() {
            self.landing(*c);
        }
        let mut reach = frame.branched;
        match &mut frame.kind {
            FrameKind::If { else_block: Some(eb), else_params } => {
                // No `else`: the false arm passes the parameters through.
                let eb = *eb;
                let params = std::mem::take(else_params);
                self.b.switch_to_block(eb);
                self.jump(frame.exit, &params);
                reach = true;
            }
            FrameKind::Loop { header } => {
                let h = *header;
                self.b.seal_block(h);
            }
            _ => {}
        }
        self.b.switch_to_block(frame.exit);
        self.b.seal_block(frame.exit);
        self.stack.truncate(frame.height);
        let params = self.b.block_params(frame.exit).to_vec();
        self.stack.extend(params);
        self.reachable = reach;
        if self.frames.is_empty() && self.reachable {
            let vals = self.top(self.results).to_vec();
            self.return_(&vals);
        }
    }

    fn load(&mut self, memarg: &MemArg, ty: Type, size: u32, ext: Ext) {
        let index = self.pop();
        let (addr, off) =
            self.env.heap_addr(&mut self.b, mem_index(memarg), index, memarg.offset, size);
        let f = FuncEnv::heap_flags();
        let ins = self.b.ins();
        let v = match (ext, size) {
            (Ext::None, _) => ins.load(ty, f, addr, off),
            (Ext::S, 1) => ins.sload8(ty, f, addr, off),
            (Ext::U, 1) => ins.uload8(ty, f, addr, off),
            (Ext::S, 2) => ins.sload16(ty, f, addr, off),
            (Ext::U, 2) => ins.uload16(ty, f, addr, off),
            (Ext::S, _) => ins.sload32(f, addr, off),
            (Ext::U, _) => ins.uload32(f, addr, off),
        };
        self.push(v);
    }

    fn store(&mut self, memarg: &MemArg, size: u32, narrow: bool) {
        let v = self.pop();
        let index = self.pop();
        let (addr, off) =
            self.env.heap_addr(&mut self.b, mem_index(memarg), index, memarg.offset, size);
        let f = FuncEnv::heap_flags();
        let ins = self.b.ins();
        match (narrow, size) {
            (false, _) => ins.store(f, v, addr, off),
            (true, 1) => ins.istore8(f, v, addr, off),
            (true, 2) => ins.istore16(f, v, addr, off),
            (true, _) => ins.istore32(f, v, addr, off),
        };
    }

    fn icmp(&mut self, cc: IntCC) {
        let (x, y) = self.pop2();
        let c = self.b.ins().icmp(cc, x, y);
        let v = self.b.ins().uextend(types::I32, c);
        self.push(v);
    }

    fn fcmp(&mut self, cc: FloatCC) {
        let (x, y) = self.pop2();
        let c = self.b.ins().fcmp(cc, x, y);
        let v = self.b.ins().uextend(types::I32, c);
        self.push(v);
    }

    fn eqz(&mut self) {
        let x = self.pop();
        let c = self.b.ins().icmp_imm_s(IntCC::Equal, x, 0);
        let v = self.b.ins().uextend(types::I32, c);
        self.push(v);
    }

    /// The landing block of the innermost `try_table` (calls there unwind to it).
    fn landing_block(&mut self) -> Option<Block> {
        let c = self.frames.iter_mut().rev().find_map(|f| f.catch.as_deref_mut())?;
        c.used = true;
        Some(c.landing)
    }

    /// `try_table`: a block whose calls (and throws) get an exceptional edge to a
    /// landing block, filled at its `end` ([`FuncTranslator::landing`]).
    fn try_table(&mut self, t: &wasmparser::TryTable) -> Result<(), CompileError> {
        let (params, results) = self.block_type(t.ty)?;
        let exit = self.new_block(&results);
        let landing = self.new_block(&[types::I64]);
        let outer = self.frames.len() - 1;
        let clauses = t
            .catches
            .iter()
            .map(|c| match *c {
                wasmparser::Catch::One { tag, label } => (Some(tag), outer - label as usize, false),
                wasmparser::Catch::OneRef { tag, label } => {
                    (Some(tag), outer - label as usize, true)
                }
                wasmparser::Catch::All { label } => (None, outer - label as usize, false),
                wasmparser::Catch::AllRef { label } => (None, outer - label as usize, true),
            })
            .collect();
        self.frames.push(Frame {
            kind: FrameKind::Block,
            exit,
            params: params.len(),
            results: results.len(),
            height: self.stack.len() - params.len(),
            branched: false,
            catch: Some(Box::new(Catch { landing, used: false, clauses })),
        });
        Ok(())
    }

    /// Fills a `try_table`'s landing block (its frame is closed): each clause in
    /// order matches the exception's tag (`exn_is`) and branches to its label with
    /// the payload (`exn_payload`) and, for the `_ref` forms, the `exnref`; when
    /// none matches the exception is thrown on to the enclosing handler.
    fn landing(&mut self, c: Catch) {
        if !c.used {
            return;
        }
        self.b.seal_block(c.landing);
        self.b.switch_to_block(c.landing);
        let exn = self.b.block_params(c.landing)[0];
        let exn32 = self.b.ins().ireduce(types::I32, exn);
        for (tag, frame, with_ref) in c.clauses {
            let Some(tag) = tag else {
                let (to, _) = self.frames[frame].target();
                let vals = if with_ref { vec![exn] } else { vec![] };
                self.jump(to, &vals);
                return;
            };
            let t = self.i32c(tag);
            let hit = self.env.libcall(&mut self.b, Libcall::ExnIs, &[exn32, t]);
            let hit = hit.expect("exn_is returns a flag");
            let (yes, no) = (self.b.create_block(), self.b.create_block());
            self.b.ins().brif(hit, yes, &[], no, &[]);
            self.b.seal_block(yes);
            self.b.seal_block(no);
            self.b.switch_to_block(yes);
            let mut vals = self.payload(exn32, tag);
            if with_ref {
                vals.push(exn);
            }
            let (to, _) = self.frames[frame].target();
            self.jump(to, &vals);
            self.b.switch_to_block(no);
        }
        let landing = self.landing_block();
        self.env.throw(&mut self.b, exn32, landing);
    }

    /// The payload of exception `exn` (an `i32` raw `exnref`) of module tag `tag`.
    fn payload(&mut self, exn: Value, tag: u32) -> Vec<Value> {
        let tys: Vec<_> =
            self.env.module.tag_type(tag).map(|t| t.params().to_vec()).unwrap_or_default();
        let units: u32 = tys.iter().map(|t| t.slots64()).sum();
        if units == 0 {
            return Vec::new();
        }
        let ss = self.b.create_sized_stack_slot(ir::StackSlotData::new(
            ir::StackSlotKind::ExplicitSlot,
            units * 8,
            4,
        ));
        let addr = self.b.ins().stack_addr(types::I64, ss, 0);
        self.env.libcall_checked(&mut self.b, Libcall::ExnPayload, &[exn, addr]);
        let mut at = 0;
        let mut vals = Vec::with_capacity(tys.len());
        for t in tys {
            let v = self.b.ins().load(ir_type(t), MemFlagsData::trusted(), addr, at as i32);
            vals.push(v);
            at += 8 * t.slots64();
        }
        vals
    }

    /// `throw tag`: the payload goes to a stack slot, `exn_new` makes the exception.
    fn throw(&mut self, tag: u32) {
        let tys: Vec<_> =
            self.env.module.tag_type(tag).map(|t| t.params().to_vec()).unwrap_or_default();
        let args = self.top(tys.len()).to_vec();
        self.stack.truncate(self.stack.len() - tys.len());
        let units: u32 = tys.iter().map(|t| t.slots64()).sum();
        let ss = self.b.create_sized_stack_slot(ir::StackSlotData::new(
            ir::StackSlotKind::ExplicitSlot,
            units.max(1) * 8,
            4,
        ));
        let addr = self.b.ins().stack_addr(types::I64, ss, 0);
        let mut at = 0;
        for (v, t) in args.into_iter().zip(&tys) {
            let v = self.canon(v);
            self.b.ins().store(MemFlagsData::trusted(), v, addr, at as i32);
            at += 8 * t.slots64();
        }
        let t = self.i32c(tag);
        let exn = self.env.libcall(&mut self.b, Libcall::ExnNew, &[t, addr]);
        let exn = exn.expect("exn_new returns the exnref");
        self.b.ins().trapz(exn, trap::PENDING);
        let landing = self.landing_block();
        self.env.throw(&mut self.b, exn, landing);
        self.enter_unreachable();
    }

    fn i32c(&mut self, v: u32) -> Value {
        self.b.ins().iconst(types::I32, i64::from(v))
    }

    /// Translates one operator, charging it to the current run and starting the
    /// next run where vm-core's fuel definition says.
    fn op(&mut self, op: Operator<'_>, name: &'static str) -> Result<(), CompileError> {
        let next = limits::run_after(&op);
        if self.reachable {
            if let Some((_, cost)) = &mut self.run {
                *cost += limits::cost(&op);
            }
            let module = self.env.module;
            match index64(&op, &module.memories, &module.tables) {
                Some(l) => self.lower_index64(l, op, name)?,
                None => self.live_op(op, name)?,
            }
        } else {
            self.dead_op(&op)?;
        }
        if next.is_some() && self.reachable && !self.frames.is_empty() {
            self.start_run(next);
        }
        Ok(())
    }

    /// `op` on a 64-bit memory or table: its `i64` operands clamped and narrowed to
    /// `i32`, the 32-bit operator, its result widened (vm-core's
    /// [`index64`](vm_core::runtime::operators::index64) lowering).
    fn lower_index64(
        &mut self,
        l: Index64,
        op: Operator<'_>,
        name: &'static str,
    ) -> Result<(), CompileError> {
        let n = self.stack.len();
        for d in (0..8).filter(|d| l.clamp & (1 << d) != 0) {
            let v = self.stack[n - 1 - d];
            let max = self.b.ins().iconst(types::I64, i64::from(u32::MAX));
            let c = self.b.ins().umin(v, max);
            self.stack[n - 1 - d] = self.b.ins().ireduce(types::I32, c);
        }
        self.live_op(op, name)?;
        match l.result {
            Widen::None => {}
            Widen::Size => {
                let v = self.pop();
                let w = self.b.ins().uextend(types::I64, v);
                self.push(w);
            }
            Widen::Grow => {
                let v = self.pop();
                let w = self.b.ins().sextend(types::I64, v);
                self.push(w);
            }
        }
        Ok(())
    }

    fn live_op(&mut self, op: Operator<'_>, name: &'static str) -> Result<(), CompileError> {
        let _ = name;
        use Operator as O;
        macro_rules! un {
            ($m:ident) => {{
                let x = self.pop();
                let v = self.b.ins().$m(x);
                self.push(v);
            }};
            ($m:ident, $t:expr) => {{
                let x = self.pop();
                let v = self.b.ins().$m($t, x);
                self.push(v);
            }};
        }
        macro_rules! bin {
            ($m:ident) => {{
                let (x, y) = self.pop2();
                let v = self.b.ins().$m(x, y);
                self.push(v);
            }};
        }
        match op {
            O::Unreachable => {
                self.b.ins().trap(trap::UNREACHABLE);
                self.enter_unreachable();
            }
            O::Nop => {}
            O::Block { blockty } => {
                let (params, results) = self.block_type(blockty)?;
                let exit = self.new_block(&results);
                self.frames.push(Frame {
                    kind: FrameKind::Block,
                    exit,
                    params: params.len(),
                    results: results.len(),
                    height: self.stack.len() - params.len(),
                    branched: false,
                    catch: None,
                });
            }
            O::Loop { blockty } => {
                let (params, results) = self.block_type(blockty)?;
                let header = self.new_block(&params);
                let exit = self.new_block(&results);
                let vals = self.top(params.len()).to_vec();
                self.jump(header, &vals);
                self.b.switch_to_block(header);
                let height = self.stack.len() - params.len();
                self.stack.truncate(height);
                let hp = self.b.block_params(header).to_vec();
                self.stack.extend(hp);
                self.frames.push(Frame {
                    kind: FrameKind::Loop { header },
                    exit,
                    params: params.len(),
                    results: results.len(),
                    height,
                    branched: false,
                    catch: None,
                });
            }
            O::If { blockty } => {
                let (params, results) = self.block_type(blockty)?;
                let cond = self.pop();
                let then_block = self.b.create_block();
                let else_block = self.b.create_block();
                let exit = self.new_block(&results);
                self.b.ins().brif(cond, then_block, &[], else_block, &[]);
                self.b.seal_block(then_block);
                self.b.seal_block(else_block);
                self.b.switch_to_block(then_block);
                let else_params = self.top(params.len()).to_vec();
                self.frames.push(Frame {
                    kind: FrameKind::If { else_block: Some(else_block), else_params },
                    exit,
                    params: params.len(),
                    results: results.len(),
                    height: self.stack.len() - params.len(),
                    branched: false,
                    catch: None,
                });
            }
            O::Else => self.op_else(),
            O::End => self.op_end(),
            O::Br { relative_depth } => {
                let (to, n) = self.branch_target(relative_depth);
                let vals = self.top(n).to_vec();
                self.jump(to, &vals);
                self.enter_unreachable();
            }
            O::BrIf { relative_depth } => {
                let cond = self.pop();
                let (to, n) = self.branch_target(relative_depth);
                let top = self.top(n).to_vec();
                let vals = self.args(&top);
                let next = self.b.create_block();
                self.b.ins().brif(cond, to, &vals, next, &[]);
                self.b.seal_block(next);
                self.b.switch_to_block(next);
            }
            O::BrTable { targets } => {
                let index = self.pop();
                let off = self.offset;
                let depths: Vec<u32> =
                    targets.targets().collect::<Result<_, _>>().map_err(|e| body_error(off, e))?;
                let default = targets.default();
                let (_, n) = self.branch_target(default);
                let vals = self.top(n).to_vec();
                // Each distinct target gets one block (with no parameters) that jumps
                // on with the carried values. Found by depth through a map: a table of
                // many entries over many depths stays linear.
                let mut edges: Vec<(u32, Block)> = Vec::new();
                let mut by_depth: HashMap<u32, Block> = HashMap::new();
                let mut block_for = |t: &mut Self, depth: u32| -> Block {
                    if let Some(&blk) = by_depth.get(&depth) {
                        return blk;
                    }
                    let (to, _) = t.branch_target(depth);
                    let blk = if n == 0 { to } else { t.b.create_block() };
                    edges.push((depth, blk));
                    by_depth.insert(depth, blk);
                    blk
                };
                let def_blk = block_for(self, default);
                let blocks: Vec<Block> = depths.iter().map(|&d| block_for(self, d)).collect();
                let pool = &mut self.b.func.dfg.value_lists;
                let def_call = BlockCall::new(def_blk, [], pool);
                let calls: Vec<BlockCall> =
                    blocks.iter().map(|&blk| BlockCall::new(blk, [], pool)).collect();
                let jt = self.b.create_jump_table(JumpTableData::new(def_call, &calls));
                self.b.ins().br_table(index, jt);
                if n > 0 {
                    for (depth, blk) in edges {
                        let (to, _) = self.branch_target(depth);
                        self.b.switch_to_block(blk);
                        self.b.seal_block(blk);
                        self.jump(to, &vals);
                    }
                }
                self.enter_unreachable();
            }
            O::Return => {
                let vals = self.top(self.results).to_vec();
                self.return_(&vals);
                self.enter_unreachable();
            }
            O::Call { function_index } => {
                let n = self.env.module.func_type(function_index).map_or(0, |t| t.params().len());
                let args = self.top(n).to_vec();
                self.stack.truncate(self.stack.len() - n);
                let args = self.canon_all(&args);
                let landing = self.landing_block();
                let rs = self.env.call(&mut self.b, function_index, &args, landing, false);
                self.stack.extend(rs);
            }
            O::ReturnCall { function_index } => {
                let n = self.env.module.func_type(function_index).map_or(0, |t| t.params().len());
                let args = self.top(n).to_vec();
                self.stack.truncate(self.stack.len() - n);
                let args = self.canon_all(&args);
                self.env.call(&mut self.b, function_index, &args, None, true);
                self.enter_unreachable();
            }
            O::ReturnCallIndirect { type_index, table_index } => {
                let index = self.pop();
                let n = self.env.module.types[type_index as usize].params().len();
                let args = self.top(n).to_vec();
                self.stack.truncate(self.stack.len() - n);
                let args = self.canon_all(&args);
                self.env.call_indirect(
                    &mut self.b,
                    type_index,
                    table_index,
                    index,
                    &args,
                    None,
                    true,
                );
                self.enter_unreachable();
            }
            O::CallIndirect { type_index, table_index } => {
                let index = self.pop();
                let n = self.env.module.types[type_index as usize].params().len();
                let args = self.top(n).to_vec();
                self.stack.truncate(self.stack.len() - n);
                let args = self.canon_all(&args);
                let landing = self.landing_block();
                let rs = self.env.call_indirect(
                    &mut self.b,
                    type_index,
                    table_index,
                    index,
                    &args,
                    landing,
                    false,
                );
                self.stack.extend(rs);
            }
            O::TryTable { try_table } => self.try_table(&try_table)?,
            O::Throw { tag_index } => self.throw(tag_index),
            O::ThrowRef => {
                let v = self.pop();
                self.b.ins().trapz(v, trap::NULL_REFERENCE);
                let exn = self.b.ins().ireduce(types::I32, v);
                let landing = self.landing_block();
                self.env.throw(&mut self.b, exn, landing);
                self.enter_unreachable();
            }
            O::CallRef { type_index } => {
                let fr = self.pop();
                let n = self.env.module.types[type_index as usize].params().len();
                let args = self.top(n).to_vec();
                self.stack.truncate(self.stack.len() - n);
                let args = self.canon_all(&args);
                let landing = self.landing_block();
                let rs = self.env.call_ref(&mut self.b, type_index, fr, &args, landing, false);
                self.stack.extend(rs);
            }
            O::ReturnCallRef { type_index } => {
                let fr = self.pop();
                let n = self.env.module.types[type_index as usize].params().len();
                let args = self.top(n).to_vec();
                self.stack.truncate(self.stack.len() - n);
                let args = self.canon_all(&args);
                self.env.call_ref(&mut self.b, type_index, fr, &args, None, true);
                self.enter_unreachable();
            }
            O::RefAsNonNull => {
                let r = *self.top(1).first().expect("validated: a reference");
                self.b.ins().trapz(r, trap::NULL_REFERENCE);
            }
            O::BrOnNull { relative_depth } => {
                // Taken with the reference dropped; otherwise it stays.
                let r = self.pop();
                let (to, n) = self.branch_target(relative_depth);
                let top = self.top(n).to_vec();
                let vals = self.args(&top);
                let next = self.b.create_block();
                self.b.ins().brif(r, next, &[], to, &vals);
                self.b.seal_block(next);
                self.b.switch_to_block(next);
                self.push(r);
            }
            O::BrOnNonNull { relative_depth } => {
                // Taken with the reference; otherwise it is dropped.
                let r = *self.top(1).first().expect("validated: a reference");
                let (to, n) = self.branch_target(relative_depth);
                let top = self.top(n).to_vec();
                let vals = self.args(&top);
                let next = self.b.create_block();
                self.b.ins().brif(r, to, &vals, next, &[]);
                self.b.seal_block(next);
                self.b.switch_to_block(next);
                self.pop();
            }
            O::Drop => {
                self.pop();
            }
            O::Select | O::TypedSelect { .. } => {
                let (x, y, c) = self.pop3();
                let (x, y) = (self.canon(x), self.canon(y));
                let v = self.b.ins().select(c, x, y);
                self.push(v);
            }
            O::TypedSelectMulti { .. } => {
                return Err(CompileError::unsupported(name, "gc", self.offset));
            }
            O::LocalGet { local_index } => {
                let v = self.b.use_var(self.locals[local_index as usize]);
                self.push(v);
            }
            O::LocalSet { local_index } => {
                let v = self.pop();
                let v = self.canon(v);
                self.b.def_var(self.locals[local_index as usize], v);
            }
            O::LocalTee { local_index } => {
                let v = *self.stack.last().expect("validated: tee operand");
                let v = self.canon(v);
                self.b.def_var(self.locals[local_index as usize], v);
            }
            O::GlobalGet { global_index } => {
                let v = self.env.global_get(&mut self.b, global_index);
                self.push(v);
            }
            O::GlobalSet { global_index } => {
                let v = self.pop();
                let v = self.canon(v);
                self.env.global_set(&mut self.b, global_index, v);
            }
            O::I32Load { memarg } => self.load(&memarg, types::I32, 4, Ext::None),
            O::I64Load { memarg } => self.load(&memarg, types::I64, 8, Ext::None),
            O::F32Load { memarg } => self.load(&memarg, types::F32, 4, Ext::None),
            O::F64Load { memarg } => self.load(&memarg, types::F64, 8, Ext::None),
            O::I32Load8S { memarg } => self.load(&memarg, types::I32, 1, Ext::S),
            O::I32Load8U { memarg } => self.load(&memarg, types::I32, 1, Ext::U),
            O::I32Load16S { memarg } => self.load(&memarg, types::I32, 2, Ext::S),
            O::I32Load16U { memarg } => self.load(&memarg, types::I32, 2, Ext::U),
            O::I64Load8S { memarg } => self.load(&memarg, types::I64, 1, Ext::S),
            O::I64Load8U { memarg } => self.load(&memarg, types::I64, 1, Ext::U),
            O::I64Load16S { memarg } => self.load(&memarg, types::I64, 2, Ext::S),
            O::I64Load16U { memarg } => self.load(&memarg, types::I64, 2, Ext::U),
            O::I64Load32S { memarg } => self.load(&memarg, types::I64, 4, Ext::S),
            O::I64Load32U { memarg } => self.load(&memarg, types::I64, 4, Ext::U),
            O::I32Store { memarg } | O::F32Store { memarg } => self.store(&memarg, 4, false),
            O::I64Store { memarg } | O::F64Store { memarg } => self.store(&memarg, 8, false),
            O::I32Store8 { memarg } | O::I64Store8 { memarg } => self.store(&memarg, 1, true),
            O::I32Store16 { memarg } | O::I64Store16 { memarg } => self.store(&memarg, 2, true),
            O::I64Store32 { memarg } => self.store(&memarg, 4, true),
            O::MemorySize { mem } => {
                let v = self.env.memory_size(&mut self.b, mem);
                self.push(v);
            }
            O::MemoryGrow { mem } => {
                let delta = self.pop();
                let m = self.i32c(mem);
                let v = self.env.libcall(&mut self.b, Libcall::MemoryGrow, &[m, delta]);
                self.push(v.expect("memory.grow returns the old size"));
            }
            O::MemoryFill { mem } if self.env.inline_bulk_memory => {
                let (dst, val, len) = self.pop3();
                self.inline_memory_fill(mem, dst, val, len);
            }
            O::MemoryCopy { dst_mem, src_mem } if self.env.inline_bulk_memory => {
                let (dst, src, len) = self.pop3();
                self.inline_memory_copy(dst_mem, src_mem, dst, src, len);
            }
            O::MemoryFill { mem } => {
                let (dst, val, len) = self.pop3();
                let m = self.i32c(mem);
                self.env.libcall_checked(&mut self.b, Libcall::MemoryFill, &[m, dst, val, len]);
            }
            O::MemoryCopy { dst_mem, src_mem } => {
                let (dst, src, len) = self.pop3();
                let (dm, sm) = (self.i32c(dst_mem), self.i32c(src_mem));
                let args = [dm, sm, dst, src, len];
                self.env.libcall_checked(&mut self.b, Libcall::MemoryCopy, &args);
            }
            O::MemoryInit { data_index, mem } => {
                let (dst, src, len) = self.pop3();
                let (m, d) = (self.i32c(mem), self.i32c(data_index));
                self.env.libcall_checked(&mut self.b, Libcall::MemoryInit, &[m, d, dst, src, len]);
            }
            O::DataDrop { data_index } => {
                let d = self.i32c(data_index);
                self.env.libcall(&mut self.b, Libcall::DataDrop, &[d]);
            }
            O::I32Const { value } => {
                let v = self.b.ins().iconst(types::I32, i64::from(value as u32));
                self.push(v);
            }
            O::I64Const { value } => {
                let v = self.b.ins().iconst(types::I64, value);
                self.push(v);
            }
            O::F32Const { value } => {
                let v = self.b.ins().f32const(Ieee32::with_bits(value.bits()));
                self.push(v);
            }
            O::F64Const { value } => {
                let v = self.b.ins().f64const(Ieee64::with_bits(value.bits()));
                self.push(v);
            }
            O::I32Eqz | O::I64Eqz => self.eqz(),
            O::I32Eq | O::I64Eq => self.icmp(IntCC::Equal),
            O::I32Ne | O::I64Ne => self.icmp(IntCC::NotEqual),
            O::I32LtS | O::I64LtS => self.icmp(IntCC::SignedLessThan),
            O::I32LtU | O::I64LtU => self.icmp(IntCC::UnsignedLessThan),
            O::I32GtS | O::I64GtS => self.icmp(IntCC::SignedGreaterThan),
            O::I32GtU | O::I64GtU => self.icmp(IntCC::UnsignedGreaterThan),
            O::I32LeS | O::I64LeS => self.icmp(IntCC::SignedLessThanOrEqual),
            O::I32LeU | O::I64LeU => self.icmp(IntCC::UnsignedLessThanOrEqual),
            O::I32GeS | O::I64GeS => self.icmp(IntCC::SignedGreaterThanOrEqual),
            O::I32GeU | O::I64GeU => self.icmp(IntCC::UnsignedGreaterThanOrEqual),
            O::F32Eq | O::F64Eq => self.fcmp(FloatCC::Equal),
            O::F32Ne | O::F64Ne => self.fcmp(FloatCC::NotEqual),
            O::F32Lt | O::F64Lt => self.fcmp(FloatCC::LessThan),
            O::F32Gt | O::F64Gt => self.fcmp(FloatCC::GreaterThan),
            O::F32Le | O::F64Le => self.fcmp(FloatCC::LessThanOrEqual),
            O::F32Ge | O::F64Ge => self.fcmp(FloatCC::GreaterThanOrEqual),
            O::I32Clz | O::I64Clz => un!(clz),
            O::I32Ctz | O::I64Ctz => un!(ctz),
            O::I32Popcnt | O::I64Popcnt => un!(popcnt),
            O::I32Add | O::I64Add => bin!(iadd),
            O::I32Sub | O::I64Sub => bin!(isub),
            O::I32Mul | O::I64Mul => bin!(imul),
            O::I32DivS | O::I64DivS => bin!(sdiv),
            O::I32DivU | O::I64DivU => bin!(udiv),
            O::I32RemS | O::I64RemS => bin!(srem),
            O::I32RemU | O::I64RemU => bin!(urem),
            O::I32And | O::I64And => bin!(band),
            O::I32Or | O::I64Or => bin!(bor),
            O::I32Xor | O::I64Xor => bin!(bxor),
            O::I32Shl | O::I64Shl => bin!(ishl),
            O::I32ShrS | O::I64ShrS => bin!(sshr),
            O::I32ShrU | O::I64ShrU => bin!(ushr),
            O::I32Rotl | O::I64Rotl => bin!(rotl),
            O::I32Rotr | O::I64Rotr => bin!(rotr),
            O::F32Abs | O::F64Abs => un!(fabs),
            O::F32Neg | O::F64Neg => un!(fneg),
            O::F32Ceil | O::F64Ceil => un!(ceil),
            O::F32Floor | O::F64Floor => un!(floor),
            O::F32Trunc | O::F64Trunc => un!(trunc),
            O::F32Nearest | O::F64Nearest => un!(nearest),
            O::F32Sqrt | O::F64Sqrt => un!(sqrt),
            O::F32Add | O::F64Add => bin!(fadd),
            O::F32Sub | O::F64Sub => bin!(fsub),
            O::F32Mul | O::F64Mul => bin!(fmul),
            O::F32Div | O::F64Div => bin!(fdiv),
            O::F32Min | O::F64Min => bin!(fmin),
            O::F32Max | O::F64Max => bin!(fmax),
            O::F32Copysign | O::F64Copysign => bin!(fcopysign),
            O::I32WrapI64 => un!(ireduce, types::I32),
            O::I64ExtendI32S => un!(sextend, types::I64),
            O::I64ExtendI32U => un!(uextend, types::I64),
            O::I32TruncF32S | O::I32TruncF64S => un!(fcvt_to_sint, types::I32),
            O::I32TruncF32U | O::I32TruncF64U => un!(fcvt_to_uint, types::I32),
            O::I64TruncF32S | O::I64TruncF64S => un!(fcvt_to_sint, types::I64),
            O::I64TruncF32U | O::I64TruncF64U => un!(fcvt_to_uint, types::I64),
            O::I32TruncSatF32S | O::I32TruncSatF64S => un!(fcvt_to_sint_sat, types::I32),
            O::I32TruncSatF32U | O::I32TruncSatF64U => un!(fcvt_to_uint_sat, types::I32),
            O::I64TruncSatF32S | O::I64TruncSatF64S => un!(fcvt_to_sint_sat, types::I64),
            O::I64TruncSatF32U | O::I64TruncSatF64U => un!(fcvt_to_uint_sat, types::I64),
            O::F32ConvertI32S | O::F32ConvertI64S => un!(fcvt_from_sint, types::F32),
            O::F32ConvertI32U | O::F32ConvertI64U => un!(fcvt_from_uint, types::F32),
            O::F64ConvertI32S | O::F64ConvertI64S => un!(fcvt_from_sint, types::F64),
            O::F64ConvertI32U | O::F64ConvertI64U => un!(fcvt_from_uint, types::F64),
            O::F32DemoteF64 => un!(fdemote, types::F32),
            O::F64PromoteF32 => un!(fpromote, types::F64),
            O::I32ReinterpretF32 => self.bitcast(types::I32),
            O::I64ReinterpretF64 => self.bitcast(types::I64),
            O::F32ReinterpretI32 => self.bitcast(types::F32),
            O::F64ReinterpretI64 => self.bitcast(types::F64),
            O::I32Extend8S => self.sign_extend(types::I8, types::I32),
            O::I32Extend16S => self.sign_extend(types::I16, types::I32),
            O::I64Extend8S => self.sign_extend(types::I8, types::I64),
            O::I64Extend16S => self.sign_extend(types::I16, types::I64),
            O::I64Extend32S => self.sign_extend(types::I32, types::I64),
            O::RefNull { .. } => {
                let v = self.b.ins().iconst(types::I64, 0);
                self.push(v);
            }
            O::RefIsNull => self.eqz(),
            O::RefFunc { function_index } => {
                let v = self.env.ref_func(&mut self.b, function_index);
                self.push(v);
            }
            O::TableGet { table } => {
                let i = self.pop();
                let v = self.env.table_get(&mut self.b, table, i);
                self.push(v);
            }
            O::TableSet { table } => {
                let (i, v) = self.pop2();
                self.env.table_set(&mut self.b, table, i, v);
            }
            O::TableSize { table } => {
                let v = self.env.table_size(&mut self.b, table);
                self.push(v);
            }
            O::TableGrow { table } => {
                let (init, delta) = self.pop2();
                let t = self.i32c(table);
                let v = self.env.libcall(&mut self.b, Libcall::TableGrow, &[t, init, delta]);
                self.push(v.expect("table.grow returns the old size"));
            }
            O::TableFill { table } => {
                let (dst, val, len) = self.pop3();
                let t = self.i32c(table);
                self.env.libcall_checked(&mut self.b, Libcall::TableFill, &[t, dst, val, len]);
            }
            O::TableCopy { dst_table, src_table } => {
                let (dst, src, len) = self.pop3();
                let (dt, st) = (self.i32c(dst_table), self.i32c(src_table));
                self.env.libcall_checked(&mut self.b, Libcall::TableCopy, &[dt, st, dst, src, len]);
            }
            O::TableInit { elem_index, table } => {
                let (dst, src, len) = self.pop3();
                let (t, e) = (self.i32c(table), self.i32c(elem_index));
                self.env.libcall_checked(&mut self.b, Libcall::TableInit, &[t, e, dst, src, len]);
            }
            O::ElemDrop { elem_index } => {
                let e = self.i32c(elem_index);
                self.env.libcall(&mut self.b, Libcall::ElemDrop, &[e]);
            }
            _ => return self.simd_op(op, name),
        }
        Ok(())
    }

    fn bitcast(&mut self, to: Type) {
        let x = self.pop();
        let v = self.b.ins().bitcast(to, MemFlagsData::new(), x);
        self.push(v);
    }

    fn sign_extend(&mut self, from: Type, to: Type) {
        let x = self.pop();
        let narrow = self.b.ins().ireduce(from, x);
        let v = self.b.ins().sextend(to, narrow);
        self.push(v);
    }
}

#[derive(Clone, Copy)]
enum Ext {
    None,
    S,
    U,
}

/// Operators of the WebAssembly 2.0 proposals come here through vm-core's
/// [`Wasm2Operators`] filter; every other one is unsupported there.
impl<'a> OperatorSink<'a> for FuncTranslator<'_, '_, '_> {
    fn translate(&mut self, op: Operator<'a>, name: &'static str) -> Result<(), CompileError> {
        self.op(op, name)
    }

    fn offset(&self) -> u64 {
        self.offset
    }
}
