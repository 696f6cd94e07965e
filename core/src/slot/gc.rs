//! The `gc` slot: how GC objects (structs, arrays) are allocated and reclaimed.
//!
//! A collector gives each store a [`GcHeap`](crate::runtime::gc::heap::GcHeap)
//! ([`Collector::heap`]); engines allocate through it with the roots of the moment
//! and read the collector's consts at compile time (a barrier a collector does not
//! need is not emitted). The object model and the semantics of every GC instruction
//! are vm-core's ([`crate::runtime::gc`]).

use crate::error::PluginError;
use crate::plugin::{Described, Plugin, PluginMeta, Slot, Version};

/// How GC objects are allocated and reclaimed.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is registered in slot `gc` but does not implement `vm_core::slot::Collector`",
    label = "this plugin type does not implement `Collector`",
    note = "add `impl vm_core::slot::Collector for {Self} {{ ... }}` or register it in the slot it implements"
)]
pub trait Collector: Plugin {
    /// Whether this collector exists (false for [`NoCollector`]); modules using the GC
    /// proposal are rejected with "unsupported: gc" when false.
    const PRESENT: bool;
    /// Whether reference stores need a write barrier.
    const NEEDS_WRITE_BARRIER: bool;
    /// Whether objects move.
    const MOVING: bool;

    /// One store's heap.
    type Heap: crate::runtime::gc::heap::GcHeap;

    /// A new, empty heap with this plugin's settings.
    fn heap(&self) -> Self::Heap;
}

/// The empty `gc` slot: no collector is composed, so GC modules are rejected.
#[derive(Debug)]
pub struct NoCollector;

impl Described for NoCollector {
    const META: PluginMeta = PluginMeta {
        id: "(no gc)",
        slot: Slot::Gc,
        version: Version::new(0, 0, 0),
        description: "no collector composed: modules using GC types are rejected",
        provides: &[],
        requires: &[],
        declares: &[],
        config: &[],
    };
}

impl Plugin for NoCollector {
    type Config = crate::config::NoConfig;
    fn new(_: Self::Config) -> Result<Self, PluginError> {
        Ok(Self)
    }
}

impl Collector for NoCollector {
    const PRESENT: bool = false;
    const NEEDS_WRITE_BARRIER: bool = false;
    const MOVING: bool = false;
    type Heap = crate::runtime::gc::heap::NoHeap;
    fn heap(&self) -> Self::Heap {
        crate::runtime::gc::heap::NoHeap
    }
}
