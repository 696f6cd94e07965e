//! The pre-scan that chooses register locals (`translate::locals::Uses`), a
//! byte-level scanner, against the same counts taken with `wasmparser` over
//! every function body of the spec testsuite's modules and of the benchmark
//! corpus; and register locals in the positions that need care (aliases
//! overwritten while on the stack, calls, parameters, floats).

use vm_core::runtime::ModuleInfo;
use wasmparser::{BinaryReader, FunctionBody, Operator};
use wast::lexer::Lexer;
use wast::parser::{self, ParseBuffer};
use wast::{Wast, WastDirective};

use super::Instance;
use crate::translate::locals::Uses;

/// The counts of [`Uses::scan`], taken with `wasmparser` (blocks nested deeper
/// than 64 never count as loops, as there).
fn reference(body: &FunctionBody<'_>, n: usize) -> Vec<(u64, bool)> {
    let mut uses = vec![(0u64, false); n];
    let mut calls = 0u64;
    let mut open: Vec<bool> = Vec::new();
    let mut depth = 0;
    let mut reader = body.get_operators_reader().expect("operators");
    while !reader.eof() {
        let w = Uses::weight_at(depth);
        let mut count = |i: u32, write: bool| {
            let u = &mut uses[i as usize];
            u.0 += w;
            u.1 |= write;
        };
        match reader.read().expect("valid operator") {
            Operator::LocalGet { local_index } => count(local_index, false),
            Operator::LocalSet { local_index } | Operator::LocalTee { local_index } => {
                count(local_index, true)
            }
            Operator::Loop { .. } => {
                let is_loop = open.len() < 64;
                depth += u32::from(is_loop);
                open.push(is_loop);
            }
            Operator::Block { .. } | Operator::If { .. } | Operator::TryTable { .. } => {
                open.push(false)
            }
            Operator::End => depth -= u32::from(open.pop() == Some(true)),
            Operator::Call { .. }
            | Operator::CallIndirect { .. }
            | Operator::CallRef { .. }
            | Operator::ReturnCallIndirect { .. }
            | Operator::ReturnCallRef { .. }
            | Operator::Throw { .. }
            | Operator::ThrowRef
            | Operator::MemoryGrow { .. }
            | Operator::MemoryInit { .. }
            | Operator::DataDrop { .. }
            | Operator::MemoryCopy { .. }
            | Operator::MemoryFill { .. }
            | Operator::TableInit { .. }
            | Operator::ElemDrop { .. }
            | Operator::TableCopy { .. }
            | Operator::TableGrow { .. }
            | Operator::TableFill { .. } => calls += w,
            _ => {}
        }
    }
    uses.push((calls, false));
    uses
}

/// Checks every body of `bytes` (a binary module); how many it checked.
fn check_module(bytes: &[u8], what: &str) -> usize {
    let features = <crate::Dynasm as vm_core::slot::Engine>::PROPOSALS;
    let Ok(module) = ModuleInfo::decode(bytes, features) else {
        return 0;
    };
    for (i, body) in module.bodies.iter().enumerate() {
        let fb = FunctionBody::new(BinaryReader::new(
            &module.bytes[body.range.clone()],
            body.range.start as u64,
        ));
        let ty = module.func_type(module.num_imported_funcs + i as u32).expect("type");
        let mut n = ty.params().len();
        for l in fb.get_locals_reader().expect("locals") {
            n += l.expect("local").0 as usize;
        }
        let mut code = fb.get_binary_reader_for_operators().expect("operators");
        let code = code.read_bytes(code.bytes_remaining()).expect("bytes");
        let scan = Uses::scan(code, n);
        assert!(
            !scan.stopped,
            "{what}: function {i}: the scan stopped at an opcode it does not know"
        );
        let mut got: Vec<(u64, bool)> = (0..n).map(|l| (scan.weight(l), scan.written(l))).collect();
        got.push((scan.calls, false));
        assert_eq!(got, reference(&fb, n), "{what}: function {i}");
    }
    module.bodies.len()
}

