//! Calls: frames, host calls and backtraces.

use vm_core::Composition;
use vm_core::runtime::{
    Caller, FrameInfo, HostFuncDef, InstanceData, Store, Trap, VMMemoryDefinition, Val,
};

use crate::code::{ModuleCode, Op};

/// A suspended caller.
#[derive(Clone, Copy, Debug)]
pub struct Frame {
    /// Where to continue.
    pub ret_pc: *const Op,
    /// The caller's frame pointer.
    pub fp: *mut u64,
    /// The caller's instance (`*const InstanceData<C>`).
    pub inst: *const u8,
    /// The caller's module code.
    pub code: *const ModuleCode,
    /// The caller's module function index.
    pub func: u32,
}

/// Calls host function `def` with the `params.len()` values from slot `base` on,
/// writing its results from `base` on.
///
/// # Safety
/// `base` has the arguments and room for the results; `mem` is null or a live
/// memory definition; `store.host_states[state]` exists.
#[allow(clippy::too_many_arguments)]
pub unsafe fn host_call<C: Composition>(
    store: *mut Store<C>,
    def: &'static HostFuncDef,
    state: u32,
    mem: *mut VMMemoryDefinition,
    base: *mut u64,
    args: &mut Vec<Val>,
    results: &mut Vec<Val>,
) -> Result<(), Trap> {
    // SAFETY: the caller's contract; the memory slice and the host state are
    // distinct objects of the store, borrowed only for this call.
    unsafe {
        args.clear();
        for (i, &ty) in def.params.iter().enumerate() {
            args.push((*store).raw_to_val(*base.add(i), ty));
        }
        results.clear();
        results.extend(def.results.iter().map(|&t| Val::default_for(t)));
        let memory = if mem.is_null() || (*mem).length == 0 {
            None
        } else {
            Some(core::slice::from_raw_parts_mut((*mem).base, (*mem).length))
        };
        let st = (*store).host_state_mut(state).ok_or_else(|| Trap::host("missing host state"))?;
        let mut caller = Caller::new(memory, st);
        (def.call)(&mut caller, args, results)?;
        for (i, v) in results.iter().enumerate() {
            *base.add(i) = (*store).val_to_raw(*v);
        }
        Ok(())
    }
}

/// Builds the wasm backtrace, innermost first.
///
/// # Safety
/// Every instance pointer is a live `InstanceData<C>`.
pub unsafe fn backtrace<C: Composition>(cur: (*const u8, u32), frames: &[Frame]) -> Vec<FrameInfo> {
    let info = |(inst, func): (*const u8, u32)| {
        // SAFETY: the caller guarantees the instance is live.
        let inst = unsafe { &*inst.cast::<InstanceData<C>>() };
        FrameInfo {
            func_index: func,
            func_name: inst.module.info().func_name(func).map(str::to_owned),
            offset: None,
        }
    };
    std::iter::once(info(cur)).chain(frames.iter().rev().map(|f| info((f.inst, f.func)))).collect()
}
