//! Criterion benches of `virt-kvm` (engine-cranelift's code in a KVM micro-VM per
//! store) against `virt-host` (the same code in-process), through the public API:
//!
//! * `cold`: a fresh store (linker), instantiate a small module (one memory page, an
//!   export returning a constant), call the export, drop everything; the module is
//!   compiled once outside the loop. For virt-kvm with the default pool (a prepared
//!   micro-VM is taken and reset on release) and as `cold_pool0`
//!   (`virt.pool_size=0`: a micro-VM is created and destroyed every iteration);
//! * `warm_call`: one call of a trivial export of a live instance;
//! * `host_call`: one call of an export that calls WASI's `args_sizes_get` once;
//! * `host_call_x100`: one call of an export that calls it 100 times (the marginal
//!   cost of a host call is about a hundredth of `host_call_x100 - warm_call`).
//!
//! `cargo bench --bench kvm`. Reports: `target/criterion/`. Without a usable
//! `/dev/kvm` the virt-kvm benches print why and are skipped. After each virt-kvm
//! bench the plugin's counters are printed per iteration (time in `KVM_RUN`,
//! micro-VM acquire and release, exits), which is where the time goes.
//!
//! On a host whose KVM is PVM (nested, paravirtual, no VMX/SVM) every exit from
//! the guest costs about 70 µs and first-touch guest page faults are expensive,
//! so the virt-kvm figures there are far above what VMX/SVM hosts give.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use vm::runtime::{Extern, Linker, RunContext, Val};
use vm::{Composition, Plugin, Settings, Vm};

vm::compose! {
    /// The Cranelift JIT in a KVM micro-VM per store, with WASI.
    pub struct KvmVm {
        engine: vm::vm_engine_cranelift::Cranelift,
        virt: vm::vm_virt_kvm::KvmVirt,
        hosts: [vm::vm_host_wasi::Wasi],
    }
}

vm::compose! {
    /// The Cranelift JIT in-process with guard pages, with WASI.
    pub struct HostVm {
        engine: vm::vm_engine_cranelift::Cranelift,
        virt: vm::vm_virt_host::HostVirt,
        hosts: [vm::vm_host_wasi::Wasi],
    }
}

/// The `cold` module: one memory page, one export returning a constant.
const COLD: &str = r#"(module
  (memory 1)
  (func (export "answer") (result i32) (i32.const 42)))"#;

/// `answer` returns a constant; `host_calls` calls WASI's `args_sizes_get` `n` times.
const LIVE: &str = r#"(module
  (import "wasi_snapshot_preview1" "args_sizes_get"
    (func $args_sizes_get (param i32 i32) (result i32)))
  (memory 1)
  (func (export "answer") (result i32) (i32.const 42))
  (func (export "host_calls") (param $n i32) (result i32) (local $acc i32)
    (block $done (loop $l
      (br_if $done (i32.eqz (local.get $n)))
      (local.set $acc (i32.add (local.get $acc)
        (call $args_sizes_get (i32.const 0) (i32.const 4))))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br $l)))
    (local.get $acc)))"#;

type Running<C> = Vm<C, vm::compose::lifecycle::Running>;

/// A started VM of composition `C` with the `-C`-style `flags`, or why not.
fn started<C: Composition>(flags: &[&str]) -> Result<Running<C>, String> {
    let mut settings = Settings::new();
    for f in flags {
        settings.merge_flag(f).map_err(|e| e.to_string())?;
    }
    Vm::<C>::new(&settings)
        .map_err(|e| e.to_string())?
        .init()
        .map_err(|e| e.to_string())?
        .start()
        .map_err(|e| e.to_string())
}

/// The virt-kvm counters worth dividing by the iteration count.
const COUNTERS: [&str; 7] = [
    "vcpu_run_us",
    "vm_acquire_us",
    "vm_release_us",
    "vms_created",
    "exits_returned",
    "exits_host_call",
    "exits_fault",
];

fn kvm_counters(vm: &Running<KvmVm>) -> Vec<u64> {
    let stats = vm.plugin::<vm::vm_virt_kvm::KvmVirt>().stats();
    COUNTERS
        .iter()
        .map(|name| stats.custom.iter().find(|(n, _)| n == name).map_or(0, |&(_, v)| v))
        .collect()
}

