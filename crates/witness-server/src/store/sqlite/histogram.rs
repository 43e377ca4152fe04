//! Counts of events per time bucket: range sums of the per-minute summaries when the filter
//! allows, otherwise a count in every partition that overlaps the range.

use chrono::Utc;
use rusqlite::{Connection, params_from_iter};
use witness_api::{EventFilter, Histogram, HistogramBucket};

use super::filter_sql::{self, TextPlan};
use super::partitions;
use super::query;
use super::row::{from_micros, micros};
use crate::store::{StoreError, StoreResult};

/// Bucket widths the histogram chooses from, smallest first.
const BUCKET_WIDTHS: [i64; 12] = [
    1,
    10,
    60,
    5 * 60,
    15 * 60,
    30 * 60,
    3600,
    3 * 3600,
    6 * 3600,
    12 * 3600,
    86_400,
    7 * 86_400,
];
const TARGET_BUCKETS: i64 = 120;
pub const MAX_BUCKETS: i64 = 10_000;

pub fn histogram(
    conn: &Connection,
    filter: &EventFilter,
    bucket_seconds: Option<u64>,
) -> StoreResult<Histogram> {
    // One snapshot for the action list and the counts.
    let _snapshot = conn.unchecked_transaction()?;
    let to = filter.to.unwrap_or_else(Utc::now);
    let from = match filter.from {
        Some(from) => from,
        None => {
            let oldest: Option<i64> = conn.query_row(
                "SELECT MIN(min_ts) FROM partitions WHERE last_seq >= first_seq",
                [],
                |row| row.get(0),
            )?;
            match oldest {
                Some(oldest) if oldest < micros(to) => from_micros(oldest),
                _ => to - chrono::Duration::hours(24),
            }
        }
    };
    let span = ((micros(to) - micros(from)) / 1_000_000).max(1);
    let width = match bucket_seconds {
        Some(width) => {
            let width = i64::try_from(width).unwrap_or(i64::MAX);
            if width < 1 || span / width > MAX_BUCKETS {
                return Err(StoreError::Invalid {
                    parameter: "bucket".to_string(),
                    message: format!(
                        "{width} seconds would make more than {MAX_BUCKETS} buckets for this range"
                    ),
                });
            }
            width
        }
        None => BUCKET_WIDTHS
            .iter()
            .copied()
            .find(|width| span / width <= TARGET_BUCKETS)
            // Beyond the widest listed width (ranges of decades): whole days, still few buckets.
            .unwrap_or_else(|| {
                let days = (span / TARGET_BUCKETS) / 86_400 + 1;
                days * 86_400
            }),
    };
    let width_micros = width.saturating_mul(1_000_000);
    let first = micros(from).div_euclid(width_micros);
    let last = (micros(to) - 1).div_euclid(width_micros);
    let buckets = last.saturating_sub(first).saturating_add(1).max(0);
    // The filter bounds times to years 0000-9999 and the width is checked above; this guards
    // the allocation itself, whatever a future caller passes.
    if buckets > MAX_BUCKETS + 1 {
        return Err(StoreError::Invalid {
            parameter: "bucket".to_string(),
            message: format!("{buckets} buckets are more than the {MAX_BUCKETS} allowed"),
        });
    }
    let mut counts = vec![0u64; buckets as usize];

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
    let whole_minutes = width_micros % 60_000_000 == 0;
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
    let summed = match action_list {
        Some(list) => Some((true, Some(list))),
        None if only_time && whole_minutes => Some((false, None)),
        None => None,
    };
    let range_from = first * width_micros;
    let overlapping: Vec<partitions::Partition> = partitions::load(conn)?
        .into_iter()
        .filter(|p| !p.is_empty() && p.overlaps(Some(range_from), Some(micros(to))))
        .collect();
    let mut total = 0;
    let mut add = |bucket: i64, count: i64| {
        if let Some(slot) = usize::try_from(bucket - first)
            .ok()
            .and_then(|index| counts.get_mut(index))
        {
            *slot += count as u64;
            total += count as u64;
        }
    };
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
                ((last + 1) * per_bucket).into(),
            ];
            if let Some(list) = &list {
                sql.push_str(" AND action IN (SELECT value FROM json_each(?4))");
                params.push(list.clone().into());
            }
            sql.push_str(" GROUP BY 1");
            count_rows(conn, &sql, &params, &mut add)?;
        }
    } else {
        let counted = EventFilter {
            from: Some(from_micros(range_from)),
            to: Some(to),
            ..filter.clone()
        };
        for partition in &overlapping {
            let probe = query::column_probe(conn, partition);
            let text_table = partition.text_table();
            let mut condition = filter_sql::condition(
                &counted,
                &probe,
                // Counting visits every match whatever the order.
                TextPlan::for_partition(partition, TextPlan::Lookup),
                &text_table,
            );
            condition.params.push(width_micros.into());
            let sql = format!(
                "SELECT ts / ?{} , COUNT(*) FROM {} WHERE {} GROUP BY 1",
                condition.params.len(),
                partition.table(),
                condition.sql
            );
            count_rows(conn, &sql, &condition.params, &mut add)?;
        }
    }
    Ok(Histogram {
        from: from_micros(first * width_micros),
        to,
        bucket_seconds: width as u64,
        buckets: counts
            .into_iter()
            .enumerate()
            .map(|(index, count)| HistogramBucket {
                start: from_micros((first + index as i64) * width_micros),
                count,
            })
            .collect(),
        total,
    })
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
