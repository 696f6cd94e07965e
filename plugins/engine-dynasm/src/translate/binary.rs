//! Integer arithmetic, comparison, bitwise operators, shifts, conversions between
//! i32 and i64, and the division family with its traps.
//!
//! i32 values live in the low half of a register; 32-bit instructions write their
//! result zero-extended, and every consumer of an i32 reads only the low half.

use dynasm::dynasm;
use dynasmrt::{DynamicLabel, DynasmApi, DynasmLabelApi};
use vm_core::runtime::{CompileError, TrapCode};
use wasmparser::Operator;

use super::stack::Operand;
use super::{FuncCompiler, Loc, NextOp, reg};

/// A two-operand ALU operation.
#[derive(Clone, Copy)]
enum Alu {
    Add,
    Sub,
    Mul,
    And,
    Or,
    Xor,
}

/// A comparison, by the `setcc` it ends in (or the `jcc` of a branch on it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Cc {
    E,
    Ne,
    L,
    B,
    G,
    A,
    Le,
    Be,
    Ge,
    Ae,
}

impl Cc {
    /// The opposite condition.
    pub fn negate(self) -> Self {
        match self {
            Cc::E => Cc::Ne,
            Cc::Ne => Cc::E,
            Cc::L => Cc::Ge,
            Cc::Ge => Cc::L,
            Cc::B => Cc::Ae,
            Cc::Ae => Cc::B,
            Cc::G => Cc::Le,
            Cc::Le => Cc::G,
            Cc::A => Cc::Be,
            Cc::Be => Cc::A,
        }
    }
}

#[derive(Clone, Copy)]
enum Shift {
    Shl,
    Shr,
    Sar,
    Rol,
    Ror,
}

#[derive(Clone, Copy)]
enum Div {
    DivS,
    DivU,
    RemS,
    RemU,
}

