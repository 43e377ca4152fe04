//! The single writer: one thread owns the write connection, takes batches from a queue and
//! commits whatever has queued up together (group commit), so concurrent requests share an
//! fsync instead of waiting for one each.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, TryRecvError};
use std::time::{Duration, Instant};

use rusqlite::{Connection, TransactionBehavior, params};
use tokio::sync::{broadcast, oneshot};
use witness_api::AuditEvent;

use super::partitions::{self, PartitionOptions, Sealing};
use super::row::{EventRow, insert_sql};
use super::summaries::Summaries;
use crate::clock::Clock;
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
        Ok(ChainHead {
            seq,
            hash: to_hash(&hash)?,
            // `received` grows with seq: the newest row has the latest.
            last_received: partitions::last_received(conn)?,
        })
    }
}

pub fn to_hash(bytes: &[u8]) -> StoreResult<[u8; 32]> {
    bytes.try_into().map_err(|_| {
        StoreError::Backend(format!("a stored hash has {} bytes, not 32", bytes.len()))
    })
}

/// While a full partition waits for a sealing step and no write is queued, the writer seals;
/// it looks for new writes at least this often.
const IDLE_SEAL_WAIT: Duration = Duration::from_millis(1);

/// While full partitions wait only for their text indexes, how often the writer looks at the
/// text indexer's progress when no write comes.
const TEXT_WAIT: Duration = Duration::from_millis(5);

/// Full partitions waiting for their text indexes beyond which the writer stops taking writes
/// until the text indexer catches up: queries match the text of unsealed partitions row by row,
/// so the backlog must stay small however fast events come.
const MOST_WAITING_FOR_TEXT: i64 = 2;

/// What the writer tells and asks the threads that work beside it.
pub struct Helpers {
    /// The text index file, where the text indexer records how far it got.
    pub texts: Connection,
    /// Told when a partition fills up (the indexer stops when this is dropped).
    pub wake: Sender<()>,
}

pub fn run(
    mut conn: Connection,
    mut head: ChainHead,
    options: PartitionOptions,
    clock: Clock,
    commands: Receiver<WriteCommand>,
    live: broadcast::Sender<Arc<Vec<AuditEvent>>>,
    helpers: Helpers,
) {
    let seal = |conn: &mut Connection| seal_step(conn, &helpers.texts);
    let mut sealing = if options.seal && partitions::sealing_pending(&conn).unwrap_or(true) {
        Sealing::Busy
    } else {
        Sealing::Idle
    };
    let mut last_look = Instant::now();
    loop {
        let wait = match sealing {
            Sealing::Busy => Some(IDLE_SEAL_WAIT),
            Sealing::WaitingForText => Some(TEXT_WAIT),
            Sealing::Idle => None,
        };
        let command = match wait {
            Some(wait) => match commands.recv_timeout(wait) {
                Ok(command) => command,
                Err(RecvTimeoutError::Timeout) => {
                    last_look = Instant::now();
                    sealing = seal(&mut conn);
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => break,
            },
            None => match commands.recv() {
                Ok(command) => command,
                Err(_) => break,
            },
        };
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
                let rotated = commit_group(&mut conn, &mut head, &options, &clock, group, &live);
                if rotated && options.seal {
                    sealing = Sealing::Busy;
                    let _ = helpers.wake.send(());
                }
                // The sealing this group's events will cost, paid now: sealing keeps pace
                // with ingestion however large the groups are.
                let per_partition = options.events_per_partition.max(1);
                let mut steps = (queued as i64 * partitions::steps_per_partition() + per_partition
                    - 1)
                    / per_partition;
                while sealing == Sealing::Busy && steps > 1 {
                    sealing = seal(&mut conn);
                    steps -= 1;
                }
                // Behind by more than one partition (a burst larger than the budget, or a
                // restart): catch up before taking more, so queries never scan many
                // unsealed partitions. What only the text indexer can do is waited for.
                loop {
                    let full = partitions::full_count(&conn).unwrap_or(0);
                    if sealing == Sealing::Idle || full <= 1 {
                        break;
                    }
                    if sealing == Sealing::WaitingForText {
                        if full <= MOST_WAITING_FOR_TEXT {
                            break;
                        }
                        std::thread::sleep(IDLE_SEAL_WAIT);
                    }
                    sealing = seal(&mut conn);
                }
                if let Some(job) = after {
                    job(&mut conn, &mut head);
                }
            }
        }
        // At least one step per command under a steady stream of writes, so that sealing
        // never waits for a pause that may never come; the text indexer's progress is looked
        // at every `TEXT_WAIT` likewise.
        if sealing == Sealing::Busy
            || (sealing == Sealing::WaitingForText && last_look.elapsed() >= TEXT_WAIT)
        {
            last_look = Instant::now();
            sealing = seal(&mut conn);
        }
    }
}

