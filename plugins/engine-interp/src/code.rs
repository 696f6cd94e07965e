//! The internal code: a register-machine instruction set ([`Op`], 20 bytes each: a
//! tag and up to four 32-bit operands).
//!
//! Operands are frame slots (`u32` indexes from the frame pointer): parameters
//! first, then declared locals, then the temporaries the translator assigns to each
//! operand-stack height. A `v128` takes two consecutive slots (low half first) and
//! is named by the first. Branch offsets are relative to the next instruction, so
//! execution never looks at control structure.

/// The numeric operators: one list, expanded into [`Op`] variants, the translator's
/// mapping from `wasmparser::Operator` and the executor's arms.
///
/// Groups: `unary` and `binary` are total; `unary_trap` and `binary_trap` return
/// `Result<_, TrapCode>`; `binary_imm` also has a variant whose right operand is an
/// immediate (`i32`, widened by the named function); `branch` lists the integer
/// comparisons that fuse with a following conditional branch, with the branch
/// variants of their negation; `add_branch` lists the 32-bit compare-and-branch
/// instructions that also fuse with an `i32.add` before them that increments their
/// left operand in place (by a slot, or by an immediate), or with an `i32.load`
/// (offset 0) before them that loads their left operand; `f64_pair` lists the
/// fusions of two `f64` operators where the first's result is the second's left
/// (`l`: `(a op1 b) op2 c`) or right (`r`: `c op2 (a op1 b)`) operand. Each entry is
/// `Name (operand types) -> result = fn`.
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
                F32Add (f32, f32) -> f32 = crate::exec::binary::add;
                F32Sub (f32, f32) -> f32 = crate::exec::binary::sub;
                F32Mul (f32, f32) -> f32 = crate::exec::binary::mul;
                F32Div (f32, f32) -> f32 = crate::exec::binary::div;
                F32Min (f32, f32) -> f32 = crate::exec::binary::f32_min;
                F32Max (f32, f32) -> f32 = crate::exec::binary::f32_max;
                F32Copysign (u32, u32) -> u32 = crate::exec::binary::f32_copysign;
                F64Add (f64, f64) -> f64 = crate::exec::binary::add;
                F64Sub (f64, f64) -> f64 = crate::exec::binary::sub;
                F64Mul (f64, f64) -> f64 = crate::exec::binary::mul;
                F64Div (f64, f64) -> f64 = crate::exec::binary::div;
                F64Min (f64, f64) -> f64 = crate::exec::binary::f64_min;
                F64Max (f64, f64) -> f64 = crate::exec::binary::f64_max;
                F64Copysign (u64, u64) -> u64 = crate::exec::binary::f64_copysign;
            }
            binary_imm {
                I32Add [I32AddImm] (u32, u32) -> u32 = u32::wrapping_add, crate::exec::raw::imm32;
                I32Sub [I32SubImm] (u32, u32) -> u32 = u32::wrapping_sub, crate::exec::raw::imm32;
                I32Mul [I32MulImm] (u32, u32) -> u32 = u32::wrapping_mul, crate::exec::raw::imm32;
                I32And [I32AndImm] (u32, u32) -> u32 = crate::exec::binary::and, crate::exec::raw::imm32;
                I32Or [I32OrImm] (u32, u32) -> u32 = crate::exec::binary::or, crate::exec::raw::imm32;
                I32Xor [I32XorImm] (u32, u32) -> u32 = crate::exec::binary::xor, crate::exec::raw::imm32;
                I32Shl [I32ShlImm] (u32, u32) -> u32 = crate::exec::binary::i32_shl, crate::exec::raw::imm32;
                I32ShrS [I32ShrSImm] (i32, u32) -> i32 = crate::exec::binary::i32_shr_s, crate::exec::raw::imm32;
                I32ShrU [I32ShrUImm] (u32, u32) -> u32 = crate::exec::binary::i32_shr_u, crate::exec::raw::imm32;
                I32Rotl [I32RotlImm] (u32, u32) -> u32 = u32::rotate_left, crate::exec::raw::imm32;
                I32Rotr [I32RotrImm] (u32, u32) -> u32 = u32::rotate_right, crate::exec::raw::imm32;
                I32Eq [I32EqImm] (i32, i32) -> i32 = crate::exec::binary::eq, crate::exec::raw::imm32;
                I32Ne [I32NeImm] (i32, i32) -> i32 = crate::exec::binary::ne, crate::exec::raw::imm32;
                I32LtS [I32LtSImm] (i32, i32) -> i32 = crate::exec::binary::lt, crate::exec::raw::imm32;
                I32LtU [I32LtUImm] (u32, u32) -> i32 = crate::exec::binary::lt, crate::exec::raw::imm32;
                I32GtS [I32GtSImm] (i32, i32) -> i32 = crate::exec::binary::gt, crate::exec::raw::imm32;
                I32GtU [I32GtUImm] (u32, u32) -> i32 = crate::exec::binary::gt, crate::exec::raw::imm32;
                I32LeS [I32LeSImm] (i32, i32) -> i32 = crate::exec::binary::le, crate::exec::raw::imm32;
                I32LeU [I32LeUImm] (u32, u32) -> i32 = crate::exec::binary::le, crate::exec::raw::imm32;
                I32GeS [I32GeSImm] (i32, i32) -> i32 = crate::exec::binary::ge, crate::exec::raw::imm32;
                I32GeU [I32GeUImm] (u32, u32) -> i32 = crate::exec::binary::ge, crate::exec::raw::imm32;
                I64Add [I64AddImm] (u64, u64) -> u64 = u64::wrapping_add, crate::exec::raw::imm64;
                I64Sub [I64SubImm] (u64, u64) -> u64 = u64::wrapping_sub, crate::exec::raw::imm64;
                I64Mul [I64MulImm] (u64, u64) -> u64 = u64::wrapping_mul, crate::exec::raw::imm64;
                I64And [I64AndImm] (u64, u64) -> u64 = crate::exec::binary::and, crate::exec::raw::imm64;
                I64Or [I64OrImm] (u64, u64) -> u64 = crate::exec::binary::or, crate::exec::raw::imm64;
                I64Xor [I64XorImm] (u64, u64) -> u64 = crate::exec::binary::xor, crate::exec::raw::imm64;
                I64Shl [I64ShlImm] (u64, u64) -> u64 = crate::exec::binary::i64_shl, crate::exec::raw::imm64;
                I64ShrS [I64ShrSImm] (i64, u64) -> i64 = crate::exec::binary::i64_shr_s, crate::exec::raw::imm64;
                I64ShrU [I64ShrUImm] (u64, u64) -> u64 = crate::exec::binary::i64_shr_u, crate::exec::raw::imm64;
                I64Rotl [I64RotlImm] (u64, u64) -> u64 = crate::exec::binary::i64_rotl, crate::exec::raw::imm64;
                I64Rotr [I64RotrImm] (u64, u64) -> u64 = crate::exec::binary::i64_rotr, crate::exec::raw::imm64;
                I64Eq [I64EqImm] (i64, i64) -> i32 = crate::exec::binary::eq, crate::exec::raw::imm64;
                I64Ne [I64NeImm] (i64, i64) -> i32 = crate::exec::binary::ne, crate::exec::raw::imm64;
                I64LtS [I64LtSImm] (i64, i64) -> i32 = crate::exec::binary::lt, crate::exec::raw::imm64;
                I64LtU [I64LtUImm] (u64, u64) -> i32 = crate::exec::binary::lt, crate::exec::raw::imm64;
                I64GtS [I64GtSImm] (i64, i64) -> i32 = crate::exec::binary::gt, crate::exec::raw::imm64;
                I64GtU [I64GtUImm] (u64, u64) -> i32 = crate::exec::binary::gt, crate::exec::raw::imm64;
                I64LeS [I64LeSImm] (i64, i64) -> i32 = crate::exec::binary::le, crate::exec::raw::imm64;
                I64LeU [I64LeUImm] (u64, u64) -> i32 = crate::exec::binary::le, crate::exec::raw::imm64;
                I64GeS [I64GeSImm] (i64, i64) -> i32 = crate::exec::binary::ge, crate::exec::raw::imm64;
                I64GeU [I64GeUImm] (u64, u64) -> i32 = crate::exec::binary::ge, crate::exec::raw::imm64;
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
            branch {
                I32Eq I32EqImm [BrI32Eq BrI32EqImm] ! [BrI32Ne BrI32NeImm] (i32) = crate::exec::binary::eq, crate::exec::raw::imm32;
                I32Ne I32NeImm [BrI32Ne BrI32NeImm] ! [BrI32Eq BrI32EqImm] (i32) = crate::exec::binary::ne, crate::exec::raw::imm32;
                I32LtS I32LtSImm [BrI32LtS BrI32LtSImm] ! [BrI32GeS BrI32GeSImm] (i32) = crate::exec::binary::lt, crate::exec::raw::imm32;
                I32LtU I32LtUImm [BrI32LtU BrI32LtUImm] ! [BrI32GeU BrI32GeUImm] (u32) = crate::exec::binary::lt, crate::exec::raw::imm32;
                I32GtS I32GtSImm [BrI32GtS BrI32GtSImm] ! [BrI32LeS BrI32LeSImm] (i32) = crate::exec::binary::gt, crate::exec::raw::imm32;
                I32GtU I32GtUImm [BrI32GtU BrI32GtUImm] ! [BrI32LeU BrI32LeUImm] (u32) = crate::exec::binary::gt, crate::exec::raw::imm32;
                I32LeS I32LeSImm [BrI32LeS BrI32LeSImm] ! [BrI32GtS BrI32GtSImm] (i32) = crate::exec::binary::le, crate::exec::raw::imm32;
                I32LeU I32LeUImm [BrI32LeU BrI32LeUImm] ! [BrI32GtU BrI32GtUImm] (u32) = crate::exec::binary::le, crate::exec::raw::imm32;
                I32GeS I32GeSImm [BrI32GeS BrI32GeSImm] ! [BrI32LtS BrI32LtSImm] (i32) = crate::exec::binary::ge, crate::exec::raw::imm32;
                I32GeU I32GeUImm [BrI32GeU BrI32GeUImm] ! [BrI32LtU BrI32LtUImm] (u32) = crate::exec::binary::ge, crate::exec::raw::imm32;
                I64Eq I64EqImm [BrI64Eq BrI64EqImm] ! [BrI64Ne BrI64NeImm] (i64) = crate::exec::binary::eq, crate::exec::raw::imm64;
                I64Ne I64NeImm [BrI64Ne BrI64NeImm] ! [BrI64Eq BrI64EqImm] (i64) = crate::exec::binary::ne, crate::exec::raw::imm64;
                I64LtS I64LtSImm [BrI64LtS BrI64LtSImm] ! [BrI64GeS BrI64GeSImm] (i64) = crate::exec::binary::lt, crate::exec::raw::imm64;
                I64LtU I64LtUImm [BrI64LtU BrI64LtUImm] ! [BrI64GeU BrI64GeUImm] (u64) = crate::exec::binary::lt, crate::exec::raw::imm64;
                I64GtS I64GtSImm [BrI64GtS BrI64GtSImm] ! [BrI64LeS BrI64LeSImm] (i64) = crate::exec::binary::gt, crate::exec::raw::imm64;
                I64GtU I64GtUImm [BrI64GtU BrI64GtUImm] ! [BrI64LeU BrI64LeUImm] (u64) = crate::exec::binary::gt, crate::exec::raw::imm64;
                I64LeS I64LeSImm [BrI64LeS BrI64LeSImm] ! [BrI64GtS BrI64GtSImm] (i64) = crate::exec::binary::le, crate::exec::raw::imm64;
                I64LeU I64LeUImm [BrI64LeU BrI64LeUImm] ! [BrI64GtU BrI64GtUImm] (u64) = crate::exec::binary::le, crate::exec::raw::imm64;
                I64GeS I64GeSImm [BrI64GeS BrI64GeSImm] ! [BrI64LtS BrI64LtSImm] (i64) = crate::exec::binary::ge, crate::exec::raw::imm64;
                I64GeU I64GeUImm [BrI64GeU BrI64GeUImm] ! [BrI64LtU BrI64LtUImm] (u64) = crate::exec::binary::ge, crate::exec::raw::imm64;
            }
            add_branch {
                BrI32Eq [AddBrI32Eq AddImmBrI32Eq LoadBrI32Eq] (i32) = crate::exec::binary::eq;
                BrI32Ne [AddBrI32Ne AddImmBrI32Ne LoadBrI32Ne] (i32) = crate::exec::binary::ne;
                BrI32LtS [AddBrI32LtS AddImmBrI32LtS LoadBrI32LtS] (i32) = crate::exec::binary::lt;
                BrI32LtU [AddBrI32LtU AddImmBrI32LtU LoadBrI32LtU] (u32) = crate::exec::binary::lt;
                BrI32GtS [AddBrI32GtS AddImmBrI32GtS LoadBrI32GtS] (i32) = crate::exec::binary::gt;
                BrI32GtU [AddBrI32GtU AddImmBrI32GtU LoadBrI32GtU] (u32) = crate::exec::binary::gt;
                BrI32LeS [AddBrI32LeS AddImmBrI32LeS LoadBrI32LeS] (i32) = crate::exec::binary::le;
                BrI32LeU [AddBrI32LeU AddImmBrI32LeU LoadBrI32LeU] (u32) = crate::exec::binary::le;
                BrI32GeS [AddBrI32GeS AddImmBrI32GeS LoadBrI32GeS] (i32) = crate::exec::binary::ge;
                BrI32GeU [AddBrI32GeU AddImmBrI32GeU LoadBrI32GeU] (u32) = crate::exec::binary::ge;
            }
            f64_pair {
                F64AddAddL [F64Add F64Add] = crate::exec::binary::add, crate::exec::binary::add, l;
                F64AddAddR [F64Add F64Add] = crate::exec::binary::add, crate::exec::binary::add, r;
                F64AddSubL [F64Add F64Sub] = crate::exec::binary::add, crate::exec::binary::sub, l;
                F64AddSubR [F64Add F64Sub] = crate::exec::binary::add, crate::exec::binary::sub, r;
                F64AddMulL [F64Add F64Mul] = crate::exec::binary::add, crate::exec::binary::mul, l;
                F64AddMulR [F64Add F64Mul] = crate::exec::binary::add, crate::exec::binary::mul, r;
                F64SubAddL [F64Sub F64Add] = crate::exec::binary::sub, crate::exec::binary::add, l;
                F64SubAddR [F64Sub F64Add] = crate::exec::binary::sub, crate::exec::binary::add, r;
                F64SubSubL [F64Sub F64Sub] = crate::exec::binary::sub, crate::exec::binary::sub, l;
                F64SubSubR [F64Sub F64Sub] = crate::exec::binary::sub, crate::exec::binary::sub, r;
                F64SubMulL [F64Sub F64Mul] = crate::exec::binary::sub, crate::exec::binary::mul, l;
                F64SubMulR [F64Sub F64Mul] = crate::exec::binary::sub, crate::exec::binary::mul, r;
                F64MulAddL [F64Mul F64Add] = crate::exec::binary::mul, crate::exec::binary::add, l;
                F64MulAddR [F64Mul F64Add] = crate::exec::binary::mul, crate::exec::binary::add, r;
                F64MulSubL [F64Mul F64Sub] = crate::exec::binary::mul, crate::exec::binary::sub, l;
                F64MulSubR [F64Mul F64Sub] = crate::exec::binary::mul, crate::exec::binary::sub, r;
                F64MulMulL [F64Mul F64Mul] = crate::exec::binary::mul, crate::exec::binary::mul, l;
                F64MulMulR [F64Mul F64Mul] = crate::exec::binary::mul, crate::exec::binary::mul, r;
            }
        }
    };
}
pub(crate) use for_each_numeric;

