//! The `virt` slot.

use crate::plugin::Plugin;

/// Where guest code runs and how linear memory is isolated.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is registered in slot `virt` but does not implement `vm_core::slot::Virt`",
    label = "this plugin type does not implement `Virt`",
    note = "add `impl vm_core::slot::Virt for {Self} {{ ... }}` or register it in the slot it implements"
)]
pub trait Virt: Plugin {
    /// Whether linear memory sits in a reservation with guard pages large enough that
    /// engines may omit explicit bounds checks for 32-bit addresses.
    const GUARD_PAGES: bool;
}
