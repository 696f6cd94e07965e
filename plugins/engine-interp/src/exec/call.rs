//! Calls: frames, host calls and backtraces.

use vm_core::Composition;
use vm_core::runtime::{
    Caller, FrameInfo, FuncKind, FuncSlot, HostFuncDef, InstanceData, Store, Trap, TrapCode,
    VMFuncRef, VMGlobal, VMMemoryDefinition, Val,
};

use crate::code::{FuncCode, ModuleCode, Op};

/// A suspended caller.
#[derive(Clone, Copy, Debug)]
pub struct Frame {
    /// Where to continue.
    pub ret_pc: *const Op,
    /// The caller's frame pointer.
    pub fp: *mut u64,
    /// The caller's instance (`*const InstanceData<C>`).
    pub inst: *const u8,
    /// The caller's module code.
    pub code: *const ModuleCode,
    /// The caller's module function index.
    pub func: u32,
}

/// Calls host function `def` with the `params.len()` values from slot `base` on,
/// writing its results from `base` on.
///
/// # Safety
/// `base` has the arguments and room for the results; `mem` is null or a live
/// memory definition; `store.host_states[state]` exists.
#[allow(clippy::too_many_arguments)]
pub unsafe fn host_call<C: Composition>(
    store: *mut Store<C>,
    def: &'static HostFuncDef,
    state: u32,
    mem: *mut VMMemoryDefinition,
    base: *mut u64,
    args: &mut Vec<Val>,
    results: &mut Vec<Val>,
) -> Result<(), Trap> {
    // SAFETY: the caller's contract; the memory slice and the host state are
    // distinct objects of the store, borrowed only for this call.
    unsafe {
        args.clear();
        for (i, &ty) in def.params.iter().enumerate() {
            args.push((*store).raw_to_val(*base.add(i), ty));
        }
        results.clear();
        results.extend(def.results.iter().map(|&t| Val::default_for(t)));
        let memory = if mem.is_null() || (*mem).length == 0 {
            None
        } else {
            Some(core::slice::from_raw_parts_mut((*mem).base, (*mem).length))
        };
        let st = (*store).host_state_mut(state).ok_or_else(|| Trap::host("missing host state"))?;
        let mut caller = Caller::new(memory, st);
        (def.call)(&mut caller, args, results)?;
        for (i, v) in results.iter().enumerate() {
            *base.add(i) = (*store).val_to_raw(*v);
        }
        Ok(())
    }
}

/// Builds the wasm backtrace, innermost first.
///
/// # Safety
/// Every instance pointer is a live `InstanceData<C>`.
pub unsafe fn backtrace<C: Composition>(cur: (*const u8, u32), frames: &[Frame]) -> Vec<FrameInfo> {
    let info = |(inst, func): (*const u8, u32)| {
        // SAFETY: the caller guarantees the instance is live.
        let inst = unsafe { &*inst.cast::<InstanceData<C>>() };
        FrameInfo {
            func_index: func,
            func_name: inst.module.info().func_name(func).map(str::to_owned),
            offset: None,
        }
    };
    std::iter::once(info(cur)).chain(frames.iter().rev().map(|f| info((f.inst, f.func)))).collect()
}

/// The execution state that is not needed by every instruction: kept in memory,
/// behind one pointer, so the dispatch loop keeps `pc`, `fp` and the memory view
/// in registers. Calls and returns go through its (non-inlined) methods.
pub struct Exec<'a, C: Composition> {
    /// The store being run.
    pub store: *mut Store<C>,
    /// Suspended callers.
    pub frames: &'a mut Vec<Frame>,
    /// Deepest call stack.
    pub max_depth: usize,
    /// Host calls made.
    pub host_calls: u64,
    /// Host call argument buffer.
    pub args: &'a mut Vec<Val>,
    /// Host call result buffer.
    pub results: &'a mut Vec<Val>,
    /// End of the slot stack.
    pub stack_end: *mut u64,
    /// The running function's instance.
    pub inst: *const InstanceData<C>,
    /// Its module's code.
    pub code: *const ModuleCode,
    /// Its module's first instruction.
    pub ops: *const Op,
    /// Its memory 0, or null.
    pub mem: *mut VMMemoryDefinition,
    /// Base of memory 0 (when `mem` is not null).
    pub mem_base: *mut u8,
    /// Length of memory 0 in bytes (0 without a memory).
    pub mem_len: u64,
    /// Its globals.
    pub globals: *const *mut VMGlobal,
    /// The running function's module index (for backtraces).
    pub cur_func: u32,
}

/// Where execution continues after a call or a return: `pc` and `fp`.
pub type Resume = (*const Op, *mut u64);

