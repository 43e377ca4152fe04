//! Black-box tests of the server over real HTTP: one binary, one module per area.

mod diagnostics;
mod health;
mod helpers;
mod panel;
