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
use vm_core::runtime::{CompileError, ValType};

use super::{FuncCompiler, Loc};

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

/// What a local holds, by the register class it is read into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LocalKind {
    Int,
    Float,
    V128,
}

impl LocalKind {
    pub fn of(t: ValType) -> Self {
        match t {
            ValType::F32 | ValType::F64 => LocalKind::Float,
            ValType::V128 => LocalKind::V128,
            _ => LocalKind::Int,
        }
    }
}

/// No register: the local lives in its frame slot.
const IN_FRAME: u8 = u8::MAX;

/// Where a local lives.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Local {
    /// The `rbp` displacement of its frame slot (a register local's home).
    pub disp: i32,
    /// The register class it is read into.
    pub kind: LocalKind,
    /// Its register (general-purpose or xmm, by its kind), or [`IN_FRAME`].
    reg: u8,
}

impl Local {
    pub fn new(disp: i32, t: ValType) -> Self {
        Local { disp, kind: LocalKind::of(t), reg: IN_FRAME }
    }

    /// Its register, if it lives in one.
    pub fn reg(self) -> Option<u8> {
        (self.reg != IN_FRAME).then_some(self.reg)
    }
}

/// A register local.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Home {
    /// Its `rbp` displacement.
    disp: i32,
    /// Its register.
    reg: u8,
    /// An xmm register (else general-purpose).
    xmm: bool,
    /// A parameter (loaded by the prologue; the others start at zero).
    param: bool,
    /// Some `local.set`/`tee` writes it (else its home always holds its value).
    written: bool,
}

/// The register locals of a function.
pub(crate) struct RegLocals {
    homes: [Home; MAX_GP + MAX_XMM],
    len: usize,
    /// The general-purpose registers taken (bit `r`).
    pub gp_mask: u16,
    /// The xmm registers taken (bit `x`).
    pub xmm_mask: u16,
}

/// The most used candidates of one class, most used first: (weight, local).
struct Best<const K: usize> {
    top: [(u64, u32); K],
    len: usize,
}

impl<const K: usize> Best<K> {
    fn new() -> Self {
        Best { top: [(0, 0); K], len: 0 }
    }

    /// Offers local `i` of weight `w` (offered in index order, so ties keep
    /// the lower index first).
    fn offer(&mut self, w: u64, i: u32) {
        let at = self.top[..self.len].iter().position(|&(b, _)| b < w).unwrap_or(self.len);
        if at == K {
            return;
        }
        self.len = (self.len + 1).min(K);
        self.top.copy_within(at..self.len - 1, at + 1);
        self.top[at] = (w, i);
    }

    fn locals(&self) -> impl Iterator<Item = u32> + '_ {
        self.top[..self.len].iter().map(|&(_, i)| i)
    }
}

impl RegLocals {
    /// Chooses the register locals of a function whose operators are the bytes
    /// `code` (`params`: how many of `locals` are parameters), and records each
    /// one's register in `locals`. `counts` is the allocation the counting uses
    /// (kept from function to function).
    pub fn plan(code: &[u8], locals: &mut [Local], params: usize, counts: &mut Vec<u64>) -> Self {
        let mut plan = RegLocals {
            homes: [Home::default(); MAX_GP + MAX_XMM],
            len: 0,
            gp_mask: 0,
            xmm_mask: 0,
        };
        if locals.is_empty() {
            return plan;
        }
        let uses = Uses::scan_with(code, locals.len(), std::mem::take(counts));
        let mut gp = Best::<MAX_GP>::new();
        let mut xmm = Best::<MAX_XMM>::new();
        for (i, l) in locals.iter().enumerate() {
            let (w, written) = (uses.weight(i), uses.written(i));
            if w <= uses.calls * (1 + u64::from(written)) {
                continue;
            }
            match l.kind {
                LocalKind::Int => gp.offer(w, i as u32),
                LocalKind::Float => xmm.offer(w, i as u32),
                LocalKind::V128 => {}
            }
        }
        let chosen = gp.locals().zip(GP_HOMES).chain(xmm.locals().zip(XMM_HOMES));
        for (i, r) in chosen {
            let i = i as usize;
            let l = &mut locals[i];
            l.reg = r;
            let xmm = l.kind == LocalKind::Float;
            if xmm {
                plan.xmm_mask |= 1 << r;
            } else {
                plan.gp_mask |= 1 << r;
            }
            plan.homes[plan.len] =
                Home { disp: l.disp, reg: r, xmm, param: i < params, written: uses.written(i) };
            plan.len += 1;
        }
        *counts = uses.counts;
        plan
    }

