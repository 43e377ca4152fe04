//! The SQLite schema and connection settings.

use rusqlite::Connection;

use crate::store::StoreResult;

/// Applied on every connection: WAL so readers never block the writer, and `synchronous=FULL`
/// so that a commit returns only after the WAL is fsynced (acknowledged means durable).
pub fn configure(conn: &Connection) -> StoreResult<()> {
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    // Statements are per partition (their tables' names differ): room for a few shapes per
    // partition, so that pages do not prepare the same statements again.
    conn.set_prepared_statement_cache_capacity(1024);
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "cache_size", -65536)?; // 64 MiB
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    conn.pragma_update(None, "mmap_size", 1i64 << 30)?;
    super::text_match::register(conn)?;
    Ok(())
}

/// The columns of an events table, shared by every partition (and by the single `events`
/// table of stores made before partitions).
const EVENT_COLUMNS_DDL: &str = "
    seq         INTEGER PRIMARY KEY,   -- storage order; the event id
    ts          INTEGER NOT NULL,      -- event time, microseconds since the Unix epoch (UTC)
    received    INTEGER NOT NULL,      -- arrival time, microseconds; grows with seq
    action      TEXT NOT NULL,
    actor_type  TEXT NOT NULL,
    actor_id    TEXT,
    actor_name  TEXT,
    actor_email TEXT,
    target_type TEXT,
    target_id   TEXT,
    target_name TEXT,
    result      TEXT NOT NULL,
    status      TEXT,
    client_ip   TEXT,
    org_id      TEXT,
    org_name    TEXT,
    ws_id       TEXT,
    ws_name     TEXT,
    level       TEXT NOT NULL,
    message     TEXT NOT NULL,
    details     TEXT NOT NULL,         -- canonical JSON object
    properties  TEXT NOT NULL,         -- canonical JSON object
    prev_hash   BLOB NOT NULL,
    hash        BLOB NOT NULL,
    source      TEXT                   -- API key id or 'witness'; NULL only before sources existed
";

/// A partition's events table, as it takes writes: rows only, no secondary index and no text
/// index, so that an insert appends to one B-tree (store/sqlite/partitions.rs says why).
pub fn events_table_sql(table: &str) -> String {
    format!("CREATE TABLE IF NOT EXISTS {table} ({EVENT_COLUMNS_DDL});")
}

/// A partition's summaries, written in the same transaction as its events: events per minute
/// of event time (the unfiltered histogram without scanning events) and per action per minute
/// (histograms filtered by action). Dropped with the partition, so retention never has to
/// count what it removes.
pub fn summary_tables_sql(minutes: &str, action_minutes: &str) -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS {minutes} (
             minute INTEGER PRIMARY KEY,   -- ts / 60 000 000, rounded down
             n      INTEGER NOT NULL
         ) WITHOUT ROWID;
         CREATE TABLE IF NOT EXISTS {action_minutes} (
             action TEXT NOT NULL,
             minute INTEGER NOT NULL,
             n      INTEGER NOT NULL,
             PRIMARY KEY (action, minute)
         ) WITHOUT ROWID;"
    )
}

/// The indexed columns of a sealed partition, each as `(name suffix, columns, partial)`.
/// Every filter has an index that also orders by time, so a first page is an index range scan.
pub const PARTITION_INDEXES: [(&str, &str, bool); 14] = [
    ("ts", "ts", false),
    ("action", "action, ts", false),
    ("actor_id", "actor_id, ts", true),
    ("actor_name", "actor_name, ts", true),
    ("actor_email", "actor_email, ts", true),
    ("target_id", "target_id, ts", true),
    ("target_name", "target_name, ts", true),
    ("result", "result, ts", false),
    ("client_ip", "client_ip, ts", true),
    ("org_id", "org_id, ts", true),
    ("org_name", "org_name, ts", true),
    ("ws_id", "ws_id, ts", true),
    ("ws_name", "ws_name, ts", true),
    ("source", "source, ts", true),
];

/// `CREATE INDEX` for one of [`PARTITION_INDEXES`] on `table` (named `{table}_{suffix}`, the
/// names the single `events` table always had).
pub fn index_sql(table: &str, index: (&str, &str, bool)) -> String {
    index_sql_in("main", table, index)
}

