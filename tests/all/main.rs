//! The integration tests: one binary, one module per topic.

mod bombs;
mod cli;
mod config;
mod corpus;
mod engines;
mod observer;
mod registry;
mod run;
mod soak;
mod spec;
mod support;
mod traps;
mod ui;
mod wasi_misuse;
