//! `vm new-plugin NAME --slot host|observer|extra`: writes a plugin crate that builds,
//! registers itself, and has a test running real wasm through a composition with it.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::cli::NewSlot;

/// Where the generated crate finds vm's crates: the source tree this binary was built
/// from when it is still there, else a version requirement.
fn vm_source() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).parent()?.to_path_buf();
    dir.join("core/Cargo.toml").exists().then_some(dir)
}

fn dep(name: &str, rel: &str, vm_path: Option<&Path>) -> String {
    match vm_path {
        Some(root) => format!("{name} = {{ path = {:?} }}", root.join(rel).display().to_string()),
        None => format!("{name} = \"{}\"", env!("CARGO_PKG_VERSION")),
    }
}

/// Writes the crate `name` into `parent/name`.
pub fn run(name: &str, slot: NewSlot, parent: &Path, vm_path: Option<PathBuf>) -> ExitCode {
    match write(name, slot, parent, vm_path) {
        Ok(dir) => {
            outln!("created plugin crate `{name}` in {}", dir.display());
            outln!("  cd {} && cargo test", dir.display());
            outln!("then add it to `compose!` as README.md says");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn write(
    name: &str,
    slot: NewSlot,
    parent: &Path,
    vm_path: Option<PathBuf>,
) -> Result<PathBuf, String> {
    let ok = !name.is_empty()
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !ok {
        return Err(format!(
            "`{name}` is not a plugin name: use lower-case kebab-case starting with a letter, e.g. `acme-env`"
        ));
    }
    let dir = parent.join(name);
    if dir.exists() {
        return Err(format!("{} already exists", dir.display()));
    }
    let vm_path = vm_path.or_else(vm_source);
    let krate = name.replace('-', "_");
    let ty = name
        .split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
        })
        .collect::<String>();
    let (slot_name, list, lib, test) = match slot {
        NewSlot::Host => ("host", "hosts", HOST_LIB, HOST_TEST),
        NewSlot::Observer => ("observer", "observers", OBSERVER_LIB, OBSERVER_TEST),
        NewSlot::Extra => ("extra", "extra", EXTRA_LIB, EXTRA_TEST),
    };
    let module = krate.clone();
    let fill = |t: &str| {
        t.replace("{{name}}", name)
            .replace("{{crate}}", &krate)
            .replace("{{Type}}", &ty)
            .replace("{{module}}", &module)
            .replace("{{list}}", list)
            .replace("{{slot}}", slot_name)
            .replace("{{ENV}}", &krate.to_ascii_uppercase())
    };
    let vm = vm_path.as_deref();
    let manifest = format!(
        "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2024\"\npublish = false\n\
         description = \"A {slot_name} plugin for vm.\"\n\n\
         # A crate of its own, not a member of an enclosing workspace.\n[workspace]\n\n\
         [dependencies]\n{}\nserde = {{ version = \"1\", features = [\"derive\"] }}\n\n\
         # Tests run real wasm through a composition with this plugin.\n[dev-dependencies]\n{}\n{}\n",
        dep("vm-core", "core", vm),
        dep("vm-engine-interp", "plugins/engine-interp", vm),
        dep("vm-virt-host", "plugins/virt-host", vm),
    );
    let files: [(&str, String); 4] = [
        ("Cargo.toml", manifest),
        ("src/lib.rs", fill(lib)),
        ("tests/compose.rs", fill(test)),
        ("README.md", fill(README)),
    ];
    for (path, text) in files {
        let path = dir.join(path);
        if let Some(p) = path.parent() {
            std::fs::create_dir_all(p)
                .map_err(|e| format!("cannot create {}: {e}", p.display()))?;
        }
        std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    // Pin the versions vm itself is tested with (offline builds, no surprises).
    if let Some(lock) = vm.map(|v| v.join("Cargo.lock")).filter(|l| l.exists()) {
        std::fs::copy(&lock, dir.join("Cargo.lock"))
            .map_err(|e| format!("cannot copy {}: {e}", lock.display()))?;
    }
    Ok(dir)
}

const README: &str = r##"# {{name}}

A `{{slot}}` plugin for vm, registered as `{{name}}`.

Add it to a composition (in the crate that holds your `compose!`):

```toml
[dependencies]
{{name}} = { path = "../{{name}}" }
```

```rust
vm_core::compose! {
    pub struct MyVm {
        engine: vm_engine_interp::Interp,
        virt: vm_virt_host::HostVirt,
        {{list}}: [{{crate}}::{{Type}}],
    }
}
```

`cargo test` runs `tests/compose.rs`: real wasm through such a composition. The plugin
author's guide is `vm_core::guide` (`cargo doc -p vm-core --open`).
"##;

const HOST_LIB: &str = r##"//! `{{name}}`: the `{{module}}` import module for vm.
//!
//! `{{module}}.count_vowels(ptr, len) -> i32` counts the ASCII vowels of guest text,
//! read in place from guest memory.

use vm_core::config::NoConfig;
use vm_core::runtime::HostModuleDef;
use vm_core::slot::HostModule;
use vm_core::{Plugin, PluginError, host_fn, plugin};

/// Per-instance state: calls served so far.
#[derive(Debug, Default)]
pub struct State {
    /// Calls of `count_vowels`.
    pub calls: u32,
}

/// `count_vowels(ptr, len) -> i32`.
#[host_fn]
pub fn count_vowels(st: &mut State, text: &[u8]) -> i32 {
    st.calls += 1;
    text.iter().filter(|b| b"aeiouAEIOU".contains(b)).count() as i32
}

/// The import module.
pub static MODULE: HostModuleDef = HostModuleDef {
    module: "{{module}}",
    functions: &[COUNT_VOWELS],
    new_state: |_run, _plugin| Ok(Box::new(State::default())),
};

/// The `{{module}}` host module.
#[plugin(id = "{{name}}", slot = host)]
pub struct {{Type}};

impl Plugin for {{Type}} {
    type Config = NoConfig;
    fn new(_: NoConfig) -> Result<Self, PluginError> {
        Ok({{Type}})
    }
}

impl HostModule for {{Type}} {
    const MODULE: &'static HostModuleDef = &MODULE;
}
"##;

const HOST_TEST: &str = r##"//! A guest imports `{{module}}.count_vowels` from a composition with the plugin.

use vm_core::runtime::{Linker, RunContext, Val};
use vm_core::{Settings, Vm};

vm_core::compose! {
    /// The interpreter, in-process, with this plugin.
    pub struct TestVm {
        engine: vm_engine_interp::Interp,
        virt: vm_virt_host::HostVirt,
        hosts: [{{crate}}::{{Type}}],
    }
}

#[test]
fn a_guest_calls_the_host_module() {
    let mut vm = Vm::<TestVm>::new(&Settings::new()).unwrap().init().unwrap().start().unwrap();
    let module = vm
        .compile(
            r#"(module
                 (import "{{module}}" "count_vowels" (func $count (param i32 i32) (result i32)))
                 (memory 1)
                 (data (i32.const 8) "composition")
                 (func (export "run") (result i32) (call $count (i32.const 8) (i32.const 11))))"#,
        )
        .unwrap();
    let mut linker = Linker::new(RunContext::default());
    let instance = vm.instantiate(&module, &mut linker).unwrap();
    assert_eq!(vm.invoke(&mut linker, instance, "run", &[]).unwrap(), [Val::I32(5)]);
}
"##;

const OBSERVER_LIB: &str = r##"//! `{{name}}`: counts exports called from the host and traps.

use std::sync::atomic::{AtomicU64, Ordering};

use vm_core::config::NoConfig;
use vm_core::plugin::PluginStats;
use vm_core::slot::{Event, EventKind, EventMask, Observer};
use vm_core::{Plugin, PluginError, plugin};

/// Counts calls from the host and traps; `vm run --stats` prints the counts.
#[plugin(id = "{{name}}", slot = observer)]
pub struct {{Type}} {
    /// Exports called from the host.
    pub calls: AtomicU64,
    /// Traps raised.
    pub traps: AtomicU64,
}

impl Plugin for {{Type}} {
    type Config = NoConfig;
    fn new(_: NoConfig) -> Result<Self, PluginError> {
        Ok({{Type}} { calls: AtomicU64::new(0), traps: AtomicU64::new(0) })
    }

    fn stats(&self) -> PluginStats {
        let mut stats = PluginStats::default();
        stats.custom = vec![
            ("calls", self.calls.load(Ordering::Relaxed)),
            ("traps", self.traps.load(Ordering::Relaxed)),
        ];
        stats
    }
}

impl Observer for {{Type}} {
    const EVENTS: EventMask = EventMask::NONE.with(EventKind::Call).with(EventKind::Trap);
    fn on_event(&self, event: &Event<'_>) {
        let counter = match event {
            Event::Call { .. } => &self.calls,
            Event::Trap { .. } => &self.traps,
            _ => return,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}
"##;

const OBSERVER_TEST: &str = r##"//! The observer sees the calls and traps of a real run.

use std::sync::atomic::Ordering;

use vm_core::runtime::{Linker, RunContext};
use vm_core::{Settings, Vm};

vm_core::compose! {
    /// The interpreter, in-process, with this observer.
    pub struct TestVm {
        engine: vm_engine_interp::Interp,
        virt: vm_virt_host::HostVirt,
        observers: [{{crate}}::{{Type}}],
    }
}

#[test]
fn the_observer_counts_calls_and_traps() {
    let mut vm = Vm::<TestVm>::new(&Settings::new()).unwrap().init().unwrap().start().unwrap();
    let module = vm
        .compile(r#"(module (func (export "ok")) (func (export "bad") unreachable))"#)
        .unwrap();
    let mut linker = Linker::new(RunContext::default());
    let instance = vm.instantiate(&module, &mut linker).unwrap();
    vm.invoke(&mut linker, instance, "ok", &[]).unwrap();
    assert!(vm.invoke(&mut linker, instance, "bad", &[]).is_err());
    let counter = vm.plugin::<{{crate}}::{{Type}}>();
    assert_eq!(counter.calls.load(Ordering::Relaxed), 2);
    assert_eq!(counter.traps.load(Ordering::Relaxed), 1);
}
"##;

const EXTRA_LIB: &str = r##"//! `{{name}}`: an extra plugin with a setting and a counter.

use std::sync::atomic::{AtomicU64, Ordering};

use vm_core::plugin::PluginStats;
use vm_core::{Plugin, PluginError, plugin};

/// Settings: `-C {{name}}.greeting=...`, `VM_{{ENV}}_GREETING` or `vm.toml`.
#[derive(Debug, Clone, serde::Deserialize, vm_core::PluginConfig)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// What `start` says.
    #[config(default = "hello")]
    pub greeting: String,
}

/// Counts how often the VM it belongs to was started.
#[plugin(id = "{{name}}", slot = extra)]
pub struct {{Type}} {
    config: Config,
    starts: AtomicU64,
}

impl {{Type}} {
    /// The configured greeting.
    pub fn greeting(&self) -> &str {
        &self.config.greeting
    }
}

impl Plugin for {{Type}} {
    type Config = Config;
    fn new(config: Config) -> Result<Self, PluginError> {
        Ok({{Type}} { config, starts: AtomicU64::new(0) })
    }

    fn start(&mut self) -> Result<(), PluginError> {
        self.starts.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    fn stats(&self) -> PluginStats {
        let mut stats = PluginStats::default();
        stats.custom = vec![("starts", self.starts.load(Ordering::Relaxed))];
        stats
    }
}
"##;

const EXTRA_TEST: &str = r##"//! The plugin is configured, started and healthy in a composition that runs wasm.

use vm_core::plugin::PluginState;
use vm_core::runtime::{Linker, RunContext, Val};
use vm_core::{Settings, Vm};

vm_core::compose! {
    /// The interpreter, in-process, with this plugin.
    pub struct TestVm {
        engine: vm_engine_interp::Interp,
        virt: vm_virt_host::HostVirt,
        extra: [{{crate}}::{{Type}}],
    }
}

#[test]
fn the_plugin_is_configured_started_and_healthy() {
    let mut settings = Settings::new();
    settings.merge_flag("{{name}}.greeting=hi").unwrap();
    let mut vm = Vm::<TestVm>::new(&settings).unwrap().init().unwrap().start().unwrap();
    assert_eq!(vm.plugin::<{{crate}}::{{Type}}>().greeting(), "hi");
    let module = vm.compile(r#"(module (func (export "two") (result i32) i32.const 2))"#).unwrap();
    let mut linker = Linker::new(RunContext::default());
    let instance = vm.instantiate(&module, &mut linker).unwrap();
    assert_eq!(vm.invoke(&mut linker, instance, "two", &[]).unwrap(), [Val::I32(2)]);
    let health = vm.health();
    let me = health.iter().find(|h| h.id == "{{name}}").unwrap();
    assert_eq!(me.state, PluginState::Running);
    assert_eq!(me.stats.custom, [("starts", 1)]);
}
"##;
