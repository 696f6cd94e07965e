//! Decoded and validated modules: [`ModuleInfo`] is the engine-independent description
//! an engine compiles.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

use wasmparser::{
    ElementItems, ElementKind, ExternalKind, KnownCustom, Name, Parser, Payload, TypeRef,
    Validator, WasmFeatures,
};

use super::error::{CompileError, DecodeError};
use super::types::{ExternType, FuncType, GlobalType, MemoryType, PreciseRef, RefType, TableType};
use super::{Val, ValType};

/// A set of proposals beyond WebAssembly 2.0 (simd128 counts as one: it needs a
/// `simd` plugin). What a composition accepts is decided by its plugins, see
/// [`crate::compose::features_of`]; a module that uses a proposal outside the set is
/// rejected with "unsupported: <proposal>".
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Features(u32);

impl Features {
    /// WebAssembly 2.0 without simd128.
    pub const NONE: Features = Features(0);
    /// simd128 (needs a `simd` plugin).
    pub const SIMD: Features = Features(1 << 0);
    /// Relaxed SIMD (needs a `simd` plugin).
    pub const RELAXED_SIMD: Features = Features(1 << 1);
    /// Extended constant expressions (`i32.add` and friends in initializers).
    pub const EXTENDED_CONST: Features = Features(1 << 2);
    /// Tail calls (`return_call`, `return_call_indirect`, `return_call_ref`).
    pub const TAIL_CALL: Features = Features(1 << 3);
    /// Exception handling (`tag`, `throw`, `throw_ref`, `try_table`, `exnref`).
    pub const EXCEPTIONS: Features = Features(1 << 4);
    /// Typed function references (`call_ref`, `(ref null? $t)`, `br_on_null`, ...).
    pub const FUNCTION_REFERENCES: Features = Features(1 << 5);
    /// 64-bit memories and tables.
    pub const MEMORY64: Features = Features(1 << 6);
    /// More than one memory per module.
    pub const MULTI_MEMORY: Features = Features(1 << 7);
    /// Garbage collection (needs a `gc` plugin; implies function references).
    pub const GC: Features = Features(1 << 8);
    /// Every proposal above.
    pub const ALL: Features = Features((1 << 9) - 1);

    /// Each proposal with the name "unsupported" errors and `vm info` use.
    pub const NAMES: &[(Features, &str)] = &[
        (Features::SIMD, "simd"),
        (Features::RELAXED_SIMD, "relaxed-simd"),
        (Features::EXTENDED_CONST, "extended-const"),
        (Features::TAIL_CALL, "tail-call"),
        (Features::EXCEPTIONS, "exceptions"),
        (Features::FUNCTION_REFERENCES, "function-references"),
        (Features::MEMORY64, "memory64"),
        (Features::MULTI_MEMORY, "multi-memory"),
        (Features::GC, "gc"),
    ];

    /// Both sets.
    #[must_use]
    pub const fn union(self, other: Features) -> Features {
        Features(self.0 | other.0)
    }

    /// What both sets have.
    #[must_use]
    pub const fn intersection(self, other: Features) -> Features {
        Features(self.0 & other.0)
    }

    /// `self` without `other`.
    #[must_use]
    pub const fn difference(self, other: Features) -> Features {
        Features(self.0 & !other.0)
    }

    /// Whether every proposal of `other` is in `self`.
    pub const fn contains(self, other: Features) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The names of the proposals in the set, in [`Features::NAMES`] order.
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        Self::NAMES.iter().filter(move |(f, _)| self.contains(*f)).map(|&(_, n)| n)
    }

    fn wasmparser(self) -> WasmFeatures {
        let mut f = WasmFeatures::WASM2.difference(WasmFeatures::SIMD);
        for &(ours, theirs) in &[
            (Features::SIMD, WasmFeatures::SIMD),
            (Features::RELAXED_SIMD, WasmFeatures::RELAXED_SIMD),
            (Features::EXTENDED_CONST, WasmFeatures::EXTENDED_CONST),
            (Features::TAIL_CALL, WasmFeatures::TAIL_CALL),
            (Features::EXCEPTIONS, WasmFeatures::EXCEPTIONS),
            (Features::FUNCTION_REFERENCES, WasmFeatures::FUNCTION_REFERENCES),
            (Features::MEMORY64, WasmFeatures::MEMORY64),
            (Features::MULTI_MEMORY, WasmFeatures::MULTI_MEMORY),
            (Features::GC, WasmFeatures::GC.union(WasmFeatures::FUNCTION_REFERENCES)),
        ] {
            if self.contains(ours) {
                f |= theirs;
            }
        }
        f
    }
}

impl std::ops::BitOr for Features {
    type Output = Features;
    fn bitor(self, rhs: Features) -> Features {
        self.union(rhs)
    }
}

