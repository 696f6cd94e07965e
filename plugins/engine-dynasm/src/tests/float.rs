//! f32 and f64 through the engine. The spec scripts in [`super::spec`] cover the
//! operators' semantics exhaustively; these check where float values live: xmm
//! registers, canonical slots, general-purpose registers in transit, across joins,
//! branches and calls, under register pressure, and the trap sites of the
//! truncations.

use vm_core::runtime::{Features, ModuleInfo, TrapCode};

use super::Instance;
use crate::{CompileOptions, compile_for_cpu};

fn f(x: f32) -> i64 {
    i64::from(x.to_bits())
}

fn d(x: f64) -> i64 {
    x.to_bits() as i64
}

impl Instance {
    fn f32(&mut self, name: &str, args: &[i64]) -> f32 {
        f32::from_bits(self.call(name, args)[0] as u32)
    }

    fn f64(&mut self, name: &str, args: &[i64]) -> f64 {
        f64::from_bits(self.call(name, args)[0] as u64)
    }
}

#[test]
fn float_values_in_every_position() {
    let mut i = Instance::new(
        r#"(module (memory 1)
          (global $g32 (mut f32) (f32.const 1.5))
          (global $g64 (mut f64) (f64.const -2.25))
          (func $pair (param f32 f64) (result f64 f32)
            local.get 1 local.get 0)
          (func (export "call_pair") (param f32 f64) (result f64)
            local.get 0 local.get 1 call $pair f64.promote_f32 f64.sub)
          (func (export "select_xmm") (param f64 f64 i32) (result f64)
            local.get 0 f64.const 1 f64.add local.get 1 f64.const 1 f64.add local.get 2 select)
          (func (export "select_slots") (param f32 f32 i32) (result f32)
            local.get 0 local.get 1
            (block) ;; flushes both to their slots
            local.get 2 select (result f32))
          (func (export "select_mixed") (param f32 i32) (result f32)
            f32.const -7 local.get 0 f32.const 2 f32.mul local.get 1 select)
          (func (export "tee") (param f64) (result f64) (local f64 f32)
            local.get 0 f64.const 3 f64.mul local.tee 1
            local.get 1 f64.add
            f32.const 0.5 local.set 2 local.get 2 f64.promote_f32 f64.add)
          (func (export "globals") (param f32 f64) (result f64)
            global.get $g32 local.get 0 f32.add global.set $g32
            global.get $g64 local.get 1 f64.mul global.set $g64
            global.get $g32 f64.promote_f32 global.get $g64 f64.add)
          (func (export "drop") (param f64) (result f64)
            local.get 0 f64.const 1 f64.add local.get 0 f64.const 2 f64.add drop)
          (func (export "block_params") (param f32 f64 i32) (result f64) (local f64)
            local.get 0 local.get 1
            (block (param f32 f64) (result f32 f64)
              local.get 2 (if (param f32 f64) (result f32 f64)
                (then f64.const 10 f64.add)
                (else f64.neg))
              local.get 2 br_if 0 f64.const 100 f64.add)
            local.set 3 f64.promote_f32 local.get 3 f64.add)
          (func (export "br_table") (param f64 i32) (result f64)
            (block $a (result f64)
              (block $b (result f64)
                f32.const 99 ;; a value between: every branch moves its result
                local.get 0 f64.const 0.25 f64.add
                local.get 1 br_table $a $b $a)
              f64.const 1000 f64.add))
          (func (export "loop_sum") (param i32) (result f64)
            f64.const 0
            (loop (param f64) (result f64)
              local.get 0 f64.convert_i32_u f64.add
              local.get 0 i32.const 1 i32.sub local.tee 0
              br_if 0))
          (func (export "mem") (param f64) (result f64)
            i32.const 8 local.get 0 f64.store
            i32.const 20 local.get 0 f32.demote_f64 f32.store offset=4
            i32.const 8 f64.load i32.const 24 f32.load f64.promote_f32 f64.add)
          (func (export "bits") (param f32) (result i32)
            local.get 0 f32.abs i32.reinterpret_f32 f32.reinterpret_i32 f32.neg
            i32.reinterpret_f32)
          (func (export "const_to_int") (result i64)
            f64.const -1.5 i64.reinterpret_f64)
        )"#,
    );
    assert_eq!(i.f64("call_pair", &[f(1.5), d(10.0)]), 8.5);
    assert_eq!(i.f64("select_xmm", &[d(1.0), d(2.0), 1]), 2.0);
    assert_eq!(i.f64("select_xmm", &[d(1.0), d(2.0), 0]), 3.0);
    assert_eq!(i.f32("select_slots", &[f(1.25), f(-3.5), 7]), 1.25);
    assert_eq!(i.f32("select_slots", &[f(1.25), f(-3.5), 0]), -3.5);
    assert_eq!(i.f32("select_mixed", &[f(4.0), 1]), -7.0);
    assert_eq!(i.f32("select_mixed", &[f(4.0), 0]), 8.0);
    assert_eq!(i.f64("tee", &[d(2.0)]), 12.5);
    assert_eq!(i.f64("globals", &[f(1.0), d(2.0)]), 2.5 - 4.5);
    assert_eq!(i.f64("globals", &[f(1.0), d(2.0)]), 3.5 - 9.0);
    assert_eq!(i.f64("drop", &[d(5.0)]), 6.0);
    assert_eq!(i.f64("block_params", &[f(1.0), d(2.0), 1]), 13.0);
    assert_eq!(i.f64("block_params", &[f(1.0), d(2.0), 0]), 99.0);
    assert_eq!(i.f64("br_table", &[d(1.0), 0]), 1.25);
    assert_eq!(i.f64("br_table", &[d(1.0), 1]), 1001.25);
    assert_eq!(i.f64("br_table", &[d(1.0), 5]), 1.25, "default");
    assert_eq!(i.f64("loop_sum", &[100]), 5050.0);
    assert_eq!(i.f64("mem", &[d(0.75)]), 1.5);
    assert_eq!(i.i32("bits", &[f(2.5)]), (-2.5f32).to_bits() as i32);
    assert_eq!(i.i64("const_to_int", &[]), (-1.5f64).to_bits() as i64);
}

