//! The embedding API: compile, instantiate and call modules on a started [`Vm`].
//!
//! Every method lives in an `impl<C: Composition, S: Started> Vm<C, S>` block, so
//! calling into a VM that was not started does not compile.
//!
//! ```
//! use vm_core::runtime::{Linker, Val};
//! use vm_core::{Settings, Vm};
//!
//! vm_core::compose! {
//!     /// The interpreter, in-process.
//!     pub struct MyVm {
//!         engine: vm_engine_interp::Interp,
//!         virt: vm_virt_host::HostVirt,
//!     }
//! }
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let mut vm = Vm::<MyVm>::new(&Settings::new())?.init()?.start()?;
//! let module = vm.compile(br#"(module (func (export "add") (param i32 i32) (result i32)
//!     local.get 0 local.get 1 i32.add))"#)?;
//! let mut linker = Linker::default();
//! let inst = vm.instantiate(&module, &mut linker)?;
//! assert_eq!(vm.invoke(&mut linker, inst, "add", &[Val::I32(1), Val::I32(2)])?, [Val::I32(3)]);
//! # Ok(())
//! # }
//! ```

use std::path::Path;

use crate::compose::lifecycle::Started;
use crate::compose::{Composition, Vm};
use crate::runtime::artifact::{self, Cache, CacheOutcome, CodeImage, CompositionKey};
use crate::runtime::{
    Error, Exception, ExecLimits, Extern, Features, FuncKind, Instance, InstantiationError,
    InterruptHandle, InvokeError, LimitError, Linker, Module, ModuleInfo, Trap, TrapCode, Val,
};
use crate::slot::{Collector, Engine, Event, EventKind, Simd, Virt};

impl<C: Composition, S> Vm<C, S> {
    /// The proposals this VM accepts beyond WebAssembly 2.0: the composition's
    /// ([`crate::compose::features_of`]) unless [restricted](Self::restrict_features).
    pub fn features(&self) -> Features
    where
        S: Started,
    {
        self.proposals()
    }

    /// Accepts only the proposals of `allowed` from now on (modules using others are
    /// rejected as unsupported); a script written for an older version of the
    /// standard expects, for example, a second memory to be invalid.
    pub fn restrict_features(&mut self, allowed: Features) {
        let p = self.proposals_mut();
        *p = p.intersection(allowed);
    }

    /// Decodes, validates and compiles a module from binary or `.wat` text.
    ///
    /// # Errors
    /// A malformed or invalid module (with byte offset), an unsupported proposal, or
    /// an engine compile error.
    pub fn compile(&mut self, bytes: impl AsRef<[u8]>) -> Result<Module<C>, Error>
    where
        S: Started,
    {
        self.compile_file(bytes.as_ref(), None)
    }

    fn compile_file(&mut self, bytes: &[u8], path: Option<&Path>) -> Result<Module<C>, Error>
    where
        S: Started,
    {
        if artifact::is_artifact(bytes) {
            return self.load_artifact(bytes);
        }
        let started = std::time::Instant::now();
        let info = ModuleInfo::decode_file(bytes, self.features(), path)?;
        let code = <C::Engine as Engine>::compile_for(self.plugins_mut(), &info)?;
        self.published(info, code, started)
    }

    /// Hands freshly compiled or loaded `code` to the `virt` plugin and reports the
    /// compilation to the observers.
    fn published(
        &mut self,
        info: ModuleInfo,
        code: <C::Engine as Engine>::Code,
        started: std::time::Instant,
    ) -> Result<Module<C>, Error>
    where
        S: Started,
    {
        if let Some(map) = <C::Engine as Engine>::code_map(&code) {
            self.plugins_mut().virt_mut().code_published(map)?;
        }
        if C::EVENTS.contains(EventKind::Compile) {
            let event = Event::Compile {
                functions: info.funcs.len() as u32 - info.num_imported_funcs,
                nanos: started.elapsed().as_nanos() as u64,
                module: &info,
            };
            self.plugins().emit(&event);
        }
        Ok(Module::new(info, code))
    }

