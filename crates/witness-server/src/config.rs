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

    /// Keep events, users, keys and settings in this PostgreSQL database
    /// (`postgres://user:password@host:port/database`) instead of SQLite in the data
    /// directory; several servers may share one. Backups and keys stay in the data directory.
    #[arg(long, env = "WITNESS_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
}

/// The storage secret key, for the commands that use it.
#[derive(Clone, Args)]
pub struct SecretKeyArg {
    /// The storage secret key (32 random bytes, base64) that encrypts backups; when not given,
    /// the key in `<data>/secret.key` is used.
    #[arg(
        long = "secret-key",
        env = "WITNESS_STORAGE_SECRETKEY",
        hide_env_values = true
    )]
    pub secret_key: Option<String>,
    /// Read the storage secret key from this file (`-`: one line of standard input) instead of
    /// the command line, where other users of the host could see it.
    #[arg(long = "secret-key-file", value_name = "FILE", conflicts_with = "secret_key",
          value_parser = read_secret_file)]
    pub secret_key_file: Option<String>,
}

/// The first line of a file (or of stdin for `-`), for secrets kept off the command line.
fn read_secret_file(path: &str) -> Result<String, String> {
    let text = if path == "-" {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .map_err(|error| format!("cannot read standard input: {error}"))?;
        line
    } else {
        std::fs::read_to_string(path).map_err(|error| format!("cannot read {path}: {error}"))?
    };
    Ok(text.lines().next().unwrap_or_default().trim().to_string())
}

impl std::fmt::Debug for SecretKeyArg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown = self
            .secret_key
            .as_ref()
            .or(self.secret_key_file.as_ref())
            .map(|_| "<hidden>");
        f.debug_struct("SecretKeyArg")
            .field("secret_key", &shown)
            .finish()
    }
}

impl SecretKeyArg {
    /// The given key, unless empty (an empty variable counts as not set).
    pub fn given(&self) -> Option<&str> {
        self.secret_key
            .as_deref()
            .or(self.secret_key_file.as_deref())
            .filter(|key| !key.trim().is_empty())
    }
}

/// Where Witness audits its own operations; the server and the command line read the same.
#[derive(Debug, Clone, Args)]
pub struct AuditArgs {
    /// Where Witness audits its own operations: comma-separated `local` (its own store),
    /// `file:DIR` (NDJSON files), `http(s)://host:port` (a second Witness). Host-only setting.
    #[arg(long, env = "WITNESS_AUDIT_TARGETS", default_value = "local")]
    pub audit_targets: String,

    /// Ingest API key for URL audit targets.
    #[arg(long, env = "WITNESS_AUDIT_API_KEY", hide_env_values = true)]
    pub audit_api_key: Option<String>,
}

