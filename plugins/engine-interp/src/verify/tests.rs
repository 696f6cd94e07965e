//! The verifier accepts what the translator produces and rejects hand-corrupted
//! code, naming the function, the instruction and the op.

use vm_core::runtime::CompileError;

use super::Verifier;
use crate::code::{FuncCode, Op};
use crate::testing::{translate, translate_simd};

/// Two functions (so function indexes are not all 0), an import, a table, a global,
/// memory, a data and an element segment, a `br_table`, calls of every kind.
const WAT: &str = r#"(module
  (import "env" "f" (func $imp (param i32) (result i32)))
  (type $t (func (param i32) (result i32)))
  (memory 1)
  (table 2 funcref)
  (global $g (mut i32) (i32.const 0))
  (data "abc")
  (elem func $a)
  (func $a (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
  (func $b (param i32 i32) (result i32) (local i32)
    (local.set 2 (i32.mul (local.get 0) (local.get 1)))
    (block $x (block $y
      (br_table $x $y (local.get 2))))
    (global.set $g (call $a (local.get 2)))
    (drop (call $imp (i32.const 1)))
    (drop (call_indirect (type $t) (i32.const 7) (local.get 0)))
    (i32.store (local.get 0) (i32.load offset=4 (local.get 1)))
    (memory.init 0 (i32.const 0) (i32.const 0) (i32.const 1))
    (table.init 0 (i32.const 0) (i32.const 0) (i32.const 1))
    (i32.add (global.get $g) (local.get 2))))"#;

/// simd128 in the second function: `v128` parameters, locals, globals, results,
/// lane operations, constants and shuffles, loads and stores.
const SIMD_WAT: &str = r#"(module
  (memory 1)
  (global $g (mut v128) (v128.const i32x4 1 2 3 4))
  (global $s (mut i32) (i32.const 0))
  (func $a (param i32) (result i32) (local.get 0))
  (func $b (param v128 i32) (result v128) (local v128)
    (local.set 2 (i32x4.add (local.get 0) (v128.const i32x4 5 6 7 8)))
    (global.set $g (i8x16.shuffle 0 17 2 19 4 21 6 23 8 25 10 27 12 29 14 31
      (local.get 2) (global.get $g)))
    (v128.store offset=16 (local.get 1) (v128.load (local.get 1)))
    (global.set $s (i32x4.extract_lane 3 (local.get 2)))
    (i32x4.replace_lane 1 (local.get 2) (local.get 1))))"#;

struct Code {
    info: vm_core::runtime::ModuleInfo,
    ops: Vec<Op>,
    funcs: Vec<FuncCode>,
    consts: Vec<u64>,
    v128s: Vec<u128>,
}

fn code() -> Code {
    code_of(WAT)
}

fn code_of(wat: &str) -> Code {
    let (info, ops, funcs, consts, v128s) = translate_simd(wat);
    Code { info, ops, funcs, consts, v128s }
}

impl Code {
    fn verify(&self) -> Result<(), CompileError> {
        let mut v = Verifier::new(&self.info, &self.ops, &self.funcs, self.consts.len())
            .with_v128s(self.v128s.len());
        (0..self.funcs.len()).try_for_each(|i| v.function(i))
    }

    /// Index of the first instruction of function `$b` (defined index 1) matching `p`.
    fn find(&self, p: impl Fn(&Op) -> bool) -> usize {
        let start = self.funcs[1].entry as usize;
        start + self.ops[start..].iter().position(p).expect("the instruction")
    }

