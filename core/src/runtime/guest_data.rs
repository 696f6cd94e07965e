//! Guest data: the store-owned memory that holds every runtime structure generated
//! code reads or writes, and nothing else.
//!
//! # Why
//!
//! Native code reaches runtime structures through absolute pointers: its
//! [`VMContext`](super::VMContext), the pointer arrays and signature ids behind it,
//! funcrefs, memory and table definitions, table elements, globals, the store's
//! context and the interrupt flag (the layouts are in [`super::offsets`]). A `virt`
//! plugin that runs such code in a separate address space (a micro-VM whose page
//! tables map guest-virtual = host-virtual addresses) has to map exactly those
//! structures, and it can only map whole pages. Were they scattered across the host
//! heap, mapping their pages would expose whatever else shares them. So they live
//! here: in page-aligned anonymous mappings made for this purpose alone, whose
//! every page holds runtime structures of one store and nothing else.
//!
//! # The split
//!
//! Each chunk has one [`GuestAccess`], the protection the guest mapping should use:
//!
//! | read-only (written by the host only) | read-write (written by generated code) |
//! |---|---|
//! | `VMContext` and its arrays of memory, table, global and funcref pointers | table elements (`table.set`, `table.fill`...) |
//! | signature ids | globals (`global.set`) |
//! | `VMFuncRef`s | `VMStoreState` (fuel) |
//! | `VMMemoryDefinition`s and `VMTableDefinition`s (changed by the runtime functions `memory.grow` and `table.grow` call, only read by generated code) | |
//! | `VMStoreContext` (stack limit, runtime-function table, the host-only `store`, `plugins` and `engine` pointers) | |
//! | the interrupt flag (a page of its own, shared with [`InterruptHandle`](super::InterruptHandle)s, which may outlive the store) | |
//!
//! Host-only data stays on the ordinary heap: what a function is
//! ([`FuncKind`](super::FuncKind)), host function definitions, module metadata, a
//! table's type and limit, element segments (only runtime functions read them), the
//! store's lists of slots. A slot keeps a pointer to its guest-data part. The host
//! mapping of every chunk is read-write (the runtime writes read-only structures);
//! the protection is what the guest should get.
//!
//! Also reachable by generated code but not guest data, because they are not the
//! store's: linear memory (the `virt` plugin's own [`LinearMemory`](super::LinearMemory)),
//! machine code, and the engine's table of runtime functions that
//! `VMStoreContext::libcalls` points to (engine-owned, like the code it serves; a
//! `virt` plugin that runs code elsewhere maps or replaces both itself).
//!
//! # Lifetime
//!
//! Chunks are only added, and unmapped when the store is dropped, so addresses never
//! change while anything refers to them. Allocation bumps a pointer in the current
//! chunk of each protection; nothing is freed on its own. Table growth therefore
//! moves a table's elements to a new allocation (with room to double, so that a
//! table grown one element at a time costs amortized linear space) and leaves the
//! old one in place until the store dies: code still running with the old base
//! keeps reading valid memory. Allocations larger than a quarter of a chunk get a
//! dedicated chunk.
//!
//! # For `virt` plugins
//!
//! [`GuestData::chunks`] lists every chunk in the order they were added, with its
//! address range and protection; the list only grows. A plugin that maps guest
//! data maps `chunks()[mapped..]` before it enters guest code, and again when a
//! runtime function returns to guest code (`table.grow` may add a chunk in the
//! middle of a call). [`crate::slot::Virt::guest_data_added`] delivers the same
//! chunks as they are added (see [`Store::announce_guest_data`](super::Store::announce_guest_data)).

use std::alloc::Layout;
use std::ops::{Deref, Range};
use std::ptr::NonNull;
use std::sync::Arc;
use std::sync::atomic::AtomicU32;

/// Bytes of an ordinary chunk (allocations above a quarter of it get their own).
const CHUNK_BYTES: usize = 64 * 1024;

/// The protection the guest mapping of a chunk should have.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum GuestAccess {
    /// Written by the host only; generated code reads.
    ReadOnly,
    /// Written by generated code.
    ReadWrite,
}

/// One chunk of guest data: a page-aligned range of whole pages holding runtime
/// structures of one store only.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GuestChunk {
    /// First byte (page-aligned).
    pub start: usize,
    /// Length in bytes (a multiple of the page size).
    pub len: usize,
    /// How the guest may access it.
    pub access: GuestAccess,
}

