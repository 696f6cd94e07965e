//! Linear memory: the [`LinearMemory`] trait a `virt` plugin implements, and the
//! store's view of a memory.

use super::error::MemoryError;
use super::offsets::VMMemoryDefinition;
use super::types::MemoryType;

/// Bytes in a WebAssembly page.
pub const PAGE_SIZE: usize = 65536;
/// Pages addressable with 32-bit addresses.
pub const MAX_PAGES: u32 = 65536;

/// A linear memory's backing storage, provided by the `virt` plugin.
pub trait LinearMemory: Send + 'static {
    /// First byte. With [`crate::slot::Virt::GUARD_PAGES`], stays fixed for the
    /// memory's life and is followed by a reservation covering every 32-bit address
    /// plus offset.
    fn base(&self) -> *mut u8;
    /// Current size in bytes (a multiple of [`PAGE_SIZE`]).
    fn byte_len(&self) -> usize;
    /// Grows to `pages` pages; new bytes are zero. The caller has checked the
    /// memory type's maximum.
    ///
    /// # Errors
    /// The backing store cannot grow (limit, address space, commit failure).
    fn grow_to(&mut self, pages: u32) -> Result<(), MemoryError>;
}

/// A memory owned by a store: its backing storage and the definition generated code
/// reads (kept in sync on growth).
#[repr(C)]
#[derive(Debug)]
pub struct MemorySlot<M> {
    /// What generated code reads; first field so a `*mut MemorySlot` is a
    /// `*mut VMMemoryDefinition`.
    pub def: VMMemoryDefinition,
    /// The memory's type (maximum enforced on growth).
    pub ty: MemoryType,
    /// The backing storage.
    pub mem: M,
}

impl<M: LinearMemory> MemorySlot<M> {
    /// Wraps a backing storage.
    pub fn new(mem: M, ty: MemoryType) -> Self {
        Self { def: VMMemoryDefinition { base: mem.base(), length: mem.byte_len() }, ty, mem }
    }

    /// Current size in pages.
    pub fn pages(&self) -> u32 {
        (self.def.length / PAGE_SIZE) as u32
    }

    /// `memory.grow`: the old size in pages, or `None` when it cannot grow.
    pub fn grow(&mut self, delta: u32) -> Option<u32> {
        let old = self.pages();
        let new = u64::from(old) + u64::from(delta);
        let max = u64::from(self.ty.max.unwrap_or(MAX_PAGES).min(MAX_PAGES));
        if new > max {
            return None;
        }
        if delta > 0 {
            self.mem.grow_to(new as u32).ok()?;
            self.def.base = self.mem.base();
            self.def.length = self.mem.byte_len();
        }
        Some(old)
    }

    /// The memory's bytes.
    pub fn data(&self) -> &[u8] {
        if self.def.length == 0 {
            return &[];
        }
        // SAFETY: `base` points to `length` committed, initialized bytes owned by
        // `self.mem` (the `LinearMemory` contract), borrowed immutably with `self`.
        unsafe { std::slice::from_raw_parts(self.def.base, self.def.length) }
    }

    /// The memory's bytes, mutably.
    pub fn data_mut(&mut self) -> &mut [u8] {
        if self.def.length == 0 {
            return &mut [];
        }
        // SAFETY: as in `data`, borrowed mutably with `self`.
        unsafe { std::slice::from_raw_parts_mut(self.def.base, self.def.length) }
    }
}
