//! The runtime functions generated code calls, one copy per composition, and their
//! table: what every native-code engine links through
//! [`Virt::link_libcalls`](crate::slot::Virt::link_libcalls) and calls through the
//! store context's table ([`VMStoreContext::libcalls`], indexed by [`RuntimeFn`]).
//!
//! Each function receives the calling instance's context; the store and the
//! composition are reached through [`VMStoreContext`], set on entry from the host
//! (see [`call_from_host`](super::call_from_host)). Functions that can trap record
//! the trap with [`set_pending`] and return 1 (or `u32::MAX` for the grow
//! functions, whose failure is not a trap); the generated code then traps with
//! [`TrapKind::Pending`](super::TrapKind::Pending). No panic crosses back into
//! generated code. An engine may append entries of its own (math helpers, say)
//! after [`NUM_RUNTIME_FNS`] entries of [`table`].

use std::panic::{AssertUnwindSafe, catch_unwind};

use super::{Libcall, NativeType, count_host_call, set_pending};
use crate::compose::Composition;
use crate::runtime::offsets::VMStoreContext;
use crate::runtime::{
    FuncKind, InstanceData, Store, Trap, VMContext, VMFuncRef, VMMemoryDefinition,
    VMTableDefinition,
};
use crate::slot::Event;

/// Runtime functions generated code calls, by index in the store context's table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(usize)]
pub enum RuntimeFn {
    /// `(vmctx, mem, delta) -> old | -1`
    MemoryGrow,
    /// `(vmctx, mem, dst, val, len) -> status`
    MemoryFill,
    /// `(vmctx, dst_mem, src_mem, dst, src, len) -> status`
    MemoryCopy,
    /// `(vmctx, mem, data, dst, src, len) -> status`
    MemoryInit,
    /// `(vmctx, data)`
    DataDrop,
    /// `(vmctx, table, init, delta) -> old | -1`
    TableGrow,
    /// `(vmctx, table, dst, val, len) -> status`
    TableFill,
    /// `(vmctx, dst_table, src_table, dst, src, len) -> status`
    TableCopy,
    /// `(vmctx, table, elem, dst, src, len) -> status`
    TableInit,
    /// `(vmctx, elem)`
    ElemDrop,
    /// `(caller_vmctx, funcref, values) -> status`: 0, 1 (trap pending) or 2 (the
    /// host function threw the exception in the store state's `exn_ref`, also the
    /// pending trap).
    HostCall,
    /// `(vmctx, funcref)`: delivers a wasm-call event to the composition's observers.
    WasmCallEvent,
    /// `(vmctx, tag, payload) -> exnref`: a new exception of the instance's tag
    /// `tag` whose payload is the 8-byte units at `payload` (guest stack); 0 on
    /// failure (trap pending).
    ExnNew,
    /// `(vmctx, exnref, tag) -> 1 | 0`: whether the exception's tag is the
    /// instance's tag `tag`.
    ExnIs,
    /// `(vmctx, exnref, dst) -> status`: copies the exception's payload units to
    /// `dst` (guest stack).
    ExnPayload,
    /// `(vmctx, exnref, fp, pc) -> status`: finds the handler of an exception thrown
    /// by the call returning to `pc` in the frame at `fp` and writes where to
    /// continue into the store state (0), or records the exception as the pending
    /// trap when none handles it (1); see [`super::exn`].
    ExnThrow,
}

/// Number of [`RuntimeFn`]s.
pub const NUM_RUNTIME_FNS: usize = 16;

impl RuntimeFn {
    /// Every runtime function, in table order.
    pub const ALL: [RuntimeFn; NUM_RUNTIME_FNS] = [
        RuntimeFn::MemoryGrow,
        RuntimeFn::MemoryFill,
        RuntimeFn::MemoryCopy,
        RuntimeFn::MemoryInit,
        RuntimeFn::DataDrop,
        RuntimeFn::TableGrow,
        RuntimeFn::TableFill,
        RuntimeFn::TableCopy,
        RuntimeFn::TableInit,
        RuntimeFn::ElemDrop,
        RuntimeFn::HostCall,
        RuntimeFn::WasmCallEvent,
        RuntimeFn::ExnNew,
        RuntimeFn::ExnIs,
        RuntimeFn::ExnPayload,
        RuntimeFn::ExnThrow,
    ];

