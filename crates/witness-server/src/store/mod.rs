//! The storage interface. SQLite is the embedded default; the interface is what a PostgreSQL
//! implementation fills in without callers changing.

pub mod buckets;
pub mod canonical;
pub mod chain_walk;
pub mod event_row;
pub mod postgres;
pub mod sqlite;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tokio::sync::broadcast;
use witness_api::{
    AuditEvent, EventFilter, EventPage, Histogram, Role, SavedView, Settings, User, VerifyReport,
};

use crate::model::{EventSource, NewEvent};

pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The caller passed something the store cannot use (a bad cursor, say).
    #[error("{parameter}: {message}")]
    Invalid { parameter: String, message: String },
    /// The change would break a rule (a taken username, removing the last admin).
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    NotFound(String),
    #[error("storage failed: {0}")]
    Backend(String),
    /// SQLite failed; its error is kept as the source.
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// PostgreSQL failed (`message` is the server's own when it sent one); the error is kept
    /// as the source.
    #[error("PostgreSQL: {message}")]
    Postgres {
        message: String,
        #[source]
        source: tokio_postgres::Error,
    },
    /// A stored event holds a value no event can have: the store was changed outside Witness
    /// or damaged (verify names which, if its hash no longer matches).
    #[error("event {event_id} is corrupt: {problem}")]
    Corrupt { event_id: String, problem: String },
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Opens the store the configuration names: PostgreSQL when `database_url` is given, else
/// SQLite in `data_dir` (which must exist).
pub async fn open(
    database_url: Option<&str>,
    data_dir: &std::path::Path,
    options: sqlite::PartitionOptions,
    clock: crate::clock::Clock,
) -> StoreResult<Arc<dyn Store>> {
    match database_url.filter(|url| !url.trim().is_empty()) {
        Some(url) => Ok(Arc::new(
            PostgresStore::connect_with_clock(url, clock).await?,
        )),
        None => Ok(Arc::new(SqliteStore::open_with_clock(
            &data_dir.join(sqlite::DATABASE_FILE),
            options,
            clock,
        )?)),
    }
}

/// Where a page of events starts: strictly older than (`ts`, `seq`), and never newer than the
/// snapshot `max_seq` taken on the first page, so that paging while ingestion continues gives
/// no duplicates and no gaps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub ts_micros: i64,
    pub seq: i64,
    pub max_seq: i64,
}

impl Cursor {
    pub fn encode(&self) -> String {
        format!("{}.{}.{}", self.ts_micros, self.seq, self.max_seq)
    }

    pub fn decode(text: &str) -> StoreResult<Self> {
        let invalid = || StoreError::Invalid {
            parameter: "cursor".to_string(),
            message: "is not a cursor this server issued; start again from the first page"
                .to_string(),
        };
        let mut parts = text.split('.');
        let mut next = || -> StoreResult<i64> {
            parts
                .next()
                .and_then(|part| part.parse().ok())
                .ok_or_else(invalid)
        };
        let cursor = Cursor {
            ts_micros: next()?,
            seq: next()?,
            max_seq: next()?,
        };
        if parts.next().is_some() {
            return Err(invalid());
        }
        Ok(cursor)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct EventQuery {
    pub filter: EventFilter,
    pub limit: usize,
    pub cursor: Option<Cursor>,
}

/// The page a query's rows make: at most `limit` events (the rows come in page order, one
/// more than a page when there are more), and the cursor to the next page when there is one.
pub fn page_of(
    mut rows: Vec<event_row::EventRow>,
    limit: usize,
    max_seq: i64,
) -> StoreResult<EventPage> {
    let next_cursor = if rows.len() > limit {
        rows.truncate(limit);
        rows.last().map(|last| {
            Cursor {
                ts_micros: last.ts,
                seq: last.seq,
                max_seq,
            }
            .encode()
        })
    } else {
        None
    };
    Ok(EventPage {
        events: rows
            .into_iter()
            .map(event_row::EventRow::into_event)
            .collect::<StoreResult<_>>()?,
        next_cursor,
    })
}

/// A user after `changes`, or why they may not be made: the rules every backend applies
/// inside its transaction (`other_admins` counts the admins besides this user).
pub fn changed_user(
    before: &UserRecord,
    changes: &UserChanges,
    other_admins: i64,
) -> StoreResult<UserRecord> {
    if before.user.role == Role::Admin && changes.role == Some(Role::Auditor) && other_admins == 0 {
        return Err(StoreError::Conflict(
            "This is the last admin: make another user an admin first.".to_string(),
        ));
    }
    let mut after = before.clone();
    if let Some(role) = changes.role {
        after.user.role = role;
    }
    if let Some(display_name) = &changes.display_name {
        after.user.display_name = display_name.clone();
    }
    if let Some(email) = &changes.email {
        after.user.email = email.clone();
    }
    if let Some(hash) = &changes.password_hash {
        after.password_hash = hash.clone();
    }
    Ok(after)
}

/// Why a user may not be removed, if so (`other_admins` as in [`changed_user`]).
pub fn check_removal(user: &UserRecord, other_admins: i64) -> StoreResult<()> {
    if user.user.role == Role::Admin && other_admins == 0 {
        return Err(StoreError::Conflict(
            "This is the last admin and cannot be removed.".to_string(),
        ));
    }
    Ok(())
}

/// What an append stored: sequence numbers `first_seq..=last_seq`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppendReceipt {
    pub first_seq: i64,
    pub last_seq: i64,
}

/// What an API key may do.
pub use witness_api::ApiKeyPermission as Permission;

/// An API key as stored: never the token, only its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyRecord {
    pub id: String,
    pub title: String,
    pub permissions: Vec<Permission>,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// The first characters of the token, to tell keys apart in a list.
    pub token_prefix: String,
}

