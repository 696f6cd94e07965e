//! `vm wast`: spec scripts on this binary's composition.

use std::path::PathBuf;
use std::process::ExitCode;

use vm_core::Composition;

/// Runs each script, prints per-file counts and failures, then `N passed, M failed`.
pub fn run<C: Composition>(files: &[PathBuf]) -> ExitCode {
    let (mut passed, mut failed) = (0, 0);
    for f in files {
        let r = vm::wast::run_wast_file::<C>(f);
        outln!("{}: {} passed, {} failed", f.display(), r.passed, r.failed);
        for fail in &r.failures {
            outln!("  line {}: {}", fail.line, fail.reason);
        }
        passed += r.passed;
        failed += r.failed;
    }
    outln!("{passed} passed, {failed} failed");
    if failed == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}
