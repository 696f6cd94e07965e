//! The call from the host into native code, the same for every native-code engine:
//! arguments into 16-byte slots, the store context set up for the call (stack
//! limit, linked runtime table, store and composition), [`CallState::enter`], then
//! the results or the trap. An engine provides what differs through
//! [`NativeEngine`].

use super::{CallState, CodeMap, Entry, Libcall};
use crate::compose::Composition;
use crate::runtime::{CompileError, FuncKind, ModuleInfo, Store, Trap, Val};
use crate::slot::{CodeRange, Engine, Event, Virt};

/// What a native-code engine provides to [`call_from_host`].
pub trait NativeEngine: Engine {
    /// The entry trampoline (see [`Entry`]) for type index `ty` of a module's code.
    fn entry_trampoline(code: &Self::Code, ty: u32) -> *const u8;

    /// The runtime table as the composition's `virt` plugin linked it, linked on
    /// first use (its address goes to
    /// [`VMStoreContext::libcalls`](crate::runtime::offsets::VMStoreContext::libcalls)).
    ///
    /// # Errors
    /// The table could not be linked.
    fn linked_table<C: Composition<Engine = Self>>(
        plugins: &mut C,
    ) -> Result<*const usize, CompileError>;

    /// The engine's reusable call state (taken for a call, put back after).
    fn call_state(&mut self) -> &mut Option<Box<CallState>>;

    /// Counts a finished call from the host: host functions it called and whether
    /// it trapped.
    fn count_call(&mut self, host_calls: u64, trapped: bool);
}

/// Calls function `func` of `store` from the host with `args`, appending its results
/// to `results`: [`Engine::call`] for a native-code engine.
///
/// # Errors
/// The trap that ended the call, with its wasm backtrace.
#[inline]
pub fn call_from_host<C>(
    plugins: &mut C,
    store: &mut Store<C>,
    func: u32,
    args: &[Val],
    results: &mut Vec<Val>,
) -> Result<(), Trap>
where
    C: Composition,
    C::Engine: NativeEngine,
{
    let slot = store.funcs.get(func as usize).ok_or_else(|| Trap::host("no such function"))?;
    let (vmctx, fcode, kind) = (slot.vm().vmctx, slot.vm().code, slot.kind);
    let fty = store.func_type(func).ok_or_else(|| Trap::host("no such type"))?;
    let slots = fty.params().len().max(fty.results().len()).max(1);
    let (instance, index) = match kind {
        FuncKind::Host { def, state } => {
            plugins.engine_mut().count_call(1, false);
            let mut args = args.iter();
            let mut next = || args.next().copied().unwrap_or(Val::I32(0));
            return store.call_host(def, state, None, |_, _| next(), |_, v| results.push(v));
        }
        FuncKind::Wasm { instance, index } => (instance, index),
    };
    let inst = &store.instances[instance as usize];
    let ty = inst.module.info().funcs[index as usize];
    let trampoline = <C::Engine as NativeEngine>::entry_trampoline(inst.module.code(), ty);
    // Arguments and results in 16-byte slots: on the stack for ordinary signatures.
    let (mut small, mut large) = ([0u128; 16], Vec::new());
    let buf: &mut [u128] = if slots <= small.len() {
        &mut small[..slots]
    } else {
        large.resize(slots, 0);
        &mut large
    };
    for (slot, &a) in buf.iter_mut().zip(args) {
        *slot = store.val_to_raw128(a);
    }
    let libcalls = <C::Engine as NativeEngine>::linked_table(plugins)
        .map_err(|e| Trap::host(e.to_string()))?;
    let stack = plugins.virt_mut().guest_stack(store.virt_state());
    let mut state = match plugins.engine_mut().call_state().take() {
        Some(mut st) => {
            st.reset(store, stack);
            st
        }
        None => CallState::new(store, stack),
    };
    let store_ptr: *mut Store<C> = store;
    // SAFETY: `store_ptr` comes from the `&mut` we hold for the whole call; Rust
    // code does not touch the store through anything else until the call returns.
    let saved = unsafe {
        let ctx = &mut *(*store_ptr).vm_store_context();
        let saved = (ctx.stack_limit, ctx.store, ctx.plugins);
        ctx.stack_limit = stack.limit;
        ctx.libcalls = libcalls;
        ctx.store = store_ptr.cast();
        ctx.plugins = (plugins as *mut C).cast();
        saved
    };
    let entry = Entry { trampoline, vmctx, code: fcode, args: buf.as_mut_ptr(), slots };
    // SAFETY: `trampoline` is the entry trampoline for the function's type, `fcode`
    // its code and `vmctx` its instance context, all of a module the store keeps
    // alive; `buf` has a slot for every parameter and result; the store context is
    // set for this call and `state` readied for this store.
    let ok = unsafe { state.enter(plugins.virt_mut(), (*store_ptr).virt_state(), entry) };
    // SAFETY: the call is over; restore what a caller further out had set.
    unsafe {
        let ctx = &mut *(*store_ptr).vm_store_context();
        (ctx.stack_limit, ctx.store, ctx.plugins) = saved;
    }
    // SAFETY: as above, the raw pointer is the `&mut` we were given.
    let store = unsafe { &mut *store_ptr };
    let outcome = if ok {
        if let Some(fty) = store.func_type(func) {
            results.extend(
                fty.results().iter().zip(&*buf).map(|(&t, &raw)| store.raw128_to_val(raw, t)),
            );
        }
        Ok(())
    } else {
        Err(state.take_trap(store))
    };
    let engine = plugins.engine_mut();
    engine.count_call(state.host_calls, !ok);
    *engine.call_state() = Some(state);
    outcome
}

/// Links `table` (runtime functions, then any engine helpers) through the `virt`
/// plugin, checking it hands back one address per entry.
///
/// # Errors
/// The plugin returned a table of another length.
pub fn link_table<V: Virt>(virt: &mut V, table: &[Libcall]) -> Result<Box<[usize]>, CompileError> {
    let linked = virt.link_libcalls(table);
    if linked.len() != table.len() {
        return Err(CompileError::Limit(
            "the virt plugin linked a libcall table of another length",
        ));
    }
    Ok(linked)
}

/// Tells the observers where each defined function of `module` lives in `map`,
/// once the code is published (read-execute) and stays mapped until it is dropped.
#[cold]
pub fn code_loaded<C: Composition>(plugins: &C, module: &ModuleInfo, map: &CodeMap) {
    let functions: Vec<CodeRange> =
        map.functions().map(|(func, r)| CodeRange { func, addr: r.start, len: r.len() }).collect();
    plugins.emit(&Event::CodeLoaded { module, functions: &functions });
}
