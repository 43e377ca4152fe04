//! The write path: each server's writer task commits whatever batches have queued up in one
//! transaction (group commit). The chain is global: a transaction locks the chain's head row,
//! so the batches of every server sharing the database are chained one after another, with no
//! gaps, and a 201 still means committed.

use std::collections::{BTreeSet, HashMap};
use std::pin::pin;

use deadpool_postgres::Pool;
use tokio::sync::{mpsc, oneshot};
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

/// Longer words are left out of the text index (PostgreSQL refuses lexemes over 2 KB).
const LONGEST_INDEXED_WORD: usize = 2000;

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

pub async fn run(pool: Pool, clock: Clock, mut batches: mpsc::UnboundedReceiver<Batch>) {
    let mut known_days = BTreeSet::new();
    while let Some(first) = batches.recv().await {
        let mut queued = first.events.len();
        let mut group = vec![first];
        while queued < GROUP_EVENT_LIMIT {
            match batches.try_recv() {
                Ok(batch) => {
                    queued += batch.events.len();
                    group.push(batch);
                }
                Err(_) => break,
            }
        }
        let mut replies = Vec::with_capacity(group.len());
        let mut work = Vec::with_capacity(group.len());
        for batch in group {
            replies.push(batch.reply);
            work.push((batch.source, batch.events));
        }
        match commit_group(&pool, &clock, &mut known_days, work).await {
            Ok(receipts) => {
                for (reply, receipt) in replies.into_iter().zip(receipts) {
                    let _ = reply.send(Ok(receipt));
                }
            }
            Err(error) => {
                tracing::error!(%error, "a group commit failed; its batches were not stored");
                for reply in replies {
                    let _ = reply.send(Err(StoreError::Backend(error.to_string())));
                }
            }
        }
    }
}

async fn commit_group(
    pool: &Pool,
    clock: &Clock,
    known_days: &mut BTreeSet<i64>,
    group: Vec<(EventSource, Vec<NewEvent>)>,
) -> StoreResult<Vec<AppendReceipt>> {
    let mut client = pool.get().await.map_err(super::pool_error)?;
    // Today's and tomorrow's partitions exist before the chain is locked (making one locks
    // `events`); the append itself makes one only if arrival times ran past them.
    let today = day_of(clock.now().timestamp_micros());
    if !known_days.contains(&today) || !known_days.contains(&(today + 1)) {
        let tx = client.transaction().await.map_err(pg_error)?;
        schema::ensure_partitions(&tx, &[today, today + 1]).await?;
        tx.commit().await.map_err(pg_error)?;
        known_days.extend([today, today + 1]);
    }

    let tx = client.transaction().await.map_err(pg_error)?;
    let head = tx
        .query_one(
            "SELECT head_seq, head_hash, last_received FROM chain_state WHERE id = 1 FOR UPDATE",
            &[],
        )
        .await
        .map_err(pg_error)?;
    let mut seq: i64 = head.get(0);
    let mut hash = to_hash(head.get(1))?;
    let last_received: i64 = head.get(2);
    // Arrival times never go backwards, even when this server's clock is behind another's.
    let received = clock.now().timestamp_micros().max(last_received);
    let day = day_of(received);
    if !known_days.contains(&day) {
        schema::ensure_partitions(&tx, &[day]).await?;
        known_days.insert(day);
    }

    let mut receipts = Vec::with_capacity(group.len());
    let group_first_seq = seq + 1;
    let (mut min_ts, mut max_ts) = (i64::MAX, i64::MIN);
    let mut minutes: HashMap<(i64, String), i64> = HashMap::new();
    let sink = tx.copy_in(COPY_SQL).await.map_err(pg_error)?;
    let mut writer = pin!(BinaryCopyInWriter::new(sink, &COPY_TYPES));
    for (source, events) in group {
        let first_seq = seq + 1;
        for event in events {
            seq += 1;
            let mut row = EventRow::from_new(seq, received, &source, event);
            let next = row.canonical().hash(&hash);
            row.prev_hash = hash.to_vec();
            row.hash = next.to_vec();
            hash = next;
            min_ts = min_ts.min(row.ts);
            max_ts = max_ts.max(row.ts);
            *minutes
                .entry((row.ts.div_euclid(60_000_000), row.action.clone()))
                .or_default() += 1;
            let mut words = witness_api::index_words(&row.search_text());
            words.retain(|word| word.len() <= LONGEST_INDEXED_WORD);
            let values = copy_values(&row, &row.received, &words);
            writer.as_mut().write(&values).await.map_err(pg_error)?;
        }
        receipts.push(AppendReceipt {
            first_seq,
            last_seq: seq,
        });
    }
    writer.finish().await.map_err(pg_error)?;

    let (mut minute_list, mut action_list, mut counts) = (Vec::new(), Vec::new(), Vec::new());
    for ((minute, action), n) in minutes {
        minute_list.push(minute);
        action_list.push(action);
        counts.push(n);
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
        &[&day, &min_ts, &max_ts, &group_first_seq, &seq],
    )
    .await
    .map_err(pg_error)?;
    tx.execute(
        "UPDATE chain_state SET head_seq = $1, head_hash = $2, last_received = $3 WHERE id = 1",
        &[&seq, &hash.to_vec(), &received],
    )
    .await
    .map_err(pg_error)?;
    tx.commit().await.map_err(pg_error)?;
    Ok(receipts)
}
