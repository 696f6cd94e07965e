//! Native code as the `virt` slot sees it: the seam between an engine that generates
//! machine code and the plugin that runs it.
//!
//! An engine *describes* its code and a `virt` plugin *runs* it:
//!
//! - [`CodeMap`]: one module's machine code — its address range, the trap sites
//!   (pc → [`TrapKind`]), the function each instruction belongs to (pc → function
//!   index, for backtraces) and wasm byte offsets. The engine builds it when the
//!   code is published and hands it out through
//!   [`Engine::code_map`].
//! - [`Libcall`]: a host function generated code calls (runtime functions, host
//!   calls, float helpers), as a host address with a System V signature
//!   ([`NativeType`]s). The engine hands its table to
//!   [`Virt::link_libcalls`], which returns the
//!   addresses generated code actually calls (the host functions themselves when
//!   code runs in-process; stubs that exit to the host in a micro-VM).
//! - [`Entry`]: a call from the host into native code (entry trampoline, instance
//!   context, argument buffer), run by [`CallState::enter`] with the plugin's
//!   [`Virt::enter`].
//! - [`CallState`]: what one call from the host records — the trap that ended it,
//!   a trap a runtime function recorded ([`set_pending`]), the return addresses of
//!   the wasm frames at the trap, and the host calls made ([`count_host_call`]).
//!
//! - [`runtime_fns`]: the runtime functions generated code calls (memory and table
//!   growth, bulk operations, host calls, call events) and their table, the same for
//!   every native-code engine.
//! - [`call_from_host`]: the host's call into native code (arguments, store
//!   context, [`CallState::enter`], results or trap), for engines implementing
//!   [`NativeEngine`].
//!
//! Nothing here runs per guest-to-guest call: generated code calls generated code
//! directly, and reaches this module only through runtime functions and traps.

use std::cell::Cell;
use std::ops::Range;

use super::offsets::VMContext;
use super::store::Store;
use super::{FrameInfo, Trap, TrapCode};
use crate::compose::Composition;
use crate::slot::{Engine, Virt};

mod call;
pub mod exn;
pub mod runtime_fns;
#[cfg(test)]
mod tests;

pub use call::{NativeEngine, call_from_host, code_loaded, link_table};

/// What a trapping instruction means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrapKind {
    /// A wasm trap with this code.
    Wasm(TrapCode),
    /// A runtime function recorded the trap ([`set_pending`]) before it returned a
    /// failure status that the generated code turned into this trap.
    Pending,
}

/// A trap site: the offset of a trapping instruction from the start of its
/// module's code, and what the trap means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrapSite {
    /// Offset of the trapping instruction.
    pub offset: u32,
    /// What the trap means.
    pub kind: TrapKind,
}

/// One module's machine code as its engine describes it: where it lives, which
/// instructions trap (and with what), which function each instruction belongs to
/// and the wasm byte offset of instructions. Lookups are binary searches.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CodeMap {
    base: usize,
    len: usize,
    first_func: u32,
    funcs: Vec<Range<u32>>,
    traps: Vec<TrapSite>,
    srclocs: Vec<(u32, u32)>,
    handlers: Vec<HandlerSite>,
    saves: Vec<(Range<u32>, RegSaves)>,
}

/// The callee-saved registers a piece of code saves in its prologue: (x86-64
/// register number, bytes below the frame pointer) each.
pub type RegSaves = Box<[(u8, u32)]>;

/// A call site inside a `try_table`: when an exception unwinds to the frame whose
/// call returns to `ret`, execution continues at `landing` with the stack pointer
/// `frame` bytes below the frame pointer (see [`exn`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HandlerSite {
    /// Offset of the call's return address from the start of the module's code.
    pub ret: u32,
    /// Offset of the landing pad.
    pub landing: u32,
    /// The frame pointer minus the stack pointer at the call.
    pub frame: u32,
}

