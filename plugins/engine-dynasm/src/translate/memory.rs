//! Loads and stores (integers through general-purpose registers, f32 and f64
//! straight into and out of xmm registers), and `memory.size`.
//!
//! Memory 0's base is in `r14` (see `FuncCompiler::load_membase`), so an access's
//! operand is `[r14 + index + offset]`, the index the zero-extended address; its
//! byte length is read through `vmctx->memory0` (a `VMMemoryDefinition`). Without
//! guard pages every access checks `zext(addr) + offset + size <= length` and
//! jumps to an out-of-line trap stub.
//! With the `virt` plugin's guard pages, an access whose static offset is at most
//! [`GUARDED_OFFSET`] carries no check: the access instruction itself is recorded
//! as a trap site and faults in the guard region.
//!
//! Any other memory (multi-memory) is reached through the context: its definition is
//! `vmctx->memories[n]`, and every access checks its bounds explicitly against the
//! definition's length before adding its base (no register is pinned for it, so
//! memory 0's code is the same as in a module with one memory).

use dynasm::dynasm;
use dynasmrt::{DynasmApi, DynasmLabelApi};
use vm_core::runtime::offsets as o;
use vm_core::runtime::{CompileError, TrapCode};
use wasmparser::{MemArg, Operator};

use super::{FuncCompiler, GUARDED_OFFSET, Loc, NextOp};

/// How a load reads memory.
#[derive(Clone, Copy)]
enum Load {
    I32,
    I64,
    S8x32,
    U8x32,
    S16x32,
    U16x32,
    S8x64,
    S16x64,
    S32x64,
}

/// How many bytes a store writes.
#[derive(Clone, Copy)]
enum Store {
    B1,
    B2,
    B4,
    B8,
}

impl Load {
    fn size(self) -> u64 {
        match self {
            Load::I64 => 8,
            Load::I32 | Load::S32x64 => 4,
            Load::S16x32 | Load::U16x32 | Load::S16x64 => 2,
            Load::S8x32 | Load::U8x32 | Load::S8x64 => 1,
        }
    }
}

impl Store {
    fn size(self) -> u64 {
        match self {
            Store::B1 => 1,
            Store::B2 => 2,
            Store::B4 => 4,
            Store::B8 => 8,
        }
    }
}