impl FuncCompiler<'_, '_> {
    /// Translates `op` if it is in this family; `false` otherwise.
    pub fn binary(&mut self, op: &Operator<'_>) -> Result<bool, CompileError> {
        use Operator as O;
        match *op {
            O::I32Add => self.alu(Alu::Add, false),
            O::I32Sub => self.alu(Alu::Sub, false),
            O::I32Mul => self.alu(Alu::Mul, false),
            O::I32And => self.alu(Alu::And, false),
            O::I32Or => self.alu(Alu::Or, false),
            O::I32Xor => self.alu(Alu::Xor, false),
            O::I64Add => self.alu(Alu::Add, true),
            O::I64Sub => self.alu(Alu::Sub, true),
            O::I64Mul => self.alu(Alu::Mul, true),
            O::I64And => self.alu(Alu::And, true),
            O::I64Or => self.alu(Alu::Or, true),
            O::I64Xor => self.alu(Alu::Xor, true),
            O::I32Eq => self.cmp(Cc::E, false),
            O::I32Ne => self.cmp(Cc::Ne, false),
            O::I32LtS => self.cmp(Cc::L, false),
            O::I32LtU => self.cmp(Cc::B, false),
            O::I32GtS => self.cmp(Cc::G, false),
            O::I32GtU => self.cmp(Cc::A, false),
            O::I32LeS => self.cmp(Cc::Le, false),
            O::I32LeU => self.cmp(Cc::Be, false),
            O::I32GeS => self.cmp(Cc::Ge, false),
            O::I32GeU => self.cmp(Cc::Ae, false),
            O::I64Eq => self.cmp(Cc::E, true),
            O::I64Ne => self.cmp(Cc::Ne, true),
            O::I64LtS => self.cmp(Cc::L, true),
            O::I64LtU => self.cmp(Cc::B, true),
            O::I64GtS => self.cmp(Cc::G, true),
            O::I64GtU => self.cmp(Cc::A, true),
            O::I64LeS => self.cmp(Cc::Le, true),
            O::I64LeU => self.cmp(Cc::Be, true),
            O::I64GeS => self.cmp(Cc::Ge, true),
            O::I64GeU => self.cmp(Cc::Ae, true),
            O::I32Eqz => self.eqz(false),
            O::I64Eqz => self.eqz(true),
            O::I32Shl => self.shift(Shift::Shl, false),
            O::I32ShrS => self.shift(Shift::Sar, false),
            O::I32ShrU => self.shift(Shift::Shr, false),
            O::I32Rotl => self.shift(Shift::Rol, false),
            O::I32Rotr => self.shift(Shift::Ror, false),
            O::I64Shl => self.shift(Shift::Shl, true),
            O::I64ShrS => self.shift(Shift::Sar, true),
            O::I64ShrU => self.shift(Shift::Shr, true),
            O::I64Rotl => self.shift(Shift::Rol, true),
            O::I64Rotr => self.shift(Shift::Ror, true),
            O::I32DivS => self.div(Div::DivS, false),
            O::I32DivU => self.div(Div::DivU, false),
            O::I32RemS => self.div(Div::RemS, false),
            O::I32RemU => self.div(Div::RemU, false),
            O::I64DivS => self.div(Div::DivS, true),
            O::I64DivU => self.div(Div::DivU, true),
            O::I64RemS => self.div(Div::RemS, true),
            O::I64RemU => self.div(Div::RemU, true),
            O::I32Clz => self.clz(false),
            O::I64Clz => self.clz(true),
            O::I32Ctz => self.ctz(false),
            O::I64Ctz => self.ctz(true),
            O::I32Popcnt | O::I64Popcnt if !std::arch::is_x86_feature_detected!("popcnt") => {
                return Ok(false);
            }
            O::I32Popcnt => self.unary(|c, r| dynasm!(c.ops ; .arch x64 ; popcnt Rd(r), Rd(r))),
            O::I64Popcnt => self.unary(|c, r| dynasm!(c.ops ; .arch x64 ; popcnt Rq(r), Rq(r))),
            O::I32WrapI64 | O::I64ExtendI32U => {
                self.unary(|c, r| dynasm!(c.ops ; .arch x64 ; mov Rd(r), Rd(r)))
            }
            O::I64ExtendI32S => self.unary(|c, r| dynasm!(c.ops ; .arch x64 ; movsxd Rq(r), Rd(r))),
            O::I32Extend8S => self.unary(|c, r| dynasm!(c.ops ; .arch x64 ; movsx Rd(r), Rb(r))),
            O::I32Extend16S => self.unary(|c, r| dynasm!(c.ops ; .arch x64 ; movsx Rd(r), Rw(r))),
            O::I64Extend8S => self.unary(|c, r| dynasm!(c.ops ; .arch x64 ; movsx Rq(r), Rb(r))),
            O::I64Extend16S => self.unary(|c, r| dynasm!(c.ops ; .arch x64 ; movsx Rq(r), Rw(r))),
            O::I64Extend32S => self.unary(|c, r| dynasm!(c.ops ; .arch x64 ; movsxd Rq(r), Rd(r))),
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Pops one operand into a register, applies `f` to it and pushes it.
    fn unary(&mut self, f: impl FnOnce(&mut Self, u8)) {
        let r = self.pop_reg();
        f(self, r);
        self.stack.push(Loc::Reg(r));
    }

    /// Folds `a op b` of two constants (wasm's wrapping semantics).
    fn fold(op: Alu, wide: bool, a: i64, b: i64) -> i64 {
        if wide {
            match op {
                Alu::Add => a.wrapping_add(b),
                Alu::Sub => a.wrapping_sub(b),
                Alu::Mul => a.wrapping_mul(b),
                Alu::And => a & b,
                Alu::Or => a | b,
                Alu::Xor => a ^ b,
            }
        } else {
            let (a, b) = (a as i32, b as i32);
            i64::from(match op {
                Alu::Add => a.wrapping_add(b),
                Alu::Sub => a.wrapping_sub(b),
                Alu::Mul => a.wrapping_mul(b),
                Alu::And => a & b,
                Alu::Or => a | b,
                Alu::Xor => a ^ b,
            })
        }
    }

    fn alu(&mut self, op: Alu, wide: bool) {
        let n = self.stack.len();
        if n >= 2
            && let (Some(Loc::Const(a)), Some(Loc::Const(b))) =
                (self.stack.entry(n - 2), self.stack.entry(n - 1))
        {
            self.stack.pop();
            self.stack.pop();
            self.stack.push(Loc::Const(Self::fold(op, wide, a, b)));
            return;
        }
        let b = self.pop_operand(wide);
        let commutative = !matches!(op, Alu::Sub);
        let (a, b) = match (b, self.stack.peek(), self.next_op()) {
            // The next operator writes the result to the register local that
            // is the first operand: computed in place (the `local.set` then finds
            // its own register on the stack and does nothing).
            (b, Some(Loc::Reg(p)), NextOp::Set(Some(dst))) if p == dst => {
                self.stack.pop();
                self.unalias(Loc::Reg(p));
                (p, b)
            }
            (Operand::Reg(p), Some(_), NextOp::Set(Some(dst))) if p == dst && commutative => {
                let a = self.pop_operand(wide);
                self.unalias(Loc::Reg(p));
                (p, a)
            }
            // `a op b` computed into `b` when `a` is a register local (which
            // would need a copy) and `b` is a register of the stack's.
            (Operand::Reg(rb), Some(Loc::Reg(ra)), _)
                if commutative && self.stack.is_pinned(ra) && !self.stack.is_pinned(rb) =>
            {
                self.stack.pop();
                (rb, Operand::Reg(ra))
            }
            // `a + b` or `a - imm` with `a` a register local, or with a result
            // the next operator stores to a register local: one `lea` into the
            // result register instead of a copy and the operation.
            (b, Some(Loc::Reg(p)), next)
                if (self.stack.is_pinned(p) || matches!(next, NextOp::Set(Some(_))))
                    && match (op, b) {
                        (Alu::Add, _) => true,
                        (Alu::Sub, Operand::Imm(i)) => i != i32::MIN,
                        _ => false,
                    } =>
            {
                self.stack.pop();
                let b = match (op, b) {
                    (Alu::Sub, Operand::Imm(i)) => Operand::Imm(-i),
                    _ => b,
                };
                let r = self.result_for(next);
                match (wide, b) {
                    (false, Operand::Imm(i)) => {
                        dynasm!(self.ops ; .arch x64 ; lea Rd(r), [Rq(p) + i])
                    }
                    (false, Operand::Reg(q)) => self.lea_sum(r, p, q, false),
                    (true, Operand::Imm(i)) => {
                        dynasm!(self.ops ; .arch x64 ; lea Rq(r), [Rq(p) + i])
                    }
                    (true, Operand::Reg(q)) => self.lea_sum(r, p, q, true),
                }
                if !wide {
                    self.wrote32(r);
                }
                if let Operand::Reg(q) = b {
                    self.stack.free(q);
                }
                self.stack.free(p);
                self.stack.push(Loc::Reg(r));
                return;
            }
            _ => (self.pop_reg(), b),
        };
        macro_rules! emit {
            ($ins:ident) => {
                match (wide, b) {
                    (false, Operand::Imm(i)) => dynasm!(self.ops ; .arch x64 ; $ins Rd(a), i),
                    (false, Operand::Reg(r)) => dynasm!(self.ops ; .arch x64 ; $ins Rd(a), Rd(r)),
                    (true, Operand::Imm(i)) => dynasm!(self.ops ; .arch x64 ; $ins Rq(a), i),
                    (true, Operand::Reg(r)) => dynasm!(self.ops ; .arch x64 ; $ins Rq(a), Rq(r)),
                }
            };
        }
        match op {
            Alu::Add => emit!(add),
            Alu::Sub => emit!(sub),
            Alu::And => emit!(and),
            Alu::Or => emit!(or),
            Alu::Xor => emit!(xor),
            Alu::Mul => match (wide, b) {
                (false, Operand::Imm(i)) => dynasm!(self.ops ; .arch x64 ; imul Rd(a), Rd(a), i),
                (false, Operand::Reg(r)) => dynasm!(self.ops ; .arch x64 ; imul Rd(a), Rd(r)),
                (true, Operand::Imm(i)) => dynasm!(self.ops ; .arch x64 ; imul Rq(a), Rq(a), i),
                (true, Operand::Reg(r)) => dynasm!(self.ops ; .arch x64 ; imul Rq(a), Rq(r)),
            },
        }
        if !wide {
            self.wrote32(a);
        }
        if let Operand::Reg(r) = b {
            self.stack.free(r);
        }
        self.stack.push(Loc::Reg(a));
    }

    /// `lea r, [b + i]` (`wide`: 64-bit) encoded without a displacement when
    /// neither is `r13`, or only one (it then goes in the index). dynasm gives a
    /// dynamic base register a zero 8-bit displacement (for `rbp`/`r13`, which
    /// need one), and a `lea` with a base, an index and a displacement takes
    /// two cycles instead of one on several x86-64 cores.
    fn lea_sum(&mut self, r: u8, b: u8, i: u8, wide: bool) {
        let (b, i) = if b & 7 == 5 { (i, b) } else { (b, i) };
        if b & 7 == 5 {
            if wide {
                dynasm!(self.ops ; .arch x64 ; lea Rq(r), [Rq(b) + Rq(i)]);
            } else {
                dynasm!(self.ops ; .arch x64 ; lea Rd(r), [Rq(b) + Rq(i)]);
            }
            return;
        }
        // No register here is `rsp`, the one index a SIB byte cannot name.
        debug_assert!(i != 4, "rsp as an index");
        let rex = 0x40 | (u8::from(wide) << 3) | ((r >> 3) << 2) | ((i >> 3) << 1) | (b >> 3);
        if rex != 0x40 {
            self.ops.push(rex);
        }
        // `8d /r`: ModRM mod 00, rm 100 (a SIB byte follows); SIB scale 1.
        self.ops.extend([0x8d, ((r & 7) << 3) | 4, ((i & 7) << 3) | (b & 7)]);
    }

    /// `setcc` into the low byte of `r`, zero-extended.
    fn setcc(&mut self, cc: Cc, r: u8) {
        match cc {
            Cc::E => dynasm!(self.ops ; .arch x64 ; sete Rb(r)),
            Cc::Ne => dynasm!(self.ops ; .arch x64 ; setne Rb(r)),
            Cc::L => dynasm!(self.ops ; .arch x64 ; setl Rb(r)),
            Cc::B => dynasm!(self.ops ; .arch x64 ; setb Rb(r)),
            Cc::G => dynasm!(self.ops ; .arch x64 ; setg Rb(r)),
            Cc::A => dynasm!(self.ops ; .arch x64 ; seta Rb(r)),
            Cc::Le => dynasm!(self.ops ; .arch x64 ; setle Rb(r)),
            Cc::Be => dynasm!(self.ops ; .arch x64 ; setbe Rb(r)),
            Cc::Ge => dynasm!(self.ops ; .arch x64 ; setge Rb(r)),
            Cc::Ae => dynasm!(self.ops ; .arch x64 ; setae Rb(r)),
        }
        dynasm!(self.ops ; .arch x64 ; movzx Rd(r), Rb(r));
    }

    /// A register for the result of an operator that only reads `a`: `a`
    /// itself, unless it is a register local's.
    fn result_reg(&mut self, a: u8) -> u8 {
        if self.stack.is_pinned(a) { self.alloc() } else { a }
    }

    fn cmp(&mut self, cc: Cc, wide: bool) {
        let b = self.pop_operand(wide);
        let a = self.pop_read();
        let r = self.result_reg(a);
        let fuse = self.next_op().branches();
        match (wide, b) {
            (false, Operand::Imm(i)) => dynasm!(self.ops ; .arch x64 ; cmp Rd(a), i),
            (false, Operand::Reg(r)) => dynasm!(self.ops ; .arch x64 ; cmp Rd(a), Rd(r)),
            (true, Operand::Imm(i)) => dynasm!(self.ops ; .arch x64 ; cmp Rq(a), i),
            (true, Operand::Reg(r)) => dynasm!(self.ops ; .arch x64 ; cmp Rq(a), Rq(r)),
        }
        if let Operand::Reg(b) = b {
            self.stack.free(b);
        }
        self.flag_result(cc, r, fuse);
    }

    /// Pushes the result of a comparison whose flags say `cc`: into `r` with
    /// `setcc`, or (`fuse`: a `br_if` or `if` follows) left in the flags for it
    /// ([`FuncCompiler::pending`]).
    pub fn flag_result(&mut self, cc: Cc, r: u8, fuse: bool) {
        if fuse {
            self.pending = Some(cc);
        } else {
            self.setcc(cc, r);
        }
        self.stack.push(Loc::Reg(r));
    }

    /// Pops the condition of a `br_if` or `if`: the condition under which it
    /// is true, its flags set (a pending comparison, or `test` of its value).
    pub fn pop_condition(&mut self) -> Cc {
        if let Some(cc) = self.pending.take() {
            let r = self.pop_reg();
            self.stack.free(r);
            return cc;
        }
        let c = self.pop_read();
        dynasm!(self.ops ; .arch x64 ; test Rd(c), Rd(c));
        self.stack.free(c);
        Cc::Ne
    }

    /// `jcc label`.
    pub fn jcc(&mut self, cc: Cc, label: DynamicLabel) {
        match cc {
            Cc::E => dynasm!(self.ops ; .arch x64 ; je =>label),
            Cc::Ne => dynasm!(self.ops ; .arch x64 ; jne =>label),
            Cc::L => dynasm!(self.ops ; .arch x64 ; jl =>label),
            Cc::B => dynasm!(self.ops ; .arch x64 ; jb =>label),
            Cc::G => dynasm!(self.ops ; .arch x64 ; jg =>label),
            Cc::A => dynasm!(self.ops ; .arch x64 ; ja =>label),
            Cc::Le => dynasm!(self.ops ; .arch x64 ; jle =>label),
            Cc::Be => dynasm!(self.ops ; .arch x64 ; jbe =>label),
            Cc::Ge => dynasm!(self.ops ; .arch x64 ; jge =>label),
            Cc::Ae => dynasm!(self.ops ; .arch x64 ; jae =>label),
        }
    }

    fn eqz(&mut self, wide: bool) {
        let a = self.pop_read();
        let r = self.result_reg(a);
        let fuse = self.next_op().branches();
        if wide {
            dynasm!(self.ops ; .arch x64 ; test Rq(a), Rq(a));
        } else {
            dynasm!(self.ops ; .arch x64 ; test Rd(a), Rd(a));
        }
        self.flag_result(Cc::E, r, fuse);
    }

    fn shift(&mut self, op: Shift, wide: bool) {
        if let Some(Loc::Const(c)) = self.stack.peek() {
            self.stack.pop();
            let n = (c & if wide { 63 } else { 31 }) as i8;
            if let (Shift::Rol | Shift::Ror, Some(Loc::Reg(p)), true) =
                (op, self.stack.peek(), self.env.cpu.bmi2)
                && self.stack.is_pinned(p)
            {
                return self.rorx(op, p, n, wide);
            }
            let a = self.pop_reg();
            macro_rules! emit {
                ($ins:ident) => {
                    if wide {
                        dynasm!(self.ops ; .arch x64 ; $ins Rq(a), n)
                    } else {
                        dynasm!(self.ops ; .arch x64 ; $ins Rd(a), n)
                    }
                };
            }
            match op {
                Shift::Shl => emit!(shl),
                Shift::Shr => emit!(shr),
                Shift::Sar => emit!(sar),
                Shift::Rol => emit!(rol),
                Shift::Ror => emit!(ror),
            }
            if !wide {
                self.wrote32(a);
            }
            self.stack.push(Loc::Reg(a));
            return;
        }
        // The count goes in cl (the hardware masks it like wasm does).
        self.pop_into(reg::RCX);
        let a = self.pop_reg();
        macro_rules! emit {
            ($ins:ident) => {
                if wide {
                    dynasm!(self.ops ; .arch x64 ; $ins Rq(a), cl)
                } else {
                    dynasm!(self.ops ; .arch x64 ; $ins Rd(a), cl)
                }
            };
        }
        match op {
            Shift::Shl => emit!(shl),
            Shift::Shr => emit!(shr),
            Shift::Sar => emit!(sar),
            Shift::Rol => emit!(rol),
            Shift::Ror => emit!(ror),
        }
        if !wide {
            self.wrote32(a);
        }
        self.stack.free(reg::RCX);
        self.stack.push(Loc::Reg(a));
    }

    /// A rotate by the constant `n` of register local `p` (on the stack's top):
    /// BMI2's `rorx` into the result register, which needs no copy of `p`.
    fn rorx(&mut self, op: Shift, p: u8, n: i8, wide: bool) {
        self.stack.pop();
        let bits = if wide { 64 } else { 32 };
        let right = match op {
            Shift::Rol => (bits - n) % bits,
            _ => n,
        };
        let next = self.next_op();
        let r = self.result_for(next);
        if wide {
            dynasm!(self.ops ; .arch x64 ; rorx Rq(r), Rq(p), right);
        } else {
            dynasm!(self.ops ; .arch x64 ; rorx Rd(r), Rd(p), right);
            self.wrote32(r);
        }
        self.stack.push(Loc::Reg(r));
    }

    /// Division and remainder: the dividend in rax, rdx clobbered; explicit checks
    /// for a zero divisor (trap), `MIN / -1` (trap) and `MIN % -1` (0, where
    /// `idiv` would fault).
    fn div(&mut self, op: Div, wide: bool) {
        self.take_reg(reg::RAX);
        self.take_reg(reg::RDX);
        let b = self.pop_read();
        self.pop_into(reg::RAX);
        let zero = self.trap_label(TrapCode::IntegerDivisionByZero);
        if wide {
            dynasm!(self.ops ; .arch x64 ; test Rq(b), Rq(b) ; jz =>zero);
        } else {
            dynasm!(self.ops ; .arch x64 ; test Rd(b), Rd(b) ; jz =>zero);
        }
        let done = self.ops.new_dynamic_label();
        match op {
            Div::DivU | Div::RemU => {
                dynasm!(self.ops ; .arch x64 ; xor edx, edx);
                if wide {
                    dynasm!(self.ops ; .arch x64 ; div Rq(b));
                } else {
                    dynasm!(self.ops ; .arch x64 ; div Rd(b));
                }
            }
            Div::DivS => {
                let overflow = self.trap_label(TrapCode::IntegerOverflow);
                let ok = self.ops.new_dynamic_label();
                if wide {
                    dynasm!(self.ops
                        ; .arch x64
                        ; cmp Rq(b), -1
                        ; jne =>ok
                        ; mov r11, QWORD i64::MIN
                        ; cmp rax, r11
                        ; je =>overflow
                        ; =>ok
                        ; cqo
                        ; idiv Rq(b)
                    );
                } else {
                    dynasm!(self.ops
                        ; .arch x64
                        ; cmp Rd(b), -1
                        ; jne =>ok
                        ; cmp eax, i32::MIN
                        ; je =>overflow
                        ; =>ok
                        ; cdq
                        ; idiv Rd(b)
                    );
                }
            }
            Div::RemS => {
                let ok = self.ops.new_dynamic_label();
                if wide {
                    dynasm!(self.ops
                        ; .arch x64
                        ; xor edx, edx
                        ; cmp Rq(b), -1
                        ; je =>done
                        ; =>ok
                        ; cqo
                        ; idiv Rq(b)
                    );
                } else {
                    dynasm!(self.ops
                        ; .arch x64
                        ; xor edx, edx
                        ; cmp Rd(b), -1
                        ; je =>done
                        ; =>ok
                        ; cdq
                        ; idiv Rd(b)
                    );
                }
            }
        }
        dynasm!(self.ops ; .arch x64 ; =>done);
        self.stack.free(b);
        let (keep, drop) = match op {
            Div::DivS | Div::DivU => (reg::RAX, reg::RDX),
            Div::RemS | Div::RemU => (reg::RDX, reg::RAX),
        };
        self.stack.free(drop);
        self.stack.push(Loc::Reg(keep));
    }

    /// Count leading zeros with `bsr` (no LZCNT needed): the bit index of the
    /// highest set bit xor (width - 1), or the width for zero.
    fn clz(&mut self, wide: bool) {
        self.unary(|c, r| {
            if wide {
                dynasm!(c.ops
                    ; .arch x64
                    ; mov r11d, 127
                    ; bsr Rq(r), Rq(r)
                    ; cmovz Rq(r), r11
                    ; xor Rq(r), 63
                );
            } else {
                dynasm!(c.ops
                    ; .arch x64
                    ; mov r11d, 63
                    ; bsr Rd(r), Rd(r)
                    ; cmovz Rd(r), r11d
                    ; xor Rd(r), 31
                );
            }
        });
    }

    /// Count trailing zeros with `bsf`: the lowest set bit's index, or the width.
    fn ctz(&mut self, wide: bool) {
        self.unary(|c, r| {
            if wide {
                dynasm!(c.ops
                    ; .arch x64
                    ; mov r11d, 64
                    ; bsf Rq(r), Rq(r)
                    ; cmovz Rq(r), r11
                );
            } else {
                dynasm!(c.ops
                    ; .arch x64
                    ; mov r11d, 32
                    ; bsf Rd(r), Rd(r)
                    ; cmovz Rd(r), r11d
                );
            }
        });
    }
}
