//! Unit tests: each host function driven through its generated wrapper, with a
//! `Caller` over a `Vec<u8>` memory and a `WasiCtx` over a temporary preopen.

use std::any::Any;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use vm_core::runtime::{Caller, HostModuleDef, RunContext, Trap, TrapCode, Val, ValType};

use crate::WASI_MODULE;
use crate::abi::{Errno, eventtype, filetype, lookupflags, oflags, rights};

mod fs;
mod misuse;
mod module;
mod preview0;

/// Where tests put things in guest memory.
const OUT: u32 = 0; // out-pointers: 0, 8, 16, ...
const IOV: u32 = 256;
const PATH: u32 = 1024;
const PATH2: u32 = 1536;
const DATA: u32 = 2048;
const BUF: u32 = 8192;
const MEM_SIZE: usize = 1 << 16;

/// A temporary directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let p = std::env::temp_dir().join(format!(
            "vm-host-wasi-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
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

fn i(v: u32) -> Val {
    Val::I32(v as i32)
}
fn l(v: u64) -> Val {
    Val::I64(v as i64)
}

/// A guest: linear memory and the module's state, with the preopen (if any) at fd 3.
struct Guest {
    state: Box<dyn Any + Send>,
    mem: Vec<u8>,
}

impl Guest {
    fn new(run: &RunContext) -> Self {
        Self { state: (WASI_MODULE.new_state)(run, None).unwrap(), mem: vec![0; MEM_SIZE] }
    }

    /// A guest with `root` preopened as `/sandbox`.
    fn with_preopen(root: &Path) -> Self {
        Self::new(&RunContext {
            args: vec!["prog".into()],
            env: vec![],
            preopens: vec![(root.to_path_buf(), "/sandbox".into())],
        })
    }

    fn call(&mut self, name: &str, args: &[Val]) -> Result<Vec<Val>, Trap> {
        self.call_in(&WASI_MODULE, name, args)
    }

    /// Calls `name` of `module` (either snapshot) on this guest's state.
    fn call_in(
        &mut self,
        module: &HostModuleDef,
        name: &str,
        args: &[Val],
    ) -> Result<Vec<Val>, Trap> {
        let f = module.functions.iter().find(|f| f.name == name).unwrap();
        let mut results: Vec<Val> = f.results.iter().map(|t| Val::default_for(*t)).collect();
        let mut caller = Caller::new(Some(&mut self.mem), self.state.as_mut());
        (f.call)(&mut caller, args, &mut results)?;
        Ok(results)
    }

    /// Calls an errno-returning function; `Ok(())` for 0, the errno otherwise.
    fn errno(&mut self, name: &str, args: &[Val]) -> Result<(), i32> {
        self.errno_in(&WASI_MODULE, name, args)
    }

    /// [`Self::errno`] for a function of `module`.
    fn errno_in(&mut self, module: &HostModuleDef, name: &str, args: &[Val]) -> Result<(), i32> {
        match self.call_in(module, name, args).unwrap()[..] {
            [Val::I32(0)] => Ok(()),
            [Val::I32(e)] => Err(e),
            ref other => panic!("{name} returned {other:?}"),
        }
    }

    fn put(&mut self, at: u32, bytes: &[u8]) -> (Val, Val) {
        self.mem[at as usize..at as usize + bytes.len()].copy_from_slice(bytes);
        (i(at), i(bytes.len() as u32))
    }

    fn u32_at(&self, at: u32) -> u32 {
        u32::from_le_bytes(self.mem[at as usize..at as usize + 4].try_into().unwrap())
    }

    fn u64_at(&self, at: u32) -> u64 {
        u64::from_le_bytes(self.mem[at as usize..at as usize + 8].try_into().unwrap())
    }

    fn bytes(&self, at: u32, len: u32) -> &[u8] {
        &self.mem[at as usize..(at + len) as usize]
    }

    /// `path_open` below fd 3; the new fd or the errno.
    fn open(
        &mut self,
        path: &str,
        oflags: u16,
        rights_base: u64,
        follow: bool,
    ) -> Result<u32, i32> {
        let (p, n) = self.put(PATH, path.as_bytes());
        let dirflags = if follow { lookupflags::SYMLINK_FOLLOW } else { 0 };
        self.errno(
            "path_open",
            &[i(3), i(dirflags), p, n, i(oflags.into()), l(rights_base), l(0), i(0), i(OUT)],
        )?;
        Ok(self.u32_at(OUT))
    }

