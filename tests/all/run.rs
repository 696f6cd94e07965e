//! `vm run` end to end: arguments, exit codes, traps, bad input, resource limits.

use std::fs;

use crate::support::{bin_engines, root, vm, vm_cmd, vm_in_with, vm_with};

fn temp_dir(tag: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("vm-run-{tag}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).expect("temp dir");
    d
}

/// A WASI program that prints its arguments (after argv[0]) one per line, then
/// exits with status 7.
const ECHO_ARGS: &str = r#"(module
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $sizes (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get" (func $get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (func $strlen (param $p i32) (result i32) (local $n i32)
    (block $done (loop $l
      (br_if $done (i32.eqz (i32.load8_u (i32.add (local.get $p) (local.get $n)))))
      (local.set $n (i32.add (local.get $n) (i32.const 1))) (br $l)))
    (local.get $n))
  (func (export "_start") (local $argc i32) (local $i i32) (local $p i32)
    (drop (call $sizes (i32.const 0) (i32.const 4)))
    (local.set $argc (i32.load (i32.const 0)))
    (drop (call $get (i32.const 1024) (i32.const 4096)))
    (i32.store8 (i32.const 8) (i32.const 10))
    (local.set $i (i32.const 1))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $i) (local.get $argc)))
      (local.set $p (i32.load (i32.add (i32.const 1024) (i32.mul (local.get $i) (i32.const 4)))))
      (i32.store (i32.const 16) (local.get $p))
      (i32.store (i32.const 20) (call $strlen (local.get $p)))
      (i32.store (i32.const 24) (i32.const 8))
      (i32.store (i32.const 28) (i32.const 1))
      (drop (call $write (i32.const 1) (i32.const 16) (i32.const 2) (i32.const 32)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l)))
    (call $exit (i32.const 7))))"#;

#[test]
fn guest_arguments_and_exit_status() {
    let d = temp_dir("args");
    let f = d.join("echo.wat");
    fs::write(&f, ECHO_ARGS).unwrap();
    let f = f.to_string_lossy();
    for engine in bin_engines() {
        let (code, out, err) = vm_with(engine, &["run", &f, "-x", "hello"]);
        assert_eq!((code, out.as_str()), (7, "-x\nhello\n"), "{engine}: {err}");
        // A `--` right after FILE is accepted and not passed on.
        let (code, out, err) = vm_with(engine, &["run", &f, "--", "-x"]);
        assert_eq!((code, out.as_str()), (7, "-x\n"), "{engine}: {err}");
    }
}

#[test]
fn readme_example_runs() {
    for engine in bin_engines() {
        let (code, out, err) = vm_with(engine, &["run", "examples/hello.wat"]);
        assert_eq!(code, 0, "{engine}: {err}");
        assert_eq!(out, "Hello from a composed WebAssembly VM!\n", "{engine}");
    }
}

const TRAPS: &str = r#"(module
  (memory 1)
  (func $deep (export "deep") (result i32) (i32.add (call $deep) (i32.const 1)))
  (func (export "spin") (loop (br 0)))
  (func (export "div") (param i32) (result i32) (i32.div_s (i32.const 1) (local.get 0)))
  (func (export "oob") (result i32) (i32.load (i32.const 70000)))
  (func (export "add") (param i32 i64) (result i64) (i64.add (i64.extend_i32_s (local.get 0)) (local.get 1))))"#;

fn traps_file() -> String {
    let d = temp_dir("traps");
    let f = d.join("traps.wat");
    fs::write(&f, TRAPS).unwrap();
    f.to_string_lossy().into_owned()
}

#[test]
fn invoke_parses_arguments_and_prints_results() {
    let f = traps_file();
    let (code, out, err) = vm(&["run", "--invoke", "add", &f, "-2", "0x10"]);
    assert_eq!((code, out.as_str()), (0, "14\n"), "{err}");
    let (code, _, err) = vm(&["run", "--invoke", "add", &f, "x", "1"]);
    assert_ne!(code, 0);
    assert!(err.contains("not an integer"), "{err}");
}

#[test]
fn traps_are_reported_and_the_host_survives() {
    let f = traps_file();
    for (export, args, needle) in [
        ("div", vec!["0"], "integer divide by zero"),
        ("oob", vec![], "out of bounds memory access"),
        ("deep", vec![], "call stack exhausted"),
    ] {
        let mut a = vec!["run", "--invoke", export, &f];
        a.extend(args);
        for engine in bin_engines() {
            let (code, _, err) = vm_with(engine, &a);
            assert_eq!(code, 134, "{engine} {export}: {err}");
            assert!(
                err.contains(needle) && err.contains("wasm backtrace"),
                "{engine} {export}: {err}"
            );
        }
    }
}

