//! Smoke test of `#[plugin]` and `compose!` inside vm-core's own test crate.
use vm_core::{Plugin, PluginError, compose, plugin};

/// A fixture engine.
#[plugin(id = "fx-engine", slot = engine, provides = ["engine@1.0.0"], requires = ["virt ^1"])]
pub struct FxEngine;
impl Plugin for FxEngine {
    type Config = FxConfig;
    fn new(c: FxConfig) -> Result<Self, PluginError> {
        assert!(c.fuel <= 100);
        Ok(Self)
    }
}
impl vm_core::slot::Engine for FxEngine {
    const NATIVE_CODE: bool = false;
}

/// Fixture config.
#[derive(Debug, serde::Deserialize, vm_core::PluginConfig)]
#[serde(default, deny_unknown_fields)]
pub struct FxConfig {
    /// Fuel units (0 = off).
    #[config(default = 5, range = "0..=100")]
    pub fuel: u64,
    /// Verify.
    #[config(default = true)]
    pub verify: bool,
}

/// A fixture virt.
#[plugin(id = "fx-virt", slot = virt, provides = ["virt@1.2.0"])]
pub struct FxVirt;
impl Plugin for FxVirt {
    type Config = vm_core::config::NoConfig;
    fn new(_: Self::Config) -> Result<Self, PluginError> {
        Ok(Self)
    }
}
impl vm_core::slot::Virt for FxVirt {
    const GUARD_PAGES: bool = true;
}

compose! {
    /// Fixture composition.
    pub struct FxVm {
        engine: FxEngine,
        virt: { #[cfg(all())] FxVirt },
        hosts: [],
        observers: [],
        extra: [],
    }
}

#[test]
fn composes_and_orders() {
    use vm_core::Composition;
    assert_eq!(vm_core::compose::init_order_ids::<FxVm>(), ["fx-virt", "fx-engine"]);
    let ids: Vec<_> = vm_core::registry::plugins().iter().map(|r| r.meta.id).collect();
    assert!(ids.contains(&"fx-engine") && ids.contains(&"fx-virt"), "{ids:?}");
    assert_eq!(FxVm::PLUGINS[0].config[0].name, "fuel");
    let mut s = vm_core::Settings::new();
    s.merge_flag("engine.fuel=7").unwrap();
    let vm = vm_core::Vm::<FxVm>::new(&s).unwrap().init().unwrap().start().unwrap();
    assert_eq!(vm.health().len(), 2);
    s.merge_flag("engine.fuel=700").unwrap();
    let err = vm_core::Vm::<FxVm>::new(&s).unwrap_err().to_string();
    assert!(err.contains("out of range 0..=100"), "{err}");
    let mut s = vm_core::Settings::new();
    s.merge_flag("engine.feul=7").unwrap();
    let err = vm_core::Vm::<FxVm>::new(&s).unwrap_err().to_string();
    assert!(err.contains("did you mean `fuel`"), "{err}");
}
