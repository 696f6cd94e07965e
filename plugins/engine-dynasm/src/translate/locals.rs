//! Locals: which of them live in registers, and `local.get`/`set`/`tee`.
//!
//! Before translating a function, one linear pass over its operators counts the
//! uses of each local (`local.get`, `local.set`, `local.tee`), each weighted by
//! the loops around it (8× per level, up to four levels), and the calls (direct,
//! indirect, imported and runtime calls), weighted the same way. The integer
//! locals (i32, i64, references) with the highest counts get a general-purpose
//! register each ([`GP_HOMES`], at most [`MAX_GP`]), the f32/f64 locals an xmm
//! register ([`XMM_HOMES`], at most [`MAX_XMM`]), for the whole function: the
//! value stack never allocates those registers, and every control-flow edge finds
//! each such local in its register, so joins need no moves for them. A local is
//! only given a register when its weighted uses outnumber what the calls cost it
//! (a reload after each call, and a store before each when the function writes
//! it); v128 locals stay in the frame.
//!
//! A *register local* keeps its frame slot (its *home*), which holds its value
//! only across calls: every register is caller-saved, so before a call (after the
//! value stack is flushed) the register locals the function writes are stored to
//! their homes, and all of them are reloaded after it. The prologue loads the
//! parameters from the argument area and zeroes the others; nothing else (traps,
//! the epilogue, fuel and interruption checks) needs them in memory.
//!
//! `local.get` of a register local pushes the register itself, an *alias*: the
//! value stack entry `Loc::Reg(r)` (or `Loc::Xmm(x)`) of a register the stack
//! does not own. Operators that only read an operand use it in place
//! ([`FuncCompiler::pop_read`]); those that write their first operand get a copy
//! ([`FuncCompiler::pop_reg`]). Before a `local.set`/`tee` overwrites the
//! register, any alias of it still on the stack is moved to a free register or
//! its canonical slot.

use dynasm::dynasm;
use dynasmrt::DynasmApi;
use vm_core::runtime::CompileError;
use wasmparser::{FunctionBody, Operator};

use super::{FuncCompiler, Loc, LocalKind};

/// The general-purpose registers integer locals may live in, in order of
/// preference. Never `rax`, `rcx`, `rdx` (division, shifts and `call_indirect`
/// take them for the value stack), so at least those stay allocatable.
pub(crate) const GP_HOMES: [u8; 8] = [3, 12, 13, 6, 7, 8, 9, 10];

/// At most this many integer locals live in registers.
pub(crate) const MAX_GP: usize = 8;

/// The xmm registers float locals may live in, in order of preference.
pub(crate) const XMM_HOMES: [u8; 8] = [14, 13, 12, 11, 10, 9, 8, 7];

/// At most this many float locals live in registers.
pub(crate) const MAX_XMM: usize = 8;

/// No register: the local lives in its frame slot.
const IN_FRAME: u8 = u8::MAX;

/// Which locals live in which registers for the whole function.
pub(crate) struct RegLocals {
    /// Per local: its register (general-purpose or xmm, by its kind), or
    /// [`IN_FRAME`].
    reg: Vec<u8>,
    /// The register locals: (local, register, xmm, written anywhere).
    pub homes: Vec<(u32, u8, bool, bool)>,
    /// The general-purpose registers taken (bit `r`).
    pub gp_mask: u16,
    /// The xmm registers taken (bit `x`).
    pub xmm_mask: u16,
}

