//! The SQLite schema and connection settings.

use rusqlite::Connection;

use crate::store::StoreResult;

/// Applied on every connection: WAL so readers never block the writer, and `synchronous=FULL`
/// so that a commit returns only after the WAL is fsynced (acknowledged means durable).
pub fn configure(conn: &Connection) -> StoreResult<()> {
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "cache_size", -65536)?; // 64 MiB
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    conn.pragma_update(None, "mmap_size", 1i64 << 30)?;
    Ok(())
}

pub const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS events (
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
    hash        BLOB NOT NULL
);
-- Every filter has an index that also orders by time, so a first page is an index range scan.
CREATE INDEX IF NOT EXISTS events_ts          ON events (ts);
CREATE INDEX IF NOT EXISTS events_action      ON events (action, ts);
CREATE INDEX IF NOT EXISTS events_actor_id    ON events (actor_id, ts) WHERE actor_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS events_actor_name  ON events (actor_name, ts) WHERE actor_name IS NOT NULL;
CREATE INDEX IF NOT EXISTS events_actor_email ON events (actor_email, ts) WHERE actor_email IS NOT NULL;
CREATE INDEX IF NOT EXISTS events_target_id   ON events (target_id, ts) WHERE target_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS events_target_name ON events (target_name, ts) WHERE target_name IS NOT NULL;
CREATE INDEX IF NOT EXISTS events_result      ON events (result, ts);
CREATE INDEX IF NOT EXISTS events_client_ip   ON events (client_ip, ts) WHERE client_ip IS NOT NULL;
CREATE INDEX IF NOT EXISTS events_org_id      ON events (org_id, ts) WHERE org_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS events_org_name    ON events (org_name, ts) WHERE org_name IS NOT NULL;
CREATE INDEX IF NOT EXISTS events_ws_id       ON events (ws_id, ts) WHERE ws_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS events_ws_name     ON events (ws_name, ts) WHERE ws_name IS NOT NULL;

-- Free text. Contentless (the text lives in events); rowid = seq.
CREATE VIRTUAL TABLE IF NOT EXISTS events_fts USING fts5(
    body, content='', contentless_delete=1, detail='none'
);

-- Events per minute of event time: the unfiltered histogram without scanning events.
CREATE TABLE IF NOT EXISTS minute_counts (
    minute INTEGER PRIMARY KEY,   -- ts / 60 000 000
    n      INTEGER NOT NULL
) WITHOUT ROWID;

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

-- The admin-editable settings: one row, stored on first start.
CREATE TABLE IF NOT EXISTS settings (
    id                     INTEGER PRIMARY KEY CHECK (id = 1),
    backup_utc_time_of_day TEXT NOT NULL,    -- HH:MM, UTC
    backups_to_keep        INTEGER NOT NULL,
    retention_days         INTEGER NOT NULL
);
"#;

pub fn migrate(conn: &Connection) -> StoreResult<()> {
    conn.execute_batch(SCHEMA)?;
    Ok(())
}
