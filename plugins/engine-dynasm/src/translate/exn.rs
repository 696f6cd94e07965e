//! Exception handling: `throw`, `throw_ref` and `try_table`.
//!
//! Nothing runs for a `try_table` on the path that does not throw but a jump over
//! its landing pad, which is emitted where the `try_table` starts (the value stack
//! is then flushed, so the pad knows where every value below the block is). Every
//! call inside it records its return address with the `try_table` ([`Sites::
//! handlers`](super::Sites), with the function's frame size once it is known). A
//! throw makes the exception with the runtime function `exn_new` and calls the
//! module's throw stub, which has vm-core walk the frames to the innermost handler
//! (`vm_core::runtime::native::exn`) and continues at its landing pad with `rsp`
//! at the frame's bottom and the `exnref` in `rax`. The pad reloads `r15` (and
//! memory 0's base), matches the clauses in order (`exn_is`), copies the payload
//! (`exn_payload`, into a scratch area of the frame, then to the canonical slots
//! the clause's label receives its values in) and branches like `br`; when no
//! clause matches it throws the exception on from there. Every register is
//! caller-saved between wasm functions of this engine, so there are no
//! callee-saved registers to restore.

use dynasm::dynasm;
use dynasmrt::{DynasmApi, DynasmLabelApi};
use vm_core::runtime::native::runtime_fns::RuntimeFn;
use vm_core::runtime::{CompileError, TrapCode, ValType};

use super::{Control, FuncCompiler, Kind, VMCTX_SLOT};

impl FuncCompiler<'_, '_> {
    /// Records the call just emitted as a call site of the innermost `try_table`.
    pub(super) fn call_site(&mut self) {
        if let Some(id) = self.controls.iter().rev().find_map(|c| c.try_id) {
            self.try_calls.push((self.ops.offset().0 as u32, id));
        }
    }

    /// Calls the throw stub with the `exnref` in `esi`.
    fn call_throw_stub(&mut self) {
        let stub = self.env.throw_stub;
        debug_assert!(!self.stack.vmctx_lost, "r15 holds vmctx after a flush");
        dynasm!(self.ops ; .arch x64 ; mov rdi, r15 ; call =>stub);
        self.call_site();
        // Never reached: the stub continues at a handler or traps.
        dynasm!(self.ops ; .arch x64 ; int3);
    }

    /// The payload types of module tag `tag`.
    fn tag_params(&self, tag: u32) -> Result<Vec<ValType>, CompileError> {
        let ty = self.env.module.tag_type(tag).ok_or(CompileError::Limit("tag index"))?;
        for &t in ty.params() {
            super::check_type(self.env, t, self.offset)?;
        }
        Ok(ty.params().to_vec())
    }

    /// `throw tag`: the payload is copied in order to a scratch area below the
    /// value stack, `exn_new` makes the exception and the stub throws it.
    pub fn throw(&mut self, tag: u32) -> Result<(), CompileError> {
        let tys = self.tag_params(tag)?;
        self.flush();
        // A handler in this function reloads the register locals.
        self.save_reg_locals();
        let base = self.stack.len() - tys.len();
        let units: u32 = tys.iter().map(|&t| super::units(t)).sum();
        let scratch = self.stack.below(self.stack.len());
        self.stack.reserve(scratch + units.max(1));
        // Unit `j` of the payload at `lowest + 8 * j`.
        let lowest = self.stack.addr(scratch + units.max(1) - 1, false);
        let mut j = 0;
        for (k, &t) in tys.iter().enumerate() {
            let wide = t == ValType::V128;
            let from = self.stack.slot(base + k);
            self.copy_slot(from, lowest + 8 * j, wide);
            j += super::units(t) as i32;
        }
        dynasm!(self.ops
            ; .arch x64
            ; mov rdi, r15
            ; mov esi, tag as i32
            ; lea rdx, [rbp + lowest]
        );
        self.emit_runtime_call(RuntimeFn::ExnNew);
        let pending = self.pending_label();
        dynasm!(self.ops ; .arch x64 ; test eax, eax ; jz =>pending ; mov esi, eax);
        self.call_throw_stub();
        self.stack.reset(base, []);
        self.reachable = false;
        Ok(())
    }

    /// `throw_ref`: traps on null, else throws the exception on.
    pub fn throw_ref(&mut self) {
        let r = self.pop_reg_keeping_vmctx();
        self.stack.free(r);
        self.flush();
        self.save_reg_locals();
        let null = self.trap_label(TrapCode::NullReference);
        dynasm!(self.ops
            ; .arch x64
            ; test Rq(r), Rq(r)
            ; jz =>null
            ; mov esi, Rd(r)
        );
        self.call_throw_stub();
        self.reachable = false;
    }

