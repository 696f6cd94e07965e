//! `#[repr(C)]` runtime structures that engines' generated code touches, and their
//! field offsets (the `*_BASE`, `*_LENGTH`... constants): the single source of truth for JIT plugins (tests assert every
//! constant against `core::mem::offset_of!`).
//!
//! Every instance of these structures lives in the store's
//! [guest data](super::guest_data), read-only or read-write for generated code as
//! that module's table says.

/// A linear memory as generated code sees it.
#[repr(C)]
#[derive(Debug)]
pub struct VMMemoryDefinition {
    /// First byte of the memory.
    pub base: *mut u8,
    /// Current size in bytes.
    pub length: usize,
}

/// A table as generated code sees it. Elements are raw references (see [`RawRef`]).
#[repr(C)]
#[derive(Debug)]
pub struct VMTableDefinition {
    /// First element.
    pub base: *mut u64,
    /// Current number of elements.
    pub length: u64,
}

/// A global's storage: 16 bytes so a `v128` fits; scalars use `lo`.
#[repr(C, align(16))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VMGlobal {
    /// Low 64 bits (every scalar type, as raw bits).
    pub lo: u64,
    /// High 64 bits (`v128` only).
    pub hi: u64,
}

/// State shared by every instance of one store that generated code only reads, for
/// generated code and the runtime functions it calls (guest read-only). Each
/// instance's [`VMContext::store`] points to it; the engine fills it on entry from
/// the host. What generated code writes is in [`VMStoreState`].
#[repr(C)]
#[derive(Debug)]
pub struct VMStoreContext {
    /// Lowest native stack address guest frames may use (JIT engines compare the
    /// stack pointer against it in function prologues).
    pub stack_limit: usize,
    /// Engine-defined table of runtime functions generated code calls.
    pub libcalls: *const usize,
    /// Host only (generated code never reads it): the store (`*mut Store<C>`) during
    /// a call from the host, else null.
    pub store: *mut (),
    /// Host only: the composition (`*mut C`) during a call from the host, else null.
    pub plugins: *mut (),
    /// Host only: engine-defined state of the call in progress, else null.
    pub engine: *mut (),
    /// The store's interrupt flag (nonzero: trap with "interrupted" at the next
    /// check); never null once the store exists.
    pub interrupt: *const core::sync::atomic::AtomicU32,
}

impl Default for VMStoreContext {
    fn default() -> Self {
        Self {
            stack_limit: 0,
            libcalls: core::ptr::null(),
            store: core::ptr::null_mut(),
            plugins: core::ptr::null_mut(),
            engine: core::ptr::null_mut(),
            interrupt: core::ptr::null(),
        }
    }
}

/// State shared by every instance of one store that generated code writes (guest
/// read-write). Each instance's [`VMContext::state`] points to it.
#[repr(C)]
#[derive(Debug, Default)]
pub struct VMStoreState {
    /// Fuel left in the store (engines with metering on subtract each run's cost;
    /// below zero at a check traps with "out of fuel"; see
    /// [`crate::runtime::limits`]).
    pub fuel: i64,
    /// Where a native-code engine's throw continues once vm-core found the handler
    /// (see [`crate::runtime::native::exn`]): the landing pad's address, ...
    pub exn_pc: usize,
    /// ... the stack pointer its frame has at the call site, ...
    pub exn_sp: usize,
    /// ... its frame pointer, ...
    pub exn_fp: usize,
    /// ... the raw `exnref` being caught, ...
    pub exn_ref: u64,
    /// ... and the callee-saved registers `rbx`, `r12`, `r13`, `r14`, `r15` as the
    /// frame had them (the throw saves them here first; frames unwound on the way
    /// replace what they saved).
    pub exn_regs: [u64; 5],
}

/// A function reference: what a non-null `funcref` points to.
#[repr(C)]
#[derive(Debug)]
pub struct VMFuncRef {
    /// Native entry point for JIT engines (null for the interpreter).
    pub code: *const u8,
    /// The owning instance's context. For a host function, this funcref itself (so
    /// that native code shared by every host function of one signature can tell which
    /// one it calls).
    pub vmctx: *mut VMContext,
    /// Canonical signature id in the store (compared by `call_indirect`).
    pub sig: u32,
    /// The function's address in the store.
    pub func: u32,
}

