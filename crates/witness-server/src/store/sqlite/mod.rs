//! The embedded store: one SQLite file in the data directory, WAL, durable commits.

mod accounts;
mod config;
mod filter_sql;
pub mod row;
pub mod schema;
pub mod summaries;
mod text_walk;
mod verify;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params, params_from_iter};
use tokio::sync::{broadcast, oneshot};
use witness_api::{
    AuditEvent, EventFilter, EventPage, Histogram, HistogramBucket, Settings, User, VerifyReport,
};

use self::filter_sql::TextPlan;
use self::row::{COLUMNS, EventRow, from_micros, micros};
use self::writer::{ChainHead, WriteCommand};
use super::{
    ApiKeyRecord, AppendReceipt, ChainEnds, ConfigSnapshot, Cursor, EventQuery, Permission,
    SessionRecord, Store, StoreError, StoreResult, StoreStats, UserChanges, UserRecord,
    parse_event_id,
};
use crate::model::{EventSource, NewEvent};

pub use self::filter_sql::fts_query;

/// The file name of the store inside the data directory.
pub const DATABASE_FILE: &str = "witness.db";

pub struct SqliteStore {
    path: PathBuf,
    writer: Mutex<Sender<WriteCommand>>,
    readers: Arc<Mutex<Vec<Connection>>>,
    live: broadcast::Sender<Arc<Vec<AuditEvent>>>,
}

impl SqliteStore {
    /// Opens (creating when missing) the store at `path` and starts its writer thread.
    pub fn open(path: &Path) -> StoreResult<Self> {
        let conn = Connection::open(path)?;
        schema::configure(&conn)?;
        schema::migrate(&conn)?;
        // Planner statistics: without them SQLite picks a range scan plus a sort for prefix
        // filters where walking the time index is 400× faster (BENCHMARKS.md).
        conn.execute_batch("PRAGMA optimize=0x10002;")?;
        let head = ChainHead::load(&conn)?;
        let (sender, receiver) = mpsc::channel();
        let (live, _) = broadcast::channel(1024);
        let live_for_writer = live.clone();
        std::thread::Builder::new()
            .name("witness-sqlite-writer".to_string())
            .spawn(move || writer::run(conn, head, receiver, live_for_writer))
            .map_err(|error| StoreError::Backend(format!("cannot start the writer: {error}")))?;
        Ok(SqliteStore {
            path: path.to_path_buf(),
            writer: Mutex::new(sender),
            readers: Arc::new(Mutex::new(Vec::new())),
            live,
        })
    }

