use super::*;
use crate::plugin::{Capability, Comparator, ReqOp, Slot, Version};

#[test]
fn edit_distance_counts_edits() {
    assert_eq!(edit_distance(b"native-code", b"native-code"), 0);
    assert_eq!(edit_distance(b"native-cod", b"native-code"), 1);
    assert_eq!(edit_distance(b"", b"abc"), 3);
    assert_eq!(edit_distance(b"kitten", b"sitting"), 3);
}

#[test]
fn msg_builds_text_and_numbers() {
    let m = Msg::new().push("v").push_u64(0).push(".").push_u64(1234567);
    assert_eq!(m.as_str(), "v0.1234567");
}

const fn cmp(op: ReqOp, major: u64, minor: Option<u64>, patch: Option<u64>) -> Comparator {
    Comparator { op, major, minor, patch }
}

#[test]
fn caret_and_tilde_follow_cargo() {
    let v = |a, b, c| Version::new(a, b, c);
    let caret = cmp(ReqOp::Caret, 1, Some(2), None);
    assert!(caret.matches(&v(1, 2, 0)) && caret.matches(&v(1, 9, 9)));
    assert!(!caret.matches(&v(2, 0, 0)) && !caret.matches(&v(1, 1, 9)));
    let zero = cmp(ReqOp::Caret, 0, Some(2), Some(3));
    assert!(zero.matches(&v(0, 2, 5)) && !zero.matches(&v(0, 3, 0)));
    let tilde = cmp(ReqOp::Tilde, 1, Some(2), None);
    assert!(tilde.matches(&v(1, 2, 7)) && !tilde.matches(&v(1, 3, 0)));
    let lt = cmp(ReqOp::Less, 2, None, None);
    assert!(lt.matches(&v(1, 99, 0)) && !lt.matches(&v(2, 0, 0)));
}

static A: PluginMeta = PluginMeta {
    id: "a",
    slot: Slot::Engine,
    version: Version::new(1, 0, 0),
    description: "",
    provides: &[Capability { name: "engine", version: Version::new(1, 0, 0) }],
    requires: &[Requirement {
        name: "virt",
        req: "^1",
        comparators: &[cmp(ReqOp::Caret, 1, None, None)],
    }],
    config: &[],
};
static B: PluginMeta = PluginMeta {
    id: "b",
    slot: Slot::Virt,
    version: Version::new(1, 0, 0),
    description: "",
    provides: &[Capability { name: "virt", version: Version::new(1, 4, 0) }],
    requires: &[],
    config: &[],
};

#[test]
fn providers_initialize_first() {
    let order = check::<2>(&[&A, &B]);
    assert_eq!(order, [1, 0]);
}
