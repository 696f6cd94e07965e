//! The `virt` slot.

use crate::compose::Composition;
use crate::plugin::Plugin;
use crate::runtime::guest_data::GuestChunk;
use crate::runtime::native::{CallState, CodeMap, Entry, GuestStack, Libcall};
use crate::runtime::{
    CompileError, Features, Instance, InstantiationError, LinearMemory, MemoryError, MemoryType,
    Store, Trap,
};

/// Where guest code runs and how linear memory is isolated.
///
/// A `virt` plugin places linear memory ([`Virt::new_memory`]) and sets the
/// resource limits every engine applies. For engines that generate machine code
/// it also owns running that code (see [`crate::runtime::native`]): engines
/// describe their code ([`CodeMap`]: trap sites and functions) and the host
/// functions it calls ([`Libcall`]), and never install handlers or enter code
/// themselves. The plugin
///
/// - links the libcalls: [`Virt::link_libcalls`] returns the addresses generated
///   code calls (in-process: the host functions; a micro-VM: stubs that exit);
/// - sees code and instances before they run ([`Virt::code_published`],
///   [`Virt::prepare`]), so a micro-VM can map them;
/// - says which stack guest code runs on ([`Virt::guest_stack`]);
/// - enters code ([`Virt::enter`]) and turns faults at trap sites into traps
///   recorded in the [`CallState`] ([`CallState::record_trap`]), passing any other
///   fault on untouched.
///
/// A plugin that cannot run native code keeps the defaults and
/// [`Virt::NATIVE_CODE`] `= false`; native engines refuse to compile for it, and
/// the interpreter uses none of these items. None of them is on the
/// guest-to-guest call path.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is registered in slot `virt` but does not implement `vm_core::slot::Virt`",
    label = "this plugin type does not implement `Virt`",
    note = "add `impl vm_core::slot::Virt for {Self} {{ ... }}` or register it in the slot it implements"
)]
pub trait Virt: Plugin {
    /// Whether linear memory sits in a reservation with guard pages large enough that
    /// engines may omit explicit bounds checks for 32-bit addresses.
    const GUARD_PAGES: bool;

    /// Whether the memories this plugin creates, with its configuration, have the
    /// guard pages [`Virt::GUARD_PAGES`] speaks of. Engines read it when they
    /// compile a module (with [`Virt::GUARD_PAGES`]) and emit explicit bounds checks
    /// for every access when it is `false`; a memory without guard pages may move
    /// when it grows ([`crate::runtime::LinearMemory::base`]). Never `true` when
    /// [`Virt::GUARD_PAGES`] is `false`. The default: [`Virt::GUARD_PAGES`].
    fn guard_pages(&self) -> bool {
        Self::GUARD_PAGES
    }

    /// A linear memory's backing storage.
    type Memory: LinearMemory;

    /// What the plugin keeps per store: nothing for code running in this process
    /// (`()`), a micro-VM for a plugin that runs each store's guest code in one.
    /// Created empty with the store ([`Store::virt_state`]) and dropped with it,
    /// before the store's memories and guest data are released. It is handed out
    /// by shared reference while guest code runs (runtime functions reach the
    /// store meanwhile), so a plugin that changes it uses interior mutability.
    type StoreState: Default + Send + 'static;

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

    /// Whether this plugin runs native code: [`Virt::enter`],
    /// [`Virt::guest_stack`] and [`Virt::link_libcalls`] do real work. Engines that
    /// generate machine code fail to build for a composition where it is `false`.
    const NATIVE_CODE: bool = false;

    /// The proposals beyond WebAssembly 2.0 this plugin can run guests of (a sandbox
    /// that cannot map 64-bit memories would leave out [`Features::MEMORY64`]); the
    /// composition accepts those its engine compiles too. The default: all.
    const PROPOSALS: Features = Features::ALL;

