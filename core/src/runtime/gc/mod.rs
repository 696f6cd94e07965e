//! The GC proposal in vm-core: its type system ([`types`]: canonical recursion groups,
//! subtyping, struct and array definitions) and the object model every engine and
//! collector shares ([`object`]: how a GC reference is encoded in a [`RawRef`], object
//! headers and field offsets).
//!
//! [`RawRef`]: super::RawRef

pub mod conformance;
pub mod constant;
pub mod heap;
pub mod object;
pub mod ops;
pub mod types;
