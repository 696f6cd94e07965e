//! The integration tests: one binary, one module per topic.

mod cli;
mod support;
mod ui;