    /// Whether a call from generated code to the host costs about what a direct
    /// call costs. `false` for a plugin where each is an exit from a micro-VM:
    /// engines then generate inline code for operations they would otherwise hand
    /// to a runtime function in a loop's worth of work (`memory.copy`,
    /// `memory.fill`).
    const CHEAP_HOST_CALLS: bool = true;

    /// The addresses generated code calls for `libcalls`, in the same order
    /// (generated code reads them from
    /// [`VMStoreContext::libcalls`](crate::runtime::offsets::VMStoreContext::libcalls)
    /// or has them patched in when its code is published). An engine links its table
    /// once, before publishing code that calls it; the table it gets back lives as
    /// long as the engine. The default: the host addresses themselves (code running
    /// in this process).
    fn link_libcalls(&mut self, libcalls: &[Libcall]) -> Box<[usize]> {
        libcalls.iter().map(|l| l.addr).collect()
    }

    /// A module's machine code is published (read-execute, relocations resolved)
    /// and stays at `code.range()` until the module is dropped. The default:
    /// nothing.
    ///
    /// # Errors
    /// The plugin cannot make the code runnable (a micro-VM failed to map it).
    fn code_published(&mut self, code: &CodeMap) -> Result<(), CompileError> {
        let _ = code;
        Ok(())
    }

    /// Instance `instance` of `store` was created (its memories, tables, globals and
    /// context exist) and is about to run its segment initializers and start
    /// function. The default: nothing.
    ///
    /// # Errors
    /// The plugin cannot make the instance's data reachable from guest code.
    fn prepare<C: Composition<Virt = Self>>(
        &mut self,
        store: &Store<C>,
        instance: Instance,
    ) -> Result<(), InstantiationError> {
        let _ = (store, instance);
        Ok(())
    }

    /// The stack the next call into code of the store whose state is `store` runs
    /// on; the engine writes its `limit` to the store context before
    /// [`Virt::enter`]. The default: an empty stack.
    fn guest_stack(&mut self, store: &Self::StoreState) -> GuestStack {
        let _ = store;
        GuestStack::default()
    }

    /// Runs `entry` (a call into code of the store whose state is `store`) to
    /// completion: returns `true` when the code returned (results
    /// are in `entry.args`), `false` when it trapped. On a trap the plugin has
    /// recorded it in `state` ([`CallState::record_trap`] for a fault at a trap
    /// site; a runtime function records its own with
    /// [`crate::runtime::native::set_pending`]); the engine reads it from there.
    /// It sets [`CallState::entry_sp`] before guest code runs. Called through
    /// [`CallState::enter`], which makes `state` the thread's current call. The
    /// default records "this `virt` plugin cannot run native code" and returns
    /// `false`.
    ///
    /// # Safety
    /// `entry.trampoline` is an entry trampoline of a module whose code was
    /// published and `entry.code`/`entry.vmctx` a function and instance of a live
    /// store that `state` was readied for; `entry.args` has a 16-byte slot for every
    /// parameter and result; the store context's stack limit, libcall table, store
    /// and composition are set for this call.
    unsafe fn enter(
        &mut self,
        store: &Self::StoreState,
        state: &mut CallState,
        entry: Entry,
    ) -> bool {
        let _ = (store, entry);
        state.pending = Some(Trap::host("this virt plugin cannot run native code"));
        false
    }

    /// The store whose state is `store` added `chunk` to its
    /// [guest data](crate::runtime::guest_data): memory
    /// generated code reads (read-only chunks) or writes (read-write chunks) that
    /// holds nothing else. A plugin that runs guest code in its own address space
    /// maps it there, at the same address, before guest code next runs; the chunk
    /// stays until the store is dropped. Delivered by
    /// [`Store::announce_guest_data`](crate::runtime::Store::announce_guest_data);
    /// [`Store::guest_data`](crate::runtime::Store::guest_data) lists every chunk
    /// so far. The default ignores it (guest code runs in the host's address space).
    fn guest_data_added(&mut self, store: &Self::StoreState, chunk: &GuestChunk) {
        let _ = (store, chunk);
    }
}
