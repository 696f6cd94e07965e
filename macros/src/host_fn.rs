//! `#[host_fn]`: typed host functions with zero-copy views of guest memory.

use proc_macro2::TokenStream;

/// Expands `#[host_fn]` on a function.
pub fn expand(_args: TokenStream, item: TokenStream) -> TokenStream {
    item
}
