use vm_core::runtime::gc::conformance;
use vm_core::runtime::gc::heap::GcConfig;

use super::*;

fn heap(c: GcConfig) -> MarkSweepHeap {
    let config = MarkSweepConfig {
        limit: c.limit as u64,
        initial: c.initial as u64,
        growth: c.growth_percent,
        stress: c.stress,
    };
    MarkSweep::new(config).unwrap().heap()
}

#[test]
fn passes_the_collector_checks() {
    conformance::run(heap, true);
}
