//! Ahead-of-time compiled modules: one file holding a module's machine code, its
//! relocations, trap sites, source locations, exception tables and the module's own
//! bytes, which `vm run app.vmc` loads without compiling; and the on-disk cache of
//! such files ([`cache`]).
//!
//! An engine with native code compiles a module into a [`CodeImage`]: the code as
//! bytes at offset 0, every address inside it relative to that offset, and the
//! places that need an address only known when the code is loaded (a call of a math
//! helper) as symbolic [`Reloc`]s. The engine publishes an image itself when it
//! compiles (see `Engine::compile_image` and `Engine::load_image`); an artifact is
//! the same image written to a file. This module owns everything about the file:
//! its layout, the hashes in its header, the checks run on loading. Engines only
//! produce and consume images.
//!
//! # Layout
//!
//! All integers little-endian.
//!
//! | bytes | field |
//! |---|---|
//! | 4 | magic `\0vmc` |
//! | 4 | format version ([`FORMAT_VERSION`]) |
//! | 8 | composition hash ([`CompositionKey`]) |
//! | 8 | module hash (of the module's bytes) |
//! | 8 | length of the rest of the file |
//! | 8 | checksum of the rest of the file |
//! | rest | the composition's description (text), the module's bytes, the image |
//!
//! # What loading checks
//!
//! The magic, the version, the length and the checksum of everything after the
//! header (a truncated or corrupted file is rejected before anything is read from
//! it), the composition hash (code compiled by another build of `vm`, another
//! engine, `simd` level, `virt` plugin, set of proposals, CPU features or
//! code-generating setting is rejected, naming what differs), the module hash,
//! then the module's bytes are decoded and validated again (cheap next to
//! compiling) and every offset of the image is checked against the code's length
//! and the module ([`CodeImage::validate`]). The checksum guards against damage,
//! not against an attacker: like any compiled program, an artifact is machine code
//! that runs as it is, so run only artifacts you trust (a file whose checksum was
//! recomputed after its code was altered runs that code).

use std::ops::Range;
use std::sync::OnceLock;

use thiserror::Error;

use super::native::{HandlerSite, RegSaves, TrapKind, TrapSite};
use super::{ModuleInfo, TrapCode};

pub mod cache;
pub use cache::{Cache, CacheOutcome};
#[cfg(test)]
mod tests;

/// The first four bytes of an artifact.
pub const MAGIC: [u8; 4] = *b"\0vmc";

/// The version of the layout this build reads and writes.
pub const FORMAT_VERSION: u32 = 1;

/// Bytes of the fixed header.
pub const HEADER_LEN: usize = 40;

/// Whether `bytes` starts like an artifact (its magic), whatever else it holds.
pub fn is_artifact(bytes: &[u8]) -> bool {
    bytes.starts_with(&MAGIC)
}

/// An artifact could not be written or loaded.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum ArtifactError {
    /// The file does not start with the artifact magic.
    #[error("not a compiled module (no `\\0vmc` magic)")]
    NotAnArtifact,
    /// Another version of the layout.
    #[error(
        "compiled module format version {found}, this vm reads version {expected}: compile it again with `vm compile`"
    )]
    Version {
        /// The file's version.
        found: u32,
        /// The version this build reads.
        expected: u32,
    },
    /// The file is shorter or longer than its header says.
    #[error(
        "compiled module is truncated or has trailing bytes: {found} bytes, header says {expected}"
    )]
    Length {
        /// The file's length.
        found: u64,
        /// The length the header gives.
        expected: u64,
    },
    /// The checksum does not match: the file is damaged.
    #[error("compiled module is corrupted (checksum mismatch)")]
    Checksum,
    /// Compiled by another composition or build.
    #[error(
        "compiled module was built for another composition ({differs}): compile it again with this vm"
    )]
    Composition {
        /// What differs, `key: file's value, this vm's value` each.
        differs: String,
    },
    /// The module's bytes do not match the module hash in the header.
    #[error("compiled module's embedded module does not match its hash")]
    ModuleHash,
    /// A field is malformed (past the end, an unknown kind, an offset outside the
    /// code, a count that does not match the module).
    #[error("malformed compiled module: {0}")]
    Malformed(String),
    /// The engine cannot write this code into an artifact.
    #[error("cannot write a compiled module: {0}")]
    Unsupported(String),
}

