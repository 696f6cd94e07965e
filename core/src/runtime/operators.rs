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

use wasmparser::{FrameKind, FrameStack, Operator, VisitOperator, VisitSimdOperator};

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

/// For `BinaryReader::visit_operator` over a function body that validation
/// accepted: the frame stack serves the binary format's syntactic checks (an
/// `else` inside an `if`, no operator after the body's last `end`), which
/// validation has already made, so it tracks nothing (`OperatorsReader` keeps a
/// second control stack for them, pushed and popped at every block and read at
/// every operator) and always answers `If`, the one frame kind a check of a
/// validated body can ask for. A caller stops at the
/// end of the body's bytes itself. `OperatorsReader::visit_operator` keeps its own
/// frame stack and never asks this one.
impl<'a, T: OperatorSink<'a>> FrameStack for Wasm2Operators<'_, T> {
    fn current_frame(&self) -> Option<FrameKind> {
        Some(FrameKind::If)
    }
}

macro_rules! define_memory_index {
    ($( @$proposal:ident $op:ident $({ $($arg:ident: $argty:ty),* })? => $visit:ident ($($ann:tt)*) )*) => {
        /// The linear memory `op` reads or writes, if any: the memory of its
        /// `memarg`, or its `mem` immediate (`memory.copy`: the destination; see
        /// [`memory_copy_indexes`]).
        pub fn memory_index(op: &Operator<'_>) -> Option<u32> {
            #[allow(unused_variables, unused_mut, unused_assignments, unreachable_patterns)]
            match op {
                $(
                    Operator::$op $({ $($arg),* })? => {
                        let mut m = None;
                        $($( define_memory_index!(@arg m [$arg] $arg); )*)?
                        m
                    }
                )*
                _ => None,
            }
        }
    };
    (@arg $m:ident [memarg] $a:ident) => {
        if let wasmparser::MemArgTarget::Memory(i) = $a.target {
            $m = Some(i);
        }
    };
    (@arg $m:ident [mem] $a:ident) => {
        $m = Some(*$a);
    };
    (@arg $m:ident [dst_mem] $a:ident) => {
        $m = Some(*$a);
    };
    (@arg $m:ident [$other:ident] $a:ident) => {};
}

wasmparser::for_each_operator!(define_memory_index);

/// How an operator on a 64-bit memory or table (memory64, table64) is lowered
/// onto its 32-bit form: clamp the operands [`Index64::clamp`] names with
/// [`clamp_index64`](super::memory::clamp_index64), run the 32-bit operator, then
/// widen its result as [`Index64::result`] says. Exact: see `clamp_index64`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Index64 {
    /// The `i64` operands to clamp: bit `d` is the operand `d` places below the top
    /// of the stack (bit 0: the top).
    pub clamp: u8,
    /// What the 32-bit result becomes.
    pub result: Widen,
}

/// How the 32-bit result of a lowered memory64 or table64 operator becomes an `i64`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Widen {
    /// No result, or not an index (a load's value).
    None,
    /// A size (`memory.size`, `table.size`): zero-extended.
    Size,
    /// A `grow` result: sign-extended (`-1`, failure, stays `-1`).
    Grow,
}

/// The [`Index64`] lowering of `op` in a module whose memories and tables are
/// `memories` and `tables` (index spaces, imports first), or `None` when `op` uses
/// no 64-bit memory or table.
pub fn index64(
    op: &Operator<'_>,
    memories: &[super::MemoryType],
    tables: &[super::TableType],
) -> Option<Index64> {
    use Operator as O;
    let m64 = |m: u32| memories.get(m as usize).is_some_and(|t| t.index64);
    let t64 = |t: u32| tables.get(t as usize).is_some_and(|t| t.index64);
    let (clamp, result) = match *op {
        O::MemorySize { mem } if m64(mem) => (0, Widen::Size),
        O::MemoryGrow { mem } if m64(mem) => (0b1, Widen::Grow),
        O::MemoryFill { mem } if m64(mem) => (0b101, Widen::None),
        O::MemoryInit { mem, .. } if m64(mem) => (0b100, Widen::None),
        O::MemoryCopy { dst_mem, src_mem } => {
            let (d, s) = (m64(dst_mem), m64(src_mem));
            (u8::from(d) << 2 | u8::from(s) << 1 | u8::from(d && s), Widen::None)
        }
        O::TableGet { table } | O::CallIndirect { table_index: table, .. } if t64(table) => {
            (0b1, Widen::None)
        }
        O::TableSet { table } if t64(table) => (0b10, Widen::None),
        O::TableSize { table } if t64(table) => (0, Widen::Size),
        O::TableGrow { table } if t64(table) => (0b1, Widen::Grow),
        O::TableFill { table } if t64(table) => (0b101, Widen::None),
        O::TableInit { table, .. } if t64(table) => (0b100, Widen::None),
        O::TableCopy { dst_table, src_table } => {
            let (d, s) = (t64(dst_table), t64(src_table));
            (u8::from(d) << 2 | u8::from(s) << 1 | u8::from(d && s), Widen::None)
        }
        _ => {
            let m = memory_index(op)?;
            if !m64(m) {
                return None;
            }
            // A load's address is its only operand; a store's and a lane
            // operator's sits below the value.
            let below = matches!(
                op,
                O::I32Store { .. }
                    | O::I64Store { .. }
                    | O::F32Store { .. }
                    | O::F64Store { .. }
                    | O::I32Store8 { .. }
                    | O::I32Store16 { .. }
                    | O::I64Store8 { .. }
                    | O::I64Store16 { .. }
                    | O::I64Store32 { .. }
                    | O::V128Store { .. }
                    | O::V128Load8Lane { .. }
                    | O::V128Load16Lane { .. }
                    | O::V128Load32Lane { .. }
                    | O::V128Load64Lane { .. }
                    | O::V128Store8Lane { .. }
                    | O::V128Store16Lane { .. }
                    | O::V128Store32Lane { .. }
                    | O::V128Store64Lane { .. }
            );
            (if below { 0b10 } else { 0b1 }, Widen::None)
        }
    };
    (clamp != 0 || result != Widen::None).then_some(Index64 { clamp, result })
}

/// `memory.copy`'s destination and source memories, else `None`.
pub fn memory_copy_indexes(op: &Operator<'_>) -> Option<(u32, u32)> {
    match *op {
        Operator::MemoryCopy { dst_mem, src_mem } => Some((dst_mem, src_mem)),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
