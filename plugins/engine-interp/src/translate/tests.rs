//! One test per fusion and folding rule of the translator: the instructions it
//! produces for a small function, and the results of running them (through the
//! real executor, verification on) at the boundaries: immediates that overflow,
//! offsets of 0 and the largest that fits, a slot that is both source and
//! destination.

use vm_core::runtime::{TrapCode, Val};

use crate::code::Op;
use crate::testing::{Running, body};

/// A module with one page of memory (exported as `mem`) and `funcs`; the first
/// function is `f` (exported), defined function 0.
fn module(funcs: &str) -> String {
    format!("(module (memory (export \"mem\") 1) {funcs})")
}

/// The body of defined function 0 of `module(funcs)`, checked against `want`.
fn ops(funcs: &str, want: impl Fn(&[Op]) -> bool) -> Running {
    let wat = module(funcs);
    let code = body(&wat, 0);
    assert!(want(&code), "unexpected code for {funcs}:\n{code:#?}");
    Running::new(&wat)
}

/// Whether `code` has an instruction matching the pattern.
macro_rules! has {
    ($($p:tt)*) => {
        |code: &[Op]| code.iter().any(|op| matches!(op, $($p)*))
    };
}

fn i32s(r: &mut Running, cases: &[(&[i32], i32)]) {
    for (args, want) in cases {
        let args: Vec<Val> = args.iter().map(|&a| Val::I32(a)).collect();
        assert_eq!(r.one("f", &args), Val::I32(*want), "f{args:?}");
    }
}

fn i64s(r: &mut Running, cases: &[(&[i64], i64)]) {
    for (args, want) in cases {
        let args: Vec<Val> = args.iter().map(|&a| Val::I64(a)).collect();
        assert_eq!(r.one("f", &args), Val::I64(*want), "f{args:?}");
    }
}

fn f64s(r: &mut Running, cases: &[(&[f64], f64)]) {
    for (args, want) in cases {
        let args: Vec<Val> = args.iter().map(|&a| Val::F64(a.to_bits())).collect();
        let got = r.one("f", &args);
        assert_eq!(got, Val::F64(want.to_bits()), "f{args:?}: {got:?}, want {want}");
    }
}

const LAST: i32 = 65536 - 4;

// --- Immediate operand forms -----------------------------------------------------

#[test]
fn i32_constant_right_operand_is_an_immediate() {
    let mut r = ops(
        r#"(func (export "f") (param i32) (result i32)
             (i32.add (local.get 0) (i32.const 0x7fffffff)))"#,
        has!(Op::I32AddImm { dst: _, lhs: 0, imm: 0x7fff_ffff }),
    );
    i32s(&mut r, &[(&[0], i32::MAX), (&[1], i32::MIN), (&[-1], i32::MAX - 1)]);
}

#[test]
fn commutative_constant_left_operand_is_an_immediate() {
    let mut r = ops(
        r#"(func (export "f") (param i32) (result i32)
             (i32.mul (i32.const -3) (local.get 0)))"#,
        has!(Op::I32MulImm { lhs: 0, imm: -3, .. }),
    );
    i32s(&mut r, &[(&[5], -15), (&[i32::MIN], i32::MIN), (&[0x5555_5556], -2)]);
}

#[test]
fn non_commutative_constant_left_operand_stays_a_slot() {
    let mut r = ops(
        r#"(func (export "f") (param i32) (result i32)
             (i32.sub (i32.const 5) (local.get 0)))"#,
        |c| has!(Op::I32Sub { rhs: 0, .. })(c) && !has!(Op::I32SubImm { .. })(c),
    );
    i32s(&mut r, &[(&[7], -2), (&[i32::MIN], i32::MIN + 5)]);
}

#[test]
fn i64_immediate_only_when_it_sign_extends_from_32_bits() {
    let mut r = ops(
        r#"(func (export "f") (param i64) (result i64)
             (i64.add (local.get 0) (i64.const -1)))"#,
        has!(Op::I64AddImm { imm: -1, .. }),
    );
    i64s(&mut r, &[(&[i64::MIN], i64::MAX), (&[0], -1)]);
    // 2^31 does not sign-extend from 32 bits: a constant slot.
    let mut r = ops(
        r#"(func (export "f") (param i64) (result i64)
             (i64.add (local.get 0) (i64.const 0x80000000)))"#,
        |c| has!(Op::I64Add { .. })(c) && !has!(Op::I64AddImm { .. })(c),
    );
    i64s(&mut r, &[(&[0], 0x8000_0000), (&[i64::MAX], i64::MIN + 0x7fff_ffff)]);
    // -2^31 does.
    let mut r = ops(
        r#"(func (export "f") (param i64) (result i64)
             (i64.and (local.get 0) (i64.const -0x80000000)))"#,
        has!(Op::I64AndImm { imm: i32::MIN, .. }),
    );
    i64s(&mut r, &[(&[-1], -0x8000_0000), (&[0x7fff_ffff], 0)]);
}

