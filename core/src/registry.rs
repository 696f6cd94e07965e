//! The plugin registry: every linked plugin crate adds one [`Registration`] to the
//! [`VM_PLUGIN_REGISTRY`] distributed slice through `#[plugin(...)]`. Nothing central
//! lists plugins; the linker gathers them.
//!
//! The registry serves discovery and cold paths (listing, config schema, finding host
//! modules by import module name to explain a missing `hosts: [...]` entry); the hot
//! path goes through the static composition.

use crate::plugin::{PluginMeta, Slot};

/// One registry entry: a non-generic `'static` descriptor.
#[derive(Debug)]
pub struct Registration {
    /// The plugin's static description.
    pub meta: &'static PluginMeta,
    /// For host plugins: the import modules it serves
    /// ([`HostModule::MODULES`](crate::slot::HostModule::MODULES)); empty for other slots.
    pub host: &'static [&'static crate::runtime::host::HostModuleDef],
    /// The plugin type's path (`my_crate::MyPlugin`), for messages that say what to
    /// write in `compose!`.
    pub type_path: &'static str,
}

/// The distributed slice that `#[plugin]` appends to. The name is unique to this
/// project because linkme slice names are global per binary.
#[linkme::distributed_slice]
pub static VM_PLUGIN_REGISTRY: [Registration];

/// Every registered plugin, sorted by slot then id.
pub fn plugins() -> Vec<&'static Registration> {
    let mut all: Vec<&'static Registration> = VM_PLUGIN_REGISTRY.iter().collect();
    all.sort_by(|a, b| (a.meta.slot, a.meta.id).cmp(&(b.meta.slot, b.meta.id)));
    all
}

/// The registered plugin with this id.
pub fn find(id: &str) -> Option<&'static Registration> {
    VM_PLUGIN_REGISTRY.iter().find(|r| r.meta.id == id)
}

/// The registered plugins of one slot, sorted by id.
pub fn in_slot(slot: Slot) -> Vec<&'static Registration> {
    plugins().into_iter().filter(|r| r.meta.slot == slot).collect()
}

/// The registered host module serving imports from `module` (whether or not it is
/// composed: the linker serves only composed ones).
pub fn host_module(module: &str) -> Option<&'static crate::runtime::host::HostModuleDef> {
    host_registration(module).and_then(|r| r.host.iter().copied().find(|h| h.module == module))
}

/// The registration of the host plugin serving imports from `module`.
pub fn host_registration(module: &str) -> Option<&'static Registration> {
    VM_PLUGIN_REGISTRY.iter().find(|r| r.host.iter().any(|h| h.module == module))
}
