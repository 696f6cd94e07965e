//! v128 values in every position (spills under xmm pressure, locals next to
//! scalars, parameters and results of calls and of the entry trampoline, globals,
//! `select`, blocks, loops, branches, `br_table`), at both encodings; and how the
//! simd level is chosen.

use vm_core::runtime::simd::{Lanes, Portable};
use vm_core::runtime::{CompileError, Features, ModuleInfo, TrapCode};
use vm_core::slot::SimdLevel;

use super::Instance;
use crate::{CompileOptions, Cpu, compile_for_cpu, compile_module};

/// The levels this CPU can run (SSE4.1 and AVX2 when present).
fn levels() -> Vec<SimdLevel> {
    let cpu = Cpu::host();
    let levels: Vec<SimdLevel> = [SimdLevel::Sse41, SimdLevel::Avx2]
        .into_iter()
        .filter(|&l| match cpu.vec_isa(l) {
            Ok(_) => true,
            Err(why) => {
                println!("level {} skipped: {why}", l.name());
                false
            }
        })
        .collect();
    levels
}

fn simd(level: SimdLevel) -> CompileOptions {
    CompileOptions { simd: Some(level), ..CompileOptions::default() }
}

fn instance(wat: &str, level: SimdLevel) -> Instance {
    let features = Features::SIMD | Features::RELAXED_SIMD;
    let module = ModuleInfo::decode(wat.as_bytes(), features).expect("valid module");
    Instance::from_info(module, simd(level), None, &[]).expect("compiles")
}

/// Four i32 lanes as a v128.
fn i32x4(l: [u32; 4]) -> u128 {
    l.iter().enumerate().fold(0, |v, (i, &x)| v | u128::from(x) << (32 * i))
}

#[test]
fn v128_values_spill_under_xmm_pressure() {
    // 20 live v128 values (more than the 15 allocatable xmm registers), then
    // summed: the deepest are spilled to their 16-byte slots and reloaded.
    let mut body = String::new();
    for k in 0..20 {
        body += &format!("local.get 0 i32.const {k} i32x4.splat i32x4.add\n");
    }
    for _ in 0..19 {
        body += "i32x4.add\n";
    }
    let wat = format!(
        r#"(module (func (export "f") (param v128) (result v128)
              {body}))"#
    );
    for level in levels() {
        let mut i = instance(&wat, level);
        let x = i32x4([1, 2, 3, 4]);
        // 20 * x + (0 + 1 + ... + 19) in every lane.
        let want = i32x4([20 + 190, 40 + 190, 60 + 190, 80 + 190]);
        assert_eq!(i.call128("f", &[x]), vec![want], "level {}", level.name());
    }
}

#[test]
fn v128_locals_params_and_results_next_to_scalars() {
    let wat = r#"(module
      (func $mix (param i32 v128 f64 v128) (result v128 i64 v128)
        (local i64 v128 f32 v128)
        local.get 1 local.set 5
        local.get 3 local.set 7
        f32.const 1.5 local.set 6
        i64.const 7 local.set 4
        local.get 5 local.get 7 i32x4.sub
        local.get 4 local.get 0 i64.extend_i32_u i64.add
        local.get 2 f64x2.splat local.get 2 f64x2.splat f64x2.add)
      (func (export "call") (param i32 v128 f64 v128) (result v128 i64 v128)
        local.get 0 local.get 1 local.get 2 local.get 3 call $mix)
      (func (export "below") (param i32 v128 f64 v128) (result v128 i32 v128 i64 v128)
        ;; a v128 and a scalar below the call's area survive it
        local.get 1 i32.const 9
        local.get 0 local.get 1 local.get 2 local.get 3 call $mix))"#;
    for level in levels() {
        let mut i = instance(wat, level);
        let a = i32x4([10, 20, 30, 40]);
        let b = i32x4([1, 2, 3, 4]);
        let r = i.call128("below", &[5, a, u128::from(0.5f64.to_bits()), b]);
        assert_eq!(r[..2], [a, 9]);
        assert_eq!(r[2], i32x4([9, 18, 27, 36]), "level {}", level.name());
        let r = i.call128("call", &[5, a, u128::from(0.5f64.to_bits()), b]);
        assert_eq!(r[0], i32x4([9, 18, 27, 36]), "level {}", level.name());
        assert_eq!(r[1], 12);
        let want = u128::from(1.0f64.to_bits()) | u128::from(1.0f64.to_bits()) << 64;
        assert_eq!(r[2], want);
    }
}

