//! Partitions: events are stored in one table per range of arrival, so that the table taking
//! writes stays small and lean while the store grows.
//!
//! - **Hot**: the one partition that takes writes. Its table has one secondary index, event
//!   time (appended to at its right edge, since events arrive roughly in time order), and no
//!   text index, so an insert touches two B-trees whatever the size of the store; filtered
//!   queries scan it (it holds at most about `events_per_partition` events).
//! - **Full**: no longer written. The text indexer builds its text index and then its index
//!   table (a copy of the columns filters test, with one index per filter: `index_table.rs`)
//!   in the text index file on another thread (`text_index.rs`), a step per transaction, and
//!   the writer, once the text file says both are complete, marks it sealed. (A partition
//!   opened before index tables existed has its indexes built by the writer on its events
//!   table instead, one index per step between group commits, taking as many steps after each
//!   group commit as the events it just stored will need.) A restart resumes where the last
//!   committed steps stopped. Until then it is queried like a hot partition.
//! - **Sealed**: every index is built (a sorted build of a finished table is far cheaper than
//!   maintaining the indexes one random insert at a time: BENCHMARKS.md); queried through them.
//!   A page of a filter that selects rows by a column is a page of seqs from its index table,
//!   then their rows by seq.
//!
//! A partition takes the events that arrive during one UTC day, up to `events_per_partition`
//! of them; the next event then opens a new one. Arrival order is storage order and chain order,
//! so a partition is a contiguous range of seqs, retention (which removes the oldest arrivals)
//! drops whole partitions and trims at most one, and a sealed partition never changes again.
//! Events are found by event time through each partition's bounds (`min_ts`, `max_ts`): events
//! arrive close to their time, so a query skips every partition outside its range; a late or
//! early event only widens its partition's bounds.
//!
//! All partitions are tables in the one database file, so that a group commit, the chain's
//! head, the summaries and the catalog change together in one transaction, the command line
//! can append beside a running server, and nothing spans files that could disagree after a
//! crash (BENCHMARKS.md has the measurements behind that choice). Only the text indexes of
//! partitions opened since the text index file exists (`text_apart`) live apart, in it:
//! derived data, which may lag the store (never lead it) and is rebuilt when it is lost
//! (`text_index.rs` says how answers stay right).

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::schema::{self, DAY_MICROS, PARTITION_INDEXES};
use super::{index_table, text_index};
use crate::store::{StoreError, StoreResult};

/// Events a partition takes before the next one opens, unless configured.
pub const DEFAULT_EVENTS_PER_PARTITION: i64 = 100_000;

/// How the store partitions events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartitionOptions {
    /// A partition stops taking events once it holds this many (a group commit that starts
    /// below it is never split).
    pub events_per_partition: i64,
    /// Whether this store's writer seals full partitions. Off only in tests that stop in the
    /// middle of sealing.
    pub seal: bool,
}