#[test]
fn many_live_floats_spill_and_reload() {
    // 24 f64 values live at once: more than the 15 allocatable xmm registers,
    // with integers live beside them.
    let mut body = String::new();
    for k in 0..24 {
        body.push_str(&format!(
            "local.get 0 f64.const {k} f64.add local.get 1 i64.const {k} i64.add "
        ));
    }
    for _ in 0..24 {
        body.push_str("f64.convert_i64_s f64.add local.get 2 f64.add local.set 2 ");
    }
    let wat = format!(
        r#"(module (func (export "f") (param f64 i64) (result f64) (local f64)
            {body} local.get 2))"#
    );
    // The sum of every (x + k) + (n + k): 24 x + 24 n + 2 * sum(k).
    let mut i = Instance::new(&wat);
    let (x, n) = (0.5f64, 1000i64);
    assert_eq!(i.f64("f", &[d(x), n]), 24.0 * x + 24.0 * n as f64 + 2.0 * 276.0);
}

#[test]
fn floats_survive_calls_and_integer_pressure() {
    // Conversions and truncations need general-purpose temporaries while 13
    // integers hold every allocatable register.
    let mut ints = String::new();
    for k in 1..=13 {
        ints.push_str(&format!("local.get 1 i64.const {k} i64.add "));
    }
    let adds = "i64.add ".repeat(13);
    let wat = format!(
        r#"(module
          (func $half (param f64) (result f64) local.get 0 f64.const 0.5 f64.mul)
          (func (export "f") (param f64 i64) (result i64) (local f64)
            local.get 0 f64.const 1 f64.add
            local.get 0 call $half
            f64.add local.set 2
            {ints}
            local.get 1 f64.convert_i64_u
            local.get 2 f64.add
            i64.trunc_f64_u
            {adds})
          (func (export "g") (param f64 i64) (result i64)
            {ints}
            local.get 1 f32.convert_i64_u i64.trunc_sat_f32_u
            {adds}))"#
    );
    let mut i = Instance::new(&wat);
    let (x, n) = (6.0f64, 40i64);
    let ints_sum: i64 = (1..=13).map(|k| n + k).sum();
    let expect = ints_sum + (x + 1.0 + x / 2.0 + n as f64) as i64;
    assert_eq!(i.i64("f", &[d(x), n]), expect);
    // 2^64 - 2^40 converts exactly; the truncation comes back through the
    // unsigned-above-2^63 path.
    let big = (u64::MAX - (1 << 40) + 1) as i64;
    let wrap = |k: i64| big.wrapping_add(k);
    let ints_sum = (1..=13).map(wrap).fold(0i64, i64::wrapping_add);
    assert_eq!(i.i64("g", &[0, big]), ints_sum.wrapping_add(big));
}

