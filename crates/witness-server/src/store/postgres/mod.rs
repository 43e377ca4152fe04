//! The PostgreSQL store (`WITNESS_DATABASE_URL=postgres://…`): several Witness servers share
//! one database. Events live in daily partitions by arrival (`schema.rs`); each server
//! group-commits its own batches and the chain's head row orders every server's batches into
//! one chain (`writer.rs`); the live tail polls by sequence number, so it shows events
//! ingested through any server (`PostgresStore::subscribe`).

mod config;
mod events;
mod filter;
pub mod schema;
mod writer;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio_postgres::NoTls;
use witness_api::{
    AuditEvent, EventFilter, EventPage, Histogram, SavedView, Settings, User, VerifyReport,
};

use self::writer::Batch;
pub use self::writer::{COPY_SQL, COPY_TYPES, copy_values};
use super::event_row::{EventRow, from_micros, micros};
use super::{
    ApiKeyRecord, AppendReceipt, ChainEnds, ConfigSnapshot, EventQuery, Permission, SessionRecord,
    Store, StoreError, StoreResult, StoreStats, UserChanges, UserRecord, parse_event_id,
};
use crate::clock::Clock;
use crate::model::{EventSource, NewEvent};

/// Connections one server keeps to the database.
const POOL_SIZE: usize = 16;
/// How often the live tail asks for events stored since it last looked (while a tail is open).
const LIVE_POLL: Duration = Duration::from_millis(200);
/// The most events one poll hands to the live tail.
const LIVE_BATCH: i64 = 5_000;
/// How often the partitions for the coming days are made ahead of time.
const PARTITION_AHEAD: Duration = Duration::from_secs(3600);

pub fn pg_error(error: tokio_postgres::Error) -> StoreError {
    let message = match error.as_db_error() {
        Some(db) => db.message().to_string(),
        None => error.to_string(),
    };
    StoreError::Postgres {
        message,
        source: error,
    }
}

pub fn pool_error(error: deadpool_postgres::PoolError) -> StoreError {
    match error {
        deadpool_postgres::PoolError::Backend(error) => pg_error(error),
        other => StoreError::Backend(format!("PostgreSQL connection: {other}")),
    }
}

pub fn to_hash(bytes: Vec<u8>) -> StoreResult<[u8; 32]> {
    let len = bytes.len();
    bytes
        .try_into()
        .map_err(|_| StoreError::Backend(format!("a stored hash has {len} bytes, not 32")))
}

pub struct PostgresStore {
    pool: Pool,
    writer: mpsc::UnboundedSender<Batch>,
    live: broadcast::Sender<Arc<Vec<AuditEvent>>>,
    /// The database as Diagnostics shows it: never the password.
    location: String,
}

/// The database `url` names, without its password.
pub fn describe_url(url: &str) -> String {
    match url.parse::<tokio_postgres::Config>() {
        Ok(config) => describe(&config),
        Err(_) => "(an unreadable URL)".to_string(),
    }
}

/// The database a URL names, without its password.
pub fn describe(config: &tokio_postgres::Config) -> String {
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .map(|host| match host {
            tokio_postgres::config::Host::Tcp(name) => name.clone(),
            tokio_postgres::config::Host::Unix(path) => path.display().to_string(),
        })
        .collect();
    let port = config
        .get_ports()
        .first()
        .map(|port| format!(":{port}"))
        .unwrap_or_default();
    format!(
        "postgres://{}@{}{}/{}",
        config.get_user().unwrap_or(""),
        hosts.join(","),
        port,
        config.get_dbname().unwrap_or("")
    )
}

