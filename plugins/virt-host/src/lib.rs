//! The `virt-host` plugin: guest code runs in this process; every linear memory lives
//! in its own `mmap` reservation of 4 GiB plus a 4 GiB guard region (`PROT_NONE`),
//! committed with `mprotect` as it grows. Any 32-bit address plus a 32-bit offset
//! lands inside the reservation, so a JIT may drop bounds checks
//! ([`Virt::GUARD_PAGES`]); the interpreter still checks explicitly.
//!
//! With `memory_reservation` below 8 GiB there are no guard pages
//! ([`Virt::guard_pages`] is `false`): each memory reserves that many bytes (or its
//! maximum if smaller), every engine checks every access explicitly, and a memory
//! that grows past its reservation moves to a larger one. This is for hosts where
//! address space is scarce or capped (`ulimit -v`, many memories per process).
//!
//! Native code ([`Virt::NATIVE_CODE`], module [`native`]) runs on the calling
//! thread's stack, entered through a small assembly routine that saves the
//! callee-saved registers; the stack limit keeps 256 KiB free at the bottom of the
//! thread's stack. Generated code calls host functions at their own addresses (the
//! libcall table is returned unchanged). A fault (`SIGSEGV`, `SIGBUS`, `SIGILL`,
//! `SIGFPE`) at a trap site of the running call's code becomes a trap with a wasm
//! backtrace (a frame-pointer walk) and the call returns; the handler is installed
//! once per process, on the first call, and passes every other fault to the handler
//! that was installed before it.
//!
//! | config key | default | meaning |
//! |---|---|---|
//! | `max_call_depth` | 100000 | deepest wasm call stack; deeper traps with `call stack exhausted` |
//! | `max_stack_slots` | 4194304 | operand stack (8-byte slots) per call from the host |
//! | `max_memory_pages` | 65536 | largest linear memory, in 64 KiB pages (a larger declared minimum fails instantiation; `memory.grow` past it returns -1) |
//! | `max_table_elements` | 10000000 | largest table (a larger declared minimum fails instantiation; `table.grow` past it returns -1) |
//! | `memory_reservation` | 8589934592 | address space reserved per linear memory, in bytes (65536 to 8 GiB); below 8 GiB: no guard pages, explicit bounds checks |
//!
//! Stats: `memory_bytes` is the linear memory committed right now (every live
//! memory's current size); `memories_created` counts memories ever created.
//!
//! ```
//! use vm_core::runtime::LinearMemory;
//! use vm_core::slot::Virt;
//! use vm_core::Plugin;
//! let mut virt = vm_virt_host::HostVirt::new(Default::default()).unwrap();
//! let ty = vm_core::runtime::MemoryType { min: 1, max: None, index64: false };
//! let mut mem = virt.new_memory(&ty).unwrap();
//! assert_eq!(mem.byte_len(), 65536);
//! mem.grow_to(2).unwrap();
//! assert_eq!(mem.byte_len(), 2 * 65536);
//! ```

mod memory;
pub mod native;

pub use memory::MmapMemory;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use vm_core::plugin::PluginStats;
use vm_core::runtime::native::{CallState, Entry, GuestStack};
use vm_core::runtime::{MemoryError, MemoryType};
use vm_core::slot::Virt;
use vm_core::{Plugin, PluginError};

/// Configuration of `virt-host`.
#[derive(Debug, Clone, serde::Deserialize, vm_core::PluginConfig)]
#[serde(default, deny_unknown_fields)]
pub struct HostVirtConfig {
    /// Deepest wasm call stack; deeper calls trap with "call stack exhausted".
    #[config(default = 100_000, range = "1..=10000000")]
    pub max_call_depth: u32,
    /// Operand stack size in 8-byte slots for one call from the host.
    #[config(default = 4_194_304, range = "1024..=268435456")]
    pub max_stack_slots: u64,
    /// Largest linear memory in 64 KiB pages.
    #[config(default = 65536, range = "0..=65536")]
    pub max_memory_pages: u32,
    /// Largest table in elements.
    #[config(default = 10_000_000, range = "0..=10000000")]
    pub max_table_elements: u32,
    /// Address space reserved per linear memory, in bytes. 8 GiB (the default) is 4 GiB
    /// of memory plus a 4 GiB guard region, and lets native engines omit bounds
    /// checks; anything smaller turns guard pages off: engines check every access
    /// explicitly and a memory that outgrows its reservation moves to a larger one.
    #[config(default = 8_589_934_592, range = "65536..=8589934592")]
    pub memory_reservation: u64,
}

/// In-process execution with guard-page isolated linear memories.
#[vm_core::plugin(id = "virt-host", slot = virt, provides = ["virt@1.0.0", "guard-pages@1.0.0"])]
pub struct HostVirt {
    config: HostVirtConfig,
    memories_created: u64,
    /// Bytes committed by the live memories this plugin created.
    committed: Arc<AtomicU64>,
}

impl Plugin for HostVirt {
    type Config = HostVirtConfig;

    fn new(config: HostVirtConfig) -> Result<Self, PluginError> {
        Ok(Self { config, memories_created: 0, committed: Arc::default() })
    }

    fn stats(&self) -> PluginStats {
        let mut s = PluginStats::default();
        s.memory_bytes = self.committed.load(Ordering::Relaxed);
        s.custom.push(("memories_created", self.memories_created));
        s
    }
}

impl Virt for HostVirt {
    const GUARD_PAGES: bool = true;
    const NATIVE_CODE: bool = true;
    type Memory = MmapMemory;
    type StoreState = ();

    fn new_memory(&mut self, ty: &MemoryType) -> Result<MmapMemory, MemoryError> {
        if ty.min > self.config.max_memory_pages {
            return Err(MemoryError::TooLarge {
                pages: ty.min.into(),
                limit: self.config.max_memory_pages.into(),
            });
        }
        // A declared maximum below the plugin's limit bounds the reservation too.
        let max =
            ty.max.map_or(self.config.max_memory_pages, |m| m.min(self.config.max_memory_pages));
        let m = MmapMemory::with_reservation(
            ty.min,
            max,
            self.config.memory_reservation as usize,
            self.committed.clone(),
        )?;
        self.memories_created += 1;
        Ok(m)
    }

    fn guard_pages(&self) -> bool {
        self.config.memory_reservation as usize >= memory::RESERVATION
    }

    fn max_call_depth(&self) -> u32 {
        self.config.max_call_depth
    }

    fn max_table_elements(&self) -> u32 {
        self.config.max_table_elements
    }

    fn max_stack_slots(&self) -> usize {
        self.config.max_stack_slots as usize
    }

    // `link_libcalls`, `code_published` and `prepare` keep their defaults: code runs
    // in this process, calls host functions at their own addresses and reaches
    // every runtime structure where it is.

    fn guest_stack(&mut self, _: &()) -> GuestStack {
        native::guest_stack()
    }

    unsafe fn enter(&mut self, _: &(), state: &mut CallState, entry: Entry) -> bool {
        // SAFETY: the caller's contract is `native::enter`'s.
        unsafe { native::enter(state, entry) }
    }
}
