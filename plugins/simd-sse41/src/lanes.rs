//! SSE4.1 lane operations.

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
impl Lanes for Sse41Lanes {
    #[target_feature(enable = "sse4.1")]
    unsafe fn i8x16_add(a: V128, b: V128) -> V128 {
        v(_mm_add_epi8(m(a), m(b)))
    }
}

#[cfg(not(target_arch = "x86_64"))]
impl Lanes for Sse41Lanes {}
