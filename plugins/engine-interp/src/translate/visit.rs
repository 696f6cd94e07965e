//! The `VisitOperator` implementation, generated from `wasmparser`'s one operator
//! list: operators of WebAssembly 2.0 proposals go to [`FuncTranslator::op`]; every
//! other proposal's operators are `unsupported: <op> (feature <proposal>)`.

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

impl<'a> VisitOperator<'a> for FuncTranslator<'_> {
    type Output = Result<(), CompileError>;

    wasmparser::for_each_visit_operator!(define_visit);

    fn simd_visitor(&mut self) -> Option<&mut dyn VisitSimdOperator<'a, Output = Self::Output>> {
        Some(self)
    }
}

impl<'a> VisitSimdOperator<'a> for FuncTranslator<'_> {
    wasmparser::for_each_visit_simd_operator!(define_visit);
}
