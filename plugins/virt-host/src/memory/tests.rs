use std::sync::Arc;

use vm_core::Plugin;
use vm_core::runtime::{LinearMemory, MemoryType, PAGE_SIZE};
use vm_core::slot::Virt;

use super::{MmapMemory, RESERVATION};

/// Below the guard-page size, as the tests with a small reservation need.
const SMALL: u64 = 1 << 30;
const _: () = assert!((SMALL as usize) < RESERVATION);
use crate::{HostVirt, HostVirtConfig};

#[test]
fn the_default_reservation_has_guard_pages_and_never_moves() {
    let mut m = MmapMemory::new(1, 65536).unwrap();
    assert!(m.guarded());
    let base = m.base();
    m.grow_to(100).unwrap();
    assert_eq!(m.base(), base);
    let virt = HostVirt::new(HostVirtConfig::default()).unwrap();
    assert!(virt.guard_pages());
}

#[test]
fn a_small_reservation_moves_on_growth_and_keeps_the_bytes() {
    let mut m = MmapMemory::with_reservation(1, 65536, PAGE_SIZE, Arc::default()).unwrap();
    assert!(!m.guarded());
    // SAFETY: the first page is committed and owned by `m`.
    unsafe {
        m.base().write(7);
        m.base().add(PAGE_SIZE - 1).write(9);
    }
    for pages in [2, 3, 17, 40] {
        m.grow_to(pages).unwrap();
        assert_eq!(m.byte_len(), pages as usize * PAGE_SIZE);
        // SAFETY: `pages` pages are committed: the old bytes moved along, the new ones
        // are zero.
        unsafe {
            assert_eq!(m.base().read(), 7);
            assert_eq!(m.base().add(PAGE_SIZE - 1).read(), 9);
            assert_eq!(m.base().add(pages as usize * PAGE_SIZE - 1).read(), 0);
        }
    }
    assert!(m.grow_to(65537).is_err(), "past the maximum");
}

#[test]
fn a_declared_maximum_bounds_a_small_reservation() {
    let config = HostVirtConfig { memory_reservation: SMALL, ..HostVirtConfig::default() };
    let mut virt = HostVirt::new(config).unwrap();
    assert!(!virt.guard_pages());
    let ty = MemoryType { min: 1, max: Some(2), index64: false };
    let mut m = virt.new_memory(&ty).unwrap();
    assert_eq!(m.reserved, 2 * PAGE_SIZE);
    let base = m.base();
    m.grow_to(2).unwrap();
    assert_eq!(m.base(), base, "within the reservation: no move");
}
