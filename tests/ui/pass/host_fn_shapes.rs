//! Every parameter and return shape `#[host_fn]` accepts, and the signatures it derives.
use vm_core::host_fn;
use vm_core::runtime::{Caller, Trap, Val, ValType::*};

pub struct State {
    calls: u32,
}

pub struct Errno(u16);
impl From<Errno> for i32 {
    fn from(e: Errno) -> i32 {
        e.0.into()
    }
}

/// Scalars in, a scalar out; no memory needed.
#[host_fn]
pub fn add(st: &mut State, a: i32, b: u32, c: i64, d: u64, e: f32, f: f64) -> f64 {
    st.calls += 1;
    f64::from(a) + f64::from(b) + c as f64 + d as f64 + f64::from(e) + f
}

/// Views and out-pointers, errno return with a custom fault.
#[host_fn(name = "copy", fault = Errno(21))]
pub fn copy_bytes(
    _st: &mut State,
    src: &[u8],
    dst: &mut [u8],
    #[out] n: &mut u32,
    #[out] tag: &mut [u8; 3],
) -> Result<(), Errno> {
    let k = src.len().min(dst.len());
    dst[..k].copy_from_slice(&src[..k]);
    *n = k as u32;
    *tag = *b"cpy";
    Ok(())
}

/// The whole memory; a trap layer; no state.
#[host_fn]
pub fn peek(#[memory] mem: &[u8], at: u32) -> Result<Result<(), Errno>, Trap> {
    match mem.get(at as usize) {
        Some(0) => Ok(Ok(())),
        Some(_) => Ok(Err(Errno(1))),
        None => Err(Trap::host("peek out of bounds")),
    }
}

fn main() {
    assert_eq!((ADD.name, ADD.params, ADD.results), ("add", &[I32, I32, I64, I64, F32, F64][..], &[F64][..]));
    assert_eq!((COPY_BYTES.name, COPY_BYTES.params), ("copy", &[I32, I32, I32, I32, I32, I32][..]));
    assert_eq!((PEEK.params, PEEK.results), (&[I32][..], &[I32][..]));

    let mut state = State { calls: 0 };
    let mut mem = vec![0u8; 32];
    mem[..4].copy_from_slice(b"wasm");
    let mut res = [Val::I32(-1)];
    let args = [0, 4, 8, 8, 16, 20].map(Val::I32);
    (COPY_BYTES.call)(&mut Caller::new(Some(&mut mem), &mut state), &args, &mut res).unwrap();
    assert_eq!((res[0], &mem[8..12], mem[16], &mem[20..23]), (Val::I32(0), &b"wasm"[..], 4, &b"cpy"[..]));
    let args = [0, 4, 30, 8, 16, 20].map(Val::I32);
    (COPY_BYTES.call)(&mut Caller::new(Some(&mut mem), &mut state), &args, &mut res).unwrap();
    assert_eq!(res[0], Val::I32(21), "a view out of bounds is the `fault` errno");
    let trap = (PEEK.call)(&mut Caller::new(Some(&mut mem), &mut state), &[Val::I32(99)], &mut res);
    assert!(trap.is_err());
    let _ = add(&mut state, 1, 2, 3, 4, 5.0, 6.0);
}