/// Every operator: the simd128 lane operations of vm-core's
/// [`vm_core::for_each_lanes_op`] (after a `lanes` marker), then the numeric
/// operators of [`for_each_numeric`], in one expansion of `$m`.
macro_rules! for_each_op {
    ($m:ident) => {
        vm_core::for_each_lanes_op!(for_each_numeric $m lanes);
    };
}
pub(crate) use for_each_op;

/// Whether `t` is the `l`eft (or `r`ight) operand of an `f64_pair`'s second
/// operator, and not the other one.
macro_rules! pair_is {
    (l, $lhs:expr, $rhs:expr, $t:expr) => {
        $lhs == $t && $rhs != $t
    };
    (r, $lhs:expr, $rhs:expr, $t:expr) => {
        $rhs == $t && $lhs != $t
    };
}
pub(crate) use pair_is;

/// The operand of an `f64_pair`'s second operator that is not the first's result.
macro_rules! pair_other {
    (l, $lhs:expr, $rhs:expr) => {
        $rhs
    };
    (r, $lhs:expr, $rhs:expr) => {
        $lhs
    };
}
pub(crate) use pair_other;

/// Applies an `f64_pair`'s second operator to the first's result `t` and `c`.
macro_rules! pair_apply {
    (l, $f:path, $t:expr, $c:expr) => {
        $f($t, $c)
    };
    (r, $f:path, $t:expr, $c:expr) => {
        $f($c, $t)
    };
}
pub(crate) use pair_apply;

/// Builds `dst = lhs op imm`.
pub(crate) type ImmCtor = fn(u32, u32, i32) -> Op;

/// A binary operator's constructors: with a slot right operand, and (for integer
/// operators) with an immediate one.
#[derive(Clone, Copy)]
pub(crate) struct BinaryOp {
    /// `dst = lhs op rhs`.
    pub reg: fn(u32, u32, u32) -> Op,
    /// `dst = lhs op imm`, and whether the immediate is sign-extended to 64 bits.
    pub imm: Option<(ImmCtor, bool)>,
    /// `a op b == b op a`.
    pub commutative: bool,
}

