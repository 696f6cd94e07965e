//! SSE4.1 lane operations: the operations SSE4.1 (with SSSE3) has an instruction
//! or a short sequence for; every other one is the portable default. Each returns
//! exactly what [`vm_core::runtime::simd::Portable`] returns (NaN payloads aside,
//! where the specification allows any NaN): `tests.rs` compares them.

#[cfg(target_arch = "x86_64")]
use core::arch::x86_64::*;

use vm_core::runtime::simd::{Lanes, V128};

/// Lane operations with SSE4.1 intrinsics.
#[derive(Debug)]
pub struct Sse41Lanes;

#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn m(v: V128) -> __m128i {
    // SAFETY: both types are 16 plain bytes.
    unsafe { core::mem::transmute::<V128, __m128i>(v) }
}

#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn v(x: __m128i) -> V128 {
    // SAFETY: both types are 16 plain bytes.
    unsafe { core::mem::transmute::<__m128i, V128>(x) }
}

#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn ps(v: V128) -> __m128 {
    // SAFETY: both types are 16 plain bytes.
    unsafe { core::mem::transmute::<V128, __m128>(v) }
}

#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn pd(v: V128) -> __m128d {
    // SAFETY: both types are 16 plain bytes.
    unsafe { core::mem::transmute::<V128, __m128d>(v) }
}

#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn vps(x: __m128) -> V128 {
    // SAFETY: both types are 16 plain bytes.
    unsafe { core::mem::transmute::<__m128, V128>(x) }
}

#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn vpd(x: __m128d) -> V128 {
    // SAFETY: both types are 16 plain bytes.
    unsafe { core::mem::transmute::<__m128d, V128>(x) }
}

/// Defines lane operations, each compiled for the level's target feature (so the
/// intrinsics are inlined with the level's encodings) and inlinable into callers
/// compiled with that feature too (engine-interp's handlers of the level).
macro_rules! level {
    ($feature:literal; $( fn $name:ident($($a:ident: $t:ty),*) -> $r:ty $body:block )*) => {
        $(
            #[inline]
            #[target_feature(enable = $feature)]
            unsafe fn $name($($a: $t),*) -> $r $body
        )*
    };
}

