//! The value stack of locations and the register allocator.
//!
//! Each wasm operand stack entry is a [`Loc`]: a general-purpose register, an xmm
//! register, a constant, or its *canonical slot*, the frame slot that belongs to its
//! stack depth (`rbp + slot(depth)`). Straight-line code keeps values in registers
//! and constants unmaterialized; at control flow every entry is written to its
//! canonical slot ([`FuncCompiler::flush`]), so that all paths into a join agree on
//! where each value is without any reconciliation.
//!
//! Integers live in general-purpose registers, floats produced by float operators
//! in xmm registers (two allocators side by side, each with its own free mask and
//! owner table). The location says the class, so type-agnostic operators (`drop`,
//! `local.set`, `select`, spills) need no type information: a float that reaches a
//! general-purpose register (a float `select` of two slot values, say) is just its
//! bits, and [`FuncCompiler::pop_xmm`] moves it over when a float operator wants
//! it, as [`FuncCompiler::pop_reg`] does the other way. Constants are raw bits of
//! either class. An f32 occupies the low 32 bits of its register or slot; like an
//! i32's, the upper bits are unspecified and never read.
//!
//! The registers of register locals (see `super::locals`) are never allocated;
//! an entry in one of them is an alias of the local, which the stack does not
//! own: [`FuncCompiler::pop_reg`] copies it, [`FuncCompiler::pop_read`] lends it,
//! and freeing it does nothing.

use dynasm::dynasm;
use dynasmrt::{DynasmApi, DynasmLabelApi};

use super::FuncCompiler;

/// Where a value stack entry is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Loc {
    /// In this register (which the entry owns).
    Reg(u8),
    /// In the canonical slot of its depth.
    Stack,
    /// In this xmm register (which the entry owns): an f32 in the low 32 bits, an
    /// f64 in the low 64.
    Xmm(u8),
    /// A constant not yet materialized: raw bits (i32 and f32 constants
    /// sign-extended from their 32 bits).
    Const(i64),
}

/// The registers values are allocated to, in order of preference: every
/// general-purpose register except `rsp`, `rbp` and the scratch register `r11`
/// (and `r14` in a module with a memory 0, whose base it then holds). The `vmctx`
/// register `r15` comes last: taking it for a value costs a reload of `vmctx` from
/// the frame at the next control-flow edge (see [`ValueStack::vmctx_lost`]).
const POOL: [u8; 13] = [0, 1, 2, 3, 6, 7, 8, 9, 10, 12, 13, 14, VMCTX];

/// The register that holds `vmctx` at every control-flow edge (`r15`).
pub(crate) const VMCTX: u8 = 15;

/// The xmm registers values are allocated to: all but the scratch `xmm15`.
const XMM_POOL: [u8; 15] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14];

/// The operand stack of the function being translated, and which registers are
/// free.
pub(crate) struct ValueStack {
    entries: Vec<Loc>,
    /// Per entry: the 8-byte slot units through its end (the prefix sum of the
    /// sizes: 1 for a scalar, 2 for a v128), so entry `d` occupies units
    /// `ends[d - 1]..ends[d]`.
    ends: Vec<u32>,
    /// Entries below this index are all [`Loc::Stack`].
    clean: usize,
    /// Bit `r` set: register `r` is free.
    free: u16,
    /// Deepest the stack got in 8-byte units (frame size), including call areas.
    max_units: usize,
    /// `rbp` displacement of the depth-0 slot.
    slot0: i32,
    /// The depth of the entry each register holds ([`NONE`]: none), so that
    /// choosing a register to spill and moving one cost no scan of the stack.
    owner: [u32; 16],
    /// Bit `x` set: `xmm<x>` is free.
    xfree: u16,
    /// The depth of the entry each xmm register holds ([`NONE`]: none).
    xowner: [u32; 16],
    /// Bit `r` set: register `r` holds a register local (see `super::locals`):
    /// never allocated, and an entry `Loc::Reg(r)` is an alias the stack does
    /// not own.
    pinned: u16,
    /// The same for xmm registers.
    xpinned: u16,
    /// `r15` was taken for a value since the last control-flow edge, so it may
    /// not hold `vmctx`: straight-line code reads `vmctx` from its frame slot
    /// instead ([`FuncCompiler::vmctx_field`]) and the next flush reloads `r15`.
    /// At every control-flow edge, call and return `r15` holds `vmctx`.
    pub vmctx_lost: bool,
}