macro_rules! define_op {
    (
        lanes
        unary { $( $vu:ident $vuf:ident $vuk:ident; )* }
        binary { $( $vb:ident $vbf:ident $vbk:ident; )* }
        shift { $( $vs:ident $vsf:ident $vsk:ident; )* }
        test { $( $vt:ident $vtf:ident $vtk:ident; )* }
        splat { $( $vp:ident $vpf:ident $vpk:ident; )* }
        extract { $( $ve:ident $vef:ident $vek:ident; )* }
        replace { $( $vr:ident $vrf:ident $vrk:ident; )* }
        unary { $( $u:ident ($ua:ty) -> $ur:ty = $uf:path; )* }
        unary_trap { $( $ut:ident ($uta:ty) -> $utr:ty = $utf:path; )* }
        binary { $( $b:ident ($ba:ty, $bb:ty) -> $br:ty = $bf:path; )* }
        binary_imm { $( $bi:ident [$bii:ident] ($bia:ty, $bib:ty) -> $bir:ty = $bif:path, $bix:path; )* }
        binary_trap { $( $bt:ident ($bta:ty, $btb:ty) -> $btr:ty = $btf:path; )* }
        branch { $( $c:ident $ci:ident [$cb:ident $cbi:ident] ! [$nb:ident $nbi:ident] ($ca:ty) = $cf:path, $cx:path; )* }
        add_branch { $( $ab:ident [$abr:ident $abi:ident $abl:ident] ($abt:ty) = $abf:path; )* }
        f64_pair { $( $fp:ident [$fp1:ident $fp2:ident] = $ff1:path, $ff2:path, $fside:ident; )* }
    ) => {
        /// One instruction of the internal code.
        ///
        /// `dst`, `src`, `lhs`, `rhs`, `cond`, `addr`, `val`, `index` are frame slots;
        /// `base` is the first of consecutive slots holding the operands (and then
        /// the results) of a call or a bulk operation; `offset`s of branches count
        /// instructions from the next one.
        // `Debug` (for the verifier's messages and tests) is tens of KiB of code.
        #[derive(Clone, Copy, PartialEq)]
        #[cfg_attr(any(test, feature = "verify"), derive(Debug))]
        #[allow(missing_docs)]
        pub enum Op {
            Unreachable,
            /// Charge fuel for the straight-line run that follows.
            Fuel(u32),
            /// Charge fuel for the run that follows, then trap with "out of fuel"
            /// when the store's fuel is below zero (function entry, loop header).
            FuelCheck(u32),
            /// Trap with "interrupted" when the store's interrupt flag is set
            /// (function entry, loop header).
            Interrupt,
            Br { offset: i32 },
            BrIfNez { cond: u32, offset: i32 },
            BrIfEqz { cond: u32, offset: i32 },
            /// Jump to the `min(index, len)`-th of the `len + 1` `Br`s that follow.
            BrTable { index: u32, len: u32 },
            Return0,
            Return1 { src: u32 },
            ReturnN { base: u32, n: u32 },
            /// Call a function defined in this module (index without imports) whose
            /// [`Op::Enter`] is instruction `entry` (filled in by [`link_calls`]); a
            /// single result is also stored to slot `ret` (`base`, or the local that
            /// the result is set to right after).
            Call { func: u32, base: u32, entry: u32, ret: u32 },
            /// `dst = src`, then [`Op::Call`] (`entry` holds the callee's index
            /// without imports until [`link_calls`] resolves it).
            CallCopy { base: u32, entry: u32, dst: u32, src: u32 },
            /// The first instruction of every function: check that `frame` slots fit
            /// the stack, make `func` (module index) the running function, zero the
            /// `zeros` declared locals from slot `zero_at`.
            Enter { frame: u32, func: u32, zero_at: u32, zeros: u32 },
            /// Copy the function's `len` constants from the module's pool at `start`
            /// into its slots from `at` (right after [`Op::Enter`], when it has any).
            Consts { at: u32, start: u32, len: u32 },
            /// Call an imported function (module index).
            CallImport { func: u32, base: u32 },
            /// Followed by `Arg(table)`.
            CallIndirect { ty: u32, index: u32, base: u32 },
            /// `return_call` of a function defined in this module: move the `n` argument
            /// slots from `base` to the frame's start and continue at the callee's
            /// [`Op::Enter`] `entry` (the callee's index without imports until
            /// [`link_calls`] resolves it) in this frame, the caller's frame record
            /// kept: constant stack space.
            ReturnCall { entry: u32, base: u32, n: u32 },
            /// `return_call` of an imported function (module index) with `n` argument
            /// slots from `base`: a wasm callee as [`Op::ReturnCall`]; a host function
            /// is called and the return that follows returns its results from `base`.
            ReturnCallImport { func: u32, base: u32, n: u32 },
            /// `return_call_indirect` with `n` argument slots, as
            /// [`Op::ReturnCallImport`]; followed by `Arg(table)`, then the return.
            ReturnCallIndirect { ty: u32, index: u32, base: u32, n: u32 },
            /// `call_ref` of a function of type index `ty`: the funcref in slot
            /// `index` (null: trap), arguments and results from `base`.
            CallRef { ty: u32, index: u32, base: u32 },
            /// `return_call_ref` with `n` argument slots from `base`, as
            /// [`Op::ReturnCallImport`] (null: trap); the return follows.
            ReturnCallRef { ty: u32, index: u32, base: u32, n: u32 },
            /// `ref.as_non_null`: trap with "null reference" when slot `src` is null.
            RefAsNonNull { src: u32 },
            /// The GC instruction [`ModuleCode::gc`]`[instr]` on the `n` slots from
            /// `base` (operands, then results, from `base`).
            Gc { instr: u32, base: u32, n: u32 },
            /// An extra operand of the instruction before.
            Arg(u32),
            /// `dst = cond != 0 ? dst : rhs`.
            Select { dst: u32, rhs: u32, cond: u32 },
            Copy { dst: u32, src: u32 },
            Const { dst: u32, lo: u32, hi: u32 },
            GlobalGet { dst: u32, global: u32 },
            GlobalSet { src: u32, global: u32 },
            I32Load { dst: u32, addr: u32, offset: u32 },
            I64Load { dst: u32, addr: u32, offset: u32 },
            F32Load { dst: u32, addr: u32, offset: u32 },
            F64Load { dst: u32, addr: u32, offset: u32 },
            I32Load8S { dst: u32, addr: u32, offset: u32 },
            I32Load8U { dst: u32, addr: u32, offset: u32 },
            I32Load16S { dst: u32, addr: u32, offset: u32 },
            I32Load16U { dst: u32, addr: u32, offset: u32 },
            I64Load8S { dst: u32, addr: u32, offset: u32 },
            I64Load8U { dst: u32, addr: u32, offset: u32 },
            I64Load16S { dst: u32, addr: u32, offset: u32 },
            I64Load16U { dst: u32, addr: u32, offset: u32 },
            I64Load32S { dst: u32, addr: u32, offset: u32 },
            I64Load32U { dst: u32, addr: u32, offset: u32 },
            Store32 { addr: u32, val: u32, offset: u32 },
            Store64 { addr: u32, val: u32, offset: u32 },
            Store8 { addr: u32, val: u32, offset: u32 },
            Store16 { addr: u32, val: u32, offset: u32 },
            I32LoadAdd { dst: u32, lhs: u32, rhs: u32 },
            I32LoadAddImm { dst: u32, lhs: u32, imm: i32 },
            I64LoadAdd { dst: u32, lhs: u32, rhs: u32 },
            I64LoadAddImm { dst: u32, lhs: u32, imm: i32 },
            F32LoadAdd { dst: u32, lhs: u32, rhs: u32 },
            F32LoadAddImm { dst: u32, lhs: u32, imm: i32 },
            F64LoadAdd { dst: u32, lhs: u32, rhs: u32 },
            F64LoadAddImm { dst: u32, lhs: u32, imm: i32 },
            I32Load8UAdd { dst: u32, lhs: u32, rhs: u32 },
            I32Load8UAddImm { dst: u32, lhs: u32, imm: i32 },
            I32Load8SAdd { dst: u32, lhs: u32, rhs: u32 },
            I32Load8SAddImm { dst: u32, lhs: u32, imm: i32 },
            I32Load16UAdd { dst: u32, lhs: u32, rhs: u32 },
            I32Load16UAddImm { dst: u32, lhs: u32, imm: i32 },
            I64Load32SAdd { dst: u32, lhs: u32, rhs: u32 },
            I64Load32SAddImm { dst: u32, lhs: u32, imm: i32 },
            I64Load32UAdd { dst: u32, lhs: u32, rhs: u32 },
            I64Load32UAddImm { dst: u32, lhs: u32, imm: i32 },
            Store8Add { lhs: u32, rhs: u32, val: u32 },
            Store8AddImm { lhs: u32, imm: i32, val: u32 },
            Store16Add { lhs: u32, rhs: u32, val: u32 },
            Store16AddImm { lhs: u32, imm: i32, val: u32 },
            Store32Add { lhs: u32, rhs: u32, val: u32 },
            Store32AddImm { lhs: u32, imm: i32, val: u32 },
            Store64Add { lhs: u32, rhs: u32, val: u32 },
            Store64AddImm { lhs: u32, imm: i32, val: u32 },
            BrF32Eq { lhs: u32, rhs: u32, offset: i32 },
            BrF32NotEq { lhs: u32, rhs: u32, offset: i32 },
            BrF32Ne { lhs: u32, rhs: u32, offset: i32 },
            BrF32NotNe { lhs: u32, rhs: u32, offset: i32 },
            BrF32Lt { lhs: u32, rhs: u32, offset: i32 },
            BrF32NotLt { lhs: u32, rhs: u32, offset: i32 },
            BrF32Gt { lhs: u32, rhs: u32, offset: i32 },
            BrF32NotGt { lhs: u32, rhs: u32, offset: i32 },
            BrF32Le { lhs: u32, rhs: u32, offset: i32 },
            BrF32NotLe { lhs: u32, rhs: u32, offset: i32 },
            BrF32Ge { lhs: u32, rhs: u32, offset: i32 },
            BrF32NotGe { lhs: u32, rhs: u32, offset: i32 },
            BrF64Eq { lhs: u32, rhs: u32, offset: i32 },
            BrF64NotEq { lhs: u32, rhs: u32, offset: i32 },
            BrF64Ne { lhs: u32, rhs: u32, offset: i32 },
            BrF64NotNe { lhs: u32, rhs: u32, offset: i32 },
            BrF64Lt { lhs: u32, rhs: u32, offset: i32 },
            BrF64NotLt { lhs: u32, rhs: u32, offset: i32 },
            BrF64Gt { lhs: u32, rhs: u32, offset: i32 },
            BrF64NotGt { lhs: u32, rhs: u32, offset: i32 },
            BrF64Le { lhs: u32, rhs: u32, offset: i32 },
            BrF64NotLe { lhs: u32, rhs: u32, offset: i32 },
            BrF64Ge { lhs: u32, rhs: u32, offset: i32 },
            BrF64NotGe { lhs: u32, rhs: u32, offset: i32 },
            /// `dst = load(lhs + (rhs << 2))`.
            I32LoadIdx { dst: u32, lhs: u32, rhs: u32 },
            /// `dst = load(lhs + (rhs << 2))`.
            F32LoadIdx { dst: u32, lhs: u32, rhs: u32 },
            /// `dst = load(lhs + (rhs << 3))`.
            I64LoadIdx { dst: u32, lhs: u32, rhs: u32 },
            /// `dst = load(lhs + (rhs << 3))`.
            F64LoadIdx { dst: u32, lhs: u32, rhs: u32 },
            /// `store(lhs + (rhs << 2), val)`.
            Store32Idx { lhs: u32, rhs: u32, val: u32 },
            /// `store(lhs + (rhs << 3), val)`.
            Store64Idx { lhs: u32, rhs: u32, val: u32 },
            /// `dst = dst + lhs * rhs` (f64, two roundings).
            F64MulAdd { dst: u32, lhs: u32, rhs: u32 },
            /// `dst = dst - lhs * rhs` (f64, two roundings).
            F64MulSub { dst: u32, lhs: u32, rhs: u32 },
            /// `dst = lhs + (rhs << 2)` (32-bit, wrapping).
            I32AddShl2 { dst: u32, lhs: u32, rhs: u32 },
            /// `dst = lhs + (rhs << 3)` (32-bit, wrapping).
            I32AddShl3 { dst: u32, lhs: u32, rhs: u32 },
            /// `dst = load((idx << 2) + offset)`.
            I32LoadShl { dst: u32, idx: u32, offset: u32 },
            /// `dst = load(((idx & 0xff) << 2) + offset)`: a table indexed by a byte.
            I32LoadShlU8 { dst: u32, idx: u32, offset: u32 },
            /// `dst = load((idx << 2) + offset)`.
            F32LoadShl { dst: u32, idx: u32, offset: u32 },
            /// `dst = load((idx << 3) + offset)`.
            I64LoadShl { dst: u32, idx: u32, offset: u32 },
            /// `dst = load((idx << 3) + offset)`.
            F64LoadShl { dst: u32, idx: u32, offset: u32 },
            /// `dst = lhs + imm + (rhs << 2)` (32-bit, wrapping).
            I32AddShl2Imm { dst: u32, lhs: u32, rhs: u32, imm: i32 },
            /// `dst = lhs + imm + (rhs << 3)` (32-bit, wrapping).
            I32AddShl3Imm { dst: u32, lhs: u32, rhs: u32, imm: i32 },
            /// `dst = load(lhs + imm + (rhs << 2))`, the address wrapped to 32 bits.
            I32LoadIdxImm { dst: u32, lhs: u32, rhs: u32, imm: i32 },
            /// `dst = load(lhs + imm + (rhs << 2))`, the address wrapped to 32 bits.
            F32LoadIdxImm { dst: u32, lhs: u32, rhs: u32, imm: i32 },
            /// `dst = load(lhs + imm + (rhs << 3))`, the address wrapped to 32 bits.
            I64LoadIdxImm { dst: u32, lhs: u32, rhs: u32, imm: i32 },
            /// `dst = load(lhs + imm + (rhs << 3))`, the address wrapped to 32 bits.
            F64LoadIdxImm { dst: u32, lhs: u32, rhs: u32, imm: i32 },
            /// `store(lhs + imm + (rhs << 2), val)`, the address wrapped to 32 bits.
            Store32IdxImm { lhs: u32, rhs: u32, val: u32, imm: i32 },
            /// `store(lhs + imm + (rhs << 3), val)`, the address wrapped to 32 bits.
            Store64IdxImm { lhs: u32, rhs: u32, val: u32, imm: i32 },
            /// `dst = lhs + load(addr + offset)` (f64).
            F64AddLoad { dst: u32, lhs: u32, addr: u32, offset: u32 },
            /// `dst = lhs - load(addr + offset)` (f64).
            F64SubLoad { dst: u32, lhs: u32, addr: u32, offset: u32 },
            /// `dst = lhs * load(addr + offset)` (f64).
            F64MulLoad { dst: u32, lhs: u32, addr: u32, offset: u32 },
            /// `dst = dst + lhs * load(addr + offset)` (f64, two roundings).
            F64MulAddLoad { dst: u32, lhs: u32, addr: u32, offset: u32 },
            /// `dst = dst - lhs * load(addr + offset)` (f64, two roundings).
            F64MulSubLoad { dst: u32, lhs: u32, addr: u32, offset: u32 },
            /// `a = a + k` (32-bit, wrapping), then `dst = src`.
            I32AddImmCopy { a: u32, k: i32, dst: u32, src: u32 },
            /// `dst = lhs + imm` (32-bit, wrapping), then `dst2 = dst`.
            I32AddImmTee { dst: u32, lhs: u32, imm: i32, dst2: u32 },
            /// `dst = src`, then jump.
            CopyBr { dst: u32, src: u32, offset: i32 },
            /// `dst = lhs + imm` (32-bit, wrapping), then jump.
            I32AddImmBr { dst: u32, lhs: u32, imm: i32, offset: i32 },
            /// `a = a + ka`, then `b = b + kb` (32-bit, wrapping).
            I32AddImm2 { a: u32, ka: i32, b: u32, kb: i32 },
            MemorySize { dst: u32 },
            MemoryGrow { base: u32, mem: u32 },
            MemoryFill { base: u32 },
            MemoryCopy { base: u32 },
            /// `memory.copy` from memory `src` to memory `dst` (multi-memory).
            MemoryCopyBetween { base: u32, dst: u32, src: u32 },
            MemoryInit { seg: u32, base: u32 },
            DataDrop(u32),
            /// Makes memory `n` the one the next operators use (multi-memory): the
            /// translator brackets an operator on memory `n` with `MemSelect(n)` and
            /// `MemSelect(0)`.
            MemSelect(u32),
            TableGet { table: u32, base: u32 },
            TableSet { table: u32, base: u32 },
            TableSize { table: u32, dst: u32 },
            TableGrow { table: u32, base: u32 },
            TableFill { table: u32, base: u32 },
            TableCopy { dst: u32, src: u32, base: u32 },
            TableInit { table: u32, elem: u32, base: u32 },
            ElemDrop(u32),
            RefIsNull { dst: u32, src: u32 },
            /// `dst = min(src, u32::MAX)`: a memory64 or table64 operand lowered onto the
            /// 32-bit operator (`vm_core::runtime::clamp_index64`).
            Clamp64 { dst: u32, src: u32 },
            RefFunc { dst: u32, func: u32 },
            /// `throw`: a new exception of tag `tag` whose payload is in the slots from
            /// `base`, unwound to its handler ([`ModuleCode::catches`]).
            Throw { tag: u32, base: u32 },
            /// `throw_ref` of the `exnref` in `src` (null traps).
            ThrowRef { src: u32 },
            /// A handler's landing pad: the caught exception's `n` payload slots to
            /// `dst` on, then its `exnref` when `with_ref` is 1.
            Caught { dst: u32, n: u32, with_ref: u32 },
            /// `dst = v128s[idx]` (the module's pool of `v128` constants).
            V128Const { dst: u32, idx: u32 },
            /// `dst = src` (16 bytes: two slots).
            V128Copy { dst: u32, src: u32 },
            /// `dst = cond != 0 ? dst : rhs` (16 bytes).
            V128Select { dst: u32, rhs: u32, cond: u32 },
            V128GlobalGet { dst: u32, global: u32 },
            V128GlobalSet { src: u32, global: u32 },
            /// `dst = (a & c) | (b & !c)`.
            V128Bitselect { dst: u32, a: u32, b: u32, c: u32 },
            /// Relaxed SIMD's three-operand operators: `dst = op(a, b, c)` with
            /// vm-core's `Lanes` method of the same name.
            F32x4RelaxedMadd { dst: u32, a: u32, b: u32, c: u32 },
            F32x4RelaxedNmadd { dst: u32, a: u32, b: u32, c: u32 },
            F64x2RelaxedMadd { dst: u32, a: u32, b: u32, c: u32 },
            F64x2RelaxedNmadd { dst: u32, a: u32, b: u32, c: u32 },
            I32x4RelaxedDotI8x16I7x16AddS { dst: u32, a: u32, b: u32, c: u32 },
            /// The lane indexes are `v128s[idx]`.
            I8x16Shuffle { dst: u32, lhs: u32, rhs: u32, idx: u32 },
            V128Load { dst: u32, addr: u32, offset: u32 },
            V128Load8x8S { dst: u32, addr: u32, offset: u32 },
            V128Load8x8U { dst: u32, addr: u32, offset: u32 },
            V128Load16x4S { dst: u32, addr: u32, offset: u32 },
            V128Load16x4U { dst: u32, addr: u32, offset: u32 },
            V128Load32x2S { dst: u32, addr: u32, offset: u32 },
            V128Load32x2U { dst: u32, addr: u32, offset: u32 },
            V128Load8Splat { dst: u32, addr: u32, offset: u32 },
            V128Load16Splat { dst: u32, addr: u32, offset: u32 },
            V128Load32Splat { dst: u32, addr: u32, offset: u32 },
            V128Load64Splat { dst: u32, addr: u32, offset: u32 },
            V128Load32Zero { dst: u32, addr: u32, offset: u32 },
            V128Load64Zero { dst: u32, addr: u32, offset: u32 },
            V128Store { addr: u32, val: u32, offset: u32 },
            $( $vu { dst: u32, src: u32 }, )*
            $( $vb { dst: u32, lhs: u32, rhs: u32 }, )*
            /// `rhs` holds the `i32` shift count.
            $( $vs { dst: u32, lhs: u32, rhs: u32 }, )*
            /// `dst` receives an `i32`.
            $( $vt { dst: u32, src: u32 }, )*
            /// `src` holds the scalar.
            $( $vp { dst: u32, src: u32 }, )*
            /// `dst` receives the scalar.
            $( $ve { dst: u32, src: u32, lane: u32 }, )*
            /// `val` holds the scalar.
            $( $vr { dst: u32, src: u32, val: u32, lane: u32 }, )*
            $( $u { dst: u32, src: u32 }, )*
            $( $ut { dst: u32, src: u32 }, )*
            $( $b { dst: u32, lhs: u32, rhs: u32 }, )*
            $( $bi { dst: u32, lhs: u32, rhs: u32 }, )*
            $( $bii { dst: u32, lhs: u32, imm: i32 }, )*
            $( $bt { dst: u32, lhs: u32, rhs: u32 }, )*
            $( $cb { lhs: u32, rhs: u32, offset: i32 }, )*
            $( $cbi { lhs: u32, imm: i32, offset: i32 }, )*
            $( $abr { slot: u32, step: u32, rhs: u32, offset: i32 }, )*
            $( $abi { slot: u32, imm: i32, rhs: u32, offset: i32 }, )*
            /// `dst = i32.load(addr)`, then the branch on `dst` and `rhs`.
            $( $abl { dst: u32, addr: u32, rhs: u32, offset: i32 }, )*
            $( $fp { dst: u32, a: u32, b: u32, c: u32 }, )*
        }

        impl Op {
            /// The constructor of a unary numeric operator.
            pub(crate) fn unary(op: &wasmparser::Operator<'_>) -> Option<fn(u32, u32) -> Op> {
                use wasmparser::Operator as O;
                Some(match op {
                    $( O::$u => |dst, src| Op::$u { dst, src }, )*
                    $( O::$ut => |dst, src| Op::$ut { dst, src }, )*
                    _ => return None,
                })
            }

            /// The constructors of a binary numeric operator.
            pub(crate) fn binary(op: &wasmparser::Operator<'_>) -> Option<BinaryOp> {
                use wasmparser::Operator as O;
                let commutative = matches!(
                    op,
                    O::I32Add | O::I32Mul | O::I32And | O::I32Or | O::I32Xor | O::I32Eq | O::I32Ne
                        | O::I64Add | O::I64Mul | O::I64And | O::I64Or | O::I64Xor | O::I64Eq
                        | O::I64Ne
                );
                Some(match op {
                    $( O::$b => BinaryOp { reg: |dst, lhs, rhs| Op::$b { dst, lhs, rhs }, imm: None, commutative }, )*
                    $( O::$bt => BinaryOp { reg: |dst, lhs, rhs| Op::$bt { dst, lhs, rhs }, imm: None, commutative }, )*
                    $( O::$bi => BinaryOp {
                        reg: |dst, lhs, rhs| Op::$bi { dst, lhs, rhs },
                        imm: Some((|dst, lhs, imm| Op::$bii { dst, lhs, imm }, stringify!($bi).starts_with("I64"))),
                        commutative,
                    }, )*
                    _ => return None,
                })
            }

            /// The slot this instruction writes its single result to, if it may be
            /// redirected (no input is read after the write).
            pub(crate) fn dst_mut(&mut self) -> Option<&mut u32> {
                match self {
                    Op::Copy { dst, .. }
                    | Op::Const { dst, .. }
                    | Op::GlobalGet { dst, .. }
                    | Op::I32Load { dst, .. }
                    | Op::I64Load { dst, .. }
                    | Op::F32Load { dst, .. }
                    | Op::F64Load { dst, .. }
                    | Op::I32Load8S { dst, .. }
                    | Op::I32Load8U { dst, .. }
                    | Op::I32Load16S { dst, .. }
                    | Op::I32Load16U { dst, .. }
                    | Op::I64Load8S { dst, .. }
                    | Op::I64Load8U { dst, .. }
                    | Op::I64Load16S { dst, .. }
                    | Op::I64Load16U { dst, .. }
                    | Op::I64Load32S { dst, .. }
                    | Op::I64Load32U { dst, .. }
                    | Op::I32LoadAdd { dst, .. }
                    | Op::I32LoadAddImm { dst, .. }
                    | Op::I64LoadAdd { dst, .. }
                    | Op::I64LoadAddImm { dst, .. }
                    | Op::F32LoadAdd { dst, .. }
                    | Op::F32LoadAddImm { dst, .. }
                    | Op::F64LoadAdd { dst, .. }
                    | Op::F64LoadAddImm { dst, .. }
                    | Op::I32Load8UAdd { dst, .. }
                    | Op::I32Load8UAddImm { dst, .. }
                    | Op::I32Load8SAdd { dst, .. }
                    | Op::I32Load8SAddImm { dst, .. }
                    | Op::I32Load16UAdd { dst, .. }
                    | Op::I32Load16UAddImm { dst, .. }
                    | Op::I64Load32SAdd { dst, .. }
                    | Op::I64Load32SAddImm { dst, .. }
                    | Op::I64Load32UAdd { dst, .. }
                    | Op::I64Load32UAddImm { dst, .. }
                    | Op::I32LoadIdx { dst, .. }
                    | Op::F32LoadIdx { dst, .. }
                    | Op::I64LoadIdx { dst, .. }
                    | Op::F64LoadIdx { dst, .. }
                    | Op::I32AddShl2 { dst, .. }
                    | Op::I32AddShl3 { dst, .. }
                    | Op::I32LoadShl { dst, .. }
                    | Op::I32LoadShlU8 { dst, .. }
                    | Op::F32LoadShl { dst, .. }
                    | Op::I64LoadShl { dst, .. }
                    | Op::F64LoadShl { dst, .. }
                    | Op::I32AddShl2Imm { dst, .. }
                    | Op::I32AddShl3Imm { dst, .. }
                    | Op::I32LoadIdxImm { dst, .. }
                    | Op::F32LoadIdxImm { dst, .. }
                    | Op::I64LoadIdxImm { dst, .. }
                    | Op::F64LoadIdxImm { dst, .. }
                    $( | Op::$fp { dst, .. } )*
                    | Op::F64AddLoad { dst, .. }
                    | Op::F64SubLoad { dst, .. }
                    | Op::F64MulLoad { dst, .. }
                    | Op::MemorySize { dst }
                    | Op::TableSize { dst, .. }
                    | Op::RefIsNull { dst, .. }
                    | Op::Clamp64 { dst, .. }
                    | Op::RefFunc { dst, .. } => Some(dst),
                    $( Op::$vt { dst, .. } )|*
                    | $( Op::$ve { dst, .. } )|* => Some(dst),
                    $( Op::$u { dst, .. } )|*
                    | $( Op::$ut { dst, .. } )|*
                    | $( Op::$b { dst, .. } )|*
                    | $( Op::$bi { dst, .. } )|*
                    | $( Op::$bii { dst, .. } )|*
                    | $( Op::$bt { dst, .. } )|* => Some(dst),
                    _ => None,
                }
            }

            /// The first of the two slots this instruction writes its single `v128`
            /// result to, if it may be redirected (every input is read before the
            /// write).
            pub(crate) fn v128_dst_mut(&mut self) -> Option<&mut u32> {
                match self {
                    Op::V128Const { dst, .. }
                    | Op::V128Copy { dst, .. }
                    | Op::V128GlobalGet { dst, .. }
                    | Op::V128Bitselect { dst, .. }
                    | Op::F32x4RelaxedMadd { dst, .. }
                    | Op::F32x4RelaxedNmadd { dst, .. }
                    | Op::F64x2RelaxedMadd { dst, .. }
                    | Op::F64x2RelaxedNmadd { dst, .. }
                    | Op::I32x4RelaxedDotI8x16I7x16AddS { dst, .. }
                    | Op::I8x16Shuffle { dst, .. }
                    | Op::V128Load { dst, .. }
                    | Op::V128Load8x8S { dst, .. }
                    | Op::V128Load8x8U { dst, .. }
                    | Op::V128Load16x4S { dst, .. }
                    | Op::V128Load16x4U { dst, .. }
                    | Op::V128Load32x2S { dst, .. }
                    | Op::V128Load32x2U { dst, .. }
                    | Op::V128Load8Splat { dst, .. }
                    | Op::V128Load16Splat { dst, .. }
                    | Op::V128Load32Splat { dst, .. }
                    | Op::V128Load64Splat { dst, .. }
                    | Op::V128Load32Zero { dst, .. }
                    | Op::V128Load64Zero { dst, .. } => Some(dst),
                    $( Op::$vu { dst, .. } )|*
                    | $( Op::$vb { dst, .. } )|*
                    | $( Op::$vs { dst, .. } )|*
                    | $( Op::$vp { dst, .. } )|*
                    | $( Op::$vr { dst, .. } )|* => Some(dst),
                    _ => None,
                }
            }

            /// The conditional branch taken when comparison `self` holds (or, with
            /// `negate`, does not hold), replacing the comparison.
            pub(crate) fn branch_on(self, negate: bool, offset: i32) -> Option<Op> {
                Some(match self {
                    Op::F32Eq { lhs, rhs, .. } if negate => Op::BrF32NotEq { lhs, rhs, offset },
                    Op::F32Eq { lhs, rhs, .. } => Op::BrF32Eq { lhs, rhs, offset },
                    Op::F32Ne { lhs, rhs, .. } if negate => Op::BrF32NotNe { lhs, rhs, offset },
                    Op::F32Ne { lhs, rhs, .. } => Op::BrF32Ne { lhs, rhs, offset },
                    Op::F32Lt { lhs, rhs, .. } if negate => Op::BrF32NotLt { lhs, rhs, offset },
                    Op::F32Lt { lhs, rhs, .. } => Op::BrF32Lt { lhs, rhs, offset },
                    Op::F32Gt { lhs, rhs, .. } if negate => Op::BrF32NotGt { lhs, rhs, offset },
                    Op::F32Gt { lhs, rhs, .. } => Op::BrF32Gt { lhs, rhs, offset },
                    Op::F32Le { lhs, rhs, .. } if negate => Op::BrF32NotLe { lhs, rhs, offset },
                    Op::F32Le { lhs, rhs, .. } => Op::BrF32Le { lhs, rhs, offset },
                    Op::F32Ge { lhs, rhs, .. } if negate => Op::BrF32NotGe { lhs, rhs, offset },
                    Op::F32Ge { lhs, rhs, .. } => Op::BrF32Ge { lhs, rhs, offset },
                    Op::F64Eq { lhs, rhs, .. } if negate => Op::BrF64NotEq { lhs, rhs, offset },
                    Op::F64Eq { lhs, rhs, .. } => Op::BrF64Eq { lhs, rhs, offset },
                    Op::F64Ne { lhs, rhs, .. } if negate => Op::BrF64NotNe { lhs, rhs, offset },
                    Op::F64Ne { lhs, rhs, .. } => Op::BrF64Ne { lhs, rhs, offset },
                    Op::F64Lt { lhs, rhs, .. } if negate => Op::BrF64NotLt { lhs, rhs, offset },
                    Op::F64Lt { lhs, rhs, .. } => Op::BrF64Lt { lhs, rhs, offset },
                    Op::F64Gt { lhs, rhs, .. } if negate => Op::BrF64NotGt { lhs, rhs, offset },
                    Op::F64Gt { lhs, rhs, .. } => Op::BrF64Gt { lhs, rhs, offset },
                    Op::F64Le { lhs, rhs, .. } if negate => Op::BrF64NotLe { lhs, rhs, offset },
                    Op::F64Le { lhs, rhs, .. } => Op::BrF64Le { lhs, rhs, offset },
                    Op::F64Ge { lhs, rhs, .. } if negate => Op::BrF64NotGe { lhs, rhs, offset },
                    Op::F64Ge { lhs, rhs, .. } => Op::BrF64Ge { lhs, rhs, offset },
                    Op::I32Eqz { src, .. } if negate => Op::BrIfNez { cond: src, offset },
                    Op::I32Eqz { src, .. } => Op::BrIfEqz { cond: src, offset },
                    $(
                        Op::$c { lhs, rhs, .. } if negate => Op::$nb { lhs, rhs, offset },
                        Op::$c { lhs, rhs, .. } => Op::$cb { lhs, rhs, offset },
                        Op::$ci { lhs, imm, .. } if negate => Op::$nbi { lhs, imm, offset },
                        Op::$ci { lhs, imm, .. } => Op::$cbi { lhs, imm, offset },
                    )*
                    _ => return None,
                })
            }

            /// Applies `f` to every slot operand of this instruction (destinations,
            /// inputs and `base`s; not indexes of other kinds).
            pub(crate) fn map_slots(&mut self, f: impl Fn(u32) -> u32) {
                match self {
                    Op::Unreachable
                    | Op::Fuel(_)
                    | Op::FuelCheck(_)
                    | Op::Interrupt
                    | Op::Br { .. }
                    | Op::Return0
                    | Op::Enter { .. }
                    | Op::Consts { .. }
                    | Op::Arg(_)
                    | Op::DataDrop(_)
                    | Op::MemSelect(_)
                    | Op::ElemDrop(_) => {}
                    Op::BrIfNez { cond, .. } | Op::BrIfEqz { cond, .. } => *cond = f(*cond),
                    Op::BrF32Eq { lhs, rhs, .. } | Op::BrF32NotEq { lhs, rhs, .. } => {
                        *lhs = f(*lhs);
                        *rhs = f(*rhs);
                    }
                    Op::BrF32Ne { lhs, rhs, .. } | Op::BrF32NotNe { lhs, rhs, .. } => {
                        *lhs = f(*lhs);
                        *rhs = f(*rhs);
                    }
                    Op::BrF32Lt { lhs, rhs, .. } | Op::BrF32NotLt { lhs, rhs, .. } => {
                        *lhs = f(*lhs);
                        *rhs = f(*rhs);
                    }
                    Op::BrF32Gt { lhs, rhs, .. } | Op::BrF32NotGt { lhs, rhs, .. } => {
                        *lhs = f(*lhs);
                        *rhs = f(*rhs);
                    }
                    Op::BrF32Le { lhs, rhs, .. } | Op::BrF32NotLe { lhs, rhs, .. } => {
                        *lhs = f(*lhs);
                        *rhs = f(*rhs);
                    }
                    Op::BrF32Ge { lhs, rhs, .. } | Op::BrF32NotGe { lhs, rhs, .. } => {
                        *lhs = f(*lhs);
                        *rhs = f(*rhs);
                    }
                    Op::BrF64Eq { lhs, rhs, .. } | Op::BrF64NotEq { lhs, rhs, .. } => {
                        *lhs = f(*lhs);
                        *rhs = f(*rhs);
                    }
                    Op::BrF64Ne { lhs, rhs, .. } | Op::BrF64NotNe { lhs, rhs, .. } => {
                        *lhs = f(*lhs);
                        *rhs = f(*rhs);
                    }
                    Op::BrF64Lt { lhs, rhs, .. } | Op::BrF64NotLt { lhs, rhs, .. } => {
                        *lhs = f(*lhs);
                        *rhs = f(*rhs);
                    }
                    Op::BrF64Gt { lhs, rhs, .. } | Op::BrF64NotGt { lhs, rhs, .. } => {
                        *lhs = f(*lhs);
                        *rhs = f(*rhs);
                    }
                    Op::BrF64Le { lhs, rhs, .. } | Op::BrF64NotLe { lhs, rhs, .. } => {
                        *lhs = f(*lhs);
                        *rhs = f(*rhs);
                    }
                    Op::BrF64Ge { lhs, rhs, .. } | Op::BrF64NotGe { lhs, rhs, .. } => {
                        *lhs = f(*lhs);
                        *rhs = f(*rhs);
                    }
                    Op::BrTable { index, .. } => *index = f(*index),
                    Op::CallIndirect { index, base, .. }
                    | Op::ReturnCallIndirect { index, base, .. }
                    | Op::CallRef { index, base, .. }
                    | Op::ReturnCallRef { index, base, .. } => {
                        *index = f(*index);
                        *base = f(*base);
                    }
                    Op::ReturnN { base, .. }

                    | Op::CallImport { base, .. }
                    | Op::ReturnCall { base, .. }
                    | Op::ReturnCallImport { base, .. }
                    | Op::MemoryGrow { base, .. }
                    | Op::MemoryFill { base }
                    | Op::MemoryCopy { base }
                    | Op::MemoryCopyBetween { base, .. }
                    | Op::MemoryInit { base, .. }
                    | Op::TableGet { base, .. }
                    | Op::TableSet { base, .. }
                    | Op::TableGrow { base, .. }
                    | Op::TableFill { base, .. }
                    | Op::TableCopy { base, .. }
                    | Op::TableInit { base, .. }
                    | Op::Gc { base, .. } => *base = f(*base),
                    Op::Return1 { src }
                    | Op::GlobalSet { src, .. }
                    | Op::RefAsNonNull { src }
                    | Op::ThrowRef { src } => *src = f(*src),
                    Op::Throw { base, .. } => *base = f(*base),
                    Op::Caught { dst, .. } => *dst = f(*dst),
                    Op::Const { dst, .. }
                    | Op::GlobalGet { dst, .. }
                    | Op::MemorySize { dst }
                    | Op::TableSize { dst, .. }
                    | Op::RefFunc { dst, .. } => *dst = f(*dst),
                    Op::Call { base, ret, .. } => {
                        *base = f(*base);
                        *ret = f(*ret);
                    }
                    Op::CallCopy { base, dst, src, .. } => {
                        *base = f(*base);
                        *dst = f(*dst);
                        *src = f(*src);
                    }
                    Op::Copy { dst, src } | Op::RefIsNull { dst, src } | Op::Clamp64 { dst, src } => {
                        *dst = f(*dst);
                        *src = f(*src);
                    }
                    Op::Select { dst, rhs, cond } => {
                        *dst = f(*dst);
                        *rhs = f(*rhs);
                        *cond = f(*cond);
                    }
                    Op::I32Load { dst, addr, .. }
                    | Op::I64Load { dst, addr, .. }
                    | Op::F32Load { dst, addr, .. }
                    | Op::F64Load { dst, addr, .. }
                    | Op::I32Load8S { dst, addr, .. }
                    | Op::I32Load8U { dst, addr, .. }
                    | Op::I32Load16S { dst, addr, .. }
                    | Op::I32Load16U { dst, addr, .. }
                    | Op::I64Load8S { dst, addr, .. }
                    | Op::I64Load8U { dst, addr, .. }
                    | Op::I64Load16S { dst, addr, .. }
                    | Op::I64Load16U { dst, addr, .. }
                    | Op::I64Load32S { dst, addr, .. }
                    | Op::I64Load32U { dst, addr, .. } => {
                        *dst = f(*dst);
                        *addr = f(*addr);
                    }
                    Op::Store8 { addr, val, .. }
                    | Op::Store16 { addr, val, .. }
                    | Op::Store32 { addr, val, .. }
                    | Op::Store64 { addr, val, .. } => {
                        *addr = f(*addr);
                        *val = f(*val);
                    }
                    Op::I32LoadAdd { dst, lhs, rhs } => {
                        *dst = f(*dst);
                        *lhs = f(*lhs);
                        *rhs = f(*rhs);
                    }
                    Op::I32LoadAddImm { dst, lhs, .. } => {
                        *dst = f(*dst);
                        *lhs = f(*lhs);
                    }
                    Op::I64LoadAdd { dst, lhs, rhs } => {
                        *dst = f(*dst);
                        *lhs = f(*lhs);
                        *rhs = f(*rhs);
                    }
                    Op::I64LoadAddImm { dst, lhs, .. } => {
                        *dst = f(*dst);
                        *lhs = f(*lhs);
                    }
                    Op::F32LoadAdd { dst, lhs, rhs } => {
                        *dst = f(*dst);
                        *lhs = f(*lhs);
                        *rhs = f(*rhs);
                    }
                    Op::F32LoadAddImm { dst, lhs, .. } => {
                        *dst = f(*dst);
                        *lhs = f(*lhs);
                    }
                    Op::F64LoadAdd { dst, lhs, rhs } => {
                        *dst = f(*dst);
                        *lhs = f(*lhs);
                        *rhs = f(*rhs);
                    }
                    Op::F64LoadAddImm { dst, lhs, .. } => {
                        *dst = f(*dst);
                        *lhs = f(*lhs);
                    }
                    Op::I32Load8UAdd { dst, lhs, rhs } => {
                        *dst = f(*dst);
                        *lhs = f(*lhs);
                        *rhs = f(*rhs);
                    }
                    Op::I32Load8UAddImm { dst, lhs, .. } => {
                        *dst = f(*dst);
                        *lhs = f(*lhs);
                    }
                    Op::I32Load8SAdd { dst, lhs, rhs } => {
                        *dst = f(*dst);
                        *lhs = f(*lhs);
                        *rhs = f(*rhs);
                    }
                    Op::I32Load8SAddImm { dst, lhs, .. } => {
                        *dst = f(*dst);
                        *lhs = f(*lhs);
                    }
                    Op::I32Load16UAdd { dst, lhs, rhs } => {
                        *dst = f(*dst);
                        *lhs = f(*lhs);
                        *rhs = f(*rhs);
                    }
                    Op::I32Load16UAddImm { dst, lhs, .. } => {
                        *dst = f(*dst);
                        *lhs = f(*lhs);
                    }
                    Op::I64Load32SAdd { dst, lhs, rhs } => {
                        *dst = f(*dst);
                        *lhs = f(*lhs);
                        *rhs = f(*rhs);
                    }
                    Op::I64Load32SAddImm { dst, lhs, .. } => {
                        *dst = f(*dst);
                        *lhs = f(*lhs);
                    }
                    Op::I64Load32UAdd { dst, lhs, rhs } => {
                        *dst = f(*dst);
                        *lhs = f(*lhs);
                        *rhs = f(*rhs);
                    }
                    Op::I64Load32UAddImm { dst, lhs, .. } => {
                        *dst = f(*dst);
                        *lhs = f(*lhs);
                    }
                    Op::Store8Add { lhs, rhs, val } => {
                        *lhs = f(*lhs);
                        *rhs = f(*rhs);
                        *val = f(*val);
                    }
                    Op::Store8AddImm { lhs, val, .. } => {
                        *lhs = f(*lhs);
                        *val = f(*val);
                    }
                    Op::Store16Add { lhs, rhs, val } => {
                        *lhs = f(*lhs);
                        *rhs = f(*rhs);
                        *val = f(*val);
                    }
                    Op::Store16AddImm { lhs, val, .. } => {
                        *lhs = f(*lhs);
                        *val = f(*val);
                    }
                    Op::Store32Add { lhs, rhs, val } => {
                        *lhs = f(*lhs);
                        *rhs = f(*rhs);
                        *val = f(*val);
                    }
                    Op::Store32AddImm { lhs, val, .. } => {
                        *lhs = f(*lhs);
                        *val = f(*val);
                    }
                    Op::Store64Add { lhs, rhs, val } => {
                        *lhs = f(*lhs);
                        *rhs = f(*rhs);
                        *val = f(*val);
                    }
                    Op::Store64AddImm { lhs, val, .. } => {
                        *lhs = f(*lhs);
                        *val = f(*val);
                    }
                    Op::I32AddShl2 { dst, lhs, rhs }
                    | Op::I32AddShl3 { dst, lhs, rhs }
                    | Op::F64MulAdd { dst, lhs, rhs }
                    | Op::F64MulSub { dst, lhs, rhs } => {
                        *dst = f(*dst);
                        *lhs = f(*lhs);
                        *rhs = f(*rhs);
                    }
                    Op::I32LoadIdx { dst, lhs, rhs } => {
                        *dst = f(*dst);
                        *lhs = f(*lhs);
                        *rhs = f(*rhs);
                    }
                    Op::F32LoadIdx { dst, lhs, rhs } => {
                        *dst = f(*dst);
                        *lhs = f(*lhs);
                        *rhs = f(*rhs);
                    }
                    Op::I64LoadIdx { dst, lhs, rhs } => {
                        *dst = f(*dst);
                        *lhs = f(*lhs);
                        *rhs = f(*rhs);
                    }
                    Op::F64LoadIdx { dst, lhs, rhs } => {
                        *dst = f(*dst);
                        *lhs = f(*lhs);
                        *rhs = f(*rhs);
                    }
                    Op::Store32Idx { lhs, rhs, val } => {
                        *lhs = f(*lhs);
                        *rhs = f(*rhs);
                        *val = f(*val);
                    }
                    Op::Store64Idx { lhs, rhs, val } => {
                        *lhs = f(*lhs);
                        *rhs = f(*rhs);
                        *val = f(*val);
                    }
                    Op::I32LoadShl { dst, idx, .. } | Op::I32LoadShlU8 { dst, idx, .. } => {
                        *dst = f(*dst);
                        *idx = f(*idx);
                    }
                    Op::F32LoadShl { dst, idx, .. } => {
                        *dst = f(*dst);
                        *idx = f(*idx);
                    }
                    Op::I64LoadShl { dst, idx, .. } => {
                        *dst = f(*dst);
                        *idx = f(*idx);
                    }
                    Op::F64LoadShl { dst, idx, .. } => {
                        *dst = f(*dst);
                        *idx = f(*idx);
                    }
                    $( Op::$u { dst, src } => { *dst = f(*dst); *src = f(*src); } )*
                    $( Op::$ut { dst, src } => { *dst = f(*dst); *src = f(*src); } )*
                    $( Op::$b { dst, lhs, rhs } => { *dst = f(*dst); *lhs = f(*lhs); *rhs = f(*rhs); } )*
                    $( Op::$bi { dst, lhs, rhs } => { *dst = f(*dst); *lhs = f(*lhs); *rhs = f(*rhs); } )*
                    $( Op::$bii { dst, lhs, .. } => { *dst = f(*dst); *lhs = f(*lhs); } )*
                    $( Op::$bt { dst, lhs, rhs } => { *dst = f(*dst); *lhs = f(*lhs); *rhs = f(*rhs); } )*
                    $( Op::$cb { lhs, rhs, .. } => { *lhs = f(*lhs); *rhs = f(*rhs); } )*
                    $( Op::$cbi { lhs, .. } => *lhs = f(*lhs), )*
                    Op::I32AddShl2Imm { dst, lhs, rhs, .. }
                    | Op::I32AddShl3Imm { dst, lhs, rhs, .. }
                    | Op::I32LoadIdxImm { dst, lhs, rhs, .. }
                    | Op::F32LoadIdxImm { dst, lhs, rhs, .. }
                    | Op::I64LoadIdxImm { dst, lhs, rhs, .. }
                    | Op::F64LoadIdxImm { dst, lhs, rhs, .. } => {
                        *dst = f(*dst);
                        *lhs = f(*lhs);
                        *rhs = f(*rhs);
                    }
                    Op::Store32IdxImm { lhs, rhs, val, .. } | Op::Store64IdxImm { lhs, rhs, val, .. } => {
                        *lhs = f(*lhs);
                        *rhs = f(*rhs);
                        *val = f(*val);
                    }
                    Op::F64AddLoad { dst, lhs, addr, .. }
                    | Op::F64SubLoad { dst, lhs, addr, .. }
                    | Op::F64MulLoad { dst, lhs, addr, .. }
                    | Op::F64MulAddLoad { dst, lhs, addr, .. }
                    | Op::F64MulSubLoad { dst, lhs, addr, .. } => {
                        *dst = f(*dst);
                        *lhs = f(*lhs);
                        *addr = f(*addr);
                    }
                    Op::I32AddImmCopy { a, dst, src, .. } => {
                        *a = f(*a);
                        *dst = f(*dst);
                        *src = f(*src);
                    }
                    Op::I32AddImmTee { dst, lhs, dst2, .. } => {
                        *dst = f(*dst);
                        *lhs = f(*lhs);
                        *dst2 = f(*dst2);
                    }
                    Op::CopyBr { dst, src, .. } => {
                        *dst = f(*dst);
                        *src = f(*src);
                    }
                    Op::I32AddImmBr { dst, lhs, .. } => {
                        *dst = f(*dst);
                        *lhs = f(*lhs);
                    }
                    Op::I32AddImm2 { a, b, .. } => {
                        *a = f(*a);
                        *b = f(*b);
                    }
                    $( Op::$abr { slot, step, rhs, .. } => {
                        *slot = f(*slot);
                        *step = f(*step);
                        *rhs = f(*rhs);
                    } )*
                    Op::V128Const { dst, .. } | Op::V128GlobalGet { dst, .. } => *dst = f(*dst),
                    Op::V128GlobalSet { src, .. } => *src = f(*src),
                    Op::V128Copy { dst, src } => {
                        *dst = f(*dst);
                        *src = f(*src);
                    }
                    Op::V128Select { dst, rhs, cond } => {
                        *dst = f(*dst);
                        *rhs = f(*rhs);
                        *cond = f(*cond);
                    }
                    Op::V128Bitselect { dst, a, b, c }
                    | Op::F32x4RelaxedMadd { dst, a, b, c }
                    | Op::F32x4RelaxedNmadd { dst, a, b, c }
                    | Op::F64x2RelaxedMadd { dst, a, b, c }
                    | Op::F64x2RelaxedNmadd { dst, a, b, c }
                    | Op::I32x4RelaxedDotI8x16I7x16AddS { dst, a, b, c }
                    => {
                        *dst = f(*dst);
                        *a = f(*a);
                        *b = f(*b);
                        *c = f(*c);
                    }
                    Op::V128Load { dst, addr, .. }
                    | Op::V128Load8x8S { dst, addr, .. }
                    | Op::V128Load8x8U { dst, addr, .. }
                    | Op::V128Load16x4S { dst, addr, .. }
                    | Op::V128Load16x4U { dst, addr, .. }
                    | Op::V128Load32x2S { dst, addr, .. }
                    | Op::V128Load32x2U { dst, addr, .. }
                    | Op::V128Load8Splat { dst, addr, .. }
                    | Op::V128Load16Splat { dst, addr, .. }
                    | Op::V128Load32Splat { dst, addr, .. }
                    | Op::V128Load64Splat { dst, addr, .. }
                    | Op::V128Load32Zero { dst, addr, .. }
                    | Op::V128Load64Zero { dst, addr, .. } => {
                        *dst = f(*dst);
                        *addr = f(*addr);
                    }
                    Op::V128Store { addr, val, .. } => {
                        *addr = f(*addr);
                        *val = f(*val);
                    }
                    $( Op::$vu { dst, src } => {
                        *dst = f(*dst);
                        *src = f(*src);
                    } )*
                    $( Op::$vt { dst, src } => {
                        *dst = f(*dst);
                        *src = f(*src);
                    } )*
                    $( Op::$vp { dst, src } => {
                        *dst = f(*dst);
                        *src = f(*src);
                    } )*
                    $( Op::$ve { dst, src, .. } => {
                        *dst = f(*dst);
                        *src = f(*src);
                    } )*
                    $( Op::$vr { dst, src, val, .. } => {
                        *dst = f(*dst);
                        *src = f(*src);
                        *val = f(*val);
                    } )*
                    $( Op::$vb { dst, lhs, rhs } => {
                        *dst = f(*dst);
                        *lhs = f(*lhs);
                        *rhs = f(*rhs);
                    } )*
                    $( Op::$vs { dst, lhs, rhs } => {
                        *dst = f(*dst);
                        *lhs = f(*lhs);
                        *rhs = f(*rhs);
                    } )*
                    Op::I8x16Shuffle { dst, lhs, rhs, .. } => {
                        *dst = f(*dst);
                        *lhs = f(*lhs);
                        *rhs = f(*rhs);
                    }
                    $( Op::$fp { dst, a, b, c } => {
                        *dst = f(*dst);
                        *a = f(*a);
                        *b = f(*b);
                        *c = f(*c);
                    } )*
                    $( Op::$abi { slot, rhs, .. } => {
                        *slot = f(*slot);
                        *rhs = f(*rhs);
                    } )*
                    $( Op::$abl { dst, addr, rhs, .. } => {
                        *dst = f(*dst);
                        *addr = f(*addr);
                        *rhs = f(*rhs);
                    } )*
                }
            }

            /// The 32-bit compare-and-branch `self` fused with `load`, the
            /// `i32.load` (offset 0) just before it, when that load produces the
            /// branch's left operand (still written to its slot).
            pub(crate) fn fuse_load_branch(self, load: Op) -> Option<Op> {
                let Op::I32Load { dst, addr, offset: 0 } = load else { return None };
                Some(match self {
                    $(
                        Op::$ab { lhs, rhs, offset } if lhs == dst => {
                            Op::$abl { dst, addr, rhs, offset }
                        }
                    )*
                    _ => return None,
                })
            }

            /// The 32-bit compare-and-branch `self` fused with `add`, the `i32.add`
            /// just before it, when that add increments the branch's left operand in
            /// place (`x = x + step`, `x = step + x` or `x = x + imm`).
            pub(crate) fn fuse_add_branch(self, add: Op) -> Option<Op> {
                let (slot, step) = match add {
                    Op::I32Add { dst, lhs, rhs } if dst == lhs => (dst, Ok(rhs)),
                    Op::I32Add { dst, lhs, rhs } if dst == rhs => (dst, Ok(lhs)),
                    Op::I32AddImm { dst, lhs, imm } if dst == lhs => (dst, Err(imm)),
                    _ => return None,
                };
                Some(match (self, step) {
                    $(
                        (Op::$ab { lhs, rhs, offset }, Ok(step)) if lhs == slot => {
                            Op::$abr { slot, step, rhs, offset }
                        }
                        (Op::$ab { lhs, rhs, offset }, Err(imm)) if lhs == slot => {
                            Op::$abi { slot, imm, rhs, offset }
                        }
                    )*
                    _ => return None,
                })
            }

            /// The `f64` operator `second` fused with `first`, the instruction just
            /// before it, which computed one of its operands into `t`, a temporary
            /// only `second` reads.
            pub(crate) fn fuse_f64_pair(first: Op, second: Op, t: u32) -> Option<Op> {
                Some(match (first, second) {
                    $(
                        (Op::$fp1 { dst: t1, lhs: a, rhs: b }, Op::$fp2 { dst, lhs, rhs })
                            if t1 == t && crate::code::pair_is!($fside, lhs, rhs, t) =>
                        {
                            Op::$fp { dst, a, b, c: crate::code::pair_other!($fside, lhs, rhs) }
                        }
                    )*
                    _ => return None,
                })
            }

            /// Sets the offset of a branch.
            pub(crate) fn set_offset(&mut self, to: i32) {
                match self {
                    Op::Br { offset }
                    | Op::BrIfNez { offset, .. }
                    | Op::BrIfEqz { offset, .. } => *offset = to,
                    Op::BrF32Eq { offset, .. } | Op::BrF32NotEq { offset, .. } => *offset = to,
                    Op::BrF32Ne { offset, .. } | Op::BrF32NotNe { offset, .. } => *offset = to,
                    Op::BrF32Lt { offset, .. } | Op::BrF32NotLt { offset, .. } => *offset = to,
                    Op::BrF32Gt { offset, .. } | Op::BrF32NotGt { offset, .. } => *offset = to,
                    Op::BrF32Le { offset, .. } | Op::BrF32NotLe { offset, .. } => *offset = to,
                    Op::BrF32Ge { offset, .. } | Op::BrF32NotGe { offset, .. } => *offset = to,
                    Op::BrF64Eq { offset, .. } | Op::BrF64NotEq { offset, .. } => *offset = to,
                    Op::BrF64Ne { offset, .. } | Op::BrF64NotNe { offset, .. } => *offset = to,
                    Op::BrF64Lt { offset, .. } | Op::BrF64NotLt { offset, .. } => *offset = to,
                    Op::BrF64Gt { offset, .. } | Op::BrF64NotGt { offset, .. } => *offset = to,
                    Op::BrF64Le { offset, .. } | Op::BrF64NotLe { offset, .. } => *offset = to,
                    Op::BrF64Ge { offset, .. } | Op::BrF64NotGe { offset, .. } => *offset = to,
                    $( Op::$cb { offset, .. } | Op::$cbi { offset, .. } => *offset = to, )*
                    $( Op::$abr { offset, .. } | Op::$abi { offset, .. } => *offset = to, )*
                    $( Op::$abl { offset, .. } => *offset = to, )*
                    Op::CopyBr { offset, .. } | Op::I32AddImmBr { offset, .. } => *offset = to,
                    _ => {}
                }
            }
        }
    };
}
for_each_op!(define_op);

