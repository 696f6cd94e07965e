use vm_core::host_fn;

pub struct State;
pub struct Errno;
impl From<Errno> for i32 {
    fn from(_: Errno) -> i32 {
        1
    }
}

#[host_fn]
pub fn value_and_errno(st: &mut State) -> Result<u32, Errno> {
    let _ = st;
    Ok(0)
}

#[host_fn(fault = Errno)]
pub fn fault_without_errno(st: &mut State, buf: &[u8]) -> u32 {
    let _ = (st, buf);
    0
}

#[host_fn(nmae = "x")]
pub fn typo(st: &mut State) {
    let _ = st;
}

#[host_fn]
pub async fn later(st: &mut State) {
    let _ = st;
}

fn main() {}
