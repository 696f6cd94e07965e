use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use wasmparser::{BlockType, Operator};

use super::*;

#[test]
fn runs_start_after_control_operators_and_loops_are_checked() {
    let bt = BlockType::Empty;
    assert_eq!(run_after(&Operator::Loop { blockty: bt }), Some(RunStart::Check));
    for op in [
        Operator::If { blockty: bt },
        Operator::Else,
        Operator::End,
        Operator::BrIf { relative_depth: 0 },
        Operator::Call { function_index: 0 },
        Operator::CallIndirect { type_index: 0, table_index: 0 },
    ] {
        assert_eq!(run_after(&op), Some(RunStart::Plain), "{op:?}");
    }
    for op in [
        Operator::Block { blockty: bt },
        Operator::Nop,
        Operator::I32Add,
        Operator::Br { relative_depth: 0 },
    ] {
        assert_eq!(run_after(&op), None, "{op:?}");
        assert_eq!(cost(&op), 1);
    }
}

#[test]
fn limits_say_what_code_is_emitted() {
    let off = ExecLimits::default();
    assert!(!off.metering() && !off.interrupt_checks());
    assert!(ExecLimits { fuel: 1, ..off }.metering());
    assert!(ExecLimits { timeout_ms: 5, ..off }.interrupt_checks());
    assert!(ExecLimits { interruptible: true, ..off }.interrupt_checks());
}

#[test]
fn handle_and_watchdog_set_the_flag() {
    let mut i = Interrupts::default();
    i.handle().interrupt();
    // SAFETY: the pointer is to the flag `i` keeps alive.
    assert_eq!(unsafe { (*i.flag_ptr()).load(Ordering::Relaxed) }, 1);
    i.clear();
    assert_eq!(i.flag.load(Ordering::Relaxed), 0);
    i.arm(1);
    let start = Instant::now();
    while i.flag.load(Ordering::Relaxed) == 0 && start.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(i.flag.load(Ordering::Relaxed), 1, "the watchdog never fired");
    i.clear();
    // Disarmed: the flag stays clear.
    i.arm(60_000);
    i.disarm();
    assert_eq!(i.flag.load(Ordering::Relaxed), 0);
}
