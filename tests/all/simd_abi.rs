//! v128 values across every boundary an engine lowers: parameters and results of
//! direct, indirect and host calls (and the entry from the host), globals, locals,
//! blocks and loops with v128 parameters, `select` and multi-value returns; on every
//! engine compiled into this build with its `simd` plugin. And the fuel definition
//! (`vm_core::runtime::limits`): a simd operator costs one unit like any other.

use vm::runtime::{Caller, HostFuncDef, HostModuleDef, Linker, RunContext, Trap, Val, ValType};
use vm::slot::HostModule;
use vm::wast::{WastReport, run_wast_text};
use vm::{Plugin, PluginError, Settings, Vm, plugin};

/// `simd_env.mix(v, n) -> (v xor splat_i32x4(n), n + 1)`.
fn mix(_: &mut Caller<'_>, args: &[Val], results: &mut [Val]) -> Result<(), Trap> {
    let (Val::V128(v), Val::I32(n)) = (args[0], args[1]) else {
        return Err(Trap::host("mix takes a v128 and an i32"));
    };
    let splat = (0..4).fold(0u128, |acc, i| acc | (u128::from(n as u32) << (32 * i)));
    results[0] = Val::V128(v ^ splat);
    results[1] = Val::I32(n.wrapping_add(1));
    Ok(())
}

static SIMD_ENV: HostModuleDef = HostModuleDef {
    module: "simd_env",
    functions: &[HostFuncDef {
        name: "mix",
        params: &[ValType::V128, ValType::I32],
        results: &[ValType::V128, ValType::I32],
        call: mix,
    }],
    new_state: |_, _| Ok(Box::new(())),
};

/// Serves `simd_env.mix` (test fixture).
#[plugin(id = "fx-simd-env", slot = host)]
pub struct SimdEnv;

impl Plugin for SimdEnv {
    type Config = vm::config::NoConfig;
    fn new(_: Self::Config) -> Result<Self, PluginError> {
        Ok(Self)
    }
}

impl HostModule for SimdEnv {
    const MODULE: &'static HostModuleDef = &SIMD_ENV;
}

#[cfg(feature = "engine-cranelift")]
vm::compose! {
    /// Cranelift with the build's simd plugin and the fixture.
    pub struct CraneliftSimd {
        engine: vm::vm_engine_cranelift::Cranelift,
        virt: vm::vm_virt_host::HostVirt,
        simd: {
            #[cfg(feature = "simd-scalar")] vm::vm_simd_scalar::SimdScalar,
            #[cfg(feature = "simd-sse41")] vm::vm_simd_sse41::SimdSse41,
            #[cfg(feature = "simd-avx2")] vm::vm_simd_avx2::SimdAvx2,
        },
        hosts: [SimdEnv],
    }
}

#[cfg(feature = "engine-interp")]
vm::compose! {
    /// The interpreter with the build's simd plugin and the fixture.
    pub struct InterpSimd {
        engine: vm::vm_engine_interp::Interp,
        virt: vm::vm_virt_host::HostVirt,
        simd: {
            #[cfg(feature = "simd-scalar")] vm::vm_simd_scalar::SimdScalar,
            #[cfg(feature = "simd-sse41")] vm::vm_simd_sse41::SimdSse41,
            #[cfg(feature = "simd-avx2")] vm::vm_simd_avx2::SimdAvx2,
        },
        hosts: [SimdEnv],
    }
}

#[cfg(feature = "engine-dynasm")]
vm::compose! {
    /// The single-pass dynasm JIT with the build's simd plugin and the fixture.
    pub struct DynasmSimd {
        engine: vm::vm_engine_dynasm::Dynasm,
        virt: vm::vm_virt_host::HostVirt,
        simd: {
            #[cfg(feature = "simd-scalar")] vm::vm_simd_scalar::SimdScalar,
            #[cfg(feature = "simd-sse41")] vm::vm_simd_sse41::SimdSse41,
            #[cfg(feature = "simd-avx2")] vm::vm_simd_avx2::SimdAvx2,
        },
        hosts: [SimdEnv],
    }
}

const SCRIPT: &str = r#"
(module
  (import "simd_env" "mix" (func $mix (param v128 i32) (result v128 i32)))
  (type $vv (func (param v128 i32) (result v128 i32)))
  (table 3 funcref)
  (elem (i32.const 0) $add $dup $mix)
  (global $g (mut v128) (v128.const i32x4 1 2 3 4))
  (func $add (type $vv) (local.get 0) (i32x4.splat (local.get 1)) (i32x4.add) (local.get 1))
  (func $dup (type $vv) (local.get 0) (local.get 0) (f32x4.add) (i32.const 7))
  (func (export "host") (param v128 i32) (result v128 i32)
    (call $mix (f32x4.abs (local.get 0)) (local.get 1)))
  (func (export "ind") (param v128 i32 i32) (result v128 i32)
    (call_indirect (type $vv) (local.get 0) (local.get 1) (local.get 2)))
  (func (export "glob") (param v128) (result v128)
    (global.get $g)
    (global.set $g (i16x8.add (local.get 0) (global.get $g)))
    (global.get $g)
    (i8x16.sub))
  (func (export "sel") (param v128 v128 i32) (result v128)
    (select (f64x2.sqrt (local.get 0)) (i64x2.neg (local.get 1)) (local.get 2)))
  (func (export "loop") (param i32) (result v128 f32)
    (local $v v128)
    (block (result v128 f32)
      (local.get $v)
      (loop $l (param v128) (result v128)
        (i32x4.add (v128.const i32x4 1 1 1 1))
        (local.tee $v)
        (br_if $l (i32.lt_u (i32x4.extract_lane 0 (local.get $v)) (local.get 0))))
      (f32.const 1.5)))
  (func (export "swap") (param v128 v128) (result v128 v128)
    (local.get 1) (local.get 0))
)
(assert_return (invoke "host" (v128.const f32x4 -1 2 -3 4) (i32.const 0x80000000))
  (v128.const f32x4 -1 -2 -3 -4) (i32.const 0x80000001))
