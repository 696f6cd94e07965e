//! Typed errors of the plugin model and configuration.

use thiserror::Error;

/// An error raised by a plugin's constructor or lifecycle hook.
#[derive(Debug, Error)]
#[error("plugin `{plugin}`: {message}")]
pub struct PluginError {
    /// The plugin's id.
    pub plugin: &'static str,
    /// What went wrong.
    pub message: String,
}

impl PluginError {
    /// Builds an error for `plugin`.
    pub fn new(plugin: &'static str, message: impl Into<String>) -> Self {
        Self { plugin, message: message.into() }
    }
}

/// A configuration error: an unknown key, a bad value, an unreadable `vm.toml`.
///
/// Its message lists the valid keys with their types, defaults and ranges.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A key the plugin does not have.
    #[error("unknown config key `{slot}.{key}`{hint}\nvalid keys of `{slot}` ({plugin}):\n{valid}")]
    UnknownKey {
        /// The slot (or plugin id) the key was given for.
        slot: String,
        /// The unknown key.
        key: String,
        /// The plugin in that slot.
        plugin: &'static str,
        /// A "did you mean" hint, or empty.
        hint: String,
        /// The valid keys, one per line.
        valid: String,
    },
    /// A section that names no composed plugin.
    #[error("unknown config section `{section}`: this VM composes {valid}")]
    UnknownSection {
        /// The section.
        section: String,
        /// The valid sections.
        valid: String,
    },
    /// A value of the wrong type or out of range.
    #[error("bad value for `{slot}.{key}`: {reason}\nvalid keys of `{slot}` ({plugin}):\n{valid}")]
    BadValue {
        /// The slot.
        slot: String,
        /// The key.
        key: String,
        /// The plugin in that slot.
        plugin: &'static str,
        /// Why the value is wrong.
        reason: String,
        /// The valid keys, one per line.
        valid: String,
    },
    /// A malformed `-C` flag or environment variable.
    #[error("malformed setting `{0}`: expected `slot.key=value`")]
    Malformed(String),
    /// A plugin refused its (well-typed) configuration.
    #[error(transparent)]
    Plugin(#[from] PluginError),
    /// The composition needs a CPU feature this machine lacks.
    #[error(
        "this VM is composed with `{}`, which needs the CPU feature `{}`, and this CPU does not have it; build with {} instead",
        .0.plugin, .0.feature, .0.instead
    )]
    Cpu(crate::runtime::cpu::MissingCpuFeature),
    /// `vm.toml` could not be read or parsed.
    #[error("config file {path}: {reason}")]
    File {
        /// The file.
        path: String,
        /// Why it could not be used.
        reason: String,
    },
}
