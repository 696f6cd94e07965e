//! The engines compiled into this test build, each in a composition of its own, so
//! tests that matter for every engine run for each.

use std::path::Path;

use vm::Settings;
use vm::wast::WastReport;

/// The flag that makes the interpreter check its translated code before running it
/// (`engine.verify`): every test that runs guest code on the interpreter sets it.
pub const INTERP_VERIFY: &str = "engine.verify=true";

/// Settings of the interpreter under test: verification on.
#[cfg(feature = "engine-interp")]
pub fn interp_settings() -> Settings {
    let mut s = Settings::new();
    s.merge_flag(INTERP_VERIFY).expect("engine-interp has the verify key");
    s
}

#[cfg(feature = "engine-interp")]
vm::compose! {
    /// The interpreter, in-process, with WASI.
    pub struct InterpVm {
        engine: vm::vm_engine_interp::Interp,
        virt: vm::vm_virt_host::HostVirt,
        simd: {
            #[cfg(feature = "simd-scalar")] vm::vm_simd_scalar::SimdScalar,
            #[cfg(feature = "simd-sse41")] vm::vm_simd_sse41::SimdSse41,
            #[cfg(feature = "simd-avx2")] vm::vm_simd_avx2::SimdAvx2,
            #[cfg(not(any(feature = "simd-scalar", feature = "simd-sse41", feature = "simd-avx2")))]
            vm::slot::NoSimd,
        },
        hosts: [vm::vm_host_wasi::Wasi],
    }
}

#[cfg(feature = "engine-cranelift")]
vm::compose! {
    /// The Cranelift JIT, in-process with guard pages, with WASI.
    pub struct CraneliftVm {
        engine: vm::vm_engine_cranelift::Cranelift,
        virt: vm::vm_virt_host::HostVirt,
        simd: {
            #[cfg(feature = "simd-scalar")] vm::vm_simd_scalar::SimdScalar,
            #[cfg(feature = "simd-sse41")] vm::vm_simd_sse41::SimdSse41,
            #[cfg(feature = "simd-avx2")] vm::vm_simd_avx2::SimdAvx2,
            #[cfg(not(any(feature = "simd-scalar", feature = "simd-sse41", feature = "simd-avx2")))]
            vm::slot::NoSimd,
        },
        hosts: [vm::vm_host_wasi::Wasi],
    }
}

/// One engine under test.
pub struct EngineUnderTest {
    /// Its plugin id.
    pub id: &'static str,
    /// Runs a spec script on a fresh VM of its composition.
    pub wast: fn(&Path) -> WastReport,
}

/// Every engine compiled into this build.
pub const ENGINES: &[EngineUnderTest] = &[
    #[cfg(feature = "engine-cranelift")]
    EngineUnderTest { id: "engine-cranelift", wast: |p| vm::wast::run_wast_file::<CraneliftVm>(p) },
    #[cfg(feature = "engine-interp")]
    EngineUnderTest {
        id: "engine-interp",
        wast: |p| vm::wast::run_wast_file_with::<InterpVm>(p, &interp_settings()),
    },
];
