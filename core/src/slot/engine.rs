//! The `engine` slot.

use crate::compose::Composition;
use crate::plugin::Plugin;
use crate::runtime::artifact::CodeImage;
use crate::runtime::native::CodeMap;
use crate::runtime::{CompileError, ExecLimits, Features, ModuleInfo, Store, Trap, Val};

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
    /// Whether the engine compiles ahead of time ([`Engine::compile_image`] and
    /// [`Engine::load_image`]): without it a composition leaves out the artifact
    /// loader and the on-disk cache.
    const AOT: bool = false;

    /// The proposals beyond WebAssembly 2.0 this engine compiles and runs. The
    /// composition accepts those its `virt` plugin allows too
    /// ([`crate::slot::Virt::PROPOSALS`]); [`Features::SIMD`] and
    /// [`Features::RELAXED_SIMD`] also need a `simd` plugin, [`Features::GC`] a `gc`
    /// plugin (see [`crate::compose::features_of`]).
    const PROPOSALS: Features;

    /// A module's compiled code.
    type Code: Send + Sync + 'static;

    /// Compiles every function of a validated module.
    ///
    /// # Errors
    /// An operator the engine does not implement (`unsupported: <op> (feature <p>)`)
    /// or an engine limit.
    fn compile(&mut self, module: &ModuleInfo) -> Result<Self::Code, CompileError>;

    /// Compiles a module for composition `C` (what the embedding API calls). Engines
    /// whose code depends on the other plugins (a JIT that drops bounds checks when the
    /// `virt` plugin provides guard pages) override it; the default is
    /// [`Engine::compile`].
    ///
    /// # Errors
    /// As [`Engine::compile`].
    fn compile_for<C: Composition<Engine = Self>>(
        plugins: &mut C,
        module: &ModuleInfo,
    ) -> Result<Self::Code, CompileError> {
        plugins.engine_mut().compile(module)
    }

    /// Ahead-of-time compilation, first half: compiles a module for composition `C`
    /// into a [`CodeImage`] (its machine code before it is placed in memory, with
    /// symbolic relocations) that [`Engine::load_image`] publishes, now or in
    /// another run of the same build (vm-core writes it into an artifact file, see
    /// [`crate::runtime::artifact`]). The default: the engine has none.
    ///
    /// # Errors
    /// As [`Engine::compile`]; [`CompileError::NoAot`] for engines without an
    /// ahead-of-time form.
    fn compile_image<C: Composition<Engine = Self>>(
        plugins: &mut C,
        module: &ModuleInfo,
    ) -> Result<CodeImage, CompileError> {
        let _ = (plugins, module);
        Err(CompileError::NoAot { engine: Self::META.id })
    }

    /// Ahead-of-time compilation, second half: publishes `image`, compiled by
    /// [`Engine::compile_image`] for `module` and composition `C` (vm-core has
    /// checked its offsets with [`CodeImage::validate`]; the engine checks what only
    /// it knows, such as helper numbers), as code [`Engine::call`] runs.
    ///
    /// # Errors
    /// A helper number the engine does not have, a relocation out of range, a
    /// failure to map the code; [`CompileError::NoAot`] by default.
    fn load_image<C: Composition<Engine = Self>>(
        plugins: &mut C,
        module: &ModuleInfo,
        image: &CodeImage,
    ) -> Result<Self::Code, CompileError> {
        let _ = (plugins, module, image);
        Err(CompileError::NoAot { engine: Self::META.id })
    }

    /// What this engine's code for composition `C` depends on besides the module
    /// and the composition's plugins: its code-generating settings and the CPU
    /// features it uses, as `key=value` entries of the artifact's
    /// [`CompositionKey`](crate::runtime::artifact::CompositionKey). Artifacts
    /// whose entries differ are not loaded. The default: none (engines without
    /// [`Engine::compile_image`]).
    ///
    /// # Errors
    /// The code generator for `C` cannot be set up.
    fn aot_key<C: Composition<Engine = Self>>(
        plugins: &mut C,
    ) -> Result<Vec<(&'static str, String)>, CompileError> {
        let _ = plugins;
        Ok(Vec::new())
    }

    /// The native entry point of defined function `index` (module index space), which
    /// the linker writes into its funcref; null for engines without native code.
    fn native_entry(code: &Self::Code, index: u32) -> *const u8 {
        let _ = (code, index);
        core::ptr::null()
    }

    /// Native code with this engine's calling convention that calls a host function
    /// of the module's type `ty` (the linker writes it into the host function's
    /// funcref when a module importing it is instantiated); null for engines without
    /// native code.
    fn host_entry(code: &Self::Code, ty: u32) -> *const u8 {
        let _ = (code, ty);
        core::ptr::null()
    }

    /// The description of a module's machine code (trap sites, functions, address
    /// range) that the `virt` plugin runs it with; `None` for engines without
    /// native code.
    fn code_map(code: &Self::Code) -> Option<&CodeMap> {
        let _ = code;
        None
    }

    /// The limits this engine's configuration compiles in (fuel metering,
    /// interruption checks) and the fuel a new store starts with; see
    /// [`crate::runtime::limits`] for what the engine must lower. The default: none.
    fn exec_limits(&self) -> ExecLimits {
        ExecLimits::default()
    }

    /// Calls function `func` (a store address) with `args`, appending its results to
    /// `results` (what `results` held before stays in front). The caller has checked
    /// `args` against the function's signature and applied the store's limits
    /// ([`Store::call`] is the entry from the host that does both the limits and the
    /// timeout).
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
