//! The composition of this binary, chosen by Cargo features.

// Name every plugin crate the features select: a crate nothing names is never loaded
// by rustc and would be silently missing from the registry.
#[cfg(feature = "engine-cranelift")]
use vm_engine_cranelift as _;
#[cfg(feature = "engine-dynasm")]
use vm_engine_dynasm as _;
#[cfg(feature = "engine-interp")]
use vm_engine_interp as _;
#[cfg(feature = "gc-copying")]
use vm_gc_copying as _;
#[cfg(feature = "gc-mark-sweep")]
use vm_gc_mark_sweep as _;
#[cfg(feature = "gc-null")]
use vm_gc_null as _;
#[cfg(feature = "host-wasi")]
use vm_host_wasi as _;
#[cfg(feature = "observer-trace")]
use vm_observer_trace as _;
#[cfg(feature = "simd-avx2")]
use vm_simd_avx2 as _;
#[cfg(feature = "simd-scalar")]
use vm_simd_scalar as _;
#[cfg(feature = "simd-sse41")]
use vm_simd_sse41 as _;
#[cfg(all(feature = "virt-host", not(feature = "virt-kvm")))]
use vm_virt_host as _;
#[cfg(feature = "virt-kvm")]
use vm_virt_kvm as _;

vm_core::compose! {
    /// The VM this binary runs: one plugin per slot, picked by Cargo features.
    pub struct BinVm {
        engine: {
            #[cfg(feature = "engine-cranelift")] vm_engine_cranelift::Cranelift,
            #[cfg(feature = "engine-interp")] vm_engine_interp::Interp,
            #[cfg(feature = "engine-dynasm")] vm_engine_dynasm::Dynasm,
        },
        virt: {
            // virt-kvm takes the place of the default virt-host when enabled.
            #[cfg(all(feature = "virt-host", not(feature = "virt-kvm")))] vm_virt_host::HostVirt,
            #[cfg(feature = "virt-kvm")] vm_virt_kvm::KvmVirt,
        },
        gc: {
            #[cfg(feature = "gc-null")] vm_gc_null::GcNull,
            #[cfg(feature = "gc-mark-sweep")] vm_gc_mark_sweep::MarkSweep,
            #[cfg(feature = "gc-copying")] vm_gc_copying::Copying,
            #[cfg(not(any(feature = "gc-null", feature = "gc-mark-sweep", feature = "gc-copying")))]
            vm_core::slot::NoCollector,
        },
        simd: {
            #[cfg(feature = "simd-scalar")] vm_simd_scalar::SimdScalar,
            #[cfg(feature = "simd-sse41")] vm_simd_sse41::SimdSse41,
            #[cfg(feature = "simd-avx2")] vm_simd_avx2::SimdAvx2,
            #[cfg(not(any(feature = "simd-scalar", feature = "simd-sse41", feature = "simd-avx2")))]
            vm_core::slot::NoSimd,
        },
        hosts: [
            #[cfg(feature = "host-wasi")] vm_host_wasi::Wasi,
        ],
        observers: [
            #[cfg(feature = "observer-trace")] vm_observer_trace::Trace,
        ],
        extra: [],
    }
}

/// The features this binary was built with, for `vm info`.
pub const FEATURES: &[&str] = &[
    #[cfg(feature = "engine-cranelift")]
    "engine-cranelift",
    #[cfg(feature = "engine-interp")]
    "engine-interp",
    #[cfg(feature = "engine-dynasm")]
    "engine-dynasm",
    #[cfg(all(feature = "virt-host", not(feature = "virt-kvm")))]
    "virt-host",
    #[cfg(feature = "virt-kvm")]
    "virt-kvm",
    #[cfg(feature = "host-wasi")]
    "host-wasi",
    #[cfg(feature = "gc-null")]
    "gc-null",
    #[cfg(feature = "gc-mark-sweep")]
    "gc-mark-sweep",
    #[cfg(feature = "gc-copying")]
    "gc-copying",
    #[cfg(feature = "simd-scalar")]
    "simd-scalar",
    #[cfg(feature = "simd-sse41")]
    "simd-sse41",
    #[cfg(feature = "simd-avx2")]
    "simd-avx2",
    #[cfg(feature = "observer-trace")]
    "observer-trace",
];
