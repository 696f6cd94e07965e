//! A linear memory in an `mmap` reservation: with guard pages (the default), or
//! sized by `virt.memory_reservation` and moved when it outgrows it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use vm_core::runtime::{LinearMemory, MemoryError, PAGE_SIZE};

#[cfg(test)]
mod tests;

/// Bytes reserved per memory with guard pages: 4 GiB of addressable memory plus a
/// 4 GiB guard region, so `u32 address + u32 offset` never leaves the reservation.
pub const RESERVATION: usize = 8 << 30;

/// A linear memory: a `PROT_NONE` reservation whose first `len` bytes are committed
/// read-write.
///
/// With a reservation of [`RESERVATION`] bytes (guard pages) the memory never
/// moves. With a smaller one (`virt.memory_reservation`, explicit bounds checks in
/// the engines) a growth past the reservation maps a larger one (twice the size, at
/// least the new length, at most the memory's maximum), copies the committed bytes
/// and unmaps the old one: the base moves, which engines allow for without guard
/// pages (they read it from the memory's definition after every call).
#[derive(Debug)]
pub struct MmapMemory {
    base: *mut u8,
    len: usize,
    /// Bytes of the current reservation (`len` of them committed).
    reserved: usize,
    max_pages: u32,
    /// Committed bytes of every memory sharing this counter (the plugin's
    /// `memory_bytes`).
    committed: Arc<AtomicU64>,
}

// SAFETY: `MmapMemory` exclusively owns its mapping; the raw pointer is not shared
// with other threads by this type, and moving the owner between threads is sound.
unsafe impl Send for MmapMemory {}

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// Reserves `bytes` of address space (`PROT_NONE`, nothing committed).
fn reserve(bytes: usize) -> Result<*mut u8, MemoryError> {
    // SAFETY: an anonymous private mapping at an address of the kernel's choice
    // aliases nothing; the result is checked against MAP_FAILED.
    let base = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            bytes,
            libc::PROT_NONE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
            -1,
            0,
        )
    };
    if base == libc::MAP_FAILED {
        return Err(MemoryError::Reserve { bytes, errno: errno() });
    }
    Ok(base.cast())
}

/// Makes `[base + from, base + to)` read-write.
///
/// # Safety
/// The range lies inside a reservation made by [`reserve`] that is still mapped.
unsafe fn commit(base: *mut u8, from: usize, to: usize) -> Result<(), MemoryError> {
    // SAFETY: the range is inside a live reservation (the caller's promise); making
    // anonymous pages read-write exposes zero-filled memory.
    let r = unsafe {
        libc::mprotect(base.add(from).cast(), to - from, libc::PROT_READ | libc::PROT_WRITE)
    };
    if r != 0 {
        return Err(MemoryError::Commit { bytes: to - from, errno: errno() });
    }
    Ok(())
}

impl MmapMemory {
    /// Reserves the address space (with guard pages) and commits `pages` pages.
    ///
    /// # Errors
    /// The reservation or the commit failed.
    pub fn new(pages: u32, max_pages: u32) -> Result<Self, MemoryError> {
        Self::counted(pages, max_pages, Arc::default())
    }

    /// As [`MmapMemory::new`], adding the bytes it commits to `committed` (and
    /// subtracting them when it is dropped).
    ///
    /// # Errors
    /// The reservation or the commit failed.
    pub fn counted(
        pages: u32,
        max_pages: u32,
        committed: Arc<AtomicU64>,
    ) -> Result<Self, MemoryError> {
        Self::with_reservation(pages, max_pages, RESERVATION, committed)
    }

    /// As [`MmapMemory::counted`] in a reservation of `reservation` bytes: guard
    /// pages when it is at least [`RESERVATION`], else the smaller of `reservation`
    /// (rounded up to a page, and at least `pages`) and the largest size
    /// `max_pages` allows, moved on growth past it.
    ///
    /// # Errors
    /// The reservation or the commit failed.
    pub fn with_reservation(
        pages: u32,
        max_pages: u32,
        reservation: usize,
        committed: Arc<AtomicU64>,
    ) -> Result<Self, MemoryError> {
        let reserved = if reservation >= RESERVATION {
            RESERVATION
        } else {
            let want = reservation.next_multiple_of(PAGE_SIZE).max(pages as usize * PAGE_SIZE);
            want.min(max_pages as usize * PAGE_SIZE).max(PAGE_SIZE)
        };
        let base = reserve(reserved)?;
        let mut m = Self { base, len: 0, reserved, max_pages, committed };
        m.grow_to(pages)?;
        Ok(m)
    }

    /// Whether this memory has guard pages (and so never moves).
    pub fn guarded(&self) -> bool {
        self.reserved >= RESERVATION
    }

    /// Moves the memory into a new reservation of at least `new_len` bytes.
    fn relocate(&mut self, new_len: usize) -> Result<(), MemoryError> {
        let max = self.max_pages as usize * PAGE_SIZE;
        let reserved = self.reserved.saturating_mul(2).max(new_len).min(max.max(new_len));
        let base = reserve(reserved)?;
        // SAFETY: `[0, len)` is inside the fresh reservation of `reserved >= new_len
        // > len` bytes.
        if let Err(e) = unsafe { commit(base, 0, self.len) } {
            // SAFETY: `base` is the reservation just made, referenced by nothing.
            unsafe { libc::munmap(base.cast(), reserved) };
            return Err(e);
        }
        // SAFETY: both ranges are `len` committed bytes of two distinct mappings; the
        // old one is unmapped right after, while nothing else holds a reference into
        // it (growth takes `&mut self`, and guest code reads the base afresh).
        unsafe {
            std::ptr::copy_nonoverlapping(self.base, base, self.len);
            libc::munmap(self.base.cast(), self.reserved);
        }
        self.base = base;
        self.reserved = reserved;
        Ok(())
    }
}

impl LinearMemory for MmapMemory {
    fn base(&self) -> *mut u8 {
        self.base
    }

    fn byte_len(&self) -> usize {
        self.len
    }

    fn grow_to(&mut self, pages: u32) -> Result<(), MemoryError> {
        if pages > self.max_pages {
            return Err(MemoryError::TooLarge {
                pages: pages.into(),
                limit: self.max_pages.into(),
            });
        }
        let new_len = pages as usize * PAGE_SIZE;
        if new_len <= self.len {
            return Ok(());
        }
        if new_len > self.reserved {
            self.relocate(new_len)?;
        }
        // SAFETY: `[len, new_len)` lies inside our reservation (new_len <= reserved)
        // and is currently PROT_NONE.
        unsafe { commit(self.base, self.len, new_len)? };
        self.committed.fetch_add((new_len - self.len) as u64, Ordering::Relaxed);
        self.len = new_len;
        Ok(())
    }
}

impl Drop for MmapMemory {
    fn drop(&mut self) {
        self.committed.fetch_sub(self.len as u64, Ordering::Relaxed);
        // SAFETY: `base` is the start of our `reserved`-byte mapping, unmapped once;
        // no reference into it outlives `self` (the store drops memories last).
        unsafe {
            libc::munmap(self.base.cast(), self.reserved);
        }
    }
}
