//! What a collector implements for one store: a [`GcHeap`] that allocates objects
//! (collecting first when it must, given the roots) and reports [`GcStats`], and the
//! settings every collector shares ([`GcConfig`]).
//!
//! Roots are precise: whoever calls [`GcHeap::alloc`] or [`GcHeap::collect`] hands
//! a [`RootSource`] that enumerates every reference slot that can reach an object
//! (frames' reference slots at the safepoint, globals, tables, exception payloads,
//! the host's handles) with the slot's representation; a moving collector rewrites
//! them in place ([`super::object::visit_ref`]).

use core::ptr::NonNull;
use std::time::Duration;

use super::object::ObjectHeader;
use super::types::TypeInfo;
use crate::runtime::offsets::RawRef;
use crate::runtime::{TrapCode, ValType};

/// Enumerates the roots of one collection.
pub trait RootSource {
    /// Calls `visit` with every root slot and its representation
    /// ([`ValType::AnyRef`] or [`ValType::ExternRef`]; other slots hold no objects).
    fn roots(&mut self, visit: &mut dyn FnMut(&mut RawRef, ValType));
}

/// No roots (a heap with no live references, or a test).
impl RootSource for () {
    fn roots(&mut self, _: &mut dyn FnMut(&mut RawRef, ValType)) {}
}

/// Roots held in an array of `(slot, representation)`.
impl<const N: usize> RootSource for [(RawRef, ValType); N] {
    fn roots(&mut self, visit: &mut dyn FnMut(&mut RawRef, ValType)) {
        for (r, t) in self.iter_mut() {
            visit(r, *t);
        }
    }
}

/// Roots held in a vector of `(slot, representation)`.
impl RootSource for Vec<(RawRef, ValType)> {
    fn roots(&mut self, visit: &mut dyn FnMut(&mut RawRef, ValType)) {
        for (r, t) in self.iter_mut() {
            visit(r, *t);
        }
    }
}

/// One store's GC heap, as a collector implements it. Engines allocate with
/// [`allocate`], which asks [`GcHeap::alloc`] and, when it declines, runs
/// [`GcHeap::collect`] with the roots of the moment and asks again.
pub trait GcHeap: Send + 'static {
    /// Allocates an object of type `ty` (an array of `len` elements, zero for a
    /// struct) of `size` bytes ([`super::object::object_size`]), header written
    /// ([`super::object::init`]) and every field zero (null); `None` when the heap
    /// wants a collection first (no room, or [`GcConfig::stress`] and no collection
    /// since the last allocation).
    fn alloc(
        &mut self,
        ty: &'static TypeInfo,
        len: u32,
        size: usize,
    ) -> Option<NonNull<ObjectHeader>>;

    /// Collects (every object not reachable from `roots` may be reclaimed; a moving
    /// collector rewrites the roots) and makes room for an allocation of `need`
    /// bytes, growing the heap within its limit; the next [`GcHeap::alloc`] of at most
    /// `need` bytes succeeds. Returns what the collection did (`None`: the heap only
    /// grew, a collector that never reclaims).
    ///
    /// # Errors
    /// [`TrapCode::OutOfGcMemory`] when the heap limit leaves no room for `need`.
    fn collect(
        &mut self,
        roots: &mut dyn RootSource,
        need: usize,
    ) -> Result<Option<Cycle>, TrapCode>;

    /// Called after a reference is stored into `obj` (only by engines whose collector
    /// says [`NEEDS_WRITE_BARRIER`](crate::slot::Collector::NEEDS_WRITE_BARRIER)).
    #[inline]
    fn write_barrier(&mut self, obj: NonNull<ObjectHeader>) {
        let _ = obj;
    }

    /// Counters so far.
    fn stats(&self) -> GcStats;
}

/// What one collection did (observers receive it as
/// [`Event::GcCycle`](crate::slot::Event::GcCycle), see [`Cycle::event`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cycle {
    /// Bytes reclaimed.
    pub reclaimed: u64,
    /// How long the collection took.
    pub pause: Duration,
}

impl Cycle {
    /// The observer event reporting this collection.
    pub fn event(&self) -> crate::slot::Event<'static> {
        crate::slot::Event::GcCycle {
            reclaimed: self.reclaimed,
            pause_nanos: u64::try_from(self.pause.as_nanos()).unwrap_or(u64::MAX),
        }
    }
}

/// Allocates an object of type `ty` (an array of `len` elements): from the heap if
/// it has room, else after a collection with `roots` (reported to `on_cycle`).
///
/// # Errors
/// [`TrapCode::OutOfGcMemory`]: the object is larger than
/// [`MAX_OBJECT_SIZE`](super::object::MAX_OBJECT_SIZE) or the heap limit leaves no
/// room for it.
pub fn allocate<H: GcHeap + ?Sized>(
    heap: &mut H,
    ty: &'static TypeInfo,
    len: u32,
    roots: &mut dyn RootSource,
    on_cycle: impl FnOnce(Cycle),
) -> Result<NonNull<ObjectHeader>, TrapCode> {
    let size = super::object::object_size(ty, len).ok_or(TrapCode::OutOfGcMemory)?;
    if let Some(obj) = heap.alloc(ty, len, size) {
        return Ok(obj);
    }
    if let Some(cycle) = heap.collect(roots, size)? {
        on_cycle(cycle);
    }
    heap.alloc(ty, len, size).ok_or(TrapCode::OutOfGcMemory)
}

