//! `/tmp/perf-<pid>.map`: the file perf reads to name code it finds no symbols for,
//! one `START SIZE name` line per function (hexadecimal, no `0x`).

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::sync::{Mutex, PoisonError};

use vm_core::runtime::ModuleInfo;
use vm_core::slot::CodeRange;

/// The open map of this process: created (truncated, since a stale file of an earlier
/// process with the same pid may exist) on first use, appended to afterwards.
static MAP: Mutex<Option<File>> = Mutex::new(None);

/// The perf map of this process: `/tmp/perf-<pid>.map` (perf looks there, whatever
/// `TMPDIR` says).
pub fn perf_map_path() -> PathBuf {
    PathBuf::from(format!("/tmp/perf-{}.map", std::process::id()))
}

/// The symbol perf shows for function `func` of `module`: `wasm::<function>`, or
/// `wasm::<module>::<function>` when the name section names the module.
pub fn symbol(module: &ModuleInfo, func: u32) -> String {
    let label = module.func_label(func);
    match &module.name {
        Some(m) => format!("wasm::{m}::{label}"),
        None => format!("wasm::{label}"),
    }
}

/// Appends a line per function of `functions`; returns how many were written.
///
/// # Errors
/// The file could not be created or written.
pub(crate) fn append(module: &ModuleInfo, functions: &[CodeRange]) -> io::Result<usize> {
    let mut text = String::new();
    for f in functions {
        // perf's parser stops a name at the line's end only: spaces inside are fine,
        // a newline (possible in a name section) is not.
        let name = symbol(module, f.func).replace(['\n', '\r'], " ");
        text += &format!("{:x} {:x} {name}\n", f.addr, f.len);
    }
    let mut map = MAP.lock().unwrap_or_else(PoisonError::into_inner);
    if map.is_none() {
        let file =
            OpenOptions::new().create(true).write(true).truncate(true).open(perf_map_path())?;
        *map = Some(file);
    }
    if let Some(file) = map.as_mut() {
        let mut w = BufWriter::new(file);
        w.write_all(text.as_bytes())?;
        w.flush()?;
    }
    Ok(functions.len())
}