#[test]
fn v128_globals_select_blocks_and_branches() {
    let wat = r#"(module
      (global $g (mut v128) (v128.const i32x4 1 2 3 4))
      (global $c v128 (v128.const i64x2 -1 5))
      (func (export "bump") (param v128) (result v128)
        global.get $g local.get 0 i32x4.add global.set $g global.get $g)
      (func (export "const") (result v128) global.get $c)
      (func (export "select") (param v128 v128 i32) (result v128)
        local.get 0 local.get 1 local.get 2 select)
      (func (export "typed_select") (param v128 v128 i32) (result v128)
        local.get 0 local.get 1 local.get 2 select (result v128))
      (func (export "blocks") (param v128 i32) (result v128 i32)
        (block (result v128)
          ;; a v128 and an i32 below the carried value: the branches move it
          v128.const i64x2 -1 -1
          i32.const 7
          local.get 0 i32.const 1 i32x4.splat i32x4.add
          local.get 1 br_if 0
          i32.const 10 i32x4.splat i32x4.add
          br 0)
        local.get 1)
      (func (export "loop") (param v128 i32) (result v128)
        local.get 0
        (loop (param v128) (result v128)
          i32.const 3 i32x4.splat i32x4.mul
          local.get 1 i32.const 1 i32.sub local.tee 1
          br_if 0))
      (func (export "table") (param v128 i32) (result v128)
        (block (result v128)
          (block (result v128)
            (block (result v128)
              ;; a value below the carried one: every target's branch moves it
              i64.const 5
              local.get 0 local.get 1
              br_table 0 1 2)
            i32.const 1 i32x4.splat i32x4.add br 1)
          i32.const 2 i32x4.splat i32x4.add)
        i32.const 1000 i32x4.splat i32x4.add))"#;
    for level in levels() {
        let name = level.name();
        let mut i = instance(wat, level);
        let one = i32x4([1, 1, 1, 1]);
        assert_eq!(i.call128("bump", &[one]), vec![i32x4([2, 3, 4, 5])], "{name}");
        assert_eq!(i.call128("bump", &[one]), vec![i32x4([3, 4, 5, 6])], "{name}");
        assert_eq!(i.call128("const", &[]), vec![u128::from(u64::MAX) | 5 << 64], "{name}");
        let (a, b) = (i32x4([1, 2, 3, 4]), i32x4([5, 6, 7, 8]));
        for f in ["select", "typed_select"] {
            assert_eq!(i.call128(f, &[a, b, 1]), vec![a], "{f} {name}");
            assert_eq!(i.call128(f, &[a, b, 0]), vec![b], "{f} {name}");
        }
        assert_eq!(i.call128("blocks", &[a, 1]), vec![i32x4([2, 3, 4, 5]), 1], "{name}");
        assert_eq!(i.call128("blocks", &[a, 0]), vec![i32x4([12, 13, 14, 15]), 0], "{name}");
        assert_eq!(i.call128("loop", &[a, 2]), vec![i32x4([9, 18, 27, 36])], "{name}");
        let mut t = |k| i.call128("table", &[a, k])[0];
        assert_eq!(t(0), i32x4([1002, 1003, 1004, 1005]), "{name}");
        assert_eq!(t(1), i32x4([1003, 1004, 1005, 1006]), "{name}");
        assert_eq!(t(2), i32x4([1001, 1002, 1003, 1004]), "{name}");
        assert_eq!(t(7), i32x4([1001, 1002, 1003, 1004]), "{name}");
    }
}

#[test]
fn v128_memory_accesses_check_bounds() {
    let wat = r#"(module (memory 1)
      (func (export "load") (param i32) (result v128) local.get 0 v128.load offset=8)
      (func (export "store") (param i32 v128) local.get 0 local.get 1 v128.store)
      (func (export "lane") (param i32) (result v128)
        local.get 0 v128.const i64x2 0 0 v128.load32_lane 3))"#;
    for level in levels() {
        let mut i = instance(wat, level);
        let v = i32x4([0xdead_beef, 1, 2, 3]);
        assert!(i.call128("store", &[100, v]).is_empty());
        assert_eq!(i.call128("load", &[92]), vec![v]);
        assert_eq!(i.call128("lane", &[100]), vec![u128::from(0xdead_beef_u32) << 96]);
        // The last 16 bytes load; one byte further traps.
        assert_eq!(i.call128("load", &[65536 - 24]).len(), 1);
        i.assert_trap("load", &[65536 - 23], TrapCode::MemoryOutOfBounds);
        i.assert_trap("lane", &[65536 - 3], TrapCode::MemoryOutOfBounds);
    }
}

