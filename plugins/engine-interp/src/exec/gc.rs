//! GC instructions: one handler for [`Op::Gc`], which runs the operation its
//! [`GcInstr`] names with vm-core's semantics (`vm_core::runtime::gc::ops` and
//! `object`) on the slots from its `base`.
//!
//! # Precise roots
//!
//! An allocation hands the store's collector ([`Store::gc_alloc`]) the roots of every
//! wasm frame of the running call: the running frame's are the allocating
//! instruction's stack map ([`GcInstr::roots`], frame slots from `fp`), each
//! suspended caller's the stack map of the call it is suspended in
//! ([`ModuleCode::call_maps`], found from the frame record's return address). Only
//! the slots a map names are visited, so a slot that holds an integer is never
//! taken for a reference and a moving collector rewrites exactly the reference
//! slots. The store adds its own roots (globals, tables, element segments,
//! exception payloads, host handles).

use vm_core::Composition;
use vm_core::runtime::gc::heap::RootSource;
use vm_core::runtime::gc::object;
use vm_core::runtime::gc::ops;
use vm_core::runtime::gc::types::TypeInfo;
use vm_core::runtime::{InstanceData, RawRef, Store, TrapCode, VMFuncRef, ValType};
use vm_core::slot::Collector;

use crate::code::{GcInstr, GcKind, ModuleCode, Op};
use crate::exec::call::Frame;
use crate::exec::{Exec, handler, next, operands, threaded, trap};

handler!(gc(pc, fp, mb, ml, x) {
    operands!(pc, Op::Gc { instr, base, n });
    let _ = n;
    let g = &*(*x.code).gc.as_ptr().add(instr as usize);
    if let Err(code) = run::<C>(x, fp, g, fp.add(base as usize)) {
        return trap!(x, code);
    }
    next!(pc.add(1), fp, mb, ml, x)
});

/// The roots of every wasm frame of a call (see the module docs).
struct FrameRoots<'a, C: Composition> {
    fp: *mut u64,
    roots: &'a [u32],
    frames: &'a [Frame],
    _c: core::marker::PhantomData<C>,
}

impl<C: Composition<Engine = crate::Interp>> RootSource for FrameRoots<'_, C> {
    fn roots(&mut self, visit: &mut dyn FnMut(&mut RawRef, ValType)) {
        // SAFETY: `fp` is the running frame and every slot of a stack map is inside
        // its frame (the verifier checks the maps).
        unsafe {
            for &s in self.roots {
                visit(&mut *self.fp.add(s as usize), ValType::AnyRef);
            }
        }
        for f in self.frames {
            // SAFETY: a frame record's instance is live and its module compiled to
            // the code whose threaded form `ret_pc` points into.
            let code: &ModuleCode = unsafe { (*f.inst.cast::<InstanceData<C>>()).module.code() };
            let instrs = threaded::<C>(code);
            // SAFETY: `ret_pc` is inside the threaded code of `code`.
            let at = unsafe { f.ret_pc.offset_from(instrs) } as u32;
            // The last call before the return address is the one suspended.
            let k = code.call_maps.partition_point(|(c, _)| *c < at);
            let Some((_, roots)) = k.checked_sub(1).and_then(|k| code.call_maps.get(k)) else {
                continue;
            };
            for &s in roots.iter() {
                // SAFETY: as for the running frame, in the caller's frame.
                visit(unsafe { &mut *f.fp.add(s as usize) }, ValType::AnyRef);
            }
        }
    }
}

/// Allocates an object of type `ty` (an array of `len` elements) for the
/// instruction `g` running in the frame at `fp`.
///
/// # Safety
/// As for a handler.
#[inline(never)]
unsafe fn alloc<C: Composition<Engine = crate::Interp>>(
    x: &mut Exec<C>,
    fp: *mut u64,
    g: &GcInstr,
    ty: &'static TypeInfo,
    len: u32,
) -> Result<RawRef, TrapCode> {
    let mut roots =
        FrameRoots::<C> { fp, roots: &g.roots, frames: &x.frames, _c: core::marker::PhantomData };
    // SAFETY: the composition and the store are live for the call and not otherwise
    // borrowed while a handler runs.
    unsafe {
        let plugins = &*x.plugins;
        let obj =
            (*x.store).gc_alloc(plugins.gc(), ty, len, &mut roots, |c| plugins.emit(&c.event()))?;
        Ok(obj.as_ptr() as usize as RawRef)
    }
}

