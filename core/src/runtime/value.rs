//! WebAssembly values and value types as the embedding API sees them.

use core::fmt;

/// A value type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ValType {
    /// 32-bit integer.
    I32,
    /// 64-bit integer.
    I64,
    /// 32-bit float.
    F32,
    /// 64-bit float.
    F64,
    /// 128-bit vector.
    V128,
    /// Nullable function reference.
    FuncRef,
    /// Nullable external reference.
    ExternRef,
    /// Nullable exception reference (exception handling).
    ExnRef,
    /// Nullable reference of the `any` hierarchy (GC): structs, arrays, `i31` and
    /// internalized external references.
    AnyRef,
}

impl ValType {
    /// The 8-byte slots a value of this type takes: two for a `v128`, one for any
    /// other (see [`Store::put_val64`](super::Store::put_val64)).
    #[inline]
    pub fn slots64(self) -> u32 {
        if self == ValType::V128 { 2 } else { 1 }
    }
}

impl fmt::Display for ValType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ValType::I32 => "i32",
            ValType::I64 => "i64",
            ValType::F32 => "f32",
            ValType::F64 => "f64",
            ValType::V128 => "v128",
            ValType::FuncRef => "funcref",
            ValType::ExternRef => "externref",
            ValType::ExnRef => "exnref",
            ValType::AnyRef => "anyref",
        })
    }
}

/// A value. Floats are kept as bits so NaN payloads survive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Val {
    /// i32
    I32(i32),
    /// i64
    I64(i64),
    /// f32, as bits
    F32(u32),
    /// f64, as bits
    F64(u64),
    /// v128
    V128(u128),
    /// funcref: `None` is null; otherwise an opaque function handle of the store.
    FuncRef(Option<u32>),
    /// externref: `None` is null; otherwise the host's opaque value.
    ExternRef(Option<u32>),
    /// exnref: `None` is null; otherwise an exception's address in the store (see
    /// [`Store::exception`](super::Store::exception)).
    ExnRef(Option<u32>),
    /// anyref (GC): `None` is null. Non-null references of the `any` hierarchy reach
    /// the embedding API once a composition accepts GC modules (handles that root
    /// their object; no engine does yet).
    AnyRef(Option<u32>),
}

impl Val {
    /// The value's type.
    pub const fn ty(&self) -> ValType {
        match self {
            Val::I32(_) => ValType::I32,
            Val::I64(_) => ValType::I64,
            Val::F32(_) => ValType::F32,
            Val::F64(_) => ValType::F64,
            Val::V128(_) => ValType::V128,
            Val::FuncRef(_) => ValType::FuncRef,
            Val::ExternRef(_) => ValType::ExternRef,
            Val::ExnRef(_) => ValType::ExnRef,
            Val::AnyRef(_) => ValType::AnyRef,
        }
    }

    /// The zero value of a type (null for references).
    pub const fn default_for(ty: ValType) -> Val {
        match ty {
            ValType::I32 => Val::I32(0),
            ValType::I64 => Val::I64(0),
            ValType::F32 => Val::F32(0),
            ValType::F64 => Val::F64(0),
            ValType::V128 => Val::V128(0),
            ValType::FuncRef => Val::FuncRef(None),
            ValType::ExternRef => Val::ExternRef(None),
            ValType::ExnRef => Val::ExnRef(None),
            ValType::AnyRef => Val::AnyRef(None),
        }
    }
}

impl fmt::Display for Val {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Val::I32(v) => write!(f, "{v}"),
            Val::I64(v) => write!(f, "{v}"),
            Val::F32(b) => write!(f, "{}", f32::from_bits(*b)),
            Val::F64(b) => write!(f, "{}", f64::from_bits(*b)),
            Val::V128(v) => write!(f, "0x{v:032x}"),
            Val::FuncRef(None) | Val::ExternRef(None) | Val::ExnRef(None) | Val::AnyRef(None) => {
                f.write_str("null")
            }
            Val::FuncRef(Some(i)) => write!(f, "funcref:{i}"),
            Val::ExternRef(Some(i)) => write!(f, "externref:{i}"),
            Val::ExnRef(Some(i)) => write!(f, "exnref:{i}"),
            Val::AnyRef(Some(i)) => write!(f, "anyref:{i}"),
        }
    }
}