impl std::fmt::Debug for Features {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.names()).finish()
    }
}

/// Proposals named in "unsupported: <proposal>" errors, in the order they are tried.
const PROPOSALS: &[(WasmFeatures, &str)] = &[
    (WasmFeatures::SIMD, "simd"),
    (WasmFeatures::RELAXED_SIMD, "relaxed-simd"),
    (WasmFeatures::GC, "gc"),
    (WasmFeatures::FUNCTION_REFERENCES, "function-references"),
    (WasmFeatures::TAIL_CALL, "tail-call"),
    (WasmFeatures::EXCEPTIONS, "exceptions"),
    (WasmFeatures::LEGACY_EXCEPTIONS, "legacy-exceptions"),
    (WasmFeatures::MEMORY64, "memory64"),
    (WasmFeatures::MULTI_MEMORY, "multi-memory"),
    (WasmFeatures::THREADS, "threads"),
    (WasmFeatures::SHARED_EVERYTHING_THREADS, "shared-everything-threads"),
    (WasmFeatures::EXTENDED_CONST, "extended-const"),
    (WasmFeatures::CUSTOM_PAGE_SIZES, "custom-page-sizes"),
    (WasmFeatures::WIDE_ARITHMETIC, "wide-arithmetic"),
    (WasmFeatures::STACK_SWITCHING, "stack-switching"),
    (WasmFeatures::MEMORY_CONTROL, "memory-control"),
    (WasmFeatures::COMPACT_IMPORTS, "compact-imports"),
];

/// One operation of a constant expression.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum ConstOp {
    /// Push a constant.
    Const(Val),
    /// Push the value of global `n` (module index space).
    GlobalGet(u32),
    /// Push a reference to function `n` (module index space).
    RefFunc(u32),
    /// `i32.add` (extended-const).
    I32Add,
    /// `i32.sub` (extended-const).
    I32Sub,
    /// `i32.mul` (extended-const).
    I32Mul,
    /// `i64.add` (extended-const).
    I64Add,
    /// `i64.sub` (extended-const).
    I64Sub,
    /// `i64.mul` (extended-const).
    I64Mul,
    /// `ref.i31` (GC).
    RefI31,
    /// `any.convert_extern` (GC).
    AnyConvertExtern,
    /// `extern.convert_any` (GC).
    ExternConvertAny,
    /// `struct.new` of the type with this canonical id (GC).
    StructNew(u32),
    /// `struct.new_default` (GC).
    StructNewDefault(u32),
    /// `array.new` (GC).
    ArrayNew(u32),
    /// `array.new_default` (GC).
    ArrayNewDefault(u32),
    /// `array.new_fixed` of this many elements (GC).
    ArrayNewFixed(u32, u32),
}

impl ConstOp {
    /// Whether this operation belongs to the GC proposal (evaluated by
    /// [`ConstExpr::eval_with`]'s `gc`).
    pub const fn is_gc(&self) -> bool {
        matches!(
            self,
            ConstOp::RefI31
                | ConstOp::AnyConvertExtern
                | ConstOp::ExternConvertAny
                | ConstOp::StructNew(_)
                | ConstOp::StructNewDefault(_)
                | ConstOp::ArrayNew(_)
                | ConstOp::ArrayNewDefault(_)
                | ConstOp::ArrayNewFixed(..)
        )
    }
}

/// A constant expression (global initializers, segment offsets and items).
#[derive(Clone, Debug, PartialEq)]
pub struct ConstExpr {
    /// The operations, in order; the result is the single value left.
    pub ops: Box<[ConstOp]>,
}

