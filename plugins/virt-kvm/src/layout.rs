//! Where the crate's own guest pages live, and what is in them.
//!
//! The crate's pages sit in a *window*: 40 KiB of host address space reserved
//! once per process with `PROT_NONE`, so no host mapping (and so no region a user
//! registers) can ever overlap it. Every sandbox maps the same guest-virtual
//! window, which is what lets a host-call stub carry the shared page's address
//! as a constant. The guest-virtual addresses of the window are not backed by the
//! host at those addresses: each page is backed by a separate host allocation,
//! either one shared by all sandboxes (code and descriptor tables, never written
//! after start-up) or one per sandbox (shared page, fault stack).
//!
//! | window offset | page | guest access | backing |
//! |---|---|---|---|
//! | `0x0000` | guard | none | — |
//! | `0x1000` | user code: the return sentinel | user, read+exec | process-wide |
//! | `0x2000` | fault handlers (one 16-byte stub per vector) | supervisor, read+exec | process-wide |
//! | `0x3000` | GDT (`+0x000`), IDT (`+0x100`), TSS (`+0x400`) | supervisor, read | process-wide |
//! | `0x4000` | guard | none | — |
//! | `0x5000` | shared page (host-call arguments and results) | user, read+write | per sandbox |
//! | `0x6000` | guard | none | — |
//! | `0x7000`–`0x8fff` | fault stack (IST1) | supervisor, read+write | per sandbox |
//! | `0x9000` | guard | none | — |

use std::sync::OnceLock;

use crate::error::KvmError;

/// Bytes in a small page.
pub(crate) const PAGE: u64 = 4096;
/// Bytes in a large page.
pub(crate) const HUGE: u64 = 2 << 20;

/// `out` port of the return sentinel: a guest call returned.
pub const PORT_RETURN: u16 = 0xe0;
/// `out` port of a host-call stub.
pub const PORT_HOST_CALL: u16 = 0xe1;
/// `out` port of the fault handlers.
pub const PORT_FAULT: u16 = 0xe2;

pub(crate) const WINDOW_LEN: u64 = 0xa000;
pub(crate) const USER_CODE: u64 = 0x1000;
pub(crate) const KERNEL_CODE: u64 = 0x2000;
pub(crate) const DESCRIPTORS: u64 = 0x3000;
pub(crate) const SHARED: u64 = 0x5000;
pub(crate) const FAULT_STACK: u64 = 0x7000;
pub(crate) const FAULT_STACK_TOP: u64 = 0x9000;

pub(crate) const GDT: u64 = 0x000;
pub(crate) const IDT: u64 = 0x100;
pub(crate) const TSS: u64 = 0x400;
/// Vectors with a handler: the architectural exceptions.
pub(crate) const VECTORS: u64 = 32;

/// Kernel (CPL0) code selector: the fault handlers run here.
pub(crate) const SEL_KERNEL_CS: u16 = 0x08;
/// User data selector, equal to Linux's `__USER_DS` as PVM requires.
pub(crate) const SEL_USER_DS: u16 = 0x2b;
/// User 64-bit code selector, equal to Linux's `__USER_CS` as PVM requires.
pub(crate) const SEL_USER_CS: u16 = 0x33;
/// Task state segment selector.
pub(crate) const SEL_TSS: u16 = 0x38;
pub(crate) const GDT_LIMIT: u16 = 9 * 8 - 1;
pub(crate) const IDT_LIMIT: u16 = (VECTORS * 16 - 1) as u16;
/// Offset of the I/O permission bitmap in the TSS.
const IOPB: usize = 0x68;
/// Bitmap bytes: ports 0 to 255, then the terminating all-ones byte.
const IOPB_LEN: usize = 32 + 1;
pub(crate) const TSS_LIMIT: u32 = (IOPB + IOPB_LEN - 1) as u32;