    /// Replaces the instruction at `at` with `f(op)` and expects verification to
    /// fail there, with a message containing `what`.
    fn corrupt(mut self, at: usize, f: impl Fn(Op) -> Op, what: &str) {
        self.ops[at] = f(self.ops[at]);
        let fc = self
            .funcs
            .iter()
            .rev()
            .find(|fc| fc.entry as usize <= at)
            .copied()
            .expect("the function");
        let err = self.verify().expect_err("corrupted code must be rejected");
        let CompileError::Verify { func, at: i, ref op, ref message } = err else {
            panic!("not a verify error: {err}");
        };
        assert_eq!(func, fc.index, "{err}");
        assert_eq!(i as usize, at - fc.entry as usize, "{err}");
        assert_eq!(*op, format!("{:?}", self.ops[at]), "{err}");
        assert!(message.contains(what), "{err}: expected {what:?}");
        let text = err.to_string();
        assert!(text.contains(&format!("function {func}")), "{text}");
        assert!(text.contains(&format!("instruction {i}")), "{text}");
        assert!(text.contains(&op[..op.find([' ', '(']).unwrap_or(op.len())]), "{text}");
    }

    fn frame(&self) -> u32 {
        self.funcs[1].frame
    }
}

#[test]
fn accepts_the_translators_output() {
    code().verify().expect("verified");
}

#[test]
fn rejects_a_slot_outside_the_frame() {
    let c = code();
    let at = c.find(|op| matches!(op, Op::I32Mul { .. }));
    let frame = c.frame();
    c.corrupt(
        at,
        |op| match op {
            Op::I32Mul { lhs, rhs, .. } => Op::I32Mul { dst: frame, lhs, rhs },
            op => op,
        },
        &format!("slot {frame} outside the frame"),
    );
}

#[test]
fn rejects_a_huge_slot() {
    let c = code();
    let at = c.find(|op| matches!(op, Op::GlobalSet { .. }));
    c.corrupt(
        at,
        |op| match op {
            Op::GlobalSet { global, .. } => Op::GlobalSet { src: u32::MAX, global },
            op => op,
        },
        "outside the frame",
    );
}

#[test]
fn rejects_a_branch_out_of_the_function() {
    let c = code();
    let at = c.find(|op| matches!(op, Op::BrTable { .. })) + 1;
    c.corrupt(at, |_| Op::Br { offset: 1000 }, "branch target");
    let c = code();
    let at = c.find(|op| matches!(op, Op::BrTable { .. })) + 1;
    c.corrupt(at, |_| Op::Br { offset: -1000 }, "branch target");
}

#[test]
fn rejects_a_branch_to_the_entry() {
    let c = code();
    let at = c.find(|op| matches!(op, Op::BrTable { .. })) + 1;
    let back = -((at - c.funcs[1].entry as usize) as i32) - 1;
    c.corrupt(at, |_| Op::Br { offset: back }, "branch target 0");
}

#[test]
fn rejects_a_branch_into_a_br_table() {
    let c = code();
    let table = c.find(|op| matches!(op, Op::BrTable { .. }));
    // The instruction before the table branches to its second entry.
    c.corrupt(table - 1, |_| Op::Br { offset: 1 }, "an entry of a br_table");
}

#[test]
fn rejects_a_br_table_running_off_the_end() {
    let c = code();
    let at = c.find(|op| matches!(op, Op::BrTable { .. }));
    c.corrupt(
        at,
        |op| match op {
            Op::BrTable { index, .. } => Op::BrTable { index, len: 100_000 },
            op => op,
        },
        "past the function's end",
    );
    let c = code();
    let at = c.find(|op| matches!(op, Op::BrTable { .. }));
    c.corrupt(
        at,
        |op| match op {
            Op::BrTable { index, .. } => Op::BrTable { index, len: 5 },
            op => op,
        },
        "is not Br",
    );
}