impl FuncCompiler<'_, '_> {
    /// Translates `op` if it is in this family; `false` otherwise.
    pub fn memory(&mut self, op: &Operator<'_>) -> Result<bool, CompileError> {
        use Operator as O;
        match *op {
            O::I32Load { memarg } => self.load(Load::I32, memarg)?,
            O::I64Load { memarg } => self.load(Load::I64, memarg)?,
            O::I32Load8S { memarg } => self.load(Load::S8x32, memarg)?,
            O::I32Load8U { memarg } | O::I64Load8U { memarg } => self.load(Load::U8x32, memarg)?,
            O::I32Load16S { memarg } => self.load(Load::S16x32, memarg)?,
            O::I32Load16U { memarg } | O::I64Load16U { memarg } => {
                self.load(Load::U16x32, memarg)?
            }
            O::I64Load8S { memarg } => self.load(Load::S8x64, memarg)?,
            O::I64Load16S { memarg } => self.load(Load::S16x64, memarg)?,
            O::I64Load32S { memarg } => self.load(Load::S32x64, memarg)?,
            O::I64Load32U { memarg } => self.load(Load::I32, memarg)?,
            O::I32Store { memarg } | O::I64Store32 { memarg } => self.store(Store::B4, memarg)?,
            O::I64Store { memarg } => self.store(Store::B8, memarg)?,
            O::F32Load { memarg } => self.load_float(false, memarg)?,
            O::F64Load { memarg } => self.load_float(true, memarg)?,
            O::F32Store { memarg } => self.store_float(false, memarg)?,
            O::F64Store { memarg } => self.store_float(true, memarg)?,
            O::I32Store8 { memarg } | O::I64Store8 { memarg } => self.store(Store::B1, memarg)?,
            O::I32Store16 { memarg } | O::I64Store16 { memarg } => self.store(Store::B2, memarg)?,
            O::MemorySize { mem: 0 } => {
                let r = self.alloc();
                self.vmctx_field(r, o::VMCTX_MEMORY0 as i32);
                dynasm!(self.ops
                    ; .arch x64
                    ; mov Rq(r), [Rq(r) + o::MEMORY_LENGTH as i32]
                    ; shr Rq(r), 16
                );
                self.stack.push(Loc::Reg(r));
            }
            O::MemorySize { mem } => {
                let slot = Self::memory_slot(mem)?;
                let r = self.alloc();
                self.vmctx_field(r, o::VMCTX_MEMORIES as i32);
                dynasm!(self.ops
                    ; .arch x64
                    ; mov Rq(r), [Rq(r) + slot]
                    ; mov Rq(r), [Rq(r) + o::MEMORY_LENGTH as i32]
                    ; shr Rq(r), 16
                );
                self.stack.push(Loc::Reg(r));
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Checks the access at address register `a` (an i32 popped with
    /// [`pop_address`](FuncCompiler::pop_address), so zero-extended) and returns
    /// the displacement of its operand `[r14 + a + disp]` (memory 0's base plus
    /// the address): the static offset when it fits an instruction's
    /// displacement, else 0 with the offset added to `a`. `true` in the second
    /// position when the access must be recorded as a guard-page trap site.
    pub(super) fn address(
        &mut self,
        a: u8,
        memarg: MemArg,
        size: u64,
    ) -> Result<(i32, bool), CompileError> {
        let mem = match memarg.target {
            wasmparser::MemArgTarget::Memory(0) => 0,
            wasmparser::MemArgTarget::Memory(n) => return self.address_other(a, n, memarg, size),
            wasmparser::MemArgTarget::Array(_) => {
                return Err(CompileError::unsupported("array access", "gc", self.offset));
            }
        };
        debug_assert_eq!(mem, 0);
        // A memory64 offset past `u32::MAX` is out of bounds like any (see
        // `vm_core::runtime::clamp_index64`); memory32 offsets never are.
        let offset = u64::from(vm_core::runtime::clamp_index64(memarg.offset));
        self.need_membase();
        let guarded = self.env.guard_pages && offset <= GUARDED_OFFSET;
        if !guarded {
            self.check_end(a, offset + size, None);
        }
        Ok((self.displacement(a, offset), guarded))
    }

    /// Traps with "out of bounds memory access" unless `a + end` is within the
    /// length of memory 0 (`slot` `None`) or of the memory at displacement `slot` of
    /// `vmctx->memories`; leaves that memory's `VMMemory` pointer in `r11`.
    fn check_end(&mut self, a: u8, end: u64, slot: Option<i32>) {
        let oob = self.trap_label(TrapCode::MemoryOutOfBounds);
        let t = self.alloc();
        match i32::try_from(end) {
            Ok(e) => dynasm!(self.ops ; .arch x64 ; lea Rq(t), [Rq(a) + e]),
            Err(_) => {
                dynasm!(self.ops
                    ; .arch x64
                    ; mov Rq(t), QWORD end as i64
                    ; add Rq(t), Rq(a)
                );
            }
        }
        match slot {
            None => self.vmctx_field(super::reg::SCRATCH, o::VMCTX_MEMORY0 as i32),
            Some(slot) => {
                self.vmctx_field(super::reg::SCRATCH, o::VMCTX_MEMORIES as i32);
                dynasm!(self.ops ; .arch x64 ; mov r11, [r11 + slot]);
            }
        }
        dynasm!(self.ops
            ; .arch x64
            ; cmp Rq(t), [r11 + o::MEMORY_LENGTH as i32]
            ; ja =>oob
        );
        self.stack.free(t);
    }

    /// The static offset as an operand's displacement when it fits one, else 0
    /// with the offset added to `a`.
    fn displacement(&mut self, a: u8, offset: u64) -> i32 {
        match i32::try_from(offset) {
            Ok(d) => d,
            Err(_) => {
                dynasm!(self.ops
                    ; .arch x64
                    ; mov r11, QWORD offset as i64
                    ; add Rq(a), r11
                );
                0
            }
        }
    }

    /// The displacement of memory `n`'s entry in `vmctx->memories`.
    fn memory_slot(n: u32) -> Result<i32, CompileError> {
        i32::try_from(u64::from(n) * 8).map_err(|_| CompileError::Limit("memory index"))
    }

    /// [`Self::address`] for memory `n` > 0: an explicit bounds check against
    /// `vmctx->memories[n]`, never a guard-page trap site; the operand stays
    /// `[r14 + a + disp]`, `a` being this memory's base plus the address minus
    /// `r14` (a module with a memory `n` > 0 has a memory 0, so `r14` is never
    /// allocated to a value).
    fn address_other(
        &mut self,
        a: u8,
        n: u32,
        memarg: MemArg,
        size: u64,
    ) -> Result<(i32, bool), CompileError> {
        let slot = Self::memory_slot(n)?;
        // A memory64 offset past `u32::MAX` is out of bounds like any (see
        // `vm_core::runtime::clamp_index64`); memory32 offsets never are.
        let offset = u64::from(vm_core::runtime::clamp_index64(memarg.offset));
        dynasm!(self.ops ; .arch x64 ; mov Rd(a), Rd(a));
        self.check_end(a, offset + size, Some(slot));
        dynasm!(self.ops
            ; .arch x64
            ; add Rq(a), [r11 + o::MEMORY_BASE as i32]
            // The access's operand is `[r14 + a + disp]` as for memory 0, so `a`
            // becomes this memory's address minus `r14` (modulo 2^64: whatever
            // `r14` holds, which nothing changes before the access).
            ; sub Rq(a), r14
        );
        Ok((self.displacement(a, offset), false))
    }

    fn load(&mut self, kind: Load, memarg: MemArg) -> Result<(), CompileError> {
        let a = self.pop_address();
        let (d, guarded) = self.address(a, memarg, kind.size())?;
        // Loaded straight into the register local the next operator sets, if
        // it does.
        let r = match self.next_op_after_memarg() {
            NextOp::Set(Some(dst)) => {
                self.unalias(Loc::Reg(dst));
                dst
            }
            _ => a,
        };
        if guarded {
            self.trap_here(TrapCode::MemoryOutOfBounds);
        }
        match kind {
            Load::I32 => dynasm!(self.ops ; .arch x64 ; mov Rd(r), [r14 + Rq(a) + d]),
            Load::I64 => dynasm!(self.ops ; .arch x64 ; mov Rq(r), [r14 + Rq(a) + d]),
            Load::S8x32 => dynasm!(self.ops ; .arch x64 ; movsx Rd(r), BYTE [r14 + Rq(a) + d]),
            Load::U8x32 => dynasm!(self.ops ; .arch x64 ; movzx Rd(r), BYTE [r14 + Rq(a) + d]),
            Load::S16x32 => dynasm!(self.ops ; .arch x64 ; movsx Rd(r), WORD [r14 + Rq(a) + d]),
            Load::U16x32 => dynasm!(self.ops ; .arch x64 ; movzx Rd(r), WORD [r14 + Rq(a) + d]),
            Load::S8x64 => dynasm!(self.ops ; .arch x64 ; movsx Rq(r), BYTE [r14 + Rq(a) + d]),
            Load::S16x64 => dynasm!(self.ops ; .arch x64 ; movsx Rq(r), WORD [r14 + Rq(a) + d]),
            Load::S32x64 => dynasm!(self.ops ; .arch x64 ; movsxd Rq(r), DWORD [r14 + Rq(a) + d]),
        }
        if r != a {
            self.stack.free(a);
        }
        if !matches!(kind, Load::I64 | Load::S8x64 | Load::S16x64 | Load::S32x64) {
            self.wrote32(r);
        }
        self.stack.push(Loc::Reg(r));
        Ok(())
    }

    fn store(&mut self, kind: Store, memarg: MemArg) -> Result<(), CompileError> {
        let v = self.pop_read();
        let a = self.pop_address();
        let (d, guarded) = self.address(a, memarg, kind.size())?;
        if guarded {
            self.trap_here(TrapCode::MemoryOutOfBounds);
        }
        match kind {
            Store::B1 => dynasm!(self.ops ; .arch x64 ; mov [r14 + Rq(a) + d], Rb(v)),
            Store::B2 => dynasm!(self.ops ; .arch x64 ; mov [r14 + Rq(a) + d], Rw(v)),
            Store::B4 => dynasm!(self.ops ; .arch x64 ; mov [r14 + Rq(a) + d], Rd(v)),
            Store::B8 => dynasm!(self.ops ; .arch x64 ; mov [r14 + Rq(a) + d], Rq(v)),
        }
        self.stack.free(v);
        self.stack.free(a);
        Ok(())
    }

    /// `f32.load` (`movss`) or `f64.load` (`movsd`) into an xmm register.
    fn load_float(&mut self, f64: bool, memarg: MemArg) -> Result<(), CompileError> {
        let a = self.pop_address();
        let (d, guarded) = self.address(a, memarg, if f64 { 8 } else { 4 })?;
        let x = self.alloc_xmm();
        if guarded {
            self.trap_here(TrapCode::MemoryOutOfBounds);
        }
        if f64 {
            dynasm!(self.ops ; .arch x64 ; movsd Rx(x), [r14 + Rq(a) + d]);
        } else {
            dynasm!(self.ops ; .arch x64 ; movss Rx(x), [r14 + Rq(a) + d]);
        }
        self.stack.free(a);
        self.stack.push(Loc::Xmm(x));
        Ok(())
    }

    /// `f32.store` or `f64.store` from an xmm register.
    fn store_float(&mut self, f64: bool, memarg: MemArg) -> Result<(), CompileError> {
        let v = self.pop_xmm_read();
        let a = self.pop_address();
        let (d, guarded) = self.address(a, memarg, if f64 { 8 } else { 4 })?;
        if guarded {
            self.trap_here(TrapCode::MemoryOutOfBounds);
        }
        if f64 {
            dynasm!(self.ops ; .arch x64 ; movsd [r14 + Rq(a) + d], Rx(v));
        } else {
            dynasm!(self.ops ; .arch x64 ; movss [r14 + Rq(a) + d], Rx(v));
        }
        self.stack.free_xmm(v);
        self.stack.free(a);
        Ok(())
    }
}
