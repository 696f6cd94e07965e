//! One micro-VM: a KVM VM with one vCPU, its page tables and its stacks.

use std::sync::Arc;

use kvm_bindings::{
    CpuId, KVM_MEM_READONLY, kvm_regs, kvm_segment, kvm_sregs, kvm_userspace_memory_region,
    kvm_xsave,
};
use kvm_ioctls::{Cap, Kvm, VcpuExit, VcpuFd, VmFd};

use crate::error::{KvmError, UnexpectedExit};
use crate::host_call::{HostCall, HostReturn};
use crate::interrupt::{self, Interrupter, Shared};
use crate::layout::{self, HostMapping, PAGE, shared};
use crate::paging::{PageTables, Prot, leaf_flags};
use crate::space::{Region, Space, check_range};
use crate::stubs::frame;

/// Sizes of a sandbox.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SandboxConfig {
    /// Guest stack in bytes, a multiple of 4 KiB (default 1 MiB). A 4 KiB guard
    /// page below it is never mapped.
    pub stack_size: u64,
    /// Page-table area in 4 KiB tables (default 16384: 64 MiB of address
    /// space reserved, committed as tables are used). One table maps 2 MiB with
    /// small pages or 1 GiB with large ones.
    pub page_tables: u64,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig { stack_size: 1 << 20, page_tables: 16384 }
    }
}

/// How a guest call (or a resumed host call) ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Exit {
    /// The called function returned.
    Returned {
        /// `rax`.
        rax: u64,
        /// `rdx`.
        rdx: u64,
        /// `xmm0`.
        xmm0: u128,
        /// `xmm1`.
        xmm1: u128,
    },
    /// The guest called the host through a host-call stub. Answer with
    /// [`Sandbox::resume`]; [`Sandbox::call`] meanwhile runs a nested guest call.
    HostCall(HostCall),
    /// The guest took an exception; the call is over.
    Fault(Fault),
    /// An [`Interrupter`] ended the call.
    Interrupted,
}

/// An exception taken by guest code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fault {
    /// The vector: 14 page fault, 6 invalid opcode, 13 general protection, 0
    /// divide error...
    pub vector: u8,
    /// The error code (0 for vectors without one).
    pub error_code: u64,
    /// The faulting instruction.
    pub rip: u64,
    /// The faulting address (meaningful for a page fault).
    pub cr2: u64,
    /// The guest stack pointer at the fault.
    pub rsp: u64,
    /// The guest frame pointer at the fault.
    pub rbp: u64,
}

/// A KVM micro-VM running guest code at CPL3 in 64-bit mode, with
/// guest-virtual = host-virtual for every region registered with
/// [`Sandbox::map`]. Create them through a [`Pool`](crate::Pool) to skip the
/// set-up cost.
#[derive(Debug)]
pub struct Sandbox {
    // Field order is drop order: the vCPU before the VM before the memory the
    // VM's slots point to.
    vcpu: VcpuFd,
    vm: VmFd,
    tables: PageTables,
    space: Space,
    /// Shared page and fault stack.
    private: HostMapping,
    /// Guard page + guest stack.
    stack: HostMapping,
    window: u64,
    /// Regions the crate owns, kept on reset: arena, static pages, private
    /// pages, stack (slots 0 to 3).
    sys: [Region; 4],
    user_sregs: kvm_sregs,
    /// The vCPU left CPL3 (a fault handler ran): restore `user_sregs`.
    sregs_dirty: bool,
    clean_xsave: Option<Box<kvm_xsave>>,
    /// Registers of the outer calls interrupted by nested calls.
    frames: Vec<kvm_regs>,
    /// A host call is waiting for [`Sandbox::resume`].
    in_host_call: bool,
    readonly_slots: bool,
    interrupt: Arc<Shared>,
    /// The stack pointer the innermost call started with.
    entry_rsp: u64,
    /// User regions a reset left registered with KVM (slot kept) but unmapped
    /// from the page tables: a later [`Sandbox::map`] of exactly the same range
    /// revives one without an ioctl (changing memory slots is the costly part
    /// of setting up a user on PVM).
    stale: Vec<u64>,
    /// User regions a reset keeps mapped ([`Sandbox::map_kept`]).
    kept: Vec<u64>,
}

