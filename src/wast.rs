//! The spec-script runner: runs a `.wast` file against a composition and reports
//! passed and failed assertions with line numbers.
//!
//! Supported: `module` (text, binary, quote, definitions and instances), `register`,
//! `invoke`, `get`, `assert_return` (including `nan:canonical`, `nan:arithmetic`,
//! `ref.null`, `ref.extern`, `ref.func`, `either`), `assert_trap` (calls and
//! modules), `assert_exception` (an exception no handler caught), `assert_exhaustion`, `assert_invalid`, `assert_malformed`,
//! `assert_unlinkable`. The `spectest` module is a plain instance registered in the
//! linker.
//!
//! A composition without a `gc` plugin rejects GC modules ("unsupported: gc"); such a
//! module and the directives that use it are counted as *skipped*, not failed, so a
//! file that mixes GC and non-GC directives reports the rest truthfully.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use vm_core::compose::lifecycle::Running;
use vm_core::runtime::gc::object as gc_object;
use vm_core::runtime::{
    Error, Exception, Features, Instance, InstantiationError, InvokeError, Linker, Module, Trap,
    TrapCode, Val,
};
use vm_core::{Composition, Settings, Vm};
use wast::core::{AbstractHeapType, HeapType, NanPattern, V128Pattern, WastArgCore, WastRetCore};
use wast::lexer::Lexer;
use wast::parser::{self, ParseBuffer};
use wast::{QuoteWat, Wast, WastArg, WastDirective, WastExecute, WastInvoke, WastRet};

/// One failed assertion.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WastFailure {
    /// 1-based line of the directive.
    pub line: usize,
    /// What went wrong.
    pub reason: String,
}

/// The outcome of one `.wast` file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WastReport {
    /// The file.
    pub file: PathBuf,
    /// Directives that passed.
    pub passed: usize,
    /// Directives that failed.
    pub failed: usize,
    /// The failures, in file order.
    pub failures: Vec<WastFailure>,
    /// Directives skipped because they need GC, which the composition lacks.
    pub skipped: usize,
}

impl WastReport {
    fn fail(&mut self, line: usize, reason: impl Into<String>) {
        self.failed += 1;
        self.failures.push(WastFailure { line, reason: reason.into() });
    }
}

/// Marks an error that comes from a module skipped for needing GC.
const NEEDS_GC: &str = "(its module needs gc)";

/// Whether a directive failed only because it needs GC.
fn needs_gc(reason: &str) -> bool {
    reason.contains("unsupported: gc") || reason.contains(NEEDS_GC)
}

/// The `spectest` module of the reference interpreter.
const SPECTEST: &str = r#"(module
  (global (export "global_i32") i32 (i32.const 666))
  (global (export "global_i64") i64 (i64.const 666))
  (global (export "global_f32") f32 (f32.const 666.6))
  (global (export "global_f64") f64 (f64.const 666.6))
  (table (export "table") 10 20 funcref)
  (memory (export "memory") 1 2)
  (func (export "print"))
  (func (export "print_i32") (param i32))
  (func (export "print_i64") (param i64))
  (func (export "print_f32") (param f32))
  (func (export "print_f64") (param f64))
  (func (export "print_i32_f32") (param i32 f32))
  (func (export "print_f64_f64") (param f64 f64))
)"#;

/// Whether `path` is a script of the WebAssembly 2.0 suite (in a folder named
/// `wasm-2.0`): it runs with the proposals of 2.0 only (simd128 included), as its
/// assertions expect, e.g., a second memory to be invalid.
fn is_wasm2_script(path: &Path) -> bool {
    path.parent().and_then(Path::file_name).is_some_and(|d| d == "wasm-2.0")
}

/// Runs every directive of the `.wast` file at `path` on a fresh VM of composition
/// `C` (default settings).
pub fn run_wast_file<C: Composition>(path: impl AsRef<Path>) -> WastReport {
    run_wast_file_with::<C>(path, &Settings::new())
}