impl Default for PartitionOptions {
    fn default() -> Self {
        PartitionOptions {
            events_per_partition: DEFAULT_EVENTS_PER_PARTITION,
            seal: true,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartitionState {
    Hot,
    Full,
    Sealed,
}

impl PartitionState {
    fn parse(text: &str) -> StoreResult<Self> {
        match text {
            "hot" => Ok(PartitionState::Hot),
            "full" => Ok(PartitionState::Full),
            "sealed" => Ok(PartitionState::Sealed),
            other => Err(StoreError::Backend(format!(
                "the partition catalog holds an unknown state {other:?}"
            ))),
        }
    }
}

/// One row of the catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partition {
    pub id: i64,
    pub state: PartitionState,
    pub first_seq: i64,
    pub last_seq: i64,
    pub min_ts: Option<i64>,
    pub max_ts: Option<i64>,
    /// The UTC day of arrival it takes.
    pub day: i64,
    /// While sealing: rows up to this seq are in its text index (partitions whose text index
    /// lives in the store's file; the text file keeps its own count for the others).
    pub text_seq: i64,
    /// Whether its text index lives in the text index file (`text_index.rs`): every partition
    /// opened since that file exists. Older ones keep theirs in the store's file.
    pub text_apart: bool,
    /// Whether its filter indexes are on its index table, a copy of its filtered columns in the
    /// text index file (`index_table.rs`): every partition opened since index tables exist.
    /// Older ones have them on their events tables.
    pub index_apart: bool,
}

/// The events table of partition `id` (0: the single table of stores made before partitions).
pub fn table_name(id: i64) -> String {
    if id == 0 {
        "events".to_string()
    } else {
        format!("events_{id}")
    }
}

const CATALOG_COLUMNS: &str =
    "id, state, first_seq, last_seq, min_ts, max_ts, day, text_seq, text_apart, index_apart";

impl Partition {
    fn read(row: &Row<'_>) -> rusqlite::Result<(Self, String)> {
        Ok((
            Partition {
                id: row.get(0)?,
                state: PartitionState::Hot,
                first_seq: row.get(2)?,
                last_seq: row.get(3)?,
                min_ts: row.get(4)?,
                max_ts: row.get(5)?,
                day: row.get(6)?,
                text_seq: row.get(7)?,
                text_apart: row.get(8)?,
                index_apart: row.get(9)?,
            },
            row.get(1)?,
        ))
    }

    pub fn table(&self) -> String {
        table_name(self.id)
    }

    /// Its text index, qualified by the file it lives in; only complete (and used) once
    /// sealed. In SQL, `MATCH` takes `filter_sql::match_name` of it.
    pub fn text_table(&self) -> String {
        if self.text_apart {
            format!("{}.{}_fts", text_index::SCHEMA, self.table())
        } else {
            format!("{}_fts", self.table())
        }
    }

    /// Its index table in the text index file (`index_table.rs`), qualified; only complete
    /// (and used) once sealed, and only when `index_apart`.
    pub fn index_table(&self) -> String {
        format!("{}.{}", text_index::SCHEMA, self.index_table_name())
    }

    /// Its index table's own name, as the text index file knows it.
    pub fn index_table_name(&self) -> String {
        format!("{}_index", self.table())
    }

    /// Whether filters are answered through its index table: sealed, with `index_apart`. That
    /// table may still hold rows retention removed from the events table (they go when the
    /// text indexer tidies up), so that a query through it also asks `seq >= first_seq`.
    pub fn indexed_apart(&self) -> bool {
        self.index_apart && self.is_sealed()
    }

    /// The table whose indexes answer a filter on this partition: its index table when
    /// [`Partition::indexed_apart`], else its events table. Either has every column a filter
    /// tests, by the same names.
    pub fn filter_table(&self) -> String {
        if self.indexed_apart() {
            self.index_table()
        } else {
            self.table()
        }
    }

    /// Its events per minute of event time (partition 0: the store-wide table it always had).
    pub fn minutes_table(&self) -> String {
        if self.id == 0 {
            "minute_counts".to_string()
        } else {
            format!("{}_minutes", self.table())
        }
    }

    /// Its events per action per minute of event time.
    pub fn action_minutes_table(&self) -> String {
        if self.id == 0 {
            "action_minutes".to_string()
        } else {
            format!("{}_action_minutes", self.table())
        }
    }

    /// Every table it owns in the store's file, text index first: what retention drops (a
    /// text index in the text file goes afterwards, `text_index::collect_garbage`).
    pub fn tables(&self) -> Vec<String> {
        let mut tables = Vec::with_capacity(4);
        if !self.text_apart {
            tables.push(self.text_table());
        }
        tables.extend([
            self.minutes_table(),
            self.action_minutes_table(),
            self.table(),
        ]);
        tables
    }

    pub fn is_empty(&self) -> bool {
        self.last_seq < self.first_seq
    }

    pub fn len(&self) -> i64 {
        (self.last_seq - self.first_seq + 1).max(0)
    }

    pub fn is_sealed(&self) -> bool {
        self.state == PartitionState::Sealed
    }

    /// Whether it may hold an event with `from <= ts < to`.
    pub fn overlaps(&self, from: Option<i64>, to: Option<i64>) -> bool {
        match (self.min_ts, self.max_ts) {
            (Some(min_ts), Some(max_ts)) => {
                from.is_none_or(|from| max_ts >= from) && to.is_none_or(|to| min_ts < to)
            }
            _ => false,
        }
    }
}

fn collect(
    rows: impl Iterator<Item = rusqlite::Result<(Partition, String)>>,
) -> StoreResult<Vec<Partition>> {
    rows.map(|row| {
        let (mut partition, state) = row?;
        partition.state = PartitionState::parse(&state)?;
        Ok(partition)
    })
    .collect()
}

/// Every partition, oldest first.
pub fn load(conn: &Connection) -> StoreResult<Vec<Partition>> {
    let mut statement = conn.prepare_cached(&format!(
        "SELECT {CATALOG_COLUMNS} FROM partitions ORDER BY first_seq, id"
    ))?;
    let rows = statement.query_map([], Partition::read)?;
    collect(rows)
}

/// The partition that holds `seq`, if any does.
pub fn containing(conn: &Connection, seq: i64) -> StoreResult<Option<Partition>> {
    let mut statement = conn.prepare_cached(&format!(
        "SELECT {CATALOG_COLUMNS} FROM partitions WHERE first_seq <= ?1 AND last_seq >= ?1"
    ))?;
    let rows = statement.query_map(params![seq], Partition::read)?;
    Ok(collect(rows)?.into_iter().next())
}

/// Whether a table or index of this name exists in the store's file.
pub fn exists(conn: &Connection, name: &str) -> StoreResult<bool> {
    exists_in(conn, "main", name)
}

/// Whether a table or index of this name exists in the attached file `schema`.
pub fn exists_in(conn: &Connection, schema: &str, name: &str) -> StoreResult<bool> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT 1 FROM {schema}.sqlite_master WHERE name = ?1"
        ))?
        .exists(params![name])?)
}

