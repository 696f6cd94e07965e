//! Binary numeric instructions: comparisons, integer and float arithmetic.

use vm_core::runtime::TrapCode;

/// `eq`
#[inline(always)]
pub fn eq<T: PartialEq>(a: T, b: T) -> i32 {
    i32::from(a == b)
}
/// `ne`
#[inline(always)]
pub fn ne<T: PartialEq>(a: T, b: T) -> i32 {
    i32::from(a != b)
}
/// `lt`
#[inline(always)]
pub fn lt<T: PartialOrd>(a: T, b: T) -> i32 {
    i32::from(a < b)
}
/// `gt`
#[inline(always)]
pub fn gt<T: PartialOrd>(a: T, b: T) -> i32 {
    i32::from(a > b)
}
/// `le`
#[inline(always)]
pub fn le<T: PartialOrd>(a: T, b: T) -> i32 {
    i32::from(a <= b)
}
/// `ge`
#[inline(always)]
pub fn ge<T: PartialOrd>(a: T, b: T) -> i32 {
    i32::from(a >= b)
}
/// `and`
#[inline(always)]
pub fn and<T: core::ops::BitAnd<Output = T>>(a: T, b: T) -> T {
    a & b
}
/// `or`
#[inline(always)]
pub fn or<T: core::ops::BitOr<Output = T>>(a: T, b: T) -> T {
    a | b
}
/// `xor`
#[inline(always)]
pub fn xor<T: core::ops::BitXor<Output = T>>(a: T, b: T) -> T {
    a ^ b
}
/// float `add`
#[inline(always)]
pub fn add<T: core::ops::Add<Output = T>>(a: T, b: T) -> T {
    a + b
}
/// float `sub`
#[inline(always)]
pub fn sub<T: core::ops::Sub<Output = T>>(a: T, b: T) -> T {
    a - b
}
/// float `mul`
#[inline(always)]
pub fn mul<T: core::ops::Mul<Output = T>>(a: T, b: T) -> T {
    a * b
}
/// float `div`
#[inline(always)]
pub fn div<T: core::ops::Div<Output = T>>(a: T, b: T) -> T {
    a / b
}
/// `i32.shl`
#[inline(always)]
pub fn i32_shl(a: u32, b: u32) -> u32 {
    a.wrapping_shl(b)
}
/// `i32.shr_s`
#[inline(always)]
pub fn i32_shr_s(a: i32, b: u32) -> i32 {
    a.wrapping_shr(b)
}
/// `i32.shr_u`
#[inline(always)]
pub fn i32_shr_u(a: u32, b: u32) -> u32 {
    a.wrapping_shr(b)
}
/// `i64.shl`
#[inline(always)]
pub fn i64_shl(a: u64, b: u64) -> u64 {
    a.wrapping_shl(b as u32)
}
/// `i64.shr_s`
#[inline(always)]
pub fn i64_shr_s(a: i64, b: u64) -> i64 {
    a.wrapping_shr(b as u32)
}
/// `i64.shr_u`
#[inline(always)]
pub fn i64_shr_u(a: u64, b: u64) -> u64 {
    a.wrapping_shr(b as u32)
}
/// `i64.rotl`
#[inline(always)]
pub fn i64_rotl(a: u64, b: u64) -> u64 {
    a.rotate_left((b & 63) as u32)
}
/// `i64.rotr`
#[inline(always)]
pub fn i64_rotr(a: u64, b: u64) -> u64 {
    a.rotate_right((b & 63) as u32)
}

macro_rules! fminmax {
    ($($name:ident: $t:ty, $bits:ty, $pick:ident, $zero:tt;)*) => {$(
        #[doc = concat!("`", stringify!($name), "`: NaN if either is NaN; -0 < +0")]
        #[inline(always)]
        pub fn $name(a: $t, b: $t) -> $t {
            if a.is_nan() || b.is_nan() {
                return a + b;
            }
            if a == b {
                // Equal values differ only for zeros: min ORs the sign bits, max ANDs.
                return <$t>::from_bits(fminmax!(@$zero a.to_bits(), b.to_bits()));
            }
            a.$pick(b)
        }
    )*};
    (@or $a:expr, $b:expr) => { $a | $b };
    (@and $a:expr, $b:expr) => { $a & $b };
}
fminmax! {
    f32_min: f32, u32, min, or;
    f32_max: f32, u32, max, and;
    f64_min: f64, u64, min, or;
    f64_max: f64, u64, max, and;
}

/// `f32.copysign`
#[inline(always)]
pub fn f32_copysign(a: u32, b: u32) -> u32 {
    (a & 0x7fff_ffff) | (b & 0x8000_0000)
}
/// `f64.copysign`
#[inline(always)]
pub fn f64_copysign(a: u64, b: u64) -> u64 {
    (a & 0x7fff_ffff_ffff_ffff) | (b & 0x8000_0000_0000_0000)
}

macro_rules! idiv {
    ($($div:ident, $rem:ident: $t:ty, $signed:tt;)*) => {$(
        #[doc = concat!("`", stringify!($div), "`")]
        #[inline(always)]
        pub fn $div(a: $t, b: $t) -> Result<$t, TrapCode> {
            if b == 0 {
                return Err(TrapCode::IntegerDivisionByZero);
            }
            a.checked_div(b).ok_or(TrapCode::IntegerOverflow)
        }
        #[doc = concat!("`", stringify!($rem), "`")]
        #[inline(always)]
        pub fn $rem(a: $t, b: $t) -> Result<$t, TrapCode> {
            if b == 0 {
                return Err(TrapCode::IntegerDivisionByZero);
            }
            Ok(a.wrapping_rem(b))
        }
    )*};
}
idiv! {
    i32_div_s, i32_rem_s: i32, s;
    i32_div_u, i32_rem_u: u32, u;
    i64_div_s, i64_rem_s: i64, s;
    i64_div_u, i64_rem_u: u64, u;
}
