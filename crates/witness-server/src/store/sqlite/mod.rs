//! The embedded store: one SQLite file in the data directory, WAL, durable commits.

mod accounts;
mod config;
mod filter_sql;
mod histogram;
mod index_table;
mod keys;
#[cfg(test)]
mod partition_tests;
pub mod partitions;
mod query;
mod retention;
pub mod row;
pub mod schema;
pub mod summaries;
pub mod text_index;
mod text_match;
mod text_walk;
mod verify;
mod views;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use tokio::sync::{broadcast, oneshot};
use witness_api::{
    AuditEvent, EventFilter, EventPage, Histogram, SavedView, Settings, User, VerifyReport,
};

use self::row::{EventRow, from_micros, micros};
use self::writer::{ChainHead, WriteCommand};
use super::{
    ApiKeyRecord, AppendReceipt, ChainEnds, ConfigSnapshot, EventQuery, Permission, SessionRecord,
    Store, StoreError, StoreResult, StoreStats, UserChanges, UserRecord, parse_event_id,
};
use crate::clock::Clock;
use crate::model::{EventSource, NewEvent};

pub use self::filter_sql::fts_query;
pub use self::partitions::PartitionOptions;

/// The file name of the store inside the data directory.
pub const DATABASE_FILE: &str = "witness.db";

pub struct SqliteStore {
    path: PathBuf,
    writer: Mutex<Sender<WriteCommand>>,
    readers: Arc<Mutex<Vec<Connection>>>,
    /// The one connection API keys are looked up on (every ingest request does). A connection
    /// reads the whole schema again after each schema change (sealing makes ~16 per
    /// partition), which at 80–100 partitions doubled the HTTP workers' CPU per event when
    /// every pooled reader did it; one connection does it once per change (BENCHMARKS.md).
    key_reader: Arc<Mutex<Option<Connection>>>,
    live: broadcast::Sender<Arc<Vec<AuditEvent>>>,
}

impl SqliteStore {
    /// Opens (creating when missing) the store at `path` and starts its writer thread.
    pub fn open(path: &Path) -> StoreResult<Self> {
        Self::open_with(path, PartitionOptions::default())
    }

    /// [`SqliteStore::open`] with partitions other than the default.
    pub fn open_with(path: &Path, options: PartitionOptions) -> StoreResult<Self> {
        Self::open_with_clock(path, options, Clock::default())
    }

    /// [`SqliteStore::open_with`], with the clock arrival times are read from (tests move it
    /// to make events arrive on other days).
    pub fn open_with_clock(
        path: &Path,
        options: PartitionOptions,
        clock: Clock,
    ) -> StoreResult<Self> {
        if options.events_per_partition < 1 {
            return Err(StoreError::Invalid {
                parameter: "events_per_partition".to_string(),
                message: "must be at least 1".to_string(),
            });
        }
        let conn = Connection::open(path)?;
        schema::configure(&conn)?;
        schema::migrate(&conn)?;
        // Planner statistics: without them SQLite picks a range scan plus a sort for prefix
        // filters where walking the time index is 400× faster (BENCHMARKS.md).
        conn.execute_batch("PRAGMA optimize=0x10002;")?;
        partitions::index_hot(&conn)?;
        let texts = text_index::open(path)?;
        text_index::recheck(&conn, &texts)?;
        let head = ChainHead::load(&conn)?;
        let (sender, receiver) = mpsc::channel();
        let (live, _) = broadcast::channel(1024);
        let live_for_writer = live.clone();
        let (wake, woken) = mpsc::channel();
        if options.seal {
            let indexer = text_index::indexer_connection(path)?;
            std::thread::Builder::new()
                .name("witness-text-indexer".to_string())
                .spawn(move || text_index::run(indexer, woken))
                .map_err(|error| {
                    StoreError::Backend(format!("cannot start the text indexer: {error}"))
                })?;
        }
        let helpers = writer::Helpers { texts, wake };
        std::thread::Builder::new()
            .name("witness-sqlite-writer".to_string())
            .spawn(move || {
                writer::run(
                    conn,
                    head,
                    options,
                    clock,
                    receiver,
                    live_for_writer,
                    helpers,
                )
            })
            .map_err(|error| StoreError::Backend(format!("cannot start the writer: {error}")))?;
        Ok(SqliteStore {
            path: path.to_path_buf(),
            writer: Mutex::new(sender),
            readers: Arc::new(Mutex::new(Vec::new())),
            key_reader: Arc::new(Mutex::new(None)),
            live,
        })
    }

