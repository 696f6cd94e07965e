//! Four-level x86-64 page tables, built by the host in guest-physical memory
//! the guest has no virtual mapping of.
//!
//! The tables live in one host mapping (the *arena*), registered as KVM memory
//! slot 0 at guest-physical 0; table `n` is the 4 KiB page at guest-physical
//! `n * 4096`, table 0 is the PML4 (CR3 = 0). Tables are handed out by a bump
//! allocator and never freed: a sandbox reused from a pool maps the same kind
//! of regions again, and keeping the table structure fixed is what keeps
//! KVM's shadow of it valid.
//!
//! KVM shadows guest page tables and learns of changes by write-protecting
//! them, which host writes bypass. So the tables only change in ways that
//! cannot leave KVM with a wrong translation:
//!
//! * adding a translation where there was none is safe (KVM caches nothing for
//!   a non-present entry and walks the tables again on the fault);
//! * removing or narrowing a leaf is reported to the caller, which deletes or
//!   re-registers the memory slot behind it, and KVM drops every translation
//!   of a slot that changes;
//! * splitting a large page (a structural change) sets [`PageTables::stale`],
//!   and the owner then makes KVM drop its whole shadow (`Sandbox::sync`).

use crate::error::KvmError;
use crate::layout::{HUGE, HostMapping, PAGE};

const P: u64 = 1;
const W: u64 = 1 << 1;
const U: u64 = 1 << 2;
const A: u64 = 1 << 5;
const D: u64 = 1 << 6;
const PS: u64 = 1 << 7;
const NX: u64 = 1 << 63;
const ADDR: u64 = 0x000f_ffff_ffff_f000;
/// Flags of a non-leaf entry: everything allowed, leaves decide.
const TABLE: u64 = P | W | U | A;

/// What a guest may do with a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Prot {
    /// Not mapped: any access is a page fault.
    None,
    /// Read only, not executable.
    Read,
    /// Read and write, not executable.
    ReadWrite,
    /// Read and execute, never writable.
    ReadExec,
}

/// Leaf flags for `prot`, `user` selecting CPL3 access.
pub(crate) fn leaf_flags(prot: Prot, user: bool) -> u64 {
    let u = if user { U } else { 0 };
    match prot {
        Prot::None => 0,
        Prot::Read => P | A | NX | u,
        Prot::ReadWrite => P | W | A | D | NX | u,
        Prot::ReadExec => P | A | u,
    }
}

/// The page tables of one sandbox.
#[derive(Debug)]
pub(crate) struct PageTables {
    arena: HostMapping,
    next: u64,
    stale: bool,
}

impl PageTables {
    /// An arena of `pages` tables with an empty PML4.
    pub(crate) fn new(pages: u64) -> Result<Self, KvmError> {
        Ok(PageTables { arena: HostMapping::new((pages * PAGE) as usize)?, next: 1, stale: false })
    }

    pub(crate) fn arena(&self) -> &HostMapping {
        &self.arena
    }

    /// Whether a translation was removed or narrowed since the last
    /// [`PageTables::synced`].
    pub(crate) fn stale(&self) -> bool {
        self.stale
    }

    /// Makes the next [`PageTables::stale`] true: KVM must drop its whole shadow
    /// (translations were removed without deleting their slots).
    pub(crate) fn mark_stale(&mut self) {
        self.stale = true;
    }

    pub(crate) fn synced(&mut self) {
        self.stale = false;
    }

    fn entry(&self, table: u64, index: u64) -> u64 {
        self.arena.read_u64((table * PAGE + index * 8) as usize)
    }

    fn set_entry(&mut self, table: u64, index: u64, v: u64) {
        self.arena.write_u64((table * PAGE + index * 8) as usize, v);
    }

    fn alloc(&mut self) -> Result<u64, KvmError> {
        let pages = self.arena.len() as u64 / PAGE;
        if self.next >= pages {
            return Err(KvmError::OutOfPageTables { pages });
        }
        self.next += 1;
        Ok(self.next - 1)
    }

