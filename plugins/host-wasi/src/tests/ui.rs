//! `#[host_fn]` diagnostics: each misuse a user can hit, with the `.stderr` they read,
//! and one pass case with every accepted shape.

#[test]
fn host_fn_ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/fail/*.rs");
    t.pass("tests/ui/pass/*.rs");
}
