//! `vm-core`: the plugin model, registry, composition checks, lifecycle, config and the
//! WebAssembly runtime data of the vm.
//!
//! A plugin author depends on this crate only: it re-exports the macros
//! (`#[plugin]`, `compose!`, `#[derive(PluginConfig)]`, `#[host_fn]`).
//!
//! **Start with [the guide](guide)**: slots and traits, capabilities and semver,
//! configuration, stats and health, events, the lifecycle, host modules end to end,
//! composing and running, a custom `vm` binary, and testing a plugin, each with an
//! example that compiles.
//!
//! | module | what it holds |
//! |---|---|
//! | [`plugin`](mod@plugin) | [`PluginMeta`], the [`Plugin`] trait, states and stats |
//! | [`slot`] | slot traits: [`slot::Engine`], [`slot::Virt`], [`slot::HostModule`], [`slot::Observer`], [`slot::Collector`], [`slot::Simd`] |
//! | [`registry`] | the `linkme` registry of every linked plugin |
//! | [`check`] | the `const` composition checks and init order |
//! | [`compose`](mod@compose) | [`Composition`] and the [`Vm`] typestate |
//! | [`config`] | layered typed configuration |
//! | [`runtime`] | values, traps, the host-function ABI |
//!
//! | Cargo feature | default | what it adds |
//! |---|---|---|
//! | `wat` | on | the text format: `.wat` accepted wherever `.wasm` is (without it, text input is a decode error naming the feature) |
//! | `config-file` | on | `vm.toml` ([`Settings::merge_toml`]); without it the environment and `-C` layers remain and a config file is an error naming the feature |

// Lets macro expansions name this crate `::vm_core` from inside it and from its doctests.
extern crate self as vm_core;

pub mod check;
pub mod compose;
pub mod config;
pub mod error;
pub mod guide;
pub mod plugin;
pub mod registry;
pub mod runtime;
pub mod slot;
pub mod vm_api;

pub use compose::{Composition, Vm};
pub use config::{PluginConfig, Settings};
pub use error::{ConfigError, PluginError};
pub use plugin::{Plugin, PluginMeta, Slot, Version};
pub use vm_macros::{PluginConfig, compose, host_fn, plugin};

/// Items the macros' expansions name; not part of the public API.
#[doc(hidden)]
pub mod __private {
    pub use linkme;
    pub use serde;
}
