//! Reading and writing guest structures inside linear memory. Every access is checked;
//! a bad pointer is `Errno::Fault`, never a panic.

use std::io::{IoSlice, IoSliceMut};
use std::ops::Range;

use crate::abi::Errno;

/// `mem[ptr..ptr + len]` as a range, checked.
pub(crate) fn range(mem: &[u8], ptr: usize, len: usize) -> Result<Range<usize>, Errno> {
    match ptr.checked_add(len) {
        Some(end) if end <= mem.len() => Ok(ptr..end),
        _ => Err(Errno::Fault),
    }
}

/// `N` bytes at `ptr`.
pub(crate) fn array<const N: usize>(mem: &[u8], ptr: usize) -> Result<[u8; N], Errno> {
    let r = range(mem, ptr, N)?;
    mem.get(r).and_then(|s| s.try_into().ok()).ok_or(Errno::Fault)
}

/// A little-endian `u16` at `ptr`.
pub(crate) fn u16_at(mem: &[u8], ptr: usize) -> Result<u16, Errno> {
    array(mem, ptr).map(u16::from_le_bytes)
}

/// A little-endian `u32` at `ptr`.
pub(crate) fn u32_at(mem: &[u8], ptr: usize) -> Result<u32, Errno> {
    array(mem, ptr).map(u32::from_le_bytes)
}

/// A little-endian `u64` at `ptr`.
pub(crate) fn u64_at(mem: &[u8], ptr: usize) -> Result<u64, Errno> {
    array(mem, ptr).map(u64::from_le_bytes)
}

/// Copies `bytes` to `ptr`.
pub(crate) fn write(mem: &mut [u8], ptr: usize, bytes: &[u8]) -> Result<(), Errno> {
    let r = range(mem, ptr, bytes.len())?;
    mem.get_mut(r).ok_or(Errno::Fault)?.copy_from_slice(bytes);
    Ok(())
}

/// The most buffers one `fd_read`/`fd_write` (and their `p` forms) may name: Linux's
/// `IOV_MAX`. More is `Errno::Inval`, as POSIX `readv`/`writev` answer.
pub const MAX_IOVS: u32 = 1024;

/// The buffers of an `iovec`/`ciovec` array (`{ buf: u32, buf_len: u32 }` × `count`),
/// each checked against the memory.
///
/// # Errors
/// `Inval` for more than [`MAX_IOVS`] buffers (before anything is allocated for them),
/// `Fault` for an array or a buffer outside the memory.
pub(crate) fn iovecs(mem: &[u8], ptr: u32, count: u32) -> Result<Vec<Range<usize>>, Errno> {
    if count > MAX_IOVS {
        return Err(Errno::Inval);
    }
    let count = count as usize;
    range(mem, ptr as usize, count.checked_mul(8).ok_or(Errno::Fault)?)?;
    (0..count)
        .map(|i| {
            let at = ptr as usize + i * 8;
            let buf = u32_at(mem, at)? as usize;
            let len = u32_at(mem, at + 4)? as usize;
            range(mem, buf, len)
        })
        .collect()
}

/// Shared slices of the given (checked) ranges, for `writev`.
pub(crate) fn io_slices<'m>(mem: &'m [u8], ranges: &[Range<usize>]) -> Vec<IoSlice<'m>> {
    ranges.iter().filter_map(|r| mem.get(r.clone())).map(IoSlice::new).collect()
}

/// Disjoint mutable slices of the given ranges, in the given order, for `readv`. Empty
/// ranges are dropped (they take no bytes); overlapping ones are `Errno::Inval`.
pub(crate) fn io_slices_mut<'m>(
    mem: &'m mut [u8],
    ranges: &[Range<usize>],
) -> Result<Vec<IoSliceMut<'m>>, Errno> {
    let mut order: Vec<usize> = (0..ranges.len()).filter(|&i| !ranges[i].is_empty()).collect();
    order.sort_by_key(|&i| ranges[i].start);
    let mut out: Vec<Option<&'m mut [u8]>> = (0..ranges.len()).map(|_| None).collect();
    let mut rest: &'m mut [u8] = mem;
    let mut base = 0usize;
    for &i in &order {
        let r = &ranges[i];
        if r.start < base {
            return Err(Errno::Inval);
        }
        let (_, tail) = rest.split_at_mut_checked(r.start - base).ok_or(Errno::Fault)?;
        let (slice, tail) = tail.split_at_mut_checked(r.len()).ok_or(Errno::Fault)?;
        out[i] = Some(slice);
        rest = tail;
        base = r.end;
    }
    Ok(out.into_iter().flatten().map(IoSliceMut::new).collect())
}
