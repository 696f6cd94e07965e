//! The `simd` slot (declared; filled by the SIMD issue).

use crate::error::PluginError;
use crate::plugin::{Described, Plugin, PluginMeta, Slot, Version};

/// Which host vector ISA v128 code targets.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is registered in slot `simd` but does not implement `vm_core::slot::Simd`",
    label = "this plugin type does not implement `Simd`",
    note = "add `impl vm_core::slot::Simd for {Self} {{ ... }}` or register it in the slot it implements"
)]
pub trait Simd: Plugin {
    /// Whether a SIMD backend exists (false for [`NoSimd`]); modules using simd128 are
    /// rejected with "unsupported: simd" when false.
    const PRESENT: bool;
}

/// The empty `simd` slot: no backend is composed, so simd128 modules are rejected.
#[derive(Debug)]
pub struct NoSimd;

impl Described for NoSimd {
    const META: PluginMeta = PluginMeta {
        id: "(no simd)",
        slot: Slot::Simd,
        version: Version::new(0, 0, 0),
        description: "no SIMD backend composed: simd128 modules are rejected",
        provides: &[],
        requires: &[],
        declares: &[],
        config: &[],
    };
}

impl Plugin for NoSimd {
    type Config = crate::config::NoConfig;
    fn new(_: Self::Config) -> Result<Self, PluginError> {
        Ok(Self)
    }
}

impl Simd for NoSimd {
    const PRESENT: bool = false;
}