/// [`index_sql`] for a table of the attached file `schema`.
pub fn index_sql_in(
    schema: &str,
    table: &str,
    (suffix, columns, partial): (&str, &str, bool),
) -> String {
    let first = columns.split(',').next().unwrap_or(columns).trim();
    let filter = if partial {
        format!(" WHERE {first} IS NOT NULL")
    } else {
        String::new()
    };
    format!("CREATE INDEX IF NOT EXISTS {schema}.{table}_{suffix} ON {table} ({columns}){filter}")
}

/// The columns a filter tests (besides free text, which the text index answers): what a
/// sealed partition's index table copies from its events table (index_table.rs). Every column
/// of [`PARTITION_INDEXES`] is among them.
pub const INDEXED_COLUMNS: &str = "seq, ts, action, actor_id, actor_name, actor_email, target_id, \
    target_name, result, client_ip, org_id, org_name, ws_id, ws_name, source";

/// A sealed partition's index table (`{events table}_index` in the text index file): its
/// events' [`INDEXED_COLUMNS`], with the same names and types, so that a filter's SQL reads
/// alike on both.
pub fn index_table_sql(schema: &str, table: &str) -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS {schema}.{table} (
             seq         INTEGER PRIMARY KEY,
             ts          INTEGER NOT NULL,
             action      TEXT NOT NULL,
             actor_id    TEXT,
             actor_name  TEXT,
             actor_email TEXT,
             target_id   TEXT,
             target_name TEXT,
             result      TEXT NOT NULL,
             client_ip   TEXT,
             org_id      TEXT,
             org_name    TEXT,
             ws_id       TEXT,
             ws_name     TEXT,
             source      TEXT
         );"
    )
}

/// A sealed partition's text index. Contentless (the text lives in the events table);
/// rowid = seq. What it indexes is [`text_body`]: the event's words as Witness splits and
/// lowercases them, one space apart. The `ascii` tokenizer splits that only at the spaces
/// (it takes every other character of a word, each non-ASCII one included, as part of it) and
/// folds only ASCII capitals, of which none are left: each token is exactly one of those words,
/// and a query's words (`fts_query`, made by the same rules) match them exactly as
/// `witness_api::TextMatcher` does in the partitions not indexed yet, so that sealing never
/// changes an answer. (FTS5's own `unicode61` splits and folds by rules of its own: a
/// combining accent, a dotted capital I or a final sigma made its answers differ.)
pub fn text_table_sql(table: &str) -> String {
    format!(
        "CREATE VIRTUAL TABLE IF NOT EXISTS {table}_fts USING fts5(\
         body, content='', contentless_delete=1, detail='none', tokenize='ascii')"
    )
}

/// What a text index holds for an event: the words of its search text as
/// `witness_api::index_words` makes them, in their order and with repeats, one space apart
/// (`witness_api::index_text`; see [`text_table_sql`]).
pub fn text_body(fields: &witness_api::SearchFields<'_>) -> String {
    witness_api::index_text(&fields.text())
}

pub const SCHEMA: &str = r#"
-- Events live in partitions: one table per range of arrival (store/sqlite/partitions.rs).
CREATE TABLE IF NOT EXISTS partitions (
    id        INTEGER PRIMARY KEY,  -- its tables are events_{id} and events_{id}_fts; 0 is the
                                    -- single `events` table of a store made before partitions
    state     TEXT NOT NULL CHECK (state IN ('hot', 'full', 'sealed')),
    first_seq INTEGER NOT NULL,     -- the first seq it holds or will hold
    last_seq  INTEGER NOT NULL,     -- the last seq it holds (first_seq - 1 while empty)
    min_ts    INTEGER,              -- bounds of its event times (NULL while empty)
    max_ts    INTEGER,
    day       INTEGER NOT NULL,     -- UTC day of arrival it takes (received / 86 400 s)
    text_seq  INTEGER NOT NULL,     -- while sealing: rows up to here are in its text index
    text_apart INTEGER NOT NULL DEFAULT 0, -- 1: its text index is in the text index file
                                           -- (text_index.rs), 0: in this file
    index_apart INTEGER NOT NULL DEFAULT 0  -- 1: its filter indexes are on its index table in
                                           -- the text index file (index_table.rs), 0: on its
                                           -- events table
);

