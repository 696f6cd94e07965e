//! The `observer` slot: typed events by static dispatch.

use crate::plugin::Plugin;
use crate::runtime::{ModuleId, ModuleInfo};

/// Which events an observer subscribes to (a bit set).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct EventMask(pub u32);

impl EventMask {
    /// No events.
    pub const NONE: EventMask = EventMask(0);
    /// Every event.
    pub const ALL: EventMask = EventMask(u32::MAX);

    /// Whether `kind` is in the set.
    pub const fn contains(self, kind: EventKind) -> bool {
        self.0 & (1 << kind as u32) != 0
    }

    /// The set with `kind` added.
    pub const fn with(self, kind: EventKind) -> EventMask {
        EventMask(self.0 | (1 << kind as u32))
    }
}

/// The kinds of event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
#[non_exhaustive]
pub enum EventKind {
    /// A module was compiled.
    Compile = 0,
    /// An exported function was called from the host.
    Call = 1,
    /// A trap was raised.
    Trap = 2,
    /// A GC cycle ran.
    GcCycle = 3,
    /// A wasm function was called by wasm code (a call from the host is a [`EventKind::Call`]).
    WasmCall = 4,
    /// An engine published a module's native code (engines without native code for
    /// wasm functions, such as an interpreter, never emit it).
    CodeLoaded = 5,
}

/// Where one function's machine code lives, in an [`Event::CodeLoaded`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CodeRange {
    /// The function's index in its module (imports included).
    pub func: u32,
    /// Address of its first instruction.
    pub addr: usize,
    /// Bytes of code.
    pub len: usize,
}

/// An event.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub enum Event<'a> {
    /// A module was compiled: functions and time taken.
    Compile {
        /// Functions compiled.
        functions: u32,
        /// Nanoseconds.
        nanos: u64,
        /// The module: its [`ModuleInfo::id`] names it in later events, its
        /// [`ModuleInfo::func_label`] names its functions.
        module: &'a ModuleInfo,
    },
    /// An export was called from the host.
    Call {
        /// Export name.
        name: &'a str,
        /// The wasm function called: its module and its index there; `None` when the
        /// export is a host function.
        func: Option<(ModuleId, u32)>,
    },
    /// A trap was raised.
    Trap {
        /// The trap.
        trap: &'a crate::runtime::Trap,
    },
    /// A GC cycle ran.
    GcCycle {
        /// Bytes reclaimed.
        reclaimed: u64,
        /// How long the collection paused the program, in nanoseconds.
        pause_nanos: u64,
    },
    /// A wasm function called another (engines emit it only when an observer
    /// subscribes).
    WasmCall {
        /// The callee's function index in its module.
        func: u32,
        /// The callee's module.
        module: ModuleId,
    },
    /// An engine published the machine code of a module's defined functions (emitted
    /// only when an observer subscribes; engines without native code never emit it).
    CodeLoaded {
        /// The module (emitted before its [`Event::Compile`]).
        module: &'a ModuleInfo,
        /// Where each defined function's code lives.
        functions: &'a [CodeRange],
    },
}

impl Event<'_> {
    /// The event's kind.
    pub const fn kind(&self) -> EventKind {
        match self {
            Event::Compile { .. } => EventKind::Compile,
            Event::Call { .. } => EventKind::Call,
            Event::Trap { .. } => EventKind::Trap,
            Event::GcCycle { .. } => EventKind::GcCycle,
            Event::WasmCall { .. } => EventKind::WasmCall,
            Event::CodeLoaded { .. } => EventKind::CodeLoaded,
        }
    }
}

/// An observer of typed events.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is registered in slot `observer` but does not implement `vm_core::slot::Observer`",
    label = "this plugin type does not implement `Observer`",
    note = "add `impl vm_core::slot::Observer for {Self} {{ ... }}` or register it in the slot it implements"
)]
pub trait Observer: Plugin {
    /// The events this observer subscribes to; others cost nothing.
    const EVENTS: EventMask;
    /// Receives an event in [`Self::EVENTS`].
    fn on_event(&self, event: &Event<'_>);
}