/// Byte offsets in the shared page. The host-call stub addresses them from
/// `shared + 0x80` with 8-bit displacements, which is why the page is laid out
/// in its first 256 bytes.
pub(crate) mod shared {
    /// Integer result (`rax`): written by the host for a host call, by the
    /// sentinel for a return.
    pub const RAX: usize = 0x00;
    /// Second integer result (`rdx`).
    pub const RDX: usize = 0x08;
    /// `xmm0`..`xmm3`, 16 bytes each: float arguments of a host call; `xmm0`
    /// (and `xmm1` for a return) are also results.
    pub const XMM: usize = 0x10;
    /// Host-call id.
    pub const ID: usize = 0x50;
    /// `rdi`, `rsi`, `rdx`, `rcx`, `r8`, `r9` of a host call.
    pub const ARGS: usize = 0x58;
    /// Guest `rsp` inside a host-call stub.
    pub const RSP: usize = 0x88;
    /// The stub's base register points here.
    pub const BASE: usize = 0x80;
}

/// The window's guest-virtual base address.
///
/// # Errors
///
/// [`KvmError::HostMemory`] when the reservation fails (once per process;
/// later calls report the same failure).
pub fn window() -> Result<u64, KvmError> {
    static WINDOW: OnceLock<Result<u64, i32>> = OnceLock::new();
    let got = WINDOW.get_or_init(|| {
        // SAFETY: an anonymous PROT_NONE reservation touches no existing mapping.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                WINDOW_LEN as usize,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            Err(std::io::Error::last_os_error().raw_os_error().unwrap_or(0))
        } else {
            Ok(p as u64)
        }
    });
    got.map_err(|errno| KvmError::HostMemory { op: "mmap", errno })
}

/// An anonymous private host mapping, unmapped on drop.
#[derive(Debug)]
pub(crate) struct HostMapping {
    ptr: *mut u8,
    len: usize,
}

// SAFETY: the mapping is plain memory owned by this value; nothing in it is
// tied to a thread.
unsafe impl Send for HostMapping {}
// SAFETY: `&self` methods only read; every write takes `&mut self`.
unsafe impl Sync for HostMapping {}

impl HostMapping {
    /// Maps `len` bytes of zeroed read-write memory (`MAP_NORESERVE`: pages are
    /// committed when touched).
    pub(crate) fn new(len: usize) -> Result<Self, KvmError> {
        // SAFETY: an anonymous mapping at an address the kernel picks.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(KvmError::host("mmap"));
        }
        Ok(HostMapping { ptr: p.cast(), len })
    }

    pub(crate) fn addr(&self) -> u64 {
        self.ptr as u64
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn ptr(&self) -> *mut u8 {
        self.ptr
    }

    /// Drops the contents of `[off, off + len)`: the pages read as zero again.
    pub(crate) fn discard(&mut self, off: usize, len: usize) -> Result<(), KvmError> {
        debug_assert!(off + len <= self.len);
        // SAFETY: the range is inside this private anonymous mapping; nothing
        // holds references into it across this call.
        let r = unsafe { libc::madvise(self.ptr.add(off).cast(), len, libc::MADV_DONTNEED) };
        if r != 0 {
            return Err(KvmError::host("madvise"));
        }
        Ok(())
    }

    /// Zeroes `[off, off + len)` in place.
    pub(crate) fn fill_zero(&mut self, off: usize, len: usize) {
        assert!(off + len <= self.len, "write past a host mapping");
        // SAFETY: bounds checked above; the mapping is writable and private to us.
        unsafe { std::ptr::write_bytes(self.ptr.add(off), 0, len) }
    }

    /// Makes the whole mapping read-only for the host.
    fn seal(&self) -> Result<(), KvmError> {
        // SAFETY: the range is exactly this mapping.
        let r = unsafe { libc::mprotect(self.ptr.cast(), self.len, libc::PROT_READ) };
        if r != 0 {
            return Err(KvmError::host("mprotect"));
        }
        Ok(())
    }

    /// Writes `bytes` at `off`.
    pub(crate) fn write(&mut self, off: usize, bytes: &[u8]) {
        assert!(off + bytes.len() <= self.len, "write past a host mapping");
        // SAFETY: bounds checked above; the mapping is writable and private to us.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), self.ptr.add(off), bytes.len()) }
    }

    pub(crate) fn write_u64(&mut self, off: usize, v: u64) {
        self.write(off, &v.to_le_bytes());
    }

    pub(crate) fn read_u64(&self, off: usize) -> u64 {
        assert!(off + 8 <= self.len, "read past a host mapping");
        // SAFETY: bounds checked above; any bit pattern is a valid u64.
        unsafe { self.ptr.add(off).cast::<u64>().read_unaligned() }
    }

    pub(crate) fn read_u128(&self, off: usize) -> u128 {
        assert!(off + 16 <= self.len, "read past a host mapping");
        // SAFETY: bounds checked above; any bit pattern is a valid u128.
        unsafe { self.ptr.add(off).cast::<u128>().read_unaligned() }
    }
}

