//! The `virt-kvm` plugin: guest code of engines that generate machine code
//! (`native-code`, i.e. engine-cranelift) runs in a KVM micro-VM, one per store,
//! and can reach only the host memory registered with it: its code (read +
//! execute), its linear memories (read + write, unmapped guard regions past them),
//! the store's runtime data (read-only or read-write as the guest needs), a stack
//! with a guard page and one shared page for calls. A JIT or runtime bug that
//! makes guest code touch anything else ends in a trap, not in host memory.
//!
//! ```text
//! # vm-bin: virt-kvm takes the place of virt-host
//! cargo build --release -p vm-bin --features virt-kvm
//! ```
//!
//! | config key | default | meaning |
//! |---|---|---|
//! | `max_call_depth` | 100000 | deepest wasm call stack; deeper traps with `call stack exhausted` |
//! | `max_stack_slots` | 4194304 | operand stack (8-byte slots) per call from the host |
//! | `max_memory_pages` | 65536 | guest memory limit: largest linear memory, in 64 KiB pages |
//! | `max_table_elements` | 10000000 | largest table |
//! | `pool_size` | 2 | micro-VMs prepared at start and kept idle for reuse (0: one is built and destroyed per store) |
//! | `stack_kib` | 8192 | guest stack per micro-VM |
//! | `timeout_ms` | 0 | wall-clock limit of one call from the host: the vCPU is kicked out and the call traps with `interrupted` (0: none) |
//!
//! Stats (`vm run --stats`): `vms_acquired`, `vms_created`, `vms_idle`,
//! `vm_acquire_us` and `vm_release_us` (taking a micro-VM from the pool, resetting
//! it), `vcpu_run_us` (time inside guest calls, host calls included),
//! `exits_returned`, `exits_host_call`, `exits_fault`, `exits_interrupted`,
//! `exits_error`, `host_calls_refused` (host calls whose pointer arguments were not
//! the store's), `regions_mapped`, `memories_created`; `memory_bytes` is the
//! committed linear memory.
//!
//! The plugin ([`KvmVirt`], module `virt.rs`) sits on the micro-VM layer below,
//! usable on its own:
//!
//! ```
//! use vm_virt_kvm::{Exit, Pool, SandboxConfig};
//!
//! let pool = match Pool::new(SandboxConfig::default(), 1, 4) {
//!     Ok(pool) => pool,
//!     Err(e) => {
//!         eprintln!("no KVM here: {e}");
//!         return;
//!     }
//! };
//! let mut sandbox = pool.acquire().unwrap();
//! // lea rax, [rdi + rsi]; ret
//! let code = vm_virt_kvm::ExecMemory::new(&[0x48, 0x8d, 0x04, 0x37, 0xc3]).unwrap();
//! // SAFETY: `code` outlives its registration (it is released below).
//! unsafe { sandbox.map(code.addr(), code.len(), vm_virt_kvm::Prot::ReadExec).unwrap() };
//! let exit = sandbox.call(code.addr(), [40, 2, 0, 0, 0, 0]).unwrap();
//! assert!(matches!(exit, Exit::Returned { rax: 42, .. }));
//! pool.release(sandbox);
//! ```
//!
//! | type | what it is |
//! |---|---|
//! | [`Pool`] | prepared sandboxes: acquire, release (reset) |
//! | [`Sandbox`] | one VM + one vCPU: `map`/`protect`/`unmap` host memory, `call`, `resume` |
//! | [`Exit`] | how a run ended: returned, host call, fault, interrupted |
//! | [`host_call_stub`] | guest code that forwards a System V call to the host |
//! | [`call_sysv`] | host side: calls a host function with the guest's arguments |
//! | [`Interrupter`] | ends a running guest call from another thread |
//!
//! # Guest layout
//!
//! * **Address space.** Guest-virtual addresses equal host-virtual addresses
//!   for exactly the regions registered with [`Sandbox::map`] (all in the
//!   canonical lower half), so code with absolute host addresses (runtime
//!   context, linear memory base, code) runs unchanged and the host reads guest
//!   memory through its own pointers. Any other address faults. Each region is
//!   one KVM memory slot backed by the host mapping; guest-physical addresses
//!   are allocated compactly (see `space.rs`). Pages are 4 KiB, or 2 MiB where
//!   the host address and the length allow it. Read and read-write pages are
//!   never executable, executable pages never writable.
//! * **Crate pages.** The page tables live in guest-physical memory that no
//!   guest-virtual address maps. The GDT, IDT and TSS are mapped read-only and
//!   supervisor-only, their accessed and busy bits preset so the CPU never
//!   writes them. The return sentinel, the fault handlers, the shared page and
//!   the fault stack live in a 40 KiB window of host address space reserved
//!   (`PROT_NONE`) for the process, the same in every sandbox (see
//!   `layout.rs` for the table).
//! * **vCPU.** 64-bit mode, paging with NX, SSE and AVX enabled. Guest code
//!   runs at **CPL3** with Linux's user selectors (`cs` 0x33, `ss` 0x2b); the
//!   guest stack has an unmapped guard page below it. Exceptions go through
//!   the IDT to CPL0 handlers on a separate fault stack (IST1), which report
//!   the vector, error code, `rip`, `cr2`, `rsp` and `rbp` with an `out`.
//! * **Calls.** [`Sandbox::call`] enters a function with the System V integer
//!   argument registers and a return address pointing at the sentinel; a
//!   [`host_call_stub`] leaves through an `out` with its arguments in the
//!   shared page, and [`Sandbox::resume`] answers. While a host call is
//!   pending, [`Sandbox::call`] runs a nested guest call below the guest's
//!   stack pointer.
//!
//! # Why CPL3: what KVM-PVM allows
//!
//! On a host whose KVM is PVM (a page-table-based hypervisor without VMX/SVM),
//! guest code in supervisor mode outside PVM's own paravirtual protocol is
//! *emulated* instruction by instruction by KVM (about 1 µs an instruction,
//! and SSE and AVX instructions fail with an emulation error), while user-mode
//! (CPL3) code runs natively. Exceptions at CPL3 are delivered through the
//! guest IDT (the delivery and the few handler instructions are emulated,
//! which is fine for faults); `out` at CPL3 is an I/O exit; `hlt` at CPL3 is a
//! #GP, which is why returns end in an `out`. The same layout runs on VMX and
//! SVM hosts unchanged.
//!
//! # What it does not isolate
//!
//! Side channels (caches, speculation, timing) are not addressed, and the host
//! calls guest code may make (WASI and the runtime functions) are the attack
//! surface left: their arguments are checked where they are pointers (an instance
//! context must be one of the calling store's, other pointers must lie in its
//! runtime data, host-call values on its guest stack), but the functions run in the
//! host process.
//!
//! # Costs on the development host (nested KVM-PVM, 2 shared cores)
//!
//! Medians from `cargo bench -p vm-virt-kvm`:
//!
//! | what | median |
//! |---|---|
//! | create a sandbox, one call, drop it | 1.1–1.6 ms |
//! | pooled acquire, map code, one call, release (reset) | 0.38 ms |
//! | one host call round trip (guest → host → guest) | 69 µs |
//! | one call into a live sandbox (host → guest → host) | 78 µs |
//!
//! Through the public API with engine-cranelift (`cargo bench -p vm --bench kvm`,
//! figures in the workspace's `features.md`): a new store with a small instance,
//! one call and drop 0.49 ms with the default pool (3.1 ms with `pool_size=0`), a
//! call into a live instance 85 µs, one host call 73 µs; the twelve corpus programs
//! at their default sizes take 1.09× their `virt-host` time (geomean).
//!
//! Every exit from natively running guest code costs about 70 µs there (an
//! `out` from emulated CPL0 code costs 14 µs, which is where earlier, lower
//! exit figures came from), and so does every guest page touched for the first
//! time after KVM dropped its translation; a reset therefore keeps the page
//! tables and zeroes the hot pages in place. On VMX/SVM hosts these are a few
//! microseconds.
//!
//! # Shadow paging
//!
//! KVM shadows the guest page tables (PVM always; VMX/SVM without EPT/NPT)
//! and notices guest writes to them only because it write-protects them; the
//! host's writes go around that. Adding translations is safe; when one is
//! removed or narrowed, the memory slot behind it is deleted (unmap, reset) or
//! deleted and re-added (protect), which makes KVM drop every translation of
//! it; tables are never freed, and the rare structural change (a large page
//! split by a protect) makes the next run re-add the page tables' own slot,
//! which drops KVM's whole shadow. The tests check that closing pages really
//! closes them (without the re-registration they stay readable).