/// Runs every directive of the `.wast` file at `path` on a fresh VM of composition
/// `C` configured by `settings`.
pub fn run_wast_file_with<C: Composition>(
    path: impl AsRef<Path>,
    settings: &Settings,
) -> WastReport {
    run_file::<C>(path.as_ref(), settings, false)
}

/// As [`run_wast_file`], with every module that compiles compiled ahead of time:
/// written into an artifact (`Vm::precompile`), loaded back from it
/// (`Vm::load_artifact`) and the assertions run against the loaded code. For
/// engines with ahead-of-time compilation (native code).
pub fn run_wast_file_aot<C: Composition>(path: impl AsRef<Path>) -> WastReport {
    run_wast_file_aot_with::<C>(path, &Settings::new())
}

/// [`run_wast_file_aot`] on a VM configured by `settings`.
pub fn run_wast_file_aot_with<C: Composition>(
    path: impl AsRef<Path>,
    settings: &Settings,
) -> WastReport {
    run_file::<C>(path.as_ref(), settings, true)
}

fn run_file<C: Composition>(path: &Path, settings: &Settings, aot: bool) -> WastReport {
    let mut report = WastReport { file: path.to_owned(), ..WastReport::default() };
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            report.fail(0, format!("cannot read: {e}"));
            return report;
        }
    };
    let vm = Vm::<C>::new(settings)
        .map_err(|e| e.to_string())
        .and_then(|vm| vm.init().map_err(|e| e.to_string()))
        .and_then(|vm| vm.start().map_err(|e| e.to_string()));
    match vm {
        Ok(mut vm) => {
            if is_wasm2_script(path) {
                vm.restrict_features(Features::SIMD);
            }
            run_text(&mut vm, &text, &mut report, aot)
        }
        Err(e) => report.fail(0, format!("cannot start the VM: {e}")),
    }
    report
}

/// Runs the directives of `text` on `vm`, adding to `report`.
pub fn run_wast_text<C: Composition>(vm: &mut Vm<C, Running>, text: &str, report: &mut WastReport) {
    run_text(vm, text, report, false);
}

fn run_text<C: Composition>(
    vm: &mut Vm<C, Running>,
    text: &str,
    report: &mut WastReport,
    aot: bool,
) {
    let mut lexer = Lexer::new(text);
    lexer.allow_confusing_unicode(true);
    let buf = match ParseBuffer::new_with_lexer(lexer) {
        Ok(b) => b,
        Err(e) => return report.fail(0, format!("lex error: {e}")),
    };
    let wast: Wast<'_> = match parser::parse(&buf) {
        Ok(w) => w,
        Err(e) => return report.fail(0, format!("parse error: {e}")),
    };
    let mut r = Runner {
        vm,
        linker: Linker::default(),
        named: HashMap::new(),
        defs: HashMap::new(),
        current: None,
        current_needs_gc: false,
        need_gc: std::collections::HashSet::new(),
        aot,
    };
    if let Err(e) = r.spectest() {
        return report.fail(0, format!("spectest: {e}"));
    }
    for d in wast.directives {
        let line = d.span().linecol_in(text).0 + 1;
        match r.directive(d) {
            Ok(()) => report.passed += 1,
            Err(reason) if needs_gc(&reason) => report.skipped += 1,
            Err(reason) => report.fail(line, reason),
        }
    }
}

struct Runner<'v, C: Composition> {
    vm: &'v mut Vm<C, Running>,
    linker: Linker<C>,
    named: HashMap<String, Instance>,
    defs: HashMap<String, Module<C>>,
    current: Option<Instance>,
    /// The current module was skipped for needing GC.
    current_needs_gc: bool,
    /// Names of modules, definitions and instances skipped for needing GC.
    need_gc: std::collections::HashSet<String>,
    /// Modules that compile go through an artifact (see [`run_wast_file_aot`]).
    aot: bool,
}

fn trap_matches(t: &Trap, expected: &str) -> bool {
    let msg = t.code.message();
    msg.starts_with(expected)
        || expected.starts_with(msg)
        || (expected.starts_with("undefined element") && t.code == TrapCode::TableOutOfBounds)
        || (expected.starts_with("uninitialized element") && t.code == TrapCode::IndirectCallToNull)
        || (expected.contains("out of bounds") && msg.contains("out of bounds"))
}

