//! The `fuel` target: the `diff` target's modules run with a fuel budget on every
//! composition, which must agree on everything the `diff` target compares, on the
//! fuel consumed after instantiation and after every call, and so on the point where
//! the budget runs out (the same call traps "out of fuel", with the same state
//! left behind). Fuel is defined once in `vm_core::runtime::limits`; the oracle
//! meters differently and takes no part.

use vm::Settings;

use crate::compositions;
use crate::observe::{self, Comparison};
use crate::{Finding, Stats, diff};

/// The budget for one input: from its first bytes, spread over several orders of
/// magnitude so that some runs end out of fuel early, some late and some never.
fn budget(data: &[u8]) -> u64 {
    let b = |i: usize| u64::from(data.get(i).copied().unwrap_or(0));
    let scale = [10, 50, 200, 1_000, 10_000, 100_000][(b(0) % 6) as usize];
    1 + (b(1) | (b(2) << 8)) % scale
}

/// Runs the target on one input.
///
/// # Errors
/// Two compositions disagreed on an outcome, the state or the fuel consumed.
pub fn run(data: &[u8], stats: &mut Stats) -> Result<(), Finding> {
    let fuel = budget(data);
    let Some((features, module, plan)) = diff::generate(data.get(3..).unwrap_or_default()) else {
        stats.bump("skipped: input too short for the generator");
        return Ok(());
    };
    let mut settings = Settings::new();
    settings
        .merge_flag(&format!("engine.fuel={fuel}"))
        .map_err(|e| Finding::new(format!("setting the budget: {e}"), None))?;
    let mut engines =
        compositions::usable().iter().copied().filter(|e| e.features.contains(features));
    let Some(first) = engines.next() else {
        return Ok(());
    };
    let reference = (first.observe_with)(&module, &plan, &settings)
        .map_err(|e| Finding::new(format!("{}: {}", first.id, e.0), Some(module.clone())))?;
    stats.bump("modules");
    if reference.fuel.is_empty() {
        return Err(Finding::new(format!("{}: fuel is on but not metered", first.id), None));
    }
    let ran_out = reference.instantiation_trap == Some(vm::runtime::TrapCode::OutOfFuel)
        || reference
            .calls
            .iter()
            .any(|c| c == &observe::Outcome::Trapped(vm::runtime::TrapCode::OutOfFuel));
    stats.bump(if ran_out { "ran out of fuel" } else { "completed within the budget" });
    let mut diverged = Vec::new();
    for entry in engines {
        let pair = format!("{} vs {}", entry.id, first.id);
        let ours = match (entry.observe_with)(&module, &plan, &settings) {
            Ok(o) => o,
            Err(e) => {
                diverged.push(format!("{pair}: {} (the reference ran it)", e.0));
                continue;
            }
        };
        let verdict = observe::compare(&plan, &reference, &ours).and_then(|c| {
            // Fuel after instantiation and after each compared call.
            let n = match c {
                Comparison::Agreed => reference.fuel.len().max(ours.fuel.len()),
                Comparison::StackExhausted(i) => i + 1,
            };
            let (r, o) = (
                &reference.fuel[..n.min(reference.fuel.len())],
                &ours.fuel[..n.min(ours.fuel.len())],
            );
            if r == o {
                Ok(c)
            } else {
                let at = r.iter().zip(o).position(|(a, b)| a != b).unwrap_or(r.len().min(o.len()));
                let when = if at == 0 {
                    "after instantiation".to_owned()
                } else {
                    format!("after call #{}", at - 1)
                };
                Err(format!("fuel consumed {when}: {:?} vs {:?}", r.get(at), o.get(at)))
            }
        });
        match verdict {
            Ok(Comparison::Agreed) => stats.bump(format!("{pair}: agreed")),
            Ok(Comparison::StackExhausted(_)) => {
                stats.bump(format!("{pair}: agreed up to stack exhaustion"))
            }
            Err(d) => {
                stats.bump(format!("{pair}: DIVERGED"));
                diverged.push(format!("{pair} (engine.fuel={fuel}): {d}"));
            }
        }
    }
    if diverged.is_empty() { Ok(()) } else { Err(Finding::new(diverged.join("\n"), Some(module))) }
}
