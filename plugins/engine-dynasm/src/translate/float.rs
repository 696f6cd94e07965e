//! f32 and f64: arithmetic, `min`/`max`, sign operators, rounding, comparisons,
//! conversions, reinterpretations and the trapping and saturating float-to-int
//! truncations, all in xmm registers with SSE2 (rounding with SSE4.1's
//! `roundss`/`roundsd`, see [`ModuleEnv::cpu`](super::ModuleEnv)).
//!
//! **NaN results.** SSE arithmetic returns the first NaN operand quieted, or the
//! default NaN (`0xffc00000`, negative canonical) for an invalid operation on
//! non-NaN operands, which is what WebAssembly allows: a canonical NaN when every
//! NaN operand is canonical, an arithmetic NaN otherwise. `abs`, `neg` and
//! `copysign` are bit operations and touch only the sign.
//!
//! **`min`/`max`** need more than `minss`/`maxss` (which return the second operand
//! when either is NaN or both are zero): an unordered comparison takes a NaN path
//! (`addss`, which propagates a NaN), equality (`+0`/`-0` included) combines the
//! bits (`orps` for `min`, so `-0` wins; `andps` for `max`, so `+0` wins), and only
//! the remaining ordered, unequal case uses `minss`/`maxss`.
//!
//! **Truncations** check before converting: NaN traps with "invalid conversion to
//! integer" (saturating: 0), a value at or beyond a bound of the target range traps
//! with "integer overflow" (saturating: the target's MIN or MAX); only in-range
//! values reach `cvttss2si`/`cvttsd2si`. Unsigned 32-bit results come from the
//! 64-bit conversion; unsigned 64-bit ones at or above 2^63 are converted after
//! subtracting 2^63 and get bit 63 back. Unsigned 64-bit integers convert to floats
//! directly when below 2^63, else halved with the lost bit or-ed back in (round to
//! odd) and doubled after the conversion, which rounds once, correctly.

use dynasm::dynasm;
use dynasmrt::{DynasmApi, DynasmLabelApi};
use vm_core::runtime::{CompileError, TrapCode};
use wasmparser::Operator;

use super::reg::XSCRATCH;
use super::{Cc, FuncCompiler, Loc};

/// A two-operand SSE operation (single- or double-precision form chosen by the
/// caller's width).
#[derive(Clone, Copy)]
enum Sse {
    Add,
    Sub,
    Mul,
    Div,
    Min,
    Max,
    Sqrt,
    /// `ucomiss`/`ucomisd`: flags only.
    Ucomi,
    And,
    Or,
    Xor,
    AndN,
    /// `movaps` (the whole register).
    Mov,
}

/// A float comparison.
#[derive(Clone, Copy)]
enum FCmp {
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
}

/// `roundss`/`roundsd` immediates (bit 3 suppresses the precision exception).
const NEAREST: i8 = 8;
const FLOOR: i8 = 9;
const CEIL: i8 = 10;
const TRUNC: i8 = 11;

/// How a float-to-int truncation goes.
#[derive(Clone, Copy)]
struct Trunc {
    /// f64 source (else f32).
    f64: bool,
    /// i64 result (else i32).
    i64: bool,
    signed: bool,
    /// Saturating (`trunc_sat`) rather than trapping.
    sat: bool,
}

