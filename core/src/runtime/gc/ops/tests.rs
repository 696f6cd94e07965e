use super::*;
use crate::runtime::gc::heap::{Cycle, GcHeap, GcStats, RootSource, allocate};
use crate::runtime::gc::types::info;
use crate::runtime::{Features, ModuleInfo};

/// A heap for these tests: each object its own leaked, zeroed block.
struct Leak;

impl GcHeap for Leak {
    fn alloc(
        &mut self,
        ty: &'static TypeInfo,
        len: u32,
        size: usize,
    ) -> Option<NonNull<ObjectHeader>> {
        let words: &'static mut [u64] = Box::leak(vec![0u64; size / 8].into_boxed_slice());
        // SAFETY: a fresh, zeroed, 8-aligned block of `size` bytes.
        Some(unsafe { object::init(NonNull::from(words).cast(), ty, len) })
    }
    fn collect(&mut self, _: &mut dyn RootSource, _: usize) -> Result<Option<Cycle>, TrapCode> {
        Ok(None)
    }
    fn stats(&self) -> GcStats {
        GcStats::default()
    }
}

fn types(wat: &str) -> Vec<&'static TypeInfo> {
    let m = ModuleInfo::decode(wat.as_bytes(), Features::ALL).unwrap();
    m.type_ids.iter().map(|&id| info(id).unwrap()).collect()
}

fn new(ty: &'static TypeInfo, len: u32) -> RawRef {
    allocate(&mut Leak, ty, len, &mut (), |_| {}).unwrap().as_ptr() as RawRef
}

#[test]
fn struct_fields_pack_and_extend() {
    let t = types(
        "(module (type (struct (field (mut i8)) (field (mut i16)) (field (mut f64)) (field v128))))",
    );
    let s = new(t[0], 0);
    // SAFETY: `s` is a new struct of `t[0]`.
    unsafe { init_fields(object::as_object(s).unwrap(), t[0], [0x1ff, 0x18000, 3, u128::MAX - 1]) };
    assert_eq!(struct_get(s, t[0], 0, true), Ok(0xffff_ffff));
    assert_eq!(struct_get(s, t[0], 0, false), Ok(0xff));
    assert_eq!(struct_get(s, t[0], 1, true), Ok(0xffff_8000));
    assert_eq!(struct_get(s, t[0], 1, false), Ok(0x8000));
    assert_eq!(struct_get(s, t[0], 2, false), Ok(3));
    assert_eq!(struct_get(s, t[0], 3, false), Ok(u128::MAX - 1));
    struct_set(s, t[0], 2, 9).unwrap();
    assert_eq!(struct_get(s, t[0], 2, false), Ok(9));
    assert_eq!(struct_get(0, t[0], 0, false), Err(TrapCode::NullStructReference));
    assert_eq!(struct_set(0, t[0], 0, 1), Err(TrapCode::NullStructReference));
}

#[test]
fn array_accesses_check_null_and_bounds() {
    let t = types("(module (type (array (mut i16))) (type (array (mut anyref))))");
    let a = new(t[0], 10);
    assert_eq!(array_len(a), Ok(10));
    fill(a, t[0], 2, 0xabcd, 5).unwrap();
    assert_eq!(array_get(a, t[0], 1, false), Ok(0));
    assert_eq!(array_get(a, t[0], 2, true), Ok(0xffff_abcd));
    assert_eq!(array_get(a, t[0], 6, false), Ok(0xabcd));
    assert_eq!(array_get(a, t[0], 7, false), Ok(0));
    assert_eq!(array_get(a, t[0], 10, false), Err(TrapCode::ArrayOutOfBounds));
    assert_eq!(array_set(a, t[0], u32::MAX, 0), Err(TrapCode::ArrayOutOfBounds));
    assert_eq!(fill(a, t[0], 9, 0, 2), Err(TrapCode::ArrayOutOfBounds));
    assert_eq!(fill(a, t[0], 10, 0, 0), Ok(()));
    assert_eq!(fill(a, t[0], u32::MAX, 0, 2), Err(TrapCode::ArrayOutOfBounds));
    assert_eq!(array_len(0), Err(TrapCode::NullArrayReference));
    assert_eq!(array_get(0, t[0], 0, false), Err(TrapCode::NullArrayReference));
    // Overlapping copy within one array, both directions.
    for i in 0..10 {
        array_set(a, t[0], i, u128::from(i)).unwrap();
    }
    copy(a, t[0], 1, a, 0, 5).unwrap();
    let got: Vec<u128> = (0..10).map(|i| array_get(a, t[0], i, false).unwrap()).collect();
    assert_eq!(got, [0, 0, 1, 2, 3, 4, 6, 7, 8, 9]);
    copy(a, t[0], 0, a, 1, 9).unwrap();
    let got: Vec<u128> = (0..10).map(|i| array_get(a, t[0], i, false).unwrap()).collect();
    assert_eq!(got, [0, 1, 2, 3, 4, 6, 7, 8, 9, 9]);
    assert_eq!(copy(a, t[0], 5, a, 0, 6), Err(TrapCode::ArrayOutOfBounds));
    assert_eq!(copy(0, t[0], 0, a, 0, 0), Err(TrapCode::NullArrayReference));
    // References.
    let r = new(t[1], 3);
    let elems = [object::i31_new(1), a, 0, object::i31_new(-1)];
    init_elem(r, t[1], 0, &elems, 1, 3).unwrap();
    assert_eq!(array_get(r, t[1], 0, false), Ok(u128::from(a)));
    assert_eq!(array_get(r, t[1], 2, false), Ok(u128::from(object::i31_new(-1))));
    assert_eq!(init_elem(r, t[1], 0, &elems, 2, 3), Err(TrapCode::TableOutOfBounds));
    assert_eq!(init_elem(r, t[1], 1, &elems, 0, 3), Err(TrapCode::ArrayOutOfBounds));
}

