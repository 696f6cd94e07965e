//! Modules the fuzz targets found (`tests/fuzz-regressions/*.wast`, each with the
//! results the spec requires), on every engine compiled into this build (those
//! without simd128 skip the files that use v128).

use std::path::Path;

use crate::engines::{ENGINES, ENGINES_NOT_IN_SPEC};

#[test]
fn fuzz_regressions_pass_everywhere() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-regressions");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("read tests/fuzz-regressions")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "wast"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no regression files in {}", dir.display());
    let mut problems = Vec::new();
    // The engines outside the spec test have no simd128: they skip the v128 files.
    let all = ENGINES.iter().map(|e| (e, true));
    let no_simd = ENGINES_NOT_IN_SPEC.iter().map(|e| (e, false));
    for (engine, simd) in all.chain(no_simd).filter(|(e, _)| e.should_run()) {
        for f in &files {
            if !simd && std::fs::read_to_string(f).is_ok_and(|t| t.contains("v128")) {
                continue;
            }
            let r = (engine.wast)(f);
            let name = f.file_name().unwrap().to_string_lossy();
            if r.passed == 0 {
                problems.push(format!("{} {name}: no assertion ran", engine.id));
            }
            for fail in &r.failures {
                problems.push(format!("{} {name}:{}: {}", engine.id, fail.line, fail.reason));
            }
        }
    }
    assert!(problems.is_empty(), "fuzz regressions fail:\n{}", problems.join("\n"));
}