    /// `fd_write` of `data` as two iovecs; the count written.
    fn write(&mut self, fd: u32, data: &[u8]) -> Result<u32, i32> {
        let half = data.len() / 2;
        self.put(DATA, data);
        let mut iov = Vec::new();
        for (at, len) in [(DATA, half as u32), (DATA + half as u32, (data.len() - half) as u32)] {
            iov.extend_from_slice(&at.to_le_bytes());
            iov.extend_from_slice(&len.to_le_bytes());
        }
        self.put(IOV, &iov);
        self.errno("fd_write", &[i(fd), i(IOV), i(2), i(OUT)])?;
        Ok(self.u32_at(OUT))
    }

    /// `fd_read` into `BUF` (one iovec of `len`); the bytes read.
    fn read(&mut self, fd: u32, len: u32) -> Result<Vec<u8>, i32> {
        let mut iov = BUF.to_le_bytes().to_vec();
        iov.extend_from_slice(&len.to_le_bytes());
        self.put(IOV, &iov);
        self.errno("fd_read", &[i(fd), i(IOV), i(1), i(OUT)])?;
        let n = self.u32_at(OUT);
        Ok(self.bytes(BUF, n).to_vec())
    }

    /// A one-path call (`path_create_directory`, `path_unlink_file`, ...) below fd 3.
    fn path_op(&mut self, name: &str, path: &str) -> Result<(), i32> {
        let (p, n) = self.put(PATH, path.as_bytes());
        self.errno(name, &[i(3), p, n])
    }

    /// `path_filestat_get` below fd 3: `(filetype, size)`.
    fn stat(&mut self, path: &str, follow: bool) -> Result<(u8, u64), i32> {
        let (p, n) = self.put(PATH, path.as_bytes());
        let flags = if follow { lookupflags::SYMLINK_FOLLOW } else { 0 };
        self.errno("path_filestat_get", &[i(3), i(flags), p, n, i(BUF)])?;
        Ok((self.mem[BUF as usize + 16], self.u64_at(BUF + 32)))
    }
}

const E_NOTCAPABLE: i32 = Errno::Notcapable as i32;
const E_BADF: i32 = Errno::Badf as i32;
const E_FAULT: i32 = Errno::Fault as i32;
const E_NOENT: i32 = Errno::Noent as i32;

#[test]
fn args_and_environ_round_trip() {
    let run = RunContext {
        args: vec!["prog".into(), "a b".into(), "ü".into()],
        env: vec![("A".into(), "1".into()), ("PATH".into(), "x=y".into())],
        preopens: vec![],
    };
    let mut g = Guest::new(&run);
    g.errno("args_sizes_get", &[i(OUT), i(OUT + 4)]).unwrap();
    assert_eq!((g.u32_at(OUT), g.u32_at(OUT + 4)), (3, 5 + 4 + 3));
    g.errno("args_get", &[i(100), i(200)]).unwrap();
    let ptrs: Vec<u32> = (0..3).map(|k| g.u32_at(100 + 4 * k)).collect();
    assert_eq!(ptrs, [200, 205, 209]);
    assert_eq!(g.bytes(200, 12), b"prog\0a b\0\xc3\xbc\0");

    g.errno("environ_sizes_get", &[i(OUT), i(OUT + 4)]).unwrap();
    assert_eq!((g.u32_at(OUT), g.u32_at(OUT + 4)), (2, 4 + 9));
    g.errno("environ_get", &[i(300), i(400)]).unwrap();
    assert_eq!((g.u32_at(300), g.u32_at(304)), (400, 404));
    assert_eq!(g.bytes(400, 13), b"A=1\0PATH=x=y\0");
}

#[test]
fn bad_strings_and_missing_preopens_are_errors() {
    let run = RunContext { args: vec!["a\0b".into()], ..Default::default() };
    assert!((WASI_MODULE.new_state)(&run, None).is_err());
    let run = RunContext { env: vec![("A=B".into(), "1".into())], ..Default::default() };
    assert!((WASI_MODULE.new_state)(&run, None).is_err());
    let run = RunContext {
        preopens: vec![("/definitely/not/here".into(), "/x".into())],
        ..Default::default()
    };
    let err = (WASI_MODULE.new_state)(&run, None).unwrap_err();
    assert!(err.to_string().contains("/definitely/not/here"), "{err}");
}

