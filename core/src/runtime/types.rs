//! WebAssembly types as the runtime sees them (2.0, plus `v128`, plus the typed
//! references of the function-references proposal).
//!
//! # Reference types
//!
//! A value's *representation* is what [`ValType`] says: every function reference,
//! `funcref` or typed (`(ref $t)`, `(ref null func)`…), is a [`ValType::FuncRef`]
//! (an 8-byte funcref pointer in the engines, [`super::Val::FuncRef`] in the
//! embedding API), every external reference an [`ValType::ExternRef`]; engines lower
//! and marshal by the representation only. The precise type, where linking needs it,
//! is a [`RefType`]: [`GlobalType::refty`], [`TableType::refty`], and inside a
//! [`FuncType`], whose equality is structural equivalence of the precise types
//! (its canonical form, [`FuncType::canonical`]): a concrete heap type is the
//! process-wide id of the canonical form of the type it names ([`HeapType::Concrete`]),
//! so types of different modules compare by structure. Subtyping is that of function
//! references and of the GC proposal ([`RefType::matches`]): non-null below nullable,
//! the abstract hierarchies (`none` <: `i31`, `struct`, `array` <: `eq` <: `any`;
//! `nofunc` <: `func`; `noextern` <: `extern`; `noexn` <: `exn`), a concrete type
//! below its kind and below its declared supertypes ([`super::gc::types`]). Values of
//! the `any` hierarchy are represented as [`ValType::AnyRef`].

use super::ValType;
use super::error::DecodeError;

/// The heap type of a reference.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HeapType {
    /// Any function.
    Func,
    /// Any external reference.
    Extern,
    /// Any exception reference.
    Exn,
    /// A defined type (function, struct or array), named by its process-wide
    /// canonical id (equivalent types of any modules share it; see
    /// [`super::gc::types`]).
    Concrete(u32),
    /// `any`: every struct, array, `i31` and internalized external reference (GC).
    Any,
    /// `eq`: references comparable with `ref.eq` (GC).
    Eq,
    /// `i31`: unboxed 31-bit integers (GC).
    I31,
    /// `struct`: every struct (GC).
    Struct,
    /// `array`: every array (GC).
    Array,
    /// `none`: the bottom of the `any` hierarchy (only null) (GC).
    None,
    /// `nofunc`: the bottom of the `func` hierarchy (GC).
    NoFunc,
    /// `noextern`: the bottom of the `extern` hierarchy (GC).
    NoExtern,
    /// `noexn`: the bottom of the `exn` hierarchy (GC).
    NoExn,
}

/// A precise reference type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RefType {
    /// Whether null is a value of the type.
    pub nullable: bool,
    /// The heap type.
    pub heap: HeapType,
}

impl RefType {
    /// `funcref`: `(ref null func)`.
    pub const FUNCREF: RefType = RefType { nullable: true, heap: HeapType::Func };
    /// `externref`: `(ref null extern)`.
    pub const EXTERNREF: RefType = RefType { nullable: true, heap: HeapType::Extern };
    /// `exnref`: `(ref null exn)`.
    pub const EXNREF: RefType = RefType { nullable: true, heap: HeapType::Exn };
    /// `anyref`: `(ref null any)` (GC).
    pub const ANYREF: RefType = RefType { nullable: true, heap: HeapType::Any };

    /// Whether every value of `self` is a value of `other` (subtyping).
    pub fn matches(self, other: RefType) -> bool {
        (other.nullable || !self.nullable) && super::gc::types::heap_matches(self.heap, other.heap)
    }

    /// The representation of its values: [`ValType::FuncRef`],
    /// [`ValType::ExternRef`], [`ValType::ExnRef`] or [`ValType::AnyRef`].
    pub fn repr(self) -> ValType {
        match self.heap {
            HeapType::Extern | HeapType::NoExtern => ValType::ExternRef,
            HeapType::Exn | HeapType::NoExn => ValType::ExnRef,
            HeapType::Func | HeapType::NoFunc => ValType::FuncRef,
            HeapType::Concrete(id) => match super::gc::types::info(id) {
                Some(t) if t.top_kind() != HeapType::Func => ValType::AnyRef,
                _ => ValType::FuncRef,
            },
            HeapType::Any
            | HeapType::Eq
            | HeapType::I31
            | HeapType::Struct
            | HeapType::Array
            | HeapType::None => ValType::AnyRef,
        }
    }

    /// The 2.0 reference type of a representation (`None` for a non-reference).
    pub fn of_repr(ty: ValType) -> Option<RefType> {
        match ty {
            ValType::FuncRef => Some(RefType::FUNCREF),
            ValType::ExternRef => Some(RefType::EXTERNREF),
            ValType::ExnRef => Some(RefType::EXNREF),
            ValType::AnyRef => Some(RefType::ANYREF),
            _ => None,
        }
    }
}

