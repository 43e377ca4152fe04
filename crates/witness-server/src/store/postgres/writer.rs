//! The write path: each server's writer task commits whatever batches have queued up in one
//! transaction (group commit). The chain is global: a transaction locks the chain's head row,
//! so the batches of every server sharing the database are chained one after another, with no
//! gaps, and a 201 still means committed.
//!
//! Group commits are pipelined: the writer chains a group onto the head it *expects* (the end of
//! the group it dispatched before), and the group's transaction `COPY`s its rows on a
//! connection of its own before it waits for the chain's row lock. So while one group holds the
//! chain and commits, the next ones are already writing their rows and index entries — the
//! database's work for one server's ingestion runs on several backends, not one. When the
//! lock is granted, the transaction checks that the head is the one it chained onto; if another
//! server (or a failed group) moved it elsewhere, it rolls back and chains again under the lock
//! (the plain, unpipelined commit), and the writer waits for its groups to settle before it
//! predicts again. Rolled-back rows were never visible: readers only see committed rows, and
//! `events` has no unique index for them to collide in.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::pin::pin;
use std::sync::{Arc, Mutex};

use deadpool_postgres::Transaction;
use deadpool_postgres::{Object, Pool};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type};

use super::schema::{self, day_of};
use super::{pg_error, to_hash};
use crate::clock::Clock;
use crate::model::{EventSource, NewEvent};
use crate::store::event_row::EventRow;
use crate::store::{AppendReceipt, StoreError, StoreResult};

/// A group commit stops taking more batches once it holds this many events.
const GROUP_EVENT_LIMIT: usize = 50_000;

/// How many group commits one server has in flight at once (each on its own connection).
/// Measured in BENCHMARKS.md ("PostgreSQL: the pipelined writer").
const PIPELINE_DEPTH: usize = 3;

/// Longer words are cut to their first `LONGEST_INDEXED_WORD` bytes (at a character's end) in
/// the text index: PostgreSQL refuses lexemes over 2047 bytes. Every word of a query is
/// shorter than a cut word (at most `MAX_TEXT_CHARS` characters of at most 4 bytes, lowercased
/// to at most 4 bytes each), so a cut word is never taken for a whole word of a query, and
/// `word*` finds it as it finds the whole word.
const LONGEST_INDEXED_WORD: usize = 2040;
const _: () = assert!(LONGEST_INDEXED_WORD - 3 > 4 * witness_api::MAX_TEXT_CHARS);

pub struct Batch {
    pub source: EventSource,
    pub events: Vec<NewEvent>,
    pub reply: oneshot::Sender<StoreResult<AppendReceipt>>,
}

/// The COPY that stores a group (also what witness-bench's raw baseline sends).
pub const COPY_SQL: &str = "COPY events (seq, ts, received, action, actor_type, actor_id, \
    actor_name, actor_email, target_type, target_id, target_name, result, status, client_ip, \
    org_id, org_name, ws_id, ws_name, level, message, details, properties, prev_hash, hash, \
    source, words) FROM STDIN BINARY";

pub const COPY_TYPES: [Type; 26] = [
    Type::INT8,
    Type::INT8,
    Type::INT8,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::BYTEA,
    Type::BYTEA,
    Type::TEXT,
    Type::TEXT_ARRAY,
];

/// One event row's values for [`COPY_SQL`], in [`COPY_TYPES`]' order (`received` apart, so
/// that a baseline can stamp rows made earlier).
pub fn copy_values<'a>(
    row: &'a EventRow,
    received: &'a i64,
    words: &'a Vec<String>,
) -> [&'a (dyn ToSql + Sync); 26] {
    [
        &row.seq,
        &row.ts,
        received,
        &row.action,
        &row.actor_type,
        &row.actor_id,
        &row.actor_name,
        &row.actor_email,
        &row.target_type,
        &row.target_id,
        &row.target_name,
        &row.result,
        &row.status,
        &row.client_ip,
        &row.org_id,
        &row.org_name,
        &row.ws_id,
        &row.ws_name,
        &row.level,
        &row.message,
        &row.details,
        &row.properties,
        &row.prev_hash,
        &row.hash,
        &row.source,
        words,
    ]
}

