// The vm-core path can be given explicitly (`crate = ...`), e.g. when re-exported under
// another name.
mod reexport {
    pub use vm as runtime;
}

use reexport::runtime::{Plugin, PluginError};

/// A plugin that names its vm-core path.
#[reexport::runtime::plugin(id = "fx-local", slot = extra, crate = reexport::runtime)]
pub struct Local;

impl Plugin for Local {
    type Config = reexport::runtime::config::NoConfig;
    fn new(_: Self::Config) -> Result<Self, PluginError> {
        Ok(Self)
    }
}

reexport::runtime::compose! {
    #[vm(crate = reexport::runtime)]
    /// A composition that names its vm-core path.
    pub struct Edge {
        engine: vm::vm_engine_interp::Interp,
        virt: vm::vm_virt_host::HostVirt,
        extra: [Local],
    }
}

fn main() {
    let ids = reexport::runtime::compose::init_order_ids::<Edge>();
    assert_eq!(ids.len(), 3);
    assert!(reexport::runtime::registry::find("fx-local").is_some());
}
