//! Typed errors of the runtime: one enum per subsystem and a root [`Error`](enum@Error).

use thiserror::Error;

use super::{Exception, Trap};

/// A module failed to decode or validate.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// Malformed or invalid binary.
    #[error("{message} (at offset {offset:#x})")]
    Invalid {
        /// Byte offset in the module.
        offset: u64,
        /// What is wrong.
        message: String,
    },
    /// The module uses a proposal this composition does not support.
    #[error("unsupported: {proposal} (at offset {offset:#x})")]
    Unsupported {
        /// Byte offset in the module.
        offset: u64,
        /// The proposal's name (`simd`, `gc`, `tail-call`...).
        proposal: &'static str,
    },
    /// The `.wat` text did not parse.
    #[error("text format: {0}")]
    Text(String),
}

impl DecodeError {
    /// An `unsupported: <proposal>` error.
    pub fn unsupported(proposal: &'static str, offset: u64) -> Self {
        DecodeError::Unsupported { offset, proposal }
    }

    pub(crate) fn from_parser(e: &wasmparser::BinaryReaderError) -> Self {
        DecodeError::Invalid { offset: e.offset(), message: e.message().to_owned() }
    }
}

/// An engine could not compile a validated module.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum CompileError {
    /// An operator the engine does not implement.
    #[error("unsupported: {op} (feature {proposal}) at offset {offset:#x}")]
    Unsupported {
        /// The operator's name.
        op: &'static str,
        /// The proposal it belongs to.
        proposal: &'static str,
        /// Byte offset in the module.
        offset: u64,
    },
    /// The function body could not be read (it passed validation, so this is a bug
    /// in a reader or an engine limit).
    #[error("{message} (at offset {offset:#x})")]
    Body {
        /// Byte offset in the module.
        offset: u64,
        /// What went wrong.
        message: String,
    },
    /// An engine limit was exceeded (code size, locals, stack height).
    #[error("engine limit exceeded: {0}")]
    Limit(&'static str),
    /// An engine's own check of the code it generated failed: a bug in the
    /// engine's translator, caught before the code could run.
    #[error("code verification failed in function {func}, instruction {at} ({op}): {message}")]
    Verify {
        /// The function's index in the module (imports first).
        func: u32,
        /// The instruction's index, counted from the function's first instruction.
        at: u32,
        /// The instruction, as the engine prints it.
        op: String,
        /// Which promise the instruction breaks.
        message: String,
    },
    /// The engine has no ahead-of-time form of its code (it generates no native
    /// code, or does not implement `Engine::compile_image`).
    #[error(
        "engine `{engine}` has no ahead-of-time compilation (no native code to save); build vm with engine-cranelift or engine-dynasm"
    )]
    NoAot {
        /// The engine's plugin id.
        engine: &'static str,
    },
}

impl CompileError {
    /// An `unsupported: <op> (feature <proposal>)` error.
    pub fn unsupported(op: &'static str, proposal: &'static str, offset: u64) -> Self {
        CompileError::Unsupported { op, proposal, offset }
    }
}

impl From<wasmparser::BinaryReaderError> for CompileError {
    fn from(e: wasmparser::BinaryReaderError) -> Self {
        CompileError::Body { offset: e.offset(), message: e.message().to_owned() }
    }
}

/// An import could not be resolved.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum LinkError {
    /// No registered instance or host module provides the import.
    #[error("unknown import: `{module}`.`{name}`")]
    UnknownImport {
        /// Import module name.
        module: String,
        /// Import field name.
        name: String,
    },
    /// The provider's item has another type.
    #[error("incompatible import type for `{module}`.`{name}`: expected {expected}, found {found}")]
    IncompatibleImport {
        /// Import module name.
        module: String,
        /// Import field name.
        name: String,
        /// The type the module asks for.
        expected: String,
        /// The type the provider has.
        found: String,
    },
    /// A host plugin serving the import is linked into this binary but not composed:
    /// it was never checked, initialized or started, so it does not serve imports.
    #[error(
        "import `{module}`.`{name}` is served by host plugin `{plugin}`, which is linked into \
         this binary but not composed: add `{type_path}` to `hosts: [...]` in `compose!`"
    )]
    HostNotComposed {
        /// Import module name.
        module: String,
        /// Import field name.
        name: String,
        /// The plugin's id.
        plugin: &'static str,
        /// The plugin type's path, as it would be written in `compose!`.
        type_path: &'static str,
    },
    /// A host module's state constructor failed.
    #[error("host module `{module}` failed to start: {trap}")]
    HostState {
        /// Host module name.
        module: String,
        /// Its error.
        trap: Trap,
    },
}

