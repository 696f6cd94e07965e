//! The store: every function, memory, table, global and instance created by one
//! linker, addressed by `u32` handles. What generated code reads or writes of them
//! lives in the store's [guest data](super::guest_data), at addresses that stay
//! valid until the store is dropped; the slots here keep the host-only rest and a
//! pointer to their guest-data part. Nothing is removed before the store is dropped.

use std::any::Any;
use std::collections::HashMap;
use std::ptr::NonNull;
use std::sync::Arc;

use super::guest_data::{GuestAccess, GuestData};
use super::host::{Caller, HostFuncDef};
use super::limits::{ExecLimits, InterruptHandle, Interrupts};
use super::memory::MemorySlot;
use super::module::{ExportKind, ModuleInfo};
use super::offsets::{
    RawRef, VMContext, VMFuncRef, VMGlobal, VMStoreContext, VMStoreState, VMTableDefinition,
};
use super::types::MemoryType;
use super::types::{FuncType, GlobalType, TableType};
use super::{Trap, TrapCode, Val, ValType};
use crate::compose::Composition;
use crate::slot::{Collector, Engine, Virt};

/// Most elements a table may hold whatever the `virt` plugin allows (`table.grow`
/// past it fails).
pub const MAX_TABLE_ELEMENTS: u64 = 10_000_000;

/// A compiled module: its description and the engine's code, shared by its instances.
pub struct Module<C: Composition> {
    inner: Arc<ModuleInner<C>>,
}

struct ModuleInner<C: Composition> {
    info: ModuleInfo,
    code: <C::Engine as Engine>::Code,
}

impl<C: Composition> Clone for Module<C> {
    fn clone(&self) -> Self {
        Self { inner: self.inner.clone() }
    }
}

impl<C: Composition> std::fmt::Debug for Module<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Module")
            .field("name", &self.inner.info.name)
            .field("functions", &self.inner.info.funcs.len())
            .finish()
    }
}

impl<C: Composition> Module<C> {
    /// Pairs a module description with the engine's code for it.
    pub fn new(info: ModuleInfo, code: <C::Engine as Engine>::Code) -> Self {
        Self { inner: Arc::new(ModuleInner { info, code }) }
    }

    /// The module's description.
    pub fn info(&self) -> &ModuleInfo {
        &self.inner.info
    }

    /// The engine's code.
    pub fn code(&self) -> &<C::Engine as Engine>::Code {
        &self.inner.code
    }
}

/// What a function is.
#[derive(Debug, Clone, Copy)]
pub enum FuncKind {
    /// A wasm function: its instance and its index in the module's function space.
    Wasm {
        /// Instance handle.
        instance: u32,
        /// Function index in the module (imports included).
        index: u32,
    },
    /// A host function and the index of its module's state in the store.
    Host {
        /// The function.
        def: &'static HostFuncDef,
        /// Host state index (see [`Store::host_state_mut`]).
        state: u32,
    },
}

/// A function in the store.
#[derive(Debug)]
pub struct FuncSlot {
    /// The funcref generated code and tables use (read-only guest data of the store,
    /// owned by this slot).
    vm: NonNull<VMFuncRef>,
    /// What the function is.
    pub kind: FuncKind,
}

impl FuncSlot {
    /// The funcref.
    pub fn vm(&self) -> &VMFuncRef {
        // SAFETY: `vm` was allocated for this slot in its store's guest data, which
        // outlives the slot; only `&mut self` methods write it.
        unsafe { self.vm.as_ref() }
    }

    /// The funcref's address: the function as a [`RawRef`].
    pub fn vm_ptr(&self) -> *mut VMFuncRef {
        self.vm.as_ptr()
    }

    fn vm_mut(&mut self) -> &mut VMFuncRef {
        // SAFETY: as in `vm`; `&mut self` excludes other borrows.
        unsafe { self.vm.as_mut() }
    }
}

/// A table in the store.
#[derive(Debug)]
pub struct TableSlot {
    /// What generated code reads (read-only guest data, owned by this slot); its
    /// `base` points to the elements, read-write guest data with room for
    /// `capacity` of them.
    def: NonNull<VMTableDefinition>,
    /// Elements the current allocation holds.
    capacity: u64,
    /// The table's type (maximum enforced on growth).
    pub ty: TableType,
    /// Most elements this table may grow to (the `virt` plugin's limit, at most
    /// [`MAX_TABLE_ELEMENTS`]).
    pub limit: u64,
}

impl TableSlot {
    /// A table of `ty.min` elements `init`, growable to `limit` elements. The caller
    /// has checked `ty.min` against `limit` (before this allocation).
    ///
    /// # Panics
    /// Aborts through [`std::alloc::handle_alloc_error`] when no memory can be
    /// mapped, as `vec!` would.
    fn new(ty: TableType, init: RawRef, limit: u64, guest: &mut GuestData) -> Self {
        let n = ty.min as usize;
        let base = guest.try_alloc_slice(GuestAccess::ReadWrite, n, init).unwrap_or_else(|| {
            let layout = std::alloc::Layout::array::<RawRef>(n);
            std::alloc::handle_alloc_error(layout.unwrap_or(std::alloc::Layout::new::<RawRef>()))
        });
        let def = VMTableDefinition { base: base.as_ptr(), length: n as u64 };
        Self {
            def: guest.alloc(GuestAccess::ReadOnly, def),
            capacity: n as u64,
            ty,
            limit: limit.min(MAX_TABLE_ELEMENTS),
        }
    }

