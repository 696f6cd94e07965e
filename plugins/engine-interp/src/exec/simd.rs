//! simd128 handlers: a `v128` occupies two consecutive slots (low half first). The
//! lane operations are those of the composition's `simd` plugin
//! (`<C::Simd as Simd>::Lanes`), chosen when the handler is monomorphized: no
//! run-time choice per instruction.
//!
//! A plugin's lane operations are compiled for its vector ISA
//! (`#[target_feature]`), and a function with target features can only be inlined
//! into one that has them too. So the handlers that compute lanes are defined once
//! (`level_handlers!`) and expanded once per [`SimdLevel`], each expansion compiled
//! with its level's target features: the lane operation is inlined into the handler,
//! which reads its operands from the frame straight into vector registers, and a
//! vector instruction costs one handler without a call. [`by_level!`] picks the
//! expansion of `C`'s level when the code is threaded (a constant of the
//! composition, so only that expansion is built). The level's target features must
//! include those of its plugins' lane operations (`"sse4.1"` for
//! [`SimdLevel::Sse41`], `"avx2"` for [`SimdLevel::Avx2`]) and be among the CPU
//! features `Vm::new` checks.
//!
//! The handlers that only move bits (constants, copies, selects, globals, plain
//! loads and stores) are the same for every level.

use vm_core::Composition;
use vm_core::runtime::simd::V128;
use vm_core::slot::{Simd, SimdLevel};

use crate::code::Op;
use crate::exec::memory::ea;
use crate::exec::{handler, next, operands, trap};

/// The lane operations of composition `C`.
pub(crate) type L<C> = <<C as Composition>::Simd as Simd>::Lanes;