pub fn day_of(received: i64) -> i64 {
    received.div_euclid(DAY_MICROS)
}

/// The partition the next group commit writes to, opening a new one when the hot one is full
/// or belongs to an earlier day. Runs inside the group commit's transaction, so the catalog,
/// the new table and the events it takes commit together.
pub fn hot_for(
    conn: &Connection,
    received: i64,
    head_seq: i64,
    options: &PartitionOptions,
) -> StoreResult<Partition> {
    let day = day_of(received);
    let mut statement = conn.prepare_cached(&format!(
        "SELECT {CATALOG_COLUMNS} FROM partitions WHERE state = 'hot' ORDER BY id DESC"
    ))?;
    let hot = collect(statement.query_map([], Partition::read)?)?
        .into_iter()
        .next();
    if let Some(hot) = hot {
        if hot.is_empty() {
            // Nothing in it yet: it takes today's events, whatever day it was opened on.
            if hot.day != day {
                conn.execute(
                    "UPDATE partitions SET day = ?2 WHERE id = ?1",
                    params![hot.id, day],
                )?;
            }
            return Ok(Partition { day, ..hot });
        }
        if hot.day == day && hot.len() < options.events_per_partition {
            return Ok(hot);
        }
        conn.execute(
            "UPDATE partitions SET state = 'full' WHERE id = ?1",
            params![hot.id],
        )?;
    }
    let id: i64 = conn.query_row("SELECT IFNULL(MAX(id), 0) + 1 FROM partitions", [], |row| {
        row.get(0)
    })?;
    let partition = Partition {
        id,
        state: PartitionState::Hot,
        first_seq: head_seq + 1,
        last_seq: head_seq,
        min_ts: None,
        max_ts: None,
        day,
        text_seq: head_seq,
        text_apart: true,
        index_apart: true,
    };
    conn.execute(
        "INSERT INTO partitions \
         (id, state, first_seq, last_seq, min_ts, max_ts, day, text_seq, text_apart, \
         index_apart) VALUES (?1, 'hot', ?2, ?3, NULL, NULL, ?4, ?3, 1, 1)",
        params![id, partition.first_seq, partition.last_seq, day],
    )?;
    conn.execute_batch(&schema::events_table_sql(&partition.table()))?;
    conn.execute_batch(&hot_index_sql(&partition.table()))?;
    conn.execute_batch(&schema::summary_tables_sql(
        &partition.minutes_table(),
        &partition.action_minutes_table(),
    ))?;
    Ok(partition)
}