impl PostgresStore {
    /// Connects, migrates the schema (safe when several servers start at once), makes the
    /// coming days' partitions and starts the writer and the live-tail poller.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        Self::connect_with_clock(url, Clock::default()).await
    }

    /// [`PostgresStore::connect`], with the clock arrival times are read from (tests move it
    /// to make events arrive on other days).
    pub async fn connect_with_clock(url: &str, clock: Clock) -> StoreResult<Self> {
        let config: tokio_postgres::Config = url.parse().map_err(|error| StoreError::Invalid {
            parameter: "WITNESS_DATABASE_URL".to_string(),
            message: format!("is not a PostgreSQL URL: {error}"),
        })?;
        let mut config = config;
        // JIT compiles plans whose estimated cost passes a threshold that large stores reach,
        // and costs more than it saves on Witness's short queries (BENCHMARKS.md: the
        // histogram by actor 146 ms with it, 66 ms without).
        let options = format!("{} -c jit=off", config.get_options().unwrap_or(""))
            .trim()
            .to_string();
        config.options(&options);
        let location = describe(&config);
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .build()
            .map_err(|error| StoreError::Backend(format!("PostgreSQL pool: {error}")))?;
        {
            let mut client = pool.get().await.map_err(|error| {
                StoreError::Backend(format!(
                    "cannot connect to {location}: {}",
                    pool_error(error)
                ))
            })?;
            schema::migrate(&mut client).await?;
        }
        make_partitions_ahead(&pool).await?;
        let maintenance = pool.clone();
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(PARTITION_AHEAD);
            // The first tick is now, and the partitions were just made.
            ticker.tick().await;
            loop {
                ticker.tick().await;
                if let Err(error) = make_partitions_ahead(&maintenance).await {
                    tracing::error!(%error, "cannot make the coming days' partitions");
                }
            }
        });
        let (sender, receiver) = mpsc::unbounded_channel();
        tokio::spawn(writer::run(pool.clone(), clock, receiver));
        let (live, _) = broadcast::channel(1024);
        let head = {
            let client = pool.get().await.map_err(pool_error)?;
            let row = client
                .query_one(
                    "SELECT head_seq, last_received FROM chain_state WHERE id = 1",
                    &[],
                )
                .await
                .map_err(pg_error)?;
            (row.get(0), row.get(1))
        };
        tokio::spawn(poll_live(pool.clone(), live.clone(), head));
        Ok(PostgresStore {
            pool,
            writer: sender,
            live,
            location,
        })
    }

    /// Whether the database at `url` holds a Witness store (commands that need one say so
    /// instead of creating an empty one).
    pub async fn exists(url: &str) -> StoreResult<bool> {
        let (client, connection) = tokio_postgres::connect(url, NoTls)
            .await
            .map_err(pg_error)?;
        let driver = tokio::spawn(connection);
        let found: bool = client
            .query_one("SELECT to_regclass('witness_schema') IS NOT NULL", &[])
            .await
            .map_err(pg_error)?
            .get(0);
        drop(client);
        let _ = driver.await;
        Ok(found)
    }

    async fn client(&self) -> StoreResult<deadpool_postgres::Client> {
        self.pool.get().await.map_err(pool_error)
    }
}

async fn make_partitions_ahead(pool: &Pool) -> StoreResult<()> {
    let today = schema::day_of(Utc::now().timestamp_micros());
    let mut client = pool.get().await.map_err(pool_error)?;
    let tx = client.transaction().await.map_err(pg_error)?;
    schema::ensure_partitions(&tx, &[today, today + 1, today + 2]).await?;
    tx.commit().await.map_err(pg_error)
}

