//! Expansion tests of `#[host_fn]`: the generated signature, and one spanned error (plus
//! the stub) for each misuse.

use proc_macro2::TokenStream;
use quote::quote;

use super::expand;

fn expand_str(args: TokenStream, item: TokenStream) -> String {
    expand(args, item).to_string()
}

/// The `compile_error!` messages of an expansion.
fn errors(args: TokenStream, item: TokenStream) -> Vec<String> {
    let out = expand_str(args, item);
    out.split("compile_error !")
        .skip(1)
        .filter_map(|s| s.split('"').nth(1).map(str::to_owned))
        .collect()
}

#[test]
fn signature_of_scalars_views_and_outs() {
    let out = expand_str(
        quote!(),
        quote! {
            pub fn path_open(
                ctx: &mut Ctx, fd: u32, path: &[u8], rights: u64, x: f64,
                #[out] opened: &mut u32,
            ) -> Result<(), Errno> { Ok(()) }
        },
    );
    let norm: String = out.split_whitespace().collect();
    assert!(norm.contains("pubconstPATH_OPEN:"), "{out}");
    assert!(norm.contains("name:\"path_open\""), "{out}");
    assert!(
        norm.contains(
            "params:&[::vm_core::runtime::ValType::I32,::vm_core::runtime::ValType::I32,\
             ::vm_core::runtime::ValType::I32,::vm_core::runtime::ValType::I64,\
             ::vm_core::runtime::ValType::F64,::vm_core::runtime::ValType::I32]"
        ),
        "{out}"
    );
    assert!(norm.contains("results:&[::vm_core::runtime::ValType::I32]"), "{out}");
    assert!(norm.contains("parts::<Ctx>()"), "{out}");
    // The attribute on the parameter is gone from the function as emitted.
    assert!(!norm.contains("#[out]"), "{out}");
    assert!(
        errors(
            quote!(),
            quote!(
                fn f(ctx: &mut Ctx) {}
            )
        )
        .is_empty()
    );
}

#[test]
fn name_and_crate_arguments() {
    let out = expand_str(
        quote!(name = "sched_yield", crate = ::my_core),
        quote!(
            fn yield_now(ctx: &mut Ctx) -> Result<(), Errno> {
                Ok(())
            }
        ),
    );
    let norm: String = out.split_whitespace().collect();
    assert!(norm.contains("constYIELD_NOW:::my_core::runtime::HostFuncDef"), "{out}");
    assert!(norm.contains("name:\"sched_yield\""), "{out}");
    assert!(norm.contains("state::<Ctx>()"), "no memory needed: {out}");
}

#[test]
fn trap_results_and_scalar_results() {
    let norm: String = expand_str(
        quote!(),
        quote!(
            fn add(a: i64, b: f32) -> Result<i64, vm_core::runtime::Trap> {
                Ok(a)
            }
        ),
    )
    .split_whitespace()
    .collect();
    assert!(norm.contains("results:&[::vm_core::runtime::ValType::I64]"), "{norm}");
    assert!(!norm.contains("parts::<"), "{norm}");
}

#[test]
fn unsupported_parameter_is_one_spanned_error_and_a_stub() {
    let item = quote!(
        fn f(ctx: &mut Ctx, s: String) -> Result<(), Errno> {
            Ok(())
        }
    );
    let errs = errors(quote!(), item.clone());
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(errs[0].contains("unsupported host function parameter"), "{errs:?}");
    let norm: String = expand_str(quote!(), item).split_whitespace().collect();
    assert!(norm.contains("constF:"), "the stub keeps the const: {norm}");
    assert!(norm.contains("fnf(ctx:&mutCtx,s:String)"), "the fn stays: {norm}");
}

#[test]
fn misuse_errors_are_combined() {
    let errs = errors(
        quote!(bogus = 1),
        quote! {
            async fn f(a: u8, #[out] o: &u32, #[memory] m: &mut [u8], v: &[u8], x: &mut Ctx) {}
        },
    );
    let all = errs.join("\n");
    for want in [
        "unknown argument",
        "cannot be `async`",
        "unsupported host function parameter",
        "an `#[out]` parameter is `&mut T`",
        "cannot be combined with `(ptr, len)` views",
        "must be the first parameter",
    ] {
        assert!(all.contains(want), "missing `{want}` in:\n{all}");
    }
}

#[test]
fn two_mutable_views_are_refused() {
    let errs = errors(
        quote!(),
        quote!(
            fn f(a: &mut [u8], b: &mut [u8]) {}
        ),
    );
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(errs[0].contains("at most one `&mut [u8]` view"), "{errs:?}");
}

#[test]
fn return_types() {
    let errs = errors(
        quote!(),
        quote!(
            fn f() -> String {
                todo!()
            }
        ),
    );
    assert!(errs[0].contains("unsupported host function return type"), "{errs:?}");
    let errs = errors(
        quote!(),
        quote!(
            fn f() -> Result<u32, Errno> {
                todo!()
            }
        ),
    );
    assert!(errs[0].contains("an errno result carries no value"), "{errs:?}");
    let errs = errors(
        quote!(fault = E::Fault),
        quote!(
            fn f(b: &[u8]) -> u32 {
                0
            }
        ),
    );
    assert!(errs[0].contains("`fault = ...`"), "{errs:?}");
    assert!(
        errors(
            quote!(),
            quote!(
                fn f() -> Result<Result<(), E>, Trap> {
                    todo!()
                }
            )
        )
        .is_empty()
    );
}

#[test]
fn not_a_function() {
    let errs = errors(
        quote!(),
        quote!(
            struct S;
        ),
    );
    assert!(errs[0].contains("goes on a free function"), "{errs:?}");
}
