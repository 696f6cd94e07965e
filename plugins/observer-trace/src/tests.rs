use vm_core::Plugin;
use vm_core::runtime::{Features, ModuleInfo};
use vm_core::slot::{CodeRange, Event, Observer};

use crate::{Trace, TraceConfig, perf_map_path, symbol};

fn module(wat: &str) -> ModuleInfo {
    ModuleInfo::decode(wat.as_bytes(), Features::default()).unwrap()
}

#[test]
fn functions_are_named_by_name_section_then_export_then_index() {
    let m =
        module(r#"(module (import "env" "f" (func)) (func $named) (func (export "exp")) (func))"#);
    let labels: Vec<String> = (0..4).map(|f| m.func_label(f)).collect();
    assert_eq!(labels, ["env.f", "named", "exp", "func[3]"]);
    let named = module(r#"(module $app (func $main))"#);
    assert_eq!(symbol(&named, 0), "wasm::app::main");
    assert_eq!(symbol(&m, 3), "wasm::func[3]");
}

#[test]
fn the_hottest_table_ranks_by_calls_and_keeps_top_rows() {
    let trace = Trace::new(TraceConfig { top: 2, ..Default::default() }).unwrap();
    let m = module(r#"(module (func $a) (func $b) (func $c))"#);
    trace.on_event(&Event::Compile { functions: 3, nanos: 0, module: &m });
    for (f, n) in [(0, 1), (1, 5), (2, 3)] {
        for _ in 0..n {
            trace.on_event(&Event::WasmCall { func: f, module: m.id });
        }
    }
    trace.on_event(&Event::Call { name: "a", func: Some((m.id, 0)) });
    let rows = trace.hottest().rows;
    let got: Vec<(&str, &[u64])> = rows.iter().map(|r| (r.label.as_str(), &r.values[..])).collect();
    assert_eq!(got, [("b", &[5, 5, 0][..]), ("c", &[3, 3, 0][..])]);
    assert_eq!(trace.counts().get("a"), (1, 1));
    assert_eq!(trace.counts().totals(), (9, 1, 3));
    // A module never announced is counted apart, not per function.
    let other = module("(module (func))");
    trace.on_event(&Event::WasmCall { func: 0, module: other.id });
    assert_eq!(trace.counts().unknown(), 1);
}

#[test]
fn several_modules_are_told_apart() {
    let trace = Trace::new(TraceConfig::default()).unwrap();
    let a = module(r#"(module $one (func $f))"#);
    let b = module(r#"(module (func $f))"#);
    for m in [&a, &b] {
        trace.on_event(&Event::Compile { functions: 1, nanos: 0, module: m });
    }
    trace.on_event(&Event::WasmCall { func: 0, module: b.id });
    trace.on_event(&Event::WasmCall { func: 0, module: b.id });
    trace.on_event(&Event::WasmCall { func: 0, module: a.id });
    let labels: Vec<String> = trace.hottest().rows.into_iter().map(|r| r.label).collect();
    assert_eq!(labels, [format!("module[{}]::f", b.id.0), "one::f".to_owned()]);
}

#[test]
fn loaded_code_is_appended_to_the_perf_map() {
    let trace = Trace::new(TraceConfig::default()).unwrap();
    let m = module(r#"(module (func $perf_map_unit_test_fn))"#);
    let code = [CodeRange { func: 0, addr: 0x7f00_dead_0000, len: 0x2a }];
    trace.on_event(&Event::CodeLoaded { module: &m, functions: &code });
    let text = std::fs::read_to_string(perf_map_path()).unwrap();
    assert!(text.lines().any(|l| l == "7f00dead0000 2a wasm::perf_map_unit_test_fn"), "{text}");
    assert_eq!(
        trace.stats().custom.iter().find(|c| c.0 == "perf_map_entries"),
        Some(&("perf_map_entries", 1))
    );

    let quiet = Trace::new(TraceConfig { perf_map: false, ..Default::default() }).unwrap();
    let m = module(r#"(module (func $perf_map_unit_test_off))"#);
    quiet.on_event(&Event::CodeLoaded { module: &m, functions: &code });
    let text = std::fs::read_to_string(perf_map_path()).unwrap();
    assert!(!text.contains("perf_map_unit_test_off"));
}

#[test]
fn config_keys_are_checked() {
    let mut s = vm_core::Settings::new();
    s.merge_flag("observer-trace.top=0").unwrap();
    let err = s.typed::<Trace>("observer-trace").unwrap_err().to_string();
    assert!(err.contains("top") && err.contains("1..=10000"), "{err}");
    let mut s = vm_core::Settings::new();
    s.merge_flag("observer-trace.perf_map=false").unwrap();
    assert!(!s.typed::<Trace>("observer-trace").unwrap().perf_map);
}