impl ConstExpr {
    /// Decodes the validated constant expression `expr` by its opcodes. Reading it
    /// as `wasmparser::Operator`s would instantiate the decoder of every operator
    /// (about 30 KiB of code) for the dozen that a constant expression may hold.
    fn parse(expr: &wasmparser::ConstExpr<'_>, ids: &[u32]) -> Result<Self, DecodeError> {
        let err = |e: wasmparser::BinaryReaderError| DecodeError::from_parser(&e);
        let mut ops = Vec::new();
        let mut reader = expr.get_binary_reader();
        while !reader.eof() {
            let offset = reader.original_position();
            let id = |t: u32| {
                ids.get(t as usize).copied().ok_or_else(|| DecodeError::unsupported("gc", offset))
            };
            ops.push(match reader.read_u8().map_err(err)? {
                0x41 => ConstOp::Const(Val::I32(reader.read_var_i32().map_err(err)?)),
                0x42 => ConstOp::Const(Val::I64(reader.read_var_i64().map_err(err)?)),
                0x43 => ConstOp::Const(Val::F32(reader.read_f32().map_err(err)?.bits())),
                0x44 => ConstOp::Const(Val::F64(reader.read_f64().map_err(err)?.bits())),
                0xfd if reader.read_var_u32().map_err(err)? == 12 => {
                    let bytes = reader.read_bytes(16).map_err(err)?;
                    let mut v = [0; 16];
                    v.copy_from_slice(bytes);
                    ConstOp::Const(Val::V128(u128::from_le_bytes(v)))
                }
                0xd0 => {
                    let hty = reader.read::<wasmparser::HeapType>().map_err(err)?;
                    let r = wasmparser::RefType::new(true, hty)
                        .ok_or_else(|| DecodeError::unsupported("gc", offset))?;
                    ConstOp::Const(Val::default_for(ValType::from_ref_type(r, ids, offset)?))
                }
                0xd2 => ConstOp::RefFunc(reader.read_var_u32().map_err(err)?),
                0x23 => ConstOp::GlobalGet(reader.read_var_u32().map_err(err)?),
                0x6a => ConstOp::I32Add,
                0x6b => ConstOp::I32Sub,
                0x6c => ConstOp::I32Mul,
                0x7c => ConstOp::I64Add,
                0x7d => ConstOp::I64Sub,
                0x7e => ConstOp::I64Mul,
                0x0b => break,
                // The GC proposal's constant instructions.
                0xfb => match reader.read_var_u32().map_err(err)? {
                    0x00 => ConstOp::StructNew(id(reader.read_var_u32().map_err(err)?)?),
                    0x01 => ConstOp::StructNewDefault(id(reader.read_var_u32().map_err(err)?)?),
                    0x06 => ConstOp::ArrayNew(id(reader.read_var_u32().map_err(err)?)?),
                    0x07 => ConstOp::ArrayNewDefault(id(reader.read_var_u32().map_err(err)?)?),
                    0x08 => {
                        let t = id(reader.read_var_u32().map_err(err)?)?;
                        ConstOp::ArrayNewFixed(t, reader.read_var_u32().map_err(err)?)
                    }
                    0x1a => ConstOp::AnyConvertExtern,
                    0x1b => ConstOp::ExternConvertAny,
                    0x1c => ConstOp::RefI31,
                    _ => return Err(DecodeError::unsupported("gc", offset)),
                },
                _ => return Err(DecodeError::unsupported("gc", offset)),
            });
        }
        Ok(Self { ops: ops.into() })
    }

    /// Evaluates the expression. `global` reads a global of the module's index space;
    /// `func` makes a function reference.
    /// An expression with GC operations evaluates them to a null reference: use
    /// [`ConstExpr::eval_with`] where they may occur (global, table and element
    /// initializers).
    pub fn eval(&self, global: impl Fn(u32) -> Val, func: impl Fn(u32) -> Val) -> Val {
        self.eval_with(global, func, |_, _| Ok(Val::AnyRef(None))).unwrap_or(Val::I32(0))
    }

    /// Evaluates the expression; `gc` evaluates a GC operation ([`ConstOp::is_gc`]),
    /// popping its operands from the stack it is handed and returning its result.
    ///
    /// # Errors
    /// What `gc` returns (an allocation beyond the GC heap's limit).
    pub fn eval_with(
        &self,
        global: impl Fn(u32) -> Val,
        func: impl Fn(u32) -> Val,
        mut gc: impl FnMut(ConstOp, &mut Vec<Val>) -> Result<Val, super::TrapCode>,
    ) -> Result<Val, super::TrapCode> {
        let mut stack: Vec<Val> = Vec::with_capacity(2);
        for op in self.ops.iter() {
            let v = match *op {
                ConstOp::Const(v) => v,
                ConstOp::GlobalGet(g) => global(g),
                ConstOp::RefFunc(f) => func(f),
                op if op.is_gc() => gc(op, &mut stack)?,
                bin => {
                    let (b, a) = (stack.pop(), stack.pop());
                    match (bin, a, b) {
                        (ConstOp::I32Add, Some(Val::I32(a)), Some(Val::I32(b))) => {
                            Val::I32(a.wrapping_add(b))
                        }
                        (ConstOp::I32Sub, Some(Val::I32(a)), Some(Val::I32(b))) => {
                            Val::I32(a.wrapping_sub(b))
                        }
                        (ConstOp::I32Mul, Some(Val::I32(a)), Some(Val::I32(b))) => {
                            Val::I32(a.wrapping_mul(b))
                        }
                        (ConstOp::I64Add, Some(Val::I64(a)), Some(Val::I64(b))) => {
                            Val::I64(a.wrapping_add(b))
                        }
                        (ConstOp::I64Sub, Some(Val::I64(a)), Some(Val::I64(b))) => {
                            Val::I64(a.wrapping_sub(b))
                        }
                        (ConstOp::I64Mul, Some(Val::I64(a)), Some(Val::I64(b))) => {
                            Val::I64(a.wrapping_mul(b))
                        }
                        // Validation guarantees well-typed expressions.
                        _ => Val::I32(0),
                    }
                }
            };
            stack.push(v);
        }
        Ok(stack.pop().unwrap_or(Val::I32(0)))
    }
}

