//! Control instructions: branches, compare-and-branch, `br_table`, fuel, traps.

use vm_core::runtime::TrapCode;

use crate::code::{Op, for_each_numeric};
use crate::exec::raw::Raw;
use crate::exec::{handler, next, next_with, operands, taken, trap};

handler!(unreachable(pc, fp, mb, ml, x) {
    let _ = (pc, fp, mb, ml);
    trap!(x, TrapCode::Unreachable)
});
handler!(fuel(pc, fp, mb, ml, x) {
    operands!(pc, Op::Fuel(n));
    x.fuel -= i64::from(n);
    next!(pc.add(1), fp, mb, ml, x)
});
handler!(fuel_check(pc, fp, mb, ml, x) {
    operands!(pc, Op::FuelCheck(n));
    x.fuel -= i64::from(n);
    if x.fuel < 0 {
        return trap!(x, TrapCode::OutOfFuel);
    }
    next!(pc.add(1), fp, mb, ml, x)
});
handler!(interrupt(pc, fp, mb, ml, x) {
    if (*x.interrupt).load(core::sync::atomic::Ordering::Relaxed) != 0 {
        return trap!(x, TrapCode::Interrupted);
    }
    next!(pc.add(1), fp, mb, ml, x)
});
handler!(arg(pc, fp, mb, ml, x) {
    next!(pc.add(1), fp, mb, ml, x)
});
handler!(br(pc, fp, mb, ml, x) {
    operands!(pc, Op::Br { offset });
    next!(pc.offset(1 + offset as isize), fp, mb, ml, x)
});
handler!(br_if_nez(pc, fp, mb, ml, x) {
    operands!(pc, Op::BrIfNez { cond, offset });
    if *fp.add(cond as usize) as u32 != 0 {
        taken!(pc.offset(1 + offset as isize), fp, mb, ml, x);
    }
    next!(pc.add(1), fp, mb, ml, x)
});
handler!(br_if_eqz(pc, fp, mb, ml, x) {
    operands!(pc, Op::BrIfEqz { cond, offset });
    if *fp.add(cond as usize) as u32 == 0 {
        taken!(pc.offset(1 + offset as isize), fp, mb, ml, x);
    }
    next!(pc.add(1), fp, mb, ml, x)
});
handler!(br_table(pc, fp, mb, ml, x) {
    operands!(pc, Op::BrTable { index, len });
    let i = (*fp.add(index as usize) as u32).min(len);
    // Every entry is a `Br` (the translator emits nothing else there, and nothing
    // else branches to it): take it here, with the target's handler that
    // `threaded` stored in it.
    let entry = pc.add(1 + i as usize);
    let Op::Br { offset } = (*entry).op else { next!(entry, fp, mb, ml, x) };
    next_with!((*entry).h, entry.offset(1 + offset as isize), fp, mb, ml, x)
});

macro_rules! define_branches {
    (
        unary { $($u:tt)* }
        unary_trap { $($ut:tt)* }
        binary { $($b:tt)* }
        binary_imm { $($bi:tt)* }
        binary_trap { $($bt:tt)* }
        branch { $( $c:ident $ci:ident [$cb:ident $cbi:ident] ! [$nb:ident $nbi:ident] ($ca:ty) = $cf:path, $cx:path; )* }
        add_branch { $( $ab:ident [$abr:ident $abi:ident $abl:ident] ($abt:ty) = $abf:path; )* }
        f64_pair { $($fp_:tt)* }
    ) => {
        $(
            handler!($cb(pc, fp, mb, ml, x) {
                operands!(pc, Op::$cb { lhs, rhs, offset });
                let a = <$ca as Raw>::from_raw(*fp.add(lhs as usize));
                let b = <$ca as Raw>::from_raw(*fp.add(rhs as usize));
                if $cf(a, b) != 0 {
                    taken!(pc.offset(1 + offset as isize), fp, mb, ml, x);
                }
                next!(pc.add(1), fp, mb, ml, x)
            });
            handler!($cbi(pc, fp, mb, ml, x) {
                operands!(pc, Op::$cbi { lhs, imm, offset });
                let a = <$ca as Raw>::from_raw(*fp.add(lhs as usize));
                let b = <$ca as Raw>::from_raw($cx(imm));
                if $cf(a, b) != 0 {
                    taken!(pc.offset(1 + offset as isize), fp, mb, ml, x);
                }
                next!(pc.add(1), fp, mb, ml, x)
            });
        )*
        $(
            handler!($abr(pc, fp, mb, ml, x) {
                operands!(pc, Op::$abr { slot, step, rhs, offset });
                let v = (*fp.add(slot as usize) as u32).wrapping_add(*fp.add(step as usize) as u32);
                *fp.add(slot as usize) = u64::from(v);
                let a = <$abt as Raw>::from_raw(u64::from(v));
                let b = <$abt as Raw>::from_raw(*fp.add(rhs as usize));
                if $abf(a, b) != 0 {
                    taken!(pc.offset(1 + offset as isize), fp, mb, ml, x);
                }
                next!(pc.add(1), fp, mb, ml, x)
            });
            handler!($abl(pc, fp, mb, ml, x) {
                operands!(pc, Op::$abl { dst, addr, rhs, offset });
                let v = match crate::exec::memory::load::<4>(mb, ml, *fp.add(addr as usize), 0) {
                    Ok(b) => u32::from_le_bytes(b),
                    Err(code) => return trap!(x, code),
                };
                *fp.add(dst as usize) = u64::from(v);
                // Read after the write: `rhs` may be `dst`.
                let a = <$abt as Raw>::from_raw(u64::from(v));
                let b = <$abt as Raw>::from_raw(*fp.add(rhs as usize));
                if $abf(a, b) != 0 {
                    taken!(pc.offset(1 + offset as isize), fp, mb, ml, x);
                }
                next!(pc.add(1), fp, mb, ml, x)
            });
            handler!($abi(pc, fp, mb, ml, x) {
                operands!(pc, Op::$abi { slot, imm, rhs, offset });
                let v = (*fp.add(slot as usize) as u32).wrapping_add(imm as u32);
                *fp.add(slot as usize) = u64::from(v);
                let a = <$abt as Raw>::from_raw(u64::from(v));
                let b = <$abt as Raw>::from_raw(*fp.add(rhs as usize));
                if $abf(a, b) != 0 {
                    taken!(pc.offset(1 + offset as isize), fp, mb, ml, x);
                }
                next!(pc.add(1), fp, mb, ml, x)
            });
        )*
    };
}
for_each_numeric!(define_branches);

