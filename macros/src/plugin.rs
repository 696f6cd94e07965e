//! `#[plugin(...)]`: parse → validate → expand → fallback.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Expr, ExprArray, ExprLit, Lit, LitStr, Token};

use crate::krate::vm_core_path;
use crate::semver_tokens;

const SLOTS: &[(&str, &str, &str)] = &[
    ("engine", "Engine", "Engine"),
    ("gc", "Gc", "Collector"),
    ("simd", "Simd", "Simd"),
    ("virt", "Virt", "Virt"),
    ("host", "Host", "HostModule"),
    ("observer", "Observer", "Observer"),
    ("extra", "Extra", ""),
];

const KEYS: &str =
    "`id`, `slot`, `version`, `description`, `provides`, `requires`, `uses`, `declares`, `crate`";

/// One `key = value` argument.
struct Arg {
    key: syn::Ident,
    value: Expr,
}

impl Parse for Arg {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let key = if input.peek(Token![crate]) {
            let k: Token![crate] = input.parse()?;
            syn::Ident::new("crate", k.span)
        } else {
            input.parse()?
        };
        input.parse::<Token![=]>()?;
        let value = input.parse()?;
        Ok(Arg { key, value })
    }
}

struct Args {
    id: LitStr,
    slot: (String, syn::Ident),
    version: Option<LitStr>,
    description: Option<LitStr>,
    provides: Vec<LitStr>,
    requires: Vec<(LitStr, Vec<LitStr>)>,
    uses: Vec<(LitStr, Vec<LitStr>)>,
    declares: Vec<Expr>,
}

fn lit_str(e: &Expr, what: &str) -> syn::Result<LitStr> {
    match e {
        Expr::Lit(ExprLit { lit: Lit::Str(s), .. }) => Ok(s.clone()),
        _ => Err(syn::Error::new_spanned(e, format!("`{what}` takes a string literal"))),
    }
}

fn lit_list(e: &Expr, what: &str) -> syn::Result<Vec<LitStr>> {
    match e {
        Expr::Array(ExprArray { elems, .. }) => elems.iter().map(|x| lit_str(x, what)).collect(),
        _ => Err(syn::Error::new_spanned(
            e,
            format!("`{what}` takes a list of strings: `{what} = [\"...\"]`"),
        )),
    }
}

/// `requires = ["cap ^1", ("cap ^1", ["provider-id", ...]), ...]`: a requirement, with
/// the plugins its author suggests as providers.
fn requirement_list(e: &Expr) -> syn::Result<Vec<(LitStr, Vec<LitStr>)>> {
    const HOW: &str = "`requires` takes a list of requirements: `requires = [\"name ^1\"]`, or \
                       with suggested providers `requires = [(\"name ^1\", [\"plugin-id\"])]`";
    let Expr::Array(ExprArray { elems, .. }) = e else {
        return Err(syn::Error::new_spanned(e, HOW));
    };
    elems
        .iter()
        .map(|x| match x {
            Expr::Tuple(t) if t.elems.len() == 2 => {
                Ok((lit_str(&t.elems[0], "requires")?, lit_list(&t.elems[1], "requires")?))
            }
            Expr::Paren(p) => Ok((lit_str(&p.expr, "requires")?, Vec::new())),
            Expr::Lit(_) => Ok((lit_str(x, "requires")?, Vec::new())),
            _ => Err(syn::Error::new_spanned(x, HOW)),
        })
        .collect()
}

