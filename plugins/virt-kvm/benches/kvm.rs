//! Start-up and crossing costs of the micro-VM layer on this host's KVM.
//!
//! `cargo bench -p vm-virt-kvm` measures, and prints the medians at the end:
//!
//! * `create_run_destroy`: a sandbox built from nothing, one guest call, dropped;
//! * `pooled_acquire_run_release`: the same from a warm pool (release resets);
//! * `host_call_round_trip`: one host call (guest → host → guest), the guest
//!   calling a host-call stub in a loop;
//! * `guest_call`: one call into a live sandbox (host → guest → host).
//!
//! Without a usable `/dev/kvm` it prints why and measures nothing.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group};
use vm_virt_kvm::{
    ExecMemory, Exit, HostReturn, Pool, Prot, Sandbox, SandboxConfig, host_call_stub,
};

const GROUP: &str = "kvm";
const NAMES: [&str; 4] =
    ["create_run_destroy", "pooled_acquire_run_release", "host_call_round_trip", "guest_call"];

fn map_code(sb: &mut Sandbox, code: &ExecMemory) {
    // SAFETY: the code outlives every sandbox it is mapped into here.
    unsafe { sb.map(code.addr(), code.len(), Prot::ReadExec) }.unwrap();
}

fn benches(c: &mut Criterion) {
    let pool = match Pool::new(SandboxConfig::default(), 1, 4) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("kvm benches skipped: {e}");
            return;
        }
    };
    // mov rax, rdi; ret
    let ret = ExecMemory::new(&[0x48, 0x89, 0xf8, 0xc3]).unwrap();
    let stub = ExecMemory::new(&host_call_stub(1).unwrap()).unwrap();
    // loop: call stub; jmp loop
    let mut spin = vec![0x48, 0xb8];
    spin.extend(stub.addr().to_le_bytes());
    spin.extend([0xff, 0xd0, 0xeb, 0xf2]);
    let caller = ExecMemory::new(&spin).unwrap();

    let mut g = c.benchmark_group(GROUP);
    g.sample_size(30);
    g.measurement_time(Duration::from_secs(5));
    g.bench_function(NAMES[0], |b| {
        b.iter(|| {
            let mut sb = pool.create().unwrap();
            map_code(&mut sb, &ret);
            black_box(sb.call(ret.addr(), [1, 0, 0, 0, 0, 0]).unwrap());
        })
    });
    g.bench_function(NAMES[1], |b| {
        b.iter(|| {
            let mut sb = pool.acquire().unwrap();
            map_code(&mut sb, &ret);
            black_box(sb.call(ret.addr(), [1, 0, 0, 0, 0, 0]).unwrap());
            pool.release(sb);
        })
    });

    let mut sb = pool.acquire().unwrap();
    map_code(&mut sb, &ret);
    map_code(&mut sb, &stub);
    map_code(&mut sb, &caller);
    // Warm: every page the guest touches is faulted in once.
    assert!(matches!(sb.call(caller.addr(), [0; 6]).unwrap(), Exit::HostCall(_)));
    g.sample_size(100);
    g.bench_function(NAMES[2], |b| {
        b.iter(|| {
            let e = sb.resume(HostReturn::default()).unwrap();
            debug_assert!(matches!(e, Exit::HostCall(_)));
            black_box(e)
        })
    });
    sb.abandon();
    g.bench_function(NAMES[3], |b| {
        b.iter(|| black_box(sb.call(ret.addr(), [7, 0, 0, 0, 0, 0]).unwrap()))
    });
    g.finish();
    pool.release(sb);
}

criterion_group!(kvm, benches);

fn median(name: &str) -> Option<f64> {
    let path = format!(
        "{}/../../target/criterion/{GROUP}/{name}/new/estimates.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(path).ok()?;
    // The estimates file is small JSON: find "median" then its "point_estimate".
    let at = text.find("\"median\"")?;
    let rest = &text[at..];
    let p = rest.find("\"point_estimate\":")? + "\"point_estimate\":".len();
    let end = rest[p..].find([',', '}'])?;
    rest[p..p + end].trim().parse().ok()
}

fn main() {
    kvm();
    Criterion::default().configure_from_args().final_summary();
    println!("\nmedians:");
    for name in NAMES {
        if let Some(ns) = median(name) {
            println!("  {name:28} {:>10.2} µs", ns / 1000.0);
        }
    }
}
