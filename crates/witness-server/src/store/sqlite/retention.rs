//! Retention: the prefix of the chain received before a cutoff goes, whole partitions at a
//! time (their tables are dropped) and at most one partition trimmed row by row, in one
//! transaction that also moves the anchor and keeps the summaries right.

use rusqlite::{Connection, OptionalExtension, params};

use super::partitions::{self, Partition, PartitionState};
use super::schema::{self, MINUTE_OF_TS as MINUTE};
use crate::store::StoreResult;

/// Deletes the chain's prefix received before `cutoff` and moves the anchor past it. Returns
/// how many events were deleted.
pub fn delete_received_before(conn: &mut Connection, cutoff: i64) -> StoreResult<u64> {
    // The retention job runs hourly: a good moment to refresh the planner's statistics.
    conn.execute_batch("PRAGMA optimize;")?;
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    // Arrival order is seq order: the partitions before the cutoff come first, oldest first.
    let mut whole: Vec<Partition> = Vec::new();
    let mut trimmed: Option<(Partition, i64)> = None;
    let mut last: Option<(i64, Vec<u8>)> = None;
    for partition in partitions::load(&tx)? {
        if partition.is_empty() {
            continue;
        }
        let newest_gone: Option<(i64, Vec<u8>)> = tx
            .query_row(
                &format!(
                    "SELECT seq, hash FROM {} WHERE received < ?1 ORDER BY seq DESC LIMIT 1",
                    partition.table()
                ),
                params![cutoff],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()?;
        let Some((seq, hash)) = newest_gone else {
            break;
        };
        last = Some((seq, hash));
        if seq == partition.last_seq && partition.state != PartitionState::Hot {
            whole.push(partition);
        } else {
            trimmed = Some((partition, seq));
            break;
        }
    }
    let Some((last_seq, last_hash)) = last else {
        return Ok(0);
    };
    let mut deleted = 0u64;
    for partition in &whole {
        forget_summaries(&tx, partition, partition.last_seq)?;
        let table = partition.table();
        tx.execute_batch(&format!(
            "DROP TABLE IF EXISTS {table}_fts; DROP TABLE {table};"
        ))?;
        tx.execute(
            "DELETE FROM partitions WHERE id = ?1",
            params![partition.id],
        )?;
        deleted += partition.len() as u64;
    }
    if let Some((partition, through)) = &trimmed {
        forget_summaries(&tx, partition, *through)?;
        let table = partition.table();
        let text_table = partition.text_table();
        if partitions::exists(&tx, &text_table)? {
            tx.execute(
                &format!("DELETE FROM {text_table} WHERE rowid <= ?1"),
                params![through],
            )?;
        }
        deleted += tx.execute(
            &format!("DELETE FROM {table} WHERE seq <= ?1"),
            params![through],
        )? as u64;
        // Its time bounds stay as they were: still true bounds of what is left.
        tx.execute(
            "UPDATE partitions SET first_seq = ?2, text_seq = MAX(text_seq, ?2 - 1) WHERE id = ?1",
            params![partition.id, through + 1],
        )?;
    }
    // A block partly deleted keeps its (now wider than needed) time range: still a true bound.
    tx.execute(
        "DELETE FROM seq_blocks WHERE block < (?1 + 1) >> ?2",
        params![last_seq, schema::BLOCK_SHIFT],
    )?;
    tx.execute(
        "UPDATE chain_state SET anchor_seq = ?1, anchor_hash = ?2, \
         verified_seq = MAX(verified_seq, ?1), \
         verified_hash = CASE WHEN verified_seq < ?1 THEN ?2 ELSE verified_hash END \
         WHERE id = 1",
        params![last_seq, last_hash],
    )?;
    tx.commit()?;
    Ok(deleted)
}

/// Takes the partition's rows up to `through` out of the per-minute counts (minutes as in
/// `schema::minute_of`: rounded down).
fn forget_summaries(conn: &Connection, partition: &Partition, through: i64) -> StoreResult<()> {
    let table = partition.table();
    conn.execute(
        &format!(
            "UPDATE minute_counts SET n = minute_counts.n - gone.count \
             FROM (SELECT {MINUTE} AS at_minute, COUNT(*) AS count FROM {table} \
                   WHERE seq <= ?1 GROUP BY 1) AS gone \
             WHERE minute_counts.minute = gone.at_minute"
        ),
        params![through],
    )?;
    conn.execute("DELETE FROM minute_counts WHERE n <= 0", [])?;
    conn.execute(
        &format!(
            "UPDATE action_minutes SET n = action_minutes.n - gone.count \
             FROM (SELECT action AS of_action, {MINUTE} AS at_minute, COUNT(*) AS count \
                   FROM {table} WHERE seq <= ?1 GROUP BY 1, 2) AS gone \
             WHERE action_minutes.action = gone.of_action \
             AND action_minutes.minute = gone.at_minute"
        ),
        params![through],
    )?;
    conn.execute("DELETE FROM action_minutes WHERE n <= 0", [])?;
    Ok(())
}
