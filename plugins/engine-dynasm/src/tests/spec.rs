//! The float-heavy scripts of the WebAssembly 2.0 spec testsuite through this
//! crate's in-process harness: every module without imports is compiled by the
//! engine and instantiated by [`Instance`]; `assert_return` (NaN results checked
//! as canonical or arithmetic, as the script says), `assert_trap` (in a forked
//! child, the faulting pc looked up in the `CodeMap`), `invoke` and global `get`
//! run. Everything else is counted as skipped with a reason: validation scripts
//! (`assert_invalid`, `assert_malformed`: vm-core's decoder, not this engine),
//! modules with imports or a start function, `register`, exhaustion, and the
//! directives on a module the engine does not compile yet.
//!
//! The testsuite is looked up at `../shared/spec-testsuite/wasm-2.0/` from the
//! workspace root. When it is absent the test prints why and passes, unless `CI`
//! is set.

use std::collections::BTreeMap;
use std::path::PathBuf;

use vm_core::runtime::module::ExportKind;
use vm_core::runtime::{Features, ModuleInfo, TrapCode, Val, ValType};
use wast::core::{NanPattern, V128Pattern, WastArgCore, WastRetCore};
use wast::lexer::Lexer;
use wast::parser::{self, ParseBuffer};
use wast::{QuoteWat, Wast, WastArg, WastDirective, WastExecute, WastInvoke, WastRet};

use super::Instance;
use crate::CompileOptions;
use vm_core::slot::SimdLevel;

/// The scripts this runs.
const FILES: &[&str] = &[
    "f32.wast",
    "f64.wast",
    "f32_cmp.wast",
    "f64_cmp.wast",
    "f32_bitwise.wast",
    "f64_bitwise.wast",
    "conversions.wast",
    "float_exprs.wast",
    "float_misc.wast",
    "float_literals.wast",
    "float_memory.wast",
    "const.wast",
    "local_get.wast",
    "local_set.wast",
    "local_tee.wast",
    "select.wast",
    "traps.wast",
    "endianness.wast",
    "address.wast",
    "fac.wast",
    "int_exprs.wast",
    "i32.wast",
    "i64.wast",
    "int_literals.wast",
    "labels.wast",
    "br.wast",
    "br_if.wast",
    "br_table.wast",
    "block.wast",
    "loop.wast",
    "if.wast",
    "return.wast",
    "nop.wast",
    "load.wast",
    "store.wast",
    "memory.wast",
    "left-to-right.wast",
    "stack.wast",
    "switch.wast",
    "forward.wast",
    "call.wast",
    "func.wast",
    "unwind.wast",
    "align.wast",
    "memory_redundancy.wast",
    "memory_trap.wast",
    "global.wast",
    "names.wast",
];

/// A value's raw bits as the engine carries them.
pub(super) fn raw(v: Val) -> u64 {
    match v {
        Val::I32(x) => u64::from(x as u32),
        Val::I64(x) => x as u64,
        Val::F32(b) => u64::from(b),
        Val::F64(b) => b,
        _ => 0,
    }
}

/// A value's raw bits as the engine's 16-byte argument and result slots carry
/// them.
pub(super) fn raw128(v: Val) -> u128 {
    match v {
        Val::V128(x) => x,
        v => u128::from(raw(v)),
    }
}

/// Counts of one script or of the whole run.
#[derive(Default, Debug, Clone, Copy)]
struct Counts {
    passed: usize,
    failed: usize,
    skipped: usize,
}

/// One script's state: the current module's instance, or why there is none.
struct Runner {
    options: CompileOptions,
    current: Result<Instance, String>,
    counts: Counts,
    failures: Vec<String>,
    /// Skip reasons with how many directives each covered.
    skips: BTreeMap<String, usize>,
}

enum Outcome {
    Pass,
    Fail(String),
    Skip(String),
}

impl Runner {
    fn record(&mut self, line: usize, o: Outcome) {
        match o {
            Outcome::Pass => self.counts.passed += 1,
            Outcome::Fail(why) => {
                self.counts.failed += 1;
                self.failures.push(format!("line {line}: {why}"));
            }
            Outcome::Skip(why) => {
                self.counts.skipped += 1;
                *self.skips.entry(why).or_default() += 1;
            }
        }
    }

