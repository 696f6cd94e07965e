//! A guest that misuses WASI: random path strings under a preopen never resolve outside
//! it, and requests sized by the guest (descriptors, iovecs, subscriptions, path
//! lengths) stop at their caps with an errno instead of allocating what they name.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::os::unix::fs::symlink;

use rustix::fs::{Mode, OFlags};

use super::*;
use crate::WasiConfig;
use crate::ctx::WasiCtx;
use crate::sandbox::{self, MAX_NAME, MAX_PATH};

/// A small deterministic generator (xorshift64*): the same seed, the same paths.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }
}

/// The real path of a host descriptor.
fn real_path(fd: BorrowedFd<'_>) -> PathBuf {
    std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd())).unwrap()
}

/// `tmp/outside/secret` beside the preopen `tmp/root`, which holds directories, a
/// file and symbolic links that stay inside, climb out, point outside absolutely,
/// loop and dangle.
struct Layout {
    tmp: TempDir,
}

impl Layout {
    fn new() -> Self {
        let tmp = TempDir::new();
        let t = tmp.path();
        std::fs::create_dir_all(t.join("outside")).unwrap();
        std::fs::write(t.join("outside/secret"), b"s").unwrap();
        let r = t.join("root");
        std::fs::create_dir_all(r.join("a/b")).unwrap();
        std::fs::write(r.join("file"), b"f").unwrap();
        std::fs::write(r.join("a/b/deep"), b"d").unwrap();
        for (target, at) in [
            ("a/b", "in_rel"),
            ("..", "a/up"),
            ("../..", "a/upup"),
            ("../outside", "out_rel"),
            ("../../../outside/secret", "a/b/out2"),
            ("../../file", "a/b/in2"),
            ("loop", "loop"),
            ("nothing", "dangling"),
            (".", "a/self"),
            ("up/a/upup", "a/chain"),
        ] {
            symlink(target, r.join(at)).unwrap();
        }
        symlink(t.join("outside"), r.join("out_abs")).unwrap();
        symlink("/", r.join("a/slash")).unwrap();
        Self { tmp }
    }

    fn root(&self) -> PathBuf {
        self.tmp.path().join("root")
    }

    /// Nothing was created or removed outside the preopen.
    fn assert_outside_untouched(&self) {
        let names = |p: &Path| {
            let mut v: Vec<_> =
                std::fs::read_dir(p).unwrap().map(|e| e.unwrap().file_name()).collect();
            v.sort();
            v
        };
        assert_eq!(names(self.tmp.path()), ["outside", "root"]);
        assert_eq!(names(&self.tmp.path().join("outside")), ["secret"]);
        assert_eq!(std::fs::read(self.tmp.path().join("outside/secret")).unwrap(), b"s");
    }
}

/// A random path over an alphabet of the layout's names, `.`, `..`, empty components,
/// a too-long name, a NUL byte and a leading `/`; now and then hundreds of components.
fn random_path(rng: &mut Rng) -> Vec<u8> {
    const WORDS: &[&[u8]] = &[
        b"..",
        b"..",
        b"..",
        b".",
        b"",
        b"a",
        b"b",
        b"file",
        b"deep",
        b"secret",
        b"outside",
        b"root",
        b"in_rel",
        b"in2",
        b"up",
        b"upup",
        b"out_rel",
        b"out_abs",
        b"out2",
        b"slash",
        b"chain",
        b"loop",
        b"dangling",
        b"self",
        b"new",
        b"nul\0x",
    ];
    let mut path = Vec::new();
    if rng.chance(12) {
        path.push(b'/');
    }
    let n = if rng.chance(50) { 300 + rng.below(1500) } else { 1 + rng.below(7) };
    for k in 0..n {
        if k > 0 {
            path.push(b'/');
        }
        if rng.chance(40) {
            path.extend(std::iter::repeat_n(b'x', MAX_NAME - 2 + rng.below(5)));
        } else {
            path.extend_from_slice(WORDS[rng.below(WORDS.len())]);
        }
    }
    if rng.chance(6) {
        path.push(b'/');
    }
    path
}