/// No entry holds the register.
const NONE: u32 = u32::MAX;

impl ValueStack {
    /// `membase`: the function keeps memory 0's base in
    /// [`MEMBASE`](super::reg::MEMBASE), which is then never allocated, nor are
    /// the registers of register locals (`pinned`, `xpinned`: bit `r` set for
    /// register `r`).
    /// `entries` and `ends`: allocations to reuse (cleared here).
    pub fn new(
        slot0: i32,
        membase: bool,
        pinned: u16,
        xpinned: u16,
        (mut entries, mut ends): (Vec<Loc>, Vec<u32>),
    ) -> Self {
        entries.clear();
        ends.clear();
        let mut free = POOL.iter().fold(0u16, |m, &r| m | 1 << r) & !pinned;
        if membase {
            free &= !(1 << super::reg::MEMBASE);
        }
        let xfree = XMM_POOL.iter().fold(0u16, |m, &r| m | 1 << r) & !xpinned;
        Self {
            entries,
            ends,
            clean: 0,
            free,
            max_units: 0,
            slot0,
            owner: [NONE; 16],
            xfree,
            xowner: [NONE; 16],
            pinned,
            xpinned,
            vmctx_lost: false,
        }
    }

    /// The `rbp` displacement of the canonical slot of `depth` (its lowest
    /// address: a v128's 16 bytes start there).
    pub fn slot(&self, depth: usize) -> i32 {
        self.addr(self.below(depth), self.wide(depth))
    }

    /// The `rbp` displacement of a value that starts `below` units deep and is
    /// `wide` (a v128) or not.
    pub fn addr(&self, below: u32, wide: bool) -> i32 {
        self.slot0 - 8 * (below + u32::from(wide)) as i32
    }

    /// Units of the entries below `depth`.
    pub fn below(&self, depth: usize) -> u32 {
        if depth == 0 { 0 } else { self.ends[depth - 1] }
    }

