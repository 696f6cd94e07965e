//! The host functions generated code calls, as one table the `virt` plugin links
//! (see `vm_core::runtime::native::Libcall`):
//!
//! - runtime functions, one copy per composition, called through the store
//!   context's table (indexed by [`Libcall`]). Each receives the calling instance's
//!   context; the store and the composition are reached through
//!   [`VMStoreContext`], set on entry from the host. Functions that can trap record
//!   the trap with [`set_pending`] and return 1; the generated code then traps. No
//!   panic crosses back into generated code.
//! - math helpers Cranelift calls where the instruction set lacks an instruction
//!   (rounding and `pshufb` without SSE4.1/SSSE3, i.e. with `simd-scalar`; fused
//!   multiply-add without FMA): they follow the runtime functions in the table, and
//!   their calls are patched to the linked addresses when code is published, so
//!   they cost what a direct call costs.

use std::arch::x86_64::__m128i;
use std::mem::transmute;
use std::panic::{AssertUnwindSafe, catch_unwind};

use cranelift_codegen::ir::LibCall;
use vm_core::Composition;
use vm_core::runtime::native::{self, NativeType, count_host_call, set_pending};
use vm_core::runtime::offsets::VMStoreContext;
use vm_core::runtime::{
    FuncKind, InstanceData, Store, Trap, VMContext, VMFuncRef, VMMemoryDefinition,
    VMTableDefinition,
};
use vm_core::slot::Event;

use crate::env::{Libcall, NUM_LIBCALLS};

/// The math helpers, in their order after the runtime functions in the table.
pub const HELPERS: [LibCall; NUM_HELPERS] = [
    LibCall::CeilF32,
    LibCall::CeilF64,
    LibCall::FloorF32,
    LibCall::FloorF64,
    LibCall::TruncF32,
    LibCall::TruncF64,
    LibCall::NearestF32,
    LibCall::NearestF64,
    LibCall::FmaF32,
    LibCall::FmaF64,
    LibCall::X86Pshufb,
];

/// Number of [`HELPERS`].
pub const NUM_HELPERS: usize = 11;

/// Entries of the table: runtime functions, then math helpers.
pub const TABLE_LEN: usize = NUM_LIBCALLS + NUM_HELPERS;

/// The position of a math helper in [`HELPERS`].
pub fn helper_index(lc: LibCall) -> Option<usize> {
    HELPERS.iter().position(|&h| h == lc)
}

/// The table for composition `C`: every runtime function (in [`Libcall`] order),
/// then every math helper (in [`HELPERS`] order), with host addresses.
pub fn table<C: Composition>() -> Vec<native::Libcall> {
    let runtime = Libcall::ALL.iter().map(|&lc| {
        let (params, result) = lc.native_signature();
        let addr = match lc {
            Libcall::MemoryGrow => memory_grow::<C> as *const () as usize,
            Libcall::MemoryFill => memory_fill::<C> as *const () as usize,
            Libcall::MemoryCopy => memory_copy::<C> as *const () as usize,
            Libcall::MemoryInit => memory_init::<C> as *const () as usize,
            Libcall::DataDrop => data_drop::<C> as *const () as usize,
            Libcall::TableGrow => table_grow::<C> as *const () as usize,
            Libcall::TableFill => table_fill::<C> as *const () as usize,
            Libcall::TableCopy => table_copy::<C> as *const () as usize,
            Libcall::TableInit => table_init::<C> as *const () as usize,
            Libcall::ElemDrop => elem_drop::<C> as *const () as usize,
            Libcall::HostCall => host_call::<C> as *const () as usize,
            Libcall::WasmCallEvent => wasm_call_event::<C> as *const () as usize,
        };
        native::Libcall { name: lc.name(), addr, params, result }
    });
    runtime.chain(HELPERS.iter().map(|&h| helper(h))).collect()
}

/// The host addresses of the math helpers (for code compiled outside a composition,
/// which runs in this process).
pub fn host_helpers() -> [usize; NUM_HELPERS] {
    HELPERS.map(|h| helper(h).addr)
}