fn parse_args(tokens: TokenStream) -> syn::Result<Args> {
    let parsed =
        syn::parse::Parser::parse2(Punctuated::<Arg, Token![,]>::parse_terminated, tokens.clone())?;
    let mut errors: Option<syn::Error> = None;
    let mut push = |e: syn::Error| match &mut errors {
        Some(all) => all.combine(e),
        None => errors = Some(e),
    };
    let (mut id, mut slot, mut version, mut description) = (None, None, None, None);
    let (mut provides, mut requires, mut declares) = (Vec::new(), Vec::new(), Vec::new());
    let mut uses = Vec::new();
    for arg in parsed {
        let key = arg.key.to_string();
        let r: syn::Result<()> = (|| {
            match key.as_str() {
                "id" => {
                    let s = lit_str(&arg.value, "id")?;
                    let v = s.value();
                    if v.is_empty()
                        || !v.chars().all(|c| {
                            c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_'
                        })
                    {
                        return Err(syn::Error::new_spanned(
                            &s,
                            "plugin ids are lower-case kebab-case, e.g. `engine-interp`",
                        ));
                    }
                    id = Some(s);
                }
                "slot" => {
                    let Expr::Path(p) = &arg.value else {
                        return Err(syn::Error::new_spanned(
                            &arg.value,
                            "`slot` takes a slot name: engine, gc, simd, virt, host, observer or extra",
                        ));
                    };
                    let ident = p.path.get_ident().cloned().ok_or_else(|| {
                        syn::Error::new_spanned(&arg.value, "`slot` takes a slot name")
                    })?;
                    let name = ident.to_string();
                    if !SLOTS.iter().any(|(s, _, _)| *s == name) {
                        return Err(syn::Error::new_spanned(
                            &ident,
                            format!(
                                "unknown slot `{name}`: expected one of engine, gc, simd, virt, host, observer, extra"
                            ),
                        ));
                    }
                    slot = Some((name, ident));
                }
                "version" => {
                    let s = lit_str(&arg.value, "version")?;
                    semver::Version::parse(&s.value())
                        .map_err(|e| syn::Error::new_spanned(&s, format!("bad version: {e}")))?;
                    version = Some(s);
                }
                "description" => description = Some(lit_str(&arg.value, "description")?),
                "provides" => provides = lit_list(&arg.value, "provides")?,
                "requires" => requires = requirement_list(&arg.value)?,
                "uses" => uses = requirement_list(&arg.value)?,
                "declares" => match &arg.value {
                    Expr::Array(ExprArray { elems, .. }) => {
                        declares = elems.iter().cloned().collect();
                    }
                    other => {
                        return Err(syn::Error::new_spanned(
                            other,
                            "`declares` takes a list of `CapabilityDef` constants: `declares = [MY_CAP]`",
                        ));
                    }
                },
                "crate" => {
                    if !matches!(&arg.value, Expr::Path(_)) {
                        return Err(syn::Error::new_spanned(&arg.value, "`crate` takes a path"));
                    }
                }
                _ => {
                    return Err(syn::Error::new_spanned(
                        &arg.key,
                        format!("unknown key `{key}`; expected one of {KEYS}"),
                    ));
                }
            }
            Ok(())
        })();
        if let Err(e) = r {
            push(e);
        }
    }
    if id.is_none() {
        push(syn::Error::new(Span::call_site(), "missing `id = \"...\"` in #[plugin(...)]"));
    }
    if slot.is_none() {
        push(syn::Error::new(
            Span::call_site(),
            "missing `slot = ...` in #[plugin(...)] (engine, gc, simd, virt, host, observer or extra)",
        ));
    }
    if let Some(e) = errors {
        return Err(e);
    }
    Ok(Args {
        id: id.expect("checked above"),
        slot: slot.expect("checked above"),
        version,
        description,
        provides,
        requires,
        uses,
        declares,
    })
}

fn first_doc_line(attrs: &[syn::Attribute]) -> Option<String> {
    crate::attrs::doc_lines(attrs).into_iter().find(|l| !l.is_empty())
}

/// Expands `#[plugin(...)]` on a struct, enum or union.
pub fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let krate_override = extract_crate(&args);
    let krate = vm_core_path(krate_override.as_ref());
    let input: syn::DeriveInput = match syn::parse2(item.clone()) {
        Ok(i) => i,
        Err(_) => {
            let e = syn::Error::new_spanned(
                &item,
                "#[plugin] goes on a struct or enum (the plugin type)",
            );
            return with_error(item, e);
        }
    };
    if !input.generics.params.is_empty() {
        let e = syn::Error::new_spanned(
            &input.generics,
            "a plugin type cannot be generic: the registry holds non-generic `'static` entries; \
             monomorphize inside its methods instead",
        );
        return fallback(&krate, &input, item, e);
    }
    let args = match parse_args(args) {
        Ok(a) => a,
        Err(e) => return fallback(&krate, &input, item, e),
    };
    match expand_valid(&krate, &input, &args) {
        Ok(extra) => quote!(#item #extra),
        Err(e) => fallback(&krate, &input, item, e),
    }
}

/// Finds `crate = path` in the raw arguments even when the rest does not parse, so the
/// fallback stub names the right crate.
fn extract_crate(args: &TokenStream) -> Option<syn::Path> {
    let parsed =
        syn::parse::Parser::parse2(Punctuated::<Arg, Token![,]>::parse_terminated, args.clone())
            .ok()?;
    parsed.into_iter().find(|a| a.key == "crate").and_then(|a| match a.value {
        Expr::Path(p) => Some(p.path),
        _ => None,
    })
}