mod error;
mod host_call;
mod interrupt;
mod layout;
mod memory;
mod paging;
mod pool;
mod sandbox;
mod space;
mod stubs;
mod virt;

pub use error::{KvmError, UnexpectedExit};
pub use host_call::{HostCall, HostReturn, call_sysv};
pub use interrupt::{Interrupter, interrupt_signal};
pub use layout::{PORT_FAULT, PORT_HOST_CALL, PORT_RETURN, window};
pub use memory::KvmMemory;
pub use paging::Prot;
pub use pool::Pool;
pub use sandbox::{Exit, Fault, Sandbox, SandboxConfig};
pub use stubs::{HOST_CALL_STUB_LEN, host_call_stub};
pub use virt::{KvmStore, KvmVirt, KvmVirtConfig};

/// Page-aligned host memory holding machine code, readable and executable by
/// the host too: a stand-in for a JIT's code memory in examples and tests.
#[derive(Debug)]
pub struct ExecMemory(layout::HostMapping);

impl ExecMemory {
    /// Copies `code` into fresh pages (the rest filled with `int3`) and makes
    /// them read+exec.
    ///
    /// # Errors
    ///
    /// [`KvmError::HostMemory`] when `mmap` or `mprotect` fails.
    pub fn new(code: &[u8]) -> Result<Self, KvmError> {
        let len = (code.len().max(1) as u64).next_multiple_of(layout::PAGE) as usize;
        let mut m = layout::HostMapping::new(len)?;
        m.write(0, &vec![0xcc; len]);
        m.write(0, code);
        // SAFETY: the range is exactly the mapping just created.
        if unsafe { libc::mprotect(m.ptr().cast(), len, libc::PROT_READ | libc::PROT_EXEC) } != 0 {
            return Err(KvmError::host("mprotect"));
        }
        Ok(ExecMemory(m))
    }

    /// Its address.
    pub fn addr(&self) -> u64 {
        self.0.addr()
    }

    /// Its length, a multiple of 4 KiB.
    pub fn len(&self) -> u64 {
        self.0.len() as u64
    }

    /// Never true (a mapping has at least one page).
    pub fn is_empty(&self) -> bool {
        false
    }
}
