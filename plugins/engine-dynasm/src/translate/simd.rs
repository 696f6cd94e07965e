//! simd128: every operator of the WebAssembly 2.0 SIMD proposal and of relaxed SIMD
//! on xmm registers. Relaxed SIMD computes vm-core's choices (`vm_core::runtime::simd`,
//! "Relaxed SIMD"): most arrive here as their 2.0 operators; `relaxed_madd`/`nmadd`
//! are a multiply then an add, the dot products sign-extend bytes in place by shifts
//! and multiply with `pmullw`.
//!
//! A v128 lives in an xmm register or in its 16-byte canonical slot (see
//! [`stack`](super::stack)). Each operator is written once against a few emitting
//! helpers that pick the encoding of the composition's level ([`VecIsa`]):
//! legacy SSE (two-operand, destination tied to the first source, so a copy
//! first when they differ) or VEX (three-operand `vpaddb d, a, b`, no copies;
//! AVX2's `vpbroadcast*` for splats). Constants other than zero and all-ones are
//! loaded from a 16-byte aligned pool after the function's code.
//!
//! **What needs more than one instruction** (the x86 instruction differs from the
//! wasm operator): unsigned integer comparisons (`pminu`/`pmaxu` then equality),
//! `ne`/`le`/`ge` (the complement of another comparison), `i8x16` shifts (by a
//! constant `shl`/`shr_u`: 16-bit lanes shifted and masked; else widened to 16-bit
//! lanes with `punpck*bw`, shifted, narrowed back), `i64x2.shr_s`
//! (logical shift and sign fix-up `(x ^ m) - m`), `i64x2.mul` (three
//! `pmuludq`), `i64x2.abs`, `i8x16.popcnt` (a nibble table through `pshufb`),
//! `i8x16.swizzle` (indices saturated with `paddusb 0x70` so out-of-range lanes
//! select zero), `q15mulr_sat_s` (`pmulhrsw` with the one overflowing case fixed),
//! `f32x4/f64x2.min`/`max` (both operand orders combined so NaN propagates,
//! canonicalized, and `-0 < +0`), the saturating truncations (NaN to zero,
//! overflow to the bounds) and the unsigned conversions. Shift counts are taken
//! modulo the lane width.

use dynasm::dynasm;
use dynasmrt::{DynasmApi, DynasmLabelApi};
use vm_core::runtime::CompileError;
use wasmparser::{MemArg, Operator};

use super::reg::XSCRATCH;
use super::{FuncCompiler, Loc};
use crate::VecIsa;

/// Emits `$sse` or `$avx` by the level.
macro_rules! pick {
    ($s:ident, { $($sse:tt)* }, { $($avx:tt)* }) => {
        if $s.avx() {
            dynasm!($s.ops ; .arch x64 ; $($avx)*)
        } else {
            dynasm!($s.ops ; .arch x64 ; $($sse)*)
        }
    };
}

/// Two-source operations `d = a op b`: legacy `op d, b` (after `d = a`) or VEX
/// `vop d, a, b`.
macro_rules! binary_ops {
    ($($name:ident = $sse:ident / $avx:ident,)*) => {
        #[derive(Clone, Copy, Debug)]
        enum V { $($name,)* }

        impl FuncCompiler<'_, '_> {
            /// `d = a op b`. With legacy encodings `d` must be `a` or differ from
            /// `b`.
            fn v3(&mut self, op: V, d: u8, a: u8, b: u8) {
                if self.avx() {
                    match op {
                        $(V::$name => dynasm!(self.ops ; .arch x64 ; $avx Rx(d), Rx(a), Rx(b)),)*
                    }
                } else {
                    debug_assert!(d == a || d != b, "{op:?}: destination is the second source");
                    self.vmov(d, a);
                    match op {
                        $(V::$name => dynasm!(self.ops ; .arch x64 ; $sse Rx(d), Rx(b)),)*
                    }
                }
            }
        }
    };
}

binary_ops! {
    Paddb = paddb / vpaddb, Paddw = paddw / vpaddw, Paddd = paddd / vpaddd,
    Paddq = paddq / vpaddq, Psubb = psubb / vpsubb, Psubw = psubw / vpsubw,
    Psubd = psubd / vpsubd, Psubq = psubq / vpsubq, Pmullw = pmullw / vpmullw,
    Pmulld = pmulld / vpmulld, Pmuludq = pmuludq / vpmuludq, Pmuldq = pmuldq / vpmuldq,
    Pmulhw = pmulhw / vpmulhw, Pmulhuw = pmulhuw / vpmulhuw,
    Paddsb = paddsb / vpaddsb, Paddsw = paddsw / vpaddsw, Paddusb = paddusb / vpaddusb,
    Paddusw = paddusw / vpaddusw, Psubsb = psubsb / vpsubsb, Psubsw = psubsw / vpsubsw,
    Psubusb = psubusb / vpsubusb, Psubusw = psubusw / vpsubusw,
    Pminsb = pminsb / vpminsb, Pminsw = pminsw / vpminsw, Pminsd = pminsd / vpminsd,
    Pminub = pminub / vpminub, Pminuw = pminuw / vpminuw, Pminud = pminud / vpminud,
    Pmaxsb = pmaxsb / vpmaxsb, Pmaxsw = pmaxsw / vpmaxsw, Pmaxsd = pmaxsd / vpmaxsd,
    Pmaxub = pmaxub / vpmaxub, Pmaxuw = pmaxuw / vpmaxuw, Pmaxud = pmaxud / vpmaxud,
    Pavgb = pavgb / vpavgb, Pavgw = pavgw / vpavgw,
    Pcmpeqb = pcmpeqb / vpcmpeqb, Pcmpeqw = pcmpeqw / vpcmpeqw,
    Pcmpeqd = pcmpeqd / vpcmpeqd, Pcmpeqq = pcmpeqq / vpcmpeqq,
    Pcmpgtb = pcmpgtb / vpcmpgtb, Pcmpgtw = pcmpgtw / vpcmpgtw,
    Pcmpgtd = pcmpgtd / vpcmpgtd, Pcmpgtq = pcmpgtq / vpcmpgtq,
    Pand = pand / vpand, Por = por / vpor, Pxor = pxor / vpxor, Pandn = pandn / vpandn,
    Pshufb = pshufb / vpshufb, Pmaddwd = pmaddwd / vpmaddwd,
    Pmaddubsw = pmaddubsw / vpmaddubsw, Pmulhrsw = pmulhrsw / vpmulhrsw,
    Packsswb = packsswb / vpacksswb, Packuswb = packuswb / vpackuswb,
    Packssdw = packssdw / vpackssdw, Packusdw = packusdw / vpackusdw,
    Punpcklbw = punpcklbw / vpunpcklbw, Punpckhbw = punpckhbw / vpunpckhbw,
    Punpcklwd = punpcklwd / vpunpcklwd, Punpckhwd = punpckhwd / vpunpckhwd,
    Addps = addps / vaddps, Addpd = addpd / vaddpd, Subps = subps / vsubps,
    Subpd = subpd / vsubpd, Mulps = mulps / vmulps, Mulpd = mulpd / vmulpd,
    Divps = divps / vdivps, Divpd = divpd / vdivpd, Minps = minps / vminps,
    Minpd = minpd / vminpd, Maxps = maxps / vmaxps, Maxpd = maxpd / vmaxpd,
    Andps = andps / vandps, Andnps = andnps / vandnps, Orps = orps / vorps,
    Xorps = xorps / vxorps, Unpcklps = unpcklps / vunpcklps,
    Psllw = psllw / vpsllw, Psrlw = psrlw / vpsrlw, Psraw = psraw / vpsraw,
    Pslld = pslld / vpslld, Psrld = psrld / vpsrld, Psrad = psrad / vpsrad,
    Psllq = psllq / vpsllq, Psrlq = psrlq / vpsrlq,
}

/// One-source operations `d = op s` (the same two-operand form in both
/// encodings).
macro_rules! unary_ops {
    ($($name:ident = $sse:ident / $avx:ident,)*) => {
        #[derive(Clone, Copy, Debug)]
        enum U { $($name,)* }

        impl FuncCompiler<'_, '_> {
            /// `d = op s`.
            fn v2(&mut self, op: U, d: u8, s: u8) {
                if self.avx() {
                    match op {
                        $(U::$name => dynasm!(self.ops ; .arch x64 ; $avx Rx(d), Rx(s)),)*
                    }
                } else {
                    match op {
                        $(U::$name => dynasm!(self.ops ; .arch x64 ; $sse Rx(d), Rx(s)),)*
                    }
                }
            }
        }
    };
}

unary_ops! {
    Pabsb = pabsb / vpabsb, Pabsw = pabsw / vpabsw, Pabsd = pabsd / vpabsd,
    Pmovsxbw = pmovsxbw / vpmovsxbw, Pmovzxbw = pmovzxbw / vpmovzxbw,
    Pmovsxwd = pmovsxwd / vpmovsxwd, Pmovzxwd = pmovzxwd / vpmovzxwd,
    Pmovsxdq = pmovsxdq / vpmovsxdq, Pmovzxdq = pmovzxdq / vpmovzxdq,
    Cvtdq2ps = cvtdq2ps / vcvtdq2ps, Cvtdq2pd = cvtdq2pd / vcvtdq2pd,
    Cvttps2dq = cvttps2dq / vcvttps2dq, Cvttpd2dq = cvttpd2dq / vcvttpd2dq,
    Cvtpd2ps = cvtpd2ps / vcvtpd2ps, Cvtps2pd = cvtps2pd / vcvtps2pd,
    Sqrtps = sqrtps / vsqrtps, Sqrtpd = sqrtpd / vsqrtpd,
}

/// One source and an immediate: `d = op(s, imm)` (untied in both encodings).
#[derive(Clone, Copy, Debug)]
enum UI {
    Pshufd,
    Pshuflw,
    Roundps,
    Roundpd,
}

