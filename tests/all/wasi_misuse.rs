//! A guest that misuses WASI, through the real VM on every engine: opening files until
//! `host-wasi.max_open_files`, iovec and poll subscription counts far past their caps,
//! `random_get` and path lengths past the memory or `PATH_MAX`. Each is an errno the
//! guest reads; the VM and the process keep working.

use vm::runtime::{Linker, RunContext, Val};
use vm::{Composition, Settings, Vm};

const GUEST: &str = r#"(module
  (import "wasi_snapshot_preview1" "path_open"
    (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_close" (func $fd_close (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read"
    (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff"
    (func $poll_oneoff (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "random_get" (func $random_get (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "f")

  ;; Opens "f" below the preopen (fd 3) until an error: (files opened, that errno).
  (func (export "open_until_error") (result i32 i32) (local $n i32) (local $e i32)
    (block $done (loop $again
      (local.set $e (call $path_open (i32.const 3) (i32.const 0) (i32.const 16) (i32.const 1)
        (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 0)))
      (br_if $done (local.get $e))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br_if $done (i32.ge_u (local.get $n) (i32.const 100000)))
      (br $again)))
    (local.get $n) (local.get $e))
  (func (export "close") (param i32) (result i32) (call $fd_close (local.get 0)))

  ;; Huge iovec counts: errnos of fd_write and fd_read (on the preopen's descriptor,
  ;; which exists whatever the test harness did with stdio).
  (func (export "iovecs") (param $count i32) (result i32 i32)
    (call $fd_write (i32.const 3) (i32.const 1024) (local.get $count) (i32.const 0))
    (call $fd_read (i32.const 3) (i32.const 1024) (local.get $count) (i32.const 0)))

  (func (export "poll") (param $n i32) (result i32)
    (call $poll_oneoff (i32.const 1024) (i32.const 2048) (local.get $n) (i32.const 0)))

  (func (export "random") (param $len i32) (result i32)
    (call $random_get (i32.const 0) (local.get $len)))

  ;; path_open of a path of $len bytes of `a` at 4096.
  (func (export "long_path") (param $len i32) (result i32)
    (memory.fill (i32.const 4096) (i32.const 97) (local.get $len))
    (call $path_open (i32.const 3) (i32.const 0) (i32.const 4096) (local.get $len)
      (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 0)))
  (func (export "ok") (result i32) (i32.const 7)))"#;

const E_FAULT: i32 = 21;
const E_INVAL: i32 = 28;
const E_MFILE: i32 = 33;
const E_NAMETOOLONG: i32 = 37;

fn check<C: Composition>(engine: &str) {
    let dir = std::env::temp_dir().join(format!("vm-wasi-misuse-{engine}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("f"), b"x").unwrap();

    let mut settings = Settings::new();
    settings.merge_flag("host-wasi.max_open_files=16").unwrap();
    let mut vm = Vm::<C>::new(&settings).unwrap().init().unwrap().start().unwrap();
    let module = vm.compile(GUEST).unwrap();
    let run = RunContext { preopens: vec![(dir.clone(), "/d".into())], ..Default::default() };
    let mut linker = Linker::<C>::new(run);
    let inst = vm.instantiate(&module, &mut linker).unwrap();
    let mut call = |name: &str, args: &[Val]| vm.invoke(&mut linker, inst, name, args).unwrap();

    // 0-2 and the preopen hold 4 of the 16 descriptors.
    assert_eq!(call("open_until_error", &[]), [Val::I32(12), Val::I32(E_MFILE)], "{engine}");
    assert_eq!(call("close", &[Val::I32(9)]), [Val::I32(0)], "{engine}");
    assert_eq!(call("open_until_error", &[]), [Val::I32(1), Val::I32(E_MFILE)], "{engine}");

    for count in [1025, 0x1000_0000, -1] {
        let got = call("iovecs", &[Val::I32(count)]);
        assert_eq!(got, [Val::I32(E_INVAL), Val::I32(E_INVAL)], "{engine} iovecs {count}");
    }
    for n in [4097, 1 << 30, -1] {
        assert_eq!(call("poll", &[Val::I32(n)]), [Val::I32(E_INVAL)], "{engine} poll {n}");
    }
    assert_eq!(call("random", &[Val::I32(65536)]), [Val::I32(0)], "{engine}");
    for len in [65537, -1] {
        assert_eq!(call("random", &[Val::I32(len)]), [Val::I32(E_FAULT)], "{engine} {len}");
    }
    assert_eq!(call("long_path", &[Val::I32(5000)]), [Val::I32(E_NAMETOOLONG)], "{engine}");
    assert_eq!(call("long_path", &[Val::I32(256)]), [Val::I32(E_NAMETOOLONG)], "{engine}");
    assert_eq!(call("ok", &[]), [Val::I32(7)], "{engine}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(feature = "engine-interp")]
#[test]
fn interp_guest_misuse_of_wasi_gets_errnos() {
    check::<crate::engines::InterpVm>("engine-interp");
}

#[cfg(feature = "engine-cranelift")]
#[test]
fn cranelift_guest_misuse_of_wasi_gets_errnos() {
    check::<crate::engines::CraneliftVm>("engine-cranelift");
}

#[cfg(feature = "engine-dynasm")]
#[test]
fn dynasm_guest_misuse_of_wasi_gets_errnos() {
    check::<crate::engines::DynasmVm>("engine-dynasm");
}

#[cfg(all(feature = "engine-cranelift", feature = "virt-kvm"))]
#[test]
fn cranelift_in_kvm_guest_misuse_of_wasi_gets_errnos() {
    const ID: &str = "engine-cranelift+virt-kvm";
    if crate::engines::kvm_should_run(ID) {
        check::<crate::engines::CraneliftKvmVm>(ID);
    }
}

/// `max_open_files` is a checked key: out of its range is a config error naming it.
#[cfg(feature = "engine-interp")]
#[test]
fn max_open_files_is_range_checked() {
    for bad in ["3", "16385", "many"] {
        let mut settings = Settings::new();
        settings.merge_flag(&format!("host-wasi.max_open_files={bad}")).unwrap();
        let Err(err) = Vm::<crate::engines::InterpVm>::new(&settings) else {
            panic!("max_open_files={bad} was accepted");
        };
        assert!(err.to_string().contains("max_open_files"), "{bad}: {err}");
    }
}