impl<C: Composition<Engine = crate::Interp>> Exec<'_, C> {
    /// Re-reads the memory view (after `memory.grow` or a host call).
    ///
    /// # Safety
    /// `self.mem` is null or live.
    #[inline(always)]
    pub unsafe fn refresh_mem(&mut self) {
        if self.mem.is_null() {
            self.mem_base = core::ptr::null_mut();
            self.mem_len = 0;
        } else {
            // SAFETY: the caller's contract.
            unsafe {
                self.mem_base = (*self.mem).base;
                self.mem_len = (*self.mem).length as u64;
            }
        }
    }

    /// Switches to instance `inst` with code `code`.
    ///
    /// # Safety
    /// `inst` is live and its module was compiled to `code`.
    #[inline(always)]
    pub unsafe fn switch(&mut self, inst: *const InstanceData<C>, code: *const ModuleCode) {
        // SAFETY: the caller's contract.
        unsafe {
            self.inst = inst;
            self.code = code;
            self.ops = (*code).ops.as_ptr();
            self.mem = (*inst).vmctx.memory0;
            self.globals = (*inst).vmctx.globals;
            self.refresh_mem();
        }
    }

    /// Enters wasm function `fc` of `inst` (code `code`), its frame at `new_fp`,
    /// suspending the caller at `ret_pc`, `fp`.
    ///
    /// # Errors
    /// Call stack exhausted (depth or slots).
    ///
    /// # Safety
    /// `new_fp` is inside the slot stack; `inst` is live and compiled to `code`.
    #[inline(always)]
    pub unsafe fn enter(
        &mut self,
        fc: FuncCode,
        new_fp: *mut u64,
        inst: *const InstanceData<C>,
        code: *const ModuleCode,
        ret_pc: *const Op,
        fp: *mut u64,
    ) -> Result<Resume, Trap> {
        // SAFETY: the frame fits the stack (checked below); `inst` per the contract.
        unsafe {
            if self.frames.len() >= self.max_depth
                || (self.stack_end.offset_from(new_fp) as usize) < fc.frame as usize
            {
                return Err(Trap::new(TrapCode::StackOverflow));
            }
            self.frames.push(Frame {
                ret_pc,
                fp,
                inst: self.inst.cast(),
                code: self.code,
                func: self.cur_func,
            });
            zero(new_fp.add(fc.params as usize), fc.locals as usize);
            if inst != self.inst {
                self.switch(inst, code);
            }
            self.cur_func = fc.index;
            Ok((self.ops.add(fc.entry as usize), new_fp))
        }
    }

    /// Returns to the innermost suspended caller, or `None` at the outermost frame.
    ///
    /// # Safety
    /// Every frame's instance is live.
    #[inline(always)]
    pub unsafe fn ret(&mut self) -> Option<Resume> {
        let f = self.frames.pop()?;
        self.cur_func = f.func;
        let caller: *const InstanceData<C> = f.inst.cast();
        if caller != self.inst {
            // SAFETY: the caller's contract.
            unsafe { self.switch(caller, f.code) };
        }
        Some((f.ret_pc, f.fp))
    }

    /// Calls the function behind funcref `f` with its arguments from `base`.
    ///
    /// # Errors
    /// A trap of the callee (host) or call stack exhaustion.
    ///
    /// # Safety
    /// `f` is a live funcref; `base` has room for the callee's frame (checked for
    /// wasm callees) or for the host function's parameters and results.
    #[inline(never)]
    pub unsafe fn call_ref(
        &mut self,
        f: *const VMFuncRef,
        base: *mut u64,
        ret_pc: *const Op,
        fp: *mut u64,
    ) -> Result<Resume, Trap> {
        // SAFETY: the caller's contract; funcrefs are the `vm` field of a `FuncSlot`.
        unsafe {
            let callee = (*f).vmctx as *const InstanceData<C>;
            match (*f.cast::<FuncSlot>()).kind {
                FuncKind::Wasm { index, .. } if !callee.is_null() => {
                    let ccode = (*callee).module.code() as *const ModuleCode;
                    let fc = *(&(*ccode).funcs)
                        .get_unchecked((index - (*ccode).num_imported_funcs) as usize);
                    self.enter(fc, base, callee, ccode, ret_pc, fp)
                }
                FuncKind::Host { def, state } => {
                    self.host_calls += 1;
                    host_call(self.store, def, state, self.mem, base, self.args, self.results)?;
                    self.refresh_mem();
                    Ok((ret_pc, fp))
                }
                FuncKind::Wasm { .. } => Err(Trap::host("funcref without instance")),
            }
        }
    }
}

/// Zeroes `n` slots from `p`; short runs without a `memset` call.
///
/// # Safety
/// `p..p + n` is writable.
#[inline(always)]
unsafe fn zero(p: *mut u64, n: usize) {
    // SAFETY: the caller's contract.
    unsafe {
        match n {
            0 => {}
            1 => *p = 0,
            2 => {
                *p = 0;
                *p.add(1) = 0;
            }
            3 => {
                *p = 0;
                *p.add(1) = 0;
                *p.add(2) = 0;
            }
            _ => core::ptr::write_bytes(p, 0, n),
        }
    }
}