handler!(copy_br(pc, fp, mb, ml, x) {
    operands!(pc, Op::CopyBr { dst, src, offset });
    *fp.add(dst as usize) = *fp.add(src as usize);
    next!(pc.offset(1 + offset as isize), fp, mb, ml, x)
});
handler!(i32_add_imm_br(pc, fp, mb, ml, x) {
    operands!(pc, Op::I32AddImmBr { dst, lhs, imm, offset });
    *fp.add(dst as usize) = u64::from((*fp.add(lhs as usize) as u32).wrapping_add(imm as u32));
    next!(pc.offset(1 + offset as isize), fp, mb, ml, x)
});

/// Defines the handlers of a float comparison fused with a branch taken when it
/// holds, and when it does not (NaN operands make every ordered comparison false).
macro_rules! float_branch {
    ($yes:ident, $no:ident, $t:ty, $cmp:path) => {
        handler!($yes(pc, fp, mb, ml, x) {
            operands!(pc, Op::$yes { lhs, rhs, offset });
            let a = <$t as Raw>::from_raw(*fp.add(lhs as usize));
            let b = <$t as Raw>::from_raw(*fp.add(rhs as usize));
            if $cmp(a, b) != 0 {
                taken!(pc.offset(1 + offset as isize), fp, mb, ml, x);
            }
            next!(pc.add(1), fp, mb, ml, x)
        });
        handler!($no(pc, fp, mb, ml, x) {
            operands!(pc, Op::$no { lhs, rhs, offset });
            let a = <$t as Raw>::from_raw(*fp.add(lhs as usize));
            let b = <$t as Raw>::from_raw(*fp.add(rhs as usize));
            if $cmp(a, b) == 0 {
                taken!(pc.offset(1 + offset as isize), fp, mb, ml, x);
            }
            next!(pc.add(1), fp, mb, ml, x)
        });
    };
}
float_branch!(BrF32Eq, BrF32NotEq, f32, crate::exec::binary::eq);
float_branch!(BrF32Ne, BrF32NotNe, f32, crate::exec::binary::ne);
float_branch!(BrF32Lt, BrF32NotLt, f32, crate::exec::binary::lt);
float_branch!(BrF32Gt, BrF32NotGt, f32, crate::exec::binary::gt);
float_branch!(BrF32Le, BrF32NotLe, f32, crate::exec::binary::le);
float_branch!(BrF32Ge, BrF32NotGe, f32, crate::exec::binary::ge);
float_branch!(BrF64Eq, BrF64NotEq, f64, crate::exec::binary::eq);
float_branch!(BrF64Ne, BrF64NotNe, f64, crate::exec::binary::ne);
float_branch!(BrF64Lt, BrF64NotLt, f64, crate::exec::binary::lt);
float_branch!(BrF64Gt, BrF64NotGt, f64, crate::exec::binary::gt);
float_branch!(BrF64Le, BrF64NotLe, f64, crate::exec::binary::le);
float_branch!(BrF64Ge, BrF64NotGe, f64, crate::exec::binary::ge);
