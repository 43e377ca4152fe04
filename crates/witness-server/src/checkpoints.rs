//! Signed checkpoints of the chain's head (docs/tamper-evidence.md): the head's sequence number
//! and hash, with an HMAC-SHA-256 under a key derived from the storage secret key, written to
//! every audit target. The key is never in the database, so someone who can rewrite the
//! database can recompute the chain but cannot sign a checkpoint that matches it; comparing
//! the store with the newest checkpoints names a cut tail or a rewritten history.

use std::path::Path;

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use witness_api::ChainBreak;

use crate::secret_key::SecretKey;
use crate::store::{ChainEnds, Store, StoreResult, event_id};

/// The action of a checkpoint record (stored as `witness.chain.checkpoint`).
pub const CHECKPOINT_ACTION: &str = "chain.checkpoint";

/// One signed statement: "at `made_at` the chain's newest event was `head_seq` with hash
/// `head_hash`". Carried as the `Details` of a checkpoint record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub head_seq: i64,
    /// Hex SHA-256.
    pub head_hash: String,
    pub made_at: DateTime<Utc>,
    /// Hex HMAC-SHA-256 of [`Checkpoint::signed_text`].
    pub mac: String,
}

impl Checkpoint {
    /// What the MAC covers: a version line, then each field on its own line.
    fn signed_text(head_seq: i64, head_hash: &str, made_at: DateTime<Utc>) -> String {
        format!(
            "witness-checkpoint-v1\n{head_seq}\n{head_hash}\n{}\n",
            made_at.timestamp_micros()
        )
    }
}

/// The checkpoint signing key: HMAC-SHA-256 of a fixed label under the storage secret key,
/// so it is never the secret key itself (which also encrypts backups).
pub struct CheckpointKey([u8; 32]);

impl CheckpointKey {
    pub fn derive(secret: &SecretKey) -> Self {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
            .expect("HMAC takes a key of any length");
        mac.update(b"witness checkpoint key v1");
        CheckpointKey(mac.finalize().into_bytes().into())
    }

    fn mac(&self) -> Hmac<Sha256> {
        <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("HMAC takes a key of any length")
    }

    pub fn sign(&self, head_seq: i64, head_hash: [u8; 32], made_at: DateTime<Utc>) -> Checkpoint {
        // Microsecond precision, as the MAC covers it.
        let made_at =
            DateTime::from_timestamp_micros(made_at.timestamp_micros()).unwrap_or(made_at);
        let head_hash = hex::encode(head_hash);
        let mut mac = self.mac();
        mac.update(Checkpoint::signed_text(head_seq, &head_hash, made_at).as_bytes());
        Checkpoint {
            head_seq,
            head_hash,
            made_at,
            mac: hex::encode(mac.finalize().into_bytes()),
        }
    }

    /// Whether the checkpoint was signed with this key (compared in constant time).
    pub fn verifies(&self, checkpoint: &Checkpoint) -> bool {
        let Ok(tag) = hex::decode(&checkpoint.mac) else {
            return false;
        };
        let mut mac = self.mac();
        mac.update(
            Checkpoint::signed_text(
                checkpoint.head_seq,
                &checkpoint.head_hash,
                checkpoint.made_at,
            )
            .as_bytes(),
        );
        mac.verify_slice(&tag).is_ok()
    }
}

/// A checkpoint as found, with where it was found (for messages).
#[derive(Debug, Clone)]
pub struct FoundCheckpoint {
    pub checkpoint: Checkpoint,
    pub found_in: String,
}

/// Reads the checkpoint records in the `witness-audit-*.ndjson` files of a `file:` target's
/// folder. Lines that are not checkpoint records are skipped; a folder that cannot be read
/// gives none (verify says how many it compared).
pub fn read_file_target(dir: &Path) -> Vec<FoundCheckpoint> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !(name.starts_with("witness-audit-") && name.ends_with(".ndjson")) {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(entry.path()) else {
            continue;
        };
        for (index, line) in text.lines().enumerate() {
            if !line.contains(CHECKPOINT_ACTION) {
                continue;
            }
            if let Some(checkpoint) = from_clef_line(line) {
                found.push(FoundCheckpoint {
                    checkpoint,
                    found_in: format!("{} line {}", entry.path().display(), index + 1),
                });
            }
        }
    }
    found
}

fn from_clef_line(line: &str) -> Option<Checkpoint> {
    let value: serde_json::Value = serde_json::from_str(line).ok()?;
    if value.get("Action")?.as_str()? != format!("witness.{CHECKPOINT_ACTION}") {
        return None;
    }
    serde_json::from_value(value.get("Details")?.clone()).ok()
}

