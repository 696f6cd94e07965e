//! The `host-wasi` plugin (in progress).