#[test]
fn simd_levels_and_cpu_features() {
    let wat = r#"(module (func (export "f") (param v128) (result v128)
        local.get 0 local.get 0 i8x16.add))"#;
    let module = ModuleInfo::decode(wat.as_bytes(), Features::SIMD).unwrap();
    let full = Cpu { sse41: true, sse42: true, ssse3: true, avx2: true, bmi2: true };
    // Scalar compositions get the SSE4.1 code (results are identical) when the
    // CPU has it.
    assert!(compile_for_cpu(&module, simd(SimdLevel::Scalar), full).is_ok());
    // A level the CPU lacks is a compile error naming what to compose instead, for
    // modules that use v128 only.
    let no_avx = Cpu { avx2: false, ..full };
    let err = compile_for_cpu(&module, simd(SimdLevel::Avx2), no_avx).unwrap_err();
    assert!(matches!(err, CompileError::Body { .. }), "{err}");
    assert!(err.to_string().contains("simd-sse41"), "{err}");
    let err = compile_for_cpu(&module, simd(SimdLevel::Sse41), Cpu::default()).unwrap_err();
    assert!(err.to_string().contains("needs SSE4.1"), "{err}");
    let scalar = ModuleInfo::decode(b"(module (func))", Features::default()).unwrap();
    assert!(compile_for_cpu(&scalar, simd(SimdLevel::Avx2), Cpu::default()).is_ok());
    // i64x2 ordering comparisons need SSE4.2's pcmpgtq.
    let wat = r#"(module (func (param v128 v128) (result v128)
        local.get 0 local.get 1 i64x2.gt_s))"#;
    let module = ModuleInfo::decode(wat.as_bytes(), Features::SIMD).unwrap();
    let err =
        compile_for_cpu(&module, simd(SimdLevel::Sse41), Cpu { sse42: false, ..full }).unwrap_err();
    assert!(err.to_string().contains("SSE4.2"), "{err}");
    // Relaxed SIMD is accepted only when asked for.
    let wat = r#"(module (func (param v128 v128) (result v128)
        local.get 0 local.get 1 i8x16.relaxed_swizzle))"#;
    let err = ModuleInfo::decode(wat.as_bytes(), Features::SIMD).unwrap_err();
    assert!(err.to_string().starts_with("unsupported: relaxed-simd"), "{err}");
    let module =
        ModuleInfo::decode(wat.as_bytes(), Features::SIMD | Features::RELAXED_SIMD).unwrap();
    assert!(compile_module(&module, simd(SimdLevel::Sse41)).is_ok());
}

#[test]
fn v128_accesses_with_guard_pages_fault_at_the_access() {
    // An 8 GiB reservation, first 64 KiB accessible, as a guard-page `virt`
    // plugin gives memory 0.
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
      (func (export "load") (param i32) (result v128) local.get 0 v128.load)
      (func (export "splat") (param i32) (result v128) local.get 0 v128.load16_splat)
      (func (export "extend") (param i32) (result v128) local.get 0 v128.load8x8_s)
      (func (export "store_lane") (param i32 v128)
        local.get 0 local.get 1 v128.store64_lane 1))"#;
    for level in levels() {
        let module = ModuleInfo::decode(wat.as_bytes(), Features::SIMD).expect("valid module");
        let options = CompileOptions { guard_pages: true, ..simd(level) };
        let mut i = Instance::from_info(module, options, Some((base.cast(), 65536)), &[])
            .expect("compiles");
        let v = i32x4([1, 2, 0xffff_8001, 4]);
        assert!(i.call128("store_lane", &[100, v]).is_empty());
        assert_eq!(i.call128("load", &[100]), vec![i32x4([0xffff_8001, 4, 0, 0])]);
        assert_eq!(i.call128("splat", &[100]), vec![i32x4([0x8001_8001; 4])]);
        assert_eq!(i.call128("extend", &[100]), vec![i32x4([0xff80_0001, 0xffff_ffff, 4, 0])]);
        i.assert_trap("load", &[65536 - 15], TrapCode::MemoryOutOfBounds);
        i.assert_trap("splat", &[-1], TrapCode::MemoryOutOfBounds);
        i.assert_trap("extend", &[65536 - 7], TrapCode::MemoryOutOfBounds);
        i.assert_trap("store_lane", &[65536 - 7, 0], TrapCode::MemoryOutOfBounds);
    }
    // SAFETY: the reservation is ours and no code uses it any more.
    unsafe { libc::munmap(base, len) };
}