#[test]
fn scan_matches_wasmparser() {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared");
    let mut bodies = 0;
    let spec =
        ["wasm-2.0", "wasm-3.0"].map(|v| std::fs::read_dir(root.join("spec-testsuite").join(v)));
    for dir in spec.into_iter().flatten() {
        for entry in dir {
            let path = entry.expect("entry").path();
            if path.extension().is_none_or(|e| e != "wast") {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("readable script");
            let mut lexer = Lexer::new(&text);
            lexer.allow_confusing_unicode(true);
            let buf = ParseBuffer::new_with_lexer(lexer).expect("lexes");
            let wast: Wast<'_> = parser::parse(&buf).expect("parses");
            for d in wast.directives {
                if let WastDirective::Module(mut qw) | WastDirective::ModuleDefinition(mut qw) = d
                    && let Ok(bytes) = qw.encode()
                {
                    bodies += check_module(&bytes, &path.display().to_string());
                }
            }
        }
    }
    if let Ok(dir) = std::fs::read_dir(root.join("bench/wasm")) {
        for entry in dir {
            let path = entry.expect("entry").path();
            let bytes = std::fs::read(&path).expect("readable module");
            bodies += check_module(&bytes, &path.display().to_string());
        }
    }
    println!("{bodies} function bodies scanned");
    if std::env::var_os("CI").is_some() {
        assert!(bodies > 0, "no spec testsuite or corpus found (CI is set)");
    }
}

/// A register local overwritten while its old value is still on the stack
/// (in a register and, past the free registers, in a slot), across a call, and
/// as a parameter.
#[test]
fn register_locals_keep_values() {
    let wat = r#"(module
        (func $id (param i32) (result i32) local.get 0)
        (func (export "alias") (param i32) (result i32) (local i32)
            i32.const 5 local.set 1
            local.get 1          ;; old value 5 stays on the stack
            i32.const 7 local.set 1
            local.get 1 i32.add  ;; 5 + 7
            local.get 0 i32.add)
        (func (export "many") (param i32) (result i32) (local i32)
            local.get 0 local.get 0 local.get 0 local.get 0 local.get 0 local.get 0
            local.get 0 local.get 0 local.get 0 local.get 0 local.get 0 local.get 0
            local.get 0 local.get 0
            i32.const 1000 local.set 0  ;; fourteen aliases of the old value
            i32.add i32.add i32.add i32.add i32.add i32.add i32.add
            i32.add i32.add i32.add i32.add i32.add i32.add
            local.get 0 i32.add)
        (func (export "calls") (param i32) (result i32) (local i32 f64)
            (loop $l
                local.get 1 local.get 0 call $id i32.add local.set 1
                local.get 2 f64.const 0.5 f64.add local.set 2
                local.get 0 i32.const 1 i32.sub local.tee 0
                br_if $l)
            local.get 1 local.get 2 i32.trunc_f64_s i32.add)
        (func (export "tee") (param i32) (result i32) (local i32)
            local.get 0 local.tee 1 local.get 1 i32.const 1 i32.add local.tee 1 i32.mul))"#;
    let mut inst = Instance::new(wat);
    assert_eq!(inst.call("alias", &[3]), [15]);
    assert_eq!(inst.call("many", &[2]), [14 * 2 + 1000]);
    // Sum of 10..=1 plus 10 halves.
    assert_eq!(inst.call("calls", &[10]), [55 + 5]);
    assert_eq!(inst.call("tee", &[6]), [42]);
}

/// With every register local taken (eight, and memory 0's base) only `rax`,
/// `rcx` and `rdx` are left to the value stack: a division whose operands are
/// both in their slots still has the registers it needs.
#[test]
fn division_with_all_register_locals_taken() {
    let mut wat = String::from(
        "(module (memory 1) (func (export \"f\") (param i32) (result i32)
           (local i32 i32 i32 i32 i32 i32 i32 i32)
           (loop $l\n",
    );
    for k in 1..=8 {
        wat.push_str(&format!("(local.set {k} (i32.add (local.get {k}) (local.get 0)))\n"));
    }
    wat.push_str(
        "(br_if $l (i32.lt_u (local.get 1) (i32.const 100))))
         (i32.add
           (i32.div_s (block (result i32) (i32.const 1000)) (block (result i32) (local.get 8)))
           (i32.rem_u (block (result i32) (local.get 7)) (block (result i32) (i32.const 7))))))",
    );
    let mut i = Instance::new(&wat);
    // Each local reaches 100 (steps of 10): 1000 / 100 + 100 % 7.
    assert_eq!(i.call("f", &[10]), [10 + 2]);
}

