//! Static vs dyn: the same interpreter workload with an observer of every wasm call
//! reached (a) by static dispatch through the composition, (b) through a `Box<dyn …>`
//! adapter at the observer slot boundary, and (c) with no observer at all.
//!
//! `cargo bench --bench static_vs_dyn` prints criterion's figures, then the ratios
//! dyn / static and static / none, from criterion's estimates.

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use criterion::{Criterion, criterion_group};
use vm::runtime::{Linker, RunContext, Val};
use vm::slot::{Event, EventKind, EventMask, Observer};
use vm::{Composition, Plugin, PluginError, Settings, Vm, plugin};

/// Counts wasm calls, reached by static dispatch.
#[plugin(id = "bench-static-counter", slot = observer)]
pub struct StaticCounter(AtomicU64);

impl Plugin for StaticCounter {
    type Config = vm::config::NoConfig;
    fn new(_: Self::Config) -> Result<Self, PluginError> {
        Ok(Self(AtomicU64::new(0)))
    }
}

impl Observer for StaticCounter {
    const EVENTS: EventMask = EventMask::NONE.with(EventKind::WasmCall);
    #[inline]
    fn on_event(&self, _: &Event<'_>) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

/// The object-safe observer interface a dynamic plugin system would expose.
pub trait ErasedObserver: Send + Sync {
    /// Receives every event.
    fn on_event(&self, event: &Event<'_>);
}

impl ErasedObserver for AtomicU64 {
    fn on_event(&self, _: &Event<'_>) {
        self.fetch_add(1, Ordering::Relaxed);
    }
}

/// The same counter behind `Box<dyn ErasedObserver>`: every event is a virtual call.
#[plugin(id = "bench-dyn-adapter", slot = observer)]
pub struct DynAdapter(Vec<Box<dyn ErasedObserver>>);

impl Plugin for DynAdapter {
    type Config = vm::config::NoConfig;
    fn new(_: Self::Config) -> Result<Self, PluginError> {
        Ok(Self(vec![Box::new(AtomicU64::new(0))]))
    }
}

impl Observer for DynAdapter {
    // A dynamic system cannot know at compile time what its observers want.
    const EVENTS: EventMask = EventMask::ALL;
    fn on_event(&self, event: &Event<'_>) {
        for o in &self.0 {
            o.on_event(event);
        }
    }
}

vm::compose! {
    /// Observer reached by static dispatch.
    pub struct StaticVm {
        engine: vm::vm_engine_interp::Interp,
        virt: vm::vm_virt_host::HostVirt,
        observers: [StaticCounter],
    }
}

vm::compose! {
    /// Observer reached through `Box<dyn …>`.
    pub struct DynVm {
        engine: vm::vm_engine_interp::Interp,
        virt: vm::vm_virt_host::HostVirt,
        observers: [DynAdapter],
    }
}

vm::compose! {
    /// No observer.
    pub struct BareVm {
        engine: vm::vm_engine_interp::Interp,
        virt: vm::vm_virt_host::HostVirt,
    }
}

const FIB: &str = r#"(module
  (func $fib (export "fib") (param i32) (result i32)
    (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
      (then (local.get 0))
      (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                     (call $fib (i32.sub (local.get 0) (i32.const 2))))))))"#;

fn fib<C: Composition>(c: &mut Criterion, name: &str) {
    let mut vm = Vm::<C>::new(&Settings::new()).unwrap().init().unwrap().start().unwrap();
    let module = vm.compile(FIB).unwrap();
    let mut linker = Linker::<C>::new(RunContext::default());
    let inst = vm.instantiate(&module, &mut linker).unwrap();
    let mut g = c.benchmark_group("static_vs_dyn");
    g.sample_size(20).measurement_time(Duration::from_secs(4));
    g.bench_function(name, |b| {
        b.iter(|| black_box(vm.invoke(&mut linker, inst, "fib", &[Val::I32(24)]).unwrap()))
    });
    g.finish();
}

fn benches(c: &mut Criterion) {
    fib::<StaticVm>(c, "static");
    fib::<DynVm>(c, "dyn");
    fib::<BareVm>(c, "none");
}

criterion_group!(static_vs_dyn, benches);

fn estimate(name: &str) -> Option<f64> {
    let path = format!(
        "{}/target/criterion/static_vs_dyn/{name}/new/estimates.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
    v["median"]["point_estimate"].as_f64()
}

fn main() {
    static_vs_dyn();
    Criterion::default().configure_from_args().final_summary();
    if let (Some(s), Some(d), Some(n)) = (estimate("static"), estimate("dyn"), estimate("none")) {
        println!("\nfib(24): 150,049 wasm calls, each one an observer event:");
        println!(
            "  dyn / static = {:.3}  (Box<dyn> at the observer slot vs static dispatch)",
            d / s
        );
        println!(
            "  static / none = {:.3}  (a statically dispatched observer vs no observer)",
            s / n
        );
    }
}
