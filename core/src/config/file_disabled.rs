//! A build without feature `config-file` reads no `vm.toml`.

use crate::error::ConfigError;

/// Always an error naming the feature: a file that is there is never silently ignored.
pub(super) fn parse(path: &str, _text: &str) -> Result<toml::Table, ConfigError> {
    Err(ConfigError::File {
        path: path.to_owned(),
        reason: "this build reads no config file (built without feature `config-file`); \
                 use `VM_<SECTION>_<KEY>` or `-C section.key=value`"
            .to_owned(),
    })
}
