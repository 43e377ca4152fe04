//! The tables derived from events in the same transaction: per-minute counts (all events and
//! per action) and per-block time ranges (schema.rs says what each serves).

use std::collections::BTreeMap;

use rusqlite::{Transaction, params};

use super::partitions::Partition;
use super::row::EventRow;
use super::schema::{block_of, minute_of};
use crate::store::StoreResult;

/// What one transaction adds to the summaries.
#[derive(Default)]
pub struct Summaries {
    minutes: BTreeMap<i64, i64>,
    action_minutes: BTreeMap<(String, i64), i64>,
    blocks: BTreeMap<i64, (i64, i64)>,
}

impl Summaries {
    pub fn add(&mut self, row: &EventRow) {
        let minute = minute_of(row.ts);
        *self.minutes.entry(minute).or_default() += 1;
        *self
            .action_minutes
            .entry((row.action.clone(), minute))
            .or_default() += 1;
        let range = self
            .blocks
            .entry(block_of(row.seq))
            .or_insert((row.ts, row.ts));
        range.0 = range.0.min(row.ts);
        range.1 = range.1.max(row.ts);
    }

    /// Adds the counts to `partition`'s summaries (and new actions to the store's list).
    pub fn write(self, tx: &Transaction<'_>, partition: &Partition) -> StoreResult<()> {
        let mut count_minute = tx.prepare_cached(&format!(
            "INSERT INTO {} (minute, n) VALUES (?1, ?2) \
             ON CONFLICT (minute) DO UPDATE SET n = n + excluded.n",
            partition.minutes_table()
        ))?;
        for (minute, n) in self.minutes {
            count_minute.execute(params![minute, n])?;
        }
        let mut count_action_minute = tx.prepare_cached(&format!(
            "INSERT INTO {} (action, minute, n) VALUES (?1, ?2, ?3) \
             ON CONFLICT (action, minute) DO UPDATE SET n = n + excluded.n",
            partition.action_minutes_table()
        ))?;
        let mut known_action =
            tx.prepare_cached("INSERT OR IGNORE INTO actions (action) VALUES (?1)")?;
        let mut last_action: Option<&str> = None;
        for ((action, minute), n) in &self.action_minutes {
            count_action_minute.execute(params![action, minute, n])?;
            if last_action != Some(action.as_str()) {
                known_action.execute(params![action])?;
                last_action = Some(action.as_str());
            }
        }
        let mut widen_block = tx.prepare_cached(
            "INSERT INTO seq_blocks (block, min_ts, max_ts) VALUES (?1, ?2, ?3) \
             ON CONFLICT (block) DO UPDATE SET min_ts = MIN(min_ts, excluded.min_ts), \
             max_ts = MAX(max_ts, excluded.max_ts)",
        )?;
        for (block, (min_ts, max_ts)) in self.blocks {
            widen_block.execute(params![block, min_ts, max_ts])?;
        }
        Ok(())
    }
}
