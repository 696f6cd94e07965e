//! Typed plugin configuration, layered: defaults ⊕ `vm.toml` ⊕ `VM_<SECTION>_<KEY>`
//! environment ⊕ CLI `-C section.key=value`.
//!
//! A section is a slot name for singleton slots (`engine`, `virt`, `gc`, `simd`) and
//! the plugin id for the others (`acme-log`). Unknown sections, unknown keys and bad
//! values are errors that list the valid keys with their types, defaults and ranges.

use std::collections::BTreeMap;
use std::path::Path;

use serde::de::DeserializeOwned;

use crate::error::ConfigError;
use crate::plugin::{ConfigKey, ConfigType, Plugin, PluginMeta};

// The TOML parser reads `vm.toml` only; a build without feature `config-file` (a small
// embedded `vm`) takes settings from the environment and `-C` and rejects the file.
#[cfg_attr(not(feature = "config-file"), path = "config/file_disabled.rs")]
mod file;

/// A plugin's typed configuration. Derive it with `#[derive(PluginConfig)]`, which
/// reads `#[config(default = ..., range = "...")]` and doc comments into
/// [`PluginConfig::SCHEMA`] and generates `Default` and range checks.
pub trait PluginConfig: DeserializeOwned + Default + Send + 'static {
    /// The keys, types, defaults, ranges and docs.
    const SCHEMA: &'static [ConfigKey];

    /// Checks values beyond their types (ranges, cross-key rules).
    ///
    /// # Errors
    /// The key and the reason, as `(key, reason)`.
    fn validate(&self) -> Result<(), (&'static str, String)> {
        Ok(())
    }
}

/// The config of a plugin that has no keys.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoConfig {}

impl PluginConfig for NoConfig {
    const SCHEMA: &'static [ConfigKey] = &[];
}

/// Raw settings by section, merged from every layer, before typing.
#[derive(Clone, Debug, Default)]
pub struct Settings {
    sections: BTreeMap<String, toml::Table>,
}

impl Settings {
    /// No settings: every plugin gets its defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Merges a `vm.toml` document (`[engine]\nfuel = 10`).
    ///
    /// # Errors
    /// When the text is not TOML or a top-level item is not a table, and always in a
    /// build without feature `config-file`.
    pub fn merge_toml(&mut self, path: &str, text: &str) -> Result<(), ConfigError> {
        let doc = file::parse(path, text)?;
        for (section, value) in doc {
            let toml::Value::Table(t) = value else {
                return Err(ConfigError::File {
                    path: path.to_owned(),
                    reason: format!("`{section}` must be a table (`[{section}]`)"),
                });
            };
            self.sections.entry(section).or_default().extend(t);
        }
        Ok(())
    }

