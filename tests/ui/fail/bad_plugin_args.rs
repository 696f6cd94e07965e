// Malformed #[plugin] arguments: one spanned error per mistake, no cascade.
use vm::{Plugin, PluginError, plugin};

/// A plugin with typos in its registration.
#[plugin(id = "fx-bad", slot = engin, requires = ["virt ^^1"], colour = "blue")]
pub struct Bad;

impl Plugin for Bad {
    type Config = vm::config::NoConfig;
    fn new(_: Self::Config) -> Result<Self, PluginError> {
        Ok(Self)
    }
}

fn main() {}