#[test]
fn fuel_stops_an_infinite_loop() {
    let f = traps_file();
    for engine in bin_engines() {
        let (code, _, err) =
            vm_with(engine, &["run", "-C", "engine.fuel=1000000", "--invoke", "spin", &f]);
        assert_eq!(code, 134, "{engine}: {err}");
        assert!(err.contains("out of fuel"), "{engine}: {err}");
    }
}

#[test]
fn bad_input_is_a_clear_error() {
    let d = temp_dir("bad");
    let malformed = d.join("malformed.wasm");
    fs::write(&malformed, b"\0asm\x01\0\0\0\x01\x05").unwrap();
    let invalid = d.join("invalid.wat");
    fs::write(&invalid, "(module (func (result i32) (i64.const 1)))").unwrap();
    // A proposal no plugin of this composition provides (GC needs a collector).
    let gc = d.join("gc.wat");
    fs::write(&gc, "(module (type (struct (field i32))))").unwrap();
    for (file, needle) in [
        (malformed.to_string_lossy(), "offset"),
        (invalid.to_string_lossy(), "type mismatch"),
        (gc.to_string_lossy(), "unsupported: gc"),
        ("does-not-exist.wasm".into(), "cannot read"),
    ] {
        let (code, _, err) = vm(&["run", &file]);
        assert_eq!(code, 1, "{file}: {err}");
        assert!(err.contains(needle), "{file}: expected `{needle}` in: {err}");
    }
    let (code, _, err) = vm(&["run", "-C", "engine.feul=1", "examples/hello.wat"]);
    assert_eq!(code, 1);
    assert!(err.contains("did you mean `fuel`") && err.contains("valid keys"), "{err}");
}

