//! Guest data holds everything generated code can reach from a context, with the
//! right protection, and nothing else: every pointer reachable from each instance's
//! `VMContext` lies in a chunk of the store's guest data whose access matches who
//! writes it, and host objects never share a chunk's pages.

use std::sync::atomic::AtomicU32;

use vm_core::runtime::guest_data::page_size;
use vm_core::runtime::offsets::{
    FUNCREF_SIZE, GLOBAL_SIZE, MEMORY_SIZE, STATE_SIZE, STORE_SIZE, TABLE_ELEMENT_SIZE, TABLE_SIZE,
    VMCTX_SIZE, VMContext, VMFuncRef, VMStoreContext,
};
use vm_core::runtime::{
    GuestAccess, GuestChunk, GuestData, Instance, Linker, MemoryError, MemoryType, RunContext,
    Store, Val,
};
use vm_core::slot::Virt;
use vm_core::{Plugin, PluginError, Settings, Vm};
use vm_virt_host::{HostVirt, HostVirtConfig, MmapMemory};

/// The host `virt` plugin, recording the guest-data chunks it is told about.
#[vm_core::plugin(id = "test-recording-virt", slot = virt, provides = ["virt@1.0.0"])]
pub struct RecordingVirt {
    inner: HostVirt,
    /// Every chunk announced, in order.
    pub seen: Vec<GuestChunk>,
}

impl Plugin for RecordingVirt {
    type Config = HostVirtConfig;

    fn new(config: HostVirtConfig) -> Result<Self, PluginError> {
        Ok(Self { inner: <HostVirt as Plugin>::new(config)?, seen: Vec::new() })
    }
}

impl Virt for RecordingVirt {
    const GUARD_PAGES: bool = <HostVirt as Virt>::GUARD_PAGES;
    type Memory = MmapMemory;
    type StoreState = ();

    fn new_memory(&mut self, ty: &MemoryType) -> Result<MmapMemory, MemoryError> {
        self.inner.new_memory(ty)
    }

    fn max_call_depth(&self) -> u32 {
        self.inner.max_call_depth()
    }

    fn max_table_elements(&self) -> u32 {
        self.inner.max_table_elements()
    }

    fn max_stack_slots(&self) -> usize {
        self.inner.max_stack_slots()
    }

    fn guest_data_added(&mut self, _: &(), chunk: &GuestChunk) {
        self.seen.push(*chunk);
    }
}

vm_core::compose! {
    /// The interpreter over the recording virt plugin.
    pub struct TestVm {
        engine: vm_engine_interp::Interp,
        virt: RecordingVirt,
        hosts: [],
    }
}

/// Exports a function, a memory, a funcref table and mutable globals.
const EXPORTER: &str = r#"(module
  (type $ii (func (param i32) (result i32)))
  (memory (export "mem") 1)
  (table $t (export "tab") 4 funcref)
  (global $g (export "g") (mut i32) (i32.const 7))
  (global (export "h") (mut i64) (i64.const -1))
  (func $double (export "double") (type $ii) (i32.mul (local.get 0) (i32.const 2)))
  (func $inc (type $ii) (i32.add (local.get 0) (i32.const 1)))
  (elem (table $t) (i32.const 0) func $double $inc)
  (func (export "set_g") (param i32) (global.set $g (local.get 0))))"#;

/// Imports everything the exporter exports; defines tables, globals and functions
/// of its own and grows a table.
const IMPORTER: &str = r#"(module
  (type $ii (func (param i32) (result i32)))
  (import "a" "double" (func $double (type $ii)))
  (import "a" "mem" (memory 1))
  (import "a" "tab" (table $t 4 funcref))
  (import "a" "g" (global $g (mut i32)))
  (table $own 3 funcref)
  (table $ext 3 externref)
  (global $x (mut i32) (i32.const 3))
  (global $r (mut funcref) (ref.func $quad))
  (func $quad (type $ii) (call $double (call $double (local.get 0))))
  (elem (table $own) (i32.const 1) func $quad $double)
  (elem declare func $quad)
  (func (export "indirect") (param i32 i32) (result i32)
    (call_indirect $t (type $ii) (local.get 1) (local.get 0)))
  (func (export "grow") (param i32) (result i32)
    (table.grow $own (ref.func $quad) (local.get 0)))
  (func (export "bump") (result i32)
    (global.set $x (i32.add (global.get $x) (global.get $g)))
    (global.get $x)))"#;

fn started() -> Vm<TestVm, vm_core::compose::lifecycle::Running> {
    Vm::<TestVm>::new(&Settings::new())
        .expect("config")
        .init()
        .expect("init")
        .start()
        .expect("start")
}

