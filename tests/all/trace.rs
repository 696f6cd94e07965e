//! `observer-trace`: exact per-function call counts on every engine, the perf map of
//! JIT code, and the hottest functions in `vm run --stats=json`.

use vm::runtime::{Linker, RunContext, Val};
use vm::slot::EventKind;
use vm::{Composition, Plugin, Settings, Vm};
use vm_observer_trace::{Trace, perf_map_path};

/// A module with a name section: `fib` is named (not exported), `run` is only
/// exported, the third function has neither name and is reached by `call_indirect`.
const FIB: &str = r#"(module $fibmod
  (table 1 funcref)
  (elem (i32.const 0) 2)
  (func $fib (param i32) (result i32)
    (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
      (then (local.get 0))
      (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                     (call $fib (i32.sub (local.get 0) (i32.const 2)))))))
  (func (export "run") (param i32) (result i32)
    (i32.add (call $fib (local.get 0)) (call_indirect (result i32) (i32.const 0))))
  (func (result i32) (i32.const 1)))"#;

#[cfg(feature = "engine-interp")]
vm::compose! {
    /// The interpreter with the trace observer.
    pub struct TracedInterp {
        engine: vm::vm_engine_interp::Interp,
        virt: vm::vm_virt_host::HostVirt,
        observers: [vm_observer_trace::Trace],
    }
}

#[cfg(feature = "engine-cranelift")]
vm::compose! {
    /// The JIT with the trace observer.
    pub struct TracedJit {
        engine: vm::vm_engine_cranelift::Cranelift,
        virt: vm::vm_virt_host::HostVirt,
        observers: [vm_observer_trace::Trace],
    }
}

/// Runs `run(10)` twice and checks every function's counts and the stats table;
/// returns the VM, its linker and the perf-map entries the run reported.
fn run_fib<C: Composition + vm::compose::Holds<Trace>>(
    settings: &Settings,
) -> (Vm<C, vm::compose::lifecycle::Running>, Linker<C>, u64) {
    assert!(C::EVENTS.contains(EventKind::WasmCall) && C::EVENTS.contains(EventKind::CodeLoaded));
    let mut vm = Vm::<C>::new(settings).unwrap().init().unwrap().start().unwrap();
    let module = vm.compile(FIB).unwrap();
    let mut linker = Linker::new(RunContext::default());
    let inst = vm.instantiate(&module, &mut linker).unwrap();
    for _ in 0..2 {
        // fib(10) = 55, plus 1 from the unnamed function.
        assert_eq!(vm.invoke(&mut linker, inst, "run", &[Val::I32(10)]).unwrap(), [Val::I32(56)]);
    }
    let counts = vm.plugin::<Trace>().counts();
    // fib(10) runs 177 times a call of `run`, every time called by wasm.
    assert_eq!(counts.get("fib"), (2 * 177, 0));
    assert_eq!(counts.get("run"), (0, 2));
    assert_eq!(counts.get("func[2]"), (2, 0));
    assert_eq!(counts.totals(), (2 * 178, 2, 3));
    assert_eq!(counts.unknown(), 0);

    let health = vm.health();
    let stats = &health.iter().find(|h| h.id == "observer-trace").unwrap().stats;
    let hottest = &stats.tables[0];
    assert_eq!(hottest.name, "hottest");
    let rows: Vec<(&str, &[u64])> =
        hottest.rows.iter().map(|r| (r.label.as_str(), &r.values[..])).collect();
    assert_eq!(
        rows,
        [("fib", &[354, 354, 0][..]), ("func[2]", &[2, 2, 0][..]), ("run", &[2, 0, 2][..])]
    );
    let perf = stats.custom.iter().find(|(k, _)| *k == "perf_map_entries").unwrap().1;
    (vm, linker, perf)
}

#[cfg(feature = "engine-interp")]
#[test]
fn trace_counts_every_call_per_function_on_the_interpreter() {
    let (_vm, _linker, perf) = run_fib::<TracedInterp>(&crate::engines::interp_settings());
    assert_eq!(perf, 0, "the interpreter has no native code per function");
}

