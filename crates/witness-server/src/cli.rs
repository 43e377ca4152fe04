//! The `witness` command line.

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::config::ServeConfig;
use crate::startup::Application;

#[derive(Debug, Parser)]
#[command(
    name = "witness",
    version,
    about = "Witness: a self-hosted audit-log server"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the HTTP API and the panel.
    Serve(ServeConfig),
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(config) => serve(config).await,
    }
}

async fn serve(config: ServeConfig) -> anyhow::Result<()> {
    let app = Application::build(config).await?;
    // The one line a person (and the end-to-end tests) read to know where to go.
    println!("Witness is listening on http://{}", app.local_addr());
    app.run_until_stopped()
        .await
        .context("the HTTP server stopped with an error")
}
