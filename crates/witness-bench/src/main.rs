//! `witness-bench`: ingestion throughput and query latency of Witness on this machine.
//!
//! ```text
//! cargo run --release -p witness-bench -- --events 200000 --ingest-events 100000
//! ```
//!
//! 1. Ingestion: the real server in process, `--clients` concurrent clients POSTing CLEF batches
//!    of `--batch` events to `/ingest/clef`; then the same events through `Store::append` without
//!    HTTP; then a raw rusqlite baseline running the writer's SQL on a fresh file.
//! 2. Queries: `--events` events loaded through `Store::append`, then first pages, histograms
//!    and a cursor walk through the `Store` trait, and the same over HTTP.
//!
//! `--backend postgres --database-url postgres://…` measures the PostgreSQL store instead: every
//! store the run makes is a fresh database `witness_bench_<hex>_<part>` in that cluster (dropped
//! at the end unless `--keep`; an interrupted run leaves them behind), the sizes are the
//! database's growth and the WAL written (`pg_current_wal_lsn()`), and the raw baseline is a
//! binary COPY of the same rows into an `events` table made by Witness's own migration, without
//! Witness, `--clients` connections at once, one transaction per batch.
//!
//! The events come from a seeded generator (about 1000 actors, 58 actions with a Zipf-like
//! distribution, 20 organizations, 100 workspaces, timestamps over the last 30 days), so runs
//! with the same flags store the same data.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use bytes::Bytes;
use chrono::{DateTime, SecondsFormat, Utc};
use clap::{Parser, ValueEnum};
use rand::rngs::StdRng;
use rand::seq::{IndexedRandom, SliceRandom};
use rand::{Rng, SeedableRng};
use rusqlite::{Connection, TransactionBehavior, params};
use serde_json::{Map, Value, json};
use tokio::task::JoinSet;
use tokio_postgres::NoTls;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use witness_api::{AuditResult, EventFilter, EventPage, Histogram, ValueMatch};
use witness_server::apikeys::{generate_token, hash_token, token_prefix};
use witness_server::config::ServeConfig;
use witness_server::ingest::{BodyFormat, IngestLimits, parse_body};
use witness_server::model::{EventSource, NewEvent};
use witness_server::startup::Application;
use witness_server::store::canonical::GENESIS_HASH;
use witness_server::store::postgres::{COPY_SQL, COPY_TYPES, copy_values, schema as pg_schema};
use witness_server::store::sqlite::partitions::{Partition, PartitionState};
use witness_server::store::sqlite::row::{EventRow, insert_sql};
use witness_server::store::sqlite::summaries::Summaries;
use witness_server::store::sqlite::{DATABASE_FILE, schema};
use witness_server::store::{Cursor, EventQuery, Permission, PostgresStore, Store};

/// The allocator the `witness` binary uses (its main.rs says why): the server runs in this
/// process, so its figures are the binary's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The report, printed whole to stdout at the end; each line also goes to stderr as it comes,
/// so a long run shows its figures as it goes (and keeps them if it fails).
static REPORT: Mutex<String> = Mutex::new(String::new());

macro_rules! say {
    () => {
        say!("")
    };
    ($($arg:tt)*) => {{
        let line = format!($($arg)*);
        eprintln!("{line}");
        if let Ok(mut report) = REPORT.lock() {
            report.push_str(&line);
            report.push('\n');
        }
    }};
}