    /// The definition generated code reads.
    pub fn def(&self) -> &VMTableDefinition {
        // SAFETY: `def` was allocated for this slot in its store's guest data, which
        // outlives the slot; only `&mut self` methods write it.
        unsafe { self.def.as_ref() }
    }

    /// The definition's address (what instances' contexts point to).
    pub fn def_ptr(&self) -> *mut VMTableDefinition {
        self.def.as_ptr()
    }

    /// The elements (raw references).
    pub fn elements(&self) -> &[RawRef] {
        let d = self.def();
        // SAFETY: `base` points to `length` initialized elements of this table in
        // its store's guest data (`length <= capacity`).
        unsafe { std::slice::from_raw_parts(d.base, d.length as usize) }
    }

    /// The elements, mutably.
    pub fn elements_mut(&mut self) -> &mut [RawRef] {
        let d = self.def();
        // SAFETY: as in `elements`; `&mut self` excludes other borrows.
        unsafe { std::slice::from_raw_parts_mut(d.base, d.length as usize) }
    }

    /// `table.grow`: the old size, or `None` when it cannot grow. Beyond the
    /// current capacity the elements move to a new allocation of `guest` with room
    /// to double; the old one stays (unused) until the store is dropped.
    fn grow(&mut self, guest: &mut GuestData, delta: u32, init: RawRef) -> Option<u32> {
        let old = self.def().length;
        let new = old + u64::from(delta);
        let max = self.ty.max.map_or(self.limit, u64::from).min(self.limit);
        if new > max {
            return None;
        }
        let base = self.def().base;
        if new > self.capacity {
            let cap = new.max(self.capacity.saturating_mul(2)).min(max);
            let to = guest.try_alloc_slice(GuestAccess::ReadWrite, cap as usize, init)?;
            // SAFETY: `base` holds `old` elements; `to` is a fresh allocation of
            // `cap >= new > old` elements.
            unsafe { std::ptr::copy_nonoverlapping(base, to.as_ptr(), old as usize) };
            self.capacity = cap;
            // SAFETY: as in `def`; `&mut self` excludes other borrows.
            unsafe { self.def.as_mut().base = to.as_ptr() };
        } else {
            // SAFETY: `old..new` lies within the allocation's `capacity` elements.
            unsafe { std::slice::from_raw_parts_mut(base.add(old as usize), delta as usize) }
                .fill(init);
        }
        // SAFETY: as above.
        unsafe { self.def.as_mut().length = new };
        Some(old as u32)
    }
}

/// Checks a table's declared minimum against `limit` (and [`MAX_TABLE_ELEMENTS`]).
///
/// # Errors
/// [`InstantiationError::TableTooLarge`](super::InstantiationError).
pub fn check_table(ty: &TableType, limit: u64) -> Result<(), super::InstantiationError> {
    let limit = limit.min(MAX_TABLE_ELEMENTS);
    if u64::from(ty.min) > limit {
        return Err(super::InstantiationError::TableTooLarge { elements: ty.min.into(), limit });
    }
    Ok(())
}

/// A global in the store.
#[derive(Debug)]
pub struct GlobalSlot {
    /// The value (read-write guest data of the store, owned by this slot).
    value: NonNull<VMGlobal>,
    /// The global's type.
    pub ty: GlobalType,
}

impl GlobalSlot {
    /// The value.
    pub fn value(&self) -> VMGlobal {
        // SAFETY: `value` was allocated for this slot in its store's guest data,
        // which outlives the slot; generated code writes it only while the store is
        // mutably borrowed by a call, not while `&self` is.
        unsafe { self.value.as_ptr().read() }
    }

    /// Sets the value.
    pub fn set_value(&mut self, v: VMGlobal) {
        // SAFETY: as in `value`.
        unsafe { self.value.as_ptr().write(v) }
    }

    /// The value's address (what instances' contexts point to).
    pub fn vm_ptr(&self) -> *mut VMGlobal {
        self.value.as_ptr()
    }
}

/// An item an instance exports or a linker defines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Extern {
    /// Function address.
    Func(u32),
    /// Table address.
    Table(u32),
    /// Memory address.
    Memory(u32),
    /// Global address.
    Global(u32),
    /// Tag address.
    Tag(u32),
}

/// An exception tag in the store: its identity is its address, so two instances
/// importing one tag catch each other's exceptions and two definitions of the same
/// type do not.
#[derive(Debug)]
pub struct TagSlot {
    /// The payload's types (the tag type's parameters).
    pub ty: FuncType,
}

/// An exception object (what an `exnref` refers to): its tag and its payload, as
/// raw 8-byte slots (two for a `v128`, see [`Store::put_val64`]).
#[derive(Debug)]
pub struct ExnSlot {
    /// The tag's address in the store.
    pub tag: u32,
    /// The payload values' raw bits.
    pub payload: Box<[u64]>,
}

/// An exception as the host sees it: the tag's address in the store and the
/// payload's values (an exception that escaped to the host, or that a host function
/// throws, see [`Caller::throw`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exception {
    /// The tag's address in the store ([`Extern::Tag`]).
    pub tag: u32,
    /// The payload.
    pub payload: Vec<Val>,
}

