//! Guest machine code the crate provides, hand-encoded (x86-64).
//!
//! All of it talks to the host with `out imm8, al`: under PVM an `out` at CPL3
//! is an I/O exit like anywhere else, and it changes no register, so the host
//! learns what it needs from the shared page and the port number alone, without
//! reading registers back.

use crate::error::KvmError;
use crate::layout::{self, PORT_FAULT, PORT_HOST_CALL, PORT_RETURN, shared};

/// Bytes in a host-call stub.
pub const HOST_CALL_STUB_LEN: usize = 87;

/// `movabs r11, imm64`.
fn mov_r11(code: &mut Vec<u8>, imm: u64) {
    code.extend([0x49, 0xbb]);
    code.extend(imm.to_le_bytes());
}

/// The 8-bit displacement of shared-page offset `off` from the stub's base
/// register (`r11` = shared page + 0x80).
fn disp(off: usize) -> u8 {
    (off as i64 - shared::BASE as i64) as i8 as u8
}

/// The code every guest call returns to: stores `rax`, `rdx`, `xmm0`, `xmm1`
/// in the shared page and leaves through [`PORT_RETURN`]. `ud2` after it, so a
/// host that resumes it by mistake gets a fault, not a run into the next page.
pub(crate) fn return_sentinel(window: u64) -> Vec<u8> {
    let mut c = Vec::with_capacity(48);
    mov_r11(&mut c, window + layout::SHARED + shared::BASE as u64);
    c.extend([0x49, 0x89, 0x43, disp(shared::RAX)]); // mov [r11+d], rax
    c.extend([0x49, 0x89, 0x53, disp(shared::RDX)]); // mov [r11+d], rdx
    c.extend([0xf3, 0x41, 0x0f, 0x7f, 0x43, disp(shared::XMM)]); // movdqu [r11+d], xmm0
    c.extend([0xf3, 0x41, 0x0f, 0x7f, 0x4b, disp(shared::XMM + 16)]); // movdqu [r11+d], xmm1
    c.extend([0xe6, PORT_RETURN as u8]); // out imm8, al
    c.extend([0x0f, 0x0b]); // ud2
    c
}

/// The IDT handler of `vector` (at most 16 bytes). Runs at CPL0 on the fault
/// stack, where the CPU pushed `ss, rsp, rflags, cs, rip` and for some vectors
/// an error code. It completes the frame to a fixed layout (error code, vector,
/// `cr2`, `rbp`) and leaves through [`PORT_FAULT`]; the host finds the frame at
/// a constant offset below the top of the fault stack (IST1 always starts
/// there), so it needs no register reads. Never resumed (`hlt` then a loop).
pub(crate) fn fault_handler(vector: u8) -> Vec<u8> {
    let mut c = Vec::with_capacity(16);
    if !matches!(vector, 8 | 10..=14 | 17 | 21 | 29 | 30) {
        c.extend([0x6a, 0x00]); // push 0 (no error code)
    }
    c.extend([0x6a, vector]); // push vector
    c.extend([0x0f, 0x20, 0xd0]); // mov rax, cr2
    c.push(0x50); // push rax
    c.push(0x55); // push rbp
    c.extend([0xe6, PORT_FAULT as u8]); // out imm8, al
    c.extend([0xf4, 0xeb, 0xfd]); // hlt; jmp hlt
    debug_assert!(c.len() <= 16);
    c
}

/// The frame a fault handler leaves, as 8-byte slots counted down from the top
/// of the fault stack.
pub(crate) mod frame {
    pub const RSP: u64 = 2;
    pub const RIP: u64 = 5;
    pub const ERROR_CODE: u64 = 6;
    pub const VECTOR: u64 = 7;
    pub const CR2: u64 = 8;
    pub const RBP: u64 = 9;
}

/// The guest-side stub of host call `id`, [`HOST_CALL_STUB_LEN`] bytes of
/// position-independent code to place in guest-executable memory and `call`
/// with the System V convention.
///
/// It stores `rdi, rsi, rdx, rcx, r8, r9`, `xmm0`..`xmm3`, its `rsp` and `id` in
/// the shared page, leaves through [`PORT_HOST_CALL`], then loads `rax`, `rdx`
/// and `xmm0` from the shared page (where
/// [`Sandbox::resume`](crate::Sandbox::resume) put the host function's results)
/// and returns. So any function with at most six integer and four float
/// arguments can be proxied. It clobbers `r11` and nothing else the caller
/// may rely on.
///
/// # Errors
///
/// [`KvmError::HostMemory`] when the process could not reserve the window the
/// shared page lives in.
pub fn host_call_stub(id: u32) -> Result<[u8; HOST_CALL_STUB_LEN], KvmError> {
    let base = layout::window()? + layout::SHARED + shared::BASE as u64;
    let mut c = Vec::with_capacity(HOST_CALL_STUB_LEN);
    mov_r11(&mut c, base);
    let a = shared::ARGS;
    c.extend([0x49, 0x89, 0x7b, disp(a)]); // mov [r11+d], rdi
    c.extend([0x49, 0x89, 0x73, disp(a + 8)]); // rsi
    c.extend([0x49, 0x89, 0x53, disp(a + 16)]); // rdx
    c.extend([0x49, 0x89, 0x4b, disp(a + 24)]); // rcx
    c.extend([0x4d, 0x89, 0x43, disp(a + 32)]); // r8
    c.extend([0x4d, 0x89, 0x4b, disp(a + 40)]); // r9
    c.extend([0x49, 0x89, 0x63, disp(shared::RSP)]); // rsp
    for (i, modrm) in [0x43u8, 0x4b, 0x53, 0x5b].into_iter().enumerate() {
        // movdqu [r11+d], xmmI
        c.extend([0xf3, 0x41, 0x0f, 0x7f, modrm, disp(shared::XMM + 16 * i)]);
    }
    c.extend([0x49, 0xc7, 0x43, disp(shared::ID)]); // mov qword [r11+d], imm32
    c.extend(id.to_le_bytes());
    c.extend([0xe6, PORT_HOST_CALL as u8]); // out imm8, al
    c.extend([0x49, 0x8b, 0x43, disp(shared::RAX)]); // mov rax, [r11+d]
    c.extend([0x49, 0x8b, 0x53, disp(shared::RDX)]); // mov rdx, [r11+d]
    c.extend([0xf3, 0x41, 0x0f, 0x6f, 0x43, disp(shared::XMM)]); // movdqu xmm0, [r11+d]
    c.push(0xc3); // ret
    let mut out = [0u8; HOST_CALL_STUB_LEN];
    out.copy_from_slice(&c);
    Ok(out)
}