#[test]
fn preopened_directory_is_reachable_and_escapes_are_not() {
    let d = temp_dir("dir");
    fs::write(d.join("in.txt"), "inside\n").unwrap();
    let prog = d.join("cat.wat");
    // Opens `in.txt` (then `../secret`) relative to preopen fd 3 and copies it to stdout.
    fs::write(
        &prog,
        r#"(module
  (import "wasi_snapshot_preview1" "path_open"
    (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 100) "in.txt")
  (data (i32.const 120) "../secret")
  (func (export "_start") (local $e i32)
    (local.set $e (call $open (i32.const 3) (i32.const 0) (i32.const 120) (i32.const 9)
      (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 200)))
    (if (i32.eqz (local.get $e)) (then unreachable))
    (drop (call $open (i32.const 3) (i32.const 0) (i32.const 100) (i32.const 6)
      (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 200)))
    (i32.store (i32.const 0) (i32.const 300))
    (i32.store (i32.const 4) (i32.const 100))
    (drop (call $read (i32.load (i32.const 200)) (i32.const 0) (i32.const 1) (i32.const 8)))
    (i32.store (i32.const 4) (i32.load (i32.const 8)))
    (drop (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))"#,
    )
    .unwrap();
    for engine in bin_engines() {
        let (code, out, err) =
            vm_in_with(engine, &d, &["run", "--dir", ".", prog.to_str().unwrap()]);
        assert_eq!((code, out.as_str()), (0, "inside\n"), "{engine}: {err}");
    }
    let _ = root();
}

/// `--env KEY=VAL` sets a variable; `--env KEY` passes on the host's value, and is
/// skipped when the host has none (as wasmtime does).
#[test]
fn env_flags_set_and_inherit_variables() {
    let dir = std::env::temp_dir().join(format!("vm-run-env-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("env.wat");
    std::fs::write(
        &file,
        r#"(module
  (import "wasi_snapshot_preview1" "environ_sizes_get" (func $sizes (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_get" (func $get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start") (local $i i32) (local $n i32)
    (drop (call $sizes (i32.const 0) (i32.const 4)))
    (drop (call $get (i32.const 64) (i32.const 1024)))
    (local.set $n (i32.load (i32.const 4)))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (if (i32.eqz (i32.load8_u offset=1024 (local.get $i)))
        (then (i32.store8 offset=1024 (local.get $i) (i32.const 10))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next)))
    (i32.store (i32.const 16) (i32.const 1024))
    (i32.store (i32.const 20) (local.get $n))
    (drop (call $write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 8)))))"#,
    )
    .unwrap();
    for engine in bin_engines() {
        let out = vm_cmd(engine)
            .args([
                "run",
                "--env",
                "GIVEN=1",
                "--env",
                "VM_TEST_INHERITED",
                "--env",
                "VM_TEST_ABSENT",
            ])
            .arg(&file)
            .env("VM_TEST_INHERITED", "from the host")
            .env_remove("VM_TEST_ABSENT")
            .output()
            .expect("run vm");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{engine}: {}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(stdout, "GIVEN=1\nVM_TEST_INHERITED=from the host\n", "{engine}");
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// The number after ` key=` on the `virt-kvm:` line of `vm run --stats` output.
#[cfg(all(feature = "engine-cranelift", feature = "virt-kvm"))]
fn kvm_stat(stderr: &str, key: &str) -> u64 {
    let line = stderr
        .lines()
        .find(|l| l.starts_with("virt-kvm: "))
        .unwrap_or_else(|| panic!("no virt-kvm stats line: {stderr}"));
    let at = line.find(&format!(" {key}=")).unwrap_or_else(|| panic!("no {key}: {line}"));
    let digits: String =
        line[at + key.len() + 2..].chars().take_while(char::is_ascii_digit).collect();
    digits.parse().unwrap_or_else(|_| panic!("{key} is not a number: {line}"))
}

/// `vm run --stats` with virt-kvm: a corpus program runs in micro-VMs, which the
/// plugin's line counts; its keys `virt.pool_size` and `virt.timeout_ms` are accepted,
/// range-checked, and a timeout ends an infinite loop with the "interrupted" trap.
#[cfg(all(feature = "engine-cranelift", feature = "virt-kvm"))]
#[test]
#[cfg_attr(vm_shared_absent, ignore = "../shared is absent (it ships beside the repository)")]
fn kvm_stats_count_micro_vm_runs_and_its_keys_work() {
    use crate::support::{KVM_BIN, bin_ready, shared};
    if !bin_ready(KVM_BIN) {
        return;
    }
    let Some(dir) = shared("bench") else { return };
    let cases = std::fs::read_to_string(dir.join("cases.tsv")).expect("cases.tsv");
    let (name, small) = cases.lines().nth(1).and_then(|l| l.split_once('\t')).expect("a case");
    let wasm = dir.join("wasm").join(format!("{name}.wasm"));
    let expected = fs::read_to_string(dir.join("expected").join(format!("{name}.small.txt")))
        .expect("expected output");
    let wasm = wasm.to_string_lossy();
    for pool in ["0", "1", "3"] {
        let pool_size = format!("virt.pool_size={pool}");
        let mut args =
            vec!["run", "--stats", "-C", &pool_size, "-C", "virt.timeout_ms=60000", &*wasm];
        args.extend(small.split_whitespace());
        let (code, out, err) = vm_with(KVM_BIN, &args);
        assert_eq!(code, 0, "{name} pool {pool}: {err}");
        assert_eq!(out, expected, "{name} pool {pool}");
        for key in ["vms_acquired", "exits_returned", "vcpu_run_us"] {
            assert!(kvm_stat(&err, key) > 0, "{name} pool {pool}: {key} is 0: {err}");
        }
        assert_eq!(kvm_stat(&err, "exits_interrupted"), 0, "{name} pool {pool}: {err}");
        // One micro-VM is prepared at start (none with a pool of 0: made on demand).
        assert_eq!(kvm_stat(&err, "vms_created"), 1, "{pool}: {err}");
    }
    for bad in ["virt.pool_size=257", "virt.timeout_ms=-1", "virt.timeout_ms=soon"] {
        let (code, _, err) = vm_with(KVM_BIN, &["run", "-C", bad, "examples/hello.wat"]);
        assert_eq!(code, 1, "{bad}: {err}");
        let key = bad.split_once('=').unwrap().0.trim_start_matches("virt.");
        assert!(err.contains(key), "{bad}: {err}");
    }
    let f = traps_file();
    let (code, _, err) =
        vm_with(KVM_BIN, &["run", "--stats", "-C", "virt.timeout_ms=200", "--invoke", "spin", &f]);
    assert_eq!(code, 134, "{err}");
    assert!(err.contains("interrupted"), "{err}");
    assert_eq!(kvm_stat(&err, "exits_interrupted"), 1, "{err}");
}
