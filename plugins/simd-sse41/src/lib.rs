//! The `simd-sse41` plugin: simd128 on x86-64 SSE4.1.
//!
//! A native engine generates SSE4.1 code (with SSE3 and SSSE3, without AVX). The
//! interpreter runs the lane operations of [`Sse41Lanes`]: SSE4.1 intrinsics compiled
//! with `#[target_feature(enable = "sse4.1")]` where an operation has an instruction
//! sequence, the portable definition elsewhere. `Vm::new` refuses to run on a CPU
//! without SSE4.1 (the error names `simd-scalar` as the alternative).

#![cfg_attr(not(target_arch = "x86_64"), allow(unused))]

use vm_core::slot::{Simd, SimdLevel};
use vm_core::{Plugin, PluginError};

mod lanes;

pub use lanes::Sse41Lanes;

/// simd128 on SSE4.1.
#[vm_core::plugin(id = "simd-sse41", slot = simd, provides = ["simd@1.0.0", "simd:sse4.1@1.0.0"])]
#[derive(Debug)]
pub struct SimdSse41;

impl Plugin for SimdSse41 {
    type Config = vm_core::config::NoConfig;

    fn new(_: Self::Config) -> Result<Self, PluginError> {
        Ok(Self)
    }
}

impl Simd for SimdSse41 {
    const PRESENT: bool = true;
    const LEVEL: SimdLevel = SimdLevel::Sse41;
    const CPU_FEATURES: &'static [&'static str] = &["sse2", "sse3", "ssse3", "sse4.1"];
    const INSTEAD: &'static str = "the `simd-scalar` feature";
    type Lanes = Sse41Lanes;
}