/// Checks and records what the store's chunks say about `len` bytes at `addr`.
struct Walk<'a> {
    guest: &'a GuestData,
    checked: usize,
}

impl Walk<'_> {
    fn expect(&mut self, what: &str, addr: usize, len: usize, access: GuestAccess) {
        let chunk = self.guest.chunk_of(addr, len.max(1)).unwrap_or_else(|| {
            panic!("{what} at {addr:#x} (+{len}) is outside the store's guest data")
        });
        assert_eq!(chunk.access, access, "{what} at {addr:#x} is in a chunk of the wrong access");
        self.checked += 1;
    }

    /// A funcref and the context it leads to.
    ///
    /// # Safety
    /// `f` is a live funcref of the store.
    unsafe fn funcref(&mut self, what: &str, f: *const VMFuncRef) {
        self.expect(what, f as usize, FUNCREF_SIZE, GuestAccess::ReadOnly);
        // SAFETY: the caller's contract.
        let vmctx = unsafe { (*f).vmctx };
        if vmctx.cast_const().cast() != f {
            self.expect("funcref's context", vmctx as usize, VMCTX_SIZE, GuestAccess::ReadOnly);
        }
    }

    /// Everything generated code can reach from `vmctx`, whose module declares
    /// `counts` = (functions, memories, tables, globals, types).
    ///
    /// # Safety
    /// `vmctx` is a live context of the store.
    unsafe fn context(&mut self, vmctx: *const VMContext, counts: [usize; 5]) {
        let [funcs, memories, tables, globals, types] = counts;
        let ro = GuestAccess::ReadOnly;
        let rw = GuestAccess::ReadWrite;
        self.expect("context", vmctx as usize, VMCTX_SIZE, ro);
        // SAFETY: the caller's contract; every array has the module's count of
        // entries, every entry is live.
        unsafe {
            let c = &*vmctx;
            if !c.memory0.is_null() {
                self.expect("memory 0", c.memory0 as usize, MEMORY_SIZE, ro);
            }
            self.expect("memory array", c.memories as usize, memories * 8, ro);
            for i in 0..memories {
                self.expect("memory", *c.memories.add(i) as usize, MEMORY_SIZE, ro);
            }
            self.expect("table array", c.tables as usize, tables * 8, ro);
            for i in 0..tables {
                let t = *c.tables.add(i);
                self.expect("table", t as usize, TABLE_SIZE, ro);
                let n = (*t).length as usize;
                self.expect("elements", (*t).base as usize, n * TABLE_ELEMENT_SIZE, rw);
                for k in 0..n {
                    let e = *(*t).base.add(k);
                    // Funcrefs are pointers; externrefs (host values + 1) are small.
                    if e > 0x10000 {
                        self.funcref("table element", e as *const VMFuncRef);
                    }
                }
            }
            self.expect("global array", c.globals as usize, globals * 8, ro);
            for i in 0..globals {
                self.expect("global", *c.globals.add(i) as usize, GLOBAL_SIZE, rw);
            }
            self.expect("function array", c.funcs as usize, funcs * 8, ro);
            for i in 0..funcs {
                self.funcref("function", *c.funcs.add(i));
            }
            self.expect("signature ids", c.sigs as usize, types * 4, ro);
            self.expect("store context", c.store as usize, STORE_SIZE, ro);
            let interrupt = (*c.store).interrupt;
            self.expect("interrupt flag", interrupt as usize, size_of::<AtomicU32>(), ro);
            self.expect("store state", c.state as usize, STATE_SIZE, rw);
            // Host only: the instance behind the context is on the host heap.
            assert!(self.guest.chunk_of(c.instance as usize, 1).is_none());
        }
    }
}

fn walk_store(store: &Store<TestVm>) -> usize {
    let mut w = Walk { guest: store.guest_data(), checked: 0 };
    for i in 0..store.instances.len() {
        let inst = store.instance(Instance(i as u32)).expect("instance");
        let info = inst.module.info();
        let counts = [
            info.funcs.len(),
            info.memories.len(),
            info.tables.len(),
            info.globals.len(),
            info.types.len(),
        ];
        // SAFETY: the context of a live instance of `store`.
        unsafe { w.context(inst.vmctx_ptr(), counts) };
        let back: *const _ = inst;
        assert_eq!(inst.vmctx().instance.cast_const().cast(), back, "context's instance");
    }
    // Funcrefs handed out for host use point into guest data too.
    for f in &store.funcs {
        // SAFETY: a live funcref of the store.
        unsafe { w.funcref("store function", f.vm_ptr()) };
    }
    w.checked
}