/// Settings every collector reads (its plugin config holds them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GcConfig {
    /// Largest heap in bytes; an allocation beyond it (after collecting) traps with
    /// "out of memory: gc heap".
    pub limit: usize,
    /// Heap size at the start, in bytes.
    pub initial: usize,
    /// How much the heap grows when a collection leaves it fuller than half, in
    /// percent of its size.
    pub growth_percent: u32,
    /// Collect at every allocation (tests: every object that survives was rooted).
    pub stress: bool,
}

impl GcConfig {
    /// The configuration a collector reads from its `[gc]` section: byte counts
    /// saturate at the address space and round down to whole 8-byte words, and the
    /// initial size is at most the limit.
    pub fn from_section(limit: u64, initial: u64, growth_percent: u32, stress: bool) -> Self {
        let bytes = |n: u64| usize::try_from(n).unwrap_or(usize::MAX) / 8 * 8;
        Self { limit: bytes(limit), initial: bytes(initial.min(limit)), growth_percent, stress }
    }
}

impl Default for GcConfig {
    fn default() -> Self {
        Self { limit: 1 << 30, initial: 1 << 20, growth_percent: 100, stress: false }
    }
}

/// Pause times, bucketed: 4 buckets per power of two of nanoseconds (a quantile is
/// its bucket's upper bound, within 19% of the exact value), and the exact maximum.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PauseHistogram {
    buckets: Box<[u64; 256]>,
    count: u64,
    max: Duration,
}

impl Default for PauseHistogram {
    fn default() -> Self {
        Self { buckets: Box::new([0; 256]), count: 0, max: Duration::ZERO }
    }
}

impl PauseHistogram {
    fn bucket(nanos: u64) -> usize {
        if nanos < 4 {
            return nanos as usize;
        }
        let log = 63 - nanos.leading_zeros() as usize;
        let sub = (nanos >> (log - 2)) as usize & 3;
        (log * 4 + sub).min(255)
    }

    fn upper(bucket: usize) -> u64 {
        if bucket < 4 {
            return bucket as u64;
        }
        let (log, sub) = (bucket / 4, bucket as u64 % 4);
        ((4 + sub + 1) << (log - 2)) - 1
    }

    /// Records one pause.
    pub fn record(&mut self, pause: Duration) {
        let nanos = u64::try_from(pause.as_nanos()).unwrap_or(u64::MAX);
        self.buckets[Self::bucket(nanos)] += 1;
        self.count += 1;
        self.max = self.max.max(pause);
    }

    /// Pauses recorded.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The longest pause.
    pub fn max(&self) -> Duration {
        self.max
    }

    /// The pause that `q` (0..=1) of the pauses do not exceed (zero without pauses).
    pub fn quantile(&self, q: f64) -> Duration {
        if self.count == 0 {
            return Duration::ZERO;
        }
        let rank = ((self.count as f64 * q).ceil() as u64).clamp(1, self.count);
        let mut seen = 0;
        for (b, &n) in self.buckets.iter().enumerate() {
            seen += n;
            if seen >= rank {
                return Duration::from_nanos(Self::upper(b)).min(self.max);
            }
        }
        self.max
    }
}

/// A heap's counters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GcStats {
    /// Collections run.
    pub collections: u64,
    /// Bytes allocated (objects, header included).
    pub bytes_allocated: u64,
    /// Bytes reclaimed by collections.
    pub bytes_reclaimed: u64,
    /// Bytes of live and not yet reclaimed objects.
    pub live_bytes: u64,
    /// Bytes the heap holds from the system.
    pub heap_size: u64,
    /// Pause times.
    pub pauses: PauseHistogram,
}

/// The heap of a composition without a collector: it never allocates (modules using
/// GC types are rejected before they run).
#[derive(Debug, Default)]
pub struct NoHeap;

impl GcHeap for NoHeap {
    fn alloc(&mut self, _: &'static TypeInfo, _: u32, _: usize) -> Option<NonNull<ObjectHeader>> {
        None
    }

    fn collect(&mut self, _: &mut dyn RootSource, _: usize) -> Result<Option<Cycle>, TrapCode> {
        Err(TrapCode::OutOfGcMemory)
    }

    fn stats(&self) -> GcStats {
        GcStats::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_are_bucket_bounds_within_a_fifth() {
        let mut h = PauseHistogram::default();
        for us in 1..=100u64 {
            h.record(Duration::from_micros(us));
        }
        let p50 = h.quantile(0.5).as_nanos() as f64;
        let p99 = h.quantile(0.99).as_nanos() as f64;
        assert!((50_000.0..=50_000.0 * 1.2).contains(&p50), "{p50}");
        assert!((99_000.0..=100_000.0).contains(&p99), "{p99}");
        assert_eq!(h.max(), Duration::from_micros(100));
        assert_eq!(h.count(), 100);
        assert_eq!(PauseHistogram::default().quantile(0.99), Duration::ZERO);
    }
}
