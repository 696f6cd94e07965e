//! Resource limits on every engine compiled into this build: fuel (one definition,
//! `vm_core::runtime::limits`), memory and table size, call depth, the wall-clock
//! timeout and interrupt handles. Exceeding a limit is a trap, a -1 from a grow
//! operator, or an instantiation error; never a crash.

use std::time::Duration;

use vm::runtime::{
    Extern, InstantiationError, InvokeError, LimitError, Linker, MemoryError, RunContext, TrapCode,
    Val,
};
use vm::{Composition, Settings, Vm};

type Started<C> = Vm<C, vm::compose::lifecycle::Running>;

fn vm_with<C: Composition>(flags: &[&str]) -> Started<C> {
    let mut s = Settings::new();
    for f in flags {
        s.merge_flag(f).unwrap();
    }
    Vm::<C>::new(&s).unwrap().init().unwrap().start().unwrap()
}

fn setup<C: Composition>(
    flags: &[&str],
    wat: &str,
) -> (Started<C>, Linker<C>, vm::runtime::Instance) {
    let mut vm = vm_with::<C>(flags);
    let module = vm.compile(wat).unwrap();
    let mut linker = Linker::<C>::new(RunContext::default());
    let inst = vm.instantiate(&module, &mut linker).unwrap();
    (vm, linker, inst)
}

fn trap_code<C: Composition>(
    vm: &mut Started<C>,
    linker: &mut Linker<C>,
    inst: vm::runtime::Instance,
    name: &str,
    args: &[Val],
) -> TrapCode {
    match vm.invoke(linker, inst, name, args) {
        Err(InvokeError::Trap(t)) => t.code,
        other => panic!("{name}: expected a trap, got {other:?}"),
    }
}

const FUEL: &str = r#"(module
  (memory (export "mem") 1)
  ;; Runs: entry [loop] = 1; loop header [12 operators up to br_if] = 12 per
  ;; iteration; after br_if [end] = 1; after the loop's end [local.get, end] = 2.
  (func (export "sum") (param $n i32) (result i32) (local $i i32) (local $s i32)
    (loop $l
      (local.set $s (i32.add (local.get $s) (local.get $i)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $s))
  ;; Runs: entry [loop] = 1; loop header [8 operators up to br] = 8 per iteration;
  ;; the loop's end and the function's end are unreachable.
  (func (export "count") (local $i i32)
    (loop $l
      (i32.store (i32.const 0) (local.get $i))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l)))
  ;; Caller: [i32.const, call] then [end] = 3. Callee: [local.get, if], the else
  ;; arm [i32.const, end], then [end] = 5.
  (func $callee (param i32) (result i32)
    (if (result i32) (local.get 0) (then (i32.const 1)) (else (i32.const 2))))
  (func (export "call") (result i32) (call $callee (i32.const 0))))"#;

/// Fuel of `sum(n)`.
fn sum_cost(n: u64) -> u64 {
    1 + 12 * n + 1 + 2
}

fn fuel_counts_every_operator<C: Composition>(engine: &str) {
    let (mut vm, mut linker, inst) = setup::<C>(&["engine.fuel=1000000"], FUEL);
    assert_eq!(vm.fuel_consumed(&linker), Some(0), "{engine}");
    let r = vm.invoke(&mut linker, inst, "sum", &[Val::I32(10)]).unwrap();
    assert_eq!(r, [Val::I32(45)], "{engine}");
    assert_eq!(vm.fuel_consumed(&linker), Some(sum_cost(10)), "{engine}");
    // The budget is the store's: a second call consumes from what is left.
    vm.invoke(&mut linker, inst, "sum", &[Val::I32(3)]).unwrap();
    let used = sum_cost(10) + sum_cost(3);
    assert_eq!(vm.fuel_consumed(&linker), Some(used), "{engine}");
    assert_eq!(vm.fuel_remaining(&linker), Some(1_000_000 - used), "{engine}");
    let before = linker.store().fuel_consumed();
    assert_eq!(vm.invoke(&mut linker, inst, "call", &[]).unwrap(), [Val::I32(2)]);
    assert_eq!(linker.store().fuel_consumed() - before, 3 + 5, "{engine}");
}

