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
use crate::runtime::{
    Error, Exception, ExecLimits, Extern, Features, FuncKind, Instance, InstantiationError,
    InterruptHandle, InvokeError, LimitError, Linker, Module, ModuleInfo, Trap, TrapCode, Val,
};
use crate::slot::{Engine, Event, EventKind, Virt};

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
        let started = std::time::Instant::now();
        let info = ModuleInfo::decode_file(bytes, self.features(), path)?;
        let code = <C::Engine as Engine>::compile_for(self.plugins_mut(), &info)?;
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
