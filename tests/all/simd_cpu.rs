//! The start-up CPU check: a VM composed for a vector ISA the CPU lacks stops at
//! `Vm::new`, naming the missing feature and the `simd-*` feature to build with
//! instead. Detection is overridden with `VM_CPU_HIDE` in a child process (the
//! environment is process-wide), which runs the ignored `child_*` tests below.

use std::process::Command;

use vm::Settings;

#[cfg(feature = "engine-interp")]
vm::compose! {
    /// The interpreter composed for AVX2.
    pub struct InterpAvx2 {
        engine: vm::vm_engine_interp::Interp,
        virt: vm::vm_virt_host::HostVirt,
        simd: vm_simd_avx2::SimdAvx2,
    }
}

#[cfg(feature = "engine-interp")]
vm::compose! {
    /// The interpreter composed for SSE4.1.
    pub struct InterpSse41 {
        engine: vm::vm_engine_interp::Interp,
        virt: vm::vm_virt_host::HostVirt,
        simd: vm_simd_sse41::SimdSse41,
    }
}

#[cfg(feature = "engine-interp")]
vm::compose! {
    /// The interpreter composed for portable lanes.
    pub struct InterpScalar {
        engine: vm::vm_engine_interp::Interp,
        virt: vm::vm_virt_host::HostVirt,
        simd: vm_simd_scalar::SimdScalar,
    }
}

/// Runs the ignored test `name` of this binary with `VM_CPU_HIDE=hide`; its stdout.
fn child(name: &str, hide: &str) -> String {
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", name, "--include-ignored", "--nocapture", "--test-threads=1"])
        .env("VM_CPU_HIDE", hide)
        .output()
        .expect("run the test binary");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{name} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// `Vm::new`'s error for composition `C`, or `ok`.
#[cfg(feature = "engine-interp")]
fn new_result<C: vm::Composition>() -> String {
    match vm::Vm::<C>::new(&Settings::new()) {
        Ok(_) => "ok".to_owned(),
        Err(e) => e.to_string(),
    }
}

#[test]
#[ignore = "run by missing_cpu_feature_stops_at_vm_new in a child process"]
#[cfg(feature = "engine-interp")]
fn child_new() {
    println!("[avx2] {}", new_result::<InterpAvx2>());
    println!("[sse41] {}", new_result::<InterpSse41>());
    println!("[scalar] {}", new_result::<InterpScalar>());
}

#[test]
#[cfg(feature = "engine-interp")]
fn missing_cpu_feature_stops_at_vm_new() {
    let line = |out: &str, k: &str| {
        let tag = format!("[{k}] ");
        out.lines().find_map(|l| l.split_once(&tag).map(|(_, v)| v)).unwrap_or("").to_owned()
    };
    let out = child("simd_cpu::child_new", "avx2");
    assert_eq!(
        line(&out, "avx2"),
        "this VM is composed with `simd-avx2`, which needs the CPU feature `avx2`, and this CPU does \
         not have it; build with the `simd-sse41` (or `simd-scalar`) feature instead"
    );
    // Hiding AVX2 leaves SSE4.1 machines and portable lanes alone.
    if vm::runtime::cpu::has("sse4.1") {
        assert_eq!(line(&out, "sse41"), "ok");
    }
    assert_eq!(line(&out, "scalar"), "ok");

    let out = child("simd_cpu::child_new", "sse4.1");
    assert!(line(&out, "avx2").contains("needs the CPU feature `sse4.1`"), "{out}");
    assert_eq!(
        line(&out, "sse41"),
        "this VM is composed with `simd-sse41`, which needs the CPU feature `sse4.1`, and this CPU \
         does not have it; build with the `simd-scalar` feature instead"
    );
    assert_eq!(line(&out, "scalar"), "ok");

    // Nothing hidden: this machine's own answer.
    let out = child("simd_cpu::child_new", "");
    let avx2 = ["sse3", "ssse3", "sse4.1", "sse4.2", "popcnt", "avx", "avx2"]
        .iter()
        .all(|f| vm::runtime::cpu::has(f));
    assert_eq!(line(&out, "avx2") == "ok", avx2, "{out}");
}
