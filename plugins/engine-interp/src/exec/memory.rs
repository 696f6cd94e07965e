//! Linear memory instructions: loads, stores, size, grow, fill, copy, init.
//!
//! The interpreter checks bounds explicitly even under guard pages: a fault would be
//! a signal, and a trap must be a value. The bulk operations are vm-core's
//! ([`VMMemoryDefinition::fill`] and the rest), inlined into the handlers.

use vm_core::runtime::{PAGE_SIZE, TrapCode, VMMemoryDefinition, clamp_index64};

use crate::code::Op;
use crate::exec::{handler, next, operands, trap};

/// The effective address of an `N`-byte access to the memory at `base` of `len`
/// bytes, bounds-checked: one compare, as `addr` is 32-bit and `offset` too.
///
/// # Safety
/// `base` points to `len` accessible bytes.
#[inline(always)]
pub(crate) unsafe fn ea<const N: usize>(
    base: *mut u8,
    len: u64,
    addr: u64,
    offset: u32,
) -> Result<*mut u8, TrapCode> {
    let ea = (addr as u32 as u64) + u64::from(offset);
    if ea + N as u64 > len {
        return Err(TrapCode::MemoryOutOfBounds);
    }
    // SAFETY: `ea + N <= len`: inside the committed memory.
    Ok(unsafe { base.add(ea as usize) })
}

/// Loads `N` little-endian bytes at `addr + offset`.
///
/// # Safety
/// `base` points to `len` accessible bytes.
#[inline(always)]
pub unsafe fn load<const N: usize>(
    base: *mut u8,
    len: u64,
    addr: u64,
    offset: u32,
) -> Result<[u8; N], TrapCode> {
    // SAFETY: `ea` checked the access is in bounds; unaligned reads are allowed.
    unsafe { Ok(core::ptr::read_unaligned(ea::<N>(base, len, addr, offset)?.cast::<[u8; N]>())) }
}

/// Stores `N` bytes at `addr + offset`.
///
/// # Safety
/// `base` points to `len` accessible bytes.
#[inline(always)]
pub unsafe fn store<const N: usize>(
    base: *mut u8,
    len: u64,
    addr: u64,
    offset: u32,
    bytes: [u8; N],
) -> Result<(), TrapCode> {
    // SAFETY: `ea` checked the access is in bounds; unaligned writes are allowed.
    unsafe {
        core::ptr::write_unaligned(ea::<N>(base, len, addr, offset)?.cast::<[u8; N]>(), bytes)
    };
    Ok(())
}

/// `memory.size` in pages.
///
/// # Safety
/// `mem` points to a live memory definition.
#[inline(always)]
pub unsafe fn size(mem: *const VMMemoryDefinition) -> u64 {
    // SAFETY: the caller guarantees `mem` is live.
    (unsafe { (*mem).length } / PAGE_SIZE) as u64
}

/// Defines the handler of a load of `N` bytes, widened by `conv`.
macro_rules! load_handler {
    ($name:ident, $variant:ident, $n:literal, $conv:expr) => {
        handler!($name(pc, fp, mb, ml, x) {
            operands!(pc, Op::$variant { dst, addr, offset });
            match load::<$n>(mb, ml, *fp.add(addr as usize), offset) {
                Ok(b) => *fp.add(dst as usize) = $conv(b),
                Err(code) => return trap!(x, code),
            }
            next!(pc.add(1), fp, mb, ml, x)
        });
    };
}

/// Defines the handler of a store of the low `N` bytes, narrowed by `conv`.
macro_rules! store_handler {
    ($name:ident, $variant:ident, $n:literal, $conv:expr) => {
        handler!($name(pc, fp, mb, ml, x) {
            operands!(pc, Op::$variant { addr, val, offset });
            let v = *fp.add(val as usize);
            if let Err(code) = store::<$n>(mb, ml, *fp.add(addr as usize), offset, $conv(v)) {
                return trap!(x, code);
            }
            next!(pc.add(1), fp, mb, ml, x)
        });
    };
}