/// Events per `Store::append` while loading the query data set.
const LOAD_BATCH: usize = 10_000;
/// The page size of every page query (the API's default).
const PAGE: usize = 100;
/// Pages in a cursor walk.
const WALK_PAGES: usize = 100;
/// A case whose warm-up run is slower than this gets at most `SLOW_SAMPLES` samples.
const SLOW_CASE: Duration = Duration::from_secs(2);
const SLOW_SAMPLES: usize = 5;
/// A cursor walk stops after this long.
const WALK_BUDGET: Duration = Duration::from_secs(60);
const DAY_MICROS: i64 = 86_400_000_000;
const SPAN_DAYS: i64 = 30;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Backend {
    /// SQLite files in the work directory.
    Sqlite,
    /// Fresh databases in the PostgreSQL cluster of `--database-url`.
    Postgres,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Analyze {
    /// Run ANALYZE after loading, before the queries.
    After,
    /// Never run ANALYZE.
    None,
    /// Run the queries without statistics, then ANALYZE, then again.
    Compare,
}

/// Ingestion throughput and query latency of Witness.
#[derive(Debug, Parser)]
#[command(name = "witness-bench")]
struct Args {
    /// The store every part measures.
    #[arg(long, value_enum, default_value_t = Backend::Sqlite)]
    backend: Backend,
    /// With `--backend postgres`: a PostgreSQL cluster (any database in it that the user may
    /// connect to); each run creates fresh databases `witness_bench_<hex>_<part>` there and
    /// drops them at the end unless --keep.
    #[arg(long)]
    database_url: Option<String>,
    /// Events loaded for the query part (0 skips it).
    #[arg(long, default_value_t = 10_000_000)]
    events: usize,
    /// Events for the ingestion part (0 skips it).
    #[arg(long, default_value_t = 1_000_000)]
    ingest_events: usize,
    /// Concurrent ingestion clients.
    #[arg(long, default_value_t = 4)]
    clients: usize,
    /// Events per ingestion request (and per transaction of the raw baseline).
    #[arg(long, default_value_t = 1000)]
    batch: usize,
    /// Samples per query.
    #[arg(long, default_value_t = 50)]
    queries: usize,
    /// Samples per query over HTTP (0 skips the HTTP queries).
    #[arg(long, default_value_t = 20)]
    http_queries: usize,
    /// Whether to run ANALYZE on the query store.
    #[arg(long, value_enum, default_value_t = Analyze::After)]
    analyze: Analyze,
    /// Work directory (new or empty); a fresh temporary directory when absent.
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Also run the raw baseline without the FTS insert and without the secondary indexes.
    #[arg(long)]
    raw_breakdown: bool,
    /// Run the query part on the `query` directory a run with --keep left, without loading.
    #[arg(long)]
    reuse: Option<PathBuf>,
    /// Keep the work directory (and its databases) at the end.
    #[arg(long)]
    keep: bool,
    /// With PostgreSQL: before the queries, make the (empty) daily partitions of this many days
    /// before the data set's arrival, as a store that has been receiving events that long has
    /// them (every loaded event arrives today, so it sits in one partition otherwise); shows
    /// what planning and merging over that many partitions cost.
    #[arg(long, default_value_t = 0)]
    pg_past_days: u32,
    /// Run only the query cases whose name contains one of these (comma-separated).
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Seed of the event generator.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Compare HTTP ingestion with `Store::append` and a raw rusqlite baseline on the same
    /// pre-generated batches (instead of the sustained run that generates while it sends).
    #[arg(long)]
    baselines: bool,
    /// Sustained ingestion: print a line every this many events.
    #[arg(long, default_value_t = 1_000_000)]
    report_every: usize,
    /// Events per partition of the stores the benchmark makes.
    #[arg(long, default_value_t = witness_server::store::sqlite::partitions::DEFAULT_EVENTS_PER_PARTITION)]
    partition_events: i64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.batch == 0 || args.clients == 0 || args.queries == 0 {
        bail!("--batch, --clients and --queries must be at least 1");
    }
    if cfg!(debug_assertions) {
        eprintln!("warning: this is a debug build; run with --release for meaningful figures");
    }
    let pg = match (args.backend, &args.database_url) {
        (Backend::Sqlite, None) => None,
        (Backend::Sqlite, Some(_)) => bail!("--database-url needs --backend postgres"),
        (Backend::Postgres, None) => {
            bail!(
                "--backend postgres needs --database-url postgres://… (a cluster to make databases in)"
            )
        }
        (Backend::Postgres, Some(url)) => Some(PgCluster::new(url)?),
    };
    if pg.is_none() && args.pg_past_days > 0 {
        bail!("--pg-past-days needs --backend postgres");
    }
    let work = WorkDir::create(args.dir.clone(), args.keep)?;
    say!("witness-bench {}", env!("CARGO_PKG_VERSION"));
    say!();
    say!("{}", machine_report(work.path()).trim_end());
    if let Some(cluster) = &pg {
        say!("{}", cluster.report().await?.trim_end());
    }
    say!(
        "Work directory: {}{}",
        work.path().display(),
        if args.keep {
            " (kept)"
        } else {
            " (deleted at the end)"
        }
    );
    say!();

    let world = Arc::new(World::new(args.seed));
    say!(
        "Data: seeded generator (seed {}): {} actors ({} users, {} API keys, {} system), {} actions \
         (Zipf-like, s = {ACTION_ZIPF}), {} organizations, {} workspaces, {} repositories; ~{}% \
         failures; timestamps over the {SPAN_DAYS} days before the run, in arrival order with \
         ±30 s jitter.",
        args.seed,
        world.actors.len(),
        world.users.len(),
        world.keys.len(),
        world.systems.len(),
        ACTIONS.len(),
        world.orgs.len(),
        world.workspaces.len(),
        world.repos.len(),
        (expected_failure_rate() * 1000.0).round() / 10.0,
    );
    say!();

    let panel = work.path().join("panel");
    std::fs::create_dir_all(&panel)?;

    let sites = Sites {
        work: work.path(),
        pg: pg.as_ref().zip(args.database_url.as_deref()),
    };
    let outcome = async {
        if args.ingest_events > 0 {
            ingest_part(&args, &world, &sites, &panel).await?;
        }
        if args.events > 0 {
            query_part(&args, &world, &sites, &panel).await?;
        }
        anyhow::Ok(())
    }
    .await;
    if let Some(cluster) = &pg {
        if args.keep {
            if let Ok(created) = cluster.created.lock() {
                say!("PostgreSQL databases kept: {}", created.join(", "));
            }
        } else {
            cluster.drop_created().await;
        }
    }
    outcome?;
    if let Ok(report) = REPORT.lock() {
        println!("---- witness-bench report ----");
        print!("{report}");
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The work directory
// ---------------------------------------------------------------------------------------------

struct WorkDir {
    path: PathBuf,
    keep: bool,
}

impl WorkDir {
    fn create(dir: Option<PathBuf>, keep: bool) -> anyhow::Result<Self> {
        let path = match dir {
            Some(dir) => {
                if dir.exists() && std::fs::read_dir(&dir)?.next().is_some() {
                    bail!(
                        "{} is not empty; give a new or empty directory (it is deleted at the end \
                         unless --keep)",
                        dir.display()
                    );
                }
                dir
            }
            None => std::env::temp_dir().join(format!(
                "witness-bench-{}-{}",
                std::process::id(),
                hex::encode(rand::random::<[u8; 4]>())
            )),
        };
        std::fs::create_dir_all(&path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        let path = path.canonicalize()?;
        Ok(WorkDir { path, keep })
    }

    fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        if !self.keep
            && let Err(error) = std::fs::remove_dir_all(&self.path)
        {
            eprintln!("cannot delete {}: {error}", self.path.display());
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The machine
// ---------------------------------------------------------------------------------------------

fn machine_report(dir: &Path) -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|line| line.starts_with("model name"))
        .and_then(|line| line.split_once(':'))
        .map(|(_, model)| model.trim().to_string())
        .unwrap_or_else(|| "unknown".to_string());
    let processors = cpuinfo
        .lines()
        .filter(|line| line.starts_with("processor"))
        .count();
    let available = std::thread::available_parallelism().map_or(0, |n| n.get());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_kib = |key: &str| -> Option<u64> {
        meminfo
            .lines()
            .find(|line| line.starts_with(key))
            .and_then(|line| line.split_whitespace().nth(1))
            .and_then(|value| value.parse().ok())
    };
    let gib = |kib: u64| kib as f64 / 1024.0 / 1024.0;
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|text| text.trim().to_string())
        .unwrap_or_else(|_| "unknown".to_string());
    let disk = std::process::Command::new("df")
        .args(["-h", "--output=source,fstype,size,avail"])
        .arg(dir)
        .output()
        .ok()
        .and_then(|output| {
            let text = String::from_utf8_lossy(&output.stdout).into_owned();
            let fields: Vec<String> = text
                .lines()
                .nth(1)?
                .split_whitespace()
                .map(str::to_string)
                .collect();
            match fields.as_slice() {
                [source, fstype, size, avail] => {
                    Some(format!("{source} ({fstype}), {avail} free of {size}"))
                }
                _ => None,
            }
        })
        .unwrap_or_else(|| "unknown".to_string());
    let mut out = String::new();
    let _ = writeln!(out, "Machine");
    let _ = writeln!(out, "  CPU      {model}");
    let _ = writeln!(
        out,
        "  cores    {processors} logical ({available} available to this process)"
    );
    let _ = writeln!(
        out,
        "  RAM      {:.1} GiB ({:.1} GiB available at start)",
        gib(mem_kib("MemTotal:").unwrap_or(0)),
        gib(mem_kib("MemAvailable:").unwrap_or(0))
    );
    let _ = writeln!(out, "  kernel   Linux {kernel}");
    let _ = writeln!(out, "  disk     {disk}");
    let _ = writeln!(out, "  fsync    {}", fsync_probe(dir));
    let _ = writeln!(
        out,
        "  SQLite   {} (bundled), WAL, synchronous=FULL",
        rusqlite::version()
    );
    let _ = writeln!(
        out,
        "  build    {}",
        if cfg!(debug_assertions) {
            "debug (NOT representative)"
        } else {
            "release"
        }
    );
    out
}

/// p50 and max of 4 KiB write + fdatasync in the work directory: what a durable commit costs
/// at the least.
fn fsync_probe(dir: &Path) -> String {
    use std::io::Write as _;
    let path = dir.join("fsync-probe");
    let probe = || -> std::io::Result<Vec<Duration>> {
        let mut file = std::fs::File::create(&path)?;
        let block = [0x5au8; 4096];
        let mut times = Vec::new();
        for _ in 0..50 {
            let started = Instant::now();
            file.write_all(&block)?;
            file.sync_data()?;
            times.push(started.elapsed());
        }
        Ok(times)
    };
    let result = probe();
    let _ = std::fs::remove_file(&path);
    match result {
        Ok(mut times) => {
            let (p50, _, max) = summary(&mut times);
            format!("4 KiB append + fdatasync: p50 {p50:.2} ms, max {max:.2} ms (50 samples)")
        }
        Err(error) => format!("probe failed: {error}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Where the stores live: a directory each, and with PostgreSQL a fresh database each
// ---------------------------------------------------------------------------------------------

/// The cluster `--database-url` names: each run makes its databases there,
/// `witness_bench_<hex>_<part>`, and drops them at the end (unless --keep).
struct PgCluster {
    config: tokio_postgres::Config,
    /// The prefix of this run's databases.
    run: String,
    /// Databases this run made, to drop at the end.
    created: Mutex<Vec<String>>,
}

impl PgCluster {
    fn new(url: &str) -> anyhow::Result<Self> {
        let config: tokio_postgres::Config = url
            .parse()
            .context("--database-url is not a PostgreSQL URL")?;
        Ok(PgCluster {
            config,
            run: format!("witness_bench_{}", hex::encode(rand::random::<[u8; 4]>())),
            created: Mutex::new(Vec::new()),
        })
    }

    /// The database `--database-url` names, or `database` in the same cluster.
    async fn connect(&self, database: Option<&str>) -> anyhow::Result<tokio_postgres::Client> {
        let mut config = self.config.clone();
        if let Some(database) = database {
            config.dbname(database);
        }
        let (client, connection) = config
            .connect(NoTls)
            .await
            .with_context(|| format!("cannot connect to {}", describe_pg(&config)))?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(client)
    }

    /// The URL of `database` in this cluster: `--database-url` with another database name
    /// (URL or key=value form), for the server's `database_url`.
    fn url_of(&self, url: &str, database: &str) -> anyhow::Result<String> {
        let changed = match ["postgresql://", "postgres://"]
            .iter()
            .find(|scheme| url.starts_with(**scheme))
        {
            Some(scheme) => {
                let rest = &url[scheme.len()..];
                let (before_query, query) = match rest.find('?') {
                    Some(at) => (&rest[..at], &rest[at..]),
                    None => (rest, ""),
                };
                let authority = before_query.split('/').next().unwrap_or("");
                format!("{scheme}{authority}/{database}{query}")
            }
            None => format!("{url} dbname={database}"),
        };
        let parsed: tokio_postgres::Config = changed.parse()?;
        if parsed.get_dbname() != Some(database) {
            bail!("cannot name the database {database} in --database-url {url}");
        }
        Ok(changed)
    }

    /// A fresh database for `part` of the run.
    async fn create(&self, url: &str, part: &str) -> anyhow::Result<PgDatabase> {
        let name = format!("{}_{part}", self.run);
        let admin = self.connect(None).await?;
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .with_context(|| format!("cannot create the database {name}"))?;
        if let Ok(mut created) = self.created.lock() {
            created.push(name.clone());
        }
        PgDatabase::open(self, url, &name).await
    }

    /// Drops the databases this run made (their servers still hold connections: FORCE).
    async fn drop_created(&self) {
        let names: Vec<String> = match self.created.lock() {
            Ok(mut created) => std::mem::take(&mut *created),
            Err(_) => return,
        };
        if names.is_empty() {
            return;
        }
        let admin = match self.connect(None).await {
            Ok(admin) => admin,
            Err(error) => {
                eprintln!("cannot drop the databases {names:?}: {error:#}");
                return;
            }
        };
        for name in names {
            if let Err(error) = admin
                .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await
            {
                eprintln!("cannot drop the database {name}: {error}");
            }
        }
    }

    /// The server's version and the settings that decide the figures.
    async fn report(&self) -> anyhow::Result<String> {
        let client = self.connect(None).await?;
        let version: String = client.query_one("SHOW server_version", &[]).await?.get(0);
        let mut settings = Vec::new();
        for name in [
            "fsync",
            "synchronous_commit",
            "wal_level",
            "full_page_writes",
            "wal_compression",
            "shared_buffers",
            "max_wal_size",
            "checkpoint_timeout",
            "work_mem",
            "maintenance_work_mem",
            "effective_cache_size",
            "random_page_cost",
            "jit",
            "max_parallel_workers_per_gather",
            "autovacuum",
        ] {
            let value: String = client.query_one(&format!("SHOW {name}"), &[]).await?.get(0);
            settings.push(format!("{name}={value}"));
        }
        let mut out = format!(
            "  PostgreSQL {version} at {} (databases {}_*)\n",
            describe_pg(&self.config),
            self.run
        );
        let _ = writeln!(out, "           {}", settings.join(", "));
        Ok(out)
    }
}

fn describe_pg(config: &tokio_postgres::Config) -> String {
    witness_server::store::postgres::describe(config)
}

/// One database of the run, with a connection of the benchmark's own (sizes, WAL, ANALYZE).
struct PgDatabase {
    name: String,
    url: String,
    client: tokio_postgres::Client,
    /// Its size and the cluster's WAL position when the benchmark opened it.
    size_at_start: u64,
    wal_at_start: u64,
    /// The postmaster, when PostgreSQL runs on this machine and its processes can be read
    /// (for the bytes they write to storage).
    postmaster: Option<u32>,
}

impl PgDatabase {
    async fn open(cluster: &PgCluster, url: &str, name: &str) -> anyhow::Result<Self> {
        let client = cluster.connect(Some(name)).await?;
        let backend: i32 = client
            .query_one("SELECT pg_backend_pid()", &[])
            .await?
            .get(0);
        let mut database = PgDatabase {
            name: name.to_string(),
            url: cluster.url_of(url, name)?,
            client,
            size_at_start: 0,
            wal_at_start: 0,
            postmaster: parent_pid(backend as u32),
        };
        database.size_at_start = database.size().await?;
        database.wal_at_start = database.wal().await?;
        Ok(database)
    }

    /// A connection as the store's own schema code takes it (deadpool's client).
    async fn schema_client(&self) -> anyhow::Result<deadpool_postgres::Client> {
        let config: tokio_postgres::Config = self.url.parse()?;
        let pool = deadpool_postgres::Pool::builder(deadpool_postgres::Manager::new(config, NoTls))
            .max_size(1)
            .build()?;
        Ok(pool.get().await?)
    }

    async fn size(&self) -> anyhow::Result<u64> {
        let size: i64 = self
            .client
            .query_one("SELECT pg_database_size(current_database())", &[])
            .await?
            .get(0);
        Ok(size as u64)
    }

    /// The cluster's WAL position in bytes (`pg_current_wal_lsn()`); its difference is the WAL
    /// written meanwhile, by every database of the cluster.
    async fn wal(&self) -> anyhow::Result<u64> {
        let lsn: i64 = self
            .client
            .query_one(
                "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint",
                &[],
            )
            .await?
            .get(0);
        Ok(lsn as u64)
    }

    async fn partitions(&self) -> String {
        match self
            .client
            .query_one(
                "SELECT count(*) FROM pg_inherits WHERE inhparent = to_regclass('events')",
                &[],
            )
            .await
        {
            Ok(row) => format!("{} daily", row.get::<_, i64>(0)),
            Err(error) => format!("? ({error})"),
        }
    }

    /// Bytes the postmaster and its live children have sent to storage (Linux `/proc`): the
    /// WAL, checkpoints and the background writer; a child that has exited (an autovacuum
    /// worker) takes its count with it.
    fn server_writes(&self) -> Option<u64> {
        let postmaster = self.postmaster?;
        let mut total = process_writes(postmaster)?;
        for entry in std::fs::read_dir("/proc").ok()?.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u32>().ok())
            else {
                continue;
            };
            if parent_pid(pid) == Some(postmaster) {
                total += process_writes(pid).unwrap_or(0);
            }
        }
        Some(total)
    }
}

/// The parent of process `pid`, from `/proc/<pid>/stat` (None when it is not on this machine).
fn parent_pid(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // pid (comm) state ppid …; comm may hold spaces and parentheses.
    stat[stat.rfind(')')? + 1..]
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn process_writes(pid: u32) -> Option<u64> {
    std::fs::read_to_string(format!("/proc/{pid}/io"))
        .ok()?
        .lines()
        .find_map(|line| line.strip_prefix("write_bytes:"))?
        .trim()
        .parse()
        .ok()
}

/// Where the stores of a run are made.
struct Sites<'a> {
    work: &'a Path,
    pg: Option<(&'a PgCluster, &'a str)>,
}

impl Sites<'_> {
    /// A new store location: `<work>/<name>`, and with PostgreSQL the database
    /// `witness_bench_<hex>_<name>`.
    async fn new_site(&self, name: &str) -> anyhow::Result<Site> {
        let dir = self.work.join(name);
        std::fs::create_dir_all(&dir)?;
        Ok(match self.pg {
            None => Site::Sqlite { dir },
            Some((cluster, url)) => {
                let db = Box::new(cluster.create(url, &name.replace('-', "_")).await?);
                say!("  ({name}: PostgreSQL database {})", db.name);
                Site::Postgres { dir, db }
            }
        })
    }
}

impl Sites<'_> {
    /// The store a run with --keep left in `dir` (and its PostgreSQL database).
    async fn reused_site(&self, dir: &Path, meta: &Meta) -> anyhow::Result<Site> {
        let dir = dir.to_path_buf();
        match (self.pg, &meta.database) {
            (None, None) => Ok(Site::Sqlite { dir }),
            (Some((cluster, url)), Some(name)) => Ok(Site::Postgres {
                dir,
                db: Box::new(PgDatabase::open(cluster, url, name).await?),
            }),
            (None, Some(name)) => bail!(
                "{} holds the PostgreSQL database {name}: add --backend postgres --database-url",
                dir.display()
            ),
            (Some(_), None) => bail!(
                "{} holds a SQLite store, not a PostgreSQL one: leave out --backend postgres",
                dir.display()
            ),
        }
    }
}

/// What a sample of a store's growth shows: bytes sent to storage so far (SQLite: by this
/// process; PostgreSQL: by its server processes), the WAL position (PostgreSQL), the store's
/// size (SQLite: database + WAL file; PostgreSQL: the database's growth since it was made).
struct Probe {
    written: Option<u64>,
    wal: Option<u64>,
    store_bytes: u64,
}

/// A store's location: its data directory, and its PostgreSQL database when there is one.
enum Site {
    Sqlite { dir: PathBuf },
    Postgres { dir: PathBuf, db: Box<PgDatabase> },
}

impl Site {
    fn dir(&self) -> &Path {
        match self {
            Site::Sqlite { dir } | Site::Postgres { dir, .. } => dir,
        }
    }

    fn database_url(&self) -> Option<String> {
        match self {
            Site::Sqlite { .. } => None,
            Site::Postgres { db, .. } => Some(db.url.clone()),
        }
    }

    fn pg(&self) -> Option<&PgDatabase> {
        match self {
            Site::Sqlite { .. } => None,
            Site::Postgres { db, .. } => Some(db),
        }
    }

    /// The store alone, without a server (`Store::append` baseline).
    async fn open_store(&self) -> anyhow::Result<Arc<dyn Store>> {
        Ok(match self {
            Site::Sqlite { dir } => Arc::new(witness_server::store::SqliteStore::open_in(dir)?),
            Site::Postgres { db, .. } => Arc::new(PostgresStore::connect(&db.url).await?),
        })
    }

    async fn probe(&self) -> Probe {
        match self {
            Site::Sqlite { dir } => {
                let (db, wal) = db_size(dir);
                Probe {
                    written: DiskWrites::read(),
                    wal: None,
                    store_bytes: db + wal,
                }
            }
            Site::Postgres { db, .. } => Probe {
                written: db.server_writes(),
                wal: db.wal().await.ok(),
                store_bytes: db
                    .size()
                    .await
                    .map_or(0, |size| size.saturating_sub(db.size_at_start)),
            },
        }
    }

    /// The store's size, and what it is per event.
    async fn size_text(&self, events: usize) -> String {
        match self {
            Site::Sqlite { dir } => size_text(dir, events),
            Site::Postgres { db, .. } => {
                let (size, wal) = (db.size().await.unwrap_or(0), db.wal().await.unwrap_or(0));
                let grown = size.saturating_sub(db.size_at_start);
                let wal = wal.saturating_sub(db.wal_at_start);
                format!(
                    "database {} ({} bytes/event over the empty database's {}); WAL written \
                     since it was made {} ({} bytes/event)",
                    mib(size),
                    grouped(grown / events.max(1) as u64),
                    mib(db.size_at_start),
                    mib(wal),
                    grouped(wal / events.max(1) as u64)
                )
            }
        }
    }

    async fn partitions(&self) -> String {
        match self {
            Site::Sqlite { dir } => sqlite_partitions(&dir.join(DATABASE_FILE)),
            Site::Postgres { db, .. } => db.partitions().await,
        }
    }

    /// SQLite: waits until the writer has sealed every full partition. PostgreSQL has nothing
    /// to wait for.
    async fn wait_for_sealing(&self) -> anyhow::Result<Duration> {
        match self {
            Site::Sqlite { dir } => wait_for_sealing(&dir.join(DATABASE_FILE)).await,
            Site::Postgres { .. } => Ok(Duration::ZERO),
        }
    }

    /// An arrival time (µs) before which retention deletes about the oldest `events` events:
    /// SQLite, the first event of the first partition after them (whole partitions go);
    /// PostgreSQL, the arrival of event `events + 1` (events arrive within a day here, so the
    /// day's partition loses rows rather than the partition being dropped).
    async fn retention_cutoff(&self, events: usize) -> anyhow::Result<Option<i64>> {
        match self {
            Site::Sqlite { dir } => {
                let catalog = Connection::open(dir.join(DATABASE_FILE))?;
                schema::configure(&catalog)?;
                let boundary: Option<(i64, i64)> = catalog
                    .query_row(
                        "SELECT id, first_seq FROM partitions WHERE first_seq > ?1 \
                         ORDER BY first_seq LIMIT 1",
                        [events as i64],
                        |row| Ok((row.get(0)?, row.get(1)?)),
                    )
                    .ok();
                let Some((id, first_seq)) = boundary else {
                    return Ok(None);
                };
                let table = witness_server::store::sqlite::partitions::table_name(id);
                Ok(Some(catalog.query_row(
                    &format!("SELECT received FROM {table} WHERE seq = ?1"),
                    [first_seq],
                    |row| row.get(0),
                )?))
            }
            Site::Postgres { db, .. } => Ok(db
                .client
                .query_opt(
                    "SELECT received FROM events WHERE seq = $1",
                    &[&(events as i64 + 1)],
                )
                .await?
                .map(|row| row.get(0))),
        }
    }

    /// PostgreSQL: a CHECKPOINT before a timed ingestion, so that it does not pay for the
    /// dirty pages of the one before (the cluster is shared by the runs' databases).
    async fn checkpoint(&self) {
        if let Site::Postgres { db, .. } = self
            && let Err(error) = db.client.batch_execute("CHECKPOINT").await
        {
            eprintln!(
                "warning: CHECKPOINT failed ({error}); the timed run may pay for the one before"
            );
        }
    }

    /// Gathers planner statistics; what it ran.
    async fn analyze(&self) -> anyhow::Result<&'static str> {
        match self {
            Site::Sqlite { dir } => {
                let path = dir.join(DATABASE_FILE);
                let conn = Connection::open(&path)?;
                schema::configure(&conn)?;
                // The text index file too: sealed partitions' index tables are there.
                witness_server::store::sqlite::text_index::attach(&conn, &path)?;
                conn.execute_batch("ANALYZE")?;
                Ok("ANALYZE")
            }
            Site::Postgres { db, .. } => {
                // What autovacuum does to an insert-only table sooner or later (visibility
                // map, hint bits), and the statistics of the partitioned parent, which
                // autovacuum never gathers.
                db.client.batch_execute("VACUUM (ANALYZE)").await?;
                Ok("VACUUM (ANALYZE)")
            }
        }
    }

    /// Whether the store has planner statistics.
    async fn has_statistics(&self) -> anyhow::Result<bool> {
        match self {
            Site::Sqlite { dir } => has_statistics(&dir.join(DATABASE_FILE)),
            Site::Postgres { db, .. } => {
                let count: i64 = db
                    .client
                    .query_one(
                        "SELECT count(*) FROM pg_stats WHERE schemaname = 'public' \
                         AND tablename LIKE 'events%'",
                        &[],
                    )
                    .await?
                    .get(0);
                Ok(count > 0)
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The world the events happen in
// ---------------------------------------------------------------------------------------------

#[rustfmt::skip]
const FIRST_NAMES: [&str; 48] = [
    "Alice", "Bob", "Carol", "Dave", "Erin", "Frank", "Grace", "Heidi", "Ivan", "Judy", "Mallory",
    "Niaj", "Olivia", "Peggy", "Rupert", "Sybil", "Trent", "Victor", "Walter", "Yasmin", "Zoe",
    "Amir", "Beatriz", "Chen", "Dmitri", "Elena", "Fatima", "Goran", "Hana", "Ingrid", "Jamal",
    "Kenji", "Leila", "Mateo", "Nadia", "Oskar", "Priya", "Quentin", "Rosa", "Sven", "Tomas",
    "Uma", "Valentina", "Wei", "Ximena", "Yusuf", "Zara", "Lars",
];
#[rustfmt::skip]
const LAST_NAMES: [&str; 40] = [
    "Nguyen", "Smith", "Garcia", "Müller", "Rossi", "Kowalski", "Tanaka", "Okafor", "Silva",
    "Johansson", "Dubois", "Novak", "Haddad", "Kim", "Patel", "Ivanova", "Cohen", "Larsen",
    "Moreau", "Yilmaz", "Fernandez", "Schmidt", "Costa", "Andersen", "Popescu", "Horvat", "Sato",
    "Mensah", "Alvarez", "Bianchi", "Kaur", "Lindqvist", "Murphy", "Nakamura", "Oliveira",
    "Petrov", "Quinn", "Romero", "Svensson", "Weber",
];
#[rustfmt::skip]
const ORG_NAMES: [&str; 20] = [
    "Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark Industries", "Wayne Enterprises",
    "Tyrell", "Cyberdyne", "Soylent", "Wonka", "Vandelay", "Gringotts", "Oceanic",
    "Massive Dynamic", "Aperture", "Black Mesa", "Monarch", "Dunder Mifflin", "Pied Piper",
];
#[rustfmt::skip]
const WORKSPACE_WORDS: [&str; 10] = [
    "platform", "web", "mobile", "data", "infra", "payments", "search", "security", "ml", "tools",
];
#[rustfmt::skip]
const REPO_WORDS: [&str; 24] = [
    "api", "frontend", "backend", "gateway", "auth", "billing", "worker", "scheduler", "docs",
    "terraform", "helm-charts", "ios-app", "android-app", "etl", "dashboards", "sdk", "cli",
    "notifications", "search-indexer", "ledger", "website", "design-system", "monorepo", "infra",
];
#[rustfmt::skip]
const TEAMS: [&str; 8] = [
    "backend", "frontend", "platform", "sre", "security", "data", "mobile", "support",
];
#[rustfmt::skip]
const TOKEN_PURPOSES: [&str; 8] = [
    "ci", "deploy", "terraform", "backup", "metrics", "release", "sync", "readonly",
];
#[rustfmt::skip]
const DEVICES: [&str; 6] = [
    "laptop", "workstation", "desktop", "build-box", "macbook", "yubikey",
];
#[rustfmt::skip]
const SYSTEM_ACTORS: [&str; 6] = [
    "scheduler", "retention", "billing-engine", "sso-sync", "webhook-dispatcher", "token-reaper",
];
const USER_AGENTS: [&str; 6] = [
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/126.0 Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    "git/2.45.2",
    "forge-cli/3.2.1",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) Mobile/15E148",
];
#[rustfmt::skip]
const FIRST_OCTETS: [u8; 16] = [
    23, 31, 45, 62, 77, 81, 88, 91, 94, 109, 146, 151, 185, 192, 212, 213,
];

const USERS: usize = 950;
const KEYS: usize = 40;
const WORKSPACES_PER_ORG: usize = 5;
const REPOS_PER_WORKSPACE: usize = 20;
const TOKENS: usize = 20_000;
const SSH_KEYS: usize = 5_000;
const WEBHOOKS: usize = 3_000;
/// Zipf-like exponents: actions, users, organizations (by members).
const ACTION_ZIPF: f64 = 1.2;
const USER_ZIPF: f64 = 0.8;
const ORG_ZIPF: f64 = 1.0;
/// Failure rate of actions that can fail; `user.login_failed` and `billing.invoice_failed`
/// always fail, which brings the whole to about 5%.
const BASE_FAILURE: f64 = 0.035;

fn always_fails(action: &str) -> bool {
    matches!(action, "user.login_failed" | "billing.invoice_failed")
}

/// The share of failures the generator produces, from the action distribution.
fn expected_failure_rate() -> f64 {
    let weights: Vec<f64> = (1..=ACTIONS.len())
        .map(|rank| 1.0 / (rank as f64).powf(ACTION_ZIPF))
        .collect();
    let total: f64 = weights.iter().sum();
    ACTIONS
        .iter()
        .zip(&weights)
        .map(|(spec, weight)| {
            weight / total
                * if always_fails(spec.name) {
                    1.0
                } else {
                    BASE_FAILURE
                }
        })
        .sum()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    User,
    ApiKey,
    System,
}

impl Kind {
    fn principal_type(self) -> &'static str {
        match self {
            Kind::User => "user",
            Kind::ApiKey => "api_key",
            Kind::System => "system",
        }
    }
}

struct ActorInfo {
    kind: Kind,
    id: String,
    name: String,
    email: Option<String>,
    org: usize,
    ips: Vec<String>,
}

struct Tenant {
    id: String,
    name: String,
    slug: String,
}

struct Workspace {
    id: String,
    name: String,
}

struct Repo {
    id: String,
    name: String,
}

/// Cumulative weights to sample from.
struct Cdf(Vec<f64>);

impl Cdf {
    fn zipf(n: usize, exponent: f64) -> Self {
        let mut total = 0.0;
        Cdf((1..=n)
            .map(|rank| {
                total += 1.0 / (rank as f64).powf(exponent);
                total
            })
            .collect())
    }

    fn sample(&self, rng: &mut impl Rng) -> usize {
        let total = self.0.last().copied().unwrap_or(0.0);
        let x = rng.random::<f64>() * total;
        self.0.partition_point(|&c| c <= x).min(self.0.len() - 1)
    }
}

struct World {
    actors: Vec<ActorInfo>,
    /// Indexes into `actors`, by kind; `users` in decreasing activity.
    users: Vec<usize>,
    keys: Vec<usize>,
    systems: Vec<usize>,
    user_cdf: Cdf,
    orgs: Vec<Tenant>,
    org_users: Vec<Vec<usize>>,
    workspaces: Vec<Workspace>,
    org_workspaces: Vec<Vec<usize>>,
    repos: Vec<Repo>,
    action_cdf: Cdf,
}

fn random_ip(rng: &mut impl Rng) -> String {
    if rng.random_bool(0.05) {
        format!(
            "2001:db8:{:x}:{:x}::{:x}",
            rng.random_range(0..0x1000u16),
            rng.random_range(0..0x100u16),
            rng.random_range(1..0xffffu16)
        )
    } else {
        format!(
            "{}.{}.{}.{}",
            FIRST_OCTETS.choose(rng).copied().unwrap_or(10),
            rng.random_range(0..=255u8),
            rng.random_range(0..=255u8),
            rng.random_range(1..=254u8)
        )
    }
}

impl World {
    fn new(seed: u64) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let orgs: Vec<Tenant> = ORG_NAMES
            .iter()
            .enumerate()
            .map(|(index, name)| Tenant {
                id: format!("org-{:02}", index + 1),
                name: name.to_string(),
                slug: name.to_lowercase().replace(' ', "-"),
            })
            .collect();
        let mut workspaces = Vec::new();
        let mut org_workspaces = vec![Vec::new(); orgs.len()];
        let mut repos = Vec::new();
        for (org_index, org) in orgs.iter().enumerate() {
            let mut words = WORKSPACE_WORDS.to_vec();
            words.shuffle(&mut rng);
            for word in words.iter().take(WORKSPACES_PER_ORG) {
                org_workspaces[org_index].push(workspaces.len());
                workspaces.push(Workspace {
                    id: format!("ws-{:03}", workspaces.len() + 1),
                    name: format!("{}-{word}", org.slug),
                });
            }
        }
        for workspace in &workspaces {
            let mut words = REPO_WORDS.to_vec();
            words.shuffle(&mut rng);
            for word in words.iter().take(REPOS_PER_WORKSPACE) {
                repos.push(Repo {
                    id: format!("repo-{:05}", repos.len() + 1),
                    name: format!("{}/{word}", workspace.name),
                });
            }
        }

        let org_cdf = Cdf::zipf(orgs.len(), ORG_ZIPF);
        let mut names: Vec<(&str, &str)> = FIRST_NAMES
            .iter()
            .flat_map(|first| LAST_NAMES.iter().map(move |last| (*first, *last)))
            .collect();
        names.shuffle(&mut rng);
        let mut actors = Vec::new();
        let mut users = Vec::new();
        let mut org_users = vec![Vec::new(); orgs.len()];
        for (index, (first, last)) in names.into_iter().take(USERS).enumerate() {
            let org = org_cdf.sample(&mut rng);
            let ips = (0..rng.random_range(1..=3))
                .map(|_| random_ip(&mut rng))
                .collect();
            org_users[org].push(actors.len());
            users.push(actors.len());
            actors.push(ActorInfo {
                kind: Kind::User,
                id: format!("u-{:04}", index + 1),
                name: format!("{first} {last}"),
                email: Some(format!(
                    "{}.{}@{}.example",
                    first.to_lowercase(),
                    last.to_lowercase(),
                    orgs[org].slug
                )),
                org,
                ips,
            });
        }
        let mut keys = Vec::new();
        for index in 0..KEYS {
            let org = org_cdf.sample(&mut rng);
            keys.push(actors.len());
            actors.push(ActorInfo {
                kind: Kind::ApiKey,
                id: format!("key-{}", hex::encode(rng.random::<[u8; 4]>())),
                name: format!(
                    "{} {} key",
                    orgs[org].slug,
                    TOKEN_PURPOSES[index % TOKEN_PURPOSES.len()]
                ),
                email: None,
                org,
                ips: vec![format!("10.20.{}.{}", index, rng.random_range(1..=254u8))],
            });
        }
        let mut systems = Vec::new();
        for name in SYSTEM_ACTORS {
            systems.push(actors.len());
            actors.push(ActorInfo {
                kind: Kind::System,
                id: format!("sys-{name}"),
                name: name.to_string(),
                email: None,
                org: 0,
                ips: Vec::new(),
            });
        }
        World {
            user_cdf: Cdf::zipf(users.len(), USER_ZIPF),
            actors,
            users,
            keys,
            systems,
            orgs,
            org_users,
            workspaces,
            org_workspaces,
            repos,
            action_cdf: Cdf::zipf(ACTIONS.len(), ACTION_ZIPF),
        }
    }

    fn pick_user(&self, rng: &mut impl Rng) -> usize {
        self.users[self.user_cdf.sample(rng)]
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    User,
    /// A user, or an API key 30% of the time.
    UserOrKey,
    Key,
    System,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TargetKind {
    Myself,
    Member,
    Repo,
    Token,
    SshKey,
    Webhook,
    Org,
    Workspace,
    Subscription,
    Invoice,
    Team,
}

struct ActionSpec {
    name: &'static str,
    who: Who,
    target: TargetKind,
    /// Follows `{ActorName} ` in the message template; `$OLD`/`$NEW` are the change's values.
    phrase: &'static str,
    /// For `*_changed`: the details field and the values it takes.
    change: Option<(&'static str, &'static [&'static str])>,
}

const fn action(
    name: &'static str,
    who: Who,
    target: TargetKind,
    phrase: &'static str,
) -> ActionSpec {
    ActionSpec {
        name,
        who,
        target,
        phrase,
        change: None,
    }
}

const fn change(
    name: &'static str,
    target: TargetKind,
    phrase: &'static str,
    field: &'static str,
    values: &'static [&'static str],
) -> ActionSpec {
    ActionSpec {
        name,
        who: Who::User,
        target,
        phrase,
        change: Some((field, values)),
    }
}

const ROLES: &[&str] = &["read", "triage", "write", "maintain", "admin"];
const EMAILS: &[&str] = &[
    "billing@corp.example",
    "finance@corp.example",
    "ap@corp.example",
];

use TargetKind as T;
use Who as W;

/// In decreasing frequency (the Zipf rank).
#[rustfmt::skip]
const ACTIONS: [ActionSpec; 58] = [
    action("user.login", W::User, T::Myself, "signed in"),
    action("repo.pushed", W::UserOrKey, T::Repo, "pushed to {TargetName}"),
    action("repo.cloned", W::UserOrKey, T::Repo, "cloned {TargetName}"),
    action("credentials.used", W::Key, T::Token, "authenticated with the token {TargetName}"),
    action("user.logout", W::User, T::Myself, "signed out"),
    action("repo.created", W::User, T::Repo, "created the repository {TargetName}"),
    action("member.invited", W::User, T::Member, "invited {TargetName} to the workspace"),
    action("user.profile_updated", W::User, T::Myself, "updated their profile"),
    change("member.role_changed", T::Member, "changed the role of {TargetName} from $OLD to $NEW", "role", ROLES),
    action("member.added", W::User, T::Member, "added {TargetName} to the workspace"),
    action("member.invitation_accepted", W::User, T::Workspace, "accepted the invitation to {TargetName}"),
    action("user.login_failed", W::User, T::Myself, "failed to sign in"),
    action("credentials.created", W::User, T::Token, "created the access token {TargetName}"),
    change("repo.branch_protection_changed", T::Repo, "changed branch protection of {TargetName} from $OLD to $NEW", "branch_protection", &["off", "reviews_required", "strict"]),
    action("user.session_revoked", W::User, T::Myself, "revoked a session"),
    action("credentials.rotated", W::UserOrKey, T::Token, "rotated the token {TargetName}"),
    action("repo.webhook_created", W::User, T::Webhook, "created the webhook {TargetName}"),
    action("credentials.ssh_key_added", W::User, T::SshKey, "added the SSH key {TargetName}"),
    action("member.removed", W::User, T::Member, "removed {TargetName} from the workspace"),
    change("repo.visibility_changed", T::Repo, "changed the visibility of {TargetName} from $OLD to $NEW", "visibility", &["private", "internal", "public"]),
    action("user.mfa_enabled", W::User, T::Myself, "enabled two-factor authentication"),
    action("credentials.revoked", W::User, T::Token, "revoked the token {TargetName}"),
    change("user.password_changed", T::Myself, "changed their password", "password_strength", &["weak", "fair", "strong"]),
    action("repo.collaborator_added", W::User, T::Member, "added {TargetName} as a collaborator"),
    action("member.team_added", W::User, T::Team, "joined the team {TargetName}"),
    action("credentials.expired", W::System, T::Token, "expired the token {TargetName}"),
    change("repo.renamed", T::Repo, "renamed the repository {TargetName} from $OLD to $NEW", "name", &["api", "api-v2", "legacy-api", "core", "service", "app"]),
    action("repo.archived", W::User, T::Repo, "archived {TargetName}"),
    change("org.settings_changed", T::Org, "changed the default branch of {TargetName} from $OLD to $NEW", "default_branch", &["main", "master", "trunk", "develop"]),
    change("credentials.scope_changed", T::Token, "changed the scopes of {TargetName} from $OLD to $NEW", "scopes", &["read", "read write", "admin"]),
    action("billing.invoice_paid", W::System, T::Invoice, "recorded the payment of {TargetName}"),
    action("repo.collaborator_removed", W::User, T::Member, "removed {TargetName} as a collaborator"),
    action("member.team_removed", W::User, T::Team, "left the team {TargetName}"),
    action("repo.deploy_key_added", W::User, T::SshKey, "added the deploy key {TargetName}"),
    change("user.email_changed", T::Myself, "changed their email address", "email", &[]),
    action("user.password_reset_requested", W::User, T::Myself, "requested a password reset"),
    action("member.invitation_revoked", W::User, T::Member, "revoked the invitation of {TargetName}"),
    action("repo.webhook_deleted", W::User, T::Webhook, "deleted the webhook {TargetName}"),
    action("credentials.ssh_key_removed", W::User, T::SshKey, "removed the SSH key {TargetName}"),
    action("repo.unarchived", W::User, T::Repo, "unarchived {TargetName}"),
    action("member.suspended", W::User, T::Member, "suspended {TargetName}"),
    action("repo.transferred", W::User, T::Repo, "transferred {TargetName} to another workspace"),
    change("org.member_policy_changed", T::Org, "changed the base permission of {TargetName} from $OLD to $NEW", "base_permission", &["none", "read", "write"]),
    change("billing.seats_changed", T::Subscription, "changed the seats of {TargetName} from $OLD to $NEW", "seats", &["10", "25", "50", "100", "250"]),
    action("user.mfa_disabled", W::User, T::Myself, "disabled two-factor authentication"),
    action("repo.deleted", W::User, T::Repo, "deleted the repository {TargetName}"),
    action("member.unsuspended", W::User, T::Member, "unsuspended {TargetName}"),
    action("billing.invoice_failed", W::System, T::Invoice, "could not collect the payment of {TargetName}"),
    action("billing.payment_method_added", W::User, T::Subscription, "added a payment method to {TargetName}"),
    change("org.ip_allowlist_changed", T::Org, "changed the IP allowlist of {TargetName} from $OLD to $NEW", "ip_allowlist", &["disabled", "office", "office-and-vpn"]),
    change("billing.plan_changed", T::Subscription, "changed the plan of {TargetName} from $OLD to $NEW", "plan", &["free", "team", "business", "enterprise"]),
    action("org.audit_log_exported", W::User, T::Org, "exported the audit log of {TargetName}"),
    action("org.sso_enabled", W::User, T::Org, "enabled single sign-on for {TargetName}"),
    action("billing.payment_method_removed", W::User, T::Subscription, "removed a payment method from {TargetName}"),
    change("billing.email_changed", T::Subscription, "changed the billing email of {TargetName}", "billing_email", EMAILS),
    action("org.sso_disabled", W::User, T::Org, "disabled single sign-on for {TargetName}"),
    change("org.renamed", T::Org, "renamed {TargetName} from $OLD to $NEW", "name", &["Acme", "Acme Corp", "Acme Holdings", "ACME Inc"]),
    action("org.deleted", W::User, T::Org, "deleted the organization {TargetName}"),
];

/// Words of the messages for free-text search: frequent ones and rare ones.
const COMMON_WORDS: [&str; 4] = ["signed", "pushed", "cloned", "authenticated"];
const RARE_WORDS: [&str; 4] = ["allowlist", "unsuspended", "transferred", "seats"];

/// Makes CLEF lines for events `index..` of a data set of `total` events spread evenly over
/// `[start, start + 30 days)`.
struct Generator {
    world: Arc<World>,
    rng: StdRng,
    start_micros: i64,
    span_micros: i64,
    total: usize,
    next: usize,
}

impl Generator {
    fn new(world: Arc<World>, seed: u64, start: DateTime<Utc>, total: usize) -> Self {
        Generator {
            world,
            rng: StdRng::seed_from_u64(seed),
            start_micros: start.timestamp_micros(),
            span_micros: SPAN_DAYS * DAY_MICROS,
            total,
            next: 0,
        }
    }

    /// A CLEF body of `count` events (one JSON object per line).
    fn clef_body(&mut self, count: usize) -> String {
        let mut body = Vec::with_capacity(count * 900);
        for _ in 0..count {
            self.clef_line(&mut body);
            body.push(b'\n');
        }
        String::from_utf8(body).expect("strings and JSON written: UTF-8")
    }

    fn clef_line(&mut self, out: &mut Vec<u8>) {
        let index = self.next;
        self.next += 1;
        let world = Arc::clone(&self.world);
        let rng = &mut self.rng;

        let base = self.start_micros
            + (self.span_micros as f64 * index as f64 / self.total.max(1) as f64) as i64;
        let jitter = rng.random_range(-30_000_000..=30_000_000i64);
        let ts = (base + jitter).clamp(self.start_micros, self.start_micros + self.span_micros - 1);
        let ts = DateTime::from_timestamp_micros(ts).unwrap_or_default();

        let spec = &ACTIONS[world.action_cdf.sample(rng)];
        let actor_index = match spec.who {
            Who::User => world.pick_user(rng),
            Who::UserOrKey if rng.random_bool(0.3) => *world.keys.choose(rng).unwrap_or(&0),
            Who::UserOrKey => world.pick_user(rng),
            Who::Key => *world.keys.choose(rng).unwrap_or(&0),
            Who::System => *world.systems.choose(rng).unwrap_or(&0),
        };
        let actor = &world.actors[actor_index];
        let org = if actor.kind == Kind::System {
            rng.random_range(0..world.orgs.len())
        } else {
            actor.org
        };
        let workspace = world.org_workspaces[org].choose(rng).copied().unwrap_or(0);

        let (target_type, target_id, target_name, in_workspace): (&str, String, String, bool) =
            match spec.target {
                TargetKind::Myself => ("user", actor.id.clone(), actor.name.clone(), false),
                TargetKind::Member => {
                    let other = world.org_users[org]
                        .choose(rng)
                        .copied()
                        .unwrap_or_else(|| world.pick_user(rng));
                    let other = &world.actors[other];
                    ("user", other.id.clone(), other.name.clone(), true)
                }
                TargetKind::Repo => {
                    let repo = &world.repos[workspace * REPOS_PER_WORKSPACE
                        + rng.random_range(0..REPOS_PER_WORKSPACE)];
                    ("repository", repo.id.clone(), repo.name.clone(), true)
                }
                TargetKind::Token => {
                    let n = rng.random_range(0..TOKENS);
                    let purpose = TOKEN_PURPOSES[n % TOKEN_PURPOSES.len()];
                    (
                        "access_token",
                        format!("tok-{n:05}"),
                        format!("{purpose}-token-{n}"),
                        rng.random_bool(0.5),
                    )
                }
                TargetKind::SshKey => {
                    let n = rng.random_range(0..SSH_KEYS);
                    let device = DEVICES[n % DEVICES.len()];
                    (
                        "ssh_key",
                        format!("ssh-{n:05}"),
                        format!("{device}-{n}"),
                        false,
                    )
                }
                TargetKind::Webhook => {
                    let n = rng.random_range(0..WEBHOOKS);
                    (
                        "webhook",
                        format!("hook-{n:04}"),
                        format!("https://hooks.example.com/{n}"),
                        true,
                    )
                }
                TargetKind::Org => (
                    "organization",
                    world.orgs[org].id.clone(),
                    world.orgs[org].name.clone(),
                    false,
                ),
                TargetKind::Workspace => (
                    "workspace",
                    world.workspaces[workspace].id.clone(),
                    world.workspaces[workspace].name.clone(),
                    true,
                ),
                TargetKind::Subscription => (
                    "subscription",
                    format!("sub-{:02}", org + 1),
                    format!("{} subscription", world.orgs[org].name),
                    false,
                ),
                TargetKind::Invoice => {
                    let n = rng.random_range(100_000..1_000_000);
                    ("invoice", format!("inv-{n}"), format!("invoice {n}"), false)
                }
                TargetKind::Team => {
                    let team = rng.random_range(0..TEAMS.len());
                    (
                        "team",
                        format!("team-{:02}-{team}", org + 1),
                        format!("{}/{}", world.orgs[org].slug, TEAMS[team]),
                        false,
                    )
                }
            };

        let failed = always_fails(spec.name) || rng.random_bool(BASE_FAILURE);
        let mut details = Map::new();
        let mut phrase = spec.phrase.to_string();
        if let Some((field, values)) = spec.change {
            let (old, new) = if values.is_empty() {
                // An email address: the actor's, and a new one.
                let old = actor.email.clone().unwrap_or_default();
                let new = old.replace(".example", &format!("{}.example", rng.random_range(2..9)));
                (old, new)
            } else {
                let old = rng.random_range(0..values.len());
                let mut new = rng.random_range(0..values.len() - 1);
                if new >= old {
                    new += 1;
                }
                (values[old].to_string(), values[new].to_string())
            };
            phrase = phrase.replace("$OLD", &old).replace("$NEW", &new);
            details.insert(field.to_string(), json!({"old": old, "new": new}));
        }
        let mut status = None;
        match spec.name {
            "user.login" => {
                let method = *["password", "sso", "passkey"].choose(rng).unwrap_or(&"sso");
                status = Some(method.to_string());
                details.insert("mfa".into(), Value::Bool(rng.random_bool(0.7)));
            }
            "repo.pushed" => {
                let branch = *["main", "develop", "release", "feature/login", "fix/typo"]
                    .choose(rng)
                    .unwrap_or(&"main");
                details.insert("branch".into(), json!(branch));
                details.insert("commits".into(), json!(rng.random_range(1..12)));
                details.insert("forced".into(), Value::Bool(rng.random_bool(0.02)));
            }
            "credentials.created" => {
                details.insert("scopes".into(), json!(["repo", "read:org"]));
                details.insert("expires_in_days".into(), json!(90));
            }
            "member.invited" | "member.added" => {
                details.insert("role".into(), json!(ROLES.choose(rng).unwrap_or(&"read")));
            }
            _ => {}
        }
        if failed {
            let (reason, error) = match spec.name {
                "user.login_failed" => *[
                    ("invalid_password", "the password is wrong"),
                    ("mfa_failed", "the second factor was refused"),
                    ("locked", "the account is locked"),
                ]
                .choose(rng)
                .unwrap_or(&("invalid_password", "")),
                "billing.invoice_failed" => ("card_declined", "the card was declined"),
                _ => *[
                    ("permission_denied", "the actor lacks the permission"),
                    ("rate_limited", "too many requests"),
                    ("validation_failed", "the request was invalid"),
                    ("conflict", "the resource changed meanwhile"),
                ]
                .choose(rng)
                .unwrap_or(&("permission_denied", "")),
            };
            status = Some(reason.to_string());
            details.insert("error".into(), json!(error));
        }

        let client_ip = match actor.kind {
            Kind::System => None,
            _ if rng.random_bool(0.08) => Some(random_ip(rng)),
            _ => actor.ips.choose(rng).cloned(),
        };

        // What a real application adds: kept verbatim in `properties`.
        let request_id = hex::encode(rng.random::<[u8; 8]>());
        let agent = match actor.kind {
            Kind::System => None,
            Kind::ApiKey => Some("forge-ci/1.4.2"),
            _ => Some(*USER_AGENTS.choose(rng).unwrap_or(&"")),
        };

        // CLEF: the reserved fields, the properties the server maps and those it keeps, in the
        // byte order of their names, as a JSON object map would write them (the bytes this
        // generator always sent), but written straight into the body: building a map of
        // values per event was most of the generator's CPU, and the generator shares the
        // machine's cores with the server it measures (BENCHMARKS.md, session 12).
        let mut line = ClefLine::start(out);
        if failed {
            line.text("@l", "Warning");
        }
        line.text("@mt", &format!("{{ActorName}} {phrase}"));
        line.text("@t", &ts.to_rfc3339_opts(SecondsFormat::Micros, true));
        line.text("Action", spec.name);
        line.text("Actor", &actor.id);
        if let Some(email) = &actor.email {
            line.text("ActorEmail", email);
        }
        line.text("ActorName", &actor.name);
        line.text("Application", "forge-api");
        if let Some(ip) = &client_ip {
            line.text("ClientIp", ip);
        }
        if !details.is_empty() {
            line.json("Details", &Value::Object(details));
        }
        line.text("OrganizationId", &world.orgs[org].id);
        line.text("OrganizationName", &world.orgs[org].name);
        line.text("PrincipalType", actor.kind.principal_type());
        line.text("RequestId", &request_id);
        line.text("Result", if failed { "failure" } else { "success" });
        if let Some(status) = &status {
            line.text("Status", status);
        }
        line.text("Target", &target_id);
        line.text("TargetName", &target_name);
        line.text("TargetType", target_type);
        if let Some(agent) = agent {
            line.text("UserAgent", agent);
        }
        if in_workspace {
            line.text("WorkspaceId", &world.workspaces[workspace].id);
            line.text("WorkspaceName", &world.workspaces[workspace].name);
        }
        line.end();
    }
}

/// One CLEF line being written: a JSON object whose members are added in the byte order of
/// their names (checked in debug builds), with no spaces, as `serde_json` writes a map.
struct ClefLine<'a> {
    out: &'a mut Vec<u8>,
    last: &'static str,
}

impl<'a> ClefLine<'a> {
    fn start(out: &'a mut Vec<u8>) -> Self {
        out.push(b'{');
        ClefLine { out, last: "" }
    }

    fn name(&mut self, name: &'static str) {
        debug_assert!(self.last < name, "{name} after {}", self.last);
        if !self.last.is_empty() {
            self.out.push(b',');
        }
        self.last = name;
        self.text_value(name);
        self.out.push(b':');
    }

    fn text(&mut self, name: &'static str, value: &str) {
        self.name(name);
        self.text_value(value);
    }

    fn json(&mut self, name: &'static str, value: &Value) {
        self.name(name);
        // Writing into a Vec cannot fail, and a `Value` always serializes.
        let _ = serde_json::to_writer(&mut *self.out, value);
    }

    fn text_value(&mut self, text: &str) {
        // As above: a string always serializes into a Vec.
        let _ = serde_json::to_writer(&mut *self.out, text);
    }

    fn end(self) {
        self.out.push(b'}');
    }
}

/// Parses a CLEF body as the server does (any size).
fn parse_clef(body: &[u8]) -> anyhow::Result<Vec<NewEvent>> {
    let limits = IngestLimits {
        max_payload_bytes: usize::MAX,
        ..IngestLimits::default()
    };
    parse_body(BodyFormat::Clef, body, &limits).map_err(|problem| anyhow::anyhow!("{problem}"))
}

// ---------------------------------------------------------------------------------------------
// Figures
// ---------------------------------------------------------------------------------------------

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// p50 / p95 / max of the samples, in ms.
fn summary(samples: &mut [Duration]) -> (f64, f64, f64) {
    samples.sort_unstable();
    (
        ms(percentile(samples, 0.50)),
        ms(percentile(samples, 0.95)),
        ms(samples.last().copied().unwrap_or_default()),
    )
}

/// 1234567 as "1,234,567".
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (index, ch) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

fn mib(bytes: u64) -> String {
    if bytes >= 1 << 30 {
        format!("{:.2} GiB", bytes as f64 / (1u64 << 30) as f64)
    } else {
        format!("{:.1} MiB", bytes as f64 / (1u64 << 20) as f64)
    }
}

/// Sizes of the store's files (the database and its text index file) and of their WALs.
fn db_size(dir: &Path) -> (u64, u64) {
    let size = |path: PathBuf| std::fs::metadata(path).map_or(0, |meta| meta.len());
    let with_wal = |path: PathBuf| {
        let mut wal = path.clone().into_os_string();
        wal.push("-wal");
        (size(path), size(PathBuf::from(wal)))
    };
    let (db, wal) = with_wal(dir.join(DATABASE_FILE));
    let (text, text_wal) = with_wal(witness_server::store::sqlite::text_index::path_for(
        &dir.join(DATABASE_FILE),
    ));
    (db + text, wal + text_wal)
}

fn size_text(dir: &Path, events: usize) -> String {
    let (db, wal) = db_size(dir);
    format!(
        "{} + WAL {} ({} bytes/event)",
        mib(db),
        mib(wal),
        grouped((db + wal) / events.max(1) as u64)
    )
}

// ---------------------------------------------------------------------------------------------
// Part 1: ingestion
// ---------------------------------------------------------------------------------------------

/// The real server, in process, on the site's store (SQLite in its directory, or its
/// PostgreSQL database).
async fn start_server(
    site: &Site,
    panel: &Path,
    max_payload: usize,
    partition_events: i64,
) -> anyhow::Result<(SocketAddr, Arc<dyn Store>)> {
    let mut config = ServeConfig::new(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        site.dir().to_path_buf(),
        panel.to_path_buf(),
    );
    config.data.database_url = site.database_url();
    config.partition_events = partition_events;
    config.max_payload_bytes = config.max_payload_bytes.max(max_payload);
    let app = Application::build(config).await?;
    let address = app.local_addr();
    let store = app.store();
    tokio::spawn(app.run_until_stopped());
    Ok((address, store))
}

async fn new_key(store: &Arc<dyn Store>, permission: Permission) -> anyhow::Result<String> {
    let token = generate_token();
    store
        .create_api_key(
            "bench",
            &[permission],
            hash_token(&token),
            &token_prefix(&token),
        )
        .await?;
    Ok(token)
}

struct IngestFigures {
    label: String,
    events: usize,
    bytes: Option<u64>,
    elapsed: Duration,
    latencies: Vec<Duration>,
    written: Option<u64>,
}

impl IngestFigures {
    fn rate(&self) -> f64 {
        self.events as f64 / self.elapsed.as_secs_f64()
    }

    fn row(&mut self) -> String {
        let (p50, p95, max) = summary(&mut self.latencies);
        let mb = self
            .bytes
            .map(|bytes| format!("{:.1}", bytes as f64 / 1e6 / self.elapsed.as_secs_f64()))
            .unwrap_or_else(|| "-".to_string());
        let written = self
            .written
            .map(|bytes| format!("{:.1}", bytes as f64 / 1024.0 / self.events as f64))
            .unwrap_or_else(|| "-".to_string());
        format!(
            "{:<44} {:>10} {:>7} {:>8.1} {:>8.1} {:>8.1} {:>10}",
            self.label,
            grouped(self.rate() as u64),
            mb,
            p50,
            p95,
            max,
            written
        )
    }
}

async fn ingest_part(
    args: &Args,
    world: &Arc<World>,
    sites: &Sites<'_>,
    panel: &Path,
) -> anyhow::Result<()> {
    if args.baselines {
        compare_ingest(args, world, sites, panel).await
    } else {
        sustained_ingest(args, world, sites, panel).await
    }
}

/// The columns of the sustained run's report lines after events, events/s and cumulative/s.
fn growth_header(site: &Site) -> String {
    match site {
        Site::Sqlite { .. } => format!(
            "{:>12} {:>16} {:>18}",
            "disk KB/ev", "store bytes/ev", "partitions"
        ),
        Site::Postgres { .. } => format!(
            "{:>12} {:>12} {:>16} {:>18}",
            "disk KB/ev", "WAL KB/ev", "db bytes/ev", "partitions"
        ),
    }
}

/// Those columns for the `events` stored between `then` and `now` (`total` in all).
async fn growth_columns(
    site: &Site,
    then: &Probe,
    now: &Probe,
    events: usize,
    total: usize,
) -> String {
    let per_event = |now: Option<u64>, then: Option<u64>| match (now, then) {
        (Some(now), Some(then)) => format!(
            "{:.2}",
            now.saturating_sub(then) as f64 / 1000.0 / events.max(1) as f64
        ),
        _ => "?".to_string(),
    };
    let written = per_event(now.written, then.written);
    let store = grouped(now.store_bytes / total.max(1) as u64);
    let partitions = site.partitions().await;
    match site {
        Site::Sqlite { .. } => format!("{written:>12} {store:>16} {partitions:>18}"),
        Site::Postgres { .. } => format!(
            "{written:>12} {:>12} {store:>16} {partitions:>18}",
            per_event(now.wal, then.wal)
        ),
    }
}

/// HTTP ingestion of `args.ingest_events` while a thread generates the batches, with a line per
/// `args.report_every` events (rate, bytes written, partitions), then verify and retention;
/// with PostgreSQL, then the raw COPY baseline on the same events.
async fn sustained_ingest(
    args: &Args,
    world: &Arc<World>,
    sites: &Sites<'_>,
    panel: &Path,
) -> anyhow::Result<()> {
    let n = args.ingest_events;
    let start = Utc::now() - chrono::Duration::days(SPAN_DAYS);
    let site = sites.new_site("ingest-http").await?;
    let (address, store) = start_server(&site, panel, 64 << 20, args.partition_events).await?;
    let key = new_key(&store, Permission::Ingest).await?;
    let (sender, receiver) = tokio::sync::mpsc::channel::<Bytes>(64);
    let generator_world = world.clone();
    let seed = args.seed.wrapping_add(1);
    let batch = args.batch;
    let producer = std::thread::spawn(move || {
        let mut generator = Generator::new(generator_world, seed, start, n);
        let mut remaining = n;
        while remaining > 0 {
            let count = remaining.min(batch);
            if sender
                .blocking_send(Bytes::from(generator.clef_body(count)))
                .is_err()
            {
                break;
            }
            remaining -= count;
        }
    });
    let receiver = Arc::new(tokio::sync::Mutex::new(receiver));
    let sent = Arc::new(AtomicUsize::new(0));
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.clients)
        .build()?;
    let url = format!("http://{address}/ingest/clef");
    eprintln!(
        "[ingest] sustained: {} clients POSTing {} events in batches of {} to {url}, \
         generated while sending…",
        args.clients,
        grouped(n as u64),
        grouped(batch as u64)
    );
    let mut tasks = JoinSet::new();
    for _ in 0..args.clients {
        let (client, url, key) = (client.clone(), url.clone(), key.clone());
        let (receiver, sent) = (receiver.clone(), sent.clone());
        tasks.spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let Some(body) = receiver.lock().await.recv().await else {
                    break;
                };
                let events = body.iter().filter(|b| **b == b'\n').count();
                let started = Instant::now();
                let response = client
                    .post(&url)
                    .header("X-Seq-ApiKey", &key)
                    .header("Content-Type", "application/vnd.serilog.clef")
                    .body(body)
                    .send()
                    .await?;
                let status = response.status();
                let text = response.text().await?;
                if status != reqwest::StatusCode::CREATED {
                    bail!("HTTP {status} (expected 201): {text}");
                }
                latencies.push(started.elapsed());
                sent.fetch_add(events, Ordering::Relaxed);
            }
            anyhow::Ok(latencies)
        });
    }
    say!(
        "Sustained HTTP ingestion: {} events, {} clients, batches of {}, {}; the generator runs \
         on this machine while the clients send.",
        grouped(n as u64),
        args.clients,
        grouped(batch as u64),
        match &site {
            Site::Sqlite { .. } => format!(
                "{} events per partition",
                grouped(args.partition_events as u64)
            ),
            Site::Postgres { .. } => "PostgreSQL (daily partitions by arrival)".to_string(),
        }
    );
    if site.pg().is_some() {
        say!(
            "  disk KB/ev: bytes the PostgreSQL server's processes sent to storage (/proc/<pid>/io \
             of the postmaster and its live children); WAL KB/ev: pg_current_wal_lsn() \
             difference; db bytes/ev: pg_database_size() growth over all events so far"
        );
    }
    say!(
        "{:>12} {:>12} {:>12} {}",
        "events",
        "events/s",
        "cumulative/s",
        growth_header(&site)
    );
    site.checkpoint().await;
    let started = Instant::now();
    let at_start = site.probe().await;
    let mut last = (0usize, Instant::now(), site.probe().await);
    let mut next_report = args.report_every.max(1);
    let mut rates = Vec::new();
    // A client that finishes while the progress is reported hands its latencies over here (they
    // were dropped, and a run whose clients all ended so printed latencies of 0 ms).
    let mut latencies = Vec::new();
    while sent.load(Ordering::Relaxed) < n && !tasks.is_empty() {
        tokio::time::sleep(Duration::from_millis(50)).await;
        if let Some(finished) = tasks.try_join_next() {
            latencies.extend(finished??);
        }
        let done = sent.load(Ordering::Relaxed);
        if done >= next_report || done >= n {
            let now = Instant::now();
            let probe = site.probe().await;
            let rate = (done - last.0) as f64 / (now - last.1).as_secs_f64();
            rates.push(rate);
            say!(
                "{:>12} {:>12} {:>12} {}",
                grouped(done as u64),
                grouped(rate as u64),
                grouped((done as f64 / started.elapsed().as_secs_f64()) as u64),
                growth_columns(&site, &last.2, &probe, done - last.0, done).await
            );
            last = (done, now, probe);
            while next_report <= done {
                next_report += args.report_every.max(1);
            }
        }
    }
    while let Some(joined) = tasks.join_next().await {
        latencies.extend(joined??);
    }
    let _ = producer.join();
    let elapsed = started.elapsed();
    let at_end = site.probe().await;
    let per_event = |now: Option<u64>, then: Option<u64>| match (now, then) {
        (Some(now), Some(then)) => format!(
            "{:.2} KB",
            now.saturating_sub(then) as f64 / 1000.0 / n.max(1) as f64
        ),
        _ => "?".to_string(),
    };
    let total_written = match &site {
        Site::Sqlite { .. } => per_event(at_end.written, at_start.written),
        Site::Postgres { .. } => format!(
            "{} (WAL {})",
            per_event(at_end.written, at_start.written),
            per_event(at_end.wal, at_start.wal)
        ),
    };
    latencies.sort();
    let pick = |q: f64| {
        latencies
            .get(((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    let http_rate = n as f64 / elapsed.as_secs_f64();
    say!(
        "All {} events in {:.1} s: {} events/s; {} written to disk per event; request \
         latency p50 {:.0} ms, p95 {:.0} ms, max {:.0} ms; store {}",
        grouped(n as u64),
        elapsed.as_secs_f64(),
        grouped(http_rate as u64),
        total_written,
        pick(0.5),
        pick(0.95),
        latencies.last().map_or(0.0, |d| d.as_secs_f64() * 1000.0),
        site.size_text(n).await
    );
    if let (Some(first), Some(last)) = (rates.first(), rates.last()) {
        say!(
            "Rate over the last report interval / the first: {:.2}",
            last / first
        );
    }
    // Let sealing finish, then verify and time retention of the oldest events.
    if matches!(site, Site::Sqlite { .. }) {
        eprintln!("[ingest] waiting for the writer to seal every full partition…");
        let seal_wait = site.wait_for_sealing().await?;
        say!(
            "Sealing after the last event: {:.1} s; partitions {}",
            seal_wait.as_secs_f64(),
            site.partitions().await
        );
    }
    let verify_started = Instant::now();
    let report = store.verify(true).await?;
    let verify_elapsed = verify_started.elapsed();
    if !report.ok {
        bail!("after ingestion the chain does not verify: {report:?}");
    }
    say!(
        "Verify (full chain, {} events): {:.2} s, {} events/s",
        grouped(report.verified_count),
        verify_elapsed.as_secs_f64(),
        grouped((report.verified_count as f64 / verify_elapsed.as_secs_f64()) as u64)
    );
    // Retention of about the oldest `report_every` events.
    if let Some(cutoff) = site.retention_cutoff(args.report_every.min(n / 2)).await? {
        let before = site.partitions().await;
        let retention_started = Instant::now();
        let deleted = store
            .delete_received_before(
                DateTime::from_timestamp_micros(cutoff).context("cutoff out of range")?,
            )
            .await?;
        say!(
            "Retention: {} events deleted in {:.0} ms (partitions {} → {}){}",
            grouped(deleted),
            retention_started.elapsed().as_secs_f64() * 1000.0,
            before,
            site.partitions().await,
            if site.pg().is_some() {
                "; every event arrived today, so this is a DELETE of rows in today's \
                 partition, not a dropped partition"
            } else {
                ""
            }
        );
    }
    if site.pg().is_some() {
        // The raw baseline on the same events (same seed and count), made before its clock
        // starts, in chunks so that memory stays bounded.
        let raw_site = sites.new_site("ingest-raw").await?;
        let input = RawInput::Generate {
            generator: Box::new(Generator::new(world.clone(), seed, start, n)),
            remaining: n,
            batch,
        };
        let mut figures = pg_raw_baseline(&raw_site, input, args.clients).await?;
        say!(
            "Raw baseline: the same {} events as rows Witness would store, binary COPY \
             (tokio-postgres) into an `events` table made by Witness's own schema migration \
             (partitioned by arrival day, the same indexes) in another fresh database; {} \
             clients, one transaction per batch of {}; rows made before the clock starts \
             (no parsing, hashing or HTTP in the timing), in chunks of {}",
            grouped(n as u64),
            args.clients,
            grouped(batch as u64),
            grouped(RAW_CHUNK as u64)
        );
        let (p50, p95, max) = summary(&mut figures.latencies);
        say!(
            "  raw COPY: {} events/s; transaction latency p50 {p50:.1} ms, p95 {p95:.1} ms, \
             max {max:.1} ms; {}",
            grouped(figures.rate() as u64),
            raw_site.size_text(n).await
        );
        say!(
            "  Witness over HTTP (sustained, generator running alongside) / raw COPY: \
             {} / {} events/s = {:.2}",
            grouped(http_rate as u64),
            grouped(figures.rate() as u64),
            http_rate / figures.rate()
        );
    }
    say!();
    Ok(())
}

/// HTTP, `Store::append` and raw rusqlite on the same pre-generated batches.
async fn compare_ingest(
    args: &Args,
    world: &Arc<World>,
    sites: &Sites<'_>,
    panel: &Path,
) -> anyhow::Result<()> {
    let n = args.ingest_events;
    let start = Utc::now() - chrono::Duration::days(SPAN_DAYS);
    eprintln!("[ingest] generating {} events as CLEF…", grouped(n as u64));
    let started = Instant::now();
    let mut generator = Generator::new(world.clone(), args.seed.wrapping_add(1), start, n);
    let mut bodies = Vec::new();
    let mut remaining = n;
    while remaining > 0 {
        let count = remaining.min(args.batch);
        bodies.push(Bytes::from(generator.clef_body(count)));
        remaining -= count;
    }
    let total_bytes: u64 = bodies.iter().map(|body| body.len() as u64).sum();
    let largest = bodies.iter().map(Bytes::len).max().unwrap_or(0);
    eprintln!(
        "[ingest] generated {} in {:.1} s",
        mib(total_bytes),
        started.elapsed().as_secs_f64()
    );
    let bodies = Arc::new(bodies);

    // 1. HTTP.
    let http_site = sites.new_site("ingest-http").await?;
    let (address, store) = start_server(
        &http_site,
        panel,
        largest + 1,
        witness_server::store::sqlite::partitions::DEFAULT_EVENTS_PER_PARTITION,
    )
    .await?;
    let key = new_key(&store, Permission::Ingest).await?;
    eprintln!(
        "[ingest] HTTP: {} clients POSTing {} batches to http://{address}/ingest/clef…",
        args.clients,
        bodies.len()
    );
    http_site.checkpoint().await;
    let before = http_site.probe().await;
    let (elapsed, latencies) = http_ingest(address, &key, bodies.clone(), args.clients).await?;
    let mut figures = vec![IngestFigures {
        label: format!("HTTP POST /ingest/clef, {} clients", args.clients),
        events: n,
        bytes: Some(total_bytes),
        elapsed,
        latencies,
        written: written_since(&before, &http_site.probe().await),
    }];
    let http_size = http_site.size_text(n).await;
    eprintln!("[ingest] verifying the chain…");
    let verify_started = Instant::now();
    let report = store.verify(true).await?;
    let verify_elapsed = verify_started.elapsed();
    if !report.ok || report.verified_count != n as u64 {
        bail!(
            "after HTTP ingestion the chain has {} verified events (ok: {}), expected {n}",
            report.verified_count,
            report.ok
        );
    }

    // 2. Store::append without HTTP.
    eprintln!("[ingest] parsing the batches for Store::append…");
    let batches = parse_all(&bodies)?;
    let direct_site = sites.new_site("ingest-store").await?;
    eprintln!("[ingest] Store::append, {} tasks…", args.clients);
    let store = direct_site.open_store().await?;
    direct_site.checkpoint().await;
    let before = direct_site.probe().await;
    let (elapsed, latencies) = direct_ingest(store, batches, args.clients).await?;
    figures.push(IngestFigures {
        label: format!("Store::append (no HTTP/parsing), {} tasks", args.clients),
        events: n,
        bytes: None,
        elapsed,
        latencies,
        written: written_since(&before, &direct_site.probe().await),
    });
    // 3. The raw baseline: binary COPY into PostgreSQL, or the writer's SQL through rusqlite
    // (and without parts of the work when asked).
    let (raw_size, notes) = if direct_site.pg().is_some() {
        eprintln!("[ingest] parsing the batches for the raw baseline…");
        let batches = parse_all(&bodies)?;
        let raw_site = sites.new_site("ingest-raw").await?;
        let before = raw_site.probe().await;
        let mut raw = pg_raw_baseline(&raw_site, RawInput::Parsed(batches), args.clients).await?;
        raw.written = written_since(&before, &raw_site.probe().await);
        figures.push(raw);
        let notes = format!(
            "Notes: client and server share this machine's cores (in-process, loopback), and \
             PostgreSQL runs on the same machine. The server group-commits concurrent batches \
             (up to 50,000 events per transaction: one COPY, the event_minutes upsert and the \
             chain_state update, the chain's head row locked); the raw baseline sends each batch \
             of {} as its own transaction (BEGIN, binary COPY with the writer's own statement \
             into `events` made by Witness's own migration: partitioned by arrival day, the same \
             indexes; COMMIT), {} connections at once, and no event_minutes or chain_state. Its \
             rows (row conversion, canonical JSON, SHA-256 chain hash, words) are made before \
             the clock starts. MB = 10^6 bytes of CLEF. disk KB/ev = bytes the PostgreSQL \
             server's processes sent to storage (/proc/<pid>/io write_bytes of the postmaster \
             and its live children: WAL, checkpoints, background writer) per event.",
            args.batch, args.clients
        );
        (raw_site.size_text(n).await, notes)
    } else {
        sqlite_raw_baselines(args, &bodies, sites, &mut figures).await?
    };
    drop(bodies);

    say!(
        "Ingestion: {} events, {} per batch ({} batches, {} CLEF, {} bytes/event on the wire)",
        grouped(n as u64),
        grouped(args.batch as u64),
        grouped(n.div_ceil(args.batch) as u64),
        mib(total_bytes),
        grouped(total_bytes / n as u64)
    );
    say!(
        "{:<44} {:>10} {:>7} {:>8} {:>8} {:>8} {:>10}",
        "path",
        "events/s",
        "MB/s",
        "p50 ms",
        "p95 ms",
        "max ms",
        "disk KB/ev"
    );
    for figure in &mut figures {
        say!("{}", figure.row());
    }
    let raw_rate = figures[2].rate();
    say!(
        "HTTP / raw: {:.2}   Store::append / raw: {:.2}   (latency = one request / append / \
         transaction of {} events)",
        figures[0].rate() / raw_rate,
        figures[1].rate() / raw_rate,
        args.batch
    );
    say!("{notes}");
    say!("Store size after HTTP ingestion: {http_size}; raw baseline: {raw_size}");
    say!(
        "Verify (full chain, {} events): {:.2} s, {} events/s",
        grouped(n as u64),
        verify_elapsed.as_secs_f64(),
        grouped((n as f64 / verify_elapsed.as_secs_f64()) as u64)
    );
    say!();
    Ok(())
}

/// The raw rusqlite baseline (and its variants with `--raw-breakdown`) on the same batches;
/// the size of its store, and the notes that explain the comparison.
async fn sqlite_raw_baselines(
    args: &Args,
    bodies: &[Bytes],
    sites: &Sites<'_>,
    figures: &mut Vec<IngestFigures>,
) -> anyhow::Result<(String, String)> {
    let n = args.ingest_events;
    let mut variants = vec![RawVariant {
        fts: true,
        indexes: true,
    }];
    if args.raw_breakdown {
        variants.extend([
            RawVariant {
                fts: false,
                indexes: true,
            },
            RawVariant {
                fts: true,
                indexes: false,
            },
            RawVariant {
                fts: false,
                indexes: false,
            },
        ]);
    }
    let mut raw_size = String::new();
    for (index, variant) in variants.into_iter().enumerate() {
        eprintln!("[ingest] parsing the batches for the raw baseline…");
        let batches = parse_all(bodies)?;
        let raw_dir = sites.work.join(format!("ingest-raw-{index}"));
        std::fs::create_dir_all(&raw_dir)?;
        eprintln!("[ingest] {}…", variant.label());
        let raw_path = raw_dir.join(DATABASE_FILE);
        let writes = DiskWrites::start();
        let (elapsed, latencies) =
            tokio::task::spawn_blocking(move || raw_baseline(&raw_path, batches, variant))
                .await??;
        figures.push(IngestFigures {
            label: variant.label(),
            events: n,
            bytes: None,
            elapsed,
            latencies,
            written: writes.bytes(),
        });
        if index == 0 {
            raw_size = size_text(&raw_dir, n);
        }
        // Only the first is compared; the others show what the left-out work costs.
        if index > 0 {
            let _ = std::fs::remove_dir_all(&raw_dir);
        }
    }
    let notes = format!(
        "Notes: client and server share this machine's cores (in-process, loopback). The server \
         group-commits concurrent batches (up to 50,000 events per transaction); the raw baseline \
         commits each batch of {} alone. The raw baseline runs the writer's statements (events + \
         events_fts inserts, minute_counts upsert, chain_state update, one IMMEDIATE transaction \
         per batch, WAL, synchronous=FULL) and computes row conversion, canonical JSON, the \
         SHA-256 chain hash and the search text inside the timing, as the writer does; CLEF \
         parsing is outside its timing. MB = 10^6 bytes of CLEF. disk KB/ev = bytes this \
         process sent to storage (/proc/self/io write_bytes: WAL, checkpoints) per event.",
        args.batch
    );
    Ok((raw_size, notes))
}

/// Bytes sent to storage between two probes of a store.
fn written_since(before: &Probe, after: &Probe) -> Option<u64> {
    Some(after.written?.saturating_sub(before.written?))
}

/// Bytes this process has sent to storage since `start` (Linux `/proc/self/io`).
struct DiskWrites(Option<u64>);

impl DiskWrites {
    fn read() -> Option<u64> {
        std::fs::read_to_string("/proc/self/io")
            .ok()?
            .lines()
            .find_map(|line| line.strip_prefix("write_bytes:"))?
            .trim()
            .parse()
            .ok()
    }

    fn start() -> Self {
        DiskWrites(Self::read())
    }

    fn bytes(&self) -> Option<u64> {
        Some(Self::read()?.saturating_sub(self.0?))
    }
}

fn parse_all(bodies: &[Bytes]) -> anyhow::Result<Vec<Vec<NewEvent>>> {
    bodies.iter().map(|body| parse_clef(body)).collect()
}

async fn http_ingest(
    address: SocketAddr,
    key: &str,
    bodies: Arc<Vec<Bytes>>,
    clients: usize,
) -> anyhow::Result<(Duration, Vec<Duration>)> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .build()?;
    let url = format!("http://{address}/ingest/clef");
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = JoinSet::new();
    let started = Instant::now();
    for _ in 0..clients {
        let client = client.clone();
        let url = url.clone();
        let key = key.to_string();
        let bodies = bodies.clone();
        let next = next.clone();
        tasks.spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                let Some(body) = bodies.get(index) else {
                    break;
                };
                let sent = Instant::now();
                let response = client
                    .post(&url)
                    .header("X-Seq-ApiKey", &key)
                    .header("Content-Type", "application/vnd.serilog.clef")
                    .body(body.clone())
                    .send()
                    .await?;
                let status = response.status();
                let text = response.text().await?;
                if status != reqwest::StatusCode::CREATED {
                    bail!("batch {index}: HTTP {status} (expected 201): {text}");
                }
                latencies.push(sent.elapsed());
            }
            Ok(latencies)
        });
    }
    let mut latencies = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        match joined? {
            Ok(some) => latencies.extend(some),
            Err(error) => {
                tasks.abort_all();
                return Err(error);
            }
        }
    }
    Ok((started.elapsed(), latencies))
}

