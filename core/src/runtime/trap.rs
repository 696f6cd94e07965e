//! Traps: values, never panics or crashes of the host.

use core::fmt;

/// Why execution trapped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TrapCode {
    /// `unreachable` executed.
    Unreachable,
    /// Out-of-bounds linear memory access.
    MemoryOutOfBounds,
    /// Out-of-bounds table access.
    TableOutOfBounds,
    /// `call_indirect` through a null entry.
    IndirectCallToNull,
    /// `call_indirect` signature mismatch.
    BadSignature,
    /// Integer division by zero.
    IntegerDivisionByZero,
    /// Integer overflow (`i32.div_s` of MIN by -1, float-to-int out of range).
    IntegerOverflow,
    /// Float-to-int conversion of NaN.
    BadConversionToInteger,
    /// Call stack exhausted.
    StackOverflow,
    /// Fuel ran out.
    OutOfFuel,
    /// The epoch deadline passed.
    Interrupted,
    /// A null reference was dereferenced (`ref.as_non_null`).
    NullReference,
    /// `call_ref` or `return_call_ref` of a null reference.
    NullFunctionReference,
    /// Element or data segment access out of bounds.
    ElementOutOfBounds,
    /// A host function failed.
    HostError,
    /// The guest asked to exit (WASI `proc_exit`) with this status.
    Exit(i32),
    /// A thrown exception, as a raw `exnref` of the store (see
    /// [`Store::new_exception`](super::Store::new_exception)): how engines carry an
    /// exception out of a call. No handler caught it; the embedding API reports it
    /// as [`InvokeError::Exception`](super::InvokeError::Exception), not as a trap.
    Exception(u32),
    /// `struct.get`/`struct.set` of a null reference (GC).
    NullStructReference,
    /// An array instruction on a null reference (GC).
    NullArrayReference,
    /// `i31.get_s`/`i31.get_u` of a null reference (GC).
    NullI31Reference,
    /// An array access or bulk array operation out of bounds (GC).
    ArrayOutOfBounds,
    /// `ref.cast` of a value not of the target type (GC).
    CastFailure,
    /// The collector's heap is exhausted (its limit reached even after collecting).
    OutOfGcMemory,
}

impl TrapCode {
    /// The message a user reads (matches the spec testsuite's wording where it has one).
    pub const fn message(&self) -> &'static str {
        match self {
            TrapCode::Unreachable => "unreachable",
            TrapCode::MemoryOutOfBounds => "out of bounds memory access",
            TrapCode::TableOutOfBounds => "out of bounds table access",
            TrapCode::IndirectCallToNull => "uninitialized element",
            TrapCode::BadSignature => "indirect call type mismatch",
            TrapCode::IntegerDivisionByZero => "integer divide by zero",
            TrapCode::IntegerOverflow => "integer overflow",
            TrapCode::BadConversionToInteger => "invalid conversion to integer",
            TrapCode::StackOverflow => "call stack exhausted",
            TrapCode::OutOfFuel => "out of fuel",
            TrapCode::Interrupted => "interrupted",
            TrapCode::NullReference => "null reference",
            TrapCode::NullFunctionReference => "null function reference",
            TrapCode::ElementOutOfBounds => "out of bounds table access",
            TrapCode::HostError => "host error",
            TrapCode::Exit(_) => "exit",
            TrapCode::Exception(_) => "uncaught exception",
            TrapCode::NullStructReference => "null structure reference",
            TrapCode::NullArrayReference => "null array reference",
            TrapCode::NullI31Reference => "null i31 reference",
            TrapCode::ArrayOutOfBounds => "out of bounds array access",
            TrapCode::CastFailure => "cast failure",
            TrapCode::OutOfGcMemory => "out of memory: gc heap",
        }
    }
}

/// One frame of a wasm backtrace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FrameInfo {
    /// Function index in its module.
    pub func_index: u32,
    /// Function name from the name section, when present.
    pub func_name: Option<String>,
    /// Byte offset of the instruction in the module, when known.
    pub offset: Option<u32>,
}

/// A trap: a code, an optional message, and the wasm backtrace (innermost first).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trap {
    /// Why execution trapped.
    pub code: TrapCode,
    /// Extra detail (a host function's error), if any.
    pub message: Option<String>,
    /// Wasm frames, innermost first.
    pub backtrace: Vec<FrameInfo>,
}

impl Trap {
    /// A trap with this code and no backtrace yet.
    pub fn new(code: TrapCode) -> Self {
        Self { code, message: None, backtrace: Vec::new() }
    }

    /// A host error with a message.
    pub fn host(message: impl Into<String>) -> Self {
        Self { code: TrapCode::HostError, message: Some(message.into()), backtrace: Vec::new() }
    }

    /// The guest asked to exit with `status`.
    pub fn exit(status: i32) -> Self {
        Self::new(TrapCode::Exit(status))
    }
}

impl From<TrapCode> for Trap {
    fn from(code: TrapCode) -> Self {
        Trap::new(code)
    }
}

impl fmt::Display for Trap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.code, &self.message) {
            (TrapCode::Exit(s), _) => write!(f, "exit with status {s}")?,
            (_, Some(m)) => write!(f, "{}: {m}", self.code.message())?,
            (_, None) => f.write_str(self.code.message())?,
        }
        if !self.backtrace.is_empty() {
            f.write_str("\nwasm backtrace:")?;
            // Runs of the same frame (deep recursion) print once with a count, and at
            // most `MAX_LINES` lines print, so a stack overflow stays readable.
            const MAX_LINES: usize = 32;
            let frames = &self.backtrace;
            let (mut i, mut lines) = (0, 0);
            while i < frames.len() {
                let run = frames[i..].iter().take_while(|fr| **fr == frames[i]).count();
                if lines == MAX_LINES {
                    write!(f, "\n  ... {} more frames", frames.len() - i)?;
                    break;
                }
                write!(f, "\n  {i:>2}: ")?;
                let fr = &frames[i];
                if let Some(off) = fr.offset {
                    write!(f, "{off:#08x} - ")?;
                }
                match &fr.func_name {
                    Some(n) => write!(f, "{n}")?,
                    None => write!(f, "<wasm function {}>", fr.func_index)?,
                }
                if run > 1 {
                    write!(f, " (repeated {run} times)")?;
                }
                i += run;
                lines += 1;
            }
        }
        Ok(())
    }
}

impl std::error::Error for Trap {}
