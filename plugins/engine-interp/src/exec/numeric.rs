//! Handlers of the numeric instructions, generated from the one operator list
//! (the operations themselves are in `unary`, `binary` and `convert`).

use crate::code::{Op, for_each_numeric};
use crate::exec::raw::Raw;
use crate::exec::{handler, next, operands, trap};

macro_rules! define_numeric {
    (
        unary { $( $u:ident ($ua:ty) -> $ur:ty = $uf:path; )* }
        unary_trap { $( $ut:ident ($uta:ty) -> $utr:ty = $utf:path; )* }
        binary { $( $b:ident ($ba:ty, $bb:ty) -> $br:ty = $bf:path; )* }
        binary_imm { $( $bi:ident [$bii:ident] ($bia:ty, $bib:ty) -> $bir:ty = $bif:path, $bix:path; )* }
        binary_trap { $( $bt:ident ($bta:ty, $btb:ty) -> $btr:ty = $btf:path; )* }
        branch { $($br_:tt)* }
        add_branch { $($ab_:tt)* }
        f64_pair { $( $fp:ident [$fp1:ident $fp2:ident] = $ff1:path, $ff2:path, $fside:ident; )* }
    ) => {
        $(
            handler!($u(pc, fp, mb, ml, x) {
                operands!(pc, Op::$u { dst, src });
                let v = $uf(<$ua as Raw>::from_raw(*fp.add(src as usize)));
                *fp.add(dst as usize) = <$ur as Raw>::to_raw(v);
                next!(pc.add(1), fp, mb, ml, x)
            });
        )*
        $(
            handler!($ut(pc, fp, mb, ml, x) {
                operands!(pc, Op::$ut { dst, src });
                match $utf(<$uta as Raw>::from_raw(*fp.add(src as usize))) {
                    Ok(v) => *fp.add(dst as usize) = <$utr as Raw>::to_raw(v),
                    Err(code) => return trap!(x, code),
                }
                next!(pc.add(1), fp, mb, ml, x)
            });
        )*
        $(
            handler!($b(pc, fp, mb, ml, x) {
                operands!(pc, Op::$b { dst, lhs, rhs });
                let a = <$ba as Raw>::from_raw(*fp.add(lhs as usize));
                let b = <$bb as Raw>::from_raw(*fp.add(rhs as usize));
                *fp.add(dst as usize) = <$br as Raw>::to_raw($bf(a, b));
                next!(pc.add(1), fp, mb, ml, x)
            });
        )*
        $(
            handler!($bi(pc, fp, mb, ml, x) {
                operands!(pc, Op::$bi { dst, lhs, rhs });
                let a = <$bia as Raw>::from_raw(*fp.add(lhs as usize));
                let b = <$bib as Raw>::from_raw(*fp.add(rhs as usize));
                *fp.add(dst as usize) = <$bir as Raw>::to_raw($bif(a, b));
                next!(pc.add(1), fp, mb, ml, x)
            });
            handler!($bii(pc, fp, mb, ml, x) {
                operands!(pc, Op::$bii { dst, lhs, imm });
                let a = <$bia as Raw>::from_raw(*fp.add(lhs as usize));
                let b = <$bib as Raw>::from_raw($bix(imm));
                *fp.add(dst as usize) = <$bir as Raw>::to_raw($bif(a, b));
                next!(pc.add(1), fp, mb, ml, x)
            });
        )*
        $(
            handler!($bt(pc, fp, mb, ml, x) {
                operands!(pc, Op::$bt { dst, lhs, rhs });
                let a = <$bta as Raw>::from_raw(*fp.add(lhs as usize));
                let b = <$btb as Raw>::from_raw(*fp.add(rhs as usize));
                match $btf(a, b) {
                    Ok(v) => *fp.add(dst as usize) = <$btr as Raw>::to_raw(v),
                    Err(code) => return trap!(x, code),
                }
                next!(pc.add(1), fp, mb, ml, x)
            });
        )*
        $(
            handler!($fp(pc, fp, mb, ml, x) {
                operands!(pc, Op::$fp { dst, a, b, c });
                let a = f64::from_bits(*fp.add(a as usize));
                let b = f64::from_bits(*fp.add(b as usize));
                let c = f64::from_bits(*fp.add(c as usize));
                let t: f64 = $ff1(a, b);
                let r: f64 = crate::code::pair_apply!($fside, $ff2, t, c);
                *fp.add(dst as usize) = r.to_bits();
                next!(pc.add(1), fp, mb, ml, x)
            });
        )*
    };
}
for_each_numeric!(define_numeric);

handler!(f64_mul_add(pc, fp, mb, ml, x) {
    operands!(pc, Op::F64MulAdd { dst, lhs, rhs });
    let a = f64::from_bits(*fp.add(lhs as usize));
    let b = f64::from_bits(*fp.add(rhs as usize));
    let acc = f64::from_bits(*fp.add(dst as usize));
    // Two roundings, as the `f64.mul` and `f64.add` this replaces (no fused FMA).
    *fp.add(dst as usize) = (acc + a * b).to_bits();
    next!(pc.add(1), fp, mb, ml, x)
});
handler!(f64_mul_sub(pc, fp, mb, ml, x) {
    operands!(pc, Op::F64MulSub { dst, lhs, rhs });
    let a = f64::from_bits(*fp.add(lhs as usize));
    let b = f64::from_bits(*fp.add(rhs as usize));
    let acc = f64::from_bits(*fp.add(dst as usize));
    *fp.add(dst as usize) = (acc - a * b).to_bits();
    next!(pc.add(1), fp, mb, ml, x)
});
handler!(i32_add_imm2(pc, fp, mb, ml, x) {
    operands!(pc, Op::I32AddImm2 { a, ka, b, kb });
    *fp.add(a as usize) = u64::from((*fp.add(a as usize) as u32).wrapping_add(ka as u32));
    *fp.add(b as usize) = u64::from((*fp.add(b as usize) as u32).wrapping_add(kb as u32));
    next!(pc.add(1), fp, mb, ml, x)
});
handler!(i32_add_imm_copy(pc, fp, mb, ml, x) {
    operands!(pc, Op::I32AddImmCopy { a, k, dst, src });
    *fp.add(a as usize) = u64::from((*fp.add(a as usize) as u32).wrapping_add(k as u32));
    *fp.add(dst as usize) = *fp.add(src as usize);
    next!(pc.add(1), fp, mb, ml, x)
});
handler!(i32_add_imm_tee(pc, fp, mb, ml, x) {
    operands!(pc, Op::I32AddImmTee { dst, lhs, imm, dst2 });
    let v = u64::from((*fp.add(lhs as usize) as u32).wrapping_add(imm as u32));
    *fp.add(dst as usize) = v;
    *fp.add(dst2 as usize) = v;
    next!(pc.add(1), fp, mb, ml, x)
});
