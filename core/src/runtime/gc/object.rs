//! The GC object model: how a reference of the `any` hierarchy is encoded in a
//! [`RawRef`], the header every struct and array starts with, where fields and
//! elements live, and how a collector finds the references an object holds.
//!
//! # References
//!
//! | raw bits | anyref meaning |
//! |---|---|
//! | `0` | null |
//! | `x << 1 \| 1` | `(ref i31)` holding the 31-bit `x` |
//! | `e << 2 \| 2` | an internalized external reference (`any.convert_extern` of the externref `e`) |
//! | a multiple of 8 | a struct or array: the address of its [`ObjectHeader`] |
//!
//! An externref (the host value plus one, below 2³³) that `extern.convert_any` made
//! from an anyref `a` is `a | EXTERN_ANY` (bit 63, above any user-space address), so
//! both conversions round-trip: `any.convert_extern` of such an externref gives `a`
//! back, `extern.convert_any` of an internalized one gives `e` back. A collector
//! therefore finds objects in slots of both representations ([`visit_ref`]).
//!
//! # Objects
//!
//! An object is an [`ObjectHeader`] (its type's [`TypeInfo`], a word the collector
//! owns, an array's length) followed by its fields: a struct's at the offsets of its
//! [`StructLayout`](super::types::StructLayout), an array's elements from
//! [`ARRAY_DATA`], each [`StorageType::size`] bytes. Objects are 8-byte aligned and a
//! multiple of 8 bytes long ([`object_size`]). Generated code reads these constants,
//! never literal offsets.

use core::ptr::NonNull;

use super::types::{CompositeType, StorageType, TypeInfo};
use crate::runtime::offsets::RawRef;
use crate::runtime::types::{HeapType, RefType};
use crate::runtime::{TrapCode, ValType};

/// The header of every struct and array.
#[repr(C)]
#[derive(Debug)]
pub struct ObjectHeader {
    /// The object's type (process-lifetime, see [`super::types::info`]).
    pub ty: *const TypeInfo,
    /// Owned by the collector (mark bits, a forwarding state…); zero when allocated.
    pub gc: u32,
    /// An array's length in elements (zero for a struct).
    pub len: u32,
}

/// `ObjectHeader::ty`.
pub const OBJECT_TYPE: usize = 0;
/// `ObjectHeader::gc`.
pub const OBJECT_GC: usize = 8;
/// `ObjectHeader::len`.
pub const OBJECT_LEN: usize = 12;
/// `size_of::<ObjectHeader>()`: where a struct's first field may start.
pub const HEADER_SIZE: usize = 16;
/// Where an array's first element starts.
pub const ARRAY_DATA: usize = HEADER_SIZE;
/// The largest object, in bytes (an allocation beyond it is out of GC memory).
pub const MAX_OBJECT_SIZE: usize = 1 << 32;

/// Bit 63 of an externref: it holds an externalized anyref (see the module docs).
pub const EXTERN_ANY: u64 = 1 << 63;

/// `ref.i31`: the low 31 bits of `x`.
#[inline]
pub const fn i31_new(x: i32) -> RawRef {
    (((x as u32) & 0x7fff_ffff) as u64) << 1 | 1
}

/// `i31.get_s`/`i31.get_u` of a non-null i31 reference.
#[inline]
pub const fn i31_get(r: RawRef, signed: bool) -> i32 {
    let x = (r >> 1) as u32 & 0x7fff_ffff;
    if signed { ((x << 1) as i32) >> 1 } else { x as i32 }
}

/// Whether `r` is an i31 reference.
#[inline]
pub const fn is_i31(r: RawRef) -> bool {
    r & 1 == 1
}

/// The object `r` points to, if it is a struct or array reference.
#[inline]
pub fn as_object(r: RawRef) -> Option<NonNull<ObjectHeader>> {
    if r & 7 == 0 { NonNull::new(r as usize as *mut ObjectHeader) } else { None }
}

/// `any.convert_extern`.
#[inline]
pub const fn any_convert_extern(e: RawRef) -> RawRef {
    if e == 0 {
        0
    } else if e & EXTERN_ANY != 0 {
        e & !EXTERN_ANY
    } else {
        e << 2 | 2
    }
}

/// `extern.convert_any`.
#[inline]
pub const fn extern_convert_any(a: RawRef) -> RawRef {
    if a == 0 {
        0
    } else if a & 3 == 2 {
        a >> 2
    } else {
        a | EXTERN_ANY
    }
}

/// The type of the object at `obj`.
///
/// # Safety
/// `obj` points to a live object.
#[inline]
pub unsafe fn type_of(obj: NonNull<ObjectHeader>) -> &'static TypeInfo {
    // SAFETY: a live object's header holds a process-lifetime `TypeInfo` (the caller
    // promises `obj` is live; `TypeInfo`s are never freed).
    unsafe { &*(*obj.as_ptr()).ty }
}

