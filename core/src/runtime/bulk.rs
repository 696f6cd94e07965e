//! Bulk memory and table operations (`fill`, `copy`, `init`, element access) with
//! their range checks, on the definitions generated code reads. Every engine runs
//! these: an interpreter's handlers call them inline, a JIT's runtime functions are
//! thin shims over them.
//!
//! The operations take the definitions by reference and are `#[inline]`, so that a
//! handler compiles to the same code it would with the checks written out.
//!
//! Sizes and indexes are the 32-bit operands of the instructions; a range check
//! fails when `start + len` (computed without overflow) exceeds the region's size.

use super::offsets::{RawRef, VMMemoryDefinition, VMTableDefinition};
use super::trap::TrapCode;

/// The start of `[start, start + len)` in a memory of `size` bytes, or
/// [`TrapCode::MemoryOutOfBounds`].
#[inline(always)]
fn mem_range(start: u32, len: u32, size: usize) -> Result<usize, TrapCode> {
    if u64::from(start) + u64::from(len) > size as u64 {
        return Err(TrapCode::MemoryOutOfBounds);
    }
    Ok(start as usize)
}

/// The start of `[start, start + len)` in a table of `size` elements, or
/// [`TrapCode::TableOutOfBounds`].
#[inline(always)]
fn table_range(start: u32, len: u32, size: usize) -> Result<usize, TrapCode> {
    if u64::from(start) + u64::from(len) > size as u64 {
        return Err(TrapCode::TableOutOfBounds);
    }
    Ok(start as usize)
}

impl VMMemoryDefinition {
    /// `memory.fill`: sets `len` bytes from `dst` to `val`.
    ///
    /// # Errors
    /// [`TrapCode::MemoryOutOfBounds`] when the range is outside the memory (nothing
    /// is written).
    ///
    /// # Safety
    /// `base` points to `length` writable bytes, not otherwise borrowed.
    #[inline]
    pub unsafe fn fill(&self, dst: u32, val: u8, len: u32) -> Result<(), TrapCode> {
        let d = mem_range(dst, len, self.length)?;
        // SAFETY: `d + len <= length`: inside the memory (the caller's contract).
        unsafe { core::ptr::write_bytes(self.base.add(d), val, len as usize) };
        Ok(())
    }

    /// `memory.copy`: copies `len` bytes from `src` in memory `from` to `dst` in this
    /// one (the memories may be the same; the ranges may overlap).
    ///
    /// # Errors
    /// [`TrapCode::MemoryOutOfBounds`] when either range is outside its memory
    /// (nothing is written).
    ///
    /// # Safety
    /// Both definitions describe live memories as for [`Self::fill`].
    #[inline]
    pub unsafe fn copy_from(
        &self,
        from: &VMMemoryDefinition,
        dst: u32,
        src: u32,
        len: u32,
    ) -> Result<(), TrapCode> {
        let d = mem_range(dst, len, self.length)?;
        let s = mem_range(src, len, from.length)?;
        // SAFETY: both ranges are checked; `ptr::copy` allows overlap.
        unsafe { core::ptr::copy(from.base.add(s), self.base.add(d), len as usize) };
        Ok(())
    }

    /// `memory.init`: copies `len` bytes from `src` in data segment `data` to `dst`.
    ///
    /// # Errors
    /// [`TrapCode::MemoryOutOfBounds`] when either range is outside the memory or
    /// the segment (nothing is written).
    ///
    /// # Safety
    /// As for [`Self::fill`]; `data` does not overlap the memory.
    #[inline]
    pub unsafe fn init(&self, data: &[u8], dst: u32, src: u32, len: u32) -> Result<(), TrapCode> {
        let d = mem_range(dst, len, self.length)?;
        let s = mem_range(src, len, data.len())?;
        // SAFETY: both ranges are checked; the caller guarantees no overlap.
        unsafe {
            core::ptr::copy_nonoverlapping(data.as_ptr().add(s), self.base.add(d), len as usize)
        };
        Ok(())
    }

