//! Verify on SQLite: reads the chain state and feeds every partition's rows in seq order to
//! the backend-neutral [`ChainWalk`].

use rusqlite::{Connection, OptionalExtension, params};

use super::partitions;
use super::row::{COLUMNS, EventRow};
use super::writer::to_hash;
use crate::store::StoreResult;
use crate::store::chain_walk::{ChainState, ChainWalk, VerifyOutcome};

fn load_state(conn: &Connection) -> StoreResult<ChainState> {
    let raw: (i64, Vec<u8>, i64, Vec<u8>, i64, Vec<u8>) = conn.query_row(
        "SELECT head_seq, head_hash, anchor_seq, anchor_hash, verified_seq, verified_hash \
         FROM chain_state WHERE id = 1",
        [],
        |row| {
            Ok((
                row.get(0)?,
                row.get(1)?,
                row.get(2)?,
                row.get(3)?,
                row.get(4)?,
                row.get(5)?,
            ))
        },
    )?;
    Ok(ChainState {
        head_seq: raw.0,
        head_hash: to_hash(&raw.1)?,
        anchor_seq: raw.2,
        anchor_hash: to_hash(&raw.3)?,
        verified_seq: raw.4,
        verified_hash: to_hash(&raw.5)?,
    })
}

/// Verifies from the last verified point (or from the anchor when `full`). Runs in one read
/// transaction, so it sees one consistent snapshot while ingestion goes on.
pub fn verify(conn: &Connection, full: bool) -> StoreResult<VerifyOutcome> {
    let tx = conn.unchecked_transaction()?;
    let mut walk = ChainWalk::new(load_state(&tx)?, full);

    if let Some(seq) = walk.resume_point() {
        let stored: Option<Vec<u8>> = match partitions::containing(&tx, seq)? {
            Some(partition) if partitions::exists(&tx, &partition.table())? => tx
                .query_row(
                    &format!("SELECT hash FROM {} WHERE seq = ?1", partition.table()),
                    params![seq],
                    |row| row.get(0),
                )
                .optional()?,
            _ => None,
        };
        if let Some(outcome) = walk.check_resume_point(stored.as_deref()) {
            return Ok(outcome);
        }
    }

    // Partitions in chain order; a table the catalog names but the file lacks holds nothing,
    // so its events show up as missing.
    for partition in partitions::load(&tx)? {
        if partition.last_seq <= walk.after_seq() || !partitions::exists(&tx, &partition.table())? {
            continue;
        }
        let mut statement = tx.prepare(&format!(
            "SELECT {COLUMNS} FROM {} WHERE seq > ?1 ORDER BY seq",
            partition.table()
        ))?;
        let mut rows = statement.query(params![walk.after_seq()])?;
        while let Some(row) = rows.next()? {
            if let Some(outcome) = walk.feed(&EventRow::read(row)?) {
                return Ok(outcome);
            }
        }
    }
    Ok(walk.finish())
}
