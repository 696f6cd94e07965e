//! The fuzz smoke CI runs through `cargo test`: fixed seeds, a few thousand inputs
//! per target, through the same loop as `vm-fuzz`. A finding fails the test and is
//! saved under `target/fuzz-findings/` for replay.

use crate::driver::{LoopConfig, run_loop};

fn smoke(name: &str, iterations: u64, seed: u64) {
    let target = crate::target(name).expect("target exists");
    let summary = run_loop(target, &LoopConfig::new(iterations, seed));
    assert_eq!(summary.executed, iterations);
    assert!(
        summary.findings.is_empty(),
        "{name}: {} findings, saved at {:?}\n{}",
        summary.findings.len(),
        summary.findings,
        summary.stats
    );
    eprintln!("{name}: {iterations} inputs in {:.1?}\n{}", summary.elapsed, summary.stats);
}

#[test]
fn decode_smoke() {
    smoke("decode", 10_000, 0x5eed_0001);
}

#[test]
fn diff_smoke() {
    smoke("diff", 2_000, 0x5eed_0002);
}

#[test]
fn fuel_smoke() {
    smoke("fuel", 1_000, 0x5eed_0003);
}

/// wasmi 2.0 faults (a jump to address 0x2) on `diff` input 11,349 of seed 20261207:
/// the oracle's child dies, the input is skipped, and the loop runs on.
#[test]
fn diff_survives_an_oracle_crash() {
    let target = crate::target("diff").expect("target exists");
    let mut config = LoopConfig::new(3, 20_261_207);
    config.start = 11_349;
    let summary = run_loop(target, &config);
    assert_eq!(summary.executed, 3);
    assert!(summary.findings.is_empty(), "findings: {:?}\n{}", summary.findings, summary.stats);
    assert_eq!(summary.stats.get("skipped: oracle crashed"), 1, "{}", summary.stats);
    assert_eq!(summary.stats.get("modules"), 2, "{}", summary.stats);
}