async fn direct_ingest(
    store: Arc<dyn Store>,
    batches: Vec<Vec<NewEvent>>,
    tasks_count: usize,
) -> anyhow::Result<(Duration, Vec<Duration>)> {
    let queue = Arc::new(Mutex::new(batches.into_iter()));
    let mut tasks = JoinSet::new();
    let started = Instant::now();
    for _ in 0..tasks_count {
        let store = store.clone();
        let queue = queue.clone();
        tasks.spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let next = queue
                    .lock()
                    .map_err(|_| anyhow::anyhow!("poisoned"))?
                    .next();
                let Some(batch) = next else { break };
                let sent = Instant::now();
                store
                    .append(EventSource::api_key("key-bench"), batch)
                    .await?;
                latencies.push(sent.elapsed());
            }
            anyhow::Ok(latencies)
        });
    }
    let mut latencies = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        latencies.extend(joined??);
    }
    Ok((started.elapsed(), latencies))
}

/// What the raw baseline does: everything the writer does, or less to see what a part costs.
#[derive(Debug, Clone, Copy)]
struct RawVariant {
    /// Insert the search text into `events_fts`.
    fts: bool,
    /// Keep the secondary indexes on `events`.
    indexes: bool,
}

impl RawVariant {
    fn label(self) -> String {
        match (self.fts, self.indexes) {
            (true, true) => "raw rusqlite, same SQL, 1 client".to_string(),
            (false, true) => "  raw, without the FTS insert".to_string(),
            (true, false) => "  raw, without the 13 secondary indexes".to_string(),
            (false, false) => "  raw, without FTS and secondary indexes".to_string(),
        }
    }
}