/// Bytes at the top of the guest stack that a reset zeroes in place rather
/// than discards.
const HOT_STACK: usize = 64 << 10;

/// Slots 0 to 3 are the crate's (see `Sandbox::sys`); they are never freed, so
/// user regions never get them.
const SYSTEM_SLOTS: u32 = 4;

fn ioctl<T>(op: &'static str, r: Result<T, kvm_ioctls::Error>) -> Result<T, KvmError> {
    r.map_err(|e| KvmError::ioctl(op, e))
}

impl Sandbox {
    /// Creates a VM and its vCPU in 64-bit mode at CPL3 with the crate's pages
    /// and the guest stack mapped. `cpuid` is from
    /// `Kvm::get_supported_cpuid` (a [`Pool`](crate::Pool) fetches it once).
    ///
    /// # Errors
    ///
    /// [`KvmError::Ioctl`] or [`KvmError::HostMemory`] when KVM or the host
    /// refuses a step.
    pub fn new(kvm: &Kvm, cpuid: &CpuId, config: &SandboxConfig) -> Result<Self, KvmError> {
        interrupt::install_handler();
        check_range(0, config.stack_size)?;
        let window = layout::window()?;
        let statics = layout::static_pages()?;
        let vm = ioctl("KVM_CREATE_VM", kvm.create_vm())?;
        let mut vcpu = ioctl("KVM_CREATE_VCPU", vm.create_vcpu(0))?;
        let max_slots = (kvm.get_nr_memslots() as u32).max(4);
        let readonly_slots = vm.check_extension(Cap::ReadonlyMem);
        let tables = PageTables::new(config.page_tables)?;
        let private = HostMapping::new(3 * PAGE as usize)?;
        let stack = HostMapping::new((config.stack_size + PAGE) as usize)?;
        let run = vcpu.get_kvm_run() as *mut _;
        let mut sb = Sandbox {
            vcpu,
            vm,
            tables,
            space: Space::new(max_slots),
            private,
            stack,
            window,
            sys: [Region { addr: 0, len: 0, gpa: 0, slot: 0 }; 4],
            user_sregs: kvm_sregs::default(),
            sregs_dirty: true,
            clean_xsave: None,
            frames: Vec::new(),
            in_host_call: false,
            readonly_slots,
            interrupt: Shared::new(run),
            entry_rsp: 0,
            stale: Vec::new(),
            kept: Vec::new(),
        };
        let arena = sb.tables.arena();
        sb.sys[0] = sb.space.add(arena.addr(), arena.len() as u64, Some(0))?;
        sb.sys[1] = sb.space.add(statics.addr(), statics.len() as u64, None)?;
        sb.sys[2] = sb.space.add(sb.private.addr(), sb.private.len() as u64, None)?;
        sb.sys[3] = sb.space.add(sb.stack.addr() + PAGE, config.stack_size, None)?;
        for (i, r) in sb.sys.iter().enumerate() {
            sb.register(*r, i == 1)?;
        }
        sb.map_system()?;
        ioctl("KVM_SET_CPUID2", sb.vcpu.set_cpuid2(cpuid))?;
        sb.user_sregs = sb.initial_sregs()?;
        ioctl("KVM_SET_SREGS", sb.vcpu.set_sregs(&sb.user_sregs))?;
        sb.sregs_dirty = false;
        sb.set_xcr0();
        if kvm.check_extension_int(Cap::Xsave2) as usize <= std::mem::size_of::<kvm_xsave>()
            && let Ok(x) = sb.vcpu.get_xsave()
        {
            sb.clean_xsave = Some(Box::new(x));
        }
        Ok(sb)
    }