/// Bytes of an object of type `ty` (an array of `len` elements), header included,
/// rounded up to 8; `None` beyond [`MAX_OBJECT_SIZE`].
pub fn object_size(ty: &TypeInfo, len: u32) -> Option<usize> {
    let size = match &ty.composite {
        CompositeType::Struct(_) => ty.layout.as_ref().map_or(HEADER_SIZE, |l| l.size as usize),
        CompositeType::Array(f) => {
            ARRAY_DATA.checked_add((len as usize).checked_mul(f.storage.size() as usize)?)?
        }
        CompositeType::Func(_) => return None,
    };
    let size = size.checked_next_multiple_of(8)?;
    (size <= MAX_OBJECT_SIZE).then_some(size)
}

/// Writes the header of a new object of type `ty` (an array of `len` elements) at
/// `at`, whose bytes are zero, and returns it as an object.
///
/// # Safety
/// `at` is 8-byte aligned, writable for [`object_size`]`(ty, len)` bytes, all zero.
#[inline]
pub unsafe fn init(at: NonNull<u8>, ty: &'static TypeInfo, len: u32) -> NonNull<ObjectHeader> {
    let obj = at.cast::<ObjectHeader>();
    // SAFETY: the caller promises `at` is aligned and writable for the whole object.
    unsafe { obj.as_ptr().write(ObjectHeader { ty, gc: 0, len }) };
    obj
}

/// Whether a non-null `r` of the `any` hierarchy is of heap type `heap`.
fn any_matches(r: RawRef, heap: HeapType) -> bool {
    match heap {
        HeapType::Any => true,
        HeapType::None => false,
        HeapType::Eq | HeapType::I31 if is_i31(r) => true,
        _ if is_i31(r) => false,
        _ => match as_object(r) {
            // An internalized external reference is only an `any`.
            None => false,
            Some(obj) => {
                // SAFETY: a non-null, non-i31, non-extern anyref reaching a cast is a
                // live object (engines and collectors keep them so).
                let ty = unsafe { type_of(obj) };
                match heap {
                    HeapType::Eq => true,
                    HeapType::Struct | HeapType::Array => ty.top_kind() == heap,
                    HeapType::Concrete(id) => {
                        super::types::info(id).is_some_and(|t| ty.is_subtype_of(t))
                    }
                    _ => false,
                }
            }
        },
    }
}

/// `ref.test`: whether `r`, a reference of `target`'s hierarchy, is of type `target`.
/// `func_type` gives the canonical type id of a non-null funcref (the engine knows
/// how its store names signatures).
pub fn ref_test(r: RawRef, target: RefType, func_type: impl Fn(RawRef) -> Option<u32>) -> bool {
    if r == 0 {
        return target.nullable;
    }
    match target.heap {
        HeapType::Func | HeapType::Extern | HeapType::Exn => true,
        HeapType::NoFunc | HeapType::NoExtern | HeapType::NoExn | HeapType::None => false,
        HeapType::Concrete(id) if target.repr() == ValType::FuncRef => {
            match (func_type(r).and_then(super::types::info), super::types::info(id)) {
                (Some(have), Some(want)) => have.is_subtype_of(want),
                _ => false,
            }
        }
        heap => any_matches(r, heap),
    }
}

/// `ref.cast`: `r` if [`ref_test`], else the trap "cast failure".
///
/// # Errors
/// [`TrapCode::CastFailure`].
pub fn ref_cast(
    r: RawRef,
    target: RefType,
    func_type: impl Fn(RawRef) -> Option<u32>,
) -> Result<RawRef, TrapCode> {
    if ref_test(r, target, func_type) { Ok(r) } else { Err(TrapCode::CastFailure) }
}

/// Reads a field or element at `offset` bytes into `obj`, extended to the operand
/// stack's 64 (or, for `v128`, 128) bits: packed fields sign-extended when `signed`,
/// zero-extended otherwise.
///
/// # Safety
/// `obj` is a live object and `offset` the offset of a field of storage type `ty` in it.
#[inline]
pub unsafe fn read(
    obj: NonNull<ObjectHeader>,
    offset: usize,
    ty: StorageType,
    signed: bool,
) -> u128 {
    // SAFETY: the caller promises `offset` is a field of `obj` of type `ty`; fields are
    // aligned to their size (at most 8, a `v128` is read unaligned).
    unsafe {
        let p = obj.as_ptr().cast::<u8>().add(offset);
        match ty.size() {
            1 if signed => *p.cast::<i8>() as i32 as u32 as u128,
            1 => u128::from(*p),
            2 if signed => *p.cast::<i16>() as i32 as u32 as u128,
            2 => u128::from(*p.cast::<u16>()),
            4 => u128::from(*p.cast::<u32>()),
            8 => u128::from(*p.cast::<u64>()),
            _ => p.cast::<u128>().read_unaligned(),
        }
    }
}

