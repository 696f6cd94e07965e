//! Control instructions: branches, compare-and-branch, `br_table`, fuel, traps.

use vm_core::runtime::TrapCode;

use crate::code::{Op, for_each_numeric};
use crate::exec::raw::Raw;
use crate::exec::{handler, next, operands, taken, trap};

handler!(unreachable(pc, fp, mb, ml, x) {
    let _ = (pc, fp, mb, ml);
    trap!(x, TrapCode::Unreachable)
});
handler!(fuel(pc, fp, mb, ml, x) {
    operands!(pc, Op::Fuel(n));
    x.fuel -= i64::from(n);
    if x.fuel < 0 {
        return trap!(x, TrapCode::OutOfFuel);
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
    // Every entry is a `Br` (the translator emits nothing else there): take it here.
    let entry = pc.add(1 + i as usize);
    let offset = match (*entry).op {
        Op::Br { offset } => offset,
        _ => 0,
    };
    next!(entry.offset(1 + offset as isize), fp, mb, ml, x)
});

macro_rules! define_branches {
    (
        unary { $($u:tt)* }
        unary_trap { $($ut:tt)* }
        binary { $($b:tt)* }
        binary_imm { $($bi:tt)* }
        binary_trap { $($bt:tt)* }
        branch { $( $c:ident $ci:ident [$cb:ident $cbi:ident] ! [$nb:ident $nbi:ident] ($ca:ty) = $cf:path, $cx:path; )* }
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
    };
}
for_each_numeric!(define_branches);
