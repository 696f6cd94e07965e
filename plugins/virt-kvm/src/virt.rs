//! The `virt-kvm` plugin: the `virt` slot over [`Sandbox`]es.
//!
//! Each store gets one micro-VM, taken from the plugin's [`Pool`] when its first
//! instance is prepared and given back (reset) when the store is dropped. The
//! store's guest code runs in it; what the guest can reach is mapped at the same
//! address as in this process:
//!
//! | what | guest access | mapped when |
//! |---|---|---|
//! | each instance's module code | read + execute | the instance is prepared |
//! | the host-call stubs (one per runtime function) | read + execute | the micro-VM is taken |
//! | the runtime-function table guest code calls through | read | the micro-VM is taken |
//! | guest data chunks (contexts, funcrefs, definitions, flag page) | read | announced |
//! | guest data chunks (table elements, globals, fuel) | read + write | announced |
//! | each linear memory: its committed bytes | read + write | prepared; opened as it grows |
//! | the guest stack (a guard page below it) | read + write | always |
//!
//! A linear memory is registered as a reservation of its maximum size whose
//! uncommitted pages stay unmapped, and its 4 GiB guard region is never
//! registered, so an access past the end is a page fault the plugin turns into
//! "out of bounds memory access" at the trap site that made it.
//!
//! Guest code calls the host only through the stubs: each leaves the micro-VM with
//! the call's id and registers; the plugin checks the arguments the runtime
//! function's signature marks as pointers ([`NativeType::VmCtx`] must be the
//! context of an instance of the calling store, [`NativeType::GuestPtr`] must lie in
//! the store's guest data), runs the function on the host and resumes the guest.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use vm_core::Composition;
use vm_core::plugin::PluginStats;
use vm_core::runtime::guest_data::{GuestAccess, GuestChunk};
use vm_core::runtime::native::{CallState, Entry, GuestStack, Libcall, NativeType};
use vm_core::runtime::offsets::VMContext;
use vm_core::runtime::{
    Instance, InstantiationError, MemoryError, MemoryType, Store, Trap, TrapCode,
};
use vm_core::slot::{Engine, Virt};
use vm_core::{Plugin, PluginError};

use crate::layout::{HostMapping, PAGE};
use crate::memory::{KvmMemory, MemoryShared};
use crate::{
    Exit, HOST_CALL_STUB_LEN, Interrupter, KvmError, Pool, Prot, Sandbox, SandboxConfig, call_sysv,
    host_call_stub,
};

/// Bytes kept free below the guest stack limit (the stubs' return addresses).
const STACK_RESERVE: usize = 16 << 10;

/// Bytes between two host-call stubs.
const STUB_STRIDE: usize = 128;

/// Configuration of `virt-kvm`.
#[derive(Debug, Clone, serde::Deserialize, vm_core::PluginConfig)]
#[serde(default, deny_unknown_fields)]
pub struct KvmVirtConfig {
    /// Deepest wasm call stack; deeper calls trap with "call stack exhausted".
    #[config(default = 100_000, range = "1..=10000000")]
    pub max_call_depth: u32,
    /// Operand stack size in 8-byte slots for one call from the host.
    #[config(default = 4_194_304, range = "1024..=268435456")]
    pub max_stack_slots: u64,
    /// Largest linear memory in 64 KiB pages: the guest memory limit per memory.
    #[config(default = 65536, range = "0..=65536")]
    pub max_memory_pages: u32,
    /// Largest table in elements.
    #[config(default = 10_000_000, range = "0..=10000000")]
    pub max_table_elements: u32,
    /// Micro-VMs prepared when the plugin starts and kept idle for reuse.
    #[config(default = 2, range = "0..=256")]
    pub pool_size: u32,
    /// Guest stack of each micro-VM in KiB.
    #[config(default = 8192, range = "256..=1048576")]
    pub stack_kib: u32,
    /// Wall-clock limit of one call from the host in milliseconds; past it the
    /// vCPU is kicked out and the call traps with "interrupted". 0 = none.
    #[config(default = 0, range = "0..=86400000")]
    pub timeout_ms: u64,
}

