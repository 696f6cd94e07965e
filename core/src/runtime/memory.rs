//! Linear memory: the [`LinearMemory`] trait a `virt` plugin implements, and the
//! store's view of a memory.

use std::ptr::NonNull;

use super::error::MemoryError;
use super::guest_data::{GuestAccess, GuestData};
use super::offsets::VMMemoryDefinition;
use super::types::MemoryType;

/// Bytes in a WebAssembly page.
pub const PAGE_SIZE: usize = 65536;
/// Pages addressable with 32-bit addresses.
pub const MAX_PAGES: u32 = 65536;
/// The most pages a 64-bit memory (memory64) may have here: one page less than 4 GiB,
/// so that every engine can lower an `i64` address by clamping it
/// ([`clamp_index64`]) and then run the 32-bit access path, checks and guard pages
/// unchanged.
pub const MAX_PAGES64: u32 = MAX_PAGES - 1;

/// The lowering of a memory64 or table64 operand (address, length, table index):
/// values above `u32::MAX` become `u32::MAX`. Exact because no 64-bit memory
/// reaches `u32::MAX` bytes ([`MAX_PAGES64`]) and no table `u32::MAX` elements: an
/// operand that large is out of bounds before and after the clamp, with any
/// offset, length or access size; smaller operands are unchanged. A `grow` delta
/// that large fails before and after the clamp too.
#[inline(always)]
pub const fn clamp_index64(x: u64) -> u32 {
    if x > u32::MAX as u64 { u32::MAX } else { x as u32 }
}

/// A linear memory's backing storage, provided by the `virt` plugin.
pub trait LinearMemory: Send + 'static {
    /// First byte. With guard pages ([`crate::slot::Virt::guard_pages`]), stays
    /// fixed for the memory's life and is followed by a reservation covering every
    /// 32-bit address plus offset; without, it may change when the memory grows.
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
/// reads (in the store's read-only [guest data](super::guest_data), kept in sync on
/// growth).
#[derive(Debug)]
pub struct MemorySlot<M> {
    /// What generated code reads (owned by this slot, alive as long as the store).
    def: NonNull<VMMemoryDefinition>,
    /// The memory's type (maximum enforced on growth).
    pub ty: MemoryType,
    /// The backing storage.
    pub mem: M,
}

impl<M: LinearMemory> MemorySlot<M> {
    /// Wraps a backing storage; its definition goes to `guest`.
    pub(crate) fn new(mem: M, ty: MemoryType, guest: &mut GuestData) -> Self {
        let def = VMMemoryDefinition { base: mem.base(), length: mem.byte_len() };
        Self { def: guest.alloc(GuestAccess::ReadOnly, def), ty, mem }
    }

    /// The definition generated code reads.
    pub fn def(&self) -> &VMMemoryDefinition {
        // SAFETY: `def` was allocated for this slot in its store's guest data, which
        // outlives the slot; only `&mut self` methods write it.
        unsafe { self.def.as_ref() }
    }

    /// The definition's address (what instances' contexts point to).
    pub fn def_ptr(&self) -> *mut VMMemoryDefinition {
        self.def.as_ptr()
    }

    /// Current size in pages.
    pub fn pages(&self) -> u32 {
        (self.def().length / PAGE_SIZE) as u32
    }

    /// `memory.grow`: the old size in pages, or `None` when it cannot grow.
    pub fn grow(&mut self, delta: u32) -> Option<u32> {
        let old = self.pages();
        let new = u64::from(old) + u64::from(delta);
        let cap = if self.ty.index64 { MAX_PAGES64 } else { MAX_PAGES };
        let max = u64::from(self.ty.max.unwrap_or(cap).min(cap));
        if new > max {
            return None;
        }
        if delta > 0 {
            self.mem.grow_to(new as u32).ok()?;
            // SAFETY: as in `def`; `&mut self` excludes other borrows of it.
            let def = unsafe { self.def.as_mut() };
            def.base = self.mem.base();
            def.length = self.mem.byte_len();
        }
        Some(old)
    }

    /// The memory's bytes.
    pub fn data(&self) -> &[u8] {
        let def = self.def();
        if def.length == 0 {
            return &[];
        }
        // SAFETY: `base` points to `length` committed, initialized bytes owned by
        // `self.mem` (the `LinearMemory` contract), borrowed immutably with `self`.
        unsafe { std::slice::from_raw_parts(def.base, def.length) }
    }

    /// The memory's bytes, mutably.
    pub fn data_mut(&mut self) -> &mut [u8] {
        let (base, length) = (self.def().base, self.def().length);
        if length == 0 {
            return &mut [];
        }
        // SAFETY: as in `data`, borrowed mutably with `self`.
        unsafe { std::slice::from_raw_parts_mut(base, length) }
    }
}
