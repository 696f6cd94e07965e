//! Which host regions a sandbox has registered, and where they sit in
//! guest-physical memory.
//!
//! Every region is one KVM memory slot backed by the host mapping at the same
//! address the guest sees (guest-virtual = host-virtual). Guest-physical
//! addresses are allocated first-fit from the lowest free range, so they stay
//! compact, and congruent with the host address modulo 2 MiB for regions that
//! hold a whole large page, so both the guest tables and KVM can use large pages.

use crate::error::KvmError;
use crate::layout::{HUGE, PAGE};

/// One registered region.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Region {
    pub(crate) addr: u64,
    pub(crate) len: u64,
    pub(crate) gpa: u64,
    pub(crate) slot: u32,
}

impl Region {
    pub(crate) fn contains(&self, addr: u64, len: u64) -> bool {
        addr >= self.addr && addr + len <= self.addr + self.len
    }

    pub(crate) fn gpa_of(&self, addr: u64) -> u64 {
        self.gpa + (addr - self.addr)
    }
}

/// The registered regions of one sandbox (the crate's own and the user's).
#[derive(Debug)]
pub(crate) struct Space {
    regions: Vec<Region>,
    free_slots: Vec<u32>,
    next_slot: u32,
    max_slots: u32,
}

/// Checks that `[addr, addr + len)` is non-empty, page aligned and in the
/// canonical lower half.
pub(crate) fn check_range(addr: u64, len: u64) -> Result<(), KvmError> {
    let end = addr.checked_add(len);
    if len == 0
        || !addr.is_multiple_of(PAGE)
        || !len.is_multiple_of(PAGE)
        || end.is_none_or(|e| e > 1 << 47)
    {
        return Err(KvmError::BadRange { addr, len });
    }
    Ok(())
}

impl Space {
    pub(crate) fn new(max_slots: u32) -> Self {
        Space { regions: Vec::new(), free_slots: Vec::new(), next_slot: 0, max_slots }
    }

    /// Records a new region of `len` bytes at host `addr` and picks its slot
    /// and guest-physical address. `fixed_gpa` places it exactly (used for the
    /// page-table arena at 0).
    pub(crate) fn add(
        &mut self,
        addr: u64,
        len: u64,
        fixed_gpa: Option<u64>,
    ) -> Result<Region, KvmError> {
        check_range(addr, len)?;
        if self.regions.iter().any(|r| addr < r.addr + r.len && r.addr < addr + len) {
            return Err(KvmError::Overlap { addr, len });
        }
        let slot = match self.free_slots.pop() {
            Some(s) => s,
            None if self.next_slot < self.max_slots => {
                self.next_slot += 1;
                self.next_slot - 1
            }
            None => {
                return Err(KvmError::OutOfSlots { max: self.max_slots });
            }
        };
        let gpa = fixed_gpa.unwrap_or_else(|| self.place(addr, len));
        let r = Region { addr, len, gpa, slot };
        self.regions.push(r);
        Ok(r)
    }

    /// The lowest guest-physical address where `len` bytes fit, congruent to
    /// `addr` modulo 2 MiB if the region holds a whole large page.
    fn place(&self, addr: u64, len: u64) -> u64 {
        let huge = addr.next_multiple_of(HUGE) + HUGE <= addr + len;
        let fit = |at: u64| {
            if huge {
                let base = at - at % HUGE + addr % HUGE;
                if base >= at { base } else { base + HUGE }
            } else {
                at
            }
        };
        let mut by_gpa: Vec<&Region> = self.regions.iter().collect();
        by_gpa.sort_by_key(|r| r.gpa);
        let mut at = fit(0);
        for r in by_gpa {
            if at + len <= r.gpa {
                return at;
            }
            at = at.max(fit(r.gpa + r.len));
        }
        at
    }

    /// Removes the region starting at `addr`.
    pub(crate) fn remove(&mut self, addr: u64) -> Option<Region> {
        let i = self.regions.iter().position(|r| r.addr == addr)?;
        let r = self.regions.swap_remove(i);
        self.free_slots.push(r.slot);
        Some(r)
    }

    /// The region holding all of `[addr, addr + len)`.
    pub(crate) fn find(&self, addr: u64, len: u64) -> Result<Region, KvmError> {
        self.regions
            .iter()
            .find(|r| r.contains(addr, len))
            .copied()
            .ok_or(KvmError::NotRegistered { addr, len })
    }

    pub(crate) fn regions(&self) -> impl Iterator<Item = &Region> {
        self.regions.iter()
    }
}
