//! simd128 operators to Cranelift IR.
//!
//! A v128 value on the operand stack has whatever vector type the operator that made
//! it produced (`I32X4` after `i32x4.add`, `F64X2` after `f64x2.sqrt`…); an operator
//! that reads it with another lane interpretation bitcasts it first (free: every
//! vector type lives in the same registers). Everything that crosses a block, call,
//! local, global or `select` carries the canonical `I8X16` (see
//! [`FuncTranslator::canon`]). Patterns such as `pmin`/`pmax`, `dot` and the
//! `trunc_sat_f64x2_*_zero` pairs are emitted in the shape Cranelift's x86-64
//! backend matches to single instructions.

use cranelift_codegen::ir::{
    Endianness, InstBuilder, MemFlagsData, Type, Value,
    condcodes::{FloatCC, IntCC},
    types::{self, F32X4, F64X2, I8X16, I16X8, I32X4, I64X2},
};
use vm_core::runtime::CompileError;
use wasmparser::{MemArg, Operator};

use super::{FuncTranslator, mem_index};
use crate::env::FuncEnv;

/// Flags of bitcasts between vector types (the byte order must be explicit when the
/// lane count changes; wasm's is little-endian).
fn le() -> MemFlagsData {
    MemFlagsData::new().with_endianness(Endianness::Little)
}

