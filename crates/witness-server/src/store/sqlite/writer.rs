//! The single writer: one thread owns the write connection, takes batches from a queue and
//! commits whatever has queued up together (group commit), so concurrent requests share an
//! fsync instead of waiting for one each.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, TryRecvError};

use chrono::Utc;
use rusqlite::{Connection, TransactionBehavior, params};
use tokio::sync::{broadcast, oneshot};
use witness_api::AuditEvent;

use super::row::{EventRow, INSERT_SQL};
use super::summaries::Summaries;
use crate::model::{EventSource, NewEvent};
use crate::store::{AppendReceipt, StoreError, StoreResult};

/// A group commit stops taking more batches once it holds this many events.
const GROUP_EVENT_LIMIT: usize = 50_000;

pub type WriteJob = Box<dyn FnOnce(&mut Connection, &mut ChainHead) + Send>;

pub enum WriteCommand {
    Append {
        source: EventSource,
        events: Vec<NewEvent>,
        reply: oneshot::Sender<StoreResult<AppendReceipt>>,
    },
    /// Any other write, run alone between groups (API keys, retention).
    Run(WriteJob),
}

/// The newest event in the chain as the writer knows it.
#[derive(Debug, Clone, Copy)]
pub struct ChainHead {
    pub seq: i64,
    pub hash: [u8; 32],
    /// Arrival times never go backwards, even if the clock does.
    pub last_received: i64,
}

impl ChainHead {
    pub fn load(conn: &Connection) -> StoreResult<Self> {
        let (seq, hash): (i64, Vec<u8>) = conn.query_row(
            "SELECT head_seq, head_hash FROM chain_state WHERE id = 1",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )?;
        // `received` grows with seq: the newest row has the latest.
        let last_received: i64 = conn.query_row(
            "SELECT IFNULL((SELECT received FROM events ORDER BY seq DESC LIMIT 1), 0)",
            [],
            |row| row.get(0),
        )?;
        Ok(ChainHead {
            seq,
            hash: to_hash(&hash)?,
            last_received,
        })
    }
}

pub fn to_hash(bytes: &[u8]) -> StoreResult<[u8; 32]> {
    bytes.try_into().map_err(|_| {
        StoreError::Backend(format!("a stored hash has {} bytes, not 32", bytes.len()))
    })
}

pub fn run(
    mut conn: Connection,
    mut head: ChainHead,
    commands: Receiver<WriteCommand>,
    live: broadcast::Sender<Arc<Vec<AuditEvent>>>,
) {
    while let Ok(command) = commands.recv() {
        match command {
            WriteCommand::Run(job) => job(&mut conn, &mut head),
            WriteCommand::Append {
                source,
                events,
                reply,
            } => {
                let mut queued = events.len();
                let mut group = vec![(source, events, reply)];
                let mut after = None;
                while queued < GROUP_EVENT_LIMIT {
                    match commands.try_recv() {
                        Ok(WriteCommand::Append {
                            source,
                            events,
                            reply,
                        }) => {
                            queued += events.len();
                            group.push((source, events, reply));
                        }
                        Ok(WriteCommand::Run(job)) => {
                            after = Some(job);
                            break;
                        }
                        Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
                    }
                }
                commit_group(&mut conn, &mut head, group, &live);
                if let Some(job) = after {
                    job(&mut conn, &mut head);
                }
            }
        }
    }
}

type Batch = (
    EventSource,
    Vec<NewEvent>,
    oneshot::Sender<StoreResult<AppendReceipt>>,
);

fn commit_group(
    conn: &mut Connection,
    head: &mut ChainHead,
    group: Vec<Batch>,
    live: &broadcast::Sender<Arc<Vec<AuditEvent>>>,
) {
    let before = *head;
    let want_live = live.receiver_count() > 0;
    let mut replies = Vec::with_capacity(group.len());
    let mut appended = Vec::new();
    let outcome = insert_group(
        conn,
        head,
        group,
        &mut replies,
        want_live.then_some(&mut appended),
    );
    match outcome {
        Ok(()) => {
            for (reply, receipt) in replies {
                let _ = reply.send(Ok(receipt));
            }
            if want_live && !appended.is_empty() {
                let _ = live.send(Arc::new(appended));
            }
        }
        Err(error) => {
            *head = before;
            tracing::error!(%error, "a group commit failed; its batches were not stored");
            for (reply, _) in replies {
                let _ = reply.send(Err(StoreError::Backend(error.to_string())));
            }
        }
    }
}

fn insert_group(
    conn: &mut Connection,
    head: &mut ChainHead,
    group: Vec<Batch>,
    replies: &mut Vec<(oneshot::Sender<StoreResult<AppendReceipt>>, AppendReceipt)>,
    mut appended: Option<&mut Vec<AuditEvent>>,
) -> StoreResult<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // Another process (the `witness` command line auditing itself into this store) may have
    // appended since this writer last did: continue from the head as stored, never from a
    // stale copy, or the chain would fork.
    let (stored_seq, stored_hash): (i64, Vec<u8>) = tx.query_row(
        "SELECT head_seq, head_hash FROM chain_state WHERE id = 1",
        [],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )?;
    if stored_seq != head.seq || stored_hash != head.hash {
        *head = ChainHead::load(&tx)?;
    }
    let received = Utc::now().timestamp_micros().max(head.last_received);
    let mut summaries = Summaries::default();
    {
        let mut insert_event = tx.prepare_cached(INSERT_SQL)?;
        let mut insert_text =
            tx.prepare_cached("INSERT INTO events_fts (rowid, body) VALUES (?1, ?2)")?;
        for (source, events, reply) in group {
            let first_seq = head.seq + 1;
            for event in events {
                let seq = head.seq + 1;
                let mut row = EventRow::from_new(seq, received, &source, event);
                let hash = row.canonical().hash(&head.hash);
                row.prev_hash = head.hash.to_vec();
                row.hash = hash.to_vec();
                row.insert(&mut insert_event)?;
                insert_text.execute(params![row.seq, row.search_text()])?;
                summaries.add(&row);
                head.seq = seq;
                head.hash = hash;
                if let Some(appended) = appended.as_deref_mut() {
                    appended.push(row.into_event());
                }
            }
            let receipt = AppendReceipt {
                first_seq,
                last_seq: head.seq,
            };
            replies.push((reply, receipt));
        }
        summaries.write(&tx)?;
        tx.execute(
            "UPDATE chain_state SET head_seq = ?1, head_hash = ?2 WHERE id = 1",
            params![head.seq, head.hash.to_vec()],
        )?;
    }
    tx.commit()?;
    head.last_received = received;
    Ok(())
}