/// The writer's `insert_group`, minus HTTP, parsing and the channel: one transaction per batch.
fn raw_baseline(
    path: &Path,
    batches: Vec<Vec<NewEvent>>,
    variant: RawVariant,
) -> anyhow::Result<(Duration, Vec<Duration>)> {
    let mut conn = Connection::open(path)?;
    schema::configure(&conn)?;
    schema::migrate(&conn)?;
    // What a plain audit table would be: one `events` table with every index a sealed
    // partition has, and its text index, all maintained row by row.
    conn.execute_batch(&schema::events_table_sql("events"))?;
    conn.execute_batch(&schema::text_table_sql("events"))?;
    if variant.indexes {
        for index in schema::PARTITION_INDEXES {
            conn.execute_batch(&schema::index_sql("events", index))?;
        }
    }
    // Its summaries are those of a store made before partitions (the store-wide tables).
    let single_table = Partition {
        id: 0,
        state: PartitionState::Sealed,
        first_seq: 1,
        last_seq: 0,
        min_ts: None,
        max_ts: None,
        day: 0,
        text_seq: 0,
        text_apart: false,
        index_apart: false,
    };
    let mut prev = GENESIS_HASH;
    let mut seq = 0i64;
    let mut last_received = 0i64;
    let source = EventSource::api_key("key-bench");
    let mut latencies = Vec::with_capacity(batches.len());
    let started = Instant::now();
    for batch in batches {
        let sent = Instant::now();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let received = Utc::now().timestamp_micros().max(last_received);
        let mut summaries = Summaries::default();
        {
            let mut insert_event = tx.prepare_cached(&insert_sql("events"))?;
            let mut insert_text =
                tx.prepare_cached("INSERT INTO events_fts (rowid, body) VALUES (?1, ?2)")?;
            for event in batch {
                seq += 1;
                let mut row = EventRow::from_new(seq, received, &source, event);
                let hash = row.canonical().hash(&prev);
                row.prev_hash = prev.to_vec();
                row.hash = hash.to_vec();
                row.insert(&mut insert_event)?;
                let text = row.search_text();
                if variant.fts {
                    insert_text.execute(params![row.seq, text])?;
                }
                summaries.add(&row);
                prev = hash;
            }
            summaries.write(&tx, &single_table)?;
            tx.execute(
                "UPDATE chain_state SET head_seq = ?1, head_hash = ?2 WHERE id = 1",
                params![seq, prev.to_vec()],
            )?;
        }
        tx.commit()?;
        last_received = received;
        latencies.push(sent.elapsed());
    }
    Ok((started.elapsed(), latencies))
}

