//! The on-disk cache of compiled modules: one artifact file per (composition,
//! module) pair, named by their hashes, in one directory.
//!
//! - Writes are atomic: an entry is written to a temporary file in the same
//!   directory and renamed into place, so a reader sees a whole entry or none, and
//!   concurrent runs compiling the same module each rename a complete file (the
//!   last one wins; both are the same code).
//! - A hit refreshes the entry's modification time; when the directory holds more
//!   than its size cap, the entries least recently written or hit are removed
//!   first. A file removed while another run reads it stays readable to that run
//!   (it holds it open or has read it whole).
//! - An entry that fails any check of [`super::decode`] is removed and the module
//!   compiled again: a damaged cache never stops a run.
//! - The directory: `$XDG_CACHE_HOME/vm`, else `$HOME/.cache/vm` ([`default_dir`]);
//!   callers may pass any other.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::{CompositionKey, hash64};

/// The default size cap: 512 MiB.
pub const DEFAULT_MAX_BYTES: u64 = 512 << 20;

/// Extension of cache entries.
const EXT: &str = "vmc";

/// `$XDG_CACHE_HOME/vm`, else `$HOME/.cache/vm`; `None` when neither variable is
/// set to an absolute path.
pub fn default_dir() -> Option<PathBuf> {
    let abs = |v: std::ffi::OsString| Some(PathBuf::from(v)).filter(|p| p.is_absolute());
    if let Some(xdg) = std::env::var_os("XDG_CACHE_HOME").and_then(abs) {
        return Some(xdg.join("vm"));
    }
    std::env::var_os("HOME").and_then(abs).map(|h| h.join(".cache").join("vm"))
}

/// What a lookup in the cache found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CacheOutcome {
    /// The module's code was loaded from the cache.
    Hit,
    /// No entry: the module was compiled and its code stored.
    Stored,
    /// An entry failed its checks: it was removed, the module compiled again and
    /// stored.
    Replaced,
    /// The module was compiled, but its code could not be stored (the directory is
    /// not writable, the engine has no ahead-of-time form).
    NotStored,
}

impl CacheOutcome {
    /// `hit`, `stored`, `replaced` or `not-stored`.
    pub const fn name(self) -> &'static str {
        match self {
            CacheOutcome::Hit => "hit",
            CacheOutcome::Stored => "stored",
            CacheOutcome::Replaced => "replaced",
            CacheOutcome::NotStored => "not-stored",
        }
    }
}

/// A cache directory with a size cap.
#[derive(Clone, Debug)]
pub struct Cache {
    dir: PathBuf,
    max_bytes: u64,
}

impl Cache {
    /// The cache in `dir` (created on the first write), holding at most `max_bytes`
    /// of entries.
    pub fn new(dir: impl Into<PathBuf>, max_bytes: u64) -> Self {
        Self { dir: dir.into(), max_bytes }
    }

    /// The cache's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file of the entry for `wasm` compiled by the composition `key`.
    pub fn entry_path(&self, key: &CompositionKey, wasm: &[u8]) -> PathBuf {
        self.dir.join(format!("{:016x}-{:016x}.{EXT}", key.hash, hash64(wasm)))
    }

    /// The entry at `path`, if there is one (its modification time is refreshed,
    /// so eviction keeps it longer).
    pub fn get(&self, path: &Path) -> Option<Vec<u8>> {
        let bytes = fs::read(path).ok()?;
        if let Ok(f) = fs::File::options().write(true).open(path) {
            let _ = f.set_modified(SystemTime::now());
        }
        Some(bytes)
    }

    /// Removes the entry at `path` (a damaged one).
    pub fn remove(&self, path: &Path) {
        let _ = fs::remove_file(path);
    }

    /// Stores `bytes` at `path` atomically, then removes the oldest entries while
    /// the directory holds more than the size cap.
    ///
    /// # Errors
    /// The directory cannot be created or written.
    pub fn put(&self, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
        fs::create_dir_all(&self.dir)?;
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let tmp = self.dir.join(format!(
            ".{name}.{}.{:x}.tmp",
            std::process::id(),
            SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_nanos())
        ));
        let written = (|| {
            let mut f = fs::File::create(&tmp)?;
            f.write_all(bytes)?;
            f.sync_data()?;
            fs::rename(&tmp, path)
        })();
        if written.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        written?;
        self.evict();
        Ok(())
    }

    /// Removes entries, oldest first, until the directory holds at most the size
    /// cap; temporary files of writes that died more than an hour ago go too.
    pub fn evict(&self) {
        let Ok(dir) = fs::read_dir(&self.dir) else { return };
        let now = SystemTime::now();
        let mut entries = Vec::new();
        let mut total = 0u64;
        for e in dir.flatten() {
            let path = e.path();
            let Ok(meta) = e.metadata() else { continue };
            let modified = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
            let name = e.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('.') && name.ends_with(".tmp") {
                if now.duration_since(modified).is_ok_and(|d| d.as_secs() > 3600) {
                    let _ = fs::remove_file(&path);
                }
                continue;
            }
            if path.extension().is_some_and(|x| x == EXT) && meta.is_file() {
                total += meta.len();
                entries.push((modified, meta.len(), path));
            }
        }
        if total <= self.max_bytes {
            return;
        }
        entries.sort_by_key(|(m, _, _)| *m);
        for (_, len, path) in entries {
            if total <= self.max_bytes {
                break;
            }
            if fs::remove_file(&path).is_ok() {
                total -= len;
            }
        }
    }
}
