//! The `VisitOperator` and `VisitSimdOperator` implementations, generated from
//! `wasmparser`'s operator lists: operators of the WebAssembly 2.0 proposals (simd128
//! included) go to [`FuncTranslator::op`]; every other operator (relaxed SIMD, GC,
//! tail calls…) is `unsupported: <op> (feature <proposal>)`, a compile error, never a
//! panic.

use wasmparser::{Operator, VisitOperator, VisitSimdOperator};

use super::{FuncTranslator, unsupported};
use vm_core::runtime::CompileError;

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
        $s.op(Operator::$op $({ $($arg),* })?, stringify!($op))
    };
    (@arm $s:ident sign_extension $op:ident $({ $($arg:ident),* })?) => {
        $s.op(Operator::$op $({ $($arg),* })?, stringify!($op))
    };
    (@arm $s:ident saturating_float_to_int $op:ident $({ $($arg:ident),* })?) => {
        $s.op(Operator::$op $({ $($arg),* })?, stringify!($op))
    };
    (@arm $s:ident bulk_memory $op:ident $({ $($arg:ident),* })?) => {
        $s.op(Operator::$op $({ $($arg),* })?, stringify!($op))
    };
    (@arm $s:ident reference_types $op:ident $({ $($arg:ident),* })?) => {
        $s.op(Operator::$op $({ $($arg),* })?, stringify!($op))
    };
    (@arm $s:ident simd $op:ident $({ $($arg:ident),* })?) => {
        $s.op(Operator::$op $({ $($arg),* })?, stringify!($op))
    };
    (@arm $s:ident $proposal:ident $op:ident $({ $($arg:ident),* })?) => {
        Err(unsupported(stringify!($op), stringify!($proposal), $s.offset))
    };
}

impl<'a> VisitOperator<'a> for FuncTranslator<'_, '_, '_> {
    type Output = Result<(), CompileError>;

    fn simd_visitor(&mut self) -> Option<&mut dyn VisitSimdOperator<'a, Output = Self::Output>> {
        Some(self)
    }

    wasmparser::for_each_visit_operator!(define_visit);
}

impl<'a> VisitSimdOperator<'a> for FuncTranslator<'_, '_, '_> {
    wasmparser::for_each_visit_simd_operator!(define_visit);
}