impl Op {
    /// A load whose address is `idx << shift` (`shl`, an `i32.shl` by a constant
    /// matching the access size): one instruction indexing a static array.
    pub(crate) fn fuse_shift(self, shl: Op) -> Option<Op> {
        let Op::I32ShlImm { lhs: idx, imm, .. } = shl else { return None };
        Some(match (self, imm) {
            (Op::I32Load { dst, offset, .. }, 2) => Op::I32LoadShl { dst, idx, offset },
            (Op::F32Load { dst, offset, .. }, 2) => Op::F32LoadShl { dst, idx, offset },
            (Op::I64Load { dst, offset, .. }, 3) => Op::I64LoadShl { dst, idx, offset },
            (Op::F64Load { dst, offset, .. }, 3) => Op::F64LoadShl { dst, idx, offset },
            _ => return None,
        })
    }

    /// An access fused with its address `lhs + rhs` (see [`Op::fuse_address`]) whose
    /// `rhs` is `idx << shift` (`shl`, the instruction before): one scaled access,
    /// when the shift matches the access size.
    pub(crate) fn fuse_scaled(self, shl: Op) -> Option<(Op, u32)> {
        let Op::I32ShlImm { dst: t, lhs: i, imm } = shl else { return None };
        Some(match (self, imm) {
            (Op::I32LoadAdd { dst, lhs, rhs }, 2) if rhs == t => {
                (Op::I32LoadIdx { dst, lhs, rhs: i }, t)
            }
            (Op::F32LoadAdd { dst, lhs, rhs }, 2) if rhs == t => {
                (Op::F32LoadIdx { dst, lhs, rhs: i }, t)
            }
            (Op::I64LoadAdd { dst, lhs, rhs }, 3) if rhs == t => {
                (Op::I64LoadIdx { dst, lhs, rhs: i }, t)
            }
            (Op::F64LoadAdd { dst, lhs, rhs }, 3) if rhs == t => {
                (Op::F64LoadIdx { dst, lhs, rhs: i }, t)
            }
            (Op::Store32Add { lhs, rhs, val }, 2) if rhs == t => {
                (Op::Store32Idx { lhs, rhs: i, val }, t)
            }
            (Op::Store64Add { lhs, rhs, val }, 3) if rhs == t => {
                (Op::Store64Idx { lhs, rhs: i, val }, t)
            }
            _ => return None,
        })
    }