-- Partition 0's summaries (a store made before partitions); every other partition has its own
-- (summary_tables_sql).
CREATE TABLE IF NOT EXISTS minute_counts (
    minute INTEGER PRIMARY KEY,   -- ts / 60 000 000
    n      INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS action_minutes (
    action TEXT NOT NULL,
    minute INTEGER NOT NULL,      -- ts / 60 000 000, rounded down
    n      INTEGER NOT NULL,
    PRIMARY KEY (action, minute)
) WITHOUT ROWID;

-- Every action ever stored (never shrinks): what an action prefix expands to.
CREATE TABLE IF NOT EXISTS actions (
    action TEXT PRIMARY KEY
) WITHOUT ROWID;

-- The range of event times in each block of 4096 consecutive seqs. Events arrive roughly in
-- time order, so walking free-text matches newest-stored first, a page can stop as soon as no
-- unread block can hold a newer event (store/sqlite/text_walk.rs).
CREATE TABLE IF NOT EXISTS seq_blocks (
    block  INTEGER PRIMARY KEY,   -- seq >> 12
    min_ts INTEGER NOT NULL,
    max_ts INTEGER NOT NULL
);

-- The chain's ends, written in the same transaction as the events they describe.
CREATE TABLE IF NOT EXISTS chain_state (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    head_seq      INTEGER NOT NULL,   -- newest event stored (0: none yet)
    head_hash     BLOB NOT NULL,
    anchor_seq    INTEGER NOT NULL,   -- newest event deleted by retention (0: none)
    anchor_hash   BLOB NOT NULL,      -- its hash: the prev_hash of the oldest event kept
    verified_seq  INTEGER NOT NULL,   -- verify has checked everything up to here
    verified_hash BLOB NOT NULL
);
INSERT OR IGNORE INTO chain_state VALUES (1, 0, zeroblob(32), 0, zeroblob(32), 0, zeroblob(32));

CREATE TABLE IF NOT EXISTS api_keys (
    id           TEXT PRIMARY KEY,
    title        TEXT NOT NULL,
    permissions  TEXT NOT NULL,        -- comma-separated: ingest, read
    token_hash   BLOB NOT NULL UNIQUE, -- SHA-256 of the token; the token itself is never stored
    token_prefix TEXT NOT NULL,
    created_at   INTEGER NOT NULL,     -- microseconds
    revoked_at   INTEGER
);

CREATE TABLE IF NOT EXISTS users (
    id            TEXT PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    display_name  TEXT,
    email         TEXT,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'auditor')),
    password_hash TEXT NOT NULL,          -- Argon2id PHC string
    created_at    INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS sessions (
    token_hash  BLOB PRIMARY KEY,         -- SHA-256 of the cookie's token
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token  TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL          -- slides forward with use
);
CREATE INDEX IF NOT EXISTS sessions_user ON sessions (user_id);

-- Each user's saved views of the Audit logs tab, removed with the user. A store made before
-- views gets this table when it is opened (like every table here: IF NOT EXISTS).
CREATE TABLE IF NOT EXISTS saved_views (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    query      TEXT NOT NULL,         -- the tab's URL query string, without `?`
    created_at INTEGER NOT NULL,      -- microseconds
    UNIQUE (user_id, name)
);

-- The admin-editable settings: one row, stored on first start.
CREATE TABLE IF NOT EXISTS settings (
    id                     INTEGER PRIMARY KEY CHECK (id = 1),
    backup_utc_time_of_day TEXT NOT NULL,    -- HH:MM, UTC
    backups_to_keep        INTEGER NOT NULL,
    retention_days         INTEGER NOT NULL
);
"#;

/// Seqs per row of `seq_blocks`, as a shift.
pub const BLOCK_SHIFT: u32 = 12;

/// The block of `seq_blocks` that holds `seq`.
pub fn block_of(seq: i64) -> i64 {
    seq >> BLOCK_SHIFT
}

/// The minute of the per-minute summaries that holds `ts`.
pub fn minute_of(ts: i64) -> i64 {
    ts.div_euclid(60_000_000)
}

/// `minute_of(ts)` in SQL (`/` alone rounds toward zero).
pub const MINUTE_OF_TS: &str = "(ts - ((ts % 60000000) + 60000000) % 60000000) / 60000000";

/// `PRAGMA user_version`: 2 once the summary tables held every stored event, 3 once events
/// live in partitions, 4 once every text index holds [`text_body`] (earlier ones hold the
/// raw text, tokenized by FTS5's `unicode61`).
const SUMMARIES_VERSION: i64 = 2;
const TEXT_WORDS_VERSION: i64 = 4;