#[cfg(target_arch = "x86_64")]
impl Lanes for Sse41Lanes {
    level! { "sse4.1";
        // ---- bitwise ----
        fn v128_not(a: V128) -> V128 { v(_mm_xor_si128(m(a), _mm_set1_epi32(-1))) }
        fn v128_and(a: V128, b: V128) -> V128 { v(_mm_and_si128(m(a), m(b))) }
        fn v128_andnot(a: V128, b: V128) -> V128 { v(_mm_andnot_si128(m(b), m(a))) }
        fn v128_or(a: V128, b: V128) -> V128 { v(_mm_or_si128(m(a), m(b))) }
        fn v128_xor(a: V128, b: V128) -> V128 { v(_mm_xor_si128(m(a), m(b))) }
        fn v128_bitselect(a: V128, b: V128, c: V128) -> V128 {
            v(_mm_or_si128(_mm_and_si128(m(a), m(c)), _mm_andnot_si128(m(c), m(b))))
        }
        fn v128_any_true(a: V128) -> u32 { u32::from(_mm_testz_si128(m(a), m(a)) == 0) }
        fn i8x16_all_true(a: V128) -> u32 {
            u32::from(_mm_movemask_epi8(_mm_cmpeq_epi8(m(a), _mm_setzero_si128())) == 0)
        }
        fn i16x8_all_true(a: V128) -> u32 {
            u32::from(_mm_movemask_epi8(_mm_cmpeq_epi16(m(a), _mm_setzero_si128())) == 0)
        }
        fn i32x4_all_true(a: V128) -> u32 {
            u32::from(_mm_movemask_epi8(_mm_cmpeq_epi32(m(a), _mm_setzero_si128())) == 0)
        }
        fn i64x2_all_true(a: V128) -> u32 {
            u32::from(_mm_movemask_epi8(_mm_cmpeq_epi64(m(a), _mm_setzero_si128())) == 0)
        }
        fn i8x16_bitmask(a: V128) -> u32 { _mm_movemask_epi8(m(a)) as u32 }
        fn i16x8_bitmask(a: V128) -> u32 {
            (_mm_movemask_epi8(_mm_packs_epi16(m(a), _mm_setzero_si128())) & 0xff) as u32
        }
        fn i32x4_bitmask(a: V128) -> u32 { _mm_movemask_ps(ps(a)) as u32 }
        fn i64x2_bitmask(a: V128) -> u32 { _mm_movemask_pd(pd(a)) as u32 }

        // ---- shuffles and splats ----
        fn i8x16_swizzle(a: V128, b: V128) -> V128 {
            // Indexes of 16 and more get their top bit set: pshufb writes 0 there.
            v(_mm_shuffle_epi8(m(a), _mm_adds_epu8(m(b), _mm_set1_epi8(0x70))))
        }
        fn i8x16_shuffle(a: V128, b: V128, lanes: V128) -> V128 {
            // Indexes below 16 pick from `a`, the others from `b`; pshufb writes 0
            // where an index has its top bit set.
            let l = _mm_and_si128(m(lanes), _mm_set1_epi8(31));
            let from_a = _mm_cmplt_epi8(l, _mm_set1_epi8(16));
            let top = _mm_set1_epi8(i8::MIN);
            let la = _mm_or_si128(l, _mm_andnot_si128(from_a, top));
            let lb = _mm_or_si128(l, _mm_and_si128(from_a, top));
            v(_mm_or_si128(_mm_shuffle_epi8(m(a), la), _mm_shuffle_epi8(m(b), lb)))
        }
        fn i8x16_splat(x: u64) -> V128 { v(_mm_set1_epi8(x as i8)) }
        fn i16x8_splat(x: u64) -> V128 { v(_mm_set1_epi16(x as i16)) }
        fn i32x4_splat(x: u64) -> V128 { v(_mm_set1_epi32(x as i32)) }
        fn i64x2_splat(x: u64) -> V128 { v(_mm_set1_epi64x(x as i64)) }
        fn f32x4_splat(x: u64) -> V128 { v(_mm_set1_epi32(x as i32)) }
        fn f64x2_splat(x: u64) -> V128 { v(_mm_set1_epi64x(x as i64)) }

        // ---- integer comparisons ----
        fn i8x16_eq(a: V128, b: V128) -> V128 { v(_mm_cmpeq_epi8(m(a), m(b))) }
        fn i8x16_ne(a: V128, b: V128) -> V128 { v(not(_mm_cmpeq_epi8(m(a), m(b)))) }
        fn i8x16_lt_s(a: V128, b: V128) -> V128 { v(_mm_cmpgt_epi8(m(b), m(a))) }
        fn i8x16_gt_s(a: V128, b: V128) -> V128 { v(_mm_cmpgt_epi8(m(a), m(b))) }
        fn i8x16_le_s(a: V128, b: V128) -> V128 { v(not(_mm_cmpgt_epi8(m(a), m(b)))) }
        fn i8x16_ge_s(a: V128, b: V128) -> V128 { v(not(_mm_cmpgt_epi8(m(b), m(a)))) }
        fn i8x16_le_u(a: V128, b: V128) -> V128 { v(_mm_cmpeq_epi8(_mm_min_epu8(m(a), m(b)), m(a))) }
        fn i8x16_ge_u(a: V128, b: V128) -> V128 { v(_mm_cmpeq_epi8(_mm_max_epu8(m(a), m(b)), m(a))) }
        fn i8x16_lt_u(a: V128, b: V128) -> V128 { v(not(_mm_cmpeq_epi8(_mm_max_epu8(m(a), m(b)), m(a)))) }
        fn i8x16_gt_u(a: V128, b: V128) -> V128 { v(not(_mm_cmpeq_epi8(_mm_min_epu8(m(a), m(b)), m(a)))) }
        fn i16x8_eq(a: V128, b: V128) -> V128 { v(_mm_cmpeq_epi16(m(a), m(b))) }
        fn i16x8_ne(a: V128, b: V128) -> V128 { v(not(_mm_cmpeq_epi16(m(a), m(b)))) }
        fn i16x8_lt_s(a: V128, b: V128) -> V128 { v(_mm_cmpgt_epi16(m(b), m(a))) }
        fn i16x8_gt_s(a: V128, b: V128) -> V128 { v(_mm_cmpgt_epi16(m(a), m(b))) }
        fn i16x8_le_s(a: V128, b: V128) -> V128 { v(not(_mm_cmpgt_epi16(m(a), m(b)))) }
        fn i16x8_ge_s(a: V128, b: V128) -> V128 { v(not(_mm_cmpgt_epi16(m(b), m(a)))) }
        fn i16x8_le_u(a: V128, b: V128) -> V128 { v(_mm_cmpeq_epi16(_mm_min_epu16(m(a), m(b)), m(a))) }
        fn i16x8_ge_u(a: V128, b: V128) -> V128 { v(_mm_cmpeq_epi16(_mm_max_epu16(m(a), m(b)), m(a))) }
        fn i16x8_lt_u(a: V128, b: V128) -> V128 { v(not(_mm_cmpeq_epi16(_mm_max_epu16(m(a), m(b)), m(a)))) }
        fn i16x8_gt_u(a: V128, b: V128) -> V128 { v(not(_mm_cmpeq_epi16(_mm_min_epu16(m(a), m(b)), m(a)))) }
        fn i32x4_eq(a: V128, b: V128) -> V128 { v(_mm_cmpeq_epi32(m(a), m(b))) }
        fn i32x4_ne(a: V128, b: V128) -> V128 { v(not(_mm_cmpeq_epi32(m(a), m(b)))) }
        fn i32x4_lt_s(a: V128, b: V128) -> V128 { v(_mm_cmpgt_epi32(m(b), m(a))) }
        fn i32x4_gt_s(a: V128, b: V128) -> V128 { v(_mm_cmpgt_epi32(m(a), m(b))) }
        fn i32x4_le_s(a: V128, b: V128) -> V128 { v(not(_mm_cmpgt_epi32(m(a), m(b)))) }
        fn i32x4_ge_s(a: V128, b: V128) -> V128 { v(not(_mm_cmpgt_epi32(m(b), m(a)))) }
        fn i32x4_le_u(a: V128, b: V128) -> V128 { v(_mm_cmpeq_epi32(_mm_min_epu32(m(a), m(b)), m(a))) }
        fn i32x4_ge_u(a: V128, b: V128) -> V128 { v(_mm_cmpeq_epi32(_mm_max_epu32(m(a), m(b)), m(a))) }
        fn i32x4_lt_u(a: V128, b: V128) -> V128 { v(not(_mm_cmpeq_epi32(_mm_max_epu32(m(a), m(b)), m(a)))) }
        fn i32x4_gt_u(a: V128, b: V128) -> V128 { v(not(_mm_cmpeq_epi32(_mm_min_epu32(m(a), m(b)), m(a)))) }
        fn i64x2_eq(a: V128, b: V128) -> V128 { v(_mm_cmpeq_epi64(m(a), m(b))) }
        fn i64x2_ne(a: V128, b: V128) -> V128 { v(not(_mm_cmpeq_epi64(m(a), m(b)))) }

        // ---- integer arithmetic ----
        fn i8x16_abs(a: V128) -> V128 { v(_mm_abs_epi8(m(a))) }
        fn i16x8_abs(a: V128) -> V128 { v(_mm_abs_epi16(m(a))) }
        fn i32x4_abs(a: V128) -> V128 { v(_mm_abs_epi32(m(a))) }
        fn i8x16_neg(a: V128) -> V128 { v(_mm_sub_epi8(_mm_setzero_si128(), m(a))) }
        fn i16x8_neg(a: V128) -> V128 { v(_mm_sub_epi16(_mm_setzero_si128(), m(a))) }
        fn i32x4_neg(a: V128) -> V128 { v(_mm_sub_epi32(_mm_setzero_si128(), m(a))) }
        fn i64x2_neg(a: V128) -> V128 { v(_mm_sub_epi64(_mm_setzero_si128(), m(a))) }
        fn i8x16_popcnt(a: V128) -> V128 {
            let table = _mm_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
            let low = _mm_set1_epi8(0x0f);
            let lo = _mm_shuffle_epi8(table, _mm_and_si128(m(a), low));
            let hi = _mm_shuffle_epi8(table, _mm_and_si128(_mm_srli_epi16::<4>(m(a)), low));
            v(_mm_add_epi8(lo, hi))
        }
        fn i8x16_add(a: V128, b: V128) -> V128 { v(_mm_add_epi8(m(a), m(b))) }
        fn i16x8_add(a: V128, b: V128) -> V128 { v(_mm_add_epi16(m(a), m(b))) }
        fn i32x4_add(a: V128, b: V128) -> V128 { v(_mm_add_epi32(m(a), m(b))) }
        fn i64x2_add(a: V128, b: V128) -> V128 { v(_mm_add_epi64(m(a), m(b))) }
        fn i8x16_sub(a: V128, b: V128) -> V128 { v(_mm_sub_epi8(m(a), m(b))) }
        fn i16x8_sub(a: V128, b: V128) -> V128 { v(_mm_sub_epi16(m(a), m(b))) }
        fn i32x4_sub(a: V128, b: V128) -> V128 { v(_mm_sub_epi32(m(a), m(b))) }
        fn i64x2_sub(a: V128, b: V128) -> V128 { v(_mm_sub_epi64(m(a), m(b))) }
        fn i16x8_mul(a: V128, b: V128) -> V128 { v(_mm_mullo_epi16(m(a), m(b))) }
        fn i32x4_mul(a: V128, b: V128) -> V128 { v(_mm_mullo_epi32(m(a), m(b))) }
        fn i8x16_add_sat_s(a: V128, b: V128) -> V128 { v(_mm_adds_epi8(m(a), m(b))) }
        fn i8x16_add_sat_u(a: V128, b: V128) -> V128 { v(_mm_adds_epu8(m(a), m(b))) }
        fn i8x16_sub_sat_s(a: V128, b: V128) -> V128 { v(_mm_subs_epi8(m(a), m(b))) }
        fn i8x16_sub_sat_u(a: V128, b: V128) -> V128 { v(_mm_subs_epu8(m(a), m(b))) }
        fn i16x8_add_sat_s(a: V128, b: V128) -> V128 { v(_mm_adds_epi16(m(a), m(b))) }
        fn i16x8_add_sat_u(a: V128, b: V128) -> V128 { v(_mm_adds_epu16(m(a), m(b))) }
        fn i16x8_sub_sat_s(a: V128, b: V128) -> V128 { v(_mm_subs_epi16(m(a), m(b))) }
        fn i16x8_sub_sat_u(a: V128, b: V128) -> V128 { v(_mm_subs_epu16(m(a), m(b))) }
        fn i8x16_min_s(a: V128, b: V128) -> V128 { v(_mm_min_epi8(m(a), m(b))) }
        fn i8x16_min_u(a: V128, b: V128) -> V128 { v(_mm_min_epu8(m(a), m(b))) }
        fn i8x16_max_s(a: V128, b: V128) -> V128 { v(_mm_max_epi8(m(a), m(b))) }
        fn i8x16_max_u(a: V128, b: V128) -> V128 { v(_mm_max_epu8(m(a), m(b))) }
        fn i16x8_min_s(a: V128, b: V128) -> V128 { v(_mm_min_epi16(m(a), m(b))) }
        fn i16x8_min_u(a: V128, b: V128) -> V128 { v(_mm_min_epu16(m(a), m(b))) }
        fn i16x8_max_s(a: V128, b: V128) -> V128 { v(_mm_max_epi16(m(a), m(b))) }
        fn i16x8_max_u(a: V128, b: V128) -> V128 { v(_mm_max_epu16(m(a), m(b))) }
        fn i32x4_min_s(a: V128, b: V128) -> V128 { v(_mm_min_epi32(m(a), m(b))) }
        fn i32x4_min_u(a: V128, b: V128) -> V128 { v(_mm_min_epu32(m(a), m(b))) }
        fn i32x4_max_s(a: V128, b: V128) -> V128 { v(_mm_max_epi32(m(a), m(b))) }
        fn i32x4_max_u(a: V128, b: V128) -> V128 { v(_mm_max_epu32(m(a), m(b))) }
        fn i8x16_avgr_u(a: V128, b: V128) -> V128 { v(_mm_avg_epu8(m(a), m(b))) }
        fn i16x8_avgr_u(a: V128, b: V128) -> V128 { v(_mm_avg_epu16(m(a), m(b))) }
        fn i16x8_q15mulr_sat_s(a: V128, b: V128) -> V128 {
            // pmulhrsw rounds the same way; only -32768 * -32768 overflows, to
            // 0x8000 (no other product gives it), which saturates to 0x7fff.
            let r = _mm_mulhrs_epi16(m(a), m(b));
            v(_mm_xor_si128(r, _mm_cmpeq_epi16(r, _mm_set1_epi16(i16::MIN))))
        }
        fn i32x4_dot_i16x8_s(a: V128, b: V128) -> V128 { v(_mm_madd_epi16(m(a), m(b))) }
        fn i16x8_extadd_pairwise_i8x16_s(a: V128) -> V128 { v(_mm_maddubs_epi16(_mm_set1_epi8(1), m(a))) }
        fn i16x8_extadd_pairwise_i8x16_u(a: V128) -> V128 { v(_mm_maddubs_epi16(m(a), _mm_set1_epi8(1))) }
        fn i32x4_extadd_pairwise_i16x8_s(a: V128) -> V128 { v(_mm_madd_epi16(m(a), _mm_set1_epi16(1))) }
        fn i32x4_extadd_pairwise_i16x8_u(a: V128) -> V128 {
            // Biased to signed, summed, unbiased: x + y = (x - 32768) + (y - 32768) + 65536.
            let s = _mm_madd_epi16(_mm_xor_si128(m(a), _mm_set1_epi16(i16::MIN)), _mm_set1_epi16(1));
            v(_mm_add_epi32(s, _mm_set1_epi32(0x1_0000)))
        }

        // ---- narrowing and widening ----
        fn i8x16_narrow_i16x8_s(a: V128, b: V128) -> V128 { v(_mm_packs_epi16(m(a), m(b))) }
        fn i8x16_narrow_i16x8_u(a: V128, b: V128) -> V128 { v(_mm_packus_epi16(m(a), m(b))) }
        fn i16x8_narrow_i32x4_s(a: V128, b: V128) -> V128 { v(_mm_packs_epi32(m(a), m(b))) }
        fn i16x8_narrow_i32x4_u(a: V128, b: V128) -> V128 { v(_mm_packus_epi32(m(a), m(b))) }
        fn i16x8_extend_low_i8x16_s(a: V128) -> V128 { v(_mm_cvtepi8_epi16(m(a))) }
        fn i16x8_extend_high_i8x16_s(a: V128) -> V128 { v(_mm_cvtepi8_epi16(_mm_srli_si128::<8>(m(a)))) }
        fn i16x8_extend_low_i8x16_u(a: V128) -> V128 { v(_mm_cvtepu8_epi16(m(a))) }
        fn i16x8_extend_high_i8x16_u(a: V128) -> V128 { v(_mm_cvtepu8_epi16(_mm_srli_si128::<8>(m(a)))) }
        fn i32x4_extend_low_i16x8_s(a: V128) -> V128 { v(_mm_cvtepi16_epi32(m(a))) }
        fn i32x4_extend_high_i16x8_s(a: V128) -> V128 { v(_mm_cvtepi16_epi32(_mm_srli_si128::<8>(m(a)))) }
        fn i32x4_extend_low_i16x8_u(a: V128) -> V128 { v(_mm_cvtepu16_epi32(m(a))) }
        fn i32x4_extend_high_i16x8_u(a: V128) -> V128 { v(_mm_cvtepu16_epi32(_mm_srli_si128::<8>(m(a)))) }
        fn i64x2_extend_low_i32x4_s(a: V128) -> V128 { v(_mm_cvtepi32_epi64(m(a))) }
        fn i64x2_extend_high_i32x4_s(a: V128) -> V128 { v(_mm_cvtepi32_epi64(_mm_srli_si128::<8>(m(a)))) }
        fn i64x2_extend_low_i32x4_u(a: V128) -> V128 { v(_mm_cvtepu32_epi64(m(a))) }
        fn i64x2_extend_high_i32x4_u(a: V128) -> V128 { v(_mm_cvtepu32_epi64(_mm_srli_si128::<8>(m(a)))) }
        fn i16x8_extmul_low_i8x16_s(a: V128, b: V128) -> V128 {
            v(_mm_mullo_epi16(_mm_cvtepi8_epi16(m(a)), _mm_cvtepi8_epi16(m(b))))
        }
        fn i16x8_extmul_high_i8x16_s(a: V128, b: V128) -> V128 {
            let (a, b) = (_mm_srli_si128::<8>(m(a)), _mm_srli_si128::<8>(m(b)));
            v(_mm_mullo_epi16(_mm_cvtepi8_epi16(a), _mm_cvtepi8_epi16(b)))
        }
        fn i16x8_extmul_low_i8x16_u(a: V128, b: V128) -> V128 {
            v(_mm_mullo_epi16(_mm_cvtepu8_epi16(m(a)), _mm_cvtepu8_epi16(m(b))))
        }
        fn i16x8_extmul_high_i8x16_u(a: V128, b: V128) -> V128 {
            let (a, b) = (_mm_srli_si128::<8>(m(a)), _mm_srli_si128::<8>(m(b)));
            v(_mm_mullo_epi16(_mm_cvtepu8_epi16(a), _mm_cvtepu8_epi16(b)))
        }
        fn i32x4_extmul_low_i16x8_s(a: V128, b: V128) -> V128 {
            let (lo, hi) = (_mm_mullo_epi16(m(a), m(b)), _mm_mulhi_epi16(m(a), m(b)));
            v(_mm_unpacklo_epi16(lo, hi))
        }
        fn i32x4_extmul_high_i16x8_s(a: V128, b: V128) -> V128 {
            let (lo, hi) = (_mm_mullo_epi16(m(a), m(b)), _mm_mulhi_epi16(m(a), m(b)));
            v(_mm_unpackhi_epi16(lo, hi))
        }
        fn i32x4_extmul_low_i16x8_u(a: V128, b: V128) -> V128 {
            let (lo, hi) = (_mm_mullo_epi16(m(a), m(b)), _mm_mulhi_epu16(m(a), m(b)));
            v(_mm_unpacklo_epi16(lo, hi))
        }
        fn i32x4_extmul_high_i16x8_u(a: V128, b: V128) -> V128 {
            let (lo, hi) = (_mm_mullo_epi16(m(a), m(b)), _mm_mulhi_epu16(m(a), m(b)));
            v(_mm_unpackhi_epi16(lo, hi))
        }
        fn i64x2_extmul_low_i32x4_s(a: V128, b: V128) -> V128 {
            let (a, b) = (_mm_shuffle_epi32::<0b01_01_00_00>(m(a)), _mm_shuffle_epi32::<0b01_01_00_00>(m(b)));
            v(_mm_mul_epi32(a, b))
        }
        fn i64x2_extmul_high_i32x4_s(a: V128, b: V128) -> V128 {
            let (a, b) = (_mm_shuffle_epi32::<0b11_11_10_10>(m(a)), _mm_shuffle_epi32::<0b11_11_10_10>(m(b)));
            v(_mm_mul_epi32(a, b))
        }
        fn i64x2_extmul_low_i32x4_u(a: V128, b: V128) -> V128 {
            let (a, b) = (_mm_shuffle_epi32::<0b01_01_00_00>(m(a)), _mm_shuffle_epi32::<0b01_01_00_00>(m(b)));
            v(_mm_mul_epu32(a, b))
        }
        fn i64x2_extmul_high_i32x4_u(a: V128, b: V128) -> V128 {
            let (a, b) = (_mm_shuffle_epi32::<0b11_11_10_10>(m(a)), _mm_shuffle_epi32::<0b11_11_10_10>(m(b)));
            v(_mm_mul_epu32(a, b))
        }

        // ---- shifts (counts modulo the lane width) ----
        fn i16x8_shl(a: V128, n: u32) -> V128 { v(_mm_sll_epi16(m(a), _mm_cvtsi32_si128((n & 15) as i32))) }
        fn i16x8_shr_s(a: V128, n: u32) -> V128 { v(_mm_sra_epi16(m(a), _mm_cvtsi32_si128((n & 15) as i32))) }
        fn i16x8_shr_u(a: V128, n: u32) -> V128 { v(_mm_srl_epi16(m(a), _mm_cvtsi32_si128((n & 15) as i32))) }
        fn i32x4_shl(a: V128, n: u32) -> V128 { v(_mm_sll_epi32(m(a), _mm_cvtsi32_si128((n & 31) as i32))) }
        fn i32x4_shr_s(a: V128, n: u32) -> V128 { v(_mm_sra_epi32(m(a), _mm_cvtsi32_si128((n & 31) as i32))) }
        fn i32x4_shr_u(a: V128, n: u32) -> V128 { v(_mm_srl_epi32(m(a), _mm_cvtsi32_si128((n & 31) as i32))) }
        fn i64x2_shl(a: V128, n: u32) -> V128 { v(_mm_sll_epi64(m(a), _mm_cvtsi32_si128((n & 63) as i32))) }
        fn i64x2_shr_u(a: V128, n: u32) -> V128 { v(_mm_srl_epi64(m(a), _mm_cvtsi32_si128((n & 63) as i32))) }
        fn i8x16_shl(a: V128, n: u32) -> V128 {
            // 16-bit shifts, then the bits shifted in from the neighbour byte cleared.
            let n = n & 7;
            let r = _mm_sll_epi16(m(a), _mm_cvtsi32_si128(n as i32));
            v(_mm_and_si128(r, _mm_set1_epi8((0xffu32 << n) as u8 as i8)))
        }
        fn i8x16_shr_u(a: V128, n: u32) -> V128 {
            let n = n & 7;
            let r = _mm_srl_epi16(m(a), _mm_cvtsi32_si128(n as i32));
            v(_mm_and_si128(r, _mm_set1_epi8((0xffu32 >> n) as u8 as i8)))
        }

        // ---- f32x4 ----
        fn f32x4_add(a: V128, b: V128) -> V128 { vps(_mm_add_ps(ps(a), ps(b))) }
        fn f32x4_sub(a: V128, b: V128) -> V128 { vps(_mm_sub_ps(ps(a), ps(b))) }
        fn f32x4_mul(a: V128, b: V128) -> V128 { vps(_mm_mul_ps(ps(a), ps(b))) }
        fn f32x4_div(a: V128, b: V128) -> V128 { vps(_mm_div_ps(ps(a), ps(b))) }
        fn f32x4_sqrt(a: V128) -> V128 { vps(_mm_sqrt_ps(ps(a))) }
        fn f32x4_ceil(a: V128) -> V128 { vps(_mm_round_ps::<{ _MM_FROUND_TO_POS_INF | _MM_FROUND_NO_EXC }>(ps(a))) }
        fn f32x4_floor(a: V128) -> V128 { vps(_mm_round_ps::<{ _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC }>(ps(a))) }
        fn f32x4_trunc(a: V128) -> V128 { vps(_mm_round_ps::<{ _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC }>(ps(a))) }
        fn f32x4_nearest(a: V128) -> V128 { vps(_mm_round_ps::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(ps(a))) }
        fn f32x4_abs(a: V128) -> V128 { v(_mm_and_si128(m(a), _mm_set1_epi32(i32::MAX))) }
        fn f32x4_neg(a: V128) -> V128 { v(_mm_xor_si128(m(a), _mm_set1_epi32(i32::MIN))) }
        fn f32x4_eq(a: V128, b: V128) -> V128 { vps(_mm_cmpeq_ps(ps(a), ps(b))) }
        fn f32x4_ne(a: V128, b: V128) -> V128 { vps(_mm_cmpneq_ps(ps(a), ps(b))) }
        fn f32x4_lt(a: V128, b: V128) -> V128 { vps(_mm_cmplt_ps(ps(a), ps(b))) }
        fn f32x4_gt(a: V128, b: V128) -> V128 { vps(_mm_cmplt_ps(ps(b), ps(a))) }
        fn f32x4_le(a: V128, b: V128) -> V128 { vps(_mm_cmple_ps(ps(a), ps(b))) }
        fn f32x4_ge(a: V128, b: V128) -> V128 { vps(_mm_cmple_ps(ps(b), ps(a))) }
        // minps(x, y) is `x < y ? x : y`: exactly pmin with the operands swapped.
        fn f32x4_pmin(a: V128, b: V128) -> V128 { vps(_mm_min_ps(ps(b), ps(a))) }
        fn f32x4_pmax(a: V128, b: V128) -> V128 { vps(_mm_max_ps(ps(b), ps(a))) }
        fn f32x4_min(a: V128, b: V128) -> V128 {
            // minps both ways: equal unless a NaN or zeros of both signs are involved;
            // OR-ing keeps -0 and makes NaN lanes NaN, then those are made quiet.
            let (x, y) = (_mm_min_ps(ps(a), ps(b)), _mm_min_ps(ps(b), ps(a)));
            let r = _mm_or_ps(x, y);
            let nan = _mm_cmpunord_ps(r, r);
            let r = _mm_or_ps(r, nan);
            vps(_mm_andnot_ps(_mm_castsi128_ps(_mm_srli_epi32::<10>(_mm_castps_si128(nan))), r))
        }
        fn f32x4_max(a: V128, b: V128) -> V128 {
            // maxps both ways: differences only for NaNs and signed zeros; for zeros
            // AND-ing the sign keeps +0, NaN lanes are made quiet NaNs.
            let (x, y) = (_mm_max_ps(ps(a), ps(b)), _mm_max_ps(ps(b), ps(a)));
            let nan = _mm_or_ps(_mm_cmpunord_ps(ps(a), ps(a)), _mm_cmpunord_ps(ps(b), ps(b)));
            let r = _mm_and_ps(x, y);
            vps(_mm_or_ps(_mm_andnot_ps(nan, r), _mm_and_ps(nan, _mm_castsi128_ps(_mm_set1_epi32(0x7fc0_0000)))))
        }

        // ---- f64x2 ----
        fn f64x2_add(a: V128, b: V128) -> V128 { vpd(_mm_add_pd(pd(a), pd(b))) }
        fn f64x2_sub(a: V128, b: V128) -> V128 { vpd(_mm_sub_pd(pd(a), pd(b))) }
        fn f64x2_mul(a: V128, b: V128) -> V128 { vpd(_mm_mul_pd(pd(a), pd(b))) }
        fn f64x2_div(a: V128, b: V128) -> V128 { vpd(_mm_div_pd(pd(a), pd(b))) }
        fn f64x2_sqrt(a: V128) -> V128 { vpd(_mm_sqrt_pd(pd(a))) }
        fn f64x2_ceil(a: V128) -> V128 { vpd(_mm_round_pd::<{ _MM_FROUND_TO_POS_INF | _MM_FROUND_NO_EXC }>(pd(a))) }
        fn f64x2_floor(a: V128) -> V128 { vpd(_mm_round_pd::<{ _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC }>(pd(a))) }
        fn f64x2_trunc(a: V128) -> V128 { vpd(_mm_round_pd::<{ _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC }>(pd(a))) }
        fn f64x2_nearest(a: V128) -> V128 { vpd(_mm_round_pd::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(pd(a))) }
        fn f64x2_abs(a: V128) -> V128 { v(_mm_and_si128(m(a), _mm_set1_epi64x(i64::MAX))) }
        fn f64x2_neg(a: V128) -> V128 { v(_mm_xor_si128(m(a), _mm_set1_epi64x(i64::MIN))) }
        fn f64x2_eq(a: V128, b: V128) -> V128 { vpd(_mm_cmpeq_pd(pd(a), pd(b))) }
        fn f64x2_ne(a: V128, b: V128) -> V128 { vpd(_mm_cmpneq_pd(pd(a), pd(b))) }
        fn f64x2_lt(a: V128, b: V128) -> V128 { vpd(_mm_cmplt_pd(pd(a), pd(b))) }
        fn f64x2_gt(a: V128, b: V128) -> V128 { vpd(_mm_cmplt_pd(pd(b), pd(a))) }
        fn f64x2_le(a: V128, b: V128) -> V128 { vpd(_mm_cmple_pd(pd(a), pd(b))) }
        fn f64x2_ge(a: V128, b: V128) -> V128 { vpd(_mm_cmple_pd(pd(b), pd(a))) }
        fn f64x2_pmin(a: V128, b: V128) -> V128 { vpd(_mm_min_pd(pd(b), pd(a))) }
        fn f64x2_pmax(a: V128, b: V128) -> V128 { vpd(_mm_max_pd(pd(b), pd(a))) }
        fn f64x2_min(a: V128, b: V128) -> V128 {
            let (x, y) = (_mm_min_pd(pd(a), pd(b)), _mm_min_pd(pd(b), pd(a)));
            let r = _mm_or_pd(x, y);
            let nan = _mm_cmpunord_pd(r, r);
            let r = _mm_or_pd(r, nan);
            vpd(_mm_andnot_pd(_mm_castsi128_pd(_mm_srli_epi64::<13>(_mm_castpd_si128(nan))), r))
        }
        fn f64x2_max(a: V128, b: V128) -> V128 {
            let (x, y) = (_mm_max_pd(pd(a), pd(b)), _mm_max_pd(pd(b), pd(a)));
            let nan = _mm_or_pd(_mm_cmpunord_pd(pd(a), pd(a)), _mm_cmpunord_pd(pd(b), pd(b)));
            let r = _mm_and_pd(x, y);
            let quiet = _mm_castsi128_pd(_mm_set1_epi64x(0x7ff8_0000_0000_0000));
            vpd(_mm_or_pd(_mm_andnot_pd(nan, r), _mm_and_pd(nan, quiet)))
        }

        // ---- conversions ----
        fn f32x4_convert_i32x4_s(a: V128) -> V128 { vps(_mm_cvtepi32_ps(m(a))) }
        fn f64x2_convert_low_i32x4_s(a: V128) -> V128 { vpd(_mm_cvtepi32_pd(m(a))) }
        fn f64x2_convert_low_i32x4_u(a: V128) -> V128 {
            // 2^52 + x exactly, as a double whose low word is x; minus 2^52.
            let r = _mm_unpacklo_epi32(m(a), _mm_set1_epi32(0x4330_0000));
            vpd(_mm_sub_pd(_mm_castsi128_pd(r), _mm_set1_pd(4_503_599_627_370_496.0)))
        }
        fn f32x4_demote_f64x2_zero(a: V128) -> V128 { vps(_mm_cvtpd_ps(pd(a))) }
        fn f64x2_promote_low_f32x4(a: V128) -> V128 { vpd(_mm_cvtps_pd(ps(a))) }
        fn i32x4_trunc_sat_f32x4_s(a: V128) -> V128 {
            // NaN lanes zeroed; cvttps2dq gives i32::MIN for every out-of-range lane,
            // which is right for negative ones and flipped to i32::MAX for positive.
            let x = ps(a);
            let ordered = _mm_cmpeq_ps(x, x);
            let x = _mm_and_ps(x, ordered);
            let positive = _mm_xor_si128(_mm_castps_si128(ordered), _mm_castps_si128(x));
            let r = _mm_cvttps_epi32(x);
            let overflow = _mm_srai_epi32::<31>(_mm_and_si128(positive, r));
            v(_mm_xor_si128(r, overflow))
        }
        fn i32x4_trunc_sat_f64x2_s_zero(a: V128) -> V128 {
            // NaN lanes become 0 (minpd returns its second operand), large ones are
            // clamped; cvttpd2dq gives i32::MIN below range and zeroes the upper lanes.
            let x = pd(a);
            let limit = _mm_and_pd(_mm_cmpeq_pd(x, x), _mm_set1_pd(2_147_483_647.0));
            v(_mm_cvttpd_epi32(_mm_min_pd(x, limit)))
        }
    }
}

/// `!x`.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn not(x: __m128i) -> __m128i {
    // SAFETY: SSE2 is part of the x86-64 baseline.
    unsafe { _mm_xor_si128(x, _mm_set1_epi32(-1)) }
}

#[cfg(not(target_arch = "x86_64"))]
impl Lanes for Sse41Lanes {}

#[cfg(test)]
mod tests;