    pub fn open_in(data_dir: &Path) -> StoreResult<Self> {
        Self::open(&data_dir.join(DATABASE_FILE))
    }

    pub fn open_in_with(data_dir: &Path, options: PartitionOptions) -> StoreResult<Self> {
        Self::open_with(&data_dir.join(DATABASE_FILE), options)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn send(&self, command: WriteCommand) -> StoreResult<()> {
        let sender = self
            .writer
            .lock()
            .map_err(|_| StoreError::Backend("the writer lock is poisoned".to_string()))?;
        sender
            .send(command)
            .map_err(|_| StoreError::Backend("the writer thread has stopped".to_string()))
    }

    /// Runs `job` on the writer thread, between group commits.
    async fn write<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut Connection, &mut ChainHead) -> StoreResult<T> + Send + 'static,
    ) -> StoreResult<T> {
        let (reply, answer) = oneshot::channel();
        self.send(WriteCommand::Run(Box::new(move |conn, head| {
            let _ = reply.send(job(conn, head));
        })))?;
        answer
            .await
            .map_err(|_| StoreError::Backend("the writer dropped a job".to_string()))?
    }

    /// Runs `job` on the key-lookup connection ([`SqliteStore::key_reader`]), off the async
    /// runtime; lookups wait for each other (each takes microseconds but after a schema change).
    async fn read_keys<T: Send + 'static>(
        &self,
        job: impl FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    ) -> StoreResult<T> {
        let slot = self.key_reader.clone();
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || {
            let mut slot = slot
                .lock()
                .map_err(|_| StoreError::Backend("the key reader's lock is poisoned".into()))?;
            let conn = match slot.take() {
                Some(conn) => conn,
                None => open_reader(&path)?,
            };
            let result = job(&conn);
            *slot = Some(conn);
            result
        })
        .await
        .map_err(|error| StoreError::Backend(format!("a key lookup failed: {error}")))?
    }

    /// Runs `job` on a pooled read connection, off the async runtime.
    async fn read<T: Send + 'static>(
        &self,
        job: impl FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    ) -> StoreResult<T> {
        let readers = self.readers.clone();
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || {
            let pooled = readers.lock().ok().and_then(|mut pool| pool.pop());
            let conn = match pooled {
                Some(conn) => conn,
                None => open_reader(&path)?,
            };
            let result = job(&conn);
            if let Ok(mut pool) = readers.lock() {
                pool.push(conn);
            }
            result
        })
        .await
        .map_err(|error| StoreError::Backend(format!("a read task failed: {error}")))?
    }
}

/// A new read connection, set up as every connection is, with the text index file attached.
fn open_reader(path: &Path) -> StoreResult<Connection> {
    let conn = Connection::open(path)?;
    schema::configure(&conn)?;
    text_index::attach(&conn, path)?;
    Ok(conn)
}

#[async_trait]
impl Store for SqliteStore {
    async fn append(
        &self,
        source: EventSource,
        events: Vec<NewEvent>,
    ) -> StoreResult<AppendReceipt> {
        if events.is_empty() {
            return Err(StoreError::Invalid {
                parameter: "events".to_string(),
                message: "an append needs at least one event".to_string(),
            });
        }
        let (reply, answer) = oneshot::channel();
        self.send(WriteCommand::Append {
            source,
            events,
            reply,
        })?;
        answer
            .await
            .map_err(|_| StoreError::Backend("the writer dropped a batch".to_string()))?
    }

    async fn query(&self, query: EventQuery) -> StoreResult<EventPage> {
        self.read(move |conn| query::query_page(conn, &query)).await
    }

    async fn get(&self, id: &str) -> StoreResult<Option<AuditEvent>> {
        let Some(seq) = parse_event_id(id) else {
            return Ok(None);
        };
        self.read(move |conn| query::get(conn, seq)?.map(EventRow::into_event).transpose())
            .await
    }

    async fn histogram(
        &self,
        filter: EventFilter,
        bucket_seconds: Option<u64>,
    ) -> StoreResult<Histogram> {
        self.read(move |conn| histogram::histogram(conn, &filter, bucket_seconds))
            .await
    }