/// With eight register locals and memory 0's base taken, the fourth live value
/// takes `vmctx`'s register `r15`: code that needs `vmctx` before the next edge
/// (a global, `memory.size`, a spill's neighbours) reads it from the frame, the
/// flush at the next edge (a call, a `br_table` whose index is in `r15`) puts it
/// back, and the callee and the global written after it see the right instance.
#[test]
fn values_in_the_vmctx_register() {
    let mut wat = String::from(
        "(module (memory 2) (global $g (mut i32) (i32.const 40))
           (func $id (param i32) (result i32) local.get 0)
           (func (export \"f\") (param i32) (result i32)
             (local i32 i32 i32 i32 i32 i32 i32 i32)
             (loop $l\n",
    );
    for k in 1..=8 {
        wat.push_str(&format!("(local.set {k} (i32.add (local.get {k}) (local.get 0)))\n"));
    }
    wat.push_str(
        "(br_if $l (i32.lt_u (local.get 1) (i32.const 100))))
           ;; four computed values live at once, then a global and memory.size
           (i32.mul (local.get 1) (i32.const 3))
           (i32.mul (local.get 2) (i32.const 5))
           (i32.mul (local.get 3) (i32.const 7))
           (i32.mul (local.get 4) (i32.const 11))
           (global.get $g)
           (memory.size)
           i32.add i32.add i32.add i32.add i32.add
           (call $id)
           (global.set $g (i32.add (global.get $g) (i32.const 1)))
           (block $even (block $odd
             (i32.mul (local.get 5) (i32.const 3))
             (i32.mul (local.get 6) (i32.const 5))
             (i32.mul (local.get 7) (i32.const 7))
             ;; the index, computed while the three above hold rax, rcx and rdx
             (i32.and (i32.add (local.get 8) (local.get 0)) (i32.const 1))
             (br_table $even $odd $even))
             (return (i32.add (global.get $g) (i32.const 1000))))
           (i32.add (global.get $g) (i32.const 2000))
           i32.add))",
    );
    // A reload of `r15` from the frame (`mov r15, [rbp - 8]`) shows a value took it.
    let module =
        ModuleInfo::decode(wat.as_bytes(), vm_core::runtime::Features::default()).expect("valid");
    let code = crate::compile_module(&module, crate::CompileOptions::default()).expect("compiles");
    // SAFETY: the module's code mapping is readable for its whole length.
    let bytes = unsafe { std::slice::from_raw_parts(code.base(), code.code_bytes()) };
    // (dynasm encodes a displacement that is not a literal in four bytes.)
    let reload: &[u8] = &[0x4c, 0x8b, 0xbd, 0xf8, 0xff, 0xff, 0xff];
    assert!(bytes.windows(reload.len()).any(|w| w == reload), "a value took r15");
    let mut i = Instance::new(&wat);
    // p = 10: every local ends at 100; 100 * (3 + 5 + 7 + 11) + 40 + 2 pages, then
    // the global is 41, the index (100 + 10) & 1 = 0 (`$even`): + 41 + 2000.
    assert_eq!(i.call("f", &[10]), [2600 + 42 + 41 + 2000]);
    // p = 11: the global is 41 (the first call incremented it), then 42; the
    // index (110 + 11) & 1 = 1 (`$odd`): only the returned value, 42 + 1000.
    assert_eq!(i.call("f", &[11]), [42 + 1000]);
}

/// Results written straight into the register local the next `local.set` or
/// `local.tee` writes (a constant rotate, an add or a subtraction of a
/// constant, a load, a frame local's `local.get`), each while the local's old
/// value is still on the stack.
#[test]
fn results_into_register_locals() {
    // Locals 8 and 9 are the least used: they stay in the frame.
    let wat = r#"(module (memory 1)
        (func (export "f") (param i32 i32) (result i32) (local i64 i32 i32 i32 i32 i32 i32 i32)
          (i32.store (i32.const 68) (i32.const 68))
          (local.set 8 (i32.add (local.get 0) (i32.const 9)))
          (local.set 9 (i32.sub (local.get 1) (i32.const 3)))
          (local.set 3 (i32.const 1)) (local.set 4 (i32.const 2)) (local.set 5 (i32.const 3))
          (local.set 6 (i32.const 4)) (local.set 7 (i32.const 5))
          i32.const 0
          local.get 3
          (local.set 3 (i32.rotl (local.get 0) (i32.const 5)))
          local.get 3 i32.xor i32.add
          local.get 4
          (local.set 4 (i32.rotr (local.get 4) (i32.const 1)))
          local.get 4 i32.xor i32.add
          local.get 5
          (local.set 5 (i32.add (local.get 0) (local.get 1)))
          local.get 5 i32.xor i32.add
          local.get 6
          (local.set 6 (i32.sub (local.get 6) (i32.const -2147483648)))
          local.get 6 i32.xor i32.add
          local.get 7
          (local.set 7 (i32.add (i32.mul (local.get 0) (local.get 1)) (i32.const 11)))
          local.get 7 i32.xor i32.add
          local.get 5
          (local.set 5 (i32.sub (local.get 1) (i32.const 3)))
          local.get 5 i32.xor i32.add
          local.get 3
          (local.set 3 (i32.const 64))
          local.get 3
          (local.set 3 (i32.load offset=4 (local.get 3)))
          local.get 3 i32.xor i32.xor i32.add
          local.get 0
          (local.set 0 (local.get 8))
          local.get 0 i32.xor i32.add
          local.get 4
          (local.tee 4 (local.get 9))
          i32.xor i32.add)
        (func (export "wide") (param i64) (result i64) (local i64)
          (local.set 1 (i64.const 5))
          local.get 1
          (local.set 1 (i64.rotl (local.get 0) (i64.const 13)))
          local.get 1 i64.xor
          local.get 1
          (local.set 1 (i64.add (local.get 0) (i64.const -7)))
          local.get 1 i64.xor i64.add)
        (func (export "rotations") (param i64) (result i64) (local i64 i64)
          (loop $l
            (local.set 1 (i64.add (local.get 1) (i64.rotr (local.get 0) (i64.const 3))))
            (local.set 2 (i64.xor (local.get 2) (i64.rotl (local.get 0) (i64.const 60))))
            (local.set 0 (i64.sub (local.get 0) (i64.const 1)))
            (br_if $l (i64.ne (local.get 0) (i64.const 0))))
          (i64.add (local.get 1) (local.get 2))))"#;
    let mut inst = Instance::new(wat);
    let (p0, p1) = (0x1234_5678u32, 0x9abc_def0u32);
    let (l8, l9) = (p0.wrapping_add(9), p1.wrapping_sub(3));
    let r3 = p0.rotate_left(5);
    let mut acc = 1 ^ r3;
    acc = acc.wrapping_add(2 ^ 2u32.rotate_right(1));
    acc = acc.wrapping_add(3 ^ p0.wrapping_add(p1));
    acc = acc.wrapping_add(4 ^ 4u32.wrapping_sub(0x8000_0000));
    acc = acc.wrapping_add(5 ^ p0.wrapping_mul(p1).wrapping_add(11));
    acc = acc.wrapping_add(p0.wrapping_add(p1) ^ p1.wrapping_sub(3));
    acc = acc.wrapping_add(r3 ^ 64 ^ 68);
    acc = acc.wrapping_add(p0 ^ l8);
    acc = acc.wrapping_add(2u32.rotate_right(1) ^ l9);
    assert_eq!(inst.call("f", &[i64::from(p0), i64::from(p1)]), [i64::from(acc)]);
    let p = 0x0123_4567_89ab_cdefu64;
    let r = p.rotate_left(13);
    let want = (5 ^ r).wrapping_add(r ^ p.wrapping_sub(7));
    assert_eq!(inst.call("wide", &[p as i64]), [want as i64]);
    let (mut sum, mut xor) = (0u64, 0u64);
    for k in 1..=10u64 {
        sum = sum.wrapping_add(k.rotate_right(3));
        xor ^= k.rotate_left(60);
    }
    assert_eq!(inst.call("rotations", &[10]), [sum.wrapping_add(xor) as i64]);
}

