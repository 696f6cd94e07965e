use vm_core::host_fn;

pub struct State;

#[host_fn]
pub fn greet(st: &mut State, name: String) -> u32 {
    let _ = (st, name);
    0
}

// The stub keeps the const: no second error here.
pub static FUNCS: &[vm_core::runtime::HostFuncDef] = &[GREET];

fn main() {}
