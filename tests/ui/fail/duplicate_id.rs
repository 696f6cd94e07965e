// The same plugin listed twice.
#[path = "../fixtures/mod.rs"]
mod fixtures;

vm::compose! {
    pub struct Edge {
        engine: vm_engine_interp::Interp,
        virt: vm_virt_host::HostVirt,
        hosts: [vm_host_wasi::Wasi, vm_host_wasi::Wasi],
    }
}

fn main() {}
