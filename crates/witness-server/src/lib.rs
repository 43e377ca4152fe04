//! The Witness server: HTTP API, served panel, and the command line behind `witness`.

pub mod accounts;
pub mod apikeys;
pub mod audit;
pub mod auth;
pub mod backup;
pub mod checkpoints;
pub mod cli;
pub mod clock;
pub mod config;
pub mod diagnostics;
pub mod error;
pub mod files;
pub mod ingest;
pub mod integrity;
pub mod model;
pub mod panel;
pub mod passwords;
pub mod retention;
pub mod routes;
pub mod secret_key;
pub mod sessions;
pub mod settings;
pub mod startup;
pub mod state;
pub mod store;
pub mod telemetry;
