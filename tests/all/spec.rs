//! The WebAssembly spec testsuite (`../shared/spec-testsuite/wasm-2.0` and
//! `wasm-3.0`) on every engine compiled into the test build: the `simd_*` files with
//! the test build's `simd` plugin (a `simd-*` feature), the others whatever is
//! composed. The wasm-3.0 files an engine cannot pass yet are listed, with the
//! reason, in `spec3_pending.txt`.

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

#[test]
#[cfg_attr(vm_shared_absent, ignore = "../shared is absent (it ships beside the repository)")]
fn wasm_3_0_passes_everywhere_but_pending() {
    let Some(dir) = shared("spec-testsuite/wasm-3.0") else { return };
    let simd = cfg!(any(feature = "simd-scalar", feature = "simd-sse41", feature = "simd-avx2"));
    let mut files = spec_files(&dir, false);
    if simd {
        files.extend(spec_files(&dir, true));
    }
    assert!(files.len() > 200, "only {} spec files found in {}", files.len(), dir.display());
    let pending = pending3();
    assert!(!ENGINES.is_empty(), "no engine compiled into the test build");
    let mut problems = Vec::new();
    for engine in ENGINES.iter().filter(|e| e.should_run()) {
        let (mut passed, mut failed, mut skipped, mut need_gc) = (0, 0, 0, 0);
        for f in &files {
            let name = f.file_name().unwrap().to_string_lossy().into_owned();
            let why = pending.iter().find(|p| p.file == name && p.covers(engine.id));
            if let Some(p) = why {
                println!("{:<26} {:<32} pending: {}", engine.id, name, p.reason);
                skipped += 1;
                continue;
            }
            let r = (engine.wast)(f);
            println!(
                "{:<26} {:<32} {:>6} passed {:>4} failed {:>4} skipped (need gc)",
                engine.id, name, r.passed, r.failed, r.skipped
            );
            passed += r.passed;
            failed += r.failed;
            need_gc += r.skipped;
            for fail in r.failures.iter().take(5) {
                problems.push(format!("{} {}:{}: {}", engine.id, name, fail.line, fail.reason));
            }
        }
        println!(
            "{}: wasm-3.0 {passed} passed, {failed} failed, {need_gc} skipped (need gc) over {} \
             files ({skipped} files pending)",
            engine.id,
            files.len() - skipped
        );
        assert!(passed > 10_000, "{}: suspiciously few assertions ran ({passed})", engine.id);
    }
    assert!(problems.is_empty(), "spec failures:\n{}", problems.join("\n"));
}

/// One line of `spec3_pending.txt`.
struct Pending {
    file: String,
    engine: String,
    reason: String,
}

impl Pending {
    /// Whether the line names engine `id`: `*`, the id, or the engine the id
    /// composes with another plugin (`engine-cranelift` covers
    /// `engine-cranelift+virt-kvm`).
    fn covers(&self, id: &str) -> bool {
        self.engine == "*"
            || self.engine == id
            || id.strip_prefix(self.engine.as_str()).is_some_and(|r| r.starts_with('+'))
    }
}

fn pending3() -> Vec<Pending> {
    include_str!("spec3_pending.txt")
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let mut it = l.splitn(3, ' ');
            let (file, engine, reason) = (it.next(), it.next(), it.next());
            Pending {
                file: file.unwrap_or_default().to_owned(),
                engine: engine.unwrap_or("*").to_owned(),
                reason: reason.unwrap_or("").to_owned(),
            }
        })
        .collect()
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
