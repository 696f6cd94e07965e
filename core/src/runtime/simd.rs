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
//! [`Lanes::i8x16_add`]).

/// A `v128` value.
pub type V128 = u128;

/// The simd128 operations on values.
///
/// # Safety
/// The methods are `unsafe` because an implementation may use instructions of a
/// vector ISA: the caller guarantees that the CPU has the features of the `simd`
/// plugin that supplies the implementation (`Vm::new` checks them, see
/// [`crate::runtime::cpu`]). The portable defaults have no such requirement.
pub trait Lanes {
    /// `i8x16.add`: lane-wise wrapping addition.
    ///
    /// # Safety
    /// See the trait.
    #[inline]
    unsafe fn i8x16_add(a: V128, b: V128) -> V128 {
        map2::<16>(a, b, |x, y| x.wrapping_add(y))
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