#[test]
fn shift_immediates_are_taken_modulo_the_width() {
    let mut r = ops(
        r#"(func (export "f") (param i32) (result i32)
             (i32.shl (local.get 0) (i32.const 33)))"#,
        has!(Op::I32ShlImm { imm: 33, .. }),
    );
    i32s(&mut r, &[(&[1], 2), (&[i32::MIN], 0)]);
    let mut r = ops(
        r#"(func (export "f") (param i64) (result i64)
             (i64.shr_s (local.get 0) (i64.const -1)))"#,
        has!(Op::I64ShrSImm { imm: -1, .. }),
    );
    i64s(&mut r, &[(&[i64::MIN], -1), (&[i64::MAX], 0)]);
}

// --- Constants, locals, no-op conversions --------------------------------------

#[test]
fn constants_live_in_slots_and_beyond_the_pool_are_materialized() {
    // 65 distinct f64 constants: 64 go to the function's constant slots, the
    // 65th is written by a `Const` instruction.
    let mut sum = String::from("(local.get 0)");
    for k in 1..=65 {
        sum = format!("(f64.add {sum} (f64.const {k}))");
    }
    let funcs = format!(r#"(func (export "f") (param f64) (result f64) {sum})"#);
    let wat = module(&funcs);
    let (_, _, funcs_code, consts) = crate::testing::translate(&wat);
    assert_eq!(funcs_code[0].consts_len, 64);
    assert_eq!(consts.len(), 64);
    let mut r = ops(&funcs, has!(Op::Const { lo: 0, hi: 0x4050_4000, .. }));
    f64s(&mut r, &[(&[0.5], 0.5 + (65 * 66 / 2) as f64)]);
}

#[test]
fn wrap_and_reinterpret_emit_nothing_and_consumers_read_the_low_half() {
    let mut r =
        ops(r#"(func (export "f") (param i64) (result i32) (i32.wrap_i64 (local.get 0)))"#, |c| {
            matches!(c, [Op::Return1 { src: 0 }])
        });
    assert_eq!(r.one("f", &[Val::I64(0x1_0000_0005)]), Val::I32(5));
    let mut r = ops(
        r#"(func (export "f") (param i64) (result i64)
             (i64.extend_i32_u (i32.add (i32.wrap_i64 (local.get 0)) (i32.const 1))))"#,
        has!(Op::I32AddImm { lhs: 0, imm: 1, .. }),
    );
    i64s(&mut r, &[(&[-1], 0), (&[0x7_ffff_fffe], 0xffff_ffff)]);
    let mut r = ops(
        r#"(func (export "f") (param i64) (result i32)
             (i32.load (i32.wrap_i64 (local.get 0))))"#,
        has!(Op::I32Load { addr: 0, offset: 0, .. }),
    );
    r.poke(0, &7u32.to_le_bytes());
    assert_eq!(r.one("f", &[Val::I64(1 << 32)]), Val::I32(7));
}

#[test]
fn local_set_redirects_the_result_even_onto_its_own_operand() {
    let mut r = ops(
        r#"(func (export "f") (param i32) (result i32)
             (local.set 0 (i32.mul (local.get 0) (local.get 0))) (local.get 0))"#,
        has!(Op::I32Mul { dst: 0, lhs: 0, rhs: 0 }),
    );
    i32s(&mut r, &[(&[3], 9), (&[0x10000], 0), (&[-1], 1)]);
}

#[test]
fn local_set_keeps_the_old_value_for_entries_still_reading_it() {
    let mut r = ops(
        r#"(func (export "f") (param i32 i32) (result i32)
             local.get 0 local.get 1 local.set 0 local.get 0 i32.sub)"#,
        has!(Op::I32Sub { .. }),
    );
    i32s(&mut r, &[(&[10, 3], 7), (&[i32::MIN, 1], i32::MAX)]);
}

#[test]
fn zeroing_a_fresh_local_in_the_entry_run_is_elided() {
    let mut r = ops(
        r#"(func (export "f") (param i32) (result i32) (local i32)
             (local.set 1 (i32.const 0)) (i32.add (local.get 0) (local.get 1)))"#,
        |c| !has!(Op::Const { .. } | Op::Copy { .. })(c),
    );
    i32s(&mut r, &[(&[4], 4)]);
    // Not once the local may have been written.
    let mut r = ops(
        r#"(func (export "f") (param i32) (result i32) (local i32)
             (local.set 1 (local.get 0)) (local.set 1 (i32.const 0)) (local.get 1))"#,
        has!(Op::Const { dst: 1, lo: 0, hi: 0 }),
    );
    i32s(&mut r, &[(&[4], 0)]);
}

// --- Calls -------------------------------------------------------------------------

const INC: &str = r#"(func $inc (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))"#;

#[test]
fn a_call_result_set_to_a_local_is_returned_there() {
    let mut r = ops(
        &format!(
            r#"(func (export "f") (param i32) (result i32) (local i32)
                 (local.set 1 (call $inc (i32.add (local.get 0) (i32.const 0))))
                 (i32.add (local.get 1) (local.get 1))) {INC}"#
        ),
        has!(Op::Call { func: 1, ret: 1, .. }),
    );
    i32s(&mut r, &[(&[1], 4), (&[i32::MAX], 0)]);
}