impl GuestChunk {
    /// The chunk's address range.
    pub fn range(&self) -> Range<usize> {
        self.start..self.start + self.len
    }

    /// Whether the `len` bytes at `addr` lie inside the chunk.
    pub fn contains(&self, addr: usize, len: usize) -> bool {
        addr >= self.start && addr.checked_add(len).is_some_and(|end| end <= self.start + self.len)
    }
}

/// The host's page size.
pub fn page_size() -> usize {
    // SAFETY: `sysconf` has no preconditions.
    let n = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(n).ok().filter(|n| n.is_power_of_two()).unwrap_or(4096)
}

/// An anonymous private read-write mapping of whole pages, unmapped on drop.
#[derive(Debug)]
struct Mapping {
    ptr: NonNull<u8>,
    len: usize,
}

// SAFETY: a mapping is plain memory with no thread affinity; who may access which
// bytes is decided by the structures placed in it.
unsafe impl Send for Mapping {}
// SAFETY: as above; `Mapping` itself exposes no access to the bytes.
unsafe impl Sync for Mapping {}

impl Mapping {
    /// A zeroed mapping of at least `len` bytes (rounded up to whole pages), or
    /// `None` when the system refuses.
    fn new(len: usize) -> Option<Self> {
        let page = page_size();
        let len = len.max(1).checked_next_multiple_of(page)?;
        // SAFETY: an anonymous private mapping at an address the kernel chooses
        // touches no existing memory.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return None;
        }
        Some(Self { ptr: NonNull::new(p.cast())?, len })
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: `ptr..ptr + len` is the mapping `new` made, unmapped only here.
        unsafe {
            libc::munmap(self.ptr.as_ptr().cast(), self.len);
        }
    }
}

/// The interrupt flag generated code reads: on a page of its own, kept alive by the
/// store and by every [`InterruptHandle`](super::InterruptHandle).
#[derive(Clone, Debug)]
pub(crate) struct SharedFlag {
    map: Arc<Mapping>,
}

impl SharedFlag {
    /// A cleared flag on a new page.
    ///
    /// # Panics
    /// Aborts through [`std::alloc::handle_alloc_error`] when no page can be mapped,
    /// as a failed `Box` would.
    pub(crate) fn new() -> Self {
        let map = Mapping::new(1).unwrap_or_else(|| std::alloc::handle_alloc_error(page_layout(1)));
        Self { map: Arc::new(map) }
    }

    /// The chunk holding the flag.
    fn chunk(&self) -> GuestChunk {
        GuestChunk {
            start: self.map.ptr.as_ptr() as usize,
            len: self.map.len,
            access: GuestAccess::ReadOnly,
        }
    }
}

impl Default for SharedFlag {
    fn default() -> Self {
        Self::new()
    }
}

impl Deref for SharedFlag {
    type Target = AtomicU32;

    fn deref(&self) -> &AtomicU32 {
        // SAFETY: the page is zeroed (a valid cleared `AtomicU32`), aligned, lives as
        // long as `map`, and is only ever accessed through atomics.
        unsafe { &*self.map.ptr.as_ptr().cast::<AtomicU32>() }
    }
}

fn page_layout(len: usize) -> Layout {
    Layout::from_size_align(len.max(1), page_size()).unwrap_or(Layout::new::<u8>())
}

/// The free part of the current chunk of one protection.
#[derive(Debug, Default)]
struct Bump {
    next: usize,
    end: usize,
}

/// A store's guest data: its chunks and the bump allocators that fill them.
#[derive(Debug)]
pub struct GuestData {
    chunks: Vec<GuestChunk>,
    maps: Vec<Mapping>,
    read_only: Bump,
    read_write: Bump,
    flag: SharedFlag,
}

impl Default for GuestData {
    fn default() -> Self {
        Self::new()
    }
}

impl GuestData {
    /// Guest data with the interrupt flag's page as its first chunk.
    pub(crate) fn new() -> Self {
        let flag = SharedFlag::new();
        Self {
            chunks: vec![flag.chunk()],
            maps: Vec::new(),
            read_only: Bump::default(),
            read_write: Bump::default(),
            flag,
        }
    }

    /// Every chunk, in the order they were added (the list only grows).
    pub fn chunks(&self) -> &[GuestChunk] {
        &self.chunks
    }