    /// Maps the crate's pages and the stack into the (empty) page tables.
    fn map_system(&mut self) -> Result<(), KvmError> {
        let w = self.window;
        let [_, st, pr, sk] = self.sys;
        let t = &mut self.tables;
        // Fresh tables: nothing to narrow, so the results are all `false`.
        t.set(w + layout::USER_CODE, st.gpa, PAGE, leaf_flags(Prot::ReadExec, true))?;
        t.set(w + layout::KERNEL_CODE, st.gpa + PAGE, PAGE, leaf_flags(Prot::ReadExec, false))?;
        t.set(w + layout::DESCRIPTORS, st.gpa + 2 * PAGE, PAGE, leaf_flags(Prot::Read, false))?;
        t.set(w + layout::SHARED, pr.gpa, PAGE, leaf_flags(Prot::ReadWrite, true))?;
        t.set(
            w + layout::FAULT_STACK,
            pr.gpa + PAGE,
            2 * PAGE,
            leaf_flags(Prot::ReadWrite, false),
        )?;
        t.set(sk.addr, sk.gpa, sk.len, leaf_flags(Prot::ReadWrite, true))?;
        Ok(())
    }

    fn register(&self, r: Region, readonly: bool) -> Result<(), KvmError> {
        let flags = if readonly && self.readonly_slots { KVM_MEM_READONLY } else { 0 };
        let m = kvm_userspace_memory_region {
            slot: r.slot,
            flags,
            guest_phys_addr: r.gpa,
            memory_size: r.len,
            userspace_addr: r.addr,
        };
        // SAFETY: `r` is backed by a host mapping that stays mapped while the
        // slot exists: the crate's own mappings outlive the VM (field order),
        // and callers of `map` promise the same for theirs.
        ioctl("KVM_SET_USER_MEMORY_REGION", unsafe { self.vm.set_user_memory_region(m) })
    }

    fn unregister(&self, r: Region) -> Result<(), KvmError> {
        let m = kvm_userspace_memory_region {
            slot: r.slot,
            flags: 0,
            guest_phys_addr: r.gpa,
            memory_size: 0,
            userspace_addr: r.addr,
        };
        // SAFETY: deleting a slot removes guest access to memory; nothing on
        // the host side depends on it.
        ioctl("KVM_SET_USER_MEMORY_REGION", unsafe { self.vm.set_user_memory_region(m) })
    }

    fn initial_sregs(&self) -> Result<kvm_sregs, KvmError> {
        let mut s = ioctl("KVM_GET_SREGS", self.vcpu.get_sregs())?;
        let w = self.window;
        let seg = |selector: u16, type_: u8, l: u8, db: u8| kvm_segment {
            base: 0,
            limit: 0xffff_ffff,
            selector,
            type_,
            present: 1,
            dpl: (selector & 3) as u8,
            db,
            s: 1,
            l,
            g: 1,
            avl: 0,
            unusable: 0,
            padding: 0,
        };
        s.cs = seg(layout::SEL_USER_CS, 0xb, 1, 0);
        let data = seg(layout::SEL_USER_DS, 0x3, 0, 1);
        s.ss = data;
        s.ds = data;
        s.es = data;
        let mut null = data;
        null.selector = 0;
        null.unusable = 1;
        null.present = 0;
        s.fs = null;
        s.gs = null;
        s.tr = kvm_segment {
            base: w + layout::DESCRIPTORS + layout::TSS,
            limit: layout::TSS_LIMIT,
            selector: layout::SEL_TSS,
            type_: 0xb,
            present: 1,
            dpl: 0,
            db: 0,
            s: 0,
            l: 0,
            g: 0,
            avl: 0,
            unusable: 0,
            padding: 0,
        };
        s.ldt = kvm_segment { unusable: 1, ..Default::default() };
        s.gdt.base = w + layout::DESCRIPTORS + layout::GDT;
        s.gdt.limit = layout::GDT_LIMIT;
        s.idt.base = w + layout::DESCRIPTORS + layout::IDT;
        s.idt.limit = layout::IDT_LIMIT;
        s.cr3 = self.sys[0].gpa;
        // PE | MP | ET | NE | WP | AM | PG
        s.cr0 = 0x8005_0033;
        // PAE | OSFXSR | OSXMMEXCPT | FSGSBASE | OSXSAVE
        s.cr4 = 0x20 | 0x200 | 0x400 | 0x1_0000 | 0x4_0000;
        // SCE | LME | LMA | NXE
        s.efer = 0x1 | 0x100 | 0x400 | 0x800;
        Ok(s)
    }

