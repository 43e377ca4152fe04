//! The `witness` command line.

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};

use crate::apikeys::{generate_token, hash_token, token_prefix};
use crate::config::{DataDirArg, ServeConfig};
use crate::startup::{Application, prepare_data_dir};
use crate::store::{Permission, SqliteStore, Store};

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
    /// Manage API keys.
    #[command(subcommand)]
    Apikey(ApiKeyCommand),
    /// Verify the tamper-evident chain of stored events.
    Verify {
        #[command(flatten)]
        data: DataDirArg,
        /// Walk the whole chain, not only what was added since the last verified point.
        #[arg(long)]
        full: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ApiKeyCommand {
    /// Create a key and print its token (shown this once only).
    Create {
        #[command(flatten)]
        data: DataDirArg,
        /// What the key is for, e.g. the application that uses it.
        #[arg(long)]
        title: String,
        /// Comma-separated: ingest, read.
        #[arg(long, default_value = "ingest", value_delimiter = ',')]
        permissions: Vec<String>,
    },
    /// List keys (never their tokens).
    List {
        #[command(flatten)]
        data: DataDirArg,
    },
    /// Revoke a key: it stops working at once.
    Revoke {
        #[command(flatten)]
        data: DataDirArg,
        /// The key's id, as `witness apikey list` shows it.
        id: String,
    },
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(config) => serve(config).await,
        Command::Apikey(command) => apikey(command).await,
        Command::Verify { data, full } => verify(data, full).await,
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

fn open_store(data: &DataDirArg) -> anyhow::Result<SqliteStore> {
    let dir = prepare_data_dir(&data.data_dir)?;
    SqliteStore::open_in(&dir)
        .with_context(|| format!("cannot open the store in {}", dir.display()))
}

async fn apikey(command: ApiKeyCommand) -> anyhow::Result<()> {
    match command {
        ApiKeyCommand::Create {
            data,
            title,
            permissions,
        } => {
            let title = title.trim();
            if title.is_empty() {
                bail!("--title must not be empty");
            }
            let mut parsed = Vec::new();
            for permission in &permissions {
                let Some(p) = Permission::parse(permission) else {
                    bail!(
                        "--permissions: `{permission}` is not a permission; use ingest and/or read"
                    );
                };
                if !parsed.contains(&p) {
                    parsed.push(p);
                }
            }
            if parsed.is_empty() {
                bail!("--permissions: give at least one of ingest, read");
            }
            let store = open_store(&data)?;
            let token = generate_token();
            let key = store
                .create_api_key(title, &parsed, hash_token(&token), &token_prefix(&token))
                .await?;
            println!("Created API key {} ({})", key.id, key.title);
            println!("Token (shown only now; store it safely): {token}");
        }
        ApiKeyCommand::List { data } => {
            let store = open_store(&data)?;
            let keys = store.list_api_keys().await?;
            if keys.is_empty() {
                println!("No API keys yet. Create one with `witness apikey create --title NAME`.");
            }
            for key in keys {
                let permissions: Vec<&str> = key.permissions.iter().map(|p| p.as_str()).collect();
                let state = match key.revoked_at {
                    Some(at) => format!("revoked {}", at.format("%Y-%m-%d %H:%M UTC")),
                    None => "active".to_string(),
                };
                println!(
                    "{}\t{}…\t{}\t{}\tcreated {}\t{}",
                    key.id,
                    key.token_prefix,
                    permissions.join(","),
                    state,
                    key.created_at.format("%Y-%m-%d %H:%M UTC"),
                    key.title
                );
            }
        }
        ApiKeyCommand::Revoke { data, id } => {
            let store = open_store(&data)?;
            if !store.revoke_api_key(&id).await? {
                bail!("there is no API key with id `{id}` (see `witness apikey list`)");
            }
            println!("Revoked API key {id}");
        }
    }
    Ok(())
}

async fn verify(data: DataDirArg, full: bool) -> anyhow::Result<()> {
    let store = open_store(&data)?;
    let report = store.verify(full).await?;
    println!(
        "Verified {} events ({} newly checked).",
        report.verified_count, report.newly_verified
    );
    match (&report.head_id, &report.head_hash) {
        (Some(id), Some(hash)) => println!("Head: event {id}, hash {hash}"),
        _ => println!("Head: the chain is empty."),
    }
    match report.first_break {
        None => {
            println!("The chain is intact.");
            Ok(())
        }
        Some(broken) => bail!(
            "the chain is broken at event {}: {}",
            broken.event_id,
            broken.reason
        ),
    }
}