    /// The function's parameters and result (System V; pointers are `I64`): the
    /// one description both the generated calls and the `virt` plugin use.
    pub const fn native_signature(self) -> (&'static [NativeType], Option<NativeType>) {
        use NativeType::{GuestPtr as P, I32, I64, VmCtx as V};
        match self {
            RuntimeFn::MemoryGrow => (&[V, I32, I32], Some(I32)),
            RuntimeFn::MemoryFill => (&[V, I32, I32, I32, I32], Some(I32)),
            RuntimeFn::MemoryCopy
            | RuntimeFn::MemoryInit
            | RuntimeFn::TableCopy
            | RuntimeFn::TableInit => (&[V, I32, I32, I32, I32, I32], Some(I32)),
            RuntimeFn::DataDrop | RuntimeFn::ElemDrop => (&[V, I32], None),
            RuntimeFn::TableGrow => (&[V, I32, I64, I32], Some(I32)),
            RuntimeFn::TableFill => (&[V, I32, I32, I64, I32], Some(I32)),
            RuntimeFn::HostCall => (&[V, P, I64], Some(I32)),
            RuntimeFn::WasmCallEvent => (&[V, P], None),
            RuntimeFn::ExnNew => (&[V, I32, I64], Some(I32)),
            RuntimeFn::ExnIs => (&[V, I32, I32], Some(I32)),
            RuntimeFn::ExnPayload => (&[V, I32, I64], Some(I32)),
            RuntimeFn::ExnThrow => (&[V, I32, I64, I64], Some(I32)),
        }
    }

    /// The function's name, for diagnostics.
    pub const fn name(self) -> &'static str {
        match self {
            RuntimeFn::MemoryGrow => "memory_grow",
            RuntimeFn::MemoryFill => "memory_fill",
            RuntimeFn::MemoryCopy => "memory_copy",
            RuntimeFn::MemoryInit => "memory_init",
            RuntimeFn::DataDrop => "data_drop",
            RuntimeFn::TableGrow => "table_grow",
            RuntimeFn::TableFill => "table_fill",
            RuntimeFn::TableCopy => "table_copy",
            RuntimeFn::TableInit => "table_init",
            RuntimeFn::ElemDrop => "elem_drop",
            RuntimeFn::HostCall => "host_call",
            RuntimeFn::WasmCallEvent => "wasm_call_event",
            RuntimeFn::ExnNew => "exn_new",
            RuntimeFn::ExnIs => "exn_is",
            RuntimeFn::ExnPayload => "exn_payload",
            RuntimeFn::ExnThrow => "exn_throw",
        }
    }

    /// The byte offset of this function's address in the linked table.
    pub const fn table_offset(self) -> usize {
        self as usize * 8
    }
}