    fn define(&mut self, qw: &mut QuoteWat<'_>) {
        self.current = (|| {
            let bytes = qw.encode().map_err(|e| format!("encode: {e}"))?;
            let features =
                if self.options.simd.is_some() { Features::SIMD } else { Features::NONE };
            let module =
                ModuleInfo::decode(&bytes, features).map_err(|e| format!("decode: {e}"))?;
            let imported = spectest_globals(&module)?;
            if module.start.is_some() {
                return Err("module with a start function".to_owned());
            }
            if let Some(op) = needs_runtime(&module)? {
                return Err(format!("needs the runtime ({op}), which this harness lacks"));
            }
            Instance::from_info(module, self.options, None, &imported)
                .map_err(|e| format!("module not compiled: {e}"))
        })();
    }

    fn directive(&mut self, d: WastDirective<'_>) -> Outcome {
        match d {
            WastDirective::Module(mut qw) => {
                self.define(&mut qw);
                match &self.current {
                    Ok(_) => Outcome::Pass,
                    Err(e) => Outcome::Skip(e.clone()),
                }
            }
            WastDirective::AssertInvalid { .. } | WastDirective::AssertMalformed { .. } => {
                Outcome::Skip("validation (vm-core's decoder, not the engine)".into())
            }
            WastDirective::Invoke(inv) => match self.invoke(&inv) {
                Ok(_) => Outcome::Pass,
                Err(skip) => Outcome::Skip(skip),
            },
            WastDirective::AssertReturn { exec, results, .. } => self.assert_return(exec, &results),
            WastDirective::AssertTrap { exec: WastExecute::Invoke(inv), message, .. } => match self
                .invoke_trapping(&inv)
            {
                Ok(Some(code)) if trap_matches(code, message) => Outcome::Pass,
                Ok(Some(code)) => {
                    Outcome::Fail(format!("{}: expected trap `{message}`, got {code:?}", inv.name))
                }
                Ok(None) => {
                    Outcome::Fail(format!("{}: expected trap `{message}`, returned", inv.name))
                }
                Err(skip) => Outcome::Skip(skip),
            },
            WastDirective::AssertTrap { .. } => Outcome::Skip("trap at instantiation".into()),
            WastDirective::Register { .. } => Outcome::Skip("register".into()),
            WastDirective::AssertExhaustion { .. } => Outcome::Skip("exhaustion".into()),
            _ => Outcome::Skip("other directive".into()),
        }
    }

    /// The current instance, the export's function index and arguments, or why the
    /// call cannot run.
    fn prepare(&mut self, inv: &WastInvoke<'_>) -> Result<(&mut Instance, Vec<u128>), String> {
        if inv.module.is_some() {
            return Err("named module".into());
        }
        let inst = self.current.as_mut().map_err(|e| e.clone())?;
        let Some(ExportKind::Func(f)) = inst.module.exports.get(inv.name) else {
            return Err("no such export".into());
        };
        let ty = inst.module.func_type(*f).ok_or("no type")?;
        if ty.params().iter().chain(ty.results()).any(|t| !is_number(*t)) {
            return Err("non-number parameters or results".into());
        }
        let args = inv.args.iter().map(arg).collect::<Result<Vec<_>, _>>()?;
        Ok((inst, args))
    }

    /// Runs an invocation that is expected to return, in this process: its raw
    /// results.
    fn invoke(&mut self, inv: &WastInvoke<'_>) -> Result<Vec<u128>, String> {
        let (inst, args) = self.prepare(inv)?;
        Ok(inst.call128(inv.name, &args))
    }

    /// Runs an invocation that is expected to trap, in a forked child: the trap
    /// code of the site it stopped at (`None`: it returned).
    fn invoke_trapping(&mut self, inv: &WastInvoke<'_>) -> Result<Option<TrapCode>, String> {
        let (inst, args) = self.prepare(inv)?;
        let pc = inst.trap_pc128(inv.name, &args);
        if pc == 0 {
            return Ok(None);
        }
        match inst.code.map().trap_at(pc) {
            Some(vm_core::runtime::native::TrapKind::Wasm(code)) => Ok(Some(code)),
            other => Err(format!("fault at {pc:#x} that is no wasm trap site: {other:?}")),
        }
    }

