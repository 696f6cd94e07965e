//! The smallest `vm` (engine-interp + virt-host, none of the command line's optional
//! features): it runs binary modules, and every part it was built without is a clear
//! error that names the feature.

use std::path::Path;
use std::process::Command;

use crate::support::vm_bin_minimal;

/// `add(i32, i32) -> i32` and `boom()` (unreachable), as a binary module.
const MODULE: &[u8] = &[
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
    0x01, 0x0a, 0x02, 0x60, 0x02, 0x7f, 0x7f, 0x01, 0x7f, 0x60, 0x00, 0x00, // types
    0x03, 0x03, 0x02, 0x00, 0x01, // functions
    0x07, 0x0e, 0x02, 0x03, b'a', b'd', b'd', 0x00, 0x00, 0x04, b'b', b'o', b'o', b'm', 0x00,
    0x01, // exports
    0x0a, 0x0d, 0x02, 0x07, 0x00, 0x20, 0x00, 0x20, 0x01, 0x6a, 0x0b, 0x03, 0x00, 0x00,
    0x0b, // code
];

/// Runs the minimal `vm` in `dir` with `args`: (status, stdout, stderr).
fn run_in(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(vm_bin_minimal())
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run the minimal vm");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A fresh directory with the module as `m.wasm`.
fn workdir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("vm-minimal-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create the test directory");
    std::fs::write(dir.join("m.wasm"), MODULE).expect("write the module");
    dir
}

#[test]
fn runs_a_binary_module() {
    let dir = workdir("run");
    let (code, out, err) = run_in(&dir, &["run", "--invoke", "add", "m.wasm", "40", "2"]);
    assert_eq!((code, out.trim()), (0, "42"), "{err}");
    // Options in both spellings, and the text stats.
    let (code, out, err) =
        run_in(&dir, &["run", "--stats", "-Cengine.fuel=1000", "--invoke=add", "m.wasm", "1", "2"]);
    assert_eq!((code, out.trim()), (0, "3"), "{err}");
    assert!(err.contains("engine-interp:") && err.contains("fuel_consumed="), "{err}");
    let (code, _, err) = run_in(&dir, &["run", "--invoke", "boom", "m.wasm"]);
    assert_eq!(code, 134, "a trap exits as an abort would: {err}");
    assert!(err.contains("unreachable"), "{err}");
    // Without guard pages: the same results, through explicit bounds checks.
    let small = "-Cvirt.memory_reservation=65536";
    let (code, out, err) = run_in(&dir, &["run", small, "--invoke", "add", "m.wasm", "40", "2"]);
    assert_eq!((code, out.trim()), (0, "42"), "{err}");
    let (code, out, err) = run_in(&dir, &["info"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("(features: engine-interp, virt-host)"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn what_it_was_built_without_is_an_error_naming_the_feature() {
    let dir = workdir("without");
    std::fs::write(dir.join("m.wat"), "(module)").unwrap();
    let (code, _, err) = run_in(&dir, &["run", "m.wat"]);
    assert_eq!(code, 1);
    assert!(err.contains("no text format") && err.contains("feature `wat`"), "{err}");
    let (code, out, err) =
        run_in(&dir, &["run", "-Cengine.verify=true", "--invoke", "add", "m.wasm", "1", "2"]);
    assert_eq!((code, out.as_str()), (1, ""), "{err}");
    assert!(err.contains("feature `verify`"), "{err}");
    let (code, _, err) = run_in(&dir, &["wast", "x.wast"]);
    assert_eq!(code, 2);
    assert!(err.contains("feature `wast`"), "{err}");
    let (code, out, err) = run_in(&dir, &["plugins", "--json"]);
    assert_eq!((code, out.as_str()), (2, ""));
    assert!(err.contains("feature `json`"), "{err}");
    // Refused before the guest runs.
    let (code, out, err) =
        run_in(&dir, &["run", "--stats=json", "--invoke", "add", "m.wasm", "1", "2"]);
    assert_eq!((code, out.as_str()), (1, ""), "{err}");
    assert!(err.contains("feature `json`"), "{err}");
    let (code, _, err) = run_in(&dir, &["new-plugin", "x", "--slot", "host"]);
    assert_eq!(code, 2);
    assert!(err.contains("feature `new-plugin`"), "{err}");
    // A config file that is there is never silently ignored.
    std::fs::write(dir.join("vm.toml"), "[engine]\nfuel = 5\n").unwrap();
    let (code, _, err) = run_in(&dir, &["run", "--invoke", "add", "m.wasm", "1", "2"]);
    assert_eq!(code, 1);
    assert!(err.contains("feature `config-file`"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_command_lines_are_usage_errors() {
    let dir = workdir("usage");
    for args in [
        &[][..],
        &["run"],
        &["run", "--bogus", "m.wasm"],
        &["run", "--invoke"],
        &["run", "--stats=xml", "m.wasm"],
        &["frobnicate"],
        &["info", "--verbose"],
        &["new-plugin", "--slot", "host"],
    ] {
        let (code, _, err) = run_in(&dir, args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.starts_with("error: ") && err.contains("Usage: vm"), "{args:?}: {err}");
    }
    let (code, out, _) = run_in(&dir, &["--help"]);
    assert_eq!(code, 0);
    assert!(out.contains("Usage: vm") && out.contains("built without feature `clap`"), "{out}");
    let (code, out, _) = run_in(&dir, &["--version"]);
    assert_eq!((code, out.trim()), (0, concat!("vm ", env!("CARGO_PKG_VERSION"))));
    // A module that is neither binary nor readable.
    std::fs::write(dir.join("junk.wasm"), b"\0asm\x01\0\0\0\x05").unwrap();
    let (code, _, err) = run_in(&dir, &["run", "junk.wasm"]);
    assert_eq!(code, 1);
    assert!(err.starts_with("error: junk.wasm: "), "{err}");
    let (code, _, err) = run_in(&dir, &["run", "missing.wasm"]);
    assert_eq!(code, 1);
    assert!(err.contains("cannot read missing.wasm"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