fn malformed(what: impl Into<String>) -> ArtifactError {
    ArtifactError::Malformed(what.into())
}

// ---------------------------------------------------------------------------------
// Hashing

/// A 64-bit hash of `bytes` that is the same on every build and platform (the
/// checksum and the hashes of an artifact's header). Any change confined to one
/// 8-byte word changes the result (each step is a bijection of the state).
pub fn hash64(bytes: &[u8]) -> u64 {
    let mut h = Hasher::new();
    h.write(bytes);
    h.finish()
}

/// The streaming form of [`hash64`].
#[derive(Clone, Debug)]
pub struct Hasher {
    state: u64,
    len: u64,
    tail: [u8; 8],
    tail_len: usize,
}

const K1: u64 = 0x9e37_79b9_7f4a_7c15;
const K2: u64 = 0xc2b2_ae3d_27d4_eb4f;

impl Default for Hasher {
    fn default() -> Self {
        Self::new()
    }
}

impl Hasher {
    /// A hasher with nothing written.
    pub fn new() -> Self {
        Self { state: 0x243f_6a88_85a3_08d3, len: 0, tail: [0; 8], tail_len: 0 }
    }

    #[inline]
    fn word(&mut self, w: u64) {
        self.state = (self.state ^ w).wrapping_mul(K1).rotate_left(29).wrapping_add(K2);
    }

    /// Appends `bytes`.
    pub fn write(&mut self, mut bytes: &[u8]) {
        self.len += bytes.len() as u64;
        if self.tail_len > 0 {
            let n = (8 - self.tail_len).min(bytes.len());
            self.tail[self.tail_len..self.tail_len + n].copy_from_slice(&bytes[..n]);
            self.tail_len += n;
            bytes = &bytes[n..];
            if self.tail_len < 8 {
                return;
            }
            self.word(u64::from_le_bytes(self.tail));
            self.tail_len = 0;
        }
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0; 8];
            w.copy_from_slice(c);
            self.word(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        self.tail[..rest.len()].copy_from_slice(rest);
        self.tail_len = rest.len();
    }

    /// Appends a length-prefixed string (so `"ab","c"` and `"a","bc"` differ).
    pub fn write_str(&mut self, s: &str) {
        self.write(&(s.len() as u64).to_le_bytes());
        self.write(s.as_bytes());
    }

    /// The hash of everything written.
    pub fn finish(&self) -> u64 {
        let mut s = self.clone();
        if s.tail_len > 0 {
            let mut w = [0; 8];
            w[..s.tail_len].copy_from_slice(&s.tail[..s.tail_len]);
            s.word(u64::from_le_bytes(w));
        }
        s.word(s.len);
        // splitmix64's finalizer: every input bit reaches every output bit.
        let mut z = s.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

// ---------------------------------------------------------------------------------
// The composition key

/// What compiled code depends on besides the module: the build of the program
/// (its GNU build id, see [`build_id`]), the engine, `virt`, `gc` and `simd`
/// plugins with their versions, the proposals accepted, the observer events that
/// change code, and the engine's own settings and CPU features
/// (`Engine::aot_key`). Two programs that compute the same key generate the same
/// code for the same module.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompositionKey {
    /// `key=value` entries, one per line, in a fixed order.
    pub text: String,
    /// The hash of `text`.
    pub hash: u64,
}

impl CompositionKey {
    /// A key from its entries.
    pub fn new(entries: &[(&str, String)]) -> Self {
        let mut text = String::new();
        for (k, v) in entries {
            text.push_str(k);
            text.push('=');
            text.push_str(v);
            text.push('\n');
        }
        let hash = hash64(text.as_bytes());
        Self { text, hash }
    }