/// The runtime functions of composition `C` with their host addresses, in
/// [`RuntimeFn`] order: the first [`NUM_RUNTIME_FNS`] entries of the table an
/// engine links.
pub fn table<C: Composition>() -> Vec<Libcall> {
    RuntimeFn::ALL
        .iter()
        .map(|&f| {
            let (params, result) = f.native_signature();
            let addr = match f {
                RuntimeFn::MemoryGrow => memory_grow::<C> as *const () as usize,
                RuntimeFn::MemoryFill => memory_fill::<C> as *const () as usize,
                RuntimeFn::MemoryCopy => memory_copy::<C> as *const () as usize,
                RuntimeFn::MemoryInit => memory_init::<C> as *const () as usize,
                RuntimeFn::DataDrop => data_drop::<C> as *const () as usize,
                RuntimeFn::TableGrow => table_grow::<C> as *const () as usize,
                RuntimeFn::TableFill => table_fill::<C> as *const () as usize,
                RuntimeFn::TableCopy => table_copy::<C> as *const () as usize,
                RuntimeFn::TableInit => table_init::<C> as *const () as usize,
                RuntimeFn::ElemDrop => elem_drop::<C> as *const () as usize,
                RuntimeFn::HostCall => host_call::<C> as *const () as usize,
                RuntimeFn::WasmCallEvent => wasm_call_event::<C> as *const () as usize,
                RuntimeFn::ExnNew => exn_new::<C> as *const () as usize,
                RuntimeFn::ExnIs => exn_is::<C> as *const () as usize,
                RuntimeFn::ExnPayload => exn_payload::<C> as *const () as usize,
                RuntimeFn::ExnThrow => exn_throw as *const () as usize,
            };
            Libcall { name: f.name(), addr, params, result }
        })
        .collect()
}

/// The store and the calling instance of a runtime function.
///
/// # Safety
/// `vmctx` is the context of a live instance of a store whose call from the host is
/// in progress on this thread (so `VMStoreContext::store` points to it), and no
/// other reference to the store is in use.
unsafe fn parts<'a, C: Composition>(
    vmctx: *mut VMContext,
) -> (&'a mut Store<C>, &'a InstanceData<C>) {
    // SAFETY: the caller's contract; a context's `instance` is its `InstanceData`.
    unsafe {
        let ctx: *mut VMStoreContext = (*vmctx).store;
        let store = &mut *((*ctx).store as *mut Store<C>);
        let inst = &*InstanceData::<C>::from_vmctx(vmctx);
        (store, inst)
    }
}

/// Runs `f`, turning a panic into a host trap.
fn guarded<R>(fail: R, f: impl FnOnce() -> Result<R, Trap>) -> R {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(r)) => r,
        Ok(Err(trap)) => {
            set_pending(trap);
            fail
        }
        Err(_) => {
            set_pending(Trap::host("a runtime function panicked"));
            fail
        }
    }
}

/// Memory `mem` of the calling instance.
fn memory<'a, C: Composition>(
    store: &'a Store<C>,
    inst: &InstanceData<C>,
    mem: u32,
) -> &'a VMMemoryDefinition {
    store.memories[inst.memory_addrs[mem as usize] as usize].def()
}

/// Table `table` of the calling instance.
fn table_def<'a, C: Composition>(
    store: &'a Store<C>,
    inst: &InstanceData<C>,
    table: u32,
) -> &'a VMTableDefinition {
    store.tables[inst.table_addrs[table as usize] as usize].def()
}

unsafe extern "C" fn memory_grow<C: Composition>(
    vmctx: *mut VMContext,
    mem: u32,
    delta: u32,
) -> u32 {
    guarded(u32::MAX, || {
        // SAFETY: called by generated code of a running instance (see `parts`).
        let (store, inst) = unsafe { parts::<C>(vmctx) };
        let addr = inst.memory_addrs[mem as usize] as usize;
        Ok(store.memories[addr].grow(delta).unwrap_or(u32::MAX))
    })
}

// The bulk operations are vm-core's, on the definitions generated code reads. Their
// contracts hold: a store's definitions describe its live memories and tables, which
// nothing else borrows while generated code runs, and segments are host data.

unsafe extern "C" fn memory_fill<C: Composition>(
    vmctx: *mut VMContext,
    mem: u32,
    dst: u32,
    val: u32,
    len: u32,
) -> u32 {
    guarded(1, || {
        // SAFETY: as in `memory_grow`; the definition's contract as above.
        unsafe {
            let (store, inst) = parts::<C>(vmctx);
            memory(store, inst, mem).fill(dst, val as u8, len)?;
        }
        Ok(0)
    })
}

