//! Targets other than x86-64 have only [`SimdLevel::Scalar`](vm_core::slot::SimdLevel::Scalar):
//! the x86-64 levels, which no plugin provides here, name the portable handlers.

pub use super::portable as avx2;
pub use super::portable as sse41;