/// Shifts by an immediate: legacy `op d, imm` (after `d = s`), VEX `vop d, s, imm`.
#[derive(Clone, Copy, Debug)]
enum Sh {
    Psllw,
    Psrlw,
    Psraw,
    Pslld,
    Psrld,
    Psrad,
    Psllq,
    Psrlq,
}

/// Two sources and an immediate: `d = op(a, b, imm)`, tied like [`V`].
#[derive(Clone, Copy, Debug)]
enum BI {
    Shufps,
    Cmpps,
    Cmppd,
    Insertps,
}

/// An integer lane comparison.
#[derive(Clone, Copy, Debug)]
enum ICmp {
    Eq,
    Ne,
    LtS,
    GtS,
    LeS,
    GeS,
    LtU,
    GtU,
    LeU,
    GeU,
}

/// The instructions of an integer lane width: equality, signed greater-than,
/// unsigned minimum and maximum.
#[derive(Clone, Copy)]
struct Lanes {
    eq: V,
    gt: V,
    minu: V,
    maxu: V,
}

const I8: Lanes = Lanes { eq: V::Pcmpeqb, gt: V::Pcmpgtb, minu: V::Pminub, maxu: V::Pmaxub };
const I16: Lanes = Lanes { eq: V::Pcmpeqw, gt: V::Pcmpgtw, minu: V::Pminuw, maxu: V::Pmaxuw };
const I32: Lanes = Lanes { eq: V::Pcmpeqd, gt: V::Pcmpgtd, minu: V::Pminud, maxu: V::Pmaxud };
/// i64x2 has signed comparisons only (the unsigned entries are never used).
const I64: Lanes = Lanes { eq: V::Pcmpeqq, gt: V::Pcmpgtq, minu: V::Pminud, maxu: V::Pmaxud };

/// `cmpps`/`cmppd` predicates.
const CMP_EQ: i8 = 0;
const CMP_LT: i8 = 1;
const CMP_LE: i8 = 2;
const CMP_UNORD: i8 = 3;
const CMP_NEQ: i8 = 4;

/// `roundps`/`roundpd` immediates (bit 3 suppresses the precision exception).
const NEAREST: i8 = 8;
const FLOOR: i8 = 9;
const CEIL: i8 = 10;
const TRUNC: i8 = 11;

/// A 16-byte constant of `n`-byte lanes all equal to `v`.
fn splat(v: u64, n: u32) -> u128 {
    let lane = u128::from(v) & ((1u128 << (8 * n)) - 1);
    (0..16 / n).fold(0, |acc, i| acc | lane << (8 * n * i))
}

/// How a memory access reads or writes a v128.
#[derive(Clone, Copy, Debug)]
enum Mem {
    Load,
    /// Eight bytes, each lane sign- or zero-extended (`pmovsx`/`pmovzx`).
    Extend(U),
    /// One lane of this many bytes into every lane.
    Splat(u32),
    /// One lane of this many bytes into lane 0, the rest zero.
    Zero(u32),
    Store,
    /// Replace lane `.1` of a v128 with `.0` bytes from memory.
    LoadLane(u32, u8),
    /// Store lane `.1` of `.0` bytes.
    StoreLane(u32, u8),
}

impl FuncCompiler<'_, '_> {
    /// Whether VEX encodings are selected.
    fn avx(&self) -> bool {
        matches!(self.env.simd, Some(Ok(VecIsa::Avx2)))
    }

    /// `d = s` (nothing when they are the same register).
    fn vmov(&mut self, d: u8, s: u8) {
        if d != s {
            pick!(self, { movdqa Rx(d), Rx(s) }, { vmovdqa Rx(d), Rx(s) });
        }
    }

    /// `d = op(s, imm)`.
    fn v2i(&mut self, op: UI, d: u8, s: u8, imm: i8) {
        match op {
            UI::Pshufd => pick!(self, { pshufd Rx(d), Rx(s), imm }, { vpshufd Rx(d), Rx(s), imm }),
            UI::Pshuflw => {
                pick!(self, { pshuflw Rx(d), Rx(s), imm }, { vpshuflw Rx(d), Rx(s), imm })
            }
            UI::Roundps => {
                pick!(self, { roundps Rx(d), Rx(s), imm }, { vroundps Rx(d), Rx(s), imm })
            }
            UI::Roundpd => {
                pick!(self, { roundpd Rx(d), Rx(s), imm }, { vroundpd Rx(d), Rx(s), imm })
            }
        }
    }

    /// `d = s shifted by imm`.
    fn vsh(&mut self, op: Sh, d: u8, s: u8, imm: i8) {
        if self.avx() {
            match op {
                Sh::Psllw => dynasm!(self.ops ; .arch x64 ; vpsllw Rx(d), Rx(s), imm),
                Sh::Psrlw => dynasm!(self.ops ; .arch x64 ; vpsrlw Rx(d), Rx(s), imm),
                Sh::Psraw => dynasm!(self.ops ; .arch x64 ; vpsraw Rx(d), Rx(s), imm),
                Sh::Pslld => dynasm!(self.ops ; .arch x64 ; vpslld Rx(d), Rx(s), imm),
                Sh::Psrld => dynasm!(self.ops ; .arch x64 ; vpsrld Rx(d), Rx(s), imm),
                Sh::Psrad => dynasm!(self.ops ; .arch x64 ; vpsrad Rx(d), Rx(s), imm),
                Sh::Psllq => dynasm!(self.ops ; .arch x64 ; vpsllq Rx(d), Rx(s), imm),
                Sh::Psrlq => dynasm!(self.ops ; .arch x64 ; vpsrlq Rx(d), Rx(s), imm),
            }
        } else {
            self.vmov(d, s);
            match op {
                Sh::Psllw => dynasm!(self.ops ; .arch x64 ; psllw Rx(d), imm),
                Sh::Psrlw => dynasm!(self.ops ; .arch x64 ; psrlw Rx(d), imm),
                Sh::Psraw => dynasm!(self.ops ; .arch x64 ; psraw Rx(d), imm),
                Sh::Pslld => dynasm!(self.ops ; .arch x64 ; pslld Rx(d), imm),
                Sh::Psrld => dynasm!(self.ops ; .arch x64 ; psrld Rx(d), imm),
                Sh::Psrad => dynasm!(self.ops ; .arch x64 ; psrad Rx(d), imm),
                Sh::Psllq => dynasm!(self.ops ; .arch x64 ; psllq Rx(d), imm),
                Sh::Psrlq => dynasm!(self.ops ; .arch x64 ; psrlq Rx(d), imm),
            }
        }
    }

    /// `d = op(a, b, imm)`; with legacy encodings `d` must be `a` or differ from
    /// `b`.
    fn v3i(&mut self, op: BI, d: u8, a: u8, b: u8, imm: i8) {
        if self.avx() {
            match op {
                BI::Shufps => self.vex_rvm_ib(false, 0xc6, d, a, b, imm),
                BI::Cmpps => self.vex_rvm_ib(false, 0xc2, d, a, b, imm),
                BI::Cmppd => self.vex_rvm_ib(true, 0xc2, d, a, b, imm),
                BI::Insertps => {
                    dynasm!(self.ops ; .arch x64 ; vinsertps Rx(d), Rx(a), Rx(b), imm)
                }
            }
        } else {
            debug_assert!(d == a || d != b, "{op:?}: destination is the second source");
            self.vmov(d, a);
            match op {
                BI::Shufps => dynasm!(self.ops ; .arch x64 ; shufps Rx(d), Rx(b), imm),
                BI::Cmpps => dynasm!(self.ops ; .arch x64 ; cmpps Rx(d), Rx(b), imm),
                BI::Cmppd => dynasm!(self.ops ; .arch x64 ; cmppd Rx(d), Rx(b), imm),
                BI::Insertps => dynasm!(self.ops ; .arch x64 ; insertps Rx(d), Rx(b), imm),
            }
        }
    }

    /// `vcmpps`/`vcmppd`/`vshufps d, a, b, imm` (opcode `op` of map 0F, prefix
    /// 66 when `pd`), encoded here: dynasm 5.1 puts the operands of these
    /// four-operand forms in the wrong fields (and has `vcmpltpd`-style forms only
    /// in 256 bits).
    fn vex_rvm_ib(&mut self, pd: bool, op: u8, d: u8, a: u8, b: u8, imm: i8) {
        // Three-byte VEX: map 0F, W0, L0 (128 bits), pp 00 (ps) or 01 (pd);
        // R, B and vvvv are stored inverted.
        let byte1 = (u8::from(d < 8) << 7) | (1 << 6) | (u8::from(b < 8) << 5) | 0b00001;
        let byte2 = ((!a & 0xf) << 3) | u8::from(pd);
        let modrm = 0xc0 | ((d & 7) << 3) | (b & 7);
        self.ops.extend([0xc4, byte1, byte2, op, modrm, imm as u8]);
    }

    /// `x = bits`: `pxor` for zero, `pcmpeqd` for all-ones, else a load from the
    /// function's constant pool.
    fn vconst(&mut self, x: u8, bits: u128) {
        if bits == 0 {
            pick!(self, { pxor Rx(x), Rx(x) }, { vpxor Rx(x), Rx(x), Rx(x) });
        } else if bits == u128::MAX {
            pick!(self, { pcmpeqd Rx(x), Rx(x) }, { vpcmpeqd Rx(x), Rx(x), Rx(x) });
        } else {
            let label = match self.consts.iter().find(|c| c.1 == bits) {
                Some(&(l, _)) => l,
                None => {
                    let l = self.ops.new_dynamic_label();
                    self.consts.push((l, bits));
                    l
                }
            };
            pick!(self, { movdqa Rx(x), [=>label] }, { vmovdqa Rx(x), [=>label] });
        }
    }

