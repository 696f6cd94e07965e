//! The internal code: a compact stack-machine instruction set ([`Op`], 16 bytes each)
//! with branch targets resolved to instruction indexes and stack adjustments
//! precomputed, so execution never looks at control structure.

/// The numeric operators: one list, expanded into [`Op`] variants, the translator's
/// mapping from `wasmparser::Operator` and the executor's arms.
///
/// Groups: `unary` and `binary` are total; `unary_trap` and `binary_trap` return
/// `Result<_, TrapCode>`. Each entry is `Name (operand types) -> result type = fn`.
macro_rules! for_each_numeric {
    ($m:ident $($extra:tt)*) => {
        $m! {
            $($extra)*
            unary {
                I32Eqz (i32) -> i32 = crate::exec::unary::i32_eqz;
                I64Eqz (i64) -> i32 = crate::exec::unary::i64_eqz;
                I32Clz (u32) -> u32 = u32::leading_zeros;
                I32Ctz (u32) -> u32 = u32::trailing_zeros;
                I32Popcnt (u32) -> u32 = u32::count_ones;
                I64Clz (u64) -> u64 = crate::exec::unary::i64_clz;
                I64Ctz (u64) -> u64 = crate::exec::unary::i64_ctz;
                I64Popcnt (u64) -> u64 = crate::exec::unary::i64_popcnt;
                F32Abs (u32) -> u32 = crate::exec::unary::f32_abs;
                F32Neg (u32) -> u32 = crate::exec::unary::f32_neg;
                F32Ceil (f32) -> f32 = crate::exec::unary::f32_ceil;
                F32Floor (f32) -> f32 = crate::exec::unary::f32_floor;
                F32Trunc (f32) -> f32 = crate::exec::unary::f32_trunc;
                F32Nearest (f32) -> f32 = crate::exec::unary::f32_nearest;
                F32Sqrt (f32) -> f32 = f32::sqrt;
                F64Abs (u64) -> u64 = crate::exec::unary::f64_abs;
                F64Neg (u64) -> u64 = crate::exec::unary::f64_neg;
                F64Ceil (f64) -> f64 = crate::exec::unary::f64_ceil;
                F64Floor (f64) -> f64 = crate::exec::unary::f64_floor;
                F64Trunc (f64) -> f64 = crate::exec::unary::f64_trunc;
                F64Nearest (f64) -> f64 = crate::exec::unary::f64_nearest;
                F64Sqrt (f64) -> f64 = f64::sqrt;
                I32WrapI64 (u64) -> u32 = crate::exec::convert::i32_wrap_i64;
                I64ExtendI32S (i32) -> i64 = crate::exec::convert::i64_extend_i32_s;
                I64ExtendI32U (u32) -> u64 = crate::exec::convert::i64_extend_i32_u;
                F32ConvertI32S (i32) -> f32 = crate::exec::convert::f32_convert_i32_s;
                F32ConvertI32U (u32) -> f32 = crate::exec::convert::f32_convert_i32_u;
                F32ConvertI64S (i64) -> f32 = crate::exec::convert::f32_convert_i64_s;
                F32ConvertI64U (u64) -> f32 = crate::exec::convert::f32_convert_i64_u;
                F32DemoteF64 (f64) -> f32 = crate::exec::convert::f32_demote_f64;
                F64ConvertI32S (i32) -> f64 = crate::exec::convert::f64_convert_i32_s;
                F64ConvertI32U (u32) -> f64 = crate::exec::convert::f64_convert_i32_u;
                F64ConvertI64S (i64) -> f64 = crate::exec::convert::f64_convert_i64_s;
                F64ConvertI64U (u64) -> f64 = crate::exec::convert::f64_convert_i64_u;
                F64PromoteF32 (f32) -> f64 = crate::exec::convert::f64_promote_f32;
                I32ReinterpretF32 (u32) -> u32 = core::convert::identity;
                I64ReinterpretF64 (u64) -> u64 = core::convert::identity;
                F32ReinterpretI32 (u32) -> u32 = core::convert::identity;
                F64ReinterpretI64 (u64) -> u64 = core::convert::identity;
                I32Extend8S (i32) -> i32 = crate::exec::convert::i32_extend8_s;
                I32Extend16S (i32) -> i32 = crate::exec::convert::i32_extend16_s;
                I64Extend8S (i64) -> i64 = crate::exec::convert::i64_extend8_s;
                I64Extend16S (i64) -> i64 = crate::exec::convert::i64_extend16_s;
                I64Extend32S (i64) -> i64 = crate::exec::convert::i64_extend32_s;
                I32TruncSatF32S (f32) -> i32 = crate::exec::convert::i32_trunc_sat_f32_s;
                I32TruncSatF32U (f32) -> u32 = crate::exec::convert::i32_trunc_sat_f32_u;
                I32TruncSatF64S (f64) -> i32 = crate::exec::convert::i32_trunc_sat_f64_s;
                I32TruncSatF64U (f64) -> u32 = crate::exec::convert::i32_trunc_sat_f64_u;
                I64TruncSatF32S (f32) -> i64 = crate::exec::convert::i64_trunc_sat_f32_s;
                I64TruncSatF32U (f32) -> u64 = crate::exec::convert::i64_trunc_sat_f32_u;
                I64TruncSatF64S (f64) -> i64 = crate::exec::convert::i64_trunc_sat_f64_s;
                I64TruncSatF64U (f64) -> u64 = crate::exec::convert::i64_trunc_sat_f64_u;
            }
            unary_trap {
                I32TruncF32S (f32) -> i32 = crate::exec::convert::i32_trunc_f32_s;
                I32TruncF32U (f32) -> u32 = crate::exec::convert::i32_trunc_f32_u;
                I32TruncF64S (f64) -> i32 = crate::exec::convert::i32_trunc_f64_s;
                I32TruncF64U (f64) -> u32 = crate::exec::convert::i32_trunc_f64_u;
                I64TruncF32S (f32) -> i64 = crate::exec::convert::i64_trunc_f32_s;
                I64TruncF32U (f32) -> u64 = crate::exec::convert::i64_trunc_f32_u;
                I64TruncF64S (f64) -> i64 = crate::exec::convert::i64_trunc_f64_s;
                I64TruncF64U (f64) -> u64 = crate::exec::convert::i64_trunc_f64_u;
            }
            binary {
                I64LtS (i64, i64) -> i32 = crate::exec::binary::lt;
                I64GtS (i64, i64) -> i32 = crate::exec::binary::gt;
                I64LeS (i64, i64) -> i32 = crate::exec::binary::le;
                I64LeU (u64, u64) -> i32 = crate::exec::binary::le;
                I64GeS (i64, i64) -> i32 = crate::exec::binary::ge;
                I64GeU (u64, u64) -> i32 = crate::exec::binary::ge;
                F32Eq (f32, f32) -> i32 = crate::exec::binary::eq;
                F32Ne (f32, f32) -> i32 = crate::exec::binary::ne;
                F32Lt (f32, f32) -> i32 = crate::exec::binary::lt;
                F32Gt (f32, f32) -> i32 = crate::exec::binary::gt;
                F32Le (f32, f32) -> i32 = crate::exec::binary::le;
                F32Ge (f32, f32) -> i32 = crate::exec::binary::ge;
                F64Eq (f64, f64) -> i32 = crate::exec::binary::eq;
                F64Ne (f64, f64) -> i32 = crate::exec::binary::ne;
                F64Lt (f64, f64) -> i32 = crate::exec::binary::lt;
                F64Gt (f64, f64) -> i32 = crate::exec::binary::gt;
                F64Le (f64, f64) -> i32 = crate::exec::binary::le;
                F64Ge (f64, f64) -> i32 = crate::exec::binary::ge;
                I64ShrS (i64, u64) -> i64 = crate::exec::binary::i64_shr_s;
                I64Rotl (u64, u64) -> u64 = crate::exec::binary::i64_rotl;
                I64Rotr (u64, u64) -> u64 = crate::exec::binary::i64_rotr;
                F32Add (f32, f32) -> f32 = crate::exec::binary::add;
                F32Sub (f32, f32) -> f32 = crate::exec::binary::sub;
                F32Mul (f32, f32) -> f32 = crate::exec::binary::mul;
                F32Div (f32, f32) -> f32 = crate::exec::binary::div;
                F32Min (f32, f32) -> f32 = crate::exec::binary::f32_min;
                F32Max (f32, f32) -> f32 = crate::exec::binary::f32_max;
                F32Copysign (u32, u32) -> u32 = crate::exec::binary::f32_copysign;
                F64Div (f64, f64) -> f64 = crate::exec::binary::div;
                F64Min (f64, f64) -> f64 = crate::exec::binary::f64_min;
                F64Max (f64, f64) -> f64 = crate::exec::binary::f64_max;
                F64Copysign (u64, u64) -> u64 = crate::exec::binary::f64_copysign;
            }
            fused {
                I32Add [I32AddI I32AddL I32AddLL I32AddLI] (u32, u32) -> u32 = u32::wrapping_add;
                I32Sub [I32SubI I32SubL I32SubLL I32SubLI] (u32, u32) -> u32 = u32::wrapping_sub;
                I32Mul [I32MulI I32MulL I32MulLL I32MulLI] (u32, u32) -> u32 = u32::wrapping_mul;
                I32And [I32AndI I32AndL I32AndLL I32AndLI] (u32, u32) -> u32 = crate::exec::binary::and;
                I32Or [I32OrI I32OrL I32OrLL I32OrLI] (u32, u32) -> u32 = crate::exec::binary::or;
                I32Xor [I32XorI I32XorL I32XorLL I32XorLI] (u32, u32) -> u32 = crate::exec::binary::xor;
                I32Shl [I32ShlI I32ShlL I32ShlLL I32ShlLI] (u32, u32) -> u32 = crate::exec::binary::i32_shl;
                I32ShrS [I32ShrSI I32ShrSL I32ShrSLL I32ShrSLI] (i32, u32) -> i32 = crate::exec::binary::i32_shr_s;
                I32ShrU [I32ShrUI I32ShrUL I32ShrULL I32ShrULI] (u32, u32) -> u32 = crate::exec::binary::i32_shr_u;
                I32Rotl [I32RotlI I32RotlL I32RotlLL I32RotlLI] (u32, u32) -> u32 = u32::rotate_left;
                I32Rotr [I32RotrI I32RotrL I32RotrLL I32RotrLI] (u32, u32) -> u32 = u32::rotate_right;
                I32Eq [I32EqI I32EqL I32EqLL I32EqLI] (i32, i32) -> i32 = crate::exec::binary::eq;
                I32Ne [I32NeI I32NeL I32NeLL I32NeLI] (i32, i32) -> i32 = crate::exec::binary::ne;
                I32LtS [I32LtSI I32LtSL I32LtSLL I32LtSLI] (i32, i32) -> i32 = crate::exec::binary::lt;
                I32LtU [I32LtUI I32LtUL I32LtULL I32LtULI] (u32, u32) -> i32 = crate::exec::binary::lt;
                I32GtS [I32GtSI I32GtSL I32GtSLL I32GtSLI] (i32, i32) -> i32 = crate::exec::binary::gt;
                I32GtU [I32GtUI I32GtUL I32GtULL I32GtULI] (u32, u32) -> i32 = crate::exec::binary::gt;
                I32LeS [I32LeSI I32LeSL I32LeSLL I32LeSLI] (i32, i32) -> i32 = crate::exec::binary::le;
                I32LeU [I32LeUI I32LeUL I32LeULL I32LeULI] (u32, u32) -> i32 = crate::exec::binary::le;
                I32GeS [I32GeSI I32GeSL I32GeSLL I32GeSLI] (i32, i32) -> i32 = crate::exec::binary::ge;
                I32GeU [I32GeUI I32GeUL I32GeULL I32GeULI] (u32, u32) -> i32 = crate::exec::binary::ge;
                I64Add [I64AddI I64AddL I64AddLL I64AddLI] (u64, u64) -> u64 = u64::wrapping_add;
                I64Sub [I64SubI I64SubL I64SubLL I64SubLI] (u64, u64) -> u64 = u64::wrapping_sub;
                I64Mul [I64MulI I64MulL I64MulLL I64MulLI] (u64, u64) -> u64 = u64::wrapping_mul;
                I64And [I64AndI I64AndL I64AndLL I64AndLI] (u64, u64) -> u64 = crate::exec::binary::and;
                I64Or [I64OrI I64OrL I64OrLL I64OrLI] (u64, u64) -> u64 = crate::exec::binary::or;
                I64Xor [I64XorI I64XorL I64XorLL I64XorLI] (u64, u64) -> u64 = crate::exec::binary::xor;
                I64Shl [I64ShlI I64ShlL I64ShlLL I64ShlLI] (u64, u64) -> u64 = crate::exec::binary::i64_shl;
                I64ShrU [I64ShrUI I64ShrUL I64ShrULL I64ShrULI] (u64, u64) -> u64 = crate::exec::binary::i64_shr_u;
                I64Eq [I64EqI I64EqL I64EqLL I64EqLI] (i64, i64) -> i32 = crate::exec::binary::eq;
                I64Ne [I64NeI I64NeL I64NeLL I64NeLI] (i64, i64) -> i32 = crate::exec::binary::ne;
                I64LtU [I64LtUI I64LtUL I64LtULL I64LtULI] (u64, u64) -> i32 = crate::exec::binary::lt;
                I64GtU [I64GtUI I64GtUL I64GtULL I64GtULI] (u64, u64) -> i32 = crate::exec::binary::gt;
                F64Add [F64AddI F64AddL F64AddLL F64AddLI] (f64, f64) -> f64 = crate::exec::binary::add;
                F64Sub [F64SubI F64SubL F64SubLL F64SubLI] (f64, f64) -> f64 = crate::exec::binary::sub;
                F64Mul [F64MulI F64MulL F64MulLL F64MulLI] (f64, f64) -> f64 = crate::exec::binary::mul;
            }
            binary_trap {
                I32DivS (i32, i32) -> i32 = crate::exec::binary::i32_div_s;
                I32DivU (u32, u32) -> u32 = crate::exec::binary::i32_div_u;
                I32RemS (i32, i32) -> i32 = crate::exec::binary::i32_rem_s;
                I32RemU (u32, u32) -> u32 = crate::exec::binary::i32_rem_u;
                I64DivS (i64, i64) -> i64 = crate::exec::binary::i64_div_s;
                I64DivU (u64, u64) -> u64 = crate::exec::binary::i64_div_u;
                I64RemS (i64, i64) -> i64 = crate::exec::binary::i64_rem_s;
                I64RemU (u64, u64) -> u64 = crate::exec::binary::i64_rem_u;
            }
        }
    };
}
pub(crate) use for_each_numeric;

