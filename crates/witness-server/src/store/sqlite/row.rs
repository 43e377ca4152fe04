//! One row of a partition's events table in SQLite: the columns, and how a row is bound and
//! read.

use rusqlite::Row;
use witness_api::SearchFields;

use super::schema;
pub use crate::store::event_row::{COLUMNS, EventRow, from_micros, micros};

/// The columns [`text_document`] reads, in its order.
pub const TEXT_COLUMNS: &str = "seq, message, action, actor_id, actor_name, actor_email, \
    target_type, target_id, target_name, status, client_ip, org_id, org_name, ws_id, ws_name, \
    details, properties";

/// A row of [`TEXT_COLUMNS`]: its seq and what the text index holds for it
/// ([`schema::text_body`]), read in place. Sealing reads every row of a partition for this, and
/// copying each into an [`EventRow`] first was ~7 % of the writer's time (BENCHMARKS.md).
pub fn text_document(row: &Row<'_>) -> rusqlite::Result<(i64, String)> {
    let fields = SearchFields {
        message: text(row, 1)?,
        action: text(row, 2)?,
        actor_id: optional_text(row, 3)?,
        actor_name: optional_text(row, 4)?,
        actor_email: optional_text(row, 5)?,
        target_type: optional_text(row, 6)?,
        target_id: optional_text(row, 7)?,
        target_name: optional_text(row, 8)?,
        status: optional_text(row, 9)?,
        client_ip: optional_text(row, 10)?,
        org_id: optional_text(row, 11)?,
        org_name: optional_text(row, 12)?,
        ws_id: optional_text(row, 13)?,
        ws_name: optional_text(row, 14)?,
        details: text(row, 15)?,
        properties: text(row, 16)?,
    };
    Ok((row.get(0)?, schema::text_body(&fields)))
}

fn optional_text<'r>(row: &'r Row<'_>, index: usize) -> rusqlite::Result<Option<&'r str>> {
    let value = row.get_ref(index)?;
    value.as_str_or_null().map_err(|error| {
        rusqlite::Error::FromSqlConversionFailure(index, value.data_type(), Box::new(error))
    })
}

fn text<'r>(row: &'r Row<'_>, index: usize) -> rusqlite::Result<&'r str> {
    optional_text(row, index)?.ok_or_else(|| {
        rusqlite::Error::InvalidColumnType(
            index,
            "a NOT NULL text column".to_string(),
            rusqlite::types::Type::Null,
        )
    })
}

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

#[cfg(test)]
mod tests {
    use rusqlite::Connection;

    use super::*;

    /// Sealing reads the text in place; it must be the text of the event, field for field.
    #[test]
    fn a_rows_text_document_is_the_text_of_its_event() {
        let conn = Connection::open_in_memory().expect("open");
        conn.execute_batch(&schema::events_table_sql("events_1"))
            .expect("table");
        let some = |text: &str| Some(text.to_string());
        let full = EventRow {
            seq: 7,
            ts: 1,
            received: 2,
            action: "member.role_changed".into(),
            actor_type: "user".into(),
            actor_id: some("u-1"),
            actor_name: some("Ålice Ämberg"),
            actor_email: some("alice@example.com"),
            target_type: some("repository"),
            target_id: some("r-9"),
            target_name: some("acme/widgets"),
            result: "failure".into(),
            status: some("403"),
            client_ip: some("203.0.113.7"),
            org_id: some("o-1"),
            org_name: some("Acme"),
            ws_id: some("w-1"),
            ws_name: some("Platform"),
            level: "Warning".into(),
            message: "Alice changed a role".into(),
            details: r#"{"role":{"new":"admin","old":"member"}}"#.into(),
            properties: r#"{"Application":"Shop"}"#.into(),
            prev_hash: vec![0; 32],
            hash: vec![1; 32],
            source: some("key-1"),
        };
        let sparse = EventRow {
            seq: 8,
            actor_id: None,
            actor_name: None,
            actor_email: None,
            target_type: None,
            target_id: None,
            target_name: None,
            status: None,
            client_ip: None,
            org_id: None,
            org_name: None,
            ws_id: None,
            ws_name: None,
            ..full.clone()
        };
        let mut insert = conn.prepare(&insert_sql("events_1")).expect("insert");
        for row in [&full, &sparse] {
            row.insert(&mut insert).expect("inserted");
        }
        let documents: Vec<(i64, String)> = conn
            .prepare(&format!("SELECT {TEXT_COLUMNS} FROM events_1 ORDER BY seq"))
            .expect("select")
            .query_map([], text_document)
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("read");
        assert_eq!(
            documents,
            [&full, &sparse]
                .map(|row| (row.seq, witness_api::index_text(&row.search_text())))
                .to_vec()
        );
        assert!(documents[0].1.contains("ålice") && documents[0].1.contains("platform"));
    }
}