/// Prints the virt-kvm counters accumulated since `before`, per iteration.
fn report_kvm(vm: &Running<KvmVm>, bench: &str, before: &[u64], iters: u64) {
    if iters == 0 {
        return;
    }
    let after = kvm_counters(vm);
    let per: Vec<String> = COUNTERS
        .iter()
        .zip(after.iter().zip(before))
        .map(|(name, (a, b))| format!("{name} {:.2}", (a - b) as f64 / iters as f64))
        .collect();
    println!("virt-kvm/{bench}: per iteration over {iters}: {}", per.join(", "));
}

/// The address of export `name` of `inst`.
fn func<C: Composition>(linker: &Linker<C>, inst: vm::runtime::Instance, name: &str) -> u32 {
    match linker.export(inst, name) {
        Some(Extern::Func(a)) => a,
        _ => panic!("no export {name}"),
    }
}

/// `cold`: fresh store, instantiate, call, drop. Returns the iterations run.
fn cold<C: Composition>(c: &mut Criterion, group: &str, bench: &str, vm: &mut Running<C>) -> u64 {
    let module = vm.compile(COLD).expect("compile");
    let mut iters = 0u64;
    let mut g = c.benchmark_group(group);
    g.sample_size(20).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(4));
    g.bench_function(bench, |b| {
        b.iter(|| {
            iters += 1;
            let mut linker = Linker::<C>::new(RunContext::default());
            let inst = vm.instantiate(&module, &mut linker).expect("instantiate");
            let r = vm.invoke(&mut linker, inst, "answer", &[]).expect("answer");
            assert_eq!(r, [Val::I32(42)]);
            drop(linker);
        })
    });
    g.finish();
    iters
}

/// `warm_call`, `host_call`, `host_call_x100` on one live instance; `report` is
/// called once the instance is ready (0 iterations) and after each bench.
fn live<C: Composition>(
    c: &mut Criterion,
    group: &str,
    vm: &mut Running<C>,
    report: &dyn Fn(&Running<C>, &str, u64),
) {
    let module = vm.compile(LIVE).expect("compile");
    let mut linker = Linker::<C>::new(RunContext::default());
    let inst = vm.instantiate(&module, &mut linker).expect("instantiate");
    let (answer, host_calls) = (func(&linker, inst, "answer"), func(&linker, inst, "host_calls"));
    report(vm, "", 0);
    let cases: [(&str, u32, &[Val]); 3] = [
        ("warm_call", answer, &[]),
        ("host_call", host_calls, &[Val::I32(1)]),
        ("host_call_x100", host_calls, &[Val::I32(100)]),
    ];
    for (bench, f, args) in cases {
        let mut iters = 0u64;
        let mut g = c.benchmark_group(group);
        g.sample_size(20)
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(4));
        g.bench_function(bench, |b| {
            b.iter(|| {
                iters += 1;
                black_box(vm.call_func(&mut linker, f, args, bench).expect(bench))
            })
        });
        g.finish();
        report(vm, bench, iters);
    }
}

fn kvm(c: &mut Criterion) {
    for (bench, flags) in [("cold", &[][..]), ("cold_pool0", &["virt.pool_size=0"][..])] {
        let mut vm = match started::<KvmVm>(flags) {
            Ok(vm) => vm,
            Err(e) => {
                println!("virt-kvm benches skipped: {e}");
                return;
            }
        };
        let before = kvm_counters(&vm);
        let iters = cold(c, "virt-kvm", bench, &mut vm);
        report_kvm(&vm, bench, &before, iters);
    }
    let mut vm = match started::<KvmVm>(&[]) {
        Ok(vm) => vm,
        Err(e) => {
            println!("virt-kvm benches skipped: {e}");
            return;
        }
    };
    let cell = std::cell::RefCell::new(Vec::new());
    let report = |vm: &Running<KvmVm>, bench: &str, iters: u64| {
        let mut before = cell.borrow_mut();
        report_kvm(vm, bench, &before, iters);
        *before = kvm_counters(vm);
    };
    live(c, "virt-kvm", &mut vm, &report);
}

fn host(c: &mut Criterion) {
    let mut vm = started::<HostVm>(&[]).expect("virt-host");
    cold(c, "virt-host", "cold", &mut vm);
    live(c, "virt-host", &mut vm, &|_, _, _| {});
}

criterion_group!(kvm_benches, kvm, host);
criterion_main!(kvm_benches);
