// virt-kvm runs native code a JIT compiled (it `uses` `native-code`); composed with
// the interpreter, which provides none, the composition must not compile, and the
// message must point to the plugin that provides it: `engine-cranelift`.
vm::compose! {
    pub struct Edge {
        engine: vm_engine_interp::Interp,
        virt: vm_virt_kvm::KvmVirt,
    }
}

fn main() {}