load_handler!(i32_load, I32Load, 4, |b| u64::from(u32::from_le_bytes(b)));
load_handler!(f32_load, F32Load, 4, |b| u64::from(u32::from_le_bytes(b)));
load_handler!(i64_load, I64Load, 8, u64::from_le_bytes);
load_handler!(f64_load, F64Load, 8, u64::from_le_bytes);
load_handler!(i32_load8_s, I32Load8S, 1, |b: [u8; 1]| u64::from(b[0] as i8 as i32 as u32));
load_handler!(i32_load8_u, I32Load8U, 1, |b: [u8; 1]| u64::from(b[0]));
load_handler!(i32_load16_s, I32Load16S, 2, |b| u64::from(i16::from_le_bytes(b) as i32 as u32));
load_handler!(i32_load16_u, I32Load16U, 2, |b| u64::from(u16::from_le_bytes(b)));
load_handler!(i64_load8_s, I64Load8S, 1, |b: [u8; 1]| b[0] as i8 as i64 as u64);
load_handler!(i64_load8_u, I64Load8U, 1, |b: [u8; 1]| u64::from(b[0]));
load_handler!(i64_load16_s, I64Load16S, 2, |b| i16::from_le_bytes(b) as i64 as u64);
load_handler!(i64_load16_u, I64Load16U, 2, |b| u64::from(u16::from_le_bytes(b)));
load_handler!(i64_load32_s, I64Load32S, 4, |b| i32::from_le_bytes(b) as i64 as u64);
load_handler!(i64_load32_u, I64Load32U, 4, |b| u64::from(u32::from_le_bytes(b)));
store_handler!(store8, Store8, 1, |v: u64| [v as u8]);
store_handler!(store16, Store16, 2, |v: u64| (v as u16).to_le_bytes());
store_handler!(store32, Store32, 4, |v: u64| (v as u32).to_le_bytes());
store_handler!(store64, Store64, 8, |v: u64| v.to_le_bytes());

handler!(memory_size(pc, fp, mb, ml, x) {
    operands!(pc, Op::MemorySize { dst });
    *fp.add(dst as usize) = size(x.mem);
    next!(pc.add(1), fp, mb, ml, x)
});
handler!(memory_grow(pc, fp, mb, ml, x) {
    let _ = (mb, ml);
    operands!(pc, Op::MemoryGrow { base, mem });
    let delta = *fp.add(base as usize) as u32;
    let addrs = &(*x.inst).memory_addrs;
    let addr = *addrs.get_unchecked(mem as usize) as usize;
    let memories = &mut (*x.store).memories;
    let slot = memories.get_unchecked_mut(addr);
    *fp.add(base as usize) = slot.grow(delta).map_or(u64::from(u32::MAX), u64::from);
    x.refresh_mem();
    next!(pc.add(1), fp, x.mem_base, x.mem_len, x)
});
handler!(memory_fill(pc, fp, mb, ml, x) {
    operands!(pc, Op::MemoryFill { base });
    let a = fp.add(base as usize);
    if let Err(code) = (*x.mem).fill(*a as u32, *a.add(1) as u8, *a.add(2) as u32) {
        return trap!(x, code);
    }
    next!(pc.add(1), fp, mb, ml, x)
});
handler!(memory_copy(pc, fp, mb, ml, x) {
    operands!(pc, Op::MemoryCopy { base });
    let a = fp.add(base as usize);
    let (d, s, n) = (*a as u32, *a.add(1) as u32, *a.add(2) as u32);
    if let Err(code) = (*x.mem).copy_from(&*x.mem, d, s, n) {
        return trap!(x, code);
    }
    next!(pc.add(1), fp, mb, ml, x)
});
handler!(memory_copy_between(pc, fp, mb, ml, x) {
    operands!(pc, Op::MemoryCopyBetween { base, dst, src });
    let a = fp.add(base as usize);
    let (d, s, n) = (*a as u32, *a.add(1) as u32, *a.add(2) as u32);
    let mems = (*x.vmctx).memories;
    let (to, from) = (*mems.add(dst as usize), *mems.add(src as usize));
    if let Err(code) = (*to).copy_from(&*from, d, s, n) {
        return trap!(x, code);
    }
    next!(pc.add(1), fp, mb, ml, x)
});
// Memory `n` becomes the one loads, stores, `memory.size`, `memory.fill` and
// `memory.init` use, until the `MemSelect(0)` the translator emits after the
// operator; memory 0 keeps its registers and its code without an index.
handler!(mem_select(pc, fp, mb, ml, x) {
    let _ = (mb, ml);
    operands!(pc, Op::MemSelect(n));
    x.mem = *(*x.vmctx).memories.add(n as usize);
    x.refresh_mem();
    next!(pc.add(1), fp, x.mem_base, x.mem_len, x)
});
handler!(clamp64(pc, fp, mb, ml, x) {
    operands!(pc, Op::Clamp64 { dst, src });
    *fp.add(dst as usize) = u64::from(clamp_index64(*fp.add(src as usize)));
    next!(pc.add(1), fp, mb, ml, x)
});
handler!(memory_init(pc, fp, mb, ml, x) {
    operands!(pc, Op::MemoryInit { seg, base });
    let a = fp.add(base as usize);
    let (d, s, n) = (*a as u32, *a.add(1) as u32, *a.add(2) as u32);
    if let Err(code) = (*x.mem).init((*x.inst).data(seg), d, s, n) {
        return trap!(x, code);
    }
    next!(pc.add(1), fp, mb, ml, x)
});
handler!(data_drop(pc, fp, mb, ml, x) {
    operands!(pc, Op::DataDrop(seg));
    (*x.inst.cast_mut()).drop_data(seg);
    next!(pc.add(1), fp, mb, ml, x)
});