/// The one index a hot partition has: event time. Events arrive roughly in time order, so its
/// inserts append at its right edge (cheap), and the first page without a filter, or of a
/// time range, is a walk of it instead of a sort of the whole partition.
pub fn hot_index_sql(table: &str) -> String {
    schema::index_sql(table, PARTITION_INDEXES[0])
}

/// Makes sure the hot partition has its index (partitions opened before it had one).
pub fn index_hot(conn: &Connection) -> StoreResult<()> {
    for partition in load(conn)? {
        if partition.state == PartitionState::Hot {
            conn.execute_batch(&hot_index_sql(&partition.table()))?;
        }
    }
    Ok(())
}

/// Sealing steps the writer takes for a partition at most: one per index, and the last (its
/// text index is built by the text indexer, `text_index.rs`).
pub fn steps_per_partition() -> i64 {
    PARTITION_INDEXES.len() as i64 + 1
}

/// Records rows `..=last_seq` with event times `min_ts..=max_ts` as stored in `partition`.
pub fn record_append(
    conn: &Connection,
    partition: &Partition,
    last_seq: i64,
    min_ts: i64,
    max_ts: i64,
) -> StoreResult<()> {
    conn.prepare_cached(
        "UPDATE partitions SET last_seq = ?2, min_ts = MIN(IFNULL(min_ts, ?3), ?3), \
         max_ts = MAX(IFNULL(max_ts, ?4), ?4) WHERE id = ?1",
    )?
    .execute(params![partition.id, last_seq, min_ts, max_ts])?;
    Ok(())
}

/// Whether a partition is waiting to be sealed.
pub fn sealing_pending(conn: &Connection) -> StoreResult<bool> {
    Ok(full_count(conn)? > 0)
}

/// How many partitions wait to be sealed.
pub fn full_count(conn: &Connection) -> StoreResult<i64> {
    Ok(conn
        .prepare_cached("SELECT COUNT(*) FROM partitions WHERE state = 'full'")?
        .query_row([], |row| row.get(0))?)
}

/// Where sealing stands after a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sealing {
    /// A step was taken; there may be more.
    Busy,
    /// Every full partition has its indexes and waits for its text index, which the text
    /// indexer builds on its own thread.
    WaitingForText,
    /// No partition waits to be sealed.
    Idle,
}

/// One step of sealing, in its own transaction, for the oldest full partition that has one to
/// take: builds a missing index (one per step: each step pauses ingestion, and 5 per step gave
/// the same throughput at 10 M with p95 request latency 392 ms instead of 168 ms,
/// BENCHMARKS.md), or (partitions from before the text file) adds one chunk of
/// rows to its text index, or, when everything is built (`texts` is the text file, where the
/// indexer records how far it got), marks it sealed.
pub fn seal_step(conn: &mut Connection, texts: &Connection) -> StoreResult<Sealing> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let mut statement = tx.prepare_cached(&format!(
        "SELECT {CATALOG_COLUMNS} FROM partitions WHERE state = 'full' ORDER BY first_seq"
    ))?;
    let full = collect(statement.query_map([], Partition::read)?)?;
    drop(statement);
    if full.is_empty() {
        return Ok(Sealing::Idle);
    }
    for partition in &full {
        let table = partition.table();
        if !partition.index_apart {
            // A partition from before index tables: its filter indexes on its events table.
            let built = indexes_of(&tx, &table)?;
            for index in PARTITION_INDEXES {
                if !built.contains(&format!("{table}_{}", index.0)) {
                    tx.execute_batch(&schema::index_sql(&table, index))?;
                    tx.commit()?;
                    return Ok(Sealing::Busy);
                }
            }
        }
        let text_done = if partition.text_apart {
            partition.is_empty()
                || text_index::indexed_through(texts, partition.id)?
                    .is_some_and(|through| through >= partition.last_seq)
        } else {
            add_text_chunk(&tx, partition)?
        };
        if !text_done {
            if partition.text_apart {
                continue;
            }
            tx.commit()?;
            return Ok(Sealing::Busy);
        }
        if partition.index_apart {
            // Built by the text indexer, which records when it is complete.
            if !partition.is_empty() && !index_table::complete(texts, partition.id)? {
                continue;
            }
        } else {
            // Planner statistics, once: a sealed partition never changes again. Without them
            // SQLite picks a range scan plus a sort for prefix filters where walking the time
            // index is 400× faster (BENCHMARKS.md); a sample of each index is enough.
            tx.execute_batch(&format!("PRAGMA analysis_limit = 1000; ANALYZE {table};"))?;
        }
        tx.execute(
            "UPDATE partitions SET state = 'sealed' WHERE id = ?1",
            params![partition.id],
        )?;
        tx.commit()?;
        return Ok(Sealing::Busy);
    }
    Ok(Sealing::WaitingForText)
}