    /// Whether entry `depth` is a v128 (two units).
    pub fn wide(&self, depth: usize) -> bool {
        self.ends[depth] - self.below(depth) == 2
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Gives back the allocations of the entries (see [`ValueStack::new`]).
    pub fn into_allocations(self) -> (Vec<Loc>, Vec<u32>) {
        (self.entries, self.ends)
    }

    pub fn max_units(&self) -> usize {
        self.max_units
    }

    /// Makes room for `units` slot units in the frame.
    pub fn reserve(&mut self, units: u32) {
        self.max_units = self.max_units.max(units as usize);
    }

    /// Pushes a scalar entry.
    pub fn push(&mut self, loc: Loc) {
        self.push_sized(loc, false);
    }

    /// Pushes a v128 held in `xmm<x>`.
    pub fn push_v128(&mut self, x: u8) {
        self.push_sized(Loc::Xmm(x), true);
    }

    #[inline]
    fn push_sized(&mut self, loc: Loc, wide: bool) {
        let depth = self.entries.len() as u32;
        match loc {
            // The owner table has 16 entries, so a register number is masked to
            // index it without a bounds check.
            Loc::Reg(r) if !self.is_pinned(r) => self.owner[usize::from(r & 15)] = depth,
            Loc::Xmm(x) if !self.is_xpinned(x) => self.xowner[usize::from(x & 15)] = depth,
            _ => {}
        }
        let end = self.ends.last().copied().unwrap_or(0) + 1 + u32::from(wide);
        self.entries.push(loc);
        self.ends.push(end);
        self.max_units = self.max_units.max(end as usize);
    }

    #[inline]
    pub fn pop(&mut self) -> Option<Loc> {
        self.ends.pop();
        let l = self.entries.pop();
        match l {
            Some(Loc::Reg(r)) if !self.is_pinned(r) => self.owner[usize::from(r & 15)] = NONE,
            Some(Loc::Xmm(x)) if !self.is_xpinned(x) => self.xowner[usize::from(x & 15)] = NONE,
            _ => {}
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

    /// Whether `r` holds a register local.
    pub fn is_pinned(&self, r: u8) -> bool {
        self.pinned & (1 << r) != 0
    }

    /// Whether `xmm<x>` holds a register local.
    pub fn is_xpinned(&self, x: u8) -> bool {
        self.xpinned & (1 << x) != 0
    }

    /// Gives `r` back (nothing for the register of a register local).
    pub fn free(&mut self, r: u8) {
        if self.is_pinned(r) {
            return;
        }
        debug_assert!(self.free & (1 << r) == 0, "register {r} freed twice");
        self.free |= 1 << r;
    }

    /// Gives `xmm<x>` back (nothing for the register of a register local).
    pub fn free_xmm(&mut self, x: u8) {
        if self.is_xpinned(x) {
            return;
        }
        debug_assert!(self.xfree & (1 << x) == 0, "xmm{x} freed twice");
        self.xfree |= 1 << x;
    }

    /// Takes a free xmm register, if any.
    fn take_free_xmm(&mut self) -> Option<u8> {
        if self.xfree == 0 {
            return None;
        }
        let x = self.xfree.trailing_zeros() as u8;
        self.xfree &= !(1 << x);
        Some(x)
    }

    fn is_free(&self, r: u8) -> bool {
        self.free & (1 << r) != 0
    }

    /// Takes a free register, if any.
    fn take_free(&mut self) -> Option<u8> {
        let r = POOL.iter().copied().find(|&r| self.is_free(r))?;
        self.free &= !(1 << r);
        self.vmctx_lost |= r == VMCTX;
        Some(r)
    }

    /// Drops every entry above `height`, marks the rest as being in their slots
    /// (the state at a join, where every path has flushed) and pushes the values
    /// the join receives, in their slots: one per element of `wide` (v128 or
    /// not).
    pub fn reset(&mut self, height: usize, wide: impl IntoIterator<Item = bool>) {
        debug_assert!(self.entries.iter().all(|l| !matches!(l, Loc::Reg(_) | Loc::Xmm(_))));
        self.entries.truncate(height);
        self.ends.truncate(height);
        for e in &mut self.entries {
            *e = Loc::Stack;
        }
        for w in wide {
            self.push_sized(Loc::Stack, w);
        }
        self.clean = self.entries.len();
        // Every edge into a join reloaded `r15` (see `FuncCompiler::flush`), and
        // so did every call and runtime call before they reset the stack.
        self.vmctx_lost = false;
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
            Loc::Xmm(x) => {
                if self.stack.wide(d) {
                    dynasm!(self.ops ; .arch x64 ; movdqu [rbp + disp], Rx(x));
                } else {
                    dynasm!(self.ops ; .arch x64 ; movsd [rbp + disp], Rx(x));
                }
                self.stack.xowner[x as usize] = NONE;
                self.stack.free_xmm(x);
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

    /// Clamps entry `d`, an `i64` operand of a memory64 or table64 operator, to
    /// `u32::MAX` where it is (`vm_core::runtime::clamp_index64`; constants fold).
    pub fn clamp_index64(&mut self, d: usize) {
        if let Loc::Xmm(_) = self.stack.entries[d] {
            self.spill(d);
        }
        match self.stack.entries[d] {
            Loc::Const(c) => {
                let c = vm_core::runtime::clamp_index64(c as u64);
                self.stack.entries[d] = Loc::Const(i64::from(c));
            }
            Loc::Reg(r) => {
                dynasm!(self.ops
                    ; .arch x64
                    ; mov r11d, -1
                    ; cmp Rq(r), r11
                    ; cmova Rq(r), r11
                );
            }
            Loc::Stack | Loc::Xmm(_) => {
                let disp = self.stack.slot(d);
                dynasm!(self.ops
                    ; .arch x64
                    ; mov r11d, -1
                    ; cmp QWORD [rbp + disp], r11
                    ; jbe >ok
                    ; mov [rbp + disp], r11
                    ; ok:
                );
            }
        }
    }

    /// Writes every entry to its canonical slot: the state at every control-flow
    /// edge.
    ///
    /// It also puts `vmctx` back into `r15` when a value took it: every register
    /// is free once the stack is flushed, and the code after a flush (branches,
    /// joins, calls, returns) relies on `r15`. A caller that popped an operand it
    /// still needs after the flush must not hold it in `r15`
    /// ([`Self::pop_reg_keeping_vmctx`]).
    pub fn flush(&mut self) {
        for d in self.stack.clean..self.stack.entries.len() {
            self.spill(d);
        }
        self.stack.clean = self.stack.entries.len();
        if self.stack.vmctx_lost {
            dynasm!(self.ops ; .arch x64 ; mov r15, [rbp + super::VMCTX_SLOT]);
            self.stack.vmctx_lost = false;
        }
    }

    /// Pops the top entry into a register the caller owns that is not `r15`, for
    /// an operand used after a [`Self::flush`] (which reloads `r15`).
    pub fn pop_reg_keeping_vmctx(&mut self) -> u8 {
        if self.stack.peek() == Some(Loc::Reg(VMCTX)) {
            self.pop_into(super::reg::RAX);
            return super::reg::RAX;
        }
        let r = self.pop_reg();
        if r != VMCTX {
            return r;
        }
        // `alloc` gave `r15` (the value was a constant, a slot or an alias):
        // move it to `rax`.
        self.stack.push(Loc::Reg(r));
        self.pop_into(super::reg::RAX);
        super::reg::RAX
    }

    /// `dst = *(vmctx + offset)`: through `r15`, or through the frame slot of
    /// `vmctx` when a value took `r15` since the last control-flow edge.
    pub fn vmctx_field(&mut self, dst: u8, offset: i32) {
        if self.stack.vmctx_lost {
            dynasm!(self.ops
                ; .arch x64
                ; mov Rq(dst), [rbp + super::VMCTX_SLOT]
                ; mov Rq(dst), [Rq(dst) + offset]
            );
        } else {
            dynasm!(self.ops ; .arch x64 ; mov Rq(dst), [r15 + offset]);
        }
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

    /// A free xmm register, spilling the deepest xmm entry when none is free.
    pub fn alloc_xmm(&mut self) -> u8 {
        if let Some(x) = self.stack.take_free_xmm() {
            return x;
        }
        let d = self.stack.xowner.iter().copied().min().unwrap_or(NONE);
        assert_ne!(d, NONE, "an xmm entry exists when no xmm register is free");
        self.spill(d as usize);
        self.stack.take_free_xmm().expect("spilling freed an xmm register")
    }

    /// Pops the top entry into an xmm register the caller owns (a float operand).
    pub fn pop_xmm(&mut self) -> u8 {
        let disp = self.stack.slot(self.stack.len() - 1);
        match self.stack.pop().expect("validated stack") {
            Loc::Xmm(p) if self.stack.is_xpinned(p) => {
                let x = self.alloc_xmm();
                dynasm!(self.ops ; .arch x64 ; movaps Rx(x), Rx(p));
                x
            }
            Loc::Xmm(x) => x,
            Loc::Stack => {
                let x = self.alloc_xmm();
                dynasm!(self.ops ; .arch x64 ; movsd Rx(x), [rbp + disp]);
                x
            }
            Loc::Const(c) => {
                let x = self.alloc_xmm();
                self.xmm_const(x, c);
                x
            }
            Loc::Reg(r) => {
                let x = self.alloc_xmm();
                dynasm!(self.ops ; .arch x64 ; movq Rx(x), Rq(r));
                self.stack.free(r);
                x
            }
        }
    }

    /// Pops the top entry, a v128, into an xmm register the caller owns.
    pub fn pop_v128(&mut self) -> u8 {
        debug_assert!(self.stack.wide(self.stack.len() - 1), "a v128 entry");
        let disp = self.stack.slot(self.stack.len() - 1);
        match self.stack.pop().expect("validated stack") {
            Loc::Xmm(x) => x,
            _ => {
                let x = self.alloc_xmm();
                dynasm!(self.ops ; .arch x64 ; movdqu Rx(x), [rbp + disp]);
                x
            }
        }
    }

    /// `xmm<x> = bits` (through the scratch register unless zero).
    pub fn xmm_const(&mut self, x: u8, bits: i64) {
        if bits == 0 {
            dynasm!(self.ops ; .arch x64 ; xorps Rx(x), Rx(x));
        } else {
            self.load_const(super::reg::SCRATCH, bits);
            dynasm!(self.ops ; .arch x64 ; movq Rx(x), r11);
        }
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
        let disp = self.stack.slot(self.stack.len() - 1);
        match self.stack.pop().expect("validated stack") {
            Loc::Reg(p) if self.stack.is_pinned(p) => {
                let r = self.alloc();
                dynasm!(self.ops ; .arch x64 ; mov Rq(r), Rq(p));
                r
            }
            Loc::Reg(r) => r,
            Loc::Stack => {
                let r = self.alloc();
                dynasm!(self.ops ; .arch x64 ; mov Rq(r), [rbp + disp]);
                r
            }
            Loc::Const(c) => {
                let r = self.alloc();
                self.load_const(r, c);
                r
            }
            Loc::Xmm(x) => {
                let r = self.alloc();
                dynasm!(self.ops ; .arch x64 ; movq Rq(r), Rx(x));
                self.stack.free_xmm(x);
                r
            }
        }
    }

    /// Records that the instruction just emitted wrote `r` with a 32-bit
    /// operation (see [`FuncCompiler::zext`]).
    pub fn wrote32(&mut self, r: u8) {
        self.zext = (r, self.ops.offset().0);
    }

    /// Pops the top entry into a register the caller only reads and then frees:
    /// the register of a register local stays in place (freeing it does
    /// nothing).
    pub fn pop_read(&mut self) -> u8 {
        match self.stack.peek() {
            Some(Loc::Reg(p)) if self.stack.is_pinned(p) => {
                self.stack.pop();
                p
            }
            _ => self.pop_reg(),
        }
    }

    /// [`Self::pop_read`] for a float operand.
    pub fn pop_xmm_read(&mut self) -> u8 {
        match self.stack.peek() {
            Some(Loc::Xmm(p)) if self.stack.is_xpinned(p) => {
                self.stack.pop();
                p
            }
            _ => self.pop_xmm(),
        }
    }

    /// Pops an i32 address into a register the caller owns, zero-extended to 64
    /// bits (one instruction whatever the entry: a 32-bit move or load
    /// zero-extends).
    pub fn pop_address(&mut self) -> u8 {
        let disp = self.stack.slot(self.stack.len() - 1);
        match self.stack.pop().expect("validated stack") {
            Loc::Reg(p) if self.stack.is_pinned(p) => {
                let r = self.alloc();
                dynasm!(self.ops ; .arch x64 ; mov Rd(r), Rd(p));
                r
            }
            Loc::Reg(r) => {
                if self.zext != (r, self.ops.offset().0) {
                    dynasm!(self.ops ; .arch x64 ; mov Rd(r), Rd(r));
                }
                r
            }
            Loc::Stack => {
                let r = self.alloc();
                dynasm!(self.ops ; .arch x64 ; mov Rd(r), [rbp + disp]);
                r
            }
            Loc::Const(c) => {
                let r = self.alloc();
                self.load_const(r, i64::from(c as u32));
                r
            }
            Loc::Xmm(x) => {
                let r = self.alloc();
                dynasm!(self.ops ; .arch x64 ; movd Rd(r), Rx(x));
                self.stack.free_xmm(x);
                r
            }
        }
    }

    /// Before the register local in `alias`'s register is overwritten: every
    /// entry that reads it moves to a free register of its class, or to its
    /// canonical slot when none is free.
    pub fn unalias(&mut self, alias: Loc) {
        for d in self.stack.clean..self.stack.entries.len() {
            if self.stack.entries[d] != alias {
                continue;
            }
            match alias {
                Loc::Reg(p) => {
                    if let Some(n) = self.stack.take_free() {
                        dynasm!(self.ops ; .arch x64 ; mov Rq(n), Rq(p));
                        self.stack.entries[d] = Loc::Reg(n);
                        self.stack.owner[n as usize] = d as u32;
                        continue;
                    }
                }
                Loc::Xmm(p) => {
                    if let Some(n) = self.stack.take_free_xmm() {
                        dynasm!(self.ops ; .arch x64 ; movaps Rx(n), Rx(p));
                        self.stack.entries[d] = Loc::Xmm(n);
                        self.stack.xowner[n as usize] = d as u32;
                        continue;
                    }
                }
                _ => {}
            }
            self.spill(d);
        }
    }

    /// Pops the top entry into register `r` (taken for the caller), directly:
    /// no other register is needed (the caller may hold all the others).
    pub fn pop_into(&mut self, r: u8) {
        if self.stack.peek() == Some(Loc::Reg(r)) {
            self.stack.pop();
            return;
        }
        self.take_reg(r);
        let disp = self.stack.slot(self.stack.len() - 1);
        match self.stack.pop().expect("validated stack") {
            Loc::Reg(s) => {
                dynasm!(self.ops ; .arch x64 ; mov Rq(r), Rq(s));
                self.stack.free(s);
            }
            Loc::Stack => dynasm!(self.ops ; .arch x64 ; mov Rq(r), [rbp + disp]),
            Loc::Const(c) => self.load_const(r, c),
            Loc::Xmm(x) => {
                dynasm!(self.ops ; .arch x64 ; movq Rq(r), Rx(x));
                self.stack.free_xmm(x);
            }
        }
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
        Operand::Reg(self.pop_read())
    }
}

/// A popped operand.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Operand {
    Reg(u8),
    Imm(i32),
}
