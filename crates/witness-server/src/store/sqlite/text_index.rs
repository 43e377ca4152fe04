//! The text indexes of sealed partitions, in a file of their own beside the store
//! (`witness-text.db` next to `witness.db`), built by a thread of their own.
//!
//! Building a partition's text index (reading its rows back, splitting their words, the FTS5
//! inserts) was about a third of the writer's time, and the writer is what limits ingestion.
//! SQLite lets one connection write a file at a time, so as long as the text indexes lived in
//! the store's file, building them stopped group commits. In a second file they are written by
//! the text indexer on the other core while the writer goes on (BENCHMARKS.md has the numbers).
//! The same thread then builds each partition's index table in this file, for the same reason
//! (`index_table.rs`).
//!
//! The text index is derived data: everything in it can be computed again from the events,
//! so it does not need to commit atomically with them. What keeps answers right:
//! - Only the text indexer writes this file, one chunk of rows per transaction, and each chunk
//!   records how far it got (`text_progress`) in the same transaction.
//! - A partition is marked sealed (in the store's catalog, by the writer) only once this file
//!   says its text index holds every row; until then queries match its text row by row.
//! - Readers have this file attached and read the catalog before any text index, so a
//!   partition they see sealed has a complete text index in their snapshot.
//! - Retention drops a partition's tables in the store; its text index goes here afterwards
//!   (rows that no longer exist in the store only make a lookup find nothing more).
//! - When the store opens, a sealed partition whose text index is missing or short here (the
//!   file was lost or restored from elsewhere) goes back to `full` and is indexed again.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError, TryRecvError};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OptionalExtension, params};

use super::index_table;
use super::partitions::{self, Partition, PartitionState};
use super::row::{TEXT_COLUMNS, text_document};
use super::schema;
use crate::store::{StoreError, StoreResult};

/// The name the text index file is attached under on every reading connection.
pub const SCHEMA: &str = "text_index";

/// Rows added to a text index per transaction (the text indexer's, or a sealing step's for a
/// text index in the store's file).
const CHUNK: i64 = 20_000;

/// How long the indexer waits for a partition to fill up before it looks again on its own.
const IDLE_WAIT: Duration = Duration::from_millis(500);

const PROGRESS_SQL: &str = "
CREATE TABLE IF NOT EXISTS text_progress (
    partition_id INTEGER PRIMARY KEY,  -- the catalog's partitions.id
    text_seq     INTEGER NOT NULL,     -- rows up to this seq are in its text index
    first_seq    INTEGER NOT NULL      -- rows before this seq have been taken out of it
);";

/// The text index file of the store at `store`: `witness.db` → `witness-text.db`.
pub fn path_for(store: &Path) -> PathBuf {
    let stem = store
        .file_stem()
        .map(|stem| stem.to_string_lossy().into_owned())
        .unwrap_or_else(|| "witness".to_string());
    store.with_file_name(format!("{stem}-text.db"))
}

/// A connection to the text index file itself (creating it when missing): what the writer
/// reads the indexer's progress through.
pub fn open(store: &Path) -> StoreResult<Connection> {
    let conn = Connection::open(path_for(store))?;
    schema::configure(&conn)?;
    conn.execute_batch(PROGRESS_SQL)?;
    conn.execute_batch(index_table::PROGRESS_SQL)?;
    Ok(conn)
}

/// Attaches the text index file to `conn` as [`SCHEMA`], set up as the store's file is.
pub fn attach(conn: &Connection, store: &Path) -> StoreResult<()> {
    let path = path_for(store);
    // ATTACH takes the file name as text: a lossy conversion could name another file.
    let name = path.to_str().ok_or_else(|| {
        StoreError::Backend(format!(
            "the store's path {} is not UTF-8, which its text index file needs",
            path.display()
        ))
    })?;
    conn.execute(&format!("ATTACH DATABASE ?1 AS {SCHEMA}"), params![name])?;
    // `synchronous = NORMAL`: a commit here is not waited for on the disk. After a power loss
    // the file may lack its last commits, but never holds half of one, and its progress
    // records are in the same commits as what they count: `recheck`, when the store opens,
    // sends any partition sealed on the strength of a lost commit back to be indexed again.
    conn.execute_batch(&format!(
        "PRAGMA {SCHEMA}.journal_mode = WAL; PRAGMA {SCHEMA}.synchronous = NORMAL; \
         PRAGMA {SCHEMA}.cache_size = -16384; PRAGMA {SCHEMA}.mmap_size = {};",
        1i64 << 30
    ))?;
    Ok(())
}

