//! The linker: resolves imports from registered instances, embedder definitions and
//! the composition's host modules, and owns the [`Store`] its instances live in.
//!
//! Only composed host modules serve imports. A host plugin that is linked into the
//! binary but missing from `compose!`'s `hosts: [...]` was never checked, initialized or
//! started, so an import it would serve fails with [`LinkError::HostNotComposed`],
//! which names the plugin and the line to add.

use std::collections::HashMap;

use super::error::{InstantiationError, LinkError};
use super::guest_data::GuestAccess;
use super::host::{HostModuleDef, RunContext};
use super::memory::MAX_PAGES64;
use super::module::{ConstExpr, DataMode, ElemMode, ImportKind};
use super::offsets::{
    RawRef, VMContext, VMFuncRef, VMGlobal, VMMemoryDefinition, VMTableDefinition,
};
use super::store::{Extern, FuncKind, Instance, InstanceData, Module, Store};
use super::types::{ExternType, FuncType, limits_match};
use super::{Trap, TrapCode, Val};
use crate::compose::Composition;
use crate::slot::{Engine, Virt};

/// Resolves imports and instantiates modules into its store.
pub struct Linker<C: Composition> {
    store: Store<C>,
    names: HashMap<String, Instance>,
    defined: HashMap<(String, String), Extern>,
    run: RunContext,
}

