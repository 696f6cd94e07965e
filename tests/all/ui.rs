//! Compile-time guarantees: each diagnostic a user can hit, with the `.stderr` they read.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/fail/*.rs");
    t.pass("tests/ui/pass/*.rs");
}
