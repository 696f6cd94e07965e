//! Compile time and peak memory of the translator bombs (many functions, many locals,
//! deep nesting, a large `br_table`) on each engine, at half and at full size, to show
//! both grow linearly:
//!
//! ```text
//! cargo run --release --example bombs
//! ```
//!
//! Each engine, shape and size is measured in a fresh process (this example run as
//! `bombs ENGINE SHAPE SIZE`), so no allocator cache hides memory: compile time is
//! the least of three compiles (wall, and CPU time of the process, all compile threads
//! included), peak memory the growth of the process's peak RSS (`VmHWM`) over its RSS
//! before the first compile.

use std::time::Instant;

use vm::{Composition, Settings, Vm};

mod modules;

use modules::Shape;

vm::compose! {
    /// The Cranelift JIT, in-process.
    pub struct CraneliftVm {
        engine: vm::vm_engine_cranelift::Cranelift,
        virt: vm::vm_virt_host::HostVirt,
    }
}

vm::compose! {
    /// The interpreter, in-process.
    pub struct InterpVm {
        engine: vm::vm_engine_interp::Interp,
        virt: vm::vm_virt_host::HostVirt,
    }
}

/// A `kB` field of `/proc/self/status`, in bytes.
fn status_bytes(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// User plus system CPU time of this process (every thread), in milliseconds.
fn cpu_ms() -> f64 {
    // SAFETY: `getrusage` fills the zeroed struct it is given; it has no other
    // preconditions.
    let ru = unsafe {
        let mut ru: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut ru);
        ru
    };
    let ms = |t: libc::timeval| t.tv_sec as f64 * 1e3 + t.tv_usec as f64 / 1e3;
    ms(ru.ru_utime) + ms(ru.ru_stime)
}

/// Compiles the `shape` module of size `n` three times; prints its table row.
fn measure<C: Composition>(
    engine: &str,
    shape: Shape,
    n: u32,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut vm = Vm::<C>::new(&Settings::new())?.init()?.start()?;
    let (wasm, _, _) = shape.module(n);
    // Resets VmHWM to the current RSS (Linux 4.0 and later).
    std::fs::write("/proc/self/clear_refs", "5")?;
    let before = status_bytes("VmRSS:");
    let (mut wall, mut cpu) = (f64::MAX, f64::MAX);
    for _ in 0..3 {
        let (t, c) = (Instant::now(), cpu_ms());
        let module = vm.compile(&wasm)?;
        wall = wall.min(t.elapsed().as_secs_f64() * 1e3);
        cpu = cpu.min(cpu_ms() - c);
        drop(module);
    }
    let peak = status_bytes("VmHWM:").saturating_sub(before);
    println!(
        "| {engine} | {} | {n} | {} | {wall:.0} | {cpu:.0} | {:.1} |",
        shape.name(),
        wasm.len(),
        peak as f64 / (1024.0 * 1024.0)
    );
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [engine, shape, n] = &args[..] {
        let shape = Shape::ALL
            .iter()
            .map(|s| s.0)
            .find(|s| s.name() == shape)
            .ok_or("shape: functions, locals, nesting, br_table or br_table_deep")?;
        let n: u32 = n.parse()?;
        return match engine.as_str() {
            "engine-cranelift" => measure::<CraneliftVm>(engine, shape, n),
            "engine-interp" => measure::<InterpVm>(engine, shape, n),
            _ => Err("engine: engine-cranelift or engine-interp".into()),
        };
    }
    println!("| engine | shape | size | module bytes | compile ms | CPU ms | peak MiB |");
    println!("|---|---|---|---|---|---|---|");
    let exe = std::env::current_exe()?;
    for engine in ["engine-cranelift", "engine-interp"] {
        for (shape, full) in Shape::ALL {
            for n in [full / 2, full] {
                let out = std::process::Command::new(&exe)
                    .args([engine, shape.name(), &n.to_string()])
                    .output()?;
                if !out.status.success() {
                    return Err(String::from_utf8_lossy(&out.stderr).into_owned().into());
                }
                print!("{}", String::from_utf8_lossy(&out.stdout));
            }
        }
    }
    Ok(())
}
