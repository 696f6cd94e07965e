//! A module's published machine code.
//!
//! The module's bytes (every function and trampoline, one `VecAssembler` per module)
//! are copied into a fresh anonymous read-write mapping, which then becomes
//! read-execute before any of it runs: no page is writable and executable at once
//! (W^X). dynasmrt's `MutableBuffer::make_exec` does the protection change; the
//! mapping is released when the [`ModuleCode`] is dropped.

use dynasmrt::mmap::{ExecutableBuffer, MutableBuffer};
use vm_core::runtime::CompileError;
use vm_core::runtime::artifact::CodeImage;
use vm_core::runtime::native::CodeMap;

/// One compiled module: its executable pages, their description for the `virt`
/// plugin and the entry trampoline of each function type.
#[derive(Debug)]
pub struct ModuleCode {
    buf: ExecutableBuffer,
    map: CodeMap,
    /// Per type index: the entry trampoline's offset.
    entries: Vec<u32>,
    /// Per type index: the host-call trampoline's offset.
    host_calls: Vec<u32>,
}

impl ModuleCode {
    /// Publishes an image of this engine's code (position-independent: every
    /// reference inside is pc-relative, so it has no relocations). Its offsets were
    /// checked by `CodeImage::validate` or come from the compiler.
    ///
    /// # Errors
    /// The image has relocations, or the mapping or the protection change failed.
    pub(crate) fn from_image(image: &CodeImage, first_func: u32) -> Result<Self, CompileError> {
        if !image.relocs.is_empty() || !image.saves.is_empty() {
            return Err(CompileError::Limit(
                "engine-dynasm: its code has no relocations or register-save records",
            ));
        }
        Self::publish(&image.code, image.entries.clone(), image.host_calls.clone(), |base, len| {
            CodeMap::new(
                base,
                len,
                first_func,
                image.funcs.clone(),
                image.traps.clone(),
                image.srclocs.clone(),
            )
            .with_exceptions(image.handlers.clone(), Vec::new())
        })
    }

    /// Publishes `bytes` (position-independent: every reference inside is
    /// pc-relative) and describes them with `describe(base, len)`.
    ///
    /// # Errors
    /// The mapping or the protection change failed.
    pub(crate) fn publish(
        bytes: &[u8],
        entries: Vec<u32>,
        host_calls: Vec<u32>,
        describe: impl FnOnce(usize, usize) -> CodeMap,
    ) -> Result<Self, CompileError> {
        let mut buf = MutableBuffer::new(bytes.len().max(1))
            .map_err(|_| CompileError::Limit("engine-dynasm: code mapping failed"))?;
        buf.set_len(bytes.len());
        buf[..bytes.len()].copy_from_slice(bytes);
        let buf = buf
            .make_exec()
            .map_err(|_| CompileError::Limit("engine-dynasm: making code executable failed"))?;
        let base = buf.as_ptr() as usize;
        let map = describe(base, bytes.len());
        Ok(Self { buf, map, entries, host_calls })
    }

    /// The description of this code the `virt` plugin runs it with (functions,
    /// trap sites, wasm offsets).
    pub fn map(&self) -> &CodeMap {
        &self.map
    }

    /// The first byte of the code.
    pub fn base(&self) -> *const u8 {
        self.buf.as_ptr()
    }

    /// The entry trampoline for type index `ty` (see [`crate::trampoline`]).
    pub fn entry_trampoline(&self, ty: u32) -> Option<*const u8> {
        let off = *self.entries.get(ty as usize)?;
        Some(self.base().wrapping_add(off as usize))
    }

    /// The host-call trampoline for type index `ty` (see [`crate::trampoline`]).
    pub fn host_trampoline(&self, ty: u32) -> Option<*const u8> {
        let off = *self.host_calls.get(ty as usize)?;
        Some(self.base().wrapping_add(off as usize))
    }

    /// The native code of defined function `func` (module index space).
    pub fn function(&self, func: u32) -> Option<*const u8> {
        self.map.function(func).map(|r| r.start as *const u8)
    }

    /// Bytes of machine code.
    pub fn code_bytes(&self) -> usize {
        self.map.range().len()
    }
}
