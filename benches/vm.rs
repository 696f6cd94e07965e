//! Criterion benches: compile throughput, instantiation latency, corpus programs and
//! micro workloads, for every engine compiled into the bench build.
//!
//! `cargo bench --bench vm` (the corpus group reads `../shared/bench` and is skipped
//! when it is absent). Reports: `target/criterion/`.

use std::hint::black_box;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use vm::runtime::{Linker, RunContext, Val};
use vm::{Composition, Settings, Vm};

vm::compose! {
    /// The Cranelift JIT, in-process with guard pages, with WASI.
    pub struct CraneliftVm {
        engine: vm::vm_engine_cranelift::Cranelift,
        virt: vm::vm_virt_host::HostVirt,
        hosts: [vm::vm_host_wasi::Wasi],
    }
}

#[cfg(feature = "engine-dynasm")]
vm::compose! {
    /// The single-pass dynasm JIT, in-process with guard pages, with WASI.
    pub struct DynasmVm {
        engine: vm::vm_engine_dynasm::Dynasm,
        virt: vm::vm_virt_host::HostVirt,
        hosts: [vm::vm_host_wasi::Wasi],
    }
}

vm::compose! {
    /// The interpreter, in-process, with WASI.
    pub struct InterpVm {
        engine: vm::vm_engine_interp::Interp,
        virt: vm::vm_virt_host::HostVirt,
        hosts: [vm::vm_host_wasi::Wasi],
    }
}

/// Micro workloads: recursive calls, a call-heavy loop, a memory-heavy loop.
const MICRO: &str = r#"(module
  (memory 16)
  (func $fib (export "fib") (param i32) (result i32)
    (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
      (then (local.get 0))
      (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                     (call $fib (i32.sub (local.get 0) (i32.const 2)))))))
  (func $inc (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
  (func (export "calls") (param $n i32) (result i32) (local $acc i32)
    (block $done (loop $l
      (br_if $done (i32.eqz (local.get $n)))
      (local.set $acc (call $inc (local.get $acc)))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br $l)))
    (local.get $acc))
  (func (export "memsum") (param $rounds i32) (result i64) (local $i i32) (local $s i64)
    (block $done (loop $r
      (br_if $done (i32.eqz (local.get $rounds)))
      (local.set $i (i32.const 0))
      (block $end (loop $l
        (br_if $end (i32.ge_u (local.get $i) (i32.const 1048576)))
        (i64.store (local.get $i) (i64.add (i64.load (local.get $i)) (i64.extend_i32_u (local.get $i))))
        (local.set $s (i64.add (local.get $s) (i64.load (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 8)))
        (br $l)))
      (local.set $rounds (i32.sub (local.get $rounds) (i32.const 1)))
      (br $r)))
    (local.get $s)))"#;

/// Corpus programs short enough at their small size for repeated sampling.
const CORPUS_PROGRAMS: &[&str] = &["binarytrees", "fib", "fannkuch", "quicksort", "interp"];

fn corpus_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/bench");
    if dir.exists() {
        Some(dir)
    } else {
        eprintln!("{} is absent: skipping the corpus benches", dir.display());
        None
    }
}

fn started<C: Composition>() -> Vm<C, vm::compose::lifecycle::Running> {
    Vm::<C>::new(&Settings::new()).expect("config").init().expect("init").start().expect("start")
}

/// The twelve core programs of the corpus (`cases.tsv`).
const CORPUS_ALL: &[&str] = &[
    "binarytrees",
    "crc32",
    "fannkuch",
    "fib",
    "interp",
    "mandelbrot",
    "matmul",
    "nbody",
    "quicksort",
    "sha256",
    "sieve",
    "spectralnorm",
];

/// Compile throughput (decode, validate, compile every function, publish): each corpus
/// module, and `all`, the twelve one after another (throughput over their total size).
fn compile<C: Composition>(c: &mut Criterion, engine: &str) {
    let Some(dir) = corpus_dir() else { return };
    let mut g = c.benchmark_group(format!("compile/{engine}"));
    g.sample_size(10).measurement_time(Duration::from_secs(2));
    let mut vm = started::<C>();
    let modules: Vec<(&str, Vec<u8>)> = CORPUS_ALL
        .iter()
        .map(|&name| {
            let path = dir.join("wasm").join(format!("{name}.wasm"));
            (name, std::fs::read(path).expect("wasm"))
        })
        .collect();
    for (name, bytes) in &modules {
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        g.bench_function(BenchmarkId::from_parameter(name), |b| {
            b.iter(|| black_box(vm.compile(black_box(bytes)).expect("compile")))
        });
    }
    let total: usize = modules.iter().map(|(_, b)| b.len()).sum();
    g.throughput(Throughput::Bytes(total as u64));
    g.bench_function(BenchmarkId::from_parameter("all"), |b| {
        b.iter(|| {
            for (_, bytes) in &modules {
                black_box(vm.compile(black_box(bytes)).expect("compile"));
            }
        })
    });
    g.finish();
}