/// The value of type `t` in the slots from `a` (two for a `v128`) and how many.
///
/// # Safety
/// `a` is inside the frame.
unsafe fn read(a: *const u64, t: ValType) -> (u128, usize) {
    // SAFETY: the caller's contract.
    unsafe {
        if t == ValType::V128 {
            (u128::from(*a) | (u128::from(*a.add(1)) << 64), 2)
        } else {
            (u128::from(*a), 1)
        }
    }
}

/// Writes a value of type `t` to the slots from `a`.
///
/// # Safety
/// `a` is inside the frame.
unsafe fn write(a: *mut u64, t: ValType, v: u128) {
    // SAFETY: the caller's contract.
    unsafe {
        *a = v as u64;
        if t == ValType::V128 {
            *a.add(1) = (v >> 64) as u64;
        }
    }
}

/// After a reference store into `r`, the collector's write barrier (only in builds
/// whose collector needs one: the branch is on a constant).
///
/// # Safety
/// The store is live.
#[inline(always)]
unsafe fn barrier<C: Composition>(x: &mut Exec<C>, r: RawRef) {
    if <C::Gc as Collector>::NEEDS_WRITE_BARRIER
        && let Some(obj) = object::as_object(r)
    {
        // SAFETY: the caller's contract.
        unsafe { (*x.store).gc_write_barrier(obj) }
    }
}

/// The canonical type id of a non-null funcref of the running store.
///
/// # Safety
/// `store` is live and `r` one of its funcrefs.
unsafe fn func_type<C: Composition>(store: *const Store<C>, r: RawRef) -> Option<u32> {
    // SAFETY: the caller's contract: a non-null funcref points to a `VMFuncRef`.
    unsafe {
        let sig = (*(r as usize as *const VMFuncRef)).sig;
        (*store).sigs.get(sig).map(|f| f.canonical())
    }
}

fn unpacked(ty: &TypeInfo) -> ValType {
    ty.element().map_or(ValType::I32, |f| f.storage.unpacked())
}