/// Events the PostgreSQL raw baseline makes into rows at a time, between its timed runs (its
/// rows are made before the clock starts; chunks keep the memory bounded).
const RAW_CHUNK: usize = 500_000;

/// The events of the PostgreSQL raw baseline: parsed batches, or a generator to make them.
enum RawInput {
    Parsed(Vec<Vec<NewEvent>>),
    Generate {
        generator: Box<Generator>,
        remaining: usize,
        batch: usize,
    },
}

/// One row as Witness's writer COPYs it: the event row and its words.
struct RawRow {
    row: EventRow,
    words: Vec<String>,
}

/// Makes the rows the raw baseline COPYs, chained as Witness would chain them.
struct RawRows {
    input: RawInput,
    seq: i64,
    prev: [u8; 32],
    source: EventSource,
}

impl RawRows {
    /// The next batches of rows (about `RAW_CHUNK` events when generating); None when done.
    fn next_chunk(&mut self) -> anyhow::Result<Option<Vec<Vec<RawRow>>>> {
        let batches: Vec<Vec<NewEvent>> = match &mut self.input {
            RawInput::Parsed(batches) => std::mem::take(batches),
            RawInput::Generate {
                generator,
                remaining,
                batch,
            } => {
                let mut batches = Vec::new();
                let mut events = 0;
                while *remaining > 0 && events < RAW_CHUNK {
                    let count = (*remaining).min(*batch);
                    batches.push(parse_clef(generator.clef_body(count).as_bytes())?);
                    *remaining -= count;
                    events += count;
                }
                batches
            }
        };
        if batches.is_empty() {
            return Ok(None);
        }
        Ok(Some(
            batches
                .into_iter()
                .map(|batch| batch.into_iter().map(|event| self.row(event)).collect())
                .collect(),
        ))
    }

