//! The `virt-host` plugin (in progress).