    fn assert_return(&mut self, exec: WastExecute<'_>, expected: &[WastRet<'_>]) -> Outcome {
        let (got, types): (Vec<u128>, Vec<ValType>) = match exec {
            WastExecute::Invoke(inv) => {
                let got = match self.invoke(&inv) {
                    Ok(v) => v,
                    Err(skip) => return Outcome::Skip(skip),
                };
                let inst = self.current.as_ref().expect("invoked");
                let Some(ExportKind::Func(f)) = inst.module.exports.get(inv.name) else {
                    return Outcome::Skip("no such export".into());
                };
                let ty = inst.module.func_type(*f).expect("typed");
                (got, ty.results().to_vec())
            }
            WastExecute::Get { module: None, global, .. } => {
                let inst = match &self.current {
                    Ok(i) => i,
                    Err(e) => return Outcome::Skip(e.clone()),
                };
                let Some(ExportKind::Global(g)) = inst.module.exports.get(global) else {
                    return Outcome::Skip("no such global".into());
                };
                let ty = inst.module.globals[*g as usize].ty;
                let v = &inst._globals[*g as usize];
                (vec![u128::from(v.lo) | u128::from(v.hi) << 64], vec![ty])
            }
            _ => return Outcome::Skip("other execution".into()),
        };
        if got.len() != expected.len() {
            return Outcome::Fail(format!("{} results, expected {}", got.len(), expected.len()));
        }
        for ((&g, t), e) in got.iter().zip(&types).zip(expected) {
            let WastRet::Core(e) = e else { return Outcome::Skip("component result".into()) };
            match matches(g, *t, e) {
                Ok(true) => {}
                Ok(false) => {
                    return Outcome::Fail(format!("got {g:#x} ({t:?}), expected {e:?}"));
                }
                Err(skip) => return Outcome::Skip(skip),
            }
        }
        Outcome::Pass
    }
}

/// The first reachable operator of `module` that needs what the hand-built context
/// lacks: tables, function references, runtime functions (the harness has null
/// pointers for them, so such a module is skipped rather than run). Code after an
/// unconditional branch up to the end of its block is dead, as the engine sees it.
fn needs_runtime(module: &ModuleInfo) -> Result<Option<String>, String> {
    use wasmparser::Operator as O;
    for body in &module.bodies {
        let bytes = &module.bytes[body.range.clone()];
        let fb = wasmparser::FunctionBody::new(wasmparser::BinaryReader::new(bytes, 0));
        let mut ops = fb.get_operators_reader().map_err(|e| e.to_string())?;
        // Depth of blocks opened in dead code, plus one, while dead.
        let mut dead = 0u32;
        while !ops.eof() {
            let op = ops.read().map_err(|e| e.to_string())?;
            if dead > 0 {
                match op {
                    O::Block { .. } | O::Loop { .. } | O::If { .. } => dead += 1,
                    O::End => dead -= 1,
                    O::Else if dead == 1 => dead = 0,
                    _ => {}
                }
                continue;
            }
            if matches!(op, O::Unreachable | O::Br { .. } | O::BrTable { .. } | O::Return) {
                dead = 1;
                continue;
            }
            if matches!(
                op,
                O::CallIndirect { .. }
                    | O::MemoryGrow { .. }
                    | O::MemoryFill { .. }
                    | O::MemoryCopy { .. }
                    | O::MemoryInit { .. }
                    | O::DataDrop { .. }
                    | O::RefFunc { .. }
                    | O::TableGet { .. }
                    | O::TableSet { .. }
                    | O::TableSize { .. }
                    | O::TableGrow { .. }
                    | O::TableFill { .. }
                    | O::TableCopy { .. }
                    | O::TableInit { .. }
                    | O::ElemDrop { .. }
            ) {
                return Ok(Some(format!("{op:?}")));
            }
        }
    }
    Ok(None)
}

