//! The GC instructions: each becomes one [`Op::Gc`] over consecutive slots (its
//! operands, then its results, from `base`), whose [`GcInstr`] holds the immediates
//! and, for an allocation, the stack map of the moment; `br_on_cast` and
//! `br_on_cast_fail` are a `ref.test` into the slot above the reference and a
//! conditional branch on it.
//!
//! # Stack maps
//!
//! The translator runs wasmparser's function validator in step with the body, so
//! before each operator it knows the type of every operand-stack entry and local. A
//! safepoint's roots are the locals whose type can hold a GC object (an `anyref` or
//! `externref` of any precision: an `externref` may hold an externalized object) and
//! the operand-stack entries of such a type that are in their own slot (an entry
//! that is a local is covered by the local, a constant holds no object). At an
//! allocation the operands count (they are in their own slots by then); at a call
//! (see [`FuncTranslator::call_map`]) the arguments do not, they belong to the
//! callee's frame and its own maps.

use vm_core::runtime::gc::types::{self as gc_types, TypeInfo};
use vm_core::runtime::types::RefType;
use vm_core::runtime::{CompileError, ValType};
use wasmparser::{FuncValidator, Operator, ValidatorResources, WasmModuleResources};

use super::{FuncTranslator, Val};
use crate::code::{GcInstr, GcKind, Op, slot_count};

/// Whether values of type `t` can hold a GC object (the `any` and `extern`
/// hierarchies).
pub(super) fn holds_objects(v: &FuncValidator<ValidatorResources>, t: wasmparser::ValType) -> bool {
    let wasmparser::ValType::Ref(r) = t else { return false };
    matches!(
        v.resources().top_type(&r.heap_type()),
        wasmparser::HeapType::Abstract {
            ty: wasmparser::AbstractHeapType::Any | wasmparser::AbstractHeapType::Extern,
            ..
        }
    )
}