    fn row(&mut self, event: NewEvent) -> RawRow {
        self.seq += 1;
        let mut row = EventRow::from_new(self.seq, 0, &self.source, event);
        let hash = row.canonical().hash(&self.prev);
        row.prev_hash = self.prev.to_vec();
        row.hash = hash.to_vec();
        self.prev = hash;
        let words = witness_api::index_words(&row.search_text());
        RawRow { row, words }
    }
}

/// PostgreSQL without Witness: the rows Witness would store, binary COPY'd with the writer's
/// own statement into an `events` table made by Witness's own migration (partitioned by
/// arrival day, the same indexes), `clients` connections taking batches from one queue, each
/// batch its own transaction. Rows are made before the clock starts (in chunks).
async fn pg_raw_baseline(
    site: &Site,
    input: RawInput,
    clients: usize,
) -> anyhow::Result<IngestFigures> {
    let db = site
        .pg()
        .context("the raw COPY baseline needs a PostgreSQL database")?;
    {
        let mut client = db.schema_client().await?;
        pg_schema::migrate(&mut client).await?;
        let today = pg_schema::day_of(Utc::now().timestamp_micros());
        let tx = client.transaction().await?;
        pg_schema::ensure_partitions(&tx, &[today, today + 1]).await?;
        tx.commit().await?;
    }
    let mut connections = Vec::with_capacity(clients);
    for _ in 0..clients {
        let (client, connection) = tokio_postgres::connect(&db.url, NoTls).await?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        connections.push(client);
    }
    site.checkpoint().await;
    let mut rows = RawRows {
        input,
        seq: 0,
        prev: GENESIS_HASH,
        source: EventSource::api_key("key-bench"),
    };
    let mut elapsed = Duration::ZERO;
    let mut latencies = Vec::new();
    let mut events = 0usize;
    loop {
        eprintln!("[ingest] raw COPY: making the next rows…");
        let (back, chunk) = tokio::task::spawn_blocking(move || {
            let chunk = rows.next_chunk();
            (rows, chunk)
        })
        .await?;
        rows = back;
        let Some(chunk) = chunk? else { break };
        let chunk_events: usize = chunk.iter().map(Vec::len).sum();
        eprintln!(
            "[ingest] raw COPY: {} events, {} connections…",
            grouped(chunk_events as u64),
            clients
        );
        let queue = Arc::new(Mutex::new(VecDeque::from(chunk)));
        let started = Instant::now();
        let mut tasks = JoinSet::new();
        for mut client in connections.drain(..) {
            let queue = queue.clone();
            tasks.spawn(async move {
                let mut latencies = Vec::new();
                loop {
                    let next = queue
                        .lock()
                        .map_err(|_| anyhow::anyhow!("poisoned"))?
                        .pop_front();
                    let Some(batch) = next else { break };
                    let sent = Instant::now();
                    copy_batch(&mut client, &batch).await?;
                    latencies.push(sent.elapsed());
                }
                anyhow::Ok((client, latencies))
            });
        }
        while let Some(joined) = tasks.join_next().await {
            let (client, some) = joined??;
            connections.push(client);
            latencies.extend(some);
        }
        elapsed += started.elapsed();
        events += chunk_events;
    }
    Ok(IngestFigures {
        label: format!("raw binary COPY, {clients} connections"),
        events,
        bytes: None,
        elapsed,
        latencies,
        written: None,
    })
}

