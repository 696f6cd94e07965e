//! Unary numeric instructions.

/// `i32.eqz`
#[inline(always)]
pub fn i32_eqz(a: i32) -> i32 {
    i32::from(a == 0)
}
/// `i64.eqz`
#[inline(always)]
pub fn i64_eqz(a: i64) -> i32 {
    i32::from(a == 0)
}
/// `i64.clz`
#[inline(always)]
pub fn i64_clz(a: u64) -> u64 {
    u64::from(a.leading_zeros())
}
/// `i64.ctz`
#[inline(always)]
pub fn i64_ctz(a: u64) -> u64 {
    u64::from(a.trailing_zeros())
}
/// `i64.popcnt`
#[inline(always)]
pub fn i64_popcnt(a: u64) -> u64 {
    u64::from(a.count_ones())
}
/// `f32.abs` (on bits: NaN payloads survive)
#[inline(always)]
pub fn f32_abs(a: u32) -> u32 {
    a & 0x7fff_ffff
}
/// `f32.neg`
#[inline(always)]
pub fn f32_neg(a: u32) -> u32 {
    a ^ 0x8000_0000
}
/// `f64.abs`
#[inline(always)]
pub fn f64_abs(a: u64) -> u64 {
    a & 0x7fff_ffff_ffff_ffff
}
/// `f64.neg`
#[inline(always)]
pub fn f64_neg(a: u64) -> u64 {
    a ^ 0x8000_0000_0000_0000
}

// Rounding with quiet NaN results (the spec asks for an arithmetic NaN where the
// host operation may pass a signalling one through): defined once in vm-core, shared
// with the simd lanes.
pub use vm_core::runtime::simd::{
    f32_ceil, f32_floor, f32_nearest, f32_trunc, f64_ceil, f64_floor, f64_nearest, f64_trunc,
};
