//! simd128 handlers: a `v128` occupies two consecutive slots (low half first). The
//! lane operations are those of the composition's `simd` plugin
//! (`<C::Simd as Simd>::Lanes`), chosen when the handler is monomorphized: no
//! run-time choice per instruction.

use vm_core::Composition;
use vm_core::runtime::simd::{Lanes, V128};
use vm_core::slot::Simd;

use crate::code::Op;
use crate::exec::memory::load;
use crate::exec::{handler, next, operands, trap};

/// The lane operations of composition `C`.
type L<C> = <<C as Composition>::Simd as Simd>::Lanes;

/// The `v128` in slots `s` and `s + 1` of the frame at `fp`.
///
/// # Safety
/// Both slots are inside the frame.
#[inline(always)]
pub unsafe fn rd(fp: *mut u64, s: u32) -> V128 {
    // SAFETY: the caller's contract.
    unsafe { u128::from(*fp.add(s as usize)) | (u128::from(*fp.add(s as usize + 1)) << 64) }
}

/// Writes `v` to slots `s` and `s + 1` of the frame at `fp`.
///
/// # Safety
/// Both slots are inside the frame.
#[inline(always)]
pub unsafe fn wr(fp: *mut u64, s: u32, v: V128) {
    // SAFETY: the caller's contract.
    unsafe {
        *fp.add(s as usize) = v as u64;
        *fp.add(s as usize + 1) = (v >> 64) as u64;
    }
}

macro_rules! define_simd {
    (
        unary { $( $u:ident $uf:ident $uk:ident; )* }
        binary { $( $b:ident $bf:ident $bk:ident; )* }
        shift { $( $s:ident $sf:ident $sk:ident; )* }
        test { $( $t:ident $tf:ident $tk:ident; )* }
        splat { $( $p:ident $pf:ident $pk:ident; )* }
        extract { $( $e:ident $ef:ident $ek:ident; )* }
        replace { $( $r:ident $rf:ident $rk:ident; )* }
    ) => {
        $(
            handler!($u(pc, fp, mb, ml, x) {
                operands!(pc, Op::$u { dst, src });
                wr(fp, dst, L::<C>::$uf(rd(fp, src)));
                next!(pc.add(1), fp, mb, ml, x)
            });
        )*
        $(
            handler!($b(pc, fp, mb, ml, x) {
                operands!(pc, Op::$b { dst, lhs, rhs });
                wr(fp, dst, L::<C>::$bf(rd(fp, lhs), rd(fp, rhs)));
                next!(pc.add(1), fp, mb, ml, x)
            });
        )*
        $(
            handler!($s(pc, fp, mb, ml, x) {
                operands!(pc, Op::$s { dst, lhs, rhs });
                wr(fp, dst, L::<C>::$sf(rd(fp, lhs), *fp.add(rhs as usize) as u32));
                next!(pc.add(1), fp, mb, ml, x)
            });
        )*
        $(
            handler!($t(pc, fp, mb, ml, x) {
                operands!(pc, Op::$t { dst, src });
                *fp.add(dst as usize) = u64::from(L::<C>::$tf(rd(fp, src)));
                next!(pc.add(1), fp, mb, ml, x)
            });
        )*
        $(
            handler!($p(pc, fp, mb, ml, x) {
                operands!(pc, Op::$p { dst, src });
                wr(fp, dst, L::<C>::$pf(*fp.add(src as usize)));
                next!(pc.add(1), fp, mb, ml, x)
            });
        )*
        $(
            handler!($e(pc, fp, mb, ml, x) {
                operands!(pc, Op::$e { dst, src, lane });
                *fp.add(dst as usize) = L::<C>::$ef(rd(fp, src), lane as u8);
                next!(pc.add(1), fp, mb, ml, x)
            });
        )*
        $(
            handler!($r(pc, fp, mb, ml, x) {
                operands!(pc, Op::$r { dst, src, val, lane });
                wr(fp, dst, L::<C>::$rf(rd(fp, src), lane as u8, *fp.add(val as usize)));
                next!(pc.add(1), fp, mb, ml, x)
            });
        )*
    };
}
vm_core::for_each_lanes_op!(define_simd);

