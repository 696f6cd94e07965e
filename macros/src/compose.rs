//! `compose!`: one type per singleton slot, lists for the others, and the `const`
//! checks of the composed set.
//!
//! ```text
//! compose! {
//!     /// The VM this binary runs.
//!     pub struct MyVm {
//!         engine: { #[cfg(feature = "engine-interp")] vm_engine_interp::Interp },
//!         virt: vm_virt_host::HostVirt,
//!         hosts: [#[cfg(feature = "host-wasi")] vm_host_wasi::Wasi],
//!         observers: [],
//!         extra: [],
//!     }
//! }
//! ```

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{format_ident, quote};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Attribute, Ident, Token, Type, Visibility, braced, bracketed};

use crate::krate::vm_core_path;

const SINGLETONS: &[(&str, &str, &str)] = &[
    ("engine", "Engine", "Engine"),
    ("virt", "Virt", "Virt"),
    ("gc", "Gc", "Collector"),
    ("simd", "Simd", "Simd"),
];
const LISTS: &[(&str, &str)] = &[("hosts", "HostModule"), ("observers", "Observer"), ("extra", "")];

/// A type with the `#[cfg]`s that select it.
struct Alt {
    cfgs: Vec<TokenStream>,
    ty: Type,
}

impl Parse for Alt {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let attrs = input.call(Attribute::parse_outer)?;
        let mut cfgs = Vec::new();
        for a in attrs {
            if !a.path().is_ident("cfg") {
                return Err(syn::Error::new_spanned(
                    a,
                    "only `#[cfg(...)]` may select a plugin in `compose!`",
                ));
            }
            cfgs.push(a.parse_args::<TokenStream>()?);
        }
        Ok(Alt { cfgs, ty: input.parse()? })
    }
}