impl Drop for HostMapping {
    fn drop(&mut self) {
        // SAFETY: the mapping was created by `new` with this length and is not
        // referenced after drop.
        unsafe { libc::munmap(self.ptr.cast(), self.len) };
    }
}

/// The three process-wide pages: user code, fault handlers, descriptor tables.
/// Built once, then made read-only for the host too.
pub(crate) fn static_pages() -> Result<&'static HostMapping, KvmError> {
    static PAGES: OnceLock<Result<HostMapping, i32>> = OnceLock::new();
    let w = window()?;
    let got = PAGES.get_or_init(|| build_static(w).map_err(errno_of));
    match got {
        Ok(m) => Ok(m),
        Err(errno) => Err(KvmError::HostMemory { op: "mmap", errno: *errno }),
    }
}

fn errno_of(e: KvmError) -> i32 {
    match e {
        KvmError::HostMemory { errno, .. } => errno,
        _ => 0,
    }
}

fn build_static(w: u64) -> Result<HostMapping, KvmError> {
    let mut m = HostMapping::new(3 * PAGE as usize)?;
    m.write(0, &crate::stubs::return_sentinel(w));
    for v in 0..VECTORS {
        m.write((PAGE + v * 16) as usize, &crate::stubs::fault_handler(v as u8));
    }
    let d = 2 * PAGE as usize;
    for (i, e) in gdt(w).iter().enumerate() {
        m.write_u64(d + GDT as usize + i * 8, *e);
    }
    for v in 0..VECTORS {
        let (lo, hi) = idt_gate(w + KERNEL_CODE + v * 16);
        m.write_u64(d + (IDT + v * 16) as usize, lo);
        m.write_u64(d + (IDT + v * 16 + 8) as usize, hi);
    }
    // TSS: RSP0 and IST1 both at the top of the fault stack, and an I/O
    // permission bitmap that lets CPL3 use exactly the crate's three ports.
    let top = w + FAULT_STACK_TOP;
    let tss = d + TSS as usize;
    m.write_u64(tss + 0x04, top);
    m.write_u64(tss + 0x24, top);
    m.write(tss + 0x66, &(IOPB as u16).to_le_bytes());
    let mut bitmap = [0xffu8; IOPB_LEN];
    for port in [PORT_RETURN, PORT_HOST_CALL, PORT_FAULT] {
        bitmap[usize::from(port / 8)] &= !(1 << (port % 8));
    }
    m.write(tss + IOPB, &bitmap);
    m.seal()?;
    Ok(m)
}

/// GDT entries. Accessed bits and the TSS busy bit are preset so the CPU never
/// writes the (read-only) table.
fn gdt(w: u64) -> [u64; 9] {
    let tss = w + DESCRIPTORS + TSS;
    let tss_lo = u64::from(TSS_LIMIT)
        | ((tss & 0xff_ffff) << 16)
        | (0x8b << 40) // present, DPL0, busy 64-bit TSS
        | (((tss >> 24) & 0xff) << 56);
    [
        0,
        0x00af_9b00_0000_ffff, // 0x08: kernel code, 64-bit, accessed
        0x00cf_9300_0000_ffff, // 0x10: kernel data, accessed
        0,
        0x00cf_fb00_0000_ffff, // 0x20: user code, 32-bit (unused; keeps Linux's numbering)
        0x00cf_f300_0000_ffff, // 0x28: user data, accessed
        0x00af_fb00_0000_ffff, // 0x30: user code, 64-bit, accessed
        tss_lo,                // 0x38: TSS, low half
        tss >> 32,             // TSS, high half
    ]
}

/// A 64-bit interrupt gate to `handler` on IST1, DPL0.
fn idt_gate(handler: u64) -> (u64, u64) {
    let lo = (handler & 0xffff)
        | (u64::from(SEL_KERNEL_CS) << 16)
        | (1 << 32) // IST1
        | (0x8e << 40) // present, DPL0, interrupt gate
        | (((handler >> 16) & 0xffff) << 48);
    (lo, handler >> 32)
}