pub fn migrate(conn: &Connection) -> StoreResult<()> {
    conn.execute_batch(SCHEMA)?;
    // A store from before the text index file keeps its partitions' text indexes in this
    // file; one from before index tables keeps its partitions' filter indexes on their events
    // tables (a new column never fails half way: no transaction needed).
    for column in ["text_apart", "index_apart"] {
        if !has_column(conn, "partitions", column)? {
            let added = conn.execute_batch(&format!(
                "ALTER TABLE partitions ADD COLUMN {column} INTEGER NOT NULL DEFAULT 0"
            ));
            // Another process opening the store at the same moment may have added it first.
            if !has_column(conn, "partitions", column)? {
                added?;
            }
        }
    }
    let version: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    let legacy: bool = conn.query_row(
        "SELECT COUNT(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'events'",
        [],
        |row| row.get(0),
    )?;
    if legacy {
        migrate_single_table(conn, version)?;
    }
    if version < TEXT_WORDS_VERSION {
        rebuild_text_indexes(conn)?;
    }
    Ok(())
}

/// Whether `table` has a column of this name.
fn has_column(conn: &Connection, table: &str, column: &str) -> StoreResult<bool> {
    Ok(conn.query_row(
        "SELECT COUNT(*) > 0 FROM pragma_table_info(?1) WHERE name = ?2",
        rusqlite::params![table, column],
        |row| row.get(0),
    )?)
}

/// Text indexes made before version 4 found words by FTS5's rules, not Witness's: each is
/// dropped and its partition goes back to `full`, so that the writer's sealing steps build it
/// again (its other indexes stand, so only the text is redone, a chunk per step). Until then
/// free text in that partition is matched row by row: slower, with the answers it should give.
fn rebuild_text_indexes(conn: &Connection) -> StoreResult<()> {
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let rebuilt = (|| -> StoreResult<()> {
        // Another process opening the store at the same time may have done it meanwhile.
        let version: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
        if version >= TEXT_WORDS_VERSION {
            return Ok(());
        }
        for partition in super::partitions::load(conn)? {
            let text_table = partition.text_table();
            if super::partitions::exists(conn, &text_table)? {
                conn.execute_batch(&format!("DROP TABLE {text_table}"))?;
            }
        }
        conn.execute_batch(&format!(
            "UPDATE partitions SET state = 'full', text_seq = first_seq - 1 \
                 WHERE state <> 'hot';
             PRAGMA user_version = {TEXT_WORDS_VERSION};"
        ))?;
        Ok(())
    })();
    match rebuilt {
        Ok(()) => conn.execute_batch("COMMIT")?,
        Err(error) => {
            let _ = conn.execute_batch("ROLLBACK");
            return Err(error);
        }
    }
    Ok(())
}

/// A store made before partitions keeps its single `events` table, indexed as it always was,
/// as partition 0: sealed, holding everything stored so far, so nothing is copied and the
/// chain goes on from its head into the partitions after it. Retention removes it like any
/// other partition once its events are old enough.
fn migrate_single_table(conn: &Connection, version: i64) -> StoreResult<()> {
    if !has_column(conn, "events", "source")? {
        // A store made before sources were recorded: its events keep no source (and their
        // version-1 hashes); everything stored from now on names its source.
        conn.execute_batch("ALTER TABLE events ADD COLUMN source TEXT")?;
    }
    conn.execute_batch(
        "CREATE INDEX IF NOT EXISTS events_source ON events (source, ts) WHERE source IS NOT NULL",
    )?;
    if version < SUMMARIES_VERSION {
        // A store made before the summary tables existed: fill them from its events, once.
        conn.execute_batch(&format!(
            "BEGIN IMMEDIATE;
             DELETE FROM action_minutes;
             INSERT INTO action_minutes (action, minute, n)
                 SELECT action, {MINUTE_OF_TS}, COUNT(*)
                 FROM events GROUP BY 1, 2;
             DELETE FROM minute_counts;
             INSERT INTO minute_counts (minute, n)
                 SELECT {MINUTE_OF_TS}, COUNT(*) FROM events GROUP BY 1;
             DELETE FROM seq_blocks;
             INSERT INTO seq_blocks (block, min_ts, max_ts)
                 SELECT seq >> {BLOCK_SHIFT}, MIN(ts), MAX(ts) FROM events GROUP BY 1;
             PRAGMA user_version = {SUMMARIES_VERSION};
             COMMIT;"
        ))?;
    }
    conn.execute_batch(
        "INSERT OR IGNORE INTO actions (action) SELECT DISTINCT action FROM action_minutes;",
    )?;
    // The indexes of partition 0 are those the single table always had (and the source index
    // just made), so it is sealed as it stands.
    conn.execute_batch(&format!(
        "BEGIN IMMEDIATE;
         INSERT INTO partitions (id, state, first_seq, last_seq, min_ts, max_ts, day, text_seq)
             SELECT 0, 'sealed', anchor_seq + 1, head_seq,
                    (SELECT MIN(ts) FROM events), (SELECT MAX(ts) FROM events),
                    IFNULL((SELECT received FROM events ORDER BY seq DESC LIMIT 1), 0)
                        / {DAY_MICROS},
                    head_seq
             FROM chain_state WHERE id = 1
             AND NOT EXISTS (SELECT 1 FROM partitions WHERE id = 0);
         COMMIT;"
    ))?;
    Ok(())
}