#[test]
fn an_argument_copied_just_before_a_call_is_part_of_it() {
    let mut r = ops(
        &format!(
            r#"(func (export "f") (param i32) (result i32)
                 (call $inc (local.get 0))) {INC}"#
        ),
        has!(Op::CallCopy { src: 0, .. }),
    );
    i32s(&mut r, &[(&[1], 2), (&[-1], 0)]);
}

// --- Compare-and-branch -------------------------------------------------------------

#[test]
fn i32_compare_fuses_with_br_if_and_if() {
    let mut r = ops(
        r#"(func (export "f") (param i32 i32) (result i32)
             (block (br_if 0 (i32.lt_s (local.get 0) (local.get 1))) (return (i32.const 0)))
             (i32.const 1))"#,
        has!(Op::BrI32LtS { lhs: 0, rhs: 1, .. }),
    );
    i32s(&mut r, &[(&[1, 2], 1), (&[2, 2], 0), (&[i32::MIN, i32::MAX], 1), (&[-1, 0], 1)]);
    // `if` branches around its body when the comparison does not hold.
    let mut r = ops(
        r#"(func (export "f") (param i32) (result i32)
             (if (result i32) (i32.gt_u (local.get 0) (i32.const -2))
               (then (i32.const 1)) (else (i32.const 0))))"#,
        has!(Op::BrI32LeUImm { lhs: 0, imm: -2, .. }),
    );
    i32s(&mut r, &[(&[-1], 1), (&[-2], 0), (&[0], 0)]);
}

#[test]
fn i64_compare_with_an_immediate_fuses_with_a_branch() {
    let mut r = ops(
        r#"(func (export "f") (param i64) (result i32)
             (block (br_if 0 (i64.ge_s (local.get 0) (i64.const -0x80000000)))
               (return (i32.const 0)))
             (i32.const 1))"#,
        has!(Op::BrI64GeSImm { imm: i32::MIN, .. }),
    );
    for (x, want) in [(-0x8000_0000i64, 1), (-0x8000_0001, 0), (i64::MAX, 1), (i64::MIN, 0)] {
        assert_eq!(r.one("f", &[Val::I64(x)]), Val::I32(want), "{x}");
    }
}

#[test]
fn float_compare_fuses_with_a_branch_and_nan_takes_the_false_side() {
    let mut r = ops(
        r#"(func (export "f") (param f64 f64) (result i32)
             (if (result i32) (f64.lt (local.get 0) (local.get 1))
               (then (i32.const 1)) (else (i32.const 0))))"#,
        has!(Op::BrF64NotLt { lhs: 0, rhs: 1, .. }),
    );
    for (a, b, want) in [(1.0, 2.0, 1), (2.0, 1.0, 0), (f64::NAN, 1.0, 0), (-0.0, 0.0, 0)] {
        let args = [Val::F64(f64::to_bits(a)), Val::F64(f64::to_bits(b))];
        assert_eq!(r.one("f", &args), Val::I32(want), "{a} < {b}");
    }
    let mut r = ops(
        r#"(func (export "f") (param f32 f32) (result i32)
             (block (br_if 0 (f32.ne (local.get 0) (local.get 1))) (return (i32.const 0)))
             (i32.const 1))"#,
        has!(Op::BrF32Ne { lhs: 0, rhs: 1, .. }),
    );
    for (a, b, want) in [(1.0f32, 1.0, 0), (f32::NAN, f32::NAN, 1), (0.0, -0.0, 0)] {
        let args = [Val::F32(a.to_bits()), Val::F32(b.to_bits())];
        assert_eq!(r.one("f", &args), Val::I32(want), "{a} != {b}");
    }
}

#[test]
fn eqz_fuses_with_a_branch() {
    let mut r = ops(
        r#"(func (export "f") (param i32) (result i32)
             (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 1)) (else (i32.const 0))))"#,
        has!(Op::BrIfNez { cond: 0, .. }),
    );
    i32s(&mut r, &[(&[0], 1), (&[i32::MIN], 0)]);
}