    /// What this VM's compiled code depends on besides the module (see
    /// [`CompositionKey`]): artifacts and cache entries carry it, and only those
    /// with this VM's key are loaded.
    ///
    /// # Errors
    /// The engine's code generator cannot be set up.
    pub fn composition_key(&mut self) -> Result<CompositionKey, Error>
    where
        S: Started,
    {
        let meta = |m: &crate::plugin::PluginMeta| format!("{} {}", m.id, m.version);
        let simd = if <C::Simd as Simd>::PRESENT {
            format!(
                "{} ({})",
                meta(&<C::Simd as crate::plugin::Described>::META),
                <C::Simd as Simd>::LEVEL.name()
            )
        } else {
            "none".to_owned()
        };
        let gc = if <C::Gc as Collector>::PRESENT {
            meta(&<C::Gc as crate::plugin::Described>::META)
        } else {
            "none".to_owned()
        };
        let proposals: Vec<&str> = self.features().names().collect();
        let mut entries = vec![
            ("format", artifact::FORMAT_VERSION.to_string()),
            ("build", artifact::build_id().to_owned()),
            ("vm-core", env!("CARGO_PKG_VERSION").to_owned()),
            ("engine", meta(&<C::Engine as crate::plugin::Described>::META)),
            ("virt", meta(&<C::Virt as crate::plugin::Described>::META)),
            ("gc", gc),
            ("simd", simd),
            ("proposals", proposals.join(",")),
            ("call-events", C::EVENTS.contains(EventKind::WasmCall).to_string()),
        ];
        entries.extend(<C::Engine as Engine>::aot_key(self.plugins_mut())?);
        Ok(CompositionKey::new(&entries))
    }

    /// Compiles a module (binary or `.wat` text) ahead of time into an artifact:
    /// one file with its machine code and the module (see
    /// [`crate::runtime::artifact`]), which [`Vm::load_artifact`] of a VM with the
    /// same [`composition_key`](Self::composition_key) loads without compiling.
    ///
    /// # Errors
    /// As [`Vm::compile`]; [`crate::runtime::CompileError::NoAot`] when the engine
    /// has no ahead-of-time form (engine-interp).
    pub fn precompile(&mut self, bytes: impl AsRef<[u8]>) -> Result<Vec<u8>, Error>
    where
        S: Started,
    {
        if !<C::Engine as Engine>::AOT {
            let engine = <C::Engine as crate::plugin::Described>::META.id;
            return Err(crate::runtime::CompileError::NoAot { engine }.into());
        }
        let info = ModuleInfo::decode(bytes.as_ref(), self.features())?;
        let key = self.composition_key()?;
        let image = <C::Engine as Engine>::compile_image(self.plugins_mut(), &info)?;
        Ok(artifact::encode(&key, &info.bytes, &image)?)
    }

    /// Loads an artifact written by [`Vm::precompile`]: checks its header,
    /// checksum and composition key, decodes and validates its module again and
    /// publishes its code without compiling. [`Vm::compile`] and [`Vm::load`] do
    /// the same for bytes that start with the artifact magic.
    ///
    /// # Errors
    /// A damaged, truncated or foreign artifact (an
    /// [`ArtifactError`](artifact::ArtifactError) saying which check failed), or
    /// an engine without ahead-of-time compilation.
    pub fn load_artifact(&mut self, bytes: &[u8]) -> Result<Module<C>, Error>
    where
        S: Started,
    {
        if !<C::Engine as Engine>::AOT {
            let engine = <C::Engine as crate::plugin::Described>::META.id;
            return Err(crate::runtime::CompileError::NoAot { engine }.into());
        }
        let started = std::time::Instant::now();
        let key = self.composition_key()?;
        let decoded = artifact::decode(bytes, &key)?;
        let info = ModuleInfo::decode(decoded.wasm, self.features())?;
        let code = self.load_image(&info, &decoded.image)?;
        self.published(info, code, started)
    }

    /// Checks `image` against `info` and has the engine publish it.
    fn load_image(
        &mut self,
        info: &ModuleInfo,
        image: &CodeImage,
    ) -> Result<<C::Engine as Engine>::Code, Error>
    where
        S: Started,
    {
        image.validate(info)?;
        Ok(<C::Engine as Engine>::load_image(self.plugins_mut(), info, image)?)
    }

