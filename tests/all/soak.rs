//! An in-process soak: compile, instantiate, run and drop a corpus program (`fib` at
//! its small size) over and over on each engine, with resident memory measured after
//! a warm-up and at the end. A leak per cycle (a module's code, a memory reservation,
//! a registration never removed) shows as growth proportional to the cycles.
//!
//! The short version runs in every `cargo test`; the full one (10,000 cycles per
//! engine) is ignored by default:
//!
//! ```text
//! cargo test --release -p vm --test all soak_full -- --ignored --nocapture
//! ```

use std::fs::File;
use std::io::Write;

use vm::compose::lifecycle::Running;
use vm::runtime::{InvokeError, Linker, RunContext, TrapCode};
use vm::vm_host_wasi::WasiCtx;
use vm::{Composition, Settings, Vm};

use crate::support::shared;

/// The corpus program the soak runs, with its small-size arguments.
const PROGRAM: &str = "fib";

/// Resident memory of this process, in bytes (`/proc/self/statm`, field 2, in pages).
fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("read /proc/self/statm");
    let pages: u64 = statm.split_whitespace().nth(1).and_then(|f| f.parse().ok()).unwrap();
    // SAFETY: `sysconf` reads a configuration value; it has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    pages * u64::try_from(page).unwrap_or(4096)
}

/// One cycle: compile `wasm`, instantiate it with stdout sent to `sink`, run `_start`,
/// drop everything but the VM.
fn cycle<C: Composition>(vm: &mut Vm<C, Running>, wasm: &[u8], args: &[String], sink: &File) {
    let module = vm.compile(wasm).expect("compile");
    let run = RunContext { args: args.to_vec(), ..RunContext::default() };
    let mut linker = Linker::<C>::new(run);
    let inst = vm.instantiate(&module, &mut linker).expect("instantiate");
    let wasi = linker
        .store_mut()
        .host_states
        .iter_mut()
        .find_map(|s| s.downcast_mut::<WasiCtx>())
        .expect("a WASI state");
    wasi.set_stdio(1, sink.try_clone().expect("dup the sink").into()).unwrap();
    match vm.invoke(&mut linker, inst, "_start", &[]) {
        Ok(_) => {}
        Err(InvokeError::Trap(t)) if t.code == TrapCode::Exit(0) => {}
        Err(e) => panic!("{PROGRAM}: {e}"),
    }
}

/// RSS after warm-up and at the end of `cycles` cycles, in bytes.
struct Soak {
    start: u64,
    end: u64,
}

fn soak<C: Composition>(engine: &str, cycles: usize) -> Option<Soak> {
    let dir = shared("bench")?;
    let cases = std::fs::read_to_string(dir.join("cases.tsv")).expect("cases.tsv");
    let small = cases
        .lines()
        .find_map(|l| l.strip_prefix(PROGRAM).and_then(|r| r.strip_prefix('\t')))
        .expect("the program's row");
    let wasm = std::fs::read(dir.join("wasm").join(format!("{PROGRAM}.wasm"))).expect("wasm");
    let mut args = vec![PROGRAM.to_owned()];
    args.extend(small.split_whitespace().map(str::to_owned));
    let sink = File::options().write(true).open("/dev/null").expect("open /dev/null");

    let mut vm = Vm::<C>::new(&Settings::new()).unwrap().init().unwrap().start().unwrap();
    // Warm-up: allocator pools, lazily built tables and the code caches reach their
    // steady size.
    let warm = (cycles / 10).clamp(20, 500);
    for _ in 0..warm {
        cycle(&mut vm, &wasm, &args, &sink);
    }
    let start = rss_bytes();
    let began = std::time::Instant::now();
    for _ in 0..cycles {
        cycle(&mut vm, &wasm, &args, &sink);
    }
    let end = rss_bytes();
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    let _ = writeln!(
        std::io::stderr(),
        "soak {engine}: {PROGRAM} {small}, {cycles} cycles after {warm} warm-up, \
         RSS {:.1} MiB -> {:.1} MiB ({:+.1} MiB), {:.1} s",
        mib(start),
        mib(end),
        mib(end) - mib(start),
        began.elapsed().as_secs_f64()
    );
    Some(Soak { start, end })
}

/// Growth allowed in the short soak: far above allocator noise, far below what a leak
/// of one module's code or memory per cycle would add over its cycles.
const SHORT_BOUND: u64 = 16 << 20;
const SHORT_CYCLES: usize = 300;

/// Runs the ignored test `child` of this binary alone in a child process (RSS is
/// per process, and the other tests of this binary allocate in parallel) and returns
/// its `RSS start end` line.
fn in_child(child: &str) -> Option<(u64, u64)> {
    shared("bench")?;
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([child, "--exact", "--ignored", "--nocapture", "--test-threads=1"])
        .output()
        .expect("run the soak child");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{child} failed: {stderr}");
    let _ = std::io::stderr().write_all(stderr.as_bytes());
    let line = stderr.lines().find_map(|l| l.strip_prefix("RSS ")).expect("an RSS line");
    let mut f = line.split_whitespace().map(|n| n.parse::<u64>().unwrap());
    Some((f.next().unwrap(), f.next().unwrap()))
}

fn short(engine: &str, child: &str) {
    let Some((start, end)) = in_child(child) else { return };
    let growth = end.saturating_sub(start);
    assert!(
        growth < SHORT_BOUND,
        "{engine}: RSS grew {growth} bytes over {SHORT_CYCLES} cycles ({start} -> {end})"
    );
}

/// The child of [`short`]: the soak, and its figures on stderr.
fn child<C: Composition>(engine: &str, cycles: usize) {
    if let Some(s) = soak::<C>(engine, cycles) {
        let _ = writeln!(std::io::stderr(), "RSS {} {}", s.start, s.end);
    }
}

#[cfg(feature = "engine-interp")]
#[test]
fn soak_short_interp() {
    short("engine-interp", "soak::child_short_interp");
}

#[cfg(feature = "engine-interp")]
#[test]
#[ignore = "run by soak_short_interp in a process of its own"]
fn child_short_interp() {
    child::<crate::engines::InterpVm>("engine-interp", SHORT_CYCLES);
}

#[cfg(feature = "engine-cranelift")]
#[test]
fn soak_short_cranelift() {
    short("engine-cranelift", "soak::child_short_cranelift");
}

#[cfg(feature = "engine-cranelift")]
#[test]
#[ignore = "run by soak_short_cranelift in a process of its own"]
fn child_short_cranelift() {
    child::<crate::engines::CraneliftVm>("engine-cranelift", SHORT_CYCLES);
}

/// 10,000 cycles per engine, figures on stderr (`--nocapture`).
#[test]
#[ignore = "minutes long: run with --ignored --nocapture"]
fn soak_full() {
    #[cfg(feature = "engine-cranelift")]
    soak::<crate::engines::CraneliftVm>("engine-cranelift", 10_000);
    #[cfg(feature = "engine-interp")]
    soak::<crate::engines::InterpVm>("engine-interp", 10_000);
}
