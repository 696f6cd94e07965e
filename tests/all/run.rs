//! `vm run` end to end: arguments, exit codes, traps, bad input, resource limits.

use std::fs;

use crate::support::{BIN_ENGINES, root, vm, vm_in, vm_with};

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
    let (code, out, err) = vm(&["run", &f, "-x", "hello"]);
    assert_eq!((code, out.as_str()), (7, "-x\nhello\n"), "{err}");
    // A `--` right after FILE is accepted and not passed on.
    let (code, out, _) = vm(&["run", &f, "--", "-x"]);
    assert_eq!((code, out.as_str()), (7, "-x\n"));
}

#[test]
fn readme_example_runs() {
    let (code, out, err) = vm(&["run", "examples/hello.wat"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "Hello from a composed WebAssembly VM!\n");
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
        for engine in BIN_ENGINES {
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
    for engine in BIN_ENGINES {
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
    let tail = d.join("tail-call.wat");
    fs::write(&tail, "(module (func return_call 0))").unwrap();
    for (file, needle) in [
        (malformed.to_string_lossy(), "offset"),
        (invalid.to_string_lossy(), "type mismatch"),
        (tail.to_string_lossy(), "unsupported: tail-call"),
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
    let (code, out, err) = vm_in(&d, &["run", "--dir", ".", prog.to_str().unwrap()]);
    assert_eq!((code, out.as_str()), (0, "inside\n"), "{err}");
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
    let out = std::process::Command::new(crate::support::vm_bin())
        .args(["run", "--env", "GIVEN=1", "--env", "VM_TEST_INHERITED", "--env", "VM_TEST_ABSENT"])
        .arg(&file)
        .env("VM_TEST_INHERITED", "from the host")
        .env_remove("VM_TEST_ABSENT")
        .output()
        .expect("run vm");
    std::fs::remove_dir_all(&dir).ok();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(stdout, "GIVEN=1\nVM_TEST_INHERITED=from the host\n");
}
