// A plugin requires a capability that a plugin crate declared but nothing composed
// provides, and the plugin suggests no provider: the message points to `vm plugins`.
#[path = "../fixtures/mod.rs"]
mod fixtures;

vm::compose! {
    pub struct Edge {
        engine: vm_engine_interp::Interp,
        virt: vm_virt_host::HostVirt,
        extra: [fixtures::NeedsAcme],
    }
}

fn main() {}
