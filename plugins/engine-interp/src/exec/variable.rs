//! Slot and global instructions: copies, constants, `select`, globals, references.

use crate::code::Op;
use crate::exec::{handler, next, operands, trap};

handler!(copy(pc, fp, mb, ml, x) {
    operands!(pc, Op::Copy { dst, src });
    *fp.add(dst as usize) = *fp.add(src as usize);
    next!(pc.add(1), fp, mb, ml, x)
});
handler!(constant(pc, fp, mb, ml, x) {
    operands!(pc, Op::Const { dst, lo, hi });
    *fp.add(dst as usize) = u64::from(lo) | (u64::from(hi) << 32);
    next!(pc.add(1), fp, mb, ml, x)
});
handler!(select(pc, fp, mb, ml, x) {
    operands!(pc, Op::Select { dst, rhs, cond });
    if *fp.add(cond as usize) as u32 == 0 {
        *fp.add(dst as usize) = *fp.add(rhs as usize);
    }
    next!(pc.add(1), fp, mb, ml, x)
});
handler!(global_get(pc, fp, mb, ml, x) {
    operands!(pc, Op::GlobalGet { dst, global });
    *fp.add(dst as usize) = (**x.globals.add(global as usize)).lo;
    next!(pc.add(1), fp, mb, ml, x)
});
handler!(global_set(pc, fp, mb, ml, x) {
    operands!(pc, Op::GlobalSet { src, global });
    (**x.globals.add(global as usize)).lo = *fp.add(src as usize);
    next!(pc.add(1), fp, mb, ml, x)
});
handler!(ref_is_null(pc, fp, mb, ml, x) {
    operands!(pc, Op::RefIsNull { dst, src });
    *fp.add(dst as usize) = u64::from(*fp.add(src as usize) == 0);
    next!(pc.add(1), fp, mb, ml, x)
});
handler!(ref_func(pc, fp, mb, ml, x) {
    operands!(pc, Op::RefFunc { dst, func });
    *fp.add(dst as usize) = *(*x.vmctx).funcs.add(func as usize) as u64;
    next!(pc.add(1), fp, mb, ml, x)
});
handler!(ref_as_non_null(pc, fp, mb, ml, x) {
    operands!(pc, Op::RefAsNonNull { src });
    if *fp.add(src as usize) == 0 {
        return trap!(x, vm_core::runtime::TrapCode::NullReference);
    }
    next!(pc.add(1), fp, mb, ml, x)
});
