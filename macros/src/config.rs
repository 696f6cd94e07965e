//! `#[derive(PluginConfig)]`: schema, `Default` and range checks from one struct.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Data, DeriveInput, Expr, ExprLit, Fields, Lit, LitStr};

use crate::krate::vm_core_path;

#[derive(Default)]
struct FieldCfg {
    default: Option<Expr>,
    default_text: Option<LitStr>,
    range: Option<LitStr>,
}

struct StructCfg {
    krate: Option<syn::Path>,
    validate: Option<syn::Path>,
}

fn parse_struct_attrs(attrs: &[syn::Attribute]) -> syn::Result<StructCfg> {
    let mut cfg = StructCfg { krate: None, validate: None };
    for a in attrs.iter().filter(|a| a.path().is_ident("config")) {
        a.parse_nested_meta(|m| {
            if m.path.is_ident("crate") {
                cfg.krate = Some(m.value()?.parse()?);
            } else if m.path.is_ident("validate") {
                cfg.validate = Some(m.value()?.parse()?);
            } else {
                return Err(
                    m.error("unknown key: expected `crate = path` or `validate = path::to_fn`")
                );
            }
            Ok(())
        })?;
    }
    Ok(cfg)
}

fn parse_field_attrs(attrs: &[syn::Attribute]) -> syn::Result<FieldCfg> {
    let mut cfg = FieldCfg::default();
    for a in attrs.iter().filter(|a| a.path().is_ident("config")) {
        a.parse_nested_meta(|m| {
            if m.path.is_ident("default") {
                cfg.default = Some(m.value()?.parse()?);
            } else if m.path.is_ident("default_text") {
                cfg.default_text = Some(m.value()?.parse()?);
            } else if m.path.is_ident("range") {
                cfg.range = Some(m.value()?.parse()?);
            } else {
                return Err(m.error("unknown key: expected `default = expr`, `default_text = \"...\"` or `range = \"lo..=hi\"`"));
            }
            Ok(())
        })?;
    }
    Ok(cfg)
}

fn doc(attrs: &[syn::Attribute]) -> String {
    crate::attrs::doc_lines(attrs).join(" ").trim().to_owned()
}

enum Kind {
    Bool,
    Int,
    Float,
    Str,
}

fn kind(ty: &syn::Type) -> Kind {
    let syn::Type::Path(p) = ty else { return Kind::Str };
    let Some(last) = p.path.segments.last() else { return Kind::Str };
    match last.ident.to_string().as_str() {
        "bool" => Kind::Bool,
        "u8" | "u16" | "u32" | "u64" | "u128" | "usize" | "i8" | "i16" | "i32" | "i64" | "i128"
        | "isize" => Kind::Int,
        "f32" | "f64" => Kind::Float,
        _ => Kind::Str,
    }
}

/// Parses `"lo..hi"`, `"lo..=hi"`, `"lo.."`, `"..=hi"` into bounds (as written).
/// A range's bounds as written: the lower bound, and the upper bound with whether it
/// is inclusive.
type Bounds = (Option<String>, Option<(String, bool)>);

fn parse_range(lit: &LitStr) -> syn::Result<Bounds> {
    let text = lit.value();
    let bad = || {
        syn::Error::new_spanned(
            lit,
            "bad range: write `lo..hi`, `lo..=hi`, `lo..` or `..=hi` with number bounds",
        )
    };
    let (lo, rest) = text.split_once("..").ok_or_else(bad)?;
    let (inclusive, hi) = match rest.strip_prefix('=') {
        Some(h) => (true, h),
        None => (false, rest),
    };
    let num = |s: &str| -> syn::Result<Option<String>> {
        let s = s.trim().replace('_', "");
        if s.is_empty() {
            return Ok(None);
        }
        s.parse::<f64>().map_err(|_| bad())?;
        Ok(Some(s))
    };
    let lo = num(lo)?;
    let hi = num(hi)?.map(|h| (h, inclusive));
    if lo.is_none() && hi.is_none() {
        return Err(bad());
    }
    Ok((lo, hi))
}

/// Expands the derive.
pub fn expand(input: TokenStream) -> TokenStream {
    let input: DeriveInput = match syn::parse2(input) {
        Ok(i) => i,
        Err(e) => return e.to_compile_error(),
    };
    match expand_valid(&input) {
        Ok(t) => t,
        Err(e) => {
            // Fallback: keep `Default` and the trait implemented so uses do not cascade.
            let krate = vm_core_path(None);
            let name = &input.ident;
            let err = e.to_compile_error();
            quote! {
                impl ::core::default::Default for #name {
                    fn default() -> Self { ::core::unimplemented!() }
                }
                impl #krate::PluginConfig for #name {
                    const SCHEMA: &'static [#krate::plugin::ConfigKey] = &[];
                }
                #err
            }
        }
    }
}

