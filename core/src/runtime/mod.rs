//! WebAssembly runtime data shared by every engine: values, traps, the host-function
//! ABI, modules, the store (memories, tables, globals, instances), the linker and the
//! `#[repr(C)]` layouts generated code reads, and the description of native code
//! that engines hand to the `virt` plugin running it ([`native`]).

pub mod artifact;
pub mod bulk;
pub mod cpu;
pub mod error;
pub mod gc;
pub mod guest_data;
pub mod host;
pub mod limits;
pub mod linker;
pub mod memory;
pub mod module;
pub mod native;
pub mod offsets;
pub mod operators;
pub mod simd;
pub mod store;
// The text format is a default-on feature: a build without it (a small embedded `vm`)
// reads binary modules only.
#[cfg_attr(not(feature = "wat"), path = "text_disabled.rs")]
mod text;
pub mod trap;
pub mod types;
pub mod value;

pub use error::{
    CompileError, DecodeError, Error, InstantiationError, InvokeError, LimitError, LinkError,
    MemoryError,
};
pub use guest_data::{GuestAccess, GuestChunk, GuestData};
pub use host::{Caller, HostFn, HostFuncDef, HostModuleDef, NewStateFn, RunContext};
pub use limits::{ExecLimits, InterruptHandle};
pub use linker::Linker;
pub use memory::{LinearMemory, MAX_PAGES, MAX_PAGES64, MemorySlot, PAGE_SIZE, clamp_index64};
pub use module::{Features, ModuleId, ModuleInfo};
pub use offsets::{
    RawRef, VMContext, VMFuncRef, VMGlobal, VMMemoryDefinition, VMStoreState, VMTableDefinition,
};
pub use store::{
    Exception, ExnSlot, Extern, FuncKind, FuncSlot, GlobalSlot, Instance, InstanceData, Module,
    Store, TableSlot, TagSlot,
};
pub use trap::{FrameInfo, Trap, TrapCode};
pub use types::{ExternType, FuncType, GlobalType, MemoryType, TableType};
pub use value::{Val, ValType};
