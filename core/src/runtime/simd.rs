//! simd128 lane semantics, defined once.
//!
//! [`Lanes`] has one method per simd128 operation an engine computes on values (loads
//! and stores are the engines' business: they combine a memory access with these).
//! Every method has a portable per-lane default, which *is* the WebAssembly
//! semantics; [`Portable`] uses the defaults. A `simd` plugin for a vector ISA
//! overrides methods with `core::arch` intrinsics compiled for its level
//! (`#[target_feature]`) and must return exactly what the default returns, except
//! for the sign and payload of NaN results where the specification allows any NaN.
//!
//! Lanes are little-endian: lane 0 of an `i32x4` is bits 0..32 of the [`V128`].
//!
//! Method names follow the operator names in snake case (`i8x16.add` is
//! [`Lanes::i8x16_add`]). Scalars cross the interface as raw slot bits: splats take
//! a `u64` whose low lane-width bits are the value, `extract_lane` returns the lane
//! zero-extended to a `u64` (sign-extended to 32 bits first for the `_s` forms),
//! `replace_lane` takes the new lane's bits in a `u64`. Lane indexes are taken
//! modulo the lane count (the validator has already rejected larger ones), shift
//! counts modulo the lane width, as the specification says.
//!
//! [`for_each_lanes_op!`](crate::for_each_lanes_op) lists the operations with their
//! WebAssembly operator names, shapes and result lane types: engines expand it into
//! their instructions, `simd` plugins into tests comparing their overrides with
//! [`Portable`].
//!
//! # Relaxed SIMD
//!
//! The relaxed operators let an implementation pick among a few results; this VM
//! picks one, the same on every engine and every `simd` level, so a module computes
//! the same bits wherever it runs (and differential testing can compare engines):
//!
//! | operator | result |
//! |---|---|
//! | `i8x16.relaxed_swizzle` | `i8x16.swizzle` (an index ≥ 16 gives 0) |
//! | `i32x4.relaxed_trunc_*` | the saturating `i32x4.trunc_sat_*` |
//! | `*.relaxed_laneselect` | `v128.bitselect` (bit by bit) |
//! | `f32x4`/`f64x2` `.relaxed_min`/`max` | `min`/`max` (NaN and signed-zero rules of the non-relaxed operators) |
//! | `i16x8.relaxed_q15mulr_s` | `i16x8.q15mulr_sat_s` |
//! | `*.relaxed_madd`/`nmadd` | a product then a sum, each rounded (not fused) |
//! | `i16x8.relaxed_dot_i8x16_i7x16_s` | both operands' bytes signed, pair sums wrapping to `i16` |
//! | `i32x4.relaxed_dot_i8x16_i7x16_add_s` | that dot product, `extadd_pairwise_s`, plus the accumulator |
//!
//! The first five are their non-relaxed operators, which the operator filter hands the
//! engines in their place ([`super::operators`]); the others are [`Lanes`] methods
//! (`f32x4_relaxed_madd`, …).

/// A `v128` value.
pub type V128 = u128;

macro_rules! lane_views {
    ($($get:ident $put:ident $t:ty, $n:expr, $w:expr;)*) => {$(
        #[doc = concat!("The ", stringify!($n), " `", stringify!($t), "` lanes of `v`.")]
        #[inline(always)]
        pub fn $get(v: V128) -> [$t; $n] {
            let b = v.to_le_bytes();
            core::array::from_fn(|i| {
                let mut x = [0u8; $w];
                x.copy_from_slice(&b[i * $w..i * $w + $w]);
                <$t>::from_le_bytes(x)
            })
        }
        #[doc = concat!("The `v128` of ", stringify!($n), " `", stringify!($t), "` lanes.")]
        #[inline(always)]
        pub fn $put(l: [$t; $n]) -> V128 {
            let mut b = [0u8; 16];
            for (i, x) in l.iter().enumerate() {
                b[i * $w..i * $w + $w].copy_from_slice(&x.to_le_bytes());
            }
            u128::from_le_bytes(b)
        }
    )*};
}
lane_views! {
    i8s from_i8s i8, 16, 1;
    u8s from_u8s u8, 16, 1;
    i16s from_i16s i16, 8, 2;
    u16s from_u16s u16, 8, 2;
    i32s from_i32s i32, 4, 4;
    u32s from_u32s u32, 4, 4;
    i64s from_i64s i64, 2, 8;
    u64s from_u64s u64, 2, 8;
    f32s from_f32s f32, 4, 4;
    f64s from_f64s f64, 2, 8;
}

/// Lane-wise `f` over one vector viewed through `get`/`put`.
macro_rules! map1 {
    ($get:ident $put:ident, $a:expr, |$x:ident| $e:expr) => {{
        let a = $get($a);
        $put(core::array::from_fn(|i| {
            let $x = a[i];
            $e
        }))
    }};
}

/// Lane-wise `f` over two vectors viewed through `get`/`put`.
macro_rules! map2 {
    ($get:ident $put:ident, $a:expr, $b:expr, |$x:ident, $y:ident| $e:expr) => {{
        let (a, b) = ($get($a), $get($b));
        $put(core::array::from_fn(|i| {
            let ($x, $y) = (a[i], b[i]);
            $e
        }))
    }};
}

/// Lane-wise comparison: all ones where `$e` holds.
macro_rules! cmp {
    ($get:ident $put:ident, $a:expr, $b:expr, |$x:ident, $y:ident| $e:expr) => {{
        let (a, b) = ($get($a), $get($b));
        $put(core::array::from_fn(|i| {
            let ($x, $y) = (a[i], b[i]);
            if $e { !0 } else { 0 }
        }))
    }};
}

/// `fmin`/`fmax` of WebAssembly: NaN if either is NaN, -0 < +0.
macro_rules! fminmax {
    ($name:ident, $t:ty, $pick:ident, $zero:tt) => {
        #[doc = concat!("`", stringify!($t), "` `", stringify!($pick), "` of WebAssembly: NaN if either operand is NaN, and -0 < +0.")]
        #[inline(always)]
        pub fn $name(a: $t, b: $t) -> $t {
            if a.is_nan() || b.is_nan() {
                return a + b;
            }
            if a == b {
                return <$t>::from_bits(a.to_bits() $zero b.to_bits());
            }
            a.$pick(b)
        }
    };
}
fminmax!(f32_min, f32, min, |);
fminmax!(f32_max, f32, max, &);
fminmax!(f64_min, f64, min, |);
fminmax!(f64_max, f64, max, &);

/// Rounds with `f`, turning a signalling NaN that `f` passed through into a quiet one.
macro_rules! rounding {
    ($($name:ident: $t:ty, $f:ident, $quiet:expr;)*) => {$(
        #[doc = concat!("`", stringify!($t), "` `", stringify!($f), "`, NaN results quiet.")]
        #[inline(always)]
        pub fn $name(a: $t) -> $t {
            let r = a.$f();
            if r.is_nan() { <$t>::from_bits(r.to_bits() | $quiet) } else { r }
        }
    )*};
}
rounding! {
    f32_ceil: f32, ceil, 0x0040_0000;
    f32_floor: f32, floor, 0x0040_0000;
    f32_trunc: f32, trunc, 0x0040_0000;
    f32_nearest: f32, round_ties_even, 0x0040_0000;
    f32_sqrt: f32, sqrt, 0x0040_0000;
    f64_ceil: f64, ceil, 0x0008_0000_0000_0000;
    f64_floor: f64, floor, 0x0008_0000_0000_0000;
    f64_trunc: f64, trunc, 0x0008_0000_0000_0000;
    f64_nearest: f64, round_ties_even, 0x0008_0000_0000_0000;
    f64_sqrt: f64, sqrt, 0x0008_0000_0000_0000;
}

/// The low (`hi == false`) or high half of 16 lanes widened by `f`.
#[inline(always)]
fn half<T: Copy, U, const N: usize, const H: usize>(
    l: [T; N],
    hi: bool,
    f: impl Fn(T) -> U,
) -> [U; H] {
    let o = if hi { H } else { 0 };
    core::array::from_fn(|i| f(l[o + i]))
}

