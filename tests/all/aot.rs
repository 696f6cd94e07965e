//! Ahead-of-time compilation (`vm compile`, `vm run app.vmc`, `Vm::precompile`,
//! `Vm::load_artifact`) and the on-disk cache of `vm run`, on every engine with
//! native code: the spec's non-simd wasm-2.0 files with every module run from its
//! artifact, the corpus from `.vmc` files, damaged and foreign artifacts rejected
//! with a clear error, the cache hit on a second run and repaired when damaged.

use std::path::{Path, PathBuf};
use std::process::Command;

use vm::runtime::Error;
use vm::runtime::artifact::{self, ArtifactError, RelocTarget};
use vm::{Settings, Vm};

use crate::engines::{EngineUnderTest, kvm_ready};
use crate::support::{bin_engines, root, shared, vm_cmd};

/// Every engine with ahead-of-time compilation in this build, running spec scripts
/// with every module compiled through an artifact.
const AOT_ENGINES: &[EngineUnderTest] = &[
    #[cfg(feature = "engine-cranelift")]
    EngineUnderTest {
        id: "engine-cranelift",
        wast: |p| vm::wast::run_wast_file_aot::<crate::engines::CraneliftVm>(p),
        wast_with: |p, s| vm::wast::run_wast_file_aot_with::<crate::engines::CraneliftVm>(p, s),
        settings: Settings::new,
        ready: || Ok(()),
    },
    #[cfg(all(feature = "engine-cranelift", feature = "virt-kvm"))]
    EngineUnderTest {
        id: "engine-cranelift+virt-kvm",
        wast: |p| vm::wast::run_wast_file_aot::<crate::engines::CraneliftKvmVm>(p),
        wast_with: |p, s| vm::wast::run_wast_file_aot_with::<crate::engines::CraneliftKvmVm>(p, s),
        settings: Settings::new,
        ready: kvm_ready,
    },
    #[cfg(feature = "engine-dynasm")]
    EngineUnderTest {
        id: "engine-dynasm",
        wast: |p| vm::wast::run_wast_file_aot::<crate::engines::DynasmVm>(p),
        wast_with: |p, s| vm::wast::run_wast_file_aot_with::<crate::engines::DynasmVm>(p, s),
        settings: Settings::new,
        ready: || Ok(()),
    },
    #[cfg(all(feature = "engine-dynasm", feature = "virt-kvm"))]
    EngineUnderTest {
        id: "engine-dynasm+virt-kvm",
        wast: |p| vm::wast::run_wast_file_aot::<crate::engines::DynasmKvmVm>(p),
        wast_with: |p, s| vm::wast::run_wast_file_aot_with::<crate::engines::DynasmKvmVm>(p, s),
        settings: Settings::new,
        ready: kvm_ready,
    },
];

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("vm-aot-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create a temporary directory");
    dir
}

fn output(cmd: &mut Command) -> (i32, String, String) {
    let out = cmd.current_dir(root()).output().expect("run vm");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The `vm` binary `engine` with the cache off (each test that wants it turns it on
/// with a directory of its own).
fn vm(engine: &str) -> Command {
    let mut cmd = vm_cmd(engine);
    cmd.env("VM_CACHE", "false").env_remove("VM_CACHE_DIR");
    cmd
}

/// The `vm` binaries with native code.
fn native_bins() -> Vec<&'static str> {
    bin_engines().filter(|e| *e != "engine-interp").collect()
}

#[test]
#[cfg_attr(vm_shared_absent, ignore = "../shared is absent (it ships beside the repository)")]
fn wasm_2_0_non_simd_passes_from_artifacts() {
    let Some(dir) = shared("spec-testsuite/wasm-2.0") else { return };
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("read the spec directory")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "wast"))
        .filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with("simd_"))
        .collect();
    files.sort();
    assert!(files.len() > 80, "only {} spec files in {}", files.len(), dir.display());
    assert!(!AOT_ENGINES.is_empty(), "no engine with ahead-of-time compilation in this build");
    let mut problems = Vec::new();
    for engine in AOT_ENGINES.iter().filter(|e| e.should_run()) {
        let (mut passed, mut failed) = (0, 0);
        for f in &files {
            let r = (engine.wast)(f);
            let name = f.file_name().unwrap().to_string_lossy().into_owned();
            passed += r.passed;
            failed += r.failed;
            for fail in r.failures.iter().take(5) {
                problems.push(format!("{} {name}:{}: {}", engine.id, fail.line, fail.reason));
            }
        }
        println!("{} (from artifacts): {passed} passed, {failed} failed", engine.id);
        assert!(passed > 20_000, "{}: suspiciously few assertions ran ({passed})", engine.id);
    }
    assert!(problems.is_empty(), "spec failures from artifacts:\n{}", problems.join("\n"));
}

