//! The verifier: checks the translator's output before any of it runs.
//!
//! The handlers in [`crate::exec`] run without checks of their own operands: they
//! trust the translator. A translator bug would therefore be memory corruption,
//! not a trap. The verifier re-checks every promise the handlers rely on, one
//! function at a time, and turns a broken one into [`CompileError::Verify`]
//! naming the function, the instruction and the promise. It runs at compile time
//! only (never on the execution path): always in debug builds, and in release
//! builds when `engine.verify = true` (the test suites set it).
//!
//! What the handlers assume, and what is checked here:
//!
//! - **Layout of a function.** Its code is the instructions from its
//!   [`FuncCode::entry`] to the next function's entry; the first is the only
//!   [`Op::Enter`], with the frame size, module index, parameter count and
//!   declared-local count of its [`FuncCode`] (the entry's frame check against
//!   the slot stack is what makes every slot access below in bounds); the
//!   second is the only [`Op::Consts`] when the function has constants, copying
//!   exactly its range of the module's constant pool into slots of its frame.
//! - **Slots.** Every slot operand (destinations, inputs, the `base` of a call
//!   or bulk operation together with the operands and results it spans) lies
//!   inside the frame: below the entry's frame size.
//! - **Control.** Every branch target lies inside the function, after its
//!   entry. Execution never runs past the function's end: its last instruction
//!   is an unconditional branch, return or trap (every other handler continues
//!   with the next instruction; calls return to it). A `br_table` is followed
//!   by its `len + 1` entries, each an [`Op::Br`], inside the function, and no
//!   branch targets an entry (the threaded code gives each entry its target's
//!   handler, so reaching one other than through its `br_table` would run a
//!   handler on an instruction it does not belong to). An [`Op::Arg`] follows a
//!   [`Op::CallIndirect`] and only that.
//! - **Returns.** `Return0`, `Return1` and `ReturnN` return exactly the
//!   function's result count (the caller reads that many slots).
//! - **Calls.** A [`Op::Call`] names a defined function and points at its entry
//!   (after [`crate::code::link_calls`]); a [`Op::CallCopy`] points at the entry
//!   of a defined function; a [`Op::CallImport`] names an imported function; a
//!   [`Op::CallIndirect`] names a function type and is followed by the `Arg` of
//!   a funcref table. The callee's frame starts at `base`, inside the caller's
//!   frame, and its parameters and results fit there.
//! - **Exceptions.** A [`Op::Throw`] names a tag of the module and its payload
//!   fits the frame from `base`; every catch clause ([`Catch`]) starting in the
//!   function covers only the function, names a tag of the module (or catches
//!   all) and lands on an [`Op::Caught`] of the function whose slot count is the
//!   tag's payload and whose slots fit the frame. `Throw` and `ThrowRef` end the
//!   function like a trap.
//! - **Indexes.** Globals (and, for `global.set`, a mutable one), memory 0 for
//!   every memory instruction, tables (funcref for `call_indirect`, matching
//!   element types for `table.copy` and `table.init`), data and element
//!   segments, function indexes of `ref.func`: all in range of the module.
//!
//! Not checked: the value types held in slots (which slot holds an `i32` and
//! which an `f64`). Slots are untyped `u64`s, so a wrong type is a wrong result,
//! never an access outside the frame; the validator has already typed the wasm.
//!
//! The match over [`Op`] has no catch-all arm: a new instruction does not
//! compile until the verifier knows its operands.

use vm_core::runtime::module::ModuleInfo;
use vm_core::runtime::{CompileError, ValType};

use crate::code::{CATCH_ALL, Catch, FuncCode, Op, for_each_numeric, slots_of};

/// Checks the code of a module's functions against the handlers' assumptions.
pub struct Verifier<'a> {
    module: &'a ModuleInfo,
    ops: &'a [Op],
    funcs: &'a [FuncCode],
    consts: usize,
    /// Entries of the module's `v128` pool.
    v128s: usize,
    /// The module's catch clauses.
    catches: &'a [Catch],
    /// The module's GC instructions.
    gc: &'a [crate::code::GcInstr],
    /// Scratch: which instructions of the function being checked are
    /// `br_table` entries.
    entries: Vec<bool>,
    /// Scratch: `(branch, target)` of every branch of the function.
    targets: Vec<(usize, usize)>,
}

/// The function being checked.
struct Shape {
    start: usize,
    end: usize,
    frame: u64,
    results: usize,
}

type Check = Result<(), String>;

impl Shape {
    fn slot(&self, s: u32) -> Check {
        if u64::from(s) < self.frame {
            Ok(())
        } else {
            Err(format!("slot {s} outside the frame of {} slots", self.frame))
        }
    }

    fn slots(&self, ss: &[u32]) -> Check {
        ss.iter().try_for_each(|&s| self.slot(s))
    }
    /// The two slots of a `v128` from each of `ss`, inside the frame.
    fn v128s(&self, ss: &[u32]) -> Check {
        ss.iter().try_for_each(|&s| self.span(s, 2))
    }