impl Alt {
    /// The `cfg` predicate selecting this alternative (`all()` when unconditional).
    fn pred(&self) -> TokenStream {
        let c = &self.cfgs;
        quote!(all(#(#c),*))
    }

    /// How the alternative reads in a message: its type and the features it needs.
    fn describe(&self) -> String {
        let ty = &self.ty;
        let ty = quote!(#ty).to_string().replace(' ', "");
        let mut feats = Vec::new();
        for c in &self.cfgs {
            collect_features(c.clone(), &mut feats);
        }
        if feats.is_empty() {
            format!("`{ty}`")
        } else {
            format!(
                "`{ty}` (feature {})",
                feats.iter().map(|f| format!("`{f}`")).collect::<Vec<_>>().join(", ")
            )
        }
    }
}

fn collect_features(ts: TokenStream, out: &mut Vec<String>) {
    let toks: Vec<TokenTree> = ts.into_iter().collect();
    for (i, t) in toks.iter().enumerate() {
        match t {
            TokenTree::Ident(id) if id == "feature" => {
                if let (Some(TokenTree::Punct(p)), Some(TokenTree::Literal(l))) =
                    (toks.get(i + 1), toks.get(i + 2))
                    && p.as_char() == '='
                {
                    out.push(l.to_string().trim_matches('"').to_owned());
                }
            }
            TokenTree::Group(g) => collect_features(g.stream(), out),
            _ => {}
        }
    }
}

enum Value {
    One(Vec<Alt>),
    List(Vec<Alt>),
}

struct Entry {
    name: Ident,
    value: Value,
}

impl Parse for Entry {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let name: Ident = input.parse()?;
        input.parse::<Token![:]>()?;
        let value = if input.peek(syn::token::Brace) {
            let content;
            braced!(content in input);
            Value::One(
                Punctuated::<Alt, Token![,]>::parse_terminated(&content)?.into_iter().collect(),
            )
        } else if input.peek(syn::token::Bracket) {
            let content;
            bracketed!(content in input);
            Value::List(
                Punctuated::<Alt, Token![,]>::parse_terminated(&content)?.into_iter().collect(),
            )
        } else {
            Value::One(vec![input.parse()?])
        };
        Ok(Entry { name, value })
    }
}

struct Input {
    attrs: Vec<Attribute>,
    krate: Option<syn::Path>,
    vis: Visibility,
    name: Ident,
    entries: Vec<Entry>,
}

impl Parse for Input {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut attrs = input.call(Attribute::parse_outer)?;
        let mut krate = None;
        let mut kept = Vec::new();
        for a in attrs.drain(..) {
            if a.path().is_ident("vm") {
                a.parse_nested_meta(|m| {
                    if m.path.is_ident("crate") {
                        krate = Some(m.value()?.parse()?);
                        Ok(())
                    } else {
                        Err(m.error("expected `#[vm(crate = path)]`"))
                    }
                })?;
            } else {
                kept.push(a);
            }
        }
        let vis = input.parse()?;
        input.parse::<Token![struct]>()?;
        let name = input.parse()?;
        let content;
        braced!(content in input);
        let entries =
            Punctuated::<Entry, Token![,]>::parse_terminated(&content)?.into_iter().collect();
        Ok(Input { attrs: kept, krate, vis, name, entries })
    }
}

/// Expands `compose!`.
pub fn expand(input: TokenStream) -> TokenStream {
    let input: Input = match syn::parse2(input) {
        Ok(i) => i,
        Err(e) => return e.to_compile_error(),
    };
    match expand_valid(&input) {
        Ok(t) => t,
        Err(e) => {
            let err = e.to_compile_error();
            let vis = &input.vis;
            let name = &input.name;
            quote!(#vis struct #name; #err)
        }
    }
}

struct Singleton<'a> {
    slot: &'static str,
    assoc: Ident,
    tr: Ident,
    alts: &'a [Alt],
    alias: Ident,
}

fn expand_valid(input: &Input) -> syn::Result<TokenStream> {
    let krate = vm_core_path(input.krate.as_ref());
    let name = &input.name;
    let vis = &input.vis;
    let attrs = &input.attrs;

    let mut singles: Vec<Singleton<'_>> = Vec::new();
    let mut lists: Vec<(&'static str, &'static str, &[Alt])> = Vec::new();
    let mut errors: Option<syn::Error> = None;
    let mut push = |e: syn::Error| match &mut errors {
        Some(all) => all.combine(e),
        None => errors = Some(e),
    };
    for e in &input.entries {
        let key = e.name.to_string();
        if singles.iter().any(|s| s.slot == key) || lists.iter().any(|l| l.0 == key) {
            push(syn::Error::new_spanned(&e.name, format!("`{key}` is given twice")));
            continue;
        }
        if let Some((slot, assoc, tr)) = SINGLETONS.iter().find(|(s, _, _)| *s == key) {
            let alts = match &e.value {
                Value::One(a) => a.as_slice(),
                Value::List(_) => {
                    push(syn::Error::new_spanned(
                        &e.name,
                        format!(
                            "`{key}` holds exactly one plugin: write `{key}: Type` or `{key}: {{ #[cfg(feature = \"...\")] Type, ... }}`"
                        ),
                    ));
                    continue;
                }
            };
            singles.push(Singleton {
                slot,
                assoc: Ident::new(assoc, Span::call_site()),
                tr: Ident::new(tr, Span::call_site()),
                alts,
                alias: format_ident!("__{}_{}", name, assoc),
            });
        } else if let Some((list, tr)) = LISTS.iter().find(|(l, _)| *l == key) {
            match &e.value {
                Value::List(a) => lists.push((list, tr, a.as_slice())),
                Value::One(_) => push(syn::Error::new_spanned(
                    &e.name,
                    format!("`{key}` is a list: write `{key}: [A, #[cfg(feature = \"...\")] B]`"),
                )),
            }
        } else {
            push(syn::Error::new_spanned(
                &e.name,
                format!(
                    "unknown slot `{key}`: expected engine, virt, gc, simd, hosts, observers or extra"
                ),
            ));
        }
    }
    for required in ["engine", "virt"] {
        if !singles.iter().any(|s| s.slot == required) {
            push(syn::Error::new_spanned(
                name,
                format!("`compose!` needs an `{required}: ...` slot"),
            ));
        }
    }
    if let Some(e) = errors {
        return Err(e);
    }

    // Exactly-one rules per singleton slot, as cfg predicates and compile errors.
    let mut slot_errors = Vec::new();
    let mut ok_preds = Vec::new();
    for s in &singles {
        let preds: Vec<TokenStream> = s.alts.iter().map(Alt::pred).collect();
        let features: Vec<String> = s.alts.iter().map(Alt::describe).collect();
        let all_list = features.join(", ");
        let empty_msg = format!(
            "the `{}` slot of `{}` is empty: enable exactly one of {}; build with `--no-default-features` and pick one plugin per slot",
            s.slot,
            name,
            if all_list.is_empty() { "(no alternatives listed)".to_owned() } else { all_list }
        );
        slot_errors.push(quote! {
            #[cfg(not(any(#(#preds),*)))]
            ::core::compile_error!(#empty_msg);
        });
        for i in 0..s.alts.len() {
            for j in (i + 1)..s.alts.len() {
                let (pi, pj) = (&preds[i], &preds[j]);
                let msg = format!(
                    "two plugins fill the `{}` slot of `{}`: {} and {}; one binary holds one composition: build with `--no-default-features` and enable one plugin per slot",
                    s.slot, name, features[i], features[j]
                );
                slot_errors.push(quote! {
                    #[cfg(all(#pi, #pj))]
                    ::core::compile_error!(#msg);
                });
            }
        }
        let exactly_one = (0..preds.len()).map(|i| {
            let me = &preds[i];
            let others = preds.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, p)| p);
            quote!(all(#me, #(not(#others)),*))
        });
        ok_preds.push(quote!(any(#(#exactly_one),*)));
    }
    let ok = quote!(all(#(#ok_preds),*));

    // Type aliases for the chosen singleton types.
    let mut aliases = Vec::new();
    for s in &singles {
        let alias = &s.alias;
        for a in s.alts {
            let p = a.pred();
            let ty = &a.ty;
            aliases.push(quote! {
                #[cfg(all(#ok, #p))]
                #[doc(hidden)]
                #[allow(non_camel_case_types)]
                type #alias = #ty;
            });
        }
    }
    let assoc_types = SINGLETONS.iter().map(|(slot, assoc, _)| {
        let assoc = Ident::new(assoc, Span::call_site());
        match singles.iter().find(|s| s.slot == *slot) {
            Some(s) => {
                let alias = &s.alias;
                quote!(type #assoc = #alias;)
            }
            None if *slot == "gc" => quote!(type #assoc = #krate::slot::NoCollector;),
            None => quote!(type #assoc = #krate::slot::NoSimd;),
        }
    });

    let gc_accessor = if singles.iter().any(|s| s.slot == "gc") {
        quote!(
            fn gc(&self) -> &Self::Gc {
                &self.gc
            }
        )
    } else {
        quote!(fn gc(&self) -> &Self::Gc { &#krate::slot::NoCollector })
    };

    // Struct fields, metas, builders, hook lists.
    let mut fields = Vec::new();
    let mut metas = Vec::new();
    let mut builds = Vec::new();
    let mut dyn_mut = Vec::new();
    let mut dyn_ref = Vec::new();
    let mut sections = Vec::new();
    let mut bounds = Vec::new();
    let mut host_modules = Vec::new();
    let mut emits = Vec::new();
    let mut masks = Vec::new();
    let mut toggles = Vec::new();
    let mut holds = Vec::new();
    let mut held: Vec<(String, TokenStream)> = Vec::new();
    let mut host_plugins = Vec::new();
    for s in &singles {
        let f = Ident::new(s.slot, Span::call_site());
        let assoc = &s.assoc;
        let section = s.slot;
        fields.push(quote!(#f: <Self as #krate::Composition>::#assoc));
        metas.push(
            quote!(&<<Self as #krate::Composition>::#assoc as #krate::plugin::Described>::META),
        );
        builds.push(quote! {
            #f: <<Self as #krate::Composition>::#assoc as #krate::Plugin>::new(
                settings.typed::<<Self as #krate::Composition>::#assoc>(#section)?,
            )?
        });
        dyn_mut.push(quote!(v.push(&mut self.#f);));
        dyn_ref.push(quote!(v.push(&self.#f);));
        sections.push(quote!(#section));
        let tr = &s.tr;
        let _ = tr;
        let alias = &s.alias;
        holds.push(quote! {
            #[cfg(#ok)]
            impl #krate::compose::Holds<#alias> for #name {
                fn get(&self) -> &#alias { &self.#f }
                fn get_mut(&mut self) -> &mut #alias { &mut self.#f }
            }
        });
    }
    for (list, tr, alts) in &lists {
        for (k, a) in alts.iter().enumerate() {
            let f = format_ident!("__{}_{}", list, k);
            let p = a.pred();
            let ty = &a.ty;
            fields.push(quote!(#[cfg(#p)] #f: #ty));
            metas.push(quote!(#[cfg(#p)] &<#ty as #krate::plugin::Described>::META));
            builds.push(quote! {
                #[cfg(#p)]
                #f: <#ty as #krate::Plugin>::new(
                    settings.typed::<#ty>(<#ty as #krate::plugin::Described>::META.id)?,
                )?
            });
            dyn_mut.push(quote!(#[cfg(#p)] v.push(&mut self.#f);));
            dyn_ref.push(quote!(#[cfg(#p)] v.push(&self.#f);));
            sections.push(quote!(#[cfg(#p)] <#ty as #krate::plugin::Described>::META.id));
            // The same type listed twice (a duplicate id, reported by the `const`
            // check) gets one impl: the first active entry's.
            let key = quote!(#ty).to_string();
            let earlier: Vec<TokenStream> =
                held.iter().filter(|(k, _)| *k == key).map(|(_, p)| p.clone()).collect();
            held.push((key, p.clone()));
            holds.push(quote! {
                #[cfg(all(#ok, #p, #(not(#earlier)),*))]
                impl #krate::compose::Holds<#ty> for #name {
                    fn get(&self) -> &#ty { &self.#f }
                    fn get_mut(&mut self) -> &mut #ty { &mut self.#f }
                }
            });
            if !tr.is_empty() {
                let tr = Ident::new(tr, Span::call_site());
                bounds.push(quote! {
                    #[cfg(#p)]
                    const _: () = {
                        const fn __vm_in_list<T: #krate::slot::#tr>() {}
                        __vm_in_list::<#ty>();
                    };
                });
            }
            if *list == "hosts" {
                host_modules.push(quote!(#[cfg(#p)] <#ty as #krate::slot::HostModule>::MODULES));
                host_plugins.push(quote! {
                    #[cfg(#p)]
                    if <#ty as #krate::slot::HostModule>::MODULES.iter().any(|m| m.module == module) {
                        return ::core::option::Option::Some(&self.#f);
                    }
                });
            }
            if *list == "observers" {
                let on = format_ident!("__{}_{}_on", list, k);
                masks.push(quote!(#[cfg(#p)] <#ty as #krate::slot::Observer>::EVENTS.0));
                fields.push(quote!(#[cfg(#p)] #on: ::core::sync::atomic::AtomicBool));
                builds.push(quote!(#[cfg(#p)] #on: ::core::sync::atomic::AtomicBool::new(true)));
                emits.push(quote! {
                    #[cfg(#p)]
                    if <#ty as #krate::slot::Observer>::EVENTS.contains(event.kind())
                        && self.#on.load(::core::sync::atomic::Ordering::Relaxed)
                    {
                        #krate::slot::Observer::on_event(&self.#f, event);
                    }
                });
                toggles.push(quote! {
                    #[cfg(#p)]
                    if <#ty as #krate::plugin::Described>::META.id == id {
                        self.#on.store(on, ::core::sync::atomic::Ordering::Relaxed);
                        return true;
                    }
                });
            }
        }
    }

    let order_const = format_ident!("__{}_INIT_ORDER", name.to_string().to_uppercase());
    let count_const = format_ident!("__{}_PLUGIN_COUNT", name.to_string().to_uppercase());
    let doc = if attrs.iter().any(|a| a.path().is_ident("doc")) {
        quote!()
    } else {
        quote!(#[doc = "A VM composition generated by `compose!`."])
    };

    Ok(quote! {
        #(#slot_errors)*
        #(#aliases)*

        #doc
        #(#attrs)*
        #[cfg(#ok)]
        #vis struct #name {
            #(#fields,)*
        }

        #(#bounds)*
        #(#holds)*

        #[cfg(#ok)]
        #[doc(hidden)]
        const #count_const: usize = <#name as #krate::Composition>::PLUGINS.len();

        /// The init order, computed (and every composition rule checked) at compile time.
        #[cfg(#ok)]
        #[doc(hidden)]
        const #order_const: [usize; #count_const] =
            #krate::check::check::<#count_const>(<#name as #krate::Composition>::PLUGINS);

        #[cfg(#ok)]
        impl #krate::Composition for #name {
            #(#assoc_types)*

            const PLUGINS: &'static [&'static #krate::plugin::PluginMeta] = &[#(#metas),*];
            const INIT_ORDER: &'static [usize] = &#order_const;
            const HOST_MODULES: &'static [&'static [&'static #krate::runtime::HostModuleDef]] = &[#(#host_modules),*];
            const EVENTS: #krate::slot::EventMask = {
                let masks: &[u32] = &[#(#masks),*];
                let mut all = 0;
                let mut i = 0;
                while i < masks.len() {
                    all |= masks[i];
                    i += 1;
                }
                #krate::slot::EventMask(all)
            };

            fn build(settings: &#krate::config::Settings) -> ::core::result::Result<Self, #krate::ConfigError> {
                const SECTIONS: &[&str] = &[#(#sections),*];
                for given in settings.section_names() {
                    if !SECTIONS.contains(&given) {
                        return ::core::result::Result::Err(#krate::ConfigError::UnknownSection {
                            section: given.to_owned(),
                            valid: SECTIONS.iter().map(|s| ::std::format!("`{s}`")).collect::<::std::vec::Vec<_>>().join(", "),
                        });
                    }
                }
                ::core::result::Result::Ok(Self { #(#builds,)* })
            }

            fn engine(&self) -> &Self::Engine { &self.engine }
            fn engine_mut(&mut self) -> &mut Self::Engine { &mut self.engine }
            fn virt(&self) -> &Self::Virt { &self.virt }
            fn virt_mut(&mut self) -> &mut Self::Virt { &mut self.virt }
            #gc_accessor

            fn plugins_mut(&mut self) -> ::std::vec::Vec<&mut dyn #krate::compose::DynPlugin> {
                let mut v: ::std::vec::Vec<&mut dyn #krate::compose::DynPlugin> = ::std::vec::Vec::new();
                #(#dyn_mut)*
                v
            }

            fn plugins(&self) -> ::std::vec::Vec<&dyn #krate::compose::DynPlugin> {
                let mut v: ::std::vec::Vec<&dyn #krate::compose::DynPlugin> = ::std::vec::Vec::new();
                #(#dyn_ref)*
                v
            }

            #[inline(always)]
            #[allow(unused_variables)]
            fn emit(&self, event: &#krate::slot::Event<'_>) {
                #(#emits)*
            }

            #[allow(unused_variables)]
            fn host_plugin(
                &self,
                module: &str,
            ) -> ::core::option::Option<&dyn ::core::any::Any> {
                #(#host_plugins)*
                ::core::option::Option::None
            }

            #[allow(unused_variables)]
            fn set_observer_enabled(&self, id: &str, on: bool) -> bool {
                #(#toggles)*
                false
            }
        }
    })
}