/// Hands the live tail every event stored since the last look, by whichever server, in chain
/// order. Polling by sequence number rather than LISTEN/NOTIFY: a poll after a lost connection
/// still finds everything (a notification sent meanwhile is gone), and it costs one indexed
/// query per interval only while a tail is open.
async fn poll_live(pool: Pool, live: broadcast::Sender<Arc<Vec<AuditEvent>>>, head: (i64, i64)) {
    // The newest event already handed out (or passed while nobody watched): seq, arrival.
    let mut seen = head;
    loop {
        tokio::time::sleep(LIVE_POLL).await;
        let Ok(client) = pool.get().await else {
            continue;
        };
        if live.receiver_count() == 0 {
            // Nobody watches: only follow the head, so that a tail opened later starts from
            // about then. The head is read before looking again for watchers: a tail that
            // opens in between is served from the head read, so it misses nothing.
            let Ok(row) = client
                .query_one(
                    "SELECT head_seq, last_received FROM chain_state WHERE id = 1",
                    &[],
                )
                .await
            else {
                continue;
            };
            if live.receiver_count() == 0 {
                seen = (row.get(0), row.get(1));
                continue;
            }
        }
        let (after_seq, received_from) = seen;
        match events::since(&client, after_seq, received_from, LIVE_BATCH).await {
            Ok(rows) => {
                if let Some(last) = rows.last() {
                    seen = (last.seq, last.received);
                    // A corrupt row is left out of the tail (queries and verify name it).
                    let appended: Vec<AuditEvent> = rows
                        .into_iter()
                        .filter_map(|row| row.into_event().ok())
                        .collect();
                    let _ = live.send(Arc::new(appended));
                }
            }
            Err(error) => tracing::warn!(%error, "the live tail's poll failed; trying again"),
        }
    }
}