/// The checkpoints in the store's own self-audit records (`source=witness`), newest first,
/// at most `limit`.
pub async fn read_store(store: &dyn Store, limit: usize) -> StoreResult<Vec<FoundCheckpoint>> {
    let filter = witness_api::EventFilter {
        action: vec![witness_api::ValueMatch {
            value: format!("witness.{CHECKPOINT_ACTION}"),
            negated: false,
            prefix: false,
        }],
        source: vec![witness_api::ValueMatch::exact(
            witness_api::SELF_AUDIT_SOURCE,
        )],
        ..Default::default()
    };
    let page = store
        .query(crate::store::EventQuery {
            filter,
            limit,
            cursor: None,
        })
        .await?;
    Ok(page
        .events
        .into_iter()
        .filter_map(|event| {
            let checkpoint =
                serde_json::from_value(serde_json::Value::Object(event.details)).ok()?;
            Some(FoundCheckpoint {
                checkpoint,
                found_in: format!("the store (event {})", event.id),
            })
        })
        .collect())
}

/// What comparing the store with its checkpoints found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckpointCheck {
    /// Checkpoints with a good signature that were compared.
    pub compared: u64,
    /// The newest of them.
    pub newest_seq: Option<i64>,
    /// The first problem: a bad signature, a cut tail or a rewritten event.
    pub problem: Option<ChainBreak>,
}

/// Compares the store's chain with `found`: each checkpoint must carry a good signature, the
/// store must reach at least its head, and the event at its head (unless retention has
/// deleted it) must still have its hash.
pub async fn check(
    store: &dyn Store,
    key: &CheckpointKey,
    mut found: Vec<FoundCheckpoint>,
) -> StoreResult<CheckpointCheck> {
    let ends: ChainEnds = store.chain_ends().await?;
    let mut report = CheckpointCheck::default();
    found.sort_by_key(|found| std::cmp::Reverse(found.checkpoint.head_seq));
    for FoundCheckpoint {
        checkpoint,
        found_in,
    } in found
    {
        let seq = checkpoint.head_seq;
        if !key.verifies(&checkpoint) {
            report.problem.get_or_insert(ChainBreak {
                event_id: event_id(seq.max(0)),
                reason: format!(
                    "a checkpoint in {found_in} does not carry a valid signature: it was not \
                     written by this server (or the secret key changed)"
                ),
            });
            continue;
        }
        report.compared += 1;
        report.newest_seq = Some(report.newest_seq.map_or(seq, |newest| newest.max(seq)));
        if report.problem.is_some() || seq <= ends.anchor_seq || seq == 0 {
            continue;
        }
        if seq > ends.head_seq {
            report.problem = Some(ChainBreak {
                event_id: event_id(seq),
                reason: format!(
                    "the tail was cut: a checkpoint signed at {} ({found_in}) says event {} \
                     existed, but the store ends at event {}",
                    checkpoint.made_at.to_rfc3339(),
                    event_id(seq),
                    event_id(ends.head_seq)
                ),
            });
            continue;
        }
        let stored = store.get(&event_id(seq)).await?;
        let rewritten = match &stored {
            Some(event) => event.hash != checkpoint.head_hash,
            None => true,
        };
        if rewritten {
            report.problem = Some(ChainBreak {
                event_id: event_id(seq),
                reason: format!(
                    "history was rewritten: a checkpoint signed at {} ({found_in}) says event \
                     {} had hash {}, but the store {}",
                    checkpoint.made_at.to_rfc3339(),
                    event_id(seq),
                    checkpoint.head_hash,
                    match stored {
                        Some(event) => format!("has {}", event.hash),
                        None => "has no such event".to_string(),
                    }
                ),
            });
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checkpoint_verifies_only_unchanged_and_under_its_key() {
        let key = CheckpointKey::derive(&SecretKey::from_bytes([7; 32]));
        let other = CheckpointKey::derive(&SecretKey::from_bytes([8; 32]));
        let checkpoint = key.sign(42, [1; 32], Utc::now());
        assert!(key.verifies(&checkpoint));
        assert!(!other.verifies(&checkpoint));
        for changed in [
            Checkpoint {
                head_seq: 41,
                ..checkpoint.clone()
            },
            Checkpoint {
                head_hash: hex::encode([2; 32]),
                ..checkpoint.clone()
            },
            Checkpoint {
                made_at: checkpoint.made_at + chrono::Duration::seconds(1),
                ..checkpoint.clone()
            },
            Checkpoint {
                mac: "00".repeat(32),
                ..checkpoint.clone()
            },
        ] {
            assert!(!key.verifies(&changed), "{changed:?}");
        }
        // It survives the JSON it travels in.
        let text = serde_json::to_string(&checkpoint).expect("json");
        let back: Checkpoint = serde_json::from_str(&text).expect("parse");
        assert!(key.verifies(&back));
    }
}
