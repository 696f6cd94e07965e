//! Blocks, loops, `if`/`else`, branches and `br_table`.
//!
//! Every control-flow edge leaves the value stack *flushed*: each entry in the
//! canonical slot of its depth, no register live. A block's results (a loop's
//! parameters) therefore always sit in the slots `height..height + arity` of its
//! frame, on every path: a branch only copies the values it carries from the top
//! of the stack down to those slots when values lie between, and no join needs
//! reconciling moves. A `br_if` or `if` right after a comparison branches on the
//! comparison's flags (see `FuncCompiler::pending`).

use dynasm::dynasm;
use dynasmrt::{DynasmApi, DynasmLabelApi};
use vm_core::runtime::CompileError;
use wasmparser::{BlockType, BrTable};

use super::{Control, FuncCompiler, Kind};

/// Bytes of one `jmp rel32` (a `br_table` jump-table entry).
const JMP_REL32: usize = 5;

impl FuncCompiler<'_, '_> {
    pub fn block(&mut self, kind: Kind, bt: BlockType) -> Result<(), CompileError> {
        let (params, results) = self.block_arity(bt)?;
        self.flush();
        let label = self.ops.new_dynamic_label();
        if kind == Kind::Loop {
            dynasm!(self.ops ; .arch x64 ; =>label);
        }
        let height = self.stack.len() - params;
        let sig = Self::sig_of(bt);
        self.controls.push(Control {
            kind,
            label,
            else_label: None,
            height,
            params,
            results,
            sig,
            try_id: None,
        });
        Ok(())
    }

    pub fn if_(&mut self, bt: BlockType) -> Result<(), CompileError> {
        let (params, results) = self.block_arity(bt)?;
        // The flags survive the flush (moves only).
        let cc = self.pop_condition();
        self.flush();
        let label = self.ops.new_dynamic_label();
        let else_label = self.ops.new_dynamic_label();
        self.jcc(cc.negate(), else_label);
        let height = self.stack.len() - params;
        self.controls.push(Control {
            kind: Kind::If,
            label,
            else_label: Some(else_label),
            height,
            params,
            results,
            sig: Self::sig_of(bt),
            try_id: None,
        });
        Ok(())
    }

    fn top_control(&self) -> Result<Control, CompileError> {
        self.controls.last().copied().ok_or(CompileError::Limit("control stack underflow"))
    }

    pub fn else_(&mut self) -> Result<(), CompileError> {
        let mut frame = self.top_control()?;
        if self.reachable {
            self.flush();
            dynasm!(self.ops ; .arch x64 ; jmp =>frame.label);
        }
        if let Some(e) = frame.else_label.take() {
            dynasm!(self.ops ; .arch x64 ; =>e);
        }
        frame.kind = Kind::Else;
        if let Some(top) = self.controls.last_mut() {
            *top = frame;
        }
        let wide = Self::sig_wide(self.env.module, frame.sig, false);
        self.stack.reset(frame.height, wide);
        self.reachable = true;
        Ok(())
    }

    pub fn end(&mut self) -> Result<(), CompileError> {
        let frame = self.controls.pop().ok_or(CompileError::Limit("control stack underflow"))?;
        if self.reachable {
            self.flush();
        }
        if let Some(e) = frame.else_label {
            // An `if` without `else`: its parameters are its results, already in
            // place on the false path.
            dynasm!(self.ops ; .arch x64 ; =>e);
        }
        if frame.kind != Kind::Loop {
            dynasm!(self.ops ; .arch x64 ; =>frame.label);
        }
        let wide = Self::sig_wide(self.env.module, frame.sig, true);
        self.stack.reset(frame.height, wide);
        self.reachable = true;
        if frame.kind == Kind::Func {
            self.epilogue();
        }
        Ok(())
    }

    /// The frame `depth` levels out.
    pub(super) fn target(&self, depth: u32) -> Result<Control, CompileError> {
        let i = self
            .controls
            .len()
            .checked_sub(1 + depth as usize)
            .ok_or(CompileError::Limit("branch depth out of range"))?;
        Ok(self.controls[i])
    }

    /// Copies the values a branch to `target` carries from the top of the (flushed)
    /// stack to the target's slots. Copying upward in depth never overwrites a
    /// value before it is read: every destination is at or below its source.
    fn branch_moves(&mut self, target: &Control) {
        let arity = target.arity();
        let src = self.stack.len() - arity;
        if src == target.height {
            return;
        }
        let mut below = self.stack.below(target.height);
        for k in 0..arity {
            let wide = self.stack.wide(src + k);
            let (from, to) = (self.stack.slot(src + k), self.stack.addr(below, wide));
            self.copy_slot(from, to, wide);
            below += 1 + u32::from(wide);
        }
    }

