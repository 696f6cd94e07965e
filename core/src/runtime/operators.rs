//! The operator filter every engine's translator sits behind: [`Wasm2Operators`]
//! implements `wasmparser`'s `VisitOperator` and `VisitSimdOperator` from its one
//! operator list, hands the operators of the WebAssembly 2.0 proposals
//! (`mvp`, `sign_extension`, `saturating_float_to_int`, `bulk_memory`,
//! `reference_types`, `simd`) and of the 3.0 proposals every engine lowers (`tail_call`:
//! `return_call`, `return_call_indirect`; `function_references`: `call_ref`,
//! `return_call_ref`, `ref.as_non_null`, `br_on_null`, `br_on_non_null`) to the
//! engine's [`OperatorSink`], and turns every other operator (relaxed SIMD, GC,
//! threads…) into
//! `unsupported: <op> (feature <proposal>)`, a compile error, never a panic. Coverage
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
    (@arm $s:ident tail_call $op:ident $({ $($arg:ident),* })?) => {
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
