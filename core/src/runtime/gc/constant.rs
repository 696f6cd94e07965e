//! The GC operations of constant expressions (global, table and element
//! initializers): `ref.i31`, the `any`/`extern` conversions and the allocations
//! `struct.new[_default]`, `array.new[_default]` and `array.new_fixed`.
//!
//! They run at instantiation, outside any engine frame: every operand is a host value
//! ([`Val`]; an object is held through a [`Store::any_ref`] handle, so a collection
//! the allocation runs keeps and updates it), and each new object is returned as
//! such a handle. The handles live as long as the store, like the globals and
//! segments that hold the objects.

use super::object;
use super::ops;
use super::types::{self, TypeInfo};
use crate::compose::Composition;
use crate::runtime::module::ConstOp;
use crate::runtime::{Store, TrapCode, Val};

/// Evaluates GC operation `op` of a constant expression, popping its operands from
/// `stack`; `plugins` is the composition whose collector allocates.
///
/// # Errors
/// [`TrapCode::OutOfGcMemory`]; an operation on a type id no module decoded (not
/// reachable after validation) is the same error.
pub fn eval_op<C: Composition>(
    store: &mut Store<C>,
    plugins: &C,
    op: ConstOp,
    stack: &mut Vec<Val>,
) -> Result<Val, TrapCode> {
    let pop = |stack: &mut Vec<Val>| stack.pop().unwrap_or(Val::I32(0));
    let ty = |id: u32| types::info(id).ok_or(TrapCode::OutOfGcMemory);
    Ok(match op {
        ConstOp::RefI31 => {
            let Val::I32(x) = pop(stack) else { return Ok(Val::AnyRef(None)) };
            store.any_ref(object::i31_new(x))
        }
        ConstOp::AnyConvertExtern => {
            let e = store.val_to_raw(pop(stack));
            store.any_ref(object::any_convert_extern(e))
        }
        ConstOp::ExternConvertAny => {
            let a = store.val_to_raw(pop(stack));
            store.raw_to_val(object::extern_convert_any(a), crate::runtime::ValType::ExternRef)
        }
        ConstOp::StructNew(id) => {
            let ty = ty(id)?;
            let n = ty.fields().len();
            let vals = stack.split_off(stack.len().saturating_sub(n));
            let (r, handle) = new(store, plugins, ty, 0)?;
            let raws: Vec<u128> = vals.iter().map(|&v| store.val_to_raw128(v)).collect();
            let obj = ops::struct_ref(r)?;
            // SAFETY: `obj` was just allocated as a struct of type `ty`, and the host
            // handle `new` made for it keeps it alive.
            unsafe { ops::init_fields(obj, ty, raws) };
            handle
        }
        ConstOp::StructNewDefault(id) => new(store, plugins, ty(id)?, 0)?.1,
        ConstOp::ArrayNew(id) => {
            let ty = ty(id)?;
            let Val::I32(len) = pop(stack) else { return Err(TrapCode::OutOfGcMemory) };
            let v = pop(stack);
            let (r, handle) = new(store, plugins, ty, len as u32)?;
            ops::fill(r, ty, 0, store.val_to_raw128(v), len as u32)?;
            handle
        }
        ConstOp::ArrayNewDefault(id) => {
            let Val::I32(len) = pop(stack) else { return Err(TrapCode::OutOfGcMemory) };
            new(store, plugins, ty(id)?, len as u32)?.1
        }
        ConstOp::ArrayNewFixed(id, n) => {
            let ty = ty(id)?;
            let vals = stack.split_off(stack.len().saturating_sub(n as usize));
            let (r, handle) = new(store, plugins, ty, n)?;
            for (i, v) in vals.into_iter().enumerate() {
                ops::array_set(r, ty, i as u32, store.val_to_raw128(v))?;
            }
            handle
        }
        _ => Val::AnyRef(None),
    })
}

/// A new zeroed object of type `ty` (an array of `len` elements) and the host handle
/// that roots it until the store drops (operands already held by handles stay valid:
/// they are roots of the collection the allocation may run).
fn new<C: Composition>(
    store: &mut Store<C>,
    plugins: &C,
    ty: &'static TypeInfo,
    len: u32,
) -> Result<(u64, Val), TrapCode> {
    let obj = store.gc_alloc(plugins.gc(), ty, len, &mut (), |c| plugins.emit(&c.event()))?;
    let raw = obj.as_ptr() as usize as u64;
    Ok((raw, store.any_ref(raw)))
}
