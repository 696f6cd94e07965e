//! The semantics of the GC instructions on objects, once for every engine: the
//! interpreter's handlers call these, and a JIT either lowers the simple accesses
//! inline from [`super::object`]'s offsets or calls these as runtime functions.
//!
//! Allocation is [`super::heap::allocate`]: the caller hands the roots of the moment,
//! which include the operands of the instruction, so a moving collector updates
//! them; it then fills the new object from its (updated) operands ([`init_fields`],
//! [`fill`], [`init_data`], [`init_elem`]). Nothing here collects.
//!
//! Every function takes references as [`RawRef`]s of the right hierarchy, as
//! validation guarantees, and checks what execution must: null (the trap of the
//! instruction's family) and bounds.

use core::ptr::NonNull;

use super::object::{self, ARRAY_DATA, ObjectHeader};
use super::types::{StorageType, TypeInfo};
use crate::runtime::TrapCode;
use crate::runtime::offsets::RawRef;

/// The struct `r` refers to.
///
/// # Errors
/// "null structure reference".
#[inline]
pub fn struct_ref(r: RawRef) -> Result<NonNull<ObjectHeader>, TrapCode> {
    object::as_object(r).ok_or(TrapCode::NullStructReference)
}

/// The array `r` refers to.
///
/// # Errors
/// "null array reference".
#[inline]
pub fn array_ref(r: RawRef) -> Result<NonNull<ObjectHeader>, TrapCode> {
    object::as_object(r).ok_or(TrapCode::NullArrayReference)
}

/// `i31.get_s`/`i31.get_u`.
///
/// # Errors
/// "null i31 reference".
#[inline]
pub fn i31_get(r: RawRef, signed: bool) -> Result<i32, TrapCode> {
    if r == 0 { Err(TrapCode::NullI31Reference) } else { Ok(object::i31_get(r, signed)) }
}

/// Field `field` of struct type `ty`: its offset and storage type.
#[inline]
fn field(ty: &TypeInfo, field: u32) -> (usize, StorageType) {
    let off = ty.layout.as_ref().and_then(|l| l.offsets.get(field as usize)).copied();
    let st = ty.fields().get(field as usize).map(|f| f.storage);
    match (off, st) {
        (Some(off), Some(st)) => (off as usize, st),
        // Validation only lets existing fields of struct types through.
        _ => (object::HEADER_SIZE, StorageType::I8),
    }
}

/// `struct.get`, `struct.get_s`, `struct.get_u` of field `idx` of `r`, a struct of
/// type `ty` (or a subtype).
///
/// # Errors
/// "null structure reference".
#[inline]
pub fn struct_get(r: RawRef, ty: &TypeInfo, idx: u32, signed: bool) -> Result<u128, TrapCode> {
    let obj = struct_ref(r)?;
    let (off, st) = field(ty, idx);
    // SAFETY: `obj` is a live struct of `ty` or a subtype (validation), which has the
    // field at the same offset (subtypes extend their supertype's fields).
    Ok(unsafe { object::read(obj, off, st, signed) })
}

/// `struct.set`.
///
/// # Errors
/// "null structure reference".
#[inline]
pub fn struct_set(r: RawRef, ty: &TypeInfo, idx: u32, v: u128) -> Result<(), TrapCode> {
    let obj = struct_ref(r)?;
    let (off, st) = field(ty, idx);
    // SAFETY: as in `struct_get`.
    unsafe { object::write(obj, off, st, v) };
    Ok(())
}

/// `struct.new`'s second half: writes the fields of a new struct `obj` of type `ty`
/// from `vals`, in field order.
///
/// # Safety
/// `obj` is a live struct of type `ty`.
pub unsafe fn init_fields(
    obj: NonNull<ObjectHeader>,
    ty: &TypeInfo,
    vals: impl IntoIterator<Item = u128>,
) {
    for (k, v) in vals.into_iter().enumerate() {
        let (off, st) = field(ty, k as u32);
        // SAFETY: the caller promises `obj` is a struct of `ty`; `k` is one of its fields.
        unsafe { object::write(obj, off, st, v) };
    }
}

/// The element type of array type `ty` and the byte offset of element `i`.
#[inline]
fn element(ty: &TypeInfo, i: u32) -> (usize, StorageType) {
    let st = ty.element().map_or(StorageType::I8, |f| f.storage);
    (ARRAY_DATA + i as usize * st.size() as usize, st)
}

/// The length of array `obj`.
#[inline]
fn len_of(obj: NonNull<ObjectHeader>) -> u32 {
    // SAFETY: `obj` is a live object (every caller got it from a non-null reference).
    unsafe { (*obj.as_ptr()).len }
}

/// Checks `at + n <= len` without overflow.
#[inline]
fn in_bounds(at: u32, n: u32, len: u32) -> Result<(), TrapCode> {
    match at.checked_add(n) {
        Some(end) if end <= len => Ok(()),
        _ => Err(TrapCode::ArrayOutOfBounds),
    }
}

/// `array.len`.
///
/// # Errors
/// "null array reference".
#[inline]
pub fn array_len(r: RawRef) -> Result<u32, TrapCode> {
    Ok(len_of(array_ref(r)?))
}

/// `array.get`, `array.get_s`, `array.get_u` of element `i` of `r`, an array of type
/// `ty` (or a subtype).
///
/// # Errors
/// "null array reference", "out of bounds array access".
#[inline]
pub fn array_get(r: RawRef, ty: &TypeInfo, i: u32, signed: bool) -> Result<u128, TrapCode> {
    let obj = array_ref(r)?;
    in_bounds(i, 1, len_of(obj))?;
    let (off, st) = element(ty, i);
    // SAFETY: `i` is inside the live array `obj` of element type `st`.
    Ok(unsafe { object::read(obj, off, st, signed) })
}

