//! The registry: every linked plugin is there, every capability it names is in the
//! vocabulary or declared by a plugin, and vm-core names no plugin.

use vm::check::CAPABILITIES;
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
    let r = registry::host_registration("wasi_snapshot_preview1").expect("registered");
    assert_eq!(r.meta.id, "host-wasi");
    assert!(r.type_path.starts_with("vm_host_wasi::"), "{}", r.type_path);
    // A plugin serving several modules is found by each of them.
    let unstable = registry::host_module("wasi_unstable").expect("preview0 is registered");
    assert!(unstable.functions.iter().any(|f| f.name == "fd_seek"));
    assert!(std::ptr::eq(registry::host_registration("wasi_unstable").unwrap(), r));
}

#[test]
fn registered_capabilities_are_in_the_vocabulary() {
    let declared: Vec<&str> =
        registry::plugins().iter().flat_map(|r| r.meta.declares.iter().map(|d| d.name)).collect();
    for r in registry::plugins() {
        let names =
            r.meta.provides.iter().map(|c| c.name).chain(r.meta.requires.iter().map(|q| q.name));
        for name in names {
            assert!(
                CAPABILITIES.iter().any(|k| k.name == name) || declared.contains(&name),
                "`{}` names capability `{name}`, which is neither in the vocabulary nor declared",
                r.meta.id
            );
        }
    }
}

/// vm-core's code names no plugin of this project: who provides a capability comes
/// from the registry, so adding a plugin touches no file of vm-core. (Doc comments are
/// exempt: the guide's doctests compose the built-in plugins as examples.)
#[test]
fn core_names_no_plugin() {
    let ids: Vec<&str> = registry::plugins().iter().map(|r| r.meta.id).collect();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("core/src");
    let mut stack = vec![root];
    let mut checked = 0;
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("core/src is readable") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let source = std::fs::read_to_string(&path).expect("source is UTF-8");
                let text: String = source
                    .lines()
                    .filter(|l| {
                        !l.trim_start().starts_with("//!") && !l.trim_start().starts_with("///")
                    })
                    .collect::<Vec<_>>()
                    .join("\n");
                for id in &ids {
                    let crate_name = format!("vm_{}", id.replace('-', "_"));
                    assert!(
                        !text.contains(&format!("\"{id}\""))
                            && !text.contains(&format!("`{id}`"))
                            && !text.contains(&crate_name),
                        "{} names plugin `{id}`",
                        path.display()
                    );
                }
                checked += 1;
            }
        }
    }
    assert!(checked > 20, "only {checked} files of vm-core were read");
}

/// Plugins stand side by side: no plugin crate depends on another in any dependency
/// section (end-to-end compositions live at the root).
#[test]
fn no_plugin_crate_depends_on_another() {
    let plugins = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("plugins");
    let mut checked = 0;
    for entry in std::fs::read_dir(&plugins).expect("plugins/ is readable") {
        let manifest = entry.expect("dir entry").path().join("Cargo.toml");
        let Ok(text) = std::fs::read_to_string(&manifest) else { continue };
        let doc: toml::Table = text.parse().expect("a valid manifest");
        for section in ["dependencies", "dev-dependencies", "build-dependencies"] {
            let Some(deps) = doc.get(section).and_then(|d| d.as_table()) else { continue };
            for name in deps.keys() {
                assert!(
                    !name.starts_with("vm-") || name == "vm-core" || name == "vm-macros",
                    "{} depends on `{name}` in [{section}]",
                    manifest.display()
                );
            }
        }
        checked += 1;
    }
    assert!(checked >= 4, "only {checked} plugin manifests read");
}
