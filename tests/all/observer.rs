//! Observers: typed events by static dispatch, switchable at run time.

use std::sync::atomic::{AtomicU64, Ordering};

use vm::runtime::{InvokeError, Linker, RunContext, TrapCode};
use vm::slot::{Event, EventKind, EventMask, Observer};
use vm::{Composition, Plugin, PluginError, Settings, Vm, plugin};

/// Counts host calls, compiles and traps (test fixture).
#[plugin(id = "fx-counter", slot = observer)]
pub struct Counter {
    calls: AtomicU64,
    compiles: AtomicU64,
    traps: AtomicU64,
}

impl Plugin for Counter {
    type Config = vm::config::NoConfig;
    fn new(_: Self::Config) -> Result<Self, PluginError> {
        Ok(Self { calls: AtomicU64::new(0), compiles: AtomicU64::new(0), traps: AtomicU64::new(0) })
    }
}

impl Observer for Counter {
    const EVENTS: EventMask =
        EventMask::NONE.with(EventKind::Call).with(EventKind::Compile).with(EventKind::Trap);
    fn on_event(&self, event: &Event<'_>) {
        let counter = match event {
            Event::Call { .. } => &self.calls,
            Event::Compile { .. } => &self.compiles,
            Event::Trap { .. } => &self.traps,
            _ => return,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

vm::compose! {
    /// The interpreter with a counting observer.
    pub struct Observed {
        engine: vm::vm_engine_interp::Interp,
        virt: vm::vm_virt_host::HostVirt,
        observers: [Counter],
    }
}

#[test]
fn observers_see_subscribed_events_and_can_be_switched_off() {
    assert!(Observed::EVENTS.contains(EventKind::Call));
    assert!(!Observed::EVENTS.contains(EventKind::WasmCall));
    let s = crate::engines::interp_settings();
    let mut vm = Vm::<Observed>::new(&s).unwrap().init().unwrap().start().unwrap();
    let module =
        vm.compile(r#"(module (func (export "ok")) (func (export "bad") unreachable))"#).unwrap();
    let mut linker = Linker::new(RunContext::default());
    let inst = vm.instantiate(&module, &mut linker).unwrap();
    vm.invoke(&mut linker, inst, "ok", &[]).unwrap();
    let err = vm.invoke(&mut linker, inst, "bad", &[]).unwrap_err();
    assert!(matches!(err, InvokeError::Trap(t) if t.code == TrapCode::Unreachable));
    let c = vm.plugin::<Counter>();
    assert_eq!(c.compiles.load(Ordering::Relaxed), 1);
    assert_eq!(c.calls.load(Ordering::Relaxed), 2);
    assert_eq!(c.traps.load(Ordering::Relaxed), 1);

    assert!(vm.plugins().set_observer_enabled("fx-counter", false));
    assert!(!vm.plugins().set_observer_enabled("no-such-observer", false));
    vm.invoke(&mut linker, inst, "ok", &[]).unwrap();
    assert_eq!(vm.plugin::<Counter>().calls.load(Ordering::Relaxed), 2, "switched off");
}

/// Counts wasm-to-wasm calls (test fixture).
#[plugin(id = "fx-call-counter", slot = observer)]
pub struct CallCounter(AtomicU64);

impl Plugin for CallCounter {
    type Config = vm::config::NoConfig;
    fn new(_: Self::Config) -> Result<Self, PluginError> {
        Ok(Self(AtomicU64::new(0)))
    }
}

impl Observer for CallCounter {
    const EVENTS: EventMask = EventMask::NONE.with(EventKind::WasmCall);
    fn on_event(&self, event: &Event<'_>) {
        if let Event::WasmCall { .. } = event {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }
}

#[cfg(feature = "engine-interp")]
vm::compose! {
    /// The interpreter with a wasm-call observer.
    pub struct CallObserved {
        engine: vm::vm_engine_interp::Interp,
        virt: vm::vm_virt_host::HostVirt,
        observers: [CallCounter],
    }
}

#[cfg(feature = "engine-cranelift")]
vm::compose! {
    /// The JIT with a wasm-call observer.
    pub struct JitCallObserved {
        engine: vm::vm_engine_cranelift::Cranelift,
        virt: vm::vm_virt_host::HostVirt,
        observers: [CallCounter],
    }
}

#[cfg(feature = "engine-dynasm")]
vm::compose! {
    /// The single-pass JIT with a wasm-call observer.
    pub struct DynasmCallObserved {
        engine: vm::vm_engine_dynasm::Dynasm,
        virt: vm::vm_virt_host::HostVirt,
        observers: [CallCounter],
    }
}

#[cfg(feature = "engine-interp")]
#[test]
fn every_wasm_call_is_an_event_for_a_subscriber() {
    let mut settings = Settings::new();
    settings.merge_flag(crate::engines::INTERP_VERIFY).unwrap();
    count_fib_calls::<CallObserved>(&settings);
}

#[cfg(feature = "engine-cranelift")]
#[test]
fn every_wasm_call_is_an_event_for_a_subscriber_of_the_jit() {
    count_fib_calls::<JitCallObserved>(&Settings::new());
}

#[cfg(feature = "engine-dynasm")]
#[test]
fn every_wasm_call_is_an_event_for_a_subscriber_of_the_single_pass_jit() {
    count_fib_calls::<DynasmCallObserved>(&Settings::new());
}

fn count_fib_calls<C: vm::Composition + vm::compose::Holds<CallCounter>>(settings: &Settings) {
    let mut vm = Vm::<C>::new(settings).unwrap().init().unwrap().start().unwrap();
    let module = vm
        .compile(
            r#"(module (func $fib (export "fib") (param i32) (result i32)
                (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
                  (then (local.get 0))
                  (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                                 (call $fib (i32.sub (local.get 0) (i32.const 2))))))))"#,
        )
        .unwrap();
    let mut linker = Linker::new(RunContext::default());
    let inst = vm.instantiate(&module, &mut linker).unwrap();
    let r = vm.invoke(&mut linker, inst, "fib", &[vm::runtime::Val::I32(10)]).unwrap();
    assert_eq!(r, [vm::runtime::Val::I32(55)]);
    let count = vm.plugin::<CallCounter>().0.load(Ordering::Relaxed);
    // fib(10) runs 177 times; the first is entered from the host, not called by wasm.
    assert_eq!(count, 176);
}

/// An observer behind `Box<dyn Fn>`: its code cannot be inlined into the engine.
#[plugin(id = "fx-boxed", slot = observer)]
pub struct Boxed(Box<dyn Fn(&Event<'_>) + Send + Sync>);

impl Plugin for Boxed {
    type Config = vm::config::NoConfig;
    fn new(_: Self::Config) -> Result<Self, PluginError> {
        let seen = AtomicU64::new(0);
        Ok(Self(Box::new(move |_| {
            seen.fetch_add(1, Ordering::Relaxed);
        })))
    }
}

impl Observer for Boxed {
    const EVENTS: EventMask = EventMask::ALL;
    fn on_event(&self, event: &Event<'_>) {
        (self.0)(event)
    }
}

vm::compose! {
    /// The interpreter with an opaque observer of every event.
    pub struct OpaqueObserved {
        engine: vm::vm_engine_interp::Interp,
        virt: vm::vm_virt_host::HostVirt,
        observers: [Boxed],
    }
}

/// Long runs with an opaque observer: a release build whose handlers stopped chaining
/// by jumps would grow the native stack with every instruction and crash here.
#[test]
fn long_runs_keep_a_flat_native_stack_with_opaque_observers() {
    let s = crate::engines::interp_settings();
    let mut vm = Vm::<OpaqueObserved>::new(&s).unwrap().init().unwrap().start().unwrap();
    let module = vm
        .compile(
            r#"(module
              (func $fib (export "fib") (param i32) (result i32)
                (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
                  (then (local.get 0))
                  (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                                 (call $fib (i32.sub (local.get 0) (i32.const 2)))))))
              (func (export "spin") (param $n i32) (result i32) (local $acc i32)
                (block $done (loop $l
                  (br_if $done (i32.eqz (local.get $n)))
                  (local.set $acc (i32.add (local.get $acc) (local.get $n)))
                  (local.set $n (i32.sub (local.get $n) (i32.const 1)))
                  (br $l)))
                (local.get $acc)))"#,
        )
        .unwrap();
    let mut linker = Linker::new(RunContext::default());
    let inst = vm.instantiate(&module, &mut linker).unwrap();
    let r = vm.invoke(&mut linker, inst, "fib", &[vm::runtime::Val::I32(22)]).unwrap();
    assert_eq!(r, [vm::runtime::Val::I32(17711)]);
    let r = vm.invoke(&mut linker, inst, "spin", &[vm::runtime::Val::I32(3_000_000)]).unwrap();
    assert_eq!(
        r,
        [vm::runtime::Val::I32(3_000_000i64.wrapping_mul(3_000_001).wrapping_div(2) as i32)]
    );
}