    /// The entries of `self` and `other` that differ, as `key: ours, theirs`.
    fn differences(&self, file: &str) -> String {
        let entries = |t: &str| -> Vec<(String, String)> {
            t.lines()
                .map(|l| match l.split_once('=') {
                    Some((k, v)) => (k.to_owned(), v.to_owned()),
                    None => (l.to_owned(), String::new()),
                })
                .collect()
        };
        let (ours, theirs) = (entries(&self.text), entries(file));
        let short = |v: &str| -> String {
            if v.chars().count() > 48 {
                format!("{}...", v.chars().take(45).collect::<String>())
            } else {
                v.to_owned()
            }
        };
        let (ours, theirs): (Vec<_>, Vec<_>) = (
            ours.into_iter().map(|(k, v)| (k, short(&v))).collect(),
            theirs.into_iter().map(|(k, v)| (k, short(&v))).collect(),
        );
        let mut out = Vec::new();
        for (k, v) in &theirs {
            match ours.iter().find(|(k2, _)| k2 == k) {
                Some((_, v2)) if v2 == v => {}
                Some((_, v2)) => out.push(format!("{k}: file has {v}, this vm has {v2}")),
                None => out.push(format!("{k}: file has {v}, this vm has none")),
            }
        }
        for (k, v) in &ours {
            if !theirs.iter().any(|(k2, _)| k2 == k) {
                out.push(format!("{k}: file has none, this vm has {v}"));
            }
        }
        const SHOWN: usize = 4;
        if out.len() > SHOWN {
            let more = out.len() - SHOWN;
            out.truncate(SHOWN);
            out.push(format!("{more} more"));
        }
        if out.is_empty() { "its key".to_owned() } else { out.join("; ") }
    }
}

/// The GNU build id of the running program (the linker's hash of its contents,
/// kept by `strip`), as hex; when the program has none, a hash of its executable
/// file; `"unknown"` when neither can be read. Computed once per process.
///
/// It is part of every [`CompositionKey`]: code compiled by one build of `vm` is
/// never loaded by another, even when their version numbers agree.
pub fn build_id() -> &'static str {
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(|| {
        note_build_id()
            .or_else(|| {
                let exe = std::fs::read("/proc/self/exe").ok()?;
                Some(format!("exe-{:016x}", hash64(&exe)))
            })
            .unwrap_or_else(|| "unknown".to_owned())
    })
}

/// The `NT_GNU_BUILD_ID` note of the main program, read from its program headers.
#[cfg(target_os = "linux")]
fn note_build_id() -> Option<String> {
    use std::ffi::c_void;

    unsafe extern "C" fn first(
        info: *mut libc::dl_phdr_info,
        _size: libc::size_t,
        data: *mut c_void,
    ) -> libc::c_int {
        // SAFETY: `dl_iterate_phdr` passes a valid `dl_phdr_info` for the duration of
        // the callback, and `data` is the `&mut Option<Vec<u8>>` passed below.
        let (info, out) = unsafe { (&*info, &mut *data.cast::<Option<Vec<u8>>>()) };
        // The first object reported is the main program.
        for i in 0..usize::from(info.dlpi_phnum) {
            // SAFETY: `dlpi_phdr` points to `dlpi_phnum` program headers.
            let ph = unsafe { &*info.dlpi_phdr.add(i) };
            if ph.p_type != libc::PT_NOTE {
                continue;
            }
            let start = (info.dlpi_addr as usize).wrapping_add(ph.p_vaddr as usize);
            // SAFETY: a PT_NOTE segment is loaded (mapped, readable) at this address
            // for `p_memsz` bytes while the program runs.
            let notes =
                unsafe { std::slice::from_raw_parts(start as *const u8, ph.p_memsz as usize) };
            if let Some(id) = find_build_id(notes) {
                *out = Some(id.to_vec());
                return 1;
            }
        }
        1
    }

    let mut out: Option<Vec<u8>> = None;
    // SAFETY: the callback matches the signature `dl_iterate_phdr` expects and only
    // reads the headers it is given; `out` outlives the call.
    unsafe {
        libc::dl_iterate_phdr(Some(first), (&raw mut out).cast());
    }
    let id = out?;
    Some(id.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(not(target_os = "linux"))]
fn note_build_id() -> Option<String> {
    None
}

/// The descriptor of the `NT_GNU_BUILD_ID` note in a note segment, if it has one.
fn find_build_id(mut notes: &[u8]) -> Option<&[u8]> {
    const NT_GNU_BUILD_ID: u32 = 3;
    let u32_at = |b: &[u8], at: usize| -> Option<u32> {
        Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
    };
    while notes.len() >= 12 {
        let namesz = u32_at(notes, 0)? as usize;
        let descsz = u32_at(notes, 4)? as usize;
        let ty = u32_at(notes, 8)?;
        let name_end = 12usize.checked_add(namesz.div_ceil(4) * 4)?;
        let desc_end = name_end.checked_add(descsz)?;
        let name = notes.get(12..12 + namesz)?;
        let desc = notes.get(name_end..desc_end)?;
        if ty == NT_GNU_BUILD_ID && name == b"GNU\0" {
            return Some(desc);
        }
        notes = notes.get(desc_end.div_ceil(4) * 4..)?;
    }
    None
}

// ---------------------------------------------------------------------------------
// The code image

/// How a relocation is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RelocKind {
    /// A 32-bit displacement from the end of the 4 bytes (`call rel32`, RIP-relative).
    PcRel4,
    /// A 64-bit absolute address.
    Abs8,
}