/// The seq up to which the text index of partition `id` holds every row (`None`: not begun).
pub fn indexed_through(texts: &Connection, id: i64) -> StoreResult<Option<i64>> {
    Ok(texts
        .prepare_cached("SELECT text_seq FROM text_progress WHERE partition_id = ?1")?
        .query_row(params![id], |row| row.get(0))
        .optional()?)
}

/// Sends a sealed partition whose text index or index table is not complete in the text file
/// back to `full` (the file was lost, or is older than the store), so that it is indexed and
/// sealed again.
pub fn recheck(conn: &Connection, texts: &Connection) -> StoreResult<()> {
    for partition in partitions::load(conn)? {
        if (partition.text_apart || partition.index_apart)
            && partition.is_sealed()
            && !partition.is_empty()
        {
            let text = !partition.text_apart
                || indexed_through(texts, partition.id)?
                    .is_some_and(|through| through >= partition.last_seq);
            let indexed = !partition.index_apart || index_table::complete(texts, partition.id)?;
            if !text || !indexed {
                tracing::warn!(
                    partition = partition.id,
                    "the text index or index table of a sealed partition is missing or \
                     incomplete; it is built again"
                );
                conn.execute(
                    "UPDATE partitions SET state = 'full' WHERE id = ?1",
                    params![partition.id],
                )?;
            }
        }
    }
    Ok(())
}

/// One step for the oldest partition waiting for the text file: a chunk of its text index, or
/// else a step of its index table (`index_table.rs`), on a connection to the store with the
/// text file attached. Returns whether it found work (there may be more).
pub fn step(conn: &mut Connection) -> StoreResult<bool> {
    // The catalog and each chunk of rows are read in statements of their own, outside the
    // transaction that writes the text file: a transaction that has read the store's file
    // holds a snapshot of it until it ends, and while any reader holds an old snapshot the
    // store's WAL cannot start over. With the indexer busy most of the time that WAL grew past
    // 200 MB, and every read of the store slowed (BENCHMARKS.md).
    let waiting: Vec<Partition> = partitions::load(conn)?
        .into_iter()
        .filter(|p| {
            (p.text_apart || p.index_apart) && p.state == PartitionState::Full && !p.is_empty()
        })
        .collect();
    for partition in waiting {
        let table = partition.table();
        // A text index in the store's file is the writer's to build (`partitions::seal_step`).
        let known = if !partition.text_apart {
            partition.last_seq
        } else {
            conn.prepare_cached(&format!(
                "SELECT text_seq FROM {SCHEMA}.text_progress WHERE partition_id = ?1"
            ))?
            .query_row(params![partition.id], |row| row.get::<_, i64>(0))
            .optional()?
            .unwrap_or(partition.first_seq - 1)
        };
        let documents = if known >= partition.last_seq {
            None
        } else {
            Some(read_documents(conn, &format!("main.{table}"), known)?)
        };
        let tx = conn.transaction()?;
        // A write first: it takes the text file's write lock before anything of the file is
        // read, so another process indexing too (the command line beside a server) is waited
        // for instead of failing at the first insert (`index_table::step` starts likewise).
        let text_seq: i64 = if !partition.text_apart {
            known
        } else {
            tx.execute(
                &format!(
                    "INSERT INTO {SCHEMA}.text_progress (partition_id, text_seq, first_seq) \
                     VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING"
                ),
                params![partition.id, partition.first_seq - 1, partition.first_seq],
            )?;
            tx.query_row(
                &format!("SELECT text_seq FROM {SCHEMA}.text_progress WHERE partition_id = ?1"),
                params![partition.id],
                |row| row.get(0),
            )?
        };
        if text_seq != known {
            // Another process indexed this partition meanwhile: look again.
            return Ok(true);
        }
        let Some(documents) = documents else {
            if partition.index_apart && index_table::step(&tx, &partition)? {
                tx.commit()?;
                return Ok(true);
            }
            continue;
        };
        let (last, done) = insert_documents(&tx, &format!("{SCHEMA}.{table}"), known, &documents)?;
        // The partition is no longer written: once done, it is done whatever seq its last row
        // has after retention.
        let through = if done { partition.last_seq } else { last };
        tx.execute(
            &format!("UPDATE {SCHEMA}.text_progress SET text_seq = ?2 WHERE partition_id = ?1"),
            params![partition.id, through],
        )?;
        tx.commit()?;
        return Ok(true);
    }
    Ok(false)
}