/// `lea` of two register locals into a third, for every pair of the eight
/// general-purpose homes (`r13` as either operand or both, the registers past
/// `r7`), at both widths: `lea_sum`'s own encoding.
#[test]
fn sums_of_register_locals() {
    for wide in [false, true] {
        let t = if wide { "i64" } else { "i32" };
        let mut wat = format!(
            "(module (func (export \"f\") (param {t} {t} {t} {t} {t} {t} {t} {t}) (result {t})\n\
             {t}.const 0\n"
        );
        let mut vals: Vec<u64> =
            (0..8u64).map(|k| 0x1111_1111_1111_1111u64.wrapping_mul(k + 1) ^ k << 61).collect();
        if !wide {
            for v in &mut vals {
                *v &= 0xffff_ffff;
            }
        }
        let args: Vec<i64> = vals.iter().map(|&v| v as i64).collect();
        let mut acc = 0u64;
        for i in 0..8 {
            for j in 0..8 {
                let k = (i + 3 * j + 1) % 8;
                wat.push_str(&format!(
                    "(local.set {k} ({t}.add (local.get {i}) (local.get {j})))\n\
                     local.get {k} {t}.xor {t}.const 31 {t}.mul\n"
                ));
                vals[k] = vals[i].wrapping_add(vals[j]);
                acc = (acc ^ vals[k]).wrapping_mul(31);
                if !wide {
                    vals[k] &= 0xffff_ffff;
                    acc &= 0xffff_ffff;
                }
            }
        }
        wat.push_str("))");
        let mut inst = Instance::new(&wat);
        let got = inst.call("f", &args)[0] as u64;
        let got = if wide { got } else { got & 0xffff_ffff };
        assert_eq!(got, acc, "{t}");
    }
}
