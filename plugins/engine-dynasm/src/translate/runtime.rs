//! Operators that need the runtime: calls of imported functions and
//! `call_indirect` (through funcrefs), references and tables, `memory.grow` and the
//! bulk memory and table operators (vm-core's runtime functions,
//! [`RuntimeFn`]), and observer call events.
//!
//! **Runtime calls.** The whole value stack is flushed first (every register is
//! free, so nothing is saved around the call); the arguments go into the System V
//! registers (`rdi` = the calling instance's `vmctx`, then immediates, then the
//! operands from their canonical slots); the function's address is read from the
//! store context's linked table (`vmctx->store->libcalls`, the table the `virt`
//! plugin returned from `link_libcalls`, so a runtime call under virt-kvm is a VM
//! exit); `rsp` is aligned to 16 bytes for the call and reset after it. A function
//! that can fail returns a status, and a non-zero status jumps to a
//! [`TrapKind::Pending`] trap site: the runtime function recorded the trap.
//!
//! **Calls through funcrefs** (imported functions, `call_indirect`): the funcref
//! (`vmctx->funcs[i]`, or a table element) gives the callee's code and `vmctx`
//! (for a host function: its host-call trampoline and the funcref itself). The
//! callee may belong to another instance, so `r15` is reloaded from the frame
//! after the call. `call_indirect` checks, in the spec's order, the table bounds
//! ("undefined element"), a null element ("uninitialized element") and the
//! signature: the funcref's interned signature id against the module's
//! `vmctx->sigs[type]` ("indirect call type mismatch").

use dynasm::dynasm;
use dynasmrt::{DynasmApi, DynasmLabelApi};
use vm_core::runtime::native::runtime_fns::RuntimeFn;
use vm_core::runtime::offsets as o;
use vm_core::runtime::{CompileError, TrapCode};
use wasmparser::Operator;

use super::{FuncCompiler, Loc, VMCTX_SLOT};

/// The System V integer argument registers, in order.
const ARGS: [u8; 6] = [7, 6, 2, 1, 8, 9];
/// `rbx`: callee-saved in System V, so a funcref kept in it survives a runtime call.
const RBX: u8 = 3;