impl FuncTranslator<'_> {
    /// The frame slots holding references now, without the top `skip` operands (as
    /// the validator counts them: one per value).
    pub(super) fn roots(&self, skip: usize) -> Box<[u32]> {
        let mut out = self.ref_locals.clone();
        if let Some(v) = &self.validator {
            let height = v.operand_stack_height() as usize;
            let mut e = 0usize;
            for i in 0..height.saturating_sub(skip) {
                let t = v.get_operand_type(height - 1 - i).flatten();
                if t.is_some_and(|t| holds_objects(v, t)) && self.stack.get(e) == Some(&Val::Slot) {
                    out.push(self.slot(e));
                }
                e += if t == Some(wasmparser::ValType::V128) { 2 } else { 1 };
            }
        }
        out.into()
    }

    /// Records the stack map of the call about to be emitted, whose callee takes the
    /// top `args` operands.
    pub(super) fn call_map(&mut self, args: usize) {
        let roots = self.roots(args);
        self.pending_call_map = Some(roots);
    }

    /// Files the map [`FuncTranslator::call_map`] took under the call instruction at `at`.
    pub(super) fn file_call_map(&mut self, at: usize) {
        // Every call has its map, empty or not: a frame suspended in a call finds the
        // map of the last call before its return address.
        if let Some(roots) = self.pending_call_map.take() {
            self.call_maps.push((at as u32, roots));
        }
    }

    fn type_info(&self, index: u32) -> Result<&'static TypeInfo, CompileError> {
        self.module
            .type_ids
            .get(index as usize)
            .and_then(|&id| gc_types::info(id))
            .ok_or(CompileError::Limit("type index"))
    }

    fn ref_type(&self, nullable: bool, hty: wasmparser::HeapType) -> Result<RefType, CompileError> {
        let r = wasmparser::RefType::new(nullable, hty).ok_or(CompileError::Limit("heap type"))?;
        RefType::of_wasmparser(r, &self.module.type_ids, self.offset)
            .map_err(|_| CompileError::unsupported("heap type", "gc", self.offset))
    }

    /// Emits GC instruction `kind` on type `ty` taking the top `operands` slots and
    /// leaving `results` (types) in their place; an allocation records its roots.
    fn gc_emit(
        &mut self,
        kind: GcKind,
        ty: Option<&'static TypeInfo>,
        operands: usize,
        results: &[ValType],
    ) {
        self.materialize_top(operands);
        let roots = if kind.allocates() { self.roots(0) } else { Box::default() };
        let res: usize = results.iter().map(|&t| slot_count(t) as usize).sum();
        let n = operands.max(res).max(1) as u32;
        let base = self.call_args(operands);
        // The slots the instruction may touch count towards the frame.
        self.max_stack = self.max_stack.max((base - self.locals_end + n) as usize);
        self.push_types(results);
        let instr = self.gc.len() as u32;
        self.gc.push(GcInstr { kind, ty, roots });
        self.emit(Op::Gc { instr, base, n });
    }

    /// Slots of the values of struct type `ty`'s fields.
    fn field_slots(ty: &TypeInfo) -> usize {
        ty.fields().iter().map(|f| slot_count(f.storage.unpacked()) as usize).sum()
    }

    fn elem_type(ty: &TypeInfo) -> ValType {
        ty.element().map_or(ValType::I32, |f| f.storage.unpacked())
    }

    /// Translates a GC operator; `Ok(false)` when `op` is not one.
    pub(super) fn gc_op(
        &mut self,
        op: &Operator<'_>,
        run: Option<vm_core::runtime::limits::RunStart>,
    ) -> Result<bool, CompileError> {
        use ValType::{AnyRef, ExternRef, I32};
        match *op {
            Operator::StructNew { struct_type_index: t } => {
                let ty = self.type_info(t)?;
                self.gc_emit(GcKind::StructNew, Some(ty), Self::field_slots(ty), &[AnyRef]);
            }
            Operator::StructNewDefault { struct_type_index: t } => {
                let ty = self.type_info(t)?;
                self.gc_emit(GcKind::StructNewDefault, Some(ty), 0, &[AnyRef]);
            }
            Operator::StructGet { struct_type_index: t, field_index: f }
            | Operator::StructGetS { struct_type_index: t, field_index: f }
            | Operator::StructGetU { struct_type_index: t, field_index: f } => {
                let ty = self.type_info(t)?;
                let signed = matches!(op, Operator::StructGetS { .. });
                let vt = ty.fields().get(f as usize).map_or(I32, |f| f.storage.unpacked());
                self.gc_emit(GcKind::StructGet { field: f, signed }, Some(ty), 1, &[vt]);
            }
            Operator::StructSet { struct_type_index: t, field_index: f } => {
                let ty = self.type_info(t)?;
                let vt = ty.fields().get(f as usize).map_or(I32, |f| f.storage.unpacked());
                let n = 1 + slot_count(vt) as usize;
                self.gc_emit(GcKind::StructSet { field: f }, Some(ty), n, &[]);
            }
            Operator::ArrayNew { array_type_index: t } => {
                let ty = self.type_info(t)?;
                let n = slot_count(Self::elem_type(ty)) as usize + 1;
                self.gc_emit(GcKind::ArrayNew, Some(ty), n, &[AnyRef]);
            }
            Operator::ArrayNewDefault { array_type_index: t } => {
                let ty = self.type_info(t)?;
                self.gc_emit(GcKind::ArrayNewDefault, Some(ty), 1, &[AnyRef]);
            }
            Operator::ArrayNewFixed { array_type_index: t, array_size } => {
                let ty = self.type_info(t)?;
                let n = slot_count(Self::elem_type(ty)) as usize * array_size as usize;
                self.gc_emit(GcKind::ArrayNewFixed(array_size), Some(ty), n, &[AnyRef]);
            }
            Operator::ArrayNewData { array_type_index: t, array_data_index: d } => {
                let ty = self.type_info(t)?;
                self.gc_emit(GcKind::ArrayNewData(d), Some(ty), 2, &[AnyRef]);
            }
            Operator::ArrayNewElem { array_type_index: t, array_elem_index: e } => {
                let ty = self.type_info(t)?;
                self.gc_emit(GcKind::ArrayNewElem(e), Some(ty), 2, &[AnyRef]);
            }
            Operator::ArrayGet { array_type_index: t }
            | Operator::ArrayGetS { array_type_index: t }
            | Operator::ArrayGetU { array_type_index: t } => {
                let ty = self.type_info(t)?;
                let signed = matches!(op, Operator::ArrayGetS { .. });
                let vt = Self::elem_type(ty);
                self.gc_emit(GcKind::ArrayGet { signed }, Some(ty), 2, &[vt]);
            }
            Operator::ArraySet { array_type_index: t } => {
                let ty = self.type_info(t)?;
                let n = 2 + slot_count(Self::elem_type(ty)) as usize;
                self.gc_emit(GcKind::ArraySet, Some(ty), n, &[]);
            }
            Operator::ArrayLen => self.gc_emit(GcKind::ArrayLen, None, 1, &[I32]),
            Operator::ArrayFill { array_type_index: t } => {
                let ty = self.type_info(t)?;
                let n = 3 + slot_count(Self::elem_type(ty)) as usize;
                self.gc_emit(GcKind::ArrayFill, Some(ty), n, &[]);
            }
            Operator::ArrayCopy { array_type_index_dst: t, .. } => {
                let ty = self.type_info(t)?;
                self.gc_emit(GcKind::ArrayCopy, Some(ty), 5, &[]);
            }
            Operator::ArrayInitData { array_type_index: t, array_data_index: d } => {
                let ty = self.type_info(t)?;
                self.gc_emit(GcKind::ArrayInitData(d), Some(ty), 4, &[]);
            }
            Operator::ArrayInitElem { array_type_index: t, array_elem_index: e } => {
                let ty = self.type_info(t)?;
                self.gc_emit(GcKind::ArrayInitElem(e), Some(ty), 4, &[]);
            }
            Operator::RefI31 => self.gc_emit(GcKind::RefI31, None, 1, &[AnyRef]),
            Operator::I31GetS => self.gc_emit(GcKind::I31Get { signed: true }, None, 1, &[I32]),
            Operator::I31GetU => self.gc_emit(GcKind::I31Get { signed: false }, None, 1, &[I32]),
            Operator::RefEq => self.gc_emit(GcKind::RefEq, None, 2, &[I32]),
            Operator::RefTestNonNull { hty } | Operator::RefTestNullable { hty } => {
                let ty = self.ref_type(matches!(op, Operator::RefTestNullable { .. }), hty)?;
                self.gc_emit(GcKind::RefTest { ty, keep: false }, None, 1, &[I32]);
            }
            Operator::RefCastNonNull { hty } | Operator::RefCastNullable { hty } => {
                let ty = self.ref_type(matches!(op, Operator::RefCastNullable { .. }), hty)?;
                let repr = ty.repr();
                self.gc_emit(GcKind::RefCast(ty), None, 1, &[repr]);
            }
            Operator::AnyConvertExtern => {
                self.gc_emit(GcKind::AnyConvertExtern, None, 1, &[AnyRef]);
            }
            Operator::ExternConvertAny => {
                self.gc_emit(GcKind::ExternConvertAny, None, 1, &[ExternRef]);
            }
            Operator::BrOnCast { relative_depth, to_ref_type, .. }
            | Operator::BrOnCastFail { relative_depth, to_ref_type, .. } => {
                let ty = self.ref_type(to_ref_type.is_nullable(), to_ref_type.heap_type())?;
                let fail = matches!(op, Operator::BrOnCastFail { .. });
                let idx = self.frame_index(relative_depth)?;
                // The reference in its own slot, the test's result in the slot above.
                let h = self.stack.len() - 1;
                self.materialize(h);
                let base = self.slot(h);
                self.max_stack = self.max_stack.max(h + 2);
                let instr = self.gc.len() as u32;
                self.gc.push(GcInstr {
                    kind: GcKind::RefTest { ty, keep: true },
                    ty: None,
                    roots: Box::default(),
                });
                self.emit(Op::Gc { instr, base, n: 2 });
                let cond = base + 1;
                // Taken (with the reference) when the test is true (`br_on_cast`) or
                // false (`br_on_cast_fail`).
                if self.needs_moves(idx) {
                    let skip = self.ops.len();
                    self.emit(if fail {
                        Op::BrIfNez { cond, offset: 0 }
                    } else {
                        Op::BrIfEqz { cond, offset: 0 }
                    });
                    self.branch_to(idx);
                    let pc = self.ops.len();
                    self.patch(skip, pc);
                } else {
                    let at = self.ops.len();
                    self.emit(if fail {
                        Op::BrIfEqz { cond, offset: 0 }
                    } else {
                        Op::BrIfNez { cond, offset: 0 }
                    });
                    self.jump(idx, at);
                }
                self.fuel_point(run);
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}