unsafe extern "C" fn memory_copy<C: Composition>(
    vmctx: *mut VMContext,
    dst_mem: u32,
    src_mem: u32,
    dst: u32,
    src: u32,
    len: u32,
) -> u32 {
    guarded(1, || {
        // SAFETY: as in `memory_fill`.
        unsafe {
            let (store, inst) = parts::<C>(vmctx);
            let from = memory(store, inst, src_mem);
            memory(store, inst, dst_mem).copy_from(from, dst, src, len)?;
        }
        Ok(0)
    })
}

unsafe extern "C" fn memory_init<C: Composition>(
    vmctx: *mut VMContext,
    mem: u32,
    data_idx: u32,
    dst: u32,
    src: u32,
    len: u32,
) -> u32 {
    guarded(1, || {
        // SAFETY: as in `memory_fill`.
        unsafe {
            let (store, inst) = parts::<C>(vmctx);
            memory(store, inst, mem).init(inst.data(data_idx), dst, src, len)?;
        }
        Ok(0)
    })
}

/// The calling instance, mutably.
///
/// # Safety
/// As for [`parts`]; no other reference to the instance is in use.
unsafe fn instance_mut<'a, C: Composition>(vmctx: *mut VMContext) -> &'a mut InstanceData<C> {
    // SAFETY: the caller's contract; a context's `instance` is its `InstanceData`.
    unsafe { &mut *InstanceData::<C>::from_vmctx(vmctx) }
}

unsafe extern "C" fn data_drop<C: Composition>(vmctx: *mut VMContext, data_idx: u32) {
    guarded((), || {
        // SAFETY: called by generated code of a running instance.
        unsafe { instance_mut::<C>(vmctx) }.drop_data(data_idx);
        Ok(())
    })
}

unsafe extern "C" fn table_grow<C: Composition>(
    vmctx: *mut VMContext,
    table: u32,
    init: u64,
    delta: u32,
) -> u32 {
    guarded(u32::MAX, || {
        // SAFETY: as in `memory_grow`.
        let (store, inst) = unsafe { parts::<C>(vmctx) };
        let r = store.grow_table(inst.table_addrs[table as usize], delta, init);
        // The elements may have moved to a new guest-data chunk: the `virt` plugin
        // maps it before generated code continues.
        // SAFETY: the store context holds the composition for the call in progress
        // (see `parts`); nothing else uses it while generated code runs.
        let plugins = unsafe { &mut *(*(*vmctx).store).plugins.cast::<C>() };
        store.announce_guest_data(plugins.virt_mut());
        Ok(r.unwrap_or(u32::MAX))
    })
}

unsafe extern "C" fn table_fill<C: Composition>(
    vmctx: *mut VMContext,
    table: u32,
    dst: u32,
    val: u64,
    len: u32,
) -> u32 {
    guarded(1, || {
        // SAFETY: as in `memory_fill`.
        unsafe {
            let (store, inst) = parts::<C>(vmctx);
            table_def(store, inst, table).fill(dst, val, len)?;
        }
        Ok(0)
    })
}

unsafe extern "C" fn table_copy<C: Composition>(
    vmctx: *mut VMContext,
    dst_table: u32,
    src_table: u32,
    dst: u32,
    src: u32,
    len: u32,
) -> u32 {
    guarded(1, || {
        // SAFETY: as in `memory_fill`.
        unsafe {
            let (store, inst) = parts::<C>(vmctx);
            let from = table_def(store, inst, src_table);
            table_def(store, inst, dst_table).copy_from(from, dst, src, len)?;
        }
        Ok(0)
    })
}

unsafe extern "C" fn table_init<C: Composition>(
    vmctx: *mut VMContext,
    table: u32,
    elem: u32,
    dst: u32,
    src: u32,
    len: u32,
) -> u32 {
    guarded(1, || {
        // SAFETY: as in `memory_fill`.
        unsafe {
            let (store, inst) = parts::<C>(vmctx);
            table_def(store, inst, table).init(inst.elem(elem), dst, src, len)?;
        }
        Ok(0)
    })
}