/// Where the chain ends: its last event and the latest arrival time stamped on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct ChainHead {
    seq: i64,
    hash: [u8; 32],
    last_received: i64,
}

/// The days whose partitions this server knows exist (shared by its in-flight groups).
type KnownDays = Arc<Mutex<BTreeSet<i64>>>;

/// Queued batches committed together: their rows, made once and chained onto a head as many
/// times as it takes.
struct Group {
    rows: Vec<EventRow>,
    words: Vec<Vec<String>>,
    /// Per batch: how many of `rows` are its events, and where its answer goes.
    batches: Vec<(usize, oneshot::Sender<StoreResult<AppendReceipt>>)>,
    /// Events per (minute of event time, action), for the histogram's summary tables.
    minutes: HashMap<(i64, String), i64>,
    min_ts: i64,
    max_ts: i64,
}

impl Group {
    fn new(queued: Vec<Batch>) -> Group {
        let mut group = Group {
            rows: Vec::new(),
            words: Vec::new(),
            batches: Vec::with_capacity(queued.len()),
            minutes: HashMap::new(),
            min_ts: i64::MAX,
            max_ts: i64::MIN,
        };
        for batch in queued {
            group.batches.push((batch.events.len(), batch.reply));
            for event in batch.events {
                let row = EventRow::from_new(0, 0, &batch.source, event);
                group.min_ts = group.min_ts.min(row.ts);
                group.max_ts = group.max_ts.max(row.ts);
                *group
                    .minutes
                    .entry((row.ts.div_euclid(60_000_000), row.action.clone()))
                    .or_default() += 1;
                let mut words = witness_api::index_words(&row.search_text());
                for word in &mut words {
                    if word.len() > LONGEST_INDEXED_WORD {
                        let mut end = LONGEST_INDEXED_WORD;
                        while !word.is_char_boundary(end) {
                            end -= 1;
                        }
                        word.truncate(end);
                    }
                }
                // Cut words may now repeat.
                words.sort_unstable();
                words.dedup();
                group.words.push(words);
                group.rows.push(row);
            }
        }
        group
    }

    /// Numbers and hashes the rows as the events after `head`, arrived at `now` (or at the
    /// head's arrival time, if that is later: arrival times never go backwards, even when this
    /// server's clock is behind another's). Returns the head after the group.
    fn chain_onto(&mut self, head: &ChainHead, now: i64) -> ChainHead {
        let received = now.max(head.last_received);
        let (mut seq, mut hash) = (head.seq, head.hash);
        for row in &mut self.rows {
            seq += 1;
            row.seq = seq;
            row.received = received;
            let next = row.canonical().hash(&hash);
            row.prev_hash = hash.to_vec();
            row.hash = next.to_vec();
            hash = next;
        }
        ChainHead {
            seq,
            hash,
            last_received: received,
        }
    }

    fn first_seq(&self) -> i64 {
        self.rows.first().map_or(0, |row| row.seq)
    }

    fn received(&self) -> i64 {
        self.rows.first().map_or(0, |row| row.received)
    }

    /// Sends each batch its seqs, or everyone the error.
    fn answer(self, outcome: &StoreResult<()>) {
        let mut next_seq = self.first_seq();
        for (count, reply) in self.batches {
            let answer = match outcome {
                Ok(()) => Ok(AppendReceipt {
                    first_seq: next_seq,
                    last_seq: next_seq + count as i64 - 1,
                }),
                Err(error) => Err(StoreError::Backend(error.to_string())),
            };
            next_seq += count as i64;
            let _ = reply.send(answer);
        }
    }
}