/// Per-instance context: pointers to the instance's items. Generated code receives a
/// pointer to it.
#[repr(C)]
#[derive(Debug)]
pub struct VMContext {
    /// Memory 0, or null.
    pub memory0: *mut VMMemoryDefinition,
    /// Every memory of the instance, in module index order.
    pub memories: *const *mut VMMemoryDefinition,
    /// Every table of the instance.
    pub tables: *const *mut VMTableDefinition,
    /// Every global of the instance.
    pub globals: *const *mut VMGlobal,
    /// Every function of the instance.
    pub funcs: *const *const VMFuncRef,
    /// Canonical signature id of every type index of the module.
    pub sigs: *const u32,
    /// The store's shared context (read-only for generated code).
    pub store: *mut VMStoreContext,
    /// The store's shared state generated code writes.
    pub state: *mut VMStoreState,
    /// Host only (generated code never reads it): the instance's
    /// [`InstanceData`](super::InstanceData), for runtime functions and interpreters
    /// handed a context or a funcref.
    pub instance: *mut (),
}

/// A reference as stored in tables, globals and the operand stack: `0` is null; a
/// `funcref` is a `*const VMFuncRef`; an `externref` is the host value plus one.
pub type RawRef = u64;

// Field offsets in bytes. Generated code reads these, never literal numbers.
/// `VMMemoryDefinition::base`.
pub const MEMORY_BASE: usize = 0;
/// `VMMemoryDefinition::length`.
pub const MEMORY_LENGTH: usize = 8;
/// `size_of::<VMMemoryDefinition>()`.
pub const MEMORY_SIZE: usize = 16;
/// `VMTableDefinition::base`.
pub const TABLE_BASE: usize = 0;
/// `VMTableDefinition::length`.
pub const TABLE_LENGTH: usize = 8;
/// `size_of::<VMTableDefinition>()`.
pub const TABLE_SIZE: usize = 16;
/// Size of a table element.
pub const TABLE_ELEMENT_SIZE: usize = 8;
/// `VMGlobal::lo`.
pub const GLOBAL_LO: usize = 0;
/// `VMGlobal::hi`.
pub const GLOBAL_HI: usize = 8;
/// `size_of::<VMGlobal>()`.
pub const GLOBAL_SIZE: usize = 16;
/// `VMFuncRef::code`.
pub const FUNCREF_CODE: usize = 0;
/// `VMFuncRef::vmctx`.
pub const FUNCREF_VMCTX: usize = 8;
/// `VMFuncRef::sig`.
pub const FUNCREF_SIG: usize = 16;
/// `VMFuncRef::func`.
pub const FUNCREF_FUNC: usize = 20;
/// `size_of::<VMFuncRef>()`.
pub const FUNCREF_SIZE: usize = 24;
/// `VMContext::memory0`.
pub const VMCTX_MEMORY0: usize = 0;
/// `VMContext::memories`.
pub const VMCTX_MEMORIES: usize = 8;
/// `VMContext::tables`.
pub const VMCTX_TABLES: usize = 16;
/// `VMContext::globals`.
pub const VMCTX_GLOBALS: usize = 24;
/// `VMContext::funcs`.
pub const VMCTX_FUNCS: usize = 32;
/// `VMContext::sigs`.
pub const VMCTX_SIGS: usize = 40;
/// `VMContext::store`.
pub const VMCTX_STORE: usize = 48;
/// `VMContext::state`.
pub const VMCTX_STATE: usize = 56;
/// `VMContext::instance`.
pub const VMCTX_INSTANCE: usize = 64;
/// `size_of::<VMContext>()`.
pub const VMCTX_SIZE: usize = 72;
/// `VMStoreContext::stack_limit`.
pub const STORE_STACK_LIMIT: usize = 0;
/// `VMStoreContext::libcalls`.
pub const STORE_LIBCALLS: usize = 8;
/// `VMStoreContext::store`.
pub const STORE_STORE: usize = 16;
/// `VMStoreContext::plugins`.
pub const STORE_PLUGINS: usize = 24;
/// `VMStoreContext::engine`.
pub const STORE_ENGINE: usize = 32;
/// `VMStoreContext::interrupt`.
pub const STORE_INTERRUPT: usize = 40;
/// `size_of::<VMStoreContext>()`.
pub const STORE_SIZE: usize = 48;
/// `VMStoreState::fuel`.
pub const STATE_FUEL: usize = 0;
/// `VMStoreState::exn_pc`.
pub const STATE_EXN_PC: usize = 8;
/// `VMStoreState::exn_sp`.
pub const STATE_EXN_SP: usize = 16;
/// `VMStoreState::exn_fp`.
pub const STATE_EXN_FP: usize = 24;
/// `VMStoreState::exn_ref`.
pub const STATE_EXN_REF: usize = 32;
/// `VMStoreState::exn_regs`.
pub const STATE_EXN_REGS: usize = 40;
/// `size_of::<VMStoreState>()`.
pub const STATE_SIZE: usize = 80;

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::{offset_of, size_of};

    #[test]
    fn offsets_match_layout() {
        assert_eq!(MEMORY_BASE, offset_of!(VMMemoryDefinition, base));
        assert_eq!(MEMORY_LENGTH, offset_of!(VMMemoryDefinition, length));
        assert_eq!(MEMORY_SIZE, size_of::<VMMemoryDefinition>());
        assert_eq!(TABLE_BASE, offset_of!(VMTableDefinition, base));
        assert_eq!(TABLE_LENGTH, offset_of!(VMTableDefinition, length));
        assert_eq!(TABLE_SIZE, size_of::<VMTableDefinition>());
        assert_eq!(TABLE_ELEMENT_SIZE, size_of::<RawRef>());
        assert_eq!(GLOBAL_LO, offset_of!(VMGlobal, lo));
        assert_eq!(GLOBAL_HI, offset_of!(VMGlobal, hi));
        assert_eq!(GLOBAL_SIZE, size_of::<VMGlobal>());
        assert_eq!(FUNCREF_CODE, offset_of!(VMFuncRef, code));
        assert_eq!(FUNCREF_VMCTX, offset_of!(VMFuncRef, vmctx));
        assert_eq!(FUNCREF_SIG, offset_of!(VMFuncRef, sig));
        assert_eq!(FUNCREF_FUNC, offset_of!(VMFuncRef, func));
        assert_eq!(FUNCREF_SIZE, size_of::<VMFuncRef>());
        assert_eq!(VMCTX_MEMORY0, offset_of!(VMContext, memory0));
        assert_eq!(VMCTX_MEMORIES, offset_of!(VMContext, memories));
        assert_eq!(VMCTX_TABLES, offset_of!(VMContext, tables));
        assert_eq!(VMCTX_GLOBALS, offset_of!(VMContext, globals));
        assert_eq!(VMCTX_FUNCS, offset_of!(VMContext, funcs));
        assert_eq!(VMCTX_SIGS, offset_of!(VMContext, sigs));
        assert_eq!(VMCTX_STORE, offset_of!(VMContext, store));
        assert_eq!(VMCTX_STATE, offset_of!(VMContext, state));
        assert_eq!(VMCTX_INSTANCE, offset_of!(VMContext, instance));
        assert_eq!(VMCTX_SIZE, size_of::<VMContext>());
        assert_eq!(STORE_STACK_LIMIT, offset_of!(VMStoreContext, stack_limit));
        assert_eq!(STORE_LIBCALLS, offset_of!(VMStoreContext, libcalls));
        assert_eq!(STORE_STORE, offset_of!(VMStoreContext, store));
        assert_eq!(STORE_PLUGINS, offset_of!(VMStoreContext, plugins));
        assert_eq!(STORE_ENGINE, offset_of!(VMStoreContext, engine));
        assert_eq!(STORE_INTERRUPT, offset_of!(VMStoreContext, interrupt));
        assert_eq!(STORE_SIZE, size_of::<VMStoreContext>());
        assert_eq!(STATE_FUEL, offset_of!(VMStoreState, fuel));
        assert_eq!(STATE_EXN_PC, offset_of!(VMStoreState, exn_pc));
        assert_eq!(STATE_EXN_SP, offset_of!(VMStoreState, exn_sp));
        assert_eq!(STATE_EXN_FP, offset_of!(VMStoreState, exn_fp));
        assert_eq!(STATE_EXN_REF, offset_of!(VMStoreState, exn_ref));
        assert_eq!(STATE_EXN_REGS, offset_of!(VMStoreState, exn_regs));
        assert_eq!(STATE_SIZE, size_of::<VMStoreState>());
    }
}