impl<C: Composition> Runner<'_, C> {
    fn spectest(&mut self) -> Result<(), String> {
        // The table64 the reference interpreter adds, when the VM accepts it.
        let text = if self.vm.features().contains(Features::MEMORY64) {
            SPECTEST.replacen(
                "(table (export \"table\") 10 20 funcref)",
                "(table (export \"table\") 10 20 funcref)\n  (table (export \"table64\") i64 10 20 funcref)",
                1,
            )
        } else {
            SPECTEST.to_owned()
        };
        let m = self.vm.compile(text).map_err(|e| e.to_string())?;
        let i = self.vm.instantiate(&m, &mut self.linker).map_err(|e| e.to_string())?;
        self.linker.register("spectest", i);
        Ok(())
    }

    fn compile(&mut self, qw: &mut QuoteWat<'_>) -> Result<Module<C>, String> {
        let bytes = qw.encode().map_err(|e| format!("encode: {e}"))?;
        if self.aot {
            let artifact = self.vm.precompile(&bytes).map_err(|e| e.to_string())?;
            return self
                .vm
                .load_artifact(&artifact)
                .map_err(|e| format!("loading its artifact: {e}"));
        }
        self.vm.compile(bytes).map_err(|e| e.to_string())
    }

    fn instance(&self, id: Option<wast::token::Id<'_>>) -> Result<Instance, String> {
        match id {
            Some(id) if self.need_gc.contains(id.name()) => {
                Err(format!("module ${} {NEEDS_GC}", id.name()))
            }
            Some(id) => self
                .named
                .get(id.name())
                .copied()
                .ok_or_else(|| format!("unknown module ${}", id.name())),
            None if self.current.is_none() && self.current_needs_gc => {
                Err(format!("current module {NEEDS_GC}"))
            }
            None => self.current.ok_or_else(|| "no current module".to_owned()),
        }
    }

    /// Records that module `name` (and, when `current`, the current module) was
    /// skipped when `error` says it needs GC.
    fn skipped_if_gc(&mut self, name: Option<String>, current: bool, error: &str) {
        if needs_gc(error) {
            if current {
                self.current = None;
                self.current_needs_gc = true;
            }
            if let Some(n) = name {
                self.need_gc.insert(n);
            }
        }
    }

    fn define(&mut self, mut qw: QuoteWat<'_>) -> Result<(), String> {
        let name = qw.name().map(|n| n.name().to_owned());
        let m = match self.compile(&mut qw) {
            Ok(m) => m,
            Err(e) => {
                self.skipped_if_gc(name, true, &e);
                return Err(e);
            }
        };
        let i = self.vm.instantiate(&m, &mut self.linker).map_err(|e| e.to_string())?;
        self.current = Some(i);
        self.current_needs_gc = false;
        if let Some(n) = name {
            self.named.insert(n, i);
        }
        Ok(())
    }

    fn invoke(&mut self, inv: &WastInvoke<'_>) -> Result<Result<Vec<Val>, Trap>, String> {
        match self.invoke_exn(inv)? {
            Ok(v) => Ok(v),
            Err(e) => Err(format!("uncaught exception: {e}")),
        }
    }

    /// Invokes `inv`; an uncaught exception is the outer `Ok(Err(..))`.
    #[allow(clippy::type_complexity)]
    fn invoke_exn(
        &mut self,
        inv: &WastInvoke<'_>,
    ) -> Result<Result<Result<Vec<Val>, Trap>, Exception>, String> {
        let inst = self.instance(inv.module)?;
        let store = self.linker.store();
        let args = inv.args.iter().map(|a| arg(a, store)).collect::<Result<Vec<_>, _>>()?;
        match self.vm.invoke(&mut self.linker, inst, inv.name, &args) {
            Ok(v) => Ok(Ok(Ok(v))),
            Err(InvokeError::Trap(t)) => Ok(Ok(Err(t))),
            Err(InvokeError::Exception(e)) => Ok(Err(e)),
            Err(e) => Err(e.to_string()),
        }
    }

    fn execute(&mut self, exec: WastExecute<'_>) -> Result<Result<Vec<Val>, Trap>, String> {
        match exec {
            WastExecute::Invoke(inv) => self.invoke(&inv),
            WastExecute::Get { module, global, .. } => {
                let inst = self.instance(module)?;
                self.vm
                    .global(&self.linker, inst, global)
                    .map(|v| Ok(vec![v]))
                    .ok_or_else(|| format!("no exported global `{global}`"))
            }
            WastExecute::Wat(w) => {
                let mut qw = QuoteWat::Wat(w);
                let m = self.compile(&mut qw)?;
                match self.vm.instantiate(&m, &mut self.linker) {
                    Ok(i) => {
                        self.current = Some(i);
                        Ok(Ok(Vec::new()))
                    }
                    Err(InstantiationError::Trap(t)) => Ok(Err(t)),
                    Err(e) => Err(e.to_string()),
                }
            }
        }
    }

    fn directive(&mut self, d: WastDirective<'_>) -> Result<(), String> {
        match d {
            WastDirective::Module(qw) => self.define(qw),
            WastDirective::ModuleDefinition(mut qw) => {
                let name = qw.name().map(|n| n.name().to_owned());
                let m = match self.compile(&mut qw) {
                    Ok(m) => m,
                    Err(e) => {
                        self.skipped_if_gc(name, false, &e);
                        return Err(e);
                    }
                };
                if let Some(n) = name {
                    self.defs.insert(n, m);
                }
                Ok(())
            }
            WastDirective::ModuleInstance { instance, module, .. } => {
                if let Some(def) = module.filter(|m| self.need_gc.contains(m.name())) {
                    let e = format!("definition ${} {NEEDS_GC}", def.name());
                    self.skipped_if_gc(instance.map(|n| n.name().to_owned()), true, &e);
                    return Err(e);
                }
                let m = module
                    .and_then(|m| self.defs.get(m.name()))
                    .cloned()
                    .ok_or("unknown module definition")?;
                let i = self.vm.instantiate(&m, &mut self.linker).map_err(|e| e.to_string())?;
                self.current = Some(i);
                self.current_needs_gc = false;
                if let Some(n) = instance {
                    self.named.insert(n.name().to_owned(), i);
                }
                Ok(())
            }
            WastDirective::Register { name, module, .. } => {
                let i = self.instance(module)?;
                self.linker.register(name, i);
                Ok(())
            }
            WastDirective::Invoke(inv) => match self.invoke(&inv)? {
                Ok(_) => Ok(()),
                Err(t) => Err(format!("invoke `{}` trapped: {t}", inv.name)),
            },
            WastDirective::AssertReturn { exec, results, .. } => {
                let got = match self.execute(exec)? {
                    Ok(v) => v,
                    Err(t) => return Err(format!("expected results, got trap: {t}")),
                };
                if got.len() != results.len() {
                    return Err(format!("expected {} results, got {got:?}", results.len()));
                }
                let store = self.linker.store();
                let any = |h: u32| store.any_ref_raw(h);
                for (g, e) in got.iter().zip(&results) {
                    if !ret_matches(g, e, &any)? {
                        return Err(format!("result mismatch: got {got:?}, expected {results:?}"));
                    }
                }
                Ok(())
            }
            WastDirective::AssertTrap { exec, message, .. } => match self.execute(exec)? {
                Ok(v) => Err(format!("expected trap `{message}`, got {v:?}")),
                Err(t) if trap_matches(&t, message) => Ok(()),
                Err(t) => Err(format!("expected trap `{message}`, got `{t}`")),
            },
            WastDirective::AssertException { exec: WastExecute::Invoke(inv), .. } => {
                match self.invoke_exn(&inv)? {
                    Err(_) => Ok(()),
                    Ok(Ok(v)) => Err(format!("expected an exception, got {v:?}")),
                    Ok(Err(t)) => Err(format!("expected an exception, got trap `{t}`")),
                }
            }
            WastDirective::AssertException { exec, .. } => match self.execute(exec)? {
                Ok(v) => Err(format!("expected an exception, got {v:?}")),
                Err(t) if matches!(t.code, TrapCode::Exception(_)) => Ok(()),
                Err(t) => Err(format!("expected an exception, got trap `{t}`")),
            },
            WastDirective::AssertExhaustion { call, message, .. } => match self.invoke(&call)? {
                Ok(v) => Err(format!("expected exhaustion `{message}`, got {v:?}")),
                Err(t) if t.code == TrapCode::StackOverflow => Ok(()),
                Err(t) => Err(format!("expected exhaustion `{message}`, got `{t}`")),
            },
            WastDirective::AssertInvalid { mut module, message, .. }
            | WastDirective::AssertMalformed { mut module, message, .. } => match module.encode() {
                Err(_) => Ok(()),
                Ok(bytes) => match self.vm.compile(bytes) {
                    Ok(_) => Err(format!("expected error `{message}`, module compiled")),
                    Err(Error::Decode(_) | Error::Compile(_)) => Ok(()),
                    Err(e) => Err(format!("expected decode error `{message}`, got {e}")),
                },
            },
            WastDirective::AssertUnlinkable { module, message, .. } => {
                let mut qw = QuoteWat::Wat(module);
                let m = self.compile(&mut qw)?;
                match self.vm.instantiate(&m, &mut self.linker) {
                    Ok(_) => Err(format!("expected unlinkable `{message}`, instantiated")),
                    Err(InstantiationError::Link(_)) => Ok(()),
                    Err(e) => Err(format!("expected link error `{message}`, got {e}")),
                }
            }
            other => Err(format!("unsupported directive {:?}", std::mem::discriminant(&other))),
        }
    }
}

