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
    /// The interpreter, in-process, with WASI and the test build's collector.
    pub struct InterpVm {
        engine: vm::vm_engine_interp::Interp,
        virt: vm::vm_virt_host::HostVirt,
        gc: {
            #[cfg(feature = "gc-mark-sweep")] vm::vm_gc_mark_sweep::MarkSweep,
            #[cfg(all(feature = "gc-copying", not(feature = "gc-mark-sweep")))]
            vm::vm_gc_copying::Copying,
            #[cfg(all(feature = "gc-null", not(any(feature = "gc-mark-sweep", feature = "gc-copying"))))]
            vm::vm_gc_null::GcNull,
            #[cfg(not(any(feature = "gc-null", feature = "gc-mark-sweep", feature = "gc-copying")))]
            vm::slot::NoCollector,
        },
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

#[cfg(all(feature = "engine-cranelift", feature = "virt-kvm"))]
vm::compose! {
    /// The Cranelift JIT in a KVM micro-VM per store, with WASI.
    pub struct CraneliftKvmVm {
        engine: vm::vm_engine_cranelift::Cranelift,
        virt: vm::vm_virt_kvm::KvmVirt,
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

#[cfg(feature = "engine-dynasm")]
vm::compose! {
    /// The single-pass dynasm JIT, in-process with guard pages, with WASI.
    pub struct DynasmVm {
        engine: vm::vm_engine_dynasm::Dynasm,
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

#[cfg(all(feature = "engine-dynasm", feature = "virt-kvm"))]
vm::compose! {
    /// The single-pass dynasm JIT in a KVM micro-VM per store, with WASI.
    pub struct DynasmKvmVm {
        engine: vm::vm_engine_dynasm::Dynasm,
        virt: vm::vm_virt_kvm::KvmVirt,
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
    /// Its plugin id (and the `virt` plugin's when it is not `virt-host`).
    pub id: &'static str,
    /// Runs a spec script on a fresh VM of its composition.
    pub wast: fn(&Path) -> WastReport,
    /// Runs a spec script on a fresh VM of its composition with `settings` (start
    /// from [`EngineUnderTest::settings`]).
    pub wast_with: fn(&Path, &Settings) -> WastReport,
    /// The settings its tests use (the interpreter verifies its code).
    pub settings: fn() -> Settings,
    /// Whether the composition can run on this machine (`Err`: why not).
    pub ready: fn() -> Result<(), String>,
}

impl EngineUnderTest {
    /// Whether to run it: `true` when ready; otherwise prints why it is skipped
    /// (and fails under `CI` when the machine should have been able to).
    pub fn should_run(&self) -> bool {
        match (self.ready)() {
            Ok(()) => true,
            Err(why) => {
                println!("{}: skipped: {why}", self.id);
                false
            }
        }
    }
}

/// Whether KVM micro-VMs work here: `Err` with the reason when `/dev/kvm` is absent
/// (a skip), a panic under `CI` when it is present but unusable.
pub fn kvm_ready() -> Result<(), String> {
    if !Path::new("/dev/kvm").exists() {
        return Err("/dev/kvm is absent".into());
    }
    #[cfg(feature = "virt-kvm")]
    {
        static USABLE: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
        let usable = USABLE.get_or_init(|| {
            let pool = vm::vm_virt_kvm::Pool::new(Default::default(), 0, 0);
            pool.and_then(|p| p.create()).map(drop).map_err(|e| e.to_string())
        });
        if let Err(e) = usable {
            let why = format!("/dev/kvm is present but unusable: {e}");
            assert!(std::env::var_os("CI").is_none(), "{why}");
            return Err(why);
        }
    }
    Ok(())
}

/// Whether to run a test of a KVM composition (`what`): [`kvm_ready`]; when not,
/// prints why it is skipped, uncaptured, as a skip must be seen.
pub fn kvm_should_run(what: &str) -> bool {
    match kvm_ready() {
        Ok(()) => true,
        Err(why) => {
            use std::io::Write;
            let _ = writeln!(std::io::stderr(), "SKIPPED: {what}: {why}");
            false
        }
    }
}

/// Every engine compiled into this build.
pub const ENGINES: &[EngineUnderTest] = &[
    #[cfg(feature = "engine-cranelift")]
    EngineUnderTest {
        id: "engine-cranelift",
        wast: |p| vm::wast::run_wast_file::<CraneliftVm>(p),
        wast_with: |p, s| vm::wast::run_wast_file_with::<CraneliftVm>(p, s),
        settings: Settings::new,
        ready: || Ok(()),
    },
    #[cfg(all(feature = "engine-cranelift", feature = "virt-kvm"))]
    EngineUnderTest {
        id: "engine-cranelift+virt-kvm",
        wast: |p| vm::wast::run_wast_file::<CraneliftKvmVm>(p),
        wast_with: |p, s| vm::wast::run_wast_file_with::<CraneliftKvmVm>(p, s),
        settings: Settings::new,
        ready: kvm_ready,
    },
    #[cfg(feature = "engine-interp")]
    EngineUnderTest {
        id: "engine-interp",
        wast: |p| vm::wast::run_wast_file_with::<InterpVm>(p, &interp_settings()),
        wast_with: |p, s| vm::wast::run_wast_file_with::<InterpVm>(p, s),
        settings: interp_settings,
        ready: || Ok(()),
    },
    #[cfg(feature = "engine-dynasm")]
    EngineUnderTest {
        id: "engine-dynasm",
        wast: |p| vm::wast::run_wast_file::<DynasmVm>(p),
        wast_with: |p, s| vm::wast::run_wast_file_with::<DynasmVm>(p, s),
        settings: Settings::new,
        ready: || Ok(()),
    },
    #[cfg(all(feature = "engine-dynasm", feature = "virt-kvm"))]
    EngineUnderTest {
        id: "engine-dynasm+virt-kvm",
        wast: |p| vm::wast::run_wast_file::<DynasmKvmVm>(p),
        wast_with: |p, s| vm::wast::run_wast_file_with::<DynasmKvmVm>(p, s),
        settings: Settings::new,
        ready: kvm_ready,
    },
];