#[test]
fn an_in_place_add_fuses_with_the_compare_and_branch_after_it() {
    // By an immediate: the loop counter wraps around 2^32.
    let mut r = ops(
        r#"(func (export "f") (param i32 i32) (result i32)
             (loop $l
               (local.set 0 (i32.add (local.get 0) (i32.const 1)))
               (br_if $l (i32.lt_u (local.get 0) (local.get 1))))
             (local.get 0))"#,
        has!(Op::AddImmBrI32LtU { slot: 0, imm: 1, rhs: 1, .. }),
    );
    i32s(&mut r, &[(&[-1, 2], 2), (&[5, 2], 6), (&[0, 3], 3)]);
    // By a slot: the counter itself (source and destination).
    let mut r = ops(
        r#"(func (export "f") (param i32 i32) (result i32)
             (loop $l
               (local.set 0 (i32.add (local.get 0) (local.get 0)))
               (br_if $l (i32.ne (local.get 0) (local.get 1))))
             (local.get 0))"#,
        has!(Op::AddBrI32Ne { slot: 0, step: 0, rhs: 1, .. }),
    );
    i32s(&mut r, &[(&[1, 8], 8), (&[i32::MIN, 0], 0), (&[3, 0], 0)]);
    // Against an immediate, the add stays apart (only the slot forms fuse).
    let mut r = ops(
        r#"(func (export "f") (param i32) (result i32)
             (loop $l
               (local.set 0 (i32.add (local.get 0) (i32.const 1)))
               (br_if $l (i32.lt_s (local.get 0) (i32.const 0x7fffffff))))
             (local.get 0))"#,
        |c| has!(Op::BrI32LtSImm { imm: 0x7fff_ffff, .. })(c) && has!(Op::I32AddImm { .. })(c),
    );
    i32s(&mut r, &[(&[0x7fff_fffd], i32::MAX), (&[0x7fff_fffe], i32::MAX)]);
}

#[test]
fn an_i32_load_fuses_with_the_compare_and_branch_after_it() {
    let mut r = ops(
        r#"(func (export "f") (param i32 i32) (result i32)
             (block (br_if 0 (i32.eq (i32.load (local.get 0)) (local.get 1)))
               (return (i32.const 0)))
             (i32.const 1))"#,
        has!(Op::LoadBrI32Eq { addr: 0, rhs: 1, .. }),
    );
    r.poke(0, &9u32.to_le_bytes());
    r.poke(LAST as usize, &(-1i32).to_le_bytes());
    i32s(&mut r, &[(&[0, 9], 1), (&[0, 8], 0), (&[LAST, -1], 1)]);
    r.traps("f", &[Val::I32(LAST + 1), Val::I32(0)], TrapCode::MemoryOutOfBounds);
    r.traps("f", &[Val::I32(-1), Val::I32(0)], TrapCode::MemoryOutOfBounds);
}

// --- Folds into copies and jumps ----------------------------------------------------

#[test]
fn two_in_place_add_immediates_are_one_instruction() {
    let mut r = ops(
        r#"(func (export "f") (param i32 i32) (result i32)
             (local.set 0 (i32.add (local.get 0) (i32.const 0x7fffffff)))
             (local.set 1 (i32.add (local.get 1) (i32.const -1)))
             (i32.xor (local.get 0) (local.get 1)))"#,
        has!(Op::I32AddImm2 { a: 0, ka: 0x7fff_ffff, b: 1, kb: -1 }),
    );
    i32s(&mut r, &[(&[1, 0], i32::MIN ^ -1), (&[0, i32::MIN], i32::MAX ^ i32::MAX)]);
}

#[test]
fn a_copy_after_an_in_place_add_is_one_instruction() {
    let mut r = ops(
        r#"(func (export "f") (param i32 i32) (result i32) (local i32)
             (local.set 0 (i32.add (local.get 0) (i32.const 1)))
             (local.set 2 (local.get 1))
             (i32.sub (local.get 0) (local.get 2)))"#,
        has!(Op::I32AddImmCopy { a: 0, k: 1, dst: 2, src: 1 }),
    );
    i32s(&mut r, &[(&[i32::MAX, 1], i32::MAX), (&[5, 5], 1)]);
}

#[test]
fn an_in_place_add_before_a_jump_is_one_instruction() {
    let mut r = ops(
        r#"(func (export "f") (param i32) (result i32) (local i32)
             (block $done (loop $l
               (br_if $done (i32.ge_u (local.get 1) (i32.const 3)))
               (local.set 1 (i32.add (local.get 1) (i32.const 1)))
               (local.set 0 (i32.add (local.get 0) (i32.const -1)))
               (local.set 1 (i32.add (local.get 1) (i32.const 0)))
               (br $l)))
             (local.get 0))"#,
        has!(Op::I32AddImmBr { dst: 1, lhs: 1, imm: 0, .. }),
    );
    i32s(&mut r, &[(&[0], -3), (&[i32::MIN], i32::MAX - 2)]);
}

#[test]
fn a_copy_before_a_jump_is_one_instruction() {
    let mut r = ops(
        r#"(func (export "f") (param i32 i32) (result i32)
             (block $b (result i32)
               (br_if 0 (i32.const 7) (i32.eqz (local.get 1)))
               (drop)
               (local.get 0) (br $b)))"#,
        has!(Op::CopyBr { src: 0, .. }),
    );
    i32s(&mut r, &[(&[3, 0], 7), (&[3, 1], 3)]);
}

#[test]
fn the_result_of_an_add_immediate_copied_on_is_one_instruction() {
    // The branch carries the sum down one slot, past the value it discards.
    let mut r = ops(
        r#"(func (export "f") (param i32) (result i32)
             (block (result i32) (i32.const 1) (i32.add (local.get 0) (i32.const -1)) (br 0)))"#,
        has!(Op::I32AddImmTee { lhs: 0, imm: -1, .. }),
    );
    i32s(&mut r, &[(&[i32::MIN], i32::MAX), (&[0], -1)]);
}

