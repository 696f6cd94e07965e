//! The `virt` slot.

use crate::plugin::Plugin;
use crate::runtime::guest_data::GuestChunk;
use crate::runtime::{LinearMemory, MemoryError, MemoryType};

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

    /// A linear memory's backing storage.
    type Memory: LinearMemory;

    /// Creates a memory of `ty.min` pages, able to grow to `ty.max` (or 4 GiB).
    ///
    /// # Errors
    /// The reservation or commit failed, or the size exceeds the plugin's limit.
    fn new_memory(&mut self, ty: &MemoryType) -> Result<Self::Memory, MemoryError>;

    /// Deepest wasm call stack allowed; deeper calls trap with
    /// [`crate::runtime::TrapCode::StackOverflow`].
    fn max_call_depth(&self) -> u32;

    /// Most elements a table may have (declared minimum and growth); a larger
    /// declared minimum fails instantiation, `table.grow` past it returns -1.
    fn max_table_elements(&self) -> u32 {
        crate::runtime::store::MAX_TABLE_ELEMENTS as u32
    }

    /// Largest operand stack (in 8-byte slots) of one call from the host; beyond it
    /// calls trap with [`crate::runtime::TrapCode::StackOverflow`].
    fn max_stack_slots(&self) -> usize;

    /// A store added `chunk` to its [guest data](crate::runtime::guest_data): memory
    /// generated code reads (read-only chunks) or writes (read-write chunks) that
    /// holds nothing else. A plugin that runs guest code in its own address space
    /// maps it there, at the same address, before guest code next runs; the chunk
    /// stays until the store is dropped. Delivered by
    /// [`Store::announce_guest_data`](crate::runtime::Store::announce_guest_data);
    /// [`Store::guest_data`](crate::runtime::Store::guest_data) lists every chunk
    /// so far. The default ignores it (guest code runs in the host's address space).
    fn guest_data_added(&mut self, chunk: &GuestChunk) {
        let _ = chunk;
    }
}
