//! The `gc-mark-sweep` plugin: a precise, non-moving collector. Each object is its
//! own allocation from the system allocator; a collection marks every object
//! reachable from the roots the engine hands it (an explicit work list, no recursion)
//! and frees the others. The heap collects when the bytes of its objects would pass
//! a threshold, which after each collection is the live bytes plus `growth` percent
//! (at least `initial`, at most `limit`).
//!
//! ```
//! use vm_core::Plugin;
//! use vm_core::runtime::gc::heap::{GcHeap, allocate};
//! use vm_core::runtime::gc::types::info;
//! use vm_core::runtime::{Features, ModuleInfo, ValType};
//! use vm_core::slot::Collector;
//! use vm_gc_mark_sweep::{MarkSweep, MarkSweepConfig};
//!
//! let m = ModuleInfo::decode(b"(module (type (struct (field anyref))))", Features::ALL).unwrap();
//! let pair = info(m.type_ids[0]).unwrap();
//! let gc = MarkSweep::new(MarkSweepConfig { stress: true, ..Default::default() }).unwrap();
//! let mut heap = gc.heap();
//! let kept = allocate(&mut heap, pair, 0, &mut (), |_| {}).unwrap(); // collects nothing
//! let mut roots = [(kept.as_ptr() as u64, ValType::AnyRef)];
//! allocate(&mut heap, pair, 0, &mut roots, |_| {}).unwrap(); // garbage at once
//! allocate(&mut heap, pair, 0, &mut roots, |_| {}).unwrap(); // collects it
//! assert_eq!(heap.stats().collections, 3);
//! assert_eq!(heap.stats().live_bytes, 2 * 24);
//! ```
//!
//! | config key (`[gc]`) | default | meaning |
//! |---|---|---|
//! | `limit` | 1 GiB | most bytes of objects at once |
//! | `initial` | 1 MiB | bytes allocated before the first collection |
//! | `growth` | 100 | threshold after a collection: live bytes plus this percent |
//! | `stress` | `false` | collect at every allocation |
//!
//! It provides `gc`; objects never move (`MOVING = false`) and a collection runs
//! only at an allocation, so stores need no write barrier (`NEEDS_WRITE_BARRIER =
//! false`).

use core::ptr::NonNull;
use std::alloc::Layout;
use std::time::Instant;

use vm_core::runtime::TrapCode;
use vm_core::runtime::gc::heap::{Cycle, GcConfig, GcHeap, GcStats, RootSource};
use vm_core::runtime::gc::object::{self, ObjectHeader};
use vm_core::runtime::gc::types::TypeInfo;
use vm_core::slot::Collector;
use vm_core::{Plugin, PluginError};

/// Configuration of `gc-mark-sweep` (section `[gc]`).
#[derive(Debug, Clone, serde::Deserialize, vm_core::PluginConfig)]
#[serde(default, deny_unknown_fields)]
pub struct MarkSweepConfig {
    /// Most bytes of objects at once: an allocation beyond it after collecting traps
    /// with "out of memory: gc heap".
    #[config(default = 1073741824, range = "4096..=1099511627776")]
    pub limit: u64,
    /// Bytes allocated before the first collection.
    #[config(default = 1048576, range = "0..=1099511627776")]
    pub initial: u64,
    /// After a collection, the next one comes when the live bytes grew by this percent.
    #[config(default = 100, range = "1..=1000")]
    pub growth: u32,
    /// Collect at every allocation (tests: only rooted objects survive).
    #[config(default = false)]
    pub stress: bool,
}

/// The mark-and-sweep collector.
#[vm_core::plugin(id = "gc-mark-sweep", slot = gc, provides = ["gc@1.0.0"])]
pub struct MarkSweep {
    config: GcConfig,
}

impl Plugin for MarkSweep {
    type Config = MarkSweepConfig;

    fn new(c: MarkSweepConfig) -> Result<Self, PluginError> {
        Ok(Self { config: GcConfig::from_section(c.limit, c.initial, c.growth, c.stress) })
    }
}

impl Collector for MarkSweep {
    const PRESENT: bool = true;
    const NEEDS_WRITE_BARRIER: bool = false;
    const MOVING: bool = false;
    type Heap = MarkSweepHeap;

    fn heap(&self) -> MarkSweepHeap {
        MarkSweepHeap {
            config: self.config,
            objects: Vec::new(),
            threshold: self.config.initial,
            just_collected: false,
            work: Vec::new(),
            stats: GcStats::default(),
        }
    }
}

/// `ObjectHeader::gc` of an object marked live in the collection in progress.
const MARKED: u32 = 1;

