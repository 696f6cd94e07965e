//! Entry trampolines, one per function type of a module: the host's way into wasm
//! code, with the signature of [`vm_core::runtime::native::Entry`]:
//! `extern "sysv64" fn(callee_vmctx, caller_vmctx, code, args)`, `args` a buffer of
//! 16-byte slots holding the parameters on entry and the results on return.
//!
//! The trampoline saves the System V callee-saved registers (wasm code treats every
//! register but `rsp`/`rbp` as caller-saved), builds the argument/result area of
//! the engine's calling convention (see [`crate::translate`]'s `call` module) on
//! its stack, calls `code` with `rdi`/`rsi` unchanged, and copies the results back.
//! Its frame keeps the `rbp` chain intact, so a frame walk from a trap stops at it
//! (its return address is outside the module's functions).

use dynasm::dynasm;
use dynasmrt::DynasmApi;
use vm_core::runtime::FuncType;

use crate::translate::Asm;

/// Emits the entry trampoline for `ty`.
pub(crate) fn entry(ops: &mut Asm, ty: &FuncType) {
    let (n, m) = (ty.params().len(), ty.results().len());
    let area = n.max(m);
    let bytes = 8 * area as i32;
    dynasm!(ops
        ; .arch x64
        ; push rbp
        ; mov rbp, rsp
        ; push rbx
        ; push r12
        ; push r13
        ; push r14
        ; push r15
        ; push rcx
        ; sub rsp, bytes
    );
    // Area slot k at rsp + 8 * (area - 1 - k), as a caller's stack leaves it.
    for i in 0..n {
        let dst = 8 * (area - 1 - i) as i32;
        let src = 16 * i as i32;
        dynasm!(ops
            ; .arch x64
            ; mov rax, [rcx + src]
            ; mov [rsp + dst], rax
        );
    }
    dynasm!(ops
        ; .arch x64
        ; call rdx
        ; mov rcx, [rbp - 48]
    );
    for j in 0..m {
        let src = 8 * (area - 1 - j) as i32;
        let dst = 16 * j as i32;
        dynasm!(ops
            ; .arch x64
            ; mov rax, [rsp + src]
            ; mov [rcx + dst], rax
        );
    }
    dynasm!(ops
        ; .arch x64
        ; lea rsp, [rbp - 40]
        ; pop r15
        ; pop r14
        ; pop r13
        ; pop r12
        ; pop rbx
        ; pop rbp
        ; ret
    );
}
