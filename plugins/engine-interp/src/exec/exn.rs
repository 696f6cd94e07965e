//! Exception handling: `throw`, `throw_ref`, and the landing pads of `try_table`
//! catch clauses.
//!
//! Nothing runs for a `try_table` on the path that does not throw: its catch
//! clauses are a table of the module ([`ModuleCode::catches`], instruction ranges
//! to landing pads). A throw creates the exception in the store (vm-core's
//! [`Store::new_exception`](vm_core::runtime::Store::new_exception)), then
//! [`unwind`] looks for a clause covering the throwing instruction; without one it
//! pops the frame and looks again at the caller's call instruction, switching
//! instances as returns do. A clause that matches continues at its landing pad
//! ([`Op::Caught`]) in that frame, which copies the payload (and the `exnref`)
//! from [`Exec::caught`] to where the clause's label expects them. An exception
//! that no frame catches ends the run as the trap [`TrapCode::Exception`], which
//! the embedding API reports as an uncaught exception. A host function's
//! exception (its call returned that trap) unwinds from the call instruction.

use vm_core::Composition;
use vm_core::runtime::{InstanceData, Trap, TrapCode};

use crate::code::{CATCH_ALL, ModuleCode, Op};
use crate::exec::{Exec, Instr, Status, TRAP, handler, next, operands, trap};

/// Creates an exception of the running instance's tag `tag` with the payload in
/// the slots from `base`; returns its raw `exnref`.
///
/// # Safety
/// As for a handler: `tag` is a tag of the running instance (the verifier checks
/// it) and the payload's slots are inside the frame.
#[inline(never)]
unsafe fn new_exception<C: Composition<Engine = crate::Interp>>(
    x: &mut Exec<C>,
    tag: u32,
    base: *const u64,
) -> u32 {
    // SAFETY: the caller's contract; instance and store are live for the run.
    unsafe {
        let store = &mut *x.store;
        let inst: &InstanceData<C> = &*x.inst;
        let addr = inst.tag_addrs.get(tag as usize).copied().unwrap_or(0);
        let n = store
            .tags
            .get(addr as usize)
            .map_or(0, |t| t.ty.params().iter().map(|p| p.slots64() as usize).sum::<usize>());
        store.new_exception(addr, core::slice::from_raw_parts(base, n))
    }
}

/// The landing pad of the first catch clause of the running function's module
/// that covers instruction `at` and matches exception `exn`.
///
/// # Safety
/// `x`'s instance, code and store are live.
unsafe fn handler_for<C: Composition<Engine = crate::Interp>>(
    x: &Exec<C>,
    at: u32,
    exn: u32,
) -> Option<u32> {
    // SAFETY: the caller's contract.
    unsafe {
        let code: &ModuleCode = &*x.code;
        let inst: &InstanceData<C> = &*x.inst;
        let tag = (*x.store).exception(exn).map(|e| e.tag);
        code.catches
            .iter()
            .find(|c| {
                c.start <= at
                    && at < c.end
                    && (c.tag == CATCH_ALL || inst.tag_addrs.get(c.tag as usize).copied() == tag)
            })
            .map(|c| c.landing)
    }
}

/// Unwinds exception `exn` thrown at `pc` (a throw, or a call whose callee threw)
/// in the frame at `fp`: continues at the landing pad of the innermost handler, or
/// ends the run with [`TrapCode::Exception`].
///
/// # Safety
/// As for a handler; `pc` is an instruction of the running function.
#[cold]
#[inline(never)]
pub(crate) unsafe fn unwind<C: Composition<Engine = crate::Interp>>(
    mut pc: *const Instr,
    mut fp: *mut u64,
    x: &mut Exec<C>,
    exn: u32,
) -> Status {
    // SAFETY: the caller's contract; frame records hold live instances of this run
    // and return addresses just after their call instruction.
    unsafe {
        loop {
            let at = pc.offset_from(x.instrs) as u32;
            if let Some(landing) = handler_for(x, at, exn) {
                x.caught = exn;
                next!(x.instrs.add(landing as usize), fp, x.mem_base, x.mem_len, x);
            }
            let Some(f) = x.frames.pop() else {
                x.trap = Some(Trap::new(TrapCode::Exception(exn)));
                return TRAP;
            };
            x.cur_func = f.func;
            if f.inst != x.inst.cast() {
                let caller: *const InstanceData<C> = f.inst.cast();
                x.switch(caller, crate::exec::code_of(caller));
            }
            pc = f.ret_pc.sub(1);
            fp = f.fp;
        }
    }
}

/// After a call at `pc` failed (a null continuation from [`Exec::call_ref`]):
/// unwinds when the host function threw, else ends with its trap.
///
/// # Safety
/// As for a handler.
#[cold]
#[inline(never)]
pub(crate) unsafe fn call_failed<C: Composition<Engine = crate::Interp>>(
    pc: *const Instr,
    fp: *mut u64,
    x: &mut Exec<C>,
) -> Status {
    if let Some(Trap { code: TrapCode::Exception(exn), .. }) = x.trap {
        x.trap = None;
        // SAFETY: the caller's contract.
        return unsafe { unwind(pc, fp, x, exn) };
    }
    TRAP
}

/// After a tail call's host callee failed (a null continuation from
/// [`Exec::tail_call_ref`]): when it threw, unwinds from the caller of the
/// tail-calling function, whose frame the tail call replaced (its handlers do not
/// cover the callee, as for a wasm callee), else ends with its trap.
///
/// # Safety
/// As for a handler.
#[cold]
#[inline(never)]
pub(crate) unsafe fn tail_call_failed<C: Composition<Engine = crate::Interp>>(
    x: &mut Exec<C>,
) -> Status {
    let Some(Trap { code: TrapCode::Exception(exn), .. }) = x.trap else {
        return TRAP;
    };
    // SAFETY: the caller's contract, as in `unwind`.
    unsafe {
        let Some(f) = x.frames.pop() else {
            return TRAP;
        };
        x.trap = None;
        x.cur_func = f.func;
        if f.inst != x.inst.cast() {
            let caller: *const InstanceData<C> = f.inst.cast();
            x.switch(caller, crate::exec::code_of(caller));
        }
        unwind(f.ret_pc.sub(1), f.fp, x, exn)
    }
}

handler!(throw(pc, fp, mb, ml, x) {
    let _ = (mb, ml);
    operands!(pc, Op::Throw { tag, base });
    let exn = new_exception(x, tag, fp.add(base as usize));
    unwind(pc, fp, x, exn)
});
handler!(throw_ref(pc, fp, mb, ml, x) {
    let _ = (mb, ml);
    operands!(pc, Op::ThrowRef { src });
    let exn = *fp.add(src as usize);
    if exn == 0 {
        return trap!(x, TrapCode::NullReference);
    }
    unwind(pc, fp, x, exn as u32)
});
handler!(caught(pc, fp, mb, ml, x) {
    operands!(pc, Op::Caught { dst, n, with_ref });
    let dst = fp.add(dst as usize);
    if let Some(e) = (*x.store).exception(x.caught) {
        let n = (n as usize).min(e.payload.len());
        core::ptr::copy_nonoverlapping(e.payload.as_ptr(), dst, n);
    }
    if with_ref != 0 {
        *dst.add(n as usize) = u64::from(x.caught);
    }
    next!(pc.add(1), fp, mb, ml, x)
});
