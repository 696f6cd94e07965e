//! The benchmark corpus (`../shared/bench`): every program prints exactly its expected
//! output under `vm run`, with the small sizes of `cases.tsv`, on every engine (and on
//! engine-cranelift in KVM micro-VMs where `/dev/kvm` works).

use crate::support::{bin_engines, shared, vm_with};

#[test]
#[cfg_attr(vm_shared_absent, ignore = "../shared is absent (it ships beside the repository)")]
fn every_program_matches_its_expected_output() {
    let Some(ran) = run_cases("cases.tsv") else { return };
    assert_eq!(ran, 12, "the corpus has 12 programs");
}

/// The simd128 programs (`cases-simd.tsv`) on every engine with the test build's simd
/// plugin.
#[test]
#[cfg(any(feature = "simd-scalar", feature = "simd-sse41", feature = "simd-avx2"))]
#[cfg_attr(vm_shared_absent, ignore = "../shared is absent (it ships beside the repository)")]
fn every_simd_program_matches_its_expected_output() {
    let Some(ran) = run_cases("cases-simd.tsv") else { return };
    assert_eq!(ran, 3, "the corpus has 3 simd programs");
}

/// Runs every program of `tsv` with its small arguments on every engine and checks
/// its output; how many programs ran (`None` without `../shared`).
fn run_cases(tsv: &str) -> Option<usize> {
    let dir = shared("bench")?;
    let cases = std::fs::read_to_string(dir.join(tsv)).expect(tsv);
    let engines: Vec<_> = bin_engines().collect();
    let mut ran = 0;
    for line in cases.lines().skip(1) {
        let (name, small) = line.split_once('\t').expect("name<TAB>args");
        let wasm = dir.join("wasm").join(format!("{name}.wasm"));
        let expected =
            std::fs::read_to_string(dir.join("expected").join(format!("{name}.small.txt")))
                .expect("expected output");
        let wasm = wasm.to_string_lossy();
        let mut args = vec!["run", &*wasm];
        args.extend(small.split_whitespace());
        for engine in &engines {
            let (code, out, err) = vm_with(engine, &args);
            assert_eq!(code, 0, "{name} on {engine}: exit {code}, stderr: {err}");
            assert_eq!(out, expected, "{name} on {engine}: wrong output");
        }
        ran += 1;
    }
    Some(ran)
}

/// `fuel_consumed=N` from `vm run --stats` output.
fn fuel_consumed(stderr: &str) -> u64 {
    let at = stderr.find("fuel_consumed=").unwrap_or_else(|| panic!("no fuel figure: {stderr}"));
    let digits: String =
        stderr[at + "fuel_consumed=".len()..].chars().take_while(char::is_ascii_digit).collect();
    digits.parse().expect("a fuel figure")
}

/// Fuel has one definition: every program of the corpus consumes the same fuel on
/// every engine, and with half that budget every engine stops with "out of fuel" at
/// the same check, having consumed the same and printed the same.
#[test]
fn fuel_is_the_same_on_every_engine() {
    let Some(dir) = shared("bench") else { return };
    let cases = std::fs::read_to_string(dir.join("cases.tsv")).expect("cases.tsv");
    let engines: Vec<_> = bin_engines().collect();
    for line in cases.lines().skip(1) {
        let (name, small) = line.split_once('\t').expect("name<TAB>args");
        let wasm = dir.join("wasm").join(format!("{name}.wasm"));
        let wasm = wasm.to_string_lossy();
        let run = |engine: &str, fuel: u64| {
            let budget = format!("engine.fuel={fuel}");
            let mut args = vec!["run", "--stats", "-C", &budget, &*wasm];
            args.extend(small.split_whitespace());
            let (code, out, err) = vm_with(engine, &args);
            (code, out, fuel_consumed(&err), err)
        };
        let full: Vec<_> = engines.iter().map(|e| (e, run(e, 1 << 50))).collect();
        let (_, (_, _, used, _)) = &full[0];
        for (engine, (code, _, consumed, err)) in &full {
            assert_eq!(*code, 0, "{name} on {engine}: {err}");
            assert_eq!(consumed, used, "{name}: {engine} consumed {consumed}, not {used}");
        }
        assert!(*used > 1000, "{name}: {used}");
        let half: Vec<_> = engines.iter().map(|e| (e, run(e, used / 2))).collect();
        let (_, (_, out0, used0, _)) = &half[0];
        for (engine, (code, out, consumed, err)) in &half {
            assert_eq!(*code, 134, "{name} on {engine}: {err}");
            assert!(err.contains("out of fuel"), "{name} on {engine}: {err}");
            assert!(*consumed > used / 2, "{name} on {engine}: {consumed}");
            assert_eq!(consumed, used0, "{name}: out of fuel at another check on {engine}");
            assert_eq!(out, out0, "{name}: other output before running out on {engine}");
        }
    }
}
