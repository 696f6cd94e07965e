//! The executor: one dispatch loop over [`Op`]s, monomorphized over the composition
//! and over fuel metering, with no allocation per wasm call.
//!
//! Frame layout on the operand stack: `fp` points at local 0 (parameters first, then
//! declared locals, zeroed on entry), operands follow. A call leaves the arguments in
//! place as the callee's first locals; a return copies the results down to `fp`.

pub mod binary;
pub mod call;
pub mod convert;
pub mod memory;
pub mod raw;
pub mod table;
pub mod unary;

use vm_core::Composition;
use vm_core::runtime::{
    FuncKind, FuncSlot, InstanceData, MemorySlot, Store, Trap, TrapCode, VMFuncRef,
    VMMemoryDefinition, Val,
};
use vm_core::slot::Virt;

use crate::code::{FuncCode, ModuleCode, Op, for_each_numeric};
use call::Frame;
use raw::Raw;

/// Reusable buffers of the executor, kept by the plugin between calls.
#[derive(Debug, Default)]
pub struct ExecBuffers {
    /// The operand stack.
    pub stack: Vec<u64>,
    /// Suspended frames.
    pub frames: Vec<Frame>,
    /// Host call arguments.
    pub args: Vec<Val>,
    /// Host call results.
    pub results: Vec<Val>,
}

// SAFETY: the frame pointers refer into the stack and store of the call that filled
// them; buffers are only reused, never read, by later calls (frames are cleared).
unsafe impl Send for ExecBuffers {}

/// Limits and counters of one call from the host.
#[derive(Debug)]
pub struct Limits {
    /// Deepest call stack.
    pub max_depth: usize,
    /// Remaining fuel (when metering).
    pub fuel: i64,
    /// Host calls made.
    pub host_calls: u64,
}

/// Calls function `func` of `store` with `args`, appending results.
pub fn call<C: Composition<Engine = crate::Interp>, const FUEL: bool>(
    store: &mut Store<C>,
    buf: &mut ExecBuffers,
    limits: &mut Limits,
    func: u32,
    args: &[Val],
    results: &mut Vec<Val>,
) -> Result<(), Trap> {
    let Some(slot) = store.funcs.get(func as usize) else {
        return Err(Trap::host("no such function"));
    };
    let (sig, kind) = (slot.vm.sig, slot.kind);
    let result_types: Vec<_> =
        store.sigs.get(sig).map(|t| t.results().to_vec()).unwrap_or_default();
    let (inst_id, index) = match kind {
        FuncKind::Host { def, state } => {
            let mut out: Vec<Val> = def.results.iter().map(|&t| Val::default_for(t)).collect();
            let st = store.host_state_mut(state).ok_or_else(|| Trap::host("missing host state"))?;
            let mut caller = vm_core::runtime::Caller::new(None, st);
            (def.call)(&mut caller, args, &mut out)?;
            limits.host_calls += 1;
            results.extend(out);
            return Ok(());
        }
        FuncKind::Wasm { instance, index } => (instance, index),
    };
    let inst: *const InstanceData<C> = &*store.instances[inst_id as usize];
    buf.frames.clear();
    for (i, a) in args.iter().enumerate() {
        if let Some(s) = buf.stack.get_mut(i) {
            *s = store.val_to_raw(*a);
        }
    }
    let n = run::<C, FUEL>(store, buf, limits, inst, index, args.len())?;
    for (i, ty) in result_types.iter().enumerate().take(n) {
        results.push(store.raw_to_val(buf.stack[i], *ty));
    }
    Ok(())
}

/// The callee's code for a wasm function of `inst`.
///
/// # Safety
/// `inst` is a live instance whose module was compiled by this engine.
#[inline(always)]
unsafe fn code_of<C: Composition<Engine = crate::Interp>>(
    inst: *const InstanceData<C>,
) -> *const ModuleCode {
    // SAFETY: the caller guarantees `inst` is live.
    unsafe { (*inst).module.code() }
}