#[test]
fn truncation_traps_are_recorded_trap_sites() {
    let mut i = Instance::new(
        r#"(module (memory 1)
          (func (export "i32_f32_s") (param f32) (result i32) local.get 0 i32.trunc_f32_s)
          (func (export "i64_f64_u") (param f64) (result i64) local.get 0 i64.trunc_f64_u)
          (func (export "i32_f64_u") (param f64) (result i32) local.get 0 i32.trunc_f64_u)
          (func (export "load") (param i32) (result f64) local.get 0 f64.load)
          (func (export "store") (param i32) local.get 0 f32.const 1 f32.store))"#,
    );
    assert_eq!(i.i32("i32_f32_s", &[f(-2147483648.0)]), i32::MIN);
    i.assert_trap("i32_f32_s", &[f(2147483648.0)], TrapCode::IntegerOverflow);
    i.assert_trap("i32_f32_s", &[f(f32::NAN)], TrapCode::BadConversionToInteger);
    i.assert_trap("i32_f32_s", &[f(f32::NEG_INFINITY)], TrapCode::IntegerOverflow);
    assert_eq!(i.i64("i64_f64_u", &[d(18446744073709549568.0)]), -2048);
    assert_eq!(i.i64("i64_f64_u", &[d(-0.99)]), 0);
    i.assert_trap("i64_f64_u", &[d(-1.0)], TrapCode::IntegerOverflow);
    i.assert_trap("i64_f64_u", &[d(18446744073709551616.0)], TrapCode::IntegerOverflow);
    i.assert_trap("i64_f64_u", &[d(-f64::NAN)], TrapCode::BadConversionToInteger);
    assert_eq!(i.i32("i32_f64_u", &[d(4294967295.9)]), -1);
    i.assert_trap("i32_f64_u", &[d(4294967296.0)], TrapCode::IntegerOverflow);
    i.assert_trap("load", &[65529], TrapCode::MemoryOutOfBounds);
    i.assert_trap("store", &[65533], TrapCode::MemoryOutOfBounds);
}

#[test]
fn float_memory_with_guard_pages() {
    let len = 8usize << 30;
    // SAFETY: a fresh private anonymous reservation; nothing else is affected.
    let base = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_NONE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
            -1,
            0,
        )
    };
    assert_ne!(base, libc::MAP_FAILED);
    // SAFETY: the first 64 KiB of our own reservation.
    assert_eq!(unsafe { libc::mprotect(base, 65536, libc::PROT_READ | libc::PROT_WRITE) }, 0);
    let wat = r#"(module (memory 1)
        (func (export "get") (param i32) (result f64) local.get 0 f64.load offset=8)
        (func (export "put") (param i32 f32) local.get 0 local.get 1 f32.store))"#;
    let mut i = Instance::with(
        wat,
        CompileOptions { guard_pages: true, ..CompileOptions::default() },
        Some((base.cast(), 65536)),
    );
    i.call("put", &[16, f(1.0)]);
    // The f32 1.0 (0x3f800000) as the high half of an f64 at 12.
    assert_eq!(i.i64("get", &[4]), 0x3f80_0000 << 32);
    i.assert_trap("get", &[65528], TrapCode::MemoryOutOfBounds);
    i.assert_trap("put", &[65533, f(2.0)], TrapCode::MemoryOutOfBounds);
    drop(i);
    // SAFETY: the reservation is ours and no code uses it any more.
    unsafe { libc::munmap(base, len) };
}

