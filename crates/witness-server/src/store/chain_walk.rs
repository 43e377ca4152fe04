//! Walking the chain, whatever stores it: every event must hash to its stored hash and link to
//! the one before it, and the newest must be the head recorded at commit. A backend reads the
//! chain state and feeds the rows in seq order; the rules live here once.

use chrono::Utc;
use witness_api::{ChainBreak, VerifyReport};

use crate::store::event_id;
use crate::store::event_row::EventRow;

/// The chain's bookkeeping as committed.
#[derive(Debug, Clone, Copy)]
pub struct ChainState {
    pub head_seq: i64,
    pub head_hash: [u8; 32],
    pub anchor_seq: i64,
    pub anchor_hash: [u8; 32],
    pub verified_seq: i64,
    pub verified_hash: [u8; 32],
}

/// What a verify run found, and the point to record as verified when it all checked out.
pub struct VerifyOutcome {
    pub report: VerifyReport,
    pub verified_point: Option<(i64, [u8; 32])>,
}

/// One verify run: from the last verified point (or from the anchor when `full`).
pub struct ChainWalk {
    state: ChainState,
    resume: bool,
    start_seq: i64,
    last_seq: i64,
    last_hash: Option<[u8; 32]>,
    expected_prev: [u8; 32],
}

impl ChainWalk {
    pub fn new(state: ChainState, full: bool) -> Self {
        let resume = !full && state.verified_seq > state.anchor_seq;
        let (last_seq, last_hash) = if resume {
            (state.verified_seq, Some(state.verified_hash))
        } else {
            (state.anchor_seq, None)
        };
        ChainWalk {
            state,
            resume,
            start_seq: last_seq + 1,
            last_seq,
            last_hash,
            expected_prev: last_hash.unwrap_or(state.anchor_hash),
        }
    }

    /// The rows to feed are those with a seq above this one, in seq order.
    pub fn after_seq(&self) -> i64 {
        self.last_seq
    }

    /// When resuming, the event whose stored hash must still be what was verified: pass its
    /// stored hash (`None` when it is gone) to [`ChainWalk::check_resume_point`].
    pub fn resume_point(&self) -> Option<i64> {
        self.resume.then_some(self.state.verified_seq)
    }

    /// `Some` (the run's outcome) when the resume point no longer holds.
    pub fn check_resume_point(&self, stored: Option<&[u8]>) -> Option<VerifyOutcome> {
        if !self.resume || stored == Some(&self.state.verified_hash[..]) {
            return None;
        }
        let reason = match stored {
            None => "this event was verified before but is now missing: it was deleted",
            Some(_) => "this event's stored hash changed since it was verified",
        };
        Some(self.outcome(
            false,
            self.state.verified_seq - 1,
            None,
            Some(ChainBreak {
                event_id: event_id(self.state.verified_seq),
                reason: reason.to_string(),
            }),
        ))
    }

    /// Checks the next row; `Some` (the run's outcome) at the first break.
    pub fn feed(&mut self, row: &EventRow) -> Option<VerifyOutcome> {
        let expected_seq = self.last_seq + 1;
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
            return Some(self.outcome(
                false,
                self.last_seq,
                self.last_hash,
                broken(format!("{missing}: deleted from the store")),
            ));
        }
        if row.prev_hash != self.expected_prev {
            return Some(
                self.outcome(
                    false,
                    self.last_seq,
                    self.last_hash,
                    broken(
                        "its prev_hash is not the hash of the event before it: events were \
                     reordered, replaced or deleted"
                            .to_string(),
                    ),
                ),
            );
        }
        let recomputed = row.canonical().hash(&self.expected_prev);
        if row.hash != recomputed {
            return Some(self.outcome(
                false,
                self.last_seq,
                self.last_hash,
                broken(
                    "its contents do not match its hash: a field was changed after it was stored"
                        .to_string(),
                ),
            ));
        }
        self.expected_prev = recomputed;
        self.last_seq = row.seq;
        self.last_hash = Some(recomputed);
        None
    }

    /// After the last row: the chain must end at the committed head.
    pub fn finish(self) -> VerifyOutcome {
        let (state, last_seq, last_hash) = (self.state, self.last_seq, self.last_hash);
        let head_matches = last_seq == state.head_seq
            && (last_seq == state.anchor_seq || last_hash == Some(state.head_hash));
        if head_matches {
            return self.outcome(true, last_seq, last_hash, None);
        }
        let (at, reason) = if last_seq < state.head_seq {
            (
                last_seq.max(state.anchor_seq + 1),
                format!(
                    "the newest event committed was {} but the chain ends at {}: the tail was cut",
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
        self.outcome(
            false,
            last_seq,
            last_hash,
            Some(ChainBreak {
                event_id: event_id(at),
                reason,
            }),
        )
    }

    fn outcome(
        &self,
        ok: bool,
        last_seq: i64,
        last_hash: Option<[u8; 32]>,
        broken: Option<ChainBreak>,
    ) -> VerifyOutcome {
        let report = VerifyReport {
            ok,
            verified_count: (last_seq - self.state.anchor_seq).max(0) as u64,
            newly_verified: (last_seq - self.start_seq + 1).max(0) as u64,
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
        VerifyOutcome {
            report,
            verified_point,
        }
    }
}