impl ApiKeyRecord {
    pub fn allows(&self, permission: Permission) -> bool {
        self.revoked_at.is_none() && self.permissions.contains(&permission)
    }
}

/// A user with the password hash the API never shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub user: User,
    pub password_hash: String,
}

/// Changes to a user; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserChanges {
    pub role: Option<Role>,
    pub password_hash: Option<String>,
    pub display_name: Option<Option<String>>,
    pub email: Option<Option<String>>,
}

/// A login session as stored: the token only as its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub token_hash: [u8; 32],
    pub user_id: String,
    pub csrf_token: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// An API key with the SHA-256 of its token: what a backup carries to restore a key that
/// still works.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyWithHash {
    pub key: ApiKeyRecord,
    pub token_hash: [u8; 32],
}

/// A saved view and the user it belongs to: how backups carry views.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnedView {
    pub user_id: String,
    pub view: SavedView,
}

/// Users (with password hashes), API keys (hashed), settings and users' saved views: what
/// backups hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigSnapshot {
    pub users: Vec<UserRecord>,
    pub api_keys: Vec<ApiKeyWithHash>,
    /// `None` before the first `witness serve` stored any.
    pub settings: Option<Settings>,
    /// Every user's views, by user id then name.
    pub views: Vec<OwnedView>,
}

/// Why a view cannot be stored for a user: their views' names are unique.
pub fn view_name_taken(name: &str) -> StoreError {
    StoreError::Conflict(format!(
        "You already have a view named `{name}`: choose another name, or delete that view first."
    ))
}

/// The answer when a user has no view `id` (another user's view included: whether it exists
/// is not theirs to know).
pub fn view_not_found(id: &str) -> StoreError {
    StoreError::NotFound(format!("You have no saved view with id `{id}`."))
}