#[test]
#[cfg_attr(vm_shared_absent, ignore = "../shared is absent (it ships beside the repository)")]
fn the_corpus_runs_from_vm_compile_output() {
    let Some(dir) = shared("bench") else { return };
    let cases = std::fs::read_to_string(dir.join("cases.tsv")).expect("cases.tsv");
    let out = temp_dir("corpus");
    let bins = native_bins();
    assert!(!bins.is_empty(), "no vm binary with native code");
    let mut ran = 0;
    for line in cases.lines().skip(1) {
        let (name, small) = line.split_once('\t').expect("name<TAB>args");
        let wasm = dir.join("wasm").join(format!("{name}.wasm"));
        let expected =
            std::fs::read_to_string(dir.join("expected").join(format!("{name}.small.txt")))
                .expect("expected output");
        for engine in &bins {
            let vmc = out.join(format!("{name}-{}.vmc", engine.replace('+', "-")));
            let (code, _, err) = output(vm(engine).arg("compile").arg(&wasm).arg("-o").arg(&vmc));
            assert_eq!(code, 0, "vm compile {name} on {engine}: {err}");
            let (code, stdout, err) =
                output(vm(engine).arg("run").arg(&vmc).args(small.split_whitespace()));
            assert_eq!(code, 0, "{name}.vmc on {engine}: exit {code}, stderr: {err}");
            assert_eq!(stdout, expected, "{name}.vmc on {engine}: wrong output");
        }
        ran += 1;
    }
    assert_eq!(ran, 12, "the corpus has 12 programs");
    let _ = std::fs::remove_dir_all(&out);
}

/// Writes `bytes` to `dir/name` and runs it with `engine`.
fn run_file(engine: &str, dir: &Path, name: &str, bytes: &[u8]) -> (i32, String, String) {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write the artifact");
    output(vm(engine).arg("run").arg(&path))
}