impl CodeMap {
    /// Describes `len` bytes of code at `base`: `funcs[i]` is the offset range of
    /// function `first_func + i` (module index space; ranges ascending and
    /// disjoint), `traps` the trap sites and `srclocs` (code offset, wasm byte
    /// offset) pairs, each in any order (they are sorted here).
    pub fn new(
        base: usize,
        len: usize,
        first_func: u32,
        funcs: Vec<Range<u32>>,
        mut traps: Vec<TrapSite>,
        mut srclocs: Vec<(u32, u32)>,
    ) -> Self {
        debug_assert!(funcs.windows(2).all(|w| w[0].end <= w[1].start), "function ranges ascend");
        // Single-pass engines record both in code order: checking is a third of
        // the cost of a stable sort of sorted input.
        if !traps.is_sorted_by_key(|t| t.offset) {
            traps.sort_by_key(|t| t.offset);
        }
        if !srclocs.is_sorted_by_key(|&(c, _)| c) {
            srclocs.sort_by_key(|&(c, _)| c);
        }
        Self {
            base,
            len,
            first_func,
            funcs,
            traps,
            srclocs,
            handlers: Vec::new(),
            saves: Vec::new(),
        }
    }

    /// The same map with the call sites that have exception handlers and, for
    /// every piece of code (function or trampoline, by offset range) whose prologue
    /// saves callee-saved registers, which and where: (x86-64 register number,
    /// bytes below the frame pointer). Both in any order; code without an entry
    /// saves none.
    #[must_use]
    pub fn with_exceptions(
        mut self,
        mut handlers: Vec<HandlerSite>,
        mut saves: Vec<(Range<u32>, RegSaves)>,
    ) -> Self {
        handlers.sort_by_key(|h| h.ret);
        saves.sort_by_key(|(r, _)| r.start);
        self.handlers = handlers;
        self.saves = saves;
        self
    }

    /// The handler of the call site returning to `ret`, if it has one.
    pub fn handler_at(&self, ret: usize) -> Option<HandlerSite> {
        let off = self.offset(ret)?;
        let i = self.handlers.binary_search_by_key(&off, |h| h.ret).ok()?;
        Some(self.handlers[i])
    }

    /// The callee-saved registers the code containing `pc` saves.
    pub fn saves_at(&self, pc: usize) -> &[(u8, u32)] {
        let Some(off) = self.offset(pc) else { return &[] };
        let Some(i) = self.saves.partition_point(|(r, _)| r.start <= off).checked_sub(1) else {
            return &[];
        };
        let (r, s) = &self.saves[i];
        if r.contains(&off) { s } else { &[] }
    }

    /// The address range the code occupies.
    pub fn range(&self) -> Range<usize> {
        self.base..self.base + self.len
    }

    /// Whether `pc` is inside this code (functions or trampolines).
    pub fn contains(&self, pc: usize) -> bool {
        self.range().contains(&pc)
    }

    fn offset(&self, pc: usize) -> Option<u32> {
        self.contains(pc).then(|| (pc - self.base) as u32)
    }

    /// What the instruction at `pc` traps with, if it is a trap site.
    pub fn trap_at(&self, pc: usize) -> Option<TrapKind> {
        let off = self.offset(pc)?;
        let i = self.traps.binary_search_by_key(&off, |t| t.offset).ok()?;
        Some(self.traps[i].kind)
    }

    /// The function (module index space) whose code contains `pc`.
    pub fn func_at(&self, pc: usize) -> Option<u32> {
        let off = self.offset(pc)?;
        let i = self.funcs.partition_point(|r| r.start <= off).checked_sub(1)?;
        self.funcs[i].contains(&off).then_some(self.first_func + i as u32)
    }

    /// The wasm byte offset of the instruction at `pc`, when known.
    pub fn wasm_offset(&self, pc: usize) -> Option<u32> {
        let off = self.offset(pc)?;
        let i = self.srclocs.partition_point(|&(c, _)| c <= off).checked_sub(1)?;
        Some(self.srclocs[i].1)
    }

    /// The address range of defined function `func` (module index space).
    pub fn function(&self, func: u32) -> Option<Range<usize>> {
        let r = self.funcs.get(func.checked_sub(self.first_func)? as usize)?;
        Some(self.base + r.start as usize..self.base + r.end as usize)
    }

