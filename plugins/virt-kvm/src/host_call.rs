//! Host calls: what the guest asked for, what the host answers, and a shim
//! that runs a host `extern "sysv64"` function with the guest's registers.

use std::arch::asm;
use std::arch::x86_64::__m128i;

/// A host call made by a guest through a [`host_call_stub`](crate::host_call_stub).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostCall {
    /// The id baked into the stub.
    pub id: u32,
    /// `rdi, rsi, rdx, rcx, r8, r9`.
    pub args: [u64; 6],
    /// `xmm0`..`xmm3` (a float argument is in the low bits).
    pub xmm: [u128; 4],
    /// The guest stack pointer inside the stub.
    pub rsp: u64,
}

/// The results of a host call, loaded into the guest's `rax`, `rdx`, `xmm0`
/// when it resumes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HostReturn {
    /// `rax`.
    pub rax: u64,
    /// `rdx`.
    pub rdx: u64,
    /// `xmm0`.
    pub xmm0: u128,
}

/// Calls the host function at `f` with the integer arguments in `rdi..r9` and
/// the float ones in `xmm0..xmm3`, and returns its `rax`, `rdx` and `xmm0`.
///
/// # Safety
///
/// `f` must be the address of an `extern "sysv64"` function that takes at most
/// six integer-class and four float-class arguments, in the order of
/// `call.args` and `call.xmm`, whose argument values are valid for it (a
/// pointer argument the guest supplied is whatever the guest put there), and
/// that returns normally (no unwinding across this frame).
pub unsafe fn call_sysv(f: usize, call: &HostCall) -> HostReturn {
    let a = call.args;
    let x = call.xmm.map(m128);
    let (rax, rdx): (u64, u64);
    let xmm0: __m128i;
    // SAFETY: the caller guarantees `f` is a System V function taking these
    // arguments; `clobber_abi("sysv64")` tells the compiler every
    // caller-saved register may change, and inline asm starts with the stack
    // aligned for a call.
    unsafe {
        asm!(
            "call {f}",
            f = in(reg) f,
            in("rdi") a[0],
            in("rsi") a[1],
            inout("rdx") a[2] => rdx,
            in("rcx") a[3],
            in("r8") a[4],
            in("r9") a[5],
            inout("xmm0") x[0] => xmm0,
            in("xmm1") x[1],
            in("xmm2") x[2],
            in("xmm3") x[3],
            lateout("rax") rax,
            clobber_abi("sysv64"),
        );
    }
    HostReturn { rax, rdx, xmm0: u128_of(xmm0) }
}

fn m128(v: u128) -> __m128i {
    // SAFETY: both types are 16 plain bytes.
    unsafe { std::mem::transmute::<u128, __m128i>(v) }
}

fn u128_of(v: __m128i) -> u128 {
    // SAFETY: both types are 16 plain bytes.
    unsafe { std::mem::transmute::<__m128i, u128>(v) }
}
