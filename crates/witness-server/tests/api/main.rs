//! Black-box tests of the server over real HTTP: one binary, one module per area.

mod access;
mod auth;
mod backups;
mod chain;
mod cli;
mod diagnostics;
mod filter_property;
mod health;
mod helpers;
mod ingest;
mod management;
mod openapi;
mod panel;
mod query;
mod restore;
mod scale_out;
mod selfaudit;
mod settings;
mod trust;
mod views;
