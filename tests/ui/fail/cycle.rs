// Two plugins that each require what the other provides.
#[path = "../fixtures/mod.rs"]
mod fixtures;

vm::compose! {
    pub struct Edge {
        engine: vm_engine_interp::Interp,
        virt: vm_virt_host::HostVirt,
        extra: [fixtures::CycleA, fixtures::CycleB],
    }
}

fn main() {}