    /// XCR0 = x87 | SSE | AVX where KVM allows it; hosts that keep their own
    /// XCR0 for the guest (PVM does) run AVX either way.
    fn set_xcr0(&self) {
        if let Ok(mut x) = self.vcpu.get_xcrs() {
            x.nr_xcrs = 1;
            x.xcrs[0].xcr = 0;
            x.xcrs[0].value = 0x7;
            let _ = self.vcpu.set_xcrs(&x);
        }
    }

    /// A handle to interrupt this sandbox from another thread.
    pub fn interrupter(&self) -> Interrupter {
        Interrupter(self.interrupt.clone())
    }

    /// The guest stack: `(lowest address, top)`. The page below the lowest
    /// address is an unmapped guard.
    pub fn stack(&self) -> (u64, u64) {
        let lo = self.stack.addr() + PAGE;
        (lo, self.stack.addr() + self.stack.len() as u64)
    }

    /// Registers the host memory `[addr, addr + len)` with the guest at the
    /// same address, with `prot` for all of it (`Prot::None` registers a
    /// reservation whose pages [`Sandbox::protect`] opens later).
    ///
    /// # Errors
    ///
    /// [`KvmError::BadRange`] for an unaligned, empty or upper-half range or
    /// one that touches the crate's window, [`KvmError::Overlap`] when it
    /// overlaps a registered region, and the errors of the KVM ioctls.
    ///
    /// # Safety
    ///
    /// The range must be mapped in this process for as long as it stays
    /// registered (until [`Sandbox::unmap`], [`Sandbox::reset`] or drop), and
    /// the caller must accept that guest code reads, and with a writable `prot`
    /// writes, it at any time the guest runs.
    pub unsafe fn map(&mut self, addr: u64, len: u64, prot: Prot) -> Result<(), KvmError> {
        check_range(addr, len)?;
        if addr < self.window + layout::WINDOW_LEN && self.window < addr + len {
            return Err(KvmError::BadRange { addr, len });
        }
        if let Some(i) = self.stale.iter().position(|&a| a == addr)
            && let Ok(r) = self.space.find(addr, len)
            && r.addr == addr
            && r.len == len
        {
            // The slot of an earlier user's region of exactly this range is still
            // registered: only the page tables change (KVM's shadow of the old
            // translations was dropped by the reset's sync, or will be before the
            // guest next runs).
            self.stale.swap_remove(i);
            self.tables.set(addr, r.gpa, len, leaf_flags(prot, true))?;
            return Ok(());
        }
        self.retire_stale(|r| addr < r.addr + r.len && r.addr < addr + len)?;
        let r = match self.space.add(addr, len, None) {
            Err(KvmError::OutOfSlots { .. }) if !self.stale.is_empty() => {
                self.retire_stale(|_| true)?;
                self.space.add(addr, len, None)?
            }
            other => other?,
        };
        if let Err(e) = self.register(r, false) {
            self.space.remove(addr);
            return Err(e);
        }
        // A new slot: KVM holds nothing for it, whatever `set` reports.
        self.tables.set(addr, r.gpa, len, leaf_flags(prot, true))?;
        Ok(())
    }

    /// As [`Sandbox::map`], for a region that [`Sandbox::reset`] keeps mapped
    /// (memory shared by every user of the sandbox, such as host-call stubs).
    ///
    /// # Errors
    ///
    /// Those of [`Sandbox::map`].
    ///
    /// # Safety
    ///
    /// As [`Sandbox::map`], for as long as the sandbox lives.
    pub unsafe fn map_kept(&mut self, addr: u64, len: u64, prot: Prot) -> Result<(), KvmError> {
        // SAFETY: the caller's contract.
        unsafe { self.map(addr, len, prot)? };
        self.kept.push(addr);
        Ok(())
    }

    /// Unregisters the stale regions `which` selects.
    fn retire_stale(&mut self, which: impl Fn(&Region) -> bool) -> Result<(), KvmError> {
        let mut i = 0;
        while i < self.stale.len() {
            let addr = self.stale[i];
            match self.space.find(addr, PAGE) {
                Ok(r) if r.addr == addr && which(&r) => {
                    self.stale.swap_remove(i);
                    self.space.remove(addr);
                    self.unregister(r)?;
                }
                _ => i += 1,
            }
        }
        Ok(())
    }

