// A full composition builds, orders providers first and runs its lifecycle.
#[path = "../fixtures/mod.rs"]
mod fixtures;

vm::compose! {
    /// Interpreter, in-process virt, WASI and a plugin that needs WASI.
    pub struct Edge {
        engine: { #[cfg(all())] vm_engine_interp::Interp },
        virt: vm_virt_host::HostVirt,
        hosts: [vm_host_wasi::Wasi],
        observers: [],
        extra: [fixtures::WasiUser],
    }
}

fn main() {
    let order = vm::compose::init_order_ids::<Edge>();
    let wasi = order.iter().position(|id| *id == "host-wasi").unwrap();
    let user = order.iter().position(|id| *id == "fx-wasi-user").unwrap();
    assert!(wasi < user, "{order:?}");
    let vm = vm::Vm::<Edge>::new(&vm::Settings::new()).unwrap();
    let mut vm = vm.init().unwrap().start().unwrap();
    let _ = vm.plugins_mut();
    let stopped = vm.stop();
    assert!(stopped.health().iter().all(|h| h.state == vm::plugin::PluginState::Stopped));
}
