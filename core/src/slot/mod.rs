//! Slot traits: what a plugin in each slot must offer to the composition.
//!
//! Hot paths (per instruction, per call, per memory access) reach plugins through
//! these traits' associated types, `const`s and generic methods, never `dyn`.

mod engine;
mod gc;
mod host;
mod observer;
mod simd;
mod virt;

pub use engine::Engine;
pub use gc::{Collector, NoCollector};
pub use host::HostModule;
pub use observer::{CodeRange, Event, EventKind, EventMask, Observer};
pub use simd::{NoSimd, Simd, SimdLevel};
pub use virt::Virt;