    /// Whether a branch to `target` moves values.
    fn needs_moves(&self, target: &Control) -> bool {
        self.stack.len() - target.arity() != target.height && target.arity() > 0
    }

    pub fn br(&mut self, depth: u32) -> Result<(), CompileError> {
        let target = self.target(depth)?;
        self.flush();
        self.branch_moves(&target);
        dynasm!(self.ops ; .arch x64 ; jmp =>target.label);
        self.reachable = false;
        Ok(())
    }

    pub fn br_if(&mut self, depth: u32) -> Result<(), CompileError> {
        let target = self.target(depth)?;
        // The flags survive the flush and the branch moves (moves only).
        let cc = self.pop_condition();
        self.flush();
        if self.needs_moves(&target) {
            let skip = self.ops.new_dynamic_label();
            self.jcc(cc.negate(), skip);
            self.branch_moves(&target);
            dynasm!(self.ops ; .arch x64 ; jmp =>target.label ; =>skip);
        } else {
            self.jcc(cc, target.label);
        }
        Ok(())
    }

    /// `br_on_null` (`null`) or `br_on_non_null`: the reference is flushed to its
    /// canonical slot and tested there; `br_on_null` branches without it and keeps it
    /// otherwise, `br_on_non_null` branches with it and drops it otherwise.
    pub fn br_on_null(&mut self, depth: u32, null: bool) -> Result<(), CompileError> {
        let target = self.target(depth)?;
        self.flush();
        let d = self.stack.len() - 1;
        let at = self.stack.addr(self.stack.below(d), false);
        dynasm!(self.ops
            ; .arch x64
            ; mov r11, [rbp + at]
            ; test r11, r11
        );
        if null {
            self.stack.pop();
        }
        if self.needs_moves(&target) {
            let skip = self.ops.new_dynamic_label();
            if null {
                dynasm!(self.ops ; .arch x64 ; jnz =>skip);
            } else {
                dynasm!(self.ops ; .arch x64 ; jz =>skip);
            }
            self.branch_moves(&target);
            dynasm!(self.ops ; .arch x64 ; jmp =>target.label ; =>skip);
        } else if null {
            dynasm!(self.ops ; .arch x64 ; jz =>target.label);
        } else {
            dynasm!(self.ops ; .arch x64 ; jnz =>target.label);
        }
        if null {
            self.stack.push(super::Loc::Stack);
        } else {
            self.stack.pop();
        }
        Ok(())
    }

    /// `br_table`: a bounds check to the default target, then a jump into a table
    /// of `jmp rel32` instructions (5 bytes each, indexed by `index * 5`). Targets
    /// whose branch moves values get a stub that moves and jumps. Code size and
    /// compile time are linear in the number of targets.
    pub fn br_table(&mut self, targets: &BrTable<'_>) -> Result<(), CompileError> {
        let i = self.pop_reg_keeping_vmctx();
        self.stack.free(i);
        self.flush();
        let mut dests = Vec::with_capacity(targets.len() as usize);
        for t in targets.targets() {
            dests.push(self.target(t?)?);
        }
        let default = self.target(targets.default())?;
        let n = i32::try_from(dests.len())
            .map_err(|_| CompileError::Limit("br_table with more than 2^31 targets"))?;
        // Where each entry jumps: the target itself, or a stub that moves first.
        let mut stubs = Vec::new();
        let mut entry_label = |c: &mut Self, t: &Control| {
            if c.needs_moves(t) {
                let stub = c.ops.new_dynamic_label();
                stubs.push((stub, *t));
                stub
            } else {
                t.label
            }
        };
        let default_dest = entry_label(self, &default);
        let table = self.ops.new_dynamic_label();
        dynasm!(self.ops
            ; .arch x64
            ; cmp Rd(i), n
            ; jae =>default_dest
            ; mov Rd(i), Rd(i)
            ; lea Rq(i), [Rq(i) + Rq(i) * 4]
            ; lea r11, [=>table]
            ; add r11, Rq(i)
            ; jmp r11
            ; =>table
        );
        for t in &dests {
            let dest = entry_label(self, t);
            let before = self.ops.offset().0;
            dynasm!(self.ops ; .arch x64 ; jmp =>dest);
            if self.ops.offset().0 - before != JMP_REL32 {
                return Err(CompileError::Limit("engine-dynasm: br_table entry is not jmp rel32"));
            }
        }
        for (stub, t) in stubs {
            dynasm!(self.ops ; .arch x64 ; =>stub);
            self.branch_moves(&t);
            dynasm!(self.ops ; .arch x64 ; jmp =>t.label);
        }
        self.reachable = false;
        Ok(())
    }
}
