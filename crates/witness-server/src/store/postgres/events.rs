//! Reading events: pages, one event, histograms, verify, retention and the live tail's poll.

use std::collections::HashMap;

use deadpool_postgres::GenericClient;
use futures_util::{TryStreamExt, pin_mut};
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;
use witness_api::{EventFilter, EventPage, Histogram};

use super::filter::{self, Condition};
use super::schema::{self, day_of};
use super::{pg_error, to_hash};
use crate::store::buckets::Buckets;
use crate::store::chain_walk::{ChainState, ChainWalk, VerifyOutcome};
use crate::store::event_row::{COLUMNS, EventRow, micros};
use crate::store::{EventQuery, StoreResult};

pub fn read_row(row: &Row) -> Result<EventRow, tokio_postgres::Error> {
    Ok(EventRow {
        seq: row.try_get(0)?,
        ts: row.try_get(1)?,
        received: row.try_get(2)?,
        action: row.try_get(3)?,
        actor_type: row.try_get(4)?,
        actor_id: row.try_get(5)?,
        actor_name: row.try_get(6)?,
        actor_email: row.try_get(7)?,
        target_type: row.try_get(8)?,
        target_id: row.try_get(9)?,
        target_name: row.try_get(10)?,
        result: row.try_get(11)?,
        status: row.try_get(12)?,
        client_ip: row.try_get(13)?,
        org_id: row.try_get(14)?,
        org_name: row.try_get(15)?,
        ws_id: row.try_get(16)?,
        ws_name: row.try_get(17)?,
        level: row.try_get(18)?,
        message: row.try_get(19)?,
        details: row.try_get(20)?,
        properties: row.try_get(21)?,
        prev_hash: row.try_get(22)?,
        hash: row.try_get(23)?,
        source: row.try_get(24)?,
    })
}

fn read_rows(rows: &[Row]) -> StoreResult<Vec<EventRow>> {
    rows.iter()
        .map(|row| read_row(row).map_err(pg_error))
        .collect()
}

/// A page of events, newest first; the first page fixes the snapshot (`max_seq`) that the
/// following pages keep, as on SQLite.
pub async fn page(client: &impl GenericClient, query: &EventQuery) -> StoreResult<EventPage> {
    let max_seq: i64 = match query.cursor {
        Some(cursor) => cursor.max_seq,
        None => client
            .query_one("SELECT head_seq FROM chain_state WHERE id = 1", &[])
            .await
            .map_err(pg_error)?
            .get(0),
    };
    let filter = &query.filter;
    let wanted = query.limit + 1;
    let after = query.cursor.map(|cursor| (cursor.ts_micros, cursor.seq));
    let (from, to) = (filter.from.map(micros), filter.to.map(micros));
    let candidates: Vec<PartitionBounds> = partition_bounds(client)
        .await?
        .into_iter()
        .filter(|p| p.first_seq <= max_seq)
        .filter(|p| from.is_none_or(|from| p.max_ts >= from))
        .filter(|p| to.is_none_or(|to| p.min_ts < to))
        .filter(|p| after.is_none_or(|(ts, _)| p.min_ts <= ts))
        .collect();
    let mut rows: Vec<EventRow> = Vec::new();
    // Newest first by the newest event each may hold.
    for partition in &candidates {
        if rows.len() >= wanted
            && let Some(last) = rows.last()
            && partition.max_ts < last.ts
        {
            // This and every partition after it hold only rows older than the page's last.
            break;
        }
        rows.extend(partition_page(client, partition, filter, max_seq, after, wanted).await?);
        rows.sort_unstable_by_key(|row| std::cmp::Reverse((row.ts, row.seq)));
        rows.truncate(wanted);
    }
    crate::store::page_of(rows, query.limit, max_seq)
}

pub async fn get(client: &impl GenericClient, seq: i64) -> StoreResult<Option<EventRow>> {
    let Some(day) = client
        .query_opt(
            "SELECT day FROM partition_bounds WHERE first_seq <= $1 AND last_seq >= $1",
            &[&seq],
        )
        .await
        .map_err(pg_error)?
        .map(|row| row.get::<_, i64>(0))
    else {
        return Ok(None);
    };
    let sql = format!(
        "SELECT {COLUMNS} FROM {} WHERE seq = $1",
        schema::partition_name(day)
    );
    let rows = match client.query(&sql, &[&seq]).await {
        Ok(rows) => rows,
        Err(error) if dropped_meanwhile(&error) => return Ok(None),
        Err(error) => return Err(pg_error(error)),
    };
    Ok(read_rows(&rows)?.into_iter().next())
}

/// One day of arrival as `partition_bounds` has it.
struct PartitionBounds {
    day: i64,
    min_ts: i64,
    max_ts: i64,
    first_seq: i64,
}

