//! JSON output: `--json` of `vm plugins`, `vm info` and `vm config`, and `--stats=json`.

use serde_json::{Value, json};
use vm_core::Composition;
use vm_core::plugin::{PluginHealth as Health, PluginMeta};

use crate::Options;

/// One plugin as JSON.
fn meta_json(m: &PluginMeta) -> Value {
    json!({
        "id": m.id,
        "slot": m.slot.name(),
        "version": m.version.to_string(),
        "description": m.description,
        "provides": m.provides.iter().map(|c| json!({"name": c.name, "version": c.version.to_string()})).collect::<Vec<_>>(),
        "requires": m.requires.iter().map(|r| json!({"name": r.name, "req": r.req})).collect::<Vec<_>>(),
        "config": m.config.iter().map(|k| json!({
            "key": k.name, "type": k.ty.name(), "default": k.default, "range": k.range, "doc": k.doc,
        })).collect::<Vec<_>>(),
    })
}

/// `vm plugins --json`.
pub fn plugins() -> Result<String, String> {
    let list: Vec<Value> = vm_core::registry::plugins().iter().map(|r| meta_json(r.meta)).collect();
    Ok(serde_json::to_string_pretty(&list).unwrap_or_default())
}

/// `vm info --json`.
pub fn info<C: Composition>(
    opts: &Options,
    order: &[&str],
    proposals: &[&str],
) -> Result<String, String> {
    let v = json!({
        "name": opts.name,
        "version": opts.version,
        "features": opts.features,
        "plugins": C::PLUGINS.iter().map(|m| meta_json(m)).collect::<Vec<_>>(),
        "init_order": order,
        "proposals": proposals,
    });
    Ok(serde_json::to_string_pretty(&v).unwrap_or_default())
}

/// `vm config --json`.
pub fn config<C: Composition>() -> Result<String, String> {
    let v: Vec<Value> = (0..C::PLUGINS.len())
        .map(|i| json!({"section": C::section(i), "plugin": meta_json(C::PLUGINS[i])}))
        .collect();
    Ok(serde_json::to_string_pretty(&v).unwrap_or_default())
}

/// Whether `--stats=json` can print (always, in this build).
pub fn available() -> Result<(), String> {
    Ok(())
}

/// `--stats=json`: per-plugin stats, then the store's fuel `(consumed, remaining)`.
pub fn stats(health: &[Health], fuel: (Option<u64>, Option<u64>)) -> String {
    let mut v: Vec<Value> = health
        .iter()
        .map(|h| {
            json!({
                "id": h.id,
                "state": h.state.name(),
                "uptime_ms": h.uptime.map(|u| u.as_secs_f64() * 1e3),
                "errors": h.errors,
                "functions_compiled": h.stats.functions_compiled,
                "compile_time_ms": h.stats.compile_time.as_secs_f64() * 1e3,
                "code_bytes": h.stats.code_bytes,
                "host_calls": h.stats.host_calls,
                "traps": h.stats.traps,
                "memory_bytes": h.stats.memory_bytes,
                "custom": h.stats.custom.iter().map(|(k, v)| (k.to_string(), *v)).collect::<std::collections::BTreeMap<_, _>>(),
                "tables": h.stats.tables.iter().map(|t| (t.name.to_owned(), table_json(t))).collect::<serde_json::Map<_, _>>(),
            })
        })
        .collect();
    v.push(json!({
        "id": "store",
        "fuel_consumed": fuel.0,
        "fuel_remaining": fuel.1,
    }));
    serde_json::to_string_pretty(&v).unwrap_or_default()
}

/// A stats table as a JSON array of rows: `{"name": label, "<column>": value, ...}`.
fn table_json(t: &vm_core::plugin::StatsTable) -> Value {
    t.rows
        .iter()
        .map(|row| {
            let mut o = serde_json::Map::new();
            o.insert("name".to_owned(), row.label.clone().into());
            for (c, v) in t.columns.iter().zip(&row.values) {
                o.insert((*c).to_owned(), (*v).into());
            }
            Value::Object(o)
        })
        .collect()
}
