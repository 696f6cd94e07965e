//! The worked example: a plugin crate outside the workspace (`acme-env`: an `env` host
//! module and an observer), composed into a custom binary that has the whole `vm`
//! command line through `vm_cli`. Built and run for real.

use std::process::Command;

use crate::support::{custom_vm_bin, root};

fn custom_vm(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(custom_vm_bin()).args(args).current_dir(root()).output();
    let out = out.expect("run custom-vm");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn custom_binary_runs_its_own_host_module_with_the_full_cli() {
    let (code, out, err) =
        custom_vm(&["run", "--stats", "-C", "acme-env.prefix=> ", "examples/custom-vm/guest.wat"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "> hello from the guest\n> the clock runs\n", "{err}");
    // The observer counted one export called from the host and three wasm calls.
    let counter = err.lines().find(|l| l.starts_with("acme-calls:")).expect("stats line");
    assert!(counter.contains("host_calls=1") && counter.contains("wasm_calls=3"), "{err}");
    assert!(err.lines().any(|l| l.starts_with("acme-env: running")), "{err}");

    let (code, info, _) = custom_vm(&["info"]);
    assert_eq!(code, 0);
    assert!(info.contains("acme-env 0.3.0") && info.contains("acme-calls 0.3.0"), "{info}");
    let (code, config, _) = custom_vm(&["config"]);
    assert_eq!(code, 0);
    assert!(config.contains("[acme-env]") && config.contains("prefix : string"), "{config}");
    let (code, _, err) =
        custom_vm(&["run", "-C", "acme-env.prefx=x", "examples/custom-vm/guest.wat"]);
    assert_ne!(code, 0);
    assert!(err.contains("did you mean `prefix`"), "{err}");
}