    /// The table that `entry` of `table` points to, created if absent.
    fn child(&mut self, table: u64, index: u64) -> Result<u64, KvmError> {
        let e = self.entry(table, index);
        if e & P != 0 {
            debug_assert!(e & PS == 0, "child() of a large page");
            return Ok((e & ADDR) / PAGE);
        }
        let t = self.alloc()?;
        self.set_entry(table, index, (t * PAGE) | TABLE);
        Ok(t)
    }

    /// The page directory covering `va`, created if absent.
    fn directory(&mut self, va: u64) -> Result<u64, KvmError> {
        let pdpt = self.child(0, (va >> 39) & 511)?;
        self.child(pdpt, (va >> 30) & 511)
    }

    /// The page directory covering `va` if it exists.
    fn find_directory(&self, va: u64) -> Option<u64> {
        let e = self.entry(0, (va >> 39) & 511);
        if e & P == 0 {
            return None;
        }
        let e = self.entry((e & ADDR) / PAGE, (va >> 30) & 511);
        if e & P == 0 {
            return None;
        }
        Some((e & ADDR) / PAGE)
    }

    /// Turns the large page at directory entry `index` into a table of 512
    /// small pages with the same translation and flags.
    fn split(&mut self, pd: u64, index: u64) -> Result<u64, KvmError> {
        let e = self.entry(pd, index);
        let t = self.alloc()?;
        let flags = e & !ADDR & !PS;
        let base = e & ADDR;
        for i in 0..512 {
            self.set_entry(t, i, (base + i * PAGE) | flags);
        }
        self.set_entry(pd, index, (t * PAGE) | TABLE);
        // The large translation is gone from the guest's tables but may still
        // be in KVM's shadow.
        self.stale = true;
        Ok(t)
    }

    /// Sets the translation of `[va, va + len)` to `gpa..` with leaf `flags`
    /// (0 unmaps). `va`, `gpa`, `len` are 4 KiB aligned. Large pages are used
    /// where `va` and `gpa` are both 2 MiB aligned over a whole 2 MiB and no
    /// small-page table is there already.
    ///
    /// Returns whether a present translation was removed, narrowed or moved:
    /// KVM may still hold it, and the caller must make KVM drop its
    /// translations of the region's memory slot. Structural changes (a large
    /// page split into small ones) instead set [`PageTables::stale`].
    pub(crate) fn set(
        &mut self,
        va: u64,
        gpa: u64,
        len: u64,
        flags: u64,
    ) -> Result<bool, KvmError> {
        let mut narrowed = false;
        let mut off = 0;
        while off < len {
            let (v, g) = (va + off, gpa + off);
            let index = (v >> 21) & 511;
            let pd = if flags == 0 { self.find_directory(v) } else { Some(self.directory(v)?) };
            let Some(pd) = pd else {
                // Nothing mapped in this 1 GiB: nothing to remove.
                off = (v | ((1 << 30) - 1)) + 1 - va;
                continue;
            };
            let pde = self.entry(pd, index);
            let whole = v.is_multiple_of(HUGE) && g.is_multiple_of(HUGE) && len - off >= HUGE;
            if whole && (pde & P == 0 || pde & PS != 0) {
                if pde & P != 0 && (flags == 0 || narrower(pde, flags) || pde & ADDR != g) {
                    narrowed = true;
                }
                let new = if flags == 0 { 0 } else { g | flags | PS };
                self.set_entry(pd, index, new);
                off += HUGE;
                continue;
            }
            let pt = if pde & P == 0 {
                if flags == 0 {
                    off += PAGE;
                    continue;
                }
                self.child(pd, index)?
            } else if pde & PS != 0 {
                self.split(pd, index)?
            } else {
                (pde & ADDR) / PAGE
            };
            let i = (v >> 12) & 511;
            let old = self.entry(pt, i);
            if old & P != 0 && (flags == 0 || narrower(old, flags) || old & ADDR != g) {
                narrowed = true;
            }
            self.set_entry(pt, i, if flags == 0 { 0 } else { g | flags });
            off += PAGE;
        }
        Ok(narrowed)
    }
}

/// Whether leaf `new` allows less than leaf `old`.
fn narrower(old: u64, new: u64) -> bool {
    (old & W != 0 && new & W == 0)
        || (old & U != 0 && new & U == 0)
        || (old & NX == 0 && new & NX != 0)
}
