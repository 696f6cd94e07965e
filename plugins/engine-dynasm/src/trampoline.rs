//! Trampolines, a pair per function type of a module: the host-call trampoline
//! ([`host_call`]) stands in for a host function in wasm code; the entry trampoline
//! is the host's way into wasm code, with the signature of [`vm_core::runtime::native::Entry`]:
//! `extern "sysv64" fn(callee_vmctx, caller_vmctx, code, args)`, `args` a buffer of
//! 16-byte slots holding the parameters on entry and the results on return. Both
//! kinds move a scalar's 8 bytes and a v128's 16 between those slots and the
//! engine's argument/result area (two units per v128, see `area_offsets`).
//!
//! The trampoline saves the System V callee-saved registers (wasm code treats every
//! register but `rsp`/`rbp` as caller-saved), builds the argument/result area of
//! the engine's calling convention (see [`crate::translate`]'s `call` module) on
//! its stack, calls `code` with `rdi`/`rsi` unchanged, and copies the results back.
//! Its frame keeps the `rbp` chain intact, so a frame walk from a trap stops at it
//! (its return address is outside the module's functions).

use dynasm::dynasm;
use dynasmrt::{DynamicLabel, DynasmApi, DynasmLabelApi};
use vm_core::runtime::native::runtime_fns::RuntimeFn;
use vm_core::runtime::offsets as o;
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
        // A callee that tail-called one with another area size returns with `rsp`
        // moved (see "Tail calls" in the crate docs): the area is found from `rbp`.
        ; lea rsp, [rbp - 48 - bytes]
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

/// Emits the host-call trampoline for `ty`: it has the engine's calling convention
/// (`rdi` = the host function's funcref, which a host function's funcref names as
/// its `vmctx`; `rsi` = the caller's `vmctx`; the argument/result area above the
/// return address) and stands in for a host function. It copies the arguments into
/// 16-byte slots on its stack (the guest stack, where vm-core's `host_call` accepts
/// them), calls the `host_call` runtime function through the caller's store context
/// (`host_call(caller_vmctx, funcref, slots)`, System V, `rsp` aligned), and copies
/// the results back into the area. A non-zero status jumps to a `ud2` that is
/// returned in `pending` for the caller to record as a [`TrapKind::Pending`] trap
/// site.
///
/// [`TrapKind::Pending`]: vm_core::runtime::native::TrapKind::Pending
pub(crate) fn host_call(ops: &mut Asm, ty: &FuncType, throw_stub: DynamicLabel) -> usize {
    let (n, m) = (ty.params().len(), ty.results().len());
    let area = area_units(ty);
    let slots = n.max(m).max(1) as i32;
    // Value k of the area at rbp + 16 + its offset (see `area_offsets`).
    let params = area_offsets(ty.params(), area);
    let results = area_offsets(ty.results(), area);
    dynasm!(ops
        ; .arch x64
        ; push rbp
        ; mov rbp, rsp
        ; push rsi
        ; sub rsp, 16 * slots
        ; and rsp, -16
    );
    for (i, (&off, &t)) in params.iter().zip(ty.params()).enumerate() {
        let (src, dst) = (16 + off, 16 * i as i32);
        if t == ValType::V128 {
            dynasm!(ops
                ; .arch x64
                ; movdqu xmm0, [rbp + src]
                ; movdqu [rsp + dst], xmm0
            );
        } else {
            dynasm!(ops
                ; .arch x64
                ; mov rax, [rbp + src]
                ; mov [rsp + dst], rax
                ; mov QWORD [rsp + dst + 8], 0
            );
        }
    }
    dynasm!(ops
        ; .arch x64
        ; mov rax, [rsi + o::VMCTX_STORE as i32]
        ; mov rax, [rax + o::STORE_LIBCALLS as i32]
        ; mov r11, rdi
        ; mov rdi, rsi
        ; mov rsi, r11
        ; mov rdx, rsp
        ; call QWORD [rax + RuntimeFn::HostCall.table_offset() as i32]
        ; test eax, eax
        ; jnz >pending
    );
    for (j, (&off, &t)) in results.iter().zip(ty.results()).enumerate() {
        let (src, dst) = (16 * j as i32, 16 + off);
        if t == ValType::V128 {
            dynasm!(ops
                ; .arch x64
                ; movdqu xmm0, [rsp + src]
                ; movdqu [rbp + dst], xmm0
            );
        } else {
            dynasm!(ops
                ; .arch x64
                ; mov rax, [rsp + src]
                ; mov [rbp + dst], rax
            );
        }
    }
    dynasm!(ops
        ; .arch x64
        ; mov rsp, rbp
        ; pop rbp
        ; ret
        ; pending:
        // Status 2: the host function threw; throw it on from this frame (the
        // unwinder passes it like a wasm function's).
        ; cmp eax, 2
        ; jne >trap
        ; mov rdi, [rbp - 8]
        ; mov rax, [rdi + o::VMCTX_STATE as i32]
        ; mov esi, [rax + o::STATE_EXN_REF as i32]
        ; call =>throw_stub
        ; trap:
    );
    let pending = ops.offset().0;
    dynasm!(ops ; .arch x64 ; ud2);
    pending
}