    /// The chunk containing the `len` bytes at `addr`, if any.
    pub fn chunk_of(&self, addr: usize, len: usize) -> Option<&GuestChunk> {
        self.chunks.iter().find(|c| c.contains(addr, len))
    }

    /// The interrupt flag.
    pub(crate) fn flag(&self) -> &SharedFlag {
        &self.flag
    }

    /// Room for `layout` with protection `access`, zeroed, or `None` when no memory
    /// can be mapped.
    fn try_alloc_raw(&mut self, access: GuestAccess, layout: Layout) -> Option<NonNull<u8>> {
        let size = layout.size().max(1);
        if size > CHUNK_BYTES / 4 {
            let map = Mapping::new(size)?;
            let p = map.ptr;
            self.push(map, access);
            return Some(p);
        }
        let mut bump = std::mem::take(self.bump(access));
        let at = match bump.next.checked_next_multiple_of(layout.align()) {
            Some(at) if bump.next != 0 && at.checked_add(size).is_some_and(|e| e <= bump.end) => at,
            _ => {
                let Some(map) = Mapping::new(CHUNK_BYTES) else {
                    *self.bump(access) = bump;
                    return None;
                };
                let start = map.ptr.as_ptr() as usize;
                bump.end = start + map.len;
                self.push(map, access);
                start
            }
        };
        bump.next = at + size;
        *self.bump(access) = bump;
        NonNull::new(at as *mut u8)
    }

    fn bump(&mut self, access: GuestAccess) -> &mut Bump {
        match access {
            GuestAccess::ReadOnly => &mut self.read_only,
            GuestAccess::ReadWrite => &mut self.read_write,
        }
    }

    fn push(&mut self, map: Mapping, access: GuestAccess) {
        self.chunks.push(GuestChunk { start: map.ptr.as_ptr() as usize, len: map.len, access });
        self.maps.push(map);
    }

    /// Moves `value` into guest data with protection `access`; it stays at the
    /// returned address until the store is dropped and is never dropped itself.
    ///
    /// # Panics
    /// Aborts through [`std::alloc::handle_alloc_error`] when no memory can be
    /// mapped, as `Box::new` would.
    pub(crate) fn alloc<T>(&mut self, access: GuestAccess, value: T) -> NonNull<T> {
        const { assert!(!std::mem::needs_drop::<T>()) };
        let layout = Layout::new::<T>();
        let p = self
            .try_alloc_raw(access, layout)
            .unwrap_or_else(|| std::alloc::handle_alloc_error(layout))
            .cast::<T>();
        // SAFETY: `p` is fresh, aligned room for a `T` that nothing else refers to.
        unsafe { p.as_ptr().write(value) };
        p
    }

    /// `n` copies of `value` in guest data with protection `access`, or `None` when
    /// the size overflows or no memory can be mapped. The slice stays at its address
    /// until the store is dropped.
    pub(crate) fn try_alloc_slice<T: Copy>(
        &mut self,
        access: GuestAccess,
        n: usize,
        value: T,
    ) -> Option<NonNull<T>> {
        let layout = Layout::array::<T>(n).ok()?;
        let p = self.try_alloc_raw(access, layout)?.cast::<T>();
        for i in 0..n {
            // SAFETY: `p` is fresh, aligned room for `n` `T`s.
            unsafe { p.as_ptr().add(i).write(value) };
        }
        Some(p)
    }

    /// The items of `items` copied into guest data with protection `access` (see
    /// [`GuestData::alloc`]); a dangling aligned pointer when `items` is empty.
    ///
    /// # Panics
    /// Aborts through [`std::alloc::handle_alloc_error`] when no memory can be mapped.
    pub(crate) fn alloc_copy<T: Copy>(&mut self, access: GuestAccess, items: &[T]) -> NonNull<T> {
        if items.is_empty() {
            return NonNull::dangling();
        }
        let layout = Layout::array::<T>(items.len()).unwrap_or(Layout::new::<T>());
        let p = self
            .try_alloc_raw(access, layout)
            .unwrap_or_else(|| std::alloc::handle_alloc_error(layout))
            .cast::<T>();
        // SAFETY: `p` is fresh room for `items.len()` `T`s, disjoint from `items`.
        unsafe { std::ptr::copy_nonoverlapping(items.as_ptr(), p.as_ptr(), items.len()) };
        p
    }
}

#[cfg(test)]
mod tests;