/// The order of one server's groups in flight. Each group locks `events`, then COPYs, then
/// locks the chain; it takes both locks after the group dispatched before it. The chain's lock
/// in that order, or a group whose COPY finished first would take the chain before the group it
/// is chained onto, and both would have to chain again. The lock on `events` in that order,
/// or a group could wait (here, where PostgreSQL cannot see it) for its predecessor while that
/// one queues for `events` behind a retention dropping a partition, which waits for this group:
/// a deadlock no one would detect.
struct Order {
    after: Option<Predecessor>,
    /// Sent (or dropped) once this group holds `events`.
    holds_events: oneshot::Sender<()>,
    /// Dropped once this group has committed onto the head it expected, or found that it
    /// cannot (it then chains again under the lock, in no particular order).
    settled: oneshot::Sender<()>,
}

struct Predecessor {
    holds_events: oneshot::Receiver<()>,
    settled: oneshot::Receiver<()>,
}

/// How a group's commit went, for the writer's next prediction.
enum Settled {
    /// Committed onto the head the writer expected.
    AsPredicted,
    /// Committed elsewhere in the chain, or not at all: the writer's prediction is stale.
    Elsewhere,
}

pub async fn run(pool: Pool, clock: Clock, mut batches: mpsc::UnboundedReceiver<Batch>) {
    let known_days: KnownDays = Arc::default();
    let mut predicted: Option<ChainHead> = None;
    let mut in_flight: VecDeque<JoinHandle<Settled>> = VecDeque::new();
    // What the next group waits for from the one dispatched before it.
    let mut predecessor: Option<Predecessor> = None;
    loop {
        let first = tokio::select! {
            biased;
            settled = async { in_flight.front_mut().expect("checked non-empty").await },
                if !in_flight.is_empty() => {
                in_flight.pop_front();
                if !matches!(settled, Ok(Settled::AsPredicted)) {
                    predicted = None;
                }
                continue;
            }
            batch = batches.recv(), if in_flight.len() < PIPELINE_DEPTH => match batch {
                Some(batch) => batch,
                None => break,
            },
        };
        let mut queued = first.events.len();
        let mut waiting = vec![first];
        while queued < GROUP_EVENT_LIMIT {
            match batches.try_recv() {
                Ok(batch) => {
                    queued += batch.events.len();
                    waiting.push(batch);
                }
                Err(_) => break,
            }
        }
        let mut group = Group::new(waiting);
        match predicted {
            Some(head) => {
                let now = clock.now().timestamp_micros();
                let end = group.chain_onto(&head, now);
                predicted = Some(end);
                let (pool, clock, known_days) = (pool.clone(), clock.clone(), known_days.clone());
                let (holds_events, holds_events_rx) = oneshot::channel();
                let (settled, settled_rx) = oneshot::channel();
                let order = Order {
                    after: predecessor.replace(Predecessor {
                        holds_events: holds_events_rx,
                        settled: settled_rx,
                    }),
                    holds_events,
                    settled,
                };
                in_flight.push_back(tokio::spawn(async move {
                    commit_predicted(&pool, &clock, &known_days, group, head, order).await
                }));
            }
            None => {
                // Nothing to predict from: let every group in flight settle, then commit this
                // one under the lock, which tells where the chain ends.
                while let Some(task) = in_flight.pop_front() {
                    let _ = task.await;
                }
                predecessor = None;
                let outcome = commit_locked(&pool, &clock, &known_days, &mut group).await;
                predicted = outcome.as_ref().ok().copied();
                group.answer(&outcome.map(|_| ()));
            }
        }
    }
    for task in in_flight {
        let _ = task.await;
    }
}