impl Exception {
    /// Shows the exception with its tag named `name` (an export name: `tag "e",
    /// payload (i32 42)`), or by its store address when `None` (`tag 3, …`, what
    /// `Display` shows).
    pub fn named<'a>(&'a self, name: Option<&'a str>) -> impl std::fmt::Display + 'a {
        struct Named<'a>(&'a Exception, Option<&'a str>);
        impl std::fmt::Display for Named<'_> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                match self.1 {
                    Some(name) => write!(f, "tag {name:?}")?,
                    None => write!(f, "tag {}", self.0.tag)?,
                }
                if !self.0.payload.is_empty() {
                    f.write_str(", payload (")?;
                    for (i, v) in self.0.payload.iter().enumerate() {
                        if i > 0 {
                            f.write_str(" ")?;
                        }
                        write!(f, "{} {v}", v.ty())?;
                    }
                    f.write_str(")")?;
                }
                Ok(())
            }
        }
        Named(self, name)
    }
}

impl std::fmt::Display for Exception {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.named(None).fmt(f)
    }
}

/// An instance handle (index in its store).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Instance(pub u32);

/// An instance's state: its module, the addresses of its items and the
/// [`VMContext`] whose pointers refer to them. The context and its arrays (funcrefs,
/// memories, tables and globals in module index order, signature ids) are read-only
/// guest data; the context's [`VMContext::instance`] points back here, so a funcref's
/// `vmctx` leads to its instance.
pub struct InstanceData<C: Composition> {
    /// The context generated code receives (guest data of the store).
    pub(crate) vmctx: NonNull<VMContext>,
    /// The module.
    pub module: Module<C>,
    /// Store address of every function.
    pub func_addrs: Box<[u32]>,
    /// Store address of every memory.
    pub memory_addrs: Box<[u32]>,
    /// Store address of every table.
    pub table_addrs: Box<[u32]>,
    /// Store address of every global.
    pub global_addrs: Box<[u32]>,
    /// Store address of every tag.
    pub tag_addrs: Box<[u32]>,
    /// Element segments (empty once dropped).
    pub elems: Vec<Box<[RawRef]>>,
    /// Whether each data segment was dropped.
    pub data_dropped: Vec<bool>,
}

impl<C: Composition> InstanceData<C> {
    /// The context generated code receives.
    pub fn vmctx(&self) -> &VMContext {
        // SAFETY: the context is guest data of the instance's store, which outlives
        // the instance; it is written only while the instance is built.
        unsafe { self.vmctx.as_ref() }
    }

    /// The context's address.
    pub fn vmctx_ptr(&self) -> *mut VMContext {
        self.vmctx.as_ptr()
    }

    /// The instance whose context is `vmctx`.
    ///
    /// # Safety
    /// `vmctx` is the context of a live instance of a store of composition `C`.
    pub unsafe fn from_vmctx(vmctx: *const VMContext) -> *mut Self {
        // SAFETY: the caller's contract; `instance` is set when the instance is built.
        unsafe { (*vmctx).instance.cast() }
    }

    /// The export `name`, as a store item.
    pub fn export(&self, name: &str) -> Option<Extern> {
        Some(match *self.module.info().exports.get(name)? {
            ExportKind::Func(i) => Extern::Func(*self.func_addrs.get(i as usize)?),
            ExportKind::Table(i) => Extern::Table(*self.table_addrs.get(i as usize)?),
            ExportKind::Memory(i) => Extern::Memory(*self.memory_addrs.get(i as usize)?),
            ExportKind::Global(i) => Extern::Global(*self.global_addrs.get(i as usize)?),
            ExportKind::Tag(i) => Extern::Tag(*self.tag_addrs.get(i as usize)?),
        })
    }

    /// A name `item` is exported under (the least in byte order when it has
    /// several), or `None` when this instance does not export it.
    pub fn export_name(&self, item: Extern) -> Option<&str> {
        let exports = &self.module.info().exports;
        exports.keys().filter(|name| self.export(name) == Some(item)).map(String::as_str).min()
    }

    /// The bytes of data segment `i` (empty once dropped).
    pub fn data(&self, i: u32) -> &[u8] {
        let i = i as usize;
        if self.data_dropped.get(i).copied().unwrap_or(true) {
            return &[];
        }
        let info = self.module.info();
        info.datas.get(i).and_then(|d| info.bytes.get(d.range.clone())).unwrap_or(&[])
    }

    /// `data.drop`: data segment `i` reads as empty from now on.
    #[inline]
    pub fn drop_data(&mut self, i: u32) {
        if let Some(d) = self.data_dropped.get_mut(i as usize) {
            *d = true;
        }
    }

    /// The elements of element segment `i` (empty once dropped).
    #[inline]
    pub fn elem(&self, i: u32) -> &[RawRef] {
        self.elems.get(i as usize).map_or(&[], |e| &e[..])
    }

    /// `elem.drop`: element segment `i` reads as empty from now on.
    #[inline]
    pub fn drop_elem(&mut self, i: u32) {
        if let Some(e) = self.elems.get_mut(i as usize) {
            *e = Box::new([]);
        }
    }
}

/// Interned function signatures: equal types get equal ids across modules, so
/// `call_indirect` compares one integer.
#[derive(Debug, Default)]
pub struct SigRegistry {
    types: Vec<FuncType>,
    ids: HashMap<FuncType, u32>,
}

impl SigRegistry {
    /// The id of `ty`, interning it.
    pub fn intern(&mut self, ty: &FuncType) -> u32 {
        if let Some(&id) = self.ids.get(ty) {
            return id;
        }
        let id = self.types.len() as u32;
        self.types.push(ty.clone());
        self.ids.insert(ty.clone(), id);
        id
    }