/// The `v128` in slots `s` and `s + 1` of the frame at `fp`.
///
/// # Safety
/// Both slots are inside the frame.
#[inline(always)]
pub unsafe fn rd(fp: *mut u64, s: u32) -> V128 {
    // Two `u64` loads joined: the optimizer turns them into one 16-byte load where
    // the value goes to a vector register, and keeps the per-lane code of the
    // portable lanes vectorizable (a `u128` read as such is split into general
    // registers first).
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

/// `C`'s simd level as the number [`by_level!`] matches on ([`ABSENT`] without a
/// `simd` plugin).
pub const fn level<C: Composition>() -> u8 {
    if !<C::Simd as Simd>::PRESENT {
        return ABSENT;
    }
    match <C::Simd as Simd>::LEVEL {
        SimdLevel::Scalar => SCALAR,
        SimdLevel::Sse41 => SSE41,
        SimdLevel::Avx2 => AVX2,
    }
}

/// [`SimdLevel::Scalar`] for [`by_level!`].
pub const SCALAR: u8 = 0;
/// [`SimdLevel::Sse41`] for [`by_level!`].
pub const SSE41: u8 = 1;
/// [`SimdLevel::Avx2`] for [`by_level!`].
pub const AVX2: u8 = 2;
/// No `simd` plugin, for [`by_level!`]: every SIMD instruction's handler is
/// [`absent`], so none of the SIMD handlers is compiled into such a composition.
pub const ABSENT: u8 = 3;

handler!(absent(_pc, _fp, _mb, _ml, x) {
    // Never runs: a composition without a `simd` plugin accepts no module using
    // simd128 (`vm_core::compose::features_of`), so the translator emits no SIMD
    // instruction for it.
    x.trap = Some(vm_core::runtime::Trap::host("simd128 instruction in a composition without a simd plugin"));
    crate::exec::TRAP
});

/// The `Handler<C>` named `$name` in the expansion of `level_handlers!` for `C`'s
/// simd level (used inside a function generic over `C`).
macro_rules! by_level {
    ($name:ident) => {
        // A constant of the composition: the other arms are not even instantiated.
        match const { crate::exec::simd::level::<C>() } {
            crate::exec::simd::SSE41 => crate::exec::simd::sse41::$name::<C> as Handler<C>,
            crate::exec::simd::AVX2 => crate::exec::simd::avx2::$name::<C>,
            crate::exec::simd::ABSENT => crate::exec::simd::absent::<C>,
            _ => crate::exec::simd::portable::$name::<C>,
        }
    };
}

/// The SIMD handler `$name` of every level, or [`absent`] without a `simd` plugin
/// (used inside a function generic over `C`).
macro_rules! if_present {
    ($name:ident) => {
        match const { crate::exec::simd::level::<C>() } {
            crate::exec::simd::ABSENT => crate::exec::simd::absent::<C> as Handler<C>,
            _ => crate::exec::simd::$name::<C>,
        }
    };
}
pub(crate) use by_level;
pub(crate) use if_present;

/// Defines the handlers of the lane operations, each with the attributes `$attrs`
/// (a bracketed list, for `handler!`).
macro_rules! define_lanes {
    (
        $attrs:tt
        unary { $( $u:ident $uf:ident $uk:ident; )* }
        binary { $( $b:ident $bf:ident $bk:ident; )* }
        shift { $( $s:ident $sf:ident $sk:ident; )* }
        test { $( $t:ident $tf:ident $tk:ident; )* }
        splat { $( $p:ident $pf:ident $pk:ident; )* }
        extract { $( $e:ident $ef:ident $ek:ident; )* }
        replace { $( $r:ident $rf:ident $rk:ident; )* }
    ) => {
        $(
            handler!($attrs $u(pc, fp, mb, ml, x) {
                operands!(pc, Op::$u { dst, src });
                wr(fp, dst, L::<C>::$uf(rd(fp, src)));
                next!(pc.add(1), fp, mb, ml, x)
            });
        )*
        $(
            handler!($attrs $b(pc, fp, mb, ml, x) {
                operands!(pc, Op::$b { dst, lhs, rhs });
                wr(fp, dst, L::<C>::$bf(rd(fp, lhs), rd(fp, rhs)));
                next!(pc.add(1), fp, mb, ml, x)
            });
        )*
        $(
            handler!($attrs $s(pc, fp, mb, ml, x) {
                operands!(pc, Op::$s { dst, lhs, rhs });
                wr(fp, dst, L::<C>::$sf(rd(fp, lhs), *fp.add(rhs as usize) as u32));
                next!(pc.add(1), fp, mb, ml, x)
            });
        )*
        $(
            handler!($attrs $t(pc, fp, mb, ml, x) {
                operands!(pc, Op::$t { dst, src });
                *fp.add(dst as usize) = u64::from(L::<C>::$tf(rd(fp, src)));
                next!(pc.add(1), fp, mb, ml, x)
            });
        )*
        $(
            handler!($attrs $p(pc, fp, mb, ml, x) {
                operands!(pc, Op::$p { dst, src });
                wr(fp, dst, L::<C>::$pf(*fp.add(src as usize)));
                next!(pc.add(1), fp, mb, ml, x)
            });
        )*
        $(
            handler!($attrs $e(pc, fp, mb, ml, x) {
                operands!(pc, Op::$e { dst, src, lane });
                *fp.add(dst as usize) = L::<C>::$ef(rd(fp, src), lane as u8);
                next!(pc.add(1), fp, mb, ml, x)
            });
        )*
        $(
            handler!($attrs $r(pc, fp, mb, ml, x) {
                operands!(pc, Op::$r { dst, src, val, lane });
                wr(fp, dst, L::<C>::$rf(rd(fp, src), lane as u8, *fp.add(val as usize)));
                next!(pc.add(1), fp, mb, ml, x)
            });
        )*
    };
}

/// Defines a load handler with the attributes `$attrs`: the `$t` at the address
/// (`$n` bytes, little-endian), zero-extended to a `V128` and turned into the result
/// by `$f`.
macro_rules! simd_load {
    ($attrs:tt $name:ident, $op:ident, $n:literal $t:ty, |$v:ident| $f:expr) => {
        handler!($attrs $name(pc, fp, mb, ml, x) {
            operands!(pc, Op::$op { dst, addr, offset });
            let p = match ea::<$n>(mb, ml, *fp.add(addr as usize), offset) {
                Ok(p) => p,
                Err(code) => return trap!(x, code),
            };
            // `ea` checked the `$n` bytes are inside the memory; unaligned is allowed.
            let $v = u128::from(<$t>::from_le(p.cast::<$t>().read_unaligned()));
            wr(fp, dst, $f);
            next!(pc.add(1), fp, mb, ml, x)
        });
    };
}

/// Defines, with the attributes `$attrs`, a handler per three-operand operation:
/// `dst = Lanes::$m(a, b, c)` for `Op::$op { dst, a, b, c }`.
macro_rules! ternary_handlers {
    ($attrs:tt $($op:ident $m:ident,)*) => {$(
        handler!($attrs $m(pc, fp, mb, ml, x) {
            operands!(pc, Op::$op { dst, a, b, c });
            wr(fp, dst, L::<C>::$m(rd(fp, a), rd(fp, b), rd(fp, c)));
            next!(pc.add(1), fp, mb, ml, x)
        });
    )*};
}

/// Defines, with the attributes `$attrs`, every handler that computes lanes.
macro_rules! level_handlers {
    ($attrs:tt) => {
        use vm_core::runtime::simd::Lanes;

        use crate::code::Op;
        use crate::exec::memory::ea;
        use crate::exec::simd::{L, rd, wr};
        use crate::exec::{handler, next, operands, trap};

        vm_core::for_each_lanes_op!(define_lanes $attrs);

        ternary_handlers!($attrs
            V128Bitselect v128_bitselect,
            F32x4RelaxedMadd f32x4_relaxed_madd,
            F32x4RelaxedNmadd f32x4_relaxed_nmadd,
            F64x2RelaxedMadd f64x2_relaxed_madd,
            F64x2RelaxedNmadd f64x2_relaxed_nmadd,
            I32x4RelaxedDotI8x16I7x16AddS i32x4_relaxed_dot_i8x16_i7x16_add_s,
        );
        handler!($attrs i8x16_shuffle(pc, fp, mb, ml, x) {
            operands!(pc, Op::I8x16Shuffle { dst, lhs, rhs, idx });
            let pool: &[u128] = &(*x.code).v128s;
            let lanes = *pool.get_unchecked(idx as usize);
            wr(fp, dst, L::<C>::i8x16_shuffle(rd(fp, lhs), rd(fp, rhs), lanes));
            next!(pc.add(1), fp, mb, ml, x)
        });

        simd_load!($attrs v128_load8x8_s, V128Load8x8S, 8 u64, |v| L::<C>::i16x8_extend_low_i8x16_s(v));
        simd_load!($attrs v128_load8x8_u, V128Load8x8U, 8 u64, |v| L::<C>::i16x8_extend_low_i8x16_u(v));
        simd_load!($attrs v128_load16x4_s, V128Load16x4S, 8 u64, |v| L::<C>::i32x4_extend_low_i16x8_s(v));
        simd_load!($attrs v128_load16x4_u, V128Load16x4U, 8 u64, |v| L::<C>::i32x4_extend_low_i16x8_u(v));
        simd_load!($attrs v128_load32x2_s, V128Load32x2S, 8 u64, |v| L::<C>::i64x2_extend_low_i32x4_s(v));
        simd_load!($attrs v128_load32x2_u, V128Load32x2U, 8 u64, |v| L::<C>::i64x2_extend_low_i32x4_u(v));
        simd_load!($attrs v128_load8_splat, V128Load8Splat, 1 u8, |v| L::<C>::i8x16_splat(v as u64));
        simd_load!($attrs v128_load16_splat, V128Load16Splat, 2 u16, |v| L::<C>::i16x8_splat(v as u64));
        simd_load!($attrs v128_load32_splat, V128Load32Splat, 4 u32, |v| L::<C>::i32x4_splat(v as u64));
        simd_load!($attrs v128_load64_splat, V128Load64Splat, 8 u64, |v| L::<C>::i64x2_splat(v as u64));
    };
}
pub(crate) use level_handlers;

/// The lane handlers compiled for the target's baseline: [`SimdLevel::Scalar`].
pub mod portable {
    crate::exec::simd::level_handlers!([]);
}

#[cfg_attr(target_arch = "x86_64", path = "simd/x86_64.rs")]
#[cfg_attr(not(target_arch = "x86_64"), path = "simd/other.rs")]
mod arch;
pub(crate) use arch::{avx2, sse41};

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

simd_load!([] v128_load, V128Load, 16 u128, |v| v);
simd_load!([] v128_load32_zero, V128Load32Zero, 4 u32, |v| v);
simd_load!([] v128_load64_zero, V128Load64Zero, 8 u64, |v| v);

handler!(v128_store(pc, fp, mb, ml, x) {
    operands!(pc, Op::V128Store { addr, val, offset });
    let p = match ea::<16>(mb, ml, *fp.add(addr as usize), offset) {
        Ok(p) => p,
        Err(code) => return trap!(x, code),
    };
    // `ea` checked the 16 bytes are inside the memory; unaligned is allowed.
    p.cast::<V128>().write_unaligned(rd(fp, val).to_le());
    next!(pc.add(1), fp, mb, ml, x)
});
