//! Runs the WebAssembly 2.0 spec testsuite (non-SIMD files) with the interpreter.
//!
//! Reads `../shared/spec-testsuite/wasm-2.0` relative to the workspace root; skips
//! with a printed reason when absent, and fails then when `CI` is set.
//! `SPEC_FILTER=name` runs only files whose name contains `name`.

use std::path::PathBuf;

vm_core::compose! {
    /// The interpreter composition under test.
    pub struct InterpVm {
        engine: vm_engine_interp::Interp,
        virt: vm_virt_host::HostVirt,
        hosts: [],
    }
}

fn suite_dir() -> Option<PathBuf> {
    let dir =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/spec-testsuite/wasm-2.0");
    if dir.is_dir() {
        Some(dir)
    } else {
        assert!(std::env::var_os("CI").is_none(), "spec testsuite missing at {}", dir.display());
        eprintln!("skipping: spec testsuite not found at {}", dir.display());
        None
    }
}

#[test]
fn spec_wasm_2_0() {
    let Some(dir) = suite_dir() else { return };
    let filter = std::env::var("SPEC_FILTER").ok();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("read suite dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "wast"))
        .filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with("simd_"))
        .filter(|p| filter.as_ref().is_none_or(|f| p.to_string_lossy().contains(f.as_str())))
        .collect();
    files.sort();
    let (mut passed, mut failed) = (0, 0);
    for f in &files {
        let r = vm::wast::run_wast_file::<InterpVm>(f);
        println!(
            "{:<32} passed {:>5} failed {:>4}",
            f.file_name().unwrap().to_string_lossy(),
            r.passed,
            r.failed
        );
        for fl in r.failures.iter().take(8) {
            println!("    line {}: {}", fl.line, fl.reason.lines().next().unwrap_or(""));
        }
        passed += r.passed;
        failed += r.failed;
    }
    println!("total: passed {passed} failed {failed}");
    assert_eq!(failed, 0, "spec failures");
}