fn arg<C: Composition>(a: &WastArg<'_>, store: &vm_core::runtime::Store<C>) -> Result<Val, String> {
    let WastArg::Core(a) = a else {
        return Err("component values are not supported".into());
    };
    Ok(match a {
        WastArgCore::I32(v) => Val::I32(*v),
        WastArgCore::I64(v) => Val::I64(*v),
        WastArgCore::F32(f) => Val::F32(f.bits),
        WastArgCore::F64(f) => Val::F64(f.bits),
        WastArgCore::RefNull(HeapType::Abstract { ty: AbstractHeapType::Extern, .. }) => {
            Val::ExternRef(None)
        }
        WastArgCore::RefNull(HeapType::Abstract { ty: AbstractHeapType::Exn, .. }) => {
            Val::ExnRef(None)
        }
        WastArgCore::RefNull(HeapType::Abstract {
            ty:
                AbstractHeapType::Any
                | AbstractHeapType::Eq
                | AbstractHeapType::I31
                | AbstractHeapType::Struct
                | AbstractHeapType::Array
                | AbstractHeapType::None,
            ..
        }) => Val::AnyRef(None),
        WastArgCore::RefNull(_) => Val::FuncRef(None),
        // An internalized host reference: `any.convert_extern` of externref `n`.
        WastArgCore::RefHost(n) => store.any_ref(gc_object::any_convert_extern(u64::from(*n) + 1)),
        WastArgCore::RefExtern(n) => Val::ExternRef(Some(*n)),
        WastArgCore::V128(v) => Val::V128(u128::from_le_bytes(v.to_le_bytes())),
    })
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

/// Whether `bits` matches a `v128` pattern lane by lane (little-endian lanes).
fn v128_matches(bits: u128, p: &V128Pattern) -> bool {
    let b = bits.to_le_bytes();
    let lane = |i: usize, n: usize| -> u64 {
        let mut x = [0u8; 8];
        x[..n].copy_from_slice(&b[i * n..i * n + n]);
        u64::from_le_bytes(x)
    };
    match p {
        V128Pattern::I8x16(l) => {
            l.iter().enumerate().all(|(i, v)| lane(i, 1) == u64::from(*v as u8))
        }
        V128Pattern::I16x8(l) => {
            l.iter().enumerate().all(|(i, v)| lane(i, 2) == u64::from(*v as u16))
        }
        V128Pattern::I32x4(l) => {
            l.iter().enumerate().all(|(i, v)| lane(i, 4) == u64::from(*v as u32))
        }
        V128Pattern::I64x2(l) => l.iter().enumerate().all(|(i, v)| lane(i, 8) == *v as u64),
        V128Pattern::F32x4(l) => {
            l.iter().enumerate().all(|(i, p)| f32_matches(lane(i, 4) as u32, p))
        }
        V128Pattern::F64x2(l) => l.iter().enumerate().all(|(i, p)| f64_matches(lane(i, 8), p)),
    }
}

/// The reference a host handle of an anyref holds (see `Store::any_ref_raw`).
type AnyRaw<'a> = dyn Fn(u32) -> Option<u64> + 'a;

fn ret_matches(got: &Val, expected: &WastRet<'_>, any: &AnyRaw<'_>) -> Result<bool, String> {
    let WastRet::Core(e) = expected else {
        return Err("component values are not supported".into());
    };
    core_matches(got, e, any)
}

/// The kind of a non-null anyref: `i31`, `struct`, `array` or a host reference.
fn any_kind(raw: u64) -> WastAny {
    if gc_object::is_i31(raw) {
        return WastAny::I31;
    }
    match gc_object::as_object(raw) {
        // SAFETY: a non-null, non-i31 object reference held by a host handle is live
        // (handles are roots of the store's collections).
        Some(obj) => match unsafe { gc_object::type_of(obj) }.top_kind() {
            vm_core::runtime::types::HeapType::Array => WastAny::Array,
            _ => WastAny::Struct,
        },
        None => WastAny::Host((gc_object::extern_convert_any(raw) - 1) as u32),
    }
}

#[derive(PartialEq, Eq)]
enum WastAny {
    I31,
    Struct,
    Array,
    Host(u32),
}

fn core_matches(got: &Val, e: &WastRetCore<'_>, any: &AnyRaw<'_>) -> Result<bool, String> {
    let kind = |h: &u32| any(*h).map(any_kind);
    Ok(match (e, got) {
        (WastRetCore::RefNull(_), Val::AnyRef(None)) => true,
        (WastRetCore::RefAny, Val::AnyRef(Some(_))) => true,
        (WastRetCore::RefEq, Val::AnyRef(Some(h))) => {
            matches!(kind(h), Some(WastAny::I31 | WastAny::Struct | WastAny::Array))
        }
        (WastRetCore::RefI31, Val::AnyRef(Some(h))) => kind(h) == Some(WastAny::I31),
        (WastRetCore::RefStruct, Val::AnyRef(Some(h))) => kind(h) == Some(WastAny::Struct),
        (WastRetCore::RefArray, Val::AnyRef(Some(h))) => kind(h) == Some(WastAny::Array),
        (WastRetCore::RefHost(n), Val::AnyRef(Some(h))) => kind(h) == Some(WastAny::Host(*n)),
        (WastRetCore::I32(x), Val::I32(y)) => x == y,
        (WastRetCore::I64(x), Val::I64(y)) => x == y,
        (WastRetCore::F32(p), Val::F32(b)) => f32_matches(*b, p),
        (WastRetCore::F64(p), Val::F64(b)) => f64_matches(*b, p),
        (
            WastRetCore::RefNull(_),
            Val::FuncRef(None) | Val::ExternRef(None) | Val::ExnRef(None),
        ) => true,
        (WastRetCore::RefExtern(None), Val::ExternRef(Some(_))) => true,
        (WastRetCore::RefExtern(Some(n)), Val::ExternRef(Some(m))) => n == m,
        (WastRetCore::RefFunc(_), Val::FuncRef(Some(_))) => true,
        (WastRetCore::Either(alts), g) => {
            for a in alts {
                if core_matches(g, a, any)? {
                    return Ok(true);
                }
            }
            false
        }
        (WastRetCore::V128(p), Val::V128(v)) => v128_matches(*v, p),
        _ => false,
    })
}
