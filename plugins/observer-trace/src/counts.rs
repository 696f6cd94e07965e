//! Call counters per function of every module seen, and their ranking.

use std::sync::atomic::{AtomicPtr, AtomicU64, Ordering};
use std::sync::{PoisonError, RwLock};

use vm_core::plugin::StatsRow;
use vm_core::runtime::{ModuleId, ModuleInfo};

/// The counters of one module's functions (module index space, imports included).
#[derive(Debug)]
struct ModuleCounts {
    id: ModuleId,
    name: Option<String>,
    labels: Box<[String]>,
    from_wasm: Box<[AtomicU64]>,
    from_host: Box<[AtomicU64]>,
}

/// Calls per function, from wasm and from the host, for every module the observer
/// saw compiled. Counting a call into the module counted last is two loads and one
/// relaxed atomic increment; another module takes a shared lock.
#[derive(Debug, Default)]
pub struct CallCounts {
    /// Boxed, so an entry never moves when the list grows; entries are only added.
    #[expect(clippy::vec_box, reason = "`last` points into the boxes across pushes")]
    modules: RwLock<Vec<Box<ModuleCounts>>>,
    /// The entry of `modules` counted last (null before the first count).
    last: AtomicPtr<ModuleCounts>,
    /// Calls into functions of modules never announced (not counted per function).
    unknown: AtomicU64,
}

fn zeros(n: usize) -> Box<[AtomicU64]> {
    (0..n).map(|_| AtomicU64::new(0)).collect()
}

impl CallCounts {
    /// Adds `module`'s functions with zero counts (once per module).
    pub fn register(&self, module: &ModuleInfo) {
        let mut modules = self.modules.write().unwrap_or_else(PoisonError::into_inner);
        if modules.iter().any(|m| m.id == module.id) {
            return;
        }
        let n = module.funcs.len();
        modules.push(Box::new(ModuleCounts {
            id: module.id,
            name: module.name.clone(),
            labels: (0..n as u32).map(|f| module.func_label(f)).collect(),
            from_wasm: zeros(n),
            from_host: zeros(n),
        }));
    }

    /// Counts one call of function `func` of `module`, from the host or from wasm.
    pub fn count(&self, module: ModuleId, func: u32, from_host: bool) {
        let last = self.last.load(Ordering::Acquire);
        // SAFETY: `last` is null or an entry of `modules`, boxed and never removed or
        // mutated while `self` lives (only counted through atomics).
        if let Some(m) = unsafe { last.as_ref() }
            && m.id == module
        {
            Self::counter(m, func, from_host)
                .unwrap_or(&self.unknown)
                .fetch_add(1, Ordering::Relaxed);
            return;
        }
        self.count_slow(module, func, from_host);
    }

    #[cold]
    fn count_slow(&self, module: ModuleId, func: u32, from_host: bool) {
        let modules = self.modules.read().unwrap_or_else(PoisonError::into_inner);
        let found = modules.iter().rev().find(|m| m.id == module);
        if let Some(m) = found {
            self.last.store(std::ptr::from_ref::<ModuleCounts>(m).cast_mut(), Ordering::Release);
        }
        let counter = found.and_then(|m| Self::counter(m, func, from_host));
        counter.unwrap_or(&self.unknown).fetch_add(1, Ordering::Relaxed);
    }

    fn counter(m: &ModuleCounts, func: u32, from_host: bool) -> Option<&AtomicU64> {
        if from_host { &m.from_host } else { &m.from_wasm }.get(func as usize)
    }

    /// Calls of function `label` (as [`ModuleInfo::func_label`] names it), summed
    /// over the modules that have one: `(from_wasm, from_host)`.
    pub fn get(&self, label: &str) -> (u64, u64) {
        let modules = self.modules.read().unwrap_or_else(PoisonError::into_inner);
        let mut sum = (0, 0);
        for m in modules.iter() {
            for (i, l) in m.labels.iter().enumerate() {
                if l == label {
                    sum.0 += m.from_wasm[i].load(Ordering::Relaxed);
                    sum.1 += m.from_host[i].load(Ordering::Relaxed);
                }
            }
        }
        sum
    }

    /// `(calls from wasm, calls from the host, functions called at least once)`.
    pub fn totals(&self) -> (u64, u64, u64) {
        let modules = self.modules.read().unwrap_or_else(PoisonError::into_inner);
        let mut t = (0, 0, 0);
        for m in modules.iter() {
            for (w, h) in m.from_wasm.iter().zip(m.from_host.iter()) {
                let (w, h) = (w.load(Ordering::Relaxed), h.load(Ordering::Relaxed));
                t.0 += w;
                t.1 += h;
                t.2 += u64::from(w + h > 0);
            }
        }
        t
    }

    /// Calls into modules never announced by a `Compile` or `CodeLoaded` event.
    pub fn unknown(&self) -> u64 {
        self.unknown.load(Ordering::Relaxed)
    }

    /// The `top` most called functions, most calls first (ties by name): label and
    /// `[calls, from_wasm, from_host]`. With several modules, labels are prefixed by
    /// the module's name (or `module[id]`).
    pub fn hottest(&self, top: usize) -> Vec<StatsRow> {
        let modules = self.modules.read().unwrap_or_else(PoisonError::into_inner);
        let qualify = modules.len() > 1;
        let mut rows: Vec<StatsRow> = Vec::new();
        for m in modules.iter() {
            for (i, label) in m.labels.iter().enumerate() {
                let w = m.from_wasm[i].load(Ordering::Relaxed);
                let h = m.from_host[i].load(Ordering::Relaxed);
                if w + h == 0 {
                    continue;
                }
                let label = match (&m.name, qualify) {
                    (_, false) => label.clone(),
                    (Some(n), true) => format!("{n}::{label}"),
                    (None, true) => format!("module[{}]::{label}", m.id.0),
                };
                rows.push(StatsRow { label, values: vec![w + h, w, h] });
            }
        }
        rows.sort_by(|a, b| b.values[0].cmp(&a.values[0]).then_with(|| a.label.cmp(&b.label)));
        rows.truncate(top);
        rows
    }
}