    /// A free xmm register for a temporary (freed by the caller).
    fn vtemp(&mut self) -> u8 {
        self.alloc_xmm()
    }

    /// `x = !x`.
    fn vnot(&mut self, x: u8) {
        self.vconst(XSCRATCH, u128::MAX);
        self.v3(V::Pxor, x, x, XSCRATCH);
    }

    /// `a op b` for the top two v128 entries.
    fn bin(&mut self, op: V) {
        let b = self.pop_v128();
        let a = self.pop_v128();
        self.v3(op, a, a, b);
        self.stack.free_xmm(b);
        self.stack.push_v128(a);
    }

    /// `b op a` for the top two v128 entries `a b` (operands swapped).
    fn bin_rev(&mut self, op: V) {
        let b = self.pop_v128();
        let a = self.pop_v128();
        self.v3(op, b, b, a);
        self.stack.free_xmm(a);
        self.stack.push_v128(b);
    }

    /// A one-source operation on the top v128.
    fn un(&mut self, op: U) {
        let a = self.pop_v128();
        self.v2(op, a, a);
        self.stack.push_v128(a);
    }

    /// `a op const` for the top v128.
    fn with_const(&mut self, op: V, bits: u128) {
        let a = self.pop_v128();
        self.vconst(XSCRATCH, bits);
        self.v3(op, a, a, XSCRATCH);
        self.stack.push_v128(a);
    }

    /// `a = i16x8.relaxed_dot_i8x16_i7x16_s(a, b)` as vm-core defines it (bytes
    /// signed, pair sums wrapping): even bytes sign-extended in place by a shift up
    /// and an arithmetic shift down, odd bytes by the shift down alone, `pmullw`
    /// each, `paddw`. `b` is clobbered.
    fn relaxed_dot16(&mut self, a: u8, b: u8) {
        let t = self.alloc_xmm();
        self.vsh(Sh::Psllw, t, a, 8);
        self.vsh(Sh::Psraw, t, t, 8);
        self.vsh(Sh::Psraw, a, a, 8);
        self.vsh(Sh::Psllw, XSCRATCH, b, 8);
        self.vsh(Sh::Psraw, XSCRATCH, XSCRATCH, 8);
        self.vsh(Sh::Psraw, b, b, 8);
        self.v3(V::Pmullw, t, t, XSCRATCH);
        self.v3(V::Pmullw, a, a, b);
        self.v3(V::Paddw, a, a, t);
        self.stack.free_xmm(t);
    }