    async fn verify(&self, full: bool) -> StoreResult<VerifyReport> {
        let outcome = self.read(move |conn| verify::verify(conn, full)).await?;
        if let Some((seq, hash)) = outcome.verified_point {
            self.write(move |conn, _head| {
                conn.execute(
                    "UPDATE chain_state SET verified_seq = ?1, verified_hash = ?2 \
                     WHERE id = 1 AND verified_seq <= ?1",
                    params![seq, hash.to_vec()],
                )?;
                Ok(())
            })
            .await?;
        }
        Ok(outcome.report)
    }

    async fn oldest_received(&self) -> StoreResult<Option<DateTime<Utc>>> {
        self.read(|conn| {
            let _snapshot = conn.unchecked_transaction()?;
            Ok(partitions::first_received(conn)?.map(from_micros))
        })
        .await
    }

    async fn chain_ends(&self) -> StoreResult<ChainEnds> {
        self.read(|conn| {
            let (head_seq, head_hash, anchor_seq): (i64, Vec<u8>, i64) = conn.query_row(
                "SELECT head_seq, head_hash, anchor_seq FROM chain_state WHERE id = 1",
                [],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
            )?;
            Ok(ChainEnds {
                head_seq,
                head_hash: writer::to_hash(&head_hash)?,
                anchor_seq,
            })
        })
        .await
    }

    async fn delete_received_before(&self, cutoff: DateTime<Utc>) -> StoreResult<u64> {
        let cutoff = micros(cutoff);
        self.write(move |conn, _head| retention::delete_received_before(conn, cutoff))
            .await
    }

    fn subscribe(&self) -> broadcast::Receiver<Arc<Vec<AuditEvent>>> {
        self.live.subscribe()
    }

    async fn create_api_key(
        &self,
        title: &str,
        permissions: &[Permission],
        token_hash: [u8; 32],
        token_prefix: &str,
    ) -> StoreResult<ApiKeyRecord> {
        let record = ApiKeyRecord {
            id: format!("key-{}", hex::encode(rand::random::<[u8; 6]>())),
            title: title.to_string(),
            permissions: permissions.to_vec(),
            created_at: from_micros(micros(Utc::now())),
            revoked_at: None,
            token_prefix: token_prefix.to_string(),
        };
        let stored = record.clone();
        self.write(move |conn, _head| keys::insert(conn, &stored, token_hash))
            .await?;
        Ok(record)
    }

    async fn list_api_keys(&self) -> StoreResult<Vec<ApiKeyRecord>> {
        self.read(keys::list).await
    }

    async fn revoke_api_key(&self, id: &str) -> StoreResult<bool> {
        let id = id.to_string();
        let now = micros(Utc::now());
        self.write(move |conn, _head| keys::revoke(conn, &id, now))
            .await
    }

    async fn find_api_key(&self, token_hash: [u8; 32]) -> StoreResult<Option<ApiKeyRecord>> {
        self.read_keys(move |conn| keys::find(conn, token_hash))
            .await
    }

    async fn create_user(&self, record: UserRecord) -> StoreResult<()> {
        self.write(move |conn, _head| accounts::insert_user(conn, &record))
            .await
    }

    async fn list_users(&self) -> StoreResult<Vec<User>> {
        self.read(|conn| {
            let mut statement = conn.prepare_cached(&format!(
                "SELECT {} FROM users ORDER BY username",
                accounts::USER_COLUMNS
            ))?;
            let users = statement
                .query_map([], accounts::read_user)?
                .map(|row| row.map(|record| record.user))
                .collect::<Result<_, _>>()?;
            Ok(users)
        })
        .await
    }

    async fn find_user(&self, username: &str) -> StoreResult<Option<UserRecord>> {
        let username = username.to_string();
        self.read(move |conn| {
            Ok(conn
                .prepare_cached(&format!(
                    "SELECT {} FROM users WHERE username = ?1",
                    accounts::USER_COLUMNS
                ))?
                .query_row(params![username], accounts::read_user)
                .optional()?)
        })
        .await
    }

    async fn get_user(&self, id: &str) -> StoreResult<Option<UserRecord>> {
        let id = id.to_string();
        self.read(move |conn| accounts::get_user(conn, &id)).await
    }

    async fn update_user(&self, id: &str, changes: UserChanges) -> StoreResult<(User, User)> {
        let id = id.to_string();
        self.write(move |conn, _head| accounts::update_user(conn, &id, changes))
            .await
    }

    async fn delete_user(&self, id: &str) -> StoreResult<User> {
        let id = id.to_string();
        self.write(move |conn, _head| accounts::delete_user(conn, &id))
            .await
    }