fn instantiate<C: Composition>(c: &mut Criterion, engine: &str) {
    let mut vm = started::<C>();
    let module = vm.compile(MICRO).expect("compile");
    c.bench_function(&format!("instantiate/{engine}/micro"), |b| {
        b.iter(|| {
            let mut linker = Linker::<C>::new(RunContext::default());
            black_box(vm.instantiate(&module, &mut linker).expect("instantiate"))
        })
    });
}

fn micro<C: Composition>(c: &mut Criterion, engine: &str) {
    let mut vm = started::<C>();
    let module = vm.compile(MICRO).expect("compile");
    let mut linker = Linker::<C>::new(RunContext::default());
    let inst = vm.instantiate(&module, &mut linker).expect("instantiate");
    let mut g = c.benchmark_group(format!("micro/{engine}"));
    g.sample_size(10).measurement_time(Duration::from_secs(3));
    for (name, arg) in
        [("fib", Val::I32(25)), ("calls", Val::I32(1_000_000)), ("memsum", Val::I32(8))]
    {
        g.bench_function(name, |b| {
            b.iter(|| black_box(vm.invoke(&mut linker, inst, name, &[arg]).expect("invoke")))
        });
    }
    g.finish();
}

fn corpus<C: Composition>(c: &mut Criterion, engine: &str) {
    let Some(dir) = corpus_dir() else { return };
    let cases = std::fs::read_to_string(dir.join("cases.tsv")).expect("cases.tsv");
    let mut g = c.benchmark_group(format!("corpus/{engine}"));
    g.sample_size(10).measurement_time(Duration::from_secs(5));
    let mut vm = started::<C>();
    for line in cases.lines().skip(1) {
        let (name, small) = line.split_once('\t').expect("cases.tsv row");
        if !CORPUS_PROGRAMS.contains(&name) {
            continue;
        }
        let module = vm.load(dir.join("wasm").join(format!("{name}.wasm"))).expect("load");
        let mut args = vec![name.to_owned()];
        args.extend(small.split_whitespace().map(str::to_owned));
        g.bench_function(name, |b| {
            b.iter(|| {
                let ctx = RunContext { args: args.clone(), ..RunContext::default() };
                let mut linker = Linker::<C>::new(ctx);
                let inst = vm.instantiate(&module, &mut linker).expect("instantiate");
                silence_stdout(&mut linker);
                black_box(vm.invoke(&mut linker, inst, "_start", &[]).ok())
            })
        });
    }
    g.finish();
}

/// Points the guest's stdout at /dev/null so the bench output stays readable.
fn silence_stdout<C: Composition>(linker: &mut Linker<C>) {
    let null = std::fs::OpenOptions::new().write(true).open("/dev/null").expect("/dev/null");
    let store = linker.store_mut();
    let mut i = 0;
    while let Some(state) = store.host_state_mut(i) {
        if let Some(wasi) = state.downcast_mut::<vm::vm_host_wasi::WasiCtx>() {
            wasi.set_stdio(1, OwnedFd::from(null.try_clone().expect("dup"))).expect("stdout");
        }
        i += 1;
    }
}

fn benches(c: &mut Criterion) {
    compile::<CraneliftVm>(c, "cranelift");
    instantiate::<CraneliftVm>(c, "cranelift");
    micro::<CraneliftVm>(c, "cranelift");
    corpus::<CraneliftVm>(c, "cranelift");
    #[cfg(feature = "engine-dynasm")]
    {
        compile::<DynasmVm>(c, "dynasm");
        instantiate::<DynasmVm>(c, "dynasm");
        micro::<DynasmVm>(c, "dynasm");
        corpus::<DynasmVm>(c, "dynasm");
    }
    compile::<InterpVm>(c, "interp");
    instantiate::<InterpVm>(c, "interp");
    micro::<InterpVm>(c, "interp");
    corpus::<InterpVm>(c, "interp");
}

criterion_group!(vm_benches, benches);
criterion_main!(vm_benches);
