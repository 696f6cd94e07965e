//! Conversions: wrap, extend, truncate (trapping and saturating), convert, demote,
//! promote.

use vm_core::runtime::TrapCode;

/// `a as f64`, without a dependency on the old value of the result register.
///
/// x86's `cvtsi2sd` writes only the low lane of its destination and so waits for
/// whatever last wrote that register — in threaded code, usually the previous
/// handler's float result. Through such a chain the conversions of a loop would
/// serialize behind, say, its `f64.div`s. Clearing the register first cuts it.
#[inline(always)]
fn i64_to_f64(a: i64) -> f64 {
    #[cfg(target_arch = "x86_64")]
    {
        let r: f64;
        // SAFETY: two register-only SSE2 instructions (baseline on x86_64) that
        // touch no memory and no flags; `r` is written before it is read.
        unsafe {
            core::arch::asm!(
                "xorps {r}, {r}",
                "cvtsi2sd {r}, {a}",
                r = out(xmm_reg) r,
                a = in(reg) a,
                options(pure, nomem, nostack, preserves_flags),
            );
        }
        r
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        a as f64
    }
}

/// `a as f32`, without a dependency on the old value of the result register (see
/// [`i64_to_f64`]).
#[inline(always)]
fn i64_to_f32(a: i64) -> f32 {
    #[cfg(target_arch = "x86_64")]
    {
        let r: f32;
        // SAFETY: as in `i64_to_f64`.
        unsafe {
            core::arch::asm!(
                "xorps {r}, {r}",
                "cvtsi2ss {r}, {a}",
                r = out(xmm_reg) r,
                a = in(reg) a,
                options(pure, nomem, nostack, preserves_flags),
            );
        }
        r
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        a as f32
    }
}

/// `i32.wrap_i64`
#[inline(always)]
pub fn i32_wrap_i64(a: u64) -> u32 {
    a as u32
}
/// `i64.extend_i32_s`
#[inline(always)]
pub fn i64_extend_i32_s(a: i32) -> i64 {
    i64::from(a)
}
/// `i64.extend_i32_u`
#[inline(always)]
pub fn i64_extend_i32_u(a: u32) -> u64 {
    u64::from(a)
}
/// `f32.convert_i32_s`
#[inline(always)]
pub fn f32_convert_i32_s(a: i32) -> f32 {
    i64_to_f32(i64::from(a))
}
/// `f32.convert_i32_u`
#[inline(always)]
pub fn f32_convert_i32_u(a: u32) -> f32 {
    i64_to_f32(i64::from(a))
}
/// `f32.convert_i64_s`
#[inline(always)]
pub fn f32_convert_i64_s(a: i64) -> f32 {
    i64_to_f32(a)
}
/// `f32.convert_i64_u`
#[inline(always)]
pub fn f32_convert_i64_u(a: u64) -> f32 {
    a as f32
}
/// `f32.demote_f64`
#[inline(always)]
pub fn f32_demote_f64(a: f64) -> f32 {
    a as f32
}
/// `f64.convert_i32_s`
#[inline(always)]
pub fn f64_convert_i32_s(a: i32) -> f64 {
    i64_to_f64(i64::from(a))
}
/// `f64.convert_i32_u`
#[inline(always)]
pub fn f64_convert_i32_u(a: u32) -> f64 {
    i64_to_f64(i64::from(a))
}
/// `f64.convert_i64_s`
#[inline(always)]
pub fn f64_convert_i64_s(a: i64) -> f64 {
    i64_to_f64(a)
}
/// `f64.convert_i64_u`
#[inline(always)]
pub fn f64_convert_i64_u(a: u64) -> f64 {
    a as f64
}
/// `f64.promote_f32`
#[inline(always)]
pub fn f64_promote_f32(a: f32) -> f64 {
    f64::from(a)
}
/// `i32.extend8_s`
#[inline(always)]
pub fn i32_extend8_s(a: i32) -> i32 {
    i32::from(a as i8)
}
/// `i32.extend16_s`
#[inline(always)]
pub fn i32_extend16_s(a: i32) -> i32 {
    i32::from(a as i16)
}
/// `i64.extend8_s`
#[inline(always)]
pub fn i64_extend8_s(a: i64) -> i64 {
    i64::from(a as i8)
}
/// `i64.extend16_s`
#[inline(always)]
pub fn i64_extend16_s(a: i64) -> i64 {
    i64::from(a as i16)
}
/// `i64.extend32_s`
#[inline(always)]
pub fn i64_extend32_s(a: i64) -> i64 {
    i64::from(a as i32)
}

// Rust's float-to-int `as` saturates and maps NaN to 0: exactly `trunc_sat`.
macro_rules! trunc_sat {
    ($($name:ident: $f:ty => $i:ty;)*) => {$(
        #[doc = concat!("`", stringify!($name), "`")]
        #[inline(always)]
        pub fn $name(a: $f) -> $i {
            a as $i
        }
    )*};
}
trunc_sat! {
    i32_trunc_sat_f32_s: f32 => i32;
    i32_trunc_sat_f32_u: f32 => u32;
    i32_trunc_sat_f64_s: f64 => i32;
    i32_trunc_sat_f64_u: f64 => u32;
    i64_trunc_sat_f32_s: f32 => i64;
    i64_trunc_sat_f32_u: f32 => u64;
    i64_trunc_sat_f64_s: f64 => i64;
    i64_trunc_sat_f64_u: f64 => u64;
}

// Trapping truncation: NaN traps "invalid conversion", values whose truncation is
// outside the target range trap "integer overflow". Bounds are exclusive and exact in
// the source type.
macro_rules! trunc {
    ($($name:ident: $f:ty => $i:ty, $lo:expr, $hi:expr;)*) => {$(
        #[doc = concat!("`", stringify!($name), "`")]
        #[inline(always)]
        pub fn $name(a: $f) -> Result<$i, TrapCode> {
            if a.is_nan() {
                return Err(TrapCode::BadConversionToInteger);
            }
            if !(a > $lo && a < $hi) {
                return Err(TrapCode::IntegerOverflow);
            }
            Ok(a as $i)
        }
    )*};
}
trunc! {
    i32_trunc_f32_s: f32 => i32, -2147483904.0f32, 2147483648.0f32;
    i32_trunc_f32_u: f32 => u32, -1.0f32, 4294967296.0f32;
    i32_trunc_f64_s: f64 => i32, -2147483649.0f64, 2147483648.0f64;
    i32_trunc_f64_u: f64 => u32, -1.0f64, 4294967296.0f64;
    i64_trunc_f32_s: f32 => i64, -9223373136366403584.0f32, 9223372036854775808.0f32;
    i64_trunc_f32_u: f32 => u64, -1.0f32, 18446744073709551616.0f32;
    i64_trunc_f64_s: f64 => i64, -9223372036854777856.0f64, 9223372036854775808.0f64;
    i64_trunc_f64_u: f64 => u64, -1.0f64, 18446744073709551616.0f64;
}