/// A math helper's description.
fn helper(lc: LibCall) -> native::Libcall {
    use NativeType::{F32, F64, V128};
    let (name, addr, params, result): (_, usize, &'static [NativeType], _) = match lc {
        LibCall::CeilF32 => ("ceil_f32", ceil_f32 as *const () as usize, &[F32], F32),
        LibCall::CeilF64 => ("ceil_f64", ceil_f64 as *const () as usize, &[F64], F64),
        LibCall::FloorF32 => ("floor_f32", floor_f32 as *const () as usize, &[F32], F32),
        LibCall::FloorF64 => ("floor_f64", floor_f64 as *const () as usize, &[F64], F64),
        LibCall::TruncF32 => ("trunc_f32", trunc_f32 as *const () as usize, &[F32], F32),
        LibCall::TruncF64 => ("trunc_f64", trunc_f64 as *const () as usize, &[F64], F64),
        LibCall::NearestF32 => ("nearest_f32", nearest_f32 as *const () as usize, &[F32], F32),
        LibCall::NearestF64 => ("nearest_f64", nearest_f64 as *const () as usize, &[F64], F64),
        LibCall::FmaF32 => ("fma_f32", fma_f32 as *const () as usize, &[F32, F32, F32], F32),
        LibCall::FmaF64 => ("fma_f64", fma_f64 as *const () as usize, &[F64, F64, F64], F64),
        // `LibCall::X86Pshufb`, the last of `HELPERS` (the only values passed here).
        _ => ("x86_pshufb", x86_pshufb as *const () as usize, &[V128, V128], V128),
    };
    native::Libcall { name, addr, params, result: Some(result) }
}

// The rounding routines stand in for SSE4.1's `round*` (code generated without
// SSE4.1); vm-core's versions quiet a signalling NaN as the instruction does.
extern "C" fn ceil_f32(x: f32) -> f32 {
    vm_core::runtime::simd::f32_ceil(x)
}
extern "C" fn ceil_f64(x: f64) -> f64 {
    vm_core::runtime::simd::f64_ceil(x)
}
extern "C" fn floor_f32(x: f32) -> f32 {
    vm_core::runtime::simd::f32_floor(x)
}
extern "C" fn floor_f64(x: f64) -> f64 {
    vm_core::runtime::simd::f64_floor(x)
}
extern "C" fn trunc_f32(x: f32) -> f32 {
    vm_core::runtime::simd::f32_trunc(x)
}
extern "C" fn trunc_f64(x: f64) -> f64 {
    vm_core::runtime::simd::f64_trunc(x)
}
extern "C" fn nearest_f32(x: f32) -> f32 {
    vm_core::runtime::simd::f32_nearest(x)
}
extern "C" fn nearest_f64(x: f64) -> f64 {
    vm_core::runtime::simd::f64_nearest(x)
}
extern "C" fn fma_f32(a: f32, b: f32, c: f32) -> f32 {
    a.mul_add(b, c)
}
extern "C" fn fma_f64(a: f64, b: f64, c: f64) -> f64 {
    a.mul_add(b, c)
}

/// `pshufb` for code generated without SSSE3 (`simd-scalar`): byte `i` of the result
/// is byte `mask[i] & 15` of `a`, or zero when bit 7 of `mask[i]` is set.
#[expect(
    improper_ctypes_definitions,
    reason = "Cranelift passes and takes the vectors in xmm registers, as the System V ABI does for __m128i"
)]
extern "C" fn x86_pshufb(a: __m128i, mask: __m128i) -> __m128i {
    // SAFETY: both are 16 plain bytes; every bit pattern is valid for either type.
    let (a, m) =
        unsafe { (transmute::<__m128i, [u8; 16]>(a), transmute::<__m128i, [u8; 16]>(mask)) };
    let r: [u8; 16] =
        std::array::from_fn(|i| if m[i] & 0x80 != 0 { 0 } else { a[usize::from(m[i] & 15)] });
    // SAFETY: as above.
    unsafe { transmute::<[u8; 16], __m128i>(r) }
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
            let st = native::current();
            let (v, n) = (values as usize, 16 * def.params.len().max(def.results.len()));
            if st.is_null() || v < (*st).stack_lo || v.saturating_add(n) > (*st).entry_sp {
                return Err(Trap::host("host call with its values outside the guest stack"));
            }
            let memory = VMMemoryDefinition::host_view(inst.vmctx().memory0);
            let (mut arg, mut result) = (values, values);
            store.call_host(
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
            )?;
            Ok(0)
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
