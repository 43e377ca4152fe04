//! Index tables: a sealed partition's filter indexes, built by the text indexer in the text
//! index file on a copy of the columns filters test, instead of by the writer on the events
//! table.
//!
//! A partition's fourteen `(column, ts)` indexes were about half of the writer's time (a
//! sorted build of each, ~60 ms per 100 k rows, 0.85 s per partition), and the writer is what
//! limits ingestion. SQLite lets one connection write a file at a time, so every index built in
//! the store's file stopped group commits for as long. Built in the text index file, on a
//! narrow copy of the partition's [`schema::INDEXED_COLUMNS`] (~180 bytes a row instead of
//! ~1 KB, so each build also scans less), they cost the writer nothing: the text indexer builds
//! them on the other core while the writer goes on (BENCHMARKS.md has the numbers).
//!
//! Like a text index, an index table is derived data, and what keeps answers right is the same
//! (`text_index.rs`): only the text indexer writes it, a step per transaction, each recording
//! its progress (`index_progress`) in the same transaction; the writer marks a partition sealed
//! only once this file says its index table is complete; readers read the catalog before the
//! index table; retention's removals follow later (until then a query through an index table
//! asks `seq >= first_seq`); a sealed partition whose index table is missing or incomplete
//! when the store opens goes back to `full` and is built again.

use rusqlite::{Connection, OptionalExtension, params};

use super::partitions::Partition;
use super::schema::{self, INDEXED_COLUMNS, PARTITION_INDEXES};
use super::text_index::SCHEMA;
use crate::store::StoreResult;

/// Rows copied into an index table per transaction.
const CHUNK: i64 = 50_000;

pub const PROGRESS_SQL: &str = "
CREATE TABLE IF NOT EXISTS index_progress (
    partition_id INTEGER PRIMARY KEY,  -- the catalog's partitions.id
    copied_seq   INTEGER NOT NULL,     -- rows up to this seq are in its index table
    built        INTEGER NOT NULL,     -- how many of PARTITION_INDEXES are built on it
    complete     INTEGER NOT NULL,     -- 1: every row, every index and planner statistics
    first_seq    INTEGER NOT NULL      -- rows before this seq have been taken out of it
);";

/// Whether the index table of partition `id` is complete (`texts`: the text index file).
pub fn complete(texts: &Connection, id: i64) -> StoreResult<bool> {
    Ok(texts
        .prepare_cached("SELECT complete FROM index_progress WHERE partition_id = ?1")?
        .query_row(params![id], |row| row.get::<_, bool>(0))
        .optional()?
        .unwrap_or(false))
}

/// One step of building `partition`'s index table, in `tx` (the text indexer's transaction,
/// the text file attached as [`SCHEMA`], its write lock already taken): copies a chunk of rows,
/// or builds one index, or records planner statistics and that the table is complete. Returns
/// whether it took a step (`false`: it was complete already).
pub fn step(tx: &Connection, partition: &Partition) -> StoreResult<bool> {
    tx.execute(
        &format!(
            "INSERT INTO {SCHEMA}.index_progress \
             (partition_id, copied_seq, built, complete, first_seq) \
             VALUES (?1, ?2, 0, 0, ?3) ON CONFLICT DO NOTHING"
        ),
        params![partition.id, partition.first_seq - 1, partition.first_seq],
    )?;
    let (copied_seq, built, complete): (i64, usize, bool) = tx.query_row(
        &format!(
            "SELECT copied_seq, built, complete FROM {SCHEMA}.index_progress \
             WHERE partition_id = ?1"
        ),
        params![partition.id],
        |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
    )?;
    if complete {
        return Ok(false);
    }
    let table = partition.table();
    let index_table = partition.index_table_name();
    // Made with the first chunk; an empty partition (every row gone to retention before it was
    // copied) still gets its (empty) table, so that a query through it finds one.
    tx.execute_batch(&schema::index_table_sql(SCHEMA, &index_table))?;
    if copied_seq < partition.last_seq {
        let copied = tx.execute(
            &format!(
                "INSERT INTO {SCHEMA}.{index_table} ({INDEXED_COLUMNS}) \
                 SELECT {INDEXED_COLUMNS} FROM main.{table} WHERE seq > ?1 ORDER BY seq LIMIT ?2"
            ),
            params![copied_seq, CHUNK],
        )?;
        // The partition is no longer written: once a chunk comes short, it is all copied,
        // whatever seq its last row has after retention.
        let through = if (copied as i64) < CHUNK {
            partition.last_seq
        } else {
            tx.query_row(
                &format!("SELECT MAX(seq) FROM {SCHEMA}.{index_table}"),
                [],
                |row| row.get(0),
            )?
        };
        tx.execute(
            &format!("UPDATE {SCHEMA}.index_progress SET copied_seq = ?2 WHERE partition_id = ?1"),
            params![partition.id, through],
        )?;
        return Ok(true);
    }
    if let Some(&index) = PARTITION_INDEXES.get(built) {
        tx.execute_batch(&schema::index_sql_in(SCHEMA, &index_table, index))?;
        tx.execute(
            &format!("UPDATE {SCHEMA}.index_progress SET built = ?2 WHERE partition_id = ?1"),
            params![partition.id, built + 1],
        )?;
        return Ok(true);
    }
    // Planner statistics, once: a sealed partition never changes again. Without them SQLite
    // picks a range scan plus a sort for prefix filters where walking the time index is 400×
    // faster (BENCHMARKS.md); a sample of each index is enough.
    tx.execute_batch(&format!(
        "PRAGMA analysis_limit = 1000; ANALYZE {SCHEMA}.{index_table};"
    ))?;
    tx.execute(
        &format!("UPDATE {SCHEMA}.index_progress SET complete = 1 WHERE partition_id = ?1"),
        params![partition.id],
    )?;
    Ok(true)
}
