//! Prints the Cranelift IR and machine code of functions of a module, compiled as
//! `engine-cranelift` compiles them under `virt-host` (guard pages):
//! `disasm FILE [FUNC]` (FILE is `.wasm` or `.wat`; FUNC a function index).

use vm_core::runtime::{Features, ModuleInfo};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = args.first().ok_or("usage: disasm FILE [FUNC]")?;
    let bytes = wat::parse_file(path)?;
    let only: Option<u32> = args.get(1).and_then(|s| s.parse().ok());
    let info = ModuleInfo::decode(&bytes, Features::default())?;
    let config = vm_engine_cranelift::CraneliftConfig::default();
    for index in info.num_imported_funcs..info.funcs.len() as u32 {
        if only.is_some_and(|o| o != index) {
            continue;
        }
        println!(";; func {index} {:?}", info.func_name(index));
        println!("{}", vm_engine_cranelift::disassemble(&config, &info, index, true)?);
    }
    Ok(())
}