/// Defines the handler of a load from `lhs + rhs` (or `lhs + imm`), wrapped to 32
/// bits.
macro_rules! load_add_handler {
    ($name:ident, $name_imm:ident, $variant:ident, $variant_imm:ident, $n:literal, $conv:expr) => {
        handler!($name(pc, fp, mb, ml, x) {
            operands!(pc, Op::$variant { dst, lhs, rhs });
            let a = (*fp.add(lhs as usize)).wrapping_add(*fp.add(rhs as usize));
            match load::<$n>(mb, ml, a, 0) {
                Ok(b) => *fp.add(dst as usize) = $conv(b),
                Err(code) => return trap!(x, code),
            }
            next!(pc.add(1), fp, mb, ml, x)
        });
        handler!($name_imm(pc, fp, mb, ml, x) {
            operands!(pc, Op::$variant_imm { dst, lhs, imm });
            let a = (*fp.add(lhs as usize)).wrapping_add(imm as u32 as u64);
            match load::<$n>(mb, ml, a, 0) {
                Ok(b) => *fp.add(dst as usize) = $conv(b),
                Err(code) => return trap!(x, code),
            }
            next!(pc.add(1), fp, mb, ml, x)
        });
    };
}

/// Defines the handler of a store to `lhs + rhs` (or `lhs + imm`), wrapped to 32
/// bits.
macro_rules! store_add_handler {
    ($name:ident, $name_imm:ident, $variant:ident, $variant_imm:ident, $n:literal, $conv:expr) => {
        handler!($name(pc, fp, mb, ml, x) {
            operands!(pc, Op::$variant { lhs, rhs, val });
            let a = (*fp.add(lhs as usize)).wrapping_add(*fp.add(rhs as usize));
            if let Err(code) = store::<$n>(mb, ml, a, 0, $conv(*fp.add(val as usize))) {
                return trap!(x, code);
            }
            next!(pc.add(1), fp, mb, ml, x)
        });
        handler!($name_imm(pc, fp, mb, ml, x) {
            operands!(pc, Op::$variant_imm { lhs, imm, val });
            let a = (*fp.add(lhs as usize)).wrapping_add(imm as u32 as u64);
            if let Err(code) = store::<$n>(mb, ml, a, 0, $conv(*fp.add(val as usize))) {
                return trap!(x, code);
            }
            next!(pc.add(1), fp, mb, ml, x)
        });
    };
}

