//! Execution limits every engine lowers the same way: fuel and interruption.
//!
//! # Fuel
//!
//! - **Unit.** One unit per operator of a function body that is reached in
//!   validation order while code is reachable: every operator counts (`nop`, `block`,
//!   `loop`, `if`, `else`, `end` — the function's final `end` included — `drop`,
//!   `local.get`, constants…), except the operators that follow an unconditional
//!   transfer (`br`, `br_table`, `return`, `return_call`, `return_call_indirect`,
//!   `unreachable`) up to the `else`/`end`
//!   closing their frame, which never run. Calls cost one unit in the caller; the
//!   callee's operators are charged in the callee; host functions cost nothing beyond
//!   their `call`.
//! - **Runs.** A function body is cut into straight-line runs: a run starts at the
//!   function entry and right after every operator for which [`run_after`] says so
//!   (`loop`, `if`, `else`, `end`, `br_if`, `call`, `call_indirect`). A run's cost
//!   is the number of units among its operators.
//! - **Charged** when a run is entered, before any of its operators executes: the
//!   store's fuel counter drops by the run's cost (so a run left by a trap is charged
//!   in full, identically on every engine).
//! - **Checked** at the function entry and at every loop header (the run that
//!   begins after `loop`, entered on every iteration), right after that run is
//!   charged: when the counter is below zero, the guest traps with "out of fuel"
//!   before any operator of the run executes. Other runs are charged without a
//!   check, so the counter may dip below zero by less than the cost of the runs
//!   between two checks; the consumed figure counts what was charged.
//! - **Budget.** Fuel belongs to a [`Store`](super::Store): set once (the engine's
//!   `fuel` config key gives every store its initial budget), consumed across every
//!   call from the host into that store, readable and refillable between calls —
//!   what wasmtime's `Store::set_fuel` does. Embedders meter a tenant or a request
//!   across many calls, not one call at a time; a per-call budget would let a guest
//!   split its work into many calls and run unbounded.
//!
//! # Interruption
//!
//! With interruption compiled in (the engine's `timeout_ms` or `interruptible`
//! key), generated code reads the store's interrupt flag at the same check points
//! as fuel and traps with "interrupted" when it is set. An [`InterruptHandle`] sets
//! it from any thread; with `timeout_ms = N` a watchdog thread of the store sets it
//! N ms after a call from the host begins. With neither key, no check is emitted.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use super::guest_data::SharedFlag;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use wasmparser::Operator;

/// What an engine's configuration asks for: fuel metering, interruption checks and
/// the budget every new store starts with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExecLimits {
    /// Initial fuel of every store; 0 means metering is off (no code for it).
    pub fuel: u64,
    /// Wall-clock limit of one call from the host in milliseconds; 0 means none.
    pub timeout_ms: u64,
    /// Interruption checks even without a timeout (for [`InterruptHandle`]s).
    pub interruptible: bool,
}

impl ExecLimits {
    /// Whether engines emit fuel charges and checks.
    pub const fn metering(&self) -> bool {
        self.fuel > 0
    }

    /// Whether engines emit interruption checks.
    pub const fn interrupt_checks(&self) -> bool {
        self.timeout_ms > 0 || self.interruptible
    }
}

/// The kind of run that starts right after an operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunStart {
    /// A run that is charged without a check.
    Plain,
    /// A loop header: charged, then checked (fuel and interruption).
    Check,
}

/// Whether a new fuel run starts right after the reachable operator `op`, and of
/// which kind (see the module docs). `br`, `br_table`, `return`, the tail calls
/// and `unreachable` end their run too, but what follows them is unreachable until the frame's
/// `else`/`end`, after which a run starts. After the function's final `end` nothing
/// follows.
pub fn run_after(op: &Operator<'_>) -> Option<RunStart> {
    match op {
        Operator::Loop { .. } => Some(RunStart::Check),
        Operator::If { .. }
        | Operator::Else
        | Operator::End
        | Operator::BrIf { .. }
        | Operator::BrOnNull { .. }
        | Operator::BrOnNonNull { .. }
        | Operator::Call { .. }
        | Operator::CallIndirect { .. }
        | Operator::CallRef { .. } => Some(RunStart::Plain),
        _ => None,
    }
}

