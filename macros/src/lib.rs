//! Procedural macros of the vm, re-exported by `vm-core` (plugin authors depend on
//! `vm-core` only).
//!
//! | macro | what it does |
//! |---|---|
//! | `#[plugin(...)]` | emits the plugin's `META` and its registry entry |
//! | `compose!` | builds a composition type, with `const` checks of the plugin set |
//! | `#[derive(PluginConfig)]` | a config schema, defaults and range checks |
//! | `#[host_fn]` | a typed host function with zero-copy views of guest memory |
//!
//! Each macro parses, validates, expands, and on error still emits a stub so the user
//! sees one spanned error rather than a cascade.

use proc_macro::TokenStream;

mod attrs;
mod compose;
mod config;
mod host_fn;
mod krate;
mod plugin;
mod semver_tokens;

/// Registers a plugin type: `#[plugin(id = "engine-interp", slot = engine,
/// provides = ["engine@1.0.0"], requires = ["virt ^1"])]`.
///
/// Keys: `id` (required), `slot` (required: `engine`, `gc`, `simd`, `virt`, `host`,
/// `observer`, `extra`), `version` (default: the crate's version), `description`
/// (default: the first line of the type's doc comment), `provides` (`"name@x.y.z"`),
/// `requires` (`"name <semver requirement>"`, or `("name ^1", ["provider-id", ...])`
/// with suggested providers), `uses` (as `requires`, but without ordering: the
/// capability must be composed, its provider need not be initialized first, so two
/// plugins may use each other), `declares` (`CapabilityDef` constants for capabilities
/// this crate introduces), `crate` (path to `vm-core`). See `vm_core::guide`.
#[proc_macro_attribute]
pub fn plugin(args: TokenStream, item: TokenStream) -> TokenStream {
    plugin::expand(args.into(), item.into()).into()
}

/// Declares a composition: one plugin type per singleton slot (alternatives under
/// `#[cfg(feature = ...)]`) and lists of host, observer and extra plugins:
///
/// ```text
/// compose! {
///     /// Doc comment and attributes are kept on the struct.
///     pub struct MyVm {
///         engine: { #[cfg(feature = "jit")] my_jit::Jit, #[cfg(not(feature = "jit"))] my_interp::Interp },
///         virt: my_virt::Virt,           // required, like `engine`
///         gc: my_gc::Collector,          // optional
///         simd: my_simd::Sse41,          // optional
///         hosts: [my_env::Env],          // host modules that serve imports
///         observers: [my_obs::Counter],
///         extra: [],
///     }
/// }
/// ```
///
/// The checks run at compile time; see `vm_core::guide` for the rules and a running
/// example.
#[proc_macro]
pub fn compose(input: TokenStream) -> TokenStream {
    compose::expand(input.into()).into()
}

/// Derives `PluginConfig`: schema from field types, `///` docs and
/// `#[config(default = ..., range = "lo..=hi")]`; also derives `Default`.
#[proc_macro_derive(PluginConfig, attributes(config))]
pub fn derive_plugin_config(input: TokenStream) -> TokenStream {
    config::expand(input.into()).into()
}

/// Turns a typed Rust function into a host function of a host module.
#[proc_macro_attribute]
pub fn host_fn(args: TokenStream, item: TokenStream) -> TokenStream {
    host_fn::expand(args.into(), item.into()).into()
}