#[test]
fn out_of_bounds_pointers_are_fault_not_panics() {
    let mut g = Guest::new(&RunContext::default());
    let end = MEM_SIZE as u32;
    assert_eq!(g.errno("args_sizes_get", &[i(end - 2), i(0)]), Err(E_FAULT));
    assert_eq!(g.errno("random_get", &[i(end - 10), i(11)]), Err(E_FAULT));
    assert_eq!(g.errno("random_get", &[i(u32::MAX), i(u32::MAX)]), Err(E_FAULT));
    assert_eq!(g.errno("args_get", &[i(end), i(0)]), Ok(()), "no args: nothing written");
    assert_eq!(g.errno("clock_time_get", &[i(1), l(0), i(end - 7)]), Err(E_FAULT));
    // iovecs pointing outside memory.
    let mut iov = (end - 4).to_le_bytes().to_vec();
    iov.extend_from_slice(&8u32.to_le_bytes());
    g.put(IOV, &iov);
    assert_eq!(g.errno("fd_write", &[i(1), i(IOV), i(1), i(OUT)]), Err(E_FAULT));
    // A wrong argument count is a trap, not a panic.
    let f = WASI_MODULE.functions.iter().find(|f| f.name == "fd_close").unwrap();
    let mut res = [Val::I32(0)];
    let mut caller = Caller::new(Some(&mut g.mem), g.state.as_mut());
    let err = (f.call)(&mut caller, &[], &mut res).unwrap_err();
    assert_eq!(err.code, TrapCode::HostError);
}

#[test]
fn a_shared_view_overlapping_the_mutable_one_is_fault() {
    let tmp = TempDir::new();
    std::os::unix::fs::symlink("target", tmp.path().join("ln")).unwrap();
    let mut g = Guest::with_preopen(tmp.path());
    let (p, n) = g.put(PATH, b"ln");
    // buf overlaps the path bytes.
    assert_eq!(g.errno("path_readlink", &[i(3), p, n, i(PATH + 1), i(16), i(OUT)]), Err(E_FAULT));
    g.errno("path_readlink", &[i(3), p, n, i(BUF), i(16), i(OUT)]).unwrap();
    assert_eq!(g.bytes(BUF, g.u32_at(OUT)), b"target");
    // A buffer shorter than the target gets a prefix.
    g.errno("path_readlink", &[i(3), p, n, i(BUF), i(3), i(OUT)]).unwrap();
    assert_eq!(g.bytes(BUF, g.u32_at(OUT)), b"tar");
}

#[test]
fn clocks() {
    let mut g = Guest::new(&RunContext::default());
    let mut last = 0;
    for _ in 0..100 {
        g.errno("clock_time_get", &[i(1), l(1), i(OUT)]).unwrap();
        let t = g.u64_at(OUT);
        assert!(t >= last, "monotonic went back: {t} < {last}");
        last = t;
    }
    std::thread::sleep(std::time::Duration::from_millis(2));
    g.errno("clock_time_get", &[i(1), l(1), i(OUT)]).unwrap();
    assert!(g.u64_at(OUT) >= last + 2_000_000);
    g.errno("clock_time_get", &[i(0), l(1), i(OUT)]).unwrap();
    assert!(g.u64_at(OUT) > 1_600_000_000 * 1_000_000_000, "realtime is since the epoch");
    for id in 0..4 {
        g.errno("clock_res_get", &[i(id), i(OUT)]).unwrap();
        assert!(g.u64_at(OUT) >= 1);
    }
    assert_eq!(g.errno("clock_time_get", &[i(9), l(1), i(OUT)]), Err(Errno::Inval as i32));
}

#[test]
fn random_fills_the_buffer() {
    let mut g = Guest::new(&RunContext::default());
    g.errno("random_get", &[i(BUF), i(4096)]).unwrap();
    let buf = g.bytes(BUF, 4096);
    assert!(buf.iter().filter(|&&b| b == 0).count() < 100, "not filled");
    assert_eq!(g.mem[(BUF + 4096) as usize], 0, "wrote past the end");
    g.errno("random_get", &[i(BUF), i(0)]).unwrap();
}

