//! The store: every function, memory, table, global and instance created by one
//! linker, addressed by `u32` handles. Entities are boxed so the raw pointers in
//! [`VMContext`]s and funcrefs stay valid until the store is dropped; nothing is
//! removed before then.

use std::any::Any;
use std::collections::HashMap;
use std::sync::Arc;

use super::host::HostFuncDef;
use super::limits::{ExecLimits, InterruptHandle, Interrupts};
use super::memory::MemorySlot;
use super::module::{ExportKind, ModuleInfo};
use super::offsets::{
    RawRef, VMContext, VMFuncRef, VMGlobal, VMMemoryDefinition, VMStoreContext, VMTableDefinition,
};
use super::types::{FuncType, GlobalType, TableType};
use super::{Trap, TrapCode, Val, ValType};
use crate::compose::Composition;
use crate::slot::{Engine, Virt};

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
#[repr(C)]
#[derive(Debug)]
pub struct FuncSlot {
    /// The funcref generated code and tables use; first field so a pointer to the
    /// slot is a `*const VMFuncRef`.
    pub vm: VMFuncRef,
    /// What the function is.
    pub kind: FuncKind,
}

/// A table in the store.
#[repr(C)]
#[derive(Debug)]
pub struct TableSlot {
    /// What generated code reads; kept in sync with `elements`.
    pub def: VMTableDefinition,
    /// The table's type (maximum enforced on growth).
    pub ty: TableType,
    /// The elements (raw references).
    pub elements: Vec<RawRef>,
    /// Most elements this table may grow to (the `virt` plugin's limit, at most
    /// [`MAX_TABLE_ELEMENTS`]).
    pub limit: u64,
}

impl TableSlot {
    /// A table of `ty.min` elements `init`, growable to `limit` elements. The caller
    /// has checked `ty.min` against `limit` (before this allocation).
    fn new(ty: TableType, init: RawRef, limit: u64) -> Self {
        let mut t = Self {
            def: VMTableDefinition { base: std::ptr::null_mut(), length: 0 },
            ty,
            elements: vec![init; ty.min as usize],
            limit: limit.min(MAX_TABLE_ELEMENTS),
        };
        t.sync();
        t
    }

    fn sync(&mut self) {
        self.def.base = self.elements.as_mut_ptr();
        self.def.length = self.elements.len() as u64;
    }