#[test]
fn rounding_without_sse41_is_a_compile_error() {
    let compile = |wat: &str| {
        let module = ModuleInfo::decode(wat.as_bytes(), Features::default()).expect("valid");
        compile_for_cpu(&module, CompileOptions::default(), crate::Cpu::default())
    };
    let err = compile("(module (func (param f64) (result f64) local.get 0 f64.nearest))")
        .expect_err("nearest needs SSE4.1");
    let msg = err.to_string();
    assert!(msg.contains("F64Nearest") && msg.contains("SSE4.1"), "{msg}");
    compile("(module (func (param f64) (result f64) local.get 0 f64.sqrt))")
        .expect("everything else is SSE2");
}

/// A small deterministic generator (xorshift64*), for reproducible inputs.
struct Bits(u64);

impl Bits {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// An f64 worth converting: raw bits (NaNs, infinities, huge and tiny values)
    /// or a value near the integer ranges, with a fraction.
    fn f64(&mut self) -> f64 {
        let r = self.next();
        match r % 4 {
            0 | 1 => f64::from_bits(self.next()),
            2 => (self.next() as i64 >> ((r >> 8) % 64)) as f64 + (r >> 16) as f64 / 65536.0,
            _ => (self.next() >> ((r >> 8) % 64)) as f64 - 0.5,
        }
    }
}

/// Whether `got` is an arithmetic NaN (quiet bit set) when `expected` is a NaN,
/// else the same bits.
fn same_f64(got: f64, expected: f64) -> bool {
    if expected.is_nan() {
        got.is_nan() && got.to_bits() & (1 << 51) != 0
    } else {
        got.to_bits() == expected.to_bits()
    }
}

fn same_f32(got: f32, expected: f32) -> bool {
    if expected.is_nan() {
        got.is_nan() && got.to_bits() & (1 << 22) != 0
    } else {
        got.to_bits() == expected.to_bits()
    }
}