    /// Translates `op` if it is a simd128 operator; `false` otherwise.
    pub fn simd(&mut self, op: &Operator<'_>, name: &'static str) -> Result<bool, CompileError> {
        use Operator as O;
        if !is_simd(name) {
            return Ok(false);
        }
        if self.env.simd.is_none() {
            return Err(CompileError::unsupported(name, "simd", self.offset));
        }
        self.env.vec_isa(self.offset)?;
        let f32s = |v: u32| splat(u64::from(v), 4);
        let f64s = |v: u64| splat(v, 8);
        match *op {
            O::V128Const { value } => {
                let x = self.alloc_xmm();
                self.vconst(x, u128::from_le_bytes(*value.bytes()));
                self.stack.push_v128(x);
            }
            O::V128Load { memarg } => self.vmem(Mem::Load, memarg)?,
            O::V128Load8x8S { memarg } => self.vmem(Mem::Extend(U::Pmovsxbw), memarg)?,
            O::V128Load8x8U { memarg } => self.vmem(Mem::Extend(U::Pmovzxbw), memarg)?,
            O::V128Load16x4S { memarg } => self.vmem(Mem::Extend(U::Pmovsxwd), memarg)?,
            O::V128Load16x4U { memarg } => self.vmem(Mem::Extend(U::Pmovzxwd), memarg)?,
            O::V128Load32x2S { memarg } => self.vmem(Mem::Extend(U::Pmovsxdq), memarg)?,
            O::V128Load32x2U { memarg } => self.vmem(Mem::Extend(U::Pmovzxdq), memarg)?,
            O::V128Load8Splat { memarg } => self.vmem(Mem::Splat(1), memarg)?,
            O::V128Load16Splat { memarg } => self.vmem(Mem::Splat(2), memarg)?,
            O::V128Load32Splat { memarg } => self.vmem(Mem::Splat(4), memarg)?,
            O::V128Load64Splat { memarg } => self.vmem(Mem::Splat(8), memarg)?,
            O::V128Load32Zero { memarg } => self.vmem(Mem::Zero(4), memarg)?,
            O::V128Load64Zero { memarg } => self.vmem(Mem::Zero(8), memarg)?,
            O::V128Store { memarg } => self.vmem(Mem::Store, memarg)?,
            O::V128Load8Lane { memarg, lane } => self.vmem(Mem::LoadLane(1, lane), memarg)?,
            O::V128Load16Lane { memarg, lane } => self.vmem(Mem::LoadLane(2, lane), memarg)?,
            O::V128Load32Lane { memarg, lane } => self.vmem(Mem::LoadLane(4, lane), memarg)?,
            O::V128Load64Lane { memarg, lane } => self.vmem(Mem::LoadLane(8, lane), memarg)?,
            O::V128Store8Lane { memarg, lane } => self.vmem(Mem::StoreLane(1, lane), memarg)?,
            O::V128Store16Lane { memarg, lane } => self.vmem(Mem::StoreLane(2, lane), memarg)?,
            O::V128Store32Lane { memarg, lane } => self.vmem(Mem::StoreLane(4, lane), memarg)?,
            O::V128Store64Lane { memarg, lane } => self.vmem(Mem::StoreLane(8, lane), memarg)?,

            O::I8x16Shuffle { lanes } => self.vshuffle(lanes),
            O::I8x16Swizzle => {
                let s = self.pop_v128();
                let a = self.pop_v128();
                self.vconst(XSCRATCH, splat(0x70, 1));
                self.v3(V::Paddusb, s, s, XSCRATCH);
                self.v3(V::Pshufb, a, a, s);
                self.stack.free_xmm(s);
                self.stack.push_v128(a);
            }
            O::I8x16Splat => self.splat_int(1),
            O::I16x8Splat => self.splat_int(2),
            O::I32x4Splat => self.splat_int(4),
            O::I64x2Splat => self.splat_int(8),
            O::F32x4Splat => {
                let x = self.pop_xmm();
                self.v2i(UI::Pshufd, x, x, 0);
                self.stack.push_v128(x);
            }
            O::F64x2Splat => {
                let x = self.pop_xmm();
                self.v2i(UI::Pshufd, x, x, 0x44);
                self.stack.push_v128(x);
            }
            O::I8x16ExtractLaneS { lane } => self.extract_int(1, true, lane),
            O::I8x16ExtractLaneU { lane } => self.extract_int(1, false, lane),
            O::I16x8ExtractLaneS { lane } => self.extract_int(2, true, lane),
            O::I16x8ExtractLaneU { lane } => self.extract_int(2, false, lane),
            O::I32x4ExtractLane { lane } => self.extract_int(4, false, lane),
            O::I64x2ExtractLane { lane } => self.extract_int(8, false, lane),
            O::F32x4ExtractLane { lane } => {
                let a = self.pop_v128();
                if lane != 0 {
                    self.v2i(UI::Pshufd, a, a, lane as i8);
                }
                self.stack.push(Loc::Xmm(a));
            }
            O::F64x2ExtractLane { lane } => {
                let a = self.pop_v128();
                if lane != 0 {
                    self.v2i(UI::Pshufd, a, a, 0xee_u8 as i8);
                }
                self.stack.push(Loc::Xmm(a));
            }
            O::I8x16ReplaceLane { lane } => self.replace_int(1, lane),
            O::I16x8ReplaceLane { lane } => self.replace_int(2, lane),
            O::I32x4ReplaceLane { lane } => self.replace_int(4, lane),
            O::I64x2ReplaceLane { lane } => self.replace_int(8, lane),
            O::F32x4ReplaceLane { lane } => {
                let b = self.pop_xmm();
                let a = self.pop_v128();
                self.v3i(BI::Insertps, a, a, b, (lane << 4) as i8);
                self.stack.free_xmm(b);
                self.stack.push_v128(a);
            }
            O::F64x2ReplaceLane { lane } => {
                let b = self.pop_xmm();
                let a = self.pop_v128();
                match (lane, self.avx()) {
                    (0, false) => dynasm!(self.ops ; .arch x64 ; movsd Rx(a), Rx(b)),
                    (0, true) => dynasm!(self.ops ; .arch x64 ; vmovsd Rx(a), Rx(a), Rx(b)),
                    (_, false) => dynasm!(self.ops ; .arch x64 ; movlhps Rx(a), Rx(b)),
                    (_, true) => dynasm!(self.ops ; .arch x64 ; vmovlhps Rx(a), Rx(a), Rx(b)),
                }
                self.stack.free_xmm(b);
                self.stack.push_v128(a);
            }

            // Comparisons.
            O::I8x16Eq => self.vicmp(ICmp::Eq, I8),
            O::I8x16Ne => self.vicmp(ICmp::Ne, I8),
            O::I8x16LtS => self.vicmp(ICmp::LtS, I8),
            O::I8x16LtU => self.vicmp(ICmp::LtU, I8),
            O::I8x16GtS => self.vicmp(ICmp::GtS, I8),
            O::I8x16GtU => self.vicmp(ICmp::GtU, I8),
            O::I8x16LeS => self.vicmp(ICmp::LeS, I8),
            O::I8x16LeU => self.vicmp(ICmp::LeU, I8),
            O::I8x16GeS => self.vicmp(ICmp::GeS, I8),
            O::I8x16GeU => self.vicmp(ICmp::GeU, I8),
            O::I16x8Eq => self.vicmp(ICmp::Eq, I16),
            O::I16x8Ne => self.vicmp(ICmp::Ne, I16),
            O::I16x8LtS => self.vicmp(ICmp::LtS, I16),
            O::I16x8LtU => self.vicmp(ICmp::LtU, I16),
            O::I16x8GtS => self.vicmp(ICmp::GtS, I16),
            O::I16x8GtU => self.vicmp(ICmp::GtU, I16),
            O::I16x8LeS => self.vicmp(ICmp::LeS, I16),
            O::I16x8LeU => self.vicmp(ICmp::LeU, I16),
            O::I16x8GeS => self.vicmp(ICmp::GeS, I16),
            O::I16x8GeU => self.vicmp(ICmp::GeU, I16),
            O::I32x4Eq => self.vicmp(ICmp::Eq, I32),
            O::I32x4Ne => self.vicmp(ICmp::Ne, I32),
            O::I32x4LtS => self.vicmp(ICmp::LtS, I32),
            O::I32x4LtU => self.vicmp(ICmp::LtU, I32),
            O::I32x4GtS => self.vicmp(ICmp::GtS, I32),
            O::I32x4GtU => self.vicmp(ICmp::GtU, I32),
            O::I32x4LeS => self.vicmp(ICmp::LeS, I32),
            O::I32x4LeU => self.vicmp(ICmp::LeU, I32),
            O::I32x4GeS => self.vicmp(ICmp::GeS, I32),
            O::I32x4GeU => self.vicmp(ICmp::GeU, I32),
            O::I64x2Eq => self.vicmp(ICmp::Eq, I64),
            O::I64x2Ne => self.vicmp(ICmp::Ne, I64),
            O::I64x2LtS | O::I64x2GtS | O::I64x2LeS | O::I64x2GeS => {
                if !self.env.cpu.sse42 {
                    return Err(CompileError::Body {
                        offset: self.offset,
                        message: format!(
                            "engine-dynasm: {name} needs SSE4.2 (pcmpgtq), which this CPU lacks"
                        ),
                    });
                }
                let c = match *op {
                    O::I64x2LtS => ICmp::LtS,
                    O::I64x2GtS => ICmp::GtS,
                    O::I64x2LeS => ICmp::LeS,
                    _ => ICmp::GeS,
                };
                self.vicmp(c, I64);
            }
            O::F32x4Eq => self.vfcmp(BI::Cmpps, CMP_EQ, false),
            O::F32x4Ne => self.vfcmp(BI::Cmpps, CMP_NEQ, false),
            O::F32x4Lt => self.vfcmp(BI::Cmpps, CMP_LT, false),
            O::F32x4Gt => self.vfcmp(BI::Cmpps, CMP_LT, true),
            O::F32x4Le => self.vfcmp(BI::Cmpps, CMP_LE, false),
            O::F32x4Ge => self.vfcmp(BI::Cmpps, CMP_LE, true),
            O::F64x2Eq => self.vfcmp(BI::Cmppd, CMP_EQ, false),
            O::F64x2Ne => self.vfcmp(BI::Cmppd, CMP_NEQ, false),
            O::F64x2Lt => self.vfcmp(BI::Cmppd, CMP_LT, false),
            O::F64x2Gt => self.vfcmp(BI::Cmppd, CMP_LT, true),
            O::F64x2Le => self.vfcmp(BI::Cmppd, CMP_LE, false),
            O::F64x2Ge => self.vfcmp(BI::Cmppd, CMP_LE, true),

            // Bitwise.
            O::V128Not => {
                let a = self.pop_v128();
                self.vnot(a);
                self.stack.push_v128(a);
            }
            O::V128And => self.bin(V::Pand),
            O::V128Or => self.bin(V::Por),
            O::V128Xor => self.bin(V::Pxor),
            // a & !b: `pandn` complements its first operand.
            O::V128AndNot => self.bin_rev(V::Pandn),
            O::V128Bitselect => {
                // ((a ^ b) & c) ^ b
                let c = self.pop_v128();
                let b = self.pop_v128();
                let a = self.pop_v128();
                self.v3(V::Pxor, a, a, b);
                self.v3(V::Pand, a, a, c);
                self.v3(V::Pxor, a, a, b);
                self.stack.free_xmm(b);
                self.stack.free_xmm(c);
                self.stack.push_v128(a);
            }
            O::F32x4RelaxedMadd
            | O::F32x4RelaxedNmadd
            | O::F64x2RelaxedMadd
            | O::F64x2RelaxedNmadd => {
                // vm-core's choice: the product rounded, then the sum (not fused).
                let f32 = matches!(op, O::F32x4RelaxedMadd | O::F32x4RelaxedNmadd);
                let c = self.pop_v128();
                let b = self.pop_v128();
                let a = self.pop_v128();
                self.v3(if f32 { V::Mulps } else { V::Mulpd }, a, a, b);
                if matches!(op, O::F32x4RelaxedNmadd | O::F64x2RelaxedNmadd) {
                    self.vconst(XSCRATCH, if f32 { f32s(0x8000_0000) } else { f64s(1 << 63) });
                    self.v3(V::Xorps, a, a, XSCRATCH);
                }
                self.v3(if f32 { V::Addps } else { V::Addpd }, a, a, c);
                self.stack.free_xmm(b);
                self.stack.free_xmm(c);
                self.stack.push_v128(a);
            }
            O::I16x8RelaxedDotI8x16I7x16S => {
                let b = self.pop_v128();
                let a = self.pop_v128();
                self.relaxed_dot16(a, b);
                self.stack.free_xmm(b);
                self.stack.push_v128(a);
            }
            O::I32x4RelaxedDotI8x16I7x16AddS => {
                let c = self.pop_v128();
                let b = self.pop_v128();
                let a = self.pop_v128();
                self.relaxed_dot16(a, b);
                // extadd_pairwise_i16x8_s: even lanes sign-extended in place plus odd.
                self.vsh(Sh::Pslld, b, a, 16);
                self.vsh(Sh::Psrad, b, b, 16);
                self.vsh(Sh::Psrad, a, a, 16);
                self.v3(V::Paddd, a, a, b);
                self.v3(V::Paddd, a, a, c);
                self.stack.free_xmm(b);
                self.stack.free_xmm(c);
                self.stack.push_v128(a);
            }
            O::V128AnyTrue => {
                let a = self.pop_v128();
                let r = self.alloc();
                pick!(self, { ptest Rx(a), Rx(a) }, { vptest Rx(a), Rx(a) });
                dynasm!(self.ops ; .arch x64 ; setnz Rb(r) ; movzx Rd(r), Rb(r));
                self.stack.free_xmm(a);
                self.stack.push(Loc::Reg(r));
            }
            O::I8x16AllTrue => self.vall_true(V::Pcmpeqb),
            O::I16x8AllTrue => self.vall_true(V::Pcmpeqw),
            O::I32x4AllTrue => self.vall_true(V::Pcmpeqd),
            O::I64x2AllTrue => self.vall_true(V::Pcmpeqq),
            O::I8x16Bitmask => self.vbitmask(1),
            O::I16x8Bitmask => self.vbitmask(2),
            O::I32x4Bitmask => self.vbitmask(4),
            O::I64x2Bitmask => self.vbitmask(8),

            // Integer arithmetic.
            O::I8x16Add => self.bin(V::Paddb),
            O::I16x8Add => self.bin(V::Paddw),
            O::I32x4Add => self.bin(V::Paddd),
            O::I64x2Add => self.bin(V::Paddq),
            O::I8x16Sub => self.bin(V::Psubb),
            O::I16x8Sub => self.bin(V::Psubw),
            O::I32x4Sub => self.bin(V::Psubd),
            O::I64x2Sub => self.bin(V::Psubq),
            O::I16x8Mul => self.bin(V::Pmullw),
            O::I32x4Mul => self.bin(V::Pmulld),
            O::I64x2Mul => self.i64x2_mul(),
            O::I8x16Neg => self.vneg(V::Psubb),
            O::I16x8Neg => self.vneg(V::Psubw),
            O::I32x4Neg => self.vneg(V::Psubd),
            O::I64x2Neg => self.vneg(V::Psubq),
            O::I8x16Abs => self.un(U::Pabsb),
            O::I16x8Abs => self.un(U::Pabsw),
            O::I32x4Abs => self.un(U::Pabsd),
            O::I64x2Abs => {
                // The sign of each lane, spread over it, then (a ^ s) - s.
                let a = self.pop_v128();
                self.v2i(UI::Pshufd, XSCRATCH, a, 0xf5_u8 as i8);
                self.vsh(Sh::Psrad, XSCRATCH, XSCRATCH, 31);
                self.v3(V::Pxor, a, a, XSCRATCH);
                self.v3(V::Psubq, a, a, XSCRATCH);
                self.stack.push_v128(a);
            }
            O::I8x16AddSatS => self.bin(V::Paddsb),
            O::I8x16AddSatU => self.bin(V::Paddusb),
            O::I8x16SubSatS => self.bin(V::Psubsb),
            O::I8x16SubSatU => self.bin(V::Psubusb),
            O::I16x8AddSatS => self.bin(V::Paddsw),
            O::I16x8AddSatU => self.bin(V::Paddusw),
            O::I16x8SubSatS => self.bin(V::Psubsw),
            O::I16x8SubSatU => self.bin(V::Psubusw),
            O::I8x16MinS => self.bin(V::Pminsb),
            O::I8x16MinU => self.bin(V::Pminub),
            O::I8x16MaxS => self.bin(V::Pmaxsb),
            O::I8x16MaxU => self.bin(V::Pmaxub),
            O::I16x8MinS => self.bin(V::Pminsw),
            O::I16x8MinU => self.bin(V::Pminuw),
            O::I16x8MaxS => self.bin(V::Pmaxsw),
            O::I16x8MaxU => self.bin(V::Pmaxuw),
            O::I32x4MinS => self.bin(V::Pminsd),
            O::I32x4MinU => self.bin(V::Pminud),
            O::I32x4MaxS => self.bin(V::Pmaxsd),
            O::I32x4MaxU => self.bin(V::Pmaxud),
            O::I8x16AvgrU => self.bin(V::Pavgb),
            O::I16x8AvgrU => self.bin(V::Pavgw),
            O::I8x16Popcnt => self.vpopcnt(),
            O::I16x8Q15MulrSatS => {
                // pmulhrsw overflows only for -1 * -1 (0x8000 * 0x8000 gives 0x8000).
                let b = self.pop_v128();
                let a = self.pop_v128();
                self.v3(V::Pmulhrsw, a, a, b);
                self.vconst(XSCRATCH, splat(0x8000, 2));
                self.v3(V::Pcmpeqw, XSCRATCH, XSCRATCH, a);
                self.v3(V::Pxor, a, a, XSCRATCH);
                self.stack.free_xmm(b);
                self.stack.push_v128(a);
            }
            O::I32x4DotI16x8S => self.bin(V::Pmaddwd),
            O::I8x16NarrowI16x8S => self.bin(V::Packsswb),
            O::I8x16NarrowI16x8U => self.bin(V::Packuswb),
            O::I16x8NarrowI32x4S => self.bin(V::Packssdw),
            O::I16x8NarrowI32x4U => self.bin(V::Packusdw),
            O::I16x8ExtendLowI8x16S => self.vextend(U::Pmovsxbw, false),
            O::I16x8ExtendHighI8x16S => self.vextend(U::Pmovsxbw, true),
            O::I16x8ExtendLowI8x16U => self.vextend(U::Pmovzxbw, false),
            O::I16x8ExtendHighI8x16U => self.vextend(U::Pmovzxbw, true),
            O::I32x4ExtendLowI16x8S => self.vextend(U::Pmovsxwd, false),
            O::I32x4ExtendHighI16x8S => self.vextend(U::Pmovsxwd, true),
            O::I32x4ExtendLowI16x8U => self.vextend(U::Pmovzxwd, false),
            O::I32x4ExtendHighI16x8U => self.vextend(U::Pmovzxwd, true),
            O::I64x2ExtendLowI32x4S => self.vextend(U::Pmovsxdq, false),
            O::I64x2ExtendHighI32x4S => self.vextend(U::Pmovsxdq, true),
            O::I64x2ExtendLowI32x4U => self.vextend(U::Pmovzxdq, false),
            O::I64x2ExtendHighI32x4U => self.vextend(U::Pmovzxdq, true),
            O::I16x8ExtMulLowI8x16S => self.extmul_8(U::Pmovsxbw, false),
            O::I16x8ExtMulHighI8x16S => self.extmul_8(U::Pmovsxbw, true),
            O::I16x8ExtMulLowI8x16U => self.extmul_8(U::Pmovzxbw, false),
            O::I16x8ExtMulHighI8x16U => self.extmul_8(U::Pmovzxbw, true),
            O::I32x4ExtMulLowI16x8S => self.extmul_16(V::Pmulhw, V::Punpcklwd),
            O::I32x4ExtMulHighI16x8S => self.extmul_16(V::Pmulhw, V::Punpckhwd),
            O::I32x4ExtMulLowI16x8U => self.extmul_16(V::Pmulhuw, V::Punpcklwd),
            O::I32x4ExtMulHighI16x8U => self.extmul_16(V::Pmulhuw, V::Punpckhwd),
            O::I64x2ExtMulLowI32x4S => self.extmul_32(V::Pmuldq, 0x50),
            O::I64x2ExtMulHighI32x4S => self.extmul_32(V::Pmuldq, 0xfa_u8 as i8),
            O::I64x2ExtMulLowI32x4U => self.extmul_32(V::Pmuludq, 0x50),
            O::I64x2ExtMulHighI32x4U => self.extmul_32(V::Pmuludq, 0xfa_u8 as i8),
            O::I16x8ExtAddPairwiseI8x16S => {
                // pmaddubsw multiplies unsigned bytes of its first operand (ones)
                // by signed bytes of its second.
                let a = self.pop_v128();
                let t = self.vtemp();
                self.vconst(t, splat(1, 1));
                self.v3(V::Pmaddubsw, t, t, a);
                self.stack.free_xmm(a);
                self.stack.push_v128(t);
            }
            O::I16x8ExtAddPairwiseI8x16U => self.with_const(V::Pmaddubsw, splat(1, 1)),
            O::I32x4ExtAddPairwiseI16x8S => self.with_const(V::Pmaddwd, splat(1, 2)),
            O::I32x4ExtAddPairwiseI16x8U => {
                // Biased to signed, summed, the bias (2 * 0x8000) added back.
                let a = self.pop_v128();
                self.vconst(XSCRATCH, splat(0x8000, 2));
                self.v3(V::Pxor, a, a, XSCRATCH);
                self.vconst(XSCRATCH, splat(1, 2));
                self.v3(V::Pmaddwd, a, a, XSCRATCH);
                self.vconst(XSCRATCH, splat(0x1_0000, 4));
                self.v3(V::Paddd, a, a, XSCRATCH);
                self.stack.push_v128(a);
            }

            // Shifts (counts modulo the lane width).
            O::I8x16Shl => self.shift8(Sh::Psllw),
            O::I8x16ShrU => self.shift8(Sh::Psrlw),
            O::I8x16ShrS => self.shift8(Sh::Psraw),
            O::I16x8Shl => self.vshift(Sh::Psllw, 15),
            O::I16x8ShrU => self.vshift(Sh::Psrlw, 15),
            O::I16x8ShrS => self.vshift(Sh::Psraw, 15),
            O::I32x4Shl => self.vshift(Sh::Pslld, 31),
            O::I32x4ShrU => self.vshift(Sh::Psrld, 31),
            O::I32x4ShrS => self.vshift(Sh::Psrad, 31),
            O::I64x2Shl => self.vshift(Sh::Psllq, 63),
            O::I64x2ShrU => self.vshift(Sh::Psrlq, 63),
            O::I64x2ShrS => self.i64x2_shr_s(),

            // Floats.
            O::F32x4Add => self.bin(V::Addps),
            O::F32x4Sub => self.bin(V::Subps),
            O::F32x4Mul => self.bin(V::Mulps),
            O::F32x4Div => self.bin(V::Divps),
            O::F64x2Add => self.bin(V::Addpd),
            O::F64x2Sub => self.bin(V::Subpd),
            O::F64x2Mul => self.bin(V::Mulpd),
            O::F64x2Div => self.bin(V::Divpd),
            O::F32x4Sqrt => self.un(U::Sqrtps),
            O::F64x2Sqrt => self.un(U::Sqrtpd),
            O::F32x4Abs => self.with_const(V::Andps, f32s(0x7fff_ffff)),
            O::F32x4Neg => self.with_const(V::Xorps, f32s(0x8000_0000)),
            O::F64x2Abs => self.with_const(V::Andps, f64s(i64::MAX as u64)),
            O::F64x2Neg => self.with_const(V::Xorps, f64s(1 << 63)),
            O::F32x4Ceil => self.vround(UI::Roundps, CEIL),
            O::F32x4Floor => self.vround(UI::Roundps, FLOOR),
            O::F32x4Trunc => self.vround(UI::Roundps, TRUNC),
            O::F32x4Nearest => self.vround(UI::Roundps, NEAREST),
            O::F64x2Ceil => self.vround(UI::Roundpd, CEIL),
            O::F64x2Floor => self.vround(UI::Roundpd, FLOOR),
            O::F64x2Trunc => self.vround(UI::Roundpd, TRUNC),
            O::F64x2Nearest => self.vround(UI::Roundpd, NEAREST),
            O::F32x4Min => self.fmin(false),
            O::F64x2Min => self.fmin(true),
            O::F32x4Max => self.fmax(false),
            O::F64x2Max => self.fmax(true),
            // pmin(a, b) = b < a ? b : a, which is `minps` with b first (it returns
            // its second operand unless the first is less); pmax likewise.
            O::F32x4PMin => self.bin_rev(V::Minps),
            O::F32x4PMax => self.bin_rev(V::Maxps),
            O::F64x2PMin => self.bin_rev(V::Minpd),
            O::F64x2PMax => self.bin_rev(V::Maxpd),

            // Conversions.
            O::F32x4ConvertI32x4S => self.un(U::Cvtdq2ps),
            O::F32x4ConvertI32x4U => self.f32x4_convert_u(),
            O::F64x2ConvertLowI32x4S => self.un(U::Cvtdq2pd),
            O::F64x2ConvertLowI32x4U => {
                // 2^52 + x as an f64 (x in the low mantissa bits), minus 2^52.
                let a = self.pop_v128();
                self.vconst(XSCRATCH, f32s(0x4330_0000));
                self.v3(V::Unpcklps, a, a, XSCRATCH);
                self.vconst(XSCRATCH, f64s(0x4330_0000_0000_0000));
                self.v3(V::Subpd, a, a, XSCRATCH);
                self.stack.push_v128(a);
            }
            O::F32x4DemoteF64x2Zero => self.un(U::Cvtpd2ps),
            O::F64x2PromoteLowF32x4 => self.un(U::Cvtps2pd),
            O::I32x4TruncSatF32x4S => self.trunc_sat_f32_s(),
            O::I32x4TruncSatF32x4U => self.trunc_sat_f32_u(),
            O::I32x4TruncSatF64x2SZero => {
                // NaN lanes to 0 and the upper bound clamped, then cvttpd2dq
                // (below range it gives i32::MIN, the lower bound; upper lanes 0).
                let a = self.pop_v128();
                let t = self.vtemp();
                self.v3i(BI::Cmppd, t, a, a, CMP_EQ);
                self.vconst(XSCRATCH, f64s(2_147_483_647f64.to_bits()));
                self.v3(V::Andps, t, t, XSCRATCH);
                self.v3(V::Minpd, a, a, t);
                self.v2(U::Cvttpd2dq, a, a);
                self.stack.free_xmm(t);
                self.stack.push_v128(a);
            }
            O::I32x4TruncSatF64x2UZero => {
                // Clamped to [0, u32::MAX] (maxpd turns NaN into its second operand,
                // 0), truncated, then 2^52 added so the integer sits in the low 32
                // bits of each f64; shufps gathers them and zeros the upper lanes.
                let a = self.pop_v128();
                let t = self.vtemp();
                self.vconst(t, 0);
                self.v3(V::Maxpd, a, a, t);
                self.vconst(XSCRATCH, f64s(4_294_967_295f64.to_bits()));
                self.v3(V::Minpd, a, a, XSCRATCH);
                self.v2i(UI::Roundpd, a, a, TRUNC);
                self.vconst(XSCRATCH, f64s(0x4330_0000_0000_0000));
                self.v3(V::Addpd, a, a, XSCRATCH);
                self.v3i(BI::Shufps, a, a, t, 0x88_u8 as i8);
                self.stack.free_xmm(t);
                self.stack.push_v128(a);
            }
            _ => return Err(self.not_yet(name)),
        }
        Ok(true)
    }