/// Guest code in a KVM micro-VM per store.
#[vm_core::plugin(
    id = "virt-kvm",
    slot = virt,
    provides = ["virt@1.0.0", "isolation:kvm@1.0.0"],
    uses = [("native-code ^1", ["engine-cranelift"])]
)]
pub struct KvmVirt {
    config: KvmVirtConfig,
    pool: Arc<Pool>,
    /// The linked runtime functions (by stub id) and where their stubs live.
    linked: Option<Arc<Linked>>,
    /// Whether the pool keeps `linked` alive.
    linked_kept: bool,
    watchdog: Option<Watchdog>,
    committed: Arc<AtomicU64>,
    stats: Arc<Counters>,
}

impl std::fmt::Debug for KvmVirt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KvmVirt").field("config", &self.config).finish_non_exhaustive()
    }
}

/// Counters of the plugin (shared with the stores' micro-VMs, which count
/// acquisitions and returns).
#[derive(Debug, Default)]
struct Counters {
    memories_created: AtomicU64,
    vms_acquired: AtomicU64,
    vms_created: AtomicU64,
    acquire_ns: AtomicU64,
    release_ns: AtomicU64,
    vcpu_run_ns: AtomicU64,
    exits_returned: AtomicU64,
    exits_host_call: AtomicU64,
    exits_fault: AtomicU64,
    exits_interrupted: AtomicU64,
    exits_error: AtomicU64,
    refused_host_calls: AtomicU64,
    maps: AtomicU64,
}

fn bump(c: &AtomicU64, n: u64) {
    c.fetch_add(n, Ordering::Relaxed);
}

/// The runtime functions as linked: their descriptions and the guest pages of
/// their stubs and table.
struct Linked {
    libcalls: Vec<Libcall>,
    /// Read + execute in the guest: stub `i` at `i * STUB_STRIDE`.
    stubs: HostMapping,
    /// Read-only in the guest: the stub addresses, the table guest code calls
    /// through.
    table: HostMapping,
}

impl Linked {
    fn new(libcalls: &[Libcall]) -> Result<Self, KvmError> {
        let len = (libcalls.len().max(1) * STUB_STRIDE).next_multiple_of(PAGE as usize);
        let mut stubs = HostMapping::new(len)?;
        stubs.write(0, &vec![0xcc; len]);
        for i in 0..libcalls.len() {
            stubs.write(i * STUB_STRIDE, &host_call_stub(i as u32)?);
        }
        const _: () = assert!(HOST_CALL_STUB_LEN <= STUB_STRIDE);
        let tlen = (libcalls.len().max(1) * 8).next_multiple_of(PAGE as usize);
        let mut table = HostMapping::new(tlen)?;
        for i in 0..libcalls.len() {
            table.write_u64(i * 8, stubs.addr() + (i * STUB_STRIDE) as u64);
        }
        Ok(Linked { libcalls: libcalls.to_vec(), stubs, table })
    }

    fn stub(&self, i: usize) -> usize {
        self.stubs.addr() as usize + i * STUB_STRIDE
    }
}

impl Plugin for KvmVirt {
    type Config = KvmVirtConfig;

    fn new(config: KvmVirtConfig) -> Result<Self, PluginError> {
        let sc =
            SandboxConfig { stack_size: u64::from(config.stack_kib) << 10, ..Default::default() };
        // One micro-VM is prepared now, for the first store; the pool keeps up to
        // `pool_size` idle ones as stores are dropped.
        let n = config.pool_size as usize;
        let prepared = n.min(1);
        let pool =
            Pool::new(sc, prepared, n).map_err(|e| PluginError::new("virt-kvm", e.to_string()))?;
        let stats = Arc::new(Counters::default());
        bump(&stats.vms_created, prepared as u64);
        Ok(Self {
            config,
            pool: Arc::new(pool),
            linked: None,
            linked_kept: false,
            watchdog: None,
            committed: Arc::default(),
            stats,
        })
    }

