//! The `engine` slot.

use crate::plugin::Plugin;

/// How function bodies execute: an interpreter or a JIT.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is registered in slot `engine` but does not implement `vm_core::slot::Engine`",
    label = "this plugin type does not implement `Engine`",
    note = "add `impl vm_core::slot::Engine for {Self} {{ ... }}` or register it in the slot it implements"
)]
pub trait Engine: Plugin {
    /// Whether this engine generates native machine code.
    const NATIVE_CODE: bool;
}