    /// Merges `vm.toml` from `path` if the file exists.
    ///
    /// # Errors
    /// When the file exists but cannot be read or parsed.
    pub fn merge_file_if_exists(&mut self, path: &Path) -> Result<(), ConfigError> {
        match std::fs::read_to_string(path) {
            Ok(text) => self.merge_toml(&path.display().to_string(), &text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => {
                Err(ConfigError::File { path: path.display().to_string(), reason: e.to_string() })
            }
        }
    }

    /// Merges `VM_<SECTION>_<KEY>=value` variables for the given sections.
    pub fn merge_env<I>(&mut self, vars: I, sections: &[&str])
    where
        I: IntoIterator<Item = (String, String)>,
    {
        let mut by_prefix: Vec<(String, &str)> = sections
            .iter()
            .map(|s| (format!("VM_{}_", s.to_ascii_uppercase().replace('-', "_")), *s))
            .collect();
        // Longest prefix first, so `VM_HOST_WASI_X` is not read as section `host`.
        by_prefix.sort_by_key(|(p, _)| std::cmp::Reverse(p.len()));
        for (name, value) in vars {
            if let Some((prefix, section)) =
                by_prefix.iter().find(|(p, _)| name.starts_with(p.as_str()))
            {
                let key = name[prefix.len()..].to_ascii_lowercase();
                if !key.is_empty() {
                    self.set_raw(section, &key, value);
                }
            }
        }
    }

    /// Merges one `section.key=value` setting (the CLI's `-C`).
    ///
    /// # Errors
    /// When the setting is not of the form `section.key=value`.
    pub fn merge_flag(&mut self, flag: &str) -> Result<(), ConfigError> {
        let (path, value) =
            flag.split_once('=').ok_or_else(|| ConfigError::Malformed(flag.to_owned()))?;
        let (section, key) =
            path.split_once('.').ok_or_else(|| ConfigError::Malformed(flag.to_owned()))?;
        if section.is_empty() || key.is_empty() {
            return Err(ConfigError::Malformed(flag.to_owned()));
        }
        self.set_raw(section, key, value.to_owned());
        Ok(())
    }

    fn set_raw(&mut self, section: &str, key: &str, value: String) {
        self.sections
            .entry(section.to_owned())
            .or_default()
            .insert(key.to_owned(), toml::Value::String(value));
    }

    /// The section names given, for checking against the composition.
    pub fn section_names(&self) -> impl Iterator<Item = &str> {
        self.sections.keys().map(String::as_str)
    }

    /// Builds plugin `P`'s typed config from its section.
    ///
    /// # Errors
    /// An unknown key, a value of the wrong type or out of range.
    pub fn typed<P: Plugin>(&self, section: &str) -> Result<P::Config, ConfigError> {
        let meta = &P::META;
        let mut table = toml::Table::new();
        if let Some(given) = self.sections.get(section) {
            for (key, value) in given {
                let Some(schema) = meta.config.iter().find(|k| k.name == key) else {
                    return Err(ConfigError::UnknownKey {
                        slot: section.to_owned(),
                        key: key.clone(),
                        plugin: meta.id,
                        hint: nearest(key, meta.config.iter().map(|k| k.name))
                            .map(|n| format!(" (did you mean `{n}`?)"))
                            .unwrap_or_default(),
                        valid: describe_keys(meta),
                    });
                };
                let typed = coerce(schema, value)
                    .and_then(|v| check_range(schema, v))
                    .map_err(|reason| bad_value(meta, section, key, reason))?;
                table.insert(key.clone(), typed);
            }
        }
        let config: P::Config = match toml::Value::Table(table.clone()).try_into() {
            Ok(c) => c,
            Err(e) => {
                // Name the key: find the one entry that fails on its own.
                let e: toml::de::Error = e;
                for (key, value) in &table {
                    let one = toml::Table::from_iter([(key.clone(), value.clone())]);
                    if let Err(ke) = toml::Value::Table(one).try_into::<P::Config>() {
                        return Err(bad_value(meta, section, key, ke.message().to_owned()));
                    }
                }
                return Err(bad_value(meta, section, "", e.message().to_owned()));
            }
        };
        config.validate().map_err(|(key, reason)| bad_value(meta, section, key, reason))?;
        Ok(config)
    }
}

fn bad_value(meta: &PluginMeta, section: &str, key: &str, reason: String) -> ConfigError {
    ConfigError::BadValue {
        slot: section.to_owned(),
        key: key.to_owned(),
        plugin: meta.id,
        reason,
        valid: describe_keys(meta),
    }
}

/// Converts a value given as text (environment, `-C`) to the schema's type; values from
/// `vm.toml` that already have a type are checked against it.
fn coerce(schema: &ConfigKey, value: &toml::Value) -> Result<toml::Value, String> {
    use toml::Value as V;
    match (schema.ty, value) {
        (ConfigType::Bool, V::Boolean(_))
        | (ConfigType::Int, V::Integer(_))
        | (ConfigType::Float, V::Float(_))
        | (ConfigType::String, V::String(_)) => Ok(value.clone()),
        (ConfigType::Float, V::Integer(i)) => Ok(V::Float(*i as f64)),
        (ConfigType::Bool, V::String(s)) => match s.as_str() {
            "true" | "1" | "yes" | "on" => Ok(V::Boolean(true)),
            "false" | "0" | "no" | "off" => Ok(V::Boolean(false)),
            _ => Err(format!("`{s}` is not a bool (true or false)")),
        },
        (ConfigType::Int, V::String(s)) => {
            let t = s.replace('_', "");
            t.parse::<i64>().map(V::Integer).map_err(|_| format!("`{s}` is not an integer"))
        }
        (ConfigType::Float, V::String(s)) => {
            s.parse::<f64>().map(V::Float).map_err(|_| format!("`{s}` is not a number"))
        }
        (ty, v) => Err(format!("expected {}, found {}", ty.name(), v.type_str())),
    }
}

/// Checks a number against the schema's range text (`lo..`, `lo..=hi`, `..hi`) before
/// serde sees it, so a negative value for an unsigned key reads as out of range.
fn check_range(schema: &ConfigKey, value: toml::Value) -> Result<toml::Value, String> {
    let v = match &value {
        toml::Value::Integer(i) => *i as f64,
        toml::Value::Float(f) => *f,
        _ => return Ok(value),
    };
    let Some((lo, hi)) = schema.range.split_once("..") else { return Ok(value) };
    let num = |s: &str| s.trim().replace('_', "").parse::<f64>().ok();
    let (inclusive, hi) = match hi.strip_prefix('=') {
        Some(h) => (true, h),
        None => (false, hi),
    };
    let below = num(lo).is_some_and(|lo| v < lo);
    let above = num(hi).is_some_and(|hi| if inclusive { v > hi } else { v >= hi });
    if below || above {
        let shown = match value {
            toml::Value::Integer(i) => i.to_string(),
            _ => format!("{v:?}"),
        };
        return Err(format!("{shown} is out of range {}", schema.range));
    }
    Ok(value)
}

/// One line per key: `name: type = default  [range]  doc`.
pub fn describe_keys(meta: &PluginMeta) -> String {
    if meta.config.is_empty() {
        return "  (none: this plugin has no config keys)".to_owned();
    }
    meta.config
        .iter()
        .map(|k| {
            let range =
                if k.range.is_empty() { String::new() } else { format!(" (range {})", k.range) };
            format!("  {}: {} = {}{}  {}", k.name, k.ty.name(), k.default, range, k.doc)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The nearest name by edit distance, when it is close enough to be a likely typo.
pub fn nearest<'a>(given: &str, names: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    names
        .map(|n| (crate::check::edit_distance(given.as_bytes(), n.as_bytes()), n))
        .filter(|(d, n)| *d <= 2.max(n.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, n)| n)
}

#[cfg(test)]
mod tests;