/// The values of the module's imports when all are globals of the reference
/// interpreter's `spectest` module.
fn spectest_globals(module: &ModuleInfo) -> Result<Vec<u64>, String> {
    use vm_core::runtime::module::ImportKind;
    let mut values = Vec::new();
    for i in &module.imports {
        let v = match (i.module.as_str(), i.name.as_str(), i.kind) {
            ("spectest", "global_i32" | "global_i64", ImportKind::Global(_)) => 666,
            ("spectest", "global_f32", ImportKind::Global(_)) => u64::from(666.6f32.to_bits()),
            ("spectest", "global_f64", ImportKind::Global(_)) => 666.6f64.to_bits(),
            _ => return Err("module with imports besides spectest globals".into()),
        };
        values.push(v);
    }
    Ok(values)
}

fn is_number(t: ValType) -> bool {
    matches!(t, ValType::I32 | ValType::I64 | ValType::F32 | ValType::F64 | ValType::V128)
}

fn arg(a: &WastArg<'_>) -> Result<u128, String> {
    match a {
        WastArg::Core(WastArgCore::I32(v)) => Ok(u128::from(*v as u32)),
        WastArg::Core(WastArgCore::I64(v)) => Ok(u128::from(*v as u64)),
        WastArg::Core(WastArgCore::F32(f)) => Ok(u128::from(f.bits)),
        WastArg::Core(WastArgCore::F64(f)) => Ok(u128::from(f.bits)),
        WastArg::Core(WastArgCore::V128(v)) => Ok(u128::from_le_bytes(v.to_le_bytes())),
        _ => Err("non-number argument".into()),
    }
}

fn f32_matches(bits: u32, p: &NanPattern<wast::token::F32>) -> bool {
    match p {
        NanPattern::CanonicalNan => bits & 0x7fff_ffff == 0x7fc0_0000,
        NanPattern::ArithmeticNan => f32::from_bits(bits).is_nan() && bits & 0x0040_0000 != 0,
        NanPattern::Value(v) => v.bits == bits,
    }
}

fn f64_matches(bits: u64, p: &NanPattern<wast::token::F64>) -> bool {
    match p {
        NanPattern::CanonicalNan => bits & 0x7fff_ffff_ffff_ffff == 0x7ff8_0000_0000_0000,
        NanPattern::ArithmeticNan => {
            f64::from_bits(bits).is_nan() && bits & 0x0008_0000_0000_0000 != 0
        }
        NanPattern::Value(v) => v.bits == bits,
    }
}

/// Whether the lanes of v128 result `got` are what `p` expects (float lanes
/// with the spec's NaN patterns).
fn v128_matches(got: u128, p: &V128Pattern) -> bool {
    let lane = |i: usize, bits: usize| (got >> (i * bits)) as u64;
    match p {
        V128Pattern::I8x16(l) => l.iter().enumerate().all(|(i, &x)| lane(i, 8) as i8 == x),
        V128Pattern::I16x8(l) => l.iter().enumerate().all(|(i, &x)| lane(i, 16) as i16 == x),
        V128Pattern::I32x4(l) => l.iter().enumerate().all(|(i, &x)| lane(i, 32) as i32 == x),
        V128Pattern::I64x2(l) => l.iter().enumerate().all(|(i, &x)| lane(i, 64) as i64 == x),
        V128Pattern::F32x4(l) => {
            l.iter().enumerate().all(|(i, x)| f32_matches(lane(i, 32) as u32, x))
        }
        V128Pattern::F64x2(l) => l.iter().enumerate().all(|(i, x)| f64_matches(lane(i, 64), x)),
    }
}

/// Whether raw result `got` of type `t` is what `e` expects.
fn matches(got: u128, t: ValType, e: &WastRetCore<'_>) -> Result<bool, String> {
    Ok(match (t, e) {
        (ValType::I32, WastRetCore::I32(x)) => got as i32 == *x,
        (ValType::I64, WastRetCore::I64(x)) => got as i64 == *x,
        (ValType::F32, WastRetCore::F32(p)) => f32_matches(got as u32, p),
        (ValType::F64, WastRetCore::F64(p)) => f64_matches(got as u64, p),
        (ValType::V128, WastRetCore::V128(p)) => v128_matches(got, p),
        (_, WastRetCore::Either(alts)) => {
            for a in alts {
                if matches(got, t, a)? {
                    return Ok(true);
                }
            }
            false
        }
        _ => return Err("non-number result".into()),
    })
}