    fn stats(&self) -> PluginStats {
        let s = &self.stats;
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let mut p = PluginStats::default();
        p.memory_bytes = self.committed.load(Ordering::Relaxed);
        p.host_calls = get(&s.exits_host_call);
        p.traps = get(&s.exits_fault) + get(&s.exits_interrupted) + get(&s.exits_error);
        p.custom.extend([
            ("memories_created", get(&s.memories_created)),
            ("vms_acquired", get(&s.vms_acquired)),
            ("vms_created", get(&s.vms_created)),
            ("vms_idle", self.pool.idle() as u64),
            ("vm_acquire_us", get(&s.acquire_ns) / 1000),
            ("vm_release_us", get(&s.release_ns) / 1000),
            ("vcpu_run_us", get(&s.vcpu_run_ns) / 1000),
            ("exits_returned", get(&s.exits_returned)),
            ("exits_host_call", get(&s.exits_host_call)),
            ("exits_fault", get(&s.exits_fault)),
            ("exits_interrupted", get(&s.exits_interrupted)),
            ("exits_error", get(&s.exits_error)),
            ("host_calls_refused", get(&s.refused_host_calls)),
            ("regions_mapped", get(&s.maps)),
        ]);
        p
    }
}

/// The plugin's state for one store: its micro-VM, once the store has an
/// instance, and what has been mapped into it.
#[derive(Debug, Default)]
pub struct KvmStore(Mutex<StoreVm>);

impl KvmStore {
    fn lock(&self) -> MutexGuard<'_, StoreVm> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Test support: runs `code` (System V, up to six integer arguments) inside
    /// this store's micro-VM as if it were guest code, and reports how it ended.
    /// Isolation tests use it to run deliberately wrong machine code.
    ///
    /// # Errors
    /// The store has no micro-VM yet (no instance), `code` is not mapped as
    /// guest code, or KVM failed.
    pub fn run_raw(&self, code: usize, args: [u64; 6]) -> Result<Exit, KvmError> {
        let mut vm = self.lock();
        let sb = vm.sandbox.as_mut().ok_or(KvmError::NoVm)?;
        let exit = sb.call(code as u64, args);
        if !matches!(exit, Ok(Exit::Returned { .. })) {
            sb.abandon();
        }
        exit
    }

    /// Test support: maps `len` bytes at `addr` (page-aligned host memory that
    /// stays mapped as long as the store) into this store's micro-VM as guest
    /// code.
    ///
    /// # Errors
    /// The store has no micro-VM yet, or KVM refused the mapping.
    ///
    /// # Safety
    /// The memory stays mapped in this process for the store's life.
    pub unsafe fn map_code(&self, addr: usize, len: usize) -> Result<(), KvmError> {
        let mut vm = self.lock();
        let sb = vm.sandbox.as_mut().ok_or(KvmError::NoVm)?;
        // SAFETY: the caller's contract.
        unsafe { sb.map(addr as u64, (len as u64).next_multiple_of(PAGE), Prot::ReadExec) }
    }
}

#[derive(Default)]
struct StoreVm {
    sandbox: Option<Sandbox>,
    pool: Option<Arc<Pool>>,
    stats: Option<Arc<Counters>>,
    /// Keeps the stubs and table mapped in the sandbox alive.
    linked: Option<Arc<Linked>>,
    /// Start addresses of mapped code and guest-data chunks.
    mapped: Vec<usize>,
    /// Guest-data chunks (pointer arguments must lie in one).
    chunks: Vec<GuestChunk>,
    /// Contexts of the store's instances.
    vmctxs: Vec<usize>,
    /// Linear memories and how much of each is registered and open.
    memories: Vec<MemoryMap>,
}

/// A linear memory as mapped into a micro-VM: registered with KVM in segments
/// that double as it grows (a slot's kernel bookkeeping is proportional to its
/// size, so the whole 4 GiB maximum is not registered up front), committed bytes
/// open, the rest unmapped.
#[derive(Debug)]
struct MemoryMap {
    shared: Arc<MemoryShared>,
    /// Where each registered segment ends (offsets from the base, ascending).
    ends: Vec<usize>,
    /// Bytes open to the guest.
    open: usize,
}

/// Size of a memory's first registered segment.
const FIRST_SEGMENT: usize = 64 << 20;

impl std::fmt::Debug for StoreVm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreVm")
            .field("live", &self.sandbox.is_some())
            .field("mapped", &self.mapped.len())
            .finish_non_exhaustive()
    }
}

impl Drop for StoreVm {
    fn drop(&mut self) {
        if let (Some(sb), Some(pool)) = (self.sandbox.take(), self.pool.take()) {
            let t = Instant::now();
            pool.release(sb);
            if let Some(s) = &self.stats {
                bump(&s.release_ns, t.elapsed().as_nanos() as u64);
            }
        }
    }
}