impl RegLocals {
    /// Chooses the register locals of `body`, whose locals have the kinds
    /// `kinds`.
    pub fn plan(body: &FunctionBody<'_>, kinds: &[LocalKind]) -> Result<Self, CompileError> {
        let n = kinds.len();
        let mut uses = vec![0u64; n];
        let mut written = vec![false; n];
        let mut calls = 0u64;
        // Whether each open block is a loop, and the current weight.
        let mut loops: Vec<bool> = Vec::new();
        let mut depth = 0u32;
        let weight = |depth: u32| 1u64 << (3 * depth.min(4));
        let mut reader = body.get_operators_reader()?;
        while !reader.eof() {
            let mut count = |i: u32, w: bool, depth: u32| {
                if let Some(u) = uses.get_mut(i as usize) {
                    *u += weight(depth);
                    if w {
                        written[i as usize] = true;
                    }
                }
            };
            match reader.read()? {
                Operator::LocalGet { local_index } => count(local_index, false, depth),
                Operator::LocalSet { local_index } | Operator::LocalTee { local_index } => {
                    count(local_index, true, depth)
                }
                Operator::Loop { .. } => {
                    loops.push(true);
                    depth += 1;
                }
                Operator::Block { .. } | Operator::If { .. } => loops.push(false),
                Operator::End => {
                    if loops.pop() == Some(true) {
                        depth -= 1;
                    }
                }
                Operator::Call { .. }
                | Operator::CallIndirect { .. }
                | Operator::MemoryGrow { .. }
                | Operator::MemoryFill { .. }
                | Operator::MemoryCopy { .. }
                | Operator::MemoryInit { .. }
                | Operator::DataDrop { .. }
                | Operator::TableGrow { .. }
                | Operator::TableFill { .. }
                | Operator::TableCopy { .. }
                | Operator::TableInit { .. }
                | Operator::ElemDrop { .. } => calls += weight(depth),
                _ => {}
            }
        }
        // Candidates by weighted uses, most used first (ties: lower index).
        let mut order: Vec<u32> = (0..n as u32)
            .filter(|&i| {
                let i = i as usize;
                kinds[i] != LocalKind::V128 && uses[i] > calls * (1 + u64::from(written[i]))
            })
            .collect();
        order.sort_by(|&a, &b| uses[b as usize].cmp(&uses[a as usize]).then(a.cmp(&b)));
        let mut plan =
            RegLocals { reg: vec![IN_FRAME; n], homes: Vec::new(), gp_mask: 0, xmm_mask: 0 };
        let (mut gp, mut xmm) = (0, 0);
        for i in order {
            let xmm_local = kinds[i as usize] == LocalKind::Float;
            let r = if xmm_local {
                if xmm == MAX_XMM {
                    continue;
                }
                xmm += 1;
                let x = XMM_HOMES[xmm - 1];
                plan.xmm_mask |= 1 << x;
                x
            } else {
                if gp == MAX_GP {
                    continue;
                }
                gp += 1;
                let r = GP_HOMES[gp - 1];
                plan.gp_mask |= 1 << r;
                r
            };
            plan.reg[i as usize] = r;
            plan.homes.push((i, r, xmm_local, written[i as usize]));
        }
        Ok(plan)
    }

    /// The register of local `i`, if it lives in one.
    pub fn reg(&self, i: u32) -> Option<u8> {
        self.reg.get(i as usize).copied().filter(|&r| r != IN_FRAME)
    }
}

impl FuncCompiler<'_, '_> {
    /// Loads the register locals in the prologue: parameters from their homes
    /// in the argument area, the others zero.
    pub fn load_reg_locals(&mut self, params: usize) {
        for k in 0..self.reg_locals.homes.len() {
            let (i, r, xmm, _) = self.reg_locals.homes[k];
            let disp = self.locals[i as usize];
            match ((i as usize) < params, xmm) {
                (true, false) => dynasm!(self.ops ; .arch x64 ; mov Rq(r), [rbp + disp]),
                (true, true) => dynasm!(self.ops ; .arch x64 ; movsd Rx(r), [rbp + disp]),
                (false, false) => dynasm!(self.ops ; .arch x64 ; xor Rd(r), Rd(r)),
                (false, true) => dynasm!(self.ops ; .arch x64 ; xorps Rx(r), Rx(r)),
            }
        }
    }

    /// Before a call (the value stack flushed): the register locals the function
    /// writes into their homes.
    pub fn save_reg_locals(&mut self) {
        for k in 0..self.reg_locals.homes.len() {
            let (i, r, xmm, written) = self.reg_locals.homes[k];
            if !written {
                continue;
            }
            let disp = self.locals[i as usize];
            if xmm {
                dynasm!(self.ops ; .arch x64 ; movsd [rbp + disp], Rx(r));
            } else {
                dynasm!(self.ops ; .arch x64 ; mov [rbp + disp], Rq(r));
            }
        }
    }

    /// After a call: every register local back from its home.
    pub fn restore_reg_locals(&mut self) {
        for k in 0..self.reg_locals.homes.len() {
            let (i, r, xmm, _) = self.reg_locals.homes[k];
            let disp = self.locals[i as usize];
            if xmm {
                dynasm!(self.ops ; .arch x64 ; movsd Rx(r), [rbp + disp]);
            } else {
                dynasm!(self.ops ; .arch x64 ; mov Rq(r), [rbp + disp]);
            }
        }
    }