#[test]
fn an_immediate_added_to_a_scaled_sum_folds_into_it() {
    let mut r = ops(
        r#"(func (export "f") (param i32 i32) (result i32)
             (i32.add (i32.add (local.get 0) (i32.shl (local.get 1) (i32.const 2)))
                      (i32.const -4)))"#,
        has!(Op::I32AddShl2Imm { lhs: 0, rhs: 1, imm: -4, .. }),
    );
    i32s(
        &mut r,
        &[(&[0, 1], 0), (&[0, 0], -4), (&[i32::MIN, 0x2000_0000], -4), (&[i32::MAX, 1], i32::MAX)],
    );
}

#[test]
fn sums_of_immediates_fold_into_one_immediate() {
    let mut r = ops(
        r#"(func (export "f") (param i32) (result i32)
             (i32.add (i32.add (local.get 0) (i32.const 0x7fffffff)) (i32.const 1)))"#,
        |c| has!(Op::I32AddImm { lhs: 0, imm: i32::MIN, .. })(c) && c.len() == 2,
    );
    i32s(&mut r, &[(&[0], i32::MIN), (&[i32::MIN], 0)]);
}

// --- Addressing ---------------------------------------------------------------------

#[test]
fn a_load_from_a_sum_of_slots_is_one_instruction() {
    let mut r = ops(
        r#"(func (export "f") (param i32 i32) (result i32)
             (i32.load (i32.add (local.get 0) (local.get 1))))"#,
        has!(Op::I32LoadAdd { lhs: 0, rhs: 1, .. }),
    );
    r.poke(0, &11u32.to_le_bytes());
    r.poke(LAST as usize, &12u32.to_le_bytes());
    // The sum wraps at 32 bits, as `i32.add` does.
    i32s(&mut r, &[(&[0, 0], 11), (&[LAST, 0], 12), (&[-4, LAST + 4], 12), (&[-1, 1], 11)]);
    r.traps("f", &[Val::I32(LAST), Val::I32(1)], TrapCode::MemoryOutOfBounds);
    r.traps("f", &[Val::I32(-1), Val::I32(0)], TrapCode::MemoryOutOfBounds);
}

#[test]
fn a_load_from_a_slot_plus_an_immediate_is_one_instruction() {
    let mut r = ops(
        r#"(func (export "f") (param i32) (result i64)
             (i64.load8_u (i32.add (local.get 0) (i32.const -1))))"#,
        |c| has!(Op::I64Load8U { .. })(c) || has!(Op::I32Load8UAddImm { .. })(c),
    );
    r.poke(0, &[0xfe]);
    assert_eq!(r.one("f", &[Val::I32(1)]), Val::I64(0xfe));
    r.traps("f", &[Val::I32(0)], TrapCode::MemoryOutOfBounds);
    let mut r = ops(
        r#"(func (export "f") (param i32) (result i64)
             (i64.load (i32.add (local.get 0) (i32.const 65528))))"#,
        has!(Op::I64LoadAddImm { lhs: 0, imm: 65528, .. }),
    );
    r.poke(65528, &(-5i64).to_le_bytes());
    assert_eq!(r.one("f", &[Val::I32(0)]), Val::I64(-5));
    r.traps("f", &[Val::I32(1)], TrapCode::MemoryOutOfBounds);
    // -65528 wraps the address back to 0.
    let mut r = ops(
        r#"(func (export "f") (param i32) (result i32)
             (i32.load8_s (i32.add (local.get 0) (i32.const -65528))))"#,
        has!(Op::I32Load8SAddImm { lhs: 0, imm: -65528, .. }),
    );
    r.poke(0, &[0x80]);
    i32s(&mut r, &[(&[65528], -128)]);
    r.traps("f", &[Val::I32(0)], TrapCode::MemoryOutOfBounds);
}

#[test]
fn a_load_at_a_shifted_index_is_one_instruction() {
    let mut r = ops(
        r#"(func (export "f") (param i32) (result i32)
             (i32.load offset=65532 (i32.shl (local.get 0) (i32.const 2))))"#,
        has!(Op::I32LoadShl { idx: 0, offset: 65532, .. }),
    );
    r.poke(LAST as usize, &3u32.to_le_bytes());
    // 2^30 << 2 wraps to 0.
    i32s(&mut r, &[(&[0], 3), (&[0x4000_0000], 3)]);
    r.traps("f", &[Val::I32(1)], TrapCode::MemoryOutOfBounds);
    let mut r = ops(
        r#"(func (export "f") (param i32) (result f64)
             (f64.load (i32.shl (local.get 0) (i32.const 3))))"#,
        has!(Op::F64LoadShl { idx: 0, offset: 0, .. }),
    );
    r.poke(65528, &1.5f64.to_le_bytes());
    assert_eq!(r.one("f", &[Val::I32(8191)]), Val::F64(1.5f64.to_bits()));
    r.traps("f", &[Val::I32(8192)], TrapCode::MemoryOutOfBounds);
}

