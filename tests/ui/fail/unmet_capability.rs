// A plugin requiring `native-code` composed with an interpreter, which provides only
// `engine` and `interpreter`.
#[path = "../fixtures/mod.rs"]
mod fixtures;

vm::compose! {
    pub struct Edge {
        engine: vm_engine_interp::Interp,
        virt: vm_virt_host::HostVirt,
        extra: [fixtures::JitProfiler],
    }
}

fn main() {}
