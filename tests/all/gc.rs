//! The GC proposal on the interpreter with each collector: the GC spec files under
//! `gc.stress=true` (a collection at every allocation, so every object that survives
//! was reached from a precise root: a frame slot named by a stack map, a global, a
//! table, a segment or a host handle), lists that survive many collections, host
//! handles that keep objects alive, and `gc-null` trapping at its heap limit.

use vm::runtime::{InvokeError, Linker, RunContext, TrapCode, Val};
use vm::{Composition, Settings, Vm};

use crate::engines::INTERP_VERIFY;
use crate::support::shared;

vm::compose! {
    /// The interpreter with the bump allocator that never frees.
    pub struct InterpNull {
        engine: vm::vm_engine_interp::Interp,
        virt: vm::vm_virt_host::HostVirt,
        gc: vm_gc_null::GcNull,
    }
}

vm::compose! {
    /// The interpreter with the non-moving mark-sweep collector.
    pub struct InterpMarkSweep {
        engine: vm::vm_engine_interp::Interp,
        virt: vm::vm_virt_host::HostVirt,
        gc: vm_gc_mark_sweep::MarkSweep,
    }
}

vm::compose! {
    /// The interpreter with the moving semispace collector (precise roots required).
    pub struct InterpCopying {
        engine: vm::vm_engine_interp::Interp,
        virt: vm::vm_virt_host::HostVirt,
        gc: vm_gc_copying::Copying,
    }
}

/// The GC files of the wasm-3.0 spec folder.
pub const GC_FILES: &[&str] = &[
    "array.wast",
    "array_copy.wast",
    "array_fill.wast",
    "array_init_data.wast",
    "array_init_elem.wast",
    "array_new_data.wast",
    "array_new_elem.wast",
    "br_on_cast.wast",
    "br_on_cast_fail.wast",
    "extern.wast",
    "i31.wast",
    "ref_cast.wast",
    "ref_eq.wast",
    "ref_test.wast",
    "struct.wast",
    "type-canon.wast",
    "type-rec.wast",
    "type-subtyping.wast",
];

fn settings(flags: &[&str]) -> Settings {
    let mut s = Settings::new();
    s.merge_flag(INTERP_VERIFY).unwrap();
    for f in flags {
        s.merge_flag(f).unwrap();
    }
    s
}

fn gc_files_pass<C: Composition>(name: &str, flags: &[&str]) {
    let Some(dir) = shared("spec-testsuite/wasm-3.0") else { return };
    let s = settings(flags);
    let mut problems = Vec::new();
    for f in GC_FILES {
        let r = vm::wast::run_wast_file_with::<C>(dir.join(f), &s);
        println!("{name} {flags:?} {f}: {} passed, {} failed", r.passed, r.failed);
        assert!(r.passed > 0, "{name} {f}: nothing ran");
        assert_eq!(r.skipped, 0, "{name} {f}: directives skipped");
        for fail in r.failures.iter().take(5) {
            problems.push(format!("{name} {f}:{}: {}", fail.line, fail.reason));
        }
    }
    assert!(problems.is_empty(), "GC spec failures:\n{}", problems.join("\n"));
}

#[test]
#[cfg_attr(vm_shared_absent, ignore = "../shared is absent (it ships beside the repository)")]
fn gc_spec_files_pass_with_every_collector_under_stress() {
    gc_files_pass::<InterpMarkSweep>("mark-sweep", &["gc.stress=true"]);
    gc_files_pass::<InterpCopying>("copying", &["gc.stress=true"]);
    gc_files_pass::<InterpCopying>("copying", &[]);
    gc_files_pass::<InterpNull>("null", &[]);
}

