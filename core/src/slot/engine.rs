//! The `engine` slot.

use crate::compose::Composition;
use crate::plugin::Plugin;
use crate::runtime::{CompileError, ModuleInfo, Store, Trap, Val};

/// How function bodies execute: an interpreter or a JIT.
///
/// The engine compiles a validated [`ModuleInfo`] once into [`Engine::Code`] (shared
/// by every instance of the module) and runs functions of a [`Store`] with
/// [`Engine::call`], which is generic over the composition so the execution loop is
/// monomorphized for it (no `dyn` per instruction, call or memory access).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is registered in slot `engine` but does not implement `vm_core::slot::Engine`",
    label = "this plugin type does not implement `Engine`",
    note = "add `impl vm_core::slot::Engine for {Self} {{ ... }}` or register it in the slot it implements"
)]
pub trait Engine: Plugin {
    /// Whether this engine generates native machine code.
    const NATIVE_CODE: bool;

    /// A module's compiled code.
    type Code: Send + Sync + 'static;

    /// Compiles every function of a validated module.
    ///
    /// # Errors
    /// An operator the engine does not implement ("unsupported: <op> (feature <p>)")
    /// or an engine limit.
    fn compile(&mut self, module: &ModuleInfo) -> Result<Self::Code, CompileError>;

    /// Calls function `func` (a store address) with `args`, appending its results to
    /// `results`. The caller has checked `args` against the function's signature.
    ///
    /// # Errors
    /// A trap, with its wasm backtrace.
    fn call<C: Composition<Engine = Self>>(
        plugins: &mut C,
        store: &mut Store<C>,
        func: u32,
        args: &[Val],
        results: &mut Vec<Val>,
    ) -> Result<(), Trap>;
}
