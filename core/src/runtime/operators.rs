//! The operator filter every engine's translator sits behind: [`Wasm2Operators`]
//! implements `wasmparser`'s `VisitOperator` and `VisitSimdOperator` from its one
//! operator list, hands the operators of the WebAssembly 2.0 proposals
//! (`mvp`, `sign_extension`, `saturating_float_to_int`, `bulk_memory`,
//! `reference_types`, `simd`) and of the WebAssembly 3.0 proposals other than GC
//! (`relaxed_simd`, `tail_call`, `exceptions`, `function_references`) to the engine's
//! [`OperatorSink`], and turns every other operator (GC, threads, legacy exceptions,
//! stack switching…) into `unsupported: <op> (feature <proposal>)`, a compile error,
//! never a panic. Validation has already rejected a 3.0 operator the composition does
//! not accept ([`super::Features`], decided by the engine's `PROPOSALS`), so an engine
//! sees only those it declared. Coverage
//! is exhaustive at compile time: a new `wasmparser` operator lands in one of the two
//! arms.
//!
//! An engine's translator implements [`OperatorSink`] and reads a body with
//! `reader.visit_operator(&mut Wasm2Operators(&mut translator))`, one operator at a
//! time, setting the offset it reports before each.

use wasmparser::{Operator, VisitOperator, VisitSimdOperator};

use super::error::CompileError;

/// An engine's translator of single operators.
pub trait OperatorSink<'a> {
    /// Translates `op` (named `name`, its `wasmparser` variant), an operator of a
    /// WebAssembly 2.0 proposal, of tail calls or of typed function references (a
    /// module reaches the engine with those only when its composition accepts the
    /// proposal, see [`crate::compose::features_of`]).
    ///
    /// # Errors
    /// Whatever the engine cannot translate.
    fn translate(&mut self, op: Operator<'a>, name: &'static str) -> Result<(), CompileError>;

    /// The byte offset of the operator being translated (for errors).
    fn offset(&self) -> u64;
}

/// The relaxed SIMD operators whose result this VM defines as a WebAssembly 2.0
/// operator's (see [`super::simd`], "Relaxed SIMD") become that operator; the others
/// (`relaxed_madd`/`nmadd`, the dot products) stay as they are.
pub fn relaxed_as_wasm2(op: Operator<'_>) -> Operator<'_> {
    use Operator as O;
    match op {
        O::I8x16RelaxedSwizzle => O::I8x16Swizzle,
        O::I32x4RelaxedTruncF32x4S => O::I32x4TruncSatF32x4S,
        O::I32x4RelaxedTruncF32x4U => O::I32x4TruncSatF32x4U,
        O::I32x4RelaxedTruncF64x2SZero => O::I32x4TruncSatF64x2SZero,
        O::I32x4RelaxedTruncF64x2UZero => O::I32x4TruncSatF64x2UZero,
        O::I8x16RelaxedLaneselect
        | O::I16x8RelaxedLaneselect
        | O::I32x4RelaxedLaneselect
        | O::I64x2RelaxedLaneselect => O::V128Bitselect,
        O::F32x4RelaxedMin => O::F32x4Min,
        O::F32x4RelaxedMax => O::F32x4Max,
        O::F64x2RelaxedMin => O::F64x2Min,
        O::F64x2RelaxedMax => O::F64x2Max,
        O::I16x8RelaxedQ15mulrS => O::I16x8Q15MulrSatS,
        other => other,
    }
}

/// The [filter](self) in front of an [`OperatorSink`]: pass it to
/// `OperatorsReader::visit_operator`.
pub struct Wasm2Operators<'s, T>(pub &'s mut T);

macro_rules! define_visit {
    ($( @$proposal:ident $op:ident $({ $($arg:ident: $argty:ty),* })? => $visit:ident ($($ann:tt)*) )*) => {
        $(
            #[allow(unused_variables)]
            fn $visit(&mut self $($(, $arg: $argty)*)?) -> Self::Output {
                define_visit!(@arm self $proposal $op $({ $($arg),* })?)
            }
        )*
    };
    (@arm $s:ident mvp $op:ident $({ $($arg:ident),* })?) => {
        $s.0.translate(Operator::$op $({ $($arg),* })?, stringify!($op))
    };
    (@arm $s:ident sign_extension $op:ident $({ $($arg:ident),* })?) => {
        $s.0.translate(Operator::$op $({ $($arg),* })?, stringify!($op))
    };
    (@arm $s:ident saturating_float_to_int $op:ident $({ $($arg:ident),* })?) => {
        $s.0.translate(Operator::$op $({ $($arg),* })?, stringify!($op))
    };
    (@arm $s:ident bulk_memory $op:ident $({ $($arg:ident),* })?) => {
        $s.0.translate(Operator::$op $({ $($arg),* })?, stringify!($op))
    };
    (@arm $s:ident reference_types $op:ident $({ $($arg:ident),* })?) => {
        $s.0.translate(Operator::$op $({ $($arg),* })?, stringify!($op))
    };
    (@arm $s:ident simd $op:ident $({ $($arg:ident),* })?) => {
        $s.0.translate(Operator::$op $({ $($arg),* })?, stringify!($op))
    };
    (@arm $s:ident relaxed_simd $op:ident $({ $($arg:ident),* })?) => {
        $s.0.translate(relaxed_as_wasm2(Operator::$op $({ $($arg),* })?), stringify!($op))
    };
    (@arm $s:ident tail_call $op:ident $({ $($arg:ident),* })?) => {
        $s.0.translate(Operator::$op $({ $($arg),* })?, stringify!($op))
    };
    (@arm $s:ident exceptions $op:ident $({ $($arg:ident),* })?) => {
        $s.0.translate(Operator::$op $({ $($arg),* })?, stringify!($op))
    };
    (@arm $s:ident function_references $op:ident $({ $($arg:ident),* })?) => {
        $s.0.translate(Operator::$op $({ $($arg),* })?, stringify!($op))
    };
    (@arm $s:ident $proposal:ident $op:ident $({ $($arg:ident),* })?) => {
        Err(CompileError::unsupported(stringify!($op), stringify!($proposal), $s.0.offset()))
    };
}

impl<'a, T: OperatorSink<'a>> VisitOperator<'a> for Wasm2Operators<'_, T> {
    type Output = Result<(), CompileError>;

    wasmparser::for_each_visit_operator!(define_visit);

    fn simd_visitor(&mut self) -> Option<&mut dyn VisitSimdOperator<'a, Output = Self::Output>> {
        Some(self)
    }
}

impl<'a, T: OperatorSink<'a>> VisitSimdOperator<'a> for Wasm2Operators<'_, T> {
    wasmparser::for_each_visit_simd_operator!(define_visit);
}

#[cfg(test)]
mod tests;