#[test]
fn rejects_bad_calls() {
    let c = code();
    let at = c.find(|op| matches!(op, Op::Call { .. } | Op::CallCopy { .. }));
    let a = c.funcs[0];
    c.corrupt(at, |_| Op::Call { func: 2, base: 0, entry: a.entry, ret: 0 }, "defined function 2");
    let c = code();
    let at = c.find(|op| matches!(op, Op::Call { .. } | Op::CallCopy { .. }));
    c.corrupt(at, |_| Op::Call { func: 0, base: 0, entry: a.entry + 1, ret: 0 }, "entry");
    let c = code();
    let at = c.find(|op| matches!(op, Op::Call { .. } | Op::CallCopy { .. }));
    let frame = c.frame();
    c.corrupt(at, |_| Op::Call { func: 0, base: frame, entry: a.entry, ret: 0 }, "slot");
    let c = code();
    let at = c.find(|op| matches!(op, Op::Call { .. } | Op::CallCopy { .. }));
    c.corrupt(at, |_| Op::CallCopy { base: 0, entry: a.entry + 1, dst: 0, src: 0 }, "no function");
    let c = code();
    let at = c.find(|op| matches!(op, Op::CallImport { .. }));
    c.corrupt(at, |_| Op::CallImport { func: 1, base: 0 }, "imported function 1");
}

#[test]
fn rejects_bad_indirect_calls() {
    let c = code();
    let at = c.find(|op| matches!(op, Op::CallIndirect { .. }));
    c.corrupt(
        at,
        |op| match op {
            Op::CallIndirect { index, base, .. } => Op::CallIndirect { ty: 9, index, base },
            op => op,
        },
        "type 9",
    );
    // A bad table in the `Arg` is reported at the `CallIndirect` that reads it.
    let mut c = code();
    let at = c.find(|op| matches!(op, Op::CallIndirect { .. }));
    c.ops[at + 1] = Op::Arg(3);
    let err = c.verify().expect_err("table 3");
    let want = format!("instruction {} (CallIndirect", at - c.funcs[1].entry as usize);
    assert!(err.to_string().contains(&want) && err.to_string().contains("table 3"), "{err}");
    let c = code();
    let at = c.find(|op| matches!(op, Op::CallIndirect { .. }));
    let mut c2 = code();
    c2.ops[at + 1] = Op::Fuel(0);
    let err = c2.verify().expect_err("CallIndirect without Arg");
    assert!(err.to_string().contains("Arg(table)"), "{err}");
    c.corrupt(at - 1, |_| Op::Arg(0), "Arg not after CallIndirect");
}

#[test]
fn rejects_bad_indexes() {
    let c = code();
    let at = c.find(|op| matches!(op, Op::GlobalGet { .. }));
    c.corrupt(at, |_| Op::GlobalGet { dst: 0, global: 1 }, "global 1");
    let c = code();
    let at = c.find(|op| matches!(op, Op::MemoryInit { .. }));
    c.corrupt(at, |_| Op::MemoryInit { seg: 1, base: 0 }, "data segment 1");
    let c = code();
    let at = c.find(|op| matches!(op, Op::TableInit { .. }));
    c.corrupt(at, |_| Op::TableInit { table: 0, elem: 1, base: 0 }, "element segment 1");
    let c = code();
    let at = c.find(|op| matches!(op, Op::TableInit { .. }));
    c.corrupt(at, |_| Op::TableSize { table: 1, dst: 0 }, "table 1");
    let c = code();
    let at = c.find(|op| matches!(op, Op::TableInit { .. }));
    c.corrupt(at, |_| Op::RefFunc { dst: 0, func: 3 }, "function 3");
    let c = code();
    let at = c.find(|op| matches!(op, Op::TableInit { .. }));
    c.corrupt(at, |_| Op::DataDrop(5), "data segment 5");
    let c = code();
    let at = c.find(|op| matches!(op, Op::TableInit { .. }));
    c.corrupt(at, |_| Op::ElemDrop(5), "element segment 5");
}

#[test]
fn rejects_memory_instructions_without_memory() {
    let (info, mut ops, funcs, consts) =
        translate("(module (func (param i32) (result i32) (i32.eqz (local.get 0))))");
    let at = funcs[0].entry as usize + 1;
    assert!(matches!(ops[at], Op::I32Eqz { .. }), "{ops:?}");
    ops[at] = Op::MemorySize { dst: 0 };
    let err = Verifier::new(&info, &ops, &funcs, consts.len()).function(0).unwrap_err();
    assert!(err.to_string().contains("without memory"), "{err}");
    assert!(err.to_string().contains("instruction 1 (MemorySize"), "{err}");
}

