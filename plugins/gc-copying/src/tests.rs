use vm_core::runtime::gc::conformance;
use vm_core::runtime::gc::heap::GcConfig;

use super::*;

fn heap(c: GcConfig) -> CopyingHeap {
    let config = CopyingConfig {
        limit: c.limit as u64,
        initial: c.initial as u64,
        growth: c.growth_percent,
        stress: c.stress,
    };
    Copying::new(config).unwrap().heap()
}

#[test]
fn passes_the_collector_checks() {
    conformance::run(heap, true);
}