#[test]
fn proc_exit_traps_with_the_status_and_others_answer() {
    let mut g = Guest::new(&RunContext::default());
    let err = g.call("proc_exit", &[i(3)]).unwrap_err();
    assert_eq!(err.code, TrapCode::Exit(3));
    assert_eq!(g.errno("proc_raise", &[i(9)]), Err(Errno::Nosys as i32));
    g.errno("sched_yield", &[]).unwrap();
    assert_eq!(g.errno("sock_shutdown", &[i(1), i(0)]), Err(Errno::Notsock as i32));
    assert_eq!(g.errno("sock_shutdown", &[i(99), i(0)]), Err(E_BADF));
}

#[test]
fn poll_oneoff_clock_subscription_sleeps() {
    let mut g = Guest::new(&RunContext::default());
    let mut sub = [0u8; 48];
    sub[0..8].copy_from_slice(&0xfeed_u64.to_le_bytes());
    sub[8] = eventtype::CLOCK;
    sub[16..20].copy_from_slice(&1u32.to_le_bytes()); // monotonic
    sub[24..32].copy_from_slice(&3_000_000u64.to_le_bytes()); // 3 ms
    g.put(DATA, &sub);
    let start = std::time::Instant::now();
    g.errno("poll_oneoff", &[i(DATA), i(BUF), i(1), i(OUT)]).unwrap();
    assert!(start.elapsed() >= std::time::Duration::from_millis(3));
    assert_eq!(g.u32_at(OUT), 1);
    assert_eq!(g.u64_at(BUF), 0xfeed);
    assert_eq!(g.mem[BUF as usize + 10], eventtype::CLOCK);
    assert_eq!(g.errno("poll_oneoff", &[i(DATA), i(BUF), i(0), i(OUT)]), Err(Errno::Inval as i32));
    // An absolute deadline in the past fires at once.
    sub[40] = 1;
    sub[24..32].copy_from_slice(&1u64.to_le_bytes());
    g.put(DATA, &sub);
    g.errno("poll_oneoff", &[i(DATA), i(BUF), i(1), i(OUT)]).unwrap();
    assert_eq!(g.u32_at(OUT), 1);
}

#[test]
fn stdio_is_inherited() {
    let mut g = Guest::new(&RunContext::default());
    // fd 1 and 2 exist (whatever the test runner gave us) and have an fdstat.
    for fd in [1, 2] {
        g.errno("fd_fdstat_get", &[i(fd), i(BUF)]).unwrap();
    }
    assert_eq!(g.errno("fd_fdstat_get", &[i(3), i(BUF)]), Err(E_BADF));
    assert_eq!(g.errno("fd_prestat_get", &[i(1), i(BUF)]), Err(E_BADF));
    assert_eq!(g.write(2, b"").unwrap(), 0);
}

#[test]
fn plugin_registration() {
    use vm_core::Plugin;
    use vm_core::plugin::Described;
    let meta = crate::Wasi::META;
    assert_eq!(meta.id, "host-wasi");
    assert_eq!(meta.provides[0].name, "wasi:preview1");
    assert_eq!(meta.provides[1].name, "wasi:preview0");
    assert_eq!(<crate::Wasi as vm_core::slot::HostModule>::MODULE.module, "wasi_snapshot_preview1");
    let served: Vec<_> =
        <crate::Wasi as vm_core::slot::HostModule>::MODULES.iter().map(|m| m.module).collect();
    assert_eq!(served, ["wasi_snapshot_preview1", "wasi_unstable"]);
    let ids: Vec<_> = vm_core::registry::plugins().iter().map(|r| r.meta.id).collect();
    assert!(ids.contains(&"host-wasi"), "{ids:?}");
    assert!(vm_core::registry::host_module("wasi_snapshot_preview1").is_some());
    let unstable = vm_core::registry::host_module("wasi_unstable").expect("preview0 registered");
    assert!(std::ptr::eq(unstable, &crate::WASI_UNSTABLE_MODULE));
    let r = vm_core::registry::host_registration("wasi_unstable").unwrap();
    assert_eq!(r.meta.id, "host-wasi");
    let wasi = crate::Wasi::new(Default::default()).unwrap();
    assert!(wasi.stats().custom.iter().any(|(k, _)| *k == "bytes_written"));
}

#[test]
fn value_types_are_only_i32_and_i64() {
    for f in WASI_MODULE.functions.iter().chain(crate::WASI_UNSTABLE_MODULE.functions) {
        assert!(f.params.iter().chain(f.results).all(|t| matches!(t, ValType::I32 | ValType::I64)));
    }
    let _ = (filetype::DIRECTORY, oflags::CREAT, rights::FD_READ, E_NOENT, E_NOTCAPABLE);
}