unsafe extern "C" fn elem_drop<C: Composition>(vmctx: *mut VMContext, elem: u32) {
    guarded((), || {
        // SAFETY: as in `data_drop`.
        unsafe { instance_mut::<C>(vmctx) }.drop_elem(elem);
        Ok(())
    })
}

/// Calls the host function behind `funcref` for the instance of `caller`, with
/// arguments and results in 16-byte slots at `values` (vm-core's
/// [`Store::call_host`] marshals).
unsafe extern "C" fn host_call<C: Composition>(
    caller: *mut VMContext,
    funcref: *const VMFuncRef,
    values: *mut u128,
) -> u32 {
    guarded(1, || {
        // SAFETY: `caller` is the calling instance (see `parts`); `funcref` is a host
        // function's funcref of the same store; `values` has a slot per parameter
        // and per result (the trampoline sized it).
        unsafe {
            let (store, inst) = parts::<C>(caller);
            count_host_call();
            let kind = store.funcs.get((*funcref).func as usize).map(|f| f.kind);
            let Some(FuncKind::Host { def, state }) = kind else {
                return Err(Trap::host("host trampoline called for a wasm function"));
            };
            // The slots are the trampoline's, on the guest stack of this call: refuse
            // anything else (a corrupted pointer must not make the host write
            // elsewhere).
            let st = super::current();
            let (v, n) = (values as usize, 16 * def.params.len().max(def.results.len()));
            if st.is_null() || v < (*st).stack_lo || v.saturating_add(n) > (*st).entry_sp {
                return Err(Trap::host("host call with its values outside the guest stack"));
            }
            let memory = VMMemoryDefinition::host_view(inst.vmctx().memory0);
            let (mut arg, mut result) = (values, values);
            let r = store.call_host(
                def,
                state,
                memory,
                |store, ty| {
                    let v = store.raw128_to_val(*arg, ty);
                    arg = arg.add(1);
                    v
                },
                |store, v| {
                    *result = store.val_to_raw128(v);
                    result = result.add(1);
                },
            );
            match r {
                Ok(()) => Ok(0),
                // The host function threw: status 2, the exception in the store
                // state's `exn_ref` for the trampoline to throw on (and as the
                // pending trap for code that treats any failure as a trap).
                Err(t) if let crate::runtime::TrapCode::Exception(exn) = t.code => {
                    (*inst.vmctx().state).exn_ref = u64::from(exn);
                    set_pending(t);
                    Ok(2)
                }
                Err(t) => Err(t),
            }
        }
    })
}

/// Delivers a wasm-call event for a call to the function behind `funcref` (emitted
/// before each call only when an observer of the composition subscribes).
unsafe extern "C" fn wasm_call_event<C: Composition>(
    vmctx: *mut VMContext,
    funcref: *const VMFuncRef,
) {
    guarded((), || {
        // SAFETY: `vmctx` is the calling instance (see `parts`), whose store context
        // holds the composition and the store for the call in progress (the store's
        // instance list is not changed while guest code runs); `funcref` is a live
        // funcref of that store. Observers take `&self`.
        unsafe {
            let cx = (*vmctx).store;
            let store = &*(*cx).store.cast::<Store<C>>();
            let kind = store.funcs.get((*funcref).func as usize).map(|f| f.kind);
            if let Some(FuncKind::Wasm { instance, index }) = kind {
                let plugins = (*cx).plugins.cast::<C>();
                let module = store.instances.get(instance as usize).map(|i| i.module.info().id);
                if let Some(module) = module {
                    (*plugins).emit(&Event::WasmCall { func: index, module });
                }
            }
        }
        Ok(())
    })
}

