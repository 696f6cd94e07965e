//! The `host` slot.

use crate::plugin::Plugin;
use crate::runtime::HostModuleDef;

/// A host plugin: the import modules it serves to guests.
///
/// Most plugins serve one module and set only [`MODULE`](Self::MODULE). A plugin that
/// serves several (WASI under both `wasi_snapshot_preview1` and its predecessor
/// `wasi_unstable`) lists them all in [`MODULES`](Self::MODULES).
///
/// The modules of one plugin share one per-instance state: the first of them an
/// instance imports from builds it with its [`new_state`](HostModuleDef::new_state),
/// and the functions of every other module of the plugin get that same state. So a
/// guest importing from two of them sees one context, and the modules must build the
/// same state type (normally they share one `new_state`).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is registered in slot `host` but does not implement `vm_core::slot::HostModule`",
    label = "this plugin type does not implement `HostModule`",
    note = "add `impl vm_core::slot::HostModule for {Self} {{ ... }}` or register it in the slot it implements"
)]
pub trait HostModule: Plugin {
    /// The module's functions and state constructor (the first of [`Self::MODULES`]
    /// when the plugin serves several).
    const MODULE: &'static HostModuleDef;

    /// Every import module the plugin serves, each name once; by default
    /// [`Self::MODULE`] alone. The linker searches them at instantiation, never per
    /// call.
    const MODULES: &'static [&'static HostModuleDef] = &[Self::MODULE];
}
