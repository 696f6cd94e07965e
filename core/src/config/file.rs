//! `vm.toml`: the config file layer, read with the `toml` crate's parser.

use crate::error::ConfigError;

/// The document `text` read from `path`.
pub(super) fn parse(path: &str, text: &str) -> Result<toml::Table, ConfigError> {
    text.parse().map_err(|e: toml::de::Error| ConfigError::File {
        path: path.to_owned(),
        reason: e.to_string(),
    })
}