#[test]
fn conversions_and_rounding_match_rust_on_generated_inputs() {
    // Rust's `as` is wasm's trunc_sat and the correctly rounded int-to-float
    // conversion; its rounding functions are wasm's (up to NaN payloads).
    let mut ops = String::new();
    for (name, ty, op) in [
        ("s32_f32", "(param f32) (result i32)", "i32.trunc_sat_f32_s"),
        ("u32_f32", "(param f32) (result i32)", "i32.trunc_sat_f32_u"),
        ("s64_f32", "(param f32) (result i64)", "i64.trunc_sat_f32_s"),
        ("u64_f32", "(param f32) (result i64)", "i64.trunc_sat_f32_u"),
        ("s32_f64", "(param f64) (result i32)", "i32.trunc_sat_f64_s"),
        ("u32_f64", "(param f64) (result i32)", "i32.trunc_sat_f64_u"),
        ("s64_f64", "(param f64) (result i64)", "i64.trunc_sat_f64_s"),
        ("u64_f64", "(param f64) (result i64)", "i64.trunc_sat_f64_u"),
        ("t_s64_f64", "(param f64) (result i64)", "i64.trunc_f64_s"),
        ("t_u64_f64", "(param f64) (result i64)", "i64.trunc_f64_u"),
        ("t_u32_f32", "(param f32) (result i32)", "i32.trunc_f32_u"),
        ("f32_s64", "(param i64) (result f32)", "f32.convert_i64_s"),
        ("f32_u64", "(param i64) (result f32)", "f32.convert_i64_u"),
        ("f64_u64", "(param i64) (result f64)", "f64.convert_i64_u"),
        ("f32_u32", "(param i32) (result f32)", "f32.convert_i32_u"),
        ("f64_s32", "(param i32) (result f64)", "f64.convert_i32_s"),
        ("demote", "(param f64) (result f32)", "f32.demote_f64"),
        ("promote", "(param f32) (result f64)", "f64.promote_f32"),
        ("nearest64", "(param f64) (result f64)", "f64.nearest"),
        ("nearest32", "(param f32) (result f32)", "f32.nearest"),
        ("ceil64", "(param f64) (result f64)", "f64.ceil"),
        ("floor32", "(param f32) (result f32)", "f32.floor"),
        ("trunc64", "(param f64) (result f64)", "f64.trunc"),
    ] {
        ops.push_str(&format!(r#"(func (export "{name}") {ty} local.get 0 {op})"#));
    }
    let mut i = Instance::new(&format!("(module {ops})"));
    let mut g = Bits(0x9e37_79b9_7f4a_7c15);
    for _ in 0..3000 {
        let x = g.f64();
        let y = x as f32;
        let n = g.next() as i64 >> (g.next() % 64);
        assert_eq!(i.i32("s32_f32", &[f(y)]), y as i32, "{y:e}");
        assert_eq!(i.i32("u32_f32", &[f(y)]), y as u32 as i32, "{y:e}");
        assert_eq!(i.i64("s64_f32", &[f(y)]), y as i64, "{y:e}");
        assert_eq!(i.i64("u64_f32", &[f(y)]), y as u64 as i64, "{y:e}");
        assert_eq!(i.i32("s32_f64", &[d(x)]), x as i32, "{x:e}");
        assert_eq!(i.i32("u32_f64", &[d(x)]), x as u32 as i32, "{x:e}");
        assert_eq!(i.i64("s64_f64", &[d(x)]), x as i64, "{x:e}");
        assert_eq!(i.i64("u64_f64", &[d(x)]), x as u64 as i64, "{x:e}");
        // The trapping forms agree wherever they do not trap.
        let t = x.trunc();
        if (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&t) {
            assert_eq!(i.i64("t_s64_f64", &[d(x)]), x as i64, "{x:e}");
        }
        if (0.0..18_446_744_073_709_551_616.0).contains(&t) {
            assert_eq!(i.i64("t_u64_f64", &[d(x)]), x as u64 as i64, "{x:e}");
        }
        let t = f64::from(y.trunc());
        if (0.0..4_294_967_296.0).contains(&t) {
            assert_eq!(i.i32("t_u32_f32", &[f(y)]), y as u32 as i32, "{y:e}");
        }
        assert_eq!(i.f32("f32_s64", &[n]).to_bits(), (n as f32).to_bits(), "{n}");
        assert_eq!(i.f32("f32_u64", &[n]).to_bits(), (n as u64 as f32).to_bits(), "{n}");
        assert_eq!(i.f64("f64_u64", &[n]).to_bits(), (n as u64 as f64).to_bits(), "{n}");
        assert_eq!(i.f32("f32_u32", &[n]).to_bits(), (n as u32 as f32).to_bits(), "{n}");
        assert_eq!(i.f64("f64_s32", &[n]).to_bits(), f64::from(n as i32).to_bits(), "{n}");
        assert!(same_f32(i.f32("demote", &[d(x)]), x as f32), "{x:e}");
        assert!(same_f64(i.f64("promote", &[f(y)]), f64::from(y)), "{y:e}");
        assert!(same_f64(i.f64("nearest64", &[d(x)]), x.round_ties_even()), "{x:e}");
        assert!(same_f32(i.f32("nearest32", &[f(y)]), y.round_ties_even()), "{y:e}");
        assert!(same_f64(i.f64("ceil64", &[d(x)]), x.ceil()), "{x:e}");
        assert!(same_f32(i.f32("floor32", &[f(y)]), y.floor()), "{y:e}");
        assert!(same_f64(i.f64("trunc64", &[d(x)]), x.trunc()), "{x:e}");
    }
}
