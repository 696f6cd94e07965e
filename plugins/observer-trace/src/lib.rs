//! The `observer-trace` plugin: per-function call counts, the hottest functions at
//! exit, and a perf map so `perf report` names JIT-compiled wasm functions.
//!
//! ```
//! use vm_core::Plugin;
//! use vm_core::runtime::{Features, ModuleInfo};
//! use vm_core::slot::{Event, Observer};
//! use vm_observer_trace::{Trace, TraceConfig};
//!
//! let module = ModuleInfo::decode(
//!     br#"(module (func $fib (export "fib")) (func (export "main")))"#,
//!     Features::default(),
//! )
//! .unwrap();
//! let trace = Trace::new(TraceConfig::default()).unwrap();
//! trace.on_event(&Event::Compile { functions: 2, nanos: 0, module: &module });
//! trace.on_event(&Event::Call { name: "main", func: Some((module.id, 1)) });
//! trace.on_event(&Event::WasmCall { func: 0, module: module.id });
//! trace.on_event(&Event::WasmCall { func: 0, module: module.id });
//!
//! let hottest = &trace.stats().tables[0];
//! assert_eq!(hottest.name, "hottest");
//! assert_eq!(hottest.columns, ["calls", "from_wasm", "from_host"]);
//! assert_eq!((hottest.rows[0].label.as_str(), &hottest.rows[0].values[..]), ("fib", &[2, 2, 0][..]));
//! assert_eq!((hottest.rows[1].label.as_str(), &hottest.rows[1].values[..]), ("main", &[1, 0, 1][..]));
//! ```
//!
//! Compose it in the `observer` slot (`observers: [vm_observer_trace::Trace]` in
//! `compose!`; the `vm` binary's `observer-trace` feature). It subscribes to
//! [`EventKind::Compile`], [`EventKind::Call`], [`EventKind::WasmCall`] and
//! [`EventKind::CodeLoaded`].
//!
//! | config key (`[observer-trace]`) | default | meaning |
//! |---|---|---|
//! | `top` | 10 | rows of the `hottest` table in the stats (1..=10000) |
//! | `perf_map` | `true` | append a line per JIT-compiled function to `/tmp/perf-<pid>.map` |
//!
//! **Counts.** Every function is counted separately by who called it: `from_wasm`
//! (a wasm `call`/`call_indirect`, [`Event::WasmCall`]) and `from_host` (an export
//! called through the embedding API, [`Event::Call`]). Functions are named by
//! [`ModuleInfo::func_label`]: the name section, else an export name, else
//! `func[N]`. [`Plugin::stats`] reports the totals as counters and the `top` hottest
//! functions as the `hottest` [`StatsTable`], which `vm run --stats` and
//! `--stats=json` print; [`Plugin::stop`] logs the same table through `tracing`.
//!
//! **Perf map.** When the engine publishes native code ([`Event::CodeLoaded`],
//! emitted by `engine-cranelift`), each function's `START SIZE name` (hexadecimal
//! address and size, name `wasm::<function>` or `wasm::<module>::<function>` for a
//! module named in its name section) is appended to `/tmp/perf-<pid>.map`, the file
//! `perf report` reads to name JIT code. The file is created (truncated) once per
//! process and appended to as modules load. An interpreter has no native code per wasm
//! function and emits no `CodeLoaded`: under `engine-interp` the counts work and the
//! perf map stays empty (perf shows the interpreter's handlers instead).
//!
//! **Cost.** Not composed, nothing: engines test the composition's event mask at
//! compile time, so no event code is generated. Composed, every wasm call pays an
//! event (a call out of the interpreter's handler or a libcall from JIT code, a shared
//! lock and one relaxed atomic increment).

mod counts;
mod perf_map;
#[cfg(test)]
mod tests;

use std::sync::atomic::{AtomicU64, Ordering};