    /// Compiles a module (binary or `.wat` text; an artifact is loaded as by
    /// [`Vm::load_artifact`]) through the on-disk `cache`: loads its code from the
    /// cache when an entry for this module and composition is there, else compiles
    /// it and stores the code. An entry that fails any check is removed and the
    /// module compiled again; a cache that cannot be written only costs the
    /// compilation. Engines without ahead-of-time compilation always compile.
    ///
    /// # Errors
    /// As [`Vm::compile`].
    pub fn compile_cached(
        &mut self,
        bytes: &[u8],
        path: Option<&Path>,
        cache: &Cache,
    ) -> Result<(Module<C>, CacheOutcome), Error>
    where
        S: Started,
    {
        if artifact::is_artifact(bytes) {
            return Ok((self.load_artifact(bytes)?, CacheOutcome::NotStored));
        }
        let started = std::time::Instant::now();
        let info = ModuleInfo::decode_file(bytes, self.features(), path)?;
        if !<C::Engine as Engine>::AOT {
            let code = <C::Engine as Engine>::compile_for(self.plugins_mut(), &info)?;
            return Ok((self.published(info, code, started)?, CacheOutcome::NotStored));
        }
        let key = self.composition_key()?;
        let entry = cache.entry_path(&key, &info.bytes);
        let mut outcome = CacheOutcome::Stored;
        if let Some(file) = cache.get(&entry) {
            let loaded = artifact::decode(&file, &key).and_then(|d| {
                if *d.wasm == *info.bytes {
                    Ok(d.image)
                } else {
                    Err(artifact::ArtifactError::ModuleHash)
                }
            });
            match loaded.map_err(Error::from).and_then(|image| self.load_image(&info, &image)) {
                Ok(code) => return Ok((self.published(info, code, started)?, CacheOutcome::Hit)),
                Err(e) => {
                    tracing::warn!("cache entry {} discarded: {e}", entry.display());
                    cache.remove(&entry);
                    outcome = CacheOutcome::Replaced;
                }
            }
        }
        let image = match <C::Engine as Engine>::compile_image(self.plugins_mut(), &info) {
            Ok(image) => image,
            Err(crate::runtime::CompileError::NoAot { .. }) => {
                let code = <C::Engine as Engine>::compile_for(self.plugins_mut(), &info)?;
                return Ok((self.published(info, code, started)?, CacheOutcome::NotStored));
            }
            Err(e) => return Err(e.into()),
        };
        match artifact::encode(&key, &info.bytes, &image) {
            Ok(file) => {
                if let Err(e) = cache.put(&entry, &file) {
                    tracing::warn!("cannot write cache entry {}: {e}", entry.display());
                    outcome = CacheOutcome::NotStored;
                }
            }
            Err(_) => outcome = CacheOutcome::NotStored,
        }
        let code = self.load_image(&info, &image)?;
        Ok((self.published(info, code, started)?, outcome))
    }

    /// Reads and compiles a `.wasm` or `.wat` file.
    ///
    /// # Errors
    /// An unreadable file, or as [`Vm::compile`].
    pub fn load(&mut self, path: impl AsRef<Path>) -> Result<Module<C>, Error>
    where
        S: Started,
    {
        let path = path.as_ref();
        let bytes = std::fs::read(path)
            .map_err(|source| Error::Io { path: path.display().to_string(), source })?;
        self.compile_file(&bytes, Some(path))
    }

    /// Instantiates `module`, resolving imports through `linker` (whose store then
    /// owns the instance).
    ///
    /// # Errors
    /// An unresolved or mistyped import, a resource limit, or a trap in a segment
    /// initializer or the start function.
    pub fn instantiate(
        &mut self,
        module: &Module<C>,
        linker: &mut Linker<C>,
    ) -> Result<Instance, InstantiationError>
    where
        S: Started,
    {
        linker.instantiate(self.plugins_mut(), module)
    }

    /// Calls the exported function `name` of `instance`.
    ///
    /// # Errors
    /// No such function, arguments that do not match its signature, or a trap.
    pub fn invoke(
        &mut self,
        linker: &mut Linker<C>,
        instance: Instance,
        name: &str,
        args: &[Val],
    ) -> Result<Vec<Val>, InvokeError>
    where
        S: Started,
    {
        let Some(Extern::Func(addr)) = linker.export(instance, name) else {
            return Err(InvokeError::NoSuchFunction(name.to_owned()));
        };
        self.call_func(linker, addr, args, name)
    }

