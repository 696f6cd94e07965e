//! The value stack of locations and the register allocator.
//!
//! Each wasm operand stack entry is a [`Loc`]: a register, a constant, or its
//! *canonical slot*, the frame slot that belongs to its stack depth
//! (`rbp + slot(depth)`). Straight-line code keeps values in registers and
//! constants unmaterialized; at control flow every entry is written to its
//! canonical slot ([`FuncCompiler::flush`]), so that all paths into a join agree on
//! where each value is without any reconciliation.

use dynasm::dynasm;
use dynasmrt::DynasmApi;

use super::FuncCompiler;

/// Where a value stack entry is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Loc {
    /// In this register (which the entry owns).
    Reg(u8),
    /// In the canonical slot of its depth.
    Stack,
    /// A constant not yet materialized (i32 constants sign-extended).
    Const(i64),
}

/// The registers values are allocated to: every general-purpose register except
/// `rsp`, `rbp`, the scratch register `r11` and the `vmctx` register `r15`.
const POOL: [u8; 12] = [0, 1, 2, 3, 6, 7, 8, 9, 10, 12, 13, 14];

/// The operand stack of the function being translated, and which registers are
/// free.
pub(crate) struct ValueStack {
    entries: Vec<Loc>,
    /// Entries below this index are all [`Loc::Stack`].
    clean: usize,
    /// Bit `r` set: register `r` is free.
    free: u16,
    /// Deepest the stack got (frame size), including call areas.
    max_depth: usize,
    /// `rbp` displacement of the depth-0 slot.
    slot0: i32,
    /// The depth of the entry each register holds ([`NONE`]: none), so that
    /// choosing a register to spill and moving one cost no scan of the stack.
    owner: [u32; 16],
}

/// No entry holds the register.
const NONE: u32 = u32::MAX;

impl ValueStack {
    pub fn new(slot0: i32) -> Self {
        let free = POOL.iter().fold(0u16, |m, &r| m | 1 << r);
        Self { entries: Vec::new(), clean: 0, free, max_depth: 0, slot0, owner: [NONE; 16] }
    }

    /// The `rbp` displacement of the canonical slot of `depth`.
    pub fn slot(&self, depth: usize) -> i32 {
        self.slot0 - 8 * depth as i32
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn max_depth(&self) -> usize {
        self.max_depth
    }

    /// Makes room for `depth` slots in the frame.
    pub fn reserve(&mut self, depth: usize) {
        self.max_depth = self.max_depth.max(depth);
    }

    pub fn push(&mut self, loc: Loc) {
        if let Loc::Reg(r) = loc {
            self.owner[r as usize] = self.entries.len() as u32;
        }
        self.entries.push(loc);
        self.max_depth = self.max_depth.max(self.entries.len());
    }

    pub fn pop(&mut self) -> Option<Loc> {
        let l = self.entries.pop();
        if let Some(Loc::Reg(r)) = l {
            self.owner[r as usize] = NONE;
        }
        self.clean = self.clean.min(self.entries.len());
        l
    }

    /// Entry `d`.
    pub fn entry(&self, d: usize) -> Option<Loc> {
        self.entries.get(d).copied()
    }

    pub fn peek(&self) -> Option<Loc> {
        self.entries.last().copied()
    }

    pub fn free(&mut self, r: u8) {
        debug_assert!(self.free & (1 << r) == 0, "register {r} freed twice");
        self.free |= 1 << r;
    }

    fn is_free(&self, r: u8) -> bool {
        self.free & (1 << r) != 0
    }

    /// Takes a free register, if any.
    fn take_free(&mut self) -> Option<u8> {
        let r = POOL.iter().copied().find(|&r| self.is_free(r))?;
        self.free &= !(1 << r);
        Some(r)
    }

    /// Drops every entry above `depth` and marks the rest as being in their slots
    /// (the state at a join, where every path has flushed).
    pub fn reset(&mut self, depth: usize) {
        debug_assert!(self.entries.iter().all(|l| !matches!(l, Loc::Reg(_))));
        self.entries.clear();
        self.entries.resize(depth, Loc::Stack);
        self.clean = depth;
        self.max_depth = self.max_depth.max(depth);
    }
}

impl FuncCompiler<'_, '_> {
    /// Writes entry `d` to its canonical slot (freeing its register).
    fn spill(&mut self, d: usize) {
        let disp = self.stack.slot(d);
        match self.stack.entries[d] {
            Loc::Stack => return,
            Loc::Reg(r) => {
                dynasm!(self.ops ; .arch x64 ; mov [rbp + disp], Rq(r));
                self.stack.owner[r as usize] = NONE;
                self.stack.free(r);
            }
            Loc::Const(c) => {
                if let Ok(c) = i32::try_from(c) {
                    dynasm!(self.ops ; .arch x64 ; mov QWORD [rbp + disp], c);
                } else {
                    dynasm!(self.ops
                        ; .arch x64
                        ; mov r11, QWORD c
                        ; mov [rbp + disp], r11
                    );
                }
            }
        }
        self.stack.entries[d] = Loc::Stack;
    }