/// Whether trap `code` is the one the script's message names.
fn trap_matches(code: TrapCode, expected: &str) -> bool {
    let msg = code.message();
    msg.starts_with(expected) || expected.starts_with(msg)
}

/// Runs one script; its counts, failures and skip reasons.
fn run_script(text: &str, options: CompileOptions) -> Result<Runner, String> {
    let mut lexer = Lexer::new(text);
    lexer.allow_confusing_unicode(true);
    let buf = ParseBuffer::new_with_lexer(lexer).map_err(|e| format!("lex: {e}"))?;
    let wast: Wast<'_> = parser::parse(&buf).map_err(|e| format!("parse: {e}"))?;
    let mut r = Runner {
        options,
        current: Err("no module yet".into()),
        counts: Counts::default(),
        failures: Vec::new(),
        skips: BTreeMap::new(),
    };
    for d in wast.directives {
        let line = d.span().linecol_in(text).0 + 1;
        let o = r.directive(d);
        r.record(line, o);
    }
    Ok(r)
}

/// The testsuite folder, if present.
fn suite() -> Option<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dir = root.join("../shared/spec-testsuite/wasm-2.0");
    dir.is_dir().then_some(dir)
}

#[test]
fn spec_float_scripts() {
    run_scripts(FILES, CompileOptions::default());
}

/// The 58 `simd_*.wast` scripts at one simd level.
fn simd_scripts(level: SimdLevel) {
    let Some(dir) = suite() else {
        return run_scripts(&[], CompileOptions::default());
    };
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .expect("readable testsuite")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with("simd_") && n.ends_with(".wast"))
        .collect();
    files.sort();
    let files: Vec<&str> = files.iter().map(String::as_str).collect();
    println!("{} simd scripts at level {}", files.len(), level.name());
    run_scripts(&files, CompileOptions { simd: Some(level), ..CompileOptions::default() });
}

#[test]
fn spec_simd_scripts_sse41() {
    if let Err(why) = crate::Cpu::host().vec_isa(SimdLevel::Sse41) {
        println!("skipped: {why}");
        return;
    }
    simd_scripts(SimdLevel::Sse41);
}

#[test]
fn spec_simd_scripts_avx2() {
    if let Err(why) = crate::Cpu::host().vec_isa(SimdLevel::Avx2) {
        println!("skipped: {why}");
        return;
    }
    simd_scripts(SimdLevel::Avx2);
}

/// Runs `files` with `options`; fails on any failed directive.
fn run_scripts(files: &[&str], options: CompileOptions) {
    let Some(dir) = suite() else {
        let why = "spec testsuite not found at ../shared/spec-testsuite/wasm-2.0/";
        assert!(std::env::var_os("CI").is_none(), "{why} (CI is set)");
        println!("skipped: {why}");
        return;
    };
    let mut total = Counts::default();
    let mut failures = Vec::new();
    for file in files {
        let path = dir.join(file);
        let Ok(text) = std::fs::read_to_string(&path) else {
            println!("{file}: missing");
            continue;
        };
        let r = match run_script(&text, options) {
            Ok(r) => r,
            Err(e) => {
                failures.push(format!("{file}: {e}"));
                total.failed += 1;
                continue;
            }
        };
        let c = r.counts;
        println!("{file}: {} passed, {} failed, {} skipped", c.passed, c.failed, c.skipped);
        for (why, n) in &r.skips {
            println!("    skipped {n}: {why}");
        }
        total.passed += c.passed;
        total.failed += c.failed;
        total.skipped += c.skipped;
        failures.extend(r.failures.iter().map(|f| format!("{file} {f}")));
    }
    println!("total: {} passed, {} failed, {} skipped", total.passed, total.failed, total.skipped);
    for f in failures.iter().take(50) {
        println!("FAILED {f}");
    }
    assert_eq!(total.failed, 0, "failed directives (first 50 above)");
}
