//! A fixed amount of compile work for instruction counting: `Vm::compile` (decode,
//! validate, compile every function, publish) of the twelve corpus modules, a given
//! number of rounds, with one engine. Criterion's `compile/<engine>/all` times the
//! same work; this driver repeats it a known number of times, so that `valgrind
//! --tool=callgrind --toggle-collect=compile_rounds::compile_all` counts the
//! instructions of exactly those compiles, without start-up or file reading.
//!
//! ```sh
//! cargo bench --bench compile_rounds --no-run
//! valgrind --tool=callgrind --toggle-collect='compile_rounds::compile_all*' \
//!     target/release/deps/compile_rounds-<hash> dynasm 10
//! ```
//!
//! Arguments: the engine (`dynasm`, `cranelift` or `interp`, those the build's
//! features include) and the rounds (1 unless given). Reads the corpus from `../shared/bench/wasm`.

use std::hint::black_box;
use std::path::Path;
use std::time::Instant;

use vm::{Composition, Settings, Vm};

#[cfg(feature = "engine-cranelift")]
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

#[cfg(feature = "engine-interp")]
vm::compose! {
    /// The interpreter, in-process, with WASI.
    pub struct InterpVm {
        engine: vm::vm_engine_interp::Interp,
        virt: vm::vm_virt_host::HostVirt,
        hosts: [vm::vm_host_wasi::Wasi],
    }
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

/// Compiles every module of `modules` once per round (the function callgrind counts).
#[inline(never)]
fn compile_all<C: Composition>(
    vm: &mut Vm<C, vm::compose::lifecycle::Running>,
    modules: &[Vec<u8>],
    rounds: u32,
) {
    for _ in 0..rounds {
        for bytes in modules {
            black_box(vm.compile(black_box(bytes)).expect("compile"));
        }
    }
}

fn run<C: Composition>(modules: &[Vec<u8>], rounds: u32) {
    let mut vm = Vm::<C>::new(&Settings::new())
        .expect("config")
        .init()
        .expect("init")
        .start()
        .expect("start");
    let t0 = Instant::now();
    compile_all(&mut vm, modules, rounds);
    let elapsed = t0.elapsed();
    let bytes: usize = modules.iter().map(Vec::len).sum::<usize>() * rounds as usize;
    println!(
        "{rounds} rounds of {} modules: {elapsed:?} ({:.1} MiB/s)",
        modules.len(),
        bytes as f64 / elapsed.as_secs_f64() / (1 << 20) as f64
    );
}

fn main() {
    let mut args = std::env::args().skip(1).filter(|a| a != "--bench");
    let engine = args.next().unwrap_or_else(|| "dynasm".to_owned());
    let rounds: u32 = args.next().map_or(1, |n| n.parse().expect("rounds: a number"));
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/bench/wasm");
    if !dir.exists() {
        eprintln!("{} is absent: nothing to compile", dir.display());
        return;
    }
    let modules: Vec<Vec<u8>> = CORPUS_ALL
        .iter()
        .map(|name| std::fs::read(dir.join(format!("{name}.wasm"))).expect("corpus module"))
        .collect();
    match engine.as_str() {
        #[cfg(feature = "engine-dynasm")]
        "dynasm" => run::<DynasmVm>(&modules, rounds),
        #[cfg(feature = "engine-cranelift")]
        "cranelift" => run::<CraneliftVm>(&modules, rounds),
        #[cfg(feature = "engine-interp")]
        "interp" => run::<InterpVm>(&modules, rounds),
        other => eprintln!("engine {other} is not in this build (dynasm, cranelift, interp)"),
    }
}
