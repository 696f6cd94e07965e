#![allow(unexpected_cfgs)] // the features named below do not exist: that is the point
// No alternative of the engine slot is enabled.
vm::compose! {
    pub struct Edge {
        engine: {
            #[cfg(feature = "engine-singlepass")] vm_engine_interp::Interp,
            #[cfg(feature = "engine-wasm3")] vm_engine_interp::Interp,
        },
        virt: vm_virt_host::HostVirt,
    }
}

fn main() {}