/// The text format: `funcref`, `(ref null func)`, `(ref $17)` (a canonical id).
impl core::fmt::Display for RefType {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match (self.nullable, self.heap) {
            (true, HeapType::Func) => f.write_str("funcref"),
            (true, HeapType::Extern) => f.write_str("externref"),
            (true, HeapType::Exn) => f.write_str("exnref"),
            (n, h) => {
                f.write_str(if n { "(ref null " } else { "(ref " })?;
                match h {
                    HeapType::Concrete(id) => write!(f, "${id}")?,
                    h => f.write_str(h.name())?,
                }
                f.write_str(")")
            }
        }
    }
}

impl HeapType {
    /// The text format of an abstract heap type (`$<id>` for a concrete one).
    pub const fn name(self) -> &'static str {
        match self {
            HeapType::Func => "func",
            HeapType::Extern => "extern",
            HeapType::Exn => "exn",
            HeapType::Any => "any",
            HeapType::Eq => "eq",
            HeapType::I31 => "i31",
            HeapType::Struct => "struct",
            HeapType::Array => "array",
            HeapType::None => "none",
            HeapType::NoFunc => "nofunc",
            HeapType::NoExtern => "noextern",
            HeapType::NoExn => "noexn",
            HeapType::Concrete(_) => "$<id>",
        }
    }
}

/// Where a concrete heap type of a canonical form points: another type (its id)
/// or the type being defined (a recursive reference).
const FORM_CONCRETE: u8 = 0;
const FORM_SELF: u8 = 1;

/// Appends the canonical form of a value type; `refty` is its precise type when it
/// is a reference (`None`: the 2.0 one of its representation).
fn push_form(form: &mut Vec<u8>, ty: ValType, refty: Option<PreciseRef>) {
    let tag = match ty {
        ValType::I32 => 0x7f,
        ValType::I64 => 0x7e,
        ValType::F32 => 0x7d,
        ValType::F64 => 0x7c,
        ValType::V128 => 0x7b,
        ValType::FuncRef | ValType::ExternRef | ValType::ExnRef | ValType::AnyRef => {
            let r =
                refty.unwrap_or(PreciseRef::Ref(RefType::of_repr(ty).unwrap_or(RefType::FUNCREF)));
            let (nullable, heap) = match r {
                PreciseRef::Ref(r) => (r.nullable, Some(r.heap)),
                PreciseRef::SelfRef { nullable } => (nullable, None),
            };
            form.push(if nullable { 0x63 } else { 0x64 });
            match heap {
                Some(HeapType::Concrete(id)) => {
                    form.push(FORM_CONCRETE);
                    form.extend(id.to_le_bytes());
                }
                Some(h) => form.push(super::gc::types::abstract_code(h)),
                None => form.push(FORM_SELF),
            }
            return;
        }
    };
    form.push(tag);
}

/// A precise reference inside a function type being defined: a [`RefType`], or a
/// reference to the type itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PreciseRef {
    /// A reference type.
    Ref(RefType),
    /// `(ref null? $self)`.
    SelfRef {
        /// Whether null is a value of the type.
        nullable: bool,
    },
}

/// A function signature.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FuncType {
    params: Box<[ValType]>,
    results: Box<[ValType]>,
    /// The canonical form (equality is structural equivalence).
    form: Box<[u8]>,
}

impl FuncType {
    /// A signature with these parameters and results (references of the 2.0 types
    /// `funcref` and `externref`).
    pub fn new(params: impl Into<Box<[ValType]>>, results: impl Into<Box<[ValType]>>) -> Self {
        let (params, results) = (params.into(), results.into());
        let form = Self::form(&params, &results, |_| None);
        Self { params, results, form }
    }

    /// A signature whose references have precise types: `refty(k)` of value `k`
    /// (parameters first, then results).
    pub(crate) fn with_refs(
        params: Box<[ValType]>,
        results: Box<[ValType]>,
        refty: impl Fn(usize) -> Option<PreciseRef>,
    ) -> Self {
        let form = Self::form(&params, &results, refty);
        Self { params, results, form }
    }

    fn form(
        params: &[ValType],
        results: &[ValType],
        refty: impl Fn(usize) -> Option<PreciseRef>,
    ) -> Box<[u8]> {
        let mut form = Vec::with_capacity(params.len() + results.len() + 8);
        form.extend((params.len() as u32).to_le_bytes());
        for (k, &t) in params.iter().enumerate() {
            push_form(&mut form, t, refty(k));
        }
        form.extend((results.len() as u32).to_le_bytes());
        for (k, &t) in results.iter().enumerate() {
            push_form(&mut form, t, refty(params.len() + k));
        }
        form.into()
    }

