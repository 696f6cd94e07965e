//! WebAssembly types as the runtime sees them (2.0, plus `v128`).

use super::ValType;
use super::error::DecodeError;

/// A function signature.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FuncType {
    params: Box<[ValType]>,
    results: Box<[ValType]>,
}

impl FuncType {
    /// A signature with these parameters and results.
    pub fn new(params: impl Into<Box<[ValType]>>, results: impl Into<Box<[ValType]>>) -> Self {
        Self { params: params.into(), results: results.into() }
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
    /// Element type: [`ValType::FuncRef`] or [`ValType::ExternRef`].
    pub elem: ValType,
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
    /// Value type.
    pub ty: ValType,
    /// Whether `global.set` is allowed.
    pub mutable: bool,
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
        write!(f, " {})", self.elem)
    }
}

/// The text format: `(global (mut i32))`.
impl core::fmt::Display for GlobalType {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        if self.mutable {
            write!(f, "(global (mut {}))", self.ty)
        } else {
            write!(f, "(global {})", self.ty)
        }
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
    /// A typed reference other than `funcref`/`externref` (GC proposal).
    pub(crate) fn from_wasmparser(
        ty: wasmparser::ValType,
        offset: u64,
    ) -> Result<Self, DecodeError> {
        Ok(match ty {
            wasmparser::ValType::I32 => ValType::I32,
            wasmparser::ValType::I64 => ValType::I64,
            wasmparser::ValType::F32 => ValType::F32,
            wasmparser::ValType::F64 => ValType::F64,
            wasmparser::ValType::V128 => ValType::V128,
            wasmparser::ValType::Ref(r) => Self::from_ref_type(r, offset)?,
        })
    }

    /// Converts a `wasmparser` reference type.
    ///
    /// # Errors
    /// A typed reference other than `funcref`/`externref`/`exnref` (GC proposal).
    pub(crate) fn from_ref_type(r: wasmparser::RefType, offset: u64) -> Result<Self, DecodeError> {
        if r == wasmparser::RefType::FUNCREF {
            Ok(ValType::FuncRef)
        } else if r == wasmparser::RefType::EXTERNREF {
            Ok(ValType::ExternRef)
        } else if r == wasmparser::RefType::EXNREF {
            Ok(ValType::ExnRef)
        } else {
            Err(DecodeError::unsupported("gc", offset))
        }
    }

    /// Whether this is a reference type.
    pub const fn is_ref(self) -> bool {
        matches!(self, ValType::FuncRef | ValType::ExternRef | ValType::ExnRef)
    }
}