/// Writes a field or element (packed fields keep their low bits).
///
/// # Safety
/// As [`read`].
#[inline]
pub unsafe fn write(obj: NonNull<ObjectHeader>, offset: usize, ty: StorageType, v: u128) {
    // SAFETY: as in `read`.
    unsafe {
        let p = obj.as_ptr().cast::<u8>().add(offset);
        match ty.size() {
            1 => *p = v as u8,
            2 => *p.cast::<u16>() = v as u16,
            4 => *p.cast::<u32>() = v as u32,
            8 => *p.cast::<u64>() = v as u64,
            _ => p.cast::<u128>().write_unaligned(v),
        }
    }
}

/// Calls `f` with the object a reference slot of representation `repr` points to, if
/// any, and stores back the address `f` returns (a moving collector's new address),
/// keeping the slot's encoding.
#[inline]
pub fn visit_ref(
    slot: &mut RawRef,
    repr: ValType,
    f: &mut impl FnMut(NonNull<ObjectHeader>) -> NonNull<ObjectHeader>,
) {
    let (inner, tag) = match repr {
        ValType::AnyRef => (*slot, 0),
        ValType::ExternRef if *slot & EXTERN_ANY != 0 => (*slot & !EXTERN_ANY, EXTERN_ANY),
        _ => return,
    };
    if let Some(obj) = as_object(inner) {
        *slot = f(obj).as_ptr() as usize as u64 | tag;
    }
}

/// Calls `f` (as [`visit_ref`]) for every reference `obj` holds.
///
/// # Safety
/// `obj` is a live object, and `f` returns the addresses of live objects.
pub unsafe fn trace(
    obj: NonNull<ObjectHeader>,
    f: &mut impl FnMut(NonNull<ObjectHeader>) -> NonNull<ObjectHeader>,
) {
    // SAFETY: the caller promises `obj` is live.
    let ty = unsafe { type_of(obj) };
    let base = obj.as_ptr().cast::<u8>();
    match &ty.composite {
        CompositeType::Struct(fields) => {
            let Some(layout) = &ty.layout else { return };
            for (field, &off) in fields.iter().zip(layout.offsets.iter()) {
                if let StorageType::Val(repr) = field.storage
                    && field.storage.is_ref()
                {
                    // SAFETY: `off` is the offset of a reference field of `obj`
                    // (8-byte aligned, inside the object).
                    visit_ref(unsafe { &mut *base.add(off as usize).cast::<u64>() }, repr, f);
                }
            }
        }
        CompositeType::Array(elem) => {
            if let StorageType::Val(repr) = elem.storage
                && elem.storage.is_ref()
            {
                // SAFETY: `obj` is a live array, its header's `len` is its length.
                let len = unsafe { (*obj.as_ptr()).len } as usize;
                for i in 0..len {
                    // SAFETY: element `i < len` of an array of 8-byte references.
                    let slot = unsafe { &mut *base.add(ARRAY_DATA + 8 * i).cast::<u64>() };
                    visit_ref(slot, repr, f);
                }
            }
        }
        CompositeType::Func(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::{offset_of, size_of};

    #[test]
    fn offsets_match_layout() {
        assert_eq!(OBJECT_TYPE, offset_of!(ObjectHeader, ty));
        assert_eq!(OBJECT_GC, offset_of!(ObjectHeader, gc));
        assert_eq!(OBJECT_LEN, offset_of!(ObjectHeader, len));
        assert_eq!(HEADER_SIZE, size_of::<ObjectHeader>());
    }

    #[test]
    fn i31_round_trips_with_sign_and_zero_extension() {
        for x in [0, 1, -1, 0x3fff_ffff, -0x4000_0000, i32::MAX, i32::MIN] {
            let r = i31_new(x);
            assert!(is_i31(r) && as_object(r).is_none());
            assert_eq!(i31_get(r, true), (x << 1) >> 1);
            assert_eq!(i31_get(r, false), x & 0x7fff_ffff);
        }
    }

    #[test]
    fn extern_and_any_conversions_round_trip() {
        for e in [1u64, 2, 7, 1 << 32] {
            let a = any_convert_extern(e);
            assert!(!is_i31(a) && as_object(a).is_none());
            assert_eq!(extern_convert_any(a), e);
        }
        for a in [i31_new(5), 0x1000, 0x7fff_ffff_fff8] {
            let e = extern_convert_any(a);
            assert_eq!(any_convert_extern(e), a);
        }
        assert_eq!(any_convert_extern(0), 0);
        assert_eq!(extern_convert_any(0), 0);
    }
}