/// An import of a module.
#[derive(Clone, Debug, PartialEq)]
pub struct Import {
    /// Import module name.
    pub module: String,
    /// Import field name.
    pub name: String,
    /// What is imported.
    pub kind: ImportKind,
}

/// What an import is.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ImportKind {
    /// A function of this type index.
    Func(u32),
    /// A table.
    Table(TableType),
    /// A memory.
    Memory(MemoryType),
    /// A global.
    Global(GlobalType),
    /// An exception tag of this type index (its parameters are the payload).
    Tag(u32),
}

/// The kind and index of an export.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportKind {
    /// Function index.
    Func(u32),
    /// Table index.
    Table(u32),
    /// Memory index.
    Memory(u32),
    /// Global index.
    Global(u32),
    /// Tag index.
    Tag(u32),
}

/// How an element segment is used.
#[derive(Clone, Debug, PartialEq)]
pub enum ElemMode {
    /// `table.init` only.
    Passive,
    /// Copied into `table` at `offset` during instantiation, then dropped.
    Active {
        /// Table index.
        table: u32,
        /// Offset expression.
        offset: ConstExpr,
    },
    /// Only declares functions referenced by `ref.func`; dropped at instantiation.
    Declared,
}

/// An element segment.
#[derive(Clone, Debug, PartialEq)]
pub struct ElemSegment {
    /// How it is used.
    pub mode: ElemMode,
    /// Element type.
    pub ty: ValType,
    /// The items.
    pub items: Box<[ConstExpr]>,
}

/// How a data segment is used.
#[derive(Clone, Debug, PartialEq)]
pub enum DataMode {
    /// `memory.init` only.
    Passive,
    /// Copied into `memory` at `offset` during instantiation, then dropped.
    Active {
        /// Memory index.
        memory: u32,
        /// Offset expression.
        offset: ConstExpr,
    },
}

/// A data segment.
#[derive(Clone, Debug, PartialEq)]
pub struct DataSegment {
    /// How it is used.
    pub mode: DataMode,
    /// Its bytes: a range of [`ModuleInfo::bytes`].
    pub range: Range<usize>,
}

/// A defined function's body: a range of [`ModuleInfo::bytes`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FuncBody {
    /// The body's bytes (locals and code) in the module.
    pub range: Range<usize>,
}

/// A decoded, validated module, independent of any engine.
#[derive(Debug)]
pub struct ModuleInfo {
    /// The binary.
    pub bytes: Arc<[u8]>,
    /// Function types by type index.
    pub types: Vec<FuncType>,
    /// The canonical id of each type ([`FuncType::canonical`]), by type index.
    pub type_ids: Vec<u32>,
    /// Imports in order.
    pub imports: Vec<Import>,
    /// Type index of every function (imports first).
    pub funcs: Vec<u32>,
    /// Every table (imports first).
    pub tables: Vec<TableType>,
    /// Every memory (imports first).
    pub memories: Vec<MemoryType>,
    /// Every global (imports first).
    pub globals: Vec<GlobalType>,
    /// Type index of every exception tag (imports first).
    pub tags: Vec<u32>,
    /// Initializers of defined globals.
    pub global_inits: Vec<ConstExpr>,
    /// Initializers of defined tables (`None`: null).
    pub table_inits: Vec<Option<ConstExpr>>,
    /// Exports by name.
    pub exports: HashMap<String, ExportKind>,
    /// Export names in order.
    pub export_order: Vec<String>,
    /// Start function.
    pub start: Option<u32>,
    /// Element segments.
    pub elems: Vec<ElemSegment>,
    /// Data segments.
    pub datas: Vec<DataSegment>,
    /// Bodies of defined functions.
    pub bodies: Vec<FuncBody>,
    /// Imported function count.
    pub num_imported_funcs: u32,
    /// Imported table count.
    pub num_imported_tables: u32,
    /// Imported memory count.
    pub num_imported_memories: u32,
    /// Imported global count.
    pub num_imported_globals: u32,
    /// Imported tag count.
    pub num_imported_tags: u32,
    /// Module name from the name section.
    pub name: Option<String>,
    /// Function names from the name section.
    pub func_names: HashMap<u32, String>,
    /// This decoded module's identity in the process (events name functions by it).
    pub id: ModuleId,
}

/// A decoded module's identity, unique in the process: events name a function by its
/// module's id and its index ([`crate::slot::Event::WasmCall`]), and an observer
/// learns the module's names from [`crate::slot::Event::Compile`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ModuleId(pub u64);