/// The fuel units `op` costs (one per operator; see the module docs).
pub const fn cost(op: &Operator<'_>) -> u64 {
    let _ = op;
    1
}

/// Interrupts the guest code of one store from any thread: the guest traps with
/// "interrupted" at its next check (function entry or loop header) when the engine
/// compiles interruption checks. The flag clears when the interrupted call returns
/// to the host; an interrupt sent while no guest code runs stops the next call at
/// its first check.
#[derive(Clone, Debug)]
pub struct InterruptHandle {
    flag: SharedFlag,
}

impl InterruptHandle {
    /// Asks the guest to stop.
    pub fn interrupt(&self) {
        self.flag.store(1, Ordering::Relaxed);
    }
}

/// The store's interrupt flag (what generated code reads) and its watchdog.
#[derive(Debug, Default)]
pub(crate) struct Interrupts {
    pub(crate) flag: SharedFlag,
    watchdog: Option<Watchdog>,
}

impl Interrupts {
    /// Interrupts through `flag` (a page of the store's guest data).
    pub(crate) fn new(flag: SharedFlag) -> Self {
        Self { flag, watchdog: None }
    }

    pub(crate) fn handle(&self) -> InterruptHandle {
        InterruptHandle { flag: self.flag.clone() }
    }

    pub(crate) fn flag_ptr(&self) -> *const AtomicU32 {
        &*self.flag
    }

    /// Sets the flag `ms` milliseconds from now (starting the watchdog thread once).
    pub(crate) fn arm(&mut self, ms: u64) {
        let flag = &self.flag;
        let w = self.watchdog.get_or_insert_with(|| Watchdog::spawn(flag.clone()));
        w.set(Some(Instant::now() + Duration::from_millis(ms)));
    }

    /// Cancels a pending timeout.
    pub(crate) fn disarm(&mut self) {
        if let Some(w) = &self.watchdog {
            w.set(None);
        }
    }

    pub(crate) fn clear(&self) {
        self.flag.store(0, Ordering::Relaxed);
    }
}

#[derive(Debug, Default)]
struct Deadline {
    at: Option<Instant>,
    stop: bool,
}

/// A thread that sets a store's interrupt flag when a deadline passes.
#[derive(Debug)]
struct Watchdog {
    shared: Arc<(Mutex<Deadline>, Condvar)>,
    thread: Option<JoinHandle<()>>,
}

impl Watchdog {
    fn spawn(flag: SharedFlag) -> Self {
        let shared = Arc::new((Mutex::new(Deadline::default()), Condvar::new()));
        let s = shared.clone();
        let thread = std::thread::Builder::new()
            .name("vm-watchdog".into())
            .spawn(move || {
                let (lock, cv) = &*s;
                let Ok(mut d) = lock.lock() else { return };
                while !d.stop {
                    match d.at {
                        None => d = cv.wait(d).unwrap_or_else(|e| e.into_inner()),
                        Some(at) => {
                            let now = Instant::now();
                            if now >= at {
                                flag.store(1, Ordering::Relaxed);
                                d.at = None;
                            } else {
                                d = cv
                                    .wait_timeout(d, at - now)
                                    .map_or_else(|e| e.into_inner().0, |r| r.0);
                            }
                        }
                    }
                }
            })
            .ok();
        Self { shared, thread }
    }

    fn set(&self, at: Option<Instant>) {
        let (lock, cv) = &*self.shared;
        let mut d = lock.lock().unwrap_or_else(|e| e.into_inner());
        d.at = at;
        cv.notify_one();
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        {
            let (lock, cv) = &*self.shared;
            let mut d = lock.lock().unwrap_or_else(|e| e.into_inner());
            d.stop = true;
            cv.notify_one();
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests;
