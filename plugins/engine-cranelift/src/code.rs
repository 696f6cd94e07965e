//! Code memory and a module's compiled code.
//!
//! Machine code is copied into fresh anonymous pages while they are read-write, its
//! relocations are resolved, and the pages become read-execute before any of it
//! runs: no page is ever writable and executable at once (W^X). The pages are
//! unmapped when the module's code is dropped. What the code means to the `virt`
//! plugin that runs it (trap sites, functions) is its `vm_core::runtime::native::CodeMap`.

use std::ops::Range;

use vm_core::runtime::CompileError;
use vm_core::runtime::native::CodeMap;

/// Executable pages holding one module's functions and trampolines.
#[derive(Debug)]
pub struct CodeMemory {
    base: *mut u8,
    len: usize,
}

// SAFETY: the pages are immutable (read-execute) once published and owned by this
// value; sharing or sending a pointer to immutable memory is sound.
unsafe impl Send for CodeMemory {}
// SAFETY: as above; no interior mutability after `publish`.
unsafe impl Sync for CodeMemory {}

fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(p).ok().filter(|&p| p > 0).unwrap_or(4096)
}

impl CodeMemory {
    /// Maps read-write pages for `bytes`, copies them in, lets `patch` resolve
    /// relocations against the final address, then makes the pages read-execute.
    ///
    /// # Errors
    /// The mapping or the protection change failed, or `patch` failed.
    pub fn publish(
        bytes: &[u8],
        patch: impl FnOnce(&mut [u8], usize) -> Result<(), CompileError>,
    ) -> Result<Self, CompileError> {
        let page = page_size();
        let len = bytes.len().max(1).div_ceil(page) * page;
        // SAFETY: a fresh private anonymous mapping; no existing memory is affected.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(CompileError::Limit("code memory: mmap failed"));
        }
        let mem = Self { base: base.cast(), len };
        // SAFETY: `base` is a fresh read-write mapping of `len >= bytes.len()` bytes
        // that nothing else references.
        let buf = unsafe { std::slice::from_raw_parts_mut(mem.base, len) };
        buf[..bytes.len()].copy_from_slice(bytes);
        patch(&mut buf[..bytes.len()], mem.base as usize)?;
        // SAFETY: the mapping is ours; from here on it is never written again.
        let rc = unsafe { libc::mprotect(mem.base.cast(), len, libc::PROT_READ | libc::PROT_EXEC) };
        if rc != 0 {
            return Err(CompileError::Limit("code memory: mprotect to read-execute failed"));
        }
        Ok(mem)
    }

    /// The first byte.
    pub fn base(&self) -> *const u8 {
        self.base
    }

    /// The address range the code occupies.
    pub fn range(&self) -> Range<usize> {
        self.base as usize..self.base as usize + self.len
    }
}

impl Drop for CodeMemory {
    fn drop(&mut self) {
        // SAFETY: `base`/`len` describe our own mapping, unmapped only here; no code
        // in it runs any more (the module and every instance of it are gone).
        unsafe {
            libc::munmap(self.base.cast(), self.len);
        }
    }
}

/// One compiled module: every defined function, the trampolines the host uses to
/// call into it, and the trampolines its imports of host functions use. Its
/// [`CodeMap`] (functions, trap sites, source locations) is what the `virt` plugin
/// runs it with.
#[derive(Debug)]
pub struct ModuleCode {
    pub(crate) mem: CodeMemory,
    /// Functions, trap sites and source locations, by address.
    pub(crate) map: CodeMap,
    /// Per type index: the entry trampoline's offset.
    pub(crate) entries: Vec<u32>,
    /// Per type index: the host-call trampoline's offset.
    pub(crate) host_calls: Vec<u32>,
}

impl ModuleCode {
    /// The description of this code the `virt` plugin runs it with.
    pub fn map(&self) -> &CodeMap {
        &self.map
    }

    /// The native address of a code offset.
    pub(crate) fn addr(&self, off: u32) -> *const u8 {
        self.mem.base().wrapping_add(off as usize)
    }

    /// Bytes of machine code.
    pub fn code_bytes(&self) -> usize {
        self.mem.len
    }
}

#[cfg(test)]
mod tests {
    use super::CodeMemory;

    /// The permissions of the mapping containing `addr`, from `/proc/self/maps`.
    fn perms(addr: usize) -> Option<String> {
        let maps = std::fs::read_to_string("/proc/self/maps").ok()?;
        maps.lines().find_map(|l| {
            let mut parts = l.split_whitespace();
            let (lo, hi) = parts.next()?.split_once('-')?;
            let (lo, hi) =
                (usize::from_str_radix(lo, 16).ok()?, usize::from_str_radix(hi, 16).ok()?);
            (lo <= addr && addr < hi).then(|| parts.next().map(str::to_owned)).flatten()
        })
    }

    #[test]
    fn published_code_runs_from_read_execute_pages_and_is_unmapped_on_drop() {
        // mov eax, 42; ret
        let mem = CodeMemory::publish(&[0xb8, 42, 0, 0, 0, 0xc3], |_, _| Ok(())).unwrap();
        let addr = mem.base() as usize;
        assert_eq!(perms(addr).as_deref(), Some("r-xp"), "never writable and executable");
        // SAFETY: the bytes above are a complete function returning 42 in eax.
        let f: extern "sysv64" fn() -> u32 = unsafe { std::mem::transmute(mem.base()) };
        assert_eq!(f(), 42);
        drop(mem);
        assert_ne!(perms(addr).as_deref(), Some("r-xp"), "unmapped with its module");
    }

    #[test]
    fn relocations_are_patched_before_the_pages_become_executable() {
        let mem = CodeMemory::publish(&[0xb8, 0, 0, 0, 0, 0xc3], |buf, base| {
            assert_ne!(base, 0);
            buf[1] = 7;
            Ok(())
        })
        .unwrap();
        // SAFETY: `mov eax, 7; ret` after patching.
        let f: extern "sysv64" fn() -> u32 = unsafe { std::mem::transmute(mem.base()) };
        assert_eq!(f(), 7);
    }
}