    /// A load or store at offset 0 whose address is the sum computed by `addr`
    /// (an `i32.add` whose result only this access reads): one instruction that
    /// adds (wrapping to 32 bits, as `i32.add` does) and accesses.
    pub(crate) fn fuse_address(self, addr: Op) -> Option<Op> {
        Some(match (self, addr) {
            (Op::I32Load { dst, offset: 0, .. }, Op::I32AddShl2Imm { lhs, rhs, imm, .. }) => {
                Op::I32LoadIdxImm { dst, lhs, rhs, imm }
            }
            (Op::F32Load { dst, offset: 0, .. }, Op::I32AddShl2Imm { lhs, rhs, imm, .. }) => {
                Op::F32LoadIdxImm { dst, lhs, rhs, imm }
            }
            (Op::I64Load { dst, offset: 0, .. }, Op::I32AddShl3Imm { lhs, rhs, imm, .. }) => {
                Op::I64LoadIdxImm { dst, lhs, rhs, imm }
            }
            (Op::F64Load { dst, offset: 0, .. }, Op::I32AddShl3Imm { lhs, rhs, imm, .. }) => {
                Op::F64LoadIdxImm { dst, lhs, rhs, imm }
            }
            (Op::Store32 { val, offset: 0, .. }, Op::I32AddShl2Imm { lhs, rhs, imm, .. }) => {
                Op::Store32IdxImm { lhs, rhs, val, imm }
            }
            (Op::Store64 { val, offset: 0, .. }, Op::I32AddShl3Imm { lhs, rhs, imm, .. }) => {
                Op::Store64IdxImm { lhs, rhs, val, imm }
            }
            (Op::I32Load { dst, offset: 0, .. }, Op::I32AddShl2 { lhs, rhs, .. }) => {
                Op::I32LoadIdx { dst, lhs, rhs }
            }
            (Op::F32Load { dst, offset: 0, .. }, Op::I32AddShl2 { lhs, rhs, .. }) => {
                Op::F32LoadIdx { dst, lhs, rhs }
            }
            (Op::I64Load { dst, offset: 0, .. }, Op::I32AddShl3 { lhs, rhs, .. }) => {
                Op::I64LoadIdx { dst, lhs, rhs }
            }
            (Op::F64Load { dst, offset: 0, .. }, Op::I32AddShl3 { lhs, rhs, .. }) => {
                Op::F64LoadIdx { dst, lhs, rhs }
            }
            (Op::Store32 { val, offset: 0, .. }, Op::I32AddShl2 { lhs, rhs, .. }) => {
                Op::Store32Idx { lhs, rhs, val }
            }
            (Op::Store64 { val, offset: 0, .. }, Op::I32AddShl3 { lhs, rhs, .. }) => {
                Op::Store64Idx { lhs, rhs, val }
            }
            (Op::I32Load { dst, offset: 0, .. }, Op::I32Add { lhs, rhs, .. }) => {
                Op::I32LoadAdd { dst, lhs, rhs }
            }
            (Op::I32Load { dst, offset: 0, .. }, Op::I32AddImm { lhs, imm, .. }) => {
                Op::I32LoadAddImm { dst, lhs, imm }
            }
            (Op::I64Load { dst, offset: 0, .. }, Op::I32Add { lhs, rhs, .. }) => {
                Op::I64LoadAdd { dst, lhs, rhs }
            }
            (Op::I64Load { dst, offset: 0, .. }, Op::I32AddImm { lhs, imm, .. }) => {
                Op::I64LoadAddImm { dst, lhs, imm }
            }
            (Op::F32Load { dst, offset: 0, .. }, Op::I32Add { lhs, rhs, .. }) => {
                Op::F32LoadAdd { dst, lhs, rhs }
            }
            (Op::F32Load { dst, offset: 0, .. }, Op::I32AddImm { lhs, imm, .. }) => {
                Op::F32LoadAddImm { dst, lhs, imm }
            }
            (Op::F64Load { dst, offset: 0, .. }, Op::I32Add { lhs, rhs, .. }) => {
                Op::F64LoadAdd { dst, lhs, rhs }
            }
            (Op::F64Load { dst, offset: 0, .. }, Op::I32AddImm { lhs, imm, .. }) => {
                Op::F64LoadAddImm { dst, lhs, imm }
            }
            (Op::I32Load8U { dst, offset: 0, .. }, Op::I32Add { lhs, rhs, .. }) => {
                Op::I32Load8UAdd { dst, lhs, rhs }
            }
            (Op::I32Load8U { dst, offset: 0, .. }, Op::I32AddImm { lhs, imm, .. }) => {
                Op::I32Load8UAddImm { dst, lhs, imm }
            }
            (Op::I32Load8S { dst, offset: 0, .. }, Op::I32Add { lhs, rhs, .. }) => {
                Op::I32Load8SAdd { dst, lhs, rhs }
            }
            (Op::I32Load8S { dst, offset: 0, .. }, Op::I32AddImm { lhs, imm, .. }) => {
                Op::I32Load8SAddImm { dst, lhs, imm }
            }
            (Op::I32Load16U { dst, offset: 0, .. }, Op::I32Add { lhs, rhs, .. }) => {
                Op::I32Load16UAdd { dst, lhs, rhs }
            }
            (Op::I32Load16U { dst, offset: 0, .. }, Op::I32AddImm { lhs, imm, .. }) => {
                Op::I32Load16UAddImm { dst, lhs, imm }
            }
            (Op::I64Load32S { dst, offset: 0, .. }, Op::I32Add { lhs, rhs, .. }) => {
                Op::I64Load32SAdd { dst, lhs, rhs }
            }
            (Op::I64Load32S { dst, offset: 0, .. }, Op::I32AddImm { lhs, imm, .. }) => {
                Op::I64Load32SAddImm { dst, lhs, imm }
            }
            (Op::I64Load32U { dst, offset: 0, .. }, Op::I32Add { lhs, rhs, .. }) => {
                Op::I64Load32UAdd { dst, lhs, rhs }
            }
            (Op::I64Load32U { dst, offset: 0, .. }, Op::I32AddImm { lhs, imm, .. }) => {
                Op::I64Load32UAddImm { dst, lhs, imm }
            }
            (Op::Store8 { val, offset: 0, .. }, Op::I32Add { lhs, rhs, .. }) => {
                Op::Store8Add { lhs, rhs, val }
            }
            (Op::Store8 { val, offset: 0, .. }, Op::I32AddImm { lhs, imm, .. }) => {
                Op::Store8AddImm { lhs, imm, val }
            }
            (Op::Store16 { val, offset: 0, .. }, Op::I32Add { lhs, rhs, .. }) => {
                Op::Store16Add { lhs, rhs, val }
            }
            (Op::Store16 { val, offset: 0, .. }, Op::I32AddImm { lhs, imm, .. }) => {
                Op::Store16AddImm { lhs, imm, val }
            }
            (Op::Store32 { val, offset: 0, .. }, Op::I32Add { lhs, rhs, .. }) => {
                Op::Store32Add { lhs, rhs, val }
            }
            (Op::Store32 { val, offset: 0, .. }, Op::I32AddImm { lhs, imm, .. }) => {
                Op::Store32AddImm { lhs, imm, val }
            }
            (Op::Store64 { val, offset: 0, .. }, Op::I32Add { lhs, rhs, .. }) => {
                Op::Store64Add { lhs, rhs, val }
            }
            (Op::Store64 { val, offset: 0, .. }, Op::I32AddImm { lhs, imm, .. }) => {
                Op::Store64AddImm { lhs, imm, val }
            }
            _ => return None,
        })
    }
}