    /// A v128 load or store form (see [`Mem`]), with the bounds check or guard
    /// page handling of scalar accesses.
    fn vmem(&mut self, kind: Mem, memarg: MemArg) -> Result<(), CompileError> {
        let size = match kind {
            Mem::Load | Mem::Store => 16,
            Mem::Extend(_) => 8,
            Mem::Splat(n) | Mem::Zero(n) | Mem::LoadLane(n, _) | Mem::StoreLane(n, _) => n,
        };
        let v = match kind {
            Mem::Store | Mem::StoreLane(..) | Mem::LoadLane(..) => Some(self.pop_v128()),
            _ => None,
        };
        let a = self.pop_address();
        let (d, guarded) = self.address(a, memarg, u64::from(size))?;
        let x = match v {
            Some(v) => v,
            None => self.alloc_xmm(),
        };
        if guarded {
            self.trap_here(vm_core::runtime::TrapCode::MemoryOutOfBounds);
        }
        let avx = self.avx();
        match kind {
            Mem::Load => {
                pick!(self, { movdqu Rx(x), [r14 + Rq(a) + d] }, { vmovdqu Rx(x), [r14 + Rq(a) + d] })
            }
            Mem::Store => {
                pick!(self, { movdqu [r14 + Rq(a) + d], Rx(x) }, { vmovdqu [r14 + Rq(a) + d], Rx(x) })
            }
            Mem::Extend(op) => {
                pick!(self, { movq Rx(x), [r14 + Rq(a) + d] }, { vmovq Rx(x), [r14 + Rq(a) + d] });
                self.v2(op, x, x);
            }
            Mem::Zero(4) => {
                pick!(self, { movd Rx(x), [r14 + Rq(a) + d] }, { vmovd Rx(x), [r14 + Rq(a) + d] })
            }
            Mem::Zero(_) => {
                pick!(self, { movq Rx(x), [r14 + Rq(a) + d] }, { vmovq Rx(x), [r14 + Rq(a) + d] })
            }
            Mem::Splat(n) if avx => match n {
                1 => dynasm!(self.ops ; .arch x64 ; vpbroadcastb Rx(x), BYTE [r14 + Rq(a) + d]),
                2 => dynasm!(self.ops ; .arch x64 ; vpbroadcastw Rx(x), WORD [r14 + Rq(a) + d]),
                4 => dynasm!(self.ops ; .arch x64 ; vpbroadcastd Rx(x), DWORD [r14 + Rq(a) + d]),
                _ => dynasm!(self.ops ; .arch x64 ; vpbroadcastq Rx(x), QWORD [r14 + Rq(a) + d]),
            },
            Mem::Splat(n) => {
                match n {
                    1 => dynasm!(self.ops ; .arch x64 ; movzx r11d, BYTE [r14 + Rq(a) + d]),
                    2 => dynasm!(self.ops ; .arch x64 ; movzx r11d, WORD [r14 + Rq(a) + d]),
                    4 => dynasm!(self.ops ; .arch x64 ; mov r11d, [r14 + Rq(a) + d]),
                    _ => dynasm!(self.ops ; .arch x64 ; mov r11, [r14 + Rq(a) + d]),
                }
                self.splat_gpr(x, 11, n);
            }
            Mem::LoadLane(n, lane) => {
                let l = lane as i8;
                match n {
                    1 => pick!(self,
                        { pinsrb Rx(x), BYTE [r14 + Rq(a) + d], l },
                        { vpinsrb Rx(x), Rx(x), BYTE [r14 + Rq(a) + d], l }),
                    2 => pick!(self,
                        { pinsrw Rx(x), WORD [r14 + Rq(a) + d], l },
                        { vpinsrw Rx(x), Rx(x), WORD [r14 + Rq(a) + d], l }),
                    4 => pick!(self,
                        { pinsrd Rx(x), DWORD [r14 + Rq(a) + d], l },
                        { vpinsrd Rx(x), Rx(x), DWORD [r14 + Rq(a) + d], l }),
                    _ => pick!(self,
                        { pinsrq Rx(x), QWORD [r14 + Rq(a) + d], l },
                        { vpinsrq Rx(x), Rx(x), QWORD [r14 + Rq(a) + d], l }),
                }
            }
            Mem::StoreLane(n, lane) => {
                let l = lane as i8;
                match n {
                    1 => pick!(self,
                        { pextrb BYTE [r14 + Rq(a) + d], Rx(x), l },
                        { vpextrb BYTE [r14 + Rq(a) + d], Rx(x), l }),
                    2 => pick!(self,
                        { pextrw WORD [r14 + Rq(a) + d], Rx(x), l },
                        { vpextrw WORD [r14 + Rq(a) + d], Rx(x), l }),
                    4 => pick!(self,
                        { pextrd DWORD [r14 + Rq(a) + d], Rx(x), l },
                        { vpextrd DWORD [r14 + Rq(a) + d], Rx(x), l }),
                    _ => pick!(self,
                        { pextrq QWORD [r14 + Rq(a) + d], Rx(x), l },
                        { vpextrq QWORD [r14 + Rq(a) + d], Rx(x), l }),
                }
            }
        }
        self.stack.free(a);
        match kind {
            Mem::Store | Mem::StoreLane(..) => self.stack.free_xmm(x),
            _ => self.stack.push_v128(x),
        }
        Ok(())
    }