    /// The type of `id`.
    pub fn get(&self, id: u32) -> Option<&FuncType> {
        self.types.get(id as usize)
    }

    /// Whether a function of signature `have` may be called as one of signature
    /// `want` (equal, or a declared subtype: `call_indirect`'s check after the ids
    /// differ).
    pub fn matches(&self, have: u32, want: u32) -> bool {
        have == want
            || matches!((self.get(have), self.get(want)), (Some(h), Some(w))
                if super::gc::types::func_matches(h, w))
    }
}

/// Every entity created by one linker.
pub struct Store<C: Composition> {
    /// The `virt` plugin's state for this store (first, so that it is dropped before
    /// the memories and guest data it may refer to). Boxed: it is handed to the
    /// plugin by reference while runtime functions reach the store.
    virt: Box<<C::Virt as Virt>::StoreState>,
    /// Signatures.
    pub sigs: SigRegistry,
    /// Functions.
    pub funcs: Vec<FuncSlot>,
    /// Memories.
    pub memories: Vec<MemorySlot<<C::Virt as Virt>::Memory>>,
    /// Tables.
    pub tables: Vec<TableSlot>,
    /// Globals.
    pub globals: Vec<GlobalSlot>,
    /// Exception tags.
    pub tags: Vec<TagSlot>,
    /// Exception objects (kept until the store is dropped).
    pub exceptions: Vec<ExnSlot>,
    /// Instances (boxed: contexts point back to them).
    pub instances: Vec<Box<InstanceData<C>>>,
    /// Host modules' states.
    pub host_states: Vec<Box<dyn Any + Send>>,
    /// The context every instance's [`VMContext::store`] points to (guest data).
    ctx: NonNull<VMStoreContext>,
    /// The state every instance's [`VMContext::state`] points to (guest data); its
    /// `fuel` is the fuel left (see [`super::limits`]).
    state: NonNull<VMStoreState>,
    /// How many chunks of `guest` the `virt` plugin has been told about.
    announced: usize,
    /// The engine's limits, taken on the first instantiation or call.
    limits: Option<ExecLimits>,
    /// Fuel given to the store so far (consumed = given - left).
    fuel_given: u64,
    /// Whether the embedder set the fuel (the engine's default then does not apply).
    fuel_set: bool,
    /// The interrupt flag generated code reads, and the timeout watchdog.
    interrupts: Interrupts,
    /// The GC heap, made by the composition's collector at the first allocation.
    gc: Option<<C::Gc as Collector>::Heap>,
    /// The host's handles to references of the `any` hierarchy: `Val::AnyRef(Some(h))`
    /// is `handles[h]`, a root of every collection for as long as the store lives.
    handles: core::cell::RefCell<Vec<RawRef>>,
    /// Every structure generated code reads or writes; last, so that it outlives
    /// every slot pointing into it.
    guest: GuestData,
}

impl<C: Composition> Default for Store<C> {
    fn default() -> Self {
        let mut guest = GuestData::new();
        let interrupts = Interrupts::new(guest.flag().clone());
        let ctx = VMStoreContext { interrupt: interrupts.flag_ptr(), ..Default::default() };
        let ctx = guest.alloc(GuestAccess::ReadOnly, ctx);
        let state = guest.alloc(GuestAccess::ReadWrite, VMStoreState::default());
        Self {
            virt: Box::default(),
            sigs: SigRegistry::default(),
            funcs: Vec::new(),
            memories: Vec::new(),
            tables: Vec::new(),
            globals: Vec::new(),
            tags: Vec::new(),
            exceptions: Vec::new(),
            instances: Vec::new(),
            host_states: Vec::new(),
            ctx,
            state,
            announced: 0,
            limits: None,
            fuel_given: 0,
            fuel_set: false,
            interrupts,
            gc: None,
            handles: Default::default(),
            guest,
        }
    }
}

impl<C: Composition> std::fmt::Debug for Store<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("funcs", &self.funcs.len())
            .field("memories", &self.memories.len())
            .field("tables", &self.tables.len())
            .field("globals", &self.globals.len())
            .field("instances", &self.instances.len())
            .finish()
    }
}

/// The store's own GC roots: every global, table element and exception payload value
/// of a representation that can hold an object ([`ValType::AnyRef`], and
/// [`ValType::ExternRef`] for externalized objects), followed by the engine's
/// (its frames').
struct StoreRoots<'a, C: Composition, R: ?Sized> {
    handles: &'a mut [RawRef],
    instances: &'a mut [Box<InstanceData<C>>],
    globals: &'a [GlobalSlot],
    tables: &'a mut [TableSlot],
    tags: &'a [TagSlot],
    exceptions: &'a mut [ExnSlot],
    engine: &'a mut R,
}

/// Whether values of this representation can hold GC objects.
fn holds_objects(t: ValType) -> bool {
    matches!(t, ValType::AnyRef | ValType::ExternRef)
}