/// A linear memory could not be created or grown.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum MemoryError {
    /// The address space reservation failed.
    #[error("cannot reserve {bytes} bytes of address space: os error {errno}")]
    Reserve {
        /// Bytes asked for.
        bytes: usize,
        /// `errno`.
        errno: i32,
    },
    /// Committing pages failed.
    #[error("cannot commit {bytes} bytes: os error {errno}")]
    Commit {
        /// Bytes asked for.
        bytes: usize,
        /// `errno`.
        errno: i32,
    },
    /// More pages than the virt plugin allows.
    #[error("memory of {pages} pages exceeds the limit of {limit} pages")]
    TooLarge {
        /// Pages asked for.
        pages: u64,
        /// The limit.
        limit: u64,
    },
}

/// Instantiation failed.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum InstantiationError {
    /// An import could not be resolved.
    #[error(transparent)]
    Link(#[from] LinkError),
    /// A memory could not be created.
    #[error(transparent)]
    Memory(#[from] MemoryError),
    /// A table's declared minimum is larger than allowed.
    #[error(
        "table of {elements} elements exceeds the limit of {limit} elements (virt.max_table_elements)"
    )]
    TableTooLarge {
        /// Elements asked for.
        elements: u64,
        /// The limit.
        limit: u64,
    },
    /// A segment initializer or the start function trapped. Effects before the trap
    /// stay visible through imported memories and tables (WebAssembly 2.0 semantics).
    #[error("{0}")]
    Trap(#[from] Trap),
    /// The `virt` plugin could not make the instance runnable (a micro-VM could
    /// not be set up or could not map the instance's code or data).
    #[error("virt plugin: {0}")]
    Virt(String),
}

/// An execution limit cannot be used with this engine configuration.
#[derive(Clone, Copy, Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum LimitError {
    /// Fuel was set but the engine does not meter it.
    #[error(
        "fuel metering is off: set the engine's `fuel` key (`-C engine.fuel=N`) to a nonzero budget"
    )]
    FuelOff,
    /// An interrupt handle was asked for but the engine compiles no checks.
    #[error("interruption is off: set the engine's `timeout_ms` or `interruptible` key")]
    InterruptOff,
}

/// Calling an export failed before or during execution.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum InvokeError {
    /// The instance has no export of that name or it is not a function.
    #[error("no exported function `{0}`")]
    NoSuchFunction(String),
    /// Arguments do not match the signature.
    #[error("argument mismatch calling `{name}`: expected {expected}")]
    Signature {
        /// Export name.
        name: String,
        /// The signature.
        expected: String,
    },
    /// The call trapped.
    #[error("{0}")]
    Trap(#[from] Trap),
    /// An exception was thrown and no handler caught it (not a trap: its tag and
    /// payload are the guest's).
    #[error("uncaught exception: {0}")]
    Exception(Exception),
}

/// The root error of the runtime.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum Error {
    /// Decoding or validation failed.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// The engine could not compile the module.
    #[error(transparent)]
    Compile(#[from] CompileError),
    /// Instantiation failed.
    #[error(transparent)]
    Instantiation(#[from] InstantiationError),
    /// A call failed.
    #[error(transparent)]
    Invoke(#[from] InvokeError),
    /// A compiled module (artifact) could not be written or loaded.
    #[error(transparent)]
    Artifact(#[from] super::artifact::ArtifactError),
    /// A file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
}