macro_rules! define_run {
    (
        $d:tt
        unary { $( $u:ident ($ua:ty) -> $ur:ty = $uf:path; )* }
        unary_trap { $( $ut:ident ($uta:ty) -> $utr:ty = $utf:path; )* }
        binary { $( $b:ident ($ba:ty, $bb:ty) -> $br:ty = $bf:path; )* }
        fused { $( $f:ident [$fi:ident $fl:ident $fll:ident $fli:ident] ($fa:ty, $fb:ty) -> $fr:ty = $ff:path; )* }
        binary_trap { $( $bt:ident ($bta:ty, $btb:ty) -> $btr:ty = $btf:path; )* }
    ) => {
/// Runs the dispatch loop for function `index` of `inst` whose `nargs` arguments are
/// at the bottom of the stack; returns the number of results left there.
fn run<C: Composition<Engine = crate::Interp>, const FUEL: bool>(
    store: &mut Store<C>,
    buf: &mut ExecBuffers,
    limits: &mut Limits,
    inst: *const InstanceData<C>,
    index: u32,
    nargs: usize,
) -> Result<usize, Trap> {
    let store: *mut Store<C> = store;
    let ExecBuffers { stack, frames, args, results } = buf;
    let stack_base = stack.as_mut_ptr();
    let stack_len = stack.len();

    // SAFETY: the loop relies on these invariants:
    // - the module was validated and translated by this engine, so operand counts,
    //   local indexes, branch targets, function/type/table/global/segment indexes are
    //   in range, and `max_height` bounds the operand stack of every function;
    // - every function entry checks `fp + locals + max_height` against the stack end
    //   and the frame count against `max_depth`, so stack accesses stay in bounds;
    // - instance, code, memory, table, global and funcref pointers come from the
    //   store, whose entities are boxed and never removed while it is borrowed here;
    // - memory and table accesses are bounds-checked against their current lengths.
    unsafe {
        let stack_end = stack_base.add(stack_len);
        let mut inst: *const InstanceData<C> = inst;
        let mut code: *const ModuleCode = code_of(inst);
        let mut ops: *const Op = (*code).ops.as_ptr();
        let mut mem: *mut VMMemoryDefinition = (*inst).vmctx.memory0;
        let mut globals = (*inst).vmctx.globals;
        let mut fp: *mut u64 = stack_base;
        let mut sp: *mut u64 = stack_base.add(nargs);
        let mut pc: *const Op;
        let mut cur_func: u32 = index;

        macro_rules! pop {
            () => {{
                sp = sp.sub(1);
                *sp
            }};
        }
        macro_rules! push {
            ($d v:expr) => {{
                let v = $d v;
                *sp = v;
                sp = sp.add(1);
            }};
        }
        macro_rules! top {
            () => {
                *sp.sub(1)
            };
        }
        macro_rules! reload {
            () => {{
                mem = (*inst).vmctx.memory0;
                globals = (*inst).vmctx.globals;
                ops = (*code).ops.as_ptr();
            }};
        }
        // Enters `fc` of instance `$d inst` (code `$d code`); arguments are on the stack.
        macro_rules! enter {
            ($d fc:expr, $d inst:expr, $d code:expr, $d save:expr) => {{
                let fc: FuncCode = $d fc;
                let new_fp = sp.sub(fc.params as usize);
                if $d save {
                    if frames.len() >= limits.max_depth {
                        break Err(Trap::new(TrapCode::StackOverflow));
                    }
                    frames.push(Frame { ret_pc: pc, fp, inst: inst.cast(), code, func: cur_func });
                }
                let need = fc.params as usize + fc.locals as usize + fc.max_height as usize;
                if (stack_end as usize - new_fp as usize) / 8 < need {
                    break Err(Trap::new(TrapCode::StackOverflow));
                }
                for _ in 0..fc.locals {
                    *sp = 0;
                    sp = sp.add(1);
                }
                fp = new_fp;
                inst = $d inst;
                code = $d code;
                reload!();
                pc = ops.add(fc.entry as usize);
                cur_func = fc.index;
            }};
        }
        // Calls the function behind funcref `$d f`.
        macro_rules! call_ref {
            ($d f:expr) => {{
                let f: *const VMFuncRef = $d f;
                let callee = (*f).vmctx as *const InstanceData<C>;
                match (*f.cast::<FuncSlot>()).kind {
                    FuncKind::Wasm { index, .. } if !callee.is_null() => {
                        let ccode = code_of(callee);
                        let fc = *(&(*ccode).funcs)
                            .get_unchecked((index - (*ccode).num_imported_funcs) as usize);
                        enter!(fc, callee, ccode, true);
                    }
                    FuncKind::Host { def, state } => {
                        limits.host_calls += 1;
                        match call::host_call(store, def, state, mem, sp, args, results) {
                            Ok(new_sp) => sp = new_sp,
                            Err(t) => break Err(t),
                        }
                        // A host call may not grow memory, but refresh defensively.
                        mem = (*inst).vmctx.memory0;
                    }
                    FuncKind::Wasm { .. } => break Err(Trap::host("funcref without instance")),
                }
            }};
        }
        macro_rules! trap {
            ($d e:expr) => {
                match $d e {
                    Ok(v) => v,
                    Err(code) => break Err(Trap::new(code)),
                }
            };
        }
        macro_rules! jump {
            ($d target:expr) => {
                pc = ops.add($d target as usize)
            };
        }
        macro_rules! adjust {
            ($d drop:expr, $d keep:expr) => {{
                let keep = $d keep as usize;
                let drop = $d drop as usize;
                let src = sp.sub(keep);
                let dst = src.sub(drop);
                for k in 0..keep {
                    *dst.add(k) = *src.add(k);
                }
                sp = sp.sub(drop);
            }};
        }
        macro_rules! load {
            ($d n:literal, $d offset:expr, $d conv:expr) => {{
                let a = top!();
                let bytes = trap!(memory::load::<$d n>(mem, a, $d offset));
                *sp.sub(1) = $d conv(bytes);
            }};
        }
        macro_rules! store {
            ($d n:literal, $d offset:expr, $d conv:expr) => {{
                let v = pop!();
                let a = pop!();
                trap!(memory::store::<$d n>(mem, a, $d offset, $d conv(v)));
            }};
        }

        // The function entered from the host: check its frame too.
        {
            let fc = *(&(*code).funcs).get_unchecked((index - (*code).num_imported_funcs) as usize);
            let need = fc.params as usize + fc.locals as usize + fc.max_height as usize;
            if stack_len < need {
                return Err(Trap::new(TrapCode::StackOverflow));
            }
            core::ptr::write_bytes(sp, 0, fc.locals as usize);
            sp = sp.add(fc.locals as usize);
            pc = ops.add(fc.entry as usize);
        }

        let outcome: Result<usize, Trap> = loop {
            let op = *pc;
            pc = pc.add(1);
            match op {
                Op::Unreachable => break Err(Trap::new(TrapCode::Unreachable)),
                Op::Fuel(n) => {
                    if FUEL {
                        limits.fuel -= i64::from(n);
                        if limits.fuel < 0 {
                            break Err(Trap::new(TrapCode::OutOfFuel));
                        }
                    }
                }
                Op::Br { target } => jump!(target),
                Op::BrAdjust { target, drop, keep } => {
                    adjust!(drop, keep);
                    jump!(target);
                }
                Op::BrIf { target } => {
                    if pop!() as u32 != 0 {
                        jump!(target);
                    }
                }
                Op::BrIfAdjust { target, drop, keep } => {
                    if pop!() as u32 != 0 {
                        adjust!(drop, keep);
                        jump!(target);
                    }
                }
                Op::BrIfNot { target } => {
                    if pop!() as u32 == 0 {
                        jump!(target);
                    }
                }
                Op::BrTable { len } => {
                    let i = (pop!() as u32).min(len);
                    pc = pc.add(i as usize);
                }
                Op::Return { results } => {
                    let n = results as usize;
                    let src = sp.sub(n);
                    for k in 0..n {
                        *fp.add(k) = *src.add(k);
                    }
                    sp = fp.add(n);
                    match frames.pop() {
                        None => break Ok(n),
                        Some(f) => {
                            pc = f.ret_pc;
                            fp = f.fp;
                            inst = f.inst.cast();
                            code = f.code;
                            cur_func = f.func;
                            reload!();
                        }
                    }
                }
                Op::Call { func } => {
                    let fc = *(&(*code).funcs).get_unchecked(func as usize);
                    enter!(fc, inst, code, true);
                }
                Op::CallImport { func } => {
                    call_ref!(*(*inst).vmctx.funcs.add(func as usize));
                }
                Op::CallIndirect { ty, table } => {
                    let i = pop!();
                    let t = *(*inst).vmctx.tables.add(table as usize);
                    let raw = trap!(table::get(t, i));
                    if raw == 0 {
                        break Err(Trap::new(TrapCode::IndirectCallToNull));
                    }
                    let f = raw as *const VMFuncRef;
                    if (*f).sig != *(*inst).vmctx.sigs.add(ty as usize) {
                        break Err(Trap::new(TrapCode::BadSignature));
                    }
                    call_ref!(f);
                }
                Op::Drop => sp = sp.sub(1),
                Op::Select => {
                    let c = pop!();
                    let b = pop!();
                    if c as u32 == 0 {
                        *sp.sub(1) = b;
                    }
                }
                Op::LocalGet(i) => push!(*fp.add(i as usize)),
                Op::LocalSet(i) => *fp.add(i as usize) = pop!(),
                Op::LocalTee(i) => *fp.add(i as usize) = top!(),
                Op::GlobalGet(i) => push!((**globals.add(i as usize)).lo),
                Op::GlobalSet(i) => (**globals.add(i as usize)).lo = pop!(),
                Op::Const(v) => push!(v),
                Op::I32Load { offset } => load!(4, offset, |b| u64::from(u32::from_le_bytes(b))),
                Op::I64Load { offset } => load!(8, offset, u64::from_le_bytes),
                Op::F32Load { offset } => load!(4, offset, |b| u64::from(u32::from_le_bytes(b))),
                Op::F64Load { offset } => load!(8, offset, u64::from_le_bytes),
                Op::I32Load8S { offset } => {
                    load!(1, offset, |b: [u8; 1]| u64::from(b[0] as i8 as i32 as u32))
                }
                Op::I32Load8U { offset } => load!(1, offset, |b: [u8; 1]| u64::from(b[0])),
                Op::I32Load16S { offset } => {
                    load!(2, offset, |b| u64::from(i16::from_le_bytes(b) as i32 as u32))
                }
                Op::I32Load16U { offset } => load!(2, offset, |b| u64::from(u16::from_le_bytes(b))),
                Op::I64Load8S { offset } => load!(1, offset, |b: [u8; 1]| b[0] as i8 as i64 as u64),
                Op::I64Load8U { offset } => load!(1, offset, |b: [u8; 1]| u64::from(b[0])),
                Op::I64Load16S { offset } => {
                    load!(2, offset, |b| i16::from_le_bytes(b) as i64 as u64)
                }
                Op::I64Load16U { offset } => load!(2, offset, |b| u64::from(u16::from_le_bytes(b))),
                Op::I64Load32S { offset } => {
                    load!(4, offset, |b| i32::from_le_bytes(b) as i64 as u64)
                }
                Op::I64Load32U { offset } => load!(4, offset, |b| u64::from(u32::from_le_bytes(b))),
                Op::I32Store { offset } | Op::F32Store { offset } => {
                    store!(4, offset, |v: u64| (v as u32).to_le_bytes())
                }
                Op::I64Store { offset } | Op::F64Store { offset } => {
                    store!(8, offset, |v: u64| v.to_le_bytes())
                }
                Op::I32Store8 { offset } | Op::I64Store8 { offset } => {
                    store!(1, offset, |v: u64| [v as u8])
                }
                Op::I32Store16 { offset } | Op::I64Store16 { offset } => {
                    store!(2, offset, |v: u64| (v as u16).to_le_bytes())
                }
                Op::I64Store32 { offset } => store!(4, offset, |v: u64| (v as u32).to_le_bytes()),
                Op::MemorySize => push!(memory::size(mem)),
                Op::MemoryGrow => {
                    let delta = pop!() as u32;
                    let slot = &mut *mem.cast::<MemorySlot<<C::Virt as Virt>::Memory>>();
                    push!(slot.grow(delta).map_or(u64::from(u32::MAX), u64::from));
                }
                Op::MemoryFill => {
                    let n = pop!();
                    let v = pop!();
                    let d = pop!();
                    trap!(memory::fill(mem, d, v, n));
                }
                Op::MemoryCopy => {
                    let n = pop!();
                    let s = pop!();
                    let d = pop!();
                    trap!(memory::copy(mem, d, s, n));
                }
                Op::MemoryInit(seg) => {
                    let n = pop!();
                    let s = pop!();
                    let d = pop!();
                    trap!(memory::init(mem, (*inst).data(seg), d, s, n));
                }
                Op::DataDrop(seg) => {
                    if let Some(d) = (&mut (*inst.cast_mut()).data_dropped).get_mut(seg as usize) {
                        *d = true;
                    }
                }
                Op::TableGet(t) => {
                    let i = top!();
                    *sp.sub(1) = trap!(table::get(*(*inst).vmctx.tables.add(t as usize), i));
                }
                Op::TableSet(t) => {
                    let v = pop!();
                    let i = pop!();
                    trap!(table::set(*(*inst).vmctx.tables.add(t as usize), i, v));
                }
                Op::TableSize(t) => push!((**(*inst).vmctx.tables.add(t as usize)).length),
                Op::TableGrow(t) => {
                    let n = pop!();
                    let v = pop!();
                    push!(table::grow(*(*inst).vmctx.tables.add(t as usize), n, v));
                }
                Op::TableFill(t) => {
                    let n = pop!();
                    let v = pop!();
                    let i = pop!();
                    trap!(table::fill(*(*inst).vmctx.tables.add(t as usize), i, v, n));
                }
                Op::TableCopy { dst, src } => {
                    let n = pop!();
                    let s = pop!();
                    let d = pop!();
                    let tabs = (*inst).vmctx.tables;
                    trap!(table::copy(*tabs.add(dst as usize), *tabs.add(src as usize), d, s, n));
                }
                Op::TableInit { table, elem } => {
                    let n = pop!();
                    let s = pop!();
                    let d = pop!();
                    let seg: &[u64] = (&(*inst).elems).get(elem as usize).map_or(&[], |b| &b[..]);
                    trap!(table::init(*(*inst).vmctx.tables.add(table as usize), seg, d, s, n));
                }
                Op::ElemDrop(e) => {
                    if let Some(s) = (&mut (*inst.cast_mut()).elems).get_mut(e as usize) {
                        *s = Box::new([]);
                    }
                }
                Op::RefIsNull => *sp.sub(1) = u64::from(top!() == 0),
                Op::RefFunc(f) => push!(*(*inst).vmctx.funcs.add(f as usize) as u64),
                $(Op::$u => {
                    let t = sp.sub(1);
                    *t = <$ur as Raw>::to_raw($uf(<$ua as Raw>::from_raw(*t)));
                })*
                $(Op::$ut => {
                    let t = sp.sub(1);
                    *t = <$utr as Raw>::to_raw(trap!($utf(<$uta as Raw>::from_raw(*t))));
                })*
                $(Op::$b => {
                    sp = sp.sub(1);
                    let b = *sp;
                    let t = sp.sub(1);
                    *t = <$br as Raw>::to_raw($bf(<$ba as Raw>::from_raw(*t), <$bb as Raw>::from_raw(b)));
                })*
                $(Op::$f => {
                    sp = sp.sub(1);
                    let b = *sp;
                    let t = sp.sub(1);
                    *t = <$fr as Raw>::to_raw($ff(<$fa as Raw>::from_raw(*t), <$fb as Raw>::from_raw(b)));
                })*
                $(Op::$fi(c) => {
                    let t = sp.sub(1);
                    *t = <$fr as Raw>::to_raw($ff(<$fa as Raw>::from_raw(*t), <$fb as Raw>::from_raw(c)));
                })*
                $(Op::$fl(l) => {
                    let t = sp.sub(1);
                    *t = <$fr as Raw>::to_raw($ff(<$fa as Raw>::from_raw(*t), <$fb as Raw>::from_raw(*fp.add(l as usize))));
                })*
                $(Op::$fll(a, b) => {
                    push!(<$fr as Raw>::to_raw($ff(<$fa as Raw>::from_raw(*fp.add(a as usize)), <$fb as Raw>::from_raw(*fp.add(b as usize)))));
                })*
                $(Op::$fli(a, c) => {
                    push!(<$fr as Raw>::to_raw($ff(<$fa as Raw>::from_raw(*fp.add(a as usize)), <$fb as Raw>::from_raw(c))));
                })*
                $(Op::$bt => {
                    sp = sp.sub(1);
                    let b = *sp;
                    let t = sp.sub(1);
                    *t = <$btr as Raw>::to_raw(trap!($btf(<$bta as Raw>::from_raw(*t), <$btb as Raw>::from_raw(b))));
                })*
            }
        };
        match outcome {
            Ok(n) => Ok(n),
            Err(mut t) => {
                t.backtrace = call::backtrace::<C>((inst.cast(), cur_func), frames);
                frames.clear();
                Err(t)
            }
        }
    }
}
    };
}
for_each_numeric!(define_run $);