#[test]
fn rejects_a_wrong_return() {
    let c = code();
    let at = c.funcs.get(2).map_or(c.ops.len(), |f| f.entry as usize) - 1;
    assert!(matches!(c.ops[at], Op::Return1 { .. }), "{:?}", c.ops[at]);
    c.corrupt(at, |_| Op::Return0, "returns 0 values");
}

#[test]
fn rejects_falling_off_the_end() {
    let c = code();
    let at = c.ops.len() - 1;
    c.corrupt(at, |_| Op::Copy { dst: 0, src: 0 }, "past the function's end");
}

#[test]
fn rejects_a_bad_entry() {
    let c = code();
    let at = c.funcs[1].entry as usize;
    c.corrupt(
        at,
        |op| match op {
            Op::Enter { frame, func, zero_at, zeros } => {
                Op::Enter { frame: frame - 1, func, zero_at, zeros }
            }
            op => op,
        },
        "Enter does not match",
    );
    let c = code();
    let at = c.find(|op| matches!(op, Op::GlobalGet { .. }));
    let enter = c.ops[c.funcs[1].entry as usize];
    c.corrupt(at, |_| enter, "Enter after the function's entry");
}

#[test]
fn rejects_constants_outside_the_pool() {
    let (info, ops, mut funcs, consts) = translate(
        "(module (func (param i32) (result i32) (i32.div_s (i32.const 7) (local.get 0))))",
    );
    assert_ne!(funcs[0].consts_len, 0, "{ops:?}");
    funcs[0].consts_start = 100;
    let err = Verifier::new(&info, &ops, &funcs, consts.len()).function(0).unwrap_err();
    assert!(err.to_string().contains("Consts"), "{err}");
}

#[test]
fn accepts_the_translators_simd_output() {
    code_of(SIMD_WAT).verify().expect("verified");
}

#[test]
fn rejects_the_second_slot_of_a_v128_outside_the_frame() {
    let c = code_of(SIMD_WAT);
    let at = c.find(|op| matches!(op, Op::I32x4Add { .. }));
    // The first slot is the frame's last: the second is outside.
    let last = c.frame() - 1;
    c.corrupt(
        at,
        |op| match op {
            Op::I32x4Add { lhs, rhs, .. } => Op::I32x4Add { dst: last, lhs, rhs },
            op => op,
        },
        &format!("slots {last}..{last}+2 outside the frame"),
    );
    let c = code_of(SIMD_WAT);
    let at = c.find(|op| matches!(op, Op::I32x4ExtractLane { .. }));
    let last = c.frame() - 1;
    c.corrupt(
        at,
        |op| match op {
            Op::I32x4ExtractLane { dst, lane, .. } => Op::I32x4ExtractLane { dst, src: last, lane },
            op => op,
        },
        "outside the frame",
    );
}

#[test]
fn rejects_v128_constants_outside_the_pool() {
    let c = code_of(SIMD_WAT);
    let at = c.find(|op| matches!(op, Op::I8x16Shuffle { .. }));
    let n = c.v128s.len() as u32;
    c.corrupt(
        at,
        |op| match op {
            Op::I8x16Shuffle { dst, lhs, rhs, .. } => Op::I8x16Shuffle { dst, lhs, rhs, idx: n },
            op => op,
        },
        "v128 constant",
    );
}

#[test]
fn rejects_a_v128_access_to_a_scalar_global() {
    let c = code_of(SIMD_WAT);
    let at = c.find(|op| matches!(op, Op::V128GlobalSet { .. }));
    c.corrupt(
        at,
        |op| match op {
            Op::V128GlobalSet { src, .. } => Op::V128GlobalSet { src, global: 1 },
            op => op,
        },
        "not a v128",
    );
}
