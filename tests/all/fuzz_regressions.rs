//! Modules the fuzz targets found (`tests/fuzz-regressions/*.wast`, each with the
//! results the spec requires), on every engine compiled into this build.

use std::path::Path;

use crate::engines::ENGINES;

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
    for engine in ENGINES.iter().filter(|e| e.should_run()) {
        for f in &files {
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