    /// Register local `k` (of [`Self::len`]).
    fn home(&self, k: usize) -> Home {
        self.homes[k]
    }

    /// How many register locals there are.
    pub fn len(&self) -> usize {
        self.len
    }
}

impl FuncCompiler<'_, '_> {
    /// Loads the register locals in the prologue: parameters from their homes
    /// in the argument area, the others zero.
    pub fn load_reg_locals(&mut self) {
        for k in 0..self.reg_locals.len() {
            let Home { disp, reg: r, xmm, param, .. } = self.reg_locals.home(k);
            match (param, xmm) {
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
        for k in 0..self.reg_locals.len() {
            let Home { disp, reg: r, xmm, written, .. } = self.reg_locals.home(k);
            match (written, xmm) {
                (false, _) => {}
                (true, false) => dynasm!(self.ops ; .arch x64 ; mov [rbp + disp], Rq(r)),
                (true, true) => dynasm!(self.ops ; .arch x64 ; movsd [rbp + disp], Rx(r)),
            }
        }
    }

    /// After a call: every register local back from its home.
    pub fn restore_reg_locals(&mut self) {
        for k in 0..self.reg_locals.len() {
            let Home { disp, reg: r, xmm, .. } = self.reg_locals.home(k);
            if xmm {
                dynasm!(self.ops ; .arch x64 ; movsd Rx(r), [rbp + disp]);
            } else {
                dynasm!(self.ops ; .arch x64 ; mov Rq(r), [rbp + disp]);
            }
        }
    }

    pub fn local_get(&mut self, i: u32) -> Result<(), CompileError> {
        let Local { disp, kind, .. } = self.local(i)?;
        if let Some(r) = self.local(i)?.reg() {
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
                // `local.get` of a frame local then `local.set` of a register
                // local: one load into the register local.
                let next = self.next_op_after_leb();
                let r = self.result_for(next);
                dynasm!(self.ops ; .arch x64 ; mov Rq(r), [rbp + disp]);
                self.stack.push(Loc::Reg(r));
            }
        }
        Ok(())
    }

    pub fn local_set(&mut self, i: u32, tee: bool) -> Result<(), CompileError> {
        let local = self.local(i)?;
        let (disp, kind) = (local.disp, local.kind);
        if let Some(r) = local.reg() {
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

/// What the pre-scan counts: each local's uses and the calls, weighted by the
/// loops around them.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Uses {
    /// Per local: twice the sum of its `local.get`, `local.set` and
    /// `local.tee`, each weighing [`Uses::weight_at`] its loop depth, plus 1 when
    /// some `local.set` or `local.tee` writes it.
    counts: Vec<u64>,
    /// Calls (direct, indirect, imported) and runtime calls (`memory.grow`, the
    /// bulk memory and table operators but `table.size`), weighted the same way.
    pub calls: u64,
    /// The scan stopped at an opcode it does not know.
    pub stopped: bool,
}

impl Uses {
    /// The weight of one use inside `depth` loops: 8 per level, up to four.
    pub fn weight_at(depth: u32) -> u64 {
        1 << (3 * depth.min(4))
    }

    /// Counts the uses of `n` locals in the operator bytes `code`.
    ///
    /// A byte-level scan, not `wasmparser`: it only needs the opcodes and the
    /// immediates' lengths, and a second full decode of every body would cost
    /// the compiler a fifth of its throughput. It knows the encodings of every
    /// operator the translator accepts: WebAssembly 2.0, simd128 and relaxed
    /// simd, memory64 and multiple memories (memory arguments with a memory
    /// index, 64-bit offsets), tail calls, typed function references and
    /// exception handling (`try_table`, `throw`, `throw_ref`); at any other
    /// opcode (the GC proposal's) it stops, and the counts so far choose the
    /// register locals (any choice is correct, only slower). `tests/locals.rs`
    /// checks it against `wasmparser` on every body of the spec suite's
    /// modules (wasm-2.0 and wasm-3.0) and of the benchmark corpus.
    #[cfg(test)]
    pub fn scan(code: &[u8], n: usize) -> Self {
        Self::scan_with(code, n, Vec::new())
    }

    /// [`Uses::scan`] counting into the allocation `counts` (cleared first).
    pub fn scan_with(code: &[u8], n: usize, mut counts: Vec<u64>) -> Self {
        counts.clear();
        counts.resize(n, 0);
        let mut uses = Uses { counts, calls: 0, stopped: false };
        let _ = uses.scan_ops(&mut Bytes { code, pos: 0 });
        uses
    }

    /// Local `i`'s weighted uses.
    pub fn weight(&self, i: usize) -> u64 {
        self.counts[i] >> 1
    }

    /// Whether some `local.set` or `local.tee` writes local `i`.
    pub fn written(&self, i: usize) -> bool {
        self.counts[i] & 1 != 0
    }

    fn count(&mut self, local: u32, write: bool, depth: u32) {
        if let Some(c) = self.counts.get_mut(local as usize) {
            *c = (*c + (Self::weight_at(depth) << 1)) | u64::from(write);
        }
    }

    /// `None` at the end of the bytes, or at an opcode it does not know (then
    /// [`Uses::stopped`]).
    fn scan_ops(&mut self, b: &mut Bytes<'_>) -> Option<()> {
        // Bit `k` of `loops`: the `k`th open block is a loop (blocks nested
        // deeper than 64 count as not being loops).
        let (mut loops, mut open) = (0u64, 0u32);
        let mut depth = 0u32;
        loop {
            let w = Self::weight_at(depth);
            match b.byte()? {
                // `ref.is_null`, `ref.as_non_null`
                0x00 | 0x01 | 0x05 | 0x0f | 0x1a | 0x1b | 0x45..=0xc4 | 0xd1 | 0xd4 => {}
                0x02 | 0x04 => {
                    b.block_type()?;
                    loops &= !1u64.checked_shl(open).unwrap_or(0);
                    open += 1;
                }
                // `try_table bt catch*`: a block. A catch clause is its kind, then
                // a tag (kinds 0 and 1: `catch`, `catch_ref`) and a label.
                0x1f => {
                    b.block_type()?;
                    for _ in 0..b.u32()? {
                        if b.byte()? < 2 {
                            b.leb()?;
                        }
                        b.leb()?;
                    }
                    loops &= !1u64.checked_shl(open).unwrap_or(0);
                    open += 1;
                }
                0x03 => {
                    b.block_type()?;
                    if open < 64 {
                        loops |= 1 << open;
                        depth += 1;
                    }
                    open += 1;
                }
                0x0b => {
                    open = open.saturating_sub(1);
                    if open < 64 && loops & (1 << open) != 0 {
                        depth -= 1;
                        loops &= !(1 << open);
                    }
                }
                // `br`, `br_if`, `return_call` (a direct tail call costs the
                // locals nothing), the global and table accessors, `memory.size`,
                // integer constants, `ref.null ht`, `ref.func`, `br_on_null`,
                // `br_on_non_null`.
                0x0c
                | 0x0d
                | 0x12
                | 0x23..=0x26
                | 0x3f
                | 0x41
                | 0x42
                | 0xd0
                | 0xd2
                | 0xd5
                | 0xd6 => b.leb()?,
                // `throw`, `throw_ref`: the written register locals are stored for
                // a handler in this function, which reloads them all.
                0x08 => {
                    b.leb()?;
                    self.calls += w;
                }
                0x0a => self.calls += w,
                // `call_ref`, `return_call_ref` (a call through a funcref stores the
                // register locals first; a tail one may return to this frame when
                // the callee is of another instance).
                0x14 | 0x15 => {
                    b.leb()?;
                    self.calls += w;
                }
                0x0e => {
                    for _ in 0..=b.u32()? {
                        b.leb()?;
                    }
                }
                0x10 | 0x40 => {
                    b.leb()?;
                    self.calls += w;
                }
                // `call_indirect`, `return_call_indirect`
                0x11 | 0x13 => {
                    b.leb()?;
                    b.leb()?;
                    self.calls += w;
                }
                0x1c => {
                    for _ in 0..b.u32()? {
                        b.val_type()?;
                    }
                }
                0x20 => self.count(b.u32()?, false, depth),
                0x21 | 0x22 => self.count(b.u32()?, true, depth),
                0x28..=0x3e => b.memarg()?,
                0x43 => b.skip(4)?,
                0x44 => b.skip(8)?,
                0xfc => match b.u32()? {
                    0..=7 => {}
                    16 => b.leb()?,
                    // memory.init, memory.copy, table.init, table.copy
                    8 | 10 | 12 | 14 => {
                        b.leb()?;
                        b.leb()?;
                        self.calls += w;
                    }
                    // data.drop, memory.fill, elem.drop, table.grow, table.fill
                    9 | 11 | 13 | 15 | 17 => {
                        b.leb()?;
                        self.calls += w;
                    }
                    _ => break,
                },
                0xfd => match b.u32()? {
                    0..=11 | 92 | 93 => b.memarg()?,
                    12 | 13 => b.skip(16)?,
                    21..=34 => b.skip(1)?,
                    84..=91 => {
                        b.memarg()?;
                        b.skip(1)?;
                    }
                    _ => {}
                },
                _ => break,
            }
        }
        self.stopped = true;
        None
    }
}

/// A cursor over operator bytes.
struct Bytes<'b> {
    code: &'b [u8],
    pos: usize,
}

impl Bytes<'_> {
    fn byte(&mut self) -> Option<u8> {
        let b = *self.code.get(self.pos)?;
        self.pos += 1;
        Some(b)
    }

    fn skip(&mut self, n: usize) -> Option<()> {
        self.pos = self.pos.checked_add(n).filter(|&p| p <= self.code.len())?;
        Some(())
    }

    /// Skips a LEB128 number of any width.
    fn leb(&mut self) -> Option<()> {
        while self.byte()? & 0x80 != 0 {}
        Some(())
    }

    fn u32(&mut self) -> Option<u32> {
        let mut v = 0u32;
        for shift in (0..35).step_by(7) {
            let b = self.byte()?;
            v |= u32::from(b & 0x7f).checked_shl(shift).unwrap_or(0);
            if b & 0x80 == 0 {
                return Some(v);
            }
        }
        None
    }

    /// A block type: empty, a value type or a type index (a signed LEB).
    fn block_type(&mut self) -> Option<()> {
        match self.byte()? {
            b if b & 0x80 != 0 => self.leb(),
            b => self.val_type_after(b),
        }
    }

    /// A value type: one byte, but `ref null? ht` (of the function-references
    /// proposal) takes a heap type after it (a signed LEB).
    fn val_type(&mut self) -> Option<()> {
        let b = self.byte()?;
        self.val_type_after(b)
    }

    /// The rest of a value type whose first byte is `b`.
    fn val_type_after(&mut self, b: u8) -> Option<()> {
        match b {
            0x63 | 0x64 => self.leb(),
            _ => Some(()),
        }
    }

    /// A memory argument: alignment (bit 6: a memory index follows) and offset.
    fn memarg(&mut self) -> Option<()> {
        if self.u32()? & 0x40 != 0 {
            self.leb()?;
        }
        self.leb()
    }
}