/// Figures for the Diagnostics page and the diagnostic report.
pub type StoreStats = witness_api::StorageStatus;

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Stores the batch durably (committed and fsynced) before returning, chained in storage
    /// order. All or nothing.
    async fn append(
        &self,
        source: EventSource,
        events: Vec<NewEvent>,
    ) -> StoreResult<AppendReceipt>;

    /// A page of events matching the filter, newest first.
    async fn query(&self, query: EventQuery) -> StoreResult<EventPage>;

    async fn get(&self, id: &str) -> StoreResult<Option<AuditEvent>>;

    /// Counts per bucket; the bucket width is chosen from the range unless given.
    async fn histogram(
        &self,
        filter: EventFilter,
        bucket_seconds: Option<u64>,
    ) -> StoreResult<Histogram>;

    /// Walks the chain from the last verified point (from the anchor when `full`) to the head,
    /// and remembers how far it got when everything checked out.
    async fn verify(&self, full: bool) -> StoreResult<VerifyReport>;

    /// When the oldest stored event arrived (arrival order is storage order); `None` when the
    /// store holds no events.
    async fn oldest_received(&self) -> StoreResult<Option<DateTime<Utc>>>;

    /// The chain's head and anchor as committed (what checkpoints sign and are checked
    /// against).
    async fn chain_ends(&self) -> StoreResult<ChainEnds>;

    /// Deletes the prefix of the chain received before `cutoff`, keeping its last hash as the
    /// anchor. Returns how many events were deleted.
    async fn delete_received_before(&self, cutoff: DateTime<Utc>) -> StoreResult<u64>;

    /// Events appended from now on, for live tail.
    fn subscribe(&self) -> broadcast::Receiver<Arc<Vec<AuditEvent>>>;

    async fn create_api_key(
        &self,
        title: &str,
        permissions: &[Permission],
        token_hash: [u8; 32],
        token_prefix: &str,
    ) -> StoreResult<ApiKeyRecord>;

    async fn list_api_keys(&self) -> StoreResult<Vec<ApiKeyRecord>>;

    /// Returns false when there is no such key (revoking twice is not an error).
    async fn revoke_api_key(&self, id: &str) -> StoreResult<bool>;

    async fn find_api_key(&self, token_hash: [u8; 32]) -> StoreResult<Option<ApiKeyRecord>>;

    /// Fails with `Conflict` when the username is taken.
    async fn create_user(&self, record: UserRecord) -> StoreResult<()>;

    async fn list_users(&self) -> StoreResult<Vec<User>>;

    async fn find_user(&self, username: &str) -> StoreResult<Option<UserRecord>>;

    async fn get_user(&self, id: &str) -> StoreResult<Option<UserRecord>>;

    /// Applies the changes and returns the user before and after. Fails with `Conflict` when
    /// it would leave no admin, `NotFound` when there is no such user. A new password ends
    /// the user's sessions.
    async fn update_user(&self, id: &str, changes: UserChanges) -> StoreResult<(User, User)>;

    /// Removes the user and their sessions; `Conflict` for the last admin.
    async fn delete_user(&self, id: &str) -> StoreResult<User>;

    async fn count_users(&self) -> StoreResult<u64>;

    async fn create_session(&self, session: SessionRecord) -> StoreResult<()>;

    /// The session and its user, if the session exists and has not expired at `now`.
    async fn find_session(
        &self,
        token_hash: [u8; 32],
        now: DateTime<Utc>,
    ) -> StoreResult<Option<(SessionRecord, UserRecord)>>;

    async fn extend_session(
        &self,
        token_hash: [u8; 32],
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()>;

    async fn delete_session(&self, token_hash: [u8; 32]) -> StoreResult<()>;

    /// The stored settings; `None` before any were stored.
    async fn settings(&self) -> StoreResult<Option<Settings>>;

    /// Stores `defaults` unless settings are stored already; returns what is stored.
    async fn init_settings(&self, defaults: Settings) -> StoreResult<Settings>;

    /// Replaces the settings; returns the previous ones (`None` if there were none).
    async fn replace_settings(&self, settings: Settings) -> StoreResult<Option<Settings>>;

    /// The user's saved views, by name.
    async fn list_views(&self, user_id: &str) -> StoreResult<Vec<SavedView>>;

    /// Stores a view of the user's; `Conflict` when they have one of that name already.
    async fn create_view(&self, user_id: &str, view: SavedView) -> StoreResult<()>;

    /// Removes the user's view `id` and returns it; `NotFound` when they have none of that id
    /// (another user's view is not found either). Removing a user removes their views.
    async fn delete_view(&self, user_id: &str, id: &str) -> StoreResult<SavedView>;

    /// Users, API keys, settings and views as of one moment.
    async fn export_config(&self) -> StoreResult<ConfigSnapshot>;

    /// Replaces every user, API key, view and the settings with the snapshot's, and ends
    /// every session, in one transaction: all or nothing.
    async fn import_config(&self, snapshot: ConfigSnapshot) -> StoreResult<()>;

    async fn stats(&self) -> StoreResult<StoreStats>;

    /// Claims the run of scheduled job `job` for time slot `slot` (its period's number):
    /// true for exactly one caller per job and slot among every server sharing the store, so
    /// that a job scheduled on each of them runs once. A store only one server uses always
    /// answers true.
    async fn claim_job(&self, job: &str, slot: i64) -> StoreResult<bool>;
}

/// Whether this server runs scheduled job `job` for its current period (`period_seconds`
/// long): see [`Store::claim_job`]. When the claim cannot be made the run is skipped (the
/// job would need the same store).
pub async fn claim_scheduled_run(store: &dyn Store, job: &str, period_seconds: u64) -> bool {
    let period = i64::try_from(period_seconds.max(1)).unwrap_or(i64::MAX);
    let slot = chrono::Utc::now().timestamp().div_euclid(period);
    match store.claim_job(job, slot).await {
        Ok(claimed) => {
            if !claimed {
                tracing::debug!(job, slot, "another server runs this job this time");
            }
            claimed
        }
        Err(error) => {
            tracing::error!(%error, job, "cannot claim the scheduled job; skipped");
            false
        }
    }
}

/// The id the API shows for a storage sequence number: fixed width, so it sorts by arrival.
/// The newest event in the chain and the newest one retention removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainEnds {
    /// 0 when no event was ever stored.
    pub head_seq: i64,
    pub head_hash: [u8; 32],
    /// 0 when retention has removed nothing.
    pub anchor_seq: i64,
}

pub fn event_id(seq: i64) -> String {
    format!("{seq:016}")
}

pub fn parse_event_id(id: &str) -> Option<i64> {
    witness_api::event_sequence(id).and_then(|seq| i64::try_from(seq).ok())
}