impl Default for AuditArgs {
    fn default() -> Self {
        AuditArgs {
            audit_targets: "local".to_string(),
            audit_api_key: None,
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct ServeConfig {
    /// Address to listen on; port 0 picks a free port (the chosen address is printed).
    #[arg(long, env = "WITNESS_LISTEN", default_value = "127.0.0.1:5341")]
    pub listen: SocketAddr,

    #[command(flatten)]
    pub data: DataDirArg,

    /// Taken from WITNESS_STORAGE_SECRETKEY, else `<data>/secret.key`, else generated there
    /// at first start.
    #[command(flatten)]
    pub secret: SecretKeyArg,

    /// Directory holding the built panel (trunk's `dist`).
    #[arg(long, env = "WITNESS_PANEL_DIR", default_value = "./dist")]
    pub panel_dir: PathBuf,

    /// Largest ingestion request body, in bytes (larger: 413).
    #[arg(long, env = "WITNESS_MAX_PAYLOAD_BYTES", default_value_t = 10 * 1024 * 1024)]
    pub max_payload_bytes: usize,

    /// Largest single event, in bytes (larger: 400 naming the event).
    #[arg(long, env = "WITNESS_MAX_EVENT_BYTES", default_value_t = 256 * 1024)]
    pub max_event_bytes: usize,

    #[command(flatten)]
    pub audit: AuditArgs,

    /// Password of the first admin, used only when there are no users yet; otherwise a
    /// password is generated and printed once.
    #[arg(long, env = "WITNESS_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<String>,

    /// A session ends after this many seconds without use.
    #[arg(long, env = "WITNESS_SESSION_IDLE_SECONDS", default_value_t = 8 * 3600)]
    pub session_idle_seconds: u64,

    /// A session ends this many seconds after its login, however busy it has been.
    #[arg(long, env = "WITNESS_SESSION_MAX_SECONDS", default_value_t = 12 * 3600)]
    pub session_max_seconds: u64,

    /// How often an open live tail checks that its session or API key is still valid, in
    /// seconds; it closes when they are gone.
    #[arg(long, env = "WITNESS_LIVE_RECHECK_SECONDS", default_value_t = 30)]
    pub live_recheck_seconds: u64,

    /// How often a signed checkpoint of the chain's head goes to every audit target, in
    /// seconds (only when the chain grew; also once at shutdown).
    #[arg(long, env = "WITNESS_CHECKPOINT_SECONDS", default_value_t = 600)]
    pub checkpoint_seconds: u64,

    /// How often a full verify of the chain (with the checkpoints) runs on its own, in hours;
    /// Diagnostics and the integrity badge show its result.
    #[arg(long, env = "WITNESS_VERIFY_INTERVAL_HOURS", default_value_t = 24)]
    pub verify_interval_hours: u64,

    /// The fewest days of events the `retention_days` setting may keep: an admin cannot go
    /// below it through the API or the panel (a compromised admin account cannot make
    /// evidence expire early). Host-only setting.
    #[arg(long, env = "WITNESS_MIN_RETENTION_DAYS", default_value_t = 1,
          value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub min_retention_days: u32,

    /// Events received longer ago than this many days are deleted (1 to 3650). Used as the
    /// `retention_days` setting on first start; after that the setting (API, panel) rules.
    #[arg(long, env = "WITNESS_RETENTION_DAYS", default_value_t = 365,
          value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub retention_days: u32,

    /// Events one partition of the store takes before the next opens (a partition also ends
    /// with its UTC day). Smaller: queries scan less of the newest events; larger: fewer
    /// partitions to visit. See docs/architecture.md.
    #[arg(long, env = "WITNESS_PARTITION_EVENTS",
          default_value_t = crate::store::sqlite::partitions::DEFAULT_EVENTS_PER_PARTITION,
          value_parser = clap::value_parser!(i64).range(1..=100_000_000))]
    pub partition_events: i64,

    /// The clock sessions expire by (tests move it).
    #[arg(skip)]
    pub clock: crate::clock::Clock,
}

impl ServeConfig {
    /// The defaults with the given listen address, data and panel directories (tests use this).
    pub fn new(listen: SocketAddr, data_dir: PathBuf, panel_dir: PathBuf) -> Self {
        ServeConfig {
            listen,
            data: DataDirArg {
                data_dir,
                database_url: None,
            },
            secret: SecretKeyArg {
                secret_key: None,
                secret_key_file: None,
            },
            panel_dir,
            max_payload_bytes: 10 * 1024 * 1024,
            max_event_bytes: 256 * 1024,
            retention_days: 365,
            min_retention_days: 1,
            partition_events: crate::store::sqlite::partitions::DEFAULT_EVENTS_PER_PARTITION,
            checkpoint_seconds: 600,
            verify_interval_hours: 24,
            audit: AuditArgs::default(),
            admin_password: None,
            session_idle_seconds: 8 * 3600,
            session_max_seconds: 12 * 3600,
            live_recheck_seconds: 30,
            clock: crate::clock::Clock::default(),
        }
    }

    pub fn ingest_limits(&self) -> IngestLimits {
        IngestLimits {
            max_payload_bytes: self.max_payload_bytes,
            max_event_bytes: self.max_event_bytes,
        }
    }
}