    /// Every lane of `x` = the low `n` bytes of general-purpose register `r`.
    fn splat_gpr(&mut self, x: u8, r: u8, n: u32) {
        if n == 8 {
            pick!(self, { movq Rx(x), Rq(r) }, { vmovq Rx(x), Rq(r) });
        } else {
            pick!(self, { movd Rx(x), Rd(r) }, { vmovd Rx(x), Rd(r) });
        }
        if self.avx() {
            match n {
                1 => dynasm!(self.ops ; .arch x64 ; vpbroadcastb Rx(x), Rx(x)),
                2 => dynasm!(self.ops ; .arch x64 ; vpbroadcastw Rx(x), Rx(x)),
                4 => dynasm!(self.ops ; .arch x64 ; vpbroadcastd Rx(x), Rx(x)),
                _ => dynasm!(self.ops ; .arch x64 ; vpbroadcastq Rx(x), Rx(x)),
            }
            return;
        }
        match n {
            1 => {
                dynasm!(self.ops ; .arch x64 ; pxor xmm15, xmm15 ; pshufb Rx(x), xmm15);
            }
            2 => {
                self.v2i(UI::Pshuflw, x, x, 0);
                self.v2i(UI::Pshufd, x, x, 0);
            }
            4 => self.v2i(UI::Pshufd, x, x, 0),
            _ => self.v2i(UI::Pshufd, x, x, 0x44),
        }
    }

    fn splat_int(&mut self, n: u32) {
        let r = self.pop_reg();
        let x = self.alloc_xmm();
        self.splat_gpr(x, r, n);
        self.stack.free(r);
        self.stack.push_v128(x);
    }

    /// An integer lane into a general-purpose register (`signed`: sign-extended
    /// to 32 bits).
    fn extract_int(&mut self, n: u32, signed: bool, lane: u8) {
        let a = self.pop_v128();
        let r = self.alloc();
        let l = lane as i8;
        match n {
            1 => {
                pick!(self, { pextrb Rd(r), Rx(a), l }, { vpextrb Rd(r), Rx(a), l });
                if signed {
                    dynasm!(self.ops ; .arch x64 ; movsx Rd(r), Rb(r));
                }
            }
            2 => {
                pick!(self, { pextrw Rd(r), Rx(a), l }, { vpextrw Rd(r), Rx(a), l });
                if signed {
                    dynasm!(self.ops ; .arch x64 ; movsx Rd(r), Rw(r));
                }
            }
            4 => pick!(self, { pextrd Rd(r), Rx(a), l }, { vpextrd Rd(r), Rx(a), l }),
            _ => pick!(self, { pextrq Rq(r), Rx(a), l }, { vpextrq Rq(r), Rx(a), l }),
        }
        self.stack.free_xmm(a);
        self.stack.push(Loc::Reg(r));
    }

    fn replace_int(&mut self, n: u32, lane: u8) {
        let r = self.pop_reg();
        let a = self.pop_v128();
        let l = lane as i8;
        match n {
            1 => pick!(self, { pinsrb Rx(a), Rd(r), l }, { vpinsrb Rx(a), Rx(a), Rd(r), l }),
            2 => pick!(self, { pinsrw Rx(a), Rd(r), l }, { vpinsrw Rx(a), Rx(a), Rd(r), l }),
            4 => pick!(self, { pinsrd Rx(a), Rd(r), l }, { vpinsrd Rx(a), Rx(a), Rd(r), l }),
            _ => pick!(self, { pinsrq Rx(a), Rq(r), l }, { vpinsrq Rx(a), Rx(a), Rq(r), l }),
        }
        self.stack.free(r);
        self.stack.push_v128(a);
    }