impl FuncCompiler<'_, '_> {
    /// Translates `op` if it is a float operator; `false` otherwise.
    pub fn float(&mut self, op: &Operator<'_>, name: &'static str) -> Result<bool, CompileError> {
        use Operator as O;
        let t = |f64, i64, signed, sat| Trunc { f64, i64, signed, sat };
        match *op {
            O::F32Add => self.arith(Sse::Add, false),
            O::F32Sub => self.arith(Sse::Sub, false),
            O::F32Mul => self.arith(Sse::Mul, false),
            O::F32Div => self.arith(Sse::Div, false),
            O::F64Add => self.arith(Sse::Add, true),
            O::F64Sub => self.arith(Sse::Sub, true),
            O::F64Mul => self.arith(Sse::Mul, true),
            O::F64Div => self.arith(Sse::Div, true),
            O::F32Min => self.min_max(false, false),
            O::F32Max => self.min_max(true, false),
            O::F64Min => self.min_max(false, true),
            O::F64Max => self.min_max(true, true),
            O::F32Sqrt => self.sqrt(false),
            O::F64Sqrt => self.sqrt(true),
            O::F32Abs => self.sign_mask(Sse::And, 0x7fff_ffff),
            O::F64Abs => self.sign_mask(Sse::And, i64::MAX),
            O::F32Neg => self.sign_mask(Sse::Xor, 0x8000_0000),
            O::F64Neg => self.sign_mask(Sse::Xor, i64::MIN),
            O::F32Copysign => self.copysign(0x8000_0000),
            O::F64Copysign => self.copysign(i64::MIN),
            O::F32Ceil => self.round(CEIL, false, name)?,
            O::F32Floor => self.round(FLOOR, false, name)?,
            O::F32Trunc => self.round(TRUNC, false, name)?,
            O::F32Nearest => self.round(NEAREST, false, name)?,
            O::F64Ceil => self.round(CEIL, true, name)?,
            O::F64Floor => self.round(FLOOR, true, name)?,
            O::F64Trunc => self.round(TRUNC, true, name)?,
            O::F64Nearest => self.round(NEAREST, true, name)?,
            O::F32Eq => self.fcmp(FCmp::Eq, false),
            O::F32Ne => self.fcmp(FCmp::Ne, false),
            O::F32Lt => self.fcmp(FCmp::Lt, false),
            O::F32Gt => self.fcmp(FCmp::Gt, false),
            O::F32Le => self.fcmp(FCmp::Le, false),
            O::F32Ge => self.fcmp(FCmp::Ge, false),
            O::F64Eq => self.fcmp(FCmp::Eq, true),
            O::F64Ne => self.fcmp(FCmp::Ne, true),
            O::F64Lt => self.fcmp(FCmp::Lt, true),
            O::F64Gt => self.fcmp(FCmp::Gt, true),
            O::F64Le => self.fcmp(FCmp::Le, true),
            O::F64Ge => self.fcmp(FCmp::Ge, true),
            O::F32ConvertI32S => self.convert(false, true, false),
            O::F32ConvertI32U => self.convert(false, false, false),
            O::F32ConvertI64S => self.convert(true, true, false),
            O::F32ConvertI64U => self.convert(true, false, false),
            O::F64ConvertI32S => self.convert(false, true, true),
            O::F64ConvertI32U => self.convert(false, false, true),
            O::F64ConvertI64S => self.convert(true, true, true),
            O::F64ConvertI64U => self.convert(true, false, true),
            O::F32DemoteF64 => {
                let x = self.pop_xmm();
                dynasm!(self.ops ; .arch x64 ; cvtsd2ss Rx(x), Rx(x));
                self.stack.push(Loc::Xmm(x));
            }
            O::F64PromoteF32 => {
                let x = self.pop_xmm();
                dynasm!(self.ops ; .arch x64 ; cvtss2sd Rx(x), Rx(x));
                self.stack.push(Loc::Xmm(x));
            }
            // The bits move between register classes unchanged.
            O::I32ReinterpretF32 | O::I64ReinterpretF64 => {
                let r = self.pop_reg();
                self.stack.push(Loc::Reg(r));
            }
            O::F32ReinterpretI32 | O::F64ReinterpretI64 => {
                let x = self.pop_xmm();
                self.stack.push(Loc::Xmm(x));
            }
            O::I32TruncF32S => self.trunc(t(false, false, true, false)),
            O::I32TruncF32U => self.trunc(t(false, false, false, false)),
            O::I32TruncF64S => self.trunc(t(true, false, true, false)),
            O::I32TruncF64U => self.trunc(t(true, false, false, false)),
            O::I64TruncF32S => self.trunc(t(false, true, true, false)),
            O::I64TruncF32U => self.trunc(t(false, true, false, false)),
            O::I64TruncF64S => self.trunc(t(true, true, true, false)),
            O::I64TruncF64U => self.trunc(t(true, true, false, false)),
            O::I32TruncSatF32S => self.trunc(t(false, false, true, true)),
            O::I32TruncSatF32U => self.trunc(t(false, false, false, true)),
            O::I32TruncSatF64S => self.trunc(t(true, false, true, true)),
            O::I32TruncSatF64U => self.trunc(t(true, false, false, true)),
            O::I64TruncSatF32S => self.trunc(t(false, true, true, true)),
            O::I64TruncSatF32U => self.trunc(t(false, true, false, true)),
            O::I64TruncSatF64S => self.trunc(t(true, true, true, true)),
            O::I64TruncSatF64U => self.trunc(t(true, true, false, true)),
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// `a = a op b` on xmm registers, in double precision when `d`.
    fn sse(&mut self, op: Sse, d: bool, a: u8, b: u8) {
        macro_rules! e {
            ($ss:ident, $sd:ident) => {
                if d {
                    dynasm!(self.ops ; .arch x64 ; $sd Rx(a), Rx(b))
                } else {
                    dynasm!(self.ops ; .arch x64 ; $ss Rx(a), Rx(b))
                }
            };
        }
        match op {
            Sse::Add => e!(addss, addsd),
            Sse::Sub => e!(subss, subsd),
            Sse::Mul => e!(mulss, mulsd),
            Sse::Div => e!(divss, divsd),
            Sse::Min => e!(minss, minsd),
            Sse::Max => e!(maxss, maxsd),
            Sse::Sqrt => e!(sqrtss, sqrtsd),
            Sse::Ucomi => e!(ucomiss, ucomisd),
            Sse::And => e!(andps, andps),
            Sse::Or => e!(orps, orps),
            Sse::Xor => e!(xorps, xorps),
            Sse::AndN => e!(andnps, andnps),
            Sse::Mov => e!(movaps, movaps),
        }
    }

    fn arith(&mut self, op: Sse, d: bool) {
        let b = self.pop_xmm_read();
        let a = self.pop_xmm();
        self.sse(op, d, a, b);
        self.stack.free_xmm(b);
        self.stack.push(Loc::Xmm(a));
    }

    fn sqrt(&mut self, d: bool) {
        let x = self.pop_xmm();
        self.sse(Sse::Sqrt, d, x, x);
        self.stack.push(Loc::Xmm(x));
    }

    fn min_max(&mut self, max: bool, d: bool) {
        let b = self.pop_xmm_read();
        let a = self.pop_xmm();
        let nan = self.ops.new_dynamic_label();
        let unequal = self.ops.new_dynamic_label();
        let done = self.ops.new_dynamic_label();
        self.sse(Sse::Ucomi, d, a, b);
        dynasm!(self.ops ; .arch x64 ; jp =>nan ; jne =>unequal);
        self.sse(if max { Sse::And } else { Sse::Or }, d, a, b);
        dynasm!(self.ops ; .arch x64 ; jmp =>done ; =>nan);
        self.sse(Sse::Add, d, a, b);
        dynasm!(self.ops ; .arch x64 ; jmp =>done ; =>unequal);
        self.sse(if max { Sse::Max } else { Sse::Min }, d, a, b);
        dynasm!(self.ops ; .arch x64 ; =>done);
        self.stack.free_xmm(b);
        self.stack.push(Loc::Xmm(a));
    }

    /// `abs` (`and` with all but the sign) and `neg` (`xor` with the sign).
    fn sign_mask(&mut self, op: Sse, mask: i64) {
        let x = self.pop_xmm();
        self.xmm_const(XSCRATCH, mask);
        self.sse(op, false, x, XSCRATCH);
        self.stack.push(Loc::Xmm(x));
    }

    /// `a`'s magnitude with `b`'s sign: `(a & !sign) | (b & sign)`.
    fn copysign(&mut self, sign: i64) {
        let b = self.pop_xmm();
        let a = self.pop_xmm();
        self.xmm_const(XSCRATCH, sign);
        self.sse(Sse::And, false, b, XSCRATCH);
        self.sse(Sse::AndN, false, XSCRATCH, a);
        self.sse(Sse::Or, false, XSCRATCH, b);
        self.sse(Sse::Mov, false, a, XSCRATCH);
        self.stack.free_xmm(b);
        self.stack.push(Loc::Xmm(a));
    }

    /// `ceil`, `floor`, `trunc`, `nearest` (ties to even): `roundss`/`roundsd`.
    fn round(&mut self, mode: i8, d: bool, name: &'static str) -> Result<(), CompileError> {
        if !self.env.cpu.sse41 {
            return Err(CompileError::Body {
                offset: self.offset,
                message: format!(
                    "engine-dynasm: {name} needs SSE4.1 (roundss/roundsd), which this CPU lacks"
                ),
            });
        }
        let x = self.pop_xmm();
        if d {
            dynasm!(self.ops ; .arch x64 ; roundsd Rx(x), Rx(x), mode);
        } else {
            dynasm!(self.ops ; .arch x64 ; roundss Rx(x), Rx(x), mode);
        }
        self.stack.push(Loc::Xmm(x));
        Ok(())
    }

    /// A comparison into an i32 0/1. NaN compares unordered: `ucomiss` sets ZF, PF
    /// and CF, so `a < b` is tested as `b > a` (`seta`: CF and ZF clear) and `eq`
    /// needs PF clear besides ZF set.
    fn fcmp(&mut self, cmp: FCmp, d: bool) {
        let b = self.pop_xmm_read();
        let a = self.pop_xmm_read();
        let r = self.alloc();
        match cmp {
            FCmp::Lt | FCmp::Le => self.sse(Sse::Ucomi, d, b, a),
            _ => self.sse(Sse::Ucomi, d, a, b),
        }
        self.stack.free_xmm(a);
        self.stack.free_xmm(b);
        // An ordered comparison is one condition (unordered sets CF: false), so
        // a `br_if` or `if` after it can branch on the flags.
        let fuse = self.next_op().branches();
        match cmp {
            FCmp::Lt | FCmp::Gt => self.flag_result(Cc::A, r, fuse),
            FCmp::Le | FCmp::Ge => self.flag_result(Cc::Ae, r, fuse),
            FCmp::Eq => {
                dynasm!(self.ops
                    ; .arch x64
                    ; sete Rb(r)
                    ; setnp r11b
                    ; and Rb(r), r11b
                    ; movzx Rd(r), Rb(r)
                );
                self.stack.push(Loc::Reg(r));
            }
            FCmp::Ne => {
                dynasm!(self.ops
                    ; .arch x64
                    ; setne Rb(r)
                    ; setp r11b
                    ; or Rb(r), r11b
                    ; movzx Rd(r), Rb(r)
                );
                self.stack.push(Loc::Reg(r));
            }
        }
    }

    /// `cvtsi2ss`/`cvtsi2sd` of the 64-bit register `r` into `x`.
    fn cvt_from_q(&mut self, d: bool, x: u8, r: u8) {
        if d {
            dynasm!(self.ops ; .arch x64 ; cvtsi2sd Rx(x), Rq(r));
        } else {
            dynasm!(self.ops ; .arch x64 ; cvtsi2ss Rx(x), Rq(r));
        }
    }

    /// Integer to float: `src64` an i64 operand (else i32), `d` an f64 result.
    fn convert(&mut self, src64: bool, signed: bool, d: bool) {
        let r = self.pop_reg();
        let x = self.alloc_xmm();
        // The conversion writes only the low lane: clear the register first so it
        // does not wait on its previous value.
        dynasm!(self.ops ; .arch x64 ; xorps Rx(x), Rx(x));
        match (src64, signed) {
            (false, true) => {
                if d {
                    dynasm!(self.ops ; .arch x64 ; cvtsi2sd Rx(x), Rd(r));
                } else {
                    dynasm!(self.ops ; .arch x64 ; cvtsi2ss Rx(x), Rd(r));
                }
            }
            (false, false) => {
                dynasm!(self.ops ; .arch x64 ; mov Rd(r), Rd(r));
                self.cvt_from_q(d, x, r);
            }
            (true, true) => self.cvt_from_q(d, x, r),
            (true, false) => {
                let big = self.ops.new_dynamic_label();
                let done = self.ops.new_dynamic_label();
                dynasm!(self.ops ; .arch x64 ; test Rq(r), Rq(r) ; js =>big);
                self.cvt_from_q(d, x, r);
                dynasm!(self.ops
                    ; .arch x64
                    ; jmp =>done
                    ; =>big
                    ; mov r11, Rq(r)
                    ; shr r11, 1
                    ; and Rd(r), 1
                    ; or r11, Rq(r)
                );
                self.cvt_from_q(d, x, 11);
                self.sse(Sse::Add, d, x, x);
                dynasm!(self.ops ; .arch x64 ; =>done);
            }
        }
        self.stack.free(r);
        self.stack.push(Loc::Xmm(x));
    }

    /// The bits of `v` as a constant of the source width of `t`.
    fn float_bits(t: Trunc, v: f64) -> i64 {
        if t.f64 { v.to_bits() as i64 } else { i64::from((v as f32).to_bits() as i32) }
    }

    /// `cvttss2si`/`cvttsd2si` of `x` into `r` (`q`: the 64-bit form).
    fn cvtt(&mut self, t: Trunc, q: bool, r: u8, x: u8) {
        match (t.f64, q) {
            (false, false) => dynasm!(self.ops ; .arch x64 ; cvttss2si Rd(r), Rx(x)),
            (false, true) => dynasm!(self.ops ; .arch x64 ; cvttss2si Rq(r), Rx(x)),
            (true, false) => dynasm!(self.ops ; .arch x64 ; cvttsd2si Rd(r), Rx(x)),
            (true, true) => dynasm!(self.ops ; .arch x64 ; cvttsd2si Rq(r), Rx(x)),
        }
    }

    /// A float-to-int truncation, trapping or saturating (see the module docs).
    fn trunc(&mut self, t: Trunc) {
        let x = self.pop_xmm();
        let r = self.alloc();
        let bits = if t.i64 { 64 } else { 32 };
        // The valid range is (lo, hi) exclusive, or [lo, hi) when `lo_ok`.
        let (lo, lo_ok, hi) = if t.signed {
            let half = 2f64.powi(bits - 1);
            // -2^31 - 1 is an f64 but no f32 lies strictly between it and -2^31;
            // -2^63 - 1 is neither.
            if t.f64 && !t.i64 { (-half - 1.0, false, half) } else { (-half, true, half) }
        } else {
            (-1.0, false, 2f64.powi(bits))
        };
        let done = self.ops.new_dynamic_label();
        let (nan, below, above) = if t.sat {
            (done, self.ops.new_dynamic_label(), self.ops.new_dynamic_label())
        } else {
            let overflow = self.trap_label(TrapCode::IntegerOverflow);
            (self.trap_label(TrapCode::BadConversionToInteger), overflow, overflow)
        };
        if t.sat {
            dynasm!(self.ops ; .arch x64 ; xor Rd(r), Rd(r));
        }
        self.sse(Sse::Ucomi, t.f64, x, x);
        dynasm!(self.ops ; .arch x64 ; jp =>nan);
        self.xmm_const(XSCRATCH, Self::float_bits(t, lo));
        self.sse(Sse::Ucomi, t.f64, x, XSCRATCH);
        if lo_ok {
            dynasm!(self.ops ; .arch x64 ; jb =>below);
        } else {
            dynasm!(self.ops ; .arch x64 ; jbe =>below);
        }
        self.xmm_const(XSCRATCH, Self::float_bits(t, hi));
        self.sse(Sse::Ucomi, t.f64, x, XSCRATCH);
        dynasm!(self.ops ; .arch x64 ; jae =>above);
        match (t.signed, t.i64) {
            (true, false) => self.cvtt(t, false, r, x),
            (true, true) | (false, false) => self.cvtt(t, true, r, x),
            (false, true) => {
                let big = self.ops.new_dynamic_label();
                self.xmm_const(XSCRATCH, Self::float_bits(t, 2f64.powi(63)));
                self.sse(Sse::Ucomi, t.f64, x, XSCRATCH);
                dynasm!(self.ops ; .arch x64 ; jae =>big);
                self.cvtt(t, true, r, x);
                dynasm!(self.ops ; .arch x64 ; jmp =>done ; =>big);
                self.sse(Sse::Sub, t.f64, x, XSCRATCH);
                self.cvtt(t, true, r, x);
                dynasm!(self.ops ; .arch x64 ; btc Rq(r), 63);
            }
        }
        if t.sat {
            let (min, max) = match (t.signed, t.i64) {
                (true, false) => (i64::from(i32::MIN), i64::from(i32::MAX)),
                (true, true) => (i64::MIN, i64::MAX),
                (false, false) => (0, i64::from(u32::MAX)),
                (false, true) => (0, -1),
            };
            dynasm!(self.ops ; .arch x64 ; jmp =>done ; =>below);
            self.load_const(r, min);
            dynasm!(self.ops ; .arch x64 ; jmp =>done ; =>above);
            self.load_const(r, max);
        }
        dynasm!(self.ops ; .arch x64 ; =>done);
        self.stack.free_xmm(x);
        self.stack.push(Loc::Reg(r));
    }

    /// A `select` with an operand in an xmm register: both into xmm registers.
    pub fn select_xmm(&mut self, c: u8) {
        let b = self.pop_xmm_read();
        let a = self.pop_xmm();
        let keep = self.ops.new_dynamic_label();
        dynasm!(self.ops ; .arch x64 ; test Rd(c), Rd(c) ; jnz =>keep);
        self.sse(Sse::Mov, false, a, b);
        dynasm!(self.ops ; .arch x64 ; =>keep);
        self.stack.free_xmm(b);
        self.stack.free(c);
        self.stack.push(Loc::Xmm(a));
    }
}
