//! A build without feature `wast` has no `vm wast`.

use std::path::PathBuf;
use std::process::ExitCode;

use vm_core::Composition;

/// Says that this binary was built without `vm wast`.
// The signature of the enabled module's function, which reads the composition.
#[allow(clippy::extra_unused_type_parameters)]
pub fn run<C: Composition>(_flags: &[String], _files: &[PathBuf]) -> ExitCode {
    eprintln!("error: this `vm` was built without `vm wast` (feature `wast`)");
    ExitCode::from(2)
}
