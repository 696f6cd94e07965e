//! The WebAssembly spec testsuite (`../shared/spec-testsuite/wasm-2.0`) on every
//! engine compiled into the test build: the `simd_*` files with the test build's
//! `simd` plugin (a `simd-*` feature), the others whatever is composed.

use crate::engines::ENGINES;
use crate::support::shared;

#[test]
#[cfg_attr(vm_shared_absent, ignore = "../shared is absent (it ships beside the repository)")]
fn wasm_2_0_non_simd_passes_everywhere() {
    let Some(dir) = shared("spec-testsuite/wasm-2.0") else { return };
    let files = spec_files(&dir, false);
    assert!(files.len() > 80, "only {} spec files found in {}", files.len(), dir.display());
    run_everywhere(&files, 20_000);
}

#[test]
#[cfg(any(feature = "simd-scalar", feature = "simd-sse41", feature = "simd-avx2"))]
#[cfg_attr(vm_shared_absent, ignore = "../shared is absent (it ships beside the repository)")]
fn wasm_2_0_simd_passes_everywhere() {
    let Some(dir) = shared("spec-testsuite/wasm-2.0") else { return };
    let files = spec_files(&dir, true);
    assert_eq!(files.len(), 58, "simd spec files in {}", dir.display());
    run_everywhere(&files, 20_000);
}

/// The `.wast` files of `dir`: the `simd_*` ones or the others.
fn spec_files(dir: &std::path::Path, simd: bool) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("read the spec directory")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "wast"))
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("simd_") == simd)
        .collect();
    files.sort();
    files
}

/// Runs `files` on every engine; fails on any failed assertion or when an engine ran
/// fewer than `min` assertions.
fn run_everywhere(files: &[std::path::PathBuf], min: usize) {
    assert!(!ENGINES.is_empty(), "no engine compiled into the test build");
    let mut problems = Vec::new();
    for engine in ENGINES.iter().filter(|e| e.should_run()) {
        let (mut passed, mut failed) = (0, 0);
        for f in files {
            let r = (engine.wast)(f);
            let name = f.file_name().unwrap().to_string_lossy();
            println!(
                "{:<16} {:<32} {:>6} passed {:>4} failed",
                engine.id, name, r.passed, r.failed
            );
            passed += r.passed;
            failed += r.failed;
            for fail in r.failures.iter().take(5) {
                problems.push(format!("{} {}:{}: {}", engine.id, name, fail.line, fail.reason));
            }
        }
        println!("{}: {passed} passed, {failed} failed over {} files", engine.id, files.len());
        assert!(passed > min, "{}: suspiciously few assertions ran ({passed})", engine.id);
    }
    assert!(problems.is_empty(), "spec failures:\n{}", problems.join("\n"));
}
