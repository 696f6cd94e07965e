//! `#[host_fn]`: typed host functions with zero-copy views of guest memory.
//!
//! The attribute goes on a free function and keeps it as written (callable from Rust,
//! e.g. in tests); next to it, it emits a `const` named after the function in
//! `SCREAMING_CASE` holding the `HostFuncDef` (import name, wasm signature and a
//! generated `fn` wrapper with the `HostFn` ABI of `vm_core::runtime::host`):
//!
//! ```text
//! #[host_fn(fault = Errno::Fault)]
//! fn fd_write(
//!     ctx: &mut WasiCtx,            // state: `Caller::parts::<WasiCtx>()`
//!     fd: u32,                      // one wasm i32
//!     #[memory] mem: &[u8],         // the whole memory (no wasm parameter)
//!     iovs: u32,
//!     iovs_len: u32,
//!     #[out] nwritten: &mut u32,    // one wasm i32: a pointer the wrapper writes after the call
//! ) -> Result<(), Errno> { ... }    // one wasm i32: 0, or `i32::from(errno)`
//!
//! #[host_fn]
//! fn random_get(ctx: &mut WasiCtx, buf: &mut [u8]) -> Result<(), Errno> { ... }
//! //                               ^ two wasm i32s (ptr, len), bounds checked once
//!
//! static MODULE: HostModuleDef = HostModuleDef { functions: &[FD_WRITE, RANDOM_GET], .. };
//! ```
//!
//! Parameters, in wasm order:
//!
//! | Rust parameter | wasm parameters | what the function gets |
//! |---|---|---|
//! | `s: &mut S` (first only) | none | the host module's state (`Caller::parts::<S>`) |
//! | `i32`, `u32`, `i64`, `u64`, `f32`, `f64` | one of the same width | the value (bits reinterpreted for unsigned) |
//! | `&[u8]` | `ptr: i32, len: i32` | a shared view of `mem[ptr..ptr + len]` |
//! | `&mut [u8]` (at most one) | `ptr: i32, len: i32` | a mutable view; must not overlap another view |
//! | `#[out] x: &mut T` | `ptr: i32` | a zeroed `T`, stored little-endian at `ptr` after an `Ok` return; `T` is an integer, `f32`/`f64` or `[u8; N]` |
//! | `#[memory] m: &mut [u8]` / `&[u8]` | none | the whole linear memory (not with views) |
//!
//! Return types: `()`, a scalar above (one result), `Result<(), E>` (an errno: one i32
//! result, `0` on `Ok`, `i32::from(e)` on `Err`), or any of these wrapped in
//! `Result<_, Trap>` (an `Err` traps).
//!
//! Every view and out-pointer is checked against the memory before the function runs.
//! A failed check traps with `MemoryOutOfBounds`, or, with `fault = expr` (errno
//! returns only), returns that errno instead. Arguments: `name = "import_name"`
//! (default: the function's name), `fault = expr`, `crate = path` (to `vm-core`).
//!
//! Shape: parse → validate → expand, and on error a stub `const` with the same name
//! next to the spanned errors, so the user sees the error and not a cascade. The
//! diagnostics have trybuild cases in `plugins/host-wasi/tests/ui`; the expansion has
//! unit tests in `host_fn/tests.rs`.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use syn::{Expr, FnArg, GenericArgument, ItemFn, LitStr, PathArguments, ReturnType, Type};

use crate::krate::vm_core_path;

/// The parameter types the table in the module docs accepts.
const PARAM_TYPES: &str = "expected `i32`, `u32`, `i64`, `u64`, `f32`, `f64`, `&[u8]`, \
     `&mut [u8]`, `#[out] &mut T` or `#[memory] &mut [u8]` (and `&mut State` first)";

/// A wasm value type as the generated `ValType` list names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Wasm {
    I32,
    I64,
    F32,
    F64,
}

impl Wasm {
    fn ident(self) -> syn::Ident {
        let name = match self {
            Wasm::I32 => "I32",
            Wasm::I64 => "I64",
            Wasm::F32 => "F32",
            Wasm::F64 => "F64",
        };
        syn::Ident::new(name, Span::call_site())
    }
}

