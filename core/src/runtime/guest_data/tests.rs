use super::*;

#[test]
fn the_flag_page_comes_first_and_holds_a_cleared_flag() {
    let g = GuestData::new();
    let c = g.chunks()[0];
    assert_eq!(c.access, GuestAccess::ReadOnly);
    assert_eq!(c.len, page_size());
    let flag: *const AtomicU32 = &**g.flag();
    assert!(c.contains(flag as usize, 4));
    assert_eq!(g.flag().load(std::sync::atomic::Ordering::Relaxed), 0);
}

#[test]
fn allocations_are_aligned_packed_and_split_by_access() {
    let mut g = GuestData::new();
    let a = g.alloc(GuestAccess::ReadOnly, 1u8);
    let b = g.alloc(GuestAccess::ReadOnly, 2u64);
    let c = g.alloc(GuestAccess::ReadWrite, 3u128);
    assert_eq!(b.as_ptr() as usize % 8, 0);
    assert_eq!(c.as_ptr() as usize % 16, 0);
    // One read-only chunk for both, one read-write chunk.
    assert_eq!(g.chunks().len(), 3);
    let ro = g.chunk_of(a.as_ptr() as usize, 1).copied();
    assert_eq!(ro, g.chunk_of(b.as_ptr() as usize, 8).copied());
    assert_eq!(ro.map(|c| c.access), Some(GuestAccess::ReadOnly));
    let rw = g.chunk_of(c.as_ptr() as usize, 16).map(|c| c.access);
    assert_eq!(rw, Some(GuestAccess::ReadWrite));
    // SAFETY: all three are live allocations of `g`.
    unsafe { assert_eq!((*a.as_ptr(), *b.as_ptr(), *c.as_ptr()), (1, 2, 3)) };
}

#[test]
fn a_full_chunk_is_followed_by_a_new_one_and_large_allocations_get_their_own() {
    let mut g = GuestData::new();
    for _ in 0..CHUNK_BYTES / 1024 + 1 {
        g.try_alloc_slice(GuestAccess::ReadWrite, 128, 0u64).expect("alloc");
    }
    assert_eq!(g.chunks().len(), 3, "a second read-write chunk");
    let big = g.try_alloc_slice(GuestAccess::ReadOnly, CHUNK_BYTES, 7u8).expect("big");
    let c = *g.chunks().last().expect("chunk");
    assert_eq!(c.start, big.as_ptr() as usize);
    assert!(c.len >= CHUNK_BYTES && c.len.is_multiple_of(page_size()));
    // SAFETY: `big` holds `CHUNK_BYTES` initialized bytes.
    let bytes = unsafe { std::slice::from_raw_parts(big.as_ptr(), CHUNK_BYTES) };
    assert!(bytes.iter().all(|&b| b == 7));
    // The small allocations continue in their current chunk.
    let n = g.chunks().len();
    g.alloc(GuestAccess::ReadWrite, 0u64);
    assert_eq!(g.chunks().len(), n);
}

#[test]
fn copies_keep_their_items_and_empty_copies_map_nothing() {
    let mut g = GuestData::new();
    let p = g.alloc_copy(GuestAccess::ReadOnly, &[1u32, 2, 3]);
    // SAFETY: three items were copied to `p`.
    assert_eq!(unsafe { std::slice::from_raw_parts(p.as_ptr(), 3) }, [1, 2, 3]);
    let n = g.chunks().len();
    let e = g.alloc_copy::<u64>(GuestAccess::ReadWrite, &[]);
    assert_eq!(e, NonNull::dangling());
    assert_eq!(g.chunks().len(), n);
}
