//! A linear memory in an `mmap` reservation with guard pages.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use vm_core::runtime::{LinearMemory, MemoryError, PAGE_SIZE};

/// Bytes reserved per memory: 4 GiB of addressable memory plus a 4 GiB guard region,
/// so `u32 address + u32 offset` never leaves the reservation.
pub const RESERVATION: usize = 8 << 30;

/// A linear memory: a `PROT_NONE` reservation whose first `len` bytes are committed
/// read-write.
#[derive(Debug)]
pub struct MmapMemory {
    base: *mut u8,
    len: usize,
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

impl MmapMemory {
    /// Reserves the address space and commits `pages` pages.
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
        // SAFETY: an anonymous private mapping at an address of the kernel's choice
        // aliases nothing; the result is checked against MAP_FAILED.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                RESERVATION,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(MemoryError::Reserve { bytes: RESERVATION, errno: errno() });
        }
        let mut m = Self { base: base.cast(), len: 0, max_pages, committed };
        m.grow_to(pages)?;
        Ok(m)
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
        // SAFETY: `[base + len, base + new_len)` lies inside our reservation
        // (new_len <= 4 GiB < RESERVATION) and is currently PROT_NONE; making it
        // read-write exposes zero-filled anonymous pages.
        let r = unsafe {
            libc::mprotect(
                self.base.add(self.len).cast(),
                new_len - self.len,
                libc::PROT_READ | libc::PROT_WRITE,
            )
        };
        if r != 0 {
            return Err(MemoryError::Commit { bytes: new_len - self.len, errno: errno() });
        }
        self.committed.fetch_add((new_len - self.len) as u64, Ordering::Relaxed);
        self.len = new_len;
        Ok(())
    }
}

impl Drop for MmapMemory {
    fn drop(&mut self) {
        self.committed.fetch_sub(self.len as u64, Ordering::Relaxed);
        // SAFETY: `base` is the start of our RESERVATION-byte mapping, unmapped once;
        // no reference into it outlives `self` (the store drops memories last).
        unsafe {
            libc::munmap(self.base.cast(), RESERVATION);
        }
    }
}