/// A Rust scalar that crosses the boundary as one wasm value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scalar {
    I32,
    U32,
    I64,
    U64,
    F32,
    F64,
}

impl Scalar {
    fn from_ident(name: &str) -> Option<Self> {
        Some(match name {
            "i32" => Scalar::I32,
            "u32" => Scalar::U32,
            "i64" => Scalar::I64,
            "u64" => Scalar::U64,
            "f32" => Scalar::F32,
            "f64" => Scalar::F64,
            _ => return None,
        })
    }

    fn wasm(self) -> Wasm {
        match self {
            Scalar::I32 | Scalar::U32 => Wasm::I32,
            Scalar::I64 | Scalar::U64 => Wasm::I64,
            Scalar::F32 => Wasm::F32,
            Scalar::F64 => Wasm::F64,
        }
    }

    /// `Val` → Rust value: an expression over the matched payload `v`.
    fn decode(self) -> TokenStream {
        match self {
            Scalar::I32 | Scalar::I64 => quote!(v),
            Scalar::U32 => quote!(v as u32),
            Scalar::U64 => quote!(v as u64),
            Scalar::F32 => quote!(f32::from_bits(v)),
            Scalar::F64 => quote!(f64::from_bits(v)),
        }
    }

    /// Rust value `r` → `Val`.
    fn encode(self, krate: &TokenStream, r: &TokenStream) -> TokenStream {
        match self {
            Scalar::I32 => quote!(#krate::runtime::Val::I32(#r)),
            Scalar::U32 => quote!(#krate::runtime::Val::I32(#r as i32)),
            Scalar::I64 => quote!(#krate::runtime::Val::I64(#r)),
            Scalar::U64 => quote!(#krate::runtime::Val::I64(#r as i64)),
            Scalar::F32 => quote!(#krate::runtime::Val::F32(f32::to_bits(#r))),
            Scalar::F64 => quote!(#krate::runtime::Val::F64(f64::to_bits(#r))),
        }
    }
}

/// What an `#[out]` parameter points at.
#[derive(Clone, Debug)]
enum OutTy {
    /// An integer or float, stored with `to_le_bytes`.
    Scalar(Type),
    /// `[u8; N]`, stored as is.
    Bytes(Expr),
}

/// How one Rust parameter is fed.
#[derive(Clone, Debug)]
enum Param {
    State(Type),
    Scalar(Scalar),
    View { mutable: bool },
    Memory { mutable: bool },
    Out(OutTy),
}

impl Param {
    fn wasm(&self) -> Vec<Wasm> {
        match self {
            Param::State(_) | Param::Memory { .. } => vec![],
            Param::Scalar(s) => vec![s.wasm()],
            Param::View { .. } => vec![Wasm::I32, Wasm::I32],
            Param::Out(_) => vec![Wasm::I32],
        }
    }
}

/// The innermost meaning of the return type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RetKind {
    Unit,
    Scalar(Scalar),
    Errno,
}

/// The return type: an optional `Result<_, Trap>` layer around a [`RetKind`].
#[derive(Clone, Copy, Debug)]
struct Ret {
    traps: bool,
    kind: RetKind,
}

impl Ret {
    fn wasm(self) -> Vec<Wasm> {
        match self.kind {
            RetKind::Unit => vec![],
            RetKind::Scalar(s) => vec![s.wasm()],
            RetKind::Errno => vec![Wasm::I32],
        }
    }
}

/// `#[host_fn(...)]` arguments.
#[derive(Default)]
struct Args {
    name: Option<LitStr>,
    fault: Option<Expr>,
    krate: Option<syn::Path>,
}

/// Spanned errors, combined.
#[derive(Default)]
struct Errors(Option<syn::Error>);

impl Errors {
    fn push(&mut self, e: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(e),
            None => self.0 = Some(e),
        }
    }

    fn spanned(&mut self, tokens: impl quote::ToTokens, msg: impl std::fmt::Display) {
        self.push(syn::Error::new_spanned(tokens, msg));
    }
}

/// Expands `#[host_fn]` on a function.
pub fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut func: ItemFn = match syn::parse2(item.clone()) {
        Ok(f) => f,
        Err(_) => {
            let e = syn::Error::new_spanned(
                &item,
                "#[host_fn] goes on a free function: `fn name(state: &mut S, ...) -> ...`",
            )
            .to_compile_error();
            return quote!(#e #item);
        }
    };
    let mut errors = Errors::default();
    let args = parse_args(args, &mut errors);
    let params = analyze_params(&func, &mut errors);
    let ret = analyze_ret(&func.sig.output, &mut errors);
    if let (Some(fault), Some(ret)) = (&args.fault, ret)
        && ret.kind != RetKind::Errno
    {
        errors.spanned(
            fault,
            "`fault = ...` gives the errno for a failed bounds check: the function must \
             return an errno, `Result<(), E>` (or `Result<Result<(), E>, Trap>`)",
        );
    }
    strip_param_attrs(&mut func);
    let krate = vm_core_path(args.krate.as_ref());
    let name = args.name.clone().unwrap_or_else(|| {
        LitStr::new(func.sig.ident.to_string().trim_start_matches("r#"), func.sig.ident.span())
    });
    match (errors.0, ret) {
        (None, Some(ret)) => expand_ok(&func, &params, ret, &args, &name, &krate),
        (Some(e), _) => fallback(&func, &name, &krate, e),
        (None, None) => {
            let e = syn::Error::new_spanned(&func.sig.output, "unsupported return type");
            fallback(&func, &name, &krate, e)
        }
    }
}

fn parse_args(tokens: TokenStream, errors: &mut Errors) -> Args {
    let mut args = Args::default();
    let parser = syn::meta::parser(|m| {
        if m.path.is_ident("name") {
            let s: LitStr = m.value()?.parse()?;
            if s.value().is_empty() {
                return Err(syn::Error::new_spanned(&s, "the import name must not be empty"));
            }
            args.name = Some(s);
        } else if m.path.is_ident("fault") {
            args.fault = Some(m.value()?.parse()?);
        } else if m.path.is_ident("crate") {
            args.krate = Some(m.value()?.parse()?);
        } else {
            return Err(m.error(
                "unknown argument: expected `name = \"import_name\"`, `fault = expr` or \
                 `crate = path`",
            ));
        }
        Ok(())
    });
    if let Err(e) = syn::parse::Parser::parse2(parser, tokens) {
        errors.push(e);
    }
    args
}

fn has_attr(attrs: &[syn::Attribute], name: &str) -> bool {
    attrs.iter().any(|a| a.path().is_ident(name))
}

fn strip_param_attrs(func: &mut ItemFn) {
    for input in &mut func.sig.inputs {
        if let FnArg::Typed(pt) = input {
            pt.attrs.retain(|a| !a.path().is_ident("out") && !a.path().is_ident("memory"));
        }
    }
}

/// `[u8]` inside a reference.
fn is_byte_slice(ty: &Type) -> bool {
    match ty {
        Type::Slice(s) => matches!(&*s.elem, Type::Path(p) if p.path.is_ident("u8")),
        Type::Paren(p) => is_byte_slice(&p.elem),
        _ => false,
    }
}

fn scalar_of(ty: &Type) -> Option<Scalar> {
    match ty {
        Type::Path(p) if p.qself.is_none() => {
            p.path.get_ident().and_then(|i| Scalar::from_ident(&i.to_string()))
        }
        Type::Paren(p) => scalar_of(&p.elem),
        _ => None,
    }
}

fn out_ty(ty: &Type) -> Option<OutTy> {
    match ty {
        Type::Path(p) if p.qself.is_none() => {
            let ident = p.path.get_ident()?.to_string();
            matches!(
                ident.as_str(),
                "u8" | "i8" | "u16" | "i16" | "u32" | "i32" | "u64" | "i64" | "f32" | "f64"
            )
            .then(|| OutTy::Scalar(ty.clone()))
        }
        Type::Array(a) => matches!(&*a.elem, Type::Path(p) if p.path.is_ident("u8"))
            .then(|| OutTy::Bytes(a.len.clone())),
        Type::Paren(p) => out_ty(&p.elem),
        _ => None,
    }
}

fn analyze_params(func: &ItemFn, errors: &mut Errors) -> Vec<Param> {
    let sig = &func.sig;
    if let Some(c) = &sig.constness {
        errors.spanned(c, "a host function cannot be `const`");
    }
    if let Some(a) = &sig.asyncness {
        errors.spanned(a, "a host function cannot be `async`: host calls are synchronous");
    }
    if let Some(u) = &sig.unsafety {
        errors.spanned(u, "a host function cannot be `unsafe`: the wrapper calls it safely");
    }
    if let Some(abi) = &sig.abi {
        errors.spanned(abi, "a host function uses the Rust ABI: remove `extern`");
    }
    if !sig.generics.params.is_empty() {
        let only_lifetimes =
            sig.generics.params.iter().all(|p| matches!(p, syn::GenericParam::Lifetime(_)));
        if !only_lifetimes {
            errors.spanned(
                &sig.generics.params,
                "a host function cannot be generic: the wrapper is a plain `fn` pointer",
            );
        }
    }
    if let Some(v) = &sig.variadic {
        errors.spanned(v, "a host function cannot be variadic");
    }

    let mut params = Vec::new();
    let mut memory_param: Option<&syn::PatType> = None;
    let mut first_view: Option<&syn::PatType> = None;
    let mut mut_view: Option<&syn::PatType> = None;
    for (i, input) in sig.inputs.iter().enumerate() {
        let pt = match input {
            FnArg::Receiver(r) => {
                errors.spanned(r, "a host function is a free function: it cannot take `self`");
                continue;
            }
            FnArg::Typed(pt) => pt,
        };
        let is_out = has_attr(&pt.attrs, "out");
        let is_memory = has_attr(&pt.attrs, "memory");
        if is_out && is_memory {
            errors.spanned(pt, "a parameter is either `#[out]` or `#[memory]`, not both");
            continue;
        }
        let ty = &*pt.ty;
        let param = match ty {
            Type::Reference(r) if is_out => {
                if r.mutability.is_none() {
                    errors.spanned(ty, "an `#[out]` parameter is `&mut T`");
                    continue;
                }
                match out_ty(&r.elem) {
                    Some(o) => Param::Out(o),
                    None => {
                        errors.spanned(
                            &r.elem,
                            "an `#[out]` parameter points at an integer, `f32`, `f64` or \
                             `[u8; N]`",
                        );
                        continue;
                    }
                }
            }
            _ if is_out => {
                errors.spanned(ty, "an `#[out]` parameter is `&mut T`");
                continue;
            }
            Type::Reference(r) if is_memory => {
                if !is_byte_slice(&r.elem) {
                    errors.spanned(ty, "a `#[memory]` parameter is `&mut [u8]` or `&[u8]`");
                    continue;
                }
                if let Some(prev) = memory_param {
                    errors.spanned(
                        pt,
                        format!("only one `#[memory]` parameter (the first is `{}`)", {
                            let pat = &prev.pat;
                            quote!(#pat)
                        }),
                    );
                    continue;
                }
                memory_param = Some(pt);
                Param::Memory { mutable: r.mutability.is_some() }
            }
            _ if is_memory => {
                errors.spanned(ty, "a `#[memory]` parameter is `&mut [u8]` or `&[u8]`");
                continue;
            }
            Type::Reference(r) if is_byte_slice(&r.elem) => {
                let mutable = r.mutability.is_some();
                if first_view.is_none() {
                    first_view = Some(pt);
                }
                if mutable {
                    if mut_view.is_some() {
                        errors.spanned(
                            pt,
                            "at most one `&mut [u8]` view per host function; take \
                             `#[memory] mem: &mut [u8]` and slice it yourself",
                        );
                        continue;
                    }
                    mut_view = Some(pt);
                }
                Param::View { mutable }
            }
            Type::Reference(r) if r.mutability.is_some() => {
                if i != 0 {
                    errors.spanned(
                        ty,
                        format!(
                            "the host state `&mut S` must be the first parameter; {PARAM_TYPES}"
                        ),
                    );
                    continue;
                }
                Param::State((*r.elem).clone())
            }
            _ => match scalar_of(ty) {
                Some(s) => Param::Scalar(s),
                None => {
                    errors
                        .spanned(ty, format!("unsupported host function parameter: {PARAM_TYPES}"));
                    continue;
                }
            },
        };
        params.push(param);
    }
    if let (Some(mem), Some(view)) = (memory_param, first_view) {
        errors.spanned(
            view,
            format!(
                "a `#[memory]` parameter (`{}`) cannot be combined with `(ptr, len)` views: \
                 take the pointer and length as `u32` and slice the memory yourself",
                {
                    let pat = &mem.pat;
                    quote!(#pat)
                }
            ),
        );
    }
    params
}

fn last_segment(ty: &Type) -> Option<&syn::PathSegment> {
    match ty {
        Type::Path(p) if p.qself.is_none() => p.path.segments.last(),
        Type::Paren(p) => last_segment(&p.elem),
        _ => None,
    }
}

/// `Result<A, E>` → `(A, E)`.
fn result_args(ty: &Type) -> Option<(&Type, &Type)> {
    let seg = last_segment(ty)?;
    if seg.ident != "Result" {
        return None;
    }
    let PathArguments::AngleBracketed(ab) = &seg.arguments else { return None };
    let mut tys = ab.args.iter().filter_map(|a| match a {
        GenericArgument::Type(t) => Some(t),
        _ => None,
    });
    let (a, e) = (tys.next()?, tys.next()?);
    tys.next().is_none().then_some((a, e))
}

fn is_unit(ty: &Type) -> bool {
    matches!(ty, Type::Tuple(t) if t.elems.is_empty())
}

fn is_trap(ty: &Type) -> bool {
    last_segment(ty).is_some_and(|s| s.ident == "Trap" && s.arguments.is_empty())
}

const RET_TYPES: &str = "expected `()`, `i32`, `u32`, `i64`, `u64`, `f32`, `f64`, an errno \
     `Result<(), E>` (with `i32: From<E>`), or one of these inside `Result<_, Trap>`";

/// The return type's kind, without the `Trap` layer.
fn ret_kind(ty: &Type, errors: &mut Errors) -> Option<RetKind> {
    if is_unit(ty) {
        return Some(RetKind::Unit);
    }
    if let Some(s) = scalar_of(ty) {
        return Some(RetKind::Scalar(s));
    }
    if let Some((ok, err)) = result_args(ty) {
        if is_trap(err) {
            errors.spanned(ty, "`Result<_, Trap>` nests only once, outermost");
            return None;
        }
        if !is_unit(ok) {
            errors.spanned(
                ok,
                "an errno result carries no value: `Result<(), E>`; return values through \
                 `#[out]` parameters",
            );
            return None;
        }
        return Some(RetKind::Errno);
    }
    errors.spanned(ty, format!("unsupported host function return type: {RET_TYPES}"));
    None
}

fn analyze_ret(output: &ReturnType, errors: &mut Errors) -> Option<Ret> {
    let ty = match output {
        ReturnType::Default => return Some(Ret { traps: false, kind: RetKind::Unit }),
        ReturnType::Type(_, ty) => &**ty,
    };
    match result_args(ty) {
        Some((inner, err)) if is_trap(err) => {
            ret_kind(inner, errors).map(|kind| Ret { traps: true, kind })
        }
        _ => ret_kind(ty, errors).map(|kind| Ret { traps: false, kind }),
    }
}

fn const_ident(func: &ItemFn) -> syn::Ident {
    let name = func.sig.ident.to_string();
    let upper = name.trim_start_matches("r#").to_uppercase();
    syn::Ident::new(&upper, func.sig.ident.span())
}

fn const_doc(name: &LitStr, func: &ItemFn) -> String {
    format!(
        "Host function `{}`: the `HostFuncDef` `#[host_fn]` generated for [`{}`].",
        name.value(),
        func.sig.ident
    )
}

/// The stub next to the errors: the function as written and a `const` of the same name,
/// so uses of either do not add errors of their own.
fn fallback(func: &ItemFn, name: &LitStr, krate: &TokenStream, err: syn::Error) -> TokenStream {
    let err = err.to_compile_error();
    let vis = &func.vis;
    let cname = const_ident(func);
    let doc = const_doc(name, func);
    quote! {
        #err
        #func
        #[doc = #doc]
        #vis const #cname: #krate::runtime::HostFuncDef = #krate::runtime::HostFuncDef {
            name: #name,
            params: &[],
            results: &[],
            call: {
                fn __host_fn_stub(
                    _: &mut #krate::runtime::Caller<'_>,
                    _: &[#krate::runtime::Val],
                    _: &mut [#krate::runtime::Val],
                ) -> ::core::result::Result<(), #krate::runtime::Trap> {
                    ::core::result::Result::Err(#krate::runtime::Trap::host(
                        "host function failed to compile",
                    ))
                }
                __host_fn_stub
            },
        };
    }
}

fn expand_ok(
    func: &ItemFn,
    params: &[Param],
    ret: Ret,
    args: &Args,
    name: &LitStr,
    krate: &TokenStream,
) -> TokenStream {
    let vis = &func.vis;
    let fn_ident = &func.sig.ident;
    let cname = const_ident(func);
    let doc = const_doc(name, func);
    let trap = quote!(#krate::runtime::Trap);
    let val = quote!(#krate::runtime::Val);
    let ok = quote!(::core::result::Result::Ok);
    let err = quote!(::core::result::Result::Err);

    let wasm_params: Vec<Wasm> = params.iter().flat_map(Param::wasm).collect();
    let wasm_results = ret.wasm();
    let param_tys = wasm_params.iter().map(|w| w.ident());
    let result_tys = wasm_results.iter().map(|w| w.ident());

    // Arity: destructure the argument and result slices once; no indexing after that.
    let arg_idents: Vec<syn::Ident> =
        (0..wasm_params.len()).map(|i| format_ident!("__arg{}", i)).collect();
    let res_idents: Vec<syn::Ident> =
        (0..wasm_results.len()).map(|i| format_ident!("__res{}", i)).collect();
    let arity_msg = LitStr::new(
        &format!(
            "host function `{}` expects {} argument(s) and {} result(s)",
            name.value(),
            wasm_params.len(),
            wasm_results.len()
        ),
        Span::call_site(),
    );
    let arity = quote! {
        let &[#(#arg_idents),*] = __args else {
            return #err(#trap::host(#arity_msg));
        };
        let [#(#res_idents),*] = __results else {
            return #err(#trap::host(#arity_msg));
        };
    };

    // What a failed bounds check does.
    let fault = match (&args.fault, ret.kind) {
        (Some(f), RetKind::Errno) => {
            let r0 = &res_idents[0];
            quote!({
                *#r0 = #val::I32(::core::convert::From::from(#f));
                return #ok(());
            })
        }
        _ => quote!(return #err(#trap::new(#krate::runtime::TrapCode::MemoryOutOfBounds))),
    };

    // Decode wasm arguments into typed locals.
    let mut decode = TokenStream::new();
    let mut next = 0usize;
    let take_i32 = |next: &mut usize, local: &syn::Ident| -> TokenStream {
        let a = &arg_idents[*next];
        let msg = LitStr::new(
            &format!("host function `{}`: argument {} is not an i32", name.value(), *next),
            Span::call_site(),
        );
        *next += 1;
        quote! {
            let #local: u32 = match #a {
                #val::I32(v) => v as u32,
                _ => return #err(#trap::host(#msg)),
            };
        }
    };
    let mut state_ty: Option<&Type> = None;
    let mut memory_mut: Option<bool> = None;
    let mut views: Vec<(usize, bool)> = Vec::new(); // (param index, mutable)
    let mut outs: Vec<(usize, &OutTy)> = Vec::new();
    for (i, p) in params.iter().enumerate() {
        match p {
            Param::State(t) => state_ty = Some(t),
            Param::Memory { mutable } => memory_mut = Some(*mutable),
            Param::Scalar(s) => {
                let a = &arg_idents[next];
                next += 1;
                let local = format_ident!("__p{}", i);
                let variant = s.wasm().ident();
                let conv = s.decode();
                let msg = LitStr::new(
                    &format!(
                        "host function `{}`: argument {} is not an {}",
                        name.value(),
                        next - 1,
                        variant.to_string().to_lowercase()
                    ),
                    Span::call_site(),
                );
                decode.extend(quote! {
                    let #local = match #a {
                        #val::#variant(v) => #conv,
                        _ => return #err(#trap::host(#msg)),
                    };
                });
            }
            Param::View { mutable } => {
                decode.extend(take_i32(&mut next, &format_ident!("__ptr{}", i)));
                decode.extend(take_i32(&mut next, &format_ident!("__len{}", i)));
                views.push((i, *mutable));
            }
            Param::Out(o) => {
                decode.extend(take_i32(&mut next, &format_ident!("__ptr{}", i)));
                outs.push((i, o));
            }
        }
    }

    let needs_memory = memory_mut.is_some() || !views.is_empty() || !outs.is_empty();
    let access = match (state_ty, needs_memory) {
        (Some(s), true) => quote!(let (__mem, __state) = __caller.parts::<#s>()?;),
        (Some(s), false) => quote! {
            let __state = __caller
                .state::<#s>()
                .ok_or_else(|| #trap::host("host state type mismatch"))?;
        },
        (None, true) => quote! {
            let __mem = __caller.memory().ok_or_else(|| #trap::host("no exported memory"))?;
        },
        (None, false) => quote!(let _ = __caller;),
    };

    // Bounds: every view and out-pointer, before the function runs.
    let mut bounds = TokenStream::new();
    for (i, _) in &views {
        let (ptr, len) = (format_ident!("__ptr{}", i), format_ident!("__len{}", i));
        let (s, e) = (format_ident!("__s{}", i), format_ident!("__e{}", i));
        bounds.extend(quote! {
            let #s = #ptr as usize;
            let #e = match #s.checked_add(#len as usize) {
                ::core::option::Option::Some(e) if e <= __mem.len() => e,
                _ => #fault,
            };
        });
    }
    let mut out_locals = TokenStream::new();
    let mut out_writes = TokenStream::new();
    for (i, o) in &outs {
        let ptr = format_ident!("__ptr{}", i);
        let (s, e) = (format_ident!("__s{}", i), format_ident!("__e{}", i));
        let local = format_ident!("__out{}", i);
        let (ty, init, bytes) = match o {
            OutTy::Scalar(t) => (quote!(#t), quote!(0 as #t), quote!(#t::to_le_bytes(#local))),
            OutTy::Bytes(n) => (quote!([u8; #n]), quote!([0u8; #n]), quote!(#local)),
        };
        bounds.extend(quote! {
            let #s = #ptr as usize;
            let #e = match #s.checked_add(::core::mem::size_of::<#ty>()) {
                ::core::option::Option::Some(e) if e <= __mem.len() => e,
                _ => #fault,
            };
        });
        out_locals.extend(quote!(let mut #local: #ty = #init;));
        out_writes.extend(quote! {
            match __mem.get_mut(#s..#e) {
                ::core::option::Option::Some(dst) => dst.copy_from_slice(&#bytes),
                ::core::option::Option::None => {
                    return #err(#trap::new(#krate::runtime::TrapCode::MemoryOutOfBounds));
                }
            }
        });
    }

    // Views: all shared from one shared reborrow; or one mutable view split out of the
    // memory with safe `split_at_mut`, the shared ones taken from either side of it.
    let mut views_code = TokenStream::new();
    let mut_view = views.iter().find(|(_, m)| *m).map(|(i, _)| *i);
    match mut_view {
        None if !views.is_empty() => {
            views_code.extend(quote!(let __ro: &[u8] = &*__mem;));
            for (i, _) in &views {
                let (s, e, v) = (
                    format_ident!("__s{}", i),
                    format_ident!("__e{}", i),
                    format_ident!("__v{}", i),
                );
                views_code.extend(quote! {
                    let #v: &[u8] = match __ro.get(#s..#e) {
                        ::core::option::Option::Some(v) => v,
                        ::core::option::Option::None => #fault,
                    };
                });
            }
        }
        None => {}
        Some(m) => {
            let (ms, me, mv) =
                (format_ident!("__s{}", m), format_ident!("__e{}", m), format_ident!("__v{}", m));
            views_code.extend(quote! {
                // An empty mutable view may sit anywhere, even inside a shared one.
                let (__ms, __me) = if #me == #ms { (0usize, 0usize) } else { (#ms, #me) };
                let (__before, __rest) = match __mem.split_at_mut_checked(__ms) {
                    ::core::option::Option::Some(parts) => parts,
                    ::core::option::Option::None => #fault,
                };
                let (#mv, __after) = match __rest.split_at_mut_checked(__me - __ms) {
                    ::core::option::Option::Some(parts) => parts,
                    ::core::option::Option::None => #fault,
                };
                let (__before, __after): (&[u8], &[u8]) = (__before, __after);
            });
            for (i, _) in views.iter().filter(|(i, _)| *i != m) {
                let (s, e, v) = (
                    format_ident!("__s{}", i),
                    format_ident!("__e{}", i),
                    format_ident!("__v{}", i),
                );
                views_code.extend(quote! {
                    let #v: &[u8] = if #e == #s {
                        &[]
                    } else if #e <= __ms {
                        match __before.get(#s..#e) {
                            ::core::option::Option::Some(v) => v,
                            ::core::option::Option::None => #fault,
                        }
                    } else if #s >= __me {
                        match __after.get(#s - __me..#e - __me) {
                            ::core::option::Option::Some(v) => v,
                            ::core::option::Option::None => #fault,
                        }
                    } else {
                        // The shared view overlaps the mutable one.
                        #fault
                    };
                });
            }
        }
    }

    // The call.
    let call_args = params.iter().enumerate().map(|(i, p)| match p {
        Param::State(_) => quote!(__state),
        Param::Memory { mutable: true } => quote!(&mut *__mem),
        Param::Memory { mutable: false } => quote!(&*__mem),
        Param::Scalar(_) | Param::View { .. } => {
            let v = if matches!(p, Param::Scalar(_)) {
                format_ident!("__p{}", i)
            } else {
                format_ident!("__v{}", i)
            };
            quote!(#v)
        }
        Param::Out(_) => {
            let o = format_ident!("__out{}", i);
            quote!(&mut #o)
        }
    });
    let call = quote!(#fn_ident(#(#call_args),*));

    let unwrap_trap = if ret.traps {
        quote! {
            let __ret = match __ret {
                #ok(v) => v,
                #err(trap) => return #err(trap),
            };
        }
    } else {
        TokenStream::new()
    };
    let finish = match ret.kind {
        RetKind::Unit => quote! {
            let () = __ret;
            #out_writes
        },
        RetKind::Scalar(s) => {
            let r0 = &res_idents[0];
            let enc = s.encode(krate, &quote!(__ret));
            quote! {
                *#r0 = #enc;
                #out_writes
            }
        }
        RetKind::Errno => {
            let r0 = &res_idents[0];
            quote! {
                match __ret {
                    #ok(()) => {
                        #out_writes
                        *#r0 = #val::I32(0);
                    }
                    #err(e) => *#r0 = #val::I32(::core::convert::From::from(e)),
                }
            }
        }
    };

    // The memory borrow the views hold ends with the call block; the out-pointer
    // writes after it borrow the memory again.
    let call_block = if views.is_empty() {
        quote!(let __ret = #call;)
    } else {
        quote! {
            let __ret = {
                #views_code
                #call
            };
        }
    };

    quote! {
        #func
        #[doc = #doc]
        #vis const #cname: #krate::runtime::HostFuncDef = #krate::runtime::HostFuncDef {
            name: #name,
            params: &[#(#krate::runtime::ValType::#param_tys),*],
            results: &[#(#krate::runtime::ValType::#result_tys),*],
            call: {
                #[allow(clippy::unnecessary_cast, clippy::let_unit_value, unused_variables)]
                fn __host_fn_wrapper(
                    __caller: &mut #krate::runtime::Caller<'_>,
                    __args: &[#val],
                    __results: &mut [#val],
                ) -> ::core::result::Result<(), #trap> {
                    #arity
                    #decode
                    #access
                    #bounds
                    #out_locals
                    #call_block
                    #unwrap_trap
                    #finish
                    #ok(())
                }
                __host_fn_wrapper
            },
        };
    }
}

#[cfg(test)]
mod tests;