macro_rules! define_op {
    (
        unary { $( $u:ident ($ua:ty) -> $ur:ty = $uf:path; )* }
        unary_trap { $( $ut:ident ($uta:ty) -> $utr:ty = $utf:path; )* }
        binary { $( $b:ident ($ba:ty, $bb:ty) -> $br:ty = $bf:path; )* }
        fused { $( $f:ident [$fi:ident $fl:ident $fll:ident $fli:ident] ($fa:ty, $fb:ty) -> $fr:ty = $ff:path; )* }
        binary_trap { $( $bt:ident ($bta:ty, $btb:ty) -> $btr:ty = $btf:path; )* }
    ) => {
        /// One instruction of the internal code.
        ///
        /// Local indexes are slots from the frame pointer; branch targets are
        /// instruction indexes in the module's code; `drop`/`keep` say how many
        /// values a taken branch discards below the `keep` values it carries.
        #[derive(Clone, Copy, Debug, PartialEq)]
        #[allow(missing_docs)]
        pub enum Op {
            Unreachable,
            /// Charge fuel for the straight-line code that follows.
            Fuel(u32),
            Br { target: u32 },
            BrAdjust { target: u32, drop: u32, keep: u32 },
            BrIf { target: u32 },
            BrIfAdjust { target: u32, drop: u32, keep: u32 },
            /// Branch when the condition is zero (`if`).
            BrIfNot { target: u32 },
            /// Jump to one of the `len + 1` branch instructions that follow.
            BrTable { len: u32 },
            /// Return `results` values from the current function.
            Return { results: u32 },
            /// Call a function defined in this module (index without imports).
            Call { func: u32 },
            /// Call an imported function (module index).
            CallImport { func: u32 },
            CallIndirect { ty: u32, table: u32 },
            Drop,
            Select,
            LocalGet(u32),
            LocalSet(u32),
            LocalTee(u32),
            GlobalGet(u32),
            GlobalSet(u32),
            Const(u64),
            I32Load { offset: u32 },
            I64Load { offset: u32 },
            F32Load { offset: u32 },
            F64Load { offset: u32 },
            I32Load8S { offset: u32 },
            I32Load8U { offset: u32 },
            I32Load16S { offset: u32 },
            I32Load16U { offset: u32 },
            I64Load8S { offset: u32 },
            I64Load8U { offset: u32 },
            I64Load16S { offset: u32 },
            I64Load16U { offset: u32 },
            I64Load32S { offset: u32 },
            I64Load32U { offset: u32 },
            I32Store { offset: u32 },
            I64Store { offset: u32 },
            F32Store { offset: u32 },
            F64Store { offset: u32 },
            I32Store8 { offset: u32 },
            I32Store16 { offset: u32 },
            I64Store8 { offset: u32 },
            I64Store16 { offset: u32 },
            I64Store32 { offset: u32 },
            MemorySize,
            MemoryGrow,
            MemoryFill,
            MemoryCopy,
            MemoryInit(u32),
            DataDrop(u32),
            TableGet(u32),
            TableSet(u32),
            TableSize(u32),
            TableGrow(u32),
            TableFill(u32),
            TableCopy { dst: u32, src: u32 },
            TableInit { table: u32, elem: u32 },
            ElemDrop(u32),
            RefIsNull,
            RefFunc(u32),
            $( $u, )*
            $( $ut, )*
            $( $b, )*
            $( $bt, )*
            $( $f, )*
            /// Fused: the right operand is a constant.
            $( $fi(u64), )*
            /// Fused: the right operand is a local.
            $( $fl(u32), )*
            /// Fused: both operands are locals.
            $( $fll(u32, u32), )*
            /// Fused: a local and a constant.
            $( $fli(u32, u64), )*
        }

        impl Op {
            /// The numeric `Op` for a numeric operator, with its stack effect.
            pub(crate) fn numeric(op: &wasmparser::Operator<'_>) -> Option<(Op, i32)> {
                use wasmparser::Operator as O;
                Some(match op {
                    $( O::$u => (Op::$u, 0), )*
                    $( O::$ut => (Op::$ut, 0), )*
                    $( O::$b => (Op::$b, -1), )*
                    $( O::$bt => (Op::$bt, -1), )*
                    $( O::$f => (Op::$f, -1), )*
                    _ => return None,
                })
            }

            /// Fuses a binary `self` with the operand-pushing ops before it (`prev2`,
            /// `prev`); returns the fused op and how many previous ops it replaces.
            pub(crate) fn fuse(self, prev2: Option<Op>, prev: Option<Op>) -> Option<(Op, usize)> {
                match self {
                    $( Op::$f => match (prev2, prev) {
                        (Some(Op::LocalGet(a)), Some(Op::LocalGet(b))) => Some((Op::$fll(a, b), 2)),
                        (Some(Op::LocalGet(a)), Some(Op::Const(c))) => Some((Op::$fli(a, c), 2)),
                        (_, Some(Op::Const(c))) => Some((Op::$fi(c), 1)),
                        (_, Some(Op::LocalGet(b))) => Some((Op::$fl(b), 1)),
                        _ => None,
                    }, )*
                    _ => None,
                }
            }
        }
    };
}
for_each_numeric!(define_op);

const _: () = assert!(core::mem::size_of::<Op>() == 16);

/// A translated function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FuncCode {
    /// First instruction.
    pub entry: u32,
    /// Parameter count.
    pub params: u32,
    /// Declared locals (zeroed on entry), excluding parameters.
    pub locals: u32,
    /// Stack slots the function needs beyond its locals.
    pub max_height: u32,
    /// Module function index (for backtraces).
    pub index: u32,
}

/// A translated module: every defined function's code in one array.
#[derive(Debug, Default)]
pub struct ModuleCode {
    /// All instructions.
    pub ops: Box<[Op]>,
    /// Defined functions, by index without imports.
    pub funcs: Box<[FuncCode]>,
    /// Imported function count.
    pub num_imported_funcs: u32,
}