/// One sealing step. A failed step is logged and retried later (it changed nothing: each
/// step is one transaction).
fn seal_step(conn: &mut Connection, texts: &Connection) -> Sealing {
    match partitions::seal_step(conn, texts) {
        Ok(sealing) => sealing,
        Err(error) => {
            tracing::error!(%error, "sealing a partition failed; it stays queryable unsealed");
            Sealing::Idle
        }
    }
}

type Batch = (
    EventSource,
    Vec<NewEvent>,
    oneshot::Sender<StoreResult<AppendReceipt>>,
);

/// Commits a group; returns whether it opened a new partition (the previous one then waits to
/// be sealed).
fn commit_group(
    conn: &mut Connection,
    head: &mut ChainHead,
    options: &PartitionOptions,
    clock: &Clock,
    group: Vec<Batch>,
    live: &broadcast::Sender<Arc<Vec<AuditEvent>>>,
) -> bool {
    let before = *head;
    let want_live = live.receiver_count() > 0;
    let mut replies = Vec::with_capacity(group.len());
    let mut appended = Vec::new();
    let outcome = insert_group(
        conn,
        head,
        options,
        clock,
        group,
        &mut replies,
        want_live.then_some(&mut appended),
    );
    match outcome {
        Ok(rotated) => {
            for (reply, receipt) in replies {
                let _ = reply.send(Ok(receipt));
            }
            if want_live && !appended.is_empty() {
                let _ = live.send(Arc::new(appended));
            }
            rotated
        }
        Err(error) => {
            *head = before;
            tracing::error!(%error, "a group commit failed; its batches were not stored");
            for (reply, _) in replies {
                let _ = reply.send(Err(StoreError::Backend(error.to_string())));
            }
            false
        }
    }
}

fn insert_group(
    conn: &mut Connection,
    head: &mut ChainHead,
    options: &PartitionOptions,
    clock: &Clock,
    group: Vec<Batch>,
    replies: &mut Vec<(oneshot::Sender<StoreResult<AppendReceipt>>, AppendReceipt)>,
    mut appended: Option<&mut Vec<AuditEvent>>,
) -> StoreResult<bool> {
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
    let received = clock.now().timestamp_micros().max(head.last_received);
    let partition = partitions::hot_for(&tx, received, head.seq, options)?;
    let rotated = partition.first_seq == head.seq + 1 && partition.is_empty();
    let mut summaries = Summaries::default();
    let (mut min_ts, mut max_ts) = (i64::MAX, i64::MIN);
    {
        let mut insert_event = tx.prepare_cached(&insert_sql(&partition.table()))?;
        for (source, events, reply) in group {
            let first_seq = head.seq + 1;
            for event in events {
                let seq = head.seq + 1;
                let mut row = EventRow::from_new(seq, received, &source, event);
                let hash = row.canonical().hash(&head.hash);
                row.prev_hash = head.hash.to_vec();
                row.hash = hash.to_vec();
                row.insert(&mut insert_event)?;
                min_ts = min_ts.min(row.ts);
                max_ts = max_ts.max(row.ts);
                summaries.add(&row);
                head.seq = seq;
                head.hash = hash;
                if let Some(appended) = appended.as_deref_mut() {
                    appended.push(row.into_event()?);
                }
            }
            let receipt = AppendReceipt {
                first_seq,
                last_seq: head.seq,
            };
            replies.push((reply, receipt));
        }
        summaries.write(&tx, &partition)?;
        partitions::record_append(&tx, &partition, head.seq, min_ts, max_ts)?;
        tx.execute(
            "UPDATE chain_state SET head_seq = ?1, head_hash = ?2 WHERE id = 1",
            params![head.seq, head.hash.to_vec()],
        )?;
    }
    tx.commit()?;
    head.last_received = received;
    Ok(rotated)
}