/// Defines [`Lanes`]: every method `unsafe` (see the trait's safety contract), with
/// its portable body as the default.
macro_rules! lanes {
    ($( $(#[doc = $doc:literal])* fn $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty $body:block )*) => {
        /// The simd128 operations on values.
        ///
        /// # Safety
        /// The methods are `unsafe` because an implementation may use instructions
        /// of a vector ISA: the caller guarantees that the CPU has the features of
        /// the `simd` plugin that supplies the implementation (`Vm::new` checks them,
        /// see [`crate::runtime::cpu`]). The portable defaults have no such
        /// requirement.
        pub trait Lanes {
            $(
                $(#[doc = $doc])*
                ///
                /// # Safety
                /// The CPU has the features of the implementing plugin (see [`Lanes`]).
                #[inline]
                #[allow(unused_unsafe)]
                unsafe fn $name($($arg: $ty),*) -> $ret $body
            )*
        }
    };
}

lanes! {
    // ---- constants, splats, lanes, shuffles ----
    /// `i8x16.shuffle`: lane `i` is lane `lanes[i]` of `a ++ b` (the lane indexes
    /// are the bytes of `lanes`, which travels in registers like every vector).
    fn i8x16_shuffle(a: V128, b: V128, lanes: V128) -> V128 {
        let (a, b, lanes) = (u8s(a), u8s(b), u8s(lanes));
        from_u8s(core::array::from_fn(|i| {
            let k = (lanes[i] & 31) as usize;
            if k < 16 { a[k] } else { b[k - 16] }
        }))
    }
    /// `i8x16.swizzle`: lane `i` is lane `b[i]` of `a`, 0 when out of range.
    fn i8x16_swizzle(a: V128, b: V128) -> V128 {
        let (a, b) = (u8s(a), u8s(b));
        from_u8s(core::array::from_fn(|i| a.get(b[i] as usize).copied().unwrap_or(0)))
    }
    /// `i8x16.splat`.
    fn i8x16_splat(x: u64) -> V128 { from_u8s([x as u8; 16]) }
    /// `i16x8.splat`.
    fn i16x8_splat(x: u64) -> V128 { from_u16s([x as u16; 8]) }
    /// `i32x4.splat`.
    fn i32x4_splat(x: u64) -> V128 { from_u32s([x as u32; 4]) }
    /// `i64x2.splat`.
    fn i64x2_splat(x: u64) -> V128 { from_u64s([x; 2]) }
    /// `f32x4.splat` (from the `f32`'s bits).
    fn f32x4_splat(x: u64) -> V128 { from_u32s([x as u32; 4]) }
    /// `f64x2.splat` (from the `f64`'s bits).
    fn f64x2_splat(x: u64) -> V128 { from_u64s([x; 2]) }
    /// `i8x16.extract_lane_s`.
    fn i8x16_extract_lane_s(a: V128, lane: u8) -> u64 { u64::from(i8s(a)[lane as usize & 15] as i32 as u32) }
    /// `i8x16.extract_lane_u`.
    fn i8x16_extract_lane_u(a: V128, lane: u8) -> u64 { u64::from(u8s(a)[lane as usize & 15]) }
    /// `i16x8.extract_lane_s`.
    fn i16x8_extract_lane_s(a: V128, lane: u8) -> u64 { u64::from(i16s(a)[lane as usize & 7] as i32 as u32) }
    /// `i16x8.extract_lane_u`.
    fn i16x8_extract_lane_u(a: V128, lane: u8) -> u64 { u64::from(u16s(a)[lane as usize & 7]) }
    /// `i32x4.extract_lane`.
    fn i32x4_extract_lane(a: V128, lane: u8) -> u64 { u64::from(u32s(a)[lane as usize & 3]) }
    /// `i64x2.extract_lane`.
    fn i64x2_extract_lane(a: V128, lane: u8) -> u64 { u64s(a)[lane as usize & 1] }
    /// `f32x4.extract_lane` (the `f32`'s bits).
    fn f32x4_extract_lane(a: V128, lane: u8) -> u64 { u64::from(u32s(a)[lane as usize & 3]) }
    /// `f64x2.extract_lane` (the `f64`'s bits).
    fn f64x2_extract_lane(a: V128, lane: u8) -> u64 { u64s(a)[lane as usize & 1] }
    /// `i8x16.replace_lane`.
    fn i8x16_replace_lane(a: V128, lane: u8, x: u64) -> V128 {
        let mut l = u8s(a);
        l[lane as usize & 15] = x as u8;
        from_u8s(l)
    }
    /// `i16x8.replace_lane`.
    fn i16x8_replace_lane(a: V128, lane: u8, x: u64) -> V128 {
        let mut l = u16s(a);
        l[lane as usize & 7] = x as u16;
        from_u16s(l)
    }
    /// `i32x4.replace_lane`.
    fn i32x4_replace_lane(a: V128, lane: u8, x: u64) -> V128 {
        let mut l = u32s(a);
        l[lane as usize & 3] = x as u32;
        from_u32s(l)
    }
    /// `i64x2.replace_lane`.
    fn i64x2_replace_lane(a: V128, lane: u8, x: u64) -> V128 {
        let mut l = u64s(a);
        l[lane as usize & 1] = x;
        from_u64s(l)
    }
    /// `f32x4.replace_lane` (from the `f32`'s bits).
    fn f32x4_replace_lane(a: V128, lane: u8, x: u64) -> V128 {
        let mut l = u32s(a);
        l[lane as usize & 3] = x as u32;
        from_u32s(l)
    }
    /// `f64x2.replace_lane` (from the `f64`'s bits).
    fn f64x2_replace_lane(a: V128, lane: u8, x: u64) -> V128 {
        let mut l = u64s(a);
        l[lane as usize & 1] = x;
        from_u64s(l)
    }

    // ---- comparisons ----
    /// `i8x16.eq`.
    fn i8x16_eq(a: V128, b: V128) -> V128 { cmp!(u8s from_u8s, a, b, |x, y| x == y) }
    /// `i8x16.ne`.
    fn i8x16_ne(a: V128, b: V128) -> V128 { cmp!(u8s from_u8s, a, b, |x, y| x != y) }
    /// `i8x16.lt_s`.
    fn i8x16_lt_s(a: V128, b: V128) -> V128 { cmp!(i8s from_i8s, a, b, |x, y| x < y) }
    /// `i8x16.lt_u`.
    fn i8x16_lt_u(a: V128, b: V128) -> V128 { cmp!(u8s from_u8s, a, b, |x, y| x < y) }
    /// `i8x16.gt_s`.
    fn i8x16_gt_s(a: V128, b: V128) -> V128 { cmp!(i8s from_i8s, a, b, |x, y| x > y) }
    /// `i8x16.gt_u`.
    fn i8x16_gt_u(a: V128, b: V128) -> V128 { cmp!(u8s from_u8s, a, b, |x, y| x > y) }
    /// `i8x16.le_s`.
    fn i8x16_le_s(a: V128, b: V128) -> V128 { cmp!(i8s from_i8s, a, b, |x, y| x <= y) }
    /// `i8x16.le_u`.
    fn i8x16_le_u(a: V128, b: V128) -> V128 { cmp!(u8s from_u8s, a, b, |x, y| x <= y) }
    /// `i8x16.ge_s`.
    fn i8x16_ge_s(a: V128, b: V128) -> V128 { cmp!(i8s from_i8s, a, b, |x, y| x >= y) }
    /// `i8x16.ge_u`.
    fn i8x16_ge_u(a: V128, b: V128) -> V128 { cmp!(u8s from_u8s, a, b, |x, y| x >= y) }
    /// `i16x8.eq`.
    fn i16x8_eq(a: V128, b: V128) -> V128 { cmp!(u16s from_u16s, a, b, |x, y| x == y) }
    /// `i16x8.ne`.
    fn i16x8_ne(a: V128, b: V128) -> V128 { cmp!(u16s from_u16s, a, b, |x, y| x != y) }
    /// `i16x8.lt_s`.
    fn i16x8_lt_s(a: V128, b: V128) -> V128 { cmp!(i16s from_i16s, a, b, |x, y| x < y) }
    /// `i16x8.lt_u`.
    fn i16x8_lt_u(a: V128, b: V128) -> V128 { cmp!(u16s from_u16s, a, b, |x, y| x < y) }
    /// `i16x8.gt_s`.
    fn i16x8_gt_s(a: V128, b: V128) -> V128 { cmp!(i16s from_i16s, a, b, |x, y| x > y) }
    /// `i16x8.gt_u`.
    fn i16x8_gt_u(a: V128, b: V128) -> V128 { cmp!(u16s from_u16s, a, b, |x, y| x > y) }
    /// `i16x8.le_s`.
    fn i16x8_le_s(a: V128, b: V128) -> V128 { cmp!(i16s from_i16s, a, b, |x, y| x <= y) }
    /// `i16x8.le_u`.
    fn i16x8_le_u(a: V128, b: V128) -> V128 { cmp!(u16s from_u16s, a, b, |x, y| x <= y) }
    /// `i16x8.ge_s`.
    fn i16x8_ge_s(a: V128, b: V128) -> V128 { cmp!(i16s from_i16s, a, b, |x, y| x >= y) }
    /// `i16x8.ge_u`.
    fn i16x8_ge_u(a: V128, b: V128) -> V128 { cmp!(u16s from_u16s, a, b, |x, y| x >= y) }
    /// `i32x4.eq`.
    fn i32x4_eq(a: V128, b: V128) -> V128 { cmp!(u32s from_u32s, a, b, |x, y| x == y) }
    /// `i32x4.ne`.
    fn i32x4_ne(a: V128, b: V128) -> V128 { cmp!(u32s from_u32s, a, b, |x, y| x != y) }
    /// `i32x4.lt_s`.
    fn i32x4_lt_s(a: V128, b: V128) -> V128 { cmp!(i32s from_i32s, a, b, |x, y| x < y) }
    /// `i32x4.lt_u`.
    fn i32x4_lt_u(a: V128, b: V128) -> V128 { cmp!(u32s from_u32s, a, b, |x, y| x < y) }
    /// `i32x4.gt_s`.
    fn i32x4_gt_s(a: V128, b: V128) -> V128 { cmp!(i32s from_i32s, a, b, |x, y| x > y) }
    /// `i32x4.gt_u`.
    fn i32x4_gt_u(a: V128, b: V128) -> V128 { cmp!(u32s from_u32s, a, b, |x, y| x > y) }
    /// `i32x4.le_s`.
    fn i32x4_le_s(a: V128, b: V128) -> V128 { cmp!(i32s from_i32s, a, b, |x, y| x <= y) }
    /// `i32x4.le_u`.
    fn i32x4_le_u(a: V128, b: V128) -> V128 { cmp!(u32s from_u32s, a, b, |x, y| x <= y) }
    /// `i32x4.ge_s`.
    fn i32x4_ge_s(a: V128, b: V128) -> V128 { cmp!(i32s from_i32s, a, b, |x, y| x >= y) }
    /// `i32x4.ge_u`.
    fn i32x4_ge_u(a: V128, b: V128) -> V128 { cmp!(u32s from_u32s, a, b, |x, y| x >= y) }
    /// `i64x2.eq`.
    fn i64x2_eq(a: V128, b: V128) -> V128 { cmp!(u64s from_u64s, a, b, |x, y| x == y) }
    /// `i64x2.ne`.
    fn i64x2_ne(a: V128, b: V128) -> V128 { cmp!(u64s from_u64s, a, b, |x, y| x != y) }
    /// `i64x2.lt_s`.
    fn i64x2_lt_s(a: V128, b: V128) -> V128 { cmp!(i64s from_i64s, a, b, |x, y| x < y) }
    /// `i64x2.gt_s`.
    fn i64x2_gt_s(a: V128, b: V128) -> V128 { cmp!(i64s from_i64s, a, b, |x, y| x > y) }
    /// `i64x2.le_s`.
    fn i64x2_le_s(a: V128, b: V128) -> V128 { cmp!(i64s from_i64s, a, b, |x, y| x <= y) }
    /// `i64x2.ge_s`.
    fn i64x2_ge_s(a: V128, b: V128) -> V128 { cmp!(i64s from_i64s, a, b, |x, y| x >= y) }
    /// `f32x4.eq`.
    fn f32x4_eq(a: V128, b: V128) -> V128 { cmp!(f32s from_u32s, a, b, |x, y| x == y) }
    /// `f32x4.ne`.
    fn f32x4_ne(a: V128, b: V128) -> V128 { cmp!(f32s from_u32s, a, b, |x, y| x != y) }
    /// `f32x4.lt`.
    fn f32x4_lt(a: V128, b: V128) -> V128 { cmp!(f32s from_u32s, a, b, |x, y| x < y) }
    /// `f32x4.gt`.
    fn f32x4_gt(a: V128, b: V128) -> V128 { cmp!(f32s from_u32s, a, b, |x, y| x > y) }
    /// `f32x4.le`.
    fn f32x4_le(a: V128, b: V128) -> V128 { cmp!(f32s from_u32s, a, b, |x, y| x <= y) }
    /// `f32x4.ge`.
    fn f32x4_ge(a: V128, b: V128) -> V128 { cmp!(f32s from_u32s, a, b, |x, y| x >= y) }
    /// `f64x2.eq`.
    fn f64x2_eq(a: V128, b: V128) -> V128 { cmp!(f64s from_u64s, a, b, |x, y| x == y) }
    /// `f64x2.ne`.
    fn f64x2_ne(a: V128, b: V128) -> V128 { cmp!(f64s from_u64s, a, b, |x, y| x != y) }
    /// `f64x2.lt`.
    fn f64x2_lt(a: V128, b: V128) -> V128 { cmp!(f64s from_u64s, a, b, |x, y| x < y) }
    /// `f64x2.gt`.
    fn f64x2_gt(a: V128, b: V128) -> V128 { cmp!(f64s from_u64s, a, b, |x, y| x > y) }
    /// `f64x2.le`.
    fn f64x2_le(a: V128, b: V128) -> V128 { cmp!(f64s from_u64s, a, b, |x, y| x <= y) }
    /// `f64x2.ge`.
    fn f64x2_ge(a: V128, b: V128) -> V128 { cmp!(f64s from_u64s, a, b, |x, y| x >= y) }

    // ---- bitwise ----
    /// `v128.not`.
    fn v128_not(a: V128) -> V128 { !a }
    /// `v128.and`.
    fn v128_and(a: V128, b: V128) -> V128 { a & b }
    /// `v128.andnot`: `a & !b`.
    fn v128_andnot(a: V128, b: V128) -> V128 { a & !b }
    /// `v128.or`.
    fn v128_or(a: V128, b: V128) -> V128 { a | b }
    /// `v128.xor`.
    fn v128_xor(a: V128, b: V128) -> V128 { a ^ b }
    /// `v128.bitselect`: bits of `a` where `c` is 1, of `b` where it is 0.
    fn v128_bitselect(a: V128, b: V128, c: V128) -> V128 { (a & c) | (b & !c) }
    /// `v128.any_true`.
    fn v128_any_true(a: V128) -> u32 { u32::from(a != 0) }

    // ---- i8x16 ----
    /// `i8x16.abs`.
    fn i8x16_abs(a: V128) -> V128 { map1!(i8s from_i8s, a, |x| x.wrapping_abs()) }
    /// `i8x16.neg`.
    fn i8x16_neg(a: V128) -> V128 { map1!(i8s from_i8s, a, |x| x.wrapping_neg()) }
    /// `i8x16.popcnt`.
    fn i8x16_popcnt(a: V128) -> V128 { map1!(u8s from_u8s, a, |x| x.count_ones() as u8) }
    /// `i8x16.all_true`.
    fn i8x16_all_true(a: V128) -> u32 { u32::from(u8s(a).iter().all(|&x| x != 0)) }
    /// `i8x16.bitmask`.
    fn i8x16_bitmask(a: V128) -> u32 { i8s(a).iter().enumerate().fold(0, |m, (i, &x)| m | (u32::from(x < 0) << i)) }
    /// `i8x16.narrow_i16x8_s`.
    fn i8x16_narrow_i16x8_s(a: V128, b: V128) -> V128 {
        let (a, b) = (i16s(a), i16s(b));
        from_i8s(core::array::from_fn(|i| {
            let x = if i < 8 { a[i] } else { b[i - 8] };
            x.clamp(i8::MIN.into(), i8::MAX.into()) as i8
        }))
    }
    /// `i8x16.narrow_i16x8_u`.
    fn i8x16_narrow_i16x8_u(a: V128, b: V128) -> V128 {
        let (a, b) = (i16s(a), i16s(b));
        from_u8s(core::array::from_fn(|i| {
            let x = if i < 8 { a[i] } else { b[i - 8] };
            x.clamp(0, u8::MAX.into()) as u8
        }))
    }
    /// `i8x16.shl`.
    fn i8x16_shl(a: V128, n: u32) -> V128 { map1!(u8s from_u8s, a, |x| x.wrapping_shl(n)) }
    /// `i8x16.shr_s`.
    fn i8x16_shr_s(a: V128, n: u32) -> V128 { map1!(i8s from_i8s, a, |x| x.wrapping_shr(n)) }
    /// `i8x16.shr_u`.
    fn i8x16_shr_u(a: V128, n: u32) -> V128 { map1!(u8s from_u8s, a, |x| x.wrapping_shr(n)) }
    /// `i8x16.add`: lane-wise wrapping addition.
    fn i8x16_add(a: V128, b: V128) -> V128 { map2!(u8s from_u8s, a, b, |x, y| x.wrapping_add(y)) }
    /// `i8x16.add_sat_s`.
    fn i8x16_add_sat_s(a: V128, b: V128) -> V128 { map2!(i8s from_i8s, a, b, |x, y| x.saturating_add(y)) }
    /// `i8x16.add_sat_u`.
    fn i8x16_add_sat_u(a: V128, b: V128) -> V128 { map2!(u8s from_u8s, a, b, |x, y| x.saturating_add(y)) }
    /// `i8x16.sub`.
    fn i8x16_sub(a: V128, b: V128) -> V128 { map2!(u8s from_u8s, a, b, |x, y| x.wrapping_sub(y)) }
    /// `i8x16.sub_sat_s`.
    fn i8x16_sub_sat_s(a: V128, b: V128) -> V128 { map2!(i8s from_i8s, a, b, |x, y| x.saturating_sub(y)) }
    /// `i8x16.sub_sat_u`.
    fn i8x16_sub_sat_u(a: V128, b: V128) -> V128 { map2!(u8s from_u8s, a, b, |x, y| x.saturating_sub(y)) }
    /// `i8x16.min_s`.
    fn i8x16_min_s(a: V128, b: V128) -> V128 { map2!(i8s from_i8s, a, b, |x, y| x.min(y)) }
    /// `i8x16.min_u`.
    fn i8x16_min_u(a: V128, b: V128) -> V128 { map2!(u8s from_u8s, a, b, |x, y| x.min(y)) }
    /// `i8x16.max_s`.
    fn i8x16_max_s(a: V128, b: V128) -> V128 { map2!(i8s from_i8s, a, b, |x, y| x.max(y)) }
    /// `i8x16.max_u`.
    fn i8x16_max_u(a: V128, b: V128) -> V128 { map2!(u8s from_u8s, a, b, |x, y| x.max(y)) }
    /// `i8x16.avgr_u`: `(x + y + 1) / 2`.
    fn i8x16_avgr_u(a: V128, b: V128) -> V128 { map2!(u8s from_u8s, a, b, |x, y| ((u16::from(x) + u16::from(y) + 1) >> 1) as u8) }

    // ---- i16x8 ----
    /// `i16x8.extadd_pairwise_i8x16_s`.
    fn i16x8_extadd_pairwise_i8x16_s(a: V128) -> V128 {
        let a = i8s(a);
        from_i16s(core::array::from_fn(|i| i16::from(a[2 * i]) + i16::from(a[2 * i + 1])))
    }
    /// `i16x8.extadd_pairwise_i8x16_u`.
    fn i16x8_extadd_pairwise_i8x16_u(a: V128) -> V128 {
        let a = u8s(a);
        from_u16s(core::array::from_fn(|i| u16::from(a[2 * i]) + u16::from(a[2 * i + 1])))
    }
    /// `i16x8.abs`.
    fn i16x8_abs(a: V128) -> V128 { map1!(i16s from_i16s, a, |x| x.wrapping_abs()) }
    /// `i16x8.neg`.
    fn i16x8_neg(a: V128) -> V128 { map1!(i16s from_i16s, a, |x| x.wrapping_neg()) }
    /// `i16x8.q15mulr_sat_s`: `(x * y + 0x4000) >> 15`, saturated.
    fn i16x8_q15mulr_sat_s(a: V128, b: V128) -> V128 {
        map2!(i16s from_i16s, a, b, |x, y| ((i32::from(x) * i32::from(y) + 0x4000) >> 15).clamp(i16::MIN.into(), i16::MAX.into()) as i16)
    }
    /// `i16x8.all_true`.
    fn i16x8_all_true(a: V128) -> u32 { u32::from(u16s(a).iter().all(|&x| x != 0)) }
    /// `i16x8.bitmask`.
    fn i16x8_bitmask(a: V128) -> u32 { i16s(a).iter().enumerate().fold(0, |m, (i, &x)| m | (u32::from(x < 0) << i)) }
    /// `i16x8.narrow_i32x4_s`.
    fn i16x8_narrow_i32x4_s(a: V128, b: V128) -> V128 {
        let (a, b) = (i32s(a), i32s(b));
        from_i16s(core::array::from_fn(|i| {
            let x = if i < 4 { a[i] } else { b[i - 4] };
            x.clamp(i16::MIN.into(), i16::MAX.into()) as i16
        }))
    }
    /// `i16x8.narrow_i32x4_u`.
    fn i16x8_narrow_i32x4_u(a: V128, b: V128) -> V128 {
        let (a, b) = (i32s(a), i32s(b));
        from_u16s(core::array::from_fn(|i| {
            let x = if i < 4 { a[i] } else { b[i - 4] };
            x.clamp(0, u16::MAX.into()) as u16
        }))
    }
    /// `i16x8.extend_low_i8x16_s`.
    fn i16x8_extend_low_i8x16_s(a: V128) -> V128 { from_i16s(half(i8s(a), false, i16::from)) }
    /// `i16x8.extend_high_i8x16_s`.
    fn i16x8_extend_high_i8x16_s(a: V128) -> V128 { from_i16s(half(i8s(a), true, i16::from)) }
    /// `i16x8.extend_low_i8x16_u`.
    fn i16x8_extend_low_i8x16_u(a: V128) -> V128 { from_u16s(half(u8s(a), false, u16::from)) }
    /// `i16x8.extend_high_i8x16_u`.
    fn i16x8_extend_high_i8x16_u(a: V128) -> V128 { from_u16s(half(u8s(a), true, u16::from)) }
    /// `i16x8.shl`.
    fn i16x8_shl(a: V128, n: u32) -> V128 { map1!(u16s from_u16s, a, |x| x.wrapping_shl(n)) }
    /// `i16x8.shr_s`.
    fn i16x8_shr_s(a: V128, n: u32) -> V128 { map1!(i16s from_i16s, a, |x| x.wrapping_shr(n)) }
    /// `i16x8.shr_u`.
    fn i16x8_shr_u(a: V128, n: u32) -> V128 { map1!(u16s from_u16s, a, |x| x.wrapping_shr(n)) }
    /// `i16x8.add`.
    fn i16x8_add(a: V128, b: V128) -> V128 { map2!(u16s from_u16s, a, b, |x, y| x.wrapping_add(y)) }
    /// `i16x8.add_sat_s`.
    fn i16x8_add_sat_s(a: V128, b: V128) -> V128 { map2!(i16s from_i16s, a, b, |x, y| x.saturating_add(y)) }
    /// `i16x8.add_sat_u`.
    fn i16x8_add_sat_u(a: V128, b: V128) -> V128 { map2!(u16s from_u16s, a, b, |x, y| x.saturating_add(y)) }
    /// `i16x8.sub`.
    fn i16x8_sub(a: V128, b: V128) -> V128 { map2!(u16s from_u16s, a, b, |x, y| x.wrapping_sub(y)) }
    /// `i16x8.sub_sat_s`.
    fn i16x8_sub_sat_s(a: V128, b: V128) -> V128 { map2!(i16s from_i16s, a, b, |x, y| x.saturating_sub(y)) }
    /// `i16x8.sub_sat_u`.
    fn i16x8_sub_sat_u(a: V128, b: V128) -> V128 { map2!(u16s from_u16s, a, b, |x, y| x.saturating_sub(y)) }
    /// `i16x8.mul`.
    fn i16x8_mul(a: V128, b: V128) -> V128 { map2!(u16s from_u16s, a, b, |x, y| x.wrapping_mul(y)) }
    /// `i16x8.min_s`.
    fn i16x8_min_s(a: V128, b: V128) -> V128 { map2!(i16s from_i16s, a, b, |x, y| x.min(y)) }
    /// `i16x8.min_u`.
    fn i16x8_min_u(a: V128, b: V128) -> V128 { map2!(u16s from_u16s, a, b, |x, y| x.min(y)) }
    /// `i16x8.max_s`.
    fn i16x8_max_s(a: V128, b: V128) -> V128 { map2!(i16s from_i16s, a, b, |x, y| x.max(y)) }
    /// `i16x8.max_u`.
    fn i16x8_max_u(a: V128, b: V128) -> V128 { map2!(u16s from_u16s, a, b, |x, y| x.max(y)) }
    /// `i16x8.avgr_u`.
    fn i16x8_avgr_u(a: V128, b: V128) -> V128 { map2!(u16s from_u16s, a, b, |x, y| ((u32::from(x) + u32::from(y) + 1) >> 1) as u16) }
    /// `i16x8.extmul_low_i8x16_s`.
    fn i16x8_extmul_low_i8x16_s(a: V128, b: V128) -> V128 {
        let (x, y): ([i16; 8], [i16; 8]) = (half(i8s(a), false, i16::from), half(i8s(b), false, i16::from));
        from_i16s(core::array::from_fn(|i| x[i].wrapping_mul(y[i])))
    }
    /// `i16x8.extmul_high_i8x16_s`.
    fn i16x8_extmul_high_i8x16_s(a: V128, b: V128) -> V128 {
        let (x, y): ([i16; 8], [i16; 8]) = (half(i8s(a), true, i16::from), half(i8s(b), true, i16::from));
        from_i16s(core::array::from_fn(|i| x[i].wrapping_mul(y[i])))
    }
    /// `i16x8.extmul_low_i8x16_u`.
    fn i16x8_extmul_low_i8x16_u(a: V128, b: V128) -> V128 {
        let (x, y): ([u16; 8], [u16; 8]) = (half(u8s(a), false, u16::from), half(u8s(b), false, u16::from));
        from_u16s(core::array::from_fn(|i| x[i].wrapping_mul(y[i])))
    }
    /// `i16x8.extmul_high_i8x16_u`.
    fn i16x8_extmul_high_i8x16_u(a: V128, b: V128) -> V128 {
        let (x, y): ([u16; 8], [u16; 8]) = (half(u8s(a), true, u16::from), half(u8s(b), true, u16::from));
        from_u16s(core::array::from_fn(|i| x[i].wrapping_mul(y[i])))
    }

    // ---- i32x4 ----
    /// `i32x4.extadd_pairwise_i16x8_s`.
    fn i32x4_extadd_pairwise_i16x8_s(a: V128) -> V128 {
        let a = i16s(a);
        from_i32s(core::array::from_fn(|i| i32::from(a[2 * i]) + i32::from(a[2 * i + 1])))
    }
    /// `i32x4.extadd_pairwise_i16x8_u`.
    fn i32x4_extadd_pairwise_i16x8_u(a: V128) -> V128 {
        let a = u16s(a);
        from_u32s(core::array::from_fn(|i| u32::from(a[2 * i]) + u32::from(a[2 * i + 1])))
    }
    /// `i32x4.abs`.
    fn i32x4_abs(a: V128) -> V128 { map1!(i32s from_i32s, a, |x| x.wrapping_abs()) }
    /// `i32x4.neg`.
    fn i32x4_neg(a: V128) -> V128 { map1!(i32s from_i32s, a, |x| x.wrapping_neg()) }
    /// `i32x4.all_true`.
    fn i32x4_all_true(a: V128) -> u32 { u32::from(u32s(a).iter().all(|&x| x != 0)) }
    /// `i32x4.bitmask`.
    fn i32x4_bitmask(a: V128) -> u32 { i32s(a).iter().enumerate().fold(0, |m, (i, &x)| m | (u32::from(x < 0) << i)) }
    /// `i32x4.extend_low_i16x8_s`.
    fn i32x4_extend_low_i16x8_s(a: V128) -> V128 { from_i32s(half(i16s(a), false, i32::from)) }
    /// `i32x4.extend_high_i16x8_s`.
    fn i32x4_extend_high_i16x8_s(a: V128) -> V128 { from_i32s(half(i16s(a), true, i32::from)) }
    /// `i32x4.extend_low_i16x8_u`.
    fn i32x4_extend_low_i16x8_u(a: V128) -> V128 { from_u32s(half(u16s(a), false, u32::from)) }
    /// `i32x4.extend_high_i16x8_u`.
    fn i32x4_extend_high_i16x8_u(a: V128) -> V128 { from_u32s(half(u16s(a), true, u32::from)) }
    /// `i32x4.shl`.
    fn i32x4_shl(a: V128, n: u32) -> V128 { map1!(u32s from_u32s, a, |x| x.wrapping_shl(n)) }
    /// `i32x4.shr_s`.
    fn i32x4_shr_s(a: V128, n: u32) -> V128 { map1!(i32s from_i32s, a, |x| x.wrapping_shr(n)) }
    /// `i32x4.shr_u`.
    fn i32x4_shr_u(a: V128, n: u32) -> V128 { map1!(u32s from_u32s, a, |x| x.wrapping_shr(n)) }
    /// `i32x4.add`.
    fn i32x4_add(a: V128, b: V128) -> V128 { map2!(u32s from_u32s, a, b, |x, y| x.wrapping_add(y)) }
    /// `i32x4.sub`.
    fn i32x4_sub(a: V128, b: V128) -> V128 { map2!(u32s from_u32s, a, b, |x, y| x.wrapping_sub(y)) }
    /// `i32x4.mul`.
    fn i32x4_mul(a: V128, b: V128) -> V128 { map2!(u32s from_u32s, a, b, |x, y| x.wrapping_mul(y)) }
    /// `i32x4.min_s`.
    fn i32x4_min_s(a: V128, b: V128) -> V128 { map2!(i32s from_i32s, a, b, |x, y| x.min(y)) }
    /// `i32x4.min_u`.
    fn i32x4_min_u(a: V128, b: V128) -> V128 { map2!(u32s from_u32s, a, b, |x, y| x.min(y)) }
    /// `i32x4.max_s`.
    fn i32x4_max_s(a: V128, b: V128) -> V128 { map2!(i32s from_i32s, a, b, |x, y| x.max(y)) }
    /// `i32x4.max_u`.
    fn i32x4_max_u(a: V128, b: V128) -> V128 { map2!(u32s from_u32s, a, b, |x, y| x.max(y)) }
    /// `i32x4.dot_i16x8_s`: sums of adjacent products (wrapping).
    fn i32x4_dot_i16x8_s(a: V128, b: V128) -> V128 {
        let (a, b) = (i16s(a), i16s(b));
        from_i32s(core::array::from_fn(|i| {
            let p = |k: usize| i32::from(a[k]) * i32::from(b[k]);
            p(2 * i).wrapping_add(p(2 * i + 1))
        }))
    }
    /// `i32x4.extmul_low_i16x8_s`.
    fn i32x4_extmul_low_i16x8_s(a: V128, b: V128) -> V128 {
        let (x, y): ([i32; 4], [i32; 4]) = (half(i16s(a), false, i32::from), half(i16s(b), false, i32::from));
        from_i32s(core::array::from_fn(|i| x[i].wrapping_mul(y[i])))
    }
    /// `i32x4.extmul_high_i16x8_s`.
    fn i32x4_extmul_high_i16x8_s(a: V128, b: V128) -> V128 {
        let (x, y): ([i32; 4], [i32; 4]) = (half(i16s(a), true, i32::from), half(i16s(b), true, i32::from));
        from_i32s(core::array::from_fn(|i| x[i].wrapping_mul(y[i])))
    }
    /// `i32x4.extmul_low_i16x8_u`.
    fn i32x4_extmul_low_i16x8_u(a: V128, b: V128) -> V128 {
        let (x, y): ([u32; 4], [u32; 4]) = (half(u16s(a), false, u32::from), half(u16s(b), false, u32::from));
        from_u32s(core::array::from_fn(|i| x[i].wrapping_mul(y[i])))
    }
    /// `i32x4.extmul_high_i16x8_u`.
    fn i32x4_extmul_high_i16x8_u(a: V128, b: V128) -> V128 {
        let (x, y): ([u32; 4], [u32; 4]) = (half(u16s(a), true, u32::from), half(u16s(b), true, u32::from));
        from_u32s(core::array::from_fn(|i| x[i].wrapping_mul(y[i])))
    }

    // ---- i64x2 ----
    /// `i64x2.abs`.
    fn i64x2_abs(a: V128) -> V128 { map1!(i64s from_i64s, a, |x| x.wrapping_abs()) }
    /// `i64x2.neg`.
    fn i64x2_neg(a: V128) -> V128 { map1!(i64s from_i64s, a, |x| x.wrapping_neg()) }
    /// `i64x2.all_true`.
    fn i64x2_all_true(a: V128) -> u32 { u32::from(u64s(a).iter().all(|&x| x != 0)) }
    /// `i64x2.bitmask`.
    fn i64x2_bitmask(a: V128) -> u32 { i64s(a).iter().enumerate().fold(0, |m, (i, &x)| m | (u32::from(x < 0) << i)) }
    /// `i64x2.extend_low_i32x4_s`.
    fn i64x2_extend_low_i32x4_s(a: V128) -> V128 { from_i64s(half(i32s(a), false, i64::from)) }
    /// `i64x2.extend_high_i32x4_s`.
    fn i64x2_extend_high_i32x4_s(a: V128) -> V128 { from_i64s(half(i32s(a), true, i64::from)) }
    /// `i64x2.extend_low_i32x4_u`.
    fn i64x2_extend_low_i32x4_u(a: V128) -> V128 { from_u64s(half(u32s(a), false, u64::from)) }
    /// `i64x2.extend_high_i32x4_u`.
    fn i64x2_extend_high_i32x4_u(a: V128) -> V128 { from_u64s(half(u32s(a), true, u64::from)) }
    /// `i64x2.shl`.
    fn i64x2_shl(a: V128, n: u32) -> V128 { map1!(u64s from_u64s, a, |x| x.wrapping_shl(n)) }
    /// `i64x2.shr_s`.
    fn i64x2_shr_s(a: V128, n: u32) -> V128 { map1!(i64s from_i64s, a, |x| x.wrapping_shr(n)) }
    /// `i64x2.shr_u`.
    fn i64x2_shr_u(a: V128, n: u32) -> V128 { map1!(u64s from_u64s, a, |x| x.wrapping_shr(n)) }
    /// `i64x2.add`.
    fn i64x2_add(a: V128, b: V128) -> V128 { map2!(u64s from_u64s, a, b, |x, y| x.wrapping_add(y)) }
    /// `i64x2.sub`.
    fn i64x2_sub(a: V128, b: V128) -> V128 { map2!(u64s from_u64s, a, b, |x, y| x.wrapping_sub(y)) }
    /// `i64x2.mul`.
    fn i64x2_mul(a: V128, b: V128) -> V128 { map2!(u64s from_u64s, a, b, |x, y| x.wrapping_mul(y)) }
    /// `i64x2.extmul_low_i32x4_s`.
    fn i64x2_extmul_low_i32x4_s(a: V128, b: V128) -> V128 {
        let (x, y): ([i64; 2], [i64; 2]) = (half(i32s(a), false, i64::from), half(i32s(b), false, i64::from));
        from_i64s(core::array::from_fn(|i| x[i].wrapping_mul(y[i])))
    }
    /// `i64x2.extmul_high_i32x4_s`.
    fn i64x2_extmul_high_i32x4_s(a: V128, b: V128) -> V128 {
        let (x, y): ([i64; 2], [i64; 2]) = (half(i32s(a), true, i64::from), half(i32s(b), true, i64::from));
        from_i64s(core::array::from_fn(|i| x[i].wrapping_mul(y[i])))
    }
    /// `i64x2.extmul_low_i32x4_u`.
    fn i64x2_extmul_low_i32x4_u(a: V128, b: V128) -> V128 {
        let (x, y): ([u64; 2], [u64; 2]) = (half(u32s(a), false, u64::from), half(u32s(b), false, u64::from));
        from_u64s(core::array::from_fn(|i| x[i].wrapping_mul(y[i])))
    }
    /// `i64x2.extmul_high_i32x4_u`.
    fn i64x2_extmul_high_i32x4_u(a: V128, b: V128) -> V128 {
        let (x, y): ([u64; 2], [u64; 2]) = (half(u32s(a), true, u64::from), half(u32s(b), true, u64::from));
        from_u64s(core::array::from_fn(|i| x[i].wrapping_mul(y[i])))
    }

    // ---- f32x4 ----
    /// `f32x4.ceil`.
    fn f32x4_ceil(a: V128) -> V128 { map1!(f32s from_f32s, a, |x| f32_ceil(x)) }
    /// `f32x4.floor`.
    fn f32x4_floor(a: V128) -> V128 { map1!(f32s from_f32s, a, |x| f32_floor(x)) }
    /// `f32x4.trunc`.
    fn f32x4_trunc(a: V128) -> V128 { map1!(f32s from_f32s, a, |x| f32_trunc(x)) }
    /// `f32x4.nearest`: round to nearest, ties to even.
    fn f32x4_nearest(a: V128) -> V128 { map1!(f32s from_f32s, a, |x| f32_nearest(x)) }
    /// `f32x4.abs`: clears the sign bits.
    fn f32x4_abs(a: V128) -> V128 { map1!(u32s from_u32s, a, |x| x & 0x7fff_ffff) }
    /// `f32x4.neg`: flips the sign bits.
    fn f32x4_neg(a: V128) -> V128 { map1!(u32s from_u32s, a, |x| x ^ 0x8000_0000) }
    /// `f32x4.sqrt`.
    fn f32x4_sqrt(a: V128) -> V128 { map1!(f32s from_f32s, a, |x| f32_sqrt(x)) }
    /// `f32x4.add`.
    fn f32x4_add(a: V128, b: V128) -> V128 { map2!(f32s from_f32s, a, b, |x, y| x + y) }
    /// `f32x4.sub`.
    fn f32x4_sub(a: V128, b: V128) -> V128 { map2!(f32s from_f32s, a, b, |x, y| x - y) }
    /// `f32x4.mul`.
    fn f32x4_mul(a: V128, b: V128) -> V128 { map2!(f32s from_f32s, a, b, |x, y| x * y) }
    /// `f32x4.div`.
    fn f32x4_div(a: V128, b: V128) -> V128 { map2!(f32s from_f32s, a, b, |x, y| x / y) }
    /// `f32x4.min`: NaN if either is NaN, -0 < +0.
    fn f32x4_min(a: V128, b: V128) -> V128 { map2!(f32s from_f32s, a, b, |x, y| f32_min(x, y)) }
    /// `f32x4.max`: NaN if either is NaN, -0 < +0.
    fn f32x4_max(a: V128, b: V128) -> V128 { map2!(f32s from_f32s, a, b, |x, y| f32_max(x, y)) }
    /// `f32x4.pmin`: `y < x ? y : x`.
    fn f32x4_pmin(a: V128, b: V128) -> V128 { map2!(f32s from_f32s, a, b, |x, y| if y < x { y } else { x }) }
    /// `f32x4.pmax`: `x < y ? y : x`.
    fn f32x4_pmax(a: V128, b: V128) -> V128 { map2!(f32s from_f32s, a, b, |x, y| if x < y { y } else { x }) }

    // ---- f64x2 ----
    /// `f64x2.ceil`.
    fn f64x2_ceil(a: V128) -> V128 { map1!(f64s from_f64s, a, |x| f64_ceil(x)) }
    /// `f64x2.floor`.
    fn f64x2_floor(a: V128) -> V128 { map1!(f64s from_f64s, a, |x| f64_floor(x)) }
    /// `f64x2.trunc`.
    fn f64x2_trunc(a: V128) -> V128 { map1!(f64s from_f64s, a, |x| f64_trunc(x)) }
    /// `f64x2.nearest`: round to nearest, ties to even.
    fn f64x2_nearest(a: V128) -> V128 { map1!(f64s from_f64s, a, |x| f64_nearest(x)) }
    /// `f64x2.abs`: clears the sign bits.
    fn f64x2_abs(a: V128) -> V128 { map1!(u64s from_u64s, a, |x| x & 0x7fff_ffff_ffff_ffff) }
    /// `f64x2.neg`: flips the sign bits.
    fn f64x2_neg(a: V128) -> V128 { map1!(u64s from_u64s, a, |x| x ^ 0x8000_0000_0000_0000) }
    /// `f64x2.sqrt`.
    fn f64x2_sqrt(a: V128) -> V128 { map1!(f64s from_f64s, a, |x| f64_sqrt(x)) }
    /// `f64x2.add`.
    fn f64x2_add(a: V128, b: V128) -> V128 { map2!(f64s from_f64s, a, b, |x, y| x + y) }
    /// `f64x2.sub`.
    fn f64x2_sub(a: V128, b: V128) -> V128 { map2!(f64s from_f64s, a, b, |x, y| x - y) }
    /// `f64x2.mul`.
    fn f64x2_mul(a: V128, b: V128) -> V128 { map2!(f64s from_f64s, a, b, |x, y| x * y) }
    /// `f64x2.div`.
    fn f64x2_div(a: V128, b: V128) -> V128 { map2!(f64s from_f64s, a, b, |x, y| x / y) }
    /// `f64x2.min`: NaN if either is NaN, -0 < +0.
    fn f64x2_min(a: V128, b: V128) -> V128 { map2!(f64s from_f64s, a, b, |x, y| f64_min(x, y)) }
    /// `f64x2.max`: NaN if either is NaN, -0 < +0.
    fn f64x2_max(a: V128, b: V128) -> V128 { map2!(f64s from_f64s, a, b, |x, y| f64_max(x, y)) }
    /// `f64x2.pmin`: `y < x ? y : x`.
    fn f64x2_pmin(a: V128, b: V128) -> V128 { map2!(f64s from_f64s, a, b, |x, y| if y < x { y } else { x }) }
    /// `f64x2.pmax`: `x < y ? y : x`.
    fn f64x2_pmax(a: V128, b: V128) -> V128 { map2!(f64s from_f64s, a, b, |x, y| if x < y { y } else { x }) }

    // ---- conversions ----
    /// `i32x4.trunc_sat_f32x4_s`: NaN to 0, out of range saturated.
    fn i32x4_trunc_sat_f32x4_s(a: V128) -> V128 { let a = f32s(a); from_i32s(core::array::from_fn(|i| a[i] as i32)) }
    /// `i32x4.trunc_sat_f32x4_u`: NaN to 0, out of range saturated.
    fn i32x4_trunc_sat_f32x4_u(a: V128) -> V128 { let a = f32s(a); from_u32s(core::array::from_fn(|i| a[i] as u32)) }
    /// `f32x4.convert_i32x4_s`.
    fn f32x4_convert_i32x4_s(a: V128) -> V128 { let a = i32s(a); from_f32s(core::array::from_fn(|i| a[i] as f32)) }
    /// `f32x4.convert_i32x4_u`.
    fn f32x4_convert_i32x4_u(a: V128) -> V128 { let a = u32s(a); from_f32s(core::array::from_fn(|i| a[i] as f32)) }
    /// `i32x4.trunc_sat_f64x2_s_zero`: the two lanes truncated, then two zeros.
    fn i32x4_trunc_sat_f64x2_s_zero(a: V128) -> V128 {
        let a = f64s(a);
        from_i32s([a[0] as i32, a[1] as i32, 0, 0])
    }
    /// `i32x4.trunc_sat_f64x2_u_zero`: the two lanes truncated, then two zeros.
    fn i32x4_trunc_sat_f64x2_u_zero(a: V128) -> V128 {
        let a = f64s(a);
        from_u32s([a[0] as u32, a[1] as u32, 0, 0])
    }
    /// `f64x2.convert_low_i32x4_s`.
    fn f64x2_convert_low_i32x4_s(a: V128) -> V128 { let a = i32s(a); from_f64s([f64::from(a[0]), f64::from(a[1])]) }
    /// `f64x2.convert_low_i32x4_u`.
    fn f64x2_convert_low_i32x4_u(a: V128) -> V128 { let a = u32s(a); from_f64s([f64::from(a[0]), f64::from(a[1])]) }
    /// `f32x4.demote_f64x2_zero`: the two lanes rounded, then two zeros.
    fn f32x4_demote_f64x2_zero(a: V128) -> V128 { let a = f64s(a); from_f32s([a[0] as f32, a[1] as f32, 0.0, 0.0]) }
    /// `f64x2.promote_low_f32x4`.
    fn f64x2_promote_low_f32x4(a: V128) -> V128 { let a = f32s(a); from_f64s([f64::from(a[0]), f64::from(a[1])]) }

    // ---- relaxed SIMD: the choices this VM makes (see "Relaxed SIMD" above) ----
    /// `f32x4.relaxed_madd`: `a * b + c`, rounded after the product and after the sum
    /// (not fused).
    fn f32x4_relaxed_madd(a: V128, b: V128, c: V128) -> V128 {
        // SAFETY: the caller's guarantee for this method covers the ones it calls.
        unsafe { Self::f32x4_add(Self::f32x4_mul(a, b), c) }
    }
    /// `f32x4.relaxed_nmadd`: `-(a * b) + c`, not fused.
    fn f32x4_relaxed_nmadd(a: V128, b: V128, c: V128) -> V128 {
        // SAFETY: the caller's guarantee for this method covers the ones it calls.
        unsafe { Self::f32x4_add(Self::f32x4_neg(Self::f32x4_mul(a, b)), c) }
    }
    /// `f64x2.relaxed_madd`: `a * b + c`, not fused.
    fn f64x2_relaxed_madd(a: V128, b: V128, c: V128) -> V128 {
        // SAFETY: the caller's guarantee for this method covers the ones it calls.
        unsafe { Self::f64x2_add(Self::f64x2_mul(a, b), c) }
    }
    /// `f64x2.relaxed_nmadd`: `-(a * b) + c`, not fused.
    fn f64x2_relaxed_nmadd(a: V128, b: V128, c: V128) -> V128 {
        // SAFETY: the caller's guarantee for this method covers the ones it calls.
        unsafe { Self::f64x2_add(Self::f64x2_neg(Self::f64x2_mul(a, b)), c) }
    }
    /// `i16x8.relaxed_dot_i8x16_i7x16_s`: the bytes of both operands signed, each pair
    /// of adjacent products summed into an `i16` lane, wrapping (only `-128 * -128`
    /// twice overflows).
    fn i16x8_relaxed_dot_i8x16_i7x16_s(a: V128, b: V128) -> V128 {
        let (x, y) = (i8s(a), i8s(b));
        from_i16s(core::array::from_fn(|i| {
            let p = |k: usize| i16::from(x[k]) * i16::from(y[k]);
            p(2 * i).wrapping_add(p(2 * i + 1))
        }))
    }
    /// `i32x4.relaxed_dot_i8x16_i7x16_add_s`: the `i16x8` dot product above, adjacent
    /// lanes summed into `i32` lanes (`i32x4.extadd_pairwise_i16x8_s`), plus `c`.
    fn i32x4_relaxed_dot_i8x16_i7x16_add_s(a: V128, b: V128, c: V128) -> V128 {
        // SAFETY: the caller's guarantee for this method covers the ones it calls.
        unsafe { Self::i32x4_add(Self::i32x4_extadd_pairwise_i16x8_s(Self::i16x8_relaxed_dot_i8x16_i7x16_s(a, b)), c) }
    }
}

/// The portable implementation: every operation is its per-lane definition.
#[derive(Debug)]
pub struct Portable;

impl Lanes for Portable {}

/// Applies `f` to each pair of `N`-lane lanes (lanes of `128 / N` bits, given and
/// returned zero-extended in a `u64`).
#[inline(always)]
pub fn map2<const N: usize>(a: V128, b: V128, f: impl Fn(u64, u64) -> u64) -> V128 {
    let bits = 128 / N;
    let mask = if bits == 64 { u64::MAX } else { (1u64 << bits) - 1 };
    let mut r = 0u128;
    for i in 0..N {
        let x = (a >> (i * bits)) as u64 & mask;
        let y = (b >> (i * bits)) as u64 & mask;
        r |= u128::from(f(x, y) & mask) << (i * bits);
    }
    r
}

/// Every [`Lanes`] operation, by shape, as `WasmOperatorName method kind;` where
/// `WasmOperatorName` is the `wasmparser::Operator` variant and `kind` the lane type
/// of the result (`i` for integer and bitwise results, `f32`/`f64` for float results,
/// whose NaNs may differ in sign and payload between implementations).
///
/// Shapes: `unary` (`fn(V128) -> V128`), `binary` (`fn(V128, V128) -> V128`),
/// `shift` (`fn(V128, u32) -> V128`), `test` (`fn(V128) -> u32`), `splat`
/// (`fn(u64) -> V128`), `extract` (`fn(V128, u8) -> u64`), `replace`
/// (`fn(V128, u8, u64) -> V128`); `v128.bitselect` and `i8x16.shuffle` have shapes of
/// their own and are not listed.
#[macro_export]
macro_rules! for_each_lanes_op {
    ($m:ident $($extra:tt)*) => {
        $m! {
            $($extra)*
            unary {
                V128Not v128_not i;
                I8x16Abs i8x16_abs i; I8x16Neg i8x16_neg i; I8x16Popcnt i8x16_popcnt i;
                I16x8ExtAddPairwiseI8x16S i16x8_extadd_pairwise_i8x16_s i;
                I16x8ExtAddPairwiseI8x16U i16x8_extadd_pairwise_i8x16_u i;
                I16x8Abs i16x8_abs i; I16x8Neg i16x8_neg i;
                I16x8ExtendLowI8x16S i16x8_extend_low_i8x16_s i;
                I16x8ExtendHighI8x16S i16x8_extend_high_i8x16_s i;
                I16x8ExtendLowI8x16U i16x8_extend_low_i8x16_u i;
                I16x8ExtendHighI8x16U i16x8_extend_high_i8x16_u i;
                I32x4ExtAddPairwiseI16x8S i32x4_extadd_pairwise_i16x8_s i;
                I32x4ExtAddPairwiseI16x8U i32x4_extadd_pairwise_i16x8_u i;
                I32x4Abs i32x4_abs i; I32x4Neg i32x4_neg i;
                I32x4ExtendLowI16x8S i32x4_extend_low_i16x8_s i;
                I32x4ExtendHighI16x8S i32x4_extend_high_i16x8_s i;
                I32x4ExtendLowI16x8U i32x4_extend_low_i16x8_u i;
                I32x4ExtendHighI16x8U i32x4_extend_high_i16x8_u i;
                I64x2Abs i64x2_abs i; I64x2Neg i64x2_neg i;
                I64x2ExtendLowI32x4S i64x2_extend_low_i32x4_s i;
                I64x2ExtendHighI32x4S i64x2_extend_high_i32x4_s i;
                I64x2ExtendLowI32x4U i64x2_extend_low_i32x4_u i;
                I64x2ExtendHighI32x4U i64x2_extend_high_i32x4_u i;
                F32x4Ceil f32x4_ceil f32; F32x4Floor f32x4_floor f32; F32x4Trunc f32x4_trunc f32;
                F32x4Nearest f32x4_nearest f32; F32x4Abs f32x4_abs i; F32x4Neg f32x4_neg i;
                F32x4Sqrt f32x4_sqrt f32;
                F64x2Ceil f64x2_ceil f64; F64x2Floor f64x2_floor f64; F64x2Trunc f64x2_trunc f64;
                F64x2Nearest f64x2_nearest f64; F64x2Abs f64x2_abs i; F64x2Neg f64x2_neg i;
                F64x2Sqrt f64x2_sqrt f64;
                I32x4TruncSatF32x4S i32x4_trunc_sat_f32x4_s i;
                I32x4TruncSatF32x4U i32x4_trunc_sat_f32x4_u i;
                F32x4ConvertI32x4S f32x4_convert_i32x4_s f32;
                F32x4ConvertI32x4U f32x4_convert_i32x4_u f32;
                I32x4TruncSatF64x2SZero i32x4_trunc_sat_f64x2_s_zero i;
                I32x4TruncSatF64x2UZero i32x4_trunc_sat_f64x2_u_zero i;
                F64x2ConvertLowI32x4S f64x2_convert_low_i32x4_s f64;
                F64x2ConvertLowI32x4U f64x2_convert_low_i32x4_u f64;
                F32x4DemoteF64x2Zero f32x4_demote_f64x2_zero f32;
                F64x2PromoteLowF32x4 f64x2_promote_low_f32x4 f64;
            }
            binary {
                I8x16Swizzle i8x16_swizzle i;
                I8x16Eq i8x16_eq i; I8x16Ne i8x16_ne i; I8x16LtS i8x16_lt_s i; I8x16LtU i8x16_lt_u i;
                I8x16GtS i8x16_gt_s i; I8x16GtU i8x16_gt_u i; I8x16LeS i8x16_le_s i; I8x16LeU i8x16_le_u i;
                I8x16GeS i8x16_ge_s i; I8x16GeU i8x16_ge_u i;
                I16x8Eq i16x8_eq i; I16x8Ne i16x8_ne i; I16x8LtS i16x8_lt_s i; I16x8LtU i16x8_lt_u i;
                I16x8GtS i16x8_gt_s i; I16x8GtU i16x8_gt_u i; I16x8LeS i16x8_le_s i; I16x8LeU i16x8_le_u i;
                I16x8GeS i16x8_ge_s i; I16x8GeU i16x8_ge_u i;
                I32x4Eq i32x4_eq i; I32x4Ne i32x4_ne i; I32x4LtS i32x4_lt_s i; I32x4LtU i32x4_lt_u i;
                I32x4GtS i32x4_gt_s i; I32x4GtU i32x4_gt_u i; I32x4LeS i32x4_le_s i; I32x4LeU i32x4_le_u i;
                I32x4GeS i32x4_ge_s i; I32x4GeU i32x4_ge_u i;
                I64x2Eq i64x2_eq i; I64x2Ne i64x2_ne i; I64x2LtS i64x2_lt_s i; I64x2GtS i64x2_gt_s i;
                I64x2LeS i64x2_le_s i; I64x2GeS i64x2_ge_s i;
                F32x4Eq f32x4_eq i; F32x4Ne f32x4_ne i; F32x4Lt f32x4_lt i; F32x4Gt f32x4_gt i;
                F32x4Le f32x4_le i; F32x4Ge f32x4_ge i;
                F64x2Eq f64x2_eq i; F64x2Ne f64x2_ne i; F64x2Lt f64x2_lt i; F64x2Gt f64x2_gt i;
                F64x2Le f64x2_le i; F64x2Ge f64x2_ge i;
                V128And v128_and i; V128AndNot v128_andnot i; V128Or v128_or i; V128Xor v128_xor i;
                I8x16NarrowI16x8S i8x16_narrow_i16x8_s i; I8x16NarrowI16x8U i8x16_narrow_i16x8_u i;
                I8x16Add i8x16_add i; I8x16AddSatS i8x16_add_sat_s i; I8x16AddSatU i8x16_add_sat_u i;
                I8x16Sub i8x16_sub i; I8x16SubSatS i8x16_sub_sat_s i; I8x16SubSatU i8x16_sub_sat_u i;
                I8x16MinS i8x16_min_s i; I8x16MinU i8x16_min_u i; I8x16MaxS i8x16_max_s i;
                I8x16MaxU i8x16_max_u i; I8x16AvgrU i8x16_avgr_u i;
                I16x8Q15MulrSatS i16x8_q15mulr_sat_s i;
                I16x8NarrowI32x4S i16x8_narrow_i32x4_s i; I16x8NarrowI32x4U i16x8_narrow_i32x4_u i;
                I16x8Add i16x8_add i; I16x8AddSatS i16x8_add_sat_s i; I16x8AddSatU i16x8_add_sat_u i;
                I16x8Sub i16x8_sub i; I16x8SubSatS i16x8_sub_sat_s i; I16x8SubSatU i16x8_sub_sat_u i;
                I16x8Mul i16x8_mul i; I16x8MinS i16x8_min_s i; I16x8MinU i16x8_min_u i;
                I16x8MaxS i16x8_max_s i; I16x8MaxU i16x8_max_u i; I16x8AvgrU i16x8_avgr_u i;
                I16x8ExtMulLowI8x16S i16x8_extmul_low_i8x16_s i;
                I16x8ExtMulHighI8x16S i16x8_extmul_high_i8x16_s i;
                I16x8ExtMulLowI8x16U i16x8_extmul_low_i8x16_u i;
                I16x8ExtMulHighI8x16U i16x8_extmul_high_i8x16_u i;
                I32x4Add i32x4_add i; I32x4Sub i32x4_sub i; I32x4Mul i32x4_mul i;
                I32x4MinS i32x4_min_s i; I32x4MinU i32x4_min_u i; I32x4MaxS i32x4_max_s i;
                I32x4MaxU i32x4_max_u i; I32x4DotI16x8S i32x4_dot_i16x8_s i;
                I32x4ExtMulLowI16x8S i32x4_extmul_low_i16x8_s i;
                I32x4ExtMulHighI16x8S i32x4_extmul_high_i16x8_s i;
                I32x4ExtMulLowI16x8U i32x4_extmul_low_i16x8_u i;
                I32x4ExtMulHighI16x8U i32x4_extmul_high_i16x8_u i;
                I64x2Add i64x2_add i; I64x2Sub i64x2_sub i; I64x2Mul i64x2_mul i;
                I64x2ExtMulLowI32x4S i64x2_extmul_low_i32x4_s i;
                I64x2ExtMulHighI32x4S i64x2_extmul_high_i32x4_s i;
                I64x2ExtMulLowI32x4U i64x2_extmul_low_i32x4_u i;
                I64x2ExtMulHighI32x4U i64x2_extmul_high_i32x4_u i;
                F32x4Add f32x4_add f32; F32x4Sub f32x4_sub f32; F32x4Mul f32x4_mul f32;
                F32x4Div f32x4_div f32; F32x4Min f32x4_min f32; F32x4Max f32x4_max f32;
                F32x4PMin f32x4_pmin f32; F32x4PMax f32x4_pmax f32;
                F64x2Add f64x2_add f64; F64x2Sub f64x2_sub f64; F64x2Mul f64x2_mul f64;
                F64x2Div f64x2_div f64; F64x2Min f64x2_min f64; F64x2Max f64x2_max f64;
                F64x2PMin f64x2_pmin f64; F64x2PMax f64x2_pmax f64;
                I16x8RelaxedDotI8x16I7x16S i16x8_relaxed_dot_i8x16_i7x16_s i;
            }
            shift {
                I8x16Shl i8x16_shl i; I8x16ShrS i8x16_shr_s i; I8x16ShrU i8x16_shr_u i;
                I16x8Shl i16x8_shl i; I16x8ShrS i16x8_shr_s i; I16x8ShrU i16x8_shr_u i;
                I32x4Shl i32x4_shl i; I32x4ShrS i32x4_shr_s i; I32x4ShrU i32x4_shr_u i;
                I64x2Shl i64x2_shl i; I64x2ShrS i64x2_shr_s i; I64x2ShrU i64x2_shr_u i;
            }
            test {
                V128AnyTrue v128_any_true i;
                I8x16AllTrue i8x16_all_true i; I8x16Bitmask i8x16_bitmask i;
                I16x8AllTrue i16x8_all_true i; I16x8Bitmask i16x8_bitmask i;
                I32x4AllTrue i32x4_all_true i; I32x4Bitmask i32x4_bitmask i;
                I64x2AllTrue i64x2_all_true i; I64x2Bitmask i64x2_bitmask i;
            }
            splat {
                I8x16Splat i8x16_splat i; I16x8Splat i16x8_splat i; I32x4Splat i32x4_splat i;
                I64x2Splat i64x2_splat i; F32x4Splat f32x4_splat i; F64x2Splat f64x2_splat i;
            }
            extract {
                I8x16ExtractLaneS i8x16_extract_lane_s i; I8x16ExtractLaneU i8x16_extract_lane_u i;
                I16x8ExtractLaneS i16x8_extract_lane_s i; I16x8ExtractLaneU i16x8_extract_lane_u i;
                I32x4ExtractLane i32x4_extract_lane i; I64x2ExtractLane i64x2_extract_lane i;
                F32x4ExtractLane f32x4_extract_lane i; F64x2ExtractLane f64x2_extract_lane i;
            }
            replace {
                I8x16ReplaceLane i8x16_replace_lane i; I16x8ReplaceLane i16x8_replace_lane i;
                I32x4ReplaceLane i32x4_replace_lane i; I64x2ReplaceLane i64x2_replace_lane i;
                F32x4ReplaceLane f32x4_replace_lane i; F64x2ReplaceLane f64x2_replace_lane i;
            }
        }
    };
}

#[cfg(test)]
mod tests;

/// Inputs for [`compare_with_portable`]: lanes at the edges (zeros, ±1, the
/// extremes of every lane width, ±0, ±inf, quiet and signalling NaNs, values near
/// the saturation limits of the conversions) mixed into pseudo-random vectors.
pub fn sample_inputs(count: usize) -> Vec<V128> {
    let edges32: [u32; 16] = [
        0,
        1,
        0xffff_ffff,
        0x8000_0000,
        0x7fff_ffff,
        0x3f80_0000,
        0xbf80_0000,
        0x7f80_0000,
        0xff80_0000,
        0x7fc0_0000,
        0x7fa0_0001,
        0xffc0_0000,
        0x4f00_0000,
        0x4f80_0000,
        0x3f00_0000,
        0xcf00_0001,
    ];
    let edges64: [u64; 12] = [
        0,
        1,
        u64::MAX,
        1 << 63,
        (1 << 63) - 1,
        0x3ff0_0000_0000_0000,
        0x7ff0_0000_0000_0000,
        0xfff0_0000_0000_0000,
        0x7ff8_0000_0000_0000,
        0x7ff4_0000_0000_0001,
        0x41e0_0000_0000_0000,
        0xc1e0_0000_0020_0000,
    ];
    let edges16: [u16; 8] = [0, 1, 0x7fff, 0x8000, 0xffff, 0x00ff, 0xff00, 0x7f80];
    let mut s = 0x9e37_79b9_7f4a_7c15u64;
    let mut rnd = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    let mut out = Vec::with_capacity(count);
    for k in 0..count {
        let r = u128::from(rnd()) | (u128::from(rnd()) << 64);
        let v = match k % 5 {
            0 => r,
            1 => from_u32s(core::array::from_fn(|_| edges32[rnd() as usize % edges32.len()])),
            2 => from_u64s(core::array::from_fn(|_| edges64[rnd() as usize % edges64.len()])),
            3 => from_u16s(core::array::from_fn(|_| edges16[rnd() as usize % edges16.len()])),
            _ => from_u8s(core::array::from_fn(|_| {
                [0u8, 1, 0x7f, 0x80, 0xff, 15, 16, 31][rnd() as usize % 8]
            })),
        };
        out.push(v);
    }
    out
}

/// Whether `x` and `y`, results of an operation with result lanes `kind` (`"i"`,
/// `"f32"`, `"f64"`), are the same, NaN lanes matching any NaN.
pub fn same_result(kind: &str, x: V128, y: V128) -> bool {
    match kind {
        "f32" => {
            let (a, b) = (f32s(x), f32s(y));
            (0..4).all(|i| a[i].to_bits() == b[i].to_bits() || (a[i].is_nan() && b[i].is_nan()))
        }
        "f64" => {
            let (a, b) = (f64s(x), f64s(y));
            (0..2).all(|i| a[i].to_bits() == b[i].to_bits() || (a[i].is_nan() && b[i].is_nan()))
        }
        _ => x == y,
    }
}

macro_rules! define_compare {
    (
        unary { $($u:ident $uf:ident $uk:ident;)* }
        binary { $($b:ident $bf:ident $bk:ident;)* }
        shift { $($s:ident $sf:ident $sk:ident;)* }
        test { $($t:ident $tf:ident $tk:ident;)* }
        splat { $($p:ident $pf:ident $pk:ident;)* }
        extract { $($e:ident $ef:ident $ek:ident;)* }
        replace { $($r:ident $rf:ident $rk:ident;)* }
    ) => {
        /// Runs every operation of `L` and of [`Portable`] on [`sample_inputs`] and
        /// returns the first disagreement (NaN lanes of float results match any
        /// NaN), as `"method(inputs) = got, portable: want"`.
        ///
        /// # Errors
        /// The first disagreement.
        ///
        /// # Safety
        /// The CPU has the features `L` is compiled for.
        pub unsafe fn compare_with_portable<L: Lanes>(count: usize) -> Result<(), String> {
            let xs = sample_inputs(count);
            let fail = |name: &str, args: String, got: V128, want: V128| {
                Err(format!("{name}({args}) = {got:#034x}, portable: {want:#034x}"))
            };
            // SAFETY: the caller's contract covers `L`; `Portable` needs nothing.
            unsafe {
                for (k, &a) in xs.iter().enumerate() {
                    let b = xs[(k * 7 + 3) % xs.len()];
                    let c = xs[(k * 13 + 5) % xs.len()];
                    $(
                        let (g, w) = (L::$uf(a), Portable::$uf(a));
                        if !same_result(stringify!($uk), g, w) { return fail(stringify!($uf), format!("{a:#x}"), g, w); }
                    )*
                    $(
                        let (g, w) = (L::$bf(a, b), Portable::$bf(a, b));
                        if !same_result(stringify!($bk), g, w) { return fail(stringify!($bf), format!("{a:#x}, {b:#x}"), g, w); }
                    )*
                    for n in [0u32, 1, 7, 8, 15, 16, 31, 32, 63, 64, 65, b as u32, u32::MAX] {
                        $(
                            let (g, w) = (L::$sf(a, n), Portable::$sf(a, n));
                            if g != w { return fail(stringify!($sf), format!("{a:#x}, {n}"), g, w); }
                        )*
                    }
                    $(
                        let (g, w) = (L::$tf(a), Portable::$tf(a));
                        if g != w { return fail(stringify!($tf), format!("{a:#x}"), g.into(), w.into()); }
                    )*
                    $(
                        let (g, w) = (L::$pf(a as u64), Portable::$pf(a as u64));
                        if g != w { return fail(stringify!($pf), format!("{:#x}", a as u64), g, w); }
                    )*
                    for lane in 0..16u8 {
                        $(
                            let (g, w) = (L::$ef(a, lane), Portable::$ef(a, lane));
                            if g != w { return fail(stringify!($ef), format!("{a:#x}, {lane}"), g.into(), w.into()); }
                        )*
                        $(
                            let (g, w) = (L::$rf(a, lane, b as u64), Portable::$rf(a, lane, b as u64));
                            if g != w { return fail(stringify!($rf), format!("{a:#x}, {lane}"), g, w); }
                        )*
                    }
                    let (g, w) = (L::v128_bitselect(a, b, c), Portable::v128_bitselect(a, b, c));
                    if g != w { return fail("v128_bitselect", format!("{a:#x}, {b:#x}, {c:#x}"), g, w); }
                    let lanes = from_u8s((c ^ (c >> 3)).to_le_bytes().map(|x| x & 31));
                    let (g, w) = (L::i8x16_shuffle(a, b, lanes), Portable::i8x16_shuffle(a, b, lanes));
                    if g != w { return fail("i8x16_shuffle", format!("{a:#x}, {b:#x}, {lanes:#x}"), g, w); }
                }
            }
            Ok(())
        }
    };
}
for_each_lanes_op!(define_compare);
