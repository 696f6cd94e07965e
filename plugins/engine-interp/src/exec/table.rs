//! Table instructions: get, set, size, grow, fill, copy, init.

use vm_core::Composition;
use vm_core::runtime::{RawRef, Store, TrapCode, VMTableDefinition};

use crate::code::Op;
use crate::exec::{handler, next, operands, trap};

/// The elements of a table.
///
/// # Safety
/// `t` points to the live definition of a table, not otherwise borrowed.
#[inline(always)]
pub unsafe fn elements<'a>(t: *mut VMTableDefinition) -> &'a mut [RawRef] {
    // SAFETY: the definition describes the table's elements.
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

/// `table.grow` on table `addr` of `store`: the old size, or `u32::MAX` (-1).
///
/// # Safety
/// `store` is live and not otherwise borrowed.
pub unsafe fn grow<C: Composition>(store: *mut Store<C>, addr: u32, n: u64, init: RawRef) -> u64 {
    // SAFETY: the caller's contract.
    let store = unsafe { &mut *store };
    store.grow_table(addr, n as u32, init).map_or(u64::from(u32::MAX), u64::from)
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

handler!(table_get(pc, fp, mb, ml, x) {
    operands!(pc, Op::TableGet { table, base });
    let a = fp.add(base as usize);
    match get(*(*x.vmctx).tables.add(table as usize), *a) {
        Ok(v) => *a = v,
        Err(code) => return trap!(x, code),
    }
    next!(pc.add(1), fp, mb, ml, x)
});
handler!(table_set(pc, fp, mb, ml, x) {
    operands!(pc, Op::TableSet { table, base });
    let a = fp.add(base as usize);
    if let Err(code) = set(*(*x.vmctx).tables.add(table as usize), *a, *a.add(1)) {
        return trap!(x, code);
    }
    next!(pc.add(1), fp, mb, ml, x)
});
handler!(table_size(pc, fp, mb, ml, x) {
    operands!(pc, Op::TableSize { table, dst });
    *fp.add(dst as usize) = (**(*x.vmctx).tables.add(table as usize)).length;
    next!(pc.add(1), fp, mb, ml, x)
});
handler!(table_grow(pc, fp, mb, ml, x) {
    operands!(pc, Op::TableGrow { table, base });
    let a = fp.add(base as usize);
    let addrs = &(*x.inst).table_addrs;
    let addr = *addrs.get_unchecked(table as usize);
    *a = grow(x.store, addr, *a.add(1), *a);
    next!(pc.add(1), fp, mb, ml, x)
});
handler!(table_fill(pc, fp, mb, ml, x) {
    operands!(pc, Op::TableFill { table, base });
    let a = fp.add(base as usize);
    if let Err(code) = fill(*(*x.vmctx).tables.add(table as usize), *a, *a.add(1), *a.add(2)) {
        return trap!(x, code);
    }
    next!(pc.add(1), fp, mb, ml, x)
});
handler!(table_copy(pc, fp, mb, ml, x) {
    operands!(pc, Op::TableCopy { dst, src, base });
    let a = fp.add(base as usize);
    let tabs = (*x.vmctx).tables;
    let (d, s) = (*tabs.add(dst as usize), *tabs.add(src as usize));
    if let Err(code) = copy(d, s, *a, *a.add(1), *a.add(2)) {
        return trap!(x, code);
    }
    next!(pc.add(1), fp, mb, ml, x)
});
handler!(table_init(pc, fp, mb, ml, x) {
    operands!(pc, Op::TableInit { table, elem, base });
    let a = fp.add(base as usize);
    let elems: &[Box<[u64]>] = &(*x.inst).elems;
    let seg: &[u64] = elems.get(elem as usize).map_or(&[], |b| &b[..]);
    let t = *(*x.vmctx).tables.add(table as usize);
    if let Err(code) = init(t, seg, *a, *a.add(1), *a.add(2)) {
        return trap!(x, code);
    }
    next!(pc.add(1), fp, mb, ml, x)
});
handler!(elem_drop(pc, fp, mb, ml, x) {
    operands!(pc, Op::ElemDrop(e));
    let elems: &mut [Box<[u64]>] = &mut (*x.inst.cast_mut()).elems;
    if let Some(s) = elems.get_mut(e as usize) {
        *s = Box::new([]);
    }
    next!(pc.add(1), fp, mb, ml, x)
});
