//! Trampolines, a pair per function type of a module: the host-call trampoline
//! ([`host_call`]) stands in for a host function in wasm code; the entry trampoline
//! is the host's way into wasm code, with the signature of [`vm_core::runtime::native::Entry`]:
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
use dynasmrt::{DynasmApi, DynasmLabelApi};
use vm_core::runtime::FuncType;
use vm_core::runtime::native::runtime_fns::RuntimeFn;
use vm_core::runtime::offsets as o;

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
pub(crate) fn host_call(ops: &mut Asm, ty: &FuncType) -> usize {
    let (n, m) = (ty.params().len(), ty.results().len());
    let area = n.max(m);
    let slots = area.max(1) as i32;
    // Area slot k at rbp + 16 + 8 * (area - 1 - k).
    let at = |k: usize| 16 + 8 * (area - 1 - k) as i32;
    dynasm!(ops
        ; .arch x64
        ; push rbp
        ; mov rbp, rsp
        ; sub rsp, 16 * slots
        ; and rsp, -16
    );
    for i in 0..n {
        let (src, dst) = (at(i), 16 * i as i32);
        dynasm!(ops
            ; .arch x64
            ; mov rax, [rbp + src]
            ; mov [rsp + dst], rax
            ; mov QWORD [rsp + dst + 8], 0
        );
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
    for j in 0..m {
        let (src, dst) = (16 * j as i32, at(j));
        dynasm!(ops
            ; .arch x64
            ; mov rax, [rsp + src]
            ; mov [rbp + dst], rax
        );
    }
    dynasm!(ops
        ; .arch x64
        ; mov rsp, rbp
        ; pop rbp
        ; ret
        ; pending:
    );
    let pending = ops.offset().0;
    dynasm!(ops ; .arch x64 ; ud2);
    pending
}