    /// Every defined function: its index (module index space) and address range.
    pub fn functions(&self) -> impl ExactSizeIterator<Item = (u32, Range<usize>)> + '_ {
        self.funcs.iter().enumerate().map(|(i, r)| {
            (self.first_func + i as u32, self.base + r.start as usize..self.base + r.end as usize)
        })
    }

    /// The trap sites, by ascending offset.
    pub fn trap_sites(&self) -> &[TrapSite] {
        &self.traps
    }
}

/// How one argument or result of a [`Libcall`] travels under the System V ABI.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NativeType {
    /// A 32-bit integer in a general-purpose register (upper half unspecified).
    I32,
    /// A 64-bit integer or pointer in a general-purpose register.
    I64,
    /// An `f32` in the low lane of an xmm register.
    F32,
    /// An `f64` in the low lane of an xmm register.
    F64,
    /// 128 bits in an xmm register.
    V128,
    /// A pointer in a general-purpose register to the calling instance's
    /// [`VMContext`] (the first parameter of runtime functions). A `virt` plugin
    /// that runs guest code apart from the host checks that it is the context of
    /// an instance of the calling store before the host function sees it.
    VmCtx,
    /// A pointer in a general-purpose register to runtime data the guest may
    /// read (a funcref, say), or null. A `virt` plugin that runs guest code apart
    /// from the host checks that it points into memory the guest can reach.
    GuestPtr,
}

/// A host function that generated code calls: its host address and signature
/// (System V), enough for a `virt` plugin to carry the call across a boundary
/// (read the arguments from guest registers, call `addr`, write the result back).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Libcall {
    /// A name for diagnostics.
    pub name: &'static str,
    /// The function's host address.
    pub addr: usize,
    /// Its parameters, in order.
    pub params: &'static [NativeType],
    /// Its result, if any.
    pub result: Option<NativeType>,
}

/// A call from the host into native code.
///
/// `trampoline` is an engine's entry trampoline with the System V signature
/// `extern "sysv64" fn(callee_vmctx, caller_vmctx, code, args)`: it loads the
/// parameters from `args` (16-byte slots), calls `code` and stores the results back
/// into `args`. The callee and caller contexts are both `vmctx`.
#[derive(Clone, Copy, Debug)]
pub struct Entry {
    /// The entry trampoline for the callee's type.
    pub trampoline: *const u8,
    /// The callee's instance context.
    pub vmctx: *mut VMContext,
    /// The callee's native code.
    pub code: *const u8,
    /// A 16-byte slot per parameter and per result.
    pub args: *mut u128,
    /// How many slots `args` has (the larger of the parameter and result counts).
    pub slots: usize,
}

/// The stack guest code of a call runs on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GuestStack {
    /// The lowest address of the stack (frame walks stop below it).
    pub lo: usize,
    /// The lowest address guest frames may use: the engine writes it to
    /// [`VMStoreContext::stack_limit`](super::offsets::VMStoreContext::stack_limit),
    /// and function prologues trap with "call stack exhausted" below it. The space
    /// between `lo` and `limit` is left to runtime functions and trap handling.
    pub limit: usize,
}

/// Most frames recorded in a trap's backtrace.
pub const MAX_FRAMES: usize = 1024;

/// Finds the [`CodeMap`] containing a pc among the code a call may run.
///
/// # Safety
/// `store` is the pointer the [`CallState`] was readied with, still live.
pub type Lookup = unsafe fn(store: *const (), pc: usize) -> Option<*const CodeMap>;

/// The state of one call from the host into native code: set up by the engine,
/// entered by the `virt` plugin, filled by the plugin's trap handling and by the
/// runtime functions generated code calls.
///
/// Large (it holds up to [`MAX_FRAMES`] return addresses): engines keep one boxed
/// and [`reset`](CallState::reset) it for each call.
#[repr(C)]
pub struct CallState {
    /// The highest stack address of the call's guest frames (frame walks stop at
    /// it), set by the `virt` plugin on entry. It is the first field so that entry
    /// assembly can store its stack pointer at offset 0 of the state.
    pub entry_sp: usize,
    /// The lowest address of the stack guest code runs on.
    pub stack_lo: usize,
    lookup: Lookup,
    store: *const (),
    /// The trap that ended the call, if any.
    pub trap: Option<TrapKind>,
    /// A trap recorded by a runtime function before it returned a failure.
    pub pending: Option<Trap>,
    /// Return addresses (innermost first) of the wasm frames at the trap; the first
    /// is the trapping pc itself when it lies in a function.
    pub pcs: [usize; MAX_FRAMES],
    /// How many of `pcs` are set.
    pub npcs: usize,
    /// Host functions called during the call.
    pub host_calls: u64,
    prev: *mut CallState,
}