#[test]
fn a_load_at_a_byte_index_masks_it() {
    let mut r = ops(
        r#"(func (export "f") (param i32) (result i32)
             (i32.load offset=64512 (i32.shl (i32.and (local.get 0) (i32.const 255))
                                             (i32.const 2))))"#,
        has!(Op::I32LoadShlU8 { idx: 0, offset: 64512, .. }),
    );
    r.poke(LAST as usize, &77u32.to_le_bytes());
    i32s(&mut r, &[(&[255], 77), (&[-1], 77), (&[0x1ff], 77), (&[0x100], 0)]);
}

#[test]
fn a_load_at_base_plus_scaled_index_is_one_instruction() {
    let mut r = ops(
        r#"(func (export "f") (param i32 i32) (result i32)
             (i32.load (i32.add (local.get 0) (i32.shl (local.get 1) (i32.const 2)))))"#,
        has!(Op::I32LoadIdx { lhs: 0, rhs: 1, .. }),
    );
    r.poke(LAST as usize, &5u32.to_le_bytes());
    i32s(&mut r, &[(&[LAST, 0], 5), (&[0, LAST / 4], 5), (&[LAST + 4, -1], 5)]);
    r.traps("f", &[Val::I32(LAST), Val::I32(1)], TrapCode::MemoryOutOfBounds);
    // With an immediate folded into the base.
    let mut r = ops(
        r#"(func (export "f") (param i32 i32) (result f64)
             (f64.load (i32.add (i32.add (local.get 0) (i32.const -8))
                                (i32.shl (local.get 1) (i32.const 3)))))"#,
        has!(Op::F64LoadIdxImm { lhs: 0, rhs: 1, imm: -8, .. }),
    );
    r.poke(65528, &2.5f64.to_le_bytes());
    let f = |a: i32, b: i32| [Val::I32(a), Val::I32(b)];
    assert_eq!(r.one("f", &f(65536, 0)), Val::F64(2.5f64.to_bits()));
    assert_eq!(r.one("f", &f(0, 8192)), Val::F64(2.5f64.to_bits()));
    r.traps("f", &f(0, 0), TrapCode::MemoryOutOfBounds);
}

#[test]
fn an_address_sum_with_a_scaled_index_is_one_instruction() {
    let mut r = ops(
        r#"(func (export "f") (param i32 i32) (result i32)
             (i32.add (i32.add (local.get 0) (i32.const 0x7fffffff))
                      (i32.shl (local.get 1) (i32.const 3))))"#,
        has!(Op::I32AddShl3Imm { lhs: 0, rhs: 1, imm: 0x7fff_ffff, .. }),
    );
    i32s(&mut r, &[(&[1, 0], i32::MIN), (&[0, 1], i32::MAX.wrapping_add(8))]);
    let mut r = ops(
        r#"(func (export "f") (param i32 i32) (result i32)
             (i32.add (i32.shl (local.get 1) (i32.const 2)) (local.get 0)))"#,
        has!(Op::I32AddShl2 { lhs: 0, rhs: 1, .. }),
    );
    i32s(&mut r, &[(&[1, 2], 9), (&[0, 0x4000_0000], 0)]);
}

#[test]
fn stores_to_fused_addresses_are_one_instruction() {
    let read = r#"(func (export "g") (param i32) (result i64) (i64.load (local.get 0)))"#;
    let g = |r: &mut Running, at: i32| r.one("g", &[Val::I32(at)]);
    let mut r = ops(
        &format!(
            r#"(func (export "f") (param i32 i32 i64)
                 (i64.store (i32.add (local.get 0) (local.get 1)) (local.get 2))) {read}"#
        ),
        has!(Op::Store64Add { lhs: 0, rhs: 1, val: 2 }),
    );
    let st = |r: &mut Running, a: i32, b: i32, v: i64| {
        r.call("f", &[Val::I32(a), Val::I32(b), Val::I64(v)])
    };
    st(&mut r, 65528, 0, -2).expect("in bounds");
    assert_eq!(g(&mut r, 65528), Val::I64(-2));
    st(&mut r, -8, 8, 3).expect("wraps to 0");
    assert_eq!(g(&mut r, 0), Val::I64(3));
    assert!(st(&mut r, 65528, 1, 0).is_err());
    let mut r = ops(
        &format!(
            r#"(func (export "f") (param i32 i32 i64)
                 (i64.store16 (i32.add (local.get 0) (i32.const 65534)) (local.get 2))) {read}"#
        ),
        has!(Op::Store16AddImm { lhs: 0, imm: 65534, val: 2 }),
    );
    st(&mut r, 0, 0, 0x1_2345).expect("in bounds");
    assert_eq!(g(&mut r, 65528), Val::I64(0x2345 << 48));
    assert!(st(&mut r, 1, 0, 0).is_err());
    let mut r = ops(
        &format!(
            r#"(func (export "f") (param i32 i32 i64)
                 (i32.store (i32.add (i32.add (local.get 0) (i32.const 4))
                                     (i32.shl (local.get 1) (i32.const 2)))
                            (i32.wrap_i64 (local.get 2)))) {read}"#
        ),
        has!(Op::Store32IdxImm { lhs: 0, rhs: 1, val: 2, imm: 4 }),
    );
    st(&mut r, 65524, 0, -1).expect("in bounds");
    assert_eq!(g(&mut r, 65528), Val::I64(0xffff_ffff));
    st(&mut r, 65524, 1, 0).expect("the last four bytes");
    assert!(st(&mut r, 65524, 2, 0).is_err());
    assert!(st(&mut r, -4, 0, 0).is_ok(), "-4 + 4 wraps to 0");
    let mut r = ops(
        &format!(
            r#"(func (export "f") (param i32 i32 i64)
                 (i64.store (i32.add (local.get 0) (i32.shl (local.get 1) (i32.const 3)))
                            (local.get 2))) {read}"#
        ),
        has!(Op::Store64Idx { lhs: 0, rhs: 1, val: 2 }),
    );
    st(&mut r, 8, 8190, 9).expect("in bounds");
    assert_eq!(g(&mut r, 65528), Val::I64(9));
    assert!(st(&mut r, 8, 8191, 0).is_err());
}