impl<C: Composition> std::fmt::Debug for Linker<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Linker")
            .field("store", &self.store)
            .field("registered", &self.names.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl<C: Composition> Default for Linker<C> {
    fn default() -> Self {
        Self::new(RunContext::default())
    }
}

impl<C: Composition> Linker<C> {
    /// An empty linker; host modules get `run` (arguments, environment, preopens).
    pub fn new(run: RunContext) -> Self {
        Self { store: Store::default(), names: HashMap::new(), defined: HashMap::new(), run }
    }

    /// The store.
    pub fn store(&self) -> &Store<C> {
        &self.store
    }

    /// The store, mutably.
    pub fn store_mut(&mut self) -> &mut Store<C> {
        &mut self.store
    }

    /// Makes `instance`'s exports importable under module name `name` (wast's
    /// `register`).
    pub fn register(&mut self, name: impl Into<String>, instance: Instance) {
        self.names.insert(name.into(), instance);
    }

    /// The instance registered as `name`.
    pub fn registered(&self, name: &str) -> Option<Instance> {
        self.names.get(name).copied()
    }

    /// Defines one importable item.
    pub fn define(&mut self, module: impl Into<String>, name: impl Into<String>, item: Extern) {
        self.defined.insert((module.into(), name.into()), item);
    }

    /// The export `name` of `instance`.
    pub fn export(&self, instance: Instance, name: &str) -> Option<Extern> {
        self.store.instance(instance)?.export(name)
    }

    /// A name `instance` exports `item` under (see [`InstanceData::export_name`]).
    pub fn export_name(&self, instance: Instance, item: Extern) -> Option<&str> {
        self.store.instance(instance)?.export_name(item)
    }

    /// The type of a store item.
    pub fn extern_type(&self, item: Extern) -> Option<ExternType> {
        let s = &self.store;
        Some(match item {
            Extern::Func(a) => ExternType::Func(s.func_type(a)?.clone()),
            Extern::Table(a) => {
                let t = s.tables.get(a as usize)?;
                let mut ty = t.ty;
                ty.min = t.elements().len() as u32;
                ExternType::Table(ty)
            }
            Extern::Memory(a) => {
                let m = s.memories.get(a as usize)?;
                let mut ty = m.ty;
                ty.min = m.pages();
                ExternType::Memory(ty)
            }
            Extern::Global(a) => ExternType::Global(s.globals.get(a as usize)?.ty),
            Extern::Tag(a) => ExternType::Tag(s.tags.get(a as usize)?.ty.clone()),
        })
    }

    /// The composed host module serving `module`, with the index of its plugin in
    /// [`Composition::HOST_MODULES`] (the key of the state its modules share).
    fn host_module(
        module: &str,
        name: &str,
    ) -> Result<Option<(usize, &'static HostModuleDef)>, LinkError> {
        for (plugin, modules) in C::HOST_MODULES.iter().enumerate() {
            if let Some(h) = modules.iter().copied().find(|h| h.module == module) {
                return Ok(Some((plugin, h)));
            }
        }
        match crate::registry::host_registration(module) {
            Some(r) => Err(LinkError::HostNotComposed {
                module: module.to_owned(),
                name: name.to_owned(),
                plugin: r.meta.id,
                type_path: r.type_path,
            }),
            None => Ok(None),
        }
    }

    /// Resolves one import to a store item.
    fn resolve(
        &mut self,
        module: &str,
        name: &str,
        want: &ImportKind,
        want_func: Option<&FuncType>,
        host_states: &mut HashMap<usize, u32>,
        plugins: &C,
    ) -> Result<Extern, LinkError> {
        let unknown =
            || LinkError::UnknownImport { module: module.to_owned(), name: name.to_owned() };
        let item = if let Some(&item) = self.defined.get(&(module.to_owned(), name.to_owned())) {
            item
        } else if let Some(&inst) = self.names.get(module) {
            self.export(inst, name).ok_or_else(unknown)?
        } else if let Some((host_plugin, host)) = Self::host_module(module, name)? {
            let f = host.functions.iter().find(|f| f.name == name).ok_or_else(unknown)?;
            let state = match host_states.get(&host_plugin) {
                Some(&s) => s,
                None => {
                    let plugin = plugins.host_plugin(host.module);
                    let st = (host.new_state)(&self.run, plugin).map_err(|trap| {
                        LinkError::HostState { module: host.module.to_owned(), trap }
                    })?;
                    self.store.host_states.push(st);
                    let s = (self.store.host_states.len() - 1) as u32;
                    host_states.insert(host_plugin, s);
                    s
                }
            };
            let sig = self.store.sigs.intern(&FuncType::new(f.params, f.results));
            Extern::Func(self.store.push_func(
                sig,
                FuncKind::Host { def: f, state },
                std::ptr::null_mut(),
            ))
        } else {
            return Err(unknown());
        };
        let found = self.extern_type(item).ok_or_else(unknown)?;
        let ok = match (want, &found) {
            // A function of a declared subtype of the import's type matches it.
            (ImportKind::Func(_), ExternType::Func(f)) => {
                want_func.is_some_and(|w| *w == *f || super::gc::types::func_matches(f, w))
            }
            (ImportKind::Table(w), ExternType::Table(t)) => {
                w.refty == t.refty
                    && w.index64 == t.index64
                    && limits_match(
                        t.min.into(),
                        t.max.map(Into::into),
                        w.min.into(),
                        w.max.map(Into::into),
                    )
            }
            (ImportKind::Memory(w), ExternType::Memory(m)) => {
                w.index64 == m.index64
                    && limits_match(
                        m.min.into(),
                        m.max.map(Into::into),
                        w.min.into(),
                        w.max.map(Into::into),
                    )
            }
            (ImportKind::Global(w), ExternType::Global(g)) => g.matches(w),
            (ImportKind::Tag(_), ExternType::Tag(t)) => Some(t) == want_func,
            _ => false,
        };
        if ok {
            Ok(item)
        } else {
            Err(LinkError::IncompatibleImport {
                module: module.to_owned(),
                name: name.to_owned(),
                expected: match want {
                    ImportKind::Func(_) => want_func.map_or("(func)".into(), |f| f.to_string()),
                    ImportKind::Table(t) => t.to_string(),
                    ImportKind::Memory(m) => m.to_string(),
                    ImportKind::Global(g) => g.to_string(),
                    ImportKind::Tag(_) => {
                        want_func.map_or("(tag)".into(), |f| format!("(tag {f})"))
                    }
                },
                found: found.to_string(),
            })
        }
    }

    /// Instantiates `module`: resolves imports, creates its items, applies element and
    /// data segments and runs the start function with the composition's engine.
    ///
    /// # Errors
    /// An unresolved or mistyped import, a memory that cannot be created, or a trap in
    /// a segment initializer or the start function (earlier effects stay visible).
    pub fn instantiate(
        &mut self,
        plugins: &mut C,
        module: &Module<C>,
    ) -> Result<Instance, InstantiationError> {
        let info = module.info();
        let mut func_addrs = Vec::with_capacity(info.funcs.len());
        let mut table_addrs = Vec::with_capacity(info.tables.len());
        let mut memory_addrs = Vec::with_capacity(info.memories.len());
        let mut global_addrs = Vec::with_capacity(info.globals.len());
        let mut tag_addrs = Vec::with_capacity(info.tags.len());
        // One state per composed host plugin, shared by the modules it serves.
        let mut host_states = HashMap::new();
        for imp in &info.imports {
            let want_func = match imp.kind {
                ImportKind::Func(t) | ImportKind::Tag(t) => info.types.get(t as usize),
                _ => None,
            };
            let found = self.resolve(
                &imp.module,
                &imp.name,
                &imp.kind,
                want_func,
                &mut host_states,
                plugins,
            );
            match found? {
                Extern::Func(a) => func_addrs.push(a),
                Extern::Table(a) => table_addrs.push(a),
                Extern::Memory(a) => memory_addrs.push(a),
                Extern::Global(a) => global_addrs.push(a),
                Extern::Tag(a) => tag_addrs.push(a),
            }
        }

        // Resource limits before anything of the instance is allocated.
        let table_limit = u64::from(plugins.virt().max_table_elements());
        for ty in &info.tables[info.num_imported_tables as usize..] {
            super::store::check_table(ty, table_limit)?;
        }

        let inst_id = self.store.instances.len() as u32;
        let sigs: Box<[u32]> = info.types.iter().map(|t| self.store.sigs.intern(t)).collect();
        for i in info.num_imported_funcs..info.funcs.len() as u32 {
            let sig = sigs.get(info.funcs[i as usize] as usize).copied().unwrap_or(0);
            func_addrs.push(self.store.push_func(
                sig,
                FuncKind::Wasm { instance: inst_id, index: i },
                std::ptr::null_mut(),
            ));
        }
        for &ty in &info.tags[info.num_imported_tags as usize..] {
            let ty = info.types.get(ty as usize).cloned().unwrap_or(FuncType::new([], []));
            tag_addrs.push(self.store.push_tag(ty));
        }
        for ty in &info.memories[info.num_imported_memories as usize..] {
            if ty.index64 && ty.min > MAX_PAGES64 {
                let (pages, limit) = (u64::from(ty.min), u64::from(MAX_PAGES64));
                return Err(super::error::MemoryError::TooLarge { pages, limit }.into());
            }
            let mem = plugins.virt_mut().new_memory(ty)?;
            memory_addrs.push(self.store.push_memory(mem, *ty));
        }
        for (i, ty) in info.globals[info.num_imported_globals as usize..].iter().enumerate() {
            let v = self.eval(plugins, &info.global_inits[i], &global_addrs, &func_addrs)?;
            global_addrs.push(self.store.push_global(*ty, v));
        }
        for (i, ty) in info.tables[info.num_imported_tables as usize..].iter().enumerate() {
            let init = match info.table_inits.get(i).and_then(Option::as_ref) {
                Some(e) => {
                    let v = self.eval(plugins, e, &global_addrs, &func_addrs)?;
                    self.store.val_to_raw(v)
                }
                None => 0,
            };
            table_addrs.push(self.store.push_table(*ty, init, table_limit)?);
        }

        // Values (an object is a rooted host handle) until every item is evaluated: an
        // allocation of a later item may move the objects of earlier ones.
        let mut vals: Vec<Vec<Val>> = Vec::with_capacity(info.elems.len());
        for seg in &info.elems {
            let mut items = Vec::with_capacity(seg.items.len());
            for e in seg.items.iter() {
                items.push(self.eval(plugins, e, &global_addrs, &func_addrs)?);
            }
            vals.push(items);
        }
        let elems: Vec<Box<[RawRef]>> = vals
            .into_iter()
            .map(|items| items.into_iter().map(|v| self.store.val_to_raw(v)).collect())
            .collect();

        // The context and its arrays: read-only guest data.
        let s = &mut self.store;
        let funcs: Vec<*const VMFuncRef> =
            func_addrs.iter().map(|&a| s.funcs[a as usize].vm_ptr().cast_const()).collect();
        let memories: Vec<*mut VMMemoryDefinition> =
            memory_addrs.iter().map(|&a| s.memories[a as usize].def_ptr()).collect();
        let tables: Vec<*mut VMTableDefinition> =
            table_addrs.iter().map(|&a| s.tables[a as usize].def_ptr()).collect();
        let globals: Vec<*mut VMGlobal> =
            global_addrs.iter().map(|&a| s.globals[a as usize].vm_ptr()).collect();
        let (ctx, state) = (s.vm_store_context(), s.vm_store_state());
        let g = s.guest_mut();
        let vmctx = VMContext {
            memory0: memories.first().copied().unwrap_or(std::ptr::null_mut()),
            memories: g.alloc_copy(GuestAccess::ReadOnly, &memories).as_ptr(),
            tables: g.alloc_copy(GuestAccess::ReadOnly, &tables).as_ptr(),
            globals: g.alloc_copy(GuestAccess::ReadOnly, &globals).as_ptr(),
            funcs: g.alloc_copy(GuestAccess::ReadOnly, &funcs).as_ptr(),
            sigs: g.alloc_copy(GuestAccess::ReadOnly, &sigs).as_ptr(),
            store: ctx,
            state,
            instance: std::ptr::null_mut(),
        };
        let vmctx = g.alloc(GuestAccess::ReadOnly, vmctx);
        let mut data = Box::new(InstanceData {
            vmctx,
            module: module.clone(),
            func_addrs: func_addrs.into(),
            memory_addrs: memory_addrs.into(),
            table_addrs: table_addrs.into(),
            global_addrs: global_addrs.into(),
            tag_addrs: tag_addrs.into(),
            elems,
            data_dropped: vec![false; info.datas.len()],
        });
        let back: *mut InstanceData<C> = &mut *data;
        // SAFETY: `vmctx` is fresh guest data of this store that nothing else
        // refers to yet; the box keeps `data` at `back` until the store drops.
        unsafe { (*vmctx.as_ptr()).instance = back.cast() };
        let vmctx = vmctx.as_ptr();
        let code = module.code();
        for (i, &a) in data.func_addrs.iter().enumerate() {
            let f = &s.funcs[a as usize];
            if i >= info.num_imported_funcs as usize {
                let entry = <C::Engine as Engine>::native_entry(code, i as u32);
                s.set_func_code(a, vmctx, entry);
            } else if f.vm().code.is_null()
                && let FuncKind::Host { .. } = f.kind
                && let Some(&ty) = info.funcs.get(i)
            {
                // A host function gets native code the first time a module that
                // imports it is instantiated; the module stays alive with the store.
                let entry = <C::Engine as Engine>::host_entry(code, ty);
                s.set_func_code(a, std::ptr::null_mut(), entry);
            }
        }
        s.instances.push(data);
        let inst = Instance(inst_id);
        plugins.virt_mut().prepare(s, inst)?;

        // Segments, in order; a trap leaves earlier effects in place.
        for (i, seg) in info.elems.iter().enumerate() {
            match &seg.mode {
                ElemMode::Passive => {}
                ElemMode::Declared => s.instances[inst_id as usize].elems[i] = Box::new([]),
                ElemMode::Active { table, offset } => {
                    let off = segment_offset(s, inst_id, offset);
                    let d = &s.instances[inst_id as usize];
                    let taddr = d.table_addrs.get(*table as usize).copied().unwrap_or(0) as usize;
                    let items = std::mem::take(&mut s.instances[inst_id as usize].elems[i]);
                    let t = s.tables[taddr].elements_mut();
                    let end = off.checked_add(items.len());
                    match end {
                        Some(end) if end <= t.len() => {
                            t[off..end].copy_from_slice(&items);
                        }
                        _ => return Err(Trap::new(TrapCode::TableOutOfBounds).into()),
                    }
                }
            }
        }
        for (i, seg) in info.datas.iter().enumerate() {
            if let DataMode::Active { memory, offset } = &seg.mode {
                let off = segment_offset(s, inst_id, offset);
                let d = &s.instances[inst_id as usize];
                let maddr = d.memory_addrs.get(*memory as usize).copied().unwrap_or(0) as usize;
                let bytes = info.bytes.get(seg.range.clone()).unwrap_or(&[]);
                let mem = s.memories[maddr].data_mut();
                match off.checked_add(bytes.len()) {
                    Some(end) if end <= mem.len() => mem[off..end].copy_from_slice(bytes),
                    _ => return Err(Trap::new(TrapCode::MemoryOutOfBounds).into()),
                }
                s.instances[inst_id as usize].data_dropped[i] = true;
            }
        }
        s.announce_guest_data(plugins.virt_mut());
        if let Some(start) = info.start {
            let addr = s.instances[inst_id as usize].func_addrs[start as usize];
            let mut results = Vec::new();
            self.store.call(plugins, addr, &[], &mut results)?;
        }
        Ok(inst)
    }

    /// Evaluates a global, table or element initializer; its GC operations allocate
    /// in the store's heap with `plugins`' collector.
    fn eval(
        &mut self,
        plugins: &C,
        e: &super::module::ConstExpr,
        globals: &[u32],
        funcs: &[u32],
    ) -> Result<Val, Trap> {
        let store = core::cell::RefCell::new(&mut self.store);
        e.eval_with(
            |g| {
                globals
                    .get(g as usize)
                    .and_then(|&a| store.borrow().global_value(a))
                    .unwrap_or(Val::I32(0))
            },
            |f| Val::FuncRef(funcs.get(f as usize).copied()),
            |op, stack| super::gc::constant::eval_op(&mut store.borrow_mut(), plugins, op, stack),
        )
        .map_err(Trap::new)
    }
}

/// The value of an active segment's offset expression (an `i32`, or an `i64` for a
/// 64-bit memory or table), as an
/// unsigned address.
fn segment_offset<C: Composition>(s: &Store<C>, inst_id: u32, offset: &ConstExpr) -> usize {
    let d = &s.instances[inst_id as usize];
    let global = |g: u32| {
        d.global_addrs.get(g as usize).and_then(|&a| s.global_value(a)).unwrap_or(Val::I32(0))
    };
    match offset.eval(global, |_| Val::I32(0)) {
        Val::I32(v) => v as u32 as usize,
        // memory64 and table64: past `usize`, out of bounds all the same.
        Val::I64(v) => usize::try_from(v as u64).unwrap_or(usize::MAX),
        _ => 0,
    }
}