    pub fn open_in(data_dir: &Path) -> StoreResult<Self> {
        Self::open(&data_dir.join(DATABASE_FILE))
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
                None => {
                    let conn = Connection::open(&path)?;
                    schema::configure(&conn)?;
                    conn
                }
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

/// Probes whether a value occurs in a column, through the column's index. On an error it
/// answers yes, which only costs speed.
fn column_probe(conn: &Connection) -> impl Fn(&str, &str) -> bool + '_ {
    move |column: &str, value: &str| {
        conn.prepare_cached(&format!("SELECT 1 FROM events WHERE {column} = ?1 LIMIT 1"))
            .and_then(|mut statement| statement.exists(params![value]))
            .unwrap_or(true)
    }
}

/// Above this many free-text matches a page walks in time order instead of fetching and
/// sorting every match. Counting stops here, so the probe itself stays cheap.
const COMMON_TEXT_MATCHES: i64 = 10_000;

/// The plan for a page's free-text condition, from a count of its matches that stops at
/// `COMMON_TEXT_MATCHES`. On an error it answers `Lookup`, which is always correct.
fn text_plan(conn: &Connection, filter: &EventFilter) -> TextPlan {
    let Some(q) = filter.q.as_deref().and_then(filter_sql::fts_query) else {
        return TextPlan::Lookup;
    };
    let matches = conn
        .prepare_cached(
            "SELECT count(*) FROM (SELECT 1 FROM events_fts WHERE events_fts MATCH ?1 LIMIT ?2)",
        )
        .and_then(|mut statement| {
            statement.query_row(params![q, COMMON_TEXT_MATCHES], |row| row.get::<_, i64>(0))
        })
        .unwrap_or(0);
    if matches >= COMMON_TEXT_MATCHES {
        TextPlan::Scan
    } else {
        TextPlan::Lookup
    }
}

/// The stored actions starting with `prefix`, one index seek each; `None` when there are more
/// than `MAX_EXPANDED_ACTIONS` (or on an error: the prefix then stays a GLOB range).
fn actions_with_prefix(conn: &Connection, prefix: &str) -> Option<Vec<String>> {
    let mut first = conn
        .prepare_cached("SELECT action FROM events WHERE action >= ?1 ORDER BY action LIMIT 1")
        .ok()?;
    let mut next = conn
        .prepare_cached("SELECT action FROM events WHERE action > ?1 ORDER BY action LIMIT 1")
        .ok()?;
    let mut actions: Vec<String> = Vec::new();
    let mut current: Option<String> = first
        .query_row(params![prefix], |row| row.get(0))
        .optional()
        .ok()?;
    while let Some(action) = current {
        if !action.starts_with(prefix) {
            break;
        }
        if actions.len() == filter_sql::MAX_EXPANDED_ACTIONS {
            return None;
        }
        current = next
            .query_row(params![action], |row| row.get(0))
            .optional()
            .ok()?;
        actions.push(action);
    }
    Some(actions)
}

/// The exact actions a filter of actions alone selects, for the per-action minute counts;
/// `None` when there are too many.
fn selected_actions(conn: &Connection, filter: &EventFilter) -> Option<Vec<String>> {
    if filter.action.iter().all(|m| m.negated) {
        let mut all = actions_with_prefix(conn, "")?;
        all.retain(|action| !filter.action.iter().any(|m| m.matches(action)));
        Some(all)
    } else {
        filter_sql::included_actions(filter, &|prefix| actions_with_prefix(conn, prefix))
    }
}

fn query_page(conn: &Connection, query: &EventQuery) -> StoreResult<EventPage> {
    // One snapshot for the probes, the expansions and the page.
    let snapshot = conn.unchecked_transaction()?;
    let filter = &query.filter;
    let max_seq = match query.cursor {
        Some(cursor) => cursor.max_seq,
        None => conn.query_row("SELECT head_seq FROM chain_state WHERE id = 1", [], |row| {
            row.get(0)
        })?,
    };
    let after = query.cursor.map(|cursor| (cursor.ts_micros, cursor.seq));
    let wanted = query.limit + 1;
    let probe = column_probe(conn);
    let plan = text_plan(conn, filter);
    // Besides the text, only a time range and exclusions: most matches are on the page, so
    // the walk in storage order stops early.
    let text_and_exclusions_only =
        filter.action.iter().all(|m| m.negated) && !filter_sql::selects_besides_action(filter);
    let fts = filter.q.as_deref().and_then(filter_sql::fts_query);

    let mut rows: Vec<EventRow> = match fts {
        Some(fts) if plan == TextPlan::Scan && text_and_exclusions_only => {
            let others = EventFilter {
                q: None,
                ..filter.clone()
            };
            text_walk::TextWalk {
                fts: &fts,
                condition: filter_sql::condition(&others, &probe, plan),
                from: filter.from.map(micros),
                to: filter.to.map(micros),
                max_seq,
                after,
                limit: wanted,
            }
            .rows(conn)?
        }
        _ => {
            let branches =
                filter_sql::split_by_action(filter, &|prefix| actions_with_prefix(conn, prefix));
            let mut params = Vec::new();
            let mut selects = Vec::new();
            for branch in &branches {
                let mut c = filter_sql::Condition::continuing(params);
                filter_sql::add_filter(&mut c, branch, &probe, plan);
                let max = c.param(max_seq);
                c.and(&format!("seq <= {max}"));
                if let Some((ts, seq)) = after {
                    // A row value, so that SQLite turns it into one range on the (ts, seq)
                    // index: the spelled-out OR made every deep page cost in proportion to
                    // its depth.
                    let (ts, seq) = (c.param(ts), c.param(seq));
                    c.and(&format!("(ts, seq) < ({ts}, {seq})"));
                }
                let limit = c.param(wanted as i64);
                selects.push(format!(
                    "SELECT {COLUMNS} FROM events WHERE {} ORDER BY ts DESC, seq DESC LIMIT {limit}",
                    c.sql
                ));
                params = c.params;
            }
            let sql = if selects.len() == 1 {
                selects.remove(0)
            } else {
                // Each branch stops after its own page; the merge sorts only those rows.
                params.push((wanted as i64).into());
                format!(
                    "{} ORDER BY ts DESC, seq DESC LIMIT ?{}",
                    selects
                        .iter()
                        .map(|select| format!("SELECT * FROM ({select})"))
                        .collect::<Vec<_>>()
                        .join(" UNION ALL "),
                    params.len()
                )
            };
            let mut statement = conn.prepare_cached(&sql)?;
            statement
                .query_map(params_from_iter(params.iter()), EventRow::read)?
                .collect::<Result<_, _>>()?
        }
    };
    drop(snapshot);
    let next_cursor = if rows.len() > query.limit {
        rows.truncate(query.limit);
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
        events: rows.into_iter().map(EventRow::into_event).collect(),
        next_cursor,
    })
}