#[test]
fn data_segments_fill_arrays_little_endian() {
    let t = types("(module (type (array (mut i32))) (type (array i8)))");
    let data = [1u8, 0, 0, 0, 2, 0, 0, 0, 0xff, 0xff, 0xff, 0xff];
    assert_eq!(check_data(t[0], 4, 2, data.len()), Ok(()));
    assert_eq!(check_data(t[0], 5, 2, data.len()), Err(TrapCode::MemoryOutOfBounds));
    assert_eq!(check_data(t[0], u32::MAX, u32::MAX, data.len()), Err(TrapCode::MemoryOutOfBounds));
    let a = new(t[0], 3);
    init_data(a, t[0], 1, &data, 0, 2).unwrap();
    let got: Vec<u128> = (0..3).map(|i| array_get(a, t[0], i, false).unwrap()).collect();
    assert_eq!(got, [0, 1, 2]);
    let b = new(t[1], 4);
    init_data(b, t[1], 0, &data, 8, 4).unwrap();
    assert_eq!(array_get(b, t[1], 3, true), Ok(0xffff_ffff));
    assert_eq!(array_get(b, t[1], 3, false), Ok(0xff));
    assert_eq!(init_data(b, t[1], 1, &data, 0, 4), Err(TrapCode::ArrayOutOfBounds));
    assert_eq!(init_data(b, t[1], 0, &data, 10, 4), Err(TrapCode::MemoryOutOfBounds));
}

#[test]
fn casts_follow_the_hierarchies() {
    use crate::runtime::types::{HeapType, RefType};
    let t = types(
        "(module (type $s (sub (struct))) (type $t (sub $s (struct (field i32)))) (type (array i8)))",
    );
    let [s, tt, arr] = [t[0], t[1], t[2]];
    let (os, ot, oa) = (new(s, 0), new(tt, 0), new(arr, 1));
    let r = |nullable, heap| RefType { nullable, heap };
    let no_funcs = |_| None;
    let cases = [
        (ot, r(false, HeapType::Concrete(s.id)), true),
        (os, r(false, HeapType::Concrete(tt.id)), false),
        (oa, r(false, HeapType::Array), true),
        (oa, r(false, HeapType::Struct), false),
        (ot, r(false, HeapType::Eq), true),
        (object::i31_new(3), r(false, HeapType::I31), true),
        (object::i31_new(3), r(false, HeapType::Eq), true),
        (object::i31_new(3), r(false, HeapType::Struct), false),
        (object::any_convert_extern(5), r(false, HeapType::Any), true),
        (object::any_convert_extern(5), r(false, HeapType::Eq), false),
        (0, r(true, HeapType::None), true),
        (0, r(false, HeapType::Any), false),
        (ot, r(true, HeapType::None), false),
    ];
    for (v, target, want) in cases {
        assert_eq!(object::ref_test(v, target, no_funcs), want, "{v:#x} as {target}");
        assert_eq!(object::ref_cast(v, target, no_funcs).is_ok(), want);
    }
    assert_eq!(
        object::ref_cast(os, r(false, HeapType::Concrete(tt.id)), no_funcs),
        Err(TrapCode::CastFailure)
    );
    assert!(ref_eq(os, os) && !ref_eq(os, ot) && ref_eq(object::i31_new(7), object::i31_new(7)));
    assert_eq!(i31_get(0, true), Err(TrapCode::NullI31Reference));
    assert_eq!(i31_get(object::i31_new(-2), true), Ok(-2));
}
