//! The registry: every linked plugin is there, and the capability catalogue that
//! compile-time messages quote agrees with it.

use vm::check::KNOWN_CAPABILITIES;
use vm::registry;

#[test]
fn linked_plugins_register_themselves() {
    let ids: Vec<&str> = registry::plugins().iter().map(|r| r.meta.id).collect();
    for id in ["engine-interp", "virt-host", "host-wasi"] {
        assert!(ids.contains(&id), "{id} missing from the registry: {ids:?}");
    }
    let mut sorted = ids.clone();
    sorted.dedup();
    assert_eq!(sorted.len(), ids.len(), "duplicate ids in the registry: {ids:?}");
}

#[test]
fn host_modules_are_found_by_import_module_name() {
    let wasi = registry::host_module("wasi_snapshot_preview1").expect("WASI is registered");
    assert!(wasi.functions.iter().any(|f| f.name == "fd_write"));
    assert!(registry::host_module("no_such_module").is_none());
}

#[test]
fn capability_catalogue_matches_registered_providers() {
    for r in registry::plugins() {
        for cap in r.meta.provides {
            if let Some(k) = KNOWN_CAPABILITIES.iter().find(|k| k.name == cap.name) {
                assert!(
                    k.providers.contains(&r.meta.id),
                    "`{}` provides `{}` but the catalogue does not list it among {:?}",
                    r.meta.id,
                    cap.name,
                    k.providers
                );
            }
        }
    }
    for k in KNOWN_CAPABILITIES {
        for id in k.providers {
            if let Some(r) = registry::find(id) {
                assert!(
                    r.meta.provides.iter().any(|c| c.name == k.name),
                    "the catalogue says `{id}` provides `{}` but it does not",
                    k.name
                );
            }
        }
    }
}
