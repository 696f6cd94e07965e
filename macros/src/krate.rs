//! Resolving the path of `vm-core` from inside a macro expansion.

use proc_macro2::{Span, TokenStream};
use quote::quote;

/// The path to `vm-core` as the calling crate names it: an explicit `crate = path`
/// override wins; otherwise `proc-macro-crate` finds `vm-core` (possibly renamed) or
/// the `vm` facade, which re-exports it.
pub fn vm_core_path(explicit: Option<&syn::Path>) -> TokenStream {
    use proc_macro_crate::{FoundCrate, crate_name};
    if let Some(p) = explicit {
        return quote!(#p);
    }
    match crate_name("vm-core") {
        // vm-core's own doctests are crates of their own: name it absolutely (vm-core
        // declares `extern crate self as vm_core`, so this also resolves inside it).
        Ok(FoundCrate::Itself) => return quote!(::vm_core),
        Ok(FoundCrate::Name(name)) => {
            let ident = syn::Ident::new(&name, Span::call_site());
            return quote!(::#ident);
        }
        Err(_) => {}
    }
    match crate_name("vm") {
        Ok(FoundCrate::Itself) => quote!(crate),
        Ok(FoundCrate::Name(name)) => {
            let ident = syn::Ident::new(&name, Span::call_site());
            quote!(::#ident)
        }
        Err(_) => quote!(::vm_core),
    }
}