impl StoreVm {
    fn map(&mut self, addr: usize, len: usize, prot: Prot) -> Result<(), KvmError> {
        if self.mapped.contains(&addr) {
            return Ok(());
        }
        let Some(sb) = self.sandbox.as_mut() else { return Ok(()) };
        let len = (len as u64).next_multiple_of(PAGE);
        // SAFETY: every region mapped here is owned by the store (guest data,
        // memories), by a module an instance of the store keeps alive (code), or by
        // the `Linked` this state holds (stubs, table); the store drops this state
        // first, and releasing the sandbox unmaps them all.
        unsafe { sb.map(addr as u64, len, prot)? };
        self.mapped.push(addr);
        if let Some(s) = &self.stats {
            bump(&s.maps, 1);
        }
        Ok(())
    }

    fn add_chunk(&mut self, c: &GuestChunk) -> Result<(), KvmError> {
        let prot = match c.access {
            GuestAccess::ReadWrite => Prot::ReadWrite,
            _ => Prot::Read,
        };
        self.map(c.start, c.len, prot)?;
        if !self.chunks.iter().any(|k| k.start == c.start) {
            self.chunks.push(*c);
        }
        Ok(())
    }

    fn add_memory(&mut self, m: &Arc<MemoryShared>) -> Result<(), KvmError> {
        if self.memories.iter().any(|k| k.shared.base == m.base) {
            return Ok(());
        }
        self.memories.push(MemoryMap { shared: m.clone(), ends: Vec::new(), open: 0 });
        self.sync_memories()
    }

    /// Registers and opens the pages memories grew by since the guest last ran.
    fn sync_memories(&mut self) -> Result<(), KvmError> {
        let Some(sb) = self.sandbox.as_mut() else { return Ok(()) };
        let mut maps = 0;
        for m in &mut self.memories {
            let s = &m.shared;
            let len = s.len.load(Ordering::Acquire).min(s.max_bytes);
            loop {
                let registered = m.ends.last().copied().unwrap_or(0);
                if len <= registered {
                    break;
                }
                let want = len.max(2 * registered).max(FIRST_SEGMENT);
                let end = want.next_multiple_of(2 << 20).min(s.max_bytes);
                // SAFETY: the memory's reservation, which the store keeps (the
                // store drops this state first; a reset unmaps it).
                unsafe {
                    sb.map((s.base + registered) as u64, (end - registered) as u64, Prot::None)?
                };
                maps += 1;
                m.ends.push(end);
            }
            // Open `[open, len)` segment by segment (each `protect` stays in one).
            while len > m.open {
                let seg = m.ends.iter().copied().find(|&e| e > m.open).unwrap_or(len);
                let seg_end = seg.min(len);
                sb.protect((s.base + m.open) as u64, (seg_end - m.open) as u64, Prot::ReadWrite)?;
                m.open = seg_end;
            }
        }
        if let Some(s) = &self.stats {
            bump(&s.maps, maps);
        }
        Ok(())
    }

    /// Whether `ptr` may be given to the host as a pointer argument of kind `t`.
    fn allowed(&self, t: NativeType, ptr: u64) -> bool {
        match t {
            NativeType::VmCtx => self.vmctxs.contains(&(ptr as usize)),
            NativeType::GuestPtr => {
                ptr == 0 || self.chunks.iter().any(|c| c.contains(ptr as usize, 16))
            }
            _ => true,
        }
    }
}

impl KvmVirt {
    /// The pool's micro-VM for a store, mapped with the runtime-function stubs.
    fn acquire(&mut self, vm: &mut StoreVm) -> Result<(), KvmError> {
        if vm.sandbox.is_some() {
            return Ok(());
        }
        let t = Instant::now();
        let idle = self.pool.idle();
        let sb = self.pool.acquire()?;
        bump(&self.stats.acquire_ns, t.elapsed().as_nanos() as u64);
        bump(&self.stats.vms_acquired, 1);
        if idle == 0 {
            bump(&self.stats.vms_created, 1);
        }
        vm.sandbox = Some(sb);
        vm.pool = Some(self.pool.clone());
        vm.stats = Some(self.stats.clone());
        self.map_linked(vm)
    }

