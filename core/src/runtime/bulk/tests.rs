use super::*;

fn mem(bytes: &mut [u8]) -> VMMemoryDefinition {
    VMMemoryDefinition { base: bytes.as_mut_ptr(), length: bytes.len() }
}

fn table(elems: &mut [RawRef]) -> VMTableDefinition {
    VMTableDefinition { base: elems.as_mut_ptr(), length: elems.len() as u64 }
}

#[test]
fn memory_ranges_are_checked_before_writing() {
    let mut b = [0u8; 8];
    let m = mem(&mut b);
    // SAFETY: `m` describes `b`, not otherwise borrowed while it is used.
    unsafe {
        assert_eq!(m.fill(4, 7, 4), Ok(()));
        assert_eq!(m.fill(5, 1, 4), Err(TrapCode::MemoryOutOfBounds));
        assert_eq!(m.fill(u32::MAX, 1, 2), Err(TrapCode::MemoryOutOfBounds));
        assert_eq!(m.fill(8, 1, 0), Ok(()));
        assert_eq!(m.copy_from(&m, 0, 3, 4), Ok(()));
        assert_eq!(m.copy_from(&m, 5, 0, 4), Err(TrapCode::MemoryOutOfBounds));
        assert_eq!(m.init(&[1, 2, 3], 6, 1, 2), Ok(()));
        assert_eq!(m.init(&[1, 2, 3], 0, 2, 2), Err(TrapCode::MemoryOutOfBounds));
        assert!(VMMemoryDefinition::host_view(std::ptr::null()).is_none());
    }
    assert_eq!(b, [0, 7, 7, 7, 7, 7, 2, 3]);
}

#[test]
fn table_ranges_are_checked_before_writing() {
    let mut e = [0 as RawRef; 4];
    let t = table(&mut e);
    // SAFETY: `t` describes `e`, not otherwise borrowed while it is used.
    unsafe {
        assert_eq!(t.set(3, 9), Ok(()));
        assert_eq!(t.set(4, 9), Err(TrapCode::TableOutOfBounds));
        assert_eq!(t.get(3), Ok(9));
        assert_eq!(t.get(4), Err(TrapCode::TableOutOfBounds));
        assert_eq!(t.fill(0, 5, 2), Ok(()));
        assert_eq!(t.fill(3, 5, 2), Err(TrapCode::TableOutOfBounds));
        assert_eq!(t.copy_from(&t, 1, 0, 2), Ok(()));
        assert_eq!(t.copy_from(&t, 0, 3, 2), Err(TrapCode::TableOutOfBounds));
        assert_eq!(t.init(&[6], 2, 0, 1), Ok(()));
        assert_eq!(t.init(&[6], 2, 1, 1), Err(TrapCode::TableOutOfBounds));
    }
    assert_eq!(e, [5, 5, 6, 9]);
}