/// One batch in one transaction: BEGIN, COPY … FROM STDIN BINARY, COMMIT.
async fn copy_batch(client: &mut tokio_postgres::Client, batch: &[RawRow]) -> anyhow::Result<()> {
    let tx = client.transaction().await?;
    let received = Utc::now().timestamp_micros();
    let sink = tx.copy_in(COPY_SQL).await?;
    let mut writer = pin!(BinaryCopyInWriter::new(sink, &COPY_TYPES));
    for RawRow { row, words } in batch {
        let values = copy_values(row, &received, words);
        writer.as_mut().write(&values).await?;
    }
    writer.finish().await?;
    tx.commit().await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Part 2: queries
// ---------------------------------------------------------------------------------------------

fn is(value: &str) -> ValueMatch {
    ValueMatch {
        value: value.to_string(),
        negated: false,
        prefix: false,
    }
}

fn starts(value: &str) -> ValueMatch {
    ValueMatch {
        value: value.to_string(),
        negated: false,
        prefix: true,
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum CaseKind {
    Page,
    /// A later page: the filter's `to` is where the cursor points (see [`deep_cursor`]).
    DeepPage,
    Histogram,
}

/// For a deep page: the filter without its `to`, and a cursor at `to` (as if the pages before
/// had been walked; any seq at that time, snapshot at the newest event).
fn deep_cursor(kind: CaseKind, mut filter: EventFilter) -> (EventFilter, Option<Cursor>) {
    match (kind, filter.to.take()) {
        (CaseKind::DeepPage, Some(to)) => (
            filter,
            Some(Cursor {
                ts_micros: to.timestamp_micros(),
                seq: i64::MAX,
                max_seq: i64::MAX,
            }),
        ),
        (_, to) => {
            filter.to = to;
            (filter, None)
        }
    }
}

/// Makes a case's filter from picked values.
type PickFilter = Box<dyn Fn(&Picks, &mut StdRng) -> EventFilter + Send + Sync>;
type MakeFilter = Box<dyn Fn(&mut StdRng) -> EventFilter + Send + Sync>;

struct Case {
    name: &'static str,
    kind: CaseKind,
    make: MakeFilter,
}

/// What the query cases pick their values from.
struct Picks {
    world: Arc<World>,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
}

impl Picks {
    /// An actor by id, name or email: by activity on even samples, uniformly on odd ones.
    fn actor(&self, rng: &mut StdRng) -> String {
        let world = &self.world;
        let actor = if rng.random_bool(0.5) {
            &world.actors[world.pick_user(rng)]
        } else {
            world.actors.choose(rng).unwrap_or(&world.actors[0])
        };
        match rng.random_range(0..3) {
            0 => actor.id.clone(),
            1 => actor.name.clone(),
            _ => actor.email.clone().unwrap_or_else(|| actor.id.clone()),
        }
    }

    fn action(&self, rng: &mut StdRng) -> &'static str {
        ACTIONS[self.world.action_cdf.sample(rng)].name
    }

    fn namespace(&self, rng: &mut StdRng) -> &'static str {
        [
            "member.",
            "repo.",
            "credentials.",
            "user.",
            "org.",
            "billing.",
        ]
        .choose(rng)
        .copied()
        .unwrap_or("member.")
    }

    fn target(&self, rng: &mut StdRng) -> String {
        let world = &self.world;
        match rng.random_range(0..3) {
            0 => world
                .repos
                .choose(rng)
                .map(|r| r.id.clone())
                .unwrap_or_default(),
            1 => world
                .repos
                .choose(rng)
                .map(|r| r.name.clone())
                .unwrap_or_default(),
            _ => world.actors[world.pick_user(rng)].id.clone(),
        }
    }

    fn ip(&self, rng: &mut StdRng) -> String {
        let world = &self.world;
        world.actors[world.pick_user(rng)]
            .ips
            .choose(rng)
            .cloned()
            .unwrap_or_default()
    }

    fn organization(&self, rng: &mut StdRng) -> String {
        let org = self.world.orgs.choose(rng).unwrap_or(&self.world.orgs[0]);
        if rng.random_bool(0.5) {
            org.id.clone()
        } else {
            org.name.clone()
        }
    }

    fn workspace(&self, rng: &mut StdRng) -> String {
        let ws = self
            .world
            .workspaces
            .choose(rng)
            .unwrap_or(&self.world.workspaces[0]);
        if rng.random_bool(0.5) {
            ws.id.clone()
        } else {
            ws.name.clone()
        }
    }

    fn day(&self, rng: &mut StdRng) -> (DateTime<Utc>, DateTime<Utc>) {
        let from = self.start + chrono::Duration::days(rng.random_range(0..SPAN_DAYS));
        (from, from + chrono::Duration::days(1))
    }
}

fn cases(picks: Arc<Picks>) -> Vec<Case> {
    let mut cases = Vec::new();
    let mut add = |name: &'static str, kind: CaseKind, make: PickFilter| {
        let picks = picks.clone();
        cases.push(Case {
            name,
            kind,
            make: Box::new(move |rng| make(&picks, rng)),
        });
    };
    use CaseKind::{Histogram as H, Page as P};
    add(
        "first page, no filter",
        P,
        Box::new(|_, _| EventFilter::default()),
    );
    add(
        "actor = id|name|email",
        P,
        Box::new(|p, rng| EventFilter {
            actor: vec![is(&p.actor(rng))],
            ..EventFilter::default()
        }),
    );
    add(
        "action = exact",
        P,
        Box::new(|p, rng| EventFilter {
            action: vec![is(p.action(rng))],
            ..EventFilter::default()
        }),
    );
    add(
        "action = namespace.*",
        P,
        Box::new(|p, rng| EventFilter {
            action: vec![starts(p.namespace(rng))],
            ..EventFilter::default()
        }),
    );
    add(
        "target = id|name",
        P,
        Box::new(|p, rng| EventFilter {
            target: vec![is(&p.target(rng))],
            ..EventFilter::default()
        }),
    );
    add(
        "result = failure",
        P,
        Box::new(|_, _| EventFilter {
            result: Some(AuditResult::Failure),
            ..EventFilter::default()
        }),
    );
    add(
        "ip",
        P,
        Box::new(|p, rng| EventFilter {
            ip: vec![ValueMatch::exact(p.ip(rng))],
            ..EventFilter::default()
        }),
    );
    add(
        "organization = id|name",
        P,
        Box::new(|p, rng| EventFilter {
            organization: vec![ValueMatch::exact(p.organization(rng))],
            ..EventFilter::default()
        }),
    );
    add(
        "workspace = id|name",
        P,
        Box::new(|p, rng| EventFilter {
            workspace: vec![ValueMatch::exact(p.workspace(rng))],
            ..EventFilter::default()
        }),
    );
    add(
        "time range: one day",
        P,
        Box::new(|p, rng| {
            let (from, to) = p.day(rng);
            EventFilter {
                from: Some(from),
                to: Some(to),
                ..EventFilter::default()
            }
        }),
    );
    add(
        "deep page: cursor 10-95% back",
        CaseKind::DeepPage,
        Box::new(|p, rng| {
            let back = (p.end - p.start).num_microseconds().unwrap_or(0) as f64
                * rng.random_range(0.10..0.95);
            EventFilter {
                to: Some(p.end - chrono::Duration::microseconds(back as i64)),
                ..EventFilter::default()
            }
        }),
    );
    add(
        "actor + action ns.* + failure",
        P,
        Box::new(|p, rng| EventFilter {
            actor: vec![is(&p.actor(rng))],
            action: vec![starts(p.namespace(rng))],
            result: Some(AuditResult::Failure),
            ..EventFilter::default()
        }),
    );
    add(
        "q = common word",
        P,
        Box::new(|_, rng| EventFilter {
            q: COMMON_WORDS.choose(rng).map(|w| w.to_string()),
            ..EventFilter::default()
        }),
    );
    add(
        "q = rare word",
        P,
        Box::new(|_, rng| EventFilter {
            q: RARE_WORDS.choose(rng).map(|w| w.to_string()),
            ..EventFilter::default()
        }),
    );
    add(
        "q = common word + actor",
        P,
        Box::new(|p, rng| EventFilter {
            q: COMMON_WORDS.choose(rng).map(|w| w.to_string()),
            actor: vec![is(&p.actor(rng))],
            ..EventFilter::default()
        }),
    );
    add(
        "q = common word + failure",
        P,
        Box::new(|_, rng| EventFilter {
            q: COMMON_WORDS.choose(rng).map(|w| w.to_string()),
            result: Some(AuditResult::Failure),
            ..EventFilter::default()
        }),
    );
    add(
        "histogram 30 d, no filter",
        H,
        Box::new(|p, _| EventFilter {
            from: Some(p.end - chrono::Duration::days(SPAN_DAYS)),
            to: Some(p.end),
            ..EventFilter::default()
        }),
    );
    add(
        "histogram 30 d, action = exact",
        H,
        Box::new(|p, rng| EventFilter {
            from: Some(p.end - chrono::Duration::days(SPAN_DAYS)),
            to: Some(p.end),
            action: vec![is(p.action(rng))],
            ..EventFilter::default()
        }),
    );
    add(
        "histogram 30 d, actor",
        H,
        Box::new(|p, rng| EventFilter {
            from: Some(p.end - chrono::Duration::days(SPAN_DAYS)),
            to: Some(p.end),
            actor: vec![is(&p.actor(rng))],
            ..EventFilter::default()
        }),
    );
    cases
}

/// What one query returned: events on the page, or the histogram's total.
async fn run_store(
    store: &Arc<dyn Store>,
    kind: CaseKind,
    filter: EventFilter,
) -> anyhow::Result<u64> {
    Ok(match kind {
        CaseKind::Page | CaseKind::DeepPage => {
            let (filter, cursor) = deep_cursor(kind, filter);
            store
                .query(EventQuery {
                    filter,
                    limit: PAGE,
                    cursor,
                })
                .await?
                .events
                .len() as u64
        }
        CaseKind::Histogram => store.histogram(filter, None).await?.total,
    })
}

struct Http {
    client: reqwest::Client,
    base: String,
    key: String,
}

impl Http {
    async fn run(&self, kind: CaseKind, filter: EventFilter) -> anyhow::Result<u64> {
        let (filter, cursor) = deep_cursor(kind, filter);
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (name, value) in filter.to_pairs() {
            query.append_pair(name, &value);
        }
        if let Some(cursor) = cursor {
            query.append_pair("cursor", &cursor.encode());
        }
        let path = match kind {
            CaseKind::Page | CaseKind::DeepPage => {
                query.append_pair("limit", &PAGE.to_string());
                "/api/audit/events"
            }
            CaseKind::Histogram => "/api/audit/histogram",
        };
        let url = format!("{}{path}?{}", self.base, query.finish());
        let response = self
            .client
            .get(&url)
            .header("X-Seq-ApiKey", &self.key)
            .send()
            .await?;
        let status = response.status();
        let body = response.bytes().await?;
        if !status.is_success() {
            bail!(
                "GET {url}: HTTP {status}: {}",
                String::from_utf8_lossy(&body)
            );
        }
        Ok(match kind {
            CaseKind::Page | CaseKind::DeepPage => {
                serde_json::from_slice::<EventPage>(&body)?.events.len() as u64
            }
            CaseKind::Histogram => serde_json::from_slice::<Histogram>(&body)?.total,
        })
    }
}

struct Measured {
    samples: Vec<Duration>,
    returned: Vec<u64>,
    reduced: bool,
}

impl Measured {
    fn row(&mut self, name: &str) -> String {
        let n = self.samples.len();
        let (p50, p95, max) = summary(&mut self.samples);
        let avg = self.returned.iter().sum::<u64>() as f64 / self.returned.len().max(1) as f64;
        format!(
            "{:<34} {:>4}{} {:>9.2} {:>9.2} {:>9.2} {:>11}",
            name,
            n,
            if self.reduced { "*" } else { " " },
            p50,
            p95,
            max,
            grouped(avg.round() as u64)
        )
    }
}

/// One warm-up run, then `samples` timed runs (fewer when the warm-up is slow); the values
/// come from a generator seeded per case so that store and HTTP runs ask the same things.
async fn measure<F, Fut>(
    case: &Case,
    case_seed: u64,
    samples: usize,
    mut run: F,
) -> anyhow::Result<Measured>
where
    F: FnMut(EventFilter) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<u64>>,
{
    let mut rng = StdRng::seed_from_u64(case_seed);
    let warm_up = Instant::now();
    run((case.make)(&mut StdRng::seed_from_u64(case_seed ^ 0x5eed))).await?;
    let reduced = warm_up.elapsed() > SLOW_CASE && samples > SLOW_SAMPLES;
    let samples = if reduced { SLOW_SAMPLES } else { samples };
    let mut measured = Measured {
        samples: Vec::with_capacity(samples),
        returned: Vec::with_capacity(samples),
        reduced,
    };
    for _ in 0..samples {
        let filter = (case.make)(&mut rng);
        let started = Instant::now();
        let returned = run(filter).await?;
        measured.samples.push(started.elapsed());
        measured.returned.push(returned);
    }
    Ok(measured)
}