/// Commits a group chained onto `expected`, writing its rows before it waits for the chain.
async fn commit_predicted(
    pool: &Pool,
    clock: &Clock,
    known_days: &KnownDays,
    mut group: Group,
    expected: ChainHead,
    order: Order,
) -> Settled {
    let Order {
        after,
        holds_events,
        settled: done,
    } = order;
    let attempt = async {
        let mut client = connect(pool).await?;
        ensure_days(&mut client, known_days, &[day_of(group.received())]).await?;
        // An Err from a predecessor's receiver only says its sender is gone: it got that far
        // or gave up, either way it waits for nothing of ours.
        let settled = match after {
            Some(Predecessor {
                holds_events,
                settled,
            }) => {
                let _ = holds_events.await;
                Some(settled)
            }
            None => None,
        };
        let tx = client.transaction().await.map_err(pg_error)?;
        lock_events(&tx).await?;
        let _ = holds_events.send(());
        copy_rows(&tx, &group).await?;
        if let Some(settled) = settled {
            let _ = settled.await;
        }
        if lock_head(&tx).await? != expected {
            tx.rollback().await.map_err(pg_error)?;
            return Ok(false);
        }
        finish(tx, &group).await?;
        Ok(true)
    };
    let outcome = attempt.await;
    drop(done);
    match outcome {
        Ok(true) => {
            group.answer(&Ok(()));
            Settled::AsPredicted
        }
        Ok(false) => {
            tracing::debug!("the chain moved elsewhere; this group chains again under the lock");
            let outcome = commit_locked(pool, clock, known_days, &mut group).await;
            group.answer(&outcome.map(|_| ()));
            Settled::Elsewhere
        }
        Err(error) => {
            tracing::error!(%error, "a group commit failed; its batches were not stored");
            group.answer(&Err(error));
            Settled::Elsewhere
        }
    }
}

/// Commits a group by locking the chain first and chaining onto whatever head it finds.
async fn commit_locked(
    pool: &Pool,
    clock: &Clock,
    known_days: &KnownDays,
    group: &mut Group,
) -> StoreResult<ChainHead> {
    let outcome = async {
        let mut client = connect(pool).await?;
        // Today's and tomorrow's partitions exist before the chain is locked (making one locks
        // `events`); the append itself makes one only if arrival times ran past them.
        let today = day_of(clock.now().timestamp_micros());
        ensure_days(&mut client, known_days, &[today, today + 1]).await?;
        loop {
            let tx = client.transaction().await.map_err(pg_error)?;
            // `events` before the chain, in every transaction that takes both (see
            // `events::delete_received_before`).
            lock_events(&tx).await?;
            let head = lock_head(&tx).await?;
            let end = group.chain_onto(&head, clock.now().timestamp_micros());
            let day = day_of(group.received());
            if !known(known_days, day) {
                // Arrival times ran past the partitions made ahead (a clock more than a day
                // ahead): make the day's partition outside this transaction, which holds the
                // chain, and chain again.
                tx.rollback().await.map_err(pg_error)?;
                ensure_days(&mut client, known_days, &[day]).await?;
                continue;
            }
            copy_rows(&tx, group).await?;
            finish(tx, group).await?;
            return Ok(end);
        }
    }
    .await;
    if let Err(error) = &outcome {
        tracing::error!(%error, "a group commit failed; its batches were not stored");
    }
    outcome
}

async fn connect(pool: &Pool) -> StoreResult<Object> {
    pool.get().await.map_err(super::pool_error)
}

fn known(known_days: &KnownDays, day: i64) -> bool {
    known_days
        .lock()
        .map(|days| days.contains(&day))
        .unwrap_or(false)
}

fn remember(known_days: &KnownDays, day: i64) {
    if let Ok(mut days) = known_days.lock() {
        days.insert(day);
    }
}

/// Makes the partitions of `days` this server does not know of yet, in a transaction of
/// their own.
async fn ensure_days(client: &mut Object, known_days: &KnownDays, days: &[i64]) -> StoreResult<()> {
    let missing: Vec<i64> = days
        .iter()
        .copied()
        .filter(|&day| !known(known_days, day))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let tx = client.transaction().await.map_err(pg_error)?;
    schema::ensure_partitions(&tx, &missing).await?;
    tx.commit().await.map_err(pg_error)?;
    for day in missing {
        remember(known_days, day);
    }
    Ok(())
}