fn expand_valid(
    krate: &TokenStream,
    input: &syn::DeriveInput,
    args: &Args,
) -> syn::Result<TokenStream> {
    let ty = &input.ident;
    let id = &args.id;
    let (slot_name, slot_ident) = &args.slot;
    let (_, variant, slot_trait) =
        SLOTS.iter().find(|(s, _, _)| s == slot_name).copied().unwrap_or(("extra", "Extra", ""));
    let variant = syn::Ident::new(variant, slot_ident.span());
    let version = match &args.version {
        Some(v) => v.value(),
        None => std::env::var("CARGO_PKG_VERSION").unwrap_or_else(|_| "0.0.0".to_owned()),
    };
    let v = semver::Version::parse(&version).map_err(|e| {
        syn::Error::new(Span::call_site(), format!("bad crate version `{version}`: {e}"))
    })?;
    let (ma, mi, pa) = (v.major, v.minor, v.patch);
    let description = match (&args.description, first_doc_line(&input.attrs)) {
        (Some(d), _) => d.value(),
        (None, Some(d)) => d,
        (None, None) => {
            return Err(syn::Error::new_spanned(
                ty,
                "a plugin needs a one-line description: add a `///` doc comment to the type or `description = \"...\"`",
            ));
        }
    };
    let mut errors: Option<syn::Error> = None;
    let mut provides = Vec::new();
    for p in &args.provides {
        match semver_tokens::capability(krate, p) {
            Ok(t) => provides.push(t),
            Err(e) => match &mut errors {
                Some(all) => all.combine(e),
                None => errors = Some(e),
            },
        }
    }
    let mut requires = Vec::new();
    let all = args.requires.iter().map(|r| (r, true)).chain(args.uses.iter().map(|r| (r, false)));
    for ((r, suggest), ordered) in all {
        match semver_tokens::requirement(krate, r, suggest, ordered) {
            Ok(t) => requires.push(t),
            Err(e) => match &mut errors {
                Some(all) => all.combine(e),
                None => errors = Some(e),
            },
        }
    }
    if let Some(e) = errors {
        return Err(e);
    }
    // The slot check: spanned on the slot name, so the error points at `slot = ...`.
    let slot_check = if slot_trait.is_empty() {
        quote!()
    } else {
        let tr = syn::Ident::new(slot_trait, slot_ident.span());
        quote_spanned! {slot_ident.span()=>
            const _: () = {
                const fn __vm_plugin_in_slot<T: #krate::slot::#tr>() {}
                __vm_plugin_in_slot::<#ty>();
            };
        }
    };
    let host = if slot_name == "host" {
        quote!(<#ty as #krate::slot::HostModule>::MODULES)
    } else {
        quote!(&[])
    };
    let declares = &args.declares;
    let linkme = quote!(#krate::__private::linkme);
    let registry_static = syn::Ident::new(
        &format!("__VM_PLUGIN_REGISTRATION_{}", ty.to_string().to_uppercase()),
        ty.span(),
    );
    Ok(quote! {
        impl #krate::plugin::Described for #ty {
            const META: #krate::plugin::PluginMeta = #krate::plugin::PluginMeta {
                id: #id,
                slot: #krate::plugin::Slot::#variant,
                version: #krate::plugin::Version::new(#ma, #mi, #pa),
                description: #description,
                provides: &[#(#provides),*],
                requires: &[#(#requires),*],
                declares: &[#(#declares),*],
                config: <<#ty as #krate::Plugin>::Config as #krate::PluginConfig>::SCHEMA,
            };
        }

        #[#linkme::distributed_slice(#krate::registry::VM_PLUGIN_REGISTRY)]
        #[linkme(crate = #linkme)]
        #[doc(hidden)]
        static #registry_static: #krate::registry::Registration = #krate::registry::Registration {
            meta: &<#ty as #krate::plugin::Described>::META,
            host: #host,
            type_path: ::core::concat!(::core::module_path!(), "::", ::core::stringify!(#ty)),
        };

        // Every capability named is in the vocabulary or declared by this plugin.
        const _: () = #krate::check::check_vocabulary(&<#ty as #krate::plugin::Described>::META);

        #slot_check
    })
}

/// The item unchanged, a `Described` stub so uses of the type do not cascade, and the
/// error.
fn fallback(
    krate: &TokenStream,
    input: &syn::DeriveInput,
    item: TokenStream,
    e: syn::Error,
) -> TokenStream {
    let ty = &input.ident;
    let (impl_g, ty_g, where_c) = input.generics.split_for_impl();
    let err = e.to_compile_error();
    quote! {
        #item
        impl #impl_g #krate::plugin::Described for #ty #ty_g #where_c {
            const META: #krate::plugin::PluginMeta = #krate::plugin::PluginMeta {
                id: "(invalid plugin)",
                slot: #krate::plugin::Slot::Extra,
                version: #krate::plugin::Version::new(0, 0, 0),
                description: "",
                provides: &[],
                requires: &[],
                declares: &[],
                config: &[],
            };
        }
        #err
    }
}

fn with_error(item: TokenStream, e: syn::Error) -> TokenStream {
    let err = e.to_compile_error();
    quote!(#item #err)
}
