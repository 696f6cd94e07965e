//! Criterion benches of the host/guest boundary of native code: calls from the host
//! into guest code (entries), guest calls of host functions (host calls) and traps,
//! with the Cranelift engine and `virt-host`.
//!
//! `cargo bench --bench boundary`. Reports: `target/criterion/`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use vm::runtime::{Extern, Linker, RunContext, Val};
use vm::{Settings, Vm};

vm::compose! {
    /// The Cranelift JIT, in-process with guard pages, with WASI.
    pub struct CraneliftVm {
        engine: vm::vm_engine_cranelift::Cranelift,
        virt: vm::vm_virt_host::HostVirt,
        hosts: [vm::vm_host_wasi::Wasi],
    }
}

/// `id` returns its argument; `host_calls` calls WASI's `args_sizes_get` `n` times;
/// `trap` traps with `unreachable` one call deep.
const BOUNDARY: &str = r#"(module
  (import "wasi_snapshot_preview1" "args_sizes_get"
    (func $args_sizes_get (param i32 i32) (result i32)))
  (memory 1)
  (func (export "id") (param i32) (result i32) (local.get 0))
  (func (export "host_calls") (param $n i32) (result i32) (local $acc i32)
    (block $done (loop $l
      (br_if $done (i32.eqz (local.get $n)))
      (local.set $acc (i32.add (local.get $acc)
        (call $args_sizes_get (i32.const 0) (i32.const 4))))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br $l)))
    (local.get $acc))
  (func $deep (unreachable))
  (func (export "trap") (call $deep)))"#;

/// Entries per iteration of the entry and trap benches.
const ENTRIES: u32 = 10_000;

fn boundary(c: &mut Criterion) {
    let mut vm = Vm::<CraneliftVm>::new(&Settings::new())
        .expect("config")
        .init()
        .expect("init")
        .start()
        .expect("start");
    let module = vm.compile(BOUNDARY).expect("compile");
    let mut linker = Linker::<CraneliftVm>::new(RunContext::default());
    let inst = vm.instantiate(&module, &mut linker).expect("instantiate");
    let addr = |linker: &Linker<CraneliftVm>, name: &str| match linker.export(inst, name) {
        Some(Extern::Func(a)) => a,
        _ => panic!("no export {name}"),
    };
    let (id, host_calls, trap) =
        (addr(&linker, "id"), addr(&linker, "host_calls"), addr(&linker, "trap"));
    let mut g = c.benchmark_group("boundary/cranelift");
    g.sample_size(20).measurement_time(Duration::from_secs(3));
    g.bench_function("entry x10000", |b| {
        b.iter(|| {
            for i in 0..ENTRIES {
                black_box(vm.call_func(&mut linker, id, &[Val::I32(i as i32)], "id").expect("id"));
            }
        })
    });
    g.bench_function("host_call x1000000", |b| {
        b.iter(|| {
            let r = vm.call_func(&mut linker, host_calls, &[Val::I32(1_000_000)], "host_calls");
            black_box(r.expect("host_calls"))
        })
    });
    g.bench_function("trap x10000", |b| {
        b.iter(|| {
            for _ in 0..ENTRIES {
                black_box(vm.call_func(&mut linker, trap, &[], "trap").expect_err("traps"));
            }
        })
    });
    g.finish();
}

criterion_group!(boundary_benches, boundary);
criterion_main!(boundary_benches);
