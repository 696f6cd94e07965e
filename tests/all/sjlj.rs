//! Exceptions through `vm run` on every engine's binary: a C program whose
//! setjmp/longjmp wasi-libc implements with exception handling
//! (`tests/programs/sjlj.c`, its build command there), a C++ program that throws
//! and catches (`tests/programs/cxx_exceptions.cpp`), and an uncaught exception
//! reported as an error, not a trap.

use crate::support::{bin_engines, root, vm_with};

const SJLJ_OUTPUT: &str = "longjmp from depth 0 returned 100
longjmp from depth 3 returned 103
longjmp from depth 6 returned 106
longjmp from depth 9 returned 109
longjmp from depth 12 returned 112
nested: -1 42
zero value: 1
total 530
";

#[test]
fn setjmp_longjmp_program_runs_on_every_engine() {
    let wasm = root().join("tests/programs/sjlj.wasm");
    let wasm = wasm.to_str().expect("utf-8 path");
    for engine in bin_engines() {
        let (code, out, err) = vm_with(engine, &["run", wasm]);
        assert_eq!((code, out.as_str()), (0, SJLJ_OUTPUT), "{engine}: {err}");
    }
}

const CXX_OUTPUT: &str = "caught Boom 30
caught std::exception: five
caught std::string: seven
caught something else at 9
total 61, destructors 55
deep: depth 20, destructors 21
rethrowing Boom 30
caught rethrown Boom 30
vector::at threw out_of_range
1000 throws, sum 499500
";

#[test]
fn cxx_exceptions_program_runs_on_every_engine() {
    let wasm = root().join("tests/programs/cxx_exceptions.wasm");
    let wasm = wasm.to_str().expect("utf-8 path");
    for engine in bin_engines() {
        let (code, out, err) = vm_with(engine, &["run", wasm]);
        assert_eq!((code, out.as_str()), (0, CXX_OUTPUT), "{engine}: {err}");
    }
}

#[test]
fn uncaught_exception_is_an_error_with_its_payload() {
    let dir = std::env::temp_dir().join(format!("vm-exn-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let f = dir.join("throw.wat");
    // The second tag is not exported: it is named by its store address.
    std::fs::write(
        &f,
        r#"(module (tag (export "e") (param i32 f64)) (tag)
             (func (export "f") (throw 0 (i32.const 42) (f64.const 1.5)))
             (func (export "g") (throw 1)))"#,
    )
    .expect("write");
    let f = f.to_str().expect("utf-8 path");
    for engine in bin_engines() {
        let (code, _, err) = vm_with(engine, &["run", "--invoke", "f", f]);
        assert_eq!(code, 1, "{engine}: {err}");
        assert!(
            err.contains("error: uncaught exception: tag \"e\", payload (i32 42 f64 1.5)"),
            "{engine}: {err}"
        );
        assert!(!err.contains("wasm backtrace"), "{engine}: {err}");
        let (code, _, err) = vm_with(engine, &["run", "--invoke", "g", f]);
        assert_eq!(code, 1, "{engine}: {err}");
        assert!(err.contains("error: uncaught exception: tag 1\n"), "{engine}: {err}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