/// Every lane operation of `vm_core::for_each_lanes_op!` (all but loads, stores,
/// constants and `shuffle`), as `(wat operator, result kind, shape)`, with a call
/// into vm-core's portable definition.
macro_rules! lanes_ops {
    (
        unary { $($u:ident $um:ident $ut:ident;)* }
        binary { $($b:ident $bm:ident $bt:ident;)* }
        shift { $($s:ident $sm:ident $st:ident;)* }
        test { $($t:ident $tm:ident $tt:ident;)* }
        $($rest:tt)*
    ) => {
        /// The operations: name (the method's), result lane kind, shape, and the
        /// portable result for inputs `(a, b)` (`b`'s low 32 bits are the count of a
        /// shift). The portable definitions need no CPU feature, so calling them is
        /// sound anywhere (the `unsafe` is for overrides).
        fn lanes_ops() -> Vec<(&'static str, &'static str, Shape, fn(u128, u128) -> u128)> {
            vec![
                $((stringify!($um), stringify!($ut), Shape::Unary,
                   (|a, _| {
                       // SAFETY: the portable definitions need no CPU feature.
                       unsafe { <Portable as Lanes>::$um(a) }
                   }) as fn(u128, u128) -> u128),)*
                $((stringify!($bm), stringify!($bt), Shape::Binary,
                   (|a, b| {
                       // SAFETY: the portable definitions need no CPU feature.
                       unsafe { <Portable as Lanes>::$bm(a, b) }
                   }) as fn(u128, u128) -> u128),)*
                $((stringify!($sm), stringify!($st), Shape::Shift,
                   (|a, b| {
                       // SAFETY: the portable definitions need no CPU feature.
                       unsafe { <Portable as Lanes>::$sm(a, b as u32) }
                   }) as fn(u128, u128) -> u128),)*
                $((stringify!($tm), stringify!($tt), Shape::Test,
                   (|a, _| {
                       // SAFETY: the portable definitions need no CPU feature.
                       u128::from(unsafe { <Portable as Lanes>::$tm(a) })
                   }) as fn(u128, u128) -> u128),)*
            ]
        }
    };
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    Unary,
    Binary,
    Shift,
    Test,
}

vm_core::for_each_lanes_op!(lanes_ops);

#[test]
fn every_lane_operation_matches_vm_core_on_edge_inputs() {
    use vm_core::runtime::simd::{same_result, sample_inputs};
    let ops = lanes_ops();
    // One function per operation (shifts: by a variable count and by constants).
    const COUNTS: [u32; 8] = [0, 1, 7, 8, 15, 33, 63, 100];
    let mut wat = String::from("(module\n");
    for &(m, _, shape, _) in &ops {
        let op = m.replacen('_', ".", 1);
        let (params, result) = match shape {
            Shape::Unary => ("v128", "v128"),
            Shape::Binary => ("v128 v128", "v128"),
            Shape::Shift => ("v128 i32", "v128"),
            Shape::Test => ("v128", "i32"),
        };
        let args = if params.contains(' ') { "local.get 0 local.get 1" } else { "local.get 0" };
        wat += &format!("(func (export \"{m}\") (param {params}) (result {result}) {args} {op})\n");
        if shape == Shape::Shift {
            for n in COUNTS {
                wat += &format!(
                    "(func (export \"{m}_{n}\") (param v128) (result v128) \
                     local.get 0 i32.const {n} {op})\n"
                );
            }
        }
    }
    wat += ")";
    let inputs = sample_inputs(96);
    for level in levels() {
        let mut inst = instance(&wat, level);
        let mut checked = 0usize;
        for &(m, kind, shape, portable) in &ops {
            for (k, &a) in inputs.iter().enumerate() {
                let b = inputs[(k * 7 + 3) % inputs.len()];
                let (got, want) = match shape {
                    Shape::Unary | Shape::Test => (inst.call128(m, &[a])[0], portable(a, 0)),
                    Shape::Binary => (inst.call128(m, &[a, b])[0], portable(a, b)),
                    Shape::Shift => {
                        let n = (b as u32) % 200;
                        (inst.call128(m, &[a, u128::from(n)])[0], portable(a, u128::from(n)))
                    }
                };
                assert!(
                    same_result(kind, got, want),
                    "{m}({a:#x}, {b:#x}) at {}: {got:#x}, vm-core: {want:#x}",
                    level.name()
                );
                checked += 1;
                if shape == Shape::Shift && k == 0 {
                    for n in COUNTS {
                        let got = inst.call128(&format!("{m}_{n}"), &[a])[0];
                        let want = portable(a, u128::from(n));
                        assert_eq!(got, want, "{m} by {n} at {}", level.name());
                    }
                }
            }
        }
        println!("{}: {checked} results checked against vm-core", level.name());
    }
}
