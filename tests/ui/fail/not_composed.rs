// Asking a VM for a plugin that is not in its composition does not compile.
#[path = "../fixtures/mod.rs"]
mod fixtures;

vm::compose! {
    pub struct Edge {
        engine: vm_engine_interp::Interp,
        virt: vm_virt_host::HostVirt,
        extra: [fixtures::WasiUser],
        hosts: [vm_host_wasi::Wasi],
    }
}

fn main() {
    let vm = vm::Vm::<Edge>::new(&vm::Settings::new()).unwrap();
    let _ = vm.plugin::<fixtures::JitProfiler>();
}