load_add_handler!(i32_load_add, i32_load_add_imm, I32LoadAdd, I32LoadAddImm, 4, |b| u64::from(
    u32::from_le_bytes(b)
));
load_add_handler!(i64_load_add, i64_load_add_imm, I64LoadAdd, I64LoadAddImm, 8, u64::from_le_bytes);
load_add_handler!(f32_load_add, f32_load_add_imm, F32LoadAdd, F32LoadAddImm, 4, |b| u64::from(
    u32::from_le_bytes(b)
));
load_add_handler!(f64_load_add, f64_load_add_imm, F64LoadAdd, F64LoadAddImm, 8, u64::from_le_bytes);
load_add_handler!(
    i32_load8_u_add,
    i32_load8_u_add_imm,
    I32Load8UAdd,
    I32Load8UAddImm,
    1,
    |b: [u8; 1]| u64::from(b[0])
);
load_add_handler!(
    i32_load8_s_add,
    i32_load8_s_add_imm,
    I32Load8SAdd,
    I32Load8SAddImm,
    1,
    |b: [u8; 1]| u64::from(b[0] as i8 as i32 as u32)
);
load_add_handler!(
    i32_load16_u_add,
    i32_load16_u_add_imm,
    I32Load16UAdd,
    I32Load16UAddImm,
    2,
    |b| u64::from(u16::from_le_bytes(b))
);
load_add_handler!(
    i64_load32_s_add,
    i64_load32_s_add_imm,
    I64Load32SAdd,
    I64Load32SAddImm,
    4,
    |b| i32::from_le_bytes(b) as i64 as u64
);
load_add_handler!(
    i64_load32_u_add,
    i64_load32_u_add_imm,
    I64Load32UAdd,
    I64Load32UAddImm,
    4,
    |b| u64::from(u32::from_le_bytes(b))
);
store_add_handler!(store8_add, store8_add_imm, Store8Add, Store8AddImm, 1, |v: u64| [v as u8]);
store_add_handler!(store16_add, store16_add_imm, Store16Add, Store16AddImm, 2, |v: u64| (v as u16)
    .to_le_bytes());
store_add_handler!(store32_add, store32_add_imm, Store32Add, Store32AddImm, 4, |v: u64| (v as u32)
    .to_le_bytes());
store_add_handler!(store64_add, store64_add_imm, Store64Add, Store64AddImm, 8, |v: u64| v
    .to_le_bytes());

/// Defines the handler of a load from `lhs + (rhs << SHIFT)`, wrapped to 32 bits.
macro_rules! load_idx_handler {
    ($name:ident, $variant:ident, $shift:literal, $n:literal, $conv:expr) => {
        handler!($name(pc, fp, mb, ml, x) {
            operands!(pc, Op::$variant { dst, lhs, rhs });
            let a = (*fp.add(lhs as usize)).wrapping_add(*fp.add(rhs as usize) << $shift);
            match load::<$n>(mb, ml, a, 0) {
                Ok(b) => *fp.add(dst as usize) = $conv(b),
                Err(code) => return trap!(x, code),
            }
            next!(pc.add(1), fp, mb, ml, x)
        });
    };
}

/// Defines the handler of a store to `lhs + (rhs << SHIFT)`, wrapped to 32 bits.
macro_rules! store_idx_handler {
    ($name:ident, $variant:ident, $shift:literal, $n:literal, $conv:expr) => {
        handler!($name(pc, fp, mb, ml, x) {
            operands!(pc, Op::$variant { lhs, rhs, val });
            let a = (*fp.add(lhs as usize)).wrapping_add(*fp.add(rhs as usize) << $shift);
            if let Err(code) = store::<$n>(mb, ml, a, 0, $conv(*fp.add(val as usize))) {
                return trap!(x, code);
            }
            next!(pc.add(1), fp, mb, ml, x)
        });
    };
}

