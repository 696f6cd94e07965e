//! Prints the Cranelift IR and machine code of functions of a module, compiled as
//! `engine-cranelift` compiles them under `virt-host` (guard pages):
//! `disasm FILE [FUNC [LEVEL]]` (FILE is `.wasm` or `.wat`; FUNC a function index;
//! LEVEL the `simd` plugin's level: `scalar`, `sse4.1` or `avx2`, none by default).

use vm_core::runtime::{Features, ModuleInfo};
use vm_core::slot::SimdLevel;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = args.first().ok_or("usage: disasm FILE [FUNC [LEVEL]]")?;
    let bytes = wat::parse_file(path)?;
    let only: Option<u32> = args.get(1).and_then(|s| s.parse().ok());
    let level = match args.get(2).map(String::as_str) {
        None => None,
        Some("scalar") => Some(SimdLevel::Scalar),
        Some("sse4.1") => Some(SimdLevel::Sse41),
        Some("avx2") => Some(SimdLevel::Avx2),
        Some(other) => return Err(format!("unknown level {other}: scalar, sse4.1 or avx2").into()),
    };
    let info =
        ModuleInfo::decode(&bytes, if level.is_some() { Features::SIMD } else { Features::NONE })?;
    let config = vm_engine_cranelift::CraneliftConfig::default();
    for index in info.num_imported_funcs..info.funcs.len() as u32 {
        if only.is_some_and(|o| o != index) {
            continue;
        }
        println!(";; func {index} {:?}", info.func_name(index));
        println!("{}", vm_engine_cranelift::disassemble(&config, level, &info, index, true)?);
    }
    Ok(())
}
