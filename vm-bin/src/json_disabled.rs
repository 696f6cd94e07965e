//! A build without feature `json` prints text only: `--json` and `--stats=json` are
//! errors that name the feature.

use vm_core::Composition;
use vm_core::plugin::PluginHealth as Health;

use crate::Options;

const NO_JSON: &str = "this `vm` was built without JSON output (feature `json`)";

/// `vm plugins --json`: an error.
pub fn plugins() -> Result<String, String> {
    Err(NO_JSON.to_owned())
}

/// `vm info --json`: an error.
// The signature of the enabled module's function, which reads the composition.
#[allow(clippy::extra_unused_type_parameters)]
pub fn info<C: Composition>(
    _opts: &Options,
    _order: &[&str],
    _proposals: &[&str],
) -> Result<String, String> {
    Err(NO_JSON.to_owned())
}

/// `vm config --json`: an error.
// The signature of the enabled module's function, which reads the composition.
#[allow(clippy::extra_unused_type_parameters)]
pub fn config<C: Composition>() -> Result<String, String> {
    Err(NO_JSON.to_owned())
}

/// `--stats=json`: an error, reported before the guest runs.
pub fn available() -> Result<(), String> {
    Err(NO_JSON.to_owned())
}

/// Never reached: [`available`] stops `--stats=json` first.
pub fn stats(_health: &[Health], _fuel: (Option<u64>, Option<u64>)) -> String {
    String::new()
}
