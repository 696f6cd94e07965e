// `virt-host` provides `virt` 1.x; the fixture requires ^2.
#[path = "../fixtures/mod.rs"]
mod fixtures;

vm::compose! {
    pub struct Edge {
        engine: vm_engine_interp::Interp,
        virt: vm_virt_host::HostVirt,
        extra: [fixtures::NeedsVirt2],
    }
}

fn main() {}