fn out_of_fuel_at_a_check<C: Composition>(engine: &str) {
    let (mut vm, mut linker, inst) = setup::<C>(&["engine.fuel=100"], FUEL);
    assert_eq!(trap_code(&mut vm, &mut linker, inst, "count", &[]), TrapCode::OutOfFuel);
    // Entry charges 1; iteration k's header check charges 8 and traps once the
    // total passes 100: at k = 13, after 12 iterations stored 0..=11.
    assert_eq!(vm.fuel_consumed(&linker), Some(1 + 8 * 13), "{engine}");
    assert_eq!(vm.fuel_remaining(&linker), Some(0), "{engine}");
    let mem = vm.memory(&linker, inst, "mem").unwrap();
    assert_eq!(mem[..4], 11u32.to_le_bytes(), "{engine}: memory at the trap");
    // Out of fuel, every call traps at its first check until the store is refilled.
    let code = trap_code(&mut vm, &mut linker, inst, "sum", &[Val::I32(1)]);
    assert_eq!(code, TrapCode::OutOfFuel, "{engine}");
    vm.set_fuel(&mut linker, sum_cost(4)).unwrap();
    let consumed = linker.store().fuel_consumed();
    assert_eq!(vm.invoke(&mut linker, inst, "sum", &[Val::I32(4)]).unwrap(), [Val::I32(6)]);
    assert_eq!(vm.fuel_remaining(&linker), Some(0), "{engine}: exactly enough");
    assert_eq!(linker.store().fuel_consumed() - consumed, sum_cost(4), "{engine}");
}

fn fuel_off<C: Composition>(engine: &str) {
    let (mut vm, mut linker, inst) = setup::<C>(&[], FUEL);
    assert_eq!(vm.fuel_consumed(&linker), None, "{engine}");
    assert_eq!(vm.set_fuel(&mut linker, 10), Err(LimitError::FuelOff), "{engine}");
    assert_eq!(vm.invoke(&mut linker, inst, "sum", &[Val::I32(100)]).unwrap(), [Val::I32(4950)]);
}

const MEMORY: &str = r#"(module
  (memory (export "mem") 1)
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "size") (result i32) (memory.size)))"#;

fn memory_limit<C: Composition>(engine: &str) {
    let (mut vm, mut linker, inst) = setup::<C>(&["virt.max_memory_pages=2"], MEMORY);
    let mut call = |name: &str, args: &[Val]| vm.invoke(&mut linker, inst, name, args).unwrap();
    assert_eq!(call("grow", &[Val::I32(1)]), [Val::I32(1)], "{engine}");
    assert_eq!(call("grow", &[Val::I32(1)]), [Val::I32(-1)], "{engine}: past the limit");
    assert_eq!(call("grow", &[Val::I32(0x7fff_ffff)]), [Val::I32(-1)], "{engine}");
    assert_eq!(call("size", &[]), [Val::I32(2)], "{engine}");
    // The committed size is what `memory_bytes` reports.
    let virt = vm.health().into_iter().find(|h| h.id == "virt-host").unwrap();
    assert_eq!(virt.stats.memory_bytes, 2 * 65536, "{engine}");

    let mut vm = vm_with::<C>(&["virt.max_memory_pages=2"]);
    let module = vm.compile("(module (memory 3))").unwrap();
    let err = vm.instantiate(&module, &mut Linker::default()).unwrap_err();
    assert_eq!(
        err,
        InstantiationError::Memory(MemoryError::TooLarge { pages: 3, limit: 2 }),
        "{engine}"
    );
    assert!(err.to_string().contains("exceeds the limit of 2 pages"), "{engine}: {err}");
}

const TABLE: &str = r#"(module
  (table (export "t") 2 funcref)
  (func (export "grow") (param i32) (result i32) (table.grow (ref.null func) (local.get 0)))
  (func (export "size") (result i32) (table.size)))"#;

fn table_limit<C: Composition>(engine: &str) {
    let (mut vm, mut linker, inst) = setup::<C>(&["virt.max_table_elements=4"], TABLE);
    let mut call = |name: &str, args: &[Val]| vm.invoke(&mut linker, inst, name, args).unwrap();
    assert_eq!(call("grow", &[Val::I32(2)]), [Val::I32(2)], "{engine}");
    assert_eq!(call("grow", &[Val::I32(1)]), [Val::I32(-1)], "{engine}: past the limit");
    assert_eq!(call("size", &[]), [Val::I32(4)], "{engine}");

    for (flags, wat, elements, limit) in [
        (&["virt.max_table_elements=4"][..], "(module (table 5 funcref))", 5, 4),
        // Refused before anything is allocated (32 GiB of elements otherwise).
        (&[][..], "(module (table 0xffffffff funcref))", 0xffff_ffff, 10_000_000),
    ] {
        let mut vm = vm_with::<C>(flags);
        let module = vm.compile(wat).unwrap();
        let mut linker = Linker::default();
        let err = vm.instantiate(&module, &mut linker).unwrap_err();
        assert_eq!(err, InstantiationError::TableTooLarge { elements, limit }, "{engine}");
        assert!(err.to_string().contains("max_table_elements"), "{engine}: {err}");
        assert!(linker.store().tables.is_empty() && linker.store().funcs.is_empty());
    }
}