    /// `i8x16.shuffle`: each source through `pshufb` with the lanes it supplies
    /// (0x80 elsewhere zeroes the byte), or-ed together.
    fn vshuffle(&mut self, lanes: [u8; 16]) {
        let b = self.pop_v128();
        let a = self.pop_v128();
        let mask = |from_b: bool| {
            lanes.iter().enumerate().fold(0u128, |m, (i, &l)| {
                let byte = match (l >= 16, from_b) {
                    (false, false) => l,
                    (true, true) => l - 16,
                    _ => 0x80,
                };
                m | u128::from(byte) << (8 * i)
            })
        };
        let (use_a, use_b) = (lanes.iter().any(|&l| l < 16), lanes.iter().any(|&l| l >= 16));
        if use_a {
            self.vconst(XSCRATCH, mask(false));
            self.v3(V::Pshufb, a, a, XSCRATCH);
        }
        if use_b {
            self.vconst(XSCRATCH, mask(true));
            self.v3(V::Pshufb, b, b, XSCRATCH);
            if use_a {
                self.v3(V::Por, a, a, b);
            } else {
                self.vmov(a, b);
            }
        }
        self.stack.free_xmm(b);
        self.stack.push_v128(a);
    }

    fn vicmp(&mut self, c: ICmp, l: Lanes) {
        let b = self.pop_v128();
        let a = self.pop_v128();
        match c {
            ICmp::Eq | ICmp::Ne => self.v3(l.eq, a, a, b),
            ICmp::GtS | ICmp::LeS => self.v3(l.gt, a, a, b),
            ICmp::LtS | ICmp::GeS => {
                self.v3(l.gt, b, b, a);
                self.vmov(a, b);
            }
            // a >= b (unsigned) iff max(a, b) == a; a <= b iff min(a, b) == a.
            ICmp::GeU | ICmp::LtU => {
                self.v3(l.maxu, b, b, a);
                self.v3(l.eq, a, a, b);
            }
            ICmp::LeU | ICmp::GtU => {
                self.v3(l.minu, b, b, a);
                self.v3(l.eq, a, a, b);
            }
        }
        if matches!(c, ICmp::Ne | ICmp::LeS | ICmp::GeS | ICmp::LtU | ICmp::GtU) {
            self.vnot(a);
        }
        self.stack.free_xmm(b);
        self.stack.push_v128(a);
    }

    /// A float comparison `a pred b` (`swap`: `b pred a`), all-ones or zero lanes;
    /// `neq` is true for unordered lanes as wasm's `ne` is.
    fn vfcmp(&mut self, op: BI, pred: i8, swap: bool) {
        let b = self.pop_v128();
        let a = self.pop_v128();
        if swap {
            self.v3i(op, b, b, a, pred);
            self.vmov(a, b);
        } else {
            self.v3i(op, a, a, b, pred);
        }
        self.stack.free_xmm(b);
        self.stack.push_v128(a);
    }

    /// `all_true`: no lane equal to zero.
    fn vall_true(&mut self, eq: V) {
        let a = self.pop_v128();
        let r = self.alloc();
        self.vconst(XSCRATCH, 0);
        self.v3(eq, XSCRATCH, XSCRATCH, a);
        dynasm!(self.ops ; .arch x64 ; pmovmskb Rd(r), xmm15);
        dynasm!(self.ops
            ; .arch x64
            ; test Rd(r), Rd(r)
            ; setz Rb(r)
            ; movzx Rd(r), Rb(r)
        );
        self.stack.free_xmm(a);
        self.stack.push(Loc::Reg(r));
    }

    /// `bitmask`: the sign bit of each lane.
    fn vbitmask(&mut self, n: u32) {
        let a = self.pop_v128();
        let r = self.alloc();
        match n {
            1 => dynasm!(self.ops ; .arch x64 ; pmovmskb Rd(r), Rx(a)),
            2 => {
                // Words narrowed to bytes with signed saturation keep their signs.
                self.v3(V::Packsswb, a, a, a);
                dynasm!(self.ops ; .arch x64 ; pmovmskb Rd(r), Rx(a));
                dynasm!(self.ops ; .arch x64 ; movzx Rd(r), Rb(r));
            }
            4 => dynasm!(self.ops ; .arch x64 ; movmskps Rd(r), Rx(a)),
            _ => dynasm!(self.ops ; .arch x64 ; movmskpd Rd(r), Rx(a)),
        }
        self.stack.free_xmm(a);
        self.stack.push(Loc::Reg(r));
    }

    /// `0 - a`.
    fn vneg(&mut self, sub: V) {
        let a = self.pop_v128();
        let t = self.vtemp();
        self.vconst(t, 0);
        self.v3(sub, t, t, a);
        self.stack.free_xmm(a);
        self.stack.push_v128(t);
    }

    /// `i64x2.mul` from 32x32->64 products: lo(a)lo(b) + (hi(a)lo(b) + lo(a)hi(b)) << 32.
    fn i64x2_mul(&mut self) {
        let b = self.pop_v128();
        let a = self.pop_v128();
        let t = self.vtemp();
        self.vsh(Sh::Psrlq, t, a, 32);
        self.v3(V::Pmuludq, t, t, b);
        self.vsh(Sh::Psrlq, XSCRATCH, b, 32);
        self.v3(V::Pmuludq, XSCRATCH, XSCRATCH, a);
        self.v3(V::Paddq, t, t, XSCRATCH);
        self.vsh(Sh::Psllq, t, t, 32);
        self.v3(V::Pmuludq, a, a, b);
        self.v3(V::Paddq, a, a, t);
        self.stack.free_xmm(t);
        self.stack.free_xmm(b);
        self.stack.push_v128(a);
    }

    fn vpopcnt(&mut self) {
        // Each nibble through a 16-entry table of bit counts.
        const TABLE: u128 = 0x0403_0302_0302_0201_0302_0201_0201_0100;
        let a = self.pop_v128();
        let t = self.vtemp();
        let u = self.vtemp();
        self.vconst(XSCRATCH, splat(0x0f, 1));
        self.vsh(Sh::Psrlw, t, a, 4);
        self.v3(V::Pand, t, t, XSCRATCH);
        self.v3(V::Pand, a, a, XSCRATCH);
        self.vconst(XSCRATCH, TABLE);
        self.v3(V::Pshufb, u, XSCRATCH, a);
        self.v3(V::Pshufb, a, XSCRATCH, t);
        self.v3(V::Paddb, a, a, u);
        self.stack.free_xmm(t);
        self.stack.free_xmm(u);
        self.stack.push_v128(a);
    }

    /// The low (or `high`) half extended with `op` (`pmovsx*`/`pmovzx*`).
    fn vextend(&mut self, op: U, high: bool) {
        let a = self.pop_v128();
        if high {
            self.v2i(UI::Pshufd, a, a, 0xee_u8 as i8);
        }
        self.v2(op, a, a);
        self.stack.push_v128(a);
    }

    /// `i16x8.extmul_*_i8x16_*`: both halves extended, then `pmullw`.
    fn extmul_8(&mut self, op: U, high: bool) {
        let b = self.pop_v128();
        let a = self.pop_v128();
        for x in [a, b] {
            if high {
                self.v2i(UI::Pshufd, x, x, 0xee_u8 as i8);
            }
            self.v2(op, x, x);
        }
        self.v3(V::Pmullw, a, a, b);
        self.stack.free_xmm(b);
        self.stack.push_v128(a);
    }

    /// `i32x4.extmul_*_i16x8_*`: low and high halves of the 16x16 products
    /// interleaved.
    fn extmul_16(&mut self, mulh: V, unpack: V) {
        let b = self.pop_v128();
        let a = self.pop_v128();
        let t = self.vtemp();
        self.v3(V::Pmullw, t, a, b);
        self.v3(mulh, a, a, b);
        self.v3(unpack, t, t, a);
        self.stack.free_xmm(a);
        self.stack.free_xmm(b);
        self.stack.push_v128(t);
    }

    /// `i64x2.extmul_*_i32x4_*`: the lanes moved to even positions, then
    /// `pmuldq`/`pmuludq`.
    fn extmul_32(&mut self, mul: V, sel: i8) {
        let b = self.pop_v128();
        let a = self.pop_v128();
        self.v2i(UI::Pshufd, a, a, sel);
        self.v2i(UI::Pshufd, b, b, sel);
        self.v3(mul, a, a, b);
        self.stack.free_xmm(b);
        self.stack.push_v128(a);
    }

    /// Pops a shift count: `Ok(count % (mask + 1))` when constant, else the count
    /// in `xmm15` and `Err(())`.
    fn pop_count(&mut self, mask: i32, add: i32) -> Result<i8, ()> {
        if let Some(Loc::Const(c)) = self.stack.peek() {
            self.stack.pop();
            return Ok(((c as i32 & mask) + add) as i8);
        }
        let r = self.pop_reg();
        dynasm!(self.ops ; .arch x64 ; and Rd(r), mask);
        if add != 0 {
            dynasm!(self.ops ; .arch x64 ; add Rd(r), add);
        }
        pick!(self, { movd xmm15, Rd(r) }, { vmovd xmm15, Rd(r) });
        self.stack.free(r);
        Err(())
    }