    /// Changes the guest's access to `[addr, addr + len)`, which must lie in
    /// one registered region: grows a linear memory (`Prot::None` →
    /// `Prot::ReadWrite`), or closes pages again.
    ///
    /// # Errors
    ///
    /// [`KvmError::BadRange`], [`KvmError::NotRegistered`],
    /// [`KvmError::OutOfPageTables`].
    pub fn protect(&mut self, addr: u64, len: u64, prot: Prot) -> Result<(), KvmError> {
        check_range(addr, len)?;
        let r = self.space.find(addr, len)?;
        if r.slot < SYSTEM_SLOTS || self.stale.contains(&r.addr) {
            return Err(KvmError::NotRegistered { addr, len });
        }
        if self.tables.set(addr, r.gpa_of(addr), len, leaf_flags(prot, true))? {
            // KVM may still hold the old, wider translations: re-registering
            // the slot makes it drop every translation of the region.
            self.unregister(r)?;
            self.register(r, false)?;
        }
        Ok(())
    }

    /// Removes the region registered at `addr` from the guest.
    ///
    /// # Errors
    ///
    /// [`KvmError::NotRegistered`] when no user region starts at `addr`, and
    /// the errors of the KVM ioctl.
    pub fn unmap(&mut self, addr: u64) -> Result<(), KvmError> {
        let r = self.space.find(addr, PAGE)?;
        if r.addr != addr || r.slot < SYSTEM_SLOTS || self.stale.contains(&addr) {
            return Err(KvmError::NotRegistered { addr, len: PAGE });
        }
        // Deleting the slot drops KVM's translations of it.
        self.tables.set(r.addr, r.gpa, r.len, 0)?;
        self.space.remove(addr);
        self.kept.retain(|&a| a != addr);
        self.unregister(r)
    }

    /// Removes every user region, empties the stacks and the shared page,
    /// clears the vCPU's registers and vector state, and forgets pending calls:
    /// the sandbox is as good as new for another user.
    ///
    /// # Errors
    ///
    /// The errors of the ioctls and `madvise` involved.
    pub fn reset(&mut self) -> Result<(), KvmError> {
        let users: Vec<Region> = self
            .space
            .regions()
            .filter(|r| {
                r.slot >= SYSTEM_SLOTS
                    && !self.kept.contains(&r.addr)
                    && !self.stale.contains(&r.addr)
            })
            .copied()
            .collect();
        for r in users {
            // The slot stays registered (stale) for a later user mapping exactly
            // this range; the page tables lose it now, and KVM's shadow of every
            // translation goes at the next run's sync.
            self.tables.set(r.addr, r.gpa, r.len, 0)?;
            self.stale.push(r.addr);
        }
        self.tables.mark_stale();
        // Zeroed in place, so KVM's translations of these pages stay valid:
        // the shared page and fault stack, and the top of the guest stack
        // (where most calls stay); the rest of the stack is discarded.
        let private = self.private.len();
        self.private.fill_zero(0, private);
        let stack = self.stack.len();
        let hot = stack.min(HOT_STACK);
        self.stack.discard(0, stack - hot)?;
        self.stack.fill_zero(stack - hot, hot);
        self.frames.clear();
        self.in_host_call = false;
        self.sregs_dirty = true;
        if let Some(x) = &self.clean_xsave {
            // SAFETY: the buffer came from KVM_GET_XSAVE on this vCPU, and
            // `new` kept it only when KVM's xsave size fits `kvm_xsave`.
            ioctl("KVM_SET_XSAVE", unsafe { self.vcpu.set_xsave(x) })?;
        }
        ioctl("KVM_SET_REGS", self.vcpu.set_regs(&kvm_regs { rflags: 2, ..Default::default() }))?;
        self.interrupt.clear();
        Ok(())
    }

    /// Makes KVM drop its shadow of the page tables after their structure
    /// changed (a large page was split): deleting the slot the tables live in
    /// zaps every shadow page of it.
    fn sync(&mut self) -> Result<(), KvmError> {
        if !self.tables.stale() {
            return Ok(());
        }
        self.unregister(self.sys[0])?;
        self.register(self.sys[0], false)?;
        self.tables.synced();
        Ok(())
    }

