use vm_core::host_fn;

pub struct State;

#[host_fn]
pub fn swap(st: &mut State, a: &mut [u8], b: &mut [u8]) {
    let _ = (st, a, b);
}

#[host_fn]
pub fn mixed(#[memory] mem: &mut [u8], path: &[u8]) {
    let _ = (mem, path);
}

#[host_fn]
pub fn late_state(a: u32, st: &mut State) {
    let _ = (a, st);
}

fn main() {}
