//! A page of a common free-text word, newest first, without collecting every match.
//!
//! The search index returns matches by seq (storage order) and can stream them newest-stored
//! first at almost no cost, while a page is ordered by event time. Events arrive roughly in
//! time order, so the walk reads matches by seq in growing chunks, keeps the page's best rows,
//! and stops as soon as `seq_blocks` shows that no unread (older-stored) block holds an event
//! newer than the page's last row. An event that arrives far out of time order only makes the
//! walk read further; it is never missed.

use rusqlite::{Connection, params};

use super::filter_sql::Condition;
use super::row::{COLUMNS, EventRow};
use super::schema::{BLOCK_SHIFT, block_of};
use crate::store::StoreResult;

/// Matches read before the first look at the page, then doubled per chunk up to the maximum.
const FIRST_CHUNK: usize = 256;
const MAX_CHUNK: usize = 1 << 15;

pub struct TextWalk<'a> {
    /// The partition's events table and text index.
    pub table: &'a str,
    pub text_table: &'a str,
    /// The FTS5 query.
    pub fts: &'a str,
    /// Every other condition of the filter (time range included).
    pub condition: Condition,
    /// Event-time bounds of the filter, microseconds: `from <= ts < to`.
    pub from: Option<i64>,
    pub to: Option<i64>,
    /// The snapshot: no event stored after it.
    pub max_seq: i64,
    /// Rows must come strictly after this `(ts, seq)` in page order.
    pub after: Option<(i64, i64)>,
    /// Rows wanted.
    pub limit: usize,
}

impl TextWalk<'_> {
    /// The first `limit` matching rows in page order (`ts DESC, seq DESC`).
    pub fn rows(self, conn: &Connection) -> StoreResult<Vec<EventRow>> {
        let blocks = Blocks::load(conn, self.max_seq)?;
        // The newest event time a row on this page may have.
        let ceiling = match (self.after, self.to) {
            (Some((ts, _)), Some(to)) => Some(ts.min(to - 1)),
            (Some((ts, _)), None) => Some(ts),
            (None, Some(to)) => Some(to - 1),
            (None, None) => None,
        };
        // Blocks stored after the newest one that holds a time at or below the ceiling hold
        // only newer events: start below them.
        let Some(top_block) = blocks.newest_reaching(ceiling) else {
            return Ok(Vec::new());
        };
        let top_seq = self
            .max_seq
            .min(((top_block + 1) << BLOCK_SHIFT).saturating_sub(1));

        let mut condition = self.condition;
        if let Some((ts, seq)) = self.after {
            let (ts, seq) = (condition.param(ts), condition.param(seq));
            condition.and(&format!("(ts, seq) < ({ts}, {seq})"));
        }
        let seqs = condition.param(String::new());
        let seqs_index = condition.params.len() - 1;
        let mut fetch = conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM {} WHERE seq IN (SELECT value FROM json_each({seqs})) \
             AND {}",
            self.table, condition.sql
        ))?;
        let text_table = self.text_table;
        let mut matches = conn.prepare_cached(&format!(
            "SELECT rowid FROM {text_table} WHERE {} MATCH ?1 AND rowid <= ?2 \
             ORDER BY rowid DESC",
            super::filter_sql::match_name(text_table)
        ))?;
        let mut matches = matches.query(params![self.fts, top_seq])?;

        let mut page: Vec<EventRow> = Vec::new();
        let mut carried: Option<i64> = None;
        let mut want = FIRST_CHUNK.max(self.limit * 2);
        loop {
            // A chunk: at least `want` matches, then the rest of the last one's block, so that
            // everything unread lies in older blocks.
            let mut chunk: Vec<i64> = carried.take().into_iter().collect();
            let mut exhausted = false;
            loop {
                let Some(row) = matches.next()? else {
                    exhausted = true;
                    break;
                };
                let seq: i64 = row.get(0)?;
                if let Some(&last) = chunk.last()
                    && chunk.len() >= want
                    && block_of(seq) < block_of(last)
                {
                    carried = Some(seq);
                    break;
                }
                chunk.push(seq);
            }
            let Some(&oldest) = chunk.last() else {
                break;
            };
            let list = serde_json::to_string(&chunk)
                .map_err(|error| crate::store::StoreError::Backend(error.to_string()))?;
            condition.params[seqs_index] = list.into();
            let rows = fetch.query_map(
                rusqlite::params_from_iter(condition.params.iter()),
                EventRow::read,
            )?;
            for row in rows {
                page.push(row?);
            }
            page.sort_unstable_by_key(|row| std::cmp::Reverse((row.ts, row.seq)));
            page.truncate(self.limit);
            if exhausted {
                break;
            }
            // Every unread match is in a block older than `oldest`'s.
            let Some(unread_max) = blocks.max_ts_before(block_of(oldest)) else {
                break;
            };
            if self.from.is_some_and(|from| unread_max < from) {
                break;
            }
            if page.len() >= self.limit && page.last().is_some_and(|last| last.ts >= unread_max) {
                // An unread event is at most as new as the page's last row and stored before
                // it, so it comes after it in page order.
                break;
            }
            want = (want * 2).min(MAX_CHUNK);
        }
        Ok(page)
    }
}

/// `seq_blocks` up to the snapshot, oldest first.
struct Blocks {
    block: Vec<i64>,
    min_ts: Vec<i64>,
    /// `max_through[i]`: the newest event time in blocks `..=i`.
    max_through: Vec<i64>,
}

impl Blocks {
    fn load(conn: &Connection, max_seq: i64) -> StoreResult<Self> {
        let mut statement = conn.prepare_cached(
            "SELECT block, min_ts, max_ts FROM seq_blocks WHERE block <= ?1 ORDER BY block",
        )?;
        let mut blocks = Blocks {
            block: Vec::new(),
            min_ts: Vec::new(),
            max_through: Vec::new(),
        };
        let mut rows = statement.query(params![block_of(max_seq)])?;
        while let Some(row) = rows.next()? {
            let max_ts: i64 = row.get(2)?;
            let newest = blocks.max_through.last().map_or(max_ts, |&n| n.max(max_ts));
            blocks.block.push(row.get(0)?);
            blocks.min_ts.push(row.get(1)?);
            blocks.max_through.push(newest);
        }
        Ok(blocks)
    }

    /// The newest block with an event at or below `ceiling` (any block without one).
    fn newest_reaching(&self, ceiling: Option<i64>) -> Option<i64> {
        let index = self
            .min_ts
            .iter()
            .rposition(|&min_ts| ceiling.is_none_or(|ceiling| min_ts <= ceiling))?;
        Some(self.block[index])
    }

    /// The newest event time in the blocks before `block`; `None` when there are none.
    fn max_ts_before(&self, block: i64) -> Option<i64> {
        let index = self.block.partition_point(|&b| b < block);
        index.checked_sub(1).map(|last| self.max_through[last])
    }
}