/// Microseconds in a UTC day.
pub const DAY_MICROS: i64 = 86_400_000_000;

#[cfg(test)]
pub mod tests {
    use super::*;
    use crate::ingest::{BodyFormat, IngestLimits, parse_body};
    use crate::store::sqlite::row::{COLUMNS, EventRow};
    use crate::store::{SqliteStore, Store};

    /// The store keeps ~15 schema objects per partition in one file: SQLite must be built
    /// without its 64-bucket cap on hash tables (`.cargo/config.toml`), or every schema load
    /// grows with the square of the partitions (620 ms at 3,000: BENCHMARKS.md, session 11).
    #[test]
    fn sqlite_is_built_without_the_hash_table_cap() {
        let conn = Connection::open_in_memory().expect("open");
        let options: Vec<String> = conn
            .prepare("PRAGMA compile_options")
            .expect("prepare")
            .query_map([], |row| row.get(0))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("options");
        assert!(
            options.iter().any(|o| o == "MALLOC_SOFT_LIMIT=0"),
            "{options:?}"
        );
    }

    /// Turns a store whose events are all in its first partition into the layout stores had
    /// before partitions: one `events` table with its indexes and its text index.
    pub fn into_single_table_layout(path: &std::path::Path) {
        let conn = Connection::open(path).expect("open");
        conn.execute_batch(
            "ALTER TABLE events_1 RENAME TO events; \
             DROP TABLE minute_counts; DROP TABLE action_minutes; DELETE FROM actions; \
             ALTER TABLE events_1_minutes RENAME TO minute_counts; \
             ALTER TABLE events_1_action_minutes RENAME TO action_minutes;",
        )
        .expect("rename");
        for index in PARTITION_INDEXES {
            conn.execute_batch(&index_sql("events", index))
                .expect("index");
        }
        conn.execute_batch(
            "CREATE VIRTUAL TABLE events_fts USING fts5(body, content='', contentless_delete=1, \
             detail='none'); DELETE FROM partitions; PRAGMA user_version = 2;",
        )
        .expect("old layout");
        let rows: Vec<EventRow> = conn
            .prepare(&format!("SELECT {COLUMNS} FROM events ORDER BY seq"))
            .expect("select")
            .query_map([], EventRow::read)
            .expect("rows")
            .collect::<Result<_, _>>()
            .expect("read");
        for row in rows {
            conn.execute(
                "INSERT INTO events_fts (rowid, body) VALUES (?1, ?2)",
                rusqlite::params![row.seq, row.search_text()],
            )
            .expect("text");
        }
    }