    pub fn local_get(&mut self, i: u32) -> Result<(), CompileError> {
        let disp = self.local(i)?;
        let kind = self.local_kind[i as usize];
        if let Some(r) = self.reg_locals.reg(i) {
            self.stack.push(if kind == LocalKind::Float { Loc::Xmm(r) } else { Loc::Reg(r) });
            return Ok(());
        }
        match kind {
            LocalKind::V128 => {
                let x = self.alloc_xmm();
                dynasm!(self.ops ; .arch x64 ; movdqu Rx(x), [rbp + disp]);
                self.stack.push_v128(x);
            }
            LocalKind::Float => {
                let x = self.alloc_xmm();
                dynasm!(self.ops ; .arch x64 ; movsd Rx(x), [rbp + disp]);
                self.stack.push(Loc::Xmm(x));
            }
            LocalKind::Int => {
                let r = self.alloc();
                dynasm!(self.ops ; .arch x64 ; mov Rq(r), [rbp + disp]);
                self.stack.push(Loc::Reg(r));
            }
        }
        Ok(())
    }

    pub fn local_set(&mut self, i: u32, tee: bool) -> Result<(), CompileError> {
        let disp = self.local(i)?;
        let kind = self.local_kind[i as usize];
        if let Some(r) = self.reg_locals.reg(i) {
            self.set_reg_local(r, kind == LocalKind::Float, tee);
            return Ok(());
        }
        if kind == LocalKind::V128 {
            let x = self.pop_v128();
            dynasm!(self.ops ; .arch x64 ; movdqu [rbp + disp], Rx(x));
            if tee {
                self.stack.push_v128(x);
            } else {
                self.stack.free_xmm(x);
            }
            return Ok(());
        }
        match self.stack.peek() {
            Some(Loc::Const(c)) if !tee && i32::try_from(c).is_ok() => {
                self.stack.pop();
                dynasm!(self.ops ; .arch x64 ; mov QWORD [rbp + disp], c as i32);
            }
            Some(Loc::Xmm(_)) => {
                let x = self.pop_xmm_read();
                dynasm!(self.ops ; .arch x64 ; movsd [rbp + disp], Rx(x));
                self.push_or_free_xmm(x, tee);
            }
            _ => {
                let r = self.pop_read();
                dynasm!(self.ops ; .arch x64 ; mov [rbp + disp], Rq(r));
                self.push_or_free(r, tee);
            }
        }
        Ok(())
    }

    /// `local.tee` pushes what it stored (an alias stays one), `local.set` lets it
    /// go.
    fn push_or_free(&mut self, r: u8, tee: bool) {
        if tee {
            self.stack.push(Loc::Reg(r));
        } else {
            self.stack.free(r);
        }
    }

    fn push_or_free_xmm(&mut self, x: u8, tee: bool) {
        if tee {
            self.stack.push(Loc::Xmm(x));
        } else {
            self.stack.free_xmm(x);
        }
    }

    /// `local.set`/`tee` of the register local in `r` (an xmm register when
    /// `xmm`).
    fn set_reg_local(&mut self, r: u8, xmm: bool, tee: bool) {
        let disp = self.stack.slot(self.stack.len() - 1);
        let top = self.stack.pop().expect("validated stack");
        let alias = if xmm { Loc::Xmm(r) } else { Loc::Reg(r) };
        if top != alias {
            // The entries that still read the old value keep it.
            self.unalias(alias);
            match (top, xmm) {
                (Loc::Reg(s), false) => dynasm!(self.ops ; .arch x64 ; mov Rq(r), Rq(s)),
                (Loc::Xmm(s), true) => dynasm!(self.ops ; .arch x64 ; movaps Rx(r), Rx(s)),
                (Loc::Reg(s), true) => dynasm!(self.ops ; .arch x64 ; movq Rx(r), Rq(s)),
                (Loc::Xmm(s), false) => dynasm!(self.ops ; .arch x64 ; movq Rq(r), Rx(s)),
                (Loc::Stack, false) => dynasm!(self.ops ; .arch x64 ; mov Rq(r), [rbp + disp]),
                (Loc::Stack, true) => dynasm!(self.ops ; .arch x64 ; movsd Rx(r), [rbp + disp]),
                (Loc::Const(c), false) => self.load_const(r, c),
                (Loc::Const(c), true) => self.xmm_const(r, c),
            }
            match top {
                Loc::Reg(s) => self.stack.free(s),
                Loc::Xmm(s) => self.stack.free_xmm(s),
                _ => {}
            }
        }
        if tee {
            self.stack.push(alias);
        }
    }
}