/// How a v128 memory access moves its data.
#[derive(Clone, Copy)]
enum VLoad {
    /// All 16 bytes.
    Full,
    /// 8 bytes, each half-width lane sign- or zero-extended.
    Extend(fn(&mut FuncTranslator<'_, '_, '_>, MemFlagsData, Value, i32) -> Value),
    /// One scalar of type `.0`, copied to every lane of `.1`.
    Splat(Type, Type),
    /// One scalar of type `.0` into lane 0 of `.1`, the other lanes zero.
    Zero(Type, Type),
}

impl FuncTranslator<'_, '_, '_> {
    /// `v` with the canonical v128 type when it is a vector of another type.
    pub(super) fn canon(&mut self, v: Value) -> Value {
        let ty = self.b.func.dfg.value_type(v);
        if ty.is_vector() && ty != I8X16 { self.b.ins().bitcast(I8X16, le(), v) } else { v }
    }

    /// [`FuncTranslator::canon`] of each of `vals`.
    pub(super) fn canon_all(&mut self, vals: &[Value]) -> Vec<Value> {
        vals.iter().map(|&v| self.canon(v)).collect()
    }

    /// `v` as a vector of type `ty`.
    fn as_ty(&mut self, v: Value, ty: Type) -> Value {
        if self.b.func.dfg.value_type(v) == ty { v } else { self.b.ins().bitcast(ty, le(), v) }
    }

    fn pop_as(&mut self, ty: Type) -> Value {
        let v = self.pop();
        self.as_ty(v, ty)
    }

    fn pop2_as(&mut self, ty: Type) -> (Value, Value) {
        let y = self.pop_as(ty);
        let x = self.pop_as(ty);
        (x, y)
    }

    /// Two operands of a lane-agnostic operation, bitcast to one type only when
    /// they differ.
    fn pop2_any(&mut self) -> (Value, Value) {
        let (x, y) = self.pop2();
        let (tx, ty) = (self.b.func.dfg.value_type(x), self.b.func.dfg.value_type(y));
        if tx == ty { (x, y) } else { (self.as_ty(x, I8X16), self.as_ty(y, I8X16)) }
    }

    fn v128_const(&mut self, bytes: &[u8]) -> Value {
        let c = self.b.func.dfg.constants.insert(bytes.to_vec().into());
        self.b.ins().vconst(I8X16, c)
    }

    /// A zero v128 of type `ty`.
    pub(super) fn v128_zero(&mut self, ty: Type) -> Value {
        let c = self.b.func.dfg.constants.insert(vec![0u8; 16].into());
        self.b.ins().vconst(ty, c)
    }

    /// Pops the address of an access of `size` bytes; returns the native address and
    /// the static offset left for the access.
    fn v_addr(&mut self, memarg: &MemArg, size: u32) -> (Value, i32) {
        let index = self.pop();
        self.env.heap_addr(&mut self.b, mem_index(memarg), index, memarg.offset, size)
    }

    fn v_load(&mut self, memarg: &MemArg, kind: VLoad) {
        let f = FuncEnv::heap_flags().with_endianness(Endianness::Little);
        let v = match kind {
            VLoad::Full => {
                let (addr, off) = self.v_addr(memarg, 16);
                self.b.ins().load(I8X16, f, addr, off)
            }
            VLoad::Extend(load) => {
                let (addr, off) = self.v_addr(memarg, 8);
                load(self, f, addr, off)
            }
            VLoad::Splat(scalar, vec) => {
                let (addr, off) = self.v_addr(memarg, scalar.bytes());
                let x = self.b.ins().load(scalar, f, addr, off);
                self.b.ins().splat(vec, x)
            }
            VLoad::Zero(scalar, vec) => {
                let (addr, off) = self.v_addr(memarg, scalar.bytes());
                let x = self.b.ins().load(scalar, f, addr, off);
                self.b.ins().scalar_to_vector(vec, x)
            }
        };
        self.push(v);
    }

    fn v_load_lane(&mut self, memarg: &MemArg, vec: Type, lane: u8) {
        let v = self.pop_as(vec);
        let scalar = vec.lane_type();
        let (addr, off) = self.v_addr(memarg, scalar.bytes());
        let f = FuncEnv::heap_flags().with_endianness(Endianness::Little);
        let x = self.b.ins().load(scalar, f, addr, off);
        let r = self.b.ins().insertlane(v, x, lane);
        self.push(r);
    }

    fn v_store_lane(&mut self, memarg: &MemArg, vec: Type, lane: u8) {
        let v = self.pop_as(vec);
        let x = self.b.ins().extractlane(v, lane);
        let (addr, off) = self.v_addr(memarg, vec.lane_type().bytes());
        let f = FuncEnv::heap_flags().with_endianness(Endianness::Little);
        self.b.ins().store(f, x, addr, off);
    }

    fn splat(&mut self, vec: Type) {
        let x = self.pop();
        let lane = vec.lane_type();
        let x = if lane.is_int() && lane.bits() < 32 { self.b.ins().ireduce(lane, x) } else { x };
        let v = self.b.ins().splat(vec, x);
        self.push(v);
    }

    fn extract(&mut self, vec: Type, lane: u8, signed: Option<bool>) {
        let v = self.pop_as(vec);
        let x = self.b.ins().extractlane(v, lane);
        let x = match signed {
            Some(true) => self.b.ins().sextend(types::I32, x),
            Some(false) => self.b.ins().uextend(types::I32, x),
            None => x,
        };
        self.push(x);
    }

    fn replace(&mut self, vec: Type, lane: u8) {
        let x = self.pop();
        let v = self.pop_as(vec);
        let ty = vec.lane_type();
        let x = if ty.is_int() && ty.bits() < 32 { self.b.ins().ireduce(ty, x) } else { x };
        let r = self.b.ins().insertlane(v, x, lane);
        self.push(r);
    }

    fn v_icmp(&mut self, ty: Type, cc: IntCC) {
        let (x, y) = self.pop2_as(ty);
        let v = self.b.ins().icmp(cc, x, y);
        self.push(v);
    }

    fn v_fcmp(&mut self, ty: Type, cc: FloatCC) {
        let (x, y) = self.pop2_as(ty);
        let v = self.b.ins().fcmp(cc, x, y);
        self.push(v);
    }

    /// A shift of every lane of a `ty` vector by an `i32` count (Cranelift takes the
    /// count modulo the lane width, as wasm does).
    fn v_shift(&mut self, ty: Type, op: fn(&mut Self, Value, Value) -> Value) {
        let n = self.pop();
        let x = self.pop_as(ty);
        let v = op(self, x, n);
        self.push(v);
    }

    fn pmin_pmax(&mut self, ty: Type, max: bool) {
        // pmin(a, b) = b < a ? b : a; pmax(a, b) = a < b ? b : a: the operand order
        // Cranelift's x86-64 backend turns into `minps`/`maxps` (and `pd`).
        let (a, b) = self.pop2_as(ty);
        let cmp = if max {
            self.b.ins().fcmp(FloatCC::LessThan, a, b)
        } else {
            self.b.ins().fcmp(FloatCC::LessThan, b, a)
        };
        let mask = self.b.ins().bitcast(ty, le(), cmp);
        let v = self.b.ins().bitselect(mask, b, a);
        self.push(v);
    }

    /// `trunc_sat_f64x2_{s,u}_zero`: convert to 64-bit lanes, then narrow with zeros
    /// (the shape the backend lowers as one sequence).
    fn trunc_sat_zero(&mut self, signed: bool) {
        let x = self.pop_as(F64X2);
        let zero = self.v128_zero(I64X2);
        let v = if signed {
            let c = self.b.ins().fcvt_to_sint_sat(I64X2, x);
            self.b.ins().snarrow(c, zero)
        } else {
            let c = self.b.ins().fcvt_to_uint_sat(I64X2, x);
            self.b.ins().uunarrow(c, zero)
        };
        self.push(v);
    }

    /// `i16x8.relaxed_dot_i8x16_i7x16_s` as vm-core defines it, on `i16x8` views of
    /// the operands: each byte sign-extended in place (even bytes shifted up and back,
    /// odd bytes shifted down), the two products of a lane added, wrapping.
    fn relaxed_dot16(&mut self, x: Value, y: Value) -> Value {
        let xe = self.b.ins().ishl_imm_u(x, 8);
        let xe = self.b.ins().sshr_imm_u(xe, 8);
        let ye = self.b.ins().ishl_imm_u(y, 8);
        let ye = self.b.ins().sshr_imm_u(ye, 8);
        let xo = self.b.ins().sshr_imm_u(x, 8);
        let yo = self.b.ins().sshr_imm_u(y, 8);
        let even = self.b.ins().imul(xe, ye);
        let odd = self.b.ins().imul(xo, yo);
        self.b.ins().iadd(even, odd)
    }

    /// Translates a simd128 operator; any other operator is unsupported.
    pub(super) fn simd_op(
        &mut self,
        op: Operator<'_>,
        name: &'static str,
    ) -> Result<(), CompileError> {
        use Operator as O;
        macro_rules! un {
            ($ty:expr, $m:ident) => {{
                let x = self.pop_as($ty);
                let v = self.b.ins().$m(x);
                self.push(v);
            }};
        }
        macro_rules! bin {
            ($ty:expr, $m:ident) => {{
                let (x, y) = self.pop2_as($ty);
                let v = self.b.ins().$m(x, y);
                self.push(v);
            }};
        }
        macro_rules! bits {
            ($m:ident) => {{
                let (x, y) = self.pop2_any();
                let v = self.b.ins().$m(x, y);
                self.push(v);
            }};
        }
        macro_rules! widen {
            ($from:expr, $m:ident) => {{
                let x = self.pop_as($from);
                let v = self.b.ins().$m(x);
                self.push(v);
            }};
        }
        macro_rules! extmul {
            ($from:expr, $m:ident) => {{
                let (x, y) = self.pop2_as($from);
                let x = self.b.ins().$m(x);
                let y = self.b.ins().$m(y);
                let v = self.b.ins().imul(x, y);
                self.push(v);
            }};
        }
        macro_rules! extadd {
            ($from:expr, $lo:ident, $hi:ident) => {{
                let x = self.pop_as($from);
                let lo = self.b.ins().$lo(x);
                let hi = self.b.ins().$hi(x);
                let v = self.b.ins().iadd_pairwise(lo, hi);
                self.push(v);
            }};
        }
        macro_rules! truthy {
            ($v:expr) => {{
                let c = $v;
                let v = self.b.ins().uextend(types::I32, c);
                self.push(v);
            }};
        }
        match op {
            // ---- memory ----
            O::V128Load { memarg } => self.v_load(&memarg, VLoad::Full),
            O::V128Load8x8S { memarg } => {
                self.v_load(&memarg, VLoad::Extend(|t, f, a, o| t.b.ins().sload8x8(f, a, o)));
            }
            O::V128Load8x8U { memarg } => {
                self.v_load(&memarg, VLoad::Extend(|t, f, a, o| t.b.ins().uload8x8(f, a, o)));
            }
            O::V128Load16x4S { memarg } => {
                self.v_load(&memarg, VLoad::Extend(|t, f, a, o| t.b.ins().sload16x4(f, a, o)));
            }
            O::V128Load16x4U { memarg } => {
                self.v_load(&memarg, VLoad::Extend(|t, f, a, o| t.b.ins().uload16x4(f, a, o)));
            }
            O::V128Load32x2S { memarg } => {
                self.v_load(&memarg, VLoad::Extend(|t, f, a, o| t.b.ins().sload32x2(f, a, o)));
            }
            O::V128Load32x2U { memarg } => {
                self.v_load(&memarg, VLoad::Extend(|t, f, a, o| t.b.ins().uload32x2(f, a, o)));
            }
            O::V128Load8Splat { memarg } => self.v_load(&memarg, VLoad::Splat(types::I8, I8X16)),
            O::V128Load16Splat { memarg } => {
                self.v_load(&memarg, VLoad::Splat(types::I16, I16X8));
            }
            O::V128Load32Splat { memarg } => {
                self.v_load(&memarg, VLoad::Splat(types::I32, I32X4));
            }
            O::V128Load64Splat { memarg } => {
                self.v_load(&memarg, VLoad::Splat(types::I64, I64X2));
            }
            O::V128Load32Zero { memarg } => self.v_load(&memarg, VLoad::Zero(types::I32, I32X4)),
            O::V128Load64Zero { memarg } => self.v_load(&memarg, VLoad::Zero(types::I64, I64X2)),
            O::V128Store { memarg } => {
                let v = self.pop();
                let (addr, off) = self.v_addr(&memarg, 16);
                let f = FuncEnv::heap_flags().with_endianness(Endianness::Little);
                self.b.ins().store(f, v, addr, off);
            }
            O::V128Load8Lane { memarg, lane } => self.v_load_lane(&memarg, I8X16, lane),
            O::V128Load16Lane { memarg, lane } => self.v_load_lane(&memarg, I16X8, lane),
            O::V128Load32Lane { memarg, lane } => self.v_load_lane(&memarg, I32X4, lane),
            O::V128Load64Lane { memarg, lane } => self.v_load_lane(&memarg, I64X2, lane),
            O::V128Store8Lane { memarg, lane } => self.v_store_lane(&memarg, I8X16, lane),
            O::V128Store16Lane { memarg, lane } => self.v_store_lane(&memarg, I16X8, lane),
            O::V128Store32Lane { memarg, lane } => self.v_store_lane(&memarg, I32X4, lane),
            O::V128Store64Lane { memarg, lane } => self.v_store_lane(&memarg, I64X2, lane),

            // ---- constants, lanes, shuffles ----
            O::V128Const { value } => {
                let v = self.v128_const(value.bytes());
                self.push(v);
            }
            O::I8x16Shuffle { lanes } => {
                let (a, b) = self.pop2_as(I8X16);
                let mask = self.b.func.dfg.immediates.push(lanes.to_vec().into());
                let v = self.b.ins().shuffle(a, b, mask);
                self.push(v);
            }
            O::I8x16Swizzle => bin!(I8X16, swizzle),
            O::I8x16ExtractLaneS { lane } => self.extract(I8X16, lane, Some(true)),
            O::I8x16ExtractLaneU { lane } => self.extract(I8X16, lane, Some(false)),
            O::I16x8ExtractLaneS { lane } => self.extract(I16X8, lane, Some(true)),
            O::I16x8ExtractLaneU { lane } => self.extract(I16X8, lane, Some(false)),
            O::I32x4ExtractLane { lane } => self.extract(I32X4, lane, None),
            O::I64x2ExtractLane { lane } => self.extract(I64X2, lane, None),
            O::F32x4ExtractLane { lane } => self.extract(F32X4, lane, None),
            O::F64x2ExtractLane { lane } => self.extract(F64X2, lane, None),
            O::I8x16ReplaceLane { lane } => self.replace(I8X16, lane),
            O::I16x8ReplaceLane { lane } => self.replace(I16X8, lane),
            O::I32x4ReplaceLane { lane } => self.replace(I32X4, lane),
            O::I64x2ReplaceLane { lane } => self.replace(I64X2, lane),
            O::F32x4ReplaceLane { lane } => self.replace(F32X4, lane),
            O::F64x2ReplaceLane { lane } => self.replace(F64X2, lane),
            O::I8x16Splat => self.splat(I8X16),
            O::I16x8Splat => self.splat(I16X8),
            O::I32x4Splat => self.splat(I32X4),
            O::I64x2Splat => self.splat(I64X2),
            O::F32x4Splat => self.splat(F32X4),
            O::F64x2Splat => self.splat(F64X2),

            // ---- comparisons ----
            O::I8x16Eq => self.v_icmp(I8X16, IntCC::Equal),
            O::I8x16Ne => self.v_icmp(I8X16, IntCC::NotEqual),
            O::I8x16LtS => self.v_icmp(I8X16, IntCC::SignedLessThan),
            O::I8x16LtU => self.v_icmp(I8X16, IntCC::UnsignedLessThan),
            O::I8x16GtS => self.v_icmp(I8X16, IntCC::SignedGreaterThan),
            O::I8x16GtU => self.v_icmp(I8X16, IntCC::UnsignedGreaterThan),
            O::I8x16LeS => self.v_icmp(I8X16, IntCC::SignedLessThanOrEqual),
            O::I8x16LeU => self.v_icmp(I8X16, IntCC::UnsignedLessThanOrEqual),
            O::I8x16GeS => self.v_icmp(I8X16, IntCC::SignedGreaterThanOrEqual),
            O::I8x16GeU => self.v_icmp(I8X16, IntCC::UnsignedGreaterThanOrEqual),
            O::I16x8Eq => self.v_icmp(I16X8, IntCC::Equal),
            O::I16x8Ne => self.v_icmp(I16X8, IntCC::NotEqual),
            O::I16x8LtS => self.v_icmp(I16X8, IntCC::SignedLessThan),
            O::I16x8LtU => self.v_icmp(I16X8, IntCC::UnsignedLessThan),
            O::I16x8GtS => self.v_icmp(I16X8, IntCC::SignedGreaterThan),
            O::I16x8GtU => self.v_icmp(I16X8, IntCC::UnsignedGreaterThan),
            O::I16x8LeS => self.v_icmp(I16X8, IntCC::SignedLessThanOrEqual),
            O::I16x8LeU => self.v_icmp(I16X8, IntCC::UnsignedLessThanOrEqual),
            O::I16x8GeS => self.v_icmp(I16X8, IntCC::SignedGreaterThanOrEqual),
            O::I16x8GeU => self.v_icmp(I16X8, IntCC::UnsignedGreaterThanOrEqual),
            O::I32x4Eq => self.v_icmp(I32X4, IntCC::Equal),
            O::I32x4Ne => self.v_icmp(I32X4, IntCC::NotEqual),
            O::I32x4LtS => self.v_icmp(I32X4, IntCC::SignedLessThan),
            O::I32x4LtU => self.v_icmp(I32X4, IntCC::UnsignedLessThan),
            O::I32x4GtS => self.v_icmp(I32X4, IntCC::SignedGreaterThan),
            O::I32x4GtU => self.v_icmp(I32X4, IntCC::UnsignedGreaterThan),
            O::I32x4LeS => self.v_icmp(I32X4, IntCC::SignedLessThanOrEqual),
            O::I32x4LeU => self.v_icmp(I32X4, IntCC::UnsignedLessThanOrEqual),
            O::I32x4GeS => self.v_icmp(I32X4, IntCC::SignedGreaterThanOrEqual),
            O::I32x4GeU => self.v_icmp(I32X4, IntCC::UnsignedGreaterThanOrEqual),
            O::I64x2Eq => self.v_icmp(I64X2, IntCC::Equal),
            O::I64x2Ne => self.v_icmp(I64X2, IntCC::NotEqual),
            O::I64x2LtS => self.v_icmp(I64X2, IntCC::SignedLessThan),
            O::I64x2GtS => self.v_icmp(I64X2, IntCC::SignedGreaterThan),
            O::I64x2LeS => self.v_icmp(I64X2, IntCC::SignedLessThanOrEqual),
            O::I64x2GeS => self.v_icmp(I64X2, IntCC::SignedGreaterThanOrEqual),
            O::F32x4Eq => self.v_fcmp(F32X4, FloatCC::Equal),
            O::F32x4Ne => self.v_fcmp(F32X4, FloatCC::NotEqual),
            O::F32x4Lt => self.v_fcmp(F32X4, FloatCC::LessThan),
            O::F32x4Gt => self.v_fcmp(F32X4, FloatCC::GreaterThan),
            O::F32x4Le => self.v_fcmp(F32X4, FloatCC::LessThanOrEqual),
            O::F32x4Ge => self.v_fcmp(F32X4, FloatCC::GreaterThanOrEqual),
            O::F64x2Eq => self.v_fcmp(F64X2, FloatCC::Equal),
            O::F64x2Ne => self.v_fcmp(F64X2, FloatCC::NotEqual),
            O::F64x2Lt => self.v_fcmp(F64X2, FloatCC::LessThan),
            O::F64x2Gt => self.v_fcmp(F64X2, FloatCC::GreaterThan),
            O::F64x2Le => self.v_fcmp(F64X2, FloatCC::LessThanOrEqual),
            O::F64x2Ge => self.v_fcmp(F64X2, FloatCC::GreaterThanOrEqual),

            // ---- bitwise ----
            O::V128Not => {
                let x = self.pop();
                let v = self.b.ins().bnot(x);
                self.push(v);
            }
            O::V128And => bits!(band),
            O::V128AndNot => bits!(band_not),
            O::V128Or => bits!(bor),
            O::V128Xor => bits!(bxor),
            O::V128Bitselect => {
                let c = self.pop();
                let (x, y) = self.pop2_any();
                let ty = self.b.func.dfg.value_type(x);
                let c = self.as_ty(c, ty);
                let v = self.b.ins().bitselect(c, x, y);
                self.push(v);
            }
            O::F32x4RelaxedMadd
            | O::F32x4RelaxedNmadd
            | O::F64x2RelaxedMadd
            | O::F64x2RelaxedNmadd => {
                // vm-core's choice: the product rounded, then the sum (not fused).
                let ty = if matches!(op, O::F32x4RelaxedMadd | O::F32x4RelaxedNmadd) {
                    F32X4
                } else {
                    F64X2
                };
                let c = self.pop_as(ty);
                let (x, y) = self.pop2_as(ty);
                let mut p = self.b.ins().fmul(x, y);
                if matches!(op, O::F32x4RelaxedNmadd | O::F64x2RelaxedNmadd) {
                    p = self.b.ins().fneg(p);
                }
                let v = self.b.ins().fadd(p, c);
                self.push(v);
            }
            O::I16x8RelaxedDotI8x16I7x16S => {
                let (x, y) = self.pop2_as(I16X8);
                let v = self.relaxed_dot16(x, y);
                self.push(v);
            }
            O::I32x4RelaxedDotI8x16I7x16AddS => {
                let c = self.pop_as(I32X4);
                let (x, y) = self.pop2_as(I16X8);
                let d = self.relaxed_dot16(x, y);
                // extadd_pairwise_i16x8_s as even + odd lanes, sign-extended in place.
                let d = self.b.ins().bitcast(I32X4, le(), d);
                let even = self.b.ins().ishl_imm_u(d, 16);
                let even = self.b.ins().sshr_imm_u(even, 16);
                let odd = self.b.ins().sshr_imm_u(d, 16);
                let sum = self.b.ins().iadd(even, odd);
                let v = self.b.ins().iadd(sum, c);
                self.push(v);
            }
            O::V128AnyTrue => {
                let x = self.pop();
                truthy!(self.b.ins().vany_true(x));
            }

            // ---- integer lanes ----
            O::I8x16Abs => un!(I8X16, iabs),
            O::I8x16Neg => un!(I8X16, ineg),
            O::I8x16Popcnt => un!(I8X16, popcnt),
            O::I8x16AllTrue => {
                let x = self.pop_as(I8X16);
                truthy!(self.b.ins().vall_true(x));
            }
            O::I8x16Bitmask => self.bitmask(I8X16),
            O::I8x16NarrowI16x8S => bin!(I16X8, snarrow),
            O::I8x16NarrowI16x8U => bin!(I16X8, unarrow),
            O::I8x16Shl => self.v_shift(I8X16, |t, x, n| t.b.ins().ishl(x, n)),
            O::I8x16ShrS => self.v_shift(I8X16, |t, x, n| t.b.ins().sshr(x, n)),
            O::I8x16ShrU => self.v_shift(I8X16, |t, x, n| t.b.ins().ushr(x, n)),
            O::I8x16Add => bin!(I8X16, iadd),
            O::I8x16AddSatS => bin!(I8X16, sadd_sat),
            O::I8x16AddSatU => bin!(I8X16, uadd_sat),
            O::I8x16Sub => bin!(I8X16, isub),
            O::I8x16SubSatS => bin!(I8X16, ssub_sat),
            O::I8x16SubSatU => bin!(I8X16, usub_sat),
            O::I8x16MinS => bin!(I8X16, smin),
            O::I8x16MinU => bin!(I8X16, umin),
            O::I8x16MaxS => bin!(I8X16, smax),
            O::I8x16MaxU => bin!(I8X16, umax),
            O::I8x16AvgrU => bin!(I8X16, avg_round),
            O::I16x8ExtAddPairwiseI8x16S => extadd!(I8X16, swiden_low, swiden_high),
            O::I16x8ExtAddPairwiseI8x16U => extadd!(I8X16, uwiden_low, uwiden_high),
            O::I16x8Abs => un!(I16X8, iabs),
            O::I16x8Neg => un!(I16X8, ineg),
            O::I16x8Q15MulrSatS => bin!(I16X8, sqmul_round_sat),
            O::I16x8AllTrue => {
                let x = self.pop_as(I16X8);
                truthy!(self.b.ins().vall_true(x));
            }
            O::I16x8Bitmask => self.bitmask(I16X8),
            O::I16x8NarrowI32x4S => bin!(I32X4, snarrow),
            O::I16x8NarrowI32x4U => bin!(I32X4, unarrow),
            O::I16x8ExtendLowI8x16S => widen!(I8X16, swiden_low),
            O::I16x8ExtendHighI8x16S => widen!(I8X16, swiden_high),
            O::I16x8ExtendLowI8x16U => widen!(I8X16, uwiden_low),
            O::I16x8ExtendHighI8x16U => widen!(I8X16, uwiden_high),
            O::I16x8Shl => self.v_shift(I16X8, |t, x, n| t.b.ins().ishl(x, n)),
            O::I16x8ShrS => self.v_shift(I16X8, |t, x, n| t.b.ins().sshr(x, n)),
            O::I16x8ShrU => self.v_shift(I16X8, |t, x, n| t.b.ins().ushr(x, n)),
            O::I16x8Add => bin!(I16X8, iadd),
            O::I16x8AddSatS => bin!(I16X8, sadd_sat),
            O::I16x8AddSatU => bin!(I16X8, uadd_sat),
            O::I16x8Sub => bin!(I16X8, isub),
            O::I16x8SubSatS => bin!(I16X8, ssub_sat),
            O::I16x8SubSatU => bin!(I16X8, usub_sat),
            O::I16x8Mul => bin!(I16X8, imul),
            O::I16x8MinS => bin!(I16X8, smin),
            O::I16x8MinU => bin!(I16X8, umin),
            O::I16x8MaxS => bin!(I16X8, smax),
            O::I16x8MaxU => bin!(I16X8, umax),
            O::I16x8AvgrU => bin!(I16X8, avg_round),
            O::I16x8ExtMulLowI8x16S => extmul!(I8X16, swiden_low),
            O::I16x8ExtMulHighI8x16S => extmul!(I8X16, swiden_high),
            O::I16x8ExtMulLowI8x16U => extmul!(I8X16, uwiden_low),
            O::I16x8ExtMulHighI8x16U => extmul!(I8X16, uwiden_high),
            O::I32x4ExtAddPairwiseI16x8S => extadd!(I16X8, swiden_low, swiden_high),
            O::I32x4ExtAddPairwiseI16x8U => extadd!(I16X8, uwiden_low, uwiden_high),
            O::I32x4Abs => un!(I32X4, iabs),
            O::I32x4Neg => un!(I32X4, ineg),
            O::I32x4AllTrue => {
                let x = self.pop_as(I32X4);
                truthy!(self.b.ins().vall_true(x));
            }
            O::I32x4Bitmask => self.bitmask(I32X4),
            O::I32x4ExtendLowI16x8S => widen!(I16X8, swiden_low),
            O::I32x4ExtendHighI16x8S => widen!(I16X8, swiden_high),
            O::I32x4ExtendLowI16x8U => widen!(I16X8, uwiden_low),
            O::I32x4ExtendHighI16x8U => widen!(I16X8, uwiden_high),
            O::I32x4Shl => self.v_shift(I32X4, |t, x, n| t.b.ins().ishl(x, n)),
            O::I32x4ShrS => self.v_shift(I32X4, |t, x, n| t.b.ins().sshr(x, n)),
            O::I32x4ShrU => self.v_shift(I32X4, |t, x, n| t.b.ins().ushr(x, n)),
            O::I32x4Add => bin!(I32X4, iadd),
            O::I32x4Sub => bin!(I32X4, isub),
            O::I32x4Mul => bin!(I32X4, imul),
            O::I32x4MinS => bin!(I32X4, smin),
            O::I32x4MinU => bin!(I32X4, umin),
            O::I32x4MaxS => bin!(I32X4, smax),
            O::I32x4MaxU => bin!(I32X4, umax),
            O::I32x4DotI16x8S => {
                // The shape the backend turns into `pmaddwd`.
                let (x, y) = self.pop2_as(I16X8);
                let (xl, yl) = (self.b.ins().swiden_low(x), self.b.ins().swiden_low(y));
                let (xh, yh) = (self.b.ins().swiden_high(x), self.b.ins().swiden_high(y));
                let lo = self.b.ins().imul(xl, yl);
                let hi = self.b.ins().imul(xh, yh);
                let v = self.b.ins().iadd_pairwise(lo, hi);
                self.push(v);
            }
            O::I32x4ExtMulLowI16x8S => extmul!(I16X8, swiden_low),
            O::I32x4ExtMulHighI16x8S => extmul!(I16X8, swiden_high),
            O::I32x4ExtMulLowI16x8U => extmul!(I16X8, uwiden_low),
            O::I32x4ExtMulHighI16x8U => extmul!(I16X8, uwiden_high),
            O::I64x2Abs => un!(I64X2, iabs),
            O::I64x2Neg => un!(I64X2, ineg),
            O::I64x2AllTrue => {
                let x = self.pop_as(I64X2);
                truthy!(self.b.ins().vall_true(x));
            }
            O::I64x2Bitmask => self.bitmask(I64X2),
            O::I64x2ExtendLowI32x4S => widen!(I32X4, swiden_low),
            O::I64x2ExtendHighI32x4S => widen!(I32X4, swiden_high),
            O::I64x2ExtendLowI32x4U => widen!(I32X4, uwiden_low),
            O::I64x2ExtendHighI32x4U => widen!(I32X4, uwiden_high),
            O::I64x2Shl => self.v_shift(I64X2, |t, x, n| t.b.ins().ishl(x, n)),
            O::I64x2ShrS => self.v_shift(I64X2, |t, x, n| t.b.ins().sshr(x, n)),
            O::I64x2ShrU => self.v_shift(I64X2, |t, x, n| t.b.ins().ushr(x, n)),
            O::I64x2Add => bin!(I64X2, iadd),
            O::I64x2Sub => bin!(I64X2, isub),
            O::I64x2Mul => bin!(I64X2, imul),
            O::I64x2ExtMulLowI32x4S => extmul!(I32X4, swiden_low),
            O::I64x2ExtMulHighI32x4S => extmul!(I32X4, swiden_high),
            O::I64x2ExtMulLowI32x4U => extmul!(I32X4, uwiden_low),
            O::I64x2ExtMulHighI32x4U => extmul!(I32X4, uwiden_high),

            // ---- float lanes ----
            O::F32x4Ceil => un!(F32X4, ceil),
            O::F32x4Floor => un!(F32X4, floor),
            O::F32x4Trunc => un!(F32X4, trunc),
            O::F32x4Nearest => un!(F32X4, nearest),
            O::F32x4Abs => un!(F32X4, fabs),
            O::F32x4Neg => un!(F32X4, fneg),
            O::F32x4Sqrt => un!(F32X4, sqrt),
            O::F32x4Add => bin!(F32X4, fadd),
            O::F32x4Sub => bin!(F32X4, fsub),
            O::F32x4Mul => bin!(F32X4, fmul),
            O::F32x4Div => bin!(F32X4, fdiv),
            O::F32x4Min => bin!(F32X4, fmin),
            O::F32x4Max => bin!(F32X4, fmax),
            O::F32x4PMin => self.pmin_pmax(F32X4, false),
            O::F32x4PMax => self.pmin_pmax(F32X4, true),
            O::F64x2Ceil => un!(F64X2, ceil),
            O::F64x2Floor => un!(F64X2, floor),
            O::F64x2Trunc => un!(F64X2, trunc),
            O::F64x2Nearest => un!(F64X2, nearest),
            O::F64x2Abs => un!(F64X2, fabs),
            O::F64x2Neg => un!(F64X2, fneg),
            O::F64x2Sqrt => un!(F64X2, sqrt),
            O::F64x2Add => bin!(F64X2, fadd),
            O::F64x2Sub => bin!(F64X2, fsub),
            O::F64x2Mul => bin!(F64X2, fmul),
            O::F64x2Div => bin!(F64X2, fdiv),
            O::F64x2Min => bin!(F64X2, fmin),
            O::F64x2Max => bin!(F64X2, fmax),
            O::F64x2PMin => self.pmin_pmax(F64X2, false),
            O::F64x2PMax => self.pmin_pmax(F64X2, true),

            // ---- conversions ----
            O::I32x4TruncSatF32x4S => {
                let x = self.pop_as(F32X4);
                let v = self.b.ins().fcvt_to_sint_sat(I32X4, x);
                self.push(v);
            }
            O::I32x4TruncSatF32x4U => {
                let x = self.pop_as(F32X4);
                let v = self.b.ins().fcvt_to_uint_sat(I32X4, x);
                self.push(v);
            }
            O::F32x4ConvertI32x4S => {
                let x = self.pop_as(I32X4);
                let v = self.b.ins().fcvt_from_sint(F32X4, x);
                self.push(v);
            }
            O::F32x4ConvertI32x4U => {
                let x = self.pop_as(I32X4);
                let v = self.b.ins().fcvt_from_uint(F32X4, x);
                self.push(v);
            }
            O::I32x4TruncSatF64x2SZero => self.trunc_sat_zero(true),
            O::I32x4TruncSatF64x2UZero => self.trunc_sat_zero(false),
            O::F64x2ConvertLowI32x4S => {
                let x = self.pop_as(I32X4);
                let w = self.b.ins().swiden_low(x);
                let v = self.b.ins().fcvt_from_sint(F64X2, w);
                self.push(v);
            }
            O::F64x2ConvertLowI32x4U => {
                let x = self.pop_as(I32X4);
                let w = self.b.ins().uwiden_low(x);
                let v = self.b.ins().fcvt_from_uint(F64X2, w);
                self.push(v);
            }
            O::F32x4DemoteF64x2Zero => un!(F64X2, fvdemote),
            O::F64x2PromoteLowF32x4 => un!(F32X4, fvpromote_low),
            _ => return Err(CompileError::unsupported(name, "unknown", self.offset)),
        }
        Ok(())
    }

    fn bitmask(&mut self, ty: Type) {
        let x = self.pop_as(ty);
        let v = self.b.ins().vhigh_bits(types::I32, x);
        self.push(v);
    }
}
