//! The messages a user reads name what is wrong and what to change.

use vm::runtime::{Linker, RunContext};
use vm::{Settings, Vm};

use crate::engines::InterpVm;

fn started() -> Vm<InterpVm, vm::compose::lifecycle::Running> {
    Vm::<InterpVm>::new(&Settings::new()).unwrap().init().unwrap().start().unwrap()
}

#[cfg(feature = "engine-cranelift")]
#[test]
fn a_bad_enum_value_names_its_key() {
    let mut s = Settings::new();
    s.merge_flag("engine.opt_level=fast").unwrap();
    let err = Vm::<crate::engines::CraneliftVm>::new(&s).expect_err("bad value").to_string();
    assert!(err.contains("bad value for `engine.opt_level`"), "{err}");
    assert!(err.contains("fast"), "{err}");
}

#[test]
fn a_text_syntax_error_names_the_file() {
    let dir = std::env::temp_dir().join(format!("vm-messages-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("broken.wat");
    std::fs::write(&file, "(module\n  (func (export \"f\") (result i32)\n    i32.const))\n")
        .unwrap();
    let err = started().load(&file).expect_err("syntax error").to_string();
    std::fs::remove_dir_all(&dir).ok();
    assert!(err.contains("broken.wat:3:"), "{err}");
    assert!(!err.contains("<anon>"), "{err}");
}

#[test]
fn an_import_type_mismatch_reads_as_wasm_types() {
    let mut vm = started();
    let mut linker = Linker::new(RunContext::default());
    let provider = vm
        .compile(r#"(module (memory (export "m") 1) (func (export "f") (param i32) (result i64) i64.const 0) (global (export "g") (mut f32) (f32.const 0)))"#)
        .unwrap();
    let inst = vm.instantiate(&provider, &mut linker).unwrap();
    linker.register("p", inst);
    for (import, expected, found) in [
        (
            r#"(import "p" "f" (func (param i64)))"#,
            "(func (param i64))",
            "(func (param i32) (result i64))",
        ),
        (r#"(import "p" "m" (memory 2))"#, "(memory 2)", "(memory 1)"),
        (r#"(import "p" "g" (global f32))"#, "(global f32)", "(global (mut f32))"),
        (r#"(import "p" "m" (table 1 funcref))"#, "(table 1 funcref)", "(memory 1)"),
    ] {
        let module = vm.compile(format!("(module {import})")).unwrap();
        let err = vm.instantiate(&module, &mut linker).expect_err(import).to_string();
        assert!(err.contains(&format!("expected {expected}, found {found}")), "{import}: {err}");
        assert!(!err.contains("FuncType") && !err.contains("MemoryType"), "{err}");
    }
}

#[test]
fn a_component_is_told_what_it_is() {
    // The preamble of a component binary: magic, version 0x0d, layer 1.
    let component = b"\0asm\x0d\x00\x01\x00";
    let err = started().compile(component).expect_err("a component").to_string();
    assert!(err.contains("WebAssembly component, not a core module"), "{err}");
    assert!(!err.contains("enable the feature"), "{err}");
}

#[test]
fn a_wrong_argument_count_lists_the_wasm_types() {
    let dir = std::env::temp_dir().join(format!("vm-messages-args-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("add.wat");
    std::fs::write(
        &file,
        r#"(module (func (export "add") (param i32 f64) (result f64)
            (f64.add (f64.convert_i32_s (local.get 0)) (local.get 1))))"#,
    )
    .unwrap();
    let path = file.display().to_string();
    let (code, _, err) = crate::support::vm(&["run", "--invoke", "add", &path, "1"]);
    std::fs::remove_dir_all(&dir).ok();
    assert_ne!(code, 0);
    assert!(err.contains("`add` takes 2 argument(s) (i32 f64), got 1"), "{err}");
    assert!(!err.contains("I32") && !err.contains("F64"), "{err}");
}
