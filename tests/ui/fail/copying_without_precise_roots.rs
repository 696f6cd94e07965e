// gc-copying moves objects, so it requires an engine that reports every root
// (`roots:precise`, not yet the JITs'); composed with an engine that does not
// provide it, the composition must not compile, and the message names both plugins.
vm::compose! {
    pub struct Moving {
        engine: vm_engine_cranelift::Cranelift,
        virt: vm_virt_host::HostVirt,
        gc: vm_gc_copying::Copying,
    }
}

fn main() {}
