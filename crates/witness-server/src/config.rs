//! What `witness` is told by its flags and environment.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;

use crate::ingest::IngestLimits;

#[derive(Debug, Clone, Args)]
pub struct DataDirArg {
    /// Directory for the store, backups and keys; created when missing.
    #[arg(long, env = "WITNESS_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
}

#[derive(Debug, Clone, Args)]
pub struct ServeConfig {
    /// Address to listen on; port 0 picks a free port (the chosen address is printed).
    #[arg(long, env = "WITNESS_LISTEN", default_value = "127.0.0.1:5341")]
    pub listen: SocketAddr,

    #[command(flatten)]
    pub data: DataDirArg,

    /// Directory holding the built panel (trunk's `dist`).
    #[arg(long, env = "WITNESS_PANEL_DIR", default_value = "./dist")]
    pub panel_dir: PathBuf,

    /// Largest ingestion request body, in bytes (larger: 413).
    #[arg(long, env = "WITNESS_MAX_PAYLOAD_BYTES", default_value_t = 10 * 1024 * 1024)]
    pub max_payload_bytes: usize,

    /// Largest single event, in bytes (larger: 400 naming the event).
    #[arg(long, env = "WITNESS_MAX_EVENT_BYTES", default_value_t = 256 * 1024)]
    pub max_event_bytes: usize,

    /// Events received longer ago than this many days are deleted (1 to 3650).
    #[arg(long, env = "WITNESS_RETENTION_DAYS", default_value_t = 365,
          value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub retention_days: u32,
}

impl ServeConfig {
    /// The defaults with the given listen address, data and panel directories (tests use this).
    pub fn new(listen: SocketAddr, data_dir: PathBuf, panel_dir: PathBuf) -> Self {
        ServeConfig {
            listen,
            data: DataDirArg { data_dir },
            panel_dir,
            max_payload_bytes: 10 * 1024 * 1024,
            max_event_bytes: 256 * 1024,
            retention_days: 365,
        }
    }

    pub fn ingest_limits(&self) -> IngestLimits {
        IngestLimits {
            max_payload_bytes: self.max_payload_bytes,
            max_event_bytes: self.max_event_bytes,
        }
    }
}
