//! The `gc-copying` plugin: a precise, moving semispace collector (Cheney). Objects
//! are bump-allocated in one space; a collection copies every object reachable from
//! the roots into a fresh space, breadth first, rewriting the roots and the copied
//! objects' references, and frees the old space. Allocation is a pointer bump; a
//! collection costs the live data only.
//!
//! ```
//! use vm_core::Plugin;
//! use vm_core::runtime::gc::heap::{GcHeap, allocate};
//! use vm_core::runtime::gc::types::info;
//! use vm_core::runtime::{Features, ModuleInfo, ValType};
//! use vm_core::slot::Collector;
//! use vm_gc_copying::{Copying, CopyingConfig};
//!
//! let m = ModuleInfo::decode(b"(module (type (struct (field anyref))))", Features::ALL).unwrap();
//! let pair = info(m.type_ids[0]).unwrap();
//! let gc = Copying::new(CopyingConfig { stress: true, ..Default::default() }).unwrap();
//! let mut heap = gc.heap();
//! let kept = allocate(&mut heap, pair, 0, &mut (), |_| {}).unwrap();
//! let mut roots = [(kept.as_ptr() as u64, ValType::AnyRef)];
//! allocate(&mut heap, pair, 0, &mut roots, |_| {}).unwrap();
//! assert_ne!(roots[0].0, kept.as_ptr() as u64); // moved, and the root follows
//! ```
//!
//! | config key (`[gc]`) | default | meaning |
//! |---|---|---|
//! | `limit` | 1 GiB | largest semispace in bytes (a collection holds two at once) |
//! | `initial` | 1 MiB | first semispace in bytes |
//! | `growth` | 100 | when a collection leaves a space more than half full, the next one is this percent larger |
//! | `stress` | `false` | collect at every allocation |
//!
//! It provides `gc` and requires `roots:precise`: objects move (`MOVING = true`), so
//! every reference to one must be known to the collector, which only an engine that
//! reports exact roots can give; a composition with an engine that does not provide
//! `roots:precise` does not compile. A collection runs only at an allocation, so
//! stores need no write barrier (`NEEDS_WRITE_BARRIER = false`).

use core::ptr::NonNull;
use std::time::Instant;

use vm_core::runtime::TrapCode;
use vm_core::runtime::gc::heap::{Cycle, GcConfig, GcHeap, GcStats, RootSource};
use vm_core::runtime::gc::object::{self, ObjectHeader};
use vm_core::runtime::gc::types::TypeInfo;
use vm_core::slot::Collector;
use vm_core::{Plugin, PluginError};

/// Configuration of `gc-copying` (section `[gc]`).
#[derive(Debug, Clone, serde::Deserialize, vm_core::PluginConfig)]
#[serde(default, deny_unknown_fields)]
pub struct CopyingConfig {
    /// Largest semispace in bytes: an allocation that does not fit after collecting
    /// traps with "out of memory: gc heap".
    #[config(default = 1073741824, range = "4096..=1099511627776")]
    pub limit: u64,
    /// Size of the first semispace in bytes.
    #[config(default = 1048576, range = "4096..=1099511627776")]
    pub initial: u64,
    /// Growth of the space, in percent, after a collection that left it more than half full.
    #[config(default = 100, range = "1..=1000")]
    pub growth: u32,
    /// Collect at every allocation (tests: every object moves at every allocation).
    #[config(default = false)]
    pub stress: bool,
}

/// The semispace copying collector.
#[vm_core::plugin(id = "gc-copying", slot = gc, provides = ["gc@1.0.0"], requires = ["roots:precise ^1"])]
pub struct Copying {
    config: GcConfig,
}

impl Plugin for Copying {
    type Config = CopyingConfig;

    fn new(c: CopyingConfig) -> Result<Self, PluginError> {
        Ok(Self { config: GcConfig::from_section(c.limit, c.initial, c.growth, c.stress) })
    }
}

impl Collector for Copying {
    const PRESENT: bool = true;
    const NEEDS_WRITE_BARRIER: bool = false;
    const MOVING: bool = true;
    type Heap = CopyingHeap;

    fn heap(&self) -> CopyingHeap {
        let space = vec![0u64; self.config.initial / 8].into_boxed_slice();
        let next = space.as_ptr() as usize;
        let stats = GcStats { heap_size: (space.len() * 8) as u64, ..GcStats::default() };
        CopyingHeap {
            config: self.config,
            end: next + space.len() * 8,
            space,
            next,
            grow: false,
            just_collected: false,
            stats,
        }
    }
}

/// `ObjectHeader::gc` of an object already copied: its `ty` is the new address.
const FORWARDED: u32 = 1;

