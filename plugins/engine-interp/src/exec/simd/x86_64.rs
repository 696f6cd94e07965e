//! The lane handlers of the x86-64 simd levels, each expansion compiled with its
//! level's target features so that the `simd` plugin's intrinsics inline into it.

/// The lane handlers compiled for SSE4.1 (with SSSE3 and SSE3):
/// [`SimdLevel::Sse41`](vm_core::slot::SimdLevel::Sse41).
pub mod sse41 {
    crate::exec::simd::level_handlers!([#[target_feature(enable = "sse4.1")]]);
}

/// The lane handlers compiled for AVX2 (with AVX and SSE4.2, VEX encodings):
/// [`SimdLevel::Avx2`](vm_core::slot::SimdLevel::Avx2).
pub mod avx2 {
    crate::exec::simd::level_handlers!([#[target_feature(enable = "avx2")]]);
}
