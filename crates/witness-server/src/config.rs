//! What `witness serve` is told by its flags and environment.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;

#[derive(Debug, Clone, Args)]
pub struct ServeConfig {
    /// Address to listen on; port 0 picks a free port (the chosen address is printed).
    #[arg(long, env = "WITNESS_LISTEN", default_value = "127.0.0.1:5341")]
    pub listen: SocketAddr,

    /// Directory for the store, backups and keys; created when missing.
    #[arg(long, env = "WITNESS_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,

    /// Directory holding the built panel (trunk's `dist`).
    #[arg(long, env = "WITNESS_PANEL_DIR", default_value = "./dist")]
    pub panel_dir: PathBuf,
}
