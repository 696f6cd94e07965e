//! Exception handling through the embedding API, on every engine compiled into this
//! build that accepts the exceptions proposal (the others must reject such a module
//! with "unsupported: exceptions"): exceptions caught across functions and
//! instances, an uncaught exception reported as `InvokeError::Exception` with its
//! tag and payload (not as a trap), and host functions that throw.

use vm::runtime::{
    Caller, Exception, Extern, Features, FuncKind, FuncType, HostFuncDef, InvokeError, Linker,
    RunContext, Trap, Val, ValType,
};
use vm::{Composition, Settings, Vm};

const THROWER: &str = r#"(module
  (tag $e (export "e") (param i32 i64))
  (func (export "throw") (param i32)
    (throw $e (local.get 0) (i64.const -5))))"#;

const CATCHER: &str = r#"(module
  (tag $e (import "thrower" "e") (param i32 i64))
  (tag $other (param i32 i64))
  (import "thrower" "throw" (func $throw (param i32)))
  (import "host" "throw" (func $host_throw (param i32)))
  (func $deep (param i32)
    (if (i32.eqz (local.get 0)) (then (call $throw (i32.const 42)) (return)))
    (call $deep (i32.sub (local.get 0) (i32.const 1))))
  (func (export "catch") (param i32) (result i32 i64)
    (block $h (result i32 i64)
      (try_table (catch $other $h) (catch $e $h)
        (call $deep (local.get 0)))
      (i32.const -1) (i64.const -1)))
  (func (export "catch_all_ref") (result i32)
    (block $h (result exnref)
      (try_table (catch_all_ref $h) (call $throw (i32.const 1)))
      (return (i32.const 0)))
    (drop) (i32.const 1))
  (func (export "rethrow")
    (block $h (result i32 i64 exnref)
      (try_table (catch_ref $e $h) (call $throw (i32.const 7)))
      (return))
    (throw_ref))
  (func (export "uncaught") (call $deep (i32.const 3)))
  (func (export "host_caught") (result i32)
    (block $h (result i32 i64)
      (try_table (catch $e $h) (call $host_throw (i32.const 9)))
      (return (i32.const -1)))
    (drop))
  (func (export "host_uncaught") (call $host_throw (i32.const 11))))"#;

/// Throws the tag whose store address the host state holds, with payload
/// `(args[0], -5)`.
fn host_throw(caller: &mut Caller<'_>, args: &[Val], _: &mut [Val]) -> Result<(), Trap> {
    let tag = *caller.state::<u32>().ok_or_else(|| Trap::host("no tag"))?;
    Err(caller.throw(Exception { tag, payload: vec![args[0], Val::I64(-5)] }))
}

static HOST_THROW: HostFuncDef =
    HostFuncDef { name: "throw", params: &[ValType::I32], results: &[], call: host_throw };

fn check<C: Composition>(engine: &str, settings: &Settings) {
    let mut vm = Vm::<C>::new(settings).unwrap().init().unwrap().start().unwrap();
    if !vm.features().contains(Features::EXCEPTIONS) {
        let e = vm.compile(THROWER).unwrap_err().to_string();
        assert!(e.contains("unsupported: exceptions"), "{engine}: {e}");
        return;
    }
    let mut linker = Linker::<C>::new(RunContext::default());
    let m = vm.compile(THROWER).unwrap();
    let thrower = vm.instantiate(&m, &mut linker).unwrap();
    linker.register("thrower", thrower);
    let Some(Extern::Tag(tag)) = linker.export(thrower, "e") else {
        panic!("{engine}: no exported tag");
    };
    let store = linker.store_mut();
    store.host_states.push(Box::new(tag));
    let state = (store.host_states.len() - 1) as u32;
    let sig = store.sigs.intern(&FuncType::new([ValType::I32], []));
    let f = store.push_func(sig, FuncKind::Host { def: &HOST_THROW, state }, std::ptr::null_mut());
    linker.define("host", "throw", Extern::Func(f));
    let m = vm.compile(CATCHER).unwrap();
    let catcher = vm.instantiate(&m, &mut linker).unwrap();

    for depth in [0, 1, 50] {
        let r = vm.invoke(&mut linker, catcher, "catch", &[Val::I32(depth)]);
        assert_eq!(r, Ok(vec![Val::I32(42), Val::I64(-5)]), "{engine} catch {depth}");
    }
    let r = vm.invoke(&mut linker, catcher, "catch_all_ref", &[]);
    assert_eq!(r, Ok(vec![Val::I32(1)]), "{engine} catch_all_ref");
    let want = |v: i32| Exception { tag, payload: vec![Val::I32(v), Val::I64(-5)] };
    for (export, payload) in [("rethrow", 7), ("uncaught", 42), ("host_uncaught", 11)] {
        match vm.invoke(&mut linker, catcher, export, &[]) {
            Err(InvokeError::Exception(e)) => assert_eq!(e, want(payload), "{engine} {export}"),
            other => panic!("{engine} {export}: expected an exception, got {other:?}"),
        }
    }
    let e = vm.invoke(&mut linker, catcher, "uncaught", &[]).unwrap_err().to_string();
    assert_eq!(e, format!("uncaught exception: tag {tag}, payload (i32 42 i64 -5)"));
    let r = vm.invoke(&mut linker, catcher, "host_caught", &[]);
    assert_eq!(r, Ok(vec![Val::I32(9)]), "{engine} host_caught");
    // The VM keeps running guest code after an uncaught exception.
    let r = vm.invoke(&mut linker, thrower, "throw", &[Val::I32(3)]);
    assert!(matches!(r, Err(InvokeError::Exception(_))), "{engine}: {r:?}");
}

#[cfg(feature = "engine-interp")]
#[test]
fn interp_exceptions() {
    check::<crate::engines::InterpVm>("engine-interp", &crate::engines::interp_settings());
}

#[cfg(feature = "engine-cranelift")]
#[test]
fn cranelift_exceptions() {
    check::<crate::engines::CraneliftVm>("engine-cranelift", &Settings::new());
}

#[cfg(feature = "engine-dynasm")]
#[test]
fn dynasm_exceptions() {
    check::<crate::engines::DynasmVm>("engine-dynasm", &Settings::new());
}

#[cfg(all(feature = "engine-cranelift", feature = "virt-kvm"))]
#[test]
fn cranelift_in_a_micro_vm_exceptions() {
    if let Err(why) = crate::engines::kvm_ready() {
        println!("skipped: {why}");
        return;
    }
    check::<crate::engines::CraneliftKvmVm>("engine-cranelift+virt-kvm", &Settings::new());
}

#[cfg(all(feature = "engine-dynasm", feature = "virt-kvm"))]
#[test]
fn dynasm_in_a_micro_vm_exceptions() {
    if let Err(why) = crate::engines::kvm_ready() {
        println!("skipped: {why}");
        return;
    }
    check::<crate::engines::DynasmKvmVm>("engine-dynasm+virt-kvm", &Settings::new());
}
