//! The Witness server: HTTP API, served panel, and the command line behind `witness`.

pub mod cli;
pub mod config;
pub mod error;
pub mod ingest;
pub mod model;
pub mod routes;
pub mod startup;
pub mod state;
pub mod telemetry;
