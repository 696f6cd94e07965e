//! `vm`: the facade crate of a WebAssembly virtual machine composed from plugins at
//! compile time.
//!
//! It re-exports [`vm_core`] and, under Cargo features of the same names, the plugin
//! crates that are enabled, so an embedder can write its own composition with
//! [`compose!`](vm_core::compose) while depending on one crate.

pub use vm_core::*;
