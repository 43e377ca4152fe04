//! The `witness` command line.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};

use crate::apikeys::{generate_token, hash_token, token_prefix};
use crate::audit::{Auditor, RequestContext, file_target_dirs, parse_targets};
use crate::backup::{self, backup_dir};
use crate::checkpoints::CheckpointKey;
use crate::config::{AuditArgs, DataDirArg, SecretKeyArg, ServeConfig};
use crate::details;
use crate::error::AppError;
use crate::integrity::compare_with_checkpoints;
use crate::passwords::{hash_password_off_thread, password_problem};
use crate::secret_key::{self, SecretKey};
use crate::startup::{Application, prepare_data_dir};
use crate::store::{Permission, Store, UserChanges, UserRecord};

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
    /// Manage users (the first admin is created by `witness serve`).
    #[command(subcommand)]
    User(UserCommand),
    /// Verify the tamper-evident chain of stored events.
    Verify {
        #[command(flatten)]
        data: DataDirArg,
        /// Walk the whole chain, not only what was added since the last verified point, and
        /// compare it with the signed checkpoints (the store's and the `file:` targets').
        #[arg(long)]
        full: bool,
        /// Checkpoints are signed with a key derived from this one.
        #[command(flatten)]
        secret: SecretKeyArg,
        #[command(flatten)]
        audit: AuditArgs,
    },
    /// Print the storage secret key (from WITNESS_STORAGE_SECRETKEY or `<data>/secret.key`).
    ShowKey {
        #[command(flatten)]
        data: DataDirArg,
        #[command(flatten)]
        secret: SecretKeyArg,
        /// Print a fresh random key instead; nothing is changed.
        #[arg(long)]
        generate: bool,
    },
    /// Back up users, API keys and settings now, into `<data>/Backups/`.
    Backup {
        #[command(flatten)]
        data: DataDirArg,
        #[command(flatten)]
        secret: SecretKeyArg,
        #[command(flatten)]
        audit: AuditArgs,
    },
    /// Replace users, API keys and settings with those of a backup (events are not touched).
    Restore {
        #[command(flatten)]
        data: DataDirArg,
        /// The key that encrypted the backup (default: WITNESS_STORAGE_SECRETKEY, else
        /// `<data>/secret.key`).
        #[command(flatten)]
        secret: SecretKeyArg,
        /// The backup file to restore.
        #[arg(
            long,
            value_name = "FILE",
            conflicts_with = "from_latest",
            required_unless_present = "from_latest"
        )]
        backup: Option<PathBuf>,
        /// Restore the newest backup in `<data>/Backups/`.
        #[arg(long)]
        from_latest: bool,
        /// Do not ask for confirmation.
        #[arg(short = 'y', long = "yes")]
        yes: bool,
        #[command(flatten)]
        audit: AuditArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user. The password comes from --password, else a prompt (or one line of stdin).
    Add {
        #[command(flatten)]
        data: DataDirArg,
        #[command(flatten)]
        audit: AuditArgs,
        username: String,
        /// admin or auditor.
        #[arg(long, default_value = "auditor")]
        role: String,
        #[arg(long)]
        password: Option<String>,
        #[arg(long)]
        display_name: Option<String>,
        #[arg(long)]
        email: Option<String>,
    },
    /// Set a user's password (ends their sessions).
    SetPassword {
        #[command(flatten)]
        data: DataDirArg,
        #[command(flatten)]
        audit: AuditArgs,
        username: String,
        #[arg(long)]
        password: Option<String>,
    },
    /// Set a user's role: admin or auditor.
    SetRole {
        #[command(flatten)]
        data: DataDirArg,
        #[command(flatten)]
        audit: AuditArgs,
        username: String,
        role: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ApiKeyCommand {
    /// Create a key and print its token (shown this once only).
    Create {
        #[command(flatten)]
        data: DataDirArg,
        #[command(flatten)]
        audit: AuditArgs,
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
        #[command(flatten)]
        audit: AuditArgs,
    },
    /// Revoke a key: it stops working at once.
    Revoke {
        #[command(flatten)]
        data: DataDirArg,
        #[command(flatten)]
        audit: AuditArgs,
        /// The key's id, as `witness apikey list` shows it.
        id: String,
    },
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(config) => serve(config).await,
        Command::Apikey(command) => apikey(command).await,
        Command::User(command) => user(command).await,
        Command::Verify {
            data,
            full,
            secret,
            audit,
        } => verify(data, full, secret, audit).await,
        Command::ShowKey {
            data,
            secret,
            generate,
        } => show_key(data, secret, generate),
        Command::Backup {
            data,
            secret,
            audit,
        } => make_backup(data, secret, audit).await,
        Command::Restore {
            data,
            secret,
            backup,
            from_latest,
            yes,
            audit,
        } => restore(data, secret, backup, from_latest, yes, audit).await,
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

async fn open_store(data: &DataDirArg) -> anyhow::Result<Arc<dyn Store>> {
    let dir = prepare_data_dir(&data.data_dir)?;
    let store = crate::store::open(
        data.database_url.as_deref(),
        &dir,
        crate::store::sqlite::PartitionOptions::default(),
        crate::clock::Clock::default(),
    )
    .await
    .with_context(|| match &data.database_url {
        Some(_) => "cannot open the PostgreSQL store (WITNESS_DATABASE_URL)".to_string(),
        None => format!("cannot open the store in {}", dir.display()),
    })?;
    crate::files::make_private(&dir)
        .with_context(|| format!("cannot restrict {}", dir.display()))?;
    Ok(store)
}

/// The command line audits itself like the API: Begin before an operation, then Complete or
/// Fail, to the targets the server is configured with (`--audit-targets`,
/// `WITNESS_AUDIT_TARGETS`). The principal is the host user who ran it.
struct CliAudit {
    auditor: Arc<Auditor>,
    context: RequestContext,
}

impl CliAudit {
    fn new(store: &Arc<dyn Store>, audit: &AuditArgs, command: &str) -> anyhow::Result<Self> {
        let session = Auditor::new_session_id();
        let targets = parse_targets(
            &audit.audit_targets,
            audit.audit_api_key.as_deref(),
            store.clone(),
            &session,
        )?;
        let login = std::env::var("USER")
            .or_else(|_| std::env::var("LOGNAME"))
            .unwrap_or_else(|_| "unknown".to_string());
        Ok(CliAudit {
            auditor: Arc::new(Auditor::new(session, targets)),
            context: RequestContext {
                principal: format!("host:{login}"),
                principal_type: "system",
                method: "CLI".to_string(),
                path: format!("witness {command}"),
                remote_address: None,
            },
        })
    }

    /// Runs `work` as one audited operation; refused when its Begin cannot be written.
    async fn run<T>(
        &self,
        action: &str,
        details: serde_json::Map<String, serde_json::Value>,
        work: impl std::future::Future<Output = anyhow::Result<T>>,
    ) -> anyhow::Result<T> {
        let operation = self
            .auditor
            .begin(&self.context, action, details)
            .await
            .map_err(|error| anyhow::anyhow!("{error}"))?;
        operation
            .finish_with(work.await.map_err(AppError::from), |_| {
                serde_json::Map::new()
            })
            .await
            .map_err(|error| match error {
                AppError::Internal(error) => error,
                other => anyhow::anyhow!("{other}"),
            })
    }
}

async fn apikey(command: ApiKeyCommand) -> anyhow::Result<()> {
    match command {
        ApiKeyCommand::Create {
            data,
            audit,
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
            let store = open_store(&data).await?;
            let audit = CliAudit::new(&store, &audit, "apikey create")?;
            let token = generate_token();
            let names: Vec<&str> = parsed.iter().map(|p| p.as_str()).collect();
            let key = audit
                .run(
                    "apikey.created",
                    details! {"title" => title, "permissions" => names},
                    async {
                        Ok(store
                            .create_api_key(
                                title,
                                &parsed,
                                hash_token(&token),
                                &token_prefix(&token),
                            )
                            .await?)
                    },
                )
                .await?;
            println!("Created API key {} ({})", key.id, key.title);
            println!("Token (shown only now; store it safely): {token}");
        }
        ApiKeyCommand::List { data, audit } => {
            let store = open_store(&data).await?;
            let audit = CliAudit::new(&store, &audit, "apikey list")?;
            let keys = audit
                .run("apikey.listed", details! {}, async {
                    Ok(store.list_api_keys().await?)
                })
                .await?;
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
        ApiKeyCommand::Revoke { data, audit, id } => {
            let store = open_store(&data).await?;
            let audit = CliAudit::new(&store, &audit, "apikey revoke")?;
            audit
                .run("apikey.revoked", details! {"key_id" => id}, async {
                    if !store.revoke_api_key(&id).await? {
                        bail!("there is no API key with id `{id}` (see `witness apikey list`)");
                    }
                    Ok(())
                })
                .await?;
            println!("Revoked API key {id}");
        }
    }
    Ok(())
}

async fn verify(
    data: DataDirArg,
    full: bool,
    secret: SecretKeyArg,
    audit: AuditArgs,
) -> anyhow::Result<()> {
    let store = open_store(&data).await?;
    let cli_audit = CliAudit::new(&store, &audit, "verify")?;
    let key = if full {
        let Some((key, _)) = secret_key::load(&data.data_dir, secret.given())? else {
            bail!(
                "a full verify compares the chain with its signed checkpoints, which needs the \
                 storage secret key: set {} (there is no {})",
                secret_key::SECRET_KEY_ENV,
                secret_key::key_file(&data.data_dir).display()
            );
        };
        Some(CheckpointKey::derive(&key))
    } else {
        None
    };
    let report = cli_audit
        .run("chain.verified", details! {"full" => full}, async {
            let report = store.verify(full).await?;
            Ok(match &key {
                Some(key) => {
                    compare_with_checkpoints(
                        store.as_ref(),
                        key,
                        &file_target_dirs(&audit.audit_targets),
                        report,
                    )
                    .await?
                }
                None => report,
            })
        })
        .await?;
    if full {
        println!(
            "Compared with {} signed checkpoints{}.",
            report.checkpoints_compared,
            report
                .newest_checkpoint_id
                .as_deref()
                .map(|id| format!(" (the newest vouches for event {id})"))
                .unwrap_or_default()
        );
    }
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

fn read_password(given: Option<String>) -> anyhow::Result<String> {
    let password = match given {
        Some(password) => password,
        None => {
            use std::io::IsTerminal;
            if std::io::stdin().is_terminal() {
                rpassword::prompt_password("Password: ").context("reading the password")?
            } else {
                let mut line = String::new();
                std::io::stdin()
                    .read_line(&mut line)
                    .context("reading the password from stdin")?;
                line.trim_end_matches(['\r', '\n']).to_string()
            }
        }
    };
    if let Some(problem) = password_problem(&password) {
        bail!("the password {problem}");
    }
    Ok(password)
}

fn parse_role(text: &str) -> anyhow::Result<witness_api::Role> {
    witness_api::Role::parse(text)
        .ok_or_else(|| anyhow::anyhow!("`{text}` is not a role; use admin or auditor"))
}

async fn find_user(store: &Arc<dyn Store>, username: &str) -> anyhow::Result<UserRecord> {
    store
        .find_user(username)
        .await?
        .ok_or_else(|| anyhow::anyhow!("there is no user `{username}`"))
}

async fn user(command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Add {
            data,
            audit,
            username,
            role,
            password,
            display_name,
            email,
        } => {
            let role = parse_role(&role)?;
            let username = crate::accounts::Username::parse(&username)
                .map_err(|problem| anyhow::anyhow!("the username {problem}"))?;
            let email = crate::accounts::Email::parse_optional(email.as_deref())
                .map_err(|problem| anyhow::anyhow!("the email {problem}"))?;
            let password = read_password(password)?;
            let store = open_store(&data).await?;
            let audit = CliAudit::new(&store, &audit, "user add")?;
            let user = crate::accounts::new_user(username, display_name, email, role);
            audit
                .run(
                    "user.created",
                    details! {"user_id" => user.id, "username" => user.username, "role" => user.role.as_str()},
                    async {
                        let password_hash = hash_password_off_thread(password).await?;
                        Ok(store
                            .create_user(UserRecord {
                                user: user.clone(),
                                password_hash,
                            })
                            .await?)
                    },
                )
                .await?;
            println!(
                "Added {} `{}` ({})",
                user.role.as_str(),
                user.username,
                user.id
            );
        }
        UserCommand::SetPassword {
            data,
            audit,
            username,
            password,
        } => {
            let password = read_password(password)?;
            let store = open_store(&data).await?;
            let audit = CliAudit::new(&store, &audit, "user set-password")?;
            audit
                .run(
                    "user.changed",
                    details! {"username" => username, "password" => "changed"},
                    async {
                        let record = find_user(&store, &username).await?;
                        let changes = UserChanges {
                            password_hash: Some(hash_password_off_thread(password).await?),
                            ..UserChanges::default()
                        };
                        Ok(store.update_user(&record.user.id, changes).await?)
                    },
                )
                .await?;
            println!("Changed the password of `{username}`; their sessions have ended.");
        }
        UserCommand::SetRole {
            data,
            audit,
            username,
            role,
        } => {
            let role = parse_role(&role)?;
            let store = open_store(&data).await?;
            let audit = CliAudit::new(&store, &audit, "user set-role")?;
            audit
                .run(
                    "user.changed",
                    details! {"username" => username, "role" => role.as_str()},
                    async {
                        let record = find_user(&store, &username).await?;
                        let changes = UserChanges {
                            role: Some(role),
                            ..UserChanges::default()
                        };
                        Ok(store.update_user(&record.user.id, changes).await?)
                    },
                )
                .await?;
            println!("`{username}` is now {}.", role.as_str());
        }
    }
    Ok(())
}

fn show_key(data: DataDirArg, secret: SecretKeyArg, generate: bool) -> anyhow::Result<()> {
    if generate {
        println!("{}", SecretKey::generate().to_base64());
        eprintln!(
            "A fresh random key; nothing was changed. To use it, set {} before the first \
             start (backups made with another key still need that key).",
            secret_key::SECRET_KEY_ENV
        );
        return Ok(());
    }
    match secret_key::load(&data.data_dir, secret.given())? {
        Some((key, _)) => {
            println!("{}", key.to_base64());
            Ok(())
        }
        None => bail!(
            "there is no secret key yet: {} is not set and {} does not exist (`witness serve` \
             creates it on first start)",
            secret_key::SECRET_KEY_ENV,
            secret_key::key_file(&data.data_dir).display()
        ),
    }
}

async fn existing_store(data: &DataDirArg) -> anyhow::Result<Arc<dyn Store>> {
    if let Some(url) = &data.database_url {
        let found = crate::store::PostgresStore::exists(url)
            .await
            .context("cannot reach the PostgreSQL database (WITNESS_DATABASE_URL)")?;
        if !found {
            bail!(
                "there is no Witness store in the PostgreSQL database {} (no witness_schema \
                 table); check WITNESS_DATABASE_URL",
                crate::store::postgres::describe_url(url)
            );
        }
        return open_store(data).await;
    }
    let database = data.data_dir.join(crate::store::sqlite::DATABASE_FILE);
    if !database.is_file() {
        bail!(
            "there is no Witness store in {} (no {}); check --data-dir or WITNESS_DATA_DIR",
            data.data_dir.display(),
            crate::store::sqlite::DATABASE_FILE
        );
    }
    open_store(data).await
}

async fn make_backup(
    data: DataDirArg,
    secret: SecretKeyArg,
    audit: AuditArgs,
) -> anyhow::Result<()> {
    let store = existing_store(&data).await?;
    let audit = CliAudit::new(&store, &audit, "backup")?;
    let dir = prepare_data_dir(&data.data_dir)?;
    let Some((key, _)) = secret_key::load(&dir, secret.given())? else {
        bail!(
            "there is no secret key to encrypt the backup with: set {} or start `witness serve` \
             once to create {}",
            secret_key::SECRET_KEY_ENV,
            secret_key::key_file(&dir).display()
        );
    };
    let (info, pruned) = audit
        .run("backup.created", details! {}, async {
            backup::create(
                store.as_ref(),
                &backup_dir(&dir),
                &key,
                crate::settings::defaults(365),
            )
            .await
        })
        .await?;
    println!(
        "Created backup {} ({} bytes) in {}",
        info.file_name,
        info.size_bytes,
        backup_dir(&dir).display()
    );
    for old in pruned {
        println!("Deleted the old backup {} (backups_to_keep)", old.file_name);
    }
    println!("The secret key is not in the backup: keep it safe (`witness show-key`).");
    Ok(())
}

async fn restore(
    data: DataDirArg,
    secret: SecretKeyArg,
    file: Option<PathBuf>,
    from_latest: bool,
    yes: bool,
    audit: AuditArgs,
) -> anyhow::Result<()> {
    // Everything is read and checked before anything is written.
    let given_key = secret.given().is_some();
    let Some((key, _)) = secret_key::load(&data.data_dir, secret.given())? else {
        bail!(
            "give the key that encrypted the backup with --secret-key or {} (there is no {})",
            secret_key::SECRET_KEY_ENV,
            secret_key::key_file(&data.data_dir).display()
        );
    };
    let path = match (file, from_latest) {
        (Some(path), _) => path,
        (None, true) => {
            let dir = backup_dir(&data.data_dir);
            let newest = backup::list(&dir)
                .with_context(|| format!("cannot list the backups in {}", dir.display()))?
                .into_iter()
                .next()
                .with_context(|| format!("there is no backup in {}", dir.display()))?;
            dir.join(newest.file_name)
        }
        (None, false) => bail!("say which backup: --backup FILE or --from-latest"),
    };
    let (header, snapshot) = backup::read_file(&path, &key).with_context(|| {
        format!(
            "cannot restore from {}; nothing was changed",
            path.display()
        )
    })?;
    let summary = format!(
        "{} users, {} API keys, {} saved views and the settings from {} (made {})",
        snapshot.users.len(),
        snapshot.api_keys.len(),
        snapshot.views.len(),
        path.display(),
        header.created_at.format("%Y-%m-%d %H:%M:%S UTC")
    );
    if !yes {
        confirm(&format!(
            "This replaces every user, API key, saved view and setting in {} with {summary}, \
             and ends all sessions.",
            data.data_dir.display()
        ))?;
    }
    let dir = prepare_data_dir(&data.data_dir)?;
    let store = open_store(&data).await?;
    let audit = CliAudit::new(&store, &audit, "restore")?;
    let details = details! {
        "backup" => path.display().to_string(),
        "users" => snapshot.users.len(),
        "api_keys" => snapshot.api_keys.len(),
        "saved_views" => snapshot.views.len(),
    };
    audit
        .run("backup.restored", details, async {
            store
                .import_config(snapshot)
                .await
                .context("restoring failed; nothing was changed")
        })
        .await?;
    println!("Restored {summary}.");
    println!("Audit events are not part of backups and were left as they are; all sessions ended.");
    if given_key && secret_key::load(&dir, None).ok().flatten().is_none() {
        let saved = secret_key::save(&dir, &key)?;
        println!(
            "Saved the secret key to {} so that this server keeps using it.",
            saved.display()
        );
    }
    println!("If a server is running on {}, restart it.", dir.display());
    Ok(())
}

/// Asks on the terminal; refuses when there is none to ask on.
fn confirm(question: &str) -> anyhow::Result<()> {
    use std::io::{IsTerminal, Write};
    if !std::io::stdin().is_terminal() {
        bail!(
            "refusing to restore without confirmation: standard input is not a terminal; \
             add -y to confirm; nothing was changed"
        );
    }
    print!("{question}\nType `yes` to go ahead: ");
    std::io::stdout().flush().context("writing the question")?;
    let mut answer = String::new();
    std::io::stdin()
        .read_line(&mut answer)
        .context("reading the answer")?;
    if !matches!(answer.trim(), "yes" | "y" | "YES" | "Yes") {
        bail!("restore cancelled; nothing was changed");
    }
    Ok(())
}