/// Every day of arrival that holds events, newest first by the newest event it may hold.
async fn partition_bounds(client: &impl GenericClient) -> StoreResult<Vec<PartitionBounds>> {
    let rows = client
        .query(
            "SELECT day, min_ts, max_ts, first_seq FROM partition_bounds \
             WHERE last_seq >= first_seq ORDER BY max_ts DESC, day DESC",
            &[],
        )
        .await
        .map_err(pg_error)?;
    Ok(rows
        .iter()
        .map(|row| PartitionBounds {
            day: row.get(0),
            min_ts: row.get(1),
            max_ts: row.get(2),
            first_seq: row.get(3),
        })
        .collect())
}

/// Retention dropped the partition between reading the bounds and reading it: it holds
/// nothing any more.
fn dropped_meanwhile(error: &tokio_postgres::Error) -> bool {
    error.code() == Some(&tokio_postgres::error::SqlState::UNDEFINED_TABLE)
}

/// The first `wanted` rows of one partition in page order: one ordered, limited branch per
/// focus (`filter::focuses`), merged.
async fn partition_page(
    client: &impl GenericClient,
    partition: &PartitionBounds,
    filter: &EventFilter,
    max_seq: i64,
    after: Option<(i64, i64)>,
    wanted: usize,
) -> StoreResult<Vec<EventRow>> {
    let table = schema::partition_name(partition.day);
    let mut params = Vec::new();
    let mut selects = Vec::new();
    for focus in filter::focuses(filter) {
        let mut c = Condition::continuing(params);
        filter::add_filter(&mut c, filter, focus);
        let max = c.param(max_seq);
        c.and(&format!("seq <= {max}"));
        if let Some((ts, seq)) = after {
            let (ts, seq) = (c.param(ts), c.param(seq));
            c.and(&format!("(ts, seq) < ({ts}, {seq})"));
        }
        let limit = c.param(wanted as i64);
        selects.push(format!(
            "SELECT {COLUMNS} FROM {table} WHERE {} ORDER BY ts DESC, seq DESC LIMIT {limit}",
            c.sql
        ));
        params = c.params;
    }
    let sql = if selects.len() == 1 {
        selects.remove(0)
    } else {
        // An event may match in two columns (name and email): once in the page.
        let mut c = Condition::continuing(params);
        let limit = c.param(wanted as i64);
        params = c.params;
        format!(
            "SELECT DISTINCT ON (ts, seq) * FROM ({}) AS branches \
             ORDER BY ts DESC, seq DESC LIMIT {limit}",
            selects
                .iter()
                .map(|select| format!("({select})"))
                .collect::<Vec<_>>()
                .join(" UNION ALL ")
        )
    };
    let values: Vec<&(dyn ToSql + Sync)> = params
        .iter()
        .map(|param| param.as_ref() as &(dyn ToSql + Sync))
        .collect();
    match client.query(&sql, &values).await {
        Ok(rows) => read_rows(&rows),
        Err(error) if dropped_meanwhile(&error) => Ok(Vec::new()),
        Err(error) => Err(pg_error(error)),
    }
}

/// Events stored after `after_seq` (arrived at `received_from` or later), oldest first, at
/// most `limit`: what the live tail has not shown yet.
pub async fn since(
    client: &impl GenericClient,
    after_seq: i64,
    received_from: i64,
    limit: i64,
) -> StoreResult<Vec<EventRow>> {
    let rows = client
        .query(
            &format!(
                "SELECT {COLUMNS} FROM events WHERE seq > $1 AND received >= $2 \
                 ORDER BY seq LIMIT $3"
            ),
            &[&after_seq, &received_from, &limit],
        )
        .await
        .map_err(pg_error)?;
    read_rows(&rows)
}

