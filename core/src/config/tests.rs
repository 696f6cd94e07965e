use super::*;

#[test]
fn flag_parsing_rejects_malformed() {
    let mut s = Settings::new();
    assert!(s.merge_flag("engine.fuel=10").is_ok());
    assert!(matches!(s.merge_flag("enginefuel=10"), Err(ConfigError::Malformed(_))));
    assert!(matches!(s.merge_flag("engine.fuel"), Err(ConfigError::Malformed(_))));
    assert!(matches!(s.merge_flag(".x=1"), Err(ConfigError::Malformed(_))));
}

#[test]
fn env_prefers_longest_section() {
    let mut s = Settings::new();
    s.merge_env(
        [
            ("VM_ACME_LOG_MAX_FDS".to_owned(), "3".to_owned()),
            ("VM_ENGINE_FUEL".to_owned(), "7".to_owned()),
        ],
        &["engine", "acme", "acme-log"],
    );
    let names: Vec<_> = s.section_names().collect();
    assert_eq!(names, ["acme-log", "engine"]);
}

#[test]
fn nearest_finds_typos() {
    assert_eq!(nearest("feul", ["fuel", "opt_level"].into_iter()), Some("fuel"));
    assert_eq!(nearest("zzzzzz", ["fuel"].into_iter()), None);
}