impl ModuleId {
    fn next() -> Self {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        ModuleId(NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
    }
}

/// Whether `bytes` is a component binary: the preamble `\0asm` with the component
/// layer in the version field (a core module has layer 0).
fn is_component(bytes: &[u8]) -> bool {
    bytes.len() >= 8 && bytes.starts_with(b"\0asm") && bytes[6..8] != [0, 0]
}

impl ModuleInfo {
    /// Decodes and validates `bytes` (binary, or `.wat` text).
    ///
    /// # Errors
    /// A malformed or invalid module (with byte offset), a text syntax error, or a
    /// proposal outside `features` ("unsupported: `<proposal>`").
    pub fn decode(bytes: &[u8], features: Features) -> Result<Self, DecodeError> {
        Self::decode_file(bytes, features, None)
    }

    /// As [`ModuleInfo::decode`], for the contents of the file at `path`: text syntax
    /// errors name the file, line and column.
    ///
    /// # Errors
    /// As [`ModuleInfo::decode`].
    pub fn decode_file(
        bytes: &[u8],
        features: Features,
        path: Option<&std::path::Path>,
    ) -> Result<Self, DecodeError> {
        let bytes: Arc<[u8]> = if bytes.starts_with(b"\0asm") {
            bytes.into()
        } else {
            super::text::to_binary(bytes, path)?.into()
        };
        if is_component(&bytes) {
            return Err(DecodeError::Invalid {
                offset: 4,
                message: "this is a WebAssembly component, not a core module: this VM runs core \
                          modules (a component's core modules can be extracted with \
                          `wasm-tools component unbundle` or built as plain modules, e.g. for \
                          the `wasm32-wasip1` target)"
                    .to_owned(),
            });
        }
        validate(&bytes, features)?;
        Self::parse(bytes)
    }

    /// Whether a value that may be a GC object (a reference of the `any` or `extern`
    /// hierarchy: an `externref` may hold an externalized object) can appear in a
    /// function of this module through its declarations: a struct or array type, or
    /// such a reference in a function type, global, table or element segment. When
    /// not, only a function whose own locals have such a type can hold one (every
    /// other source of such a value is one of those declarations), so a translator
    /// needs stack maps only for those functions (see [`body_declares_gc_refs`]).
    pub fn declares_gc_refs(&self) -> bool {
        let object = |t: &ValType| matches!(t, ValType::AnyRef | ValType::ExternRef);
        self.type_ids.iter().any(|&id| {
            super::gc::types::info(id).is_some_and(|t| t.top_kind() != super::types::HeapType::Func)
        }) || self.types.iter().any(|f| f.params().iter().chain(f.results()).any(object))
            || self.globals.iter().any(|g| object(&g.ty))
            || self.tables.iter().any(|t| object(&t.elem))
            || self.elems.iter().any(|e| object(&e.ty))
    }

    /// A validator for each defined function body, in order, whose operand-stack and
    /// local types an engine can read while it translates the body operator by
    /// operator (feeding each to [`wasmparser::FuncValidator::op`]): how a
    /// translator learns which slots hold references at a safepoint.
    ///
    /// # Errors
    /// The module does not validate (it was validated when decoded, so never for a
    /// [`ModuleInfo`] made by [`ModuleInfo::decode`]).
    pub fn func_validators(
        &self,
    ) -> Result<Vec<wasmparser::FuncValidator<wasmparser::ValidatorResources>>, CompileError> {
        let err = |_| CompileError::Limit("module revalidation for stack maps");
        let mut v = Validator::new_with_features(WasmFeatures::all());
        let mut out = Vec::with_capacity(self.bodies.len());
        for payload in Parser::new(0).parse_all(&self.bytes) {
            if let wasmparser::ValidPayload::Func(f, _) =
                v.payload(&payload.map_err(err)?).map_err(err)?
            {
                out.push(f.into_validator(Default::default()));
            }
        }
        Ok(out)
    }

    /// The signature of function `func` (module index space).
    pub fn func_type(&self, func: u32) -> Option<&FuncType> {
        let ty = *self.funcs.get(func as usize)?;
        self.types.get(ty as usize)
    }

    /// The type of an export.
    pub fn export_type(&self, name: &str) -> Option<ExternType> {
        Some(match *self.exports.get(name)? {
            ExportKind::Func(i) => ExternType::Func(self.func_type(i)?.clone()),
            ExportKind::Table(i) => ExternType::Table(*self.tables.get(i as usize)?),
            ExportKind::Memory(i) => ExternType::Memory(*self.memories.get(i as usize)?),
            ExportKind::Global(i) => ExternType::Global(*self.globals.get(i as usize)?),
            ExportKind::Tag(i) => ExternType::Tag(self.tag_type(i)?.clone()),
        })
    }

