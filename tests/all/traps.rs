//! Traps from guest code, through the embedding API, on every engine compiled into
//! this build: each comes back as a `Trap` with the right code and a wasm backtrace,
//! and the VM (and this process) keeps working afterwards.

use vm::runtime::{InvokeError, Linker, RunContext, TrapCode, Val};
use vm::{Composition, Settings, Vm};

const MODULE: &str = r#"(module
  (memory 1)
  (table 2 funcref)
  (type $v (func))
  (type $i (func (result i32)))
  (func $nop (type $v))
  (elem (i32.const 0) $nop)
  (func $deep (export "deep") (result i32) (i32.add (call $deep) (i32.const 1)))
  (func (export "spin") (loop (br 0)))
  (func (export "div") (param i32) (result i32) (i32.div_s (i32.const 1) (local.get 0)))
  (func (export "overflow") (result i32) (i32.div_s (i32.const 0x80000000) (i32.const -1)))
  (func (export "load_oob") (result i32) (i32.load (i32.const 65533)))
  (func (export "store_oob") (i32.store (i32.const -1) (i32.const 1)))
  (func (export "offset_oob") (result i64) (i64.load offset=0xfffffff0 (i32.const 0x100)))
  (func (export "unreachable") unreachable)
  (func (export "mismatch") (result i32) (call_indirect (type $i) (i32.const 0)))
  (func (export "null") (call_indirect (type $v) (i32.const 1)))
  (func (export "table_oob") (call_indirect (type $v) (i32.const 5)))
  (func (export "nan") (result i32) (i32.trunc_f32_s (f32.const nan)))
  (func $inner (unreachable))
  (func $outer (export "nested") (call $inner))
  (func (export "ok") (result i32) (i32.const 7)))"#;

fn check<C: Composition>(engine: &str, flags: &[&str]) {
    let mut s = Settings::new();
    s.merge_flag("engine.fuel=1000000").unwrap();
    for f in flags {
        s.merge_flag(f).unwrap();
    }
    let mut vm = Vm::<C>::new(&s).unwrap().init().unwrap().start().unwrap();
    let module = vm.compile(MODULE).unwrap();
    let mut linker = Linker::<C>::new(RunContext::default());
    let inst = vm.instantiate(&module, &mut linker).unwrap();
    for (export, args, code) in [
        ("deep", vec![], TrapCode::StackOverflow),
        ("spin", vec![], TrapCode::OutOfFuel),
        ("div", vec![Val::I32(0)], TrapCode::IntegerDivisionByZero),
        ("overflow", vec![], TrapCode::IntegerOverflow),
        ("load_oob", vec![], TrapCode::MemoryOutOfBounds),
        ("store_oob", vec![], TrapCode::MemoryOutOfBounds),
        ("offset_oob", vec![], TrapCode::MemoryOutOfBounds),
        ("unreachable", vec![], TrapCode::Unreachable),
        ("mismatch", vec![], TrapCode::BadSignature),
        ("null", vec![], TrapCode::IndirectCallToNull),
        ("table_oob", vec![], TrapCode::TableOutOfBounds),
        ("nan", vec![], TrapCode::BadConversionToInteger),
    ] {
        match vm.invoke(&mut linker, inst, export, &args) {
            Err(InvokeError::Trap(t)) => {
                assert_eq!(t.code, code, "{engine} {export}: {t}");
                assert!(!t.backtrace.is_empty(), "{engine} {export}: no backtrace");
            }
            other => panic!("{engine} {export}: expected a trap, got {other:?}"),
        }
        if code == TrapCode::OutOfFuel {
            // Fuel is the store's: refill it for the calls that follow.
            vm.set_fuel(&mut linker, 1_000_000).unwrap();
        }
        // The VM still runs guest code after each trap.
        let ok = vm.invoke(&mut linker, inst, "ok", &[]).unwrap();
        assert_eq!(ok, vec![Val::I32(7)], "{engine} after {export}");
    }
    let Err(InvokeError::Trap(t)) = vm.invoke(&mut linker, inst, "nested", &[]) else {
        panic!("{engine}: nested should trap");
    };
    let names: Vec<_> = t.backtrace.iter().map(|f| f.func_name.as_deref()).collect();
    assert_eq!(names, [Some("inner"), Some("outer")], "{engine}: {t}");
}

#[cfg(feature = "engine-interp")]
#[test]
fn interp_returns_every_trap() {
    check::<crate::engines::InterpVm>("engine-interp", &[crate::engines::INTERP_VERIFY]);
}

#[cfg(feature = "engine-cranelift")]
#[test]
fn cranelift_returns_every_trap() {
    check::<crate::engines::CraneliftVm>("engine-cranelift", &[]);
}

#[cfg(feature = "engine-dynasm")]
#[test]
fn dynasm_returns_every_trap() {
    check::<crate::engines::DynasmVm>("engine-dynasm", &[]);
}

#[cfg(all(feature = "engine-dynasm", feature = "virt-kvm"))]
#[test]
fn dynasm_in_a_micro_vm_returns_every_trap() {
    if let Err(why) = crate::engines::kvm_ready() {
        println!("skipped: {why}");
        return;
    }
    check::<crate::engines::DynasmKvmVm>("engine-dynasm+virt-kvm", &[]);
}

#[cfg(all(feature = "engine-cranelift", feature = "virt-kvm"))]
#[test]
fn cranelift_in_a_micro_vm_returns_every_trap() {
    if let Err(why) = crate::engines::kvm_ready() {
        println!("skipped: {why}");
        return;
    }
    check::<crate::engines::CraneliftKvmVm>("engine-cranelift+virt-kvm", &[]);
}
