// A requirement that names no known capability: the message suggests the nearest one.
#[path = "../fixtures/mod.rs"]
mod fixtures;

vm::compose! {
    pub struct Edge {
        engine: vm_engine_interp::Interp,
        virt: vm_virt_host::HostVirt,
        extra: [fixtures::Typo],
    }
}

fn main() {}