const _: () = assert!(core::mem::size_of::<Op>() == 20);

/// Points every [`Op::Call`] in `ops` at its callee's entry, once all of `funcs`
/// are translated.
pub fn link_calls(ops: &mut [Op], funcs: &[FuncCode]) {
    for op in ops {
        match op {
            Op::Call { func, entry, .. } => {
                if let Some(fc) = funcs.get(*func as usize) {
                    *entry = fc.entry;
                }
            }
            Op::CallCopy { entry, .. } | Op::ReturnCall { entry, .. } => {
                if let Some(fc) = funcs.get(*entry as usize) {
                    *entry = fc.entry;
                }
            }
            _ => {}
        }
    }
}

/// Tag of a [`Catch`] that catches every exception (`catch_all`, `catch_all_ref`).
pub const CATCH_ALL: u32 = u32::MAX;

/// One catch clause of a `try_table`: an exception thrown by an instruction in
/// `start..end` (or by a call there) whose tag is the module's tag `tag` (any, with
/// [`CATCH_ALL`]) continues at `landing`, an [`Op::Caught`] in the same function.
/// A module's catches are in function order and, within a function, innermost
/// `try_table` first and in clause order: the first that matches handles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Catch {
    /// First covered instruction.
    pub start: u32,
    /// End of the covered instructions (exclusive).
    pub end: u32,
    /// Tag index in the module, or [`CATCH_ALL`].
    pub tag: u32,
    /// The landing pad.
    pub landing: u32,
}