    /// Maps the runtime-function stubs and their table into the store's
    /// micro-VM, where they stay across resets (every store of this plugin uses
    /// the same; the pool keeps them alive).
    fn map_linked(&mut self, vm: &mut StoreVm) -> Result<(), KvmError> {
        let (Some(l), Some(sb)) = (&self.linked, vm.sandbox.as_mut()) else { return Ok(()) };
        for (m, prot) in [(&l.stubs, Prot::ReadExec), (&l.table, Prot::Read)] {
            if !sb.is_mapped(m.addr(), m.len() as u64) {
                // SAFETY: the pool keeps `l` alive as long as any sandbox (below).
                unsafe { sb.map_kept(m.addr(), m.len() as u64, prot)? };
                bump(&self.stats.maps, 1);
            }
        }
        if !self.linked_kept {
            self.pool.keep_alive(l.clone());
            self.linked_kept = true;
        }
        vm.linked = Some(l.clone());
        Ok(())
    }

    fn watchdog(&mut self) -> &Watchdog {
        self.watchdog.get_or_insert_with(Watchdog::start)
    }
}

fn vm_error(e: KvmError) -> InstantiationError {
    InstantiationError::Virt(format!("micro-VM: {e}"))
}

impl Virt for KvmVirt {
    const GUARD_PAGES: bool = true;
    const NATIVE_CODE: bool = true;
    const CHEAP_HOST_CALLS: bool = false;
    type Memory = KvmMemory;
    type StoreState = KvmStore;

    fn new_memory(&mut self, ty: &MemoryType) -> Result<KvmMemory, MemoryError> {
        let limit = self.config.max_memory_pages;
        if ty.min > limit {
            return Err(MemoryError::TooLarge { pages: ty.min.into(), limit: limit.into() });
        }
        let max = ty.max.map_or(limit, |m| m.min(limit));
        let m = KvmMemory::new(ty.min, max, self.committed.clone())?;
        bump(&self.stats.memories_created, 1);
        Ok(m)
    }

    fn max_call_depth(&self) -> u32 {
        self.config.max_call_depth
    }

    fn max_table_elements(&self) -> u32 {
        self.config.max_table_elements
    }

    fn max_stack_slots(&self) -> usize {
        self.config.max_stack_slots as usize
    }

    fn link_libcalls(&mut self, libcalls: &[Libcall]) -> Box<[usize]> {
        match Linked::new(libcalls) {
            Ok(l) => {
                let l = Arc::new(l);
                let stubs = (0..libcalls.len()).map(|i| l.stub(i)).collect();
                self.linked = Some(l);
                self.linked_kept = false;
                stubs
            }
            // Without stubs no runtime function can be reached; calls then trap
            // with the reason (`enter` checks `linked`).
            Err(_) => vec![0; libcalls.len()].into_boxed_slice(),
        }
    }

    fn prepare<C: Composition<Virt = Self>>(
        &mut self,
        store: &Store<C>,
        instance: Instance,
    ) -> Result<(), InstantiationError> {
        let state = store.virt_state();
        let mut vm = state.lock();
        self.acquire(&mut vm).map_err(vm_error)?;
        if vm.linked.is_none() {
            self.map_linked(&mut vm).map_err(vm_error)?;
        }
        for c in store.guest_data().chunks() {
            vm.add_chunk(c).map_err(vm_error)?;
        }
        if let Some(inst) = store.instance(instance) {
            // A module without functions may have no code at all: nothing to map.
            if let Some(code) = <C::Engine as Engine>::code_map(inst.module.code())
                && !code.range().is_empty()
            {
                let r = code.range();
                let start = r.start & !(PAGE as usize - 1);
                vm.map(start, r.end - start, Prot::ReadExec).map_err(vm_error)?;
            }
            let ctx = inst.vmctx_ptr() as usize;
            if !vm.vmctxs.contains(&ctx) {
                vm.vmctxs.push(ctx);
            }
        }
        for m in &store.memories {
            vm.add_memory(m.mem.shared()).map_err(vm_error)?;
        }
        Ok(())
    }

    fn guest_data_added(&mut self, store: &KvmStore, chunk: &GuestChunk) {
        let mut vm = store.lock();
        if vm.sandbox.is_none() {
            return;
        }
        // A chunk that cannot be mapped leaves the guest without it: its first
        // access faults and the call traps.
        let _ = vm.add_chunk(chunk);
    }

