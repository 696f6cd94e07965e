//! The host-function ABI: how host plugins expose functions to guests.
//!
//! A host plugin registers one [`HostModuleDef`] per import module it serves (through
//! `#[plugin(slot = host, ...)]` and [`HostModule`](crate::slot::HostModule)); the
//! linker finds it by import module name at instantiation (never per call), builds
//! the plugin's per-instance state once with [`HostModuleDef::new_state`] (shared by
//! all the modules of that plugin), and calls its functions through plain `fn`
//! pointers.

use std::any::Any;
use std::path::PathBuf;

use super::{Exception, Trap, Val, ValType};

/// A host function: reads `args`, writes `results` (already sized to the signature).
pub type HostFn = fn(&mut Caller<'_>, &[Val], &mut [Val]) -> Result<(), Trap>;

/// A host module's state constructor: the run context and the composed plugin's value
/// (to read its typed config). The linker always passes the plugin, since only
/// composed host modules serve imports; `None` is for calling the constructor
/// directly, as unit tests do.
pub type NewStateFn = fn(&RunContext, Option<&dyn Any>) -> Result<Box<dyn Any + Send>, Trap>;

/// One host function of a host module.
#[derive(Debug)]
pub struct HostFuncDef {
    /// Import field name.
    pub name: &'static str,
    /// Parameter types.
    pub params: &'static [ValType],
    /// Result types.
    pub results: &'static [ValType],
    /// The function.
    pub call: HostFn,
}

/// A host module: an import module name, its functions and its state constructor.
#[derive(Debug)]
pub struct HostModuleDef {
    /// Import module name (`wasi_snapshot_preview1`).
    pub module: &'static str,
    /// Its functions.
    pub functions: &'static [HostFuncDef],
    /// Builds the module's per-instance state (once per instantiation) from the run
    /// context and the composed plugin's value (to read its typed config). When the
    /// plugin serves several modules, the first one an instance imports from builds
    /// the state all of them share.
    pub new_state: NewStateFn,
}

/// What the embedder hands to host modules: program arguments, environment, preopened
/// directories.
#[derive(Clone, Debug, Default)]
pub struct RunContext {
    /// `argv`, program name first.
    pub args: Vec<String>,
    /// Environment variables given to the guest.
    pub env: Vec<(String, String)>,
    /// Preopened directories: (host path, guest path).
    pub preopens: Vec<(PathBuf, String)>,
}

/// The view a host function gets of its caller: the calling instance's linear memory
/// and this host module's state.
pub struct Caller<'a> {
    memory: Option<&'a mut [u8]>,
    state: &'a mut (dyn Any + Send),
    thrown: Option<Exception>,
}

impl<'a> Caller<'a> {
    /// Builds a caller view (engines call this at the host-call boundary).
    pub fn new(memory: Option<&'a mut [u8]>, state: &'a mut (dyn Any + Send)) -> Self {
        Self { memory, state, thrown: None }
    }

    /// Throws `exception` (its tag an [`Extern::Tag`](super::Extern::Tag) of the
    /// caller's store): return the trap this gives from the host function, and the
    /// exception unwinds the wasm frames that called it as if a `throw` had run in
    /// its place (or reaches the embedder as
    /// [`InvokeError::Exception`](super::InvokeError::Exception)).
    pub fn throw(&mut self, exception: Exception) -> Trap {
        self.thrown = Some(exception);
        Trap::host("exception thrown")
    }

    /// The exception [`Caller::throw`] recorded (the store's host-call boundary
    /// takes it).
    pub fn take_thrown(&mut self) -> Option<Exception> {
        self.thrown.take()
    }

    /// The calling instance's memory 0, if it has one.
    pub fn memory(&mut self) -> Option<&mut [u8]> {
        self.memory.as_deref_mut()
    }

    /// The calling instance's memory and this module's state, borrowed together.
    ///
    /// # Errors
    /// A trap when the instance has no memory or the state is not a `T`.
    pub fn parts<T: 'static>(&mut self) -> Result<(&mut [u8], &mut T), Trap> {
        let mem = self.memory.as_deref_mut().ok_or_else(|| Trap::host("no exported memory"))?;
        let st =
            self.state.downcast_mut::<T>().ok_or_else(|| Trap::host("host state type mismatch"))?;
        Ok((mem, st))
    }

    /// This host module's state.
    pub fn state<T: 'static>(&mut self) -> Option<&mut T> {
        self.state.downcast_mut::<T>()
    }
}
