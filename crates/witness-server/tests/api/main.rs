//! Black-box tests of the server over real HTTP: one binary, one module per area.

mod chain;
mod cli;
mod diagnostics;
mod health;
mod helpers;
mod ingest;
mod panel;
mod query;