    /// Calls the guest function at `entry` with `args` in `rdi, rsi, rdx, rcx,
    /// r8, r9`, on the guest stack, returning to the crate's sentinel. While a
    /// host call is pending this is a nested call: it runs below the guest's
    /// current stack pointer, and when it ends the vCPU is back in the pending
    /// host call, ready for [`Sandbox::resume`].
    ///
    /// # Errors
    ///
    /// [`KvmError::BadGuestStack`] when a pending host call left a stack
    /// pointer outside the guest stack, [`KvmError::UnexpectedExit`] and the
    /// ioctl errors.
    pub fn call(&mut self, entry: u64, args: [u64; 6]) -> Result<Exit, KvmError> {
        self.call_reserving(entry, args, 0)
    }

    /// As [`Sandbox::call`], keeping the top `reserved` bytes of the guest stack
    /// (rounded up to 16) out of the call's frames when it is not nested: the
    /// caller may put data there (an argument buffer) before the call. Returns
    /// the exit and the stack pointer the call started with.
    ///
    /// # Errors
    ///
    /// Those of [`Sandbox::call`], and [`KvmError::BadRange`] when `reserved`
    /// leaves less than 64 KiB of stack.
    pub fn call_reserving(
        &mut self,
        entry: u64,
        args: [u64; 6],
        reserved: u64,
    ) -> Result<Exit, KvmError> {
        let (lo, top) = self.stack();
        let reserved = reserved.next_multiple_of(16);
        if reserved > top - lo - (64 << 10) {
            return Err(KvmError::BadRange { addr: top - reserved, len: reserved });
        }
        let rsp = if self.in_host_call {
            let outer = self.private.read_u64(shared::RSP);
            if outer < lo + 256 || outer > top {
                return Err(KvmError::BadGuestStack { rsp: outer });
            }
            let saved = ioctl("KVM_GET_REGS", self.vcpu.get_regs())?;
            self.frames.push(saved);
            self.in_host_call = false;
            // Below the stub's frame and a red zone, aligned for a call.
            ((outer - 128) & !15) - 8
        } else {
            self.interrupt.clear();
            top - reserved - 8
        };
        self.entry_rsp = rsp;
        // The stack is host memory at the guest's address, and `rsp` is inside it.
        let off = (rsp - self.stack.addr()) as usize;
        self.stack.write_u64(off, self.window + layout::USER_CODE);
        let regs = kvm_regs {
            rip: entry,
            rsp,
            rdi: args[0],
            rsi: args[1],
            rdx: args[2],
            rcx: args[3],
            r8: args[4],
            r9: args[5],
            rflags: 2,
            ..Default::default()
        };
        ioctl("KVM_SET_REGS", self.vcpu.set_regs(&regs))?;
        self.run()
    }

    /// Answers the pending host call with `ret` and runs the guest on.
    ///
    /// # Errors
    ///
    /// [`KvmError::NoHostCall`] when no host call is pending, and those of
    /// [`Sandbox::call`].
    pub fn resume(&mut self, ret: HostReturn) -> Result<Exit, KvmError> {
        if !self.in_host_call {
            return Err(KvmError::NoHostCall);
        }
        self.in_host_call = false;
        self.private.write_u64(shared::RAX, ret.rax);
        self.private.write_u64(shared::RDX, ret.rdx);
        self.private.write(shared::XMM, &ret.xmm0.to_le_bytes());
        self.run()
    }

    /// The stack pointer the innermost call started with (where its return
    /// address is): frames of the call lie below it.
    pub fn entry_rsp(&self) -> u64 {
        self.entry_rsp
    }

    /// Whether `[addr, addr + len)` lies inside one region registered with
    /// [`Sandbox::map`] (whatever its protection).
    pub fn is_mapped(&self, addr: u64, len: u64) -> bool {
        self.space
            .find(addr, len.max(1))
            .is_ok_and(|r| r.slot >= SYSTEM_SLOTS && !self.stale.contains(&r.addr))
    }

