use wasmparser::{BinaryReader, OperatorsReader};

use super::*;

/// Records the operators it is given.
#[derive(Default)]
struct Names {
    seen: Vec<&'static str>,
    offset: u64,
}

impl<'a> OperatorSink<'a> for Names {
    fn translate(&mut self, _op: Operator<'a>, name: &'static str) -> Result<(), CompileError> {
        self.seen.push(name);
        Ok(())
    }

    fn offset(&self) -> u64 {
        self.offset
    }
}

fn run(body: &[u8]) -> (Names, Result<(), CompileError>) {
    let mut sink = Names::default();
    let mut reader = OperatorsReader::new(BinaryReader::new(body, 0));
    while !reader.eof() {
        sink.offset = reader.original_position();
        let r = reader.visit_operator(&mut Wasm2Operators(&mut sink)).expect("readable body");
        if r.is_err() {
            return (sink, r);
        }
    }
    (sink, Ok(()))
}

#[test]
fn wasm2_operators_reach_the_sink() {
    // i32.const 1; i32.extend8_s; drop; v128.const 0; drop; end
    let mut body = vec![0x41, 0x01, 0xc0, 0x1a, 0xfd, 0x0c];
    body.extend([0; 16]);
    body.extend([0x1a, 0x0b]);
    let (sink, r) = run(&body);
    assert_eq!(r, Ok(()));
    assert_eq!(sink.seen, ["I32Const", "I32Extend8S", "Drop", "V128Const", "Drop", "End"]);
}

#[test]
fn other_proposals_are_unsupported_with_their_name() {
    // i32.const 1; ref.i31 (GC: handed on); atomic.fence (threads); end
    let (sink, r) = run(&[0x41, 0x01, 0xfb, 0x1c, 0xfe, 0x03, 0x00, 0x0b]);
    assert_eq!(sink.seen, ["I32Const", "RefI31"]);
    let e = r.unwrap_err();
    assert_eq!(e, CompileError::Unsupported { op: "AtomicFence", proposal: "threads", offset: 4 });
    assert_eq!(e.to_string(), "unsupported: AtomicFence (feature threads) at offset 0x4");
}

#[test]
fn wasm3_operators_but_gc_reach_the_sink() {
    // return_call 0; end
    let (sink, r) = run(&[0x12, 0x00, 0x0b]);
    assert_eq!(r, Ok(()));
    assert_eq!(sink.seen, ["ReturnCall", "End"]);
}

#[test]
fn memory_index_reads_every_kind_of_immediate() {
    let m = |i| wasmparser::MemArg {
        align: 0,
        max_align: 0,
        offset: 0,
        target: wasmparser::MemArgTarget::Memory(i),
        ordering: None,
    };
    assert_eq!(memory_index(&Operator::I32Load { memarg: m(3) }), Some(3));
    assert_eq!(memory_index(&Operator::V128Load8Lane { memarg: m(2), lane: 1 }), Some(2));
    assert_eq!(memory_index(&Operator::MemoryGrow { mem: 4 }), Some(4));
    assert_eq!(memory_index(&Operator::MemoryInit { data_index: 9, mem: 1 }), Some(1));
    assert_eq!(memory_index(&Operator::MemoryCopy { dst_mem: 5, src_mem: 6 }), Some(5));
    assert_eq!(memory_copy_indexes(&Operator::MemoryCopy { dst_mem: 5, src_mem: 6 }), Some((5, 6)));
    assert_eq!(memory_index(&Operator::I32Add), None);
    assert_eq!(memory_index(&Operator::DataDrop { data_index: 0 }), None);
}

#[test]
fn index64_clamps_the_i64_operands_only() {
    use crate::runtime::{MemoryType, TableType, ValType, clamp_index64};
    let mem = |index64| MemoryType { min: 1, max: None, index64 };
    let table = |index64| TableType {
        elem: ValType::FuncRef,
        refty: crate::runtime::types::RefType::FUNCREF,
        min: 1,
        max: None,
        index64,
    };
    let (mems, tables) = ([mem(false), mem(true)], [table(true), table(false)]);
    let m = |i| wasmparser::MemArg {
        align: 0,
        max_align: 0,
        offset: 0,
        target: wasmparser::MemArgTarget::Memory(i),
        ordering: None,
    };
    let l = |op: Operator<'_>| index64(&op, &mems, &tables);
    assert_eq!(l(Operator::I32Load { memarg: m(0) }), None);
    assert_eq!(
        l(Operator::I32Load { memarg: m(1) }),
        Some(Index64 { clamp: 1, result: Widen::None })
    );
    assert_eq!(l(Operator::I64Store { memarg: m(1) }).map(|l| l.clamp), Some(0b10));
    assert_eq!(l(Operator::MemoryGrow { mem: 1 }).map(|l| l.result), Some(Widen::Grow));
    assert_eq!(l(Operator::MemorySize { mem: 1 }).map(|l| l.result), Some(Widen::Size));
    // Destination 64-bit, source 32-bit: the length is an i32.
    assert_eq!(l(Operator::MemoryCopy { dst_mem: 1, src_mem: 0 }).map(|l| l.clamp), Some(0b100));
    assert_eq!(l(Operator::MemoryCopy { dst_mem: 1, src_mem: 1 }).map(|l| l.clamp), Some(0b111));
    assert_eq!(l(Operator::TableSet { table: 0 }).map(|l| l.clamp), Some(0b10));
    assert_eq!(l(Operator::TableGet { table: 1 }), None);
    assert_eq!(
        l(Operator::CallIndirect { type_index: 0, table_index: 0 }).map(|l| l.clamp),
        Some(1)
    );
    assert_eq!(clamp_index64(7), 7);
    assert_eq!(clamp_index64(u64::from(u32::MAX)), u32::MAX);
    assert_eq!(clamp_index64(1 << 40), u32::MAX);
}