    /// Calls the function at store address `func`.
    ///
    /// # Errors
    /// Arguments that do not match its signature, or a trap.
    pub fn call_func(
        &mut self,
        linker: &mut Linker<C>,
        func: u32,
        args: &[Val],
        name: &str,
    ) -> Result<Vec<Val>, InvokeError>
    where
        S: Started,
    {
        let store = linker.store_mut();
        let ty =
            store.func_type(func).ok_or_else(|| InvokeError::NoSuchFunction(name.to_owned()))?;
        if ty.params().len() != args.len()
            || ty.params().iter().zip(args).any(|(t, a)| *t != a.ty())
        {
            return Err(InvokeError::Signature { name: name.to_owned(), expected: ty.to_string() });
        }
        let mut results = Vec::with_capacity(ty.results().len());
        if C::EVENTS.contains(EventKind::Call) {
            let func = match store.funcs.get(func as usize).map(|f| f.kind) {
                Some(FuncKind::Wasm { instance, index }) => {
                    store.instances.get(instance as usize).map(|i| (i.module.info().id, index))
                }
                _ => None,
            };
            self.plugins().emit(&Event::Call { name, func });
        }
        let outcome = store.call(self.plugins_mut(), func, args, &mut results);
        if let Err(trap) = &outcome
            && C::EVENTS.contains(EventKind::Trap)
        {
            self.plugins().emit(&Event::Trap { trap });
        }
        match outcome {
            Ok(()) => Ok(results),
            Err(Trap { code: TrapCode::Exception(exn), .. }) => {
                let e = store.exception_value(exn).unwrap_or(Exception { tag: 0, payload: vec![] });
                Err(InvokeError::Exception(e))
            }
            Err(t) => Err(InvokeError::Trap(t)),
        }
    }

    /// The limits this VM's engine compiles in (fuel metering, interruption) and the
    /// fuel every new store starts with.
    pub fn exec_limits(&self) -> ExecLimits
    where
        S: Started,
    {
        self.plugins().engine().exec_limits()
    }

    /// Sets the fuel left in `linker`'s store (consumed so far is kept).
    ///
    /// # Errors
    /// [`LimitError::FuelOff`] when the engine does not meter fuel (its `fuel` key
    /// is 0): the store would never consume it.
    pub fn set_fuel(&self, linker: &mut Linker<C>, fuel: u64) -> Result<(), LimitError>
    where
        S: Started,
    {
        let limits = self.exec_limits();
        if !limits.metering() {
            return Err(LimitError::FuelOff);
        }
        let store = linker.store_mut();
        store.apply_limits(limits);
        store.set_fuel(fuel);
        Ok(())
    }

    /// Fuel consumed so far in `linker`'s store, or `None` when the engine does not
    /// meter fuel.
    pub fn fuel_consumed(&self, linker: &Linker<C>) -> Option<u64>
    where
        S: Started,
    {
        self.exec_limits().metering().then(|| linker.store().fuel_consumed())
    }

    /// Fuel left in `linker`'s store, or `None` when the engine does not meter fuel.
    pub fn fuel_remaining(&self, linker: &Linker<C>) -> Option<u64>
    where
        S: Started,
    {
        let limits = self.exec_limits();
        if !limits.metering() {
            return None;
        }
        let store = linker.store();
        // A store not used yet starts with the engine's budget.
        Some(if store.metering() { store.fuel_remaining() } else { limits.fuel })
    }

    /// A handle that interrupts guest code running in `linker`'s store from another
    /// thread ("interrupted" at the next function entry or loop header).
    ///
    /// # Errors
    /// [`LimitError::InterruptOff`] when the engine compiles no interruption checks
    /// (neither its `timeout_ms` nor its `interruptible` key is set).
    pub fn interrupt_handle(&self, linker: &Linker<C>) -> Result<InterruptHandle, LimitError>
    where
        S: Started,
    {
        if !self.exec_limits().interrupt_checks() {
            return Err(LimitError::InterruptOff);
        }
        Ok(linker.store().interrupt_handle())
    }

    /// The value of the exported global `name` of `instance`.
    pub fn global(&self, linker: &Linker<C>, instance: Instance, name: &str) -> Option<Val>
    where
        S: Started,
    {
        match linker.export(instance, name)? {
            Extern::Global(a) => linker.store().global_value(a),
            _ => None,
        }
    }

    /// The bytes of the exported memory `name` of `instance`.
    pub fn memory<'l>(
        &self,
        linker: &'l Linker<C>,
        instance: Instance,
        name: &str,
    ) -> Option<&'l [u8]>
    where
        S: Started,
    {
        match linker.export(instance, name)? {
            Extern::Memory(a) => linker.store().memories.get(a as usize).map(|m| m.data()),
            _ => None,
        }
    }

    /// The bytes of the exported memory `name` of `instance`, mutably.
    pub fn memory_mut<'l>(
        &self,
        linker: &'l mut Linker<C>,
        instance: Instance,
        name: &str,
    ) -> Option<&'l mut [u8]>
    where
        S: Started,
    {
        match linker.export(instance, name)? {
            Extern::Memory(a) => {
                linker.store_mut().memories.get_mut(a as usize).map(|m| m.data_mut())
            }
            _ => None,
        }
    }
}