/// How long the text index of a partition retention removed is kept: a query that read the
/// catalog just before may still look it up (and would fail on a missing table).
const DROP_GRACE: Duration = Duration::from_secs(60);

/// Partitions retention removed, and since when the indexer knows.
pub type Gone = HashMap<i64, Instant>;

/// Adds the rows of `events` after `after_seq`, up to `CHUNK` of them, to the text index of
/// `owner` (`{owner}_fts`, made when missing: in the text file or, for partitions from before
/// it, in the store's). Returns the last seq added (`after_seq` if none) and whether that was
/// every row.
pub fn add_chunk(
    tx: &Connection,
    events: &str,
    owner: &str,
    after_seq: i64,
) -> StoreResult<(i64, bool)> {
    let documents = read_documents(tx, events, after_seq)?;
    insert_documents(tx, owner, after_seq, &documents)
}

/// The text documents of the rows of `events` after `after_seq`, up to `CHUNK` of them.
fn read_documents(
    conn: &Connection,
    events: &str,
    after_seq: i64,
) -> StoreResult<Vec<(i64, String)>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {TEXT_COLUMNS} FROM {events} WHERE seq > ?1 ORDER BY seq LIMIT ?2"
        ))?
        .query_map(params![after_seq, CHUNK], text_document)?
        .collect::<Result<_, _>>()?)
}

/// Adds `documents` (a chunk read after `after_seq`) to the text index of `owner`; the last seq
/// added and whether the chunk came short (every row is in).
fn insert_documents(
    tx: &Connection,
    owner: &str,
    after_seq: i64,
    documents: &[(i64, String)],
) -> StoreResult<(i64, bool)> {
    let (file, name) = owner.split_once('.').unwrap_or(("main", owner));
    if !partitions::exists_in(tx, file, &format!("{name}_fts"))? {
        tx.execute_batch(&schema::text_table_sql(owner))?;
        // Written once, a chunk per transaction: FTS5's merging of the segments each chunk
        // leaves (`automerge`) was a quarter of building a text index, and the unmerged
        // segments answer as fast (BENCHMARKS.md). Its crisis merges still bound their number.
        tx.execute(
            &format!("INSERT INTO {owner}_fts ({name}_fts, rank) VALUES ('automerge', 0)"),
            [],
        )?;
    }
    let mut insert = tx.prepare_cached(&format!(
        "INSERT INTO {owner}_fts (rowid, body) VALUES (?1, ?2)"
    ))?;
    for (seq, body) in documents {
        insert.execute(params![seq, body])?;
    }
    let last = documents.last().map_or(after_seq, |(seq, _)| *seq);
    Ok((last, (documents.len() as i64) < CHUNK))
}