    /// `n` consecutive slots from `base`, and `base` itself (a callee's frame
    /// pointer), inside the frame.
    fn span(&self, base: u32, n: usize) -> Check {
        self.slot(base)?;
        if u64::from(base) + n as u64 <= self.frame {
            Ok(())
        } else {
            Err(format!("slots {base}..{base}+{n} outside the frame of {} slots", self.frame))
        }
    }

    fn target(&self, pc: usize, offset: i32, targets: &mut Vec<(usize, usize)>) -> Check {
        let to = pc as i64 + 1 + i64::from(offset);
        if to <= self.start as i64 || to >= self.end as i64 {
            return Err(format!(
                "branch target {} outside the function's instructions {}..{}",
                to - self.start as i64,
                1,
                self.end - self.start
            ));
        }
        targets.push((pc, to as usize));
        Ok(())
    }

    fn returns(&self, n: usize) -> Check {
        if n == self.results {
            Ok(())
        } else {
            Err(format!("returns {n} values, the function has {} results", self.results))
        }
    }
}

fn in_range(what: &str, i: u32, len: usize) -> Check {
    if (i as usize) < len { Ok(()) } else { Err(format!("{what} {i} out of range ({len})")) }
}

impl<'a> Verifier<'a> {
    /// A verifier of `ops`, the code of `funcs` (every defined function of
    /// `module`, calls linked), whose constant pool has `consts` entries.
    pub fn new(
        module: &'a ModuleInfo,
        ops: &'a [Op],
        funcs: &'a [FuncCode],
        consts: usize,
    ) -> Self {
        Self {
            module,
            ops,
            funcs,
            consts,
            v128s: 0,
            catches: &[],
            gc: &[],
            entries: Vec::new(),
            targets: Vec::new(),
        }
    }

    /// The same verifier for code with the catch clauses `catches`.
    pub fn with_catches(mut self, catches: &'a [Catch]) -> Self {
        self.catches = catches;
        self
    }

    /// The module's GC instructions (see [`crate::code::ModuleCode::gc`]).
    pub fn with_gc(mut self, gc: &'a [crate::code::GcInstr]) -> Self {
        self.gc = gc;
        self
    }

    /// The payload slots of tag `tag`.
    fn tag_slots(&self, tag: u32) -> Result<usize, String> {
        let ty = self.module.tag_type(tag).ok_or_else(|| format!("tag {tag} out of range"))?;
        Ok(slots_of(ty.params()) as usize)
    }

    /// The catch clauses whose range starts in the function at `start..end`: each
    /// covers only that function, its tag exists and its landing pad is an
    /// [`Op::Caught`] of the function taking that tag's payload.
    fn check_catches(&self, start: usize, end: usize) -> Result<(), (usize, String)> {
        for c in self.catches {
            let (cs, ce, landing) = (c.start as usize, c.end as usize, c.landing as usize);
            if cs < start || cs >= end {
                continue;
            }
            if ce > end || ce < cs {
                return Err((cs, format!("catch range {cs}..{ce} leaves the function")));
            }
            if landing <= start || landing >= end {
                return Err((cs, "catch landing pad outside the function".into()));
            }
            let Op::Caught { n, .. } = self.ops[landing] else {
                return Err((landing, "catch landing pad is not Caught".into()));
            };
            let want = if c.tag == CATCH_ALL {
                0
            } else {
                self.tag_slots(c.tag).map_err(|e| (landing, e))?
            };
            if n as usize != want {
                return Err((landing, format!("Caught takes {n} slots, the tag has {want}")));
            }
        }
        Ok(())
    }

    /// The same verifier for code whose `v128` pool has `n` entries.
    pub fn with_v128s(mut self, n: usize) -> Self {
        self.v128s = n;
        self
    }

