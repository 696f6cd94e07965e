use super::*;
use crate::runtime::{Features, ModuleInfo};

fn decode(wat: &str) -> ModuleInfo {
    ModuleInfo::decode(wat.as_bytes(), Features::ALL).unwrap()
}

fn concrete(id: u32) -> RefType {
    RefType { nullable: false, heap: HeapType::Concrete(id) }
}

#[test]
fn equal_groups_share_ids_and_reordered_groups_do_not() {
    let a = decode(
        "(module (rec (type $a (struct (field (ref null $b)))) (type $b (struct (field (ref null $a) i32)))))",
    );
    let b = decode(
        "(module (type (func)) (rec (type $a (struct (field (ref null $b)))) (type $b (struct (field (ref null $a) i32)))))",
    );
    let swapped = decode(
        "(module (rec (type $b (struct (field (ref null $a) i32))) (type $a (struct (field (ref null $b))))))",
    );
    assert_eq!(a.type_ids, b.type_ids[1..]);
    assert_eq!(a.type_ids[1], a.type_ids[0] + 1);
    assert_ne!(a.type_ids[0], swapped.type_ids[1]);
    assert_ne!(a.type_ids[1], swapped.type_ids[0]);
    // Members point to each other by canonical id.
    let ta = info(a.type_ids[0]).unwrap();
    assert_eq!(
        ta.fields()[0].refty,
        Some(RefType { nullable: true, heap: HeapType::Concrete(a.type_ids[1]) })
    );
    assert_eq!(ta.fields()[0].storage, StorageType::Val(ValType::AnyRef));
}

#[test]
fn lone_function_types_keep_their_signature_ids() {
    let m = decode("(module (type (func (param i32) (result i64))))");
    let host = FuncType::new([ValType::I32], [ValType::I64]);
    assert_eq!(m.type_ids[0], host.canonical());
    assert_eq!(m.types[0], host);
    // An open (non-final) function type is another type.
    let open = decode("(module (type (sub (func (param i32) (result i64)))))");
    assert_ne!(open.type_ids[0], host.canonical());
    assert_ne!(open.types[0], host);
}

#[test]
fn declared_supertypes_and_abstract_hierarchy() {
    let m = decode(
        "(module (type $s (sub (struct))) (type $t (sub $s (struct (field i32)))) \
         (type $u (sub final $t (struct (field i32 i64)))) (type $arr (array i8)) (type $f (func)))",
    );
    let [s, t, u, arr, f] = m.type_ids[..] else { panic!() };
    assert!(info(u).unwrap().is_subtype_of(info(s).unwrap()));
    assert!(!info(s).unwrap().is_subtype_of(info(t).unwrap()));
    assert_eq!(info(u).unwrap().depth(), 2);
    assert!(info(u).unwrap().is_final && !info(t).unwrap().is_final);
    for (sub, sup) in [
        (concrete(u), concrete(s)),
        (concrete(t), RefType { nullable: false, heap: HeapType::Struct }),
        (concrete(arr), RefType { nullable: false, heap: HeapType::Array }),
        (concrete(arr), RefType::ANYREF),
        (concrete(f), RefType::FUNCREF),
        (
            RefType { nullable: true, heap: HeapType::None },
            RefType { nullable: true, ..concrete(s) },
        ),
        (
            RefType { nullable: true, heap: HeapType::I31 },
            RefType { nullable: true, heap: HeapType::Eq },
        ),
        (
            RefType { nullable: true, heap: HeapType::NoFunc },
            RefType { nullable: true, ..concrete(f) },
        ),
        (RefType { nullable: true, heap: HeapType::NoExtern }, RefType::EXTERNREF),
    ] {
        assert!(sub.matches(sup), "{sub} <: {sup}");
    }
    for (sub, sup) in [
        (concrete(s), concrete(u)),
        (concrete(arr), RefType { nullable: false, heap: HeapType::Struct }),
        (concrete(f), RefType::ANYREF),
        (
            RefType { nullable: true, heap: HeapType::None },
            RefType { nullable: true, ..concrete(f) },
        ),
        (
            RefType { nullable: true, heap: HeapType::Eq },
            RefType { nullable: true, heap: HeapType::I31 },
        ),
        (RefType::ANYREF, RefType::EXTERNREF),
        (RefType { nullable: true, ..concrete(s) }, concrete(s)),
    ] {
        assert!(!sub.matches(sup), "{sub} </: {sup}");
    }
    assert_eq!(concrete(s).repr(), ValType::AnyRef);
    assert_eq!(concrete(f).repr(), ValType::FuncRef);
}

#[test]
fn struct_fields_are_aligned_after_the_header() {
    let m = decode("(module (type (struct (field i8 i64 (mut i16) anyref v128 externref))))");
    let t = info(m.type_ids[0]).unwrap();
    let layout = t.layout.as_ref().unwrap();
    assert_eq!(&layout.offsets[..], &[16, 24, 32, 40, 48, 64]);
    assert_eq!(layout.size, 72);
    assert_eq!(&layout.refs[..], &[40, 64]);
    assert!(t.fields()[2].mutable && !t.fields()[1].mutable);
    assert_eq!(t.fields()[0].storage, StorageType::I8);
}

#[test]
fn self_references_and_null_constants_of_every_hierarchy() {
    // A lone function type naming itself (a recursive type: GC).
    let m = decode("(module (type $t (func (param (ref $t)) (result (ref null $t)))))");
    assert_eq!(m.types[0].params(), [ValType::FuncRef]);
    let m = decode(
        "(module (type $s (struct)) (global anyref (ref.null any)) (global (ref null $s) (ref.null $s))          (global nullfuncref (ref.null nofunc)) (global nullexternref (ref.null noextern)))",
    );
    let reprs: Vec<ValType> = m.globals.iter().map(|g| g.ty).collect();
    assert_eq!(reprs, [ValType::AnyRef, ValType::AnyRef, ValType::FuncRef, ValType::ExternRef]);
    let inits: Vec<crate::runtime::Val> =
        m.global_inits.iter().map(|e| e.eval(|_| unreachable!(), |_| unreachable!())).collect();
    use crate::runtime::Val;
    assert_eq!(
        inits,
        [Val::AnyRef(None), Val::AnyRef(None), Val::FuncRef(None), Val::ExternRef(None)]
    );
}
