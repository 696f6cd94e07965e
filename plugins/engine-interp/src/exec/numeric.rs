//! Execution of the numeric operators, expanded from the one list in
//! [`crate::code::for_each_numeric`].

use vm_core::runtime::TrapCode;

use super::raw::Raw;
use crate::code::{Op, for_each_numeric};

macro_rules! define_exec {
    (
        unary { $( $u:ident ($ua:ty) -> $ur:ty = $uf:path; )* }
        unary_trap { $( $ut:ident ($uta:ty) -> $utr:ty = $utf:path; )* }
        binary { $( $b:ident ($ba:ty, $bb:ty) -> $br:ty = $bf:path; )* }
        binary_trap { $( $bt:ident ($bta:ty, $btb:ty) -> $btr:ty = $btf:path; )* }
    ) => {
        /// Executes a numeric `op` on the operand stack whose top is below `*sp`.
        ///
        /// # Safety
        /// `*sp` points one past the top of a valid operand stack holding at least
        /// the operator's operands (guaranteed by validation and translation).
        #[inline(always)]
        pub unsafe fn exec_numeric(op: Op, sp: &mut *mut u64) -> Result<(), TrapCode> {
            // SAFETY: the caller guarantees the operands exist below `*sp`.
            unsafe {
                match op {
                    $( Op::$u => {
                        let t = sp.sub(1);
                        *t = <$ur as Raw>::to_raw($uf(<$ua as Raw>::from_raw(*t)));
                    } )*
                    $( Op::$ut => {
                        let t = sp.sub(1);
                        *t = <$utr as Raw>::to_raw($utf(<$uta as Raw>::from_raw(*t))?);
                    } )*
                    $( Op::$b => {
                        *sp = sp.sub(1);
                        let b = **sp;
                        let t = sp.sub(1);
                        *t = <$br as Raw>::to_raw($bf(<$ba as Raw>::from_raw(*t), <$bb as Raw>::from_raw(b)));
                    } )*
                    $( Op::$bt => {
                        *sp = sp.sub(1);
                        let b = **sp;
                        let t = sp.sub(1);
                        *t = <$btr as Raw>::to_raw($btf(<$bta as Raw>::from_raw(*t), <$btb as Raw>::from_raw(b))?);
                    } )*
                    _ => {}
                }
            }
            Ok(())
        }
    };
}
for_each_numeric!(define_exec);