const QUERY_HEADER_WIDTH: usize = 34;

fn query_header() -> String {
    format!(
        "{:<QUERY_HEADER_WIDTH$} {:>5} {:>9} {:>9} {:>9} {:>11}",
        "query", "n", "p50 ms", "p95 ms", "max ms", "returned"
    )
}

async fn query_part(
    args: &Args,
    world: &Arc<World>,
    sites: &Sites<'_>,
    panel: &Path,
) -> anyhow::Result<()> {
    let (site, reused) = match &args.reuse {
        Some(dir) => {
            let meta = read_meta(dir)?;
            (sites.reused_site(dir, &meta).await?, Some(meta))
        }
        None => (sites.new_site("query").await?, None),
    };
    let (address, store) = start_server(&site, panel, 0, args.partition_events).await?;
    let (n, start, end) = match reused {
        Some(meta) => {
            say!(
                "Query data set: {} events, reused from {}{} (made with seed {}; not reloaded)",
                grouped(meta.events as u64),
                site.dir().display(),
                meta.database
                    .as_deref()
                    .map(|name| format!(" and the PostgreSQL database {name}"))
                    .unwrap_or_default(),
                meta.seed
            );
            (meta.events, meta.start, meta.end)
        }
        None => {
            let end = Utc::now();
            let start = end - chrono::Duration::days(SPAN_DAYS);
            load(args, world, &store, &site, start).await?;
            let meta = Meta {
                events: args.events,
                seed: args.seed,
                start,
                end,
                database: site.pg().map(|db| db.name.clone()),
            };
            std::fs::write(site.dir().join(META_FILE), meta.to_text())?;
            (args.events, start, end)
        }
    };
    if let Some(db) = site.pg()
        && args.pg_past_days > 0
    {
        // The days before the newest partition that holds events.
        let newest: i64 = db
            .client
            .query_one("SELECT max(received) FROM events", &[])
            .await?
            .get::<_, Option<i64>>(0)
            .unwrap_or_else(|| Utc::now().timestamp_micros());
        let day = pg_schema::day_of(newest);
        let days: Vec<i64> = (day - i64::from(args.pg_past_days)..day).collect();
        let mut client = db.schema_client().await?;
        let tx = client.transaction().await?;
        pg_schema::ensure_partitions(&tx, &days).await?;
        tx.commit().await?;
        say!(
            "Made the daily partitions of the {} days before the data set's arrival (empty, \
             with Witness's own partition code); `events` has {} partitions now",
            args.pg_past_days,
            db.partitions().await
        );
    }
    if matches!(site, Site::Sqlite { .. }) {
        let waited = site.wait_for_sealing().await?;
        say!(
            "Waited {:.1} s for the writer to seal every full partition before the queries",
            waited.as_secs_f64()
        );
    }
    let picks = Arc::new(Picks {
        world: world.clone(),
        start,
        end,
    });
    let mut cases = cases(picks.clone());
    if !args.only.is_empty() {
        cases.retain(|case| {
            args.only
                .iter()
                .any(|part| case.name.contains(part.as_str()))
        });
        if cases.is_empty() {
            bail!("--only matches no query case");
        }
    }

    queries(args, picks, &cases, &store, address, &site, n).await
}

/// `SELECT COUNT(*)` of the SQLite store's partitions, and how many are sealed.
fn sqlite_partitions(db_path: &Path) -> String {
    let count = || -> rusqlite::Result<(i64, i64)> {
        let catalog = Connection::open(db_path)?;
        catalog.query_row(
            "SELECT COUNT(*), IFNULL(SUM(state = 'sealed'), 0) FROM partitions",
            [],
            |row| Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?)),
        )
    };
    count()
        .map(|(all, sealed)| format!("{all} ({sealed} sealed)"))
        .unwrap_or_else(|error| format!("? ({error})"))
}

/// Waits until no partition waits to be sealed; how long that took.
async fn wait_for_sealing(db_path: &Path) -> anyhow::Result<Duration> {
    let catalog = Connection::open(db_path)?;
    schema::configure(&catalog)?;
    let started = Instant::now();
    loop {
        let pending: i64 = catalog.query_row(
            "SELECT COUNT(*) FROM partitions WHERE state = 'full'",
            [],
            |row| row.get(0),
        )?;
        if pending == 0 {
            return Ok(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Loads `args.events` generated events: a thread generates and parses batches while the store
/// appends them.
async fn load(
    args: &Args,
    world: &Arc<World>,
    store: &Arc<dyn Store>,
    site: &Site,
    start: DateTime<Utc>,
) -> anyhow::Result<()> {
    let n = args.events;
    eprintln!(
        "[query] loading {} events in batches of {}…",
        grouped(n as u64),
        grouped(LOAD_BATCH as u64)
    );
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<anyhow::Result<Vec<NewEvent>>>(4);
    let generator_world = world.clone();
    let seed = args.seed.wrapping_add(2);
    let producer = std::thread::spawn(move || {
        let mut generator = Generator::new(generator_world, seed, start, n);
        let mut remaining = n;
        let mut bytes = 0u64;
        while remaining > 0 {
            let count = remaining.min(LOAD_BATCH);
            let body = generator.clef_body(count);
            bytes += body.len() as u64;
            if sender.blocking_send(parse_clef(body.as_bytes())).is_err() {
                break;
            }
            remaining -= count;
        }
        bytes
    });
    let before = site.probe().await;
    let started = Instant::now();
    let mut loaded = 0usize;
    let mut reported = 0usize;
    let mut append_time = Duration::ZERO;
    while let Some(batch) = receiver.recv().await {
        let batch = batch?;
        let count = batch.len();
        let appended = Instant::now();
        store
            .append(EventSource::api_key("key-bench"), batch)
            .await?;
        append_time += appended.elapsed();
        loaded += count;
        if loaded - reported >= n / 20 || loaded == n {
            reported = loaded;
            let elapsed = started.elapsed().as_secs_f64();
            let rate = loaded as f64 / elapsed;
            eprintln!(
                "[query]   {} events, {:.0} s, {} events/s, ~{:.0} s left, {}",
                grouped(loaded as u64),
                elapsed,
                grouped(rate as u64),
                (n - loaded) as f64 / rate,
                site.size_text(loaded).await
            );
        }
    }
    let load_elapsed = started.elapsed();
    let after = site.probe().await;
    let load_written = written_since(&before, &after);
    let clef_bytes = producer
        .join()
        .map_err(|_| anyhow::anyhow!("the generator thread panicked"))?;
    if loaded != n {
        bail!("loaded {loaded} events, expected {n}");
    }
    let load_size = site.size_text(n).await;

    say!(
        "Query data set: {} events ({} of CLEF), loaded through Store::append in batches of {}",
        grouped(n as u64),
        mib(clef_bytes),
        grouped(LOAD_BATCH as u64)
    );
    say!(
        "  load: {:.1} s, {} events/s (wall, generation and parsing overlapped in another \
         thread; {:.1} s inside append)",
        load_elapsed.as_secs_f64(),
        grouped((n as f64 / load_elapsed.as_secs_f64()) as u64),
        append_time.as_secs_f64()
    );
    say!("  store size: {load_size}");
    if let Some(written) = load_written {
        say!(
            "  written to storage while loading{}: {} ({:.1} KB/event)",
            if site.pg().is_some() {
                " by the PostgreSQL server's processes"
            } else {
                ""
            },
            mib(written),
            written as f64 / 1024.0 / n as f64
        );
    }
    if let (Some(now), Some(then)) = (after.wal, before.wal) {
        let wal = now.saturating_sub(then);
        say!(
            "  WAL written while loading: {} ({:.1} KB/event)",
            mib(wal),
            wal as f64 / 1024.0 / n as f64
        );
    }

    Ok(())
}

/// Whether the store has planner statistics (ANALYZE ran on it at some point).
fn has_statistics(db_path: &Path) -> anyhow::Result<bool> {
    let conn = Connection::open(db_path)?;
    let tables: i64 = conn.query_row(
        "SELECT count(*) FROM sqlite_schema WHERE name = 'sqlite_stat1'",
        [],
        |row| row.get(0),
    )?;
    if tables == 0 {
        return Ok(false);
    }
    let rows: i64 = conn.query_row("SELECT count(*) FROM sqlite_stat1", [], |row| row.get(0))?;
    Ok(rows > 0)
}

const META_FILE: &str = "witness-bench.meta";

/// What a kept query store holds, for `--reuse`.
struct Meta {
    events: usize,
    seed: u64,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    /// The PostgreSQL database holding the events (none: SQLite in the directory).
    database: Option<String>,
}

impl Meta {
    fn to_text(&self) -> String {
        format!(
            "{} {} {} {}{}\n",
            self.events,
            self.seed,
            self.start.timestamp_micros(),
            self.end.timestamp_micros(),
            self.database
                .as_deref()
                .map(|name| format!(" {name}"))
                .unwrap_or_default()
        )
    }
}

fn read_meta(dir: &Path) -> anyhow::Result<Meta> {
    let path = dir.join(META_FILE);
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "cannot read {}; --reuse takes the `query` directory of a run made with --keep",
            path.display()
        )
    })?;
    let words: Vec<&str> = text.split_whitespace().collect();
    let (numbers, database) = match words.len() {
        4 => (&words[..], None),
        5 => (&words[..4], Some(words[4].to_string())),
        _ => bail!("{} is damaged", path.display()),
    };
    let fields: Vec<i64> = numbers
        .iter()
        .map(|word| word.parse())
        .collect::<Result<_, _>>()
        .with_context(|| format!("{} is damaged", path.display()))?;
    let [events, seed, start, end] = fields[..] else {
        bail!("{} is damaged", path.display());
    };
    Ok(Meta {
        events: events as usize,
        seed: seed as u64,
        start: DateTime::from_timestamp_micros(start).unwrap_or_default(),
        end: DateTime::from_timestamp_micros(end).unwrap_or_default(),
        database,
    })
}

async fn queries(
    args: &Args,
    picks: Arc<Picks>,
    cases: &[Case],
    store: &Arc<dyn Store>,
    address: SocketAddr,
    site: &Site,
    n: usize,
) -> anyhow::Result<()> {
    let http = if args.http_queries > 0 {
        let key = new_key(store, Permission::Read).await?;
        Some(Http {
            client: reqwest::Client::new(),
            base: format!("http://{address}"),
            key,
        })
    } else {
        None
    };

    let rounds: &[bool] = match args.analyze {
        Analyze::After => &[true],
        Analyze::None => &[false],
        Analyze::Compare => &[false, true],
    };
    for &analyzed in rounds {
        if analyzed {
            say!();
            let started = Instant::now();
            let ran = site.analyze().await?;
            say!(
                "  {ran} run on the store (separate connection): {:.1} s",
                started.elapsed().as_secs_f64()
            );
        }
        say!();
        say!(
            "Query latency, {} events, {} statistics: Store trait in process, page size {PAGE}; \
             1 warm-up + {} samples per query with varying values (* = fewer samples: warm-up \
             over {} s); warm OS page cache; \"returned\" = events on the page, or histogram total \
             (average)",
            grouped(n as u64),
            if site.has_statistics().await? {
                "with ANALYZE"
            } else {
                "without ANALYZE"
            },
            args.queries,
            SLOW_CASE.as_secs()
        );
        say!("{}", query_header());
        for (index, case) in cases.iter().enumerate() {
            eprintln!("[query] {}…", case.name);
            let mut measured = measure(case, args.seed ^ index as u64, args.queries, |filter| {
                run_store(store, case.kind, filter)
            })
            .await?;
            say!("{}", measured.row(case.name));
        }
        for (name, filter) in [
            ("cursor walk, no filter", None),
            ("cursor walk, organization", Some(())),
        ] {
            eprintln!("[query] {name}…");
            let walks = (args.queries / 25).max(1);
            let mut rng = StdRng::seed_from_u64(args.seed ^ 0x3a1c);
            let mut page_times = Vec::new();
            let mut walk_times = Vec::new();
            let mut pages_walked = 0usize;
            let mut events_walked = 0usize;
            let mut cut_short = false;
            for _ in 0..walks {
                let filter = match filter {
                    None => EventFilter::default(),
                    Some(()) => EventFilter {
                        organization: vec![ValueMatch::exact(picks.organization(&mut rng))],
                        ..EventFilter::default()
                    },
                };
                let walk_started = Instant::now();
                let mut cursor = None;
                for _ in 0..WALK_PAGES {
                    if walk_started.elapsed() > WALK_BUDGET {
                        cut_short = true;
                        break;
                    }
                    let page_started = Instant::now();
                    let page = store
                        .query(EventQuery {
                            filter: filter.clone(),
                            limit: PAGE,
                            cursor,
                        })
                        .await?;
                    page_times.push(page_started.elapsed());
                    pages_walked += 1;
                    events_walked += page.events.len();
                    cursor = match page.next_cursor {
                        Some(text) => Some(Cursor::decode(&text)?),
                        None => break,
                    };
                }
                walk_times.push(walk_started.elapsed());
            }
            let (p50, p95, max) = summary(&mut page_times);
            let (walk_p50, _, walk_max) = summary(&mut walk_times);
            say!(
                "{:<34} {:>4}  {:>9.2} {:>9.2} {:>9.2} {:>11}   per page; {} walk(s) of up to {} \
                 pages: p50 {:.0} ms, max {:.0} ms{}",
                name,
                pages_walked,
                p50,
                p95,
                max,
                grouped((events_walked / pages_walked.max(1)) as u64),
                walks,
                WALK_PAGES,
                walk_p50,
                walk_max,
                if cut_short {
                    format!(" (stopped after {} s)", WALK_BUDGET.as_secs())
                } else {
                    String::new()
                }
            );
        }

        if let Some(http) = &http {
            say!();
            say!(
                "Same queries over HTTP (GET /api/audit/events and /api/audit/histogram, read key, \
                 loopback, JSON decoded by the client, uncompressed; includes all the server does \
                 per request: key check, self-audit records): 1 warm-up + {} samples",
                args.http_queries
            );
            say!("{}", query_header());
            for (index, case) in cases.iter().enumerate() {
                eprintln!("[query] HTTP {}…", case.name);
                let mut measured = measure(
                    case,
                    args.seed ^ index as u64,
                    args.http_queries,
                    |filter| async move { http.run(case.kind, filter).await },
                )
                .await?;
                say!("{}", measured.row(case.name));
            }
        }
    }
    say!();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The generator writes its lines by hand; they must be the JSON a map of the same fields
    /// serializes to (names in byte order, no spaces), the bytes it sent when it built maps, so
    /// that runs before and after stay comparable.
    #[test]
    fn generated_lines_are_json_objects_as_a_map_writes_them() {
        let mut generator = Generator::new(Arc::new(World::new(42)), 7, Utc::now(), 2_000);
        let body = generator.clef_body(2_000);
        let mut failed = 0;
        for line in body.lines() {
            let value: Value = serde_json::from_str(line).expect("a JSON line");
            assert!(value.is_object(), "{line}");
            assert_eq!(value.to_string(), line);
            failed += usize::from(value["Result"] == "failure");
        }
        assert_eq!(body.lines().count(), 2_000);
        assert!(failed > 0, "some events fail");
    }
}
