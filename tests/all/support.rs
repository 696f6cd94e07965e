//! Shared helpers: the `vm` binary, the `../shared` corpus, skipping rules.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The repository root.
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `../shared` beside the repository, when present.
///
/// When it is absent the test is skipped with a printed reason, except under `CI`,
/// where a missing corpus is a failure (CI must never pass by skipping).
pub fn shared(what: &str) -> Option<PathBuf> {
    let dir = root().join("..").join("shared").join(what);
    if dir.exists() {
        return Some(dir);
    }
    let reason = format!(
        "{} is absent: skipping (it ships beside the repository, not in it)",
        dir.display()
    );
    if std::env::var_os("CI").is_some() {
        panic!("{reason}; CI requires it");
    }
    // Straight to stderr: the test harness captures `eprintln!` of passing tests, and
    // a skip must be seen.
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "SKIPPED: {reason}");
    None
}

/// The `vm` binaries of these tests, the default first: tests that run whole programs
/// run them on each (through [`bin_engines`], which leaves out the ones this machine
/// cannot run). An entry is an engine, with `+virt-kvm` when the `virt` plugin is
/// `virt-kvm` in place of `virt-host`.
pub const BIN_ENGINES: &[&str] = &[
    "engine-cranelift",
    "engine-interp",
    #[cfg(feature = "engine-dynasm")]
    "engine-dynasm",
    #[cfg(all(feature = "engine-cranelift", feature = "virt-kvm"))]
    KVM_BIN,
];

/// The [`BIN_ENGINES`] entry of the `vm` binary with engine-cranelift in a KVM
/// micro-VM per store.
#[cfg(all(feature = "engine-cranelift", feature = "virt-kvm"))]
pub const KVM_BIN: &str = "engine-cranelift+virt-kvm";

/// Whether this machine can run the `vm` binary `engine` (one of [`BIN_ENGINES`]);
/// when it cannot, prints why it is skipped (and fails under `CI` when it should have
/// been able to: see [`crate::engines::kvm_ready`]).
pub fn bin_ready(engine: &str) -> bool {
    if !engine.ends_with("+virt-kvm") {
        return true;
    }
    crate::engines::kvm_should_run(&format!("the vm binary {engine}"))
}

/// The [`BIN_ENGINES`] this machine can run, the default first.
pub fn bin_engines() -> impl Iterator<Item = &'static str> {
    BIN_ENGINES.iter().copied().filter(|e| bin_ready(e))
}

/// Where nested builds go: `CARGO_TARGET_DIR` when set (relative to the repository
/// root, as cargo reads it), else `target/`. Each composition gets one directory under
/// it, built once per test run and reused by later runs.
pub fn target_base() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => root().join(dir),
        None => root().join("target"),
    }
}

/// The `simd` plugin feature of this test build, which the `vm` binaries of the tests
/// are built with too (`None`: no simd plugin).
pub const SIMD_FEATURE: Option<&str> = if cfg!(feature = "simd-avx2") {
    Some("simd-avx2")
} else if cfg!(feature = "simd-sse41") {
    Some("simd-sse41")
} else if cfg!(feature = "simd-scalar") {
    Some("simd-scalar")
} else {
    None
};

/// The `vm` binary of the default engine, in a target directory of its own (the outer
/// `cargo test` holds the main one).
pub fn vm_bin() -> &'static Path {
    vm_bin_for(BIN_ENGINES[0])
}

/// The `vm` binary `engine` (one of [`BIN_ENGINES`]): that engine, `virt-host` (or
/// `virt-kvm` for `…+virt-kvm`), `host-wasi` and the test build's simd plugin
/// ([`SIMD_FEATURE`]).
///
/// A `+virt-kvm` binary is built in the target directory of the same engine's
/// `virt-host` binary, which differ only in vm-bin's features, so it reuses every
/// dependency (Cranelift above all) and costs one more vm-bin; cargo then leaves the
/// last one built at `release/vm`, so each build there is copied, under a lock on the
/// directory, to a path of its own (`release/vm-<entry>`), which is what the tests run.
pub fn vm_bin_for(engine: &str) -> &'static Path {
    static BINS: [OnceLock<PathBuf>; 4] = [const { OnceLock::new() }; 4];
    let i = BIN_ENGINES.iter().position(|e| *e == engine).expect("a known engine");
    BINS[i].get_or_init(|| {
        let (base, virt) = match engine.split_once('+') {
            Some((base, virt)) => (base, virt),
            None => (engine, "virt-host"),
        };
        let dir = if base == BIN_ENGINES[0] {
            "cli-tests".to_owned()
        } else {
            format!("cli-tests-{base}")
        };
        let target = target_base().join(dir);
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let release = !cfg!(debug_assertions);
        let mut cmd = Command::new(cargo);
        cmd.args(["build", "-q", "-p", "vm-bin", "--bin", "vm", "--target-dir"]).arg(&target);
        let mut features = format!("{base},{virt},host-wasi,cli-full");
        if let Some(simd) = SIMD_FEATURE {
            features = format!("{features},{simd}");
        }
        cmd.args(["--no-default-features", "--features", &features]);
        if release {
            cmd.arg("--release");
        }
        std::fs::create_dir_all(&target).expect("create the nested target directory");
        let _lock = DirLock::new(&target.join(".vm-bin-tests.lock"));
        let status = cmd.current_dir(root()).status().expect("run cargo to build the vm binary");
        assert!(status.success(), "building the vm binary ({engine}) failed");
        let profile = target.join(if release { "release" } else { "debug" });
        let bin = profile.join(format!("vm-{}", engine.replace('+', "-")));
        // Copied then renamed: a `vm` of an earlier run may still be running from `bin`.
        let tmp = profile.join(format!(".vm-{}.{}", engine.replace('+', "-"), std::process::id()));
        std::fs::copy(profile.join("vm"), &tmp).expect("copy the vm binary");
        std::fs::rename(&tmp, &bin).expect("move the vm binary into place");
        bin
    })
}

