// Two alternatives of one singleton slot enabled at once.
vm::compose! {
    pub struct Edge {
        engine: {
            #[cfg(feature = "engine-interp")] vm_engine_interp::Interp,
            #[cfg(feature = "virt-host")] vm_engine_interp::Interp,
        },
        virt: vm_virt_host::HostVirt,
    }
}

fn main() {}