    /// `table.grow`: the old size, or `None` when it cannot grow.
    pub fn grow(&mut self, delta: u32, init: RawRef) -> Option<u32> {
        let old = self.elements.len() as u64;
        let new = old + u64::from(delta);
        let max = self.ty.max.map_or(self.limit, u64::from).min(self.limit);
        if new > max {
            return None;
        }
        self.elements.try_reserve(delta as usize).ok()?;
        self.elements.resize(new as usize, init);
        self.sync();
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
#[repr(C)]
#[derive(Debug)]
pub struct GlobalSlot {
    /// The value; first field so a pointer to the slot is a `*mut VMGlobal`.
    pub value: VMGlobal,
    /// The global's type.
    pub ty: GlobalType,
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
}

/// An instance handle (index in its store).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Instance(pub u32);

/// An instance's state: its module, the addresses of its items and the
/// [`VMContext`] whose pointers refer to them. `vmctx` is the first field, so a
/// funcref's `vmctx` pointer is also a pointer to its instance.
#[repr(C)]
pub struct InstanceData<C: Composition> {
    /// The context generated code receives.
    pub vmctx: VMContext,
    /// The module.
    pub module: Module<C>,
    /// Funcref of every function (module index space).
    pub funcs: Box<[*const VMFuncRef]>,
    /// Store address of every function.
    pub func_addrs: Box<[u32]>,
    /// Every memory.
    pub memories: Box<[*mut VMMemoryDefinition]>,
    /// Store address of every memory.
    pub memory_addrs: Box<[u32]>,
    /// Every table.
    pub tables: Box<[*mut VMTableDefinition]>,
    /// Store address of every table.
    pub table_addrs: Box<[u32]>,
    /// Every global.
    pub globals: Box<[*mut VMGlobal]>,
    /// Store address of every global.
    pub global_addrs: Box<[u32]>,
    /// Canonical signature id of every type index.
    pub sigs: Box<[u32]>,
    /// Element segments (empty once dropped).
    pub elems: Vec<Box<[RawRef]>>,
    /// Whether each data segment was dropped.
    pub data_dropped: Vec<bool>,
}

impl<C: Composition> InstanceData<C> {
    /// The export `name`, as a store item.
    pub fn export(&self, name: &str) -> Option<Extern> {
        Some(match *self.module.info().exports.get(name)? {
            ExportKind::Func(i) => Extern::Func(*self.func_addrs.get(i as usize)?),
            ExportKind::Table(i) => Extern::Table(*self.table_addrs.get(i as usize)?),
            ExportKind::Memory(i) => Extern::Memory(*self.memory_addrs.get(i as usize)?),
            ExportKind::Global(i) => Extern::Global(*self.global_addrs.get(i as usize)?),
        })
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
}

/// Every entity created by one linker.
pub struct Store<C: Composition> {
    /// Signatures.
    pub sigs: SigRegistry,
    /// Functions.
    pub funcs: Vec<Box<FuncSlot>>,
    /// Memories.
    pub memories: Vec<Box<MemorySlot<<C::Virt as Virt>::Memory>>>,
    /// Tables.
    pub tables: Vec<Box<TableSlot>>,
    /// Globals.
    pub globals: Vec<Box<GlobalSlot>>,
    /// Instances.
    pub instances: Vec<Box<InstanceData<C>>>,
    /// Host modules' states.
    pub host_states: Vec<Box<dyn Any + Send>>,
    /// The context every instance's [`VMContext::store`] points to (boxed: its
    /// address is stable). Its `fuel` is the fuel left (see [`super::limits`]).
    pub ctx: Box<VMStoreContext>,
    /// The engine's limits, taken on the first instantiation or call.
    limits: Option<ExecLimits>,
    /// Fuel given to the store so far (consumed = given - left).
    fuel_given: u64,
    /// Whether the embedder set the fuel (the engine's default then does not apply).
    fuel_set: bool,
    /// The interrupt flag generated code reads, and the timeout watchdog.
    interrupts: Interrupts,
}

impl<C: Composition> Default for Store<C> {
    fn default() -> Self {
        let interrupts = Interrupts::default();
        let mut ctx = Box::<VMStoreContext>::default();
        ctx.interrupt = interrupts.flag_ptr();
        Self {
            sigs: SigRegistry::default(),
            funcs: Vec::new(),
            memories: Vec::new(),
            tables: Vec::new(),
            globals: Vec::new(),
            instances: Vec::new(),
            host_states: Vec::new(),
            ctx,
            limits: None,
            fuel_given: 0,
            fuel_set: false,
            interrupts,
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

impl<C: Composition> Store<C> {
    /// An instance's data.
    pub fn instance(&self, i: Instance) -> Option<&InstanceData<C>> {
        self.instances.get(i.0 as usize).map(|b| &**b)
    }

    /// Adds a function; returns its address.
    /// A host function's `vmctx` is set to its own funcref (see [`VMFuncRef::vmctx`]).
    pub fn push_func(&mut self, sig: u32, kind: FuncKind, vmctx: *mut VMContext) -> u32 {
        let addr = self.funcs.len() as u32;
        let mut slot = Box::new(FuncSlot {
            vm: VMFuncRef { code: std::ptr::null(), vmctx, sig, func: addr },
            kind,
        });
        if let FuncKind::Host { .. } = kind {
            slot.vm.vmctx = (&raw mut slot.vm).cast::<VMContext>();
        }
        self.funcs.push(slot);
        addr
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
        self.tables.push(Box::new(TableSlot::new(ty, init, limit)));
        Ok((self.tables.len() - 1) as u32)
    }

    /// Takes the engine's limits on first use: the initial fuel (unless the
    /// embedder set it) and which checks the engine's code contains.
    pub fn apply_limits(&mut self, limits: ExecLimits) {
        if self.limits.is_none() {
            self.limits = Some(limits);
            if !self.fuel_set && limits.metering() {
                self.fuel_given = 0;
                self.ctx.fuel = 0;
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
        self.ctx.fuel = i64::try_from(fuel).unwrap_or(i64::MAX);
        self.fuel_given = consumed.saturating_add(self.ctx.fuel as u64);
    }

    /// Adds `fuel` units to what is left.
    pub fn add_fuel(&mut self, fuel: u64) {
        self.fuel_set = true;
        let fuel = i64::try_from(fuel).unwrap_or(i64::MAX);
        let left = self.ctx.fuel.saturating_add(fuel);
        self.fuel_given = self.fuel_given.saturating_add(left.wrapping_sub(self.ctx.fuel) as u64);
        self.ctx.fuel = left;
    }

    /// Fuel left (0 once exhausted).
    pub fn fuel_remaining(&self) -> u64 {
        self.ctx.fuel.max(0) as u64
    }

    /// Fuel charged so far (it may exceed what was given by less than one check
    /// interval when the guest ran out; see [`super::limits`]).
    pub fn fuel_consumed(&self) -> u64 {
        (i128::from(self.fuel_given) - i128::from(self.ctx.fuel)).max(0) as u64
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

    /// Adds a global; returns its address.
    pub fn push_global(&mut self, ty: GlobalType, value: Val) -> u32 {
        let value = self.val_to_global(value);
        self.globals.push(Box::new(GlobalSlot { value, ty }));
        (self.globals.len() - 1) as u32
    }

    /// The host state at `index`, mutably.
    pub fn host_state_mut(&mut self, index: u32) -> Option<&mut (dyn Any + Send)> {
        self.host_states.get_mut(index as usize).map(|b| &mut **b)
    }

    /// The funcref of function `addr`.
    pub fn func_ref(&self, addr: u32) -> RawRef {
        self.funcs.get(addr as usize).map_or(0, |f| &f.vm as *const VMFuncRef as RawRef)
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
                // stacks is a pointer to a `FuncSlot::vm` of this store (boxed, alive
                // until the store drops): `func_ref` is the only producer.
                Some(unsafe { (*(raw as *const VMFuncRef)).func })
            }),
            ValType::ExternRef => {
                Val::ExternRef(if raw == 0 { None } else { Some((raw - 1) as u32) })
            }
        }
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
        Some(match g.ty.ty {
            ValType::V128 => Val::V128(u128::from(g.value.lo) | (u128::from(g.value.hi) << 64)),
            ty => self.raw_to_val(g.value.lo, ty),
        })
    }

    /// The signature of function `addr`.
    pub fn func_type(&self, addr: u32) -> Option<&FuncType> {
        self.sigs.get(self.funcs.get(addr as usize)?.vm.sig)
    }
}
