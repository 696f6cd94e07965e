// A type registered in the `engine` slot that does not implement `Engine`.
use vm::{Plugin, PluginError, plugin};

/// Claims to be an engine.
#[plugin(id = "fx-not-an-engine", slot = engine)]
pub struct NotAnEngine;

impl Plugin for NotAnEngine {
    type Config = vm::config::NoConfig;
    fn new(_: Self::Config) -> Result<Self, PluginError> {
        Ok(Self)
    }
}

fn main() {}
