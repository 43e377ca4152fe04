//! Walking the chain: every event must hash to its stored hash and link to the one before it,
//! and the newest must be the head recorded at commit.

use chrono::Utc;
use rusqlite::{Connection, OptionalExtension, params};
use witness_api::{ChainBreak, VerifyReport};

use super::partitions;
use super::row::{COLUMNS, EventRow};
use super::writer::to_hash;
use crate::store::{StoreResult, event_id};

struct ChainState {
    head_seq: i64,
    head_hash: [u8; 32],
    anchor_seq: i64,
    anchor_hash: [u8; 32],
    verified_seq: i64,
    verified_hash: [u8; 32],
}

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

/// What a verify run found, and the point to record as verified when it all checked out.
pub struct VerifyOutcome {
    pub report: VerifyReport,
    pub verified_point: Option<(i64, [u8; 32])>,
}

/// Verifies from the last verified point (or from the anchor when `full`). Runs in one read
/// transaction, so it sees one consistent snapshot while ingestion goes on.
pub fn verify(conn: &Connection, full: bool) -> StoreResult<VerifyOutcome> {
    let tx = conn.unchecked_transaction()?;
    let state = load_state(&tx)?;
    let resume = !full && state.verified_seq > state.anchor_seq;
    let (mut last_seq, mut last_hash) = if resume {
        (state.verified_seq, Some(state.verified_hash))
    } else {
        (state.anchor_seq, None)
    };
    let mut expected_prev = last_hash.unwrap_or(state.anchor_hash);
    let start_seq = last_seq + 1;

    let finish =
        |ok: bool, last_seq: i64, last_hash: Option<[u8; 32]>, broken: Option<ChainBreak>| {
            let report = VerifyReport {
                ok,
                verified_count: (last_seq - state.anchor_seq).max(0) as u64,
                newly_verified: (last_seq - start_seq + 1).max(0) as u64,
                head_id: last_hash.map(|_| event_id(last_seq)),
                head_hash: last_hash.map(hex::encode),
                first_break: broken,
                checked_at: Utc::now(),
                checkpoints_compared: 0,
                newest_checkpoint_id: None,
                last_full_verify_at: None,
            };
            let verified_point = match (ok, last_hash) {
                (true, Some(hash)) => Some((last_seq, hash)),
                _ => None,
            };
            Ok(VerifyOutcome {
                report,
                verified_point,
            })
        };

    // The point we resume from must still be what we verified.
    if resume {
        let stored: Option<Vec<u8>> = match partitions::containing(&tx, state.verified_seq)? {
            Some(partition) if partitions::exists(&tx, &partition.table())? => tx
                .query_row(
                    &format!("SELECT hash FROM {} WHERE seq = ?1", partition.table()),
                    params![state.verified_seq],
                    |row| row.get(0),
                )
                .optional()?,
            _ => None,
        };
        if stored.as_deref() != Some(&state.verified_hash[..]) {
            let reason = match stored {
                None => "this event was verified before but is now missing: it was deleted",
                Some(_) => "this event's stored hash changed since it was verified",
            };
            return finish(
                false,
                state.verified_seq - 1,
                None,
                Some(ChainBreak {
                    event_id: event_id(state.verified_seq),
                    reason: reason.to_string(),
                }),
            );
        }
    }

    // Partitions in chain order; a table the catalog names but the file lacks holds nothing,
    // so its events show up as missing.
    for partition in partitions::load(&tx)? {
        if partition.last_seq <= last_seq || !partitions::exists(&tx, &partition.table())? {
            continue;
        }
        let mut statement = tx.prepare(&format!(
            "SELECT {COLUMNS} FROM {} WHERE seq > ?1 ORDER BY seq",
            partition.table()
        ))?;
        let mut rows = statement.query(params![last_seq])?;
        while let Some(row) = rows.next()? {
            let row = EventRow::read(row)?;
            let expected_seq = last_seq + 1;
            let broken = |reason: String| {
                Some(ChainBreak {
                    event_id: event_id(row.seq),
                    reason,
                })
            };
            if row.seq != expected_seq {
                let missing = if row.seq == expected_seq + 1 {
                    format!("event {} before it is missing", event_id(expected_seq))
                } else {
                    format!(
                        "events {} to {} before it are missing",
                        event_id(expected_seq),
                        event_id(row.seq - 1)
                    )
                };
                return finish(
                    false,
                    last_seq,
                    last_hash,
                    broken(format!("{missing}: deleted from the store")),
                );
            }
            if row.prev_hash != expected_prev {
                return finish(
                    false,
                    last_seq,
                    last_hash,
                    broken(
                        "its prev_hash is not the hash of the event before it: events were \
                         reordered, replaced or deleted"
                            .to_string(),
                    ),
                );
            }
            let recomputed = row.canonical().hash(&expected_prev);
            if row.hash != recomputed {
                return finish(
                    false,
                    last_seq,
                    last_hash,
                    broken(
                        "its contents do not match its hash: a field was changed after it was \
                         stored"
                            .to_string(),
                    ),
                );
            }
            expected_prev = recomputed;
            last_seq = row.seq;
            last_hash = Some(recomputed);
        }
    }

    let head_matches = last_seq == state.head_seq
        && (last_seq == state.anchor_seq || last_hash == Some(state.head_hash));
    if !head_matches {
        let (at, reason) = if last_seq < state.head_seq {
            (
                last_seq.max(state.anchor_seq + 1),
                format!(
                    "the newest event committed was {} but the chain ends at {}: the tail was \
                     cut",
                    event_id(state.head_seq),
                    if last_seq > state.anchor_seq {
                        event_id(last_seq)
                    } else {
                        "its start (no events remain)".to_string()
                    }
                ),
            )
        } else {
            (
                last_seq,
                format!(
                    "the chain goes on past the newest event committed ({}): events were added \
                     outside Witness",
                    event_id(state.head_seq)
                ),
            )
        };
        return finish(
            false,
            last_seq,
            last_hash,
            Some(ChainBreak {
                event_id: event_id(at),
                reason,
            }),
        );
    }
    finish(true, last_seq, last_hash, None)
}
