//! Every lane operation of this plugin against the portable definition, on edge
//! cases and pseudo-random vectors.

use vm_core::runtime::cpu;
use vm_core::slot::Simd;

use crate::{SimdSse41, Sse41Lanes};

#[test]
fn every_operation_matches_the_portable_definition() {
    let features = <SimdSse41 as Simd>::CPU_FEATURES;
    if !features.iter().all(|f| cpu::has(f)) {
        eprintln!("skipped: the CPU lacks one of {features:?}");
        return;
    }
    // SAFETY: the CPU has the features the lanes are compiled for (checked above).
    let r = unsafe { vm_core::runtime::simd::compare_with_portable::<Sse41Lanes>(20_000) };
    if let Err(e) = r {
        panic!("{e}");
    }
}