// SAFETY: the raw pointers are dereferenced only during a call, on the thread making
// it; between calls they are stale and `reset` replaces them before the next use.
unsafe impl Send for CallState {}

impl std::fmt::Debug for CallState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallState")
            .field("trap", &self.trap)
            .field("pending", &self.pending)
            .field("frames", &&self.pcs[..self.npcs])
            .field("host_calls", &self.host_calls)
            .finish_non_exhaustive()
    }
}

/// The module of `store` (a `*const Store<C>`) whose code contains `pc`.
///
/// # Safety
/// `store` points to a live `Store<C>` whose instance list is not being changed.
unsafe fn store_lookup<C: Composition>(store: *const (), pc: usize) -> Option<*const CodeMap> {
    // SAFETY: the caller's contract.
    let store = unsafe { &*store.cast::<Store<C>>() };
    code_at(store, pc).map(|c| c as *const CodeMap)
}

/// The code of `store`'s instances that contains `pc`.
pub fn code_at<C: Composition>(store: &Store<C>, pc: usize) -> Option<&CodeMap> {
    store
        .instances
        .iter()
        .filter_map(|i| <C::Engine as Engine>::code_map(i.module.code()))
        .find(|c| c.contains(pc))
}

/// The backtrace frame of the instruction at `pc` in `store`'s code.
pub fn frame_info<C: Composition>(store: &Store<C>, pc: usize) -> Option<FrameInfo> {
    store.instances.iter().find_map(|inst| {
        let code = <C::Engine as Engine>::code_map(inst.module.code())?;
        let func_index = code.func_at(pc)?;
        Some(FrameInfo {
            func_index,
            func_name: inst.module.info().func_name(func_index).map(str::to_owned),
            offset: code.wasm_offset(pc),
        })
    })
}

impl CallState {
    /// A state for a call with `lookup` over `store` (see [`Lookup`]).
    pub fn with_lookup(lookup: Lookup, store: *const (), stack: GuestStack) -> Box<Self> {
        Box::new(Self {
            entry_sp: 0,
            stack_lo: stack.lo,
            lookup,
            store,
            trap: None,
            pending: None,
            pcs: [0; MAX_FRAMES],
            npcs: 0,
            host_calls: 0,
            prev: std::ptr::null_mut(),
        })
    }

    /// A state for a call into code of `store`, on `stack`.
    pub fn new<C: Composition>(store: &Store<C>, stack: GuestStack) -> Box<Self> {
        Self::with_lookup(store_lookup::<C>, (store as *const Store<C>).cast(), stack)
    }

    /// Readies a (reused) state for a call into code of `store`, on `stack`.
    pub fn reset<C: Composition>(&mut self, store: &Store<C>, stack: GuestStack) {
        self.lookup = store_lookup::<C>;
        self.store = (store as *const Store<C>).cast();
        self.stack_lo = stack.lo;
        self.entry_sp = 0;
        self.trap = None;
        self.pending = None;
        self.npcs = 0;
        self.host_calls = 0;
    }

    /// Runs `entry` with `virt` (`store` is the calling store's
    /// [`Store::virt_state`]), with this state current on this thread (so that
    /// [`set_pending`], [`count_host_call`] and the plugin's trap handling reach
    /// it). Returns `true` when the code returned (results are in `entry.args`) and
    /// `false` when it trapped (`trap`, `pending` and the frames say why).
    ///
    /// # Safety
    /// As [`Virt::enter`]; the state was readied ([`CallState::new`] or
    /// [`CallState::reset`]) for the store whose code `entry` runs, which stays live
    /// and unchanged in its instance list during the call.
    pub unsafe fn enter<V: Virt>(
        &mut self,
        virt: &mut V,
        store: &V::StoreState,
        entry: Entry,
    ) -> bool {
        self.prev = CURRENT.with(|c| c.replace(self));
        // SAFETY: the caller's contract; `self` outlives the call and is the current
        // state while guest code runs.
        let ok = unsafe { virt.enter(store, self, entry) };
        CURRENT.with(|c| c.set(self.prev));
        ok
    }

