//! Everything that serves a guest is composed: a host plugin linked into the binary but
//! missing from `hosts: [...]` serves nothing, and the error names the line to add.

use vm::plugin::PluginState;
use vm::runtime::{
    Caller, Error, HostFuncDef, HostModuleDef, InstantiationError, LinkError, Linker, RunContext,
    Trap, Val, ValType,
};
use vm::slot::HostModule;
use vm::{Plugin, PluginError, Settings, Vm, plugin};

fn add_one(_: &mut Caller<'_>, args: &[Val], results: &mut [Val]) -> Result<(), Trap> {
    let Val::I32(x) = args[0] else { return Err(Trap::host("add_one takes an i32")) };
    results[0] = Val::I32(x.wrapping_add(1));
    Ok(())
}

static TEST_ENV: HostModuleDef = HostModuleDef {
    module: "test_env",
    functions: &[HostFuncDef {
        name: "add_one",
        params: &[ValType::I32],
        results: &[ValType::I32],
        call: add_one,
    }],
    new_state: |_, _| Ok(Box::new(())),
};

/// Serves `test_env.add_one` (test fixture).
#[plugin(id = "fx-test-env", slot = host)]
pub struct TestEnv;

impl Plugin for TestEnv {
    type Config = vm::config::NoConfig;
    fn new(_: Self::Config) -> Result<Self, PluginError> {
        Ok(Self)
    }
}

impl HostModule for TestEnv {
    const MODULE: &'static HostModuleDef = &TEST_ENV;
}

vm::compose! {
    /// The host plugin composed.
    pub struct WithEnv {
        engine: vm::vm_engine_interp::Interp,
        virt: vm::vm_virt_host::HostVirt,
        hosts: [TestEnv],
    }
}

vm::compose! {
    /// The same binary links the plugin, but this composition leaves it out.
    pub struct WithoutEnv {
        engine: vm::vm_engine_interp::Interp,
        virt: vm::vm_virt_host::HostVirt,
        hosts: [],
    }
}

const GUEST: &str = r#"(module
    (import "test_env" "add_one" (func $add (param i32) (result i32)))
    (func (export "run") (result i32) (call $add (i32.const 41))))"#;

#[test]
fn composed_host_plugin_serves_and_is_running() {
    let mut vm = Vm::<WithEnv>::new(&Settings::new()).unwrap().init().unwrap().start().unwrap();
    let module = vm.compile(GUEST).unwrap();
    let mut linker = Linker::new(RunContext::default());
    let inst = vm.instantiate(&module, &mut linker).unwrap();
    assert_eq!(vm.invoke(&mut linker, inst, "run", &[]).unwrap(), [Val::I32(42)]);
    let health = vm.health();
    let env = health.iter().find(|h| h.id == "fx-test-env").expect("in health()");
    assert_eq!(env.state, PluginState::Running);
}

#[test]
fn linked_but_uncomposed_host_plugin_is_an_error_naming_the_fix() {
    let mut vm = Vm::<WithoutEnv>::new(&Settings::new()).unwrap().init().unwrap().start().unwrap();
    let module = vm.compile(GUEST).unwrap();
    let mut linker = Linker::new(RunContext::default());
    let err = vm.instantiate(&module, &mut linker).expect_err("not composed");
    match &err {
        InstantiationError::Link(LinkError::HostNotComposed { plugin, type_path, .. }) => {
            assert_eq!(*plugin, "fx-test-env");
            assert!(type_path.ends_with("::TestEnv"), "{type_path}");
        }
        other => panic!("expected HostNotComposed, got {other:?}"),
    }
    let text = Error::from(err).to_string();
    assert!(
        text.contains("`fx-test-env`") && text.contains("to `hosts: [...]` in `compose!`"),
        "{text}"
    );
    assert!(vm.health().iter().all(|h| h.id != "fx-test-env"));
}
