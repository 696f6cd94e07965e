//! `custom-vm`: the `vm` command line over a composition with one more host module
//! and an observer. `custom-vm run guest.wat`, `custom-vm info`, `--stats`, `-C`,
//! `vm.toml`: everything `vm` has.

vm_core::compose! {
    /// Cranelift, in-process, WASI, plus acme's `env` module and call counter.
    pub struct CustomVm {
        engine: vm_engine_cranelift::Cranelift,
        virt: vm_virt_host::HostVirt,
        hosts: [vm_host_wasi::Wasi, acme_env::Env],
        observers: [acme_env::CallCounter],
        extra: [],
    }
}

fn main() -> std::process::ExitCode {
    vm_cli::main::<CustomVm>()
}
