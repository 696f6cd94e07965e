//! WebAssembly runtime data shared by every engine: values, traps and the host-function
//! ABI. (Module, instance, memory, table, globals, linker and offsets live here too.)

pub mod host;
pub mod trap;
pub mod value;

pub use host::{Caller, HostFn, HostFuncDef, HostModuleDef, RunContext};
pub use trap::{Trap, TrapCode};
pub use value::{Val, ValType};