/// Takes out of the text file what retention removed from the store: the text indexes and
/// index tables of partitions that have not existed for `grace` (as `gone` remembers), and the
/// rows of a trimmed one.
pub fn collect_garbage(conn: &mut Connection, gone: &mut Gone, grace: Duration) -> StoreResult<()> {
    let tx = conn.transaction()?;
    // The write lock first, as in `step`.
    for progress in ["text_progress", "index_progress"] {
        tx.execute(
            &format!(
                "DELETE FROM {SCHEMA}.{progress} \
                 WHERE partition_id NOT IN (SELECT id FROM main.partitions)"
            ),
            [],
        )?;
    }
    let catalog = partitions::load(&tx)?;
    let tables: Vec<String> = tx
        .prepare(&format!(
            "SELECT name FROM {SCHEMA}.sqlite_master WHERE type = 'table' \
             AND (name GLOB 'events_*_fts' OR name GLOB 'events_*_index')"
        ))?
        .query_map([], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    let now = Instant::now();
    gone.retain(|id, _| !catalog.iter().any(|p| p.id == *id));
    // A partition's text index and index table go together: the grace starts at the first.
    let mut dropped = Vec::new();
    for table in tables {
        let Some(id) = table
            .strip_prefix("events_")
            .and_then(|rest| {
                rest.strip_suffix("_fts")
                    .or_else(|| rest.strip_suffix("_index"))
            })
            .and_then(|id| id.parse::<i64>().ok())
        else {
            continue;
        };
        if catalog.iter().any(|p| p.id == id) {
            continue;
        }
        let since = *gone.entry(id).or_insert(now);
        if now.duration_since(since) >= grace {
            tx.execute_batch(&format!("DROP TABLE {SCHEMA}.{table}"))?;
            dropped.push(id);
        }
    }
    for id in dropped {
        gone.remove(&id);
    }
    for (progress, suffix, key) in [
        ("text_progress", "fts", "rowid"),
        ("index_progress", "index", "seq"),
    ] {
        let trimmed: Vec<(i64, i64)> = tx
            .prepare(&format!(
                "SELECT t.partition_id, p.first_seq FROM {SCHEMA}.{progress} AS t \
                 JOIN main.partitions AS p ON p.id = t.partition_id \
                 WHERE t.first_seq < p.first_seq"
            ))?
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
            .collect::<Result<_, _>>()?;
        for (id, first_seq) in trimmed {
            let table = format!("{}_{suffix}", partitions::table_name(id));
            if partitions::exists_in(&tx, SCHEMA, &table)? {
                tx.execute(
                    &format!("DELETE FROM {SCHEMA}.{table} WHERE {key} < ?1"),
                    params![first_seq],
                )?;
            }
            tx.execute(
                &format!("UPDATE {SCHEMA}.{progress} SET first_seq = ?2 WHERE partition_id = ?1"),
                params![id, first_seq],
            )?;
        }
    }
    tx.commit()?;
    Ok(())
}

/// The indexer thread: indexes whatever partitions are full, tidies up when there is nothing
/// to index, and waits for the writer's word that a partition filled up. It stops when the
/// writer does (the writer owns the other end of `wake`).
pub fn run(mut conn: Connection, wake: Receiver<()>) {
    let mut gone = Gone::new();
    loop {
        match step(&mut conn) {
            Ok(true) => {
                if let Err(TryRecvError::Disconnected) = wake.try_recv() {
                    break;
                }
                continue;
            }
            Ok(false) => {
                if let Err(error) = collect_garbage(&mut conn, &mut gone, DROP_GRACE) {
                    tracing::warn!(%error, "tidying the text index file failed; tried again later");
                }
            }
            Err(error) => {
                tracing::error!(%error, "building a text index failed; tried again later");
            }
        }
        match wake.recv_timeout(IDLE_WAIT) {
            Ok(()) | Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
    }
}

/// A connection for the indexer: the store, with the text file attached.
pub fn indexer_connection(store: &Path) -> StoreResult<Connection> {
    let conn = Connection::open(store)?;
    schema::configure(&conn)?;
    attach(&conn, store)?;
    Ok(conn)
}
