// Running guest code on a VM that was created but never started.
vm::compose! {
    pub struct Edge {
        engine: vm_engine_interp::Interp,
        virt: vm_virt_host::HostVirt,
    }
}

fn main() {
    let mut vm = vm::Vm::<Edge>::new(&vm::Settings::new()).unwrap();
    let _ = vm.compile("(module)");
}
