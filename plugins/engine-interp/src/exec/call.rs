//! Calls and returns: frames, entering wasm functions, host calls, backtraces.

use vm_core::Composition;
use vm_core::runtime::{
    Caller, FrameInfo, FuncKind, FuncSlot, HostFuncDef, InstanceData, Store, Trap, TrapCode,
    VMFuncRef, VMMemoryDefinition, Val,
};
use vm_core::slot::{Event, EventKind};

use crate::code::{FuncCode, ModuleCode, Op};
use crate::exec::{Exec, Instr, Status, handler, next, operands, threaded, trap};

/// A suspended caller.
#[derive(Clone, Copy, Debug)]
pub struct Frame {
    /// Where to continue.
    pub ret_pc: *const Instr,
    /// The caller's frame pointer.
    pub fp: *mut u64,
    /// The caller's instance (`*const InstanceData<C>`; its module code is found
    /// from it on the rare return to another instance).
    pub inst: *const u8,
    /// The caller's module function index.
    pub func: u32,
}

/// Delivers a wasm-call event. Out of line on purpose: the event lives in this
/// frame, so no address of a handler's stack escapes to observer code, which would
/// stop the compiler from turning the handler's final call into a jump.
///
/// # Safety
/// `plugins` points to the composition borrowed for the current run.
#[inline(never)]
unsafe fn wasm_call_event<C: Composition>(plugins: *const C, func: u32) {
    // SAFETY: the caller's contract.
    unsafe { (*plugins).emit(&Event::WasmCall { func }) }
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

impl<C: Composition<Engine = crate::Interp>> Exec<C> {
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
    #[inline(never)]
    pub unsafe fn switch(&mut self, inst: *const InstanceData<C>, code: *const ModuleCode) {
        // SAFETY: the caller's contract.
        unsafe {
            self.inst = inst;
            self.code = code;
            self.instrs = threaded::<C>(&*code);
            self.mem = (*inst).vmctx.memory0;
            self.globals = (*inst).vmctx.globals;
            self.refresh_mem();
        }
    }

    /// Enters wasm function `fc` of `inst` (code `code`), its frame at `new_fp`,
    /// suspending the caller at `ret_pc`, `fp`. `None` when the call stack is
    /// exhausted (the trap is recorded).
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
        ret_pc: *const Instr,
        fp: *mut u64,
    ) -> Option<*const Instr> {
        // SAFETY: the frame fits the stack (checked here); `inst` per the contract;
        // `plugins` is borrowed by `call` for the whole run.
        unsafe {
            if self.frames.len() >= self.max_depth
                || (self.stack_end.offset_from(new_fp) as usize) < fc.frame as usize
            {
                crate::exec::set_trap(self, TrapCode::StackOverflow);
                return None;
            }
            // Room for `max_depth` frames was reserved before execution started.
            let depth = self.frames.len();
            self.frames.as_mut_ptr().add(depth).write(Frame {
                ret_pc,
                fp,
                inst: self.inst.cast(),
                func: self.cur_func,
            });
            self.frames.set_len(depth + 1);
            zero(new_fp.add(fc.params as usize), fc.locals as usize);
            if fc.consts_len != 0 {
                load_consts(&*code, &fc, new_fp);
            }
            if inst != self.inst {
                self.switch(inst, code);
            }
            self.cur_func = fc.index;
            // Compiled out unless a composed observer subscribes to wasm calls.
            if C::EVENTS.contains(EventKind::WasmCall) {
                wasm_call_event(self.plugins, fc.index);
            }
            Some(self.instrs.add(fc.entry as usize))
        }
    }

    /// Calls the function behind funcref `f` with its arguments from `base`;
    /// returns where to continue (`pc`, `fp`), a null `pc` on a trap (recorded).
    /// Returned in registers, so that handlers can still tail-call.
    ///
    /// # Safety
    /// `f` is a live funcref; `base` has room for the callee's frame (checked for
    /// wasm callees) or for the host function's parameters and results.
    #[inline(never)]
    pub unsafe fn call_ref(
        &mut self,
        f: *const VMFuncRef,
        base: *mut u64,
        ret_pc: *const Instr,
        fp: *mut u64,
    ) -> (*const Instr, *mut u64) {
        // SAFETY: the caller's contract; funcrefs are the `vm` field of a `FuncSlot`.
        unsafe {
            let callee = (*f).vmctx as *const InstanceData<C>;
            match (*f.cast::<FuncSlot>()).kind {
                FuncKind::Wasm { index, .. } if !callee.is_null() => {
                    let ccode = (*callee).module.code() as *const ModuleCode;
                    let funcs: &[FuncCode] = &(*ccode).funcs;
                    let fc = *funcs.get_unchecked((index - (*ccode).num_imported_funcs) as usize);
                    match self.enter(fc, base, callee, ccode, ret_pc, fp) {
                        Some(pc) => (pc, base),
                        None => (core::ptr::null(), fp),
                    }
                }
                FuncKind::Host { def, state } => {
                    self.host_calls += 1;
                    let r = host_call(
                        self.store,
                        def,
                        state,
                        self.mem,
                        base,
                        &mut self.args,
                        &mut self.results,
                    );
                    self.refresh_mem();
                    match r {
                        Ok(()) => (ret_pc, fp),
                        Err(t) => {
                            self.trap = Some(t);
                            (core::ptr::null(), fp)
                        }
                    }
                }
                FuncKind::Wasm { .. } => {
                    self.trap = Some(Trap::host("funcref without instance"));
                    (core::ptr::null(), fp)
                }
            }
        }
    }
}

