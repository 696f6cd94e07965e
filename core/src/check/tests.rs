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
        suggest: &[],
        ordered: true,
    }],
    declares: &[],
    config: &[],
};
static B: PluginMeta = PluginMeta {
    id: "b",
    slot: Slot::Virt,
    version: Version::new(1, 0, 0),
    description: "",
    provides: &[Capability { name: "virt", version: Version::new(1, 4, 0) }],
    requires: &[],
    declares: &[],
    config: &[],
};

#[test]
fn providers_initialize_first() {
    let order = check::<2>(&[&A, &B]);
    assert_eq!(order, [1, 0]);
}

fn meta(
    id: &'static str,
    provides: &'static [Capability],
    requires: &'static [Requirement],
) -> PluginMeta {
    PluginMeta {
        id,
        slot: Slot::Extra,
        version: Version::new(1, 0, 0),
        description: "",
        provides,
        requires,
        declares: &[],
        config: &[],
    }
}

const ANY: &[Comparator] = &[];

fn failure(plugins: &[&PluginMeta]) -> String {
    let plugins: Vec<PluginMeta> = plugins.iter().map(|p| **p).collect();
    let err = std::panic::catch_unwind(move || {
        let refs: Vec<&PluginMeta> = plugins.iter().collect();
        match refs.len() {
            2 => drop(check::<2>(&refs)),
            3 => drop(check::<3>(&refs)),
            n => panic!("unexpected size {n}"),
        }
    })
    .expect_err("the check must fail");
    err.downcast_ref::<String>().cloned().unwrap_or_default()
}

#[test]
fn unmet_names_the_plugins_and_the_capability() {
    let jit = meta(
        "jit-user",
        &[],
        &[Requirement {
            name: "native-code",
            req: "*",
            comparators: ANY,
            suggest: &[],
            ordered: true,
        }],
    );
    static E: &[Capability] = &[Capability { name: "engine", version: Version::new(1, 0, 0) }];
    let interp = meta("interp", E, &[]);
    let msg = failure(&[&jit, &interp]);
    assert!(msg.contains("`jit-user`") && msg.contains("`native-code`"), "{msg}");
    assert!(msg.contains("`interp` in slot `extra` provides `engine`"), "{msg}");
}

#[test]
fn cycle_is_printed_once_around() {
    static C1: &[Capability] = &[Capability { name: "x", version: Version::new(1, 0, 0) }];
    static C2: &[Capability] = &[Capability { name: "y", version: Version::new(1, 0, 0) }];
    let a = meta(
        "a",
        C1,
        &[Requirement { name: "y", req: "*", comparators: ANY, suggest: &[], ordered: true }],
    );
    let b = meta(
        "b",
        C2,
        &[Requirement { name: "x", req: "*", comparators: ANY, suggest: &[], ordered: true }],
    );
    let msg = failure(&[&a, &b]);
    assert!(msg.starts_with("dependency cycle: "), "{msg}");
    assert!(msg.contains("`a` requires `y` from `b` -> `b` requires `x` from `a`"), "{msg}");
}

/// `uses` both ways: each plugin needs the other's capability composed but not
/// initialized first, so there is no cycle and both orders of the composition keep
/// their order; the same pair with `requires` both ways is still a cycle.
#[test]
fn mutual_uses_is_no_cycle_but_mutual_requires_is() {
    static C1: &[Capability] = &[Capability { name: "x", version: Version::new(1, 0, 0) }];
    static C2: &[Capability] = &[Capability { name: "y", version: Version::new(1, 0, 0) }];
    static USES_Y: &[Requirement] =
        &[Requirement { name: "y", req: "*", comparators: ANY, suggest: &[], ordered: false }];
    static USES_X: &[Requirement] =
        &[Requirement { name: "x", req: "*", comparators: ANY, suggest: &[], ordered: false }];
    let a = meta("a", C1, USES_Y);
    let b = meta("b", C2, USES_X);
    assert_eq!(check::<2>(&[&a, &b]), [0, 1]);
    assert_eq!(check::<2>(&[&b, &a]), [0, 1]);

    // A third plugin that `requires` `x` still waits for `a`, which is placed first
    // although it only `uses` `y`.
    static REQUIRES_X: &[Requirement] =
        &[Requirement { name: "x", req: "*", comparators: ANY, suggest: &[], ordered: true }];
    let c = meta("c", &[], REQUIRES_X);
    let order = check::<3>(&[&c, &b, &a]);
    let pos = |i: usize| order.iter().position(|&o| o == i).expect("every plugin placed");
    assert!(pos(2) < pos(0), "`a` provides `x` and initializes before `c`: {order:?}");
    let mut sorted = order;
    sorted.sort_unstable();
    assert_eq!(sorted, [0, 1, 2], "a permutation: {order:?}");

    // One direction ordered is no cycle either: the provider goes first.
    let a_req = meta(
        "a",
        C1,
        &[Requirement { name: "y", req: "*", comparators: ANY, suggest: &[], ordered: true }],
    );
    assert_eq!(check::<2>(&[&a_req, &b]), [1, 0]);

    // Ordered both ways: a cycle.
    let b_req = meta("b", C2, REQUIRES_X);
    let msg = failure(&[&a_req, &b_req]);
    assert!(msg.starts_with("dependency cycle: "), "{msg}");
    assert!(msg.contains("`a` requires `y` from `b` -> `b` requires `x` from `a`"), "{msg}");
}

