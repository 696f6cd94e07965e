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

/// The flag of a small linear-memory reservation: one page, so memories have no
/// guard pages (every engine checks every access explicitly) and move each time they
/// grow.
const SMALL_RESERVATION: &str = "virt.memory_reservation=65536";

/// Whether `name` is a spec file about linear memory (accesses, bounds, growth, bulk
/// operations, segments).
fn about_memory(name: &str) -> bool {
    ["memory", "address", "align", "load", "store", "bulk", "data", "endianness"]
        .iter()
        .any(|k| name.contains(k))
}

/// The memory files of wasm-2.0 and wasm-3.0 (the `simd_*` ones when the test build
/// has a `simd` plugin) on every engine under `virt-host` with a one-page memory
/// reservation. The whole of wasm-2.0 in that configuration is
/// [`wasm_2_0_passes_with_a_small_reservation`].
#[test]
#[cfg_attr(vm_shared_absent, ignore = "../shared is absent (it ships beside the repository)")]
fn memory_files_pass_with_a_small_reservation() {
    let (Some(dir2), Some(dir3)) =
        (shared("spec-testsuite/wasm-2.0"), shared("spec-testsuite/wasm-3.0"))
    else {
        return;
    };
    let simd = cfg!(any(feature = "simd-scalar", feature = "simd-sse41", feature = "simd-avx2"));
    let mut files = Vec::new();
    for dir in [&dir2, &dir3] {
        files.extend(spec_files(dir, false));
        if simd {
            files.extend(spec_files(dir, true));
        }
    }
    files.retain(|f| about_memory(&f.file_name().unwrap().to_string_lossy()));
    assert!(files.len() > 60, "only {} memory spec files found", files.len());
    run_with_flags(&files, &[SMALL_RESERVATION], 10_000);
}

/// Every wasm-2.0 file (the `simd_*` ones when the test build has a `simd` plugin) on
/// every engine under `virt-host` with a one-page memory reservation. Not in the
/// default run (it repeats the suite); run it with
/// `cargo test --release --test all -- --ignored small_reservation`.
#[test]
#[ignore = "the whole suite again: run with --ignored"]
fn wasm_2_0_passes_with_a_small_reservation() {
    let Some(dir) = shared("spec-testsuite/wasm-2.0") else { return };
    let simd = cfg!(any(feature = "simd-scalar", feature = "simd-sse41", feature = "simd-avx2"));
    let mut files = spec_files(&dir, false);
    if simd {
        files.extend(spec_files(&dir, true));
    }
    run_with_flags(&files, &[SMALL_RESERVATION], 20_000);
}

/// The machine code bytes the engine of `C` reports after compiling a module of
/// memory accesses, with the settings `flags`.
#[cfg(any(feature = "engine-cranelift", feature = "engine-dynasm"))]
fn code_bytes<C: vm::Composition>(engine: &str, flags: &[&str]) -> u64 {
    let mut settings = vm::Settings::new();
    for f in flags {
        settings.merge_flag(f).expect("a valid flag");
    }
    let mut vm = vm::Vm::<C>::new(&settings).unwrap().init().unwrap().start().unwrap();
    let loads = "(i32.add (i32.load offset=8 (local.get 0)) (i32.load8_u (local.get 1)))";
    vm.compile(format!(
        "(module (memory 1) (func (export \"f\") (param i32 i32) (result i32) {loads}) \
         (func (param i32 i32) (i64.store (local.get 0) (i64.load (local.get 1)))))"
    ))
    .unwrap();
    vm.health().into_iter().find(|h| h.id == engine).unwrap().stats.code_bytes
}

/// engine-cranelift reads the `virt` plugin's `guard_pages()` when it compiles: a
/// small reservation makes it emit the explicit checks (more code), the default none.
#[test]
#[cfg(feature = "engine-cranelift")]
fn cranelift_emits_bounds_checks_with_a_small_reservation() {
    type C = crate::engines::CraneliftVm;
    let guarded = code_bytes::<C>("engine-cranelift", &[]);
    let checked = code_bytes::<C>("engine-cranelift", &[SMALL_RESERVATION]);
    assert!(checked > guarded, "{checked} vs {guarded} bytes");
}

/// As [`cranelift_emits_bounds_checks_with_a_small_reservation`] for engine-dynasm.
#[test]
#[cfg(feature = "engine-dynasm")]
fn dynasm_emits_bounds_checks_with_a_small_reservation() {
    type C = crate::engines::DynasmVm;
    let guarded = code_bytes::<C>("engine-dynasm", &[]);
    let checked = code_bytes::<C>("engine-dynasm", &[SMALL_RESERVATION]);
    assert!(checked > guarded, "{checked} vs {guarded} bytes");
}

/// Runs `files` on every engine under `virt-host` with the settings `flags` added;
/// the wasm-3.0 files pending for an engine are left out. Fails on any failed
/// assertion or when an engine ran fewer than `min` assertions.
fn run_with_flags(files: &[std::path::PathBuf], flags: &[&str], min: usize) {
    assert!(!ENGINES.is_empty(), "no engine compiled into the test build");
    let pending = pending3();
    let mut problems = Vec::new();
    // The `virt` settings are virt-host's.
    for engine in ENGINES.iter().filter(|e| !e.id.contains("virt-kvm") && e.should_run()) {
        let mut settings = (engine.settings)();
        for f in flags {
            settings.merge_flag(f).expect("a valid flag");
        }
        let (mut passed, mut failed) = (0, 0);
        for f in files {
            let name = f.file_name().unwrap().to_string_lossy().into_owned();
            let wasm3 = f.parent().and_then(|d| d.file_name()).is_some_and(|d| d == "wasm-3.0");
            if wasm3
                && pending
                    .iter()
                    .any(|p| p.file == name && (p.engine == "*" || p.engine == engine.id))
            {
                continue;
            }
            let r = (engine.wast_with)(f, &settings);
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
        println!(
            "{}: {passed} passed, {failed} failed over {} files ({flags:?})",
            engine.id,
            files.len()
        );
        assert!(passed > min, "{}: suspiciously few assertions ran ({passed})", engine.id);
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
