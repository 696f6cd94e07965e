//! Translation of simd128 operators.
//!
//! A `v128` is two stack entries (two slots, low half first; the high half's entry
//! is marked in `hi`), so joins, calls and returns move it as two slots with the
//! scalar machinery. SIMD instructions take the first slot of each `v128` operand:
//! both halves must be in their own consecutive slots or in a `v128` local's,
//! which [`FuncTranslator::v128_operand`] ensures. No constant folding or fusion
//! touches a `v128`; a `local.set` redirects the result of the SIMD instruction
//! just before it, as it does for scalars.

use vm_core::runtime::CompileError;
use wasmparser::Operator;

use super::{FuncTranslator, Val, off};
use crate::code::Op;

/// How a lane operation takes its operands.
enum Shape {
    Unary(fn(u32, u32) -> Op),
    Binary(fn(u32, u32, u32) -> Op),
    Shift(fn(u32, u32, u32) -> Op),
    Test(fn(u32, u32) -> Op),
    Splat(fn(u32, u32) -> Op),
    Extract(fn(u32, u32, u32) -> Op, u8),
    Replace(fn(u32, u32, u32, u32) -> Op, u8),
}

macro_rules! define_shape {
    (
        unary { $( $u:ident $uf:ident $uk:ident; )* }
        binary { $( $b:ident $bf:ident $bk:ident; )* }
        shift { $( $s:ident $sf:ident $sk:ident; )* }
        test { $( $t:ident $tf:ident $tk:ident; )* }
        splat { $( $p:ident $pf:ident $pk:ident; )* }
        extract { $( $e:ident $ef:ident $ek:ident; )* }
        replace { $( $r:ident $rf:ident $rk:ident; )* }
    ) => {
        /// The shape and instruction of a lane operation.
        fn shape(op: &Operator<'_>) -> Option<Shape> {
            Some(match *op {
                $( Operator::$u => Shape::Unary(|dst, src| Op::$u { dst, src }), )*
                $( Operator::$b => Shape::Binary(|dst, lhs, rhs| Op::$b { dst, lhs, rhs }), )*
                $( Operator::$s => Shape::Shift(|dst, lhs, rhs| Op::$s { dst, lhs, rhs }), )*
                $( Operator::$t => Shape::Test(|dst, src| Op::$t { dst, src }), )*
                $( Operator::$p => Shape::Splat(|dst, src| Op::$p { dst, src }), )*
                $( Operator::$e { lane } => {
                    Shape::Extract(|dst, src, lane| Op::$e { dst, src, lane }, lane)
                } )*
                $( Operator::$r { lane } => {
                    Shape::Replace(|dst, src, val, lane| Op::$r { dst, src, val, lane }, lane)
                } )*
                _ => return None,
            })
        }
    };
}
vm_core::for_each_lanes_op!(define_shape);

/// Builds a load (`dst, addr, offset`) or a store (`addr, val, offset`).
type Mem = fn(u32, u32, u32) -> Op;
/// Builds an `extract_lane` (`dst, src, lane`).
type Extract = fn(u32, u32, u32) -> Op;
/// Builds a `replace_lane` (`dst, src, val, lane`).
type Replace = fn(u32, u32, u32, u32) -> Op;

