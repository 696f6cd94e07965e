//! Table instructions: get, set, size, grow, fill, copy, init.

use vm_core::runtime::{RawRef, TableSlot, TrapCode, VMTableDefinition};

/// The elements of a table.
///
/// # Safety
/// `t` points to the live definition of a `TableSlot`, not otherwise borrowed.
#[inline(always)]
pub unsafe fn elements<'a>(t: *mut VMTableDefinition) -> &'a mut [RawRef] {
    // SAFETY: the definition mirrors the slot's `elements` vector.
    unsafe { core::slice::from_raw_parts_mut((*t).base, (*t).length as usize) }
}

fn range(start: u64, len: u64, size: usize) -> Result<usize, TrapCode> {
    let start = start as u32 as u64;
    if start + (len as u32 as u64) > size as u64 {
        return Err(TrapCode::TableOutOfBounds);
    }
    Ok(start as usize)
}

/// `table.get`.
///
/// # Safety
/// As [`elements`].
#[inline(always)]
pub unsafe fn get(t: *mut VMTableDefinition, i: u64) -> Result<RawRef, TrapCode> {
    // SAFETY: forwarded contract.
    let e = unsafe { elements(t) };
    e.get(i as u32 as usize).copied().ok_or(TrapCode::TableOutOfBounds)
}

/// `table.set`.
///
/// # Safety
/// As [`elements`].
#[inline(always)]
pub unsafe fn set(t: *mut VMTableDefinition, i: u64, v: RawRef) -> Result<(), TrapCode> {
    // SAFETY: forwarded contract.
    let e = unsafe { elements(t) };
    *e.get_mut(i as u32 as usize).ok_or(TrapCode::TableOutOfBounds)? = v;
    Ok(())
}

/// `table.grow`: the old size, or `u32::MAX` (-1).
///
/// # Safety
/// `t` is the `def` field of a live `TableSlot` (its first field), not borrowed.
pub unsafe fn grow(t: *mut VMTableDefinition, n: u64, init: RawRef) -> u64 {
    // SAFETY: `TableSlot` is `repr(C)` with `def` first.
    let slot = unsafe { &mut *t.cast::<TableSlot>() };
    slot.grow(n as u32, init).map_or(u64::from(u32::MAX), u64::from)
}

/// `table.fill`.
///
/// # Safety
/// As [`elements`].
pub unsafe fn fill(t: *mut VMTableDefinition, i: u64, v: RawRef, n: u64) -> Result<(), TrapCode> {
    // SAFETY: forwarded contract.
    let e = unsafe { elements(t) };
    let i = range(i, n, e.len())?;
    e[i..i + n as u32 as usize].fill(v);
    Ok(())
}

/// `table.copy` (the tables may be the same).
///
/// # Safety
/// Both point to live table definitions.
pub unsafe fn copy(
    dst: *mut VMTableDefinition,
    src: *mut VMTableDefinition,
    d: u64,
    s: u64,
    n: u64,
) -> Result<(), TrapCode> {
    // SAFETY: the caller guarantees both are live; ranges are checked; `ptr::copy`
    // handles overlap within one table.
    unsafe {
        let d = range(d, n, (*dst).length as usize)?;
        let s = range(s, n, (*src).length as usize)?;
        core::ptr::copy((*src).base.add(s), (*dst).base.add(d), n as u32 as usize);
    }
    Ok(())
}

/// `table.init` from an element segment.
///
/// # Safety
/// As [`elements`].
pub unsafe fn init(
    t: *mut VMTableDefinition,
    seg: &[RawRef],
    d: u64,
    s: u64,
    n: u64,
) -> Result<(), TrapCode> {
    // SAFETY: forwarded contract.
    let e = unsafe { elements(t) };
    let d = range(d, n, e.len())?;
    let s = range(s, n, seg.len())?;
    let n = n as u32 as usize;
    e[d..d + n].copy_from_slice(&seg[s..s + n]);
    Ok(())
}