/// The smallest `vm`: vm-bin with `engine-interp,virt-host` only (no WASI, none of
/// the command line's conveniences), built in the release profile (the size figures
/// use `release-small`; the code is the same) in engine-interp's target directory,
/// whose dependencies it mostly shares, and copied to `release/vm-minimal`.
pub fn vm_bin_minimal() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let target = target_base().join("cli-tests-engine-interp");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let release = !cfg!(debug_assertions);
        let mut cmd = Command::new(cargo);
        cmd.args(["build", "-q", "-p", "vm-bin", "--bin", "vm", "--target-dir"]).arg(&target);
        cmd.args(["--no-default-features", "--features", "engine-interp,virt-host"]);
        if release {
            cmd.arg("--release");
        }
        std::fs::create_dir_all(&target).expect("create the nested target directory");
        let _lock = DirLock::new(&target.join(".vm-bin-tests.lock"));
        let status = cmd.current_dir(root()).status().expect("run cargo to build the vm binary");
        assert!(status.success(), "building the minimal vm binary failed");
        let profile = target.join(if release { "release" } else { "debug" });
        let bin = profile.join("vm-minimal");
        let tmp = profile.join(format!(".vm-minimal.{}", std::process::id()));
        std::fs::copy(profile.join("vm"), &tmp).expect("copy the vm binary");
        std::fs::rename(&tmp, &bin).expect("move the vm binary into place");
        bin
    })
}

/// An exclusive `flock` on a file, held while alive: builds into one nested target
/// directory and the copies of their binaries happen one at a time, across threads
/// and test processes.
struct DirLock(std::fs::File);

impl DirLock {
    fn new(path: &Path) -> Self {
        use std::os::fd::AsRawFd;
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .expect("open the build lock");
        // SAFETY: `flock` on a descriptor this `File` owns; it only blocks.
        let r = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) };
        assert_eq!(r, 0, "lock {}: {}", path.display(), std::io::Error::last_os_error());
        Self(file)
    }
}

impl Drop for DirLock {
    fn drop(&mut self) {
        use std::os::fd::AsRawFd;
        // SAFETY: as in `new`; closing the file would release it as well.
        unsafe { libc::flock(self.0.as_raw_fd(), libc::LOCK_UN) };
    }
}

/// The `vm` binary with vm-bin's default features plus `extra` (comma-separated), in a
/// target directory of its own named after them, built once per test run.
pub fn vm_bin_plus(extra: &'static str) -> PathBuf {
    static BINS: std::sync::Mutex<Vec<(&'static str, PathBuf)>> = std::sync::Mutex::new(Vec::new());
    let mut bins = BINS.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some((_, bin)) = bins.iter().find(|(f, _)| *f == extra) {
        return bin.clone();
    }
    let target = target_base().join(format!("cli-tests-{}", extra.replace(',', "-")));
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let release = !cfg!(debug_assertions);
    let mut cmd = Command::new(cargo);
    cmd.args(["build", "-q", "-p", "vm-bin", "--bin", "vm", "--features", extra, "--target-dir"])
        .arg(&target);
    if release {
        cmd.arg("--release");
    }
    let status = cmd.current_dir(root()).status().expect("run cargo to build the vm binary");
    assert!(status.success(), "building the vm binary (+{extra}) failed");
    let bin = target.join(if release { "release" } else { "debug" }).join("vm");
    bins.push((extra, bin.clone()));
    bin
}

/// Runs the `vm` binary `engine` (one of [`BIN_ENGINES`]) with `args` in the
/// repository root; the interpreter checks its translated code
/// (`VM_ENGINE_VERIFY=true`).
pub fn vm_with(engine: &str, args: &[&str]) -> (i32, String, String) {
    vm_in_with(engine, root(), args)
}

/// The `vm` binary `engine` as a command, with the interpreter's verification on.
pub fn vm_cmd(engine: &str) -> Command {
    let mut cmd = Command::new(vm_bin_for(engine));
    if engine == "engine-interp" {
        cmd.env("VM_ENGINE_VERIFY", "true");
    }
    cmd
}

/// Runs the `vm` binary `engine` with `args` in `dir`.
pub fn vm_in_with(engine: &str, dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = vm_cmd(engine).args(args).current_dir(dir).output();
    let out = out.expect("run vm");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs `vm` with `args`; returns (exit code, stdout, stderr).
pub fn vm(args: &[&str]) -> (i32, String, String) {
    vm_in(root(), args)
}

/// Runs `vm` with `args` in `dir`.
pub fn vm_in(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(vm_bin()).args(args).current_dir(dir).output().expect("run vm");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The `custom-vm` example (a workspace of its own under `examples/custom-vm`), built
/// once into the default `vm` binary's target directory so it reuses those plugins.
pub fn custom_vm_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let target = target_base().join("cli-tests");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let release = !cfg!(debug_assertions);
        let manifest = root().join("examples/custom-vm/Cargo.toml");
        let mut cmd = Command::new(cargo);
        cmd.args(["build", "-q", "--manifest-path"])
            .arg(&manifest)
            .arg("--target-dir")
            .arg(&target);
        if release {
            cmd.arg("--release");
        }
        let status = cmd.current_dir(root()).status().expect("run cargo to build custom-vm");
        assert!(status.success(), "building examples/custom-vm failed");
        target.join(if release { "release" } else { "debug" }).join("custom-vm")
    })
}