/// Bucket widths the histogram chooses from, smallest first.
const BUCKET_WIDTHS: [i64; 12] = [
    1,
    10,
    60,
    5 * 60,
    15 * 60,
    30 * 60,
    3600,
    3 * 3600,
    6 * 3600,
    12 * 3600,
    86_400,
    7 * 86_400,
];
const TARGET_BUCKETS: i64 = 120;
pub const MAX_BUCKETS: i64 = 10_000;

fn histogram(
    conn: &Connection,
    filter: &EventFilter,
    bucket_seconds: Option<u64>,
) -> StoreResult<Histogram> {
    // One snapshot for the action list and the counts.
    let _snapshot = conn.unchecked_transaction()?;
    let to = filter.to.unwrap_or_else(Utc::now);
    let from = match filter.from {
        Some(from) => from,
        None => {
            let oldest: Option<i64> =
                conn.query_row("SELECT MIN(ts) FROM events", [], |row| row.get(0))?;
            match oldest {
                Some(oldest) if oldest < micros(to) => from_micros(oldest),
                _ => to - chrono::Duration::hours(24),
            }
        }
    };
    let span = ((micros(to) - micros(from)) / 1_000_000).max(1);
    let width = match bucket_seconds {
        Some(width) => {
            let width = i64::try_from(width).unwrap_or(i64::MAX);
            if width < 1 || span / width > MAX_BUCKETS {
                return Err(StoreError::Invalid {
                    parameter: "bucket".to_string(),
                    message: format!(
                        "{width} seconds would make more than {MAX_BUCKETS} buckets for this range"
                    ),
                });
            }
            width
        }
        None => BUCKET_WIDTHS
            .iter()
            .copied()
            .find(|width| span / width <= TARGET_BUCKETS)
            // Beyond the widest listed width (ranges of decades): whole days, still few buckets.
            .unwrap_or_else(|| {
                let days = (span / TARGET_BUCKETS) / 86_400 + 1;
                days * 86_400
            }),
    };
    let width_micros = width.saturating_mul(1_000_000);
    let first = micros(from).div_euclid(width_micros);
    let last = (micros(to) - 1).div_euclid(width_micros);
    let buckets = last.saturating_sub(first).saturating_add(1).max(0);
    // The filter bounds times to years 0000-9999 and the width is checked above; this guards
    // the allocation itself, whatever a future caller passes.
    if buckets > MAX_BUCKETS + 1 {
        return Err(StoreError::Invalid {
            parameter: "bucket".to_string(),
            message: format!("{buckets} buckets are more than the {MAX_BUCKETS} allowed"),
        });
    }
    let mut counts = vec![0u64; buckets as usize];

    let only_time = EventFilter {
        from: None,
        to: None,
        ..filter.clone()
    }
    .is_empty();
    let only_actions = !filter.action.is_empty()
        && EventFilter {
            from: None,
            to: None,
            action: Vec::new(),
            ..filter.clone()
        }
        .is_empty();
    let whole_minutes = width_micros % 60_000_000 == 0;
    let actions = if only_actions && whole_minutes {
        selected_actions(conn, filter)
    } else {
        None
    };
    // Whole-minute buckets over the unfiltered set, or over some actions, are range sums of
    // the per-minute counts.
    let action_list = actions
        .map(|actions| serde_json::to_string(&actions))
        .transpose()
        .map_err(|error| StoreError::Backend(error.to_string()))?;
    let summed = match action_list {
        Some(list) => Some(("action_minutes", Some(list))),
        None if only_time && whole_minutes => Some(("minute_counts", None)),
        None => None,
    };
    let (sql, params): (String, Vec<rusqlite::types::Value>) = if let Some((table, list)) = summed {
        let per_bucket = width_micros / 60_000_000;
        let mut sql =
            format!("SELECT minute / ?1, SUM(n) FROM {table} WHERE minute >= ?2 AND minute < ?3");
        let mut params: Vec<rusqlite::types::Value> = vec![
            per_bucket.into(),
            (first * per_bucket).into(),
            ((last + 1) * per_bucket).into(),
        ];
        if let Some(list) = list {
            sql.push_str(" AND action IN (SELECT value FROM json_each(?4))");
            params.push(list.into());
        }
        sql.push_str(" GROUP BY 1");
        (sql, params)
    } else {
        let probe = column_probe(conn);
        let mut condition = filter_sql::condition(
            &EventFilter {
                from: Some(from_micros(first * width_micros)),
                to: Some(to),
                ..filter.clone()
            },
            &probe,
            // Counting visits every match whatever the order.
            TextPlan::Lookup,
        );
        condition.params.push(width_micros.into());
        (
            format!(
                "SELECT ts / ?{} , COUNT(*) FROM events WHERE {} GROUP BY 1",
                condition.params.len(),
                condition.sql
            ),
            condition.params,
        )
    };
    let mut statement = conn.prepare_cached(&sql)?;
    let mut rows = statement.query(params_from_iter(params.iter()))?;
    let mut total = 0;
    while let Some(row) = rows.next()? {
        let bucket: i64 = row.get(0)?;
        let count: i64 = row.get(1)?;
        if let Some(slot) = usize::try_from(bucket - first)
            .ok()
            .and_then(|index| counts.get_mut(index))
        {
            *slot += count as u64;
            total += count as u64;
        }
    }
    Ok(Histogram {
        from: from_micros(first * width_micros),
        to,
        bucket_seconds: width as u64,
        buckets: counts
            .into_iter()
            .enumerate()
            .map(|(index, count)| HistogramBucket {
                start: from_micros((first + index as i64) * width_micros),
                count,
            })
            .collect(),
        total,
    })
}

