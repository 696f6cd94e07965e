//! Runs a WASI program with the interpreter: `run_wasi FILE.wasm [ARGS...]`.
//! Prints the guest's output, then compile and run times on stderr.

use std::time::Instant;

use vm_core::runtime::{InvokeError, Linker, RunContext, TrapCode};

vm_core::compose! {
    /// Interpreter + host virt + WASI.
    pub struct InterpWasi {
        engine: vm_engine_interp::Interp,
        virt: vm_virt_host::HostVirt,
        hosts: [vm_host_wasi::Wasi],
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(path) = args.first() else {
        return Err("usage: run_wasi FILE.wasm [ARGS...]".into());
    };
    let mut vm = vm_core::Vm::<InterpWasi>::new(&vm_core::Settings::new())?.init()?.start()?;
    let t0 = Instant::now();
    let module = vm.load(path)?;
    let t1 = Instant::now();
    let mut linker = Linker::new(RunContext { args: args.clone(), ..RunContext::default() });
    let inst = vm.instantiate(&module, &mut linker)?;
    let code = match vm.invoke(&mut linker, inst, "_start", &[]) {
        Ok(_) => 0,
        Err(InvokeError::Trap(t)) if matches!(t.code, TrapCode::Exit(_)) => match t.code {
            TrapCode::Exit(s) => s,
            _ => 1,
        },
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    };
    let t2 = Instant::now();
    eprintln!(
        "compile {:.1} ms, run {:.3} s",
        (t1 - t0).as_secs_f64() * 1e3,
        (t2 - t1).as_secs_f64()
    );
    std::process::exit(code);
}