load_idx_handler!(i32_load_idx, I32LoadIdx, 2, 4, |b| u64::from(u32::from_le_bytes(b)));
load_idx_handler!(f32_load_idx, F32LoadIdx, 2, 4, |b| u64::from(u32::from_le_bytes(b)));
load_idx_handler!(i64_load_idx, I64LoadIdx, 3, 8, u64::from_le_bytes);
load_idx_handler!(f64_load_idx, F64LoadIdx, 3, 8, u64::from_le_bytes);
store_idx_handler!(store32_idx, Store32Idx, 2, 4, |v: u64| (v as u32).to_le_bytes());
store_idx_handler!(store64_idx, Store64Idx, 3, 8, |v: u64| v.to_le_bytes());

/// Defines the handler of an address computation `lhs + (rhs << SHIFT)`, wrapped
/// to 32 bits (an `i32.shl` by a constant feeding an `i32.add`).
macro_rules! add_shl_handler {
    ($name:ident, $variant:ident, $shift:literal) => {
        handler!($name(pc, fp, mb, ml, x) {
            operands!(pc, Op::$variant { dst, lhs, rhs });
            let a = (*fp.add(lhs as usize) as u32).wrapping_add((*fp.add(rhs as usize) as u32) << $shift);
            *fp.add(dst as usize) = u64::from(a);
            next!(pc.add(1), fp, mb, ml, x)
        });
    };
}

add_shl_handler!(i32_add_shl2, I32AddShl2, 2);
add_shl_handler!(i32_add_shl3, I32AddShl3, 3);

/// Defines the handler of a load from `(idx << SHIFT) + offset` (the shift wraps to
/// 32 bits, the offset does not).
macro_rules! load_shl_handler {
    ($name:ident, $variant:ident, $shift:literal, $n:literal, $conv:expr) => {
        handler!($name(pc, fp, mb, ml, x) {
            operands!(pc, Op::$variant { dst, idx, offset });
            let a = *fp.add(idx as usize) << $shift;
            match load::<$n>(mb, ml, a, offset) {
                Ok(b) => *fp.add(dst as usize) = $conv(b),
                Err(code) => return trap!(x, code),
            }
            next!(pc.add(1), fp, mb, ml, x)
        });
    };
}

load_shl_handler!(i32_load_shl, I32LoadShl, 2, 4, |b| u64::from(u32::from_le_bytes(b)));
handler!(i32_load_shl_u8(pc, fp, mb, ml, x) {
    operands!(pc, Op::I32LoadShlU8 { dst, idx, offset });
    let a = (*fp.add(idx as usize) & 0xff) << 2;
    match load::<4>(mb, ml, a, offset) {
        Ok(b) => *fp.add(dst as usize) = u64::from(u32::from_le_bytes(b)),
        Err(code) => return trap!(x, code),
    }
    next!(pc.add(1), fp, mb, ml, x)
});
load_shl_handler!(f32_load_shl, F32LoadShl, 2, 4, |b| u64::from(u32::from_le_bytes(b)));
load_shl_handler!(i64_load_shl, I64LoadShl, 3, 8, u64::from_le_bytes);
load_shl_handler!(f64_load_shl, F64LoadShl, 3, 8, u64::from_le_bytes);

/// Defines the handler of a load from `lhs + imm + (rhs << SHIFT)`, wrapped to 32
/// bits.
macro_rules! load_idx_imm_handler {
    ($name:ident, $variant:ident, $shift:literal, $n:literal, $conv:expr) => {
        handler!($name(pc, fp, mb, ml, x) {
            operands!(pc, Op::$variant { dst, lhs, rhs, imm });
            let a = (*fp.add(lhs as usize))
                .wrapping_add(imm as u32 as u64)
                .wrapping_add(*fp.add(rhs as usize) << $shift);
            match load::<$n>(mb, ml, a, 0) {
                Ok(b) => *fp.add(dst as usize) = $conv(b),
                Err(code) => return trap!(x, code),
            }
            next!(pc.add(1), fp, mb, ml, x)
        });
    };
}