    /// A member of a recursion group: `form` is its canonical form (the group's and
    /// its index in it, see [`super::gc::types`]).
    pub(crate) fn with_form(
        params: Box<[ValType]>,
        results: Box<[ValType]>,
        form: Box<[u8]>,
    ) -> Self {
        Self { params, results, form }
    }

    /// The process-wide id of this type's canonical form: equal for structurally
    /// equivalent types of any modules ([`HeapType::Concrete`] holds it).
    pub fn canonical(&self) -> u32 {
        super::gc::types::func_id(&self.form, self)
    }

    /// Parameter types.
    pub fn params(&self) -> &[ValType] {
        &self.params
    }

    /// Result types.
    pub fn results(&self) -> &[ValType] {
        &self.results
    }
}

impl core::fmt::Display for FuncType {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("(func")?;
        if !self.params.is_empty() {
            f.write_str(" (param")?;
            for p in self.params.iter() {
                write!(f, " {p}")?;
            }
            f.write_str(")")?;
        }
        if !self.results.is_empty() {
            f.write_str(" (result")?;
            for r in self.results.iter() {
                write!(f, " {r}")?;
            }
            f.write_str(")")?;
        }
        f.write_str(")")
    }
}

/// A linear memory's type: sizes in 64 KiB pages.
///
/// A memory64 type's limits above `u32::MAX` pages are kept as `u32::MAX` (no
/// memory that large can be created: [`MAX_PAGES64`](super::memory::MAX_PAGES64)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MemoryType {
    /// Initial size in pages.
    pub min: u32,
    /// Maximum size in pages, if bounded.
    pub max: Option<u32>,
    /// Addresses are `i64` (memory64).
    pub index64: bool,
}

/// A table's type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TableType {
    /// Element type's representation: [`ValType::FuncRef`] or [`ValType::ExternRef`].
    pub elem: ValType,
    /// The precise element type.
    pub refty: RefType,
    /// Initial size in elements.
    pub min: u32,
    /// Maximum size in elements, if bounded.
    pub max: Option<u32>,
    /// Indexes are `i64` (table64); limits above `u32::MAX` are kept as `u32::MAX`.
    pub index64: bool,
}

/// A global's type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct GlobalType {
    /// Value type (a reference's representation).
    pub ty: ValType,
    /// Whether `global.set` is allowed.
    pub mutable: bool,
    /// The precise type of a reference (`None` for other values).
    pub refty: Option<RefType>,
}

impl GlobalType {
    /// Whether a global of this type can be imported as `want`: same mutability,
    /// and a subtype when immutable, the same type when mutable.
    pub fn matches(&self, want: &GlobalType) -> bool {
        self.ty == want.ty
            && self.mutable == want.mutable
            && match (self.refty, want.refty) {
                (Some(a), Some(b)) if self.mutable => a == b,
                (Some(a), Some(b)) => a.matches(b),
                (a, b) => a == b,
            }
    }
}

/// The type of an import or export.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExternType {
    /// A function.
    Func(FuncType),
    /// A table.
    Table(TableType),
    /// A memory.
    Memory(MemoryType),
    /// A global.
    Global(GlobalType),
    /// An exception tag: the types of its payload (`params`; no results).
    Tag(FuncType),
}

fn limits(f: &mut core::fmt::Formatter<'_>, min: u32, max: Option<u32>) -> core::fmt::Result {
    write!(f, " {min}")?;
    match max {
        Some(max) => write!(f, " {max}"),
        None => Ok(()),
    }
}

/// The text format: `(memory 1 2)`.
impl core::fmt::Display for MemoryType {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(if self.index64 { "(memory i64" } else { "(memory" })?;
        limits(f, self.min, self.max)?;
        f.write_str(")")
    }
}

/// The text format: `(table 1 funcref)`.
impl core::fmt::Display for TableType {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(if self.index64 { "(table i64" } else { "(table" })?;
        limits(f, self.min, self.max)?;
        write!(f, " {})", self.refty)
    }
}

/// The text format: `(global (mut i32))`.
impl core::fmt::Display for GlobalType {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let ty = match self.refty {
            Some(r) => r.to_string(),
            None => self.ty.to_string(),
        };
        if self.mutable { write!(f, "(global (mut {ty}))") } else { write!(f, "(global {ty})") }
    }
}

