//! The host functions generated code calls, as one table the `virt` plugin links
//! (see `vm_core::runtime::native::Libcall`):
//!
//! - vm-core's runtime functions (`vm_core::runtime::native::runtime_fns`), one copy
//!   per composition, called through the store context's table (indexed by
//!   [`Libcall`]);
//! - math helpers Cranelift calls where the instruction set lacks an instruction
//!   (rounding and `pshufb` without SSE4.1/SSSE3, i.e. with `simd-scalar`; fused
//!   multiply-add without FMA): they follow the runtime functions in the table, and
//!   their calls are patched to the linked addresses when code is published, so
//!   they cost what a direct call costs.

use std::arch::x86_64::__m128i;
use std::mem::transmute;

use cranelift_codegen::ir::LibCall;
use vm_core::Composition;
use vm_core::runtime::native::{self, NativeType, runtime_fns};

#[cfg(doc)]
use crate::env::Libcall;

/// The math helpers, in their order after the runtime functions in the table.
pub const HELPERS: [LibCall; NUM_HELPERS] = [
    LibCall::CeilF32,
    LibCall::CeilF64,
    LibCall::FloorF32,
    LibCall::FloorF64,
    LibCall::TruncF32,
    LibCall::TruncF64,
    LibCall::NearestF32,
    LibCall::NearestF64,
    LibCall::FmaF32,
    LibCall::FmaF64,
    LibCall::X86Pshufb,
];

/// Number of [`HELPERS`].
pub const NUM_HELPERS: usize = 11;

/// The position of a math helper in [`HELPERS`].
pub fn helper_index(lc: LibCall) -> Option<usize> {
    HELPERS.iter().position(|&h| h == lc)
}

/// The table for composition `C`: every runtime function (in [`Libcall`] order),
/// then every math helper (in [`HELPERS`] order), with host addresses.
pub fn table<C: Composition>() -> Vec<native::Libcall> {
    let mut table = runtime_fns::table::<C>();
    table.extend(HELPERS.iter().map(|&h| helper(h)));
    table
}

/// The host addresses of the math helpers (for code compiled outside a composition,
/// which runs in this process).
pub fn host_helpers() -> [usize; NUM_HELPERS] {
    HELPERS.map(|h| helper(h).addr)
}

/// A math helper's description.
fn helper(lc: LibCall) -> native::Libcall {
    use NativeType::{F32, F64, V128};
    let (name, addr, params, result): (_, usize, &'static [NativeType], _) = match lc {
        LibCall::CeilF32 => ("ceil_f32", ceil_f32 as *const () as usize, &[F32], F32),
        LibCall::CeilF64 => ("ceil_f64", ceil_f64 as *const () as usize, &[F64], F64),
        LibCall::FloorF32 => ("floor_f32", floor_f32 as *const () as usize, &[F32], F32),
        LibCall::FloorF64 => ("floor_f64", floor_f64 as *const () as usize, &[F64], F64),
        LibCall::TruncF32 => ("trunc_f32", trunc_f32 as *const () as usize, &[F32], F32),
        LibCall::TruncF64 => ("trunc_f64", trunc_f64 as *const () as usize, &[F64], F64),
        LibCall::NearestF32 => ("nearest_f32", nearest_f32 as *const () as usize, &[F32], F32),
        LibCall::NearestF64 => ("nearest_f64", nearest_f64 as *const () as usize, &[F64], F64),
        LibCall::FmaF32 => ("fma_f32", fma_f32 as *const () as usize, &[F32, F32, F32], F32),
        LibCall::FmaF64 => ("fma_f64", fma_f64 as *const () as usize, &[F64, F64, F64], F64),
        // `LibCall::X86Pshufb`, the last of `HELPERS` (the only values passed here).
        _ => ("x86_pshufb", x86_pshufb as *const () as usize, &[V128, V128], V128),
    };
    native::Libcall { name, addr, params, result: Some(result) }
}

// The rounding routines stand in for SSE4.1's `round*` (code generated without
// SSE4.1); vm-core's versions quiet a signalling NaN as the instruction does.
extern "C" fn ceil_f32(x: f32) -> f32 {
    vm_core::runtime::simd::f32_ceil(x)
}
extern "C" fn ceil_f64(x: f64) -> f64 {
    vm_core::runtime::simd::f64_ceil(x)
}
extern "C" fn floor_f32(x: f32) -> f32 {
    vm_core::runtime::simd::f32_floor(x)
}
extern "C" fn floor_f64(x: f64) -> f64 {
    vm_core::runtime::simd::f64_floor(x)
}
extern "C" fn trunc_f32(x: f32) -> f32 {
    vm_core::runtime::simd::f32_trunc(x)
}
extern "C" fn trunc_f64(x: f64) -> f64 {
    vm_core::runtime::simd::f64_trunc(x)
}
extern "C" fn nearest_f32(x: f32) -> f32 {
    vm_core::runtime::simd::f32_nearest(x)
}
extern "C" fn nearest_f64(x: f64) -> f64 {
    vm_core::runtime::simd::f64_nearest(x)
}
extern "C" fn fma_f32(a: f32, b: f32, c: f32) -> f32 {
    a.mul_add(b, c)
}
extern "C" fn fma_f64(a: f64, b: f64, c: f64) -> f64 {
    a.mul_add(b, c)
}

/// `pshufb` for code generated without SSSE3 (`simd-scalar`): byte `i` of the result
/// is byte `mask[i] & 15` of `a`, or zero when bit 7 of `mask[i]` is set.
#[expect(
    improper_ctypes_definitions,
    reason = "Cranelift passes and takes the vectors in xmm registers, as the System V ABI does for __m128i"
)]
extern "C" fn x86_pshufb(a: __m128i, mask: __m128i) -> __m128i {
    // SAFETY: both are 16 plain bytes; every bit pattern is valid for either type.
    let (a, m) =
        unsafe { (transmute::<__m128i, [u8; 16]>(a), transmute::<__m128i, [u8; 16]>(mask)) };
    let r: [u8; 16] =
        std::array::from_fn(|i| if m[i] & 0x80 != 0 { 0 } else { a[usize::from(m[i] & 15)] });
    // SAFETY: as above.
    unsafe { transmute::<[u8; 16], __m128i>(r) }
}
