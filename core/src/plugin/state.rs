//! Run-time state, health and counters of a plugin, for reporting.

use std::time::Duration;

/// Where a plugin is in its lifecycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum PluginState {
    /// Linked and built from its config; `init` has not run.
    #[default]
    Loaded,
    /// `init` succeeded.
    Initialized,
    /// `start` succeeded.
    Running,
    /// `stop` ran.
    Stopped,
    /// Switched off at run time (observers).
    Disabled,
    /// A hook failed.
    Error,
}

impl PluginState {
    /// Lower-case name for listings.
    pub const fn name(self) -> &'static str {
        match self {
            PluginState::Loaded => "loaded",
            PluginState::Initialized => "initialized",
            PluginState::Running => "running",
            PluginState::Stopped => "stopped",
            PluginState::Disabled => "disabled",
            PluginState::Error => "error",
        }
    }
}

/// Counters a plugin reports. Every field is optional in meaning: a plugin fills the
/// ones that apply to its slot and leaves the rest at zero.
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct PluginStats {
    /// Functions compiled or translated.
    pub functions_compiled: u64,
    /// Time spent compiling or translating.
    pub compile_time: Duration,
    /// Bytes of generated code or internal bytecode.
    pub code_bytes: u64,
    /// Host calls served.
    pub host_calls: u64,
    /// Traps raised or observed.
    pub traps: u64,
    /// GC cycles run.
    pub gc_cycles: u64,
    /// Bytes reclaimed by the collector.
    pub gc_bytes_reclaimed: u64,
    /// Longest GC pause.
    pub gc_max_pause: Duration,
    /// Bytes of memory the plugin holds right now (committed linear memory for
    /// `virt`, heaps for `gc`).
    pub memory_bytes: u64,
    /// Other named counters.
    pub custom: Vec<(&'static str, u64)>,
    /// Named tables of per-item counters (an observer's hottest functions), rendered
    /// after the counters by `vm run --stats`.
    pub tables: Vec<StatsTable>,
}

/// A table of per-item counters in [`PluginStats::tables`]: one row per item, one
/// value per column.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StatsTable {
    /// The table's name (`hottest`).
    pub name: &'static str,
    /// The columns every row has a value for (`calls`, `from_wasm`...).
    pub columns: &'static [&'static str],
    /// The rows, in the order the plugin ranks them.
    pub rows: Vec<StatsRow>,
}

/// One row of a [`StatsTable`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StatsRow {
    /// What the row counts (a function's name).
    pub label: String,
    /// One value per column of the table.
    pub values: Vec<u64>,
}

/// A plugin's health as reported by the embedding API and `vm run --stats`.
#[derive(Clone, Debug, PartialEq)]
pub struct PluginHealth {
    /// Plugin id.
    pub id: &'static str,
    /// Lifecycle state.
    pub state: PluginState,
    /// Time since `start`, when running.
    pub uptime: Option<Duration>,
    /// Errors from hooks.
    pub errors: u64,
    /// The last error message, if any.
    pub last_error: Option<String>,
    /// The plugin's counters.
    pub stats: PluginStats,
}