    /// `d = s` shifted by the count (immediate or `xmm15`).
    fn shift_by(&mut self, imm: Sh, d: u8, s: u8, count: Result<i8, ()>) {
        match count {
            Ok(n) => self.vsh(imm, d, s, n),
            Err(()) => {
                let op = match imm {
                    Sh::Psllw => V::Psllw,
                    Sh::Psrlw => V::Psrlw,
                    Sh::Psraw => V::Psraw,
                    Sh::Pslld => V::Pslld,
                    Sh::Psrld => V::Psrld,
                    Sh::Psrad => V::Psrad,
                    Sh::Psllq => V::Psllq,
                    Sh::Psrlq => V::Psrlq,
                };
                self.v3(op, d, s, XSCRATCH);
            }
        }
    }

    fn vshift(&mut self, imm: Sh, mask: i32) {
        let count = self.pop_count(mask, 0);
        let a = self.pop_v128();
        self.shift_by(imm, a, a, count);
        self.stack.push_v128(a);
    }

    /// `i8x16` shifts on 16-bit lanes: each byte widened into a word (in the
    /// high half for `shl`, so the bits shifted out go to the low half and are
    /// dropped; zero- or sign-extended for `shr_u`/`shr_s`), shifted, narrowed.
    fn shift8(&mut self, op: Sh) {
        // shr_s shifts words holding the byte twice by count + 8.
        let count = self.pop_count(7, if matches!(op, Sh::Psraw) { 8 } else { 0 });
        let a = self.pop_v128();
        if let (Ok(n), Sh::Psllw | Sh::Psrlw) = (count, op) {
            // A constant count: 16-bit lanes shifted, then the bits that crossed
            // from the neighbouring byte cleared.
            let mask = if matches!(op, Sh::Psllw) { 0xff_u64 << n } else { 0xff >> n } & 0xff;
            self.vsh(op, a, a, n);
            self.vconst(XSCRATCH, splat(mask, 1));
            self.v3(V::Pand, a, a, XSCRATCH);
            self.stack.push_v128(a);
            return;
        }
        let t = self.vtemp();
        let u = self.vtemp();
        match op {
            Sh::Psllw => {
                self.vconst(u, 0);
                self.v3(V::Punpckhbw, t, u, a);
                self.v3(V::Punpcklbw, u, u, a);
                self.shift_by(Sh::Psllw, t, t, count);
                self.shift_by(Sh::Psllw, u, u, count);
                self.vsh(Sh::Psrlw, t, t, 8);
                self.vsh(Sh::Psrlw, u, u, 8);
                self.v3(V::Packuswb, a, u, t);
            }
            Sh::Psrlw => {
                self.vconst(u, 0);
                self.v3(V::Punpckhbw, t, a, u);
                self.v3(V::Punpcklbw, a, a, u);
                self.shift_by(Sh::Psrlw, t, t, count);
                self.shift_by(Sh::Psrlw, a, a, count);
                self.v3(V::Packuswb, a, a, t);
            }
            _ => {
                // Each byte in both halves of a word: an arithmetic shift by
                // count + 8 leaves the shifted byte sign-extended in the word.
                self.v3(V::Punpckhbw, t, a, a);
                self.v3(V::Punpcklbw, a, a, a);
                self.shift_by(Sh::Psraw, t, t, count);
                self.shift_by(Sh::Psraw, a, a, count);
                self.v3(V::Packsswb, a, a, t);
            }
        }
        self.stack.free_xmm(t);
        self.stack.free_xmm(u);
        self.stack.push_v128(a);
    }

    /// `i64x2.shr_s`: logical shift, then `(x ^ m) - m` with `m` the sign bit
    /// shifted the same way.
    fn i64x2_shr_s(&mut self) {
        let count = self.pop_count(63, 0);
        let a = self.pop_v128();
        let m = self.vtemp();
        self.vconst(m, splat(1 << 63, 8));
        self.shift_by(Sh::Psrlq, a, a, count);
        self.shift_by(Sh::Psrlq, m, m, count);
        self.v3(V::Pxor, a, a, m);
        self.v3(V::Psubq, a, a, m);
        self.stack.free_xmm(m);
        self.stack.push_v128(a);
    }

    fn vround(&mut self, op: UI, mode: i8) {
        let a = self.pop_v128();
        self.v2i(op, a, a, mode);
        self.stack.push_v128(a);
    }

    /// wasm `min`: `minps` both ways or-ed (so `-0` and NaN bits propagate), then
    /// NaN lanes canonicalized (the unordered mask or-ed in, its low mantissa
    /// bits cleared).
    fn fmin(&mut self, d: bool) {
        let (min, cmp, or, sh) = if d {
            (V::Minpd, BI::Cmppd, V::Orps, Sh::Psrlq)
        } else {
            (V::Minps, BI::Cmpps, V::Orps, Sh::Psrld)
        };
        let b = self.pop_v128();
        let a = self.pop_v128();
        let t = self.vtemp();
        self.v3(min, t, b, a);
        self.v3(min, a, a, b);
        self.v3(or, t, t, a);
        self.v3i(cmp, a, a, t, CMP_UNORD);
        self.v3(or, t, t, a);
        self.vsh(sh, a, a, if d { 13 } else { 10 });
        self.v3(V::Andnps, a, a, t);
        self.stack.free_xmm(t);
        self.stack.free_xmm(b);
        self.stack.push_v128(a);
    }

    /// wasm `max`: `maxps` both ways; their difference (xor) fixes `+0 > -0`
    /// through a subtraction that also propagates NaN, then NaN lanes are
    /// canonicalized as in [`Self::fmin`].
    fn fmax(&mut self, d: bool) {
        let (max, sub, cmp, sh) = if d {
            (V::Maxpd, V::Subpd, BI::Cmppd, Sh::Psrlq)
        } else {
            (V::Maxps, V::Subps, BI::Cmpps, Sh::Psrld)
        };
        let b = self.pop_v128();
        let a = self.pop_v128();
        let t = self.vtemp();
        self.v3(max, t, b, a);
        self.v3(max, a, a, b);
        self.v3(V::Xorps, a, a, t);
        self.v3(V::Orps, t, t, a);
        self.v3(sub, t, t, a);
        self.v3i(cmp, a, a, t, CMP_UNORD);
        self.vsh(sh, a, a, if d { 13 } else { 10 });
        self.v3(V::Andnps, a, a, t);
        self.stack.free_xmm(t);
        self.stack.free_xmm(b);
        self.stack.push_v128(a);
    }

    /// `f32x4.convert_i32x4_u`: the low 16 bits converted exactly, the rest
    /// halved (to stay positive), converted exactly, doubled, and the two added
    /// with one rounding.
    fn f32x4_convert_u(&mut self) {
        let a = self.pop_v128();
        let t = self.vtemp();
        self.vsh(Sh::Pslld, t, a, 16);
        self.vsh(Sh::Psrld, t, t, 16);
        self.v3(V::Psubd, a, a, t);
        self.v2(U::Cvtdq2ps, t, t);
        self.vsh(Sh::Psrld, a, a, 1);
        self.v2(U::Cvtdq2ps, a, a);
        self.v3(V::Addps, a, a, a);
        self.v3(V::Addps, a, a, t);
        self.stack.free_xmm(t);
        self.stack.push_v128(a);
    }

    /// `i32x4.trunc_sat_f32x4_s`: NaN lanes zeroed; `cvttps2dq` gives i32::MIN on
    /// overflow, which lanes that were non-negative turn into i32::MAX.
    fn trunc_sat_f32_s(&mut self) {
        let a = self.pop_v128();
        let t = self.vtemp();
        self.v3i(BI::Cmpps, t, a, a, CMP_EQ);
        self.v3(V::Pand, a, a, t);
        self.v3(V::Pxor, t, t, a);
        self.v2(U::Cvttps2dq, a, a);
        self.v3(V::Pand, t, t, a);
        self.vsh(Sh::Psrad, t, t, 31);
        self.v3(V::Pxor, a, a, t);
        self.stack.free_xmm(t);
        self.stack.push_v128(a);
    }

    /// `i32x4.trunc_sat_f32x4_u`: negative and NaN lanes to 0 (`maxps` with 0),
    /// then `x` and `x - 2^31` converted signed; lanes at or above 2^32 saturate.
    fn trunc_sat_f32_u(&mut self) {
        let a = self.pop_v128();
        let t = self.vtemp();
        let u = self.vtemp();
        self.vconst(u, 0);
        self.v3(V::Maxps, a, a, u);
        self.vconst(u, f32s_bits(2_147_483_648f32.to_bits()));
        self.v3(V::Subps, t, a, u);
        self.v3i(BI::Cmpps, u, u, t, CMP_LE);
        self.v2(U::Cvttps2dq, t, t);
        self.v3(V::Pxor, t, t, u);
        self.vconst(u, 0);
        self.v3(V::Pmaxsd, t, t, u);
        self.v2(U::Cvttps2dq, a, a);
        self.v3(V::Paddd, a, a, t);
        self.stack.free_xmm(t);
        self.stack.free_xmm(u);
        self.stack.push_v128(a);
    }

    /// A v128 `select` (condition in `c`): both operands into xmm registers.
    pub fn select_v128(&mut self, c: u8) {
        let b = self.pop_v128();
        let a = self.pop_v128();
        let keep = self.ops.new_dynamic_label();
        dynasm!(self.ops ; .arch x64 ; test Rd(c), Rd(c) ; jnz =>keep);
        self.vmov(a, b);
        dynasm!(self.ops ; .arch x64 ; =>keep);
        self.stack.free_xmm(b);
        self.stack.free(c);
        self.stack.push_v128(a);
    }
}

/// Four f32 lanes of `bits`.
fn f32s_bits(bits: u32) -> u128 {
    splat(u64::from(bits), 4)
}

/// Whether the operator named `name` belongs to the simd128 proposals (their
/// operators all start with a vector type's name; relaxed ones keep their own name).
fn is_simd(name: &str) -> bool {
    ["V128", "I8x16", "I16x8", "I32x4", "I64x2", "F32x4", "F64x2"]
        .iter()
        .any(|p| name.starts_with(p))
}
