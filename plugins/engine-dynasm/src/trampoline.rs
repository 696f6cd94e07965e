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
use vm_core::runtime::{FuncType, ValType};

use crate::translate::{Asm, area_offsets, area_units};

/// Emits the entry trampoline for `ty`.
pub(crate) fn entry(ops: &mut Asm, ty: &FuncType) {
    let area = area_units(ty);
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
    // Argument k where a caller's stack leaves it (see `area_offsets`).
    for (i, (dst, &t)) in area_offsets(ty.params(), area).into_iter().zip(ty.params()).enumerate() {
        let src = 16 * i as i32;
        if t == ValType::V128 {
            dynasm!(ops
                ; .arch x64
                ; movdqu xmm0, [rcx + src]
                ; movdqu [rsp + dst], xmm0
            );
        } else {
            dynasm!(ops
                ; .arch x64
                ; mov rax, [rcx + src]
                ; mov [rsp + dst], rax
            );
        }
    }
    dynasm!(ops
        ; .arch x64
        ; call rdx
        ; mov rcx, [rbp - 48]
    );
    for (j, (src, &t)) in area_offsets(ty.results(), area).into_iter().zip(ty.results()).enumerate()
    {
        let dst = 16 * j as i32;
        if t == ValType::V128 {
            dynasm!(ops
                ; .arch x64
                ; movdqu xmm0, [rsp + src]
                ; movdqu [rcx + dst], xmm0
            );
        } else {
            dynasm!(ops
                ; .arch x64
                ; mov rax, [rsp + src]
                ; mov [rcx + dst], rax
            );
        }
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