fn expand_valid(input: &DeriveInput) -> syn::Result<TokenStream> {
    let scfg = parse_struct_attrs(&input.attrs)?;
    let krate = vm_core_path(scfg.krate.as_ref());
    let name = &input.ident;
    if !input.generics.params.is_empty() {
        return Err(syn::Error::new_spanned(&input.generics, "a plugin config cannot be generic"));
    }
    let Data::Struct(data) = &input.data else {
        return Err(syn::Error::new_spanned(
            name,
            "#[derive(PluginConfig)] goes on a struct with named fields",
        ));
    };
    let Fields::Named(fields) = &data.fields else {
        return Err(syn::Error::new_spanned(name, "#[derive(PluginConfig)] needs named fields"));
    };
    let mut keys = Vec::new();
    let mut defaults = Vec::new();
    let mut checks = Vec::new();
    let mut errors: Option<syn::Error> = None;
    for f in &fields.named {
        let ident = f.ident.as_ref().expect("named fields");
        let key = ident.to_string();
        let fcfg = match parse_field_attrs(&f.attrs) {
            Ok(c) => c,
            Err(e) => {
                match &mut errors {
                    Some(all) => all.combine(e),
                    None => errors = Some(e),
                }
                continue;
            }
        };
        let doc = doc(&f.attrs);
        let k = kind(&f.ty);
        let ty_tokens = match k {
            Kind::Bool => quote!(Bool),
            Kind::Int => quote!(Int),
            Kind::Float => quote!(Float),
            Kind::Str => quote!(String),
        };
        let default_text = match (&fcfg.default_text, &fcfg.default) {
            (Some(t), _) => t.value(),
            (None, Some(Expr::Lit(ExprLit { lit: Lit::Str(s), .. }))) => s.value(),
            (None, Some(e)) => quote!(#e).to_string().replace(' ', ""),
            (None, None) => match k {
                Kind::Bool => "false".to_owned(),
                Kind::Int => "0".to_owned(),
                Kind::Float => "0.0".to_owned(),
                Kind::Str => String::new(),
            },
        };
        let range_text = fcfg.range.as_ref().map(LitStr::value).unwrap_or_default();
        keys.push(quote! {
            #krate::plugin::ConfigKey {
                name: #key,
                ty: #krate::plugin::ConfigType::#ty_tokens,
                default: #default_text,
                range: #range_text,
                doc: #doc,
            }
        });
        defaults.push(match &fcfg.default {
            Some(Expr::Lit(ExprLit { lit: Lit::Str(s), .. })) if matches!(k, Kind::Str) => {
                quote!(#ident: ::core::convert::From::from(#s))
            }
            Some(e) => quote!(#ident: #e),
            None => quote!(#ident: ::core::default::Default::default()),
        });
        if let Some(r) = &fcfg.range {
            let (lo, hi) = match parse_range(r) {
                Ok(b) => b,
                Err(e) => {
                    match &mut errors {
                        Some(all) => all.combine(e),
                        None => errors = Some(e),
                    }
                    continue;
                }
            };
            let (cast, parse) = match k {
                Kind::Float => (quote!(f64), true),
                Kind::Int => (quote!(i128), false),
                _ => {
                    let e = syn::Error::new_spanned(r, "`range` applies to integer and float keys");
                    match &mut errors {
                        Some(all) => all.combine(e),
                        None => errors = Some(e),
                    }
                    continue;
                }
            };
            let lit = |s: &str| -> TokenStream {
                if parse {
                    let v: f64 = s.parse().unwrap_or(0.0);
                    quote!(#v)
                } else {
                    let v: i128 = s.parse().unwrap_or(0);
                    quote!(#v)
                }
            };
            let lo_check = lo.as_deref().map(|l| {
                let l = lit(l);
                quote!(v < #l)
            });
            let hi_check = hi.as_ref().map(|(h, incl)| {
                let h = lit(h);
                if *incl { quote!(v > #h) } else { quote!(v >= #h) }
            });
            let cond = match (lo_check, hi_check) {
                (Some(a), Some(b)) => quote!(#a || #b),
                (Some(a), None) => a,
                (None, Some(b)) => b,
                (None, None) => quote!(false),
            };
            checks.push(quote! {
                {
                    let v = self.#ident as #cast;
                    if #cond {
                        return ::core::result::Result::Err((
                            #key,
                            ::std::format!("{} is out of range {}", self.#ident, #range_text),
                        ));
                    }
                }
            });
        }
    }
    if let Some(e) = errors {
        return Err(e);
    }
    let user_validate = scfg.validate.map(|p| quote!(#p(self)?;));
    Ok(quote! {
        impl ::core::default::Default for #name {
            fn default() -> Self {
                Self { #(#defaults),* }
            }
        }
        impl #krate::PluginConfig for #name {
            const SCHEMA: &'static [#krate::plugin::ConfigKey] = &[#(#keys),*];
            #[allow(clippy::manual_range_contains, unused_comparisons)]
            fn validate(&self) -> ::core::result::Result<(), (&'static str, ::std::string::String)> {
                #(#checks)*
                #user_validate
                ::core::result::Result::Ok(())
            }
        }
    })
}
