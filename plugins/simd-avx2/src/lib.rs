//! The `simd-avx2` plugin: simd128 on x86-64 AVX2.
//!
//! A native engine generates VEX-encoded code (AVX, AVX2, with SSE4.2 and FMA where
//! the CPU has them). The interpreter runs the lane operations of [`Avx2Lanes`]:
//! intrinsics compiled with `#[target_feature(enable = "avx2")]` (so the compiler
//! emits VEX encodings) where an operation has an instruction sequence, the portable
//! definition elsewhere. `Vm::new` refuses to run on a CPU without AVX2 (the error
//! names `simd-sse41` and `simd-scalar` as the alternatives).

#![cfg_attr(not(target_arch = "x86_64"), allow(unused))]

use vm_core::slot::{Simd, SimdLevel};
use vm_core::{Plugin, PluginError};

mod lanes;

pub use lanes::Avx2Lanes;

/// simd128 on AVX2.
#[vm_core::plugin(id = "simd-avx2", slot = simd, provides = ["simd@1.0.0", "simd:avx2@1.0.0"])]
#[derive(Debug)]
pub struct SimdAvx2;

impl Plugin for SimdAvx2 {
    type Config = vm_core::config::NoConfig;

    fn new(_: Self::Config) -> Result<Self, PluginError> {
        Ok(Self)
    }
}

impl Simd for SimdAvx2 {
    const PRESENT: bool = true;
    const LEVEL: SimdLevel = SimdLevel::Avx2;
    const CPU_FEATURES: &'static [&'static str] =
        &["sse2", "sse3", "ssse3", "sse4.1", "sse4.2", "popcnt", "avx", "avx2"];
    const INSTEAD: &'static str = "the `simd-sse41` (or `simd-scalar`) feature";
    type Lanes = Avx2Lanes;
}