/// The text format of the item's type.
impl core::fmt::Display for ExternType {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ExternType::Func(t) => t.fmt(f),
            ExternType::Table(t) => t.fmt(f),
            ExternType::Memory(t) => t.fmt(f),
            ExternType::Global(t) => t.fmt(f),
            ExternType::Tag(t) => write!(f, "(tag {t})"),
        }
    }
}

impl RefType {
    /// Converts a `wasmparser` reference type; `ids` are the canonical ids of the
    /// module's types, `this` the index of the type being defined, if any (a
    /// reference to it is [`PreciseRef::SelfRef`]).
    ///
    /// # Errors
    /// A heap type of the GC proposal (or of a later one), or a type index that is
    /// not defined yet.
    pub(crate) fn from_wasmparser(
        r: wasmparser::RefType,
        ids: &[u32],
        this: Option<u32>,
        offset: u64,
    ) -> Result<PreciseRef, DecodeError> {
        use wasmparser::{AbstractHeapType as A, HeapType as H, UnpackedIndex};
        let nullable = r.is_nullable();
        let heap = match r.heap_type() {
            H::Abstract { shared: false, ty } => match ty {
                A::Func => HeapType::Func,
                A::Extern => HeapType::Extern,
                A::Exn => HeapType::Exn,
                A::Any => HeapType::Any,
                A::Eq => HeapType::Eq,
                A::I31 => HeapType::I31,
                A::Struct => HeapType::Struct,
                A::Array => HeapType::Array,
                A::None => HeapType::None,
                A::NoFunc => HeapType::NoFunc,
                A::NoExtern => HeapType::NoExtern,
                A::NoExn => HeapType::NoExn,
                A::Cont | A::NoCont => {
                    return Err(DecodeError::unsupported("stack-switching", offset));
                }
            },
            H::Concrete(UnpackedIndex::Module(i)) if Some(i) == this => {
                return Ok(PreciseRef::SelfRef { nullable });
            }
            H::Concrete(UnpackedIndex::Module(i)) => match ids.get(i as usize) {
                Some(&id) => HeapType::Concrete(id),
                None => return Err(DecodeError::unsupported("gc", offset)),
            },
            _ => return Err(DecodeError::unsupported("gc", offset)),
        };
        Ok(PreciseRef::Ref(RefType { nullable, heap }))
    }

    /// [`RefType::from_wasmparser`] outside a type definition.
    pub fn of_wasmparser(
        r: wasmparser::RefType,
        ids: &[u32],
        offset: u64,
    ) -> Result<RefType, DecodeError> {
        match Self::from_wasmparser(r, ids, None, offset)? {
            PreciseRef::Ref(r) => Ok(r),
            PreciseRef::SelfRef { .. } => Err(DecodeError::unsupported("gc", offset)),
        }
    }
}

/// Whether limits `(min, max)` of an import candidate satisfy the import's limits.
pub(crate) fn limits_match(
    actual_min: u64,
    actual_max: Option<u64>,
    want_min: u64,
    want_max: Option<u64>,
) -> bool {
    actual_min >= want_min
        && match (actual_max, want_max) {
            (_, None) => true,
            (None, Some(_)) => false,
            (Some(a), Some(w)) => a <= w,
        }
}

impl ValType {
    /// Converts a `wasmparser` value type.
    ///
    /// # Errors
    /// A heap type of a later proposal, or a type index not defined yet; `ids` are the
    /// canonical ids of the module's types.
    pub(crate) fn from_wasmparser(
        ty: wasmparser::ValType,
        ids: &[u32],
        offset: u64,
    ) -> Result<Self, DecodeError> {
        Ok(match ty {
            wasmparser::ValType::I32 => ValType::I32,
            wasmparser::ValType::I64 => ValType::I64,
            wasmparser::ValType::F32 => ValType::F32,
            wasmparser::ValType::F64 => ValType::F64,
            wasmparser::ValType::V128 => ValType::V128,
            wasmparser::ValType::Ref(r) => Self::from_ref_type(r, ids, offset)?,
        })
    }

    /// Converts a `wasmparser` reference type to its representation.
    ///
    /// # Errors
    /// A heap type of a later proposal, or a type index not defined yet.
    pub(crate) fn from_ref_type(
        r: wasmparser::RefType,
        ids: &[u32],
        offset: u64,
    ) -> Result<Self, DecodeError> {
        Ok(RefType::of_wasmparser(r, ids, offset)?.repr())
    }

    /// Whether this is a reference type.
    pub const fn is_ref(self) -> bool {
        matches!(self, ValType::FuncRef | ValType::ExternRef | ValType::ExnRef | ValType::AnyRef)
    }
}