    /// Checks defined function `i` (index without imports).
    ///
    /// # Errors
    /// [`CompileError::Verify`] for the first instruction breaking a promise.
    pub fn function(&mut self, i: usize) -> Result<(), CompileError> {
        let Some(&fc) = self.funcs.get(i) else {
            return Err(self.error(i as u32, 0, None, "no such function".into()));
        };
        let start = fc.entry as usize;
        let end = self.funcs.get(i + 1).map_or(self.ops.len(), |f| f.entry as usize);
        if start >= end || end > self.ops.len() {
            let msg = format!("code range {start}..{end} of {} instructions", self.ops.len());
            return Err(self.error(fc.index, 0, None, msg));
        }
        let fail =
            |v: &Self, pc: usize, msg: String| v.error(fc.index, pc - start, Some(v.ops[pc]), msg);
        let shape = match self.header(&fc, i, start, end) {
            Ok(s) => s,
            Err((pc, msg)) => return Err(fail(self, pc, msg)),
        };
        self.entries.clear();
        self.entries.resize(end - start, false);
        self.targets.clear();
        let mut targets = std::mem::take(&mut self.targets);
        for pc in start..end {
            let r = self.check(&fc, &shape, pc, &mut targets);
            if let Err(msg) = r {
                return Err(fail(self, pc, msg));
            }
        }
        if let Err((pc, msg)) = self.check_catches(start, end) {
            return Err(fail(self, pc, msg));
        }
        let last = end - 1;
        if !matches!(
            self.ops[last],
            Op::Unreachable
                | Op::Throw { .. }
                | Op::ThrowRef { .. }
                | Op::Br { .. }
                | Op::BrTable { .. }
                | Op::Return0
                | Op::Return1 { .. }
                | Op::ReturnN { .. }
                | Op::ReturnCall { .. }
                | Op::CopyBr { .. }
                | Op::I32AddImmBr { .. }
        ) {
            let msg = "the last instruction may continue past the function's end".into();
            return Err(fail(self, last, msg));
        }
        for &(pc, to) in &targets {
            if self.entries[to - start] {
                let msg = format!("branch to {}, an entry of a br_table", to - start);
                return Err(fail(self, pc, msg));
            }
        }
        self.targets = targets;
        Ok(())
    }

    /// Checks the function's `Enter` (and `Consts`); returns its shape.
    fn header(
        &self,
        fc: &FuncCode,
        i: usize,
        start: usize,
        end: usize,
    ) -> Result<Shape, (usize, String)> {
        let m = self.module;
        let ty = m
            .func_type(fc.index)
            .filter(|_| fc.index.checked_sub(m.num_imported_funcs) == u32::try_from(i).ok())
            .ok_or((start, format!("function index {} does not match its position", fc.index)))?;
        let Op::Enter { frame, func, zero_at, zeros } = self.ops[start] else {
            return Err((start, "the first instruction is not Enter".into()));
        };
        let expect = (fc.frame, fc.index, fc.params, fc.locals);
        if (frame, func, zero_at, zeros) != expect || fc.params != slots_of(ty.params()) {
            return Err((start, format!("Enter does not match the function {expect:?}")));
        }
        let results = slots_of(ty.results()) as usize;
        let shape = Shape { start, end, frame: u64::from(frame), results };
        shape.span(zero_at, zeros as usize).map_err(|e| (start, e))?;
        if fc.consts_len != 0 {
            let at = start + 1;
            let want = Op::Consts { at: fc.consts_at, start: fc.consts_start, len: fc.consts_len };
            if at >= end || self.ops[at] != want {
                return Err((start, format!("the second instruction is not {want:?}")));
            }
            shape.span(fc.consts_at, fc.consts_len as usize).map_err(|e| (at, e))?;
            if fc.consts_start as usize + fc.consts_len as usize > self.consts {
                let msg = format!("constants outside the pool of {}", self.consts);
                return Err((at, msg));
            }
        }
        Ok(shape)
    }

    /// The parameter and result counts of function `func` (module index).
    fn arity(&self, func: u32) -> Result<usize, String> {
        let ty = self.module.func_type(func).ok_or(format!("function {func} has no type"))?;
        Ok(slots_of(ty.params()).max(slots_of(ty.results())) as usize)
    }

    /// Checks that a tail call to `func` passes `n` argument slots.
    fn tail_args(&self, func: u32, n: u32) -> Check {
        let ty = self.module.func_type(func).ok_or(format!("function {func} has no type"))?;
        let want = slots_of(ty.params());
        if n == want { Ok(()) } else { Err(format!("{n} argument slots, the callee takes {want}")) }
    }

    /// The result slots of `func`.
    fn results(&self, func: u32) -> Result<usize, String> {
        let ty = self.module.func_type(func).ok_or(format!("function {func} has no type"))?;
        Ok(slots_of(ty.results()) as usize)
    }

    fn memory(&self) -> Check {
        if self.module.memories.is_empty() {
            Err("memory instruction in a module without memory".into())
        } else {
            Ok(())
        }
    }

    fn memory_n(&self, m: u32) -> Check {
        in_range("memory", m, self.module.memories.len())
    }

    fn table(&self, t: u32) -> Result<ValType, String> {
        let tables = &self.module.tables;
        in_range("table", t, tables.len())?;
        Ok(tables[t as usize].elem)
    }

    fn global(&self, g: u32) -> Check {
        in_range("global", g, self.module.globals.len())
    }

    fn v128_global(&self, g: u32) -> Check {
        self.global(g)?;
        if self.module.globals[g as usize].ty != ValType::V128 {
            return Err(format!("global {g} is not a v128"));
        }
        Ok(())
    }
    fn data(&self, d: u32) -> Check {
        in_range("data segment", d, self.module.datas.len())
    }

    fn elem(&self, e: u32) -> Result<ValType, String> {
        let elems = &self.module.elems;
        in_range("element segment", e, elems.len())?;
        Ok(elems[e as usize].ty)
    }