/// A translated function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FuncCode {
    /// First instruction.
    pub entry: u32,
    /// Parameter count.
    pub params: u32,
    /// Declared locals (zeroed on entry), excluding parameters.
    pub locals: u32,
    /// Slots of the whole frame: parameters, locals, temporaries and constants.
    pub frame: u32,
    /// Module function index (for backtraces).
    pub index: u32,
    /// Slot of the first constant, copied from the module's pool on entry.
    pub consts_at: u32,
    /// First constant in [`ModuleCode::consts`].
    pub consts_start: u32,
    /// Number of constants.
    pub consts_len: u32,
}

/// A translated module: every defined function's code in one array.
#[derive(Default)]
pub struct ModuleCode {
    /// All instructions.
    pub ops: Box<[Op]>,
    /// Defined functions, by index without imports.
    pub funcs: Box<[FuncCode]>,
    /// The constant slots of every function, back to back.
    pub consts: Box<[u64]>,
    /// The `v128` constants and shuffle lane indexes of every function.
    pub v128s: Box<[u128]>,
    /// Imported function count.
    pub num_imported_funcs: u32,
    /// The catch clauses of every `try_table` (see [`Catch`]).
    pub catches: Box<[Catch]>,
    /// The GC instructions' immediates and stack maps (see [`Op::Gc`]).
    pub gc: Box<[GcInstr]>,
    /// The stack map of every call: the call instruction's index in `ops` and the
    /// caller's frame slots that hold references while the callee runs, sorted by
    /// index (see `crate::exec::gc`).
    pub call_maps: Box<[(u32, Box<[u32]>)]>,
    /// The threaded form of `ops`, built for the module's composition on first use.
    pub threaded: crate::exec::Threaded,
}