pub async fn histogram(
    client: &impl GenericClient,
    filter: &EventFilter,
    bucket_seconds: Option<u64>,
) -> StoreResult<Histogram> {
    let bounds = partition_bounds(client).await?;
    let oldest = bounds.iter().map(|p| p.min_ts).min();
    let mut buckets = Buckets::plan(filter, bucket_seconds, || Ok(oldest))?;
    let only_actions_or_time = EventFilter {
        from: None,
        to: None,
        action: Vec::new(),
        ..filter.clone()
    }
    .is_empty();
    let excluded_sources = crate::store::buckets::excluded_sources_only(filter);
    let first = buckets.first;
    // The events counted one by one: from the range's start, or only those of the minute
    // `to` falls in when the rest is summed.
    let mut counted_from = Some(buckets.range_from());
    if (only_actions_or_time || excluded_sources.is_some()) && buckets.whole_minutes() {
        // Sums of the per-minute counts.
        let per_bucket = buckets.width_micros / 60_000_000;
        let mut c = Condition::new();
        filter::value_matches(&mut c, &filter.action, &["action"]);
        let (from, to) = (
            c.param(first * per_bucket),
            c.param(buckets.summed_minutes_end()),
        );
        let (per, base) = (c.param(per_bucket), c.param(first));
        let table = if filter.action.is_empty() {
            "event_minute_totals"
        } else {
            "event_minutes"
        };
        let sql = format!(
            "SELECT (minute - {from}) / {per} + {base}, sum(n)::bigint \
             FROM {table} WHERE {} AND minute >= {from} AND minute < {to} GROUP BY 1",
            c.sql
        );
        for row in client.query(&sql, &c.values()).await.map_err(pg_error)? {
            buckets.add(row.get(0), row.get(1));
        }
        // Less the excluded sources' events (through the `(source, ts)` index).
        for source in excluded_sources.iter().flatten() {
            let mut c = Condition::new();
            let (source, from, to) = (
                c.param(source.clone()),
                c.param(buckets.range_from()),
                c.param(buckets.summed_minutes_end() * 60_000_000),
            );
            let (width, base) = (c.param(buckets.width_micros), c.param(first));
            let sql = format!(
                "SELECT (ts - {from}) / {width} + {base}, -count(*) FROM events \
                 WHERE source = {source} AND ts >= {from} AND ts < {to} GROUP BY 1"
            );
            for row in client.query(&sql, &c.values()).await.map_err(pg_error)? {
                buckets.add(row.get(0), row.get(1));
            }
        }
        counted_from = buckets.partial_minute();
    }
    if let Some(counted_from) = counted_from {
        let counted = EventFilter {
            from: Some(crate::store::event_row::from_micros(counted_from)),
            to: Some(buckets.to()),
            ..filter.clone()
        };
        // Counted day by day of arrival, only where the range may hold events: each count
        // plans one partition, not every day kept.
        let (range_from, to) = (buckets.range_from(), micros(buckets.to()));
        for partition in bounds
            .iter()
            .filter(|p| p.max_ts >= counted_from && p.min_ts < to)
        {
            let mut c = filter::condition(&counted);
            let (base, width, first_param) = (
                c.param(range_from),
                c.param(buckets.width_micros),
                c.param(first),
            );
            // ts >= the range's start, so the division rounds down.
            let sql = format!(
                "SELECT (ts - {base}) / {width} + {first_param}, count(*) FROM {} WHERE {} \
                 GROUP BY 1",
                schema::partition_name(partition.day),
                c.sql
            );
            let rows = match client.query(&sql, &c.values()).await {
                Ok(rows) => rows,
                Err(error) if dropped_meanwhile(&error) => continue,
                Err(error) => return Err(pg_error(error)),
            };
            for row in rows {
                buckets.add(row.get(0), row.get(1));
            }
        }
    }
    Ok(buckets.into_histogram())
}

async fn chain_state(client: &impl GenericClient) -> StoreResult<ChainState> {
    let row = client
        .query_one(
            "SELECT head_seq, head_hash, anchor_seq, anchor_hash, verified_seq, verified_hash \
             FROM chain_state WHERE id = 1",
            &[],
        )
        .await
        .map_err(pg_error)?;
    Ok(ChainState {
        head_seq: row.get(0),
        head_hash: to_hash(row.get(1))?,
        anchor_seq: row.get(2),
        anchor_hash: to_hash(row.get(3))?,
        verified_seq: row.get(4),
        verified_hash: to_hash(row.get(5))?,
    })
}

/// Walks the chain in one snapshot (the caller's repeatable-read transaction), streaming the
/// rows instead of loading them.
pub async fn verify(client: &impl GenericClient, full: bool) -> StoreResult<VerifyOutcome> {
    let mut walk = ChainWalk::new(chain_state(client).await?, full);
    if let Some(seq) = walk.resume_point() {
        let stored: Option<Vec<u8>> = client
            .query_opt("SELECT hash FROM events WHERE seq = $1", &[&seq])
            .await
            .map_err(pg_error)?
            .map(|row| row.get(0));
        if let Some(outcome) = walk.check_resume_point(stored.as_deref()) {
            return Ok(outcome);
        }
    }
    let after = walk.after_seq();
    let rows = client
        .query_raw(
            &format!("SELECT {COLUMNS} FROM events WHERE seq > $1 ORDER BY seq"),
            [after],
        )
        .await
        .map_err(pg_error)?;
    pin_mut!(rows);
    while let Some(row) = rows.try_next().await.map_err(pg_error)? {
        if let Some(outcome) = walk.feed(&read_row(&row).map_err(pg_error)?) {
            return Ok(outcome);
        }
    }
    Ok(walk.finish())
}