impl FuncCompiler<'_, '_> {
    /// Translates `op` if it is in this family; `false` otherwise.
    pub fn runtime_op(&mut self, op: &Operator<'_>) -> Result<bool, CompileError> {
        use Operator as O;
        use RuntimeFn as F;
        match *op {
            O::CallIndirect { type_index, table_index } => {
                self.call_indirect(type_index, table_index)?
            }
            O::ReturnCallIndirect { type_index, table_index } => {
                self.return_call_indirect(type_index, table_index)?
            }
            O::CallRef { type_index } => {
                self.nonnull_funcref();
                self.call_event();
                self.call_funcref(type_index)?
            }
            O::ReturnCallRef { type_index } => {
                self.nonnull_funcref();
                self.call_event();
                self.return_call_funcref(type_index)?
            }
            O::RefAsNonNull => {
                let r = self.pop_reg();
                let null = self.trap_label(TrapCode::NullReference);
                dynasm!(self.ops
                    ; .arch x64
                    ; test Rq(r), Rq(r)
                    ; jz =>null
                );
                self.stack.push(Loc::Reg(r));
            }
            O::RefNull { .. } => self.stack.push(Loc::Const(0)),
            O::RefIsNull => {
                let r = self.pop_reg();
                dynasm!(self.ops
                    ; .arch x64
                    ; test Rq(r), Rq(r)
                    ; sete Rb(r)
                    ; movzx Rd(r), Rb(r)
                );
                self.stack.push(Loc::Reg(r));
            }
            O::RefFunc { function_index } => {
                let r = self.alloc();
                self.funcref(r, function_index);
                self.stack.push(Loc::Reg(r));
            }
            O::TableGet { table } => {
                let i = self.pop_reg();
                self.table_elem(i, table);
                dynasm!(self.ops ; .arch x64 ; mov Rq(i), [Rq(i)]);
                self.stack.push(Loc::Reg(i));
            }
            O::TableSet { table } => {
                let v = self.pop_read();
                let i = self.pop_reg();
                self.table_elem(i, table);
                dynasm!(self.ops ; .arch x64 ; mov [Rq(i)], Rq(v));
                self.stack.free(v);
                self.stack.free(i);
            }
            O::TableSize { table } => {
                let r = self.alloc();
                self.table_def(r, table);
                dynasm!(self.ops ; .arch x64 ; mov Rd(r), [Rq(r) + o::TABLE_LENGTH as i32]);
                self.stack.push(Loc::Reg(r));
            }
            O::TableGrow { table } => self.runtime_call(F::TableGrow, &[table], 2, false),
            O::TableFill { table } => self.runtime_call(F::TableFill, &[table], 3, true),
            O::TableCopy { dst_table, src_table } => {
                self.runtime_call(F::TableCopy, &[dst_table, src_table], 3, true)
            }
            O::TableInit { elem_index, table } => {
                self.runtime_call(F::TableInit, &[table, elem_index], 3, true)
            }
            O::ElemDrop { elem_index } => self.runtime_call(F::ElemDrop, &[elem_index], 0, false),
            O::MemoryGrow { mem } => self.runtime_call(F::MemoryGrow, &[mem], 1, false),
            O::MemoryFill { mem } => self.runtime_call(F::MemoryFill, &[mem], 3, true),
            O::MemoryCopy { dst_mem, src_mem } => {
                self.runtime_call(F::MemoryCopy, &[dst_mem, src_mem], 3, true)
            }
            O::MemoryInit { data_index, mem } => {
                self.runtime_call(F::MemoryInit, &[mem, data_index], 3, true)
            }
            O::DataDrop { data_index } => self.runtime_call(F::DataDrop, &[data_index], 0, false),
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// `r = vmctx->funcs[func]` (the funcref pointer).
    fn funcref(&mut self, r: u8, func: u32) {
        self.vmctx_field(r, o::VMCTX_FUNCS as i32);
        dynasm!(self.ops ; .arch x64 ; mov Rq(r), [Rq(r) + 8 * func as i32]);
    }

    /// `r = vmctx->tables[table]` (the table's definition).
    fn table_def(&mut self, r: u8, table: u32) {
        self.vmctx_field(r, o::VMCTX_TABLES as i32);
        dynasm!(self.ops ; .arch x64 ; mov Rq(r), [Rq(r) + 8 * table as i32]);
    }

    /// Turns index register `i` (an i32) into the address of element `i` of
    /// `table`, trapping with "undefined element" when out of bounds.
    fn table_elem(&mut self, i: u8, table: u32) {
        let oob = self.trap_label(TrapCode::TableOutOfBounds);
        self.table_def(super::reg::SCRATCH, table);
        dynasm!(self.ops
            ; .arch x64
            ; mov Rd(i), Rd(i)
            ; cmp Rq(i), [r11 + o::TABLE_LENGTH as i32]
            ; jae =>oob
            ; shl Rq(i), 3
            ; add Rq(i), [r11 + o::TABLE_BASE as i32]
        );
        const { assert!(o::TABLE_ELEMENT_SIZE == 8) };
    }

    /// Calls runtime function `f` with the calling `vmctx`, the immediates `imms`
    /// and the top `pops` operands (popped); pushes its `i32` result unless
    /// `checked`, in which case a non-zero result traps with the runtime function's
    /// pending trap.
    fn runtime_call(&mut self, f: RuntimeFn, imms: &[u32], pops: usize, checked: bool) {
        self.flush();
        self.save_reg_locals();
        let base = self.stack.len() - pops;
        dynasm!(self.ops ; .arch x64 ; mov rdi, r15);
        for (k, &imm) in imms.iter().enumerate() {
            dynasm!(self.ops ; .arch x64 ; mov Rd(ARGS[1 + k]), imm as i32);
        }
        for j in 0..pops {
            let disp = self.stack.slot(base + j);
            dynasm!(self.ops ; .arch x64 ; mov Rq(ARGS[1 + imms.len() + j]), [rbp + disp]);
        }
        self.emit_runtime_call(f);
        self.restore_reg_locals();
        self.stack.reset(base, []);
        let (_, result) = f.native_signature();
        if checked {
            let pending = self.pending_label();
            dynasm!(self.ops ; .arch x64 ; test eax, eax ; jnz =>pending);
        } else if result.is_some() {
            let r = self.alloc();
            dynasm!(self.ops ; .arch x64 ; mov Rd(r), eax);
            self.stack.push(Loc::Reg(r));
        }
    }

    /// The call of runtime function `f` itself, its arguments in place and the
    /// value stack flushed: through the store context's linked table, with `rsp`
    /// aligned for System V; `rsp`, `r15` and memory 0's base are restored after.
    pub(super) fn emit_runtime_call(&mut self, f: RuntimeFn) {
        debug_assert!(!self.stack.vmctx_lost, "r15 holds vmctx after a flush");
        dynasm!(self.ops
            ; .arch x64
            ; mov rax, [r15 + o::VMCTX_STORE as i32]
            ; mov rax, [rax + o::STORE_LIBCALLS as i32]
            ; and rsp, -16
            ; call QWORD [rax + f.table_offset() as i32]
        );
        self.reset_rsp();
        dynasm!(self.ops ; .arch x64 ; mov r15, [rbp + VMCTX_SLOT]);
        self.need_membase();
        self.load_membase();
    }

    /// Reports a call through funcref `rbx` to the observers (a runtime call; `rbx`
    /// survives it).
    fn call_event(&mut self) {
        if self.env.call_events {
            dynasm!(self.ops ; .arch x64 ; mov rdi, r15 ; mov rsi, rbx);
            self.emit_runtime_call(RuntimeFn::WasmCallEvent);
        }
    }

    /// Reports a direct call of function `func` to the observers, when they
    /// subscribe.
    pub(super) fn direct_call_event(&mut self, func: u32) {
        if self.env.call_events {
            self.funcref(RBX, func);
            self.call_event();
        }
    }

    /// A call of imported function `func` through its funcref.
    pub(super) fn call_import(&mut self, func: u32) -> Result<(), CompileError> {
        let ty = self.env.module.funcs.get(func as usize).copied();
        let ty = ty.ok_or(CompileError::Limit("no such function"))?;
        self.flush();
        self.save_reg_locals();
        self.funcref(RBX, func);
        self.call_event();
        self.call_funcref(ty)
    }

    /// `call_indirect (type ty) (table table)`.
    fn call_indirect(&mut self, ty: u32, table: u32) -> Result<(), CompileError> {
        self.checked_funcref(ty, table);
        self.call_event();
        self.call_funcref(ty)
    }

    /// `return_call_indirect (type ty) (table table)`.
    fn return_call_indirect(&mut self, ty: u32, table: u32) -> Result<(), CompileError> {
        self.checked_funcref(ty, table);
        self.call_event();
        self.return_call_funcref(ty)
    }

    /// A tail call of imported function `func` through its funcref.
    pub(super) fn return_call_import(&mut self, func: u32) -> Result<(), CompileError> {
        let ty = self.env.module.funcs.get(func as usize).copied();
        let ty = ty.ok_or(CompileError::Limit("no such function"))?;
        self.flush();
        self.funcref(RBX, func);
        self.call_event();
        self.return_call_funcref(ty)
    }

    /// The tail call through funcref `rbx` of a function of type index `ty` whose
    /// arguments are on the (flushed) value stack. A callee of this instance
    /// replaces the frame (see `FuncCompiler::tail_jump`). In a module with a
    /// memory 0, a callee of another instance (or a host function) is called and
    /// its results returned instead: a direct caller of this function expects
    /// `r14` to hold its memory's base when this function returns, which such a
    /// callee would not leave there.
    fn return_call_funcref(&mut self, ty: u32) -> Result<(), CompileError> {
        let fty = self.env.module.types.get(ty as usize).ok_or(CompileError::Limit("type"))?;
        for &t in fty.params().iter().chain(fty.results()) {
            super::check_type(self.env, t, self.offset)?;
        }
        let n = fty.params().len();
        let area = super::area_units(fty);
        let other = self.ops.new_dynamic_label();
        if self.env.memory {
            dynasm!(self.ops
                ; .arch x64
                ; cmp r15, [rbx + o::FUNCREF_VMCTX as i32]
                ; jne =>other
            );
        }
        self.tail_jump(n, area);
        dynasm!(self.ops
            ; .arch x64
            ; mov rdi, [rbx + o::FUNCREF_VMCTX as i32]
            ; mov rsi, r15
            ; jmp QWORD [rbx + o::FUNCREF_CODE as i32]
        );
        if self.env.memory {
            dynasm!(self.ops ; .arch x64 ; =>other);
            // Not a call site of an enclosing `try_table`: a tail call's callee
            // is outside the handlers of this function.
            self.call_funcref_at(ty, false)?;
            self.br(self.controls.len() as u32 - 1)?;
        }
        self.reachable = false;
        Ok(())
    }

    /// Pops a funcref into `rbx` (flushing the rest), trapping when it is null.
    fn nonnull_funcref(&mut self) {
        let r = super::reg::RAX;
        self.pop_into(r);
        self.flush();
        // `rbx` may be a register local's home.
        self.save_reg_locals();
        let null = self.trap_label(TrapCode::NullFunctionReference);
        dynasm!(self.ops
            ; .arch x64
            ; mov rbx, Rq(r)
            ; test rbx, rbx
            ; jz =>null
        );
        self.stack.free(r);
    }

    /// Pops the index, reads element `index` of `table` into `rbx` and checks it
    /// is not null and has type index `ty`.
    fn checked_funcref(&mut self, ty: u32, table: u32) {
        // The index in `rax`, never in `rbx`, which receives the funcref.
        let i = super::reg::RAX;
        self.pop_into(i);
        self.flush();
        self.save_reg_locals();
        let null = self.trap_label(TrapCode::IndirectCallToNull);
        let bad = self.trap_label(TrapCode::BadSignature);
        self.table_elem(i, table);
        dynasm!(self.ops
            ; .arch x64
            ; mov rbx, [Rq(i)]
            ; test rbx, rbx
            ; jz =>null
        );
        self.vmctx_field(i, o::VMCTX_SIGS as i32);
        dynasm!(self.ops
            ; .arch x64
            ; mov Rd(i), [Rq(i) + 4 * ty as i32]
            ; cmp Rd(i), [rbx + o::FUNCREF_SIG as i32]
            ; jne =>bad
        );
        self.stack.free(i);
    }

    /// Calls through funcref `rbx` a function of type index `ty` whose arguments
    /// are on the (flushed) value stack.
    fn call_funcref(&mut self, ty: u32) -> Result<(), CompileError> {
        self.call_funcref_at(ty, true)
    }

    /// [`Self::call_funcref`]; `site`: the call is a call site of the innermost
    /// `try_table` (not for the call that stands in for a tail call).
    fn call_funcref_at(&mut self, ty: u32, site: bool) -> Result<(), CompileError> {
        let fty = self.env.module.types.get(ty as usize).ok_or(CompileError::Limit("type"))?;
        let n = fty.params().len();
        for &t in fty.params().iter().chain(fty.results()) {
            super::check_type(self.env, t, self.offset)?;
        }
        debug_assert!(!self.stack.vmctx_lost, "r15 holds vmctx after a flush");
        let area = super::area_units(fty);
        let base = self.stack.len() - n;
        let below = self.stack.below(base);
        self.stack.reserve(below + area);
        if area > 0 {
            let deepest = self.stack.addr(below + area - 1, false);
            dynasm!(self.ops ; .arch x64 ; lea rsp, [rbp + deepest]);
        }
        dynasm!(self.ops
            ; .arch x64
            ; mov rdi, [rbx + o::FUNCREF_VMCTX as i32]
            ; mov rsi, r15
            ; call QWORD [rbx + o::FUNCREF_CODE as i32]
        );
        if site {
            self.call_site();
        }
        self.reset_rsp();
        dynasm!(self.ops ; .arch x64 ; mov r15, [rbp + VMCTX_SLOT]);
        self.need_membase();
        self.load_membase();
        self.restore_reg_locals();
        self.stack.reset(base, super::wide_types(fty.results()));
        Ok(())
    }
}