// --- f64 fusions ----------------------------------------------------------------------

/// `a * a` rounds away its last bit, so two roundings give exactly 0 where a fused
/// multiply-add would not.
const A: f64 = 1.0 + 1.0 / (1u64 << 27) as f64;

/// Into a local, the pair fusion (`F64MulAddR`, result redirected to the local)
/// comes first: the translator's own `F64Mul` + add-to-local rule
/// (`fuse_local_mul_acc`) never sees an `f64.mul` it could take.
#[test]
fn multiply_accumulate_into_a_local_rounds_twice() {
    let mut r = ops(
        r#"(func (export "f") (param f64 f64) (result f64)
             (local.set 0 (f64.add (local.get 0) (f64.mul (local.get 1) (local.get 1))))
             (local.get 0))"#,
        has!(Op::F64MulAddR { dst: 0, a: 1, b: 1, c: 0 }),
    );
    f64s(&mut r, &[(&[-(A * A), A], 0.0), (&[1.0, 2.0], 5.0)]);
    let mut r = ops(
        r#"(func (export "f") (param f64 f64) (result f64)
             (local.set 0 (f64.sub (local.get 0) (f64.mul (local.get 1) (local.get 1))))
             (local.get 0))"#,
        has!(Op::F64MulSubR { dst: 0, a: 1, b: 1, c: 0 }),
    );
    f64s(&mut r, &[(&[A * A, A], 0.0), (&[1.0, 2.0], -3.0)]);
}

#[test]
fn multiply_accumulate_into_a_temporary_rounds_twice() {
    let mut r = ops(
        r#"(func (export "f") (param f64 f64) (result f64)
             (f64.add (f64.neg (local.get 0)) (f64.mul (local.get 1) (local.get 1))))"#,
        has!(Op::F64MulAdd { lhs: 1, rhs: 1, .. }),
    );
    f64s(&mut r, &[(&[A * A, A], 0.0), (&[1.0, 3.0], 8.0)]);
}

#[test]
fn multiply_accumulate_of_a_loaded_operand_rounds_twice() {
    let mut r = ops(
        r#"(func (export "f") (param f64 f64 i32) (result f64)
             (local.set 0 (f64.add (local.get 0)
                                   (f64.mul (local.get 1) (f64.load offset=65528 (local.get 2)))))
             (local.get 0))"#,
        has!(Op::F64MulAddLoad { dst: 0, lhs: 1, addr: 2, offset: 65528 }),
    );
    r.poke(65528, &A.to_le_bytes());
    let args = |a: f64, b: f64, p: i32| [Val::F64(a.to_bits()), Val::F64(b.to_bits()), Val::I32(p)];
    assert_eq!(r.one("f", &args(-(A * A), A, 0)), Val::F64(0.0f64.to_bits()));
    r.traps("f", &args(0.0, 0.0, 1), TrapCode::MemoryOutOfBounds);
    let mut r = ops(
        r#"(func (export "f") (param f64 f64 i32) (result f64)
             (local.set 0 (f64.sub (local.get 0) (f64.mul (local.get 1) (f64.load (local.get 2)))))
             (local.get 0))"#,
        has!(Op::F64MulSubLoad { dst: 0, lhs: 1, addr: 2, offset: 0 }),
    );
    r.poke(0, &A.to_le_bytes());
    assert_eq!(r.one("f", &args(A * A, A, 0)), Val::F64(0.0f64.to_bits()));
    r.traps("f", &args(0.0, 0.0, -1), TrapCode::MemoryOutOfBounds);
}

