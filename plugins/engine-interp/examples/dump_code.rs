//! Prints the internal code of every function of a module: `dump_code FILE [FUNC]`.

use vm_core::Plugin;
use vm_core::runtime::{Features, ModuleInfo};
use vm_core::slot::Engine;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let bytes = std::fs::read(args.first().ok_or("usage: dump_code FILE [FUNC]")?)?;
    let only: Option<u32> = args.get(1).and_then(|s| s.parse().ok());
    let info = ModuleInfo::decode(&bytes, Features::default())?;
    let mut interp = vm_engine_interp::Interp::new(Default::default())?;
    let code = interp.compile(&info)?;
    for (i, f) in code.funcs.iter().enumerate() {
        if only.is_some_and(|o| o != f.index) {
            continue;
        }
        let end = code.funcs.get(i + 1).map_or(code.ops.len(), |n| n.entry as usize);
        println!(
            "func {} {:?} params {} locals {}",
            f.index,
            info.func_name(f.index),
            f.params,
            f.locals
        );
        for (pc, op) in code.ops[f.entry as usize..end].iter().enumerate() {
            println!("  {:5} {:?}", f.entry as usize + pc, op);
        }
    }
    Ok(())
}