/// A list of `n` structs built in a loop (each allocation may collect while the list
/// so far is only in a local and an operand), then summed.
const LIST: &str = r#"(module
  (type $node (struct (field $v i64) (field $next (ref null $node))))
  (type $bytes (array (mut i8)))
  (global $keep (mut (ref null $node)) (ref.null $node))
  (func $build (param $n i64) (result (ref null $node))
    (local $l (ref null $node))
    (block $done
      (loop $again
        (br_if $done (i64.eqz (local.get $n)))
        ;; garbage between the live nodes
        (drop (array.new_default $bytes (i32.const 100)))
        (local.set $l (struct.new $node (local.get $n) (local.get $l)))
        (local.set $n (i64.sub (local.get $n) (i64.const 1)))
        (br $again)))
    (local.get $l))
  (func $sum (param $l (ref null $node)) (result i64)
    (local $s i64)
    (block $done
      (loop $again
        (br_on_null $done (local.get $l))
        (struct.get $node $v)
        (local.set $s (i64.add (local.get $s)))
        (local.set $l (struct.get $node $next (local.get $l)))
        (br $again)))
    (local.get $s))
  ;; The list is an operand of the caller while the callee allocates.
  (func $churn (param $k i32) (result i32)
    (if (result i32) (i32.eqz (local.get $k))
      (then (i32.const 0))
      (else
        (drop (struct.new $node (i64.const 0) (ref.null $node)))
        (call $churn (i32.sub (local.get $k) (i32.const 1))))))
  (func (export "run") (param $n i64) (result i64)
    (local $l (ref null $node))
    (local.set $l (call $build (local.get $n)))
    (drop (call $churn (i32.const 200)))
    (call $sum (local.get $l)))
  (func (export "make") (param $n i64) (result anyref)
    (call $build (local.get $n)))
  (func (export "sum") (param $l anyref) (result i64)
    (call $sum (ref.cast (ref null $node) (local.get $l))))
  (func (export "burn") (param $n i32)
    (loop $again
      (drop (array.new_default $bytes (i32.const 1000)))
      (br_if $again (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))))"#;

fn lists_survive<C: Composition>(name: &str, flags: &[&str]) {
    let mut vm = Vm::<C>::new(&settings(flags)).unwrap().init().unwrap().start().unwrap();
    let module = vm.compile(LIST).unwrap();
    let mut linker = Linker::<C>::new(RunContext::default());
    let inst = vm.instantiate(&module, &mut linker).unwrap();
    let r = vm.invoke(&mut linker, inst, "run", &[Val::I64(300)]).unwrap();
    assert_eq!(r, vec![Val::I64(300 * 301 / 2)], "{name}");
    // A host handle keeps a list alive across collections the guest runs.
    let list = vm.invoke(&mut linker, inst, "make", &[Val::I64(50)]).unwrap();
    assert!(matches!(list[..], [Val::AnyRef(Some(_))]), "{name}: {list:?}");
    vm.invoke(&mut linker, inst, "burn", &[Val::I32(2000)]).unwrap();
    let r = vm.invoke(&mut linker, inst, "sum", &list).unwrap();
    assert_eq!(r, vec![Val::I64(50 * 51 / 2)], "{name}");
    let stats = linker.store().gc_stats().expect("the heap was used");
    assert!(stats.collections > 0, "{name}: no collection ran ({stats:?})");
}

#[test]
fn objects_reached_from_frames_globals_and_handles_survive_collections() {
    // A small heap: the 2,000 garbage arrays of `burn` need several collections.
    lists_survive::<InterpMarkSweep>("mark-sweep", &["gc.limit=1048576", "gc.initial=65536"]);
    lists_survive::<InterpMarkSweep>("mark-sweep", &["gc.stress=true"]);
    lists_survive::<InterpCopying>("copying", &["gc.limit=1048576", "gc.initial=65536"]);
    lists_survive::<InterpCopying>("copying", &["gc.stress=true"]);
}

#[test]
fn gc_null_traps_cleanly_at_its_heap_limit() {
    let s = settings(&["gc.limit=65536", "gc.initial=4096"]);
    let mut vm = Vm::<InterpNull>::new(&s).unwrap().init().unwrap().start().unwrap();
    let module = vm.compile(LIST).unwrap();
    let mut linker = Linker::<InterpNull>::new(RunContext::default());
    let inst = vm.instantiate(&module, &mut linker).unwrap();
    match vm.invoke(&mut linker, inst, "burn", &[Val::I32(1000)]) {
        Err(InvokeError::Trap(t)) => {
            assert_eq!(t.code, TrapCode::OutOfGcMemory, "{t}");
            assert!(t.to_string().contains("out of memory: gc heap"), "{t}");
        }
        other => panic!("expected the gc heap to run out, got {other:?}"),
    }
    // The VM keeps working after the trap.
    let r = vm.invoke(&mut linker, inst, "sum", &[Val::AnyRef(None)]).unwrap();
    assert_eq!(r, vec![Val::I64(0)]);
}