/// Every successful resolution names something inside the preopen's real path; every
/// failure is one of the errnos a confined lookup gives.
#[test]
fn random_paths_never_resolve_outside_the_preopen() {
    let layout = Layout::new();
    let root = std::fs::canonicalize(layout.root()).unwrap();
    let base = rustix::fs::open(
        &root,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .unwrap();
    let mut rng = Rng(0x5eed_5a4d_b0c5);
    let (mut ok, mut refused) = (0usize, 0usize);
    for _ in 0..20_000 {
        let path = random_path(&mut rng);
        let follow = rng.chance(2);
        let shown = String::from_utf8_lossy(&path).into_owned();
        match sandbox::resolve(base.as_fd(), &path, follow) {
            Ok(r) => {
                ok += 1;
                let parent = real_path(r.parent.as_fd());
                assert!(parent.starts_with(&root), "{shown:?}: parent {parent:?} outside");
                let name = r.name.as_bytes();
                assert!(!name.contains(&b'/') && name != b"..", "{shown:?}: name {name:?}");
                assert!(name.len() <= MAX_NAME, "{shown:?}");
                // What the caller then opens (never following a last link) is inside.
                if let Ok(fd) = rustix::fs::openat(
                    &r.parent,
                    r.name.as_c_str(),
                    OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                    Mode::empty(),
                ) {
                    let at = real_path(fd.as_fd());
                    assert!(at.starts_with(&root), "{shown:?}: opened {at:?} outside");
                }
            }
            Err(e) => {
                refused += 1;
                let allowed = [
                    Errno::Notcapable,
                    Errno::Noent,
                    Errno::Notdir,
                    Errno::Loop,
                    Errno::Ilseq,
                    Errno::Nametoolong,
                ];
                assert!(allowed.contains(&e), "{shown:?}: unexpected {e:?}");
                if path.len() >= MAX_PATH {
                    assert_eq!(e, Errno::Nametoolong, "{shown:?}");
                }
            }
        }
    }
    // The generator reaches both outcomes often (a test that only refuses proves little).
    assert!(ok > 2_000 && refused > 2_000, "ok {ok}, refused {refused}");
    layout.assert_outside_untouched();
}

/// The same through the guest's `path_open` (random follow flags, create now and then)
/// and `path_create_directory`: every descriptor it returns is inside the preopen, and
/// nothing outside it is created.
#[test]
fn random_path_open_stays_inside() {
    let layout = Layout::new();
    let root = std::fs::canonicalize(layout.root()).unwrap();
    let mut g = Guest::with_preopen(&root);
    let mut rng = Rng(0x0ddb_a11c_afe5);
    let mut opened = 0usize;
    for _ in 0..5_000 {
        let path = random_path(&mut rng);
        if path.len() > (DATA - PATH) as usize {
            continue;
        }
        let shown = String::from_utf8_lossy(&path).into_owned();
        let (p, n) = g.put(PATH, &path);
        if rng.chance(8) {
            let _ = g.errno("path_create_directory", &[i(3), p, n]);
            continue;
        }
        let dirflags = if rng.chance(2) { lookupflags::SYMLINK_FOLLOW } else { 0 };
        let create = if rng.chance(8) { oflags::CREAT } else { 0 };
        let args =
            [i(3), i(dirflags), p, n, i(create.into()), l(rights::FD_READ), l(0), i(0), i(OUT)];
        if g.errno("path_open", &args).is_ok() {
            opened += 1;
            let fd = g.u32_at(OUT);
            let ctx = g.state.downcast_mut::<WasiCtx>().unwrap();
            let at = real_path(ctx.fds.get(fd).unwrap().fd.as_fd());
            assert!(at.starts_with(&root), "{shown:?}: opened {at:?} outside");
            g.errno("fd_close", &[i(fd)]).unwrap();
        }
    }
    assert!(opened > 200, "only {opened} opens succeeded");
    layout.assert_outside_untouched();
}

/// Each way out through a link is `Notcapable`, following or not where it matters,
/// while links that stay inside resolve.
#[test]
fn links_out_are_notcapable_and_links_in_resolve() {
    let layout = Layout::new();
    let mut g = Guest::with_preopen(&layout.root());
    for path in [
        "out_abs",
        "out_abs/secret",
        "out_rel",
        "out_rel/secret",
        "a/upup",
        "a/upup/outside/secret",
        "a/b/out2",
        "a/chain",
        "a/slash",
        "a/slash/etc",
        "a/up/..",
        "in_rel/../../..",
        "/etc/passwd",
    ] {
        assert_eq!(g.stat(path, true), Err(E_NOTCAPABLE), "{path}");
        assert_eq!(g.open(path, 0, rights::FD_READ, true), Err(E_NOTCAPABLE), "{path}");
    }
    assert_eq!(g.stat("loop", true), Err(Errno::Loop as i32));
    for (path, ft) in [
        ("in_rel/deep", filetype::REGULAR_FILE),
        ("a/up/file", filetype::REGULAR_FILE),
        ("a/self/self/b/in2", filetype::REGULAR_FILE),
        ("in_rel/../..", filetype::DIRECTORY),
        ("a/up/in_rel", filetype::DIRECTORY),
    ] {
        assert_eq!(g.stat(path, true).map(|s| s.0), Ok(ft), "{path}");
    }
}

#[test]
fn path_lengths_are_capped() {
    let layout = Layout::new();
    let mut g = Guest::with_preopen(&layout.root());
    let long_name = "n".repeat(MAX_NAME + 1);
    assert_eq!(g.open(&long_name, oflags::CREAT, RW, false), Err(E_NAMETOOLONG));
    let ok_name = "n".repeat(MAX_NAME);
    assert!(g.open(&ok_name, oflags::CREAT, RW, false).is_ok());
    // A path of PATH_MAX bytes, of short valid components, is refused before any walk.
    let long_path = "a/.".repeat(MAX_PATH / 3 + 1);
    g.mem[DATA as usize..DATA as usize + MAX_PATH]
        .copy_from_slice(&long_path.as_bytes()[..MAX_PATH]);
    let (p, n) = (i(DATA), i(MAX_PATH as u32));
    let open = [i(3), i(0), p, n, i(0), l(rights::FD_READ), l(0), i(0), i(OUT)];
    assert_eq!(g.errno("path_open", &open), Err(E_NAMETOOLONG));
    assert_eq!(g.errno("path_create_directory", &[i(3), p, n]), Err(E_NAMETOOLONG));
    // The text of a new symbolic link is capped too.
    let (q, m) = g.put(PATH, b"lnk");
    assert_eq!(g.errno("path_symlink", &[p, n, i(3), q, m]), Err(E_NAMETOOLONG));
    // A length past the memory is a fault, not an allocation of that size.
    let open = [i(3), i(0), p, i(u32::MAX), i(0), l(0), l(0), i(0), i(OUT)];
    assert_eq!(g.errno("path_open", &open), Err(E_FAULT));
}

const RW: u64 = rights::FD_READ | rights::FD_WRITE;
const E_NAMETOOLONG: i32 = Errno::Nametoolong as i32;
const E_INVAL: i32 = Errno::Inval as i32;

/// A guest whose `WasiCtx` has `max_open_files` set.
fn guest_with_limit(root: &Path, max_open_files: u32) -> Guest {
    let run = RunContext {
        args: vec!["prog".into()],
        env: vec![],
        preopens: vec![(root.to_path_buf(), "/sandbox".into())],
    };
    let config = WasiConfig { max_open_files };
    Guest { state: Box::new(WasiCtx::with_config(&run, &config).unwrap()), mem: vec![0; MEM_SIZE] }
}

#[test]
fn opening_past_max_open_files_is_emfile_and_closing_frees_a_slot() {
    let tmp = TempDir::new();
    std::fs::write(tmp.path().join("f"), b"x").unwrap();
    let mut g = guest_with_limit(tmp.path(), 10);
    // 0-2 and the preopen take 4 of the 10.
    let fds: Vec<u32> = (0..6).map(|_| g.open("f", 0, rights::FD_READ, false).unwrap()).collect();
    assert_eq!(fds, [4, 5, 6, 7, 8, 9]);
    assert_eq!(g.open("f", 0, rights::FD_READ, false), Err(Errno::Mfile as i32));
    assert_eq!(g.state.downcast_mut::<WasiCtx>().unwrap().fds.open(), 10);
    g.errno("fd_close", &[i(6)]).unwrap();
    assert_eq!(g.open("f", 0, rights::FD_READ, false), Ok(6));
    // Renumbering closes the target: one more slot free.
    g.errno("fd_renumber", &[i(4), i(5)]).unwrap();
    assert_eq!(g.open("f", 0, rights::FD_READ, false), Ok(4));
    assert_eq!(g.open("f", 0, rights::FD_READ, false), Err(Errno::Mfile as i32));
}

#[test]
fn preopens_past_max_open_files_fail_to_instantiate() {
    let tmp = TempDir::new();
    let run = RunContext {
        preopens: vec![(tmp.path().to_path_buf(), "/a".into()); 5],
        ..Default::default()
    };
    let err = WasiCtx::with_config(&run, &WasiConfig { max_open_files: 6 }).unwrap_err();
    assert!(err.to_string().contains("Too many open files"), "{err}");
}

#[test]
fn iovec_counts_past_iov_max_are_inval() {
    let mut g = Guest::new(&RunContext::default());
    for f in ["fd_write", "fd_read"] {
        // Zero-length buffers: the count alone decides.
        assert_eq!(g.errno(f, &[i(2), i(IOV), i(crate::MAX_IOVS + 1), i(OUT)]), Err(E_INVAL));
        assert_eq!(g.errno(f, &[i(2), i(IOV), i(u32::MAX), i(OUT)]), Err(E_INVAL));
    }
    for f in ["fd_pwrite", "fd_pread"] {
        assert_eq!(g.errno(f, &[i(2), i(IOV), i(u32::MAX), l(0), i(OUT)]), Err(E_INVAL));
    }
    // IOV_MAX empty buffers are fine.
    g.mem[..8 * crate::MAX_IOVS as usize].fill(0);
    g.errno("fd_write", &[i(2), i(0), i(crate::MAX_IOVS), i(OUT)]).unwrap();
    assert_eq!(g.u32_at(OUT), 0);
}

#[test]
fn poll_subscription_counts_are_capped() {
    let mut g = Guest::new(&RunContext::default());
    for n in [crate::MAX_SUBSCRIPTIONS + 1, u32::MAX] {
        assert_eq!(g.errno("poll_oneoff", &[i(0), i(0), i(n), i(OUT)]), Err(E_INVAL));
    }
    // Within the cap but past the memory: a fault.
    assert_eq!(
        g.errno("poll_oneoff", &[i(0), i(0), i(crate::MAX_SUBSCRIPTIONS), i(OUT)]),
        Err(E_FAULT)
    );
}

#[test]
fn random_get_is_bounded_by_the_memory() {
    let mut g = Guest::new(&RunContext::default());
    g.errno("random_get", &[i(0), i(MEM_SIZE as u32)]).unwrap();
    assert_eq!(g.errno("random_get", &[i(0), i(MEM_SIZE as u32 + 1)]), Err(E_FAULT));
    assert_eq!(g.errno("random_get", &[i(8), i(u32::MAX)]), Err(E_FAULT));
}