/// The executable mappings of this process, from `/proc/self/maps`.
fn executable_ranges() -> Vec<std::ops::Range<usize>> {
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    maps.lines()
        .filter(|l| l.split_whitespace().nth(1).is_some_and(|p| p.contains('x')))
        .filter_map(|l| {
            let (lo, hi) = l.split_whitespace().next()?.split_once('-')?;
            Some(usize::from_str_radix(lo, 16).ok()?..usize::from_str_radix(hi, 16).ok()?)
        })
        .collect()
}

#[cfg(feature = "engine-cranelift")]
#[test]
fn trace_counts_every_call_and_maps_jit_code_for_perf() {
    let (vm, linker, perf) = run_fib::<TracedJit>(&Settings::new());
    assert_eq!(perf, 3, "one perf map line per defined function");
    let map = std::fs::read_to_string(perf_map_path()).expect("the perf map of this process");
    let exec = executable_ranges();
    for name in ["wasm::fibmod::fib", "wasm::fibmod::run", "wasm::fibmod::func[2]"] {
        // This process may have loaded the module more than once: check the last.
        let line = map
            .lines()
            .rev()
            .find(|l| l.splitn(3, ' ').nth(2) == Some(name))
            .unwrap_or_else(|| panic!("{name} not in the perf map:\n{map}"));
        let mut f = line.splitn(3, ' ');
        let start = usize::from_str_radix(f.next().unwrap(), 16).unwrap();
        let size = usize::from_str_radix(f.next().unwrap(), 16).unwrap();
        assert!(size > 0, "{line}");
        assert!(
            exec.iter().any(|r| r.start <= start && start + size <= r.end),
            "{line}: not inside an executable mapping while the module is loaded"
        );
    }
    drop((vm, linker));
}

#[cfg(feature = "engine-cranelift")]
#[test]
fn the_perf_map_can_be_switched_off() {
    let mut s = Settings::new();
    s.merge_flag("observer-trace.perf_map=false").unwrap();
    let (_vm, _linker, perf) = run_fib::<TracedJit>(&s);
    assert_eq!(perf, 0);
    assert!(<Trace as Plugin>::Config::default().perf_map, "on by default");
}

#[test]
fn vm_run_stats_json_lists_the_hottest_functions() {
    let bin = crate::support::vm_bin_plus("observer-trace");
    let dir = std::env::temp_dir().join(format!("vm-trace-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let wat = dir.join("fib.wat");
    std::fs::write(&wat, FIB).unwrap();
    let child = std::process::Command::new(&bin)
        .args(["run", "--stats=json", "-C", "observer-trace.top=2", "--invoke", "run"])
        .arg(&wat)
        .arg("10")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run vm");
    let map_path = format!("/tmp/perf-{}.map", child.id());
    let out = child.wait_with_output().expect("run vm");
    let _ = std::fs::remove_dir_all(&dir);
    let map = std::fs::read_to_string(&map_path).unwrap_or_default();
    let _ = std::fs::remove_file(&map_path);
    for name in ["wasm::fibmod::fib", "wasm::fibmod::run", "wasm::fibmod::func[2]"] {
        assert!(map.lines().any(|l| l.ends_with(&format!(" {name}"))), "{name}: {map}");
    }
    let (stdout, stderr) =
        (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(stdout.trim(), "56");
    let v: serde_json::Value = serde_json::from_str(&stderr).expect("stats as JSON");
    let trace = v.as_array().unwrap().iter().find(|p| p["id"] == "observer-trace").unwrap();
    assert_eq!(trace["custom"]["calls_from_wasm"], 178);
    assert_eq!(trace["custom"]["calls_from_host"], 1);
    assert_eq!(trace["custom"]["perf_map_entries"], 3, "the default engine is the JIT");
    assert_eq!(
        trace["tables"]["hottest"],
        serde_json::json!([
            {"name": "fib", "calls": 177, "from_wasm": 177, "from_host": 0},
            {"name": "func[2]", "calls": 1, "from_wasm": 1, "from_host": 0},
        ])
    );
}