impl<C: Composition, R: super::gc::heap::RootSource + ?Sized> super::gc::heap::RootSource
    for StoreRoots<'_, C, R>
{
    fn roots(&mut self, visit: &mut dyn FnMut(&mut RawRef, ValType)) {
        for h in self.handles.iter_mut() {
            visit(h, ValType::AnyRef);
        }
        for inst in self.instances.iter_mut() {
            let module = inst.module.clone();
            for (seg, e) in module.info().elems.iter().zip(inst.elems.iter_mut()) {
                if holds_objects(seg.ty) {
                    for r in e.iter_mut() {
                        visit(r, seg.ty);
                    }
                }
            }
        }
        for g in self.globals.iter().filter(|g| holds_objects(g.ty.ty)) {
            // SAFETY: the slot's value lives in the store's guest data, which the
            // store (borrowed for this collection) keeps; no code runs meanwhile.
            visit(unsafe { &mut (*g.value.as_ptr()).lo }, g.ty.ty);
        }
        for t in self.tables.iter_mut().filter(|t| holds_objects(t.ty.elem)) {
            let repr = t.ty.elem;
            for e in t.elements_mut() {
                visit(e, repr);
            }
        }
        for e in self.exceptions.iter_mut() {
            let Some(tag) = self.tags.get(e.tag as usize) else { continue };
            let mut at = 0;
            for &t in tag.ty.params() {
                if holds_objects(t)
                    && let Some(v) = e.payload.get_mut(at)
                {
                    visit(v, t);
                }
                at += t.slots64() as usize;
            }
        }
        self.engine.roots(visit);
    }
}

impl<C: Composition> Store<C> {
    /// Allocates a GC object of type `ty` (an array of `len` elements) in the store's
    /// heap, made by `collector` on first use: the header written, every field zero.
    /// A collection it runs finds the roots in the store (globals, tables, exception
    /// payloads) and in `frames` (the engine's), and is reported to `on_cycle`.
    ///
    /// # Errors
    /// [`TrapCode::OutOfGcMemory`].
    pub fn gc_alloc(
        &mut self,
        collector: &C::Gc,
        ty: &'static super::gc::types::TypeInfo,
        len: u32,
        frames: &mut dyn super::gc::heap::RootSource,
        on_cycle: impl FnOnce(super::gc::heap::Cycle),
    ) -> Result<NonNull<super::gc::object::ObjectHeader>, TrapCode> {
        let heap = self.gc.get_or_insert_with(|| collector.heap());
        let mut roots = StoreRoots {
            handles: self.handles.get_mut(),
            instances: &mut self.instances,
            globals: &self.globals,
            tables: &mut self.tables,
            tags: &self.tags,
            exceptions: &mut self.exceptions,
            engine: frames,
        };
        super::gc::heap::allocate(heap, ty, len, &mut roots, on_cycle)
    }

    /// Tells the heap that a reference was stored into `obj` (engines call it only when
    /// the collector's [`Collector::NEEDS_WRITE_BARRIER`] says so).
    pub fn gc_write_barrier(&mut self, obj: NonNull<super::gc::object::ObjectHeader>) {
        use super::gc::heap::GcHeap;
        if let Some(h) = self.gc.as_mut() {
            h.write_barrier(obj);
        }
    }

    /// A host handle to the reference `raw` of the `any` hierarchy (null: `None`),
    /// which keeps its object alive as long as the store lives.
    pub fn any_ref(&self, raw: RawRef) -> Val {
        if raw == 0 {
            return Val::AnyRef(None);
        }
        let mut handles = self.handles.borrow_mut();
        handles.push(raw);
        Val::AnyRef(Some((handles.len() - 1) as u32))
    }

    /// The reference a host handle of [`Store::any_ref`] holds (the object's current
    /// address), to inspect with [`super::gc::object`].
    pub fn any_ref_raw(&self, handle: u32) -> Option<RawRef> {
        self.handles.borrow().get(handle as usize).copied()
    }

    /// The counters of the store's GC heap (`None` before its first allocation).
    pub fn gc_stats(&self) -> Option<super::gc::heap::GcStats> {
        use super::gc::heap::GcHeap;
        self.gc.as_ref().map(|h| h.stats())
    }

    /// An instance's data.
    pub fn instance(&self, i: Instance) -> Option<&InstanceData<C>> {
        self.instances.get(i.0 as usize).map(|b| &**b)
    }

    /// The `virt` plugin's state for this store (see [`Virt::StoreState`]).
    pub fn virt_state(&self) -> &<C::Virt as Virt>::StoreState {
        &self.virt
    }

    /// The store's guest data: every chunk of memory generated code may touch.
    pub fn guest_data(&self) -> &GuestData {
        &self.guest
    }

    pub(crate) fn guest_mut(&mut self) -> &mut GuestData {
        &mut self.guest
    }

    /// Tells `virt` about every guest-data chunk added since the last call (see
    /// [`Virt::guest_data_added`]). The store does so before every call from the
    /// host and the linker after every instantiation; engines do after a runtime
    /// function that can add chunks (`table.grow`) returns to generated code.
    pub fn announce_guest_data(&mut self, virt: &mut C::Virt) {
        if self.announced < self.guest.chunks().len() {
            for c in &self.guest.chunks()[self.announced..] {
                virt.guest_data_added(&self.virt, c);
            }
            self.announced = self.guest.chunks().len();
        }
    }

    /// The context every instance's [`VMContext::store`] points to (engines set its
    /// fields on entry from the host).
    pub fn vm_store_context(&self) -> *mut VMStoreContext {
        self.ctx.as_ptr()
    }

    /// The state every instance's [`VMContext::state`] points to.
    pub fn vm_store_state(&self) -> *mut VMStoreState {
        self.state.as_ptr()
    }

