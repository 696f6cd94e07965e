//! `vm new-plugin` writes a crate that builds and passes its own test, for each slot.

use std::process::Command;

use crate::support::{target_base, vm};

#[test]
fn generated_plugin_crates_build_and_pass_their_tests() {
    let dir = std::env::temp_dir().join(format!("vm-new-plugin-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let dir_arg = dir.display().to_string();
    for (name, slot) in
        [("acme-vowels", "host"), ("acme-watch", "observer"), ("acme-extra", "extra")]
    {
        let (code, out, err) = vm(&["new-plugin", name, "--slot", slot, "--dir", &dir_arg]);
        assert_eq!(code, 0, "{err}");
        assert!(out.contains(&format!("created plugin crate `{name}`")), "{out}");
        let readme = std::fs::read_to_string(dir.join(name).join("README.md")).unwrap();
        assert!(readme.contains(&format!("{}::", name.replace('-', "_"))), "{readme}");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let status = Command::new(cargo)
            .args(["test", "-q", "--manifest-path"])
            .arg(dir.join(name).join("Cargo.toml"))
            .arg("--target-dir")
            .arg(target_base().join("new-plugin-tests"))
            .status()
            .expect("run cargo test on the generated crate");
        assert!(status.success(), "the generated {slot} crate `{name}` fails its test");
    }
    let (code, _, err) = vm(&["new-plugin", "acme-vowels", "--slot", "host", "--dir", &dir_arg]);
    assert_ne!(code, 0);
    assert!(err.contains("already exists"), "{err}");
    let (code, _, err) = vm(&["new-plugin", "Bad_Name", "--slot", "host", "--dir", &dir_arg]);
    assert_ne!(code, 0);
    assert!(err.contains("kebab-case"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}