handler!(v128_const(pc, fp, mb, ml, x) {
    operands!(pc, Op::V128Const { dst, idx });
    let pool: &[u128] = &(*x.code).v128s;
    wr(fp, dst, *pool.get_unchecked(idx as usize));
    next!(pc.add(1), fp, mb, ml, x)
});
handler!(v128_copy(pc, fp, mb, ml, x) {
    operands!(pc, Op::V128Copy { dst, src });
    wr(fp, dst, rd(fp, src));
    next!(pc.add(1), fp, mb, ml, x)
});
handler!(v128_select(pc, fp, mb, ml, x) {
    operands!(pc, Op::V128Select { dst, rhs, cond });
    if *fp.add(cond as usize) as u32 == 0 {
        wr(fp, dst, rd(fp, rhs));
    }
    next!(pc.add(1), fp, mb, ml, x)
});
handler!(v128_global_get(pc, fp, mb, ml, x) {
    operands!(pc, Op::V128GlobalGet { dst, global });
    let g = *x.globals.add(global as usize);
    *fp.add(dst as usize) = (*g).lo;
    *fp.add(dst as usize + 1) = (*g).hi;
    next!(pc.add(1), fp, mb, ml, x)
});
handler!(v128_global_set(pc, fp, mb, ml, x) {
    operands!(pc, Op::V128GlobalSet { src, global });
    let g = *x.globals.add(global as usize);
    (*g).lo = *fp.add(src as usize);
    (*g).hi = *fp.add(src as usize + 1);
    next!(pc.add(1), fp, mb, ml, x)
});
handler!(v128_bitselect(pc, fp, mb, ml, x) {
    operands!(pc, Op::V128Bitselect { dst, a, b, c });
    wr(fp, dst, L::<C>::v128_bitselect(rd(fp, a), rd(fp, b), rd(fp, c)));
    next!(pc.add(1), fp, mb, ml, x)
});
handler!(i8x16_shuffle(pc, fp, mb, ml, x) {
    operands!(pc, Op::I8x16Shuffle { dst, lhs, rhs, idx });
    let pool: &[u128] = &(*x.code).v128s;
    let lanes = *pool.get_unchecked(idx as usize);
    wr(fp, dst, L::<C>::i8x16_shuffle(rd(fp, lhs), rd(fp, rhs), lanes));
    next!(pc.add(1), fp, mb, ml, x)
});

/// Defines a load handler: `$n` bytes at the address, turned into a `v128` by `$f`
/// (given the bytes zero-extended to a `V128`).
macro_rules! simd_load {
    ($name:ident, $op:ident, $n:expr, |$v:ident| $f:expr) => {
        handler!($name(pc, fp, mb, ml, x) {
            operands!(pc, Op::$op { dst, addr, offset });
            let bytes = match load::<$n>(mb, ml, *fp.add(addr as usize), offset) {
                Ok(b) => b,
                Err(code) => return trap!(x, code),
            };
            let mut all = [0u8; 16];
            all[..$n].copy_from_slice(&bytes);
            let $v = u128::from_le_bytes(all);
            wr(fp, dst, $f);
            next!(pc.add(1), fp, mb, ml, x)
        });
    };
}
simd_load!(v128_load, V128Load, 16, |v| v);
simd_load!(v128_load8x8_s, V128Load8x8S, 8, |v| L::<C>::i16x8_extend_low_i8x16_s(v));
simd_load!(v128_load8x8_u, V128Load8x8U, 8, |v| L::<C>::i16x8_extend_low_i8x16_u(v));
simd_load!(v128_load16x4_s, V128Load16x4S, 8, |v| L::<C>::i32x4_extend_low_i16x8_s(v));
simd_load!(v128_load16x4_u, V128Load16x4U, 8, |v| L::<C>::i32x4_extend_low_i16x8_u(v));
simd_load!(v128_load32x2_s, V128Load32x2S, 8, |v| L::<C>::i64x2_extend_low_i32x4_s(v));
simd_load!(v128_load32x2_u, V128Load32x2U, 8, |v| L::<C>::i64x2_extend_low_i32x4_u(v));
simd_load!(v128_load8_splat, V128Load8Splat, 1, |v| L::<C>::i8x16_splat(v as u64));
simd_load!(v128_load16_splat, V128Load16Splat, 2, |v| L::<C>::i16x8_splat(v as u64));
simd_load!(v128_load32_splat, V128Load32Splat, 4, |v| L::<C>::i32x4_splat(v as u64));
simd_load!(v128_load64_splat, V128Load64Splat, 8, |v| L::<C>::i64x2_splat(v as u64));
simd_load!(v128_load32_zero, V128Load32Zero, 4, |v| v);
simd_load!(v128_load64_zero, V128Load64Zero, 8, |v| v);

handler!(v128_store(pc, fp, mb, ml, x) {
    operands!(pc, Op::V128Store { addr, val, offset });
    let bytes = rd(fp, val).to_le_bytes();
    if let Err(code) = crate::exec::memory::store::<16>(mb, ml, *fp.add(addr as usize), offset, bytes) {
        return trap!(x, code);
    }
    next!(pc.add(1), fp, mb, ml, x)
});
