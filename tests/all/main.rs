//! The integration tests: one binary, one module per topic.

mod cli;
mod config;
mod corpus;
mod engines;
mod fuzz_regressions;
mod observer;
mod registry;
mod run;
mod spec;
mod support;
mod traps;
mod ui;