/// Chunks are whole, disjoint, page-aligned runs of pages; no host object of the
/// store (slot lists, instances, the store itself) or fresh heap allocation lies in
/// one.
fn check_chunks(store: &Store<TestVm>) {
    let page = page_size();
    let chunks = store.guest_data().chunks();
    for (i, c) in chunks.iter().enumerate() {
        assert_eq!(c.start % page, 0, "chunk {i} is not page-aligned");
        assert!(c.len > 0 && c.len % page == 0, "chunk {i} is not whole pages");
        for (k, d) in chunks.iter().enumerate().skip(i + 1) {
            let (a, b) = (c.range(), d.range());
            assert!(a.end <= b.start || b.end <= a.start, "chunks {i} and {k} overlap");
        }
    }
    let inside = |p: usize| chunks.iter().any(|c| c.range().contains(&p));
    let store_addr: *const Store<TestVm> = store;
    assert!(!inside(store_addr as usize));
    assert!(!inside(store.funcs.as_ptr() as usize));
    assert!(!inside(store.tables.as_ptr() as usize));
    assert!(!inside(store.globals.as_ptr() as usize));
    assert!(!inside(store.memories.as_ptr() as usize));
    for inst in &store.instances {
        let p: *const _ = &**inst;
        assert!(!inside(p as usize));
        assert!(!inside(inst.func_addrs.as_ptr() as usize));
        for e in &inst.elems {
            assert!(e.is_empty() || !inside(e.as_ptr() as usize), "element segments are host data");
        }
    }
    let secrets: Vec<Box<[u8; 48]>> = (0..256).map(|_| Box::new([0x5a; 48])).collect();
    for s in &secrets {
        assert!(!inside(s.as_ptr() as usize), "a heap allocation shares a guest-data page");
    }
}

#[test]
fn every_pointer_reachable_from_a_context_is_in_guest_data_of_the_right_access() {
    let mut vm = started();
    let a = vm.compile(EXPORTER).expect("compile exporter");
    let b = vm.compile(IMPORTER).expect("compile importer");
    let mut linker = Linker::<TestVm>::new(RunContext::default());
    let ia = vm.instantiate(&a, &mut linker).expect("instantiate exporter");
    linker.register("a", ia);
    let ib = vm.instantiate(&b, &mut linker).expect("instantiate importer");
    let ib2 = vm.instantiate(&b, &mut linker).expect("instantiate importer twice");

    let checked = walk_store(linker.store());
    assert!(checked > 60, "the walk checked only {checked} pointers");
    check_chunks(linker.store());

    // Generated code's writes land in guest data: globals, and a table grown past
    // its allocation (the elements move to a new chunk).
    assert_eq!(vm.invoke(&mut linker, ia, "set_g", &[Val::I32(10)]).expect("set_g"), []);
    assert_eq!(vm.invoke(&mut linker, ib, "bump", &[]).expect("bump"), [Val::I32(13)]);
    assert_eq!(
        vm.invoke(&mut linker, ib2, "indirect", &[Val::I32(1), Val::I32(5)]).unwrap(),
        [Val::I32(6)]
    );
    let before = linker.store().guest_data().chunks().len();
    for n in [1, 3, 10, 3000] {
        vm.invoke(&mut linker, ib, "grow", &[Val::I32(n)]).expect("grow");
    }
    assert!(linker.store().guest_data().chunks().len() > before, "a large table has its own chunk");
    walk_store(linker.store());
    check_chunks(linker.store());

    // The virt plugin has been told about every chunk once the next call starts.
    vm.invoke(&mut linker, ib, "bump", &[]).expect("bump");
    let chunks = linker.store().guest_data().chunks().to_vec();
    assert_eq!(vm.plugin::<RecordingVirt>().seen, chunks);
    let rw = chunks.iter().filter(|c| c.access == GuestAccess::ReadWrite).count();
    assert!(rw >= 2 && rw < chunks.len(), "both protections are used: {chunks:?}");
}

#[test]
fn interrupt_handles_keep_the_flag_page_after_the_store_is_dropped() {
    let mut vm = started();
    let a = vm.compile(EXPORTER).expect("compile");
    let mut linker = Linker::<TestVm>::new(RunContext::default());
    vm.instantiate(&a, &mut linker).expect("instantiate");
    let handle = linker.store().interrupt_handle();
    let flag_chunk = linker.store().guest_data().chunks()[0];
    assert_eq!(flag_chunk.access, GuestAccess::ReadOnly);
    // SAFETY: reading the store context of a live store.
    let flag = unsafe { (*linker.store().vm_store_context()).interrupt };
    assert!(flag_chunk.contains(flag as usize, 4));
    let ctx: *const VMStoreContext = linker.store().vm_store_context();
    assert!(!flag_chunk.contains(ctx as usize, 1), "the flag's page holds the flag only");
    drop(linker);
    handle.interrupt();
}