    fn error(&self, func: u32, at: usize, op: Option<Op>, message: String) -> CompileError {
        CompileError::Verify {
            func,
            at: u32::try_from(at).unwrap_or(u32::MAX),
            op: op.map_or_else(|| "no instruction".to_owned(), |op| format!("{op:?}")),
            message,
        }
    }
}

macro_rules! define_check {
    (
        lanes
        unary { $( $vu:ident $vuf:ident $vuk:ident; )* }
        binary { $( $vb:ident $vbf:ident $vbk:ident; )* }
        shift { $( $vs:ident $vsf:ident $vsk:ident; )* }
        test { $( $vt:ident $vtf:ident $vtk:ident; )* }
        splat { $( $vp:ident $vpf:ident $vpk:ident; )* }
        extract { $( $ve:ident $vef:ident $vek:ident; )* }
        replace { $( $vr:ident $vrf:ident $vrk:ident; )* }
        unary { $( $u:ident ($ua:ty) -> $ur:ty = $uf:path; )* }
        unary_trap { $( $ut:ident ($uta:ty) -> $utr:ty = $utf:path; )* }
        binary { $( $b:ident ($ba:ty, $bb:ty) -> $br:ty = $bf:path; )* }
        binary_imm { $( $bi:ident [$bii:ident] ($bia:ty, $bib:ty) -> $bir:ty = $bif:path, $bix:path; )* }
        binary_trap { $( $bt:ident ($bta:ty, $btb:ty) -> $btr:ty = $btf:path; )* }
        branch { $( $c:ident $ci:ident [$cb:ident $cbi:ident] ! [$nb:ident $nbi:ident] ($ca:ty) = $cf:path, $cx:path; )* }
        add_branch { $( $ab:ident [$abr:ident $abi:ident $abl:ident] ($abt:ty) = $abf:path; )* }
        f64_pair { $( $fp:ident [$fp1:ident $fp2:ident] = $ff1:path, $ff2:path, $fside:ident; )* }
    ) => {
        impl Verifier<'_> {
            /// Checks the instruction at `pc` of function `fc` (shape `f`), recording
            /// its branch targets and `br_table` entries.
            #[allow(clippy::too_many_lines)]
            fn check(
                &mut self,
                fc: &FuncCode,
                f: &Shape,
                pc: usize,
                targets: &mut Vec<(usize, usize)>,
            ) -> Check {
                let m = self.module;
                match self.ops[pc] {
                    Op::Unreachable | Op::Fuel(_) | Op::FuelCheck(_) | Op::Interrupt => {}
                    Op::Enter { .. } if pc == f.start => {}
                    Op::Enter { .. } => return Err("Enter after the function's entry".into()),
                    Op::Consts { .. } if pc == f.start + 1 && fc.consts_len != 0 => {}
                    Op::Consts { .. } => return Err("Consts other than right after Enter".into()),
                    Op::Gc { instr, base, n } => {
                        let g = self
                            .gc
                            .get(instr as usize)
                            .ok_or_else(|| format!("GC instruction {instr} out of range"))?;
                        f.span(base, n.max(1) as usize)?;
                        f.slots(&g.roots)?;
                    }
                    Op::Arg(_) => {
                        if pc == f.start
                            || !matches!(
                                self.ops[pc - 1],
                                Op::CallIndirect { .. } | Op::ReturnCallIndirect { .. }
                            )
                        {
                            return Err("Arg not after CallIndirect".into());
                        }
                    }
                    Op::Br { offset } => f.target(pc, offset, targets)?,
                    Op::BrIfNez { cond, offset } | Op::BrIfEqz { cond, offset } => {
                        f.slot(cond)?;
                        f.target(pc, offset, targets)?;
                    }
                    Op::BrTable { index, len } => {
                        f.slot(index)?;
                        let last = pc as u64 + 1 + u64::from(len);
                        if last >= f.end as u64 {
                            return Err(format!("{} entries past the function's end", len + 1));
                        }
                        for e in pc + 1..=last as usize {
                            if !matches!(self.ops[e], Op::Br { .. }) {
                                return Err(format!("entry {} is not Br", e - f.start));
                            }
                            self.entries[e - f.start] = true;
                        }
                    }
                    Op::Return0 => f.returns(0)?,
                    Op::Return1 { src } => {
                        f.slot(src)?;
                        f.returns(1)?;
                    }
                    Op::ReturnN { base, n } => {
                        f.span(base, n as usize)?;
                        f.returns(n as usize)?;
                    }
                    Op::Call { func, base, entry, ret } => {
                        in_range("defined function", func, self.funcs.len())?;
                        let callee = self.funcs[func as usize];
                        if entry != callee.entry {
                            return Err(format!("entry {entry}, the callee's is {}", callee.entry));
                        }
                        f.span(base, self.arity(callee.index)?)?;
                        f.slot(ret)?;
                    }
                    Op::CallCopy { base, entry, dst, src } => {
                        f.slots(&[dst, src])?;
                        let Ok(k) = self.funcs.binary_search_by_key(&entry, |c| c.entry) else {
                            return Err(format!("entry {entry} is no function's entry"));
                        };
                        f.span(base, self.arity(self.funcs[k].index)?)?;
                    }
                    Op::ReturnCall { entry, base, n } => {
                        let Ok(k) = self.funcs.binary_search_by_key(&entry, |c| c.entry) else {
                            return Err(format!("entry {entry} is no function's entry"));
                        };
                        let callee = self.funcs[k].index;
                        self.tail_args(callee, n)?;
                        f.span(base, n as usize)?;
                        f.returns(self.results(callee)?)?;
                    }
                    Op::ReturnCallImport { func, base, n } => {
                        in_range("imported function", func, m.num_imported_funcs as usize)?;
                        self.tail_args(func, n)?;
                        f.span(base, self.arity(func)?)?;
                        f.returns(self.results(func)?)?;
                    }
                    Op::ReturnCallIndirect { ty, index, base, n } => {
                        f.slot(index)?;
                        in_range("type", ty, m.types.len())?;
                        let t = &m.types[ty as usize];
                        if n != slots_of(t.params()) {
                            let want = slots_of(t.params());
                            return Err(format!("{n} argument slots, the type has {want}"));
                        }
                        f.returns(slots_of(t.results()) as usize)?;
                        f.span(base, slots_of(t.params()).max(slots_of(t.results())) as usize)?;
                        let Some(&Op::Arg(table)) = self.ops.get(pc + 1).filter(|_| pc + 1 < f.end)
                        else {
                            return Err("not followed by Arg(table)".into());
                        };
                        if self.table(table)? != ValType::FuncRef {
                            return Err(format!("table {table} is not a funcref table"));
                        }
                    }
                    Op::CallRef { ty, index, base } => {
                        f.slot(index)?;
                        in_range("type", ty, m.types.len())?;
                        let t = &m.types[ty as usize];
                        f.span(base, slots_of(t.params()).max(slots_of(t.results())) as usize)?;
                    }
                    Op::ReturnCallRef { ty, index, base, n } => {
                        f.slot(index)?;
                        in_range("type", ty, m.types.len())?;
                        let t = &m.types[ty as usize];
                        if n != slots_of(t.params()) {
                            let want = slots_of(t.params());
                            return Err(format!("{n} argument slots, the type has {want}"));
                        }
                        f.returns(slots_of(t.results()) as usize)?;
                        f.span(base, slots_of(t.params()).max(slots_of(t.results())) as usize)?;
                    }
                    Op::RefAsNonNull { src } => f.slot(src)?,
                    Op::CallImport { func, base } => {
                        in_range("imported function", func, m.num_imported_funcs as usize)?;
                        f.span(base, self.arity(func)?)?;
                    }
                    Op::CallIndirect { ty, index, base } => {
                        f.slot(index)?;
                        in_range("type", ty, m.types.len())?;
                        let t = &m.types[ty as usize];
                        f.span(base, slots_of(t.params()).max(slots_of(t.results())) as usize)?;
                        let Some(&Op::Arg(table)) = self.ops.get(pc + 1).filter(|_| pc + 1 < f.end)
                        else {
                            return Err("not followed by Arg(table)".into());
                        };
                        if self.table(table)? != ValType::FuncRef {
                            return Err(format!("table {table} is not a funcref table"));
                        }
                    }
                    Op::Select { dst, rhs, cond } => f.slots(&[dst, rhs, cond])?,
                    Op::Copy { dst, src } | Op::RefIsNull { dst, src } | Op::Clamp64 { dst, src } => {
                        f.slots(&[dst, src])?
                    }
                    Op::Const { dst, .. } => f.slot(dst)?,
                    Op::GlobalGet { dst, global } => {
                        f.slot(dst)?;
                        self.global(global)?;
                    }
                    Op::GlobalSet { src, global } => {
                        f.slot(src)?;
                        self.global(global)?;
                        if !m.globals[global as usize].mutable {
                            return Err(format!("global {global} is immutable"));
                        }
                    }
                    Op::RefFunc { dst, func } => {
                        f.slot(dst)?;
                        in_range("function", func, m.funcs.len())?;
                    }
                    Op::Throw { tag, base } => f.span(base, self.tag_slots(tag)?)?,
                    Op::ThrowRef { src } => f.slot(src)?,
                    Op::Caught { dst, n, with_ref } => {
                        if with_ref > 1 {
                            return Err(format!("Caught with_ref {with_ref}"));
                        }
                        f.span(dst, n as usize + with_ref as usize)?;
                    }
                    Op::I32Load { dst, addr, .. }
                    | Op::I64Load { dst, addr, .. }
                    | Op::F32Load { dst, addr, .. }
                    | Op::F64Load { dst, addr, .. }
                    | Op::I32Load8S { dst, addr, .. }
                    | Op::I32Load8U { dst, addr, .. }
                    | Op::I32Load16S { dst, addr, .. }
                    | Op::I32Load16U { dst, addr, .. }
                    | Op::I64Load8S { dst, addr, .. }
                    | Op::I64Load8U { dst, addr, .. }
                    | Op::I64Load16S { dst, addr, .. }
                    | Op::I64Load16U { dst, addr, .. }
                    | Op::I64Load32S { dst, addr, .. }
                    | Op::I64Load32U { dst, addr, .. } => {
                        f.slots(&[dst, addr])?;
                        self.memory()?;
                    }
                    Op::Store8 { addr, val, .. }
                    | Op::Store16 { addr, val, .. }
                    | Op::Store32 { addr, val, .. }
                    | Op::Store64 { addr, val, .. } => {
                        f.slots(&[addr, val])?;
                        self.memory()?;
                    }
                    Op::I32LoadAdd { dst, lhs, rhs }
                    | Op::I64LoadAdd { dst, lhs, rhs }
                    | Op::F32LoadAdd { dst, lhs, rhs }
                    | Op::F64LoadAdd { dst, lhs, rhs }
                    | Op::I32Load8UAdd { dst, lhs, rhs }
                    | Op::I32Load8SAdd { dst, lhs, rhs }
                    | Op::I32Load16UAdd { dst, lhs, rhs }
                    | Op::I64Load32SAdd { dst, lhs, rhs }
                    | Op::I64Load32UAdd { dst, lhs, rhs }
                    | Op::I32LoadIdx { dst, lhs, rhs }
                    | Op::F32LoadIdx { dst, lhs, rhs }
                    | Op::I64LoadIdx { dst, lhs, rhs }
                    | Op::F64LoadIdx { dst, lhs, rhs }
                    | Op::I32LoadIdxImm { dst, lhs, rhs, .. }
                    | Op::F32LoadIdxImm { dst, lhs, rhs, .. }
                    | Op::I64LoadIdxImm { dst, lhs, rhs, .. }
                    | Op::F64LoadIdxImm { dst, lhs, rhs, .. } => {
                        f.slots(&[dst, lhs, rhs])?;
                        self.memory()?;
                    }
                    Op::I32LoadAddImm { dst, lhs, .. }
                    | Op::I64LoadAddImm { dst, lhs, .. }
                    | Op::F32LoadAddImm { dst, lhs, .. }
                    | Op::F64LoadAddImm { dst, lhs, .. }
                    | Op::I32Load8UAddImm { dst, lhs, .. }
                    | Op::I32Load8SAddImm { dst, lhs, .. }
                    | Op::I32Load16UAddImm { dst, lhs, .. }
                    | Op::I64Load32SAddImm { dst, lhs, .. }
                    | Op::I64Load32UAddImm { dst, lhs, .. } => {
                        f.slots(&[dst, lhs])?;
                        self.memory()?;
                    }
                    Op::Store8Add { lhs, rhs, val }
                    | Op::Store16Add { lhs, rhs, val }
                    | Op::Store32Add { lhs, rhs, val }
                    | Op::Store64Add { lhs, rhs, val }
                    | Op::Store32Idx { lhs, rhs, val }
                    | Op::Store64Idx { lhs, rhs, val }
                    | Op::Store32IdxImm { lhs, rhs, val, .. }
                    | Op::Store64IdxImm { lhs, rhs, val, .. } => {
                        f.slots(&[lhs, rhs, val])?;
                        self.memory()?;
                    }
                    Op::Store8AddImm { lhs, val, .. }
                    | Op::Store16AddImm { lhs, val, .. }
                    | Op::Store32AddImm { lhs, val, .. }
                    | Op::Store64AddImm { lhs, val, .. } => {
                        f.slots(&[lhs, val])?;
                        self.memory()?;
                    }
                    Op::I32LoadShl { dst, idx, .. }
                    | Op::I32LoadShlU8 { dst, idx, .. }
                    | Op::F32LoadShl { dst, idx, .. }
                    | Op::I64LoadShl { dst, idx, .. }
                    | Op::F64LoadShl { dst, idx, .. } => {
                        f.slots(&[dst, idx])?;
                        self.memory()?;
                    }
                    Op::F64AddLoad { dst, lhs, addr, .. }
                    | Op::F64SubLoad { dst, lhs, addr, .. }
                    | Op::F64MulLoad { dst, lhs, addr, .. }
                    | Op::F64MulAddLoad { dst, lhs, addr, .. }
                    | Op::F64MulSubLoad { dst, lhs, addr, .. } => {
                        f.slots(&[dst, lhs, addr])?;
                        self.memory()?;
                    }
                    Op::BrF32Eq { lhs, rhs, offset }
                    | Op::BrF32NotEq { lhs, rhs, offset }
                    | Op::BrF32Ne { lhs, rhs, offset }
                    | Op::BrF32NotNe { lhs, rhs, offset }
                    | Op::BrF32Lt { lhs, rhs, offset }
                    | Op::BrF32NotLt { lhs, rhs, offset }
                    | Op::BrF32Gt { lhs, rhs, offset }
                    | Op::BrF32NotGt { lhs, rhs, offset }
                    | Op::BrF32Le { lhs, rhs, offset }
                    | Op::BrF32NotLe { lhs, rhs, offset }
                    | Op::BrF32Ge { lhs, rhs, offset }
                    | Op::BrF32NotGe { lhs, rhs, offset }
                    | Op::BrF64Eq { lhs, rhs, offset }
                    | Op::BrF64NotEq { lhs, rhs, offset }
                    | Op::BrF64Ne { lhs, rhs, offset }
                    | Op::BrF64NotNe { lhs, rhs, offset }
                    | Op::BrF64Lt { lhs, rhs, offset }
                    | Op::BrF64NotLt { lhs, rhs, offset }
                    | Op::BrF64Gt { lhs, rhs, offset }
                    | Op::BrF64NotGt { lhs, rhs, offset }
                    | Op::BrF64Le { lhs, rhs, offset }
                    | Op::BrF64NotLe { lhs, rhs, offset }
                    | Op::BrF64Ge { lhs, rhs, offset }
                    | Op::BrF64NotGe { lhs, rhs, offset } => {
                        f.slots(&[lhs, rhs])?;
                        f.target(pc, offset, targets)?;
                    }
                    Op::F64MulAdd { dst, lhs, rhs }
                    | Op::F64MulSub { dst, lhs, rhs }
                    | Op::I32AddShl2 { dst, lhs, rhs }
                    | Op::I32AddShl3 { dst, lhs, rhs }
                    | Op::I32AddShl2Imm { dst, lhs, rhs, .. }
                    | Op::I32AddShl3Imm { dst, lhs, rhs, .. } => f.slots(&[dst, lhs, rhs])?,
                    Op::I32AddImmCopy { a, dst, src, .. } => f.slots(&[a, dst, src])?,
                    Op::I32AddImmTee { dst, lhs, dst2, .. } => f.slots(&[dst, lhs, dst2])?,
                    Op::CopyBr { dst, src, offset } | Op::I32AddImmBr { dst, lhs: src, offset, .. } => {
                        f.slots(&[dst, src])?;
                        f.target(pc, offset, targets)?;
                    }
                    Op::I32AddImm2 { a, b, .. } => f.slots(&[a, b])?,
                    Op::MemorySize { dst } => {
                        f.slot(dst)?;
                        self.memory()?;
                    }
                    Op::MemoryGrow { base, mem } => {
                        f.span(base, 1)?;
                        self.memory_n(mem)?;
                    }
                    Op::MemoryCopyBetween { base, dst, src } => {
                        f.span(base, 3)?;
                        self.memory_n(dst)?;
                        self.memory_n(src)?;
                    }
                    Op::MemSelect(mem) => self.memory_n(mem)?,
                    Op::MemoryFill { base } | Op::MemoryCopy { base } => {
                        f.span(base, 3)?;
                        self.memory()?;
                    }
                    Op::MemoryInit { seg, base } => {
                        f.span(base, 3)?;
                        self.memory()?;
                        self.data(seg)?;
                    }
                    Op::DataDrop(seg) => self.data(seg)?,
                    Op::TableGet { table, base } => {
                        f.span(base, 1)?;
                        self.table(table)?;
                    }
                    Op::TableSet { table, base } | Op::TableGrow { table, base } => {
                        f.span(base, 2)?;
                        self.table(table)?;
                    }
                    Op::TableSize { table, dst } => {
                        f.slot(dst)?;
                        self.table(table)?;
                    }
                    Op::TableFill { table, base } => {
                        f.span(base, 3)?;
                        self.table(table)?;
                    }
                    Op::TableCopy { dst, src, base } => {
                        f.span(base, 3)?;
                        if self.table(dst)? != self.table(src)? {
                            return Err(format!("tables {dst} and {src} differ in element type"));
                        }
                    }
                    Op::TableInit { table, elem, base } => {
                        f.span(base, 3)?;
                        if self.table(table)? != self.elem(elem)? {
                            return Err(format!(
                                "table {table} and element segment {elem} differ in element type"
                            ));
                        }
                    }
                    Op::ElemDrop(elem) => {
                        self.elem(elem)?;
                    }
                    Op::V128Const { dst, idx } => {
                        f.v128s(&[dst])?;
                        in_range("v128 constant", idx, self.v128s)?;
                    }
                    Op::I8x16Shuffle { dst, lhs, rhs, idx } => {
                        f.v128s(&[dst, lhs, rhs])?;
                        in_range("v128 constant", idx, self.v128s)?;
                    }
                    Op::V128Copy { dst, src } => f.v128s(&[dst, src])?,
                    Op::V128Select { dst, rhs, cond } => {
                        f.v128s(&[dst, rhs])?;
                        f.slot(cond)?;
                    }
                    Op::V128GlobalGet { dst, global } => {
                        f.v128s(&[dst])?;
                        self.v128_global(global)?;
                    }
                    Op::V128GlobalSet { src, global } => {
                        f.v128s(&[src])?;
                        self.v128_global(global)?;
                        if !m.globals[global as usize].mutable {
                            return Err(format!("global {global} is immutable"));
                        }
                    }
                    Op::V128Bitselect { dst, a, b, c }
                    | Op::F32x4RelaxedMadd { dst, a, b, c }
                    | Op::F32x4RelaxedNmadd { dst, a, b, c }
                    | Op::F64x2RelaxedMadd { dst, a, b, c }
                    | Op::F64x2RelaxedNmadd { dst, a, b, c }
                    | Op::I32x4RelaxedDotI8x16I7x16AddS { dst, a, b, c }
                    => f.v128s(&[dst, a, b, c])?,
                    Op::V128Load { dst, addr, .. }
                    | Op::V128Load8x8S { dst, addr, .. }
                    | Op::V128Load8x8U { dst, addr, .. }
                    | Op::V128Load16x4S { dst, addr, .. }
                    | Op::V128Load16x4U { dst, addr, .. }
                    | Op::V128Load32x2S { dst, addr, .. }
                    | Op::V128Load32x2U { dst, addr, .. }
                    | Op::V128Load8Splat { dst, addr, .. }
                    | Op::V128Load16Splat { dst, addr, .. }
                    | Op::V128Load32Splat { dst, addr, .. }
                    | Op::V128Load64Splat { dst, addr, .. }
                    | Op::V128Load32Zero { dst, addr, .. }
                    | Op::V128Load64Zero { dst, addr, .. } => {
                        f.v128s(&[dst])?;
                        f.slot(addr)?;
                        self.memory()?;
                    }
                    Op::V128Store { addr, val, .. } => {
                        f.slot(addr)?;
                        f.v128s(&[val])?;
                        self.memory()?;
                    }
                    $( Op::$vu { dst, src } => f.v128s(&[dst, src])?, )*
                    $( Op::$vb { dst, lhs, rhs } => f.v128s(&[dst, lhs, rhs])?, )*
                    $( Op::$vs { dst, lhs, rhs } => {
                        f.v128s(&[dst, lhs])?;
                        f.slot(rhs)?;
                    } )*
                    $( Op::$vt { dst, src } => {
                        f.slot(dst)?;
                        f.v128s(&[src])?;
                    } )*
                    $( Op::$vp { dst, src } => {
                        f.v128s(&[dst])?;
                        f.slot(src)?;
                    } )*
                    $( Op::$ve { dst, src, .. } => {
                        f.slot(dst)?;
                        f.v128s(&[src])?;
                    } )*
                    $( Op::$vr { dst, src, val, .. } => {
                        f.v128s(&[dst, src])?;
                        f.slot(val)?;
                    } )*
                    $( Op::$u { dst, src } => f.slots(&[dst, src])?, )*
                    $( Op::$ut { dst, src } => f.slots(&[dst, src])?, )*
                    $( Op::$b { dst, lhs, rhs } => f.slots(&[dst, lhs, rhs])?, )*
                    $( Op::$bi { dst, lhs, rhs } => f.slots(&[dst, lhs, rhs])?, )*
                    $( Op::$bii { dst, lhs, .. } => f.slots(&[dst, lhs])?, )*
                    $( Op::$bt { dst, lhs, rhs } => f.slots(&[dst, lhs, rhs])?, )*
                    $( Op::$cb { lhs, rhs, offset } => {
                        f.slots(&[lhs, rhs])?;
                        f.target(pc, offset, targets)?;
                    } )*
                    $( Op::$cbi { lhs, offset, .. } => {
                        f.slot(lhs)?;
                        f.target(pc, offset, targets)?;
                    } )*
                    $( Op::$abr { slot, step, rhs, offset } => {
                        f.slots(&[slot, step, rhs])?;
                        f.target(pc, offset, targets)?;
                    } )*
                    $( Op::$abi { slot, rhs, offset, .. } => {
                        f.slots(&[slot, rhs])?;
                        f.target(pc, offset, targets)?;
                    } )*
                    $( Op::$abl { dst, addr, rhs, offset } => {
                        f.slots(&[dst, addr, rhs])?;
                        self.memory()?;
                        f.target(pc, offset, targets)?;
                    } )*
                    $( Op::$fp { dst, a, b, c } => f.slots(&[dst, a, b, c])?, )*
                }
                Ok(())
            }
        }
    };
}
crate::code::for_each_op!(define_check);

#[cfg(test)]
mod tests;
