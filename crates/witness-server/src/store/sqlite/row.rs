//! One row of a partition's events table in SQLite: the columns, and how a row is bound and
//! read.

use rusqlite::Row;

pub use crate::store::event_row::{COLUMNS, EventRow, from_micros, micros};

/// Inserts one row into `table`; bind with [`EventRow::insert`].
pub fn insert_sql(table: &str) -> String {
    format!("INSERT INTO {table} {INSERT_TAIL}")
}

const INSERT_TAIL: &str = "(seq, ts, received, action, actor_type, \
    actor_id, actor_name, actor_email, target_type, target_id, target_name, result, status, \
    client_ip, org_id, org_name, ws_id, ws_name, level, message, details, properties, prev_hash, \
    hash, source) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, \
    ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25)";

impl EventRow {
    /// Runs [`insert_sql`] (prepared as `statement`) for this row.
    pub fn insert(&self, statement: &mut rusqlite::Statement<'_>) -> rusqlite::Result<usize> {
        statement.execute(rusqlite::params![
            self.seq,
            self.ts,
            self.received,
            self.action,
            self.actor_type,
            self.actor_id,
            self.actor_name,
            self.actor_email,
            self.target_type,
            self.target_id,
            self.target_name,
            self.result,
            self.status,
            self.client_ip,
            self.org_id,
            self.org_name,
            self.ws_id,
            self.ws_name,
            self.level,
            self.message,
            self.details,
            self.properties,
            self.prev_hash,
            self.hash,
            self.source,
        ])
    }

    pub fn read(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(EventRow {
            seq: row.get(0)?,
            ts: row.get(1)?,
            received: row.get(2)?,
            action: row.get(3)?,
            actor_type: row.get(4)?,
            actor_id: row.get(5)?,
            actor_name: row.get(6)?,
            actor_email: row.get(7)?,
            target_type: row.get(8)?,
            target_id: row.get(9)?,
            target_name: row.get(10)?,
            result: row.get(11)?,
            status: row.get(12)?,
            client_ip: row.get(13)?,
            org_id: row.get(14)?,
            org_name: row.get(15)?,
            ws_id: row.get(16)?,
            ws_name: row.get(17)?,
            level: row.get(18)?,
            message: row.get(19)?,
            details: row.get(20)?,
            properties: row.get(21)?,
            prev_hash: row.get(22)?,
            hash: row.get(23)?,
            source: row.get(24)?,
        })
    }
}
