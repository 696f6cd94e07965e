//! The `engine-interp` plugin (in progress).