/// Copies `fc`'s constants into its frame at `fp`.
///
/// # Safety
/// `fp` has `fc.frame` slots; `fc` belongs to `code`.
#[inline(always)]
pub unsafe fn load_consts(code: &ModuleCode, fc: &FuncCode, fp: *mut u64) {
    // SAFETY: the caller's contract; the translator keeps pool ranges in bounds.
    unsafe {
        let src = code.consts.as_ptr().add(fc.consts_start as usize);
        let dst = fp.add(fc.consts_at as usize);
        for k in 0..fc.consts_len as usize {
            *dst.add(k) = *src.add(k);
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
            _ => zero_long(p, n),
        }
    }
}

/// [`zero`] for longer runs, out of line so that calls stay cheap.
///
/// # Safety
/// `p..p + n` is writable.
#[cold]
#[inline(never)]
unsafe fn zero_long(p: *mut u64, n: usize) {
    // SAFETY: the caller's contract.
    unsafe { core::ptr::write_bytes(p, 0, n) }
}

// Returns the results and continues in the caller (or finishes with them).
macro_rules! ret {
    ($pc:ident, $fp:ident, $mb:ident, $ml:ident, $x:ident, $n:expr) => {{
        let Some(f) = $x.frames.pop() else {
            return $n as Status;
        };
        $x.cur_func = f.func;
        let caller: *const InstanceData<C> = f.inst.cast();
        let (mb, ml) = if caller != $x.inst {
            $x.switch(caller, crate::exec::code_of(caller));
            ($x.mem_base, $x.mem_len)
        } else {
            ($mb, $ml)
        };
        next!(f.ret_pc, f.fp, mb, ml, $x);
    }};
}

handler!(return0(pc, fp, mb, ml, x) {
    let _ = (pc, fp);
    ret!(pc, fp, mb, ml, x, 0)
});
handler!(return1(pc, fp, mb, ml, x) {
    operands!(pc, Op::Return1 { src });
    *fp = *fp.add(src as usize);
    ret!(pc, fp, mb, ml, x, 1)
});
handler!(return_n(pc, fp, mb, ml, x) {
    operands!(pc, Op::ReturnN { base, n });
    for k in 0..n as usize {
        *fp.add(k) = *fp.add(base as usize + k);
    }
    ret!(pc, fp, mb, ml, x, n)
});
handler!(call(pc, fp, mb, ml, x) {
    operands!(pc, Op::Call { func, base });
    let funcs: &[FuncCode] = &(*x.code).funcs;
    let fc = *funcs.get_unchecked(func as usize);
    let new_fp = fp.add(base as usize);
    match x.enter(fc, new_fp, x.inst, x.code, pc.add(1), fp) {
        Some(to) => next!(to, new_fp, mb, ml, x),
        None => return trap!(x),
    }
});
handler!(call_import(pc, fp, mb, ml, x) {
    let _ = (mb, ml);
    operands!(pc, Op::CallImport { func, base });
    let f = *(*x.inst).vmctx.funcs.add(func as usize);
    let new_fp = fp.add(base as usize);
    let (to, fp) = x.call_ref(f, new_fp, pc.add(1), fp);
    if to.is_null() {
        return trap!(x);
    }
    next!(to, fp, x.mem_base, x.mem_len, x)
});
handler!(call_indirect(pc, fp, mb, ml, x) {
    let _ = (mb, ml);
    operands!(pc, Op::CallIndirect { ty, index, base });
    let table = match (*pc.add(1)).op {
        Op::Arg(t) => t,
        _ => 0,
    };
    let t = *(*x.inst).vmctx.tables.add(table as usize);
    let raw = match crate::exec::table::get(t, *fp.add(index as usize)) {
        Ok(r) => r,
        Err(code) => return trap!(x, code),
    };
    if raw == 0 {
        return trap!(x, TrapCode::IndirectCallToNull);
    }
    let f = raw as *const VMFuncRef;
    if (*f).sig != *(*x.inst).vmctx.sigs.add(ty as usize) {
        return trap!(x, TrapCode::BadSignature);
    }
    let new_fp = fp.add(base as usize);
    let after = pc.add(2);
    let (to, fp) = x.call_ref(f, new_fp, after, fp);
    if to.is_null() {
        return trap!(x);
    }
    next!(to, fp, x.mem_base, x.mem_len, x)
});