    fn guest_stack(&mut self, store: &KvmStore) -> GuestStack {
        let vm = store.lock();
        match &vm.sandbox {
            Some(sb) => {
                let (lo, _) = sb.stack();
                GuestStack { lo: lo as usize, limit: lo as usize + STACK_RESERVE }
            }
            None => GuestStack::default(),
        }
    }

    unsafe fn enter(&mut self, store: &KvmStore, state: &mut CallState, entry: Entry) -> bool {
        let Some(linked) = self.linked.clone() else {
            state.pending = Some(Trap::host("virt-kvm: the runtime functions were not linked"));
            return false;
        };
        let timeout = self.config.timeout_ms;
        let mut vm = store.lock();
        let nested = vm.sandbox.as_ref().is_some_and(Sandbox::in_host_call);
        let (args_at, bytes) = {
            let Some(sb) = vm.sandbox.as_ref() else {
                state.pending = Some(Trap::host("virt-kvm: the store has no micro-VM"));
                return false;
            };
            let bytes = entry.slots.max(1) * 16;
            let at = if nested {
                // Below the pending host call's frame: the nested call starts below.
                None
            } else {
                Some(sb.stack().1 as usize - bytes.next_multiple_of(16))
            };
            (at, bytes)
        };
        let Some(args_at) = args_at else {
            drop(vm);
            state.pending =
                Some(Trap::host("virt-kvm: a host function called back into guest code"));
            return false;
        };
        if let Err(e) = vm.sync_memories() {
            state.pending = Some(Trap::host(format!("virt-kvm: {e}")));
            return false;
        }
        // SAFETY: `args_at..+bytes` is the top of the sandbox's guest stack (host
        // memory of this process, at the same address), kept out of the call's
        // frames by `call_reserving`; `entry.args` has `entry.slots` slots.
        unsafe {
            std::ptr::copy_nonoverlapping(
                entry.args.cast::<u8>(),
                args_at as *mut u8,
                entry.slots * 16,
            );
            // Guest code calls runtime functions through the stubs' table, which the
            // guest can read (the engine's own copy lives on the host heap).
            let ctx = (*entry.vmctx.cast::<VMContext>()).store;
            (*ctx).libcalls = linked.table.addr() as *const usize;
        }
        let vmctx = entry.vmctx as u64;
        let call_args = [vmctx, vmctx, entry.code as u64, args_at as u64, 0, 0];
        let guard = (timeout > 0).then(|| {
            let i = vm.sandbox.as_ref().map(Sandbox::interrupter);
            (Instant::now() + Duration::from_millis(timeout), i)
        });
        drop(vm);
        let armed = guard.is_some();
        if let Some((deadline, Some(i))) = guard {
            let w = self.watchdog();
            if !w.running {
                state.pending = Some(Trap::host("virt-kvm: cannot start the timeout thread"));
                return false;
            }
            w.arm(deadline, i);
        }
        let stats = self.stats.clone();
        let t = Instant::now();
        let mut vm = store.lock();
        let Some(sb) = vm.sandbox.as_mut() else { return false };
        let mut exit = sb.call_reserving(entry.trampoline as u64, call_args, bytes as u64);
        state.stack_lo = sb.stack().0 as usize;
        state.entry_sp = sb.entry_rsp() as usize;
        let ok = loop {
            match exit {
                Ok(Exit::Returned { .. }) => {
                    bump(&stats.exits_returned, 1);
                    // SAFETY: as above; the call wrote its results into the buffer.
                    unsafe {
                        std::ptr::copy_nonoverlapping(
                            args_at as *const u8,
                            entry.args.cast::<u8>(),
                            entry.slots * 16,
                        );
                    }
                    break true;
                }
                Ok(Exit::HostCall(call)) => {
                    bump(&stats.exits_host_call, 1);
                    let lc = linked.libcalls.get(call.id as usize);
                    let ok = lc.is_some_and(|lc| {
                        lc.params
                            .iter()
                            .filter(|t| {
                                !matches!(t, NativeType::F32 | NativeType::F64 | NativeType::V128)
                            })
                            .zip(call.args)
                            .all(|(&t, a)| vm.allowed(t, a))
                    });
                    let Some(lc) = lc.filter(|_| ok) else {
                        bump(&stats.refused_host_calls, 1);
                        state.pending = Some(Trap::host(format!(
                            "virt-kvm: guest code made host call {} with arguments that are not its store's",
                            call.id
                        )));
                        if let Some(sb) = vm.sandbox.as_mut() {
                            sb.abandon();
                        }
                        break false;
                    };
                    let addr = lc.addr;
                    drop(vm);
                    // SAFETY: `addr` is a runtime function with the System V signature
                    // its description gives, whose pointer arguments were checked
                    // above; runtime functions catch panics and return normally.
                    let ret = unsafe { call_sysv(addr, &call) };
                    vm = store.lock();
                    if let Err(e) = vm.sync_memories() {
                        state.pending = Some(Trap::host(format!("virt-kvm: {e}")));
                        if let Some(sb) = vm.sandbox.as_mut() {
                            sb.abandon();
                        }
                        break false;
                    }
                    let Some(sb) = vm.sandbox.as_mut() else { break false };
                    exit = sb.resume(ret);
                }
                Ok(Exit::Fault(f)) => {
                    bump(&stats.exits_fault, 1);
                    // SAFETY: the guest stack is host memory of this process at the
                    // same address; the walk stays inside `[stack_lo, entry_sp)`.
                    if !unsafe { state.record_trap(f.rip as usize, f.rbp as usize) } {
                        state.pending = Some(Trap::host(format!(
                            "virt-kvm: guest code faulted outside any trap site (vector {}, rip {:#x}, address {:#x})",
                            f.vector, f.rip, f.cr2
                        )));
                    }
                    if let Some(sb) = vm.sandbox.as_mut() {
                        sb.abandon();
                    }
                    break false;
                }
                Ok(Exit::Interrupted) => {
                    bump(&stats.exits_interrupted, 1);
                    state.pending = Some(Trap::new(TrapCode::Interrupted));
                    if let Some(sb) = vm.sandbox.as_mut() {
                        sb.abandon();
                    }
                    break false;
                }
                Err(e) => {
                    bump(&stats.exits_error, 1);
                    state.pending = Some(Trap::host(format!("virt-kvm: {e}")));
                    if let Some(sb) = vm.sandbox.as_mut() {
                        sb.abandon();
                    }
                    break false;
                }
            }
        };
        drop(vm);
        bump(&stats.vcpu_run_ns, t.elapsed().as_nanos() as u64);
        if armed {
            self.watchdog().disarm();
        }
        ok
    }
}

