//! Linear memory for guest code in a micro-VM.
//!
//! Each memory is a host reservation of 4 GiB plus a 4 GiB guard region
//! (`PROT_NONE`, so the host never places anything else where a 32-bit address
//! plus a 32-bit offset can reach), aligned to 2 MiB so that the host can back it
//! with large pages and the guest map it with them. The guest sees the committed
//! bytes read-write and nothing of the rest: the plugin maps the memory's
//! accessible range into the sandbox as a reservation and opens pages as the
//! memory grows (see [`MemoryShared::len`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use vm_core::runtime::{LinearMemory, MemoryError, PAGE_SIZE};

/// Bytes reserved per memory: every 32-bit address plus a 32-bit offset.
pub const RESERVATION: usize = 8 << 30;

/// Alignment of a memory's base.
const ALIGN: usize = 2 << 20;

/// What the plugin keeps about a memory while a store uses it: where it is, how
/// large it may get and how large it is now (updated on growth, read when the
/// guest mapping is brought up to date).
#[derive(Debug)]
pub(crate) struct MemoryShared {
    pub(crate) base: usize,
    /// Bytes the guest may ever see (the maximum size).
    pub(crate) max_bytes: usize,
    /// Committed bytes now.
    pub(crate) len: AtomicUsize,
}

/// A linear memory of the `virt-kvm` plugin.
#[derive(Debug)]
pub struct KvmMemory {
    shared: Arc<MemoryShared>,
    /// Start of the host mapping (below `base` by the alignment slack).
    map: *mut u8,
    map_len: usize,
    max_pages: u32,
    committed: Arc<AtomicU64>,
}

// SAFETY: `KvmMemory` exclusively owns its mapping; moving the owner between threads
// is sound and the raw pointer is not shared by this type.
unsafe impl Send for KvmMemory {}

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

impl KvmMemory {
    /// Reserves the address space and commits `pages` pages; `max_pages` bounds
    /// growth.
    ///
    /// # Errors
    /// The reservation or the commit failed.
    pub(crate) fn new(
        pages: u32,
        max_pages: u32,
        committed: Arc<AtomicU64>,
    ) -> Result<Self, MemoryError> {
        let map_len = RESERVATION + ALIGN;
        // SAFETY: an anonymous private mapping at an address of the kernel's choice
        // aliases nothing; the result is checked against MAP_FAILED.
        let map = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                map_len,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if map == libc::MAP_FAILED {
            return Err(MemoryError::Reserve { bytes: map_len, errno: errno() });
        }
        let map = map.cast::<u8>();
        let base = (map as usize).next_multiple_of(ALIGN);
        let max_bytes = max_pages as usize * PAGE_SIZE;
        if max_bytes > 0 {
            // SAFETY: advice on our own reservation; failure only loses large pages.
            unsafe { libc::madvise(base as *mut libc::c_void, max_bytes, libc::MADV_HUGEPAGE) };
        }
        let shared = Arc::new(MemoryShared { base, max_bytes, len: AtomicUsize::new(0) });
        let mut m = Self { shared, map, map_len, max_pages, committed };
        m.grow_to(pages)?;
        Ok(m)
    }

    pub(crate) fn shared(&self) -> &Arc<MemoryShared> {
        &self.shared
    }
}

impl LinearMemory for KvmMemory {
    fn base(&self) -> *mut u8 {
        self.shared.base as *mut u8
    }

    fn byte_len(&self) -> usize {
        self.shared.len.load(Ordering::Acquire)
    }

    fn grow_to(&mut self, pages: u32) -> Result<(), MemoryError> {
        if pages > self.max_pages {
            return Err(MemoryError::TooLarge {
                pages: pages.into(),
                limit: self.max_pages.into(),
            });
        }
        let len = self.byte_len();
        let new_len = pages as usize * PAGE_SIZE;
        if new_len <= len {
            return Ok(());
        }
        // SAFETY: `[base + len, base + new_len)` lies inside our reservation
        // (new_len <= max_bytes <= 4 GiB) and is PROT_NONE; making it read-write
        // exposes zero-filled anonymous pages.
        let r = unsafe {
            libc::mprotect(
                (self.shared.base + len) as *mut libc::c_void,
                new_len - len,
                libc::PROT_READ | libc::PROT_WRITE,
            )
        };
        if r != 0 {
            return Err(MemoryError::Commit { bytes: new_len - len, errno: errno() });
        }
        self.committed.fetch_add((new_len - len) as u64, Ordering::Relaxed);
        self.shared.len.store(new_len, Ordering::Release);
        Ok(())
    }
}

impl Drop for KvmMemory {
    fn drop(&mut self) {
        self.committed.fetch_sub(self.byte_len() as u64, Ordering::Relaxed);
        // SAFETY: our own mapping, unmapped once. The store drops the plugin's state
        // (which unmaps the memory from its micro-VM) before its memories.
        unsafe {
            libc::munmap(self.map.cast(), self.map_len);
        }
    }
}