/// One store's heap: every object and its size.
pub struct MarkSweepHeap {
    config: GcConfig,
    objects: Vec<(NonNull<ObjectHeader>, usize)>,
    /// Live bytes at which the next collection comes.
    threshold: usize,
    /// A collection ran since the last allocation (it reserved room for the next).
    just_collected: bool,
    /// The mark phase's work list (kept for its capacity).
    work: Vec<NonNull<ObjectHeader>>,
    stats: GcStats,
}

// SAFETY: the heap owns its objects; nothing else frees them.
unsafe impl Send for MarkSweepHeap {}

/// Marks `obj` and queues it for tracing the first time it is reached.
fn grey(
    obj: NonNull<ObjectHeader>,
    work: &mut Vec<NonNull<ObjectHeader>>,
) -> NonNull<ObjectHeader> {
    // SAFETY: every object reachable from the roots is one of this heap's, live (none
    // is swept before the mark ends).
    let h = unsafe { &mut *obj.as_ptr() };
    if h.gc != MARKED {
        h.gc = MARKED;
        work.push(obj);
    }
    obj
}

fn layout(size: usize) -> Option<Layout> {
    Layout::from_size_align(size, 8).ok()
}

impl MarkSweepHeap {
    fn mark(&mut self, roots: &mut dyn RootSource) {
        let work = &mut self.work;
        roots.roots(&mut |slot, repr| object::visit_ref(slot, repr, &mut |o| grey(o, work)));
        while let Some(obj) = work.pop() {
            // SAFETY: `obj` is live (marked) and `grey` returns its argument.
            unsafe { object::trace(obj, &mut |o| grey(o, work)) };
        }
    }

    fn sweep(&mut self) -> u64 {
        let mut reclaimed = 0;
        self.objects.retain(|&(obj, size)| {
            // SAFETY: every listed object is live until freed here.
            let h = unsafe { &mut *obj.as_ptr() };
            if h.gc == MARKED {
                h.gc = 0;
                return true;
            }
            reclaimed += size as u64;
            if let Some(l) = layout(size) {
                // SAFETY: allocated in `alloc` with this layout, unreachable (unmarked).
                unsafe { std::alloc::dealloc(obj.as_ptr().cast(), l) };
            }
            false
        });
        reclaimed
    }
}

impl GcHeap for MarkSweepHeap {
    fn alloc(
        &mut self,
        ty: &'static TypeInfo,
        len: u32,
        size: usize,
    ) -> Option<NonNull<ObjectHeader>> {
        let live = self.stats.live_bytes as usize;
        if !self.just_collected && (self.config.stress || live + size > self.threshold) {
            return None;
        }
        if live + size > self.config.limit {
            return None;
        }
        self.just_collected = false;
        let l = layout(size)?;
        // SAFETY: `l` has a nonzero size (every object has a header).
        let at = NonNull::new(unsafe { std::alloc::alloc_zeroed(l) })?;
        // SAFETY: `at` is a fresh, zeroed, 8-aligned block of `size` bytes.
        let obj = unsafe { object::init(at, ty, len) };
        self.objects.push((obj, size));
        self.stats.bytes_allocated += size as u64;
        self.stats.live_bytes += size as u64;
        self.stats.heap_size = self.stats.live_bytes;
        Some(obj)
    }

    fn collect(
        &mut self,
        roots: &mut dyn RootSource,
        need: usize,
    ) -> Result<Option<Cycle>, TrapCode> {
        let start = Instant::now();
        self.mark(roots);
        let reclaimed = self.sweep();
        let pause = start.elapsed();
        let s = &mut self.stats;
        s.collections += 1;
        s.bytes_reclaimed += reclaimed;
        s.live_bytes -= reclaimed;
        s.heap_size = s.live_bytes;
        s.pauses.record(pause);
        let live = s.live_bytes as usize;
        let grown = live + live / 100 * self.config.growth_percent as usize;
        self.threshold = grown.max(self.config.initial).min(self.config.limit);
        if live + need > self.config.limit {
            return Err(TrapCode::OutOfGcMemory);
        }
        self.just_collected = true;
        Ok(Some(Cycle { reclaimed, pause }))
    }

    fn stats(&self) -> GcStats {
        self.stats.clone()
    }
}

impl Drop for MarkSweepHeap {
    fn drop(&mut self) {
        for &(obj, size) in &self.objects {
            if let Some(l) = layout(size) {
                // SAFETY: allocated in `alloc` with this layout; the store (and every
                // reference into this heap) is gone.
                unsafe { std::alloc::dealloc(obj.as_ptr().cast(), l) };
            }
        }
    }
}

#[cfg(test)]
mod tests;