/// Ends calls that run past their deadline: one thread per plugin, started on the
/// first call with a timeout.
struct Watchdog {
    shared: Arc<(Mutex<WatchState>, Condvar)>,
    /// Whether the thread started (without it, calls have no deadline).
    running: bool,
}

#[derive(Default)]
struct WatchState {
    armed: Option<(Instant, Interrupter)>,
    stop: bool,
}

impl Watchdog {
    fn start() -> Self {
        let shared = Arc::new((Mutex::new(WatchState::default()), Condvar::new()));
        let s = shared.clone();
        let spawned =
            std::thread::Builder::new().name("virt-kvm-watchdog".into()).spawn(move || {
                let (m, cv) = &*s;
                let mut st = m.lock().unwrap_or_else(|e| e.into_inner());
                loop {
                    if st.stop {
                        return;
                    }
                    match &st.armed {
                        None => st = cv.wait(st).unwrap_or_else(|e| e.into_inner()),
                        Some((deadline, i)) => {
                            let now = Instant::now();
                            if now >= *deadline {
                                i.interrupt();
                                st.armed = None;
                            } else {
                                let d = *deadline - now;
                                st = cv.wait_timeout(st, d).unwrap_or_else(|e| e.into_inner()).0;
                            }
                        }
                    }
                }
            });
        Watchdog { shared, running: spawned.is_ok() }
    }

    fn arm(&self, deadline: Instant, i: Interrupter) {
        let (m, cv) = &*self.shared;
        m.lock().unwrap_or_else(|e| e.into_inner()).armed = Some((deadline, i));
        cv.notify_one();
    }

    fn disarm(&self) {
        let (m, cv) = &*self.shared;
        m.lock().unwrap_or_else(|e| e.into_inner()).armed = None;
        cv.notify_one();
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        let (m, cv) = &*self.shared;
        m.lock().unwrap_or_else(|e| e.into_inner()).stop = true;
        cv.notify_one();
    }
}