    /// The type of tag `tag` (module index space): its parameters are the payload.
    pub fn tag_type(&self, tag: u32) -> Option<&FuncType> {
        let ty = *self.tags.get(tag as usize)?;
        self.types.get(ty as usize)
    }

    /// The name of function `func` from the name section.
    pub fn func_name(&self, func: u32) -> Option<&str> {
        self.func_names.get(&func).map(String::as_str)
    }

    /// A name for function `func` in reports: its name-section name, else the first
    /// name it is exported under, else the field it is imported as (`env.f`), else
    /// `func[N]`.
    pub fn func_label(&self, func: u32) -> String {
        if let Some(n) = self.func_name(func) {
            return n.to_owned();
        }
        let exported = self.export_order.iter().find(
            |e| matches!(self.exports.get(e.as_str()), Some(ExportKind::Func(i)) if *i == func),
        );
        if let Some(e) = exported {
            return e.clone();
        }
        let import = self
            .imports
            .iter()
            .filter(|i| matches!(i.kind, ImportKind::Func(_)))
            .nth(func as usize);
        match import {
            Some(i) => format!("{}.{}", i.module, i.name),
            None => format!("func[{func}]"),
        }
    }

    /// Canonicalizes one recursion group (see [`super::gc::types`]): each member's
    /// canonical id and, for a function type, its signature.
    fn decode_group(
        &self,
        types: &[wasmparser::SubType],
        offset: u64,
    ) -> Result<Vec<(u32, Option<FuncType>)>, DecodeError> {
        // A lone final function type with no supertype keeps the canonical form of
        // its signature (the ids modules without GC types and host functions have).
        if let [ty] = types
            && ty.is_final
            && ty.supertype_idxs.is_empty()
            && !ty.composite_type.shared
            && let wasmparser::CompositeInnerType::Func(ty) = &ty.composite_type.inner
        {
            let this = self.types.len() as u32;
            // A reference to the type itself is a function reference.
            let conv = |ts: &[wasmparser::ValType]| {
                ts.iter()
                    .map(|t| match *t {
                        wasmparser::ValType::Ref(r) => {
                            match RefType::from_wasmparser(r, &self.type_ids, Some(this), offset)? {
                                PreciseRef::Ref(r) => Ok(r.repr()),
                                PreciseRef::SelfRef { .. } => Ok(ValType::FuncRef),
                            }
                        }
                        t => ValType::from_wasmparser(t, &self.type_ids, offset),
                    })
                    .collect::<Result<Vec<_>, DecodeError>>()
            };
            let mut refs = Vec::new();
            for t in ty.params().iter().chain(ty.results()) {
                refs.push(match *t {
                    wasmparser::ValType::Ref(r) => {
                        Some(RefType::from_wasmparser(r, &self.type_ids, Some(this), offset)?)
                    }
                    _ => None,
                });
            }
            let f =
                FuncType::with_refs(conv(ty.params())?.into(), conv(ty.results())?.into(), |k| {
                    refs.get(k).copied().flatten()
                });
            return Ok(vec![(f.canonical(), Some(f))]);
        }
        super::gc::types::decode_group(types, &self.type_ids, offset)
    }