impl RelocKind {
    /// Bytes the relocation writes.
    pub const fn size(self) -> u32 {
        match self {
            RelocKind::PcRel4 => 4,
            RelocKind::Abs8 => 8,
        }
    }
}

/// What a relocation points at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RelocTarget {
    /// The start of a defined function (module index space).
    Func(u32),
    /// An offset in the image's code.
    Code(u32),
    /// The engine's helper number `n` (an engine-defined table of host routines,
    /// resolved when the image is loaded).
    Helper(u32),
}

/// A place in the code that needs an address known only when the code is loaded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reloc {
    /// Offset of the bytes to write.
    pub at: u32,
    /// How they are written.
    pub kind: RelocKind,
    /// What they point at.
    pub target: RelocTarget,
    /// Added to the target's address.
    pub addend: i64,
}

/// One module's machine code before it is placed in memory: everything an engine
/// needs to publish it and describe it to the `virt` plugin.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CodeImage {
    /// The machine code (every function, trampoline and stub).
    pub code: Vec<u8>,
    /// Per defined function (`module.bodies` order): its offset range.
    pub funcs: Vec<Range<u32>>,
    /// Per type index: the offset of the entry trampoline.
    pub entries: Vec<u32>,
    /// Per type index: the offset of the host-call trampoline.
    pub host_calls: Vec<u32>,
    /// Trap sites.
    pub traps: Vec<TrapSite>,
    /// (code offset, wasm byte offset) pairs.
    pub srclocs: Vec<(u32, u32)>,
    /// Call sites with an exception handler.
    pub handlers: Vec<HandlerSite>,
    /// The callee-saved registers each piece of code saves.
    pub saves: Vec<(Range<u32>, RegSaves)>,
    /// Relocations to apply when the code is placed.
    pub relocs: Vec<Reloc>,
}

/// Trap codes a trap site may carry, by their number in the file.
const SITE_CODES: [TrapCode; 20] = [
    TrapCode::Unreachable,
    TrapCode::MemoryOutOfBounds,
    TrapCode::TableOutOfBounds,
    TrapCode::IndirectCallToNull,
    TrapCode::BadSignature,
    TrapCode::IntegerDivisionByZero,
    TrapCode::IntegerOverflow,
    TrapCode::BadConversionToInteger,
    TrapCode::StackOverflow,
    TrapCode::OutOfFuel,
    TrapCode::Interrupted,
    TrapCode::NullReference,
    TrapCode::NullFunctionReference,
    TrapCode::ElementOutOfBounds,
    TrapCode::NullStructReference,
    TrapCode::NullArrayReference,
    TrapCode::NullI31Reference,
    TrapCode::ArrayOutOfBounds,
    TrapCode::CastFailure,
    TrapCode::OutOfGcMemory,
];

/// The number of [`TrapKind::Pending`] in the file.
const PENDING: u8 = 0xff;

