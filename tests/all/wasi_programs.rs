//! End to end: a real wasi-libc program (zig's, source beside the fixture in
//! `plugins/host-wasi/tests/fixtures/`) on the interpreter (and on engine-cranelift in
//! a KVM micro-VM where `/dev/kvm` works), stdout captured through
//! `WasiCtx::set_stdio`.

use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use vm::runtime::{InvokeError, Linker, RunContext, TrapCode};
use vm::vm_host_wasi::WasiCtx;
use vm::{Composition, Settings, Vm};

vm::compose! {
    /// The interpreter, in-process memory and WASI.
    pub struct Programs {
        engine: vm::vm_engine_interp::Interp,
        virt: vm::vm_virt_host::HostVirt,
        hosts: [vm::vm_host_wasi::Wasi],
    }
}

/// A temporary directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!("vm-wasi-programs-{}-{n}", std::process::id()));
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

/// Runs `_start` of `wasm` on a `C`; returns the exit status and what it wrote to
/// stdout.
fn run<C: Composition>(wasm: &[u8], run: RunContext) -> (i32, String) {
    let tmp = TempDir::new();
    let out_path = tmp.path().join("stdout");
    let out = std::fs::File::create(&out_path).unwrap();
    let mut vm = Vm::<C>::new(&Settings::new()).unwrap().init().unwrap().start().unwrap();
    let module = vm.compile(wasm).unwrap();
    let mut linker = Linker::new(run);
    let inst = vm.instantiate(&module, &mut linker).unwrap();
    let mut set = false;
    let store = linker.store_mut();
    for i in 0.. {
        let Some(state) = store.host_state_mut(i) else { break };
        if let Some(ctx) = state.downcast_mut::<WasiCtx>() {
            ctx.set_stdio(1, OwnedFd::from(out.try_clone().unwrap())).unwrap();
            set = true;
        }
    }
    assert!(set, "no WASI state in the store");
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

#[test]
fn libc_program_uses_files_dirs_clocks_and_stays_in_the_sandbox() {
    libc_program::<Programs>();
}

#[cfg(all(feature = "engine-cranelift", feature = "virt-kvm"))]
#[test]
fn libc_program_in_kvm_uses_files_dirs_clocks_and_stays_in_the_sandbox() {
    if crate::engines::kvm_should_run("engine-cranelift+virt-kvm") {
        libc_program::<crate::engines::CraneliftKvmVm>();
    }
}

/// The zig wasi-libc program on a `C`: files, directories, clocks, the sandbox.
fn libc_program<C: Composition>() {
    let tmp = TempDir::new();
    let root = tmp.path().join("root");
    std::fs::create_dir(&root).unwrap();
    std::fs::write(tmp.path().join("secret.txt"), b"secret").unwrap();
    std::os::unix::fs::symlink("../secret.txt", root.join("up")).unwrap();
    std::os::unix::fs::symlink(tmp.path().join("secret.txt"), root.join("abs")).unwrap();
    let (status, out) = run::<C>(
        include_bytes!("../../plugins/host-wasi/tests/fixtures/wasi_fs.wasm"),
        RunContext {
            args: vec!["wasi_fs".into(), "a b".into()],
            env: vec![("GREETING".into(), "hi there".into())],
            preopens: vec![(root.clone(), "/sandbox".into())],
        },
    );
    assert_eq!(status, 3);
    let expected = "\
argc=2 argv1=a b env=hi there
read 21: line 1
line 2
line 3
ftell=21
size=21 regular=1
readlink=moved.txt
readdir: . .. link moved.txt
rmdir nonempty=0
rmdir empty=1
open /sandbox/../secret.txt: ENOTCAPABLE
open /sandbox/up: ENOTCAPABLE
open /sandbox/abs: ENOTCAPABLE
open /etc/passwd: ENOENT
symlink out=0
slept>=2ms=1
realtime>2020=1
random ok=1
";
    assert_eq!(out, expected);
    let mut left: Vec<_> =
        std::fs::read_dir(&root).unwrap().map(|e| e.unwrap().file_name()).collect();
    left.sort();
    assert_eq!(left, ["abs", "up"], "the program cleaned up and created nothing outside");
    assert_eq!(std::fs::read(tmp.path().join("secret.txt")).unwrap(), b"secret");
}