#[test]
fn an_f64_operator_with_a_loaded_right_operand_is_one_instruction() {
    for (op, fused, want) in
        [("add", "F64AddLoad", 4.0), ("sub", "F64SubLoad", -1.0), ("mul", "F64MulLoad", 3.75)]
    {
        let funcs = format!(
            r#"(func (export "f") (param f64 i32) (result f64)
                 (f64.{op} (local.get 0) (f64.load offset=65528 (local.get 1))))"#
        );
        let mut r = ops(&funcs, |c| format!("{c:?}").contains(fused));
        r.poke(65528, &2.5f64.to_le_bytes());
        let args = |p: i32| [Val::F64(1.5f64.to_bits()), Val::I32(p)];
        assert_eq!(r.one("f", &args(0)), Val::F64(f64::to_bits(want)), "{op}");
        r.traps("f", &args(1), TrapCode::MemoryOutOfBounds);
    }
}

#[test]
fn two_f64_operators_are_one_instruction() {
    // The first's result as the second's left operand, then as its right one.
    let mut r = ops(
        r#"(func (export "f") (param f64 f64 f64) (result f64)
             (f64.add (f64.mul (local.get 0) (local.get 1)) (local.get 2)))"#,
        has!(Op::F64MulAddL { a: 0, b: 1, c: 2, .. }),
    );
    let three = |a: f64, b: f64, c: f64| [a, b, c].map(|v| Val::F64(v.to_bits()));
    assert_eq!(r.one("f", &three(A, A, -(A * A))), Val::F64(0.0f64.to_bits()));
    let mut r = ops(
        r#"(func (export "f") (param f64 f64 f64) (result f64)
             (f64.sub (local.get 2) (f64.add (local.get 0) (local.get 1))))"#,
        has!(Op::F64AddSubR { a: 0, b: 1, c: 2, .. }),
    );
    assert_eq!(r.one("f", &three(1e308, 1e308, 0.0)), Val::F64((-f64::INFINITY).to_bits()));
    assert_eq!(r.one("f", &three(0.5, 0.25, 1.0)), Val::F64(0.25f64.to_bits()));
    // The same temporary as both operands: no fusion (the pair rule needs it on
    // one side only).
    let mut r = ops(
        r#"(func (export "f") (param f64 f64) (result f64)
             (local.set 0 (f64.add (local.get 0) (local.get 1)))
             (f64.mul (local.get 0) (local.get 0)))"#,
        |c| !format!("{c:?}").contains("F64AddMul"),
    );
    assert_eq!(r.one("f", &three(1.0, 2.0, 0.0)[..2]), Val::F64(9.0f64.to_bits()));
}

// --- br_table -----------------------------------------------------------------------

#[test]
fn br_table_clamps_its_index_to_the_default() {
    let mut r = ops(
        r#"(func (export "f") (param i32) (result i32)
             (block (block (block (br_table 0 1 2 (local.get 0)))
               (return (i32.const 10)))
               (return (i32.const 11)))
             (i32.const 12))"#,
        has!(Op::BrTable { index: 0, len: 2 }),
    );
    i32s(&mut r, &[(&[0], 10), (&[1], 11), (&[2], 12), (&[-1], 12), (&[i32::MAX], 12)]);
}

#[test]
fn v128_local_set_redirects_the_lane_operation() {
    let f = r#"(func (export "f") (param v128 v128) (result v128) (local v128)
        (local.set 2 (i32x4.add (local.get 0) (local.get 1)))
        (i32x4.mul (local.get 2) (local.get 2)))"#;
    // Slots: params 0..2 and 2..4, the local 4..6.
    let mut r = ops(f, |code| {
        has!(Op::I32x4Add { dst: 4, lhs: 0, rhs: 2 })(code) && !has!(Op::V128Copy { .. })(code)
    });
    let v = |l: [u32; 4]| Val::V128(vm_core::runtime::simd::from_u32s(l));
    assert_eq!(r.one("f", &[v([1, 2, 3, 4]), v([1, 1, 1, u32::MAX])]), v([4, 9, 16, 9]));
}

#[test]
fn v128_values_cross_blocks_branches_calls_and_selects() {
    let f = r#"(func (export "f") (param i32 v128) (result v128) (local v128 i32)
        (local.set 2 (call $g (local.get 1) (local.get 0)))
        (block $b (result v128 i32)
          (br_if $b (local.get 2) (local.get 0) (local.get 0))
          (drop)
          (drop)
          (local.get 1)
          (i32.const 7))
        (local.set 3)
        (select (i64x2.splat (i64.extend_i32_u (local.get 3))) (local.tee 2) (local.get 0)))
      (func $g (param v128 i32) (result v128)
        (i8x16.replace_lane 15 (local.get 0) (local.get 1)))"#;
    let mut r = ops(f, has!(Op::V128Select { .. }));
    let v = |x: u128| Val::V128(x);
    // Taken branch: the block carries the call's result and the condition; `select`
    // keeps it (the tee'd splat is its second operand).
    assert_eq!(r.one("f", &[Val::I32(1), v(5)]), v(5 | (1 << 120)));
    // Not taken: the parameter and 7, then `select` picks the tee'd splat of 7.
    assert_eq!(r.one("f", &[Val::I32(0), v(5)]), v(7 | (7 << 64)));
}
