// A plugin crate introduces a capability of its own; another plugin requires it; the
// composition checks, orders and reaches both by type.
use vm::config::NoConfig;
use vm::plugin::CapabilityDef;
use vm::{Plugin, PluginError, plugin};

/// Fast logging, introduced by this crate.
pub const FAST_LOG: CapabilityDef = CapabilityDef::new("acme:fast-log", "logs without locking");

/// Provides the new capability.
#[plugin(id = "acme-logger", slot = extra, provides = ["acme:fast-log@1.2.0"], declares = [FAST_LOG])]
pub struct Logger;

/// Requires it.
#[plugin(id = "acme-user", slot = extra, requires = ["acme:fast-log ^1.1"], declares = [FAST_LOG])]
pub struct User(u32);

impl Plugin for Logger {
    type Config = NoConfig;
    fn new(_: NoConfig) -> Result<Self, PluginError> {
        Ok(Self)
    }
}

impl Plugin for User {
    type Config = NoConfig;
    fn new(_: NoConfig) -> Result<Self, PluginError> {
        Ok(Self(7))
    }
}

vm::compose! {
    pub struct Edge {
        engine: vm_engine_interp::Interp,
        virt: vm_virt_host::HostVirt,
        extra: [User, Logger],
    }
}

fn main() {
    let order = vm::compose::init_order_ids::<Edge>();
    let logger = order.iter().position(|id| *id == "acme-logger").unwrap();
    let user = order.iter().position(|id| *id == "acme-user").unwrap();
    assert!(logger < user, "{order:?}");
    let vm = vm::Vm::<Edge>::new(&vm::Settings::new()).unwrap();
    assert_eq!(vm.plugin::<User>().0, 7);
    let _: &Logger = vm.plugin::<Logger>();
}
