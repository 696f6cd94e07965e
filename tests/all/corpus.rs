//! The benchmark corpus (`../shared/bench`): every program prints exactly its expected
//! output under `vm run`, with the small sizes of `cases.tsv`, on every engine.

use crate::support::{BIN_ENGINES, shared, vm_with};

#[test]
#[cfg_attr(vm_shared_absent, ignore = "../shared is absent (it ships beside the repository)")]
fn every_program_matches_its_expected_output() {
    let Some(dir) = shared("bench") else { return };
    let cases = std::fs::read_to_string(dir.join("cases.tsv")).expect("cases.tsv");
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
        for engine in BIN_ENGINES {
            let (code, out, err) = vm_with(engine, &args);
            assert_eq!(code, 0, "{name} on {engine}: exit {code}, stderr: {err}");
            assert_eq!(out, expected, "{name} on {engine}: wrong output");
        }
        ran += 1;
    }
    assert_eq!(ran, 12, "the corpus has 12 programs");
}
