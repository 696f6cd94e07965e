//! `memory.copy` and `memory.fill` as inline code, for `virt` plugins whose host
//! calls are exits from a micro-VM (`Virt::CHEAP_HOST_CALLS` false): the range
//! checks of `vm_core` (every byte of both ranges inside its memory, else "out of
//! bounds memory access" before anything is written), then a loop of 16-byte moves
//! and a byte loop for the tail. A copy runs forward when the destination is below
//! the source and backward otherwise, so overlapping ranges copy as `memmove` does.

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{BlockArg, InstBuilder, MemFlagsData, TrapCode, Value, types};

use super::FuncTranslator;

/// Flags of the accesses: in bounds (checked before the loop), any alignment.
fn flags() -> MemFlagsData {
    MemFlagsData::trusted()
}

impl FuncTranslator<'_, '_, '_> {
    /// Traps with "out of bounds memory access" unless `at + len <= size` (all
    /// three `i64`, `at` and `len` zero-extended from `i32`).
    fn bulk_bounds(&mut self, at: Value, len: Value, size: Value) {
        let end = self.b.ins().iadd(at, len);
        let oob = self.b.ins().icmp(IntCC::UnsignedGreaterThan, end, size);
        self.b.ins().trapnz(oob, TrapCode::HEAP_OUT_OF_BOUNDS);
    }

    /// `memory.copy` inline: `dst`, `src`, `len` are the `i32` operands.
    pub(super) fn inline_memory_copy(
        &mut self,
        dst_mem: u32,
        src_mem: u32,
        dst: Value,
        src: Value,
        len: Value,
    ) {
        let (dbase, dsize) = self.env.memory_base_len(&mut self.b, dst_mem);
        let (sbase, ssize) = if src_mem == dst_mem {
            (dbase, dsize)
        } else {
            self.env.memory_base_len(&mut self.b, src_mem)
        };
        let dst = self.b.ins().uextend(types::I64, dst);
        let src = self.b.ins().uextend(types::I64, src);
        let len = self.b.ins().uextend(types::I64, len);
        self.bulk_bounds(dst, len, dsize);
        self.bulk_bounds(src, len, ssize);
        let d = self.b.ins().iadd(dbase, dst);
        let s = self.b.ins().iadd(sbase, src);

        let fwd_head = self.b.create_block();
        let fwd_body = self.b.create_block();
        let fwd_tail = self.b.create_block();
        let fwd_byte = self.b.create_block();
        let bwd_head = self.b.create_block();
        let bwd_body = self.b.create_block();
        let bwd_tail = self.b.create_block();
        let bwd_byte = self.b.create_block();
        let done = self.b.create_block();
        for blk in [fwd_head, fwd_body, fwd_tail, fwd_byte, bwd_head, bwd_body, bwd_tail, bwd_byte]
        {
            self.b.append_block_param(blk, types::I64);
        }
        let zero = self.b.ins().iconst(types::I64, 0);
        let below = self.b.ins().icmp(IntCC::UnsignedLessThanOrEqual, d, s);
        self.b.ins().brif(
            below,
            fwd_head,
            &[BlockArg::Value(zero)],
            bwd_head,
            &[BlockArg::Value(len)],
        );

        // Forward: `i` bytes done.
        self.b.switch_to_block(fwd_head);
        let i = self.b.block_params(fwd_head)[0];
        let left = self.b.ins().isub(len, i);
        let wide = self.b.ins().icmp_imm_u(IntCC::UnsignedGreaterThanOrEqual, left, 16);
        self.b.ins().brif(wide, fwd_body, &[BlockArg::Value(i)], fwd_tail, &[BlockArg::Value(i)]);
        self.b.switch_to_block(fwd_body);
        let i = self.b.block_params(fwd_body)[0];
        self.move16(s, d, i);
        let next = self.b.ins().iadd_imm_u(i, 16);
        self.b.ins().jump(fwd_head, &[BlockArg::Value(next)]);
        self.b.switch_to_block(fwd_tail);
        let i = self.b.block_params(fwd_tail)[0];
        let more = self.b.ins().icmp(IntCC::UnsignedLessThan, i, len);
        self.b.ins().brif(more, fwd_byte, &[BlockArg::Value(i)], done, &[]);
        self.b.switch_to_block(fwd_byte);
        let i = self.b.block_params(fwd_byte)[0];
        self.move1(s, d, i);
        let next = self.b.ins().iadd_imm_u(i, 1);
        self.b.ins().jump(fwd_tail, &[BlockArg::Value(next)]);

        // Backward: the first `j` bytes are left.
        self.b.switch_to_block(bwd_head);
        let j = self.b.block_params(bwd_head)[0];
        let wide = self.b.ins().icmp_imm_u(IntCC::UnsignedGreaterThanOrEqual, j, 16);
        self.b.ins().brif(wide, bwd_body, &[BlockArg::Value(j)], bwd_tail, &[BlockArg::Value(j)]);
        self.b.switch_to_block(bwd_body);
        let j = self.b.block_params(bwd_body)[0];
        let at = self.b.ins().iadd_imm_s(j, -16);
        self.move16(s, d, at);
        self.b.ins().jump(bwd_head, &[BlockArg::Value(at)]);
        self.b.switch_to_block(bwd_tail);
        let j = self.b.block_params(bwd_tail)[0];
        self.b.ins().brif(j, bwd_byte, &[BlockArg::Value(j)], done, &[]);
        self.b.switch_to_block(bwd_byte);
        let j = self.b.block_params(bwd_byte)[0];
        let at = self.b.ins().iadd_imm_s(j, -1);
        self.move1(s, d, at);
        self.b.ins().jump(bwd_tail, &[BlockArg::Value(at)]);

        for blk in [fwd_head, fwd_body, fwd_tail, fwd_byte, bwd_head, bwd_body, bwd_tail, bwd_byte]
        {
            self.b.seal_block(blk);
        }
        self.b.switch_to_block(done);
        self.b.seal_block(done);
    }

    /// `memory.fill` inline: `dst`, `val`, `len` are the `i32` operands.
    pub(super) fn inline_memory_fill(&mut self, mem: u32, dst: Value, val: Value, len: Value) {
        let (base, size) = self.env.memory_base_len(&mut self.b, mem);
        let dst = self.b.ins().uextend(types::I64, dst);
        let len = self.b.ins().uextend(types::I64, len);
        self.bulk_bounds(dst, len, size);
        let d = self.b.ins().iadd(base, dst);
        let byte = self.b.ins().ireduce(types::I8, val);
        let wide = self.b.ins().splat(types::I8X16, byte);

        let head = self.b.create_block();
        let body = self.b.create_block();
        let tail = self.b.create_block();
        let one = self.b.create_block();
        let done = self.b.create_block();
        for blk in [head, body, tail, one] {
            self.b.append_block_param(blk, types::I64);
        }
        let zero = self.b.ins().iconst(types::I64, 0);
        self.b.ins().jump(head, &[BlockArg::Value(zero)]);

        self.b.switch_to_block(head);
        let i = self.b.block_params(head)[0];
        let left = self.b.ins().isub(len, i);
        let big = self.b.ins().icmp_imm_u(IntCC::UnsignedGreaterThanOrEqual, left, 16);
        self.b.ins().brif(big, body, &[BlockArg::Value(i)], tail, &[BlockArg::Value(i)]);
        self.b.switch_to_block(body);
        let i = self.b.block_params(body)[0];
        let p = self.b.ins().iadd(d, i);
        self.b.ins().store(flags(), wide, p, 0);
        let next = self.b.ins().iadd_imm_u(i, 16);
        self.b.ins().jump(head, &[BlockArg::Value(next)]);
        self.b.switch_to_block(tail);
        let i = self.b.block_params(tail)[0];
        let more = self.b.ins().icmp(IntCC::UnsignedLessThan, i, len);
        self.b.ins().brif(more, one, &[BlockArg::Value(i)], done, &[]);
        self.b.switch_to_block(one);
        let i = self.b.block_params(one)[0];
        let p = self.b.ins().iadd(d, i);
        self.b.ins().store(flags(), byte, p, 0);
        let next = self.b.ins().iadd_imm_u(i, 1);
        self.b.ins().jump(tail, &[BlockArg::Value(next)]);

        for blk in [head, body, tail, one] {
            self.b.seal_block(blk);
        }
        self.b.switch_to_block(done);
        self.b.seal_block(done);
    }

    /// Moves 16 bytes from `s + at` to `d + at`.
    fn move16(&mut self, s: Value, d: Value, at: Value) {
        let from = self.b.ins().iadd(s, at);
        let to = self.b.ins().iadd(d, at);
        let v = self.b.ins().load(types::I8X16, flags(), from, 0);
        self.b.ins().store(flags(), v, to, 0);
    }

    /// Moves the byte at `s + at` to `d + at`.
    fn move1(&mut self, s: Value, d: Value, at: Value) {
        let from = self.b.ins().iadd(s, at);
        let to = self.b.ins().iadd(d, at);
        let v = self.b.ins().load(types::I8, flags(), from, 0);
        self.b.ins().store(flags(), v, to, 0);
    }
}