    /// The raw fuel counter (below zero once exhausted; see [`super::limits`]).
    pub fn fuel_counter(&self) -> i64 {
        // SAFETY: `state` is guest data of this store; generated code writes it
        // only while the store is mutably borrowed by a call.
        unsafe { (*self.state.as_ptr()).fuel }
    }

    /// Sets the raw fuel counter (engines that keep it elsewhere during a call).
    pub fn set_fuel_counter(&mut self, fuel: i64) {
        // SAFETY: as in `fuel_counter`.
        unsafe { (*self.state.as_ptr()).fuel = fuel }
    }

    /// Adds a function; returns its address.
    /// A host function's `vmctx` is set to its own funcref (see [`VMFuncRef::vmctx`]).
    pub fn push_func(&mut self, sig: u32, kind: FuncKind, vmctx: *mut VMContext) -> u32 {
        let addr = self.funcs.len() as u32;
        let vm = VMFuncRef { code: std::ptr::null(), vmctx, sig, func: addr };
        let mut slot = FuncSlot { vm: self.guest.alloc(GuestAccess::ReadOnly, vm), kind };
        if let FuncKind::Host { .. } = kind {
            slot.vm_mut().vmctx = slot.vm_ptr().cast::<VMContext>();
        }
        self.funcs.push(slot);
        addr
    }

    /// Sets the context and native code of function `addr` (instantiation).
    pub(crate) fn set_func_code(&mut self, addr: u32, vmctx: *mut VMContext, code: *const u8) {
        if let Some(f) = self.funcs.get_mut(addr as usize) {
            let vm = f.vm_mut();
            if !vmctx.is_null() {
                vm.vmctx = vmctx;
            }
            vm.code = code;
        }
    }

    /// Adds a memory; returns its address.
    pub fn push_memory(&mut self, mem: <C::Virt as Virt>::Memory, ty: MemoryType) -> u32 {
        self.memories.push(MemorySlot::new(mem, ty, &mut self.guest));
        (self.memories.len() - 1) as u32
    }

    /// Adds a table filled with `init`, growable to `limit` elements; returns its
    /// address.
    ///
    /// # Errors
    /// [`InstantiationError::TableTooLarge`](super::InstantiationError) when `ty.min`
    /// exceeds `limit` (checked before anything is allocated).
    pub fn push_table(
        &mut self,
        ty: TableType,
        init: RawRef,
        limit: u64,
    ) -> Result<u32, super::InstantiationError> {
        check_table(&ty, limit)?;
        self.tables.push(TableSlot::new(ty, init, limit, &mut self.guest));
        Ok((self.tables.len() - 1) as u32)
    }

    /// `table.grow` on table `addr`: the old size, or `None` when it cannot grow.
    /// May add a guest-data chunk (see [`Store::announce_guest_data`]).
    pub fn grow_table(&mut self, addr: u32, delta: u32, init: RawRef) -> Option<u32> {
        self.tables.get_mut(addr as usize)?.grow(&mut self.guest, delta, init)
    }

    /// Takes the engine's limits on first use: the initial fuel (unless the
    /// embedder set it) and which checks the engine's code contains.
    pub fn apply_limits(&mut self, limits: ExecLimits) {
        if self.limits.is_none() {
            self.limits = Some(limits);
            if !self.fuel_set && limits.metering() {
                self.fuel_given = 0;
                self.set_fuel_counter(0);
                self.add_fuel(limits.fuel);
            }
        }
    }

    /// Whether code running in this store is metered (the engine's `fuel` key is on;
    /// known once the store has been used).
    pub fn metering(&self) -> bool {
        self.limits.is_some_and(|l| l.metering())
    }

    /// Sets the fuel left to `fuel` units (consumption so far is kept). Has an effect
    /// only when the engine meters fuel ([`Store::metering`]).
    pub fn set_fuel(&mut self, fuel: u64) {
        let consumed = self.fuel_consumed();
        self.fuel_set = true;
        let fuel = i64::try_from(fuel).unwrap_or(i64::MAX);
        self.set_fuel_counter(fuel);
        self.fuel_given = consumed.saturating_add(fuel as u64);
    }

    /// Adds `fuel` units to what is left.
    pub fn add_fuel(&mut self, fuel: u64) {
        self.fuel_set = true;
        let fuel = i64::try_from(fuel).unwrap_or(i64::MAX);
        let before = self.fuel_counter();
        let left = before.saturating_add(fuel);
        self.fuel_given = self.fuel_given.saturating_add(left.wrapping_sub(before) as u64);
        self.set_fuel_counter(left);
    }

    /// Fuel left (0 once exhausted).
    pub fn fuel_remaining(&self) -> u64 {
        self.fuel_counter().max(0) as u64
    }

    /// Fuel charged so far (it may exceed what was given by less than one check
    /// interval when the guest ran out; see [`super::limits`]).
    pub fn fuel_consumed(&self) -> u64 {
        (i128::from(self.fuel_given) - i128::from(self.fuel_counter())).max(0) as u64
    }

    /// A handle that interrupts guest code of this store from any thread (effective
    /// when the engine compiles interruption checks).
    pub fn interrupt_handle(&self) -> InterruptHandle {
        self.interrupts.handle()
    }

