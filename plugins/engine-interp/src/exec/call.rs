//! Calls and returns: frames, entering wasm functions, host calls, backtraces.

use vm_core::Composition;
use vm_core::runtime::{
    FrameInfo, FuncKind, HostFuncDef, InstanceData, Store, Trap, TrapCode, VMFuncRef,
    VMMemoryDefinition, Val,
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
    /// The caller's slot that also receives a single result (see [`Op::Call`]).
    pub ret: u32,
}

/// Delivers a wasm-call event. Out of line on purpose: the event lives in this
/// frame, so no address of a handler's stack escapes to observer code, which would
/// stop the compiler from turning the handler's final call into a jump.
///
/// # Safety
/// `plugins` points to the composition borrowed for the current run; `inst` is the
/// callee's live instance.
#[inline(never)]
unsafe fn wasm_call_event<C: Composition>(
    plugins: *const C,
    inst: *const InstanceData<C>,
    func: u32,
) {
    // SAFETY: the caller's contract.
    unsafe {
        let module = (*inst).module.info().id;
        (*plugins).emit(&Event::WasmCall { func, module })
    }
}

/// Calls host function `def` with the `params.len()` values from slot `base` on,
/// writing its results from `base` on (vm-core's [`Store::call_host`] marshals).
///
/// # Safety
/// `base` has the arguments and room for the results; `mem` is null or a live
/// memory definition; `store` is live and not otherwise borrowed.
pub unsafe fn host_call<C: Composition>(
    store: *mut Store<C>,
    def: &'static HostFuncDef,
    state: u32,
    mem: *mut VMMemoryDefinition,
    base: *mut u64,
) -> Result<(), Trap> {
    // SAFETY: the caller's contract; the memory slice and the host state are
    // distinct objects of the store, borrowed only for this call; the arguments are
    // read before the results are written.
    unsafe {
        let slots = |at: usize, n: usize| core::slice::from_raw_parts_mut(base.add(at), n);
        let (mut arg_at, mut result_at) = (0, 0);
        (*store).call_host(
            def,
            state,
            VMMemoryDefinition::host_view(mem),
            |store, ty| {
                let n = ty.slots64() as usize;
                let v = store.get_val64(slots(arg_at, n), 0, ty);
                arg_at += n;
                v
            },
            |store, v| {
                let n = if matches!(v, Val::V128(_)) { 2 } else { 1 };
                store.put_val64(slots(result_at, n), 0, v);
                result_at += n;
            },
        )
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
            self.vmctx = (*inst).vmctx_ptr();
            self.mem = (*self.vmctx).memory0;
            self.globals = (*self.vmctx).globals;
            self.refresh_mem();
        }
    }

    /// Enters wasm function `fc` of `inst` (code `code`), its frame at `new_fp`,
    /// suspending the caller at `ret_pc`, `fp`; returns the callee's
    /// [`Op::Enter`], which checks the frame against the stack. `None` when the
    /// call depth is exhausted (the trap is recorded).
    ///
    /// # Safety
    /// `new_fp` is inside the slot stack; `inst` is live and compiled to `code`.
    #[inline(always)]
    pub unsafe fn enter(
        &mut self,
        fc: FuncCode,
        inst: *const InstanceData<C>,
        code: *const ModuleCode,
        ret_pc: *const Instr,
        fp: *mut u64,
        ret: u32,
    ) -> Option<*const Instr> {
        // SAFETY: room for the frame record is reserved (checked here); `inst` per
        // the contract.
        unsafe {
            if !self.push_frame(ret_pc, fp, ret) {
                crate::exec::set_trap(self, TrapCode::StackOverflow);
                return None;
            }
            if inst != self.inst {
                self.switch(inst, code);
            }
            Some(self.instrs.add(fc.entry as usize))
        }
    }

    /// Suspends the running function at `ret_pc`, `fp`; false when the call depth
    /// is exhausted.
    ///
    /// # Safety
    /// `frames` has room for `max_depth` records (reserved before execution).
    #[inline(always)]
    unsafe fn push_frame(&mut self, ret_pc: *const Instr, fp: *mut u64, ret: u32) -> bool {
        let depth = self.frames.len();
        if depth >= self.max_depth {
            return false;
        }
        // SAFETY: `depth < max_depth`, and room for `max_depth` frames was reserved.
        unsafe {
            self.frames.as_mut_ptr().add(depth).write(Frame {
                ret_pc,
                fp,
                inst: self.inst.cast(),
                func: self.cur_func,
                ret,
            });
            self.frames.set_len(depth + 1);
        }
        true
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
        // SAFETY: the caller's contract; a funcref's `func` is its function's address
        // in the store, and a wasm function's `vmctx` is its instance's context.
        unsafe {
            let funcs = &(*self.store).funcs;
            match funcs.get_unchecked((*f).func as usize).kind {
                FuncKind::Wasm { index, .. } if !(*f).vmctx.is_null() => {
                    let callee: *const InstanceData<C> = InstanceData::from_vmctx((*f).vmctx);
                    let ccode = (*callee).module.code() as *const ModuleCode;
                    let funcs: &[FuncCode] = &(*ccode).funcs;
                    let fc = *funcs.get_unchecked((index - (*ccode).num_imported_funcs) as usize);
                    let ret = base.offset_from(fp) as u32;
                    match self.enter(fc, callee, ccode, ret_pc, fp, ret) {
                        Some(pc) => (pc, base),
                        None => (core::ptr::null(), fp),
                    }
                }
                FuncKind::Host { def, state } => {
                    self.host_calls += 1;
                    let r = host_call(self.store, def, state, self.mem, base);
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

/// Zeroes `n` slots from `p`, out of line so that calls stay cheap.
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
        if f.inst != $x.inst.cast() {
            return return_switch(f.ret_pc, f.fp, $mb, $ml, $x, f.inst);
        }
        next!(f.ret_pc, f.fp, $mb, $ml, $x);
    }};
}

/// Continues at `pc`, `fp` in the caller's instance `inst` after a return from
/// another instance: out of line, so that returns within an instance keep no
/// registers.
///
/// # Safety
/// As for a handler, with `inst` live and `pc` in its module's threaded code.
#[inline(never)]
unsafe fn return_switch<C: Composition<Engine = crate::Interp>>(
    pc: *const Instr,
    fp: *mut u64,
    mb: *mut u8,
    ml: u64,
    x: &mut Exec<C>,
    inst: *const u8,
) -> Status {
    let _ = (mb, ml);
    // SAFETY: the caller's contract.
    unsafe {
        let caller: *const InstanceData<C> = inst.cast();
        x.switch(caller, crate::exec::code_of(caller));
        next!(pc, fp, x.mem_base, x.mem_len, x)
    }
}

handler!(return0(pc, fp, mb, ml, x) {
    let _ = (pc, fp);
    ret!(pc, fp, mb, ml, x, 0)
});
handler!(return1(pc, fp, mb, ml, x) {
    operands!(pc, Op::Return1 { src });
    let v = *fp.add(src as usize);
    *fp = v;
    let Some(f) = x.frames.pop() else {
        return 1;
    };
    // The caller's `ret` slot: where its `Call` left it (`base`, just written) or
    // the local it sets the result to.
    *f.fp.add(f.ret as usize) = v;
    x.cur_func = f.func;
    if f.inst != x.inst.cast() {
        return return_switch(f.ret_pc, f.fp, mb, ml, x, f.inst);
    }
    next!(f.ret_pc, f.fp, mb, ml, x)
});
handler!(return_n(pc, fp, mb, ml, x) {
    operands!(pc, Op::ReturnN { base, n });
    for k in 0..n as usize {
        *fp.add(k) = *fp.add(base as usize + k);
    }
    ret!(pc, fp, mb, ml, x, n)
});
handler!(call(pc, fp, mb, ml, x) {
    operands!(pc, Op::Call { ret, .. });
    if !x.push_frame(pc.add(1), fp, ret) {
        return trap!(x, TrapCode::StackOverflow);
    }
    // Read after the frame record is written: fewer registers live across it.
    operands!(pc, Op::Call { base, entry, .. });
    next!(x.instrs.add(entry as usize), fp.add(base as usize), mb, ml, x)
});

handler!(call_copy(pc, fp, mb, ml, x) {
    {
        operands!(pc, Op::CallCopy { dst, src, .. });
        *fp.add(dst as usize) = *fp.add(src as usize);
    }
    operands!(pc, Op::CallCopy { base, .. });
    if !x.push_frame(pc.add(1), fp, base) {
        return trap!(x, TrapCode::StackOverflow);
    }
    operands!(pc, Op::CallCopy { base, entry, .. });
    next!(x.instrs.add(entry as usize), fp.add(base as usize), mb, ml, x)
});

/// A function's entry when its frame does not fit the stack: the call is undone
/// (so the backtrace ends at the caller) and "call stack exhausted" recorded.
#[cold]
#[inline(never)]
unsafe fn enter_overflow<C: Composition<Engine = crate::Interp>>(x: &mut Exec<C>) -> Status {
    // SAFETY: frame records hold live instances of this run.
    unsafe {
        if let Some(f) = x.frames.pop() {
            let caller: *const InstanceData<C> = f.inst.cast();
            if caller != x.inst {
                x.switch(caller, crate::exec::code_of(caller));
            }
        }
    }
    crate::exec::set_trap(x, TrapCode::StackOverflow)
}

/// Defines an [`Op::Enter`] handler that zeroes the `$n` locals from `$p` with
/// `$zero` (unrolled for a few).
macro_rules! enter {
    ($name:ident, |$p:ident, $n:ident| $zero:block) => {
        handler!($name(pc, fp, mb, ml, x) {
            operands!(pc, Op::Enter { frame, func, zero_at, zeros });
            // `fp` is inside the stack: compare without leaving it.
            if (x.stack_end.offset_from(fp) as usize) < frame as usize {
                return enter_overflow(x);
            }
            x.cur_func = func;
            let ($p, $n) = (fp.add(zero_at as usize), zeros as usize);
            let _ = ($p, $n);
            $zero
            // Compiled out unless a composed observer subscribes to wasm calls; not
            // for the call from the host.
            if C::EVENTS.contains(EventKind::WasmCall) && !x.frames.is_empty() {
                wasm_call_event(x.plugins, x.inst, func);
            }
            next!(pc.add(1), fp, mb, ml, x)
        });
    };
}
enter!(enter0, |p, n| {});
enter!(enter1, |p, n| { *p = 0 });
enter!(enter2, |p, n| {
    *p = 0;
    *p.add(1) = 0;
});
enter!(enter3, |p, n| {
    *p = 0;
    *p.add(1) = 0;
    *p.add(2) = 0;
});
enter!(enter4, |p, n| {
    *p = 0;
    *p.add(1) = 0;
    *p.add(2) = 0;
    *p.add(3) = 0;
});
enter!(enter_n, |p, n| { zero_long(p, n) });

/// The [`Op::Consts`] handlers: `$n` constants copied one by one, or any number.
macro_rules! consts {
    ($name:ident, $n:expr) => {
        handler!($name(pc, fp, mb, ml, x) {
            operands!(pc, Op::Consts { at, start, len });
            let src = (*x.code).consts.as_ptr().add(start as usize);
            let dst = fp.add(at as usize);
            let n: Option<usize> = $n;
            match n {
                Some(n) => {
                    for k in 0..n {
                        *dst.add(k) = *src.add(k);
                    }
                }
                None => core::ptr::copy_nonoverlapping(src, dst, len as usize),
            }
            next!(pc.add(1), fp, mb, ml, x)
        });
    };
}
consts!(consts1, Some(1));
consts!(consts2, Some(2));
consts!(consts3, Some(3));
consts!(consts4, Some(4));
consts!(consts_n, None);
handler!(call_import(pc, fp, mb, ml, x) {
    let _ = (mb, ml);
    operands!(pc, Op::CallImport { func, base });
    let f = *(*x.vmctx).funcs.add(func as usize);
    let new_fp = fp.add(base as usize);
    let (to, fp) = x.call_ref(f, new_fp, pc.add(1), fp);
    if to.is_null() {
        return crate::exec::exn::call_failed(pc, fp, x);
    }
    next!(to, fp, x.mem_base, x.mem_len, x)
});
/// Whether signature `have` matches `want` by subtyping (the ids differ).
///
/// # Safety
/// `store` is live.
#[cold]
#[inline(never)]
unsafe fn sig_matches<C: Composition>(store: *const Store<C>, have: u32, want: u32) -> bool {
    // SAFETY: the caller's contract.
    unsafe { (*store).sigs.matches(have, want) }
}

/// The callee of `call_indirect`/`return_call_indirect` at `pc` (type `ty`, table
/// element at slot `index`, the table in the `Arg` after it, else table 0): the
/// element's funcref, or the trap for an index out of bounds, a null element or a
/// signature mismatch.
#[inline(always)]
unsafe fn indirect_callee<C: Composition<Engine = crate::Interp>>(
    pc: *const Instr,
    fp: *mut u64,
    x: &Exec<C>,
    ty: u32,
    index: u32,
) -> Result<*const VMFuncRef, TrapCode> {
    // SAFETY: the verified code's operands and the instance's runtime data, as for
    // every handler.
    unsafe {
        let table = match (*pc.add(1)).op {
            Op::Arg(t) => t,
            _ => 0,
        };
        let t = *(*x.vmctx).tables.add(table as usize);
        let raw = (*t).get(*fp.add(index as usize) as u32)?;
        if raw == 0 {
            return Err(TrapCode::IndirectCallToNull);
        }
        let f = raw as *const VMFuncRef;
        let want = *(*x.vmctx).sigs.add(ty as usize);
        if (*f).sig != want && !sig_matches(x.store, (*f).sig, want) {
            return Err(TrapCode::BadSignature);
        }
        Ok(f)
    }
}

handler!(call_indirect(pc, fp, mb, ml, x) {
    let _ = (mb, ml);
    operands!(pc, Op::CallIndirect { ty, index, base });
    let f = match indirect_callee(pc, fp, x, ty, index) {
        Ok(f) => f,
        Err(code) => return trap!(x, code),
    };
    let new_fp = fp.add(base as usize);
    let after = pc.add(2);
    let (to, fp) = x.call_ref(f, new_fp, after, fp);
    if to.is_null() {
        return crate::exec::exn::call_failed(pc, fp, x);
    }
    next!(to, fp, x.mem_base, x.mem_len, x)
});

impl<C: Composition<Engine = crate::Interp>> Exec<C> {
    /// The tail call of the function behind funcref `f` with its `n` argument slots
    /// from `base`: a wasm callee runs in this frame (`fp`), the arguments moved to
    /// its start and no frame record pushed, so a chain of tail calls runs in
    /// constant stack space; a host function is called with its results written
    /// from `base`, and the code continues at `after` (the return of those
    /// results). Returns where to continue, a null `pc` on a trap (recorded).
    ///
    /// # Safety
    /// As for [`Exec::call_ref`], with `base + n` inside the running frame.
    #[inline(never)]
    pub unsafe fn tail_call_ref(
        &mut self,
        f: *const VMFuncRef,
        base: *mut u64,
        n: u32,
        after: *const Instr,
        fp: *mut u64,
    ) -> *const Instr {
        // SAFETY: the caller's contract; as in `call_ref`.
        unsafe {
            let funcs = &(*self.store).funcs;
            match funcs.get_unchecked((*f).func as usize).kind {
                FuncKind::Wasm { index, .. } if !(*f).vmctx.is_null() => {
                    let callee: *const InstanceData<C> = InstanceData::from_vmctx((*f).vmctx);
                    let ccode = (*callee).module.code() as *const ModuleCode;
                    let funcs: &[FuncCode] = &(*ccode).funcs;
                    let fc = *funcs.get_unchecked((index - (*ccode).num_imported_funcs) as usize);
                    core::ptr::copy(base, fp, n as usize);
                    if callee != self.inst {
                        self.switch(callee, ccode);
                    }
                    self.instrs.add(fc.entry as usize)
                }
                FuncKind::Host { def, state } => {
                    self.host_calls += 1;
                    let r = host_call(self.store, def, state, self.mem, base);
                    self.refresh_mem();
                    match r {
                        Ok(()) => after,
                        Err(t) => {
                            self.trap = Some(t);
                            core::ptr::null()
                        }
                    }
                }
                FuncKind::Wasm { .. } => {
                    self.trap = Some(Trap::host("funcref without instance"));
                    core::ptr::null()
                }
            }
        }
    }
}

handler!(return_call(pc, fp, mb, ml, x) {
    operands!(pc, Op::ReturnCall { entry, base, n });
    // The callee's frame replaces this one: arguments to its start (the ranges may
    // overlap), the caller's frame record stays for the callee's return.
    core::ptr::copy(fp.add(base as usize), fp, n as usize);
    next!(x.instrs.add(entry as usize), fp, mb, ml, x)
});
handler!(return_call_import(pc, fp, mb, ml, x) {
    let _ = (mb, ml);
    operands!(pc, Op::ReturnCallImport { func, base, n });
    let f = *(*x.vmctx).funcs.add(func as usize);
    let to = x.tail_call_ref(f, fp.add(base as usize), n, pc.add(1), fp);
    if to.is_null() {
        return crate::exec::exn::tail_call_failed(x);
    }
    next!(to, fp, x.mem_base, x.mem_len, x)
});
handler!(return_call_indirect(pc, fp, mb, ml, x) {
    let _ = (mb, ml);
    operands!(pc, Op::ReturnCallIndirect { ty, index, base, n });
    let f = match indirect_callee(pc, fp, x, ty, index) {
        Ok(f) => f,
        Err(code) => return trap!(x, code),
    };
    let to = x.tail_call_ref(f, fp.add(base as usize), n, pc.add(2), fp);
    if to.is_null() {
        return crate::exec::exn::tail_call_failed(x);
    }
    next!(to, fp, x.mem_base, x.mem_len, x)
});
handler!(call_ref(pc, fp, mb, ml, x) {
    let _ = (mb, ml);
    operands!(pc, Op::CallRef { index, base, .. });
    let raw = *fp.add(index as usize);
    if raw == 0 {
        return trap!(x, TrapCode::NullFunctionReference);
    }
    let (to, fp) = x.call_ref(raw as *const VMFuncRef, fp.add(base as usize), pc.add(1), fp);
    if to.is_null() {
        return crate::exec::exn::call_failed(pc, fp, x);
    }
    next!(to, fp, x.mem_base, x.mem_len, x)
});
handler!(return_call_ref(pc, fp, mb, ml, x) {
    let _ = (mb, ml);
    operands!(pc, Op::ReturnCallRef { index, base, n, .. });
    let raw = *fp.add(index as usize);
    if raw == 0 {
        return trap!(x, TrapCode::NullFunctionReference);
    }
    let to = x.tail_call_ref(raw as *const VMFuncRef, fp.add(base as usize), n, pc.add(1), fp);
    if to.is_null() {
        return crate::exec::exn::tail_call_failed(x);
    }
    next!(to, fp, x.mem_base, x.mem_len, x)
});
