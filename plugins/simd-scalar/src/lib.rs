//! The `simd-scalar` plugin: simd128 without host vector instructions.
//!
//! The interpreter computes every lane with the portable definitions of
//! [`vm_core::runtime::simd::Lanes`]; a native engine generates code for its target's
//! baseline instruction set (SSE2 on x86-64). It needs no CPU feature, so a binary
//! composed with it runs on any machine of its architecture.

use vm_core::runtime::simd::Portable;
use vm_core::slot::{Simd, SimdLevel};
use vm_core::{Plugin, PluginError};

/// simd128 by portable per-lane code.
#[vm_core::plugin(id = "simd-scalar", slot = simd, provides = ["simd@1.0.0", "simd:scalar@1.0.0"])]
#[derive(Debug)]
pub struct SimdScalar;

impl Plugin for SimdScalar {
    type Config = vm_core::config::NoConfig;

    fn new(_: Self::Config) -> Result<Self, PluginError> {
        Ok(Self)
    }
}

impl Simd for SimdScalar {
    const PRESENT: bool = true;
    const LEVEL: SimdLevel = SimdLevel::Scalar;
    const CPU_FEATURES: &'static [&'static str] = &[];
    const INSTEAD: &'static str = "";
    type Lanes = Portable;
}
