//! Exceptions in native code: how a throw finds its handler by walking frames, the
//! same for every native-code engine.
//!
//! Nothing runs on the path that does not throw. An engine lists, per module, the
//! call sites inside a `try_table` ([`HandlerSite`]: the call's return address, its
//! landing pad, the frame size there) and, per function, the callee-saved registers
//! its prologue saves ([`CodeMap::with_exceptions`]). A throw is a call of the
//! engine's throw stub, itself a call site (inside a `try_table`, a handled one):
//! the stub saves `rbx` and `r12`-`r15` to [`VMStoreState`]'s `exn_regs` and calls
//! the runtime function `exn_throw` with its caller's frame pointer and return
//! address. That walks the frame-pointer chain ([`find_handler`]) from the throw
//! site outwards: the first frame whose call site has a handler gets the exception;
//! every frame passed on the way restores the callee-saved registers it had saved
//! (its caller's values). Host-call trampolines are frames like the others: a host
//! function's exception (status 2 of the runtime function `host_call`) is thrown on
//! from its trampoline. It writes where to continue into the store state
//! (`exn_pc`, `exn_sp`, `exn_fp`, `exn_ref`, `exn_regs`) and returns 0; the stub
//! loads the registers, switches to the handler's frame and jumps to its landing
//! pad, which matches the exception's tag against its clauses in generated code
//! (runtime function `exn_is`) and either takes one or throws it on. When no wasm
//! frame of the call handles it the walk reaches the entry trampoline: `exn_throw`
//! records the trap [`TrapCode::Exception`](crate::runtime::TrapCode::Exception) as
//! pending and returns 1, and the stub traps with it, which ends the call as any
//! trap does and reaches the embedder as an uncaught exception.
//!
//! The walk reads guest stack memory only inside the call's stack bounds
//! (`CallState::stack_lo..entry_sp`, mapped at the same addresses in this process,
//! also under a micro-VM), so a corrupted frame chain ends the walk instead of
//! crashing the host.

use super::{CallState, CodeMap, HandlerSite};

/// Where a throw continues: the landing pad, its frame and the callee-saved
/// registers that frames unwound on the way restore.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Resume {
    /// The landing pad's address.
    pub pc: usize,
    /// The handler frame's stack pointer.
    pub sp: usize,
    /// The handler frame's frame pointer.
    pub fp: usize,
    /// `rbx`, `r12`, `r13`, `r14`, `r15`: a value for each one a frame on the way
    /// saved (the others keep the thrower's).
    pub regs: [Option<u64>; 5],
}

/// The index in [`Resume::regs`] of x86-64 register number `reg`.
fn reg_slot(reg: u8) -> Option<usize> {
    match reg {
        3 => Some(0),
        12..=15 => Some(reg as usize - 11),
        _ => None,
    }
}

impl CallState {
    /// Reads the 8 bytes at `addr` of the call's guest stack, if inside it.
    fn stack_word(&self, addr: usize) -> Option<u64> {
        let inside = addr >= self.stack_lo
            && addr.checked_add(8).is_some_and(|end| end <= self.entry_sp)
            && addr.is_multiple_of(8);
        // SAFETY: `addr` is an aligned word of `[stack_lo, entry_sp)`, the guest stack
        // of the call in progress, readable in this process (see `record_trap`).
        inside.then(|| unsafe { *(addr as *const u64) })
    }

    /// Finds the handler of an exception thrown by the call returning to `pc` in
    /// the frame at `fp` (see the [module docs](self)); `None` when the walk leaves
    /// the call's wasm frames.
    pub fn find_handler(&self, mut fp: usize, mut pc: usize) -> Option<Resume> {
        let mut regs = [None; 5];
        for _ in 0..super::MAX_FRAMES * 64 {
            let code: &CodeMap = self.code_at(pc)?;
            if let Some(HandlerSite { landing, frame, .. }) = code.handler_at(pc) {
                let base = code.range().start;
                return Some(Resume {
                    pc: base + landing as usize,
                    sp: fp.checked_sub(frame as usize)?,
                    fp,
                    regs,
                });
            }
            // The code the call is in (its return address may be its end): a wasm
            // function or a host-call trampoline; past the entry trampoline the
            // return address is the host's, outside any module's code.
            let at = pc.checked_sub(1)?;
            for &(reg, below) in code.saves_at(at) {
                if let Some(slot) = reg_slot(reg) {
                    regs[slot] = Some(self.stack_word(fp.checked_sub(below as usize)?)?);
                }
            }
            let next = self.stack_word(fp)? as usize;
            pc = self.stack_word(fp.checked_add(8)?)? as usize;
            if next <= fp {
                return None;
            }
            fp = next;
        }
        None
    }
}

