//! Retention: the prefix of the chain received before a cutoff goes, whole partitions at a
//! time (their tables are dropped) and at most one partition trimmed row by row, in one
//! transaction that also moves the anchor and keeps the summaries right.

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension, params};

use super::partitions::{self, Partition, PartitionState};
use super::schema;
use crate::store::StoreResult;

/// Deletes the chain's prefix received before `cutoff` and moves the anchor past it. Returns
/// how many events were deleted.
pub fn delete_received_before(conn: &mut Connection, cutoff: i64) -> StoreResult<u64> {
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
    // A whole partition goes with its summaries: nothing to count, nothing else to touch.
    for partition in &whole {
        for table in partition.tables() {
            tx.execute_batch(&format!("DROP TABLE IF EXISTS {table};"))?;
        }
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

/// Takes the partition's rows up to `through` out of its per-minute counts.
fn forget_summaries(conn: &Connection, partition: &Partition, through: i64) -> StoreResult<()> {
    let mut minutes: HashMap<i64, i64> = HashMap::new();
    let mut action_minutes: HashMap<(String, i64), i64> = HashMap::new();
    {
        let mut statement = conn.prepare(&format!(
            "SELECT action, ts FROM {} WHERE seq <= ?1",
            partition.table()
        ))?;
        let mut rows = statement.query(params![through])?;
        while let Some(row) = rows.next()? {
            let action: String = row.get(0)?;
            let minute = schema::minute_of(row.get(1)?);
            *minutes.entry(minute).or_default() += 1;
            *action_minutes.entry((action, minute)).or_default() += 1;
        }
    }
    // Each touched count goes down, and goes away at zero, one statement per table.
    let minutes: Vec<(i64, i64)> = minutes.into_iter().collect();
    let action_minutes: Vec<(String, i64, i64)> = action_minutes
        .into_iter()
        .map(|((action, minute), n)| (action, minute, n))
        .collect();
    let json = |error: serde_json::Error| crate::store::StoreError::Backend(error.to_string());
    let minutes = serde_json::to_string(&minutes).map_err(json)?;
    let action_minutes = serde_json::to_string(&action_minutes).map_err(json)?;
    conn.execute(
        &format!(
            "UPDATE {m} SET n = {m}.n - gone.n FROM \
             (SELECT value ->> 0 AS minute, value ->> 1 AS n FROM json_each(?1)) AS gone \
             WHERE {m}.minute = gone.minute",
            m = partition.minutes_table()
        ),
        params![minutes],
    )?;
    conn.execute(
        &format!("DELETE FROM {} WHERE n <= 0", partition.minutes_table()),
        [],
    )?;
    conn.execute(
        &format!(
            "UPDATE {a} SET n = {a}.n - gone.n FROM \
             (SELECT value ->> 0 AS action, value ->> 1 AS minute, value ->> 2 AS n \
              FROM json_each(?1)) AS gone \
             WHERE {a}.action = gone.action AND {a}.minute = gone.minute",
            a = partition.action_minutes_table()
        ),
        params![action_minutes],
    )?;
    conn.execute(
        &format!(
            "DELETE FROM {} WHERE n <= 0",
            partition.action_minutes_table()
        ),
        [],
    )?;
    Ok(())
}