/// `n` bytes at `ptr` inside the guest stack of the call in progress, or a trap: a
/// corrupted pointer must not make the host read or write elsewhere.
fn on_guest_stack(ptr: usize, n: usize) -> Result<(), Trap> {
    let st = super::current();
    // SAFETY: the current state lives for the whole call on this thread.
    let inside = !st.is_null()
        && unsafe { ptr >= (*st).stack_lo && ptr.saturating_add(n) <= (*st).entry_sp };
    if inside { Ok(()) } else { Err(Trap::host("exception payload outside the guest stack")) }
}

/// The payload units of the calling instance's tag `tag`.
fn tag_units<C: Composition>(store: &Store<C>, inst: &InstanceData<C>, tag: u32) -> (u32, usize) {
    let addr = inst.tag_addrs.get(tag as usize).copied().unwrap_or(u32::MAX);
    let units = store
        .tags
        .get(addr as usize)
        .map_or(0, |t| t.ty.params().iter().map(|p| p.slots64() as usize).sum::<usize>());
    (addr, units)
}

unsafe extern "C" fn exn_new<C: Composition>(
    vmctx: *mut VMContext,
    tag: u32,
    payload: *const u64,
) -> u32 {
    guarded(0, || {
        // SAFETY: `vmctx` is the calling instance (see `parts`); the payload's units
        // are checked to lie on the guest stack of this call.
        unsafe {
            let (store, inst) = parts::<C>(vmctx);
            let (addr, n) = tag_units(store, inst, tag);
            if store.tags.get(addr as usize).is_none() {
                return Err(Trap::host("throw of an unknown tag"));
            }
            on_guest_stack(payload as usize, 8 * n)?;
            let units = std::slice::from_raw_parts(payload, n);
            Ok(store.new_exception(addr, units))
        }
    })
}

unsafe extern "C" fn exn_is<C: Composition>(vmctx: *mut VMContext, exn: u32, tag: u32) -> u32 {
    guarded(0, || {
        // SAFETY: `vmctx` is the calling instance (see `parts`).
        unsafe {
            let (store, inst) = parts::<C>(vmctx);
            let want = inst.tag_addrs.get(tag as usize).copied();
            Ok(u32::from(store.exception(exn).map(|e| e.tag) == want && want.is_some()))
        }
    })
}

unsafe extern "C" fn exn_payload<C: Composition>(
    vmctx: *mut VMContext,
    exn: u32,
    dst: *mut u64,
) -> u32 {
    guarded(1, || {
        // SAFETY: `vmctx` is the calling instance (see `parts`); `dst` is checked
        // to have room for the payload on the guest stack of this call.
        unsafe {
            let (store, _) = parts::<C>(vmctx);
            let e = store.exception(exn).ok_or_else(|| Trap::host("no such exception"))?;
            on_guest_stack(dst as usize, 8 * e.payload.len())?;
            std::ptr::copy_nonoverlapping(e.payload.as_ptr(), dst, e.payload.len());
            Ok(0)
        }
    })
}

unsafe extern "C" fn exn_throw(vmctx: *mut VMContext, exn: u32, fp: usize, pc: usize) -> u32 {
    guarded(1, || {
        let st = super::current();
        // SAFETY: the current state lives for the whole call on this thread, and its
        // store is live (see `CallState::enter`).
        let found = if st.is_null() { None } else { unsafe { (*st).find_handler(fp, pc) } };
        let Some(r) = found else {
            return Err(Trap::new(crate::runtime::TrapCode::Exception(exn)));
        };
        // SAFETY: `vmctx` is the calling instance; its `state` is the store's state,
        // guest data that only this call uses now.
        unsafe {
            let state = &mut *(*vmctx).state;
            state.exn_pc = r.pc;
            state.exn_sp = r.sp;
            state.exn_fp = r.fp;
            state.exn_ref = u64::from(exn);
            for (slot, v) in state.exn_regs.iter_mut().zip(r.regs) {
                if let Some(v) = v {
                    *slot = v;
                }
            }
        }
        Ok(0)
    })
}