    /// `try_table`: the landing pad (skipped on entry), then a block whose calls
    /// are call sites of this `try_table`.
    pub fn try_table(&mut self, t: &wasmparser::TryTable) -> Result<(), CompileError> {
        let (params, results) = self.block_arity(t.ty)?;
        self.flush();
        let height = self.stack.len() - params;
        let param_wide: Vec<bool> =
            Self::sig_wide(self.env.module, Self::sig_of(t.ty), false).collect();
        let id = self.landings.len();
        self.landings.push(None);
        if !t.catches.is_empty() {
            let skip = self.ops.new_dynamic_label();
            dynasm!(self.ops ; .arch x64 ; jmp =>skip);
            self.landings[id] = Some(self.ops.offset().0 as u32);
            self.landing_pad(t, height)?;
            self.stack.reset(height, param_wide.iter().copied());
            self.reachable = true;
            dynasm!(self.ops ; .arch x64 ; =>skip);
        }
        let label = self.ops.new_dynamic_label();
        self.controls.push(Control {
            kind: Kind::Block,
            label,
            else_label: None,
            height,
            params,
            results,
            sig: Self::sig_of(t.ty),
            // A `try_table` without clauses leaves its calls to the enclosing one.
            try_id: (!t.catches.is_empty()).then_some(id),
        });
        Ok(())
    }

    /// The landing pad of a `try_table` whose values start at depth `height`.
    fn landing_pad(&mut self, t: &wasmparser::TryTable, height: usize) -> Result<(), CompileError> {
        // The most units a clause receives (payload and `exnref`), then the
        // `exnref`'s own slot, then the payload's scratch area.
        let mut most = 1;
        for c in &t.catches {
            if let wasmparser::Catch::One { tag, .. } | wasmparser::Catch::OneRef { tag, .. } = *c {
                let units: u32 = self.tag_params(tag)?.iter().map(|&t| super::units(t)).sum();
                most = most.max(units + 1);
            }
        }
        let below = self.stack.below(height);
        let exn_unit = below + most;
        let exn_slot = self.stack.addr(exn_unit, false);
        dynasm!(self.ops
            ; .arch x64
            ; mov r15, [rbp + VMCTX_SLOT]
            ; mov [rbp + exn_slot], rax
        );
        self.need_membase();
        self.load_membase();
        self.stack.reserve(exn_unit + 1);
        for c in &t.catches {
            let (tag, label, with_ref) = match *c {
                wasmparser::Catch::One { tag, label } => (Some(tag), label, false),
                wasmparser::Catch::OneRef { tag, label } => (Some(tag), label, true),
                wasmparser::Catch::All { label } => (None, label, false),
                wasmparser::Catch::AllRef { label } => (None, label, true),
            };
            let next = self.ops.new_dynamic_label();
            let tys = match tag {
                Some(tag) => {
                    dynasm!(self.ops
                        ; .arch x64
                        ; mov rdi, r15
                        ; mov esi, [rbp + exn_slot]
                        ; mov edx, tag as i32
                    );
                    self.emit_runtime_call(RuntimeFn::ExnIs);
                    dynasm!(self.ops ; .arch x64 ; test eax, eax ; jz =>next);
                    self.tag_params(tag)?
                }
                None => Vec::new(),
            };
            let units: u32 = tys.iter().map(|&t| super::units(t)).sum();
            let mut wide: Vec<bool> = tys.iter().map(|&t| t == ValType::V128).collect();
            if with_ref {
                wide.push(false);
            }
            self.stack.reset(height, wide.iter().copied());
            if units > 0 {
                let scratch = exn_unit + 1;
                self.stack.reserve(scratch + units);
                let lowest = self.stack.addr(scratch + units - 1, false);
                dynasm!(self.ops
                    ; .arch x64
                    ; mov rdi, r15
                    ; mov esi, [rbp + exn_slot]
                    ; lea rdx, [rbp + lowest]
                );
                self.emit_runtime_call(RuntimeFn::ExnPayload);
                let pending = self.pending_label();
                dynasm!(self.ops ; .arch x64 ; test eax, eax ; jnz =>pending);
                let mut j = 0;
                for (k, &t) in tys.iter().enumerate() {
                    let w = t == ValType::V128;
                    let to = self.stack.slot(height + k);
                    self.copy_slot(lowest + 8 * j, to, w);
                    j += super::units(t) as i32;
                }
            }
            // The register locals from their homes (stored before every call
            // and throw, see `locals`): the callee and the runtime calls above
            // clobbered their registers.
            self.restore_reg_locals();
            if with_ref {
                let to = self.stack.slot(height + tys.len());
                dynasm!(self.ops
                    ; .arch x64
                    ; mov r11, [rbp + exn_slot]
                    ; mov [rbp + to], r11
                );
            }
            self.br(label)?;
            dynasm!(self.ops ; .arch x64 ; =>next);
            if tag.is_none() {
                return Ok(());
            }
        }
        // No clause matched: on to the enclosing handler.
        dynasm!(self.ops ; .arch x64 ; mov esi, [rbp + exn_slot]);
        self.call_throw_stub();
        Ok(())
    }
}
