//! The `host` slot.

use crate::plugin::Plugin;
use crate::runtime::HostModuleDef;

/// A host module: functions a guest imports by module name.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is registered in slot `host` but does not implement `vm_core::slot::HostModule`",
    label = "this plugin type does not implement `HostModule`",
    note = "add `impl vm_core::slot::HostModule for {Self} {{ ... }}` or register it in the slot it implements"
)]
pub trait HostModule: Plugin {
    /// The module's functions and state constructor.
    const MODULE: &'static HostModuleDef;
}
