use vm_core::runtime::gc::conformance;
use vm_core::runtime::gc::heap::{GcConfig, allocate};
use vm_core::runtime::gc::object::{self, ARRAY_DATA};
use vm_core::runtime::gc::types::{StorageType, info};
use vm_core::runtime::{Features, ModuleInfo};

use super::*;

fn types(wat: &str) -> Vec<&'static TypeInfo> {
    let m = ModuleInfo::decode(wat.as_bytes(), Features::ALL).unwrap();
    m.type_ids.iter().map(|&id| info(id).unwrap()).collect()
}

fn heap(limit: u64, initial: u64) -> NullHeap {
    GcNull::new(NullConfig { limit, initial, growth: 100 }).unwrap().heap()
}

#[test]
fn objects_are_distinct_zeroed_and_typed() {
    let t = types("(module (type (struct (field i64 anyref))) (type (array (mut i32))))");
    let mut h = heap(1 << 20, 4096);
    let mut seen = Vec::new();
    for i in 0..1000u32 {
        let (ty, len) = if i % 2 == 0 { (t[0], 0) } else { (t[1], i % 7) };
        let obj = allocate(&mut h, ty, len, &mut (), |_| panic!("gc-null never collects")).unwrap();
        // SAFETY: `obj` was just allocated and is never freed.
        unsafe {
            assert!(core::ptr::eq(object::type_of(obj), ty));
            assert_eq!((*obj.as_ptr()).len, len);
            for k in 0..len as usize {
                let v = object::read(
                    obj,
                    ARRAY_DATA + 4 * k,
                    StorageType::Val(vm_core::runtime::ValType::I32),
                    false,
                );
                assert_eq!(v, 0);
                object::write(
                    obj,
                    ARRAY_DATA + 4 * k,
                    StorageType::Val(vm_core::runtime::ValType::I32),
                    u128::from(i),
                );
            }
        }
        seen.push((obj, len, i));
    }
    // Nothing was overwritten by a later allocation.
    for (obj, len, i) in seen {
        for k in 0..len as usize {
            // SAFETY: as above.
            let v = unsafe {
                object::read(
                    obj,
                    ARRAY_DATA + 4 * k,
                    StorageType::Val(vm_core::runtime::ValType::I32),
                    false,
                )
            };
            assert_eq!(v, u128::from(i));
        }
    }
    let s = h.stats();
    assert_eq!(s.collections, 0);
    assert!(s.heap_size >= s.bytes_allocated && s.bytes_allocated == s.live_bytes);
}

#[test]
fn the_limit_is_a_trap() {
    let t = types("(module (type (array i64)))");
    let mut h = heap(1 << 16, 4096);
    let mut n = 0;
    let err = loop {
        match allocate(&mut h, t[0], 100, &mut (), |_| {}) {
            Ok(_) => n += 1,
            Err(e) => break e,
        }
    };
    assert_eq!(err, TrapCode::OutOfGcMemory);
    assert!(n >= 60, "{n} arrays of 816 bytes in 64 KiB");
    assert!(h.stats().heap_size <= 1 << 16);
    // An object larger than any heap is refused before asking the heap.
    assert_eq!(allocate(&mut h, t[0], u32::MAX, &mut (), |_| {}), Err(TrapCode::OutOfGcMemory));
}

#[test]
fn passes_the_collector_checks() {
    conformance::run(
        |c: GcConfig| {
            let config =
                NullConfig { limit: 1 << 30, initial: c.initial as u64, growth: c.growth_percent };
            GcNull::new(config).unwrap().heap()
        },
        false,
    );
}