    /// The memory's bytes as a host function sees them: `None` for a null
    /// definition (no memory) or an empty memory.
    ///
    /// # Safety
    /// `def` is null or describes a live memory as for [`Self::fill`], not borrowed
    /// otherwise for `'a`.
    #[inline]
    pub unsafe fn host_view<'a>(def: *const VMMemoryDefinition) -> Option<&'a mut [u8]> {
        // SAFETY: the caller's contract.
        unsafe {
            if def.is_null() || (*def).length == 0 {
                return None;
            }
            Some(core::slice::from_raw_parts_mut((*def).base, (*def).length))
        }
    }
}

impl VMTableDefinition {
    /// The elements.
    ///
    /// # Safety
    /// `base` points to `length` initialized elements, not otherwise borrowed for
    /// `'a`.
    #[inline(always)]
    pub unsafe fn elements<'a>(&self) -> &'a mut [RawRef] {
        // SAFETY: the caller's contract.
        unsafe { core::slice::from_raw_parts_mut(self.base, self.length as usize) }
    }

    /// `table.get`.
    ///
    /// # Errors
    /// [`TrapCode::TableOutOfBounds`] when `i` is past the end.
    ///
    /// # Safety
    /// As for [`Self::elements`].
    #[inline(always)]
    pub unsafe fn get(&self, i: u32) -> Result<RawRef, TrapCode> {
        // SAFETY: forwarded contract.
        let e = unsafe { self.elements() };
        e.get(i as usize).copied().ok_or(TrapCode::TableOutOfBounds)
    }

    /// `table.set`.
    ///
    /// # Errors
    /// [`TrapCode::TableOutOfBounds`] when `i` is past the end.
    ///
    /// # Safety
    /// As for [`Self::elements`].
    #[inline(always)]
    pub unsafe fn set(&self, i: u32, v: RawRef) -> Result<(), TrapCode> {
        // SAFETY: forwarded contract.
        let e = unsafe { self.elements() };
        *e.get_mut(i as usize).ok_or(TrapCode::TableOutOfBounds)? = v;
        Ok(())
    }

    /// `table.fill`: sets `len` elements from `dst` to `v`.
    ///
    /// # Errors
    /// [`TrapCode::TableOutOfBounds`] when the range is outside the table (nothing
    /// is written).
    ///
    /// # Safety
    /// As for [`Self::elements`].
    #[inline]
    pub unsafe fn fill(&self, dst: u32, v: RawRef, len: u32) -> Result<(), TrapCode> {
        // SAFETY: forwarded contract.
        let e = unsafe { self.elements() };
        let d = table_range(dst, len, e.len())?;
        e[d..d + len as usize].fill(v);
        Ok(())
    }

    /// `table.copy`: copies `len` elements from `src` in table `from` to `dst` in
    /// this one (the tables may be the same; the ranges may overlap).
    ///
    /// # Errors
    /// [`TrapCode::TableOutOfBounds`] when either range is outside its table
    /// (nothing is written).
    ///
    /// # Safety
    /// Both definitions describe live tables as for [`Self::elements`].
    #[inline]
    pub unsafe fn copy_from(
        &self,
        from: &VMTableDefinition,
        dst: u32,
        src: u32,
        len: u32,
    ) -> Result<(), TrapCode> {
        let d = table_range(dst, len, self.length as usize)?;
        let s = table_range(src, len, from.length as usize)?;
        // SAFETY: both ranges are checked; `ptr::copy` allows overlap within one
        // table.
        unsafe { core::ptr::copy(from.base.add(s), self.base.add(d), len as usize) };
        Ok(())
    }

    /// `table.init`: copies `len` elements from `src` in element segment `seg` to
    /// `dst`.
    ///
    /// # Errors
    /// [`TrapCode::TableOutOfBounds`] when either range is outside the table or the
    /// segment (nothing is written).
    ///
    /// # Safety
    /// As for [`Self::elements`]; `seg` does not overlap the table.
    #[inline]
    pub unsafe fn init(
        &self,
        seg: &[RawRef],
        dst: u32,
        src: u32,
        len: u32,
    ) -> Result<(), TrapCode> {
        // SAFETY: forwarded contract.
        let e = unsafe { self.elements() };
        let d = table_range(dst, len, e.len())?;
        let s = table_range(src, len, seg.len())?;
        let n = len as usize;
        e[d..d + n].copy_from_slice(&seg[s..s + n]);
        Ok(())
    }
}

#[cfg(test)]
mod tests;