    fn parse(bytes: Arc<[u8]>) -> Result<Self, DecodeError> {
        let mut m = ModuleInfo {
            bytes: bytes.clone(),
            types: Vec::new(),
            type_ids: Vec::new(),
            imports: Vec::new(),
            funcs: Vec::new(),
            tables: Vec::new(),
            memories: Vec::new(),
            globals: Vec::new(),
            tags: Vec::new(),
            global_inits: Vec::new(),
            table_inits: Vec::new(),
            exports: HashMap::new(),
            export_order: Vec::new(),
            start: None,
            elems: Vec::new(),
            datas: Vec::new(),
            bodies: Vec::new(),
            num_imported_funcs: 0,
            num_imported_tables: 0,
            num_imported_memories: 0,
            num_imported_globals: 0,
            num_imported_tags: 0,
            name: None,
            func_names: HashMap::new(),
            id: ModuleId::next(),
        };
        let err = |e: wasmparser::BinaryReaderError| DecodeError::from_parser(&e);
        for payload in Parser::new(0).parse_all(&bytes) {
            match payload.map_err(err)? {
                Payload::TypeSection(r) => {
                    let offset = r.range().start;
                    for group in r {
                        let group = group.map_err(err)?;
                        let types: Vec<_> = group.types().cloned().collect();
                        for (id, f) in m.decode_group(&types, offset)? {
                            m.type_ids.push(id);
                            // Struct and array types have no signature: an empty one
                            // stands at their index (no function or tag has them).
                            m.types.push(f.unwrap_or_else(|| FuncType::new([], [])));
                        }
                    }
                }
                Payload::ImportSection(r) => {
                    for imp in r.into_imports_with_offsets() {
                        let (offset, imp) = imp.map_err(err)?;

                        let kind = match imp.ty {
                            TypeRef::Func(t) | TypeRef::FuncExact(t) => {
                                m.funcs.push(t);
                                m.num_imported_funcs += 1;
                                ImportKind::Func(t)
                            }
                            TypeRef::Table(t) => {
                                let t = table_type(&t, &m.type_ids, offset)?;
                                m.tables.push(t);
                                m.num_imported_tables += 1;
                                ImportKind::Table(t)
                            }
                            TypeRef::Memory(t) => {
                                let t = memory_type(&t, offset)?;
                                m.memories.push(t);
                                m.num_imported_memories += 1;
                                ImportKind::Memory(t)
                            }
                            TypeRef::Global(t) => {
                                let t = global_type(&t, &m.type_ids, offset)?;
                                m.globals.push(t);
                                m.num_imported_globals += 1;
                                ImportKind::Global(t)
                            }
                            TypeRef::Tag(t) => {
                                m.tags.push(t.func_type_idx);
                                m.num_imported_tags += 1;
                                ImportKind::Tag(t.func_type_idx)
                            }
                        };
                        m.imports.push(Import {
                            module: imp.module.to_owned(),
                            name: imp.name.to_owned(),
                            kind,
                        });
                    }
                }
                Payload::FunctionSection(r) => {
                    for t in r {
                        m.funcs.push(t.map_err(err)?);
                    }
                }
                Payload::TableSection(r) => {
                    let offset = r.range().start;
                    for t in r {
                        let t = t.map_err(err)?;
                        m.tables.push(table_type(&t.ty, &m.type_ids, offset)?);
                        m.table_inits.push(match t.init {
                            wasmparser::TableInit::RefNull => None,
                            wasmparser::TableInit::Expr(e) => {
                                Some(ConstExpr::parse(&e, &m.type_ids)?)
                            }
                        });
                    }
                }
                Payload::MemorySection(r) => {
                    let offset = r.range().start;
                    for t in r {
                        m.memories.push(memory_type(&t.map_err(err)?, offset)?);
                    }
                }
                Payload::GlobalSection(r) => {
                    let offset = r.range().start;
                    for g in r {
                        let g = g.map_err(err)?;
                        m.globals.push(global_type(&g.ty, &m.type_ids, offset)?);
                        m.global_inits.push(ConstExpr::parse(&g.init_expr, &m.type_ids)?);
                    }
                }
                Payload::ExportSection(r) => {
                    for e in r {
                        let e = e.map_err(err)?;
                        let kind = match e.kind {
                            ExternalKind::Func | ExternalKind::FuncExact => {
                                ExportKind::Func(e.index)
                            }
                            ExternalKind::Table => ExportKind::Table(e.index),
                            ExternalKind::Memory => ExportKind::Memory(e.index),
                            ExternalKind::Global => ExportKind::Global(e.index),
                            ExternalKind::Tag => ExportKind::Tag(e.index),
                        };
                        m.export_order.push(e.name.to_owned());
                        m.exports.insert(e.name.to_owned(), kind);
                    }
                }
                Payload::TagSection(r) => {
                    for t in r {
                        m.tags.push(t.map_err(err)?.func_type_idx);
                    }
                }
                Payload::StartSection { func, .. } => m.start = Some(func),
                Payload::ElementSection(r) => {
                    for e in r {
                        let e = e.map_err(err)?;
                        let offset = e.range.start;
                        let mode = match e.kind {
                            ElementKind::Passive => ElemMode::Passive,
                            ElementKind::Declared => ElemMode::Declared,
                            ElementKind::Active { table_index, offset_expr } => ElemMode::Active {
                                table: table_index.unwrap_or(0),
                                offset: ConstExpr::parse(&offset_expr, &m.type_ids)?,
                            },
                        };
                        let (ty, items) = match e.items {
                            ElementItems::Functions(fs) => {
                                let mut items = Vec::new();
                                for f in fs {
                                    items.push(ConstExpr {
                                        ops: Box::new([ConstOp::RefFunc(f.map_err(err)?)]),
                                    });
                                }
                                (ValType::FuncRef, items)
                            }
                            ElementItems::Expressions(rt, es) => {
                                let mut items = Vec::new();
                                for x in es {
                                    items.push(ConstExpr::parse(&x.map_err(err)?, &m.type_ids)?);
                                }
                                (ValType::from_ref_type(rt, &m.type_ids, offset)?, items)
                            }
                        };
                        m.elems.push(ElemSegment { mode, ty, items: items.into() });
                    }
                }
                Payload::DataSection(r) => {
                    for d in r {
                        let d = d.map_err(err)?;
                        let mode = match d.kind {
                            wasmparser::DataKind::Passive => DataMode::Passive,
                            wasmparser::DataKind::Active { memory_index, offset_expr } => {
                                DataMode::Active {
                                    memory: memory_index,
                                    offset: ConstExpr::parse(&offset_expr, &m.type_ids)?,
                                }
                            }
                        };
                        let end = d.range.end as usize;
                        let start = end - d.data.len();
                        m.datas.push(DataSegment { mode, range: start..end });
                    }
                }
                Payload::CodeSectionEntry(body) => {
                    let r = body.range();
                    m.bodies.push(FuncBody { range: r.start as usize..r.end as usize });
                }
                Payload::CustomSection(c) => {
                    if let KnownCustom::Name(names) = c.as_known() {
                        // A malformed name section is ignored, as the spec allows.
                        for n in names.into_iter().flatten() {
                            match n {
                                Name::Module { name, .. } => m.name = Some(name.to_owned()),
                                Name::Function(map) => {
                                    for naming in map.into_iter().flatten() {
                                        m.func_names.insert(naming.index, naming.name.to_owned());
                                    }
                                }
                                _ => {}
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(m)
    }
}

fn table_type(
    t: &wasmparser::TableType,
    ids: &[u32],
    offset: u64,
) -> Result<TableType, DecodeError> {
    Ok(TableType {
        elem: ValType::from_ref_type(t.element_type, ids, offset)?,
        refty: RefType::of_wasmparser(t.element_type, ids, offset)?,
        min: saturate(t.initial),
        max: t.maximum.map(saturate),
        index64: t.table64,
    })
}

/// A limit as kept in [`MemoryType`] and [`TableType`]: above `u32::MAX`, `u32::MAX`.
fn saturate(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn memory_type(t: &wasmparser::MemoryType, offset: u64) -> Result<MemoryType, DecodeError> {
    if t.shared {
        return Err(DecodeError::unsupported("threads", offset));
    }
    if t.page_size_log2.is_some() {
        return Err(DecodeError::unsupported("custom-page-sizes", offset));
    }
    Ok(MemoryType { min: saturate(t.initial), max: t.maximum.map(saturate), index64: t.memory64 })
}

fn global_type(
    t: &wasmparser::GlobalType,
    ids: &[u32],
    offset: u64,
) -> Result<GlobalType, DecodeError> {
    if t.shared {
        return Err(DecodeError::unsupported("shared-everything-threads", offset));
    }
    let refty = match t.content_type {
        wasmparser::ValType::Ref(r) => Some(RefType::of_wasmparser(r, ids, offset)?),
        _ => None,
    };
    Ok(GlobalType {
        ty: ValType::from_wasmparser(t.content_type, ids, offset)?,
        mutable: t.mutable,
        refty,
    })
}

/// Validates `bytes` with `features`; on failure names the first later proposal that
/// would have accepted the module at the failing offset.
fn validate(bytes: &[u8], features: Features) -> Result<(), DecodeError> {
    let base = features.wasmparser();
    let Err(e) = Validator::new_with_features(base).validate_all(bytes) else {
        return Ok(());
    };
    let all = WasmFeatures::all();
    if Validator::new_with_features(all).validate_all(bytes).is_ok() {
        for &(flag, name) in PROPOSALS {
            if base.contains(flag) {
                continue;
            }
            if let Err(e2) = Validator::new_with_features(all.difference(flag)).validate_all(bytes)
                && e2.offset() == e.offset()
            {
                return Err(DecodeError::unsupported(name, e.offset()));
            }
        }
        for &(flag, name) in PROPOSALS {
            if !base.contains(flag)
                && Validator::new_with_features(all.difference(flag)).validate_all(bytes).is_err()
            {
                return Err(DecodeError::unsupported(name, e.offset()));
            }
        }
    }
    Err(DecodeError::from_parser(&e))
}

/// Whether function body `body` declares a local that may hold a GC object (a
/// reference of the `any` or `extern` hierarchy); with
/// [`ModuleInfo::declares_gc_refs`] false, whether the function can hold one at all.
///
/// # Errors
/// The locals do not decode (never for a validated body).
pub fn body_declares_gc_refs(body: &wasmparser::FunctionBody<'_>) -> Result<bool, CompileError> {
    use wasmparser::{AbstractHeapType as A, HeapType as H};
    let err = |_| CompileError::Limit("function locals");
    for local in body.get_locals_reader().map_err(err)? {
        let (_, ty) = local.map_err(err)?;
        if let wasmparser::ValType::Ref(r) = ty {
            let object = match r.heap_type() {
                H::Abstract { ty, .. } => !matches!(ty, A::Func | A::NoFunc | A::Exn | A::NoExn),
                // A concrete type is a struct or array one only in a module that
                // declares them.
                H::Concrete(_) | H::Exact(_) => true,
            };
            if object {
                return Ok(true);
            }
        }
    }
    Ok(false)
}
