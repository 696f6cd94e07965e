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
        let wide: Vec<bool> =
            ty.results().iter().map(|&t| t == vm_core::runtime::ValType::V128).collect();
        let label = *self
            .env
            .func_labels
            .get(defined as usize)
            .ok_or(CompileError::Limit("no such function"))?;
        for &t in ty.params().iter().chain(ty.results()) {
            super::check_type(self.env, t, self.offset)?;
        }
        self.flush();
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
        if area > 0 {
            self.reset_rsp();
        }
        self.restore_reg_locals();
        // No reload of memory 0's base: see `load_membase`.
        self.stack.reset(base, &wide);
        Ok(())
    }
}
