//! Procedural macros of the vm, re-exported by `vm-core`.
use proc_macro::TokenStream;

mod host_fn;
mod krate;

/// Registers a plugin.
#[proc_macro_attribute]
pub fn plugin(_args: TokenStream, item: TokenStream) -> TokenStream {
    item
}

/// Composes a VM.
#[proc_macro]
pub fn compose(_input: TokenStream) -> TokenStream {
    TokenStream::new()
}

/// Derives `PluginConfig`.
#[proc_macro_derive(PluginConfig, attributes(config))]
pub fn derive_plugin_config(_input: TokenStream) -> TokenStream {
    TokenStream::new()
}

/// Turns a typed Rust function into a host function of a host module.
#[proc_macro_attribute]
pub fn host_fn(args: TokenStream, item: TokenStream) -> TokenStream {
    host_fn::expand(args.into(), item.into()).into()
}
