//! The executor: one dispatch loop over [`Op`]s, monomorphized over the composition
//! and over fuel metering, with no allocation per wasm call.
//!
//! Frame layout on the slot stack: `fp` points at local 0 (parameters first, then
//! declared locals, zeroed on entry), the translator's temporaries follow. A call's
//! arguments are already in consecutive caller slots, where the callee's frame
//! starts; a return copies the results down to `fp`, which is where the caller
//! expects them.

pub mod binary;
pub mod call;
pub mod convert;
pub mod memory;
pub mod raw;
pub mod table;
pub mod unary;

use vm_core::Composition;
use vm_core::runtime::{
    FuncKind, InstanceData, MemorySlot, Store, Trap, TrapCode, VMFuncRef, Val,
};
use vm_core::slot::Virt;

use crate::code::{ModuleCode, Op, for_each_numeric};
use call::{Exec, Frame};
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
        binary_imm { $( $bi:ident [$bii:ident] ($bia:ty, $bib:ty) -> $bir:ty = $bif:path, $bix:path; )* }
        binary_trap { $( $bt:ident ($bta:ty, $btb:ty) -> $btr:ty = $btf:path; )* }
        branch { $( $c:ident $ci:ident [$cb:ident $cbi:ident] ! [$nb:ident $nbi:ident] ($ca:ty) = $cf:path, $cx:path; )* }
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
    let ExecBuffers { stack, frames, args, results } = buf;
    let stack_base = stack.as_mut_ptr();
    let stack_len = stack.len();
    let _ = nargs;

    // SAFETY: the loop relies on these invariants:
    // - the module was validated and translated by this engine, so slot indexes are
    //   below the frame size the translator computed, branch offsets land on
    //   instructions of the same function, and function/type/table/global/segment
    //   indexes are in range;
    // - every function entry checks `fp + frame` against the stack end and the frame
    //   count against `max_depth`, so slot accesses stay in bounds;
    // - instance, code, memory, table, global and funcref pointers come from the
    //   store, whose entities are boxed and never removed while it is borrowed here;
    // - memory accesses are checked against the cached length, refreshed whenever it
    //   may have changed (grow, host call, instance switch); table accesses are
    //   bounds-checked against their current lengths.
    unsafe {
        let code = code_of(inst);
        let mut x = Exec::<C> {
            store,
            frames,
            max_depth: limits.max_depth,
            host_calls: 0,
            args,
            results,
            stack_end: stack_base.add(stack_len),
            inst,
            code,
            ops: (*code).ops.as_ptr(),
            mem: (*inst).vmctx.memory0,
            mem_base: core::ptr::null_mut(),
            mem_len: 0,
            globals: (*inst).vmctx.globals,
            cur_func: index,
        };
        x.refresh_mem();
        let mut fp: *mut u64 = stack_base;
        let mut pc: *const Op;
        let mut mem_base: *mut u8 = x.mem_base;
        let mut mem_len: u64 = x.mem_len;

        macro_rules! slot {
            ($d i:expr) => {
                *fp.add($d i as usize)
            };
        }
        // Continues at a call's or return's destination; the memory view may change.
        macro_rules! resume {
            ($d r:expr) => {{
                match $d r {
                    Ok((p, f)) => {
                        pc = p;
                        fp = f;
                        mem_base = x.mem_base;
                        mem_len = x.mem_len;
                    }
                    Err(t) => break Err(t),
                }
            }};
        }
        macro_rules! ret {
            ($d n:expr) => {{
                match x.ret() {
                    None => break Ok($d n),
                    Some((p, f)) => {
                        pc = p;
                        fp = f;
                        mem_base = x.mem_base;
                        mem_len = x.mem_len;
                    }
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
            ($d offset:expr) => {
                pc = pc.offset($d offset as isize)
            };
        }
        macro_rules! load {
            ($d n:literal, $d dst:expr, $d addr:expr, $d offset:expr, $d conv:expr) => {{
                let bytes = trap!(memory::load::<$d n>(mem_base, mem_len, slot!($d addr), $d offset));
                slot!($d dst) = $d conv(bytes);
            }};
        }
        macro_rules! store {
            ($d n:literal, $d addr:expr, $d val:expr, $d offset:expr, $d conv:expr) => {{
                let v = slot!($d val);
                trap!(memory::store::<$d n>(mem_base, mem_len, slot!($d addr), $d offset, $d conv(v)));
            }};
        }

        // The function entered from the host: check its frame too.
        {
            let fc = *(&(*code).funcs).get_unchecked((index - (*code).num_imported_funcs) as usize);
            if stack_len < fc.frame as usize || limits.max_depth == 0 {
                return Err(Trap::new(TrapCode::StackOverflow));
            }
            core::ptr::write_bytes(fp.add(fc.params as usize), 0, fc.locals as usize);
            pc = x.ops.add(fc.entry as usize);
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
                Op::Arg(_) => {}
                Op::Br { offset } => jump!(offset),
                Op::BrIfNez { cond, offset } => {
                    if slot!(cond) as u32 != 0 {
                        jump!(offset);
                    }
                }
                Op::BrIfEqz { cond, offset } => {
                    if slot!(cond) as u32 == 0 {
                        jump!(offset);
                    }
                }
                Op::BrTable { index, len } => {
                    let i = (slot!(index) as u32).min(len);
                    pc = pc.add(i as usize);
                }
                Op::Return0 => ret!(0),
                Op::Return1 { src } => {
                    *fp = slot!(src);
                    ret!(1)
                }
                Op::ReturnN { base, n } => {
                    for k in 0..n as usize {
                        *fp.add(k) = *fp.add(base as usize + k);
                    }
                    ret!(n as usize)
                }
                Op::Call { func, base } => {
                    let fc = *(&(*x.code).funcs).get_unchecked(func as usize);
                    resume!(x.enter(fc, fp.add(base as usize), x.inst, x.code, pc, fp));
                }
                Op::CallImport { func, base } => {
                    let f = *(*x.inst).vmctx.funcs.add(func as usize);
                    resume!(x.call_ref(f, fp.add(base as usize), pc, fp));
                }
                Op::CallIndirect { ty, index, base } => {
                    let table = match *pc {
                        Op::Arg(t) => t,
                        _ => 0,
                    };
                    pc = pc.add(1);
                    let t = *(*x.inst).vmctx.tables.add(table as usize);
                    let raw = trap!(table::get(t, slot!(index)));
                    if raw == 0 {
                        break Err(Trap::new(TrapCode::IndirectCallToNull));
                    }
                    let f = raw as *const VMFuncRef;
                    if (*f).sig != *(*x.inst).vmctx.sigs.add(ty as usize) {
                        break Err(Trap::new(TrapCode::BadSignature));
                    }
                    resume!(x.call_ref(f, fp.add(base as usize), pc, fp));
                }
                Op::Select { dst, rhs, cond } => {
                    if slot!(cond) as u32 == 0 {
                        slot!(dst) = slot!(rhs);
                    }
                }
                Op::Copy { dst, src } => slot!(dst) = slot!(src),
                Op::Const { dst, lo, hi } => slot!(dst) = u64::from(lo) | (u64::from(hi) << 32),
                Op::GlobalGet { dst, global } => slot!(dst) = (**x.globals.add(global as usize)).lo,
                Op::GlobalSet { src, global } => (**x.globals.add(global as usize)).lo = slot!(src),
                Op::I32Load { dst, addr, offset } | Op::F32Load { dst, addr, offset } => {
                    load!(4, dst, addr, offset, |b| u64::from(u32::from_le_bytes(b)))
                }
                Op::I64Load { dst, addr, offset } | Op::F64Load { dst, addr, offset } => {
                    load!(8, dst, addr, offset, u64::from_le_bytes)
                }
                Op::I32Load8S { dst, addr, offset } => {
                    load!(1, dst, addr, offset, |b: [u8; 1]| u64::from(b[0] as i8 as i32 as u32))
                }
                Op::I32Load8U { dst, addr, offset } | Op::I64Load8U { dst, addr, offset } => {
                    load!(1, dst, addr, offset, |b: [u8; 1]| u64::from(b[0]))
                }
                Op::I32Load16S { dst, addr, offset } => {
                    load!(2, dst, addr, offset, |b| u64::from(i16::from_le_bytes(b) as i32 as u32))
                }
                Op::I32Load16U { dst, addr, offset } | Op::I64Load16U { dst, addr, offset } => {
                    load!(2, dst, addr, offset, |b| u64::from(u16::from_le_bytes(b)))
                }
                Op::I64Load8S { dst, addr, offset } => {
                    load!(1, dst, addr, offset, |b: [u8; 1]| b[0] as i8 as i64 as u64)
                }
                Op::I64Load16S { dst, addr, offset } => {
                    load!(2, dst, addr, offset, |b| i16::from_le_bytes(b) as i64 as u64)
                }
                Op::I64Load32S { dst, addr, offset } => {
                    load!(4, dst, addr, offset, |b| i32::from_le_bytes(b) as i64 as u64)
                }
                Op::I64Load32U { dst, addr, offset } => {
                    load!(4, dst, addr, offset, |b| u64::from(u32::from_le_bytes(b)))
                }
                Op::Store32 { addr, val, offset } => {
                    store!(4, addr, val, offset, |v: u64| (v as u32).to_le_bytes())
                }
                Op::Store64 { addr, val, offset } => {
                    store!(8, addr, val, offset, |v: u64| v.to_le_bytes())
                }
                Op::Store8 { addr, val, offset } => store!(1, addr, val, offset, |v: u64| [v as u8]),
                Op::Store16 { addr, val, offset } => {
                    store!(2, addr, val, offset, |v: u64| (v as u16).to_le_bytes())
                }
                Op::MemorySize { dst } => slot!(dst) = memory::size(x.mem),
                Op::MemoryGrow { base } => {
                    let delta = slot!(base) as u32;
                    let slot = &mut *x.mem.cast::<MemorySlot<<C::Virt as Virt>::Memory>>();
                    slot!(base) = slot.grow(delta).map_or(u64::from(u32::MAX), u64::from);
                    x.refresh_mem();
                    mem_base = x.mem_base;
                    mem_len = x.mem_len;
                }
                Op::MemoryFill { base } => {
                    trap!(memory::fill(x.mem, slot!(base), slot!(base + 1), slot!(base + 2)));
                }
                Op::MemoryCopy { base } => {
                    trap!(memory::copy(x.mem, slot!(base), slot!(base + 1), slot!(base + 2)));
                }
                Op::MemoryInit { seg, base } => {
                    let data = (*x.inst).data(seg);
                    trap!(memory::init(x.mem, data, slot!(base), slot!(base + 1), slot!(base + 2)));
                }
                Op::DataDrop(seg) => {
                    if let Some(d) = (&mut (*x.inst.cast_mut()).data_dropped).get_mut(seg as usize) {
                        *d = true;
                    }
                }
                Op::TableGet { table, base } => {
                    let t = *(*x.inst).vmctx.tables.add(table as usize);
                    slot!(base) = trap!(table::get(t, slot!(base)));
                }
                Op::TableSet { table, base } => {
                    let t = *(*x.inst).vmctx.tables.add(table as usize);
                    trap!(table::set(t, slot!(base), slot!(base + 1)));
                }
                Op::TableSize { table, dst } => {
                    slot!(dst) = (**(*x.inst).vmctx.tables.add(table as usize)).length;
                }
                Op::TableGrow { table, base } => {
                    let t = *(*x.inst).vmctx.tables.add(table as usize);
                    slot!(base) = table::grow(t, slot!(base + 1), slot!(base));
                }
                Op::TableFill { table, base } => {
                    let t = *(*x.inst).vmctx.tables.add(table as usize);
                    trap!(table::fill(t, slot!(base), slot!(base + 1), slot!(base + 2)));
                }
                Op::TableCopy { dst, src, base } => {
                    let tabs = (*x.inst).vmctx.tables;
                    let (d, s) = (*tabs.add(dst as usize), *tabs.add(src as usize));
                    trap!(table::copy(d, s, slot!(base), slot!(base + 1), slot!(base + 2)));
                }
                Op::TableInit { table, elem, base } => {
                    let seg: &[u64] = (&(*x.inst).elems).get(elem as usize).map_or(&[], |b| &b[..]);
                    let t = *(*x.inst).vmctx.tables.add(table as usize);
                    trap!(table::init(t, seg, slot!(base), slot!(base + 1), slot!(base + 2)));
                }
                Op::ElemDrop(e) => {
                    if let Some(s) = (&mut (*x.inst.cast_mut()).elems).get_mut(e as usize) {
                        *s = Box::new([]);
                    }
                }
                Op::RefIsNull { dst, src } => slot!(dst) = u64::from(slot!(src) == 0),
                Op::RefFunc { dst, func } => slot!(dst) = *(*x.inst).vmctx.funcs.add(func as usize) as u64,
                $(Op::$u { dst, src } => {
                    slot!(dst) = <$ur as Raw>::to_raw($uf(<$ua as Raw>::from_raw(slot!(src))));
                })*
                $(Op::$ut { dst, src } => {
                    slot!(dst) = <$utr as Raw>::to_raw(trap!($utf(<$uta as Raw>::from_raw(slot!(src)))));
                })*
                $(Op::$b { dst, lhs, rhs } => {
                    slot!(dst) = <$br as Raw>::to_raw($bf(<$ba as Raw>::from_raw(slot!(lhs)), <$bb as Raw>::from_raw(slot!(rhs))));
                })*
                $(Op::$bi { dst, lhs, rhs } => {
                    slot!(dst) = <$bir as Raw>::to_raw($bif(<$bia as Raw>::from_raw(slot!(lhs)), <$bib as Raw>::from_raw(slot!(rhs))));
                })*
                $(Op::$bii { dst, lhs, imm } => {
                    slot!(dst) = <$bir as Raw>::to_raw($bif(<$bia as Raw>::from_raw(slot!(lhs)), <$bib as Raw>::from_raw($bix(imm))));
                })*
                $(Op::$bt { dst, lhs, rhs } => {
                    slot!(dst) = <$btr as Raw>::to_raw(trap!($btf(<$bta as Raw>::from_raw(slot!(lhs)), <$btb as Raw>::from_raw(slot!(rhs)))));
                })*
                $(Op::$cb { lhs, rhs, offset } => {
                    if $cf(<$ca as Raw>::from_raw(slot!(lhs)), <$ca as Raw>::from_raw(slot!(rhs))) != 0 {
                        jump!(offset);
                    }
                })*
                $(Op::$cbi { lhs, imm, offset } => {
                    if $cf(<$ca as Raw>::from_raw(slot!(lhs)), <$ca as Raw>::from_raw($cx(imm))) != 0 {
                        jump!(offset);
                    }
                })*
            }
        };
        limits.host_calls += x.host_calls;
        match outcome {
            Ok(n) => Ok(n),
            Err(mut t) => {
                t.backtrace = call::backtrace::<C>((x.inst.cast(), x.cur_func), x.frames);
                x.frames.clear();
                Err(t)
            }
        }
    }
}
    };
}
for_each_numeric!(define_run $);
