//! Parsing capability strings at expansion time into `const` initializers.

use proc_macro2::TokenStream;
use quote::quote;

/// `"name@1.2.3"` (version defaults to 1.0.0) → `Capability { .. }`.
pub fn capability(krate: &TokenStream, lit: &syn::LitStr) -> syn::Result<TokenStream> {
    let text = lit.value();
    let (name, version) = match text.split_once('@') {
        Some((n, v)) => (n.trim().to_owned(), v.trim().to_owned()),
        None => (text.trim().to_owned(), "1.0.0".to_owned()),
    };
    check_name(&name, lit)?;
    let v = semver::Version::parse(&version).map_err(|e| {
        syn::Error::new_spanned(
            lit,
            format!("bad capability version `{version}`: {e}; write `name@1.2.3`"),
        )
    })?;
    let (ma, mi, pa) = (v.major, v.minor, v.patch);
    Ok(quote! {
        #krate::plugin::Capability { name: #name, version: #krate::plugin::Version::new(#ma, #mi, #pa) }
    })
}

/// `"name ^1.2"` (requirement defaults to `*`) and suggested provider ids →
/// `Requirement { .. }`.
pub fn requirement(
    krate: &TokenStream,
    lit: &syn::LitStr,
    suggest: &[syn::LitStr],
    ordered: bool,
) -> syn::Result<TokenStream> {
    let text = lit.value();
    let text = text.trim();
    let (name, req) = match text.find(|c: char| c.is_whitespace()) {
        Some(i) => (text[..i].to_owned(), text[i..].trim().to_owned()),
        None => (text.to_owned(), "*".to_owned()),
    };
    check_name(&name, lit)?;
    let parsed = semver::VersionReq::parse(&req).map_err(|e| {
        syn::Error::new_spanned(
            lit,
            format!("bad semver requirement `{req}` for `{name}`: {e}; write `name ^1.2` or `name >=1, <3`"),
        )
    })?;
    let comparators = parsed.comparators.iter().map(|c| {
        let op = match c.op {
            semver::Op::Exact => quote!(Exact),
            semver::Op::Greater => quote!(Greater),
            semver::Op::GreaterEq => quote!(GreaterEq),
            semver::Op::Less => quote!(Less),
            semver::Op::LessEq => quote!(LessEq),
            semver::Op::Tilde => quote!(Tilde),
            semver::Op::Wildcard => quote!(Wildcard),
            _ => quote!(Caret),
        };
        let major = c.major;
        let minor = opt(c.minor);
        let patch = opt(c.patch);
        quote! {
            #krate::plugin::Comparator {
                op: #krate::plugin::ReqOp::#op, major: #major, minor: #minor, patch: #patch,
            }
        }
    });
    Ok(quote! {
        #krate::plugin::Requirement {
            name: #name, req: #req, comparators: &[#(#comparators),*], suggest: &[#(#suggest),*],
            ordered: #ordered,
        }
    })
}

fn opt(v: Option<u64>) -> TokenStream {
    match v {
        Some(v) => quote!(::core::option::Option::Some(#v)),
        None => quote!(::core::option::Option::None),
    }
}

fn check_name(name: &str, lit: &syn::LitStr) -> syn::Result<()> {
    let ok = !name.is_empty()
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_:.".contains(c));
    if ok {
        Ok(())
    } else {
        Err(syn::Error::new_spanned(
            lit,
            format!(
                "bad capability name `{name}`: use lower-case letters, digits, `-`, `_`, `:` and `.`"
            ),
        ))
    }
}