/// Defines the handler of a store to `lhs + imm + (rhs << SHIFT)`, wrapped to 32
/// bits.
macro_rules! store_idx_imm_handler {
    ($name:ident, $variant:ident, $shift:literal, $n:literal, $conv:expr) => {
        handler!($name(pc, fp, mb, ml, x) {
            operands!(pc, Op::$variant { lhs, rhs, val, imm });
            let a = (*fp.add(lhs as usize))
                .wrapping_add(imm as u32 as u64)
                .wrapping_add(*fp.add(rhs as usize) << $shift);
            if let Err(code) = store::<$n>(mb, ml, a, 0, $conv(*fp.add(val as usize))) {
                return trap!(x, code);
            }
            next!(pc.add(1), fp, mb, ml, x)
        });
    };
}

load_idx_imm_handler!(i32_load_idx_imm, I32LoadIdxImm, 2, 4, |b| u64::from(u32::from_le_bytes(b)));
load_idx_imm_handler!(f32_load_idx_imm, F32LoadIdxImm, 2, 4, |b| u64::from(u32::from_le_bytes(b)));
load_idx_imm_handler!(i64_load_idx_imm, I64LoadIdxImm, 3, 8, u64::from_le_bytes);
load_idx_imm_handler!(f64_load_idx_imm, F64LoadIdxImm, 3, 8, u64::from_le_bytes);
store_idx_imm_handler!(store32_idx_imm, Store32IdxImm, 2, 4, |v: u64| (v as u32).to_le_bytes());
store_idx_imm_handler!(store64_idx_imm, Store64IdxImm, 3, 8, |v: u64| v.to_le_bytes());

/// Defines the handler of an address computation `lhs + imm + (rhs << SHIFT)`,
/// wrapped to 32 bits.
macro_rules! add_shl_imm_handler {
    ($name:ident, $variant:ident, $shift:literal) => {
        handler!($name(pc, fp, mb, ml, x) {
            operands!(pc, Op::$variant { dst, lhs, rhs, imm });
            let a = (*fp.add(lhs as usize) as u32)
                .wrapping_add(imm as u32)
                .wrapping_add((*fp.add(rhs as usize) as u32) << $shift);
            *fp.add(dst as usize) = u64::from(a);
            next!(pc.add(1), fp, mb, ml, x)
        });
    };
}

add_shl_imm_handler!(i32_add_shl2_imm, I32AddShl2Imm, 2);
add_shl_imm_handler!(i32_add_shl3_imm, I32AddShl3Imm, 3);

/// Defines the handler of an `f64` operator whose right operand is loaded from
/// `addr + offset`; with `acc`, the product accumulates into `dst` instead.
macro_rules! f64_load_op_handler {
    ($name:ident, $variant:ident, |$a:ident, $m:ident, $d:ident| $e:expr) => {
        handler!($name(pc, fp, mb, ml, x) {
            operands!(pc, Op::$variant { dst, lhs, addr, offset });
            match load::<8>(mb, ml, *fp.add(addr as usize), offset) {
                Ok(b) => {
                    let $a = f64::from_bits(*fp.add(lhs as usize));
                    let $m = f64::from_bits(u64::from_le_bytes(b));
                    let $d = f64::from_bits(*fp.add(dst as usize));
                    let _ = $d;
                    *fp.add(dst as usize) = ($e).to_bits();
                }
                Err(code) => return trap!(x, code),
            }
            next!(pc.add(1), fp, mb, ml, x)
        });
    };
}

f64_load_op_handler!(f64_add_load, F64AddLoad, |a, m, d| a + m);
f64_load_op_handler!(f64_sub_load, F64SubLoad, |a, m, d| a - m);
f64_load_op_handler!(f64_mul_load, F64MulLoad, |a, m, d| a * m);
// Two roundings, as the `f64.mul` and `f64.add`/`f64.sub` these replace.
f64_load_op_handler!(f64_mul_add_load, F64MulAddLoad, |a, m, d| d + a * m);
f64_load_op_handler!(f64_mul_sub_load, F64MulSubLoad, |a, m, d| d - a * m);