/// Deletes the events received before `cutoff` (a prefix of the chain): whole days of arrival
/// are dropped as partitions, the day the cutoff falls in loses its rows before it. The caller
/// runs this in a transaction: the prefix and the anchor move together.
///
/// Locks come in the writers' order: `events` first, the chain's row last. A writer's group
/// holds its rows in `events` while it waits for the chain, so taking the chain first and then
/// dropping a partition (which locks all of `events`) would wait for that group while the
/// group waits for the chain.
pub async fn delete_received_before(client: &impl GenericClient, cutoff: i64) -> StoreResult<u64> {
    let Some(last) = client
        .query_opt(
            "SELECT seq, hash FROM events WHERE received < $1 ORDER BY received DESC, seq DESC \
             LIMIT 1",
            &[&cutoff],
        )
        .await
        .map_err(pg_error)?
    else {
        return Ok(0);
    };
    let (last_seq, last_hash): (i64, Vec<u8>) = (last.get(0), last.get(1));
    let cutoff_day = day_of(cutoff);
    for (day, table) in schema::partitions(client).await? {
        if day < cutoff_day {
            client
                .batch_execute(&format!("DROP TABLE IF EXISTS {table}"))
                .await
                .map_err(pg_error)?;
            client
                .execute("DELETE FROM partition_bounds WHERE day = $1", &[&day])
                .await
                .map_err(pg_error)?;
            client
                .execute("DELETE FROM event_minutes WHERE day = $1", &[&day])
                .await
                .map_err(pg_error)?;
            client
                .execute("DELETE FROM event_minute_totals WHERE day = $1", &[&day])
                .await
                .map_err(pg_error)?;
        } else if day == cutoff_day {
            let gone = client
                .query(
                    &format!(
                        "WITH gone AS (DELETE FROM {table} WHERE received < $1 \
                         RETURNING ts, action) \
                         SELECT floor(ts / 60000000.0)::bigint, action, count(*) FROM gone \
                         GROUP BY 1, 2"
                    ),
                    &[&cutoff],
                )
                .await
                .map_err(pg_error)?;
            let mut counts: HashMap<(i64, String), i64> = HashMap::new();
            for row in gone {
                counts.insert((row.get(0), row.get(1)), row.get(2));
            }
            let (mut minutes, mut actions, mut ns) = (Vec::new(), Vec::new(), Vec::new());
            for ((minute, action), n) in counts {
                minutes.push(minute);
                actions.push(action);
                ns.push(n);
            }
            client
                .execute(
                    "UPDATE event_minutes SET n = event_minutes.n - g.n \
                     FROM unnest($1::bigint[], $2::text[], $3::bigint[]) AS g(minute, action, n) \
                     WHERE event_minutes.minute = g.minute AND event_minutes.action = g.action \
                     AND event_minutes.day = $4",
                    &[&minutes, &actions, &ns, &day],
                )
                .await
                .map_err(pg_error)?;
            client
                .execute(
                    "UPDATE event_minute_totals SET n = event_minute_totals.n - g.n \
                     FROM (SELECT minute, sum(n)::bigint AS n \
                           FROM unnest($1::bigint[], $2::bigint[]) AS u(minute, n) \
                           GROUP BY minute) AS g \
                     WHERE event_minute_totals.minute = g.minute AND event_minute_totals.day = $3",
                    &[&minutes, &ns, &day],
                )
                .await
                .map_err(pg_error)?;
        }
    }
    let anchor: i64 = client
        .query_one(
            "SELECT anchor_seq FROM chain_state WHERE id = 1 FOR UPDATE",
            &[],
        )
        .await
        .map_err(pg_error)?
        .get(0);
    // The trimmed day's time bounds stay as they were: a little wide, never too narrow.
    client
        .execute(
            "UPDATE partition_bounds SET first_seq = $1 + 1 WHERE first_seq <= $1",
            &[&last_seq],
        )
        .await
        .map_err(pg_error)?;
    client
        .execute(
            "UPDATE chain_state SET anchor_seq = $1, anchor_hash = $2, \
             verified_hash = CASE WHEN verified_seq < $1 THEN $2 ELSE verified_hash END, \
             verified_seq = GREATEST(verified_seq, $1) WHERE id = 1",
            &[&last_seq, &last_hash],
        )
        .await
        .map_err(pg_error)?;
    Ok(u64::try_from(last_seq - anchor).unwrap_or(0))
}

/// The newest event time and the oldest, as stored.
pub async fn time_bounds(client: &impl GenericClient) -> StoreResult<(Option<i64>, Option<i64>)> {
    let row = client
        .query_one(
            "SELECT min(min_ts), max(max_ts) FROM partition_bounds WHERE last_seq >= first_seq",
            &[],
        )
        .await
        .map_err(pg_error)?;
    Ok((row.get(0), row.get(1)))
}
