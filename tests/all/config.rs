//! Typed, layered configuration and the plugin lifecycle on a real composition.

use vm::plugin::PluginState;
use vm::slot::Virt;
use vm::{Composition, Settings, Vm};

use crate::engines::InterpVm;

fn depth(s: &Settings) -> u32 {
    Vm::<InterpVm>::new(s).expect("valid settings").plugins().virt().max_call_depth()
}

#[test]
fn layers_apply_in_order_file_env_flag() {
    let mut s = Settings::new();
    let default = depth(&s);
    assert_eq!(default, 100_000);
    s.merge_toml("vm.toml", "[virt]\nmax_call_depth = 10\n").unwrap();
    assert_eq!(depth(&s), 10);
    s.merge_env([("VM_VIRT_MAX_CALL_DEPTH".to_owned(), "20".to_owned())], &["engine", "virt"]);
    assert_eq!(depth(&s), 20);
    s.merge_flag("virt.max_call_depth=30").unwrap();
    assert_eq!(depth(&s), 30);
}

#[test]
fn bad_values_name_the_key_and_list_valid_keys() {
    for (flag, needle) in [
        ("virt.max_call_depth=0", "out of range 1..=10000000"),
        ("virt.max_call_depth=lots", "not an integer"),
        ("virt.max_cal_depth=5", "did you mean `max_call_depth`"),
        ("engine.fuel=-1", "out of range 0.."),
    ] {
        let mut s = Settings::new();
        s.merge_flag(flag).unwrap();
        let err = Vm::<InterpVm>::new(&s).expect_err(flag).to_string();
        assert!(err.contains(needle), "{flag}: {err}");
        if !flag.starts_with("engine") {
            assert!(err.contains("max_call_depth: integer = 100_000"), "{flag}: {err}");
        }
    }
    let mut s = Settings::new();
    s.merge_flag("gpu.cores=4").unwrap();
    let err = Vm::<InterpVm>::new(&s).expect_err("unknown section").to_string();
    assert!(err.contains("unknown config section `gpu`") && err.contains("`engine`"), "{err}");
    assert!(Settings::new().merge_toml("vm.toml", "engine = 3").is_err());
}

#[test]
fn lifecycle_runs_hooks_in_order_and_reports_health() {
    let vm = Vm::<InterpVm>::new(&Settings::new()).unwrap();
    assert!(vm.health().iter().all(|h| h.state == PluginState::Loaded));
    let vm = vm.init().unwrap();
    assert!(vm.health().iter().all(|h| h.state == PluginState::Initialized));
    let vm = vm.start().unwrap();
    for h in vm.health() {
        assert_eq!(h.state, PluginState::Running, "{}", h.id);
        assert!(h.uptime.is_some());
    }
    let order = vm::compose::init_order_ids::<InterpVm>();
    let pos = |id| order.iter().position(|x| *x == id).unwrap();
    assert!(pos("virt-host") < pos("engine-interp"), "{order:?}");
    let vm = vm.stop();
    assert!(vm.health().iter().all(|h| h.state == PluginState::Stopped));
    // engine, virt, host-wasi, and the test build's simd plugin and collector if it
    // has them.
    let simd = usize::from(crate::support::SIMD_FEATURE.is_some());
    let gc = usize::from(cfg!(any(
        feature = "gc-null",
        feature = "gc-mark-sweep",
        feature = "gc-copying"
    )));
    assert_eq!(InterpVm::PLUGINS.len(), 3 + simd + gc);
}

#[test]
fn compiled_code_is_counted_in_stats() {
    let mut vm = Vm::<InterpVm>::new(&Settings::new()).unwrap().init().unwrap().start().unwrap();
    vm.compile("(module (func (export \"f\") (result i32) i32.const 1))").unwrap();
    let engine = vm.health().into_iter().find(|h| h.id == "engine-interp").unwrap();
    assert_eq!(engine.stats.functions_compiled, 1);
    assert!(engine.stats.code_bytes > 0);
}

#[test]
fn verified_functions_are_counted_in_stats() {
    let s = crate::engines::interp_settings();
    let mut vm = Vm::<InterpVm>::new(&s).unwrap().init().unwrap().start().unwrap();
    vm.compile("(module (func) (func (export \"f\") (result i32) i32.const 1))").unwrap();
    let engine = vm.health().into_iter().find(|h| h.id == "engine-interp").unwrap();
    let verified = engine.stats.custom.iter().find(|(k, _)| *k == "functions_verified");
    assert_eq!(verified, Some(&("functions_verified", 2)));
    assert!(engine.stats.custom.iter().any(|(k, _)| *k == "verify_time_us"));
}