#[async_trait]
impl Store for PostgresStore {
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
        self.writer
            .send(Batch {
                source,
                events,
                reply,
            })
            .map_err(|_| StoreError::Backend("the writer has stopped".to_string()))?;
        answer
            .await
            .map_err(|_| StoreError::Backend("the writer dropped a batch".to_string()))?
    }

    async fn query(&self, query: EventQuery) -> StoreResult<EventPage> {
        events::page(&self.client().await?, &query).await
    }

    async fn get(&self, id: &str) -> StoreResult<Option<AuditEvent>> {
        let Some(seq) = parse_event_id(id) else {
            return Ok(None);
        };
        events::get(&self.client().await?, seq)
            .await?
            .map(EventRow::into_event)
            .transpose()
    }

    async fn histogram(
        &self,
        filter: EventFilter,
        bucket_seconds: Option<u64>,
    ) -> StoreResult<Histogram> {
        events::histogram(&self.client().await?, &filter, bucket_seconds).await
    }

    async fn verify(&self, full: bool) -> StoreResult<VerifyReport> {
        let mut client = self.client().await?;
        let outcome = {
            let tx = client
                .build_transaction()
                .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()
                .await
                .map_err(pg_error)?;
            let outcome = events::verify(&tx, full).await?;
            tx.commit().await.map_err(pg_error)?;
            outcome
        };
        if let Some((seq, hash)) = outcome.verified_point {
            client
                .execute(
                    "UPDATE chain_state SET verified_seq = $1, verified_hash = $2 \
                     WHERE id = 1 AND verified_seq <= $1",
                    &[&seq, &hash.to_vec()],
                )
                .await
                .map_err(pg_error)?;
        }
        Ok(outcome.report)
    }

    async fn oldest_received(&self) -> StoreResult<Option<DateTime<Utc>>> {
        let received: Option<i64> = self
            .client()
            .await?
            .query_one("SELECT min(received) FROM events", &[])
            .await
            .map_err(pg_error)?
            .get(0);
        Ok(received.map(from_micros))
    }

    async fn chain_ends(&self) -> StoreResult<ChainEnds> {
        let row = self
            .client()
            .await?
            .query_one(
                "SELECT head_seq, head_hash, anchor_seq FROM chain_state WHERE id = 1",
                &[],
            )
            .await
            .map_err(pg_error)?;
        Ok(ChainEnds {
            head_seq: row.get(0),
            head_hash: to_hash(row.get(1))?,
            anchor_seq: row.get(2),
        })
    }

    async fn delete_received_before(&self, cutoff: DateTime<Utc>) -> StoreResult<u64> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(pg_error)?;
        let deleted = events::delete_received_before(&tx, micros(cutoff)).await?;
        tx.commit().await.map_err(pg_error)?;
        Ok(deleted)
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
        config::insert_api_key(&self.client().await?, &record, token_hash).await?;
        Ok(record)
    }

    async fn list_api_keys(&self) -> StoreResult<Vec<ApiKeyRecord>> {
        Ok(config::list_api_keys(&self.client().await?)
            .await?
            .into_iter()
            .map(|key| key.key)
            .collect())
    }

    async fn revoke_api_key(&self, id: &str) -> StoreResult<bool> {
        if id.contains('\0') {
            return Ok(false);
        }
        let client = self.client().await?;
        let exists = client
            .query_opt("SELECT 1 FROM api_keys WHERE id = $1", &[&id])
            .await
            .map_err(pg_error)?
            .is_some();
        client
            .execute(
                "UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
                &[&id, &micros(Utc::now())],
            )
            .await
            .map_err(pg_error)?;
        Ok(exists)
    }

    async fn find_api_key(&self, token_hash: [u8; 32]) -> StoreResult<Option<ApiKeyRecord>> {
        let row = self
            .client()
            .await?
            .query_opt(
                &format!(
                    "SELECT {} FROM api_keys WHERE token_hash = $1",
                    config::API_KEY_COLUMNS
                ),
                &[&token_hash.to_vec()],
            )
            .await
            .map_err(pg_error)?;
        Ok(row.as_ref().map(config::read_api_key))
    }

    async fn create_user(&self, record: UserRecord) -> StoreResult<()> {
        config::insert_user(&self.client().await?, &record).await
    }

    async fn list_users(&self) -> StoreResult<Vec<User>> {
        Ok(config::list_users(&self.client().await?)
            .await?
            .into_iter()
            .map(|record| record.user)
            .collect())
    }

    async fn find_user(&self, username: &str) -> StoreResult<Option<UserRecord>> {
        config::user_where(&self.client().await?, "username", username).await
    }

    async fn get_user(&self, id: &str) -> StoreResult<Option<UserRecord>> {
        config::user_where(&self.client().await?, "id", id).await
    }

    async fn update_user(&self, id: &str, changes: UserChanges) -> StoreResult<(User, User)> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(pg_error)?;
        let changed = config::update_user(&tx, id, changes).await?;
        tx.commit().await.map_err(pg_error)?;
        Ok(changed)
    }

    async fn delete_user(&self, id: &str) -> StoreResult<User> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(pg_error)?;
        let deleted = config::delete_user(&tx, id).await?;
        tx.commit().await.map_err(pg_error)?;
        Ok(deleted)
    }

    async fn count_users(&self) -> StoreResult<u64> {
        let count: i64 = self
            .client()
            .await?
            .query_one("SELECT count(*) FROM users", &[])
            .await
            .map_err(pg_error)?
            .get(0);
        Ok(u64::try_from(count).unwrap_or(0))
    }

    async fn create_session(&self, session: SessionRecord) -> StoreResult<()> {
        config::insert_session(&self.client().await?, &session).await
    }

    async fn find_session(
        &self,
        token_hash: [u8; 32],
        now: DateTime<Utc>,
    ) -> StoreResult<Option<(SessionRecord, UserRecord)>> {
        config::find_session(&self.client().await?, token_hash, now).await
    }

    async fn extend_session(
        &self,
        token_hash: [u8; 32],
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.client()
            .await?
            .execute(
                "UPDATE sessions SET expires_at = $2 WHERE token_hash = $1",
                &[&token_hash.to_vec(), &micros(expires_at)],
            )
            .await
            .map_err(pg_error)?;
        Ok(())
    }

    async fn delete_session(&self, token_hash: [u8; 32]) -> StoreResult<()> {
        self.client()
            .await?
            .execute(
                "DELETE FROM sessions WHERE token_hash = $1",
                &[&token_hash.to_vec()],
            )
            .await
            .map_err(pg_error)?;
        Ok(())
    }

    async fn settings(&self) -> StoreResult<Option<Settings>> {
        config::read_settings(&self.client().await?).await
    }

    async fn init_settings(&self, defaults: Settings) -> StoreResult<Settings> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(pg_error)?;
        tx.batch_execute("LOCK TABLE settings IN SHARE ROW EXCLUSIVE MODE")
            .await
            .map_err(pg_error)?;
        let current = match config::read_settings(&tx).await? {
            Some(current) => current,
            None => {
                config::write_settings(&tx, &defaults).await?;
                defaults
            }
        };
        tx.commit().await.map_err(pg_error)?;
        Ok(current)
    }

    async fn replace_settings(&self, settings: Settings) -> StoreResult<Option<Settings>> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(pg_error)?;
        tx.batch_execute("LOCK TABLE settings IN SHARE ROW EXCLUSIVE MODE")
            .await
            .map_err(pg_error)?;
        let before = config::read_settings(&tx).await?;
        config::write_settings(&tx, &settings).await?;
        tx.commit().await.map_err(pg_error)?;
        Ok(before)
    }

    async fn list_views(&self, user_id: &str) -> StoreResult<Vec<SavedView>> {
        config::list_views(&self.client().await?, user_id).await
    }

    async fn create_view(&self, user_id: &str, view: SavedView) -> StoreResult<()> {
        config::insert_view(&self.client().await?, user_id, &view).await
    }

    async fn delete_view(&self, user_id: &str, id: &str) -> StoreResult<SavedView> {
        config::delete_view(&self.client().await?, user_id, id).await
    }

    async fn export_config(&self) -> StoreResult<ConfigSnapshot> {
        let mut client = self.client().await?;
        let tx = client
            .build_transaction()
            .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await
            .map_err(pg_error)?;
        let snapshot = config::export(&tx).await?;
        tx.commit().await.map_err(pg_error)?;
        Ok(snapshot)
    }

    async fn import_config(&self, snapshot: ConfigSnapshot) -> StoreResult<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(pg_error)?;
        config::import(&tx, &snapshot).await?;
        tx.commit().await.map_err(pg_error)
    }

    async fn stats(&self) -> StoreResult<StoreStats> {
        let client = self.client().await?;
        let row = client
            .query_one(
                "SELECT head_seq, anchor_seq, pg_database_size(current_database()) \
                 FROM chain_state WHERE id = 1",
                &[],
            )
            .await
            .map_err(pg_error)?;
        let (head, anchor, size): (i64, i64, i64) = (row.get(0), row.get(1), row.get(2));
        let (oldest, newest) = events::time_bounds(&client).await?;
        Ok(StoreStats {
            backend: "PostgreSQL".to_string(),
            location: self.location.clone(),
            size_bytes: u64::try_from(size).unwrap_or(0),
            event_count: u64::try_from(head - anchor).unwrap_or(0),
            oldest_event: oldest.map(from_micros),
            newest_event: newest.map(from_micros),
        })
    }

    async fn claim_job(&self, job: &str, slot: i64) -> StoreResult<bool> {
        let client = self.client().await?;
        let claimed = client
            .execute(
                "INSERT INTO job_claims (job, slot, claimed_at) VALUES ($1, $2, $3) \
                 ON CONFLICT DO NOTHING",
                &[&job, &slot, &micros(Utc::now())],
            )
            .await
            .map_err(pg_error)?;
        // Claims older than 30 days tell nothing any more.
        client
            .execute(
                "DELETE FROM job_claims WHERE job = $1 AND claimed_at < $2",
                &[&job, &micros(Utc::now() - chrono::Duration::days(30))],
            )
            .await
            .map_err(pg_error)?;
        Ok(claimed == 1)
    }
}