fn read_api_key(row: &rusqlite::Row<'_>) -> rusqlite::Result<ApiKeyRecord> {
    let permissions: String = row.get(2)?;
    Ok(ApiKeyRecord {
        id: row.get(0)?,
        title: row.get(1)?,
        permissions: permissions
            .split(',')
            .filter_map(Permission::parse)
            .collect(),
        token_prefix: row.get(3)?,
        created_at: from_micros(row.get(4)?),
        revoked_at: row.get::<_, Option<i64>>(5)?.map(from_micros),
    })
}

const API_KEY_COLUMNS: &str = "id, title, permissions, token_prefix, created_at, revoked_at";

/// Deletes the chain's prefix received before `cutoff` and moves the anchor past it.
fn delete_received_before(conn: &mut Connection, cutoff: i64) -> StoreResult<u64> {
    // The retention job runs hourly: a good moment to refresh the planner's statistics.
    conn.execute_batch("PRAGMA optimize;")?;
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let last: Option<(i64, Vec<u8>)> = tx
        .query_row(
            "SELECT seq, hash FROM events WHERE received < ?1 ORDER BY seq DESC LIMIT 1",
            params![cutoff],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?;
    let Some((last_seq, last_hash)) = last else {
        return Ok(0);
    };
    // The summaries lose what is deleted (minutes as in schema::minute_of: rounded down).
    use schema::MINUTE_OF_TS as MINUTE;
    tx.execute(
        &format!(
            "UPDATE minute_counts SET n = minute_counts.n - gone.count \
             FROM (SELECT {MINUTE} AS at_minute, COUNT(*) AS count FROM events \
                   WHERE seq <= ?1 GROUP BY 1) AS gone \
             WHERE minute_counts.minute = gone.at_minute"
        ),
        params![last_seq],
    )?;
    tx.execute("DELETE FROM minute_counts WHERE n <= 0", [])?;
    tx.execute(
        &format!(
            "UPDATE action_minutes SET n = action_minutes.n - gone.count \
             FROM (SELECT action AS of_action, {MINUTE} AS at_minute, COUNT(*) AS count \
                   FROM events WHERE seq <= ?1 GROUP BY 1, 2) AS gone \
             WHERE action_minutes.action = gone.of_action \
             AND action_minutes.minute = gone.at_minute"
        ),
        params![last_seq],
    )?;
    tx.execute("DELETE FROM action_minutes WHERE n <= 0", [])?;
    // A block partly deleted keeps its (now wider than needed) time range: still a true bound.
    tx.execute(
        "DELETE FROM seq_blocks WHERE block < (?1 + 1) >> ?2",
        params![last_seq, schema::BLOCK_SHIFT],
    )?;
    tx.execute(
        "DELETE FROM events_fts WHERE rowid <= ?1",
        params![last_seq],
    )?;
    let deleted = tx.execute("DELETE FROM events WHERE seq <= ?1", params![last_seq])?;
    tx.execute(
        "UPDATE chain_state SET anchor_seq = ?1, anchor_hash = ?2, \
         verified_seq = MAX(verified_seq, ?1), \
         verified_hash = CASE WHEN verified_seq < ?1 THEN ?2 ELSE verified_hash END \
         WHERE id = 1",
        params![last_seq, last_hash],
    )?;
    tx.commit()?;
    Ok(deleted as u64)
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
        self.read(move |conn| query_page(conn, &query)).await
    }

    async fn get(&self, id: &str) -> StoreResult<Option<AuditEvent>> {
        let Some(seq) = parse_event_id(id) else {
            return Ok(None);
        };
        self.read(move |conn| {
            let row = conn
                .prepare_cached(&format!("SELECT {COLUMNS} FROM events WHERE seq = ?1"))?
                .query_row(params![seq], EventRow::read)
                .optional()?;
            Ok(row.map(EventRow::into_event))
        })
        .await
    }

    async fn histogram(
        &self,
        filter: EventFilter,
        bucket_seconds: Option<u64>,
    ) -> StoreResult<Histogram> {
        self.read(move |conn| histogram(conn, &filter, bucket_seconds))
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
            let oldest: Option<i64> = conn
                .query_row(
                    "SELECT received FROM events ORDER BY seq LIMIT 1",
                    [],
                    |row| row.get(0),
                )
                .optional()?;
            Ok(oldest.map(from_micros))
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
        self.write(move |conn, _head| delete_received_before(conn, cutoff))
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
        self.write(move |conn, _head| {
            let permissions: Vec<&str> = stored.permissions.iter().map(|p| p.as_str()).collect();
            conn.execute(
                "INSERT INTO api_keys (id, title, permissions, token_hash, token_prefix, \
                 created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    stored.id,
                    stored.title,
                    permissions.join(","),
                    token_hash.to_vec(),
                    stored.token_prefix,
                    micros(stored.created_at)
                ],
            )?;
            Ok(())
        })
        .await?;
        Ok(record)
    }

    async fn list_api_keys(&self) -> StoreResult<Vec<ApiKeyRecord>> {
        self.read(|conn| {
            let mut statement = conn.prepare_cached(&format!(
                "SELECT {API_KEY_COLUMNS} FROM api_keys ORDER BY created_at, id"
            ))?;
            let keys = statement
                .query_map([], read_api_key)?
                .collect::<Result<_, _>>()?;
            Ok(keys)
        })
        .await
    }

    async fn revoke_api_key(&self, id: &str) -> StoreResult<bool> {
        let id = id.to_string();
        let now = micros(Utc::now());
        self.write(move |conn, _head| {
            let exists = conn
                .query_row("SELECT 1 FROM api_keys WHERE id = ?1", params![id], |_| {
                    Ok(())
                })
                .optional()?
                .is_some();
            conn.execute(
                "UPDATE api_keys SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
                params![id, now],
            )?;
            Ok(exists)
        })
        .await
    }

    async fn find_api_key(&self, token_hash: [u8; 32]) -> StoreResult<Option<ApiKeyRecord>> {
        self.read(move |conn| {
            let key = conn
                .prepare_cached(&format!(
                    "SELECT {API_KEY_COLUMNS} FROM api_keys WHERE token_hash = ?1"
                ))?
                .query_row(params![token_hash.to_vec()], read_api_key)
                .optional()?;
            Ok(key)
        })
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
            let (oldest, newest): (Option<i64>, Option<i64>) =
                conn.query_row("SELECT MIN(ts), MAX(ts) FROM events", [], |row| {
                    Ok((row.get(0)?, row.get(1)?))
                })?;
            let file_size = |suffix: &str| {
                let mut name = path.clone().into_os_string();
                name.push(suffix);
                std::fs::metadata(PathBuf::from(name))
                    .map(|m| m.len())
                    .unwrap_or(0)
            };
            Ok(StoreStats {
                backend: "SQLite".to_string(),
                location: path.display().to_string(),
                size_bytes: file_size("") + file_size("-wal"),
                event_count: u64::try_from(head - anchor).unwrap_or(0),
                oldest_event: oldest.map(from_micros),
                newest_event: newest.map(from_micros),
            })
        })
        .await
    }
}