    /// A store written before the summary tables existed gets them filled when it is opened.
    #[tokio::test]
    async fn an_older_store_gets_its_summaries_on_open() {
        let dir = tempfile::tempdir().expect("dir");
        let body: String = (0..5)
            .map(|i| {
                format!(
                    "{{\"@t\":\"2026-01-01T00:0{i}:30Z\",\"@mt\":\"x\",\"Action\":\"a.{}\"}}\n",
                    i % 2
                )
            })
            .collect();
        {
            let store = SqliteStore::open_in(dir.path()).expect("store");
            let events = parse_body(BodyFormat::Clef, body.as_bytes(), &IngestLimits::default())
                .expect("events");
            store
                .append(crate::model::EventSource::api_key("key-test"), events)
                .await
                .expect("append");
        }
        let path = dir.path().join(super::super::DATABASE_FILE);
        into_single_table_layout(&path);
        let summaries = |conn: &Connection| -> (i64, i64, i64) {
            conn.query_row(
                "SELECT (SELECT COUNT(*) FROM action_minutes WHERE action = 'a.0'), \
                 (SELECT SUM(n) FROM action_minutes), (SELECT COUNT(*) FROM seq_blocks)",
                [],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
            )
            .expect("summaries")
        };
        let conn = Connection::open(&path).expect("open");
        let written = summaries(&conn);
        assert_eq!(written, (3, 5, 1));
        conn.execute_batch(
            "DELETE FROM action_minutes; DELETE FROM seq_blocks; PRAGMA user_version = 0;",
        )
        .expect("make it old");
        drop(conn);

        drop(SqliteStore::open_in(dir.path()).expect("reopen"));
        let conn = Connection::open(&path).expect("open");
        assert_eq!(summaries(&conn), written);
        let (min_ts, max_ts): (i64, i64) = conn
            .query_row("SELECT min_ts, max_ts FROM seq_blocks", [], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })
            .expect("block");
        assert_eq!(max_ts - min_ts, 4 * 60_000_000);
    }

    /// A store written before events had a source: its events keep their version-1 hashes,
    /// the column is added when it is opened, and the chain (old events, then new ones with
    /// sources) verifies.
    #[tokio::test]
    async fn a_store_from_before_sources_opens_and_keeps_verifying() {
        let dir = tempfile::tempdir().expect("dir");
        let body = |n: usize| -> String {
            (0..n)
                .map(|i| {
                    format!(
                        "{{\"@t\":\"2026-01-01T00:0{i}:30Z\",\"@mt\":\"x\",\"Action\":\"a.{i}\"}}\n"
                    )
                })
                .collect()
        };
        let parse = |text: String| {
            parse_body(BodyFormat::Clef, text.as_bytes(), &IngestLimits::default()).expect("events")
        };
        {
            let store = SqliteStore::open_in(dir.path()).expect("store");
            store
                .append(
                    crate::model::EventSource::api_key("key-old"),
                    parse(body(3)),
                )
                .await
                .expect("append");
        }
        // Rewrite it as the old layout would have stored it: no source, version-1 hashes.
        let path = dir.path().join(super::super::DATABASE_FILE);
        into_single_table_layout(&path);
        {
            let conn = Connection::open(&path).expect("open");
            let mut rows: Vec<EventRow> = conn
                .prepare(&format!("SELECT {COLUMNS} FROM events ORDER BY seq"))
                .expect("select")
                .query_map([], EventRow::read)
                .expect("rows")
                .collect::<Result<_, _>>()
                .expect("read");
            let mut prev = crate::store::canonical::GENESIS_HASH;
            for row in &mut rows {
                row.source = None;
                let hash = row.canonical().hash(&prev);
                conn.execute(
                    "UPDATE events SET prev_hash = ?1, hash = ?2 WHERE seq = ?3",
                    rusqlite::params![prev.to_vec(), hash.to_vec(), row.seq],
                )
                .expect("rehash");
                prev = hash;
            }
            conn.execute_batch(&format!(
                "DROP INDEX events_source; ALTER TABLE events DROP COLUMN source; \
                 UPDATE chain_state SET head_hash = X'{}', verified_seq = 0, \
                 verified_hash = zeroblob(32);",
                hex::encode(prev)
            ))
            .expect("make it old");
        }

        let store = SqliteStore::open_in(dir.path()).expect("reopen");
        let report = store.verify(true).await.expect("verify");
        assert!(report.ok, "{report:?}");
        assert_eq!(report.verified_count, 3);
        store
            .append(crate::model::EventSource::witness(), parse(body(2)))
            .await
            .expect("append after");
        let report = store.verify(true).await.expect("verify");
        assert!(report.ok, "{report:?}");
        assert_eq!(report.verified_count, 5);
        let page = store
            .query(crate::store::EventQuery {
                filter: Default::default(),
                limit: 10,
                cursor: None,
            })
            .await
            .expect("page");
        let mut events = page.events;
        events.sort_by(|a, b| a.id.cmp(&b.id));
        let sources: Vec<Option<&str>> = events.iter().map(|e| e.source.as_deref()).collect();
        assert_eq!(
            sources,
            [None, None, None, Some("witness"), Some("witness")]
        );
    }
}