use vm_core::plugin::{PluginStats, StatsTable};
use vm_core::runtime::ModuleInfo;
use vm_core::slot::{Event, EventKind, EventMask, Observer};
use vm_core::{Plugin, PluginError};

pub use counts::CallCounts;
pub use perf_map::{perf_map_path, symbol};

/// Configuration of `observer-trace` (section `[observer-trace]`, `-C
/// observer-trace.top=20`, `VM_OBSERVER_TRACE_TOP=20`).
#[derive(Debug, Clone, serde::Deserialize, vm_core::PluginConfig)]
#[serde(default, deny_unknown_fields)]
pub struct TraceConfig {
    /// Rows of the `hottest` table in the stats: the most called functions.
    #[config(default = 10, range = "1..=10000")]
    pub top: u32,
    /// Append the address, size and name of every JIT-compiled function to
    /// `/tmp/perf-<pid>.map`, for `perf report`.
    #[config(default = true)]
    pub perf_map: bool,
}

/// Counts calls per function and writes the perf map.
#[vm_core::plugin(id = "observer-trace", slot = observer)]
pub struct Trace {
    config: TraceConfig,
    counts: CallCounts,
    perf_entries: AtomicU64,
    perf_errors: AtomicU64,
}

impl Trace {
    /// The call counts so far.
    pub fn counts(&self) -> &CallCounts {
        &self.counts
    }

    /// The `top` most called functions as a stats table.
    pub fn hottest(&self) -> StatsTable {
        StatsTable {
            name: "hottest",
            columns: &["calls", "from_wasm", "from_host"],
            rows: self.counts.hottest(self.config.top as usize),
        }
    }

    fn code_loaded(&self, module: &ModuleInfo, functions: &[vm_core::slot::CodeRange]) {
        self.counts.register(module);
        if !self.config.perf_map {
            return;
        }
        match perf_map::append(module, functions) {
            Ok(n) => self.perf_entries.fetch_add(n as u64, Ordering::Relaxed),
            Err(e) => {
                tracing::warn!("observer-trace: cannot write {}: {e}", perf_map_path().display());
                self.perf_errors.fetch_add(1, Ordering::Relaxed)
            }
        };
    }
}

impl Plugin for Trace {
    type Config = TraceConfig;

    fn new(config: TraceConfig) -> Result<Self, PluginError> {
        Ok(Self {
            config,
            counts: CallCounts::default(),
            perf_entries: AtomicU64::new(0),
            perf_errors: AtomicU64::new(0),
        })
    }

    fn stop(&mut self) -> Result<(), PluginError> {
        for row in self.hottest().rows {
            tracing::info!(
                "observer-trace: {} calls={} from_wasm={} from_host={}",
                row.label,
                row.values[0],
                row.values[1],
                row.values[2]
            );
        }
        Ok(())
    }

    fn stats(&self) -> PluginStats {
        let (from_wasm, from_host, functions) = self.counts.totals();
        let mut s = PluginStats::default();
        s.custom = vec![
            ("functions_called", functions),
            ("calls_from_wasm", from_wasm),
            ("calls_from_host", from_host),
            ("perf_map_entries", self.perf_entries.load(Ordering::Relaxed)),
            ("perf_map_errors", self.perf_errors.load(Ordering::Relaxed)),
        ];
        s.tables = vec![self.hottest()];
        s
    }
}

impl Observer for Trace {
    const EVENTS: EventMask = EventMask::NONE
        .with(EventKind::Compile)
        .with(EventKind::Call)
        .with(EventKind::WasmCall)
        .with(EventKind::CodeLoaded);

    fn on_event(&self, event: &Event<'_>) {
        match *event {
            Event::WasmCall { func, module } => self.counts.count(module, func, false),
            Event::Call { func: Some((module, func)), .. } => self.counts.count(module, func, true),
            Event::Compile { module, .. } => self.counts.register(module),
            Event::CodeLoaded { module, functions } => self.code_loaded(module, functions),
            _ => {}
        }
    }
}
