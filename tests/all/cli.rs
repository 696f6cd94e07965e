//! The `vm` command: listings, composition, config.

use crate::support::vm;

/// The plugins vm-bin's default features select.
const DEFAULT_PLUGINS: &[&str] = &["engine-cranelift", "virt-host", "host-wasi", "simd-sse41"];

#[test]
fn plugins_json_lists_every_enabled_plugin() {
    let (code, out, err) = vm(&["plugins", "--json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
    let ids: Vec<&str> = v.as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap()).collect();
    for id in DEFAULT_PLUGINS {
        assert!(ids.contains(id), "{id} missing from {ids:?}");
    }
    for p in v.as_array().unwrap() {
        assert!(p["slot"].is_string() && p["version"].is_string() && p["provides"].is_array());
        assert!(p["requires"].is_array() && p["config"].is_array());
    }
}

#[test]
fn info_shows_slots_and_init_order() {
    let (code, out, err) = vm(&["info"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("engine    engine-cranelift"), "{out}");
    assert!(out.contains("virt      virt-host"), "{out}");
    let order = out.lines().find(|l| l.starts_with("init order:")).expect("init order line");
    let pos = |id| order.find(id).unwrap_or_else(|| panic!("{id} not in {order}"));
    assert!(pos("virt-host") < pos("engine-cranelift"), "{order}");
    // The proposals beyond 2.0 this composition accepts (decided by its plugins).
    let wasm = out.lines().find(|l| l.starts_with("wasm: 2.0")).expect("wasm line");
    assert!(wasm.contains("simd") && wasm.contains("relaxed-simd"), "{wasm}");
    assert!(!wasm.contains("gc"), "no collector is composed: {wasm}");
    let (code, out, _) = vm(&["info", "--json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
    let proposals = v["proposals"].as_array().expect("proposals");
    assert!(proposals.iter().any(|p| p == "extended-const"), "{proposals:?}");
}

#[test]
fn config_lists_keys_with_types_and_defaults() {
    let (code, out, err) = vm(&["config"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("[engine]") && out.contains("[virt]") && out.contains("[host-wasi]"),
        "{out}"
    );
    let (code, out, _) = vm(&["config", "--json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
    assert!(v.as_array().unwrap().iter().any(|s| s["section"] == "engine"));
}

#[test]
fn bad_flag_is_a_clear_error() {
    let (code, _, err) = vm(&["plugins", "--frobnicate"]);
    assert_ne!(code, 0);
    assert!(err.contains("--frobnicate"), "{err}");
}

/// `vm info | head -0`: a reader that is gone is not a crash.
#[test]
fn closed_stdout_is_not_a_panic() {
    use std::os::fd::{FromRawFd, OwnedFd};
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors `pipe` writes.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: both descriptors were just created and are owned here alone.
    let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    drop(read);
    for args in [&["info"][..], &["plugins"], &["config"]] {
        let out = std::process::Command::new(crate::support::vm_bin())
            .args(args)
            .stdout(write.try_clone().unwrap())
            .output()
            .expect("run vm");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "vm {args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "vm {args:?}: {stderr}");
    }
}