const SPIN: &str = r#"(module
  (func $deep (export "deep") (result i32) (i32.add (call $deep) (i32.const 1)))
  (func (export "spin") (loop (br 0)))
  (func (export "ok") (result i32) (i32.const 7)))"#;

fn call_depth<C: Composition>(engine: &str, flags: &[&str]) {
    let (mut vm, mut linker, inst) = setup::<C>(flags, SPIN);
    for _ in 0..2 {
        let code = trap_code(&mut vm, &mut linker, inst, "deep", &[]);
        assert_eq!(code, TrapCode::StackOverflow, "{engine} {flags:?}");
        assert_eq!(vm.invoke(&mut linker, inst, "ok", &[]).unwrap(), [Val::I32(7)]);
    }
}

fn timeout<C: Composition>(engine: &str) {
    let (mut vm, mut linker, inst) = setup::<C>(&["engine.timeout_ms=50"], SPIN);
    for _ in 0..2 {
        let code = trap_code(&mut vm, &mut linker, inst, "spin", &[]);
        assert_eq!(code, TrapCode::Interrupted, "{engine}");
        // The next call is not interrupted by the last one's timeout.
        assert_eq!(vm.invoke(&mut linker, inst, "ok", &[]).unwrap(), [Val::I32(7)]);
    }
}

fn interrupt_handle<C: Composition>(engine: &str) {
    let (vm, linker, _) = setup::<C>(&[], SPIN);
    assert_eq!(vm.interrupt_handle(&linker).err(), Some(LimitError::InterruptOff), "{engine}");

    let (mut vm, mut linker, inst) = setup::<C>(&["engine.interruptible=true"], SPIN);
    let handle = vm.interrupt_handle(&linker).unwrap();
    let t = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(20));
        handle.interrupt();
    });
    let code = trap_code(&mut vm, &mut linker, inst, "spin", &[]);
    t.join().unwrap();
    assert_eq!(code, TrapCode::Interrupted, "{engine}");
    assert_eq!(vm.invoke(&mut linker, inst, "ok", &[]).unwrap(), [Val::I32(7)], "{engine}");
}

const RESULTS: &str = r#"(module
  (import "wasi_snapshot_preview1" "sched_yield" (func (result i32)))
  (func (export "two") (result i32 i64) (i32.const 1) (i64.const 2)))"#;

/// `Engine::call` appends its results after what the vector already holds, for wasm
/// and host functions alike.
fn call_appends_results<C: Composition>(engine: &str) {
    let (mut vm, mut linker, inst) = setup::<C>(&[], RESULTS);
    let Some(Extern::Func(two)) = linker.export(inst, "two") else { panic!("two") };
    let mut results = vec![Val::I32(99)];
    linker.store_mut().call(vm.plugins_mut(), two, &[], &mut results).unwrap();
    assert_eq!(results, [Val::I32(99), Val::I32(1), Val::I64(2)], "{engine}");
    let host = linker
        .store()
        .funcs
        .iter()
        .position(|f| matches!(f.kind, vm::runtime::FuncKind::Host { .. }));
    let host = host.expect("the imported host function") as u32;
    linker.store_mut().call(vm.plugins_mut(), host, &[], &mut results).unwrap();
    assert_eq!(results, [Val::I32(99), Val::I32(1), Val::I64(2), Val::I32(0)], "{engine}");
}

macro_rules! per_engine {
    ($feature:literal, $vm:ty, $id:literal, $m:ident) => {
        #[cfg(feature = $feature)]
        mod $m {
            type E = $vm;
            const ID: &str = $id;

            #[test]
            fn fuel_counts_every_operator() {
                super::fuel_counts_every_operator::<E>(ID);
            }
            #[test]
            fn out_of_fuel_at_a_check() {
                super::out_of_fuel_at_a_check::<E>(ID);
            }
            #[test]
            fn fuel_off() {
                super::fuel_off::<E>(ID);
            }
            #[test]
            fn memory_limit() {
                super::memory_limit::<E>(ID);
            }
            #[test]
            fn table_limit() {
                super::table_limit::<E>(ID);
            }
            #[test]
            fn call_depth() {
                super::call_depth::<E>(ID, &[]);
                super::call_depth::<E>(ID, &["virt.max_call_depth=100"]);
            }
            #[test]
            fn timeout() {
                super::timeout::<E>(ID);
            }
            #[test]
            fn interrupt_handle() {
                super::interrupt_handle::<E>(ID);
            }
            #[test]
            fn call_appends_results() {
                super::call_appends_results::<E>(ID);
            }
        }
    };
}

per_engine!("engine-interp", crate::engines::InterpVm, "engine-interp", interp);
per_engine!("engine-cranelift", crate::engines::CraneliftVm, "engine-cranelift", cranelift);
per_engine!("engine-dynasm", crate::engines::DynasmVm, "engine-dynasm", dynasm);