impl CodeImage {
    /// Checks every offset against the code's length and the counts against
    /// `module`: function ranges ascending, disjoint and inside the code, one per
    /// body; one entry and one host-call trampoline per type; trap sites, source
    /// locations, handler sites, register saves and relocations inside the code;
    /// relocation targets naming a defined function or an offset inside the code.
    /// An image that passes can be published without reading or writing outside
    /// its code. (Helper numbers are checked by the engine, which knows how many it
    /// has.)
    ///
    /// # Errors
    /// The first violation, as [`ArtifactError::Malformed`].
    pub fn validate(&self, module: &ModuleInfo) -> Result<(), ArtifactError> {
        let len = self.code.len();
        let len32 = u32::try_from(len).map_err(|_| malformed("code larger than 4 GiB"))?;
        let inside = |off: u32, what: &str| -> Result<(), ArtifactError> {
            if off < len32 {
                Ok(())
            } else {
                Err(malformed(format!("{what} {off:#x} outside the code ({len:#x} bytes)")))
            }
        };
        let range_inside = |r: &Range<u32>, what: &str| -> Result<(), ArtifactError> {
            if r.start <= r.end && r.end <= len32 {
                Ok(())
            } else {
                Err(malformed(format!("{what} {:#x}..{:#x} outside the code", r.start, r.end)))
            }
        };
        if self.funcs.len() != module.bodies.len() {
            return Err(malformed(format!(
                "{} function ranges for {} function bodies",
                self.funcs.len(),
                module.bodies.len()
            )));
        }
        let mut prev = 0;
        for r in &self.funcs {
            range_inside(r, "function")?;
            if r.start < prev {
                return Err(malformed("function ranges out of order"));
            }
            prev = r.end;
        }
        for (what, list) in
            [("entry trampolines", &self.entries), ("host-call trampolines", &self.host_calls)]
        {
            if list.len() != module.types.len() {
                return Err(malformed(format!(
                    "{} {what} for {} types",
                    list.len(),
                    module.types.len()
                )));
            }
            for &off in list {
                inside(off, "trampoline")?;
            }
        }
        for t in &self.traps {
            inside(t.offset, "trap site")?;
        }
        for &(c, _) in &self.srclocs {
            inside(c, "source location")?;
        }
        for h in &self.handlers {
            // A return address may sit at the very end of the code.
            range_inside(&(h.ret..h.ret), "handler's return address")?;
            inside(h.landing, "landing pad")?;
        }
        for (r, _) in &self.saves {
            range_inside(r, "register saves")?;
        }
        for r in &self.relocs {
            let end = r.at.checked_add(r.kind.size());
            if end.is_none_or(|e| e > len32) {
                return Err(malformed(format!("relocation at {:#x} outside the code", r.at)));
            }
            match r.target {
                RelocTarget::Func(f) => {
                    let defined = f.checked_sub(module.num_imported_funcs);
                    if defined.is_none_or(|d| d as usize >= self.funcs.len()) {
                        return Err(malformed(format!(
                            "relocation to function {f}, not a defined function"
                        )));
                    }
                }
                RelocTarget::Code(off) => inside(off, "relocation target")?,
                RelocTarget::Helper(_) => {}
            }
        }
        Ok(())
    }

    fn encode(&self, w: &mut Writer) -> Result<(), ArtifactError> {
        w.bytes(&self.code);
        w.len(self.funcs.len());
        for r in &self.funcs {
            w.u32(r.start);
            w.u32(r.end);
        }
        for list in [&self.entries, &self.host_calls] {
            w.len(list.len());
            for &o in list {
                w.u32(o);
            }
        }
        w.len(self.traps.len());
        for t in &self.traps {
            w.u32(t.offset);
            let n = match t.kind {
                TrapKind::Pending => PENDING,
                TrapKind::Wasm(code) => {
                    SITE_CODES.iter().position(|c| *c == code).ok_or_else(|| {
                        ArtifactError::Unsupported(format!("a trap site with code {code:?}"))
                    })? as u8
                }
            };
            w.u8(n);
        }
        w.len(self.srclocs.len());
        for &(c, o) in &self.srclocs {
            w.u32(c);
            w.u32(o);
        }
        w.len(self.handlers.len());
        for h in &self.handlers {
            w.u32(h.ret);
            w.u32(h.landing);
            w.u32(h.frame);
        }
        w.len(self.saves.len());
        for (r, s) in &self.saves {
            w.u32(r.start);
            w.u32(r.end);
            w.len(s.len());
            for &(reg, below) in s.iter() {
                w.u8(reg);
                w.u32(below);
            }
        }
        w.len(self.relocs.len());
        for r in &self.relocs {
            w.u32(r.at);
            let (kind, target, n) = match (r.kind, r.target) {
                (k, RelocTarget::Func(n)) => (k, 0, n),
                (k, RelocTarget::Code(n)) => (k, 1, n),
                (k, RelocTarget::Helper(n)) => (k, 2, n),
            };
            w.u8(match kind {
                RelocKind::PcRel4 => 0,
                RelocKind::Abs8 => 1,
            });
            w.u8(target);
            w.u32(n);
            w.u64(r.addend as u64);
        }
        Ok(())
    }