/// The stack maps of a module's calls: each call instruction's index in the module's
/// code and the caller's frame slots that hold references during the call.
pub type CallMaps = Vec<(u32, Box<[u32]>)>;

/// A GC instruction: what it does and, when it allocates, its stack map.
#[derive(Clone, Debug)]
pub struct GcInstr {
    /// The operation.
    pub kind: GcKind,
    /// The struct or array type it names (canonical; `None` for the others).
    pub ty: Option<&'static vm_core::runtime::gc::types::TypeInfo>,
    /// Frame slots that hold references when it runs (its operands included), the
    /// roots of the collection an allocation may run.
    pub roots: Box<[u32]>,
}

/// The GC operations (operands and results from the instruction's `base` slot, in
/// the order of the proposal; a `v128` takes two slots).
#[derive(Clone, Copy, Debug, PartialEq)]
#[allow(missing_docs)]
pub enum GcKind {
    StructNew,
    StructNewDefault,
    StructGet {
        field: u32,
        signed: bool,
    },
    StructSet {
        field: u32,
    },
    ArrayNew,
    ArrayNewDefault,
    ArrayNewFixed(u32),
    ArrayNewData(u32),
    ArrayNewElem(u32),
    ArrayGet {
        signed: bool,
    },
    ArraySet,
    ArrayLen,
    ArrayFill,
    ArrayCopy,
    ArrayInitData(u32),
    ArrayInitElem(u32),
    RefI31,
    I31Get {
        signed: bool,
    },
    RefEq,
    /// `ref.test`: the result at `base + 1` when `keep` (the reference stays at
    /// `base`, for `br_on_cast`), else at `base`.
    RefTest {
        ty: vm_core::runtime::types::RefType,
        keep: bool,
    },
    RefCast(vm_core::runtime::types::RefType),
    AnyConvertExtern,
    ExternConvertAny,
}

impl GcKind {
    /// Whether it allocates (a safepoint: a collection may run).
    pub fn allocates(self) -> bool {
        matches!(
            self,
            GcKind::StructNew
                | GcKind::StructNewDefault
                | GcKind::ArrayNew
                | GcKind::ArrayNewDefault
                | GcKind::ArrayNewFixed(_)
                | GcKind::ArrayNewData(_)
                | GcKind::ArrayNewElem(_)
        )
    }
}

impl std::fmt::Debug for ModuleCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The instructions by count: their `Debug` is not in every build.
        f.debug_struct("ModuleCode")
            .field("ops", &self.ops.len())
            .field("funcs", &self.funcs)
            .field("consts", &self.consts.len())
            .field("v128s", &self.v128s.len())
            .field("num_imported_funcs", &self.num_imported_funcs)
            .field("catches", &self.catches)
            .field("gc", &self.gc.len())
            .field("call_maps", &self.call_maps.len())
            .finish_non_exhaustive()
    }
}

/// The slots values of types `tys` take: two for a `v128`, one for any other.
pub fn slots_of(tys: &[vm_core::runtime::ValType]) -> u32 {
    tys.iter().map(|&t| slot_count(t)).sum()
}

/// The slots a value of type `t` takes: two for a `v128`, one for any other.
pub fn slot_count(t: vm_core::runtime::ValType) -> u32 {
    t.slots64()
}
