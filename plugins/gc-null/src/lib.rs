//! The `gc-null` plugin: a collector that never collects. Objects are bump-allocated
//! in chunks taken from the system as the heap fills, and never freed; when the heap
//! limit leaves no room, allocation traps with "out of memory: gc heap". For
//! short-lived programs and as the baseline the real collectors are measured against.
//!
//! ```
//! use vm_core::Plugin;
//! use vm_core::runtime::gc::heap::allocate;
//! use vm_core::runtime::gc::types::info;
//! use vm_core::runtime::{Features, ModuleInfo, TrapCode};
//! use vm_core::slot::Collector;
//! use vm_gc_null::{GcNull, NullConfig};
//!
//! let m = ModuleInfo::decode(b"(module (type (array i8)))", Features::ALL).unwrap();
//! let bytes = info(m.type_ids[0]).unwrap();
//! let gc = GcNull::new(NullConfig { limit: 1 << 16, initial: 1 << 12, ..Default::default() }).unwrap();
//! let mut heap = gc.heap();
//! assert!(allocate(&mut heap, bytes, 40_000, &mut (), |_| {}).is_ok());
//! assert_eq!(allocate(&mut heap, bytes, 40_000, &mut (), |_| {}), Err(TrapCode::OutOfGcMemory));
//! ```
//!
//! | config key (`[gc]`) | default | meaning |
//! |---|---|---|
//! | `limit` | 1 GiB | largest heap in bytes |
//! | `initial` | 1 MiB | first chunk in bytes |
//! | `growth` | 100 | each new chunk's size in percent of the heap so far |
//!
//! It provides `gc` and requires nothing: no write barrier (`NEEDS_WRITE_BARRIER =
//! false`), objects never move (`MOVING = false`), and it never asks for roots.

use core::ptr::NonNull;

use vm_core::runtime::TrapCode;
use vm_core::runtime::gc::heap::{Cycle, GcConfig, GcHeap, GcStats, RootSource};
use vm_core::runtime::gc::object::{ObjectHeader, init};
use vm_core::runtime::gc::types::TypeInfo;
use vm_core::slot::Collector;
use vm_core::{Plugin, PluginError};

/// Configuration of `gc-null` (section `[gc]`).
#[derive(Debug, Clone, serde::Deserialize, vm_core::PluginConfig)]
#[serde(default, deny_unknown_fields)]
pub struct NullConfig {
    /// Largest heap in bytes: an allocation beyond it traps with "out of memory: gc heap".
    #[config(default = 1073741824, range = "4096..=1099511627776")]
    pub limit: u64,
    /// Size of the first chunk in bytes.
    #[config(default = 1048576, range = "4096..=1099511627776")]
    pub initial: u64,
    /// Size of each further chunk, in percent of the heap so far.
    #[config(default = 100, range = "1..=1000")]
    pub growth: u32,
}

/// The null collector.
#[vm_core::plugin(id = "gc-null", slot = gc, provides = ["gc@1.0.0"])]
pub struct GcNull {
    config: GcConfig,
}

impl Plugin for GcNull {
    type Config = NullConfig;

    fn new(c: NullConfig) -> Result<Self, PluginError> {
        Ok(Self { config: GcConfig::from_section(c.limit, c.initial, c.growth, false) })
    }
}

impl Collector for GcNull {
    const PRESENT: bool = true;
    const NEEDS_WRITE_BARRIER: bool = false;
    const MOVING: bool = false;
    type Heap = NullHeap;

    fn heap(&self) -> NullHeap {
        NullHeap {
            config: self.config,
            chunks: Vec::new(),
            next: 0,
            end: 0,
            stats: GcStats::default(),
        }
    }
}

/// One store's heap: chunks of 8-byte words, the current one filled from `next` to
/// `end` (addresses).
pub struct NullHeap {
    config: GcConfig,
    chunks: Vec<Box<[u64]>>,
    next: usize,
    end: usize,
    stats: GcStats,
}

// SAFETY: the heap owns its chunks; the addresses it keeps point into them only.
unsafe impl Send for NullHeap {}

impl GcHeap for NullHeap {
    #[inline]
    fn alloc(
        &mut self,
        ty: &'static TypeInfo,
        len: u32,
        size: usize,
    ) -> Option<NonNull<ObjectHeader>> {
        if self.end - self.next < size {
            return None;
        }
        let at = self.next;
        self.next += size;
        self.stats.bytes_allocated += size as u64;
        self.stats.live_bytes += size as u64;
        // SAFETY: `at..at + size` is unused, zeroed space of a chunk this heap owns
        // (8-byte aligned: chunks are `u64` words and sizes multiples of 8).
        Some(unsafe { init(NonNull::new(at as *mut u8)?, ty, len) })
    }

    fn collect(&mut self, _: &mut dyn RootSource, need: usize) -> Result<Option<Cycle>, TrapCode> {
        let have = self.stats.heap_size as usize;
        let room = self.config.limit.saturating_sub(have);
        if need > room {
            return Err(TrapCode::OutOfGcMemory);
        }
        let want = if self.chunks.is_empty() {
            self.config.initial
        } else {
            have / 100 * self.config.growth_percent as usize
        };
        let chunk = want.max(need).min(room).next_multiple_of(8);
        let mut words = vec![0u64; chunk / 8].into_boxed_slice();
        self.next = words.as_mut_ptr() as usize;
        self.end = self.next + chunk;
        self.chunks.push(words);
        self.stats.heap_size += chunk as u64;
        Ok(None)
    }

    fn stats(&self) -> GcStats {
        self.stats.clone()
    }
}

#[cfg(test)]
mod tests;
