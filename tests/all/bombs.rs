//! No translator bomb: 100,000 functions, 50,000 locals, nesting 10,000 deep and a
//! 100,000-entry `br_table` each compile on every engine (or fail with a clear error),
//! and the code compiled runs. Time and memory are reported by
//! `cargo run --release --example bombs`, not asserted here.

use vm::runtime::{Linker, RunContext, Val};
use vm::{Composition, Settings, Vm};

#[path = "../../examples/bombs/modules.rs"]
mod modules;

use modules::Shape;

fn check<C: Composition>(engine: &str) {
    let mut vm = Vm::<C>::new(&Settings::new()).unwrap().init().unwrap().start().unwrap();
    for (shape, n) in Shape::ALL {
        let (wasm, arg, expected) = shape.module(n);
        let what = format!("{engine}: {} {n}", shape.name());
        let module = match vm.compile(&wasm) {
            Ok(m) => m,
            // A limit is fine if it says what it is; none is hit today.
            Err(e) => panic!("{what}: {e}"),
        };
        let mut linker = Linker::<C>::new(RunContext::default());
        let inst = vm.instantiate(&module, &mut linker).unwrap();
        let args: Vec<Val> = arg.map(Val::I32).into_iter().collect();
        let got = vm.invoke(&mut linker, inst, "run", &args).unwrap();
        assert_eq!(got, [Val::I32(expected)], "{what}");
    }
}

#[cfg(feature = "engine-interp")]
#[test]
fn interp_compiles_and_runs_each_bomb() {
    check::<crate::engines::InterpVm>("engine-interp");
}

#[cfg(feature = "engine-cranelift")]
#[test]
fn cranelift_compiles_and_runs_each_bomb() {
    check::<crate::engines::CraneliftVm>("engine-cranelift");
}

#[cfg(feature = "engine-dynasm")]
#[test]
fn dynasm_compiles_and_runs_each_bomb() {
    check::<crate::engines::DynasmVm>("engine-dynasm");
}

/// Past wasmparser's limit of 50,000 locals is an error that says so, not a crash.
#[cfg(feature = "engine-interp")]
#[test]
fn too_many_locals_is_a_clear_error() {
    let mut vm = Vm::<crate::engines::InterpVm>::new(&Settings::new())
        .unwrap()
        .init()
        .unwrap()
        .start()
        .unwrap();
    let (wasm, _, _) = Shape::Locals.module(50_001);
    let Err(e) = vm.compile(&wasm) else { panic!("50,001 locals compiled") };
    assert!(e.to_string().contains("too many locals"), "{e}");
}
