//! Tail calls run in constant stack space on every engine compiled into the build
//! (`tail_calls/deep.wast`: mutual recursion a million deep through `return_call`,
//! `return_call_indirect` and imports, between frames of different sizes).

use std::path::Path;

use crate::engines::ENGINES;

#[test]
fn tail_calls_run_in_constant_stack_space_everywhere() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/all/tail_calls/deep.wast");
    let mut problems = Vec::new();
    for engine in ENGINES.iter().filter(|e| e.should_run()) {
        let r = (engine.wast)(&file);
        println!("{}: {} passed, {} failed", engine.id, r.passed, r.failed);
        for f in &r.failures {
            problems.push(format!("{} line {}: {}", engine.id, f.line, f.reason));
        }
        assert!(r.passed >= 10, "{}: only {} directives passed", engine.id, r.passed);
    }
    assert!(problems.is_empty(), "tail-call failures:\n{}", problems.join("\n"));
}

/// A `return_call`, `return_call_indirect` or `return_call_ref` inside a
/// `try_table` is not caught by it (the exception-handling proposal: the frame is
/// gone), also to another instance; `call_ref` inside one is (`tail_calls/
/// exceptions.wast`), on every engine compiled into the build.
#[test]
fn tail_calls_leave_the_handlers_of_their_frame_everywhere() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/all/tail_calls/exceptions.wast");
    let mut problems = Vec::new();
    for engine in ENGINES.iter().filter(|e| e.should_run()) {
        let r = (engine.wast)(&file);
        println!("{}: {} passed, {} failed", engine.id, r.passed, r.failed);
        for f in &r.failures {
            problems.push(format!("{} line {}: {}", engine.id, f.line, f.reason));
        }
        assert!(r.passed >= 12, "{}: only {} directives passed", engine.id, r.passed);
    }
    assert!(problems.is_empty(), "tail-call and exception failures:\n{}", problems.join("\n"));
}