    /// Calls function `func` from the host with the composition's engine, under the
    /// store's limits: the engine's defaults apply on first use, a `timeout_ms` arms
    /// the watchdog for this call, and an interrupt that stopped it is cleared.
    ///
    /// # Errors
    /// A trap.
    pub fn call(
        &mut self,
        plugins: &mut C,
        func: u32,
        args: &[Val],
        results: &mut Vec<Val>,
    ) -> Result<(), Trap> {
        let limits = plugins.engine().exec_limits();
        self.apply_limits(limits);
        self.announce_guest_data(plugins.virt_mut());
        if limits.timeout_ms > 0 {
            self.interrupts.arm(limits.timeout_ms);
        }
        let r = <C::Engine as Engine>::call(plugins, self, func, args, results);
        if limits.timeout_ms > 0 {
            self.interrupts.disarm();
            // A timeout that fired as the call was returning belongs to this call.
            self.interrupts.clear();
        } else if matches!(&r, Err(t) if t.code == TrapCode::Interrupted) {
            self.interrupts.clear();
        }
        r
    }

    /// Adds an exception tag whose payload has the parameters of `ty`; returns its
    /// address.
    pub fn push_tag(&mut self, ty: FuncType) -> u32 {
        self.tags.push(TagSlot { ty });
        (self.tags.len() - 1) as u32
    }

    /// Creates an exception of tag `tag` (a store address) whose payload is the raw
    /// slots `payload`; returns it as a raw `exnref`: its address plus one, never 0
    /// (what [`TrapCode::Exception`] carries while it unwinds).
    pub fn new_exception(&mut self, tag: u32, payload: &[u64]) -> u32 {
        self.exceptions.push(ExnSlot { tag, payload: payload.into() });
        self.exceptions.len() as u32
    }

    /// The exception a raw non-null `exnref` refers to.
    pub fn exception(&self, exnref: u32) -> Option<&ExnSlot> {
        self.exceptions.get((exnref as usize).checked_sub(1)?)
    }

    /// The exception a raw non-null `exnref` refers to, as values.
    pub fn exception_value(&self, exnref: u32) -> Option<Exception> {
        let e = self.exception(exnref)?;
        let ty = &self.tags.get(e.tag as usize)?.ty;
        let mut at = 0;
        let payload = ty
            .params()
            .iter()
            .map(|&t| {
                let v = self.get_val64(&e.payload, at, t);
                at += t.slots64() as usize;
                v
            })
            .collect();
        Some(Exception { tag: e.tag, payload })
    }

    /// Creates an exception from its host form (checked against the tag's type);
    /// returns it as a raw `exnref`.
    ///
    /// # Errors
    /// A host error trap when the tag does not exist or the payload does not match
    /// its type.
    pub fn exception_from_value(&mut self, e: &Exception) -> Result<u32, Trap> {
        let ty = &self.tags.get(e.tag as usize).ok_or_else(|| Trap::host("no such tag"))?.ty;
        if ty.params().len() != e.payload.len()
            || ty.params().iter().zip(&e.payload).any(|(t, v)| *t != v.ty())
        {
            return Err(Trap::host(format!("exception payload does not match tag type {ty}")));
        }
        let n: usize = ty.params().iter().map(|t| t.slots64() as usize).sum();
        let mut slots = vec![0; n];
        let mut at = 0;
        for &v in &e.payload {
            at += self.put_val64(&mut slots, at, v);
        }
        Ok(self.new_exception(e.tag, &slots))
    }

    /// Adds a global; returns its address.
    pub fn push_global(&mut self, ty: GlobalType, value: Val) -> u32 {
        let value = self.val_to_global(value);
        let value = self.guest.alloc(GuestAccess::ReadWrite, value);
        self.globals.push(GlobalSlot { value, ty });
        (self.globals.len() - 1) as u32
    }

    /// The host state at `index`, mutably.
    pub fn host_state_mut(&mut self, index: u32) -> Option<&mut (dyn Any + Send)> {
        self.host_states.get_mut(index as usize).map(|b| &mut **b)
    }

    /// The funcref of function `addr`.
    pub fn func_ref(&self, addr: u32) -> RawRef {
        self.funcs.get(addr as usize).map_or(0, |f| f.vm_ptr() as RawRef)
    }

    /// A value as raw bits (references as [`RawRef`]s of this store).
    pub fn val_to_raw(&self, v: Val) -> u64 {
        match v {
            Val::I32(x) => u64::from(x as u32),
            Val::I64(x) => x as u64,
            Val::F32(x) => u64::from(x),
            Val::F64(x) => x,
            Val::V128(x) => x as u64,
            Val::FuncRef(None) | Val::ExternRef(None) => 0,
            Val::FuncRef(Some(addr)) => self.func_ref(addr),
            Val::ExternRef(Some(x)) => u64::from(x) + 1,
            Val::ExnRef(None) => 0,
            Val::ExnRef(Some(x)) => u64::from(x) + 1,
            Val::AnyRef(None) => 0,
            Val::AnyRef(Some(h)) => self.handles.borrow().get(h as usize).copied().unwrap_or(0),
        }
    }