(assert_return (invoke "ind" (v128.const i32x4 1 2 3 4) (i32.const 10) (i32.const 0))
  (v128.const i32x4 11 12 13 14) (i32.const 10))
(assert_return (invoke "ind" (v128.const f32x4 1 2 3 4) (i32.const 10) (i32.const 1))
  (v128.const f32x4 2 4 6 8) (i32.const 7))
(assert_return (invoke "ind" (v128.const i32x4 0 1 2 3) (i32.const 1) (i32.const 2))
  (v128.const i32x4 1 0 3 2) (i32.const 2))
(assert_trap (invoke "ind" (v128.const i32x4 0 0 0 0) (i32.const 0) (i32.const 3))
  "undefined element")
(assert_return (invoke "glob" (v128.const i16x8 1 1 1 1 1 1 1 1))
  (v128.const i16x8 255 255 255 255 255 255 255 255))
(assert_return (invoke "sel" (v128.const f64x2 4 9) (v128.const i64x2 1 2) (i32.const 1))
  (v128.const f64x2 2 3))
(assert_return (invoke "sel" (v128.const f64x2 4 9) (v128.const i64x2 1 2) (i32.const 0))
  (v128.const i64x2 -1 -2))
(assert_return (invoke "loop" (i32.const 5)) (v128.const i32x4 5 5 5 5) (f32.const 1.5))
(assert_return (invoke "swap" (v128.const i32x4 1 2 3 4) (v128.const i32x4 5 6 7 8))
  (v128.const i32x4 5 6 7 8) (v128.const i32x4 1 2 3 4))
"#;

fn run<C: vm::Composition>(settings: &Settings) -> WastReport {
    let mut report = WastReport::default();
    let vm = Vm::<C>::new(settings).expect("configured");
    let mut vm = vm.init().and_then(Vm::start).expect("started");
    run_wast_text(&mut vm, SCRIPT, &mut report);
    report
}

#[test]
fn v128_crosses_calls_globals_blocks_and_the_host_boundary_everywhere() {
    let mut reports: Vec<(&str, WastReport)> = Vec::new();
    #[cfg(feature = "engine-cranelift")]
    reports.push(("engine-cranelift", run::<CraneliftSimd>(&Settings::new())));
    #[cfg(feature = "engine-interp")]
    reports.push(("engine-interp", run::<InterpSimd>(&crate::engines::interp_settings())));
    #[cfg(feature = "engine-dynasm")]
    reports.push(("engine-dynasm", run::<DynasmSimd>(&Settings::new())));
    for (engine, r) in reports {
        assert!(
            r.failures.is_empty() && r.passed > 10,
            "{engine}: {} passed, {:?}",
            r.passed,
            r.failures
        );
    }
}

/// Runs: entry [loop] = 1; loop header, 11 operators up to `br_if` per iteration;
/// after `br_if` [end] = 1; after the loop [local.get, i32x4.extract_lane, end] = 3.
const FUEL: &str = r#"(module
  (func (export "f") (param $n i32) (result i32) (local $v v128)
    (loop $l
      (local.set $v (i32x4.add (local.get $v) (i32x4.splat (local.get $n))))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $l (local.get $n)))
    (i32x4.extract_lane 0 (local.get $v))))"#;

fn fuel<C: vm::Composition>(mut settings: Settings) -> (Vec<Val>, Option<u64>) {
    settings.merge_flag("engine.fuel=1000000").expect("the engine has fuel");
    let vm = Vm::<C>::new(&settings).expect("configured");
    let mut vm = vm.init().and_then(Vm::start).expect("started");
    let module = vm.compile(FUEL).expect("compiles");
    let mut linker = Linker::<C>::new(RunContext::default());
    let inst = vm.instantiate(&module, &mut linker).expect("instantiates");
    let r = vm.invoke(&mut linker, inst, "f", &[Val::I32(3)]).expect("runs");
    (r, vm.fuel_consumed(&linker))
}

#[test]
fn a_simd_operator_costs_one_fuel_unit_everywhere() {
    type Run = fn() -> (Vec<Val>, Option<u64>);
    let runs: &[(&str, Run)] = &[
        #[cfg(feature = "engine-cranelift")]
        ("engine-cranelift", || fuel::<CraneliftSimd>(Settings::new())),
        #[cfg(feature = "engine-interp")]
        ("engine-interp", || fuel::<InterpSimd>(crate::engines::interp_settings())),
        #[cfg(feature = "engine-dynasm")]
        ("engine-dynasm", || fuel::<DynasmSimd>(Settings::new())),
    ];
    for (engine, run) in runs {
        let (r, consumed) = run();
        assert_eq!(r, [Val::I32(6)], "{engine}");
        assert_eq!(consumed, Some(1 + 11 * 3 + 1 + 3), "{engine}");
    }
}
