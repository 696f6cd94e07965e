//! Linear memory instructions: loads, stores, size, grow, fill, copy, init.
//!
//! The interpreter checks bounds explicitly even under guard pages: a fault would be
//! a signal, and a trap must be a value.

use vm_core::runtime::{PAGE_SIZE, TrapCode, VMMemoryDefinition};

/// The effective address of an `N`-byte access to the memory at `base` of `len`
/// bytes, bounds-checked: one compare, as `addr` is 32-bit and `offset` too.
///
/// # Safety
/// `base` points to `len` accessible bytes.
#[inline(always)]
unsafe fn ea<const N: usize>(
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

/// Checks that `[start, start + len)` lies in a region of `size` bytes.
#[inline(always)]
pub fn check_range(start: u64, len: u64, size: usize) -> Result<usize, TrapCode> {
    let start = start as u32 as u64;
    let len = len as u32 as u64;
    if start + len > size as u64 {
        return Err(TrapCode::MemoryOutOfBounds);
    }
    Ok(start as usize)
}

/// `memory.fill`.
///
/// # Safety
/// `mem` points to a live memory definition.
pub unsafe fn fill(
    mem: *const VMMemoryDefinition,
    d: u64,
    val: u64,
    n: u64,
) -> Result<(), TrapCode> {
    // SAFETY: the caller guarantees `mem` is live; the range is checked.
    unsafe {
        let def = &*mem;
        let d = check_range(d, n, def.length)?;
        core::ptr::write_bytes(def.base.add(d), val as u8, n as u32 as usize);
    }
    Ok(())
}

/// `memory.copy` (overlapping ranges allowed).
///
/// # Safety
/// `mem` points to a live memory definition.
pub unsafe fn copy(mem: *const VMMemoryDefinition, d: u64, s: u64, n: u64) -> Result<(), TrapCode> {
    // SAFETY: the caller guarantees `mem` is live; both ranges are checked.
    unsafe {
        let def = &*mem;
        let d = check_range(d, n, def.length)?;
        let s = check_range(s, n, def.length)?;
        core::ptr::copy(def.base.add(s), def.base.add(d), n as u32 as usize);
    }
    Ok(())
}

/// `memory.init` from a data segment's bytes.
///
/// # Safety
/// `mem` points to a live memory definition not overlapping `data`.
pub unsafe fn init(
    mem: *const VMMemoryDefinition,
    data: &[u8],
    d: u64,
    s: u64,
    n: u64,
) -> Result<(), TrapCode> {
    // SAFETY: the caller guarantees `mem` is live; both ranges are checked.
    unsafe {
        let def = &*mem;
        let d = check_range(d, n, def.length)?;
        let s = check_range(s, n, data.len())?;
        core::ptr::copy_nonoverlapping(data.as_ptr().add(s), def.base.add(d), n as u32 as usize);
    }
    Ok(())
}