#[test]
fn semver_mismatch_shows_versions() {
    static V: &[Capability] = &[Capability { name: "virt", version: Version::new(1, 4, 0) }];
    static REQ: &[Comparator] = &[cmp(ReqOp::Caret, 2, None, None)];
    static R: &[Requirement] =
        &[Requirement { name: "virt", req: "^2", comparators: REQ, suggest: &[], ordered: true }];
    let user = meta("user", &[], R);
    let virt = meta("virt-x", V, &[]);
    let msg = failure(&[&user, &virt]);
    assert!(
        msg.contains("version mismatch") && msg.contains("`virt-x` provides `virt` 1.4.0"),
        "{msg}"
    );
}

#[test]
fn unknown_capability_suggests_nearest() {
    let typo = meta(
        "typo",
        &[],
        &[Requirement {
            name: "native-cod",
            req: "*",
            comparators: ANY,
            suggest: &[],
            ordered: true,
        }],
    );
    let other = meta("other", &[], &[]);
    let msg = failure(&[&typo, &other]);
    assert!(
        msg.contains("unknown capability `native-cod`")
            && msg.contains("did you mean `native-code`?"),
        "{msg}"
    );
}

#[test]
fn duplicate_ids_are_rejected() {
    let a = meta("same", &[], &[]);
    let msg = failure(&[&a, &a]);
    assert!(msg.contains("duplicate plugin id `same`"), "{msg}");
}

#[test]
fn unmet_names_suggested_providers_or_points_to_the_registry() {
    static S: &[Requirement] = &[Requirement {
        name: "native-code",
        req: "*",
        comparators: ANY,
        suggest: &["jit-a", "jit-b"],
        ordered: true,
    }];
    let other = meta("other", &[], &[]);
    let msg = failure(&[&meta("user", &[], S), &other]);
    assert!(msg.contains("plugins that provide `native-code`: `jit-a`, `jit-b`"), "{msg}");
    let plain = meta(
        "user",
        &[],
        &[Requirement {
            name: "native-code",
            req: "*",
            comparators: ANY,
            suggest: &[],
            ordered: true,
        }],
    );
    let msg = failure(&[&plain, &other]);
    assert!(msg.contains("`vm plugins` lists"), "{msg}");
    assert!(!msg.contains("engine-"), "vm-core names no plugin: {msg}");
}

#[test]
fn vocabulary_accepts_declared_and_rejects_typos() {
    static MINE: &[CapabilityDef] = &[CapabilityDef::new("acme:fast", "goes fast")];
    static P: &[Capability] = &[Capability { name: "acme:fast", version: Version::new(1, 0, 0) }];
    let mut ok = meta("ok", P, &[]);
    ok.declares = MINE;
    check_vocabulary(&ok);
    let bad = meta("bad", P, &[]);
    let err = std::panic::catch_unwind(move || check_vocabulary(&bad)).expect_err("undeclared");
    let msg = err.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(msg.contains("unknown capability `acme:fast` in `provides` of plugin `bad`"), "{msg}");
    assert!(msg.contains("declares = [CAP]"), "{msg}");
    let typo = meta(
        "typo",
        &[],
        &[Requirement {
            name: "native-cod",
            req: "*",
            comparators: ANY,
            suggest: &[],
            ordered: true,
        }],
    );
    let err = std::panic::catch_unwind(move || check_vocabulary(&typo)).expect_err("typo");
    let msg = err.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(msg.contains("did you mean `native-code`?"), "{msg}");
}

#[test]
fn vocabulary_names_no_plugin() {
    for c in CAPABILITIES {
        assert!(!c.doc.contains("engine-") && !c.doc.contains("virt-"), "{}", c.name);
    }
}