    /// Writes every entry to its canonical slot: the state at every control-flow
    /// edge.
    pub fn flush(&mut self) {
        for d in self.stack.clean..self.stack.entries.len() {
            self.spill(d);
        }
        self.stack.clean = self.stack.entries.len();
    }

    /// A free register, spilling the deepest register entry when none is free.
    pub fn alloc(&mut self) -> u8 {
        if let Some(r) = self.stack.take_free() {
            return r;
        }
        let d = self.stack.owner.iter().copied().min().unwrap_or(NONE);
        assert_ne!(d, NONE, "a register entry exists when no register is free");
        self.spill(d as usize);
        self.stack.take_free().expect("spilling freed a register")
    }

    /// Takes register `r` for the caller, moving the entry that holds it (if any)
    /// to another register.
    pub fn take_reg(&mut self, r: u8) {
        let d = self.stack.owner[r as usize];
        if d != NONE {
            // Move the entry to a free register, or spill it when none is free
            // (`alloc` could pick the entry itself and hand `r` back).
            if let Some(n) = self.stack.take_free() {
                dynasm!(self.ops ; .arch x64 ; mov Rq(n), Rq(r));
                self.stack.entries[d as usize] = Loc::Reg(n);
                self.stack.owner[n as usize] = d;
                self.stack.owner[r as usize] = NONE;
            } else {
                self.spill(d as usize);
            }
            self.stack.free &= !(1 << r);
        } else if self.stack.is_free(r) {
            self.stack.free &= !(1 << r);
        }
        // Else the caller already owns `r` (popped it): nothing to move.
    }

    /// Pops the top entry into a register the caller owns.
    pub fn pop_reg(&mut self) -> u8 {
        let depth = self.stack.len() - 1;
        match self.stack.pop().expect("validated stack") {
            Loc::Reg(r) => r,
            Loc::Stack => {
                let r = self.alloc();
                let disp = self.stack.slot(depth);
                dynasm!(self.ops ; .arch x64 ; mov Rq(r), [rbp + disp]);
                r
            }
            Loc::Const(c) => {
                let r = self.alloc();
                self.load_const(r, c);
                r
            }
        }
    }

    /// Pops the top entry into register `r` (taken for the caller).
    pub fn pop_into(&mut self, r: u8) {
        let top = self.stack.peek();
        if top == Some(Loc::Reg(r)) {
            self.stack.pop();
            return;
        }
        self.take_reg(r);
        let got = self.pop_reg();
        dynasm!(self.ops ; .arch x64 ; mov Rq(r), Rq(got));
        self.stack.free(got);
    }

    /// `r = c`.
    pub fn load_const(&mut self, r: u8, c: i64) {
        if c == 0 {
            dynasm!(self.ops ; .arch x64 ; xor Rd(r), Rd(r));
        } else if let Ok(u) = u32::try_from(c) {
            dynasm!(self.ops ; .arch x64 ; mov Rd(r), u as i32);
        } else if let Ok(i) = i32::try_from(c) {
            dynasm!(self.ops ; .arch x64 ; mov Rq(r), i);
        } else {
            dynasm!(self.ops ; .arch x64 ; mov Rq(r), QWORD c);
        }
    }

    /// Pops the top entry as an operand: a 32-bit immediate when it is a constant
    /// that fits (`wide`: as a 64-bit operation's sign-extended immediate), else a
    /// register the caller owns.
    pub fn pop_operand(&mut self, wide: bool) -> Operand {
        if let Some(Loc::Const(c)) = self.stack.peek() {
            let imm = if wide { i32::try_from(c).ok() } else { Some(c as i32) };
            if let Some(imm) = imm {
                self.stack.pop();
                return Operand::Imm(imm);
            }
        }
        Operand::Reg(self.pop_reg())
    }
}

/// A popped operand.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Operand {
    Reg(u8),
    Imm(i32),
}
