//! `vm`: the facade crate of a WebAssembly virtual machine composed from plugins at
//! compile time.
//!
//! It re-exports [`vm_core`] and, under Cargo features of the same names, the plugin
//! crates that are enabled, so an embedder can write its own composition with
//! [`compose!`](macro@vm_core::compose) while depending on one crate. The features are
//! additive: this crate never composes anything itself.
//!
//! | feature | crate | slot |
//! |---|---|---|
//! | `engine-cranelift` | `vm_engine_cranelift` | engine |
//! | `engine-interp` | `vm_engine_interp` | engine |
//! | `engine-dynasm` | `vm_engine_dynasm` | engine |
//! | `virt-host` | `vm_virt_host` | virt |
//! | `virt-kvm` | `vm_virt_kvm` | virt |
//! | `host-wasi` | `vm_host_wasi` | host |
//! | `gc-null` | `vm_gc_null` | gc |
//! | `gc-mark-sweep` | `vm_gc_mark_sweep` | gc |
//! | `gc-copying` | `vm_gc_copying` | gc |
//! | `simd-scalar` | `vm_simd_scalar` | simd |
//! | `simd-sse41` | `vm_simd_sse41` | simd |
//! | `simd-avx2` | `vm_simd_avx2` | simd |
//! | `observer-trace` | `vm_observer_trace` | observer |
//!
//! (Plain names: which of them are linked depends on the features this crate is
//! built with.)

pub use vm_core::*;

pub mod wast;

#[cfg(feature = "engine-cranelift")]
pub use vm_engine_cranelift;
#[cfg(feature = "engine-dynasm")]
pub use vm_engine_dynasm;
#[cfg(feature = "engine-interp")]
pub use vm_engine_interp;
#[cfg(feature = "gc-copying")]
pub use vm_gc_copying;
#[cfg(feature = "gc-mark-sweep")]
pub use vm_gc_mark_sweep;
#[cfg(feature = "gc-null")]
pub use vm_gc_null;
#[cfg(feature = "host-wasi")]
pub use vm_host_wasi;
#[cfg(feature = "observer-trace")]
pub use vm_observer_trace;
#[cfg(feature = "simd-avx2")]
pub use vm_simd_avx2;
#[cfg(feature = "simd-scalar")]
pub use vm_simd_scalar;
#[cfg(feature = "simd-sse41")]
pub use vm_simd_sse41;
#[cfg(feature = "virt-host")]
pub use vm_virt_host;
#[cfg(feature = "virt-kvm")]
pub use vm_virt_kvm;
