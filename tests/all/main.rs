//! The integration tests: one binary, one module per topic.

mod aot;
mod bombs;
mod cli;
mod config;
mod corpus;
mod custom_vm;
mod engines;
mod exceptions;
mod fuzz_regressions;
#[cfg(all(feature = "engine-interp", feature = "virt-host"))]
mod gc;
mod hosts;
mod isolation;
mod limits;
mod messages;
mod minimal;
mod new_plugin;
mod observer;
mod registry;
mod run;
#[cfg(any(feature = "simd-scalar", feature = "simd-sse41", feature = "simd-avx2"))]
mod simd_abi;
mod simd_cpu;
mod sjlj;
mod soak;
mod spec;
mod support;
mod tail_calls;
mod trace;
mod traps;
mod ui;
mod wasi_misuse;
mod wasi_preview0;
mod wasi_programs;