/// The x86-64 throw stub, the same for every native-code engine, and the offset of
/// its trap (the engine records it as a [`TrapKind::Pending`](super::TrapKind::Pending)
/// trap site): an exception's way out of a frame (see the [module docs](self)). Called like
/// a function with the instance context in `rdi` and the raw `exnref` in `esi`, it
/// saves the callee-saved registers to the store state, calls the runtime function
/// `exn_throw` with its caller's frame pointer and return address, and then either
/// continues at the handler's landing pad (registers, stack and frame pointer from
/// the store state, the `exnref` in `rax`, where a `try_call`'s exceptional edge
/// expects its first payload value) or, when no wasm frame handles the exception,
/// traps with the pending trap `exn_throw` recorded.
pub fn throw_stub() -> (Vec<u8>, u32) {
    use crate::runtime::offsets as o;
    let d = |v: usize| (v as u32).to_le_bytes();
    let regs = |i: usize| d(o::STATE_EXN_REGS + 8 * i);
    let mut c = Vec::with_capacity(160);
    // mov rax, [rdi + state]
    c.extend([0x48, 0x8b, 0x87]);
    c.extend(d(o::VMCTX_STATE));
    // mov [rax + regs], rbx / r12 / r13 / r14 / r15
    for (i, op) in [
        [0x48, 0x89, 0x98],
        [0x4c, 0x89, 0xa0],
        [0x4c, 0x89, 0xa8],
        [0x4c, 0x89, 0xb0],
        [0x4c, 0x89, 0xb8],
    ]
    .iter()
    .enumerate()
    {
        c.extend(op);
        c.extend(regs(i));
    }
    // mov rdx, rbp; mov rcx, [rsp]
    c.extend([0x48, 0x89, 0xea, 0x48, 0x8b, 0x0c, 0x24]);
    // mov rax, [rdi + store]; mov rax, [rax + libcalls]
    c.extend([0x48, 0x8b, 0x87]);
    c.extend(d(o::VMCTX_STORE));
    c.extend([0x48, 0x8b, 0x80]);
    c.extend(d(o::STORE_LIBCALLS));
    // push rdi (aligns the stack for the call); call [rax + exn_throw]; pop rdi
    c.push(0x57);
    c.extend([0xff, 0x90]);
    c.extend(d(super::runtime_fns::RuntimeFn::ExnThrow.table_offset()));
    c.push(0x5f);
    // test eax, eax; jnz trap
    c.extend([0x85, 0xc0, 0x75, 0x00]);
    let jnz = c.len();
    // mov rax, [rdi + state]
    c.extend([0x48, 0x8b, 0x87]);
    c.extend(d(o::VMCTX_STATE));
    // mov rbx / r12 / r13 / r14 / r15, [rax + regs]
    for (i, op) in [
        [0x48, 0x8b, 0x98],
        [0x4c, 0x8b, 0xa0],
        [0x4c, 0x8b, 0xa8],
        [0x4c, 0x8b, 0xb0],
        [0x4c, 0x8b, 0xb8],
    ]
    .iter()
    .enumerate()
    {
        c.extend(op);
        c.extend(regs(i));
    }
    // mov rsp, [rax + sp]; mov rbp, [rax + fp]; mov rdx, [rax + pc]; mov eax, [rax + ref]
    c.extend([0x48, 0x8b, 0xa0]);
    c.extend(d(o::STATE_EXN_SP));
    c.extend([0x48, 0x8b, 0xa8]);
    c.extend(d(o::STATE_EXN_FP));
    c.extend([0x48, 0x8b, 0x90]);
    c.extend(d(o::STATE_EXN_PC));
    c.extend([0x8b, 0x80]);
    c.extend(d(o::STATE_EXN_REF));
    // jmp rdx
    c.extend([0xff, 0xe2]);
    let trap = c.len();
    c[jnz - 1] = (trap - jnz) as u8;
    // trap: ud2
    c.extend([0x0f, 0x0b]);
    (c, trap as u32)
}