impl FuncTranslator<'_> {
    /// The first slot of the `v128` at stack entries `h`, `h + 1`: a local's, or its
    /// own (copied there first unless it already is).
    pub(super) fn v128_operand(&mut self, h: usize) -> u32 {
        if let (Val::Local(l), Val::Local(m)) = (self.stack[h], self.stack[h + 1])
            && m == l + 1
        {
            return l;
        }
        self.materialize(h);
        self.materialize(h + 1);
        self.slot(h)
    }

    /// Whether global `g` is a `v128`.
    pub(super) fn global_is_v128(&self, g: u32) -> bool {
        self.module.globals.get(g as usize).is_some_and(|t| t.ty == vm_core::runtime::ValType::V128)
    }

    /// `select` of two `v128`s.
    pub(super) fn v128_select(&mut self) {
        let h = self.stack.len() - 5;
        let cond = self.operand(h + 4);
        let rhs = self.v128_operand(h + 2);
        self.materialize(h);
        self.materialize(h + 1);
        let dst = self.slot(h);
        self.stack.truncate(h + 2);
        self.emit(Op::V128Select { dst, rhs, cond });
    }

    /// `local.set` (or `local.tee`) of the `v128` local at slots `l`, `l + 1`.
    pub(super) fn v128_local_set(&mut self, l: u32, tee: bool) {
        let h = self.stack.len() - 2;
        let reads = |v: &Val| *v == Val::Local(l) || *v == Val::Local(l + 1);
        let aliased = self.stack[..h].iter().any(reads);
        let own = self.slot(h);
        let redirected = !aliased
            && self.stack[h] == Val::Slot
            && self.stack[h + 1] == Val::Slot
            && self.ops.len() > self.barrier
            && self.ops.last_mut().and_then(Op::v128_dst_mut).is_some_and(|d| {
                if *d == own {
                    *d = l;
                    true
                } else {
                    false
                }
            });
        if !redirected {
            for i in 0..h {
                if reads(&self.stack[i]) {
                    self.materialize(i);
                }
            }
            let src = self.v128_operand(h);
            if src != l {
                self.emit(Op::V128Copy { dst: l, src });
            }
        }
        self.stack.truncate(h);
        if tee {
            self.push_v128_local(l);
        }
    }

    /// Translates a simd128 operator (or rejects one of another proposal).
    pub(super) fn simd(
        &mut self,
        op: Operator<'_>,
        name: &'static str,
    ) -> Result<(), CompileError> {
        let n = self.stack.len();
        if let Some(shape) = shape(&op) {
            match shape {
                Shape::Unary(make) => {
                    let src = self.v128_operand(n - 2);
                    self.stack.truncate(n - 2);
                    let dst = self.push_v128();
                    self.emit(make(dst, src));
                }
                Shape::Binary(make) => {
                    let lhs = self.v128_operand(n - 4);
                    let rhs = self.v128_operand(n - 2);
                    self.stack.truncate(n - 4);
                    let dst = self.push_v128();
                    self.emit(make(dst, lhs, rhs));
                }
                Shape::Shift(make) => {
                    let rhs = self.operand(n - 1);
                    let lhs = self.v128_operand(n - 3);
                    self.stack.truncate(n - 3);
                    let dst = self.push_v128();
                    self.emit(make(dst, lhs, rhs));
                }
                Shape::Test(make) => {
                    let src = self.v128_operand(n - 2);
                    self.stack.truncate(n - 2);
                    let dst = self.push_slot();
                    self.emit(make(dst, src));
                }
                Shape::Splat(make) => {
                    let src = self.operand(n - 1);
                    self.stack.truncate(n - 1);
                    let dst = self.push_v128();
                    self.emit(make(dst, src));
                }
                Shape::Extract(make, lane) => {
                    let src = self.v128_operand(n - 2);
                    self.stack.truncate(n - 2);
                    let dst = self.push_slot();
                    self.emit(make(dst, src, u32::from(lane)));
                }
                Shape::Replace(make, lane) => {
                    let val = self.operand(n - 1);
                    let src = self.v128_operand(n - 3);
                    self.stack.truncate(n - 3);
                    let dst = self.push_v128();
                    self.emit(make(dst, src, val, u32::from(lane)));
                }
            }
            return Ok(());
        }
        use Operator as O;
        let load: Option<(Mem, &wasmparser::MemArg)> = match &op {
            O::V128Load { memarg } => {
                Some((|dst, addr, offset| Op::V128Load { dst, addr, offset }, memarg))
            }
            O::V128Load8x8S { memarg } => {
                Some((|dst, addr, offset| Op::V128Load8x8S { dst, addr, offset }, memarg))
            }
            O::V128Load8x8U { memarg } => {
                Some((|dst, addr, offset| Op::V128Load8x8U { dst, addr, offset }, memarg))
            }
            O::V128Load16x4S { memarg } => {
                Some((|dst, addr, offset| Op::V128Load16x4S { dst, addr, offset }, memarg))
            }
            O::V128Load16x4U { memarg } => {
                Some((|dst, addr, offset| Op::V128Load16x4U { dst, addr, offset }, memarg))
            }
            O::V128Load32x2S { memarg } => {
                Some((|dst, addr, offset| Op::V128Load32x2S { dst, addr, offset }, memarg))
            }
            O::V128Load32x2U { memarg } => {
                Some((|dst, addr, offset| Op::V128Load32x2U { dst, addr, offset }, memarg))
            }
            O::V128Load8Splat { memarg } => {
                Some((|dst, addr, offset| Op::V128Load8Splat { dst, addr, offset }, memarg))
            }
            O::V128Load16Splat { memarg } => {
                Some((|dst, addr, offset| Op::V128Load16Splat { dst, addr, offset }, memarg))
            }
            O::V128Load32Splat { memarg } => {
                Some((|dst, addr, offset| Op::V128Load32Splat { dst, addr, offset }, memarg))
            }
            O::V128Load64Splat { memarg } => {
                Some((|dst, addr, offset| Op::V128Load64Splat { dst, addr, offset }, memarg))
            }
            O::V128Load32Zero { memarg } => {
                Some((|dst, addr, offset| Op::V128Load32Zero { dst, addr, offset }, memarg))
            }
            O::V128Load64Zero { memarg } => {
                Some((|dst, addr, offset| Op::V128Load64Zero { dst, addr, offset }, memarg))
            }
            _ => None,
        };
        if let Some((make, memarg)) = load {
            let offset = off(memarg)?;
            let addr = self.operand(n - 1);
            self.stack.truncate(n - 1);
            let dst = self.push_v128();
            self.emit(make(dst, addr, offset));
            return Ok(());
        }
        // A lane load is a scalar load into the slot above the operands, then a
        // `replace_lane`; a lane store an `extract_lane` there, then a scalar store.
        let lane_load: Option<(Mem, Replace, &wasmparser::MemArg, u8)> = match &op {
            O::V128Load8Lane { memarg, lane } => Some((
                |dst, addr, offset| Op::I32Load8U { dst, addr, offset },
                |dst, src, val, lane| Op::I8x16ReplaceLane { dst, src, val, lane },
                memarg,
                *lane,
            )),
            O::V128Load16Lane { memarg, lane } => Some((
                |dst, addr, offset| Op::I32Load16U { dst, addr, offset },
                |dst, src, val, lane| Op::I16x8ReplaceLane { dst, src, val, lane },
                memarg,
                *lane,
            )),
            O::V128Load32Lane { memarg, lane } => Some((
                |dst, addr, offset| Op::I32Load { dst, addr, offset },
                |dst, src, val, lane| Op::I32x4ReplaceLane { dst, src, val, lane },
                memarg,
                *lane,
            )),
            O::V128Load64Lane { memarg, lane } => Some((
                |dst, addr, offset| Op::I64Load { dst, addr, offset },
                |dst, src, val, lane| Op::I64x2ReplaceLane { dst, src, val, lane },
                memarg,
                *lane,
            )),
            _ => None,
        };
        if let Some((load, replace, memarg, lane)) = lane_load {
            let offset = off(memarg)?;
            let src = self.v128_operand(n - 2);
            let addr = self.operand(n - 3);
            let t = self.slot(n);
            self.max_stack = self.max_stack.max(n + 1);
            self.emit(load(t, addr, offset));
            self.stack.truncate(n - 3);
            let dst = self.push_v128();
            self.emit(replace(dst, src, t, u32::from(lane)));
            return Ok(());
        }
        let lane_store: Option<(Extract, Mem, &wasmparser::MemArg, u8)> = match &op {
            O::V128Store8Lane { memarg, lane } => Some((
                |dst, src, lane| Op::I8x16ExtractLaneU { dst, src, lane },
                |addr, val, offset| Op::Store8 { addr, val, offset },
                memarg,
                *lane,
            )),
            O::V128Store16Lane { memarg, lane } => Some((
                |dst, src, lane| Op::I16x8ExtractLaneU { dst, src, lane },
                |addr, val, offset| Op::Store16 { addr, val, offset },
                memarg,
                *lane,
            )),
            O::V128Store32Lane { memarg, lane } => Some((
                |dst, src, lane| Op::I32x4ExtractLane { dst, src, lane },
                |addr, val, offset| Op::Store32 { addr, val, offset },
                memarg,
                *lane,
            )),
            O::V128Store64Lane { memarg, lane } => Some((
                |dst, src, lane| Op::I64x2ExtractLane { dst, src, lane },
                |addr, val, offset| Op::Store64 { addr, val, offset },
                memarg,
                *lane,
            )),
            _ => None,
        };
        if let Some((extract, store, memarg, lane)) = lane_store {
            let offset = off(memarg)?;
            let src = self.v128_operand(n - 2);
            let addr = self.operand(n - 3);
            let t = self.slot(n);
            self.max_stack = self.max_stack.max(n + 1);
            self.emit(extract(t, src, u32::from(lane)));
            self.emit(store(addr, t, offset));
            self.stack.truncate(n - 3);
            return Ok(());
        }
        match op {
            O::V128Store { memarg } => {
                let offset = off(&memarg)?;
                let val = self.v128_operand(n - 2);
                let addr = self.operand(n - 3);
                self.stack.truncate(n - 3);
                self.emit(Op::V128Store { addr, val, offset });
            }
            O::V128Const { value } => {
                let idx = self.v128_index(u128::from_le_bytes(*value.bytes()))?;
                let dst = self.push_v128();
                self.emit(Op::V128Const { dst, idx });
            }
            O::I8x16Shuffle { lanes } => {
                let idx = self.v128_index(u128::from_le_bytes(lanes))?;
                let lhs = self.v128_operand(n - 4);
                let rhs = self.v128_operand(n - 2);
                self.stack.truncate(n - 4);
                let dst = self.push_v128();
                self.emit(Op::I8x16Shuffle { dst, lhs, rhs, idx });
            }
            O::V128Bitselect
            | O::F32x4RelaxedMadd
            | O::F32x4RelaxedNmadd
            | O::F64x2RelaxedMadd
            | O::F64x2RelaxedNmadd
            | O::I32x4RelaxedDotI8x16I7x16AddS => {
                let a = self.v128_operand(n - 6);
                let b = self.v128_operand(n - 4);
                let c = self.v128_operand(n - 2);
                self.stack.truncate(n - 6);
                let dst = self.push_v128();
                self.emit(match op {
                    O::F32x4RelaxedMadd => Op::F32x4RelaxedMadd { dst, a, b, c },
                    O::F32x4RelaxedNmadd => Op::F32x4RelaxedNmadd { dst, a, b, c },
                    O::F64x2RelaxedMadd => Op::F64x2RelaxedMadd { dst, a, b, c },
                    O::F64x2RelaxedNmadd => Op::F64x2RelaxedNmadd { dst, a, b, c },
                    O::I32x4RelaxedDotI8x16I7x16AddS => {
                        Op::I32x4RelaxedDotI8x16I7x16AddS { dst, a, b, c }
                    }
                    _ => Op::V128Bitselect { dst, a, b, c },
                });
            }
            _ => return Err(CompileError::unsupported(name, "unknown", self.offset)),
        }
        Ok(())
    }

    /// The index of `v` in the module's `v128` pool (added when new).
    fn v128_index(&mut self, v: u128) -> Result<u32, CompileError> {
        // Only recent constants are searched: translation stays linear.
        let from = self.v128s.len().saturating_sub(256);
        let i = match self.v128s[from..].iter().rposition(|&x| x == v) {
            Some(i) => from + i,
            None => {
                self.v128s.push(v);
                self.v128s.len() - 1
            }
        };
        u32::try_from(i).map_err(|_| CompileError::Limit("v128 constants"))
    }
}
