//! acme's plugins for vm, written from the `vm_core::guide`:
//!
//! - [`Env`] (slot `host`): the import module `env` with `clock_ms() -> i64` and
//!   `log(ptr, len)`, which reads the guest's text in place (a zero-copy view).
//! - [`CallCounter`] (slot `observer`): counts exports called from the host and wasm
//!   calls between functions; `--stats` prints them.
//!
//! Compose them with `hosts: [acme_env::Env]` and `observers: [acme_env::CallCounter]`.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use vm_core::plugin::PluginStats;
use vm_core::runtime::{HostModuleDef, Trap};
use vm_core::slot::{Event, EventKind, EventMask, HostModule, Observer};
use vm_core::{Plugin, PluginError, host_fn, plugin};

/// Settings of the `env` module (`-C acme-env.prefix=...`).
#[derive(Debug, Clone, serde::Deserialize, vm_core::PluginConfig)]
#[serde(default, deny_unknown_fields)]
pub struct EnvConfig {
    /// Printed before every line the guest logs.
    #[config(default = "[env.log] ")]
    pub prefix: String,
}

/// Per-instance state of `env`.
pub struct EnvState {
    started: Instant,
    prefix: String,
    /// Lines logged so far.
    pub logged: u64,
}

/// `env.clock_ms() -> i64`: milliseconds since the instance was created.
#[host_fn]
pub fn clock_ms(st: &mut EnvState) -> i64 {
    i64::try_from(st.started.elapsed().as_millis()).unwrap_or(i64::MAX)
}

/// `env.log(ptr, len)`: prints a line of UTF-8 text read in place from guest memory.
#[host_fn]
pub fn log(st: &mut EnvState, text: &[u8]) -> Result<(), Trap> {
    let text = std::str::from_utf8(text).map_err(|_| Trap::host("env.log: text is not UTF-8"))?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}{text}", st.prefix).map_err(|e| Trap::host(format!("env.log: {e}")))?;
    st.logged += 1;
    Ok(())
}

/// The `env` import module.
pub static ENV: HostModuleDef = HostModuleDef {
    module: "env",
    functions: &[CLOCK_MS, LOG],
    // The composed plugin carries its typed config: each instance copies the prefix.
    new_state: |_run, plugin| {
        let prefix = plugin
            .and_then(|p| p.downcast_ref::<Env>())
            .map_or_else(|| EnvConfig::default().prefix, |env| env.config.prefix.clone());
        Ok(Box::new(EnvState { started: Instant::now(), prefix, logged: 0 }))
    },
};

/// The `env` host module: `clock_ms` and `log`.
#[plugin(id = "acme-env", slot = host)]
pub struct Env {
    config: EnvConfig,
}

impl Plugin for Env {
    type Config = EnvConfig;
    fn new(config: EnvConfig) -> Result<Self, PluginError> {
        Ok(Env { config })
    }
}

impl HostModule for Env {
    const MODULE: &'static HostModuleDef = &ENV;
}

/// Counts exports called from the host and calls between wasm functions.
#[plugin(id = "acme-calls", slot = observer)]
pub struct CallCounter {
    /// Exports called from the host.
    pub host_calls: AtomicU64,
    /// Wasm functions called by wasm code.
    pub wasm_calls: AtomicU64,
}

impl Plugin for CallCounter {
    type Config = vm_core::config::NoConfig;
    fn new(_: Self::Config) -> Result<Self, PluginError> {
        Ok(CallCounter { host_calls: AtomicU64::new(0), wasm_calls: AtomicU64::new(0) })
    }

    fn stats(&self) -> PluginStats {
        let mut stats = PluginStats::default();
        stats.custom = vec![
            ("host_calls", self.host_calls.load(Ordering::Relaxed)),
            ("wasm_calls", self.wasm_calls.load(Ordering::Relaxed)),
        ];
        stats
    }
}

impl Observer for CallCounter {
    const EVENTS: EventMask = EventMask::NONE.with(EventKind::Call).with(EventKind::WasmCall);
    fn on_event(&self, event: &Event<'_>) {
        let counter = match event {
            Event::Call { .. } => &self.host_calls,
            Event::WasmCall { .. } => &self.wasm_calls,
            _ => return,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use vm_core::runtime::{Caller, Val};

    use super::*;

    #[test]
    fn log_reads_in_place_and_checks_bounds() {
        let mut st = EnvState { started: Instant::now(), prefix: String::new(), logged: 0 };
        let mut mem = b"..hi".to_vec();
        (LOG.call)(&mut Caller::new(Some(&mut mem), &mut st), &[Val::I32(2), Val::I32(2)], &mut [])
            .unwrap();
        assert_eq!(st.logged, 1);
        let mut caller = Caller::new(Some(&mut mem), &mut st);
        assert!((LOG.call)(&mut caller, &[Val::I32(3), Val::I32(9)], &mut []).is_err());
    }
}
