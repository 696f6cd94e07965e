//! Calls between wasm functions.
//!
//! The calling convention (every wasm function of this engine, and the entry
//! trampoline): `rdi` = callee `vmctx`, `rsi` = caller `vmctx`; the arguments and
//! results share one area at `rsp` on the call, of `max(params, results)` 8-byte
//! units (a v128 takes two), argument/result `k` at `rsp + 8 * (area - end_k)`
//! where `end_k` counts the units of values `0..=k` (for scalars only:
//! `rsp + 8 * (area - 1 - k)`). The caller's flushed
//! value stack *is* that area: its argument slots are the canonical slots of their
//! depths, so `rsp` is pointed at the deepest slot of the area, the callee writes
//! its results over the arguments, and after the call the results are already in
//! the canonical slots of their depths. Every register but `rsp` and `rbp` is
//! caller-saved; the callee sets `r15` to its `vmctx` (a direct callee's is the
//! caller's, so `r15` needs no reload) and returns memory 0's current base in
//! `r14` (so that needs none either; see `FuncCompiler::load_membase`).

use dynasm::dynasm;
use dynasmrt::{DynasmApi, DynasmLabelApi};
use vm_core::runtime::CompileError;
use vm_core::runtime::TrapCode;
use vm_core::runtime::offsets as o;

use super::FuncCompiler;

impl FuncCompiler<'_, '_> {
    pub fn call(&mut self, func: u32) -> Result<(), CompileError> {
        let module = self.env.module;
        let Some(defined) = func.checked_sub(module.num_imported_funcs) else {
            return self.call_import(func);
        };
        let ty = module.func_type(func).ok_or(CompileError::Limit("function type"))?;
        let n = ty.params().len();
        let area = super::area_units(ty);
        let label = *self
            .env
            .func_labels
            .get(defined as usize)
            .ok_or(CompileError::Limit("no such function"))?;
        for &t in ty.params().iter().chain(ty.results()) {
            super::check_type(self.env, t, self.offset)?;
        }
        self.flush();
        debug_assert!(!self.stack.vmctx_lost, "r15 holds vmctx after a flush");
        self.save_reg_locals();
        self.direct_call_event(func);
        let base = self.stack.len() - n;
        let below = self.stack.below(base);
        self.stack.reserve(below + area);
        if area > 0 {
            let deepest = self.stack.addr(below + area - 1, false);
            dynasm!(self.ops ; .arch x64 ; lea rsp, [rbp + deepest]);
        }
        dynasm!(self.ops
            ; .arch x64
            ; mov rdi, r15
            ; mov rsi, r15
            ; call =>label
        );
        self.call_site();
        // Also without an area: a callee that tail-called one with an area returns
        // with `rsp` that much lower (see "Tail calls" in the crate docs), which
        // would add up in a loop.
        self.reset_rsp();
        self.restore_reg_locals();
        // No reload of memory 0's base: see `load_membase`.
        self.stack.reset(base, super::wide_types(ty.results()));
        Ok(())
    }

    /// `return_call func`.
    pub fn return_call(&mut self, func: u32) -> Result<(), CompileError> {
        let module = self.env.module;
        let Some(defined) = func.checked_sub(module.num_imported_funcs) else {
            return self.return_call_import(func);
        };
        let ty = module.func_type(func).ok_or(CompileError::Limit("function type"))?;
        for &t in ty.params().iter().chain(ty.results()) {
            super::check_type(self.env, t, self.offset)?;
        }
        let label = *self
            .env
            .func_labels
            .get(defined as usize)
            .ok_or(CompileError::Limit("no such function"))?;
        self.flush();
        self.direct_call_event(func);
        self.tail_jump(ty.params().len(), super::area_units(ty));
        dynasm!(self.ops
            ; .arch x64
            ; mov rdi, r15
            ; mov rsi, r15
            ; jmp =>label
        );
        self.reachable = false;
        Ok(())
    }

    /// Replaces this function's frame by the callee's, up to the jump: the top `n`
    /// entries of the flushed value stack (the arguments) are copied into the
    /// callee's area of `area` units, whose top is the top of this function's own
    /// area (so the callee writes its results where this function's caller expects
    /// them: validation gives both the same results), the return address is put
    /// right below it and `rbp` restored. `rsp` ends on the return address, as on
    /// a call; the callee's prologue then runs as for any call.
    ///
    /// The area may be larger than this function's: its lowest units then cover
    /// the return address, the saved `rbp` and maybe the top of this frame, so
    /// both are read first, the arguments are copied highest unit first (their
    /// source, this frame's value stack, lies lower than any destination), and
    /// `rsp` is first lowered to the new return address when that is below it,
    /// checked against the stack limit ("call stack exhausted"), so that nothing
    /// live is ever below `rsp`.
    pub(super) fn tail_jump(&mut self, n: usize, area: u32) {
        debug_assert!(!self.stack.vmctx_lost, "r15 holds vmctx after a flush");
        let base = self.stack.len() - n;
        let below = self.stack.below(base);
        let units = self.stack.below(self.stack.len()) - below;
        let own = self.area as i32;
        // The callee's return address: `rsp` after the jump.
        let ret_at = 8 + 8 * (own - area as i32);
        dynasm!(self.ops
            ; .arch x64
            ; mov rcx, [rbp + 8]
            ; mov rdx, [rbp]
        );
        if area as i32 > own {
            let overflow = self.trap_label(TrapCode::StackOverflow);
            dynasm!(self.ops
                ; .arch x64
                ; lea rax, [rbp + ret_at - 8]
                ; mov r11, [r15 + o::VMCTX_STORE as i32]
                ; cmp rax, [r11 + o::STORE_STACK_LIMIT as i32]
                ; jb =>overflow
                ; add rax, 8
                ; cmp rsp, rax
                ; cmova rsp, rax
            );
        }
        let top = 16 + 8 * own;
        for j in 0..units {
            let src = self.stack.addr(below + j, false);
            let dst = top - 8 - 8 * j as i32;
            if src != dst {
                dynasm!(self.ops
                    ; .arch x64
                    ; mov rax, [rbp + src]
                    ; mov [rbp + dst], rax
                );
            }
        }
        dynasm!(self.ops
            ; .arch x64
            ; lea rsp, [rbp + ret_at]
            ; mov [rsp], rcx
            ; mov rbp, rdx
        );
    }
}