#[test]
fn damaged_truncated_and_foreign_artifacts_are_clear_errors() {
    let dir = temp_dir("damaged");
    let hello = root().join("examples/hello.wat");
    for engine in native_bins() {
        let vmc = dir.join("hello.vmc");
        let (code, _, err) = output(vm(engine).arg("compile").arg(&hello).arg("-o").arg(&vmc));
        assert_eq!(code, 0, "{engine}: {err}");
        let good = std::fs::read(&vmc).expect("read the artifact");
        let (code, out, err) = output(vm(engine).arg("run").arg(&vmc));
        assert_eq!((code, out.as_str()), (0, "Hello from a composed WebAssembly VM!\n"), "{err}");

        for at in [artifact::HEADER_LEN + 3, good.len() / 2, good.len() - 1] {
            let mut bad = good.clone();
            bad[at] ^= 0x40;
            let (code, _, err) = run_file(engine, &dir, "flipped.vmc", &bad);
            assert_eq!(code, 1, "{engine}: byte {at}: {err}");
            assert!(err.contains("compiled module is corrupted (checksum mismatch)"), "{err}");
        }
        for len in [5, 30, good.len() - 8] {
            let (code, _, err) = run_file(engine, &dir, "short.vmc", &good[..len]);
            assert_eq!(code, 1, "{engine}: {len} bytes: {err}");
            assert!(err.contains("compiled module is truncated"), "{len}: {err}");
        }
        let mut old = good.clone();
        old[4] = 0xee;
        let (_, _, err) = run_file(engine, &dir, "old.vmc", &old);
        assert!(err.contains("format version 238, this vm reads version 1"), "{err}");
        // Fuel metering changes the code: an artifact compiled without it is foreign.
        let (code, _, err) = output(vm(engine).args(["run", "-C", "engine.fuel=1000"]).arg(&vmc));
        assert_eq!(code, 1, "{engine}: {err}");
        assert!(err.contains("was built for another composition"), "{err}");
        assert!(
            err.contains("fuel=false") && err.contains("fuel=true"),
            "names what differs: {err}"
        );
    }
    // Another engine's artifact.
    let bins = native_bins();
    if let [a, b, ..] = bins[..] {
        let vmc = dir.join("other.vmc");
        assert_eq!(output(vm(a).arg("compile").arg(&hello).arg("-o").arg(&vmc)).0, 0);
        let (code, _, err) = output(vm(b).arg("run").arg(&vmc));
        assert_eq!(code, 1, "{err}");
        assert!(err.contains("another composition") && err.contains("engine: file has"), "{err}");
    }
    // The interpreter has nothing to save.
    let (code, _, err) =
        output(vm("engine-interp").arg("compile").arg(&hello).arg("-o").arg(dir.join("i.vmc")));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("engine `engine-interp` has no ahead-of-time compilation"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// An artifact whose checksum is right but whose code image points outside its code
/// (what a damaged writer or a hand-edited file could hold) is rejected before any
/// of it is mapped.
#[test]
#[cfg(feature = "engine-cranelift")]
fn an_image_with_offsets_outside_its_code_is_rejected() {
    let vm = Vm::<crate::engines::CraneliftVm>::new(&Settings::new()).expect("a vm");
    let mut vm = vm.init().expect("init").start().expect("start");
    let wasm = br#"(module (func $f (export "f") (result i32) call $g) (func $g (result i32) i32.const 7))"#;
    let good = vm.precompile(wasm).expect("precompile");
    let key = vm.composition_key().expect("key");
    let decoded = artifact::decode(&good, &key).expect("decode");
    let bytes = decoded.wasm.to_vec();
    let tamper = |change: &Change| {
        let mut image = decoded.image.clone();
        change(&mut image);
        artifact::encode(&key, &bytes, &image).expect("encode")
    };
    let cases: [(&str, &Change); 4] = [
        ("function", &|i| i.funcs[1].end = i.code.len() as u32 + 1),
        ("trampoline", &|i| i.entries[0] = u32::MAX),
        ("relocation", &|i| i.relocs.push(artifact::Reloc { at: u32::MAX - 2, ..i.relocs[0] })),
        ("function 9", &|i| {
            i.relocs.push(artifact::Reloc { target: RelocTarget::Func(9), ..i.relocs[0] })
        }),
    ];
    assert!(!decoded.image.relocs.is_empty(), "the call of $g is a relocation");
    for (what, change) in cases {
        let err = vm.load_artifact(&tamper(change)).map(drop).expect_err(what);
        assert!(
            matches!(&err, Error::Artifact(ArtifactError::Malformed(m)) if m.contains(what)),
            "{what}: {err}"
        );
    }
    let module = vm.load_artifact(&good).expect("the good one loads");
    let mut linker = vm::runtime::Linker::default();
    let inst = vm.instantiate(&module, &mut linker).expect("instantiate");
    assert_eq!(vm.invoke(&mut linker, inst, "f", &[]).expect("call"), [vm::runtime::Val::I32(7)]);
}

/// A change to a code image.
type Change = dyn Fn(&mut artifact::CodeImage);

/// The `cache:` line of `vm run --stats`.
fn cache_line(stderr: &str) -> &str {
    stderr.lines().find(|l| l.starts_with("cache:")).unwrap_or("")
}

#[test]
fn the_cache_is_hit_on_the_second_run_and_repaired_when_damaged() {
    let hello = root().join("examples/hello.wat");
    let expected = "Hello from a composed WebAssembly VM!\n";
    for engine in native_bins() {
        let dir = temp_dir(&format!("cache-{}", engine.replace('+', "-")));
        let cached = |extra: &[&str]| {
            let mut cmd = vm(engine);
            cmd.env("VM_CACHE", "true").env("VM_CACHE_DIR", &dir);
            cmd.args(["run", "--stats"]).args(extra).arg(&hello);
            output(&mut cmd)
        };
        let runs: Vec<_> = (0..2).map(|_| cached(&[])).collect();
        for (code, out, err) in &runs {
            assert_eq!((*code, out.as_str()), (0, expected), "{engine}: {err}");
        }
        assert!(cache_line(&runs[0].2).starts_with("cache: stored dir="), "{}", runs[0].2);
        assert!(cache_line(&runs[1].2).starts_with("cache: hit dir="), "{}", runs[1].2);
        let entries: Vec<_> =
            std::fs::read_dir(&dir).unwrap().flatten().map(|e| e.path()).collect();
        assert_eq!(entries.len(), 1, "one entry, no temporary file left: {entries:?}");

        // A damaged entry is replaced, not an error.
        let mut bytes = std::fs::read(&entries[0]).unwrap();
        let mid = bytes.len() / 2;
        bytes[mid] ^= 1;
        std::fs::write(&entries[0], &bytes).unwrap();
        let (code, out, err) = cached(&[]);
        assert_eq!((code, out.as_str()), (0, expected), "{engine}: {err}");
        assert!(cache_line(&err).starts_with("cache: replaced"), "{err}");
        assert!(cache_line(&cached(&[]).2).starts_with("cache: hit"));

        for off in [&["--no-cache"][..], &["-C", "cache=false"]] {
            let (code, out, err) = cached(off);
            assert_eq!((code, out.as_str()), (0, expected), "{engine}: {err}");
            assert_eq!(cache_line(&err), "cache: off", "{off:?}");
        }
        let (_, _, err) = cached(&["-C", "cache.size=1"]);
        assert!(err.contains("unknown cache key"), "{err}");

        // A cap of 0 MiB keeps nothing.
        let (code, _, err) = cached(&["-C", "cache.max_mb=0", "-C", "engine.fuel=100000"]);
        assert_eq!(code, 0, "{err}");
        let vmc = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == "vmc"));
        assert_eq!(vmc.count(), 0, "evicted down to the cap");
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn concurrent_runs_share_the_cache() {
    let hello = root().join("examples/hello.wat");
    let Some(engine) = native_bins().first().copied() else { return };
    let dir = temp_dir("concurrent");
    let children: Vec<_> = (0..6)
        .map(|_| {
            vm(engine)
                .env("VM_CACHE", "true")
                .env("VM_CACHE_DIR", &dir)
                .arg("run")
                .arg(&hello)
                .stdout(std::process::Stdio::piped())
                .spawn()
                .expect("spawn vm")
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().expect("wait");
        assert!(out.status.success());
        assert_eq!(out.stdout, b"Hello from a composed WebAssembly VM!\n");
    }
    let names: Vec<_> = std::fs::read_dir(&dir).unwrap().flatten().map(|e| e.file_name()).collect();
    assert_eq!(names.len(), 1, "one entry, no temporary file left: {names:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