    /// Whether a host call is waiting for [`Sandbox::resume`].
    pub fn in_host_call(&self) -> bool {
        self.in_host_call
    }

    /// Abandons every pending host call and nested call (after a trap
    /// unwound them on the host side).
    pub fn abandon(&mut self) {
        self.frames.clear();
        self.in_host_call = false;
    }

    fn run(&mut self) -> Result<Exit, KvmError> {
        self.sync()?;
        if self.sregs_dirty {
            ioctl("KVM_SET_SREGS", self.vcpu.set_sregs(&self.user_sregs))?;
            self.sregs_dirty = false;
        }
        let exit = loop {
            self.interrupt.enter();
            let r = self.vcpu.run();
            self.interrupt.leave();
            let port = match r {
                Ok(VcpuExit::IoOut(port, _)) => port,
                Ok(other) => {
                    let mut kind = classify(other);
                    if let UnexpectedExit::InternalError { suberror } = &mut kind {
                        // SAFETY: after an internal-error exit KVM filled the
                        // `internal` member of the exit union.
                        *suberror =
                            unsafe { self.vcpu.get_kvm_run().__bindgen_anon_1.internal.suberror };
                    }
                    return Err(KvmError::UnexpectedExit(kind));
                }
                Err(e) if e.errno() == libc::EINTR => {
                    if self.interrupt.take() {
                        break Exit::Interrupted;
                    }
                    continue;
                }
                Err(e) => return Err(KvmError::ioctl("KVM_RUN", e)),
            };
            break match port {
                layout::PORT_RETURN => Exit::Returned {
                    rax: self.private.read_u64(shared::RAX),
                    rdx: self.private.read_u64(shared::RDX),
                    xmm0: self.private.read_u128(shared::XMM),
                    xmm1: self.private.read_u128(shared::XMM + 16),
                },
                layout::PORT_HOST_CALL => {
                    self.in_host_call = true;
                    let p = &self.private;
                    let mut call = HostCall {
                        id: p.read_u64(shared::ID) as u32,
                        args: [0; 6],
                        xmm: [0; 4],
                        rsp: p.read_u64(shared::RSP),
                    };
                    for (i, a) in call.args.iter_mut().enumerate() {
                        *a = p.read_u64(shared::ARGS + 8 * i);
                    }
                    for (i, x) in call.xmm.iter_mut().enumerate() {
                        *x = p.read_u128(shared::XMM + 16 * i);
                    }
                    return Ok(Exit::HostCall(call));
                }
                layout::PORT_FAULT => {
                    self.sregs_dirty = true;
                    let slot = |n: u64| self.private.read_u64((3 * PAGE - n * 8) as usize);
                    Exit::Fault(Fault {
                        vector: slot(frame::VECTOR) as u8,
                        error_code: slot(frame::ERROR_CODE),
                        rip: slot(frame::RIP),
                        cr2: slot(frame::CR2),
                        rsp: slot(frame::RSP),
                        rbp: slot(frame::RBP),
                    })
                }
                port => return Err(KvmError::UnexpectedExit(UnexpectedExit::IoOut { port })),
            };
        };
        // The innermost call is over: go back to the host call it was nested in.
        if let Some(outer) = self.frames.pop() {
            ioctl("KVM_SET_REGS", self.vcpu.set_regs(&outer))?;
            self.in_host_call = true;
        }
        Ok(exit)
    }
}

fn classify(e: VcpuExit<'_>) -> UnexpectedExit {
    match e {
        VcpuExit::IoOut(port, _) => UnexpectedExit::IoOut { port },
        VcpuExit::IoIn(port, _) => UnexpectedExit::IoIn { port },
        VcpuExit::MmioRead(addr, _) | VcpuExit::MmioWrite(addr, _) => UnexpectedExit::Mmio { addr },
        VcpuExit::Hlt => UnexpectedExit::Hlt,
        VcpuExit::Shutdown => UnexpectedExit::Shutdown,
        VcpuExit::FailEntry(reason, _) => UnexpectedExit::FailEntry { reason },
        VcpuExit::InternalError => UnexpectedExit::InternalError { suberror: 0 },
        _ => UnexpectedExit::Other,
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.interrupt.detach();
    }
}