    /// Raw bits as a value of type `ty`.
    pub fn raw_to_val(&self, raw: u64, ty: ValType) -> Val {
        match ty {
            ValType::I32 => Val::I32(raw as u32 as i32),
            ValType::I64 => Val::I64(raw as i64),
            ValType::F32 => Val::F32(raw as u32),
            ValType::F64 => Val::F64(raw),
            ValType::V128 => Val::V128(u128::from(raw)),
            ValType::FuncRef => Val::FuncRef(if raw == 0 {
                None
            } else {
                // SAFETY: every non-null funcref in this store's tables, globals and
                // stacks is a pointer to a `FuncSlot::vm` of this store (guest data,
                // alive until the store drops): `func_ref` is the only producer.
                Some(unsafe { (*(raw as *const VMFuncRef)).func })
            }),
            ValType::ExternRef => {
                Val::ExternRef(if raw == 0 { None } else { Some((raw - 1) as u32) })
            }
            ValType::ExnRef => Val::ExnRef(if raw == 0 { None } else { Some((raw - 1) as u32) }),
            ValType::AnyRef => self.any_ref(raw),
        }
    }

    /// A value as the raw bits of a 16-byte slot (a `v128`'s all 128 of them; other
    /// values as [`Store::val_to_raw`]).
    #[inline]
    pub fn val_to_raw128(&self, v: Val) -> u128 {
        match v {
            Val::V128(x) => x,
            v => u128::from(self.val_to_raw(v)),
        }
    }

    /// The raw bits of a 16-byte slot as a value of type `ty` (see
    /// [`Store::val_to_raw128`]).
    #[inline]
    pub fn raw128_to_val(&self, raw: u128, ty: ValType) -> Val {
        match ty {
            ValType::V128 => Val::V128(raw),
            t => self.raw_to_val(raw as u64, t),
        }
    }

    /// Writes `v` to the 8-byte slots from `at` (two for a `v128`, low half first;
    /// see [`ValType::slots64`]); returns how many it takes. Slots past the end of
    /// `slots` are left alone.
    #[inline]
    pub fn put_val64(&self, slots: &mut [u64], at: usize, v: Val) -> usize {
        match v {
            Val::V128(x) => {
                if let Some(s) = slots.get_mut(at..at + 2) {
                    s[0] = x as u64;
                    s[1] = (x >> 64) as u64;
                }
                2
            }
            v => {
                if let Some(s) = slots.get_mut(at) {
                    *s = self.val_to_raw(v);
                }
                1
            }
        }
    }

    /// The value of type `ty` in the 8-byte slots from `at` (see
    /// [`Store::put_val64`]); slots past the end of `slots` read as zero.
    #[inline]
    pub fn get_val64(&self, slots: &[u64], at: usize, ty: ValType) -> Val {
        let slot = |k: usize| slots.get(at + k).copied().unwrap_or(0);
        match ty {
            ValType::V128 => Val::V128(u128::from(slot(0)) | (u128::from(slot(1)) << 64)),
            ty => self.raw_to_val(slot(0), ty),
        }
    }

    /// Calls host function `def` with the host state at index `state` and `memory`
    /// as the caller's memory. Arguments come from `arg`, called once per parameter
    /// in order with its type; the host function gets its results zeroed (sized to
    /// its signature) and, when it succeeds, `result` receives each in order. With
    /// few parameters and results (the ordinary case) nothing is allocated.
    ///
    /// # Errors
    /// The host function's trap, or "missing host state".
    pub fn call_host(
        &mut self,
        def: &HostFuncDef,
        state: u32,
        memory: Option<&mut [u8]>,
        mut arg: impl FnMut(&Self, ValType) -> Val,
        mut result: impl FnMut(&Self, Val),
    ) -> Result<(), Trap> {
        const MAX: usize = 16;
        let (np, nr) = (def.params.len(), def.results.len());
        let (mut small_args, mut small_results) = ([Val::I32(0); MAX], [Val::I32(0); MAX]);
        let (mut large_args, mut large_results) = (Vec::new(), Vec::new());
        let args: &mut [Val] = if np <= MAX {
            &mut small_args[..np]
        } else {
            large_args.resize(np, Val::I32(0));
            &mut large_args
        };
        let results: &mut [Val] = if nr <= MAX {
            &mut small_results[..nr]
        } else {
            large_results.resize(nr, Val::I32(0));
            &mut large_results
        };
        for (a, &ty) in args.iter_mut().zip(def.params) {
            *a = arg(self, ty);
        }
        for (r, &t) in results.iter_mut().zip(def.results) {
            *r = Val::default_for(t);
        }
        let st = self.host_state_mut(state).ok_or_else(|| Trap::host("missing host state"))?;
        let mut caller = Caller::new(memory, st);
        if let Err(t) = (def.call)(&mut caller, args, results) {
            return Err(match caller.take_thrown() {
                Some(e) => Trap::new(TrapCode::Exception(self.exception_from_value(&e)?)),
                None => t,
            });
        }
        for &v in results.iter() {
            result(self, v);
        }
        Ok(())
    }

    /// A global's storage for a value.
    pub fn val_to_global(&self, v: Val) -> VMGlobal {
        match v {
            Val::V128(x) => VMGlobal { lo: x as u64, hi: (x >> 64) as u64 },
            v => VMGlobal { lo: self.val_to_raw(v), hi: 0 },
        }
    }

    /// The value of global `addr`.
    pub fn global_value(&self, addr: u32) -> Option<Val> {
        let g = self.globals.get(addr as usize)?;
        let v = g.value();
        Some(match g.ty.ty {
            ValType::V128 => Val::V128(u128::from(v.lo) | (u128::from(v.hi) << 64)),
            ty => self.raw_to_val(v.lo, ty),
        })
    }

    /// The signature of function `addr`.
    pub fn func_type(&self, addr: u32) -> Option<&FuncType> {
        self.sigs.get(self.funcs.get(addr as usize)?.vm().sig)
    }
}
