//! Checks every collector passes, run by each `gc` plugin's tests against its own
//! heap (collectors cannot depend on one another, so the checks live here, beside the
//! object model they rely on). Objects are built through vm-core's object model from
//! types decoded from a real module; roots are precise slot lists, as engines give.
//!
//! Each check panics with what went wrong.

use core::ptr::NonNull;

use super::heap::{GcConfig, GcHeap, RootSource, allocate};
use super::object::{self, ARRAY_DATA, ObjectHeader};
use super::types::{StorageType, TypeInfo, info};
use crate::runtime::offsets::RawRef;
use crate::runtime::{Features, ModuleInfo, TrapCode, ValType};

/// The types the checks use: `node` (a mutable `i64` and a mutable `anyref`), `refs`
/// (an array of mutable `anyref`), `bytes` (an array of mutable `i8`).
struct Types {
    node: &'static TypeInfo,
    refs: &'static TypeInfo,
    bytes: &'static TypeInfo,
}

fn types() -> Types {
    // `(module (type (struct (field (mut i64)) (field (mut anyref))))
    //   (type (array (mut anyref))) (type (array (mut i8))))`, as a binary (builds
    // without the text format run the checks too).
    const MODULE: [u8; 23] = [
        0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x0d, 0x03, 0x5f, 0x02, 0x7e, 0x01,
        0x6e, 0x01, 0x5e, 0x6e, 0x01, 0x5e, 0x78, 0x01,
    ];
    let m = ModuleInfo::decode(&MODULE, Features::ALL).expect("the checks' module decodes");
    let t = |i: usize| info(m.type_ids[i]).expect("decoded types are registered");
    Types { node: t(0), refs: t(1), bytes: t(2) }
}

const I64: StorageType = StorageType::Val(ValType::I64);
const ANY: StorageType = StorageType::Val(ValType::AnyRef);

fn obj(r: RawRef) -> NonNull<ObjectHeader> {
    object::as_object(r).expect("a struct or array reference")
}

fn node_offsets(t: &Types) -> (usize, usize) {
    let l = t.node.layout.as_ref().expect("a struct has a layout");
    (l.offsets[0] as usize, l.offsets[1] as usize)
}

/// A list of `n` nodes holding `0..n`, the head in `roots[0]`, built while garbage is
/// allocated between the nodes; then read back after more garbage.
fn list_survives<H: GcHeap>(heap: &mut H, t: &Types, n: i64) {
    let (val, next) = node_offsets(t);
    let mut roots = [(0u64, ValType::AnyRef), (0u64, ValType::AnyRef)];
    for i in 0..n {
        // Garbage: a node and a byte array nobody keeps.
        allocate(heap, t.node, 0, &mut roots, |_| {}).expect("room for garbage");
        allocate(heap, t.bytes, (i % 50) as u32, &mut roots, |_| {}).expect("room");
        let new = allocate(heap, t.node, 0, &mut roots, |_| {}).expect("room for a node");
        // SAFETY: `new` was just allocated; `roots[0]` is the live head (rewritten by
        // a moving collector during the allocation).
        unsafe {
            object::write(new, val, I64, i as u128);
            object::write(new, next, ANY, u128::from(roots[0].0));
        }
        roots[0].0 = new.as_ptr() as u64;
    }
    for _ in 0..n {
        allocate(heap, t.refs, 3, &mut roots, |_| {}).expect("room for garbage");
    }
    let mut at = roots[0].0;
    for i in (0..n).rev() {
        // SAFETY: every node of the list is reachable from the root, so live.
        unsafe {
            assert_eq!(
                object::read(obj(at), val, I64, false),
                i as u128,
                "node {i} kept its value"
            );
            at = object::read(obj(at), next, ANY, false) as u64;
        }
    }
    assert_eq!(at, 0, "the list ends");
}