    fn decode(r: &mut Reader<'_>) -> Result<Self, ArtifactError> {
        let code = r.bytes()?.to_vec();
        let n = r.len(8)?;
        let mut funcs = Vec::with_capacity(n);
        for _ in 0..n {
            funcs.push(r.u32()?..r.u32()?);
        }
        let mut lists = [Vec::new(), Vec::new()];
        for list in &mut lists {
            let n = r.len(4)?;
            list.reserve(n);
            for _ in 0..n {
                list.push(r.u32()?);
            }
        }
        let [entries, host_calls] = lists;
        let n = r.len(5)?;
        let mut traps = Vec::with_capacity(n);
        for _ in 0..n {
            let offset = r.u32()?;
            let kind = match r.u8()? {
                PENDING => TrapKind::Pending,
                k => TrapKind::Wasm(
                    *SITE_CODES
                        .get(k as usize)
                        .ok_or_else(|| malformed(format!("unknown trap code {k}")))?,
                ),
            };
            traps.push(TrapSite { offset, kind });
        }
        let n = r.len(8)?;
        let mut srclocs = Vec::with_capacity(n);
        for _ in 0..n {
            srclocs.push((r.u32()?, r.u32()?));
        }
        let n = r.len(12)?;
        let mut handlers = Vec::with_capacity(n);
        for _ in 0..n {
            handlers.push(HandlerSite { ret: r.u32()?, landing: r.u32()?, frame: r.u32()? });
        }
        let n = r.len(12)?;
        let mut saves = Vec::with_capacity(n);
        for _ in 0..n {
            let range = r.u32()?..r.u32()?;
            let m = r.len(5)?;
            let mut regs = Vec::with_capacity(m);
            for _ in 0..m {
                regs.push((r.u8()?, r.u32()?));
            }
            saves.push((range, regs.into_boxed_slice()));
        }
        let n = r.len(18)?;
        let mut relocs = Vec::with_capacity(n);
        for _ in 0..n {
            let at = r.u32()?;
            let kind = match r.u8()? {
                0 => RelocKind::PcRel4,
                1 => RelocKind::Abs8,
                k => return Err(malformed(format!("unknown relocation kind {k}"))),
            };
            let target = match (r.u8()?, r.u32()?) {
                (0, n) => RelocTarget::Func(n),
                (1, n) => RelocTarget::Code(n),
                (2, n) => RelocTarget::Helper(n),
                (t, _) => return Err(malformed(format!("unknown relocation target kind {t}"))),
            };
            let addend = r.u64()? as i64;
            relocs.push(Reloc { at, kind, target, addend });
        }
        Ok(Self { code, funcs, entries, host_calls, traps, srclocs, handlers, saves, relocs })
    }
}

// ---------------------------------------------------------------------------------
// The file

/// Writes an artifact: the header, `key`'s description, the module's bytes and
/// `image`.
///
/// # Errors
/// [`ArtifactError::Unsupported`] when the image holds something the format has no
/// encoding for.
pub fn encode(
    key: &CompositionKey,
    wasm: &[u8],
    image: &CodeImage,
) -> Result<Vec<u8>, ArtifactError> {
    let mut w = Writer(Vec::with_capacity(HEADER_LEN + wasm.len() + image.code.len() * 2 + 1024));
    w.0.extend_from_slice(&[0; HEADER_LEN]);
    w.bytes(key.text.as_bytes());
    w.bytes(wasm);
    image.encode(&mut w)?;
    let mut out = w.0;
    let rest = &out[HEADER_LEN..];
    let (len, sum) = (rest.len() as u64, hash64(rest));
    let mut header = Vec::with_capacity(HEADER_LEN);
    header.extend_from_slice(&MAGIC);
    header.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    header.extend_from_slice(&key.hash.to_le_bytes());
    header.extend_from_slice(&hash64(wasm).to_le_bytes());
    header.extend_from_slice(&len.to_le_bytes());
    header.extend_from_slice(&sum.to_le_bytes());
    out[..HEADER_LEN].copy_from_slice(&header);
    Ok(out)
}

