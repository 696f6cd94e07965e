//! `vm wast`: spec scripts on this binary's composition.

use std::path::PathBuf;
use std::process::ExitCode;

use vm_core::Composition;

/// Runs each script with the settings of `vm run` (defaults, `vm.toml`, `VM_*`,
/// `flags`), prints per-file counts and failures, then `N passed, M failed` (and
/// `, K skipped (need gc)` when the composition has no collector and some directives
/// need one).
pub fn run<C: Composition>(flags: &[String], files: &[PathBuf]) -> ExitCode {
    let settings = match crate::run::settings::<C>(flags) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    let (mut passed, mut failed, mut skipped) = (0, 0, 0);
    for f in files {
        let r = vm::wast::run_wast_file_with::<C>(f, &settings);
        let skips = if r.skipped > 0 {
            format!(", {} skipped (need gc)", r.skipped)
        } else {
            String::new()
        };
        outln!("{}: {} passed, {} failed{skips}", f.display(), r.passed, r.failed);
        for fail in &r.failures {
            outln!("  line {}: {}", fail.line, fail.reason);
        }
        passed += r.passed;
        failed += r.failed;
        skipped += r.skipped;
    }
    let skips = if skipped > 0 { format!(", {skipped} skipped (need gc)") } else { String::new() };
    outln!("{passed} passed, {failed} failed{skips}");
    if failed == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}
