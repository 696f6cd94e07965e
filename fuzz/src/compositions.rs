//! The compositions under test: the one place that lists them.
//!
//! Each entry of `compositions!` composes one engine with a `virt` plugin (the
//! in-process `virt-host`, or `virt-kvm` for Cranelift's code in a KVM micro-VM),
//! a `simd` plugin and no host modules (fuzzed modules import nothing). A new engine
//! is one more entry, under the Cargo feature that enables it; every target then runs
//! it. Each engine runs with SSE4.1 lanes and with portable ones (`simd-scalar`:
//! baseline x86-64 code for Cranelift); the AVX2 lanes are checked against the
//! portable ones by the simd-avx2 crate's own tests.
//!
//! An entry may name a readiness check (`ready(f)`): a composition that needs
//! something of the machine (`virt-kvm`: a usable `/dev/kvm`) is left out of every
//! target where it is missing, with the reason printed once ([`usable`]).

use std::sync::OnceLock;

use vm::Composition;
use vm::runtime::Features;

use crate::artifact::{self, ArtifactOutcome};
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
    /// Compiles a module ahead of time, damages the artifact and loads it (the
    /// `artifact` target).
    pub artifact: fn(&[u8], &[u8]) -> ArtifactOutcome,
    /// Instantiates a module and runs a call plan (the `diff` target).
    pub observe: fn(&[u8], &Plan) -> Result<Observation, EngineFailure>,
    /// The same with settings (the `fuel` target's budget).
    pub observe_with: fn(&[u8], &Plan, &vm::Settings) -> Result<Observation, EngineFailure>,
    /// Whether the composition can run on this machine (`Err`: why not).
    pub ready: fn() -> Result<(), String>,
}

impl Entry {
    /// The entry of composition `C`.
    pub const fn of<C: Composition>(id: &'static str) -> Entry {
        Entry {
            id,
            features: vm::compose::features_of::<C>(),
            decode: decode::check::<C>,
            artifact: artifact::check::<C>,
            observe: observe::observe::<C>,
            observe_with: observe::observe_with::<C>,
            ready: || Ok(()),
        }
    }

    /// The same entry with a readiness check.
    pub const fn with_ready(self, ready: fn() -> Result<(), String>) -> Entry {
        Entry { ready, ..self }
    }
}

/// The compositions of [`COMPOSITIONS`] that can run on this machine, in the same
/// order. The first call runs each readiness check and prints to stderr why a
/// composition is skipped; later calls return the same list.
pub fn usable() -> &'static [&'static Entry] {
    static USABLE: OnceLock<Vec<&'static Entry>> = OnceLock::new();
    USABLE.get_or_init(|| {
        COMPOSITIONS
            .iter()
            .filter(|e| match (e.ready)() {
                Ok(()) => true,
                Err(why) => {
                    eprintln!("vm-fuzz: {}: skipped: {why}", e.id);
                    false
                }
            })
            .collect()
    })
}

/// The compositions of [`COMPOSITIONS`] that cannot run here, with the reason.
pub fn unusable() -> Vec<(&'static str, String)> {
    COMPOSITIONS
        .iter()
        .filter(|e| !usable().iter().any(|u| std::ptr::eq(*u, *e)))
        .map(|e| (e.id, (e.ready)().err().unwrap_or_default()))
        .collect()
}

/// Whether KVM micro-VMs work here: `Err` with the reason when `/dev/kvm` is absent
/// or cannot be opened, or KVM cannot create a VM (checked once).
#[cfg(feature = "virt-kvm")]
pub fn kvm_ready() -> Result<(), String> {
    static READY: OnceLock<Result<(), String>> = OnceLock::new();
    READY
        .get_or_init(|| {
            if !std::path::Path::new("/dev/kvm").exists() {
                return Err("/dev/kvm is absent".into());
            }
            vm::vm_virt_kvm::Pool::new(Default::default(), 0, 0)
                .and_then(|p| p.create())
                .map(drop)
                .map_err(|e| format!("/dev/kvm is present but KVM cannot create a VM: {e}"))
        })
        .clone()
}

/// Composes each listed engine and lists them all in [`COMPOSITIONS`].
macro_rules! compositions {
    ($(
        $(#[$cfg:meta])* $name:ident = $id:literal $(ready($ready:path))? { $($slots:tt)* }
    )*) => {
        $(
            $(#[$cfg])*
            vm::compose! {
                /// A composition under test.
                pub struct $name { $($slots)* }
            }
        )*

        /// Every composition compiled into this build, in a fixed order.
        pub const COMPOSITIONS: &[Entry] = &[
            $( $(#[$cfg])* Entry::of::<$name>($id) $(.with_ready($ready))?, )*
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
    #[cfg(feature = "virt-kvm")]
    CraneliftKvmVm = "engine-cranelift+virt-kvm+simd-sse41" ready(kvm_ready) {
        engine: vm::vm_engine_cranelift::Cranelift,
        virt: vm::vm_virt_kvm::KvmVirt,
        simd: vm_simd_sse41::SimdSse41,
    }
    #[cfg(feature = "engine-dynasm")]
    DynasmVm = "engine-dynasm+simd-sse41" {
        engine: vm::vm_engine_dynasm::Dynasm,
        virt: vm::vm_virt_host::HostVirt,
        simd: vm_simd_sse41::SimdSse41,
    }
    #[cfg(all(feature = "engine-dynasm", feature = "virt-kvm"))]
    DynasmKvmVm = "engine-dynasm+virt-kvm+simd-sse41" ready(kvm_ready) {
        engine: vm::vm_engine_dynasm::Dynasm,
        virt: vm::vm_virt_kvm::KvmVirt,
        simd: vm_simd_sse41::SimdSse41,
    }
    #[cfg(feature = "virt-kvm")]
    CraneliftKvmScalarVm = "engine-cranelift+virt-kvm+simd-scalar" ready(kvm_ready) {
        engine: vm::vm_engine_cranelift::Cranelift,
        virt: vm::vm_virt_kvm::KvmVirt,
        simd: vm_simd_scalar::SimdScalar,
    }
}
