//! The compositions under test: the one place that lists them.
//!
//! Each entry of `compositions!` composes one engine with the in-process `virt-host`,
//! a `simd` plugin and no host modules (fuzzed modules import nothing). A new engine
//! is one more entry, under the Cargo feature that enables it; every target then runs
//! it. Each engine runs with SSE4.1 lanes and with portable ones (`simd-scalar`:
//! baseline x86-64 code for Cranelift); the AVX2 lanes are checked against the
//! portable ones by the simd-avx2 crate's own tests.

use vm::Composition;
use vm::runtime::Features;
use vm::slot::{Collector, Simd};

use crate::decode::{self, DecodeOutcome};
use crate::observe::{self, EngineFailure, Observation, Plan};

/// One composition compiled into this build, as the targets see it: its id and
/// monomorphized entry points, so the targets loop over a slice and never name an
/// engine.
pub struct Entry {
    /// The engine plugin's id (`engine-interp`, …).
    pub id: &'static str,
    /// The proposals beyond 2.0 the composition accepts, from its `simd` and `gc`
    /// slots: the `diff` target generates such modules only for compositions that
    /// have them.
    pub features: Features,
    /// Decodes, compiles and instantiates arbitrary bytes (the `decode` target).
    pub decode: fn(&[u8]) -> DecodeOutcome,
    /// Instantiates a module and runs a call plan (the `diff` target).
    pub observe: fn(&[u8], &Plan) -> Result<Observation, EngineFailure>,
    /// The same with settings (the `fuel` target's budget).
    pub observe_with: fn(&[u8], &Plan, &vm::Settings) -> Result<Observation, EngineFailure>,
}

impl Entry {
    /// The entry of composition `C`.
    pub const fn of<C: Composition>(id: &'static str) -> Entry {
        Entry {
            id,
            features: Features {
                simd: <C::Simd as Simd>::PRESENT,
                gc: <C::Gc as Collector>::PRESENT,
            },
            decode: decode::check::<C>,
            observe: observe::observe::<C>,
            observe_with: observe::observe_with::<C>,
        }
    }
}

/// Composes each listed engine and lists them all in [`COMPOSITIONS`].
macro_rules! compositions {
    ($( $(#[$cfg:meta])* $name:ident = $id:literal { $($slots:tt)* } )*) => {
        $(
            $(#[$cfg])*
            vm::compose! {
                /// A composition under test.
                pub struct $name { $($slots)* }
            }
        )*

        /// Every composition compiled into this build, in a fixed order.
        pub const COMPOSITIONS: &[Entry] = &[
            $( $(#[$cfg])* Entry::of::<$name>($id), )*
        ];
    };
}

compositions! {
    #[cfg(feature = "engine-interp")]
    InterpVm = "engine-interp+simd-sse41" {
        engine: vm::vm_engine_interp::Interp,
        virt: vm::vm_virt_host::HostVirt,
        simd: vm_simd_sse41::SimdSse41,
    }
    #[cfg(feature = "engine-interp")]
    InterpScalarVm = "engine-interp+simd-scalar" {
        engine: vm::vm_engine_interp::Interp,
        virt: vm::vm_virt_host::HostVirt,
        simd: vm_simd_scalar::SimdScalar,
    }
    #[cfg(feature = "engine-cranelift")]
    CraneliftVm = "engine-cranelift+simd-sse41" {
        engine: vm::vm_engine_cranelift::Cranelift,
        virt: vm::vm_virt_host::HostVirt,
        simd: vm_simd_sse41::SimdSse41,
    }
    #[cfg(feature = "engine-cranelift")]
    CraneliftScalarVm = "engine-cranelift+simd-scalar" {
        engine: vm::vm_engine_cranelift::Cranelift,
        virt: vm::vm_virt_host::HostVirt,
        simd: vm_simd_scalar::SimdScalar,
    }
}
