//! A build without feature `new-plugin` has no `vm new-plugin`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::cli::NewSlot;

/// Says that this binary was built without `vm new-plugin`.
pub fn run(_name: &str, _slot: NewSlot, _parent: &Path, _vm_path: Option<PathBuf>) -> ExitCode {
    eprintln!("error: this `vm` was built without `vm new-plugin` (feature `new-plugin`)");
    ExitCode::from(2)
}
