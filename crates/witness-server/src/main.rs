//! The `witness` command line: a thin shell around the library.

use clap::Parser;
use witness_server::cli::Cli;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    witness_server::telemetry::init();
    witness_server::cli::run(cli).await
}
