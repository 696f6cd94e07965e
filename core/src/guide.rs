//! # The plugin author's guide
//!
//! Everything a plugin crate or a custom VM binary needs, with examples that compile
//! (and, where they can, run) as doctests of this crate.
//!
//! 1. [Slots and traits](#slots-and-traits)
//! 2. [A plugin](#a-plugin)
//! 3. [Capabilities and semver](#capabilities-and-semver)
//! 4. [Configuration](#configuration)
//! 5. [Stats and health](#stats-and-health)
//! 6. [Events and observers](#events-and-observers)
//! 7. [Lifecycle](#lifecycle)
//! 8. [Host modules, end to end](#host-modules-end-to-end)
//! 9. [Composing and running](#composing-and-running)
//! 10. [A custom `vm` binary](#a-custom-vm-binary)
//! 11. [Testing a plugin](#testing-a-plugin)
//!
//! ## Slots and traits
//!
//! A VM is a *composition*: one plugin type per singleton slot and lists of the
//! others, fixed at compile time by [`compose!`](macro@crate::compose). The hot paths
//! call the composed types directly (no `dyn`).
//!
//! | slot | how many | trait | what it does |
//! |---|---|---|---|
//! | `engine` | exactly one | [`slot::Engine`](crate::slot::Engine) | compiles and runs function bodies |
//! | `virt` | exactly one | [`slot::Virt`](crate::slot::Virt) | places linear memory, sets resource limits; for native engines, enters their code, links the host functions it calls and turns faults into traps ([`runtime::native`](crate::runtime::native)) |
//! | `gc` | at most one | [`slot::Collector`](crate::slot::Collector) | GC objects |
//! | `simd` | at most one | [`slot::Simd`](crate::slot::Simd) | the vector ISA simd128 lowers to |
//! | `host` | any | [`slot::HostModule`](crate::slot::HostModule) | functions a guest imports by module name |
//! | `observer` | any | [`slot::Observer`](crate::slot::Observer) | receives typed runtime events |
//! | `extra` | any | [`Plugin`](crate::Plugin) only | anything with a lifecycle (a metrics exporter, a cache) |
//!
//! A plugin crate depends on `vm-core` only (it re-exports the macros). It never
//! depends on another plugin crate: plugins meet in a composition, through
//! capabilities.
//!
//! ## A plugin
//!
//! A plugin is a type with `#[plugin(...)]` and an `impl Plugin`. The attribute
//! registers it in the binary's registry (a `linkme` slice: `vm plugins` lists every
//! linked plugin; nothing central lists them) and emits its static description
//! ([`PluginMeta`](crate::PluginMeta)).
//!
//! ```
//! use vm_core::config::NoConfig;
//! use vm_core::{Plugin, PluginError, plugin};
//!
//! /// Keeps a warm cache of compiled modules (the first doc line is the description).
//! #[plugin(id = "acme-cache", slot = extra, requires = ["engine ^1"])]
//! pub struct Cache {
//!     entries: usize,
//! }
//!
//! impl Plugin for Cache {
//!     type Config = NoConfig;
//!     fn new(_: NoConfig) -> Result<Self, PluginError> {
//!         Ok(Cache { entries: 0 })
//!     }
//!     // init, start, stop, cleanup and stats have no-op defaults.
//! }
//!
//! let meta = <Cache as vm_core::plugin::Described>::META;
//! assert_eq!((meta.id, meta.slot.name()), ("acme-cache", "extra"));
//! assert_eq!(meta.description, "Keeps a warm cache of compiled modules (the first doc line is the description).");
//! ```
//!
//! `#[plugin]` keys: `id` (required, kebab-case, unique in a composition; by
//! convention also the Cargo feature that links the plugin), `slot` (required),
//! `version` (default: the crate's version), `description` (default: the first doc
//! line), `provides`, `requires`, `declares` (below) and `crate = path` (where
//! `vm-core` is, if renamed). A plugin type cannot be generic; a plugin in slot
//! `engine`, `virt`, `host` or `observer` must implement that slot's trait, or the
//! build says which trait is missing.
//!
//! ## Capabilities and semver
//!
//! Plugins meet through capabilities: `provides = ["name@x.y.z"]` and `requires =
//! ["name <semver requirement>"]` (Cargo's syntax: `^1.2`, `~1`, `>=1, <3`). When a
//! composition is compiled, every requirement must be met by another composed plugin
//! at a matching version, there must be no cycle, and the init order is the
//! topological order of the requirements (providers first). Each rule that fails is a
//! compile error naming the plugins and what to change.
//!
//! The vocabulary of names is [`check::CAPABILITIES`](crate::check::CAPABILITIES). A
//! name outside it fails the plugin's own build, with the nearest name. A plugin crate
//! that introduces a capability declares it; a requirement can suggest providers, which
//! the message quotes when none is composed:
//!
//! ```
//! use vm_core::config::NoConfig;
//! use vm_core::plugin::CapabilityDef;
//! use vm_core::{Plugin, PluginError, plugin};
//!
//! /// A capability this crate introduces.
//! pub const FAST_LOG: CapabilityDef =
//!     CapabilityDef::new("acme:fast-log", "logs without taking a lock");
//!
//! /// Logs for the other plugins of the acme family.
//! #[plugin(
//!     id = "acme-logger",
//!     slot = extra,
//!     provides = ["acme:fast-log@1.2.0"],
//!     requires = [("native-code ^1", ["engine-cranelift"])],
//!     declares = [FAST_LOG],
//! )]
//! pub struct Logger;
//!
//! impl Plugin for Logger {
//!     type Config = NoConfig;
//!     fn new(_: NoConfig) -> Result<Self, PluginError> {
//!         Ok(Logger)
//!     }
//! }
//!
//! let meta = <Logger as vm_core::plugin::Described>::META;
//! assert_eq!(meta.requires[0].suggest, ["engine-cranelift"]);
//! assert_eq!(meta.declares[0].name, "acme:fast-log");
//! ```
//!
//! ## Configuration
//!
//! A plugin's settings are a struct with `#[derive(PluginConfig)]` (and serde's
//! `Deserialize`): the field docs, types, `#[config(default = ..., range = "lo..=hi")]`
//! become the schema that `vm config` prints and that every layer is checked against.
//! The section is the slot name for `engine`, `virt`, `gc` and `simd`, and the plugin
//! id for the others. Layers, later wins: defaults, `vm.toml`, `VM_<SECTION>_<KEY>`
//! environment variables, `-C section.key=value`. Unknown keys and bad values are
//! errors naming the key and listing the valid ones.
//!
//! ```
//! use vm_core::{Plugin, PluginError, Settings, plugin};
//!
//! #[derive(Debug, Clone, serde::Deserialize, vm_core::PluginConfig)]
//! #[serde(default, deny_unknown_fields)]
//! pub struct CacheConfig {
//!     /// Entries kept before the oldest is dropped.
//!     #[config(default = 64, range = "1..=4096")]
//!     pub capacity: u32,
//! }
//!
//! /// A bounded cache.
//! #[plugin(id = "acme-cache", slot = extra)]
//! pub struct Cache {
//!     config: CacheConfig,
//! }
//!
//! impl Plugin for Cache {
//!     type Config = CacheConfig;
//!     fn new(config: CacheConfig) -> Result<Self, PluginError> {
//!         Ok(Cache { config })
//!     }
//! }
//!
//! let mut settings = Settings::new();
//! assert_eq!(settings.typed::<Cache>("acme-cache").unwrap().capacity, 64);
//! settings.merge_flag("acme-cache.capacity=128").unwrap();
//! assert_eq!(settings.typed::<Cache>("acme-cache").unwrap().capacity, 128);
//! settings.merge_flag("acme-cache.capacity=0").unwrap();
//! let err = settings.typed::<Cache>("acme-cache").unwrap_err().to_string();
//! assert!(err.contains("acme-cache.capacity"), "{err}");
//! ```
//!
//! ## Stats and health
//!
//! [`Plugin::stats`](crate::Plugin::stats) returns [`PluginStats`](crate::plugin::PluginStats):
//! the standard counters that apply (functions compiled, host calls, traps, memory
//! bytes…) and `custom` named counters. [`Vm::health`](crate::Vm::health) gathers
//! every plugin's state, uptime, error count and stats; `vm run --stats` (or
//! `--stats=json`) prints them when the guest finishes. Report only what you measure:
//! a counter that is not kept is left out, not zero.
//!
//! ## Events and observers
//!
//! An observer names the [`EventKind`](crate::slot::EventKind)s it wants in a `const`
//! mask; the composition ORs the masks at compile time, and engines emit an event
//! kind only when some composed observer wants it (per-call events cost nothing
//! otherwise). `Call` is an export called from the host; `WasmCall` a wasm function
//! called by wasm code; `Compile`, `Trap` and `GcCycle` are what they say; `CodeLoaded`
//! tells where a JIT put each function's machine code (engines without native code
//! never emit it). Functions are named by their module's
//! [`ModuleId`](crate::runtime::ModuleId) and index; `Compile` and `CodeLoaded` carry
//! the [`ModuleInfo`](crate::runtime::ModuleInfo), whose `func_label` names them.
//! Per-item counters (a function's calls) go into
//! [`PluginStats::tables`](crate::plugin::PluginStats::tables). `on_event` takes
//! `&self`: keep counters in atomics.
//!
//! ```
//! use std::sync::atomic::{AtomicU64, Ordering};
//! use vm_core::config::NoConfig;
//! use vm_core::plugin::PluginStats;
//! use vm_core::slot::{Event, EventKind, EventMask, Observer};
//! use vm_core::{Plugin, PluginError, plugin};
//!
//! /// Counts calls from the host and traps.
//! #[plugin(id = "acme-counter", slot = observer)]
//! pub struct Counter {
//!     pub calls: AtomicU64,
//!     pub traps: AtomicU64,
//! }
//!
//! impl Plugin for Counter {
//!     type Config = NoConfig;
//!     fn new(_: NoConfig) -> Result<Self, PluginError> {
//!         Ok(Counter { calls: AtomicU64::new(0), traps: AtomicU64::new(0) })
//!     }
//!     fn stats(&self) -> PluginStats {
//!         // `PluginStats` is non-exhaustive: start from the default, set what you keep.
//!         let mut stats = PluginStats::default();
//!         stats.custom = vec![
//!             ("calls", self.calls.load(Ordering::Relaxed)),
//!             ("traps", self.traps.load(Ordering::Relaxed)),
//!         ];
//!         stats
//!     }
//! }
//!
//! impl Observer for Counter {
//!     const EVENTS: EventMask = EventMask::NONE.with(EventKind::Call).with(EventKind::Trap);
//!     fn on_event(&self, event: &Event<'_>) {
//!         match event {
//!             Event::Call { .. } => self.calls.fetch_add(1, Ordering::Relaxed),
//!             Event::Trap { .. } => self.traps.fetch_add(1, Ordering::Relaxed),
//!             _ => return,
//!         };
//!     }
//! }
//! ```
//!
//! ## Lifecycle
//!
//! [`Vm`](crate::Vm) is a typestate: `Vm::new` (every plugin's `new` with its
//! config) → `init()` → `start()` → running (compile, instantiate, call) → `stop()`;
//! `cleanup` runs on drop. Hooks run in the init order, `stop` and `cleanup` in
//! reverse. Running guest code on a VM that was not started does not compile; a hook
//! that fails stops the transition with the plugin's error and leaves its state in
//! `health()`.
//!
//! ## Host modules, end to end
//!
//! A host module serves imports of one module name (a plugin may serve several, see
//! below). The chain is: typed functions
//! with [`#[host_fn]`](macro@crate::host_fn) (each emits a `HostFuncDef` constant
//! named after the function in capitals, with the wasm signature derived from the
//! Rust one) → a [`HostModuleDef`](crate::runtime::HostModuleDef) listing them and
//! building the per-instance state → `impl HostModule` on the plugin type → the plugin
//! in `hosts: [...]` of `compose!`. Only composed host plugins serve imports: a linked
//! host plugin left out of `hosts` makes instantiation fail with an error naming the
//! line to add.
//!
//! `#[host_fn]` parameters, in wasm order: the state `&mut S` first (optional);
//! integers and floats (one wasm value each); `&[u8]` / `&mut [u8]` (a `ptr, len`
//! pair, bounds-checked once, a zero-copy view of guest memory); `#[out] x: &mut T` (a
//! pointer written after an `Ok` return); `#[memory] m: &[u8]` (the whole memory).
//! Returns: nothing, a scalar, `Result<(), E>` with `i32: From<E>` (an errno), or any
//! of these in `Result<_, Trap>` (an `Err` traps). Options: `name = "import_name"`,
//! `fault = expr` (the errno for an out-of-bounds view instead of a trap).
//!
//! ```
//! use std::time::Instant;
//! use vm_core::config::NoConfig;
//! use vm_core::runtime::{HostModuleDef, Trap};
//! use vm_core::slot::HostModule;
//! use vm_core::{Plugin, PluginError, host_fn, plugin};
//!
//! /// Per-instance state, built when an instance first imports from `env`.
//! pub struct EnvState {
//!     started: Instant,
//!     pub lines: Vec<String>,
//! }
//!
//! /// `env.clock_ms() -> i64`: milliseconds since the instance started.
//! #[host_fn]
//! pub fn clock_ms(st: &mut EnvState) -> i64 {
//!     st.started.elapsed().as_millis() as i64
//! }
//!
//! /// `env.log(ptr, len)`: a line of UTF-8 text, read in place from guest memory.
//! #[host_fn]
//! pub fn log(st: &mut EnvState, text: &[u8]) -> Result<(), Trap> {
//!     let text = std::str::from_utf8(text).map_err(|_| Trap::host("env.log: not UTF-8"))?;
//!     st.lines.push(text.to_owned());
//!     Ok(())
//! }
//!
//! pub static ENV: HostModuleDef = HostModuleDef {
//!     module: "env",
//!     functions: &[CLOCK_MS, LOG],
//!     // Once per instance: the run context (args, env, preopens) and the composed
//!     // plugin, whose typed config can be read with `downcast_ref::<Env>()`.
//!     new_state: |_run, _plugin| {
//!         Ok(Box::new(EnvState { started: Instant::now(), lines: Vec::new() }))
//!     },
//! };
//!
//! /// The `env` host module.
//! #[plugin(id = "acme-env", slot = host)]
//! pub struct Env;
//!
//! impl Plugin for Env {
//!     type Config = NoConfig;
//!     fn new(_: NoConfig) -> Result<Self, PluginError> {
//!         Ok(Env)
//!     }
//! }
//!
//! impl HostModule for Env {
//!     const MODULE: &'static HostModuleDef = &ENV;
//! }
//!
//! use vm_core::runtime::ValType::{I32, I64};
//! assert_eq!((LOG.name, LOG.params, LOG.results), ("log", &[I32, I32][..], &[][..]));
//! assert_eq!((CLOCK_MS.params, CLOCK_MS.results), (&[][..], &[I64][..]));
//! ```
//!
//! ## Composing and running
//!
//! `compose!` declares the composition type. Singleton slots take one type, or
//! alternatives under `#[cfg(feature = ...)]` of which exactly one must be enabled;
//! list slots take lists. Two plugins in a singleton slot, an empty one, an unmet,
//! mismatched or cyclic requirement, or a duplicate id does not compile.
//!
//! ```
//! # use std::sync::atomic::{AtomicU64, Ordering};
//! # use vm_core::config::NoConfig;
//! # use vm_core::runtime::{HostModuleDef, Trap};
//! # use vm_core::slot::{Event, EventKind, EventMask, HostModule, Observer};
//! # use vm_core::{Plugin, PluginError, host_fn, plugin};
//! # pub struct EnvState { pub lines: Vec<String> }
//! # #[host_fn]
//! # pub fn log(st: &mut EnvState, text: &[u8]) -> Result<(), Trap> {
//! #     st.lines.push(String::from_utf8_lossy(text).into_owned());
//! #     Ok(())
//! # }
//! # pub static ENV: HostModuleDef = HostModuleDef {
//! #     module: "env", functions: &[LOG], new_state: |_, _| Ok(Box::new(EnvState { lines: Vec::new() })),
//! # };
//! # /// The `env` host module.
//! # #[plugin(id = "acme-env", slot = host)]
//! # pub struct Env;
//! # impl Plugin for Env { type Config = NoConfig; fn new(_: NoConfig) -> Result<Self, PluginError> { Ok(Env) } }
//! # impl HostModule for Env { const MODULE: &'static HostModuleDef = &ENV; }
//! # /// Counts calls from the host.
//! # #[plugin(id = "acme-counter", slot = observer)]
//! # pub struct Counter { pub calls: AtomicU64 }
//! # impl Plugin for Counter { type Config = NoConfig; fn new(_: NoConfig) -> Result<Self, PluginError> { Ok(Counter { calls: AtomicU64::new(0) }) } }
//! # impl Observer for Counter {
//! #     const EVENTS: EventMask = EventMask::NONE.with(EventKind::Call);
//! #     fn on_event(&self, _: &Event<'_>) { self.calls.fetch_add(1, Ordering::Relaxed); }
//! # }
//! use vm_core::runtime::{Linker, RunContext, Val};
//! use vm_core::{Settings, Vm};
//!
//! vm_core::compose! {
//!     /// This program's VM: the interpreter, in-process, with `env` and a counter.
//!     pub struct MyVm {
//!         engine: vm_engine_interp::Interp,
//!         virt: vm_virt_host::HostVirt,
//!         hosts: [Env],
//!         observers: [Counter],
//!         extra: [],
//!     }
//! }
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let mut vm = Vm::<MyVm>::new(&Settings::new())?.init()?.start()?;
//! let module = vm.compile(
//!     r#"(module
//!          (import "env" "log" (func $log (param i32 i32)))
//!          (memory 1)
//!          (data (i32.const 16) "hello")
//!          (func (export "run") (param $n i32) (result i32)
//!            (call $log (i32.const 16) (i32.const 5))
//!            (i32.mul (local.get $n) (i32.const 2))))"#,
//! )?;
//! let mut linker = Linker::new(RunContext::default());
//! let instance = vm.instantiate(&module, &mut linker)?;
//! assert_eq!(vm.invoke(&mut linker, instance, "run", &[Val::I32(21)])?, [Val::I32(42)]);
//! assert_eq!(vm.plugin::<Counter>().calls.load(Ordering::Relaxed), 1);
//! # Ok(())
//! # }
//! ```
//!
//! The `env` state lives in the linker's store for the instance's lifetime; the
//! counter is reached by type. The workspace's `vm` facade crate re-exports this crate
//! and the built-in plugins for embedders who want one dependency.
//!
//! ### One plugin, several import modules
//!
//! A host plugin can serve more than one import module name — an interface under its
//! old and new names, as `host-wasi` serves `wasi_unstable` (preview0) beside
//! `wasi_snapshot_preview1` — by listing one `HostModuleDef` per name in
//! [`HostModule::MODULES`](crate::slot::HostModule::MODULES) (by default `MODULE`
//! alone). A function whose ABI is the same in both is the same `HostFuncDef` in both
//! lists; one that differs gets a `#[host_fn(name = "...")]` of its own. The modules of
//! a plugin share one state per instance, built by the `new_state` of the first module
//! the instance imports from, so they should share one constructor:
//!
//! ```
//! # use vm_core::config::NoConfig;
//! # use vm_core::{Plugin, PluginError};
//! use vm_core::runtime::{HostModuleDef, Linker, RunContext, Val};
//! use vm_core::slot::HostModule;
//! use vm_core::{Settings, Vm, host_fn, plugin};
//!
//! pub struct Tally(i32);
//!
//! /// `tally_v2.add(n) -> total`.
//! #[host_fn]
//! pub fn add(t: &mut Tally, n: i32) -> i32 {
//!     t.0 += n;
//!     t.0
//! }
//!
//! /// `tally_v1.add(n) -> total`: version 1 counted in tens.
//! #[host_fn(name = "add")]
//! pub fn add_tens(t: &mut Tally, n: i32) -> i32 {
//!     t.0 += 10 * n;
//!     t.0
//! }
//!
//! const NEW_STATE: vm_core::runtime::NewStateFn = |_, _| Ok(Box::new(Tally(0)));
//! pub static V2: HostModuleDef =
//!     HostModuleDef { module: "tally_v2", functions: &[ADD], new_state: NEW_STATE };
//! pub static V1: HostModuleDef =
//!     HostModuleDef { module: "tally_v1", functions: &[ADD_TENS], new_state: NEW_STATE };
//!
//! /// Serves `tally_v2` and the older `tally_v1`.
//! #[plugin(id = "acme-tally", slot = host)]
//! pub struct Tallies;
//! # impl Plugin for Tallies { type Config = NoConfig; fn new(_: NoConfig) -> Result<Self, PluginError> { Ok(Tallies) } }
//!
//! impl HostModule for Tallies {
//!     const MODULE: &'static HostModuleDef = &V2;
//!     const MODULES: &'static [&'static HostModuleDef] = &[&V2, &V1];
//! }
//!
//! vm_core::compose! {
//!     /// The interpreter with the tally modules.
//!     pub struct TallyVm {
//!         engine: vm_engine_interp::Interp,
//!         virt: vm_virt_host::HostVirt,
//!         hosts: [Tallies],
//!     }
//! }
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let mut vm = Vm::<TallyVm>::new(&Settings::new())?.init()?.start()?;
//! let module = vm.compile(
//!     r#"(module
//!          (import "tally_v1" "add" (func $old (param i32) (result i32)))
//!          (import "tally_v2" "add" (func $new (param i32) (result i32)))
//!          (func (export "run") (result i32)
//!            (drop (call $old (i32.const 4)))
//!            (call $new (i32.const 2))))"#,
//! )?;
//! let mut linker = Linker::new(RunContext::default());
//! let instance = vm.instantiate(&module, &mut linker)?;
//! // One tally behind both modules: 40 + 2.
//! assert_eq!(vm.invoke(&mut linker, instance, "run", &[])?, [Val::I32(42)]);
//! # Ok(())
//! # }
//! ```
//!
//! ## A custom `vm` binary
//!
//! The `vm` command line is a library, `vm_cli` (package `vm-bin`), generic over the
//! composition. A binary with a plugin of its own is `compose!` plus one line, and has
//! every subcommand (`run`, `wast`, `plugins`, `info`, `config`), the config layers and
//! `--stats`:
//!
//! ```no_run
//! vm_core::compose! {
//!     /// This binary's VM.
//!     pub struct MyVm {
//!         engine: vm_engine_interp::Interp,
//!         virt: vm_virt_host::HostVirt,
//!         hosts: [],
//!     }
//! }
//!
//! fn main() -> std::process::ExitCode {
//!     vm_cli::main::<MyVm>()
//! }
//! ```
//!
//! vm-bin's features pick the command line's optional parts: with its defaults (or
//! `features = ["cli-full"]` beside `default-features = false`) the binary has them
//! all; without `cli-full` it is the small command line of an embedded `vm` (binary
//! modules, text output, a hand-written argument parser; see its crate docs).
//!
//! The repository's `examples/custom-vm` is such a binary with an `env` host module
//! and a call-counting observer in a plugin crate of their own; the tests build and
//! run it.
//!
//! ## Testing a plugin
//!
//! - Unit-test host functions directly: `#[host_fn]` keeps the Rust function callable,
//!   and the emitted constant's `call` runs the generated wrapper on a
//!   [`Caller`](crate::runtime::Caller) built over a byte slice.
//! - Test the composition rules your plugin relies on with `trybuild`: a composition
//!   that misses your requirement must fail with your message.
//! - Run real wasm through a real composition in the test crate of the binary (or of
//!   a dev-only crate), never by making one plugin crate depend on another: plugins
//!   stand side by side and meet only in compositions. `vm new-plugin NAME --slot
//!   host|observer|extra` writes a crate laid out this way.
//!
//! ```
//! # use vm_core::host_fn;
//! # use vm_core::runtime::{Caller, Trap, Val};
//! # pub struct EnvState { pub lines: Vec<String> }
//! #[host_fn]
//! pub fn log(st: &mut EnvState, text: &[u8]) -> Result<(), Trap> {
//!     st.lines.push(String::from_utf8_lossy(text).into_owned());
//!     Ok(())
//! }
//!
//! let mut state = EnvState { lines: Vec::new() };
//! let mut memory = b"....hello".to_vec();
//! let mut caller = Caller::new(Some(&mut memory), &mut state);
//! (LOG.call)(&mut caller, &[Val::I32(4), Val::I32(5)], &mut []).unwrap();
//! assert_eq!(state.lines, ["hello"]);
//! // Out of bounds: a trap, never a read past the memory.
//! let mut caller = Caller::new(Some(&mut memory), &mut state);
//! assert!((LOG.call)(&mut caller, &[Val::I32(6), Val::I32(100)], &mut []).is_err());
//! ```
