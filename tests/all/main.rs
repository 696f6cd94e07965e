//! The integration tests: one binary, one module per topic.

mod cli;
mod registry;
mod support;
mod ui;