/// One store's heap: the current space, filled from `next` to `end` (addresses).
pub struct CopyingHeap {
    config: GcConfig,
    space: Box<[u64]>,
    next: usize,
    end: usize,
    /// The last collection left the space more than half full.
    grow: bool,
    /// A collection ran since the last allocation (it made room for the next).
    just_collected: bool,
    stats: GcStats,
}

// SAFETY: the heap owns its space; the addresses it keeps point into it only.
unsafe impl Send for CopyingHeap {}

/// Copies objects into a new space.
struct Copier {
    next: usize,
}

impl Copier {
    /// The new address of `obj`, copying it the first time.
    ///
    /// # Safety
    /// `obj` is an object of the old space (copied or not); the new space has room
    /// for every live object.
    unsafe fn forward(&mut self, obj: NonNull<ObjectHeader>) -> NonNull<ObjectHeader> {
        // SAFETY: the caller promises `obj` is an object of the old space, whose
        // header is intact or forwarded; the new space has room at `next`.
        unsafe {
            let h = obj.as_ptr();
            if (*h).gc == FORWARDED {
                return NonNull::new_unchecked((*h).ty as *mut ObjectHeader);
            }
            let size = object::object_size(&*(*h).ty, (*h).len).unwrap_or(0);
            let to = self.next as *mut ObjectHeader;
            core::ptr::copy_nonoverlapping(h.cast::<u8>(), to.cast::<u8>(), size);
            self.next += size;
            (*h).gc = FORWARDED;
            (*h).ty = to as *const TypeInfo;
            NonNull::new_unchecked(to)
        }
    }
}

impl GcHeap for CopyingHeap {
    #[inline]
    fn alloc(
        &mut self,
        ty: &'static TypeInfo,
        len: u32,
        size: usize,
    ) -> Option<NonNull<ObjectHeader>> {
        if self.end - self.next < size || (self.config.stress && !self.just_collected) {
            return None;
        }
        self.just_collected = false;
        let at = self.next;
        self.next += size;
        self.stats.bytes_allocated += size as u64;
        self.stats.live_bytes += size as u64;
        // SAFETY: `at..at + size` is unused, zeroed space this heap owns (8-aligned:
        // the space is `u64` words and sizes are multiples of 8).
        Some(unsafe { object::init(NonNull::new(at as *mut u8)?, ty, len) })
    }

    fn collect(
        &mut self,
        roots: &mut dyn RootSource,
        need: usize,
    ) -> Result<Option<Cycle>, TrapCode> {
        let start = Instant::now();
        let cap = self.space.len() * 8;
        let used = self.next - self.space.as_ptr() as usize;
        let grown =
            if self.grow { cap + cap / 100 * self.config.growth_percent as usize } else { cap };
        // Room for every object there is (the live ones are fewer) and the new one.
        let new_cap =
            grown.max(self.config.initial).max(used + need).min(self.config.limit.max(used));
        let new_cap = new_cap.next_multiple_of(8);
        let mut to = vec![0u64; new_cap / 8].into_boxed_slice();
        let base = to.as_mut_ptr() as usize;
        let mut copier = Copier { next: base };
        roots.roots(&mut |slot, repr| {
            // SAFETY: roots hold objects of this heap's current space.
            object::visit_ref(slot, repr, &mut |o| unsafe { copier.forward(o) })
        });
        let mut scan = base;
        while scan < copier.next {
            let obj = scan as *mut ObjectHeader;
            // SAFETY: `scan` is the start of an object copied into the new space.
            let size = unsafe { object::object_size(&*(*obj).ty, (*obj).len) }.unwrap_or(8);
            // SAFETY: `obj` is a copied object; its references point to the old space
            // and are forwarded (the new space holds all of the old space's data).
            unsafe {
                object::trace(NonNull::new_unchecked(obj), &mut |o| copier.forward(o));
            }
            scan += size;
        }
        let live = copier.next - base;
        self.space = to;
        self.next = copier.next;
        self.end = base + new_cap;
        self.grow = live * 2 > new_cap;
        let pause = start.elapsed();
        let reclaimed = (used - live) as u64;
        let s = &mut self.stats;
        s.collections += 1;
        s.bytes_reclaimed += reclaimed;
        s.live_bytes = live as u64;
        s.heap_size = new_cap as u64;
        s.pauses.record(pause);
        if self.end - self.next < need {
            return Err(TrapCode::OutOfGcMemory);
        }
        self.just_collected = true;
        Ok(Some(Cycle { reclaimed, pause }))
    }

    fn stats(&self) -> GcStats {
        self.stats.clone()
    }
}

#[cfg(test)]
mod tests;
