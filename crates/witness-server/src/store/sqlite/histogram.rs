//! Counts of events per time bucket: range sums of the per-minute summaries when the filter
//! allows (less the excluded sources' events, counted by their index), otherwise a count in
//! every partition that overlaps the range.

use rusqlite::{Connection, params_from_iter};
use witness_api::{EventFilter, Histogram};

use super::filter_sql::{self, TextPlan};
use super::partitions;
use super::query;
use super::row::{from_micros, micros};
use crate::store::buckets::{self, Buckets};
use crate::store::{StoreError, StoreResult};

pub fn histogram(
    conn: &Connection,
    filter: &EventFilter,
    bucket_seconds: Option<u64>,
) -> StoreResult<Histogram> {
    // One snapshot for the action list and the counts.
    let _snapshot = conn.unchecked_transaction()?;
    let mut buckets = Buckets::plan(filter, bucket_seconds, || {
        Ok(conn.query_row(
            "SELECT MIN(min_ts) FROM partitions WHERE last_seq >= first_seq",
            [],
            |row| row.get(0),
        )?)
    })?;
    let (first, width_micros) = (buckets.first, buckets.width_micros);
    let to = buckets.to();
    let only_time = EventFilter {
        from: None,
        to: None,
        ..filter.clone()
    }
    .is_empty();
    let only_actions = !filter.action.is_empty()
        && EventFilter {
            from: None,
            to: None,
            action: Vec::new(),
            ..filter.clone()
        }
        .is_empty();
    let whole_minutes = buckets.whole_minutes();
    let actions = if only_actions && whole_minutes {
        query::selected_actions(conn, filter)
    } else {
        None
    };
    // Whole-minute buckets over the unfiltered set, or over some actions, are range sums of
    // the per-minute counts.
    let action_list = actions
        .map(|actions| serde_json::to_string(&actions))
        .transpose()
        .map_err(|error| StoreError::Backend(error.to_string()))?;
    let excluded_sources = buckets::excluded_sources_only(filter);
    let summed = match action_list {
        Some(list) => Some((true, Some(list))),
        None if (only_time || excluded_sources.is_some()) && whole_minutes => Some((false, None)),
        None => None,
    };
    let range_from = first * width_micros;
    let overlapping: Vec<partitions::Partition> = partitions::load(conn)?
        .into_iter()
        .filter(|p| !p.is_empty() && p.overlaps(Some(range_from), Some(micros(to))))
        .collect();
    let partial_minute = buckets.partial_minute();
    let summed_end = buckets.summed_minutes_end();
    let mut add = |bucket: i64, count: i64| buckets.add(bucket, count);
    // The events counted one by one: from the range's start, or only those of the minute
    // `to` falls in when the rest is summed.
    let mut counted_from = Some(range_from);
    if let Some((per_action, list)) = summed {
        let per_bucket = width_micros / 60_000_000;
        for partition in &overlapping {
            let table = if per_action {
                partition.action_minutes_table()
            } else {
                partition.minutes_table()
            };
            let mut sql = format!(
                "SELECT minute / ?1, SUM(n) FROM {table} WHERE minute >= ?2 AND minute < ?3"
            );
            let mut params: Vec<rusqlite::types::Value> = vec![
                per_bucket.into(),
                (first * per_bucket).into(),
                summed_end.into(),
            ];
            if let Some(list) = &list {
                sql.push_str(" AND action IN (SELECT value FROM json_each(?4))");
                params.push(list.clone().into());
            }
            sql.push_str(" GROUP BY 1");
            count_rows(conn, &sql, &params, &mut add)?;
            for source in excluded_sources.iter().flatten() {
                let sql = format!(
                    "SELECT ts / ?1, -COUNT(*) FROM {} WHERE source = ?2 AND ts >= ?3 \
                     AND ts < ?4 AND seq >= ?5 GROUP BY 1",
                    partition.filter_table()
                );
                // `seq >= first_seq`: an index table may still hold rows retention removed.
                let params: [rusqlite::types::Value; 5] = [
                    width_micros.into(),
                    source.clone().into(),
                    range_from.into(),
                    (summed_end * 60_000_000).into(),
                    partition.first_seq.into(),
                ];
                count_rows(conn, &sql, &params, &mut add)?;
            }
        }
        counted_from = partial_minute;
    }
    if let Some(counted_from) = counted_from {
        let counted = EventFilter {
            from: Some(from_micros(counted_from)),
            to: Some(to),
            ..filter.clone()
        };
        let rare = query::word_rarity(conn, overlapping.iter().rev().find(|p| p.is_sealed()));
        for partition in overlapping
            .iter()
            .filter(|p| p.overlaps(Some(counted_from), Some(micros(to))))
        {
            let probe = query::column_probe(conn, partition);
            let text_table = partition.text_table();
            let mut condition = filter_sql::condition(
                &counted,
                &probe,
                &rare,
                // Counting visits every match whatever the order.
                TextPlan::for_partition(partition, TextPlan::Lookup),
                &text_table,
            );
            // An index table may still hold rows retention removed.
            let first = condition.param(partition.first_seq);
            condition.and(&format!("seq >= {first}"));
            condition.params.push(width_micros.into());
            let sql = format!(
                "SELECT ts / ?{} , COUNT(*) FROM {} WHERE {} GROUP BY 1",
                condition.params.len(),
                partition.filter_table(),
                condition.sql
            );
            count_rows(conn, &sql, &condition.params, &mut add)?;
        }
    }
    Ok(buckets.into_histogram())
}

/// Runs a `(bucket, count)` query and adds its rows.
fn count_rows(
    conn: &Connection,
    sql: &str,
    params: &[rusqlite::types::Value],
    add: &mut impl FnMut(i64, i64),
) -> StoreResult<()> {
    let mut statement = conn.prepare_cached(sql)?;
    let mut rows = statement.query(params_from_iter(params.iter()))?;
    while let Some(row) = rows.next()? {
        add(row.get(0)?, row.get(1)?);
    }
    Ok(())
}