/// Runs GC instruction `g` on the slots from `a` of the frame at `fp`.
///
/// # Safety
/// As for a handler: `a` is the instruction's `base` slot, with its operands.
#[inline(never)]
unsafe fn run<C: Composition<Engine = crate::Interp>>(
    x: &mut Exec<C>,
    fp: *mut u64,
    g: &GcInstr,
    a: *mut u64,
) -> Result<(), TrapCode> {
    // Validation gave every struct and array instruction its type.
    let ty = || g.ty.ok_or(TrapCode::Unreachable);
    // SAFETY: the handler's contract: the instruction's slots are inside the frame,
    // references in them are live (the collector keeps what the maps name).
    unsafe {
        let s = |k: usize| *a.add(k);
        match g.kind {
            GcKind::RefI31 => *a = object::i31_new(s(0) as i32),
            GcKind::I31Get { signed } => *a = u64::from(ops::i31_get(s(0), signed)? as u32),
            GcKind::RefEq => *a = u64::from(ops::ref_eq(s(0), s(1))),
            GcKind::RefTest { ty, keep } => {
                let store = x.store.cast_const();
                let t = object::ref_test(s(0), ty, |r| func_type(store, r));
                *a.add(usize::from(keep)) = u64::from(t);
            }
            GcKind::RefCast(ty) => {
                let store = x.store.cast_const();
                object::ref_cast(s(0), ty, |r| func_type(store, r))?;
            }
            GcKind::AnyConvertExtern => *a = object::any_convert_extern(s(0)),
            GcKind::ExternConvertAny => *a = object::extern_convert_any(s(0)),
            GcKind::StructNew => {
                let ty = ty()?;
                let r = alloc(x, fp, g, ty, 0)?;
                // The operands as the collection left them (moved objects updated).
                let mut at = 0;
                let vals: Vec<u128> = ty
                    .fields()
                    .iter()
                    .map(|f| {
                        let (v, n) = read(a.add(at), f.storage.unpacked());
                        at += n;
                        v
                    })
                    .collect();
                ops::init_fields(ops::struct_ref(r)?, ty, vals);
                *a = r;
            }
            GcKind::StructNewDefault => *a = alloc(x, fp, g, ty()?, 0)?,
            GcKind::StructGet { field, signed } => {
                let ty = ty()?;
                let v = ops::struct_get(s(0), ty, field, signed)?;
                let t =
                    ty.fields().get(field as usize).map_or(ValType::I32, |f| f.storage.unpacked());
                write(a, t, v);
            }
            GcKind::StructSet { field } => {
                let ty = ty()?;
                let t =
                    ty.fields().get(field as usize).map_or(ValType::I32, |f| f.storage.unpacked());
                ops::struct_set(s(0), ty, field, read(a.add(1), t).0)?;
                if t.is_ref() {
                    barrier(x, s(0));
                }
            }
            GcKind::ArrayNew => {
                let ty = ty()?;
                let t = unpacked(ty);
                let k = t.slots64() as usize;
                let len = s(k) as u32;
                let r = alloc(x, fp, g, ty, len)?;
                ops::fill(r, ty, 0, read(a, t).0, len)?;
                *a = r;
            }
            GcKind::ArrayNewDefault => *a = alloc(x, fp, g, ty()?, s(0) as u32)?,
            GcKind::ArrayNewFixed(n) => {
                let ty = ty()?;
                let t = unpacked(ty);
                let r = alloc(x, fp, g, ty, n)?;
                let k = t.slots64() as usize;
                for i in 0..n as usize {
                    ops::array_set(r, ty, i as u32, read(a.add(i * k), t).0)?;
                }
                *a = r;
            }
            GcKind::ArrayNewData(d) => {
                let ty = ty()?;
                let (at, n) = (s(0) as u32, s(1) as u32);
                ops::check_data(ty, at, n, (*x.inst).data(d).len())?;
                let r = alloc(x, fp, g, ty, n)?;
                ops::init_data(r, ty, 0, (*x.inst).data(d), at, n)?;
                *a = r;
            }
            GcKind::ArrayNewElem(e) => {
                let ty = ty()?;
                let (at, n) = (s(0) as u32, s(1) as u32);
                ops::check_elem(at, n, (*x.inst).elem(e).len())?;
                let r = alloc(x, fp, g, ty, n)?;
                // The segment as the collection left it.
                ops::init_elem(r, ty, 0, (*x.inst).elem(e), at, n)?;
                *a = r;
            }
            GcKind::ArrayGet { signed } => {
                let ty = ty()?;
                let v = ops::array_get(s(0), ty, s(1) as u32, signed)?;
                write(a, unpacked(ty), v);
            }
            GcKind::ArraySet => {
                let ty = ty()?;
                let t = unpacked(ty);
                ops::array_set(s(0), ty, s(1) as u32, read(a.add(2), t).0)?;
                if t.is_ref() {
                    barrier(x, s(0));
                }
            }
            GcKind::ArrayLen => *a = u64::from(ops::array_len(s(0))?),
            GcKind::ArrayFill => {
                let ty = ty()?;
                let t = unpacked(ty);
                let (v, k) = read(a.add(2), t);
                ops::fill(s(0), ty, s(1) as u32, v, s(2 + k) as u32)?;
                if t.is_ref() {
                    barrier(x, s(0));
                }
            }
            GcKind::ArrayCopy => {
                let ty = ty()?;
                ops::copy(s(0), ty, s(1) as u32, s(2), s(3) as u32, s(4) as u32)?;
                if unpacked(ty).is_ref() {
                    barrier(x, s(0));
                }
            }
            GcKind::ArrayInitData(d) => {
                let data = (*x.inst).data(d);
                ops::init_data(s(0), ty()?, s(1) as u32, data, s(2) as u32, s(3) as u32)?;
            }
            GcKind::ArrayInitElem(e) => {
                let elems = (*x.inst).elem(e);
                ops::init_elem(s(0), ty()?, s(1) as u32, elems, s(2) as u32, s(3) as u32)?;
                barrier(x, s(0));
            }
        }
    }
    Ok(())
}
