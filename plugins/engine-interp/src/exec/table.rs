//! Table instructions: get, set, size, grow, fill, copy, init. The operations are
//! vm-core's ([`VMTableDefinition::get`](vm_core::runtime::VMTableDefinition::get)
//! and the rest), inlined into the handlers.

use vm_core::Composition;
use vm_core::runtime::{RawRef, Store};

use crate::code::Op;
use crate::exec::{handler, next, operands, trap};

/// `table.grow` on table `addr` of `store`: the old size, or `u32::MAX` (-1).
///
/// # Safety
/// `store` is live and not otherwise borrowed.
pub unsafe fn grow<C: Composition>(store: *mut Store<C>, addr: u32, n: u64, init: RawRef) -> u64 {
    // SAFETY: the caller's contract.
    let store = unsafe { &mut *store };
    store.grow_table(addr, n as u32, init).map_or(u64::from(u32::MAX), u64::from)
}

handler!(table_get(pc, fp, mb, ml, x) {
    operands!(pc, Op::TableGet { table, base });
    let a = fp.add(base as usize);
    match (**(*x.vmctx).tables.add(table as usize)).get(*a as u32) {
        Ok(v) => *a = v,
        Err(code) => return trap!(x, code),
    }
    next!(pc.add(1), fp, mb, ml, x)
});
handler!(table_set(pc, fp, mb, ml, x) {
    operands!(pc, Op::TableSet { table, base });
    let a = fp.add(base as usize);
    if let Err(code) = (**(*x.vmctx).tables.add(table as usize)).set(*a as u32, *a.add(1)) {
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
    let t = &**(*x.vmctx).tables.add(table as usize);
    if let Err(code) = t.fill(*a as u32, *a.add(1), *a.add(2) as u32) {
        return trap!(x, code);
    }
    next!(pc.add(1), fp, mb, ml, x)
});
handler!(table_copy(pc, fp, mb, ml, x) {
    operands!(pc, Op::TableCopy { dst, src, base });
    let a = fp.add(base as usize);
    let tabs = (*x.vmctx).tables;
    let (d, s) = (*tabs.add(dst as usize), *tabs.add(src as usize));
    let (d_at, s_at, n) = (*a as u32, *a.add(1) as u32, *a.add(2) as u32);
    if let Err(code) = (*d).copy_from(&*s, d_at, s_at, n) {
        return trap!(x, code);
    }
    next!(pc.add(1), fp, mb, ml, x)
});
handler!(table_init(pc, fp, mb, ml, x) {
    operands!(pc, Op::TableInit { table, elem, base });
    let a = fp.add(base as usize);
    let seg = (*x.inst).elem(elem);
    let t = &**(*x.vmctx).tables.add(table as usize);
    if let Err(code) = t.init(seg, *a as u32, *a.add(1) as u32, *a.add(2) as u32) {
        return trap!(x, code);
    }
    next!(pc.add(1), fp, mb, ml, x)
});
handler!(elem_drop(pc, fp, mb, ml, x) {
    operands!(pc, Op::ElemDrop(e));
    (*x.inst.cast_mut()).drop_elem(e);
    next!(pc.add(1), fp, mb, ml, x)
});
