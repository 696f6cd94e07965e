//! The plugin model: what a plugin declares about itself ([`PluginMeta`]) and the
//! lifecycle hooks every plugin has ([`Plugin`]).

mod meta;
mod state;

pub use meta::{
    Capability, CapabilityDef, Comparator, ConfigKey, ConfigType, PluginMeta, ReqOp, Requirement,
    Slot, Version,
};
pub use state::{PluginHealth, PluginState, PluginStats, StatsRow, StatsTable};

use crate::config::PluginConfig;
use crate::error::PluginError;

/// The static description of a plugin type. `#[plugin(...)]` implements it (and adds
/// the type to the registry); write it by hand only for plugins that must stay out of
/// the registry.
pub trait Described {
    /// The plugin's static description.
    const META: PluginMeta;
}

/// A plugin: a type registered with `#[plugin(...)]` that fills one slot of a
/// composition.
///
/// `#[plugin]` implements [`Described`] (the `META`) for the type; the plugin author
/// writes an `impl Plugin for T` with the config type and whichever hooks matter. Every
/// hook has a no-op default. Hooks run in the composition's init order (a `const`
/// topological order of the capability graph); `stop` and `cleanup` run in reverse.
pub trait Plugin: Described + Sized + Send + 'static {
    /// The plugin's typed configuration: a `#[derive(PluginConfig)]` struct, or
    /// [`NoConfig`](crate::config::NoConfig) when it has none.
    type Config: PluginConfig;

    /// Builds the plugin from its validated configuration.
    ///
    /// # Errors
    /// A plugin that cannot be built with this configuration returns an error that
    /// names the offending key.
    fn new(config: Self::Config) -> Result<Self, PluginError>;

    /// Called once, in init order, before any module is loaded.
    ///
    /// # Errors
    /// An error stops the VM from reaching the ready state.
    fn init(&mut self) -> Result<(), PluginError> {
        Ok(())
    }

    /// Called once, in init order, when the VM starts running.
    ///
    /// # Errors
    /// An error stops the VM from reaching the running state.
    fn start(&mut self) -> Result<(), PluginError> {
        Ok(())
    }

    /// Called once, in reverse init order, when the VM stops.
    ///
    /// # Errors
    /// An error is recorded in the plugin's health; the other plugins still stop.
    fn stop(&mut self) -> Result<(), PluginError> {
        Ok(())
    }

    /// Called once, in reverse init order, when the VM is dropped.
    fn cleanup(&mut self) {}

    /// The plugin's counters, for `vm run --stats` and the embedding API.
    fn stats(&self) -> PluginStats {
        PluginStats::default()
    }
}
