// A plugin that misspells a capability fails its own crate's build, with the nearest
// name and how to declare a new capability.
use vm::config::NoConfig;
use vm::{Plugin, PluginError, plugin};

/// Misspells `native-code`.
#[plugin(id = "typo", slot = extra, requires = ["native-cod ^1"])]
pub struct Typo;

impl Plugin for Typo {
    type Config = NoConfig;
    fn new(_: NoConfig) -> Result<Self, PluginError> {
        Ok(Self)
    }
}

fn main() {}
