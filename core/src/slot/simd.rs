//! The `simd` slot: which host vector ISA simd128 code targets.
//!
//! A `simd` plugin picks a [`SimdLevel`]. Engines read it at compile time: a native
//! engine turns it into the instruction-set flags of its code generator, and the
//! interpreter runs the lane operations of the plugin's [`Simd::Lanes`] (portable
//! per-lane code by default, `core::arch` intrinsics where a plugin overrides them).
//! `Vm::new` refuses to build a VM whose level needs a CPU feature the machine lacks,
//! before any guest code runs (see [`crate::runtime::cpu`]).

use crate::error::PluginError;
use crate::plugin::{Described, Plugin, PluginMeta, Slot, Version};
use crate::runtime::simd::{Lanes, Portable};

/// The host vector instruction set a `simd` plugin selects.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SimdLevel {
    /// No vector instructions beyond the target's baseline: lanes are computed by
    /// portable per-lane code (any CPU architecture).
    Scalar,
    /// x86-64 SSE4.1 (with SSE3 and SSSE3), legacy (non-VEX) encodings.
    Sse41,
    /// x86-64 AVX2 (with AVX and SSE4.2): VEX encodings.
    Avx2,
}

impl SimdLevel {
    /// The level's name as it appears in capabilities (`simd:<name>`).
    pub const fn name(self) -> &'static str {
        match self {
            SimdLevel::Scalar => "scalar",
            SimdLevel::Sse41 => "sse4.1",
            SimdLevel::Avx2 => "avx2",
        }
    }
}

/// Which host vector ISA v128 code targets.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is registered in slot `simd` but does not implement `vm_core::slot::Simd`",
    label = "this plugin type does not implement `Simd`",
    note = "add `impl vm_core::slot::Simd for {Self} {{ ... }}` or register it in the slot it implements"
)]
pub trait Simd: Plugin {
    /// Whether a SIMD backend exists (false for [`NoSimd`]); modules using simd128 are
    /// rejected with "unsupported: simd" when false.
    const PRESENT: bool;
    /// The vector ISA engines target.
    const LEVEL: SimdLevel;
    /// CPU features the level needs, by their `is_x86_feature_detected!` names;
    /// `Vm::new` fails when the machine lacks one.
    const CPU_FEATURES: &'static [&'static str];
    /// What to build with instead when the CPU lacks a feature (shown in the error),
    /// for example "the `simd-sse41` or `simd-scalar` feature".
    const INSTEAD: &'static str;
    /// The lane operations the interpreter runs. Overrides are `#[inline]` and enable
    /// no target feature beyond the level's (`"sse4.1"` for [`SimdLevel::Sse41`],
    /// `"avx2"` for [`SimdLevel::Avx2`]): engine-interp compiles its lane handlers
    /// with exactly those features, so the overrides inline into them.
    type Lanes: Lanes;
}

/// The empty `simd` slot: no backend is composed, so simd128 modules are rejected.
#[derive(Debug)]
pub struct NoSimd;

impl Described for NoSimd {
    const META: PluginMeta = PluginMeta {
        id: "(no simd)",
        slot: Slot::Simd,
        version: Version::new(0, 0, 0),
        description: "no SIMD backend composed: simd128 modules are rejected",
        provides: &[],
        requires: &[],
        declares: &[],
        config: &[],
    };
}

impl Plugin for NoSimd {
    type Config = crate::config::NoConfig;
    fn new(_: Self::Config) -> Result<Self, PluginError> {
        Ok(Self)
    }
}

impl Simd for NoSimd {
    const PRESENT: bool = false;
    const LEVEL: SimdLevel = SimdLevel::Scalar;
    const CPU_FEATURES: &'static [&'static str] = &[];
    const INSTEAD: &'static str = "";
    type Lanes = Portable;
}