/// Objects reachable only through an array of references, an externalized root and a
/// cycle survive; i31 and internalized externref fields are kept as they are.
fn kinds_of_references<H: GcHeap>(heap: &mut H, t: &Types) {
    let (val, next) = node_offsets(t);
    let mut roots = [(0u64, ValType::AnyRef), (0u64, ValType::ExternRef)];
    let arr = allocate(heap, t.refs, 4, &mut roots, |_| {}).expect("room");
    roots[0].0 = arr.as_ptr() as u64;
    for k in 0..4u64 {
        let n = allocate(heap, t.node, 0, &mut roots, |_| {}).expect("room");
        let arr = obj(roots[0].0);
        // SAFETY: `n` is new; `arr` is rooted.
        unsafe {
            object::write(n, val, I64, u128::from(100 + k));
            let field = match k {
                0 => object::i31_new(-7),
                1 => object::any_convert_extern(42),
                _ => 0,
            };
            object::write(n, next, ANY, u128::from(field));
            object::write(arr, ARRAY_DATA + 8 * k as usize, ANY, n.as_ptr() as u128);
        }
    }
    // A two-node cycle held by an externalized reference only.
    let a = allocate(heap, t.node, 0, &mut roots, |_| {}).expect("room");
    roots[1].0 = object::extern_convert_any(a.as_ptr() as u64);
    let b = allocate(heap, t.node, 0, &mut roots, |_| {}).expect("room");
    let a = obj(object::any_convert_extern(roots[1].0));
    // SAFETY: `a` is rooted, `b` new.
    unsafe {
        object::write(a, next, ANY, b.as_ptr() as u128);
        object::write(b, next, ANY, a.as_ptr() as u128);
        object::write(b, val, I64, 7);
    }
    for i in 0..2000u32 {
        allocate(heap, t.bytes, i % 100, &mut roots, |_| {}).expect("room for garbage");
    }
    let arr = obj(roots[0].0);
    for k in 0..4u64 {
        // SAFETY: the array and its elements are reachable from a root.
        unsafe {
            let n = obj(object::read(arr, ARRAY_DATA + 8 * k as usize, ANY, false) as u64);
            assert_eq!(object::read(n, val, I64, false), u128::from(100 + k));
            let field = object::read(n, next, ANY, false) as u64;
            match k {
                0 => assert_eq!(object::i31_get(field, true), -7),
                1 => assert_eq!(object::extern_convert_any(field), 42),
                _ => assert_eq!(field, 0),
            }
        }
    }
    let a = obj(object::any_convert_extern(roots[1].0));
    // SAFETY: the cycle is reachable from the externref root.
    unsafe {
        let b = obj(object::read(a, next, ANY, false) as u64);
        assert_eq!(object::read(b, val, I64, false), 7);
        assert_eq!(object::read(b, next, ANY, false) as u64, a.as_ptr() as u64);
    }
}

/// Live data beyond the limit traps; once unrooted, it is reclaimed and allocation
/// works again.
fn limit_traps_and_garbage_is_reclaimed<H: GcHeap>(heap: &mut H, t: &Types, limit: usize) {
    let mut roots: Vec<(RawRef, ValType)> = Vec::new();
    let err = loop {
        match allocate(heap, t.bytes, 1000, &mut roots, |_| {}) {
            Ok(o) => roots.push((o.as_ptr() as u64, ValType::AnyRef)),
            Err(e) => break e,
        }
        assert!(roots.len() * 1016 <= limit, "live data beyond the limit");
    };
    assert_eq!(err, TrapCode::OutOfGcMemory);
    assert!(roots.len() * 1016 * 2 >= limit / 2, "only {} KiB live of {limit}", roots.len());
    roots.clear();
    let before = heap.stats().bytes_reclaimed;
    for _ in 0..100 {
        allocate(heap, t.bytes, 1000, &mut roots, |_| {}).expect("room after garbage");
    }
    assert!(heap.stats().bytes_reclaimed > before, "the unrooted arrays were reclaimed");
}

/// Runs every check on heaps from `new_heap` (a reclaiming collector: `reclaims`).
///
/// # Panics
/// At the first check that fails.
pub fn run<H: GcHeap>(new_heap: impl Fn(GcConfig) -> H, reclaims: bool) {
    let t = types();
    for stress in [false, true] {
        let config = GcConfig { limit: 1 << 24, initial: 1 << 12, growth_percent: 100, stress };
        let mut heap = new_heap(config);
        list_survives(&mut heap, &t, if stress { 300 } else { 5000 });
        kinds_of_references(&mut heap, &t);
        let s = heap.stats();
        assert!(s.bytes_allocated > 0 && s.live_bytes <= s.bytes_allocated);
        if reclaims {
            assert!(s.collections > 0 && s.bytes_reclaimed > 0, "{s:?}");
            assert_eq!(s.pauses.count(), s.collections);
            assert!(s.pauses.quantile(0.5) <= s.pauses.quantile(0.99));
            assert!(s.pauses.quantile(0.99) <= s.pauses.max());
        }
    }
    if reclaims {
        let limit = 1 << 20;
        let mut heap =
            new_heap(GcConfig { limit, initial: 1 << 12, growth_percent: 100, stress: false });
        limit_traps_and_garbage_is_reclaimed(&mut heap, &t, limit);
    }
    // Roots with nothing in them are fine.
    let mut heap = new_heap(GcConfig::default());
    let _: &mut dyn RootSource = &mut ();
    allocate(&mut heap, t.node, 0, &mut (), |_| {}).expect("room");
}
