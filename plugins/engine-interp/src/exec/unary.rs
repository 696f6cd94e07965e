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

// Rounding may pass a signalling NaN through unchanged; the spec asks for an
// arithmetic (quiet) NaN.
macro_rules! rounding {
    ($($name:ident: $t:ty, $f:ident, $quiet:expr;)*) => {$(
        #[doc = concat!("`", stringify!($name), "`")]
        #[inline(always)]
        pub fn $name(a: $t) -> $t {
            let r = a.$f();
            if r.is_nan() {
                <$t>::from_bits(r.to_bits() | $quiet)
            } else {
                r
            }
        }
    )*};
}
rounding! {
    f32_ceil: f32, ceil, 0x0040_0000;
    f32_floor: f32, floor, 0x0040_0000;
    f32_trunc: f32, trunc, 0x0040_0000;
    f32_nearest: f32, round_ties_even, 0x0040_0000;
    f64_ceil: f64, ceil, 0x0008_0000_0000_0000;
    f64_floor: f64, floor, 0x0008_0000_0000_0000;
    f64_trunc: f64, trunc, 0x0008_0000_0000_0000;
    f64_nearest: f64, round_ties_even, 0x0008_0000_0000_0000;
}