/// An artifact's parts, checked against the header and a composition key.
#[derive(Debug)]
pub struct Decoded<'a> {
    /// The module's bytes.
    pub wasm: &'a [u8],
    /// The compiled code (not yet checked against the module: see
    /// [`CodeImage::validate`]).
    pub image: CodeImage,
}

/// The fields of an artifact's header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// The format version.
    pub version: u32,
    /// The composition hash.
    pub composition: u64,
    /// The hash of the module's bytes.
    pub module: u64,
    /// Length of the rest of the file.
    pub len: u64,
    /// Checksum of the rest of the file.
    pub checksum: u64,
}

/// Reads the header of `bytes`.
///
/// # Errors
/// No magic, a short header or another format version.
pub fn header(bytes: &[u8]) -> Result<Header, ArtifactError> {
    if !is_artifact(bytes) {
        return Err(ArtifactError::NotAnArtifact);
    }
    let u64_at = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap_or([0; 8]));
    if bytes.len() < 8 {
        return Err(ArtifactError::Length {
            found: bytes.len() as u64,
            expected: HEADER_LEN as u64,
        });
    }
    let version = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]);
    if version != FORMAT_VERSION {
        return Err(ArtifactError::Version { found: version, expected: FORMAT_VERSION });
    }
    if bytes.len() < HEADER_LEN {
        return Err(ArtifactError::Length {
            found: bytes.len() as u64,
            expected: HEADER_LEN as u64,
        });
    }
    Ok(Header {
        version,
        composition: u64_at(8),
        module: u64_at(16),
        len: u64_at(24),
        checksum: u64_at(32),
    })
}

/// Checks `bytes` (header, length, checksum, composition `key`, module hash) and
/// splits it into the module's bytes and the code image.
///
/// # Errors
/// The first check that fails, or a malformed field.
pub fn decode<'a>(bytes: &'a [u8], key: &CompositionKey) -> Result<Decoded<'a>, ArtifactError> {
    let h = header(bytes)?;
    let rest = &bytes[HEADER_LEN..];
    if rest.len() as u64 != h.len {
        return Err(ArtifactError::Length {
            found: bytes.len() as u64,
            expected: h.len.saturating_add(HEADER_LEN as u64),
        });
    }
    if hash64(rest) != h.checksum {
        return Err(ArtifactError::Checksum);
    }
    let mut r = Reader(rest);
    let text =
        std::str::from_utf8(r.bytes()?).map_err(|_| malformed("composition text is not UTF-8"))?;
    if h.composition != key.hash || text != key.text {
        return Err(ArtifactError::Composition { differs: key.differences(text) });
    }
    let wasm = r.bytes()?;
    if hash64(wasm) != h.module {
        return Err(ArtifactError::ModuleHash);
    }
    let image = CodeImage::decode(&mut r)?;
    if !r.0.is_empty() {
        return Err(malformed(format!("{} bytes after the code image", r.0.len())));
    }
    Ok(Decoded { wasm, image })
}

struct Writer(Vec<u8>);

impl Writer {
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn len(&mut self, n: usize) {
        self.u64(n as u64);
    }
    fn bytes(&mut self, b: &[u8]) {
        self.len(b.len());
        self.0.extend_from_slice(b);
    }
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], ArtifactError> {
        if self.0.len() < n {
            return Err(malformed("a field runs past the end of the file"));
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Ok(head)
    }
    fn u8(&mut self) -> Result<u8, ArtifactError> {
        Ok(self.take(1)?[0])
    }
    fn u32(&mut self) -> Result<u32, ArtifactError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn u64(&mut self) -> Result<u64, ArtifactError> {
        let mut w = [0; 8];
        w.copy_from_slice(self.take(8)?);
        Ok(u64::from_le_bytes(w))
    }
    /// A count of items at least `item` bytes each: one the rest of the file cannot
    /// hold is rejected before anything is allocated for it.
    fn len(&mut self, item: usize) -> Result<usize, ArtifactError> {
        let n = self.u64()?;
        match usize::try_from(n) {
            Ok(n) if n.checked_mul(item).is_some_and(|b| b <= self.0.len()) => Ok(n),
            _ => Err(malformed(format!("a count of {n} does not fit in the file"))),
        }
    }
    fn bytes(&mut self) -> Result<&'a [u8], ArtifactError> {
        let n = self.len(1)?;
        self.take(n)
    }
}
