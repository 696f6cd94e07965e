//! The wasm-3.0 spec scripts of tail calls and typed function references that need
//! no other proposal pass on every engine compiled into the build (`virt-kvm`
//! compositions included). Scripts that also need GC or exceptions (`ref_null`,
//! `type-equivalence`, `global`, `elem`, `data`, `imports`) are left to the runner
//! of the whole wasm-3.0 folder.

use crate::engines::ENGINES;
use crate::support::shared;

/// Scripts that pass in full with tail calls and function references.
const FILES: &[&str] = &[
    "return_call",
    "return_call_indirect",
    "return_call_ref",
    "call_ref",
    "ref_as_non_null",
    "br_on_null",
    "br_on_non_null",
    "local_init",
    "ref",
    "ref_is_null",
    "ref_func",
    "select",
    "table",
    "table-sub",
    "unreached-valid",
    "linking",
    "br_table",
    "func",
    "type",
];

#[test]
fn tail_call_and_function_reference_scripts_pass_everywhere() {
    let Some(dir) = shared("spec-testsuite/wasm-3.0") else { return };
    let mut problems = Vec::new();
    for engine in ENGINES.iter().filter(|e| e.should_run()) {
        for f in FILES {
            let r = (engine.wast)(&dir.join(format!("{f}.wast")));
            println!("{:<28} {f:<24} {:>5} passed {:>3} failed", engine.id, r.passed, r.failed);
            if r.passed == 0 {
                problems.push(format!("{} {f}: nothing passed", engine.id));
            }
            for fail in r.failures.iter().take(3) {
                problems.push(format!("{} {f}:{}: {}", engine.id, fail.line, fail.reason));
            }
        }
    }
    assert!(problems.is_empty(), "wasm-3.0 failures:\n{}", problems.join("\n"));
}