    /// The code containing `pc` among the code this call may run.
    pub fn code_at(&self, pc: usize) -> Option<&CodeMap> {
        // SAFETY: `lookup` and `store` were set together by `new`/`reset` for a store
        // that outlives the call; between calls a state is only used after `reset`.
        // Modules stay alive with the store, so the map outlives `&self`'s use.
        unsafe { (self.lookup)(self.store, pc).map(|c| &*c) }
    }

    /// Records a fault at `pc` (frame pointer `fp`) as this call's trap when `pc` is
    /// a trap site of the call's code: the trap kind and the wasm frames found by
    /// walking the frame-pointer chain (each frame holds the caller's frame pointer
    /// at `[fp]` and its return address at `[fp + 8]`) from `fp` up to
    /// [`CallState::entry_sp`]. Returns `false`, recording nothing, when `pc` is not a
    /// trap site (the fault is not the guest's).
    ///
    /// # Safety
    /// Every 16 bytes at an 8-aligned address in `[stack_lo, entry_sp)` are readable
    /// (the guest stack, mapped at the same address in this process); it is called
    /// on the thread of the call (a signal handler, or the host side of a micro-VM's
    /// exit).
    pub unsafe fn record_trap(&mut self, pc: usize, fp: usize) -> bool {
        let Some(module) = self.code_at(pc) else { return false };
        let Some(kind) = module.trap_at(pc) else { return false };
        let first = module.func_at(pc).is_some();
        self.trap = Some(kind);
        self.npcs = 0;
        if first {
            self.pcs[0] = pc;
            self.npcs = 1;
        }
        let (lo, hi) = (self.stack_lo, self.entry_sp);
        let mut fp = fp;
        while self.npcs < MAX_FRAMES && fp >= lo && fp + 16 <= hi && fp.is_multiple_of(8) {
            // SAFETY: `fp` is 8-aligned inside `[stack_lo, entry_sp)`, readable by the
            // caller's contract; generated code keeps (saved fp, return address) pairs
            // there.
            let (next, ret) = unsafe { (*(fp as *const usize), *((fp + 8) as *const usize)) };
            let Some(m) = self.code_at(ret) else { break };
            if m.func_at(ret - 1).is_some() {
                self.pcs[self.npcs] = ret - 1;
                self.npcs += 1;
            }
            if next <= fp {
                break;
            }
            fp = next;
        }
        true
    }

    /// The trap that ended the call (after [`CallState::enter`] returned `false`),
    /// with its wasm backtrace resolved against `store`'s modules.
    pub fn take_trap<C: Composition>(&mut self, store: &Store<C>) -> Trap {
        let mut trap = match self.trap {
            Some(TrapKind::Wasm(c)) => Trap::new(c),
            _ => self.pending.take().unwrap_or_else(|| Trap::host("trap without a cause")),
        };
        if trap.backtrace.is_empty() {
            trap.backtrace =
                self.pcs[..self.npcs].iter().filter_map(|&pc| frame_info(store, pc)).collect();
        }
        trap
    }
}

thread_local! {
    static CURRENT: Cell<*mut CallState> = const { Cell::new(std::ptr::null_mut()) };
}

/// The state of the call running native code on this thread, or null.
#[inline]
pub fn current() -> *mut CallState {
    CURRENT.with(Cell::get)
}

/// Records a trap raised by a runtime function of the current call; the function
/// then returns a failure status and the generated code traps with
/// [`TrapKind::Pending`].
#[inline]
pub fn set_pending(trap: Trap) {
    let st = current();
    if !st.is_null() {
        // SAFETY: the current state lives for the whole call on this thread, and no
        // other reference to it is in use while a runtime function runs.
        unsafe { (*st).pending = Some(trap) };
    }
}

/// Counts a host-function call of the current call.
#[inline]
pub fn count_host_call() {
    let st = current();
    if !st.is_null() {
        // SAFETY: as in `set_pending`.
        unsafe { (*st).host_calls += 1 };
    }
}