/// `array.set`.
///
/// # Errors
/// "null array reference", "out of bounds array access".
#[inline]
pub fn array_set(r: RawRef, ty: &TypeInfo, i: u32, v: u128) -> Result<(), TrapCode> {
    let obj = array_ref(r)?;
    in_bounds(i, 1, len_of(obj))?;
    let (off, st) = element(ty, i);
    // SAFETY: as in `array_get`.
    unsafe { object::write(obj, off, st, v) };
    Ok(())
}

/// `array.fill` (and `array.new`'s second half): elements `at..at + n` of `r` become `v`.
///
/// # Errors
/// "null array reference", "out of bounds array access".
pub fn fill(r: RawRef, ty: &TypeInfo, at: u32, v: u128, n: u32) -> Result<(), TrapCode> {
    let obj = array_ref(r)?;
    in_bounds(at, n, len_of(obj))?;
    for i in at..at + n {
        let (off, st) = element(ty, i);
        // SAFETY: `i` is inside the live array.
        unsafe { object::write(obj, off, st, v) };
    }
    Ok(())
}

/// `array.copy`: elements `s..s + n` of `src` to `d..d + n` of `dst` (arrays of the
/// same element size; overlapping ranges copy as if through a buffer).
///
/// # Errors
/// "null array reference", "out of bounds array access".
pub fn copy(
    dst: RawRef,
    dst_ty: &TypeInfo,
    d: u32,
    src: RawRef,
    s: u32,
    n: u32,
) -> Result<(), TrapCode> {
    let (dobj, sobj) = (array_ref(dst)?, array_ref(src)?);
    in_bounds(d, n, len_of(dobj))?;
    in_bounds(s, n, len_of(sobj))?;
    let (doff, st) = element(dst_ty, d);
    let size = st.size() as usize;
    let soff = ARRAY_DATA + s as usize * size;
    // SAFETY: both ranges are inside live arrays whose elements are `size` bytes
    // (validation: the source's element type matches the destination's).
    unsafe {
        core::ptr::copy(
            sobj.as_ptr().cast::<u8>().add(soff),
            dobj.as_ptr().cast::<u8>().add(doff),
            n as usize * size,
        );
    }
    Ok(())
}

/// Checks that `n` elements of `size` bytes from byte `s` lie inside `len` bytes.
fn bytes_in_bounds(s: u32, n: u32, size: u32, len: usize) -> bool {
    (s as u64) + (n as u64) * (size as u64) <= len as u64
}

/// Whether `array.new_data` of `n` elements of array type `ty` from byte `s` of a
/// data segment of `len` bytes is inside it (checked before allocating).
///
/// # Errors
/// "out of bounds memory access".
pub fn check_data(ty: &TypeInfo, s: u32, n: u32, len: usize) -> Result<(), TrapCode> {
    let size = element(ty, 0).1.size();
    if bytes_in_bounds(s, n, size, len) { Ok(()) } else { Err(TrapCode::MemoryOutOfBounds) }
}

/// `array.init_data` (and `array.new_data`'s second half): elements `d..d + n` of `r`
/// from the bytes of `data` at `s` (little-endian, as a load would read them).
///
/// # Errors
/// "null array reference", "out of bounds array access", "out of bounds memory access".
pub fn init_data(
    r: RawRef,
    ty: &TypeInfo,
    d: u32,
    data: &[u8],
    s: u32,
    n: u32,
) -> Result<(), TrapCode> {
    let obj = array_ref(r)?;
    in_bounds(d, n, len_of(obj))?;
    check_data(ty, s, n, data.len())?;
    let (off, st) = element(ty, d);
    let bytes = n as usize * st.size() as usize;
    // SAFETY: the destination range is inside the live array; the source inside `data`.
    unsafe {
        core::ptr::copy_nonoverlapping(
            data.as_ptr().add(s as usize),
            obj.as_ptr().cast::<u8>().add(off),
            bytes,
        );
    }
    Ok(())
}

/// Whether `array.new_elem` of `n` elements from index `s` of an element segment of
/// `len` items is inside it (checked before allocating).
///
/// # Errors
/// "out of bounds table access".
pub fn check_elem(s: u32, n: u32, len: usize) -> Result<(), TrapCode> {
    if (s as u64) + (n as u64) <= len as u64 { Ok(()) } else { Err(TrapCode::TableOutOfBounds) }
}

/// `array.init_elem` (and `array.new_elem`'s second half): elements `d..d + n` of `r`
/// from the references `elems[s..s + n]`.
///
/// # Errors
/// "null array reference", "out of bounds array access", "out of bounds table access".
pub fn init_elem(
    r: RawRef,
    ty: &TypeInfo,
    d: u32,
    elems: &[RawRef],
    s: u32,
    n: u32,
) -> Result<(), TrapCode> {
    let obj = array_ref(r)?;
    in_bounds(d, n, len_of(obj))?;
    check_elem(s, n, elems.len())?;
    for k in 0..n {
        let (off, st) = element(ty, d + k);
        // SAFETY: element `d + k` is inside the live array (checked above).
        unsafe { object::write(obj, off, st, u128::from(elems[(s + k) as usize])) };
    }
    Ok(())
}

/// `ref.eq`.
#[inline]
pub const fn ref_eq(a: RawRef, b: RawRef) -> bool {
    a == b
}

#[cfg(test)]
mod tests;