    async fn count_users(&self) -> StoreResult<u64> {
        self.read(|conn| {
            let count: i64 = conn.query_row("SELECT COUNT(*) FROM users", [], |row| row.get(0))?;
            Ok(count as u64)
        })
        .await
    }

    async fn create_session(&self, session: SessionRecord) -> StoreResult<()> {
        self.write(move |conn, _head| accounts::insert_session(conn, &session))
            .await
    }

    async fn find_session(
        &self,
        token_hash: [u8; 32],
        now: DateTime<Utc>,
    ) -> StoreResult<Option<(SessionRecord, UserRecord)>> {
        self.read(move |conn| accounts::find_session(conn, token_hash, now))
            .await
    }

    async fn extend_session(
        &self,
        token_hash: [u8; 32],
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.write(move |conn, _head| {
            conn.execute(
                "UPDATE sessions SET expires_at = ?2 WHERE token_hash = ?1",
                params![token_hash.to_vec(), micros(expires_at)],
            )?;
            Ok(())
        })
        .await
    }

    async fn delete_session(&self, token_hash: [u8; 32]) -> StoreResult<()> {
        self.write(move |conn, _head| {
            conn.execute(
                "DELETE FROM sessions WHERE token_hash = ?1",
                params![token_hash.to_vec()],
            )?;
            Ok(())
        })
        .await
    }

    async fn settings(&self) -> StoreResult<Option<Settings>> {
        self.read(config::read_settings).await
    }

    async fn init_settings(&self, defaults: Settings) -> StoreResult<Settings> {
        self.write(move |conn, _head| config::init_settings(conn, &defaults))
            .await
    }

    async fn replace_settings(&self, settings: Settings) -> StoreResult<Option<Settings>> {
        self.write(move |conn, _head| config::replace_settings(conn, &settings))
            .await
    }

    async fn list_views(&self, user_id: &str) -> StoreResult<Vec<SavedView>> {
        let user_id = user_id.to_string();
        self.read(move |conn| views::list(conn, &user_id)).await
    }

    async fn create_view(&self, user_id: &str, view: SavedView) -> StoreResult<()> {
        let user_id = user_id.to_string();
        self.write(move |conn, _head| views::insert(conn, &user_id, &view))
            .await
    }

    async fn delete_view(&self, user_id: &str, id: &str) -> StoreResult<SavedView> {
        let (user_id, id) = (user_id.to_string(), id.to_string());
        self.write(move |conn, _head| views::delete(conn, &user_id, &id))
            .await
    }

    async fn export_config(&self) -> StoreResult<ConfigSnapshot> {
        self.read(config::export).await
    }

    async fn import_config(&self, snapshot: ConfigSnapshot) -> StoreResult<()> {
        self.write(move |conn, _head| config::import(conn, &snapshot))
            .await
    }

    async fn stats(&self) -> StoreResult<StoreStats> {
        let path = self.path.clone();
        self.read(move |conn| {
            // Retention deletes only prefixes, so the stored events are exactly
            // anchor_seq + 1 ..= head_seq: no need to count rows.
            let (head, anchor): (i64, i64) = conn.query_row(
                "SELECT head_seq, anchor_seq FROM chain_state WHERE id = 1",
                [],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )?;
            // The partitions' bounds: true bounds, a little wide after retention trimmed one.
            let (oldest, newest): (Option<i64>, Option<i64>) = conn.query_row(
                "SELECT MIN(min_ts), MAX(max_ts) FROM partitions WHERE last_seq >= first_seq",
                [],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )?;
            let text_path = text_index::path_for(&path);
            let file_size = |file: &Path, suffix: &str| {
                let mut name = file.as_os_str().to_owned();
                name.push(suffix);
                std::fs::metadata(PathBuf::from(name))
                    .map(|m| m.len())
                    .unwrap_or(0)
            };
            Ok(StoreStats {
                backend: "SQLite".to_string(),
                location: path.display().to_string(),
                size_bytes: file_size(&path, "")
                    + file_size(&path, "-wal")
                    + file_size(&text_path, "")
                    + file_size(&text_path, "-wal"),
                event_count: u64::try_from(head - anchor).unwrap_or(0),
                oldest_event: oldest.map(from_micros),
                newest_event: newest.map(from_micros),
            })
        })
        .await
    }

    async fn claim_job(&self, _job: &str, _slot: i64) -> StoreResult<bool> {
        // One server per SQLite store: its own schedule is the only one.
        Ok(true)
    }
}