/// The lock a writer holds on `events` (taken before the chain's, see [`Order`]): it lets
/// other writers in and keeps a partition from being dropped or made until this commits.
async fn lock_events(tx: &Transaction<'_>) -> StoreResult<()> {
    tx.batch_execute("LOCK TABLE events IN ROW EXCLUSIVE MODE")
        .await
        .map_err(pg_error)
}

/// Waits for the chain's row lock (held until this transaction ends) and reads the head.
async fn lock_head(tx: &Transaction<'_>) -> StoreResult<ChainHead> {
    let row = tx
        .query_one(
            "SELECT head_seq, head_hash, last_received FROM chain_state WHERE id = 1 FOR UPDATE",
            &[],
        )
        .await
        .map_err(pg_error)?;
    Ok(ChainHead {
        seq: row.get(0),
        hash: to_hash(row.get(1))?,
        last_received: row.get(2),
    })
}

async fn copy_rows(tx: &Transaction<'_>, group: &Group) -> StoreResult<()> {
    let sink = tx.copy_in(COPY_SQL).await.map_err(pg_error)?;
    let mut writer = pin!(BinaryCopyInWriter::new(sink, &COPY_TYPES));
    for (row, words) in group.rows.iter().zip(&group.words) {
        let values = copy_values(row, &row.received, words);
        writer.as_mut().write(&values).await.map_err(pg_error)?;
    }
    writer.finish().await.map_err(pg_error)?;
    Ok(())
}

/// With the chain locked and the group's rows written: the summaries, the partition's bounds,
/// the new head, and the commit.
async fn finish(tx: Transaction<'_>, group: &Group) -> StoreResult<()> {
    let (Some(first), Some(last)) = (group.rows.first(), group.rows.last()) else {
        return Ok(());
    };
    let day = day_of(first.received);
    let (mut minute_list, mut action_list, mut counts) = (Vec::new(), Vec::new(), Vec::new());
    for ((minute, action), n) in &group.minutes {
        minute_list.push(*minute);
        action_list.push(action.as_str());
        counts.push(*n);
    }
    tx.execute(
        "INSERT INTO event_minutes (minute, action, day, n) \
         SELECT m, a, $4, n FROM unnest($1::bigint[], $2::text[], $3::bigint[]) AS u(m, a, n) \
         ON CONFLICT (minute, action, day) DO UPDATE SET n = event_minutes.n + excluded.n",
        &[&minute_list, &action_list, &counts, &day],
    )
    .await
    .map_err(pg_error)?;
    tx.execute(
        "INSERT INTO event_minute_totals (minute, day, n) \
         SELECT m, $3, sum(n)::bigint FROM unnest($1::bigint[], $2::bigint[]) AS u(m, n) \
         GROUP BY m \
         ON CONFLICT (minute, day) DO UPDATE SET n = event_minute_totals.n + excluded.n",
        &[&minute_list, &counts, &day],
    )
    .await
    .map_err(pg_error)?;
    tx.execute(
        "INSERT INTO partition_bounds (day, min_ts, max_ts, first_seq, last_seq) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (day) DO UPDATE SET \
         min_ts = least(partition_bounds.min_ts, excluded.min_ts), \
         max_ts = greatest(partition_bounds.max_ts, excluded.max_ts), \
         last_seq = greatest(partition_bounds.last_seq, excluded.last_seq)",
        &[&day, &group.min_ts, &group.max_ts, &first.seq, &last.seq],
    )
    .await
    .map_err(pg_error)?;
    tx.execute(
        "UPDATE chain_state SET head_seq = $1, head_hash = $2, last_received = $3 WHERE id = 1",
        &[&last.seq, &last.hash, &last.received],
    )
    .await
    .map_err(pg_error)?;
    tx.commit().await.map_err(pg_error)?;
    Ok(())
}
