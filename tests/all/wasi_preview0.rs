//! End to end: hand-written guests importing `wasi_unstable` (WASI preview0) run on
//! every engine through the embedding API — its `whence` order, 56-byte `filestat`
//! and 56-byte clock `subscription` — and a guest importing from both snapshots sees
//! one WASI context.

use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use vm::runtime::{InvokeError, Linker, RunContext, TrapCode, Val};
use vm::vm_host_wasi::WasiCtx;
use vm::{Composition, Settings, Vm};

/// A temporary directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!("vm-wasi-preview0-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Self(p)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Prints `argv1=`, `env=` and two reads placed with preview0's `whence`, checks the
/// preview0 `filestat` and a 56-byte clock subscription, and exits 7. A failed check
/// exits `100 + its number`.
const PREVIEW0_GUEST: &str = r#"(module
  (import "wasi_unstable" "args_sizes_get" (func $args_sizes (param i32 i32) (result i32)))
  (import "wasi_unstable" "args_get" (func $args_get (param i32 i32) (result i32)))
  (import "wasi_unstable" "environ_sizes_get" (func $env_sizes (param i32 i32) (result i32)))
  (import "wasi_unstable" "environ_get" (func $env_get (param i32 i32) (result i32)))
  (import "wasi_unstable" "path_open"
    (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_unstable" "fd_seek" (func $seek (param i32 i64 i32 i32) (result i32)))
  (import "wasi_unstable" "fd_read" (func $read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_unstable" "fd_filestat_get" (func $fstat (param i32 i32) (result i32)))
  (import "wasi_unstable" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
  (import "wasi_unstable" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_unstable" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 2048) "data.txt")
  (data (i32.const 2064) "argv1=")
  (data (i32.const 2080) "env=")
  (data (i32.const 2096) "tail=")
  (data (i32.const 2112) "mid=")
  (data (i32.const 2128) "\n")
  (func $check (param $ok i32) (param $id i32)
    (if (i32.eqz (local.get $ok)) (then (call $exit (i32.add (i32.const 100) (local.get $id))))))
  (func $ok (param $errno i32) (param $id i32)
    (call $check (i32.eqz (local.get $errno)) (local.get $id)))
  (func $strlen (param $p i32) (result i32) (local $n i32)
    (block $done (loop $l
      (br_if $done (i32.eqz (i32.load8_u (i32.add (local.get $p) (local.get $n)))))
      (local.set $n (i32.add (local.get $n) (i32.const 1))) (br $l)))
    (local.get $n))
  (func $print (param $p i32) (param $n i32)
    (i32.store (i32.const 16) (local.get $p))
    (i32.store (i32.const 20) (local.get $n))
    (call $ok (call $write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 24)) (i32.const 1)))
  (func $puts (param $p i32) (call $print (local.get $p) (call $strlen (local.get $p))))
  (func $nl (call $print (i32.const 2128) (i32.const 1)))
  (func (export "_start") (local $fd i32)
    (call $ok (call $args_sizes (i32.const 0) (i32.const 4)) (i32.const 2))
    (call $check (i32.eq (i32.load (i32.const 0)) (i32.const 2)) (i32.const 3))
    (call $ok (call $args_get (i32.const 256) (i32.const 4096)) (i32.const 4))
    (call $print (i32.const 2064) (i32.const 6))
    (call $puts (i32.load (i32.const 260)))
    (call $nl)
    (call $ok (call $env_sizes (i32.const 0) (i32.const 4)) (i32.const 5))
    (call $check (i32.eq (i32.load (i32.const 0)) (i32.const 1)) (i32.const 6))
    (call $ok (call $env_get (i32.const 256) (i32.const 4096)) (i32.const 7))
    (call $print (i32.const 2080) (i32.const 4))
    (call $puts (i32.load (i32.const 256)))
    (call $nl)
    ;; data.txt below the preopen (fd 3): fd_read | fd_seek | fd_tell | fd_filestat_get
    (call $ok (call $open (i32.const 3) (i32.const 0) (i32.const 2048) (i32.const 8) (i32.const 0)
      (i64.const 0x200026) (i64.const 0) (i32.const 0) (i32.const 32)) (i32.const 8))
    (local.set $fd (i32.load (i32.const 32)))
    ;; preview0 whence: cur 0, end 1, set 2
    (call $ok (call $seek (local.get $fd) (i64.const -4) (i32.const 1) (i32.const 40)) (i32.const 9))
    (call $check (i64.eq (i64.load (i32.const 40)) (i64.const 12)) (i32.const 10))
    (i32.store (i32.const 48) (i32.const 512))
    (i32.store (i32.const 52) (i32.const 4))
    (call $ok (call $read (local.get $fd) (i32.const 48) (i32.const 1) (i32.const 56)) (i32.const 11))
    (call $print (i32.const 2096) (i32.const 5))
    (call $print (i32.const 512) (i32.load (i32.const 56)))
    (call $nl)
    (call $ok (call $seek (local.get $fd) (i64.const 2) (i32.const 2) (i32.const 40)) (i32.const 12))
    (call $ok (call $seek (local.get $fd) (i64.const 3) (i32.const 0) (i32.const 40)) (i32.const 13))
    (call $check (i64.eq (i64.load (i32.const 40)) (i64.const 5)) (i32.const 14))
    (i32.store (i32.const 52) (i32.const 1))
    (call $ok (call $read (local.get $fd) (i32.const 48) (i32.const 1) (i32.const 56)) (i32.const 15))
    (call $print (i32.const 2112) (i32.const 4))
    (call $print (i32.const 512) (i32.const 1))
    (call $nl)
    ;; filestat: 56 bytes, filetype at 16, nlink (u32) at 20, size at 24; 1080 untouched
    (i64.store (i32.const 1080) (i64.const -1))
    (call $ok (call $fstat (local.get $fd) (i32.const 1024)) (i32.const 16))
    (call $check (i32.eq (i32.load8_u (i32.const 1040)) (i32.const 4)) (i32.const 17))
    (call $check (i32.eq (i32.load (i32.const 1044)) (i32.const 1)) (i32.const 18))
    (call $check (i64.eq (i64.load (i32.const 1048)) (i64.const 16)) (i32.const 19))
    (call $check (i64.eq (i64.load (i32.const 1080)) (i64.const -1)) (i32.const 20))
    ;; a clock subscription due now: userdata 77, tag clock, identifier all ones (16),
    ;; clock monotonic (24), timeout 0 (32), flags 0 (48)
    (i64.store (i32.const 1536) (i64.const 77))
    (i64.store (i32.const 1552) (i64.const -1))
    (i32.store (i32.const 1560) (i32.const 1))
    (call $ok (call $poll (i32.const 1536) (i32.const 1600) (i32.const 1) (i32.const 64)) (i32.const 21))
    (call $check (i32.eq (i32.load (i32.const 64)) (i32.const 1)) (i32.const 22))
    (call $check (i64.eq (i64.load (i32.const 1600)) (i64.const 77)) (i32.const 23))
    (call $exit (i32.const 7))))"#;

/// Opens a file through `wasi_unstable`, writes and closes it through
/// `wasi_snapshot_preview1`, then closes it again through `wasi_unstable`: `Badf` (8)
/// when both modules share one context.
const BOTH_SNAPSHOTS_GUEST: &str = r#"(module
  (import "wasi_unstable" "path_open"
    (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_close" (func $close (param i32) (result i32)))
  (import "wasi_unstable" "fd_close" (func $close0 (param i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 100) "shared.txt")
  (data (i32.const 200) "both")
  (func (export "run") (result i32) (local $fd i32) (local $e i32)
    (local.set $e (call $open (i32.const 3) (i32.const 0) (i32.const 100) (i32.const 10)
      (i32.const 1) (i64.const 64) (i64.const 0) (i32.const 0) (i32.const 0)))
    (if (local.get $e) (then (return (i32.add (i32.const 1000) (local.get $e)))))
    (local.set $fd (i32.load (i32.const 0)))
    (i32.store (i32.const 16) (i32.const 200))
    (i32.store (i32.const 20) (i32.const 4))
    (local.set $e (call $write (local.get $fd) (i32.const 16) (i32.const 1) (i32.const 24)))
    (if (local.get $e) (then (return (i32.add (i32.const 2000) (local.get $e)))))
    (local.set $e (call $close (local.get $fd)))
    (if (local.get $e) (then (return (i32.add (i32.const 3000) (local.get $e)))))
    (call $close0 (local.get $fd))))"#;

/// Runs `_start` of the preview0 guest on composition `C`; the exit status and stdout.
fn run_preview0<C: Composition>(settings: &Settings, dir: &Path) -> (i32, String) {
    let out_path = dir.join("stdout");
    let out = std::fs::File::create(&out_path).unwrap();
    let mut vm = Vm::<C>::new(settings).unwrap().init().unwrap().start().unwrap();
    let module = vm.compile(PREVIEW0_GUEST).unwrap();
    let mut linker = Linker::new(RunContext {
        args: vec!["p0".into(), "hello".into()],
        env: vec![("GREETING".into(), "hi".into())],
        preopens: vec![(dir.join("root"), "/sandbox".into())],
    });
    let inst = vm.instantiate(&module, &mut linker).unwrap();
    let state = linker.store_mut().host_state_mut(0).expect("the WASI state");
    let ctx = state.downcast_mut::<WasiCtx>().expect("a WasiCtx");
    ctx.set_stdio(1, OwnedFd::from(out)).unwrap();
    let status = match vm.invoke(&mut linker, inst, "_start", &[]) {
        Ok(_) => 0,
        Err(InvokeError::Trap(t)) => match t.code {
            TrapCode::Exit(s) => s,
            _ => panic!("trap: {t}"),
        },
        Err(e) => panic!("{e}"),
    };
    (status, std::fs::read_to_string(&out_path).unwrap())
}

fn preview0_guest_runs<C: Composition>(engine: &str, settings: &Settings) {
    let tmp = TempDir::new();
    std::fs::create_dir(tmp.path().join("root")).unwrap();
    std::fs::write(tmp.path().join("root/data.txt"), b"0123456789abcdef").unwrap();
    let (status, out) = run_preview0::<C>(settings, tmp.path());
    assert_eq!(
        (status, out.as_str()),
        (7, "argv1=hello\nenv=GREETING=hi\ntail=cdef\nmid=5\n"),
        "{engine} (a status of 100 + n is check n of the guest failing)"
    );
}

fn both_snapshots_share_one_context<C: Composition>(engine: &str, settings: &Settings) {
    let tmp = TempDir::new();
    let mut vm = Vm::<C>::new(settings).unwrap().init().unwrap().start().unwrap();
    let module = vm.compile(BOTH_SNAPSHOTS_GUEST).unwrap();
    let mut linker = Linker::new(RunContext {
        preopens: vec![(tmp.path().to_path_buf(), "/sandbox".into())],
        ..Default::default()
    });
    let inst = vm.instantiate(&module, &mut linker).unwrap();
    let store = linker.store_mut();
    assert!(store.host_state_mut(0).is_some_and(|s| s.is::<WasiCtx>()), "{engine}");
    assert!(store.host_state_mut(1).is_none(), "{engine}: one state for both modules");
    let got = vm.invoke(&mut linker, inst, "run", &[]).unwrap();
    assert_eq!(got, [Val::I32(8)], "{engine}: closed through one module, gone in the other");
    assert_eq!(std::fs::read(tmp.path().join("shared.txt")).unwrap(), b"both", "{engine}");
}

#[cfg(feature = "engine-interp")]
#[test]
fn interp_runs_a_preview0_guest() {
    let s = crate::engines::interp_settings();
    preview0_guest_runs::<crate::engines::InterpVm>("engine-interp", &s);
    both_snapshots_share_one_context::<crate::engines::InterpVm>("engine-interp", &s);
}

#[cfg(feature = "engine-cranelift")]
#[test]
fn cranelift_runs_a_preview0_guest() {
    let s = Settings::new();
    preview0_guest_runs::<crate::engines::CraneliftVm>("engine-cranelift", &s);
    both_snapshots_share_one_context::<crate::engines::CraneliftVm>("engine-cranelift", &s);
}

#[cfg(feature = "engine-dynasm")]
#[test]
fn dynasm_runs_a_preview0_guest() {
    let s = Settings::new();
    preview0_guest_runs::<crate::engines::DynasmVm>("engine-dynasm", &s);
    both_snapshots_share_one_context::<crate::engines::DynasmVm>("engine-dynasm", &s);
}

#[cfg(all(feature = "engine-cranelift", feature = "virt-kvm"))]
#[test]
fn cranelift_in_kvm_runs_a_preview0_guest() {
    const ID: &str = "engine-cranelift+virt-kvm";
    if !crate::engines::kvm_should_run(ID) {
        return;
    }
    let s = Settings::new();
    preview0_guest_runs::<crate::engines::CraneliftKvmVm>(ID, &s);
    both_snapshots_share_one_context::<crate::engines::CraneliftKvmVm>(ID, &s);
}