/// The indexes `table` has, from the connection's copy of the schema: asking
/// `sqlite_master` by name reads all of it (~17 rows per partition), 14 times per step, and
/// while full partitions wait for their text indexes the writer asks every few milliseconds.
fn indexes_of(conn: &Connection, table: &str) -> StoreResult<Vec<String>> {
    Ok(conn
        .prepare_cached("SELECT name FROM pragma_index_list(?1)")?
        .query_map(params![table], |row| row.get(0))?
        .collect::<Result<_, _>>()?)
}

/// Adds a chunk of rows to the text index a partition keeps in the store's file (partitions
/// opened before the text file existed); whether it now holds every row.
fn add_text_chunk(tx: &Connection, partition: &Partition) -> StoreResult<bool> {
    let table = partition.table();
    let (text_seq, done) = text_index::add_chunk(tx, &table, &table, partition.text_seq)?;
    tx.execute(
        "UPDATE partitions SET text_seq = ?2 WHERE id = ?1",
        params![partition.id, text_seq],
    )?;
    Ok(done)
}

/// Sealing driven by hand on connections of its own, a step at a time: what the writer and the
/// text indexer do between them (tests stop it half way).
pub struct Sealer {
    conn: Connection,
    indexer: Connection,
    texts: Connection,
}

impl Sealer {
    pub fn open(store: &Path) -> StoreResult<Self> {
        let conn = Connection::open(store)?;
        schema::configure(&conn)?;
        Ok(Sealer {
            conn,
            indexer: text_index::indexer_connection(store)?,
            texts: text_index::open(store)?,
        })
    }

    /// A chunk of a text index if one is waiting, else one of the writer's steps; whether
    /// there is more to do.
    pub fn step(&mut self) -> StoreResult<bool> {
        if text_index::step(&mut self.indexer)? {
            return Ok(true);
        }
        Ok(seal_step(&mut self.conn, &self.texts)? == Sealing::Busy)
    }
}

/// The newest stored row's arrival time (0 when the store holds no event).
pub fn last_received(conn: &Connection) -> StoreResult<i64> {
    Ok(end_received(conn, End::Newest)?.unwrap_or(0))
}

/// The oldest stored row's arrival time.
pub fn first_received(conn: &Connection) -> StoreResult<Option<i64>> {
    end_received(conn, End::Oldest)
}

enum End {
    Oldest,
    Newest,
}

/// The arrival time of the row at one end of the chain (`received` grows with seq).
fn end_received(conn: &Connection, end: End) -> StoreResult<Option<i64>> {
    let mut all = load(conn)?;
    let order = match end {
        End::Oldest => "",
        End::Newest => {
            all.reverse();
            "DESC"
        }
    };
    for partition in all.iter().filter(|p| !p.is_empty()) {
        let received: Option<i64> = conn
            .query_row(
                &format!(
                    "SELECT received FROM {} ORDER BY seq {order} LIMIT 1",
                    partition.table()
                ),
                [],
                |row| row.get(0),
            )
            .optional()?;
        if received.is_some() {
            return Ok(received);
        }
    }
    Ok(None)
}
