//! The PostgreSQL schema, its migrations, and the daily partitions of `events`.
//!
//! Events are partitioned by **arrival** (`received`, one range partition per UTC day), like
//! the SQLite store's partitions: retention removes a prefix of the chain by arrival, so
//! whole days of arrival are whole partitions it drops, while a partition by event time would
//! hold late events that belong to a later part of the chain. Queries by event time use each
//! partition's `(…, ts)` indexes.

use deadpool_postgres::GenericClient;

use crate::store::StoreResult;

use super::pg_error;

/// Serialises migrations and partition creation between servers starting at once.
pub const SCHEMA_LOCK: i64 = 0x5749_544e_0001;

pub const MICROS_PER_DAY: i64 = 86_400_000_000;

/// Each migration runs once, in order, in one transaction with the schema lock held.
const MIGRATIONS: [&str; 2] = [
    r#"
CREATE TABLE chain_state (
    id            integer PRIMARY KEY CHECK (id = 1),
    head_seq      bigint NOT NULL,   -- newest event stored (0: none yet)
    head_hash     bytea NOT NULL,
    last_received bigint NOT NULL,   -- arrival time of the newest event (µs): never goes back
    anchor_seq    bigint NOT NULL,   -- newest event deleted by retention (0: none)
    anchor_hash   bytea NOT NULL,    -- its hash: the prev_hash of the oldest event kept
    verified_seq  bigint NOT NULL,   -- verify has checked everything up to here
    verified_hash bytea NOT NULL
);
INSERT INTO chain_state VALUES
    (1, 0, '\x0000000000000000000000000000000000000000000000000000000000000000', 0,
     0, '\x0000000000000000000000000000000000000000000000000000000000000000',
     0, '\x0000000000000000000000000000000000000000000000000000000000000000');

-- Text compares byte by byte (COLLATE "C"), as SQLite's does: the same order everywhere,
-- and `LIKE 'prefix%'` can use an index.
CREATE TABLE events (
    seq         bigint NOT NULL,
    ts          bigint NOT NULL,            -- event time, µs since 1970
    received    bigint NOT NULL,            -- arrival time, µs since 1970
    action      text COLLATE "C" NOT NULL,
    actor_type  text COLLATE "C" NOT NULL,
    actor_id    text COLLATE "C",
    actor_name  text COLLATE "C",
    actor_email text COLLATE "C",
    target_type text COLLATE "C",
    target_id   text COLLATE "C",
    target_name text COLLATE "C",
    result      text COLLATE "C" NOT NULL,
    status      text COLLATE "C",
    client_ip   text COLLATE "C",
    org_id      text COLLATE "C",
    org_name    text COLLATE "C",
    ws_id       text COLLATE "C",
    ws_name     text COLLATE "C",
    level       text NOT NULL,
    message     text NOT NULL,
    details     text NOT NULL,              -- canonical JSON
    properties  text NOT NULL,              -- canonical JSON
    prev_hash   bytea NOT NULL,
    hash        bytea NOT NULL,
    source      text COLLATE "C",
    words       text[] NOT NULL             -- witness_api::index_words of the event's text
) PARTITION BY RANGE (received);

CREATE INDEX events_seq ON events (seq);
CREATE INDEX events_received ON events (received, seq);
CREATE INDEX events_ts ON events (ts, seq);
CREATE INDEX events_action ON events (action, ts);
CREATE INDEX events_actor_id ON events (actor_id, ts) WHERE actor_id IS NOT NULL;
CREATE INDEX events_actor_name ON events (actor_name, ts) WHERE actor_name IS NOT NULL;
CREATE INDEX events_actor_email ON events (actor_email, ts) WHERE actor_email IS NOT NULL;
CREATE INDEX events_target_id ON events (target_id, ts) WHERE target_id IS NOT NULL;
CREATE INDEX events_target_name ON events (target_name, ts) WHERE target_name IS NOT NULL;
CREATE INDEX events_result ON events (result, ts);
CREATE INDEX events_client_ip ON events (client_ip, ts) WHERE client_ip IS NOT NULL;
CREATE INDEX events_org_id ON events (org_id, ts) WHERE org_id IS NOT NULL;
CREATE INDEX events_org_name ON events (org_name, ts) WHERE org_name IS NOT NULL;
CREATE INDEX events_ws_id ON events (ws_id, ts) WHERE ws_id IS NOT NULL;
CREATE INDEX events_ws_name ON events (ws_name, ts) WHERE ws_name IS NOT NULL;
CREATE INDEX events_source ON events (source, ts) WHERE source IS NOT NULL;
-- PostgreSQL's full-text index over the words Witness splits, so that the index and the
-- live tail's matcher agree word for word.
CREATE INDEX events_words ON events USING gin (array_to_tsvector(words));

-- Events per minute of event time and action, per day of arrival (so retention can forget a
-- dropped day's counts): histograms without filters, or filtered by action, are sums of it.
CREATE TABLE event_minutes (
    minute bigint NOT NULL,                 -- ts / 60 000 000, rounded down
    action text COLLATE "C" NOT NULL,
    day    bigint NOT NULL,                 -- received / 86 400 000 000, rounded down
    n      bigint NOT NULL,
    PRIMARY KEY (minute, action, day)
);
CREATE INDEX event_minutes_day ON event_minutes (day);
-- Histograms filtered by action read only that action's minutes.
CREATE INDEX event_minutes_action ON event_minutes (action, minute);
-- The same counts for all actions together: what a histogram without filters sums (one row
-- per minute and day instead of one per minute, action and day).
CREATE TABLE event_minute_totals (
    minute bigint NOT NULL,
    day    bigint NOT NULL,
    n      bigint NOT NULL,
    PRIMARY KEY (minute, day)
);

-- What each day of arrival holds: its event-time range and its seqs. Pages walk the
-- partitions newest first through this and stop as soon as no partition left can hold a row
-- of the page, so a query plans over one partition at a time, not every day kept.
CREATE TABLE partition_bounds (
    day       bigint PRIMARY KEY,
    min_ts    bigint NOT NULL,
    max_ts    bigint NOT NULL,
    first_seq bigint NOT NULL,
    last_seq  bigint NOT NULL
);

CREATE TABLE users (
    id            text PRIMARY KEY,
    username      text COLLATE "C" NOT NULL UNIQUE,
    display_name  text,
    email         text,
    role          text NOT NULL,
    password_hash text NOT NULL,
    created_at    bigint NOT NULL
);

CREATE TABLE sessions (
    token_hash bytea PRIMARY KEY,
    user_id    text NOT NULL,
    csrf_token text NOT NULL,
    created_at bigint NOT NULL,
    expires_at bigint NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_keys (
    id           text PRIMARY KEY,
    title        text NOT NULL,
    permissions  text NOT NULL,       -- comma-separated: ingest, read
    token_hash   bytea NOT NULL UNIQUE,
    token_prefix text NOT NULL,
    created_at   bigint NOT NULL,
    revoked_at   bigint
);

-- One row per scheduled job run: whichever server inserts it runs the job (Store::claim_job).
CREATE TABLE job_claims (
    job        text NOT NULL,
    slot       bigint NOT NULL,
    claimed_at bigint NOT NULL,
    PRIMARY KEY (job, slot)
);

CREATE TABLE settings (
    id                     integer PRIMARY KEY CHECK (id = 1),
    backup_utc_time_of_day text NOT NULL,
    backups_to_keep        bigint NOT NULL,
    retention_days         bigint NOT NULL
);
"#,
    // Each user's saved views of the Audit logs tab, removed with the user.
    r#"
CREATE TABLE saved_views (
    id         text PRIMARY KEY,
    user_id    text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name       text COLLATE "C" NOT NULL,
    query      text NOT NULL,
    created_at bigint NOT NULL,
    UNIQUE (user_id, name)
);
"#,
];

/// Brings the schema up to date. Safe when several servers start at once: the first takes
/// the lock and migrates, the others wait and find nothing left to do.
pub async fn migrate(client: &mut deadpool_postgres::Client) -> StoreResult<()> {
    let tx = client.transaction().await.map_err(pg_error)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK])
        .await
        .map_err(pg_error)?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS witness_schema (version integer NOT NULL); \
         INSERT INTO witness_schema SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM witness_schema);",
    )
    .await
    .map_err(pg_error)?;
    let version: i32 = tx
        .query_one("SELECT version FROM witness_schema", &[])
        .await
        .map_err(pg_error)?
        .get(0);
    for (index, migration) in MIGRATIONS.iter().enumerate() {
        let target = index as i32 + 1;
        if version < target {
            tx.batch_execute(migration).await.map_err(pg_error)?;
            tx.execute("UPDATE witness_schema SET version = $1", &[&target])
                .await
                .map_err(pg_error)?;
        }
    }
    tx.commit().await.map_err(pg_error)
}

/// The UTC day of arrival time `received` (µs).
pub fn day_of(received: i64) -> i64 {
    received.div_euclid(MICROS_PER_DAY)
}

pub fn partition_name(day: i64) -> String {
    let date = chrono::DateTime::from_timestamp(day * 86_400, 0)
        .map(|time| time.format("%Y%m%d").to_string())
        .unwrap_or_else(|| format!("d{day}"));
    format!("events_{date}")
}

/// Creates the partitions for `days` that do not exist yet (creating one locks `events` for
/// a moment, which is why the next days' are made ahead of time).
pub async fn ensure_partitions(client: &impl GenericClient, days: &[i64]) -> StoreResult<()> {
    client
        .execute("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK])
        .await
        .map_err(pg_error)?;
    for &day in days {
        let sql = format!(
            "CREATE TABLE IF NOT EXISTS {} PARTITION OF events FOR VALUES FROM ({}) TO ({})",
            partition_name(day),
            day * MICROS_PER_DAY,
            (day + 1) * MICROS_PER_DAY
        );
        client.batch_execute(&sql).await.map_err(pg_error)?;
    }
    Ok(())
}

/// The partitions of `events` as (day, table name), oldest first.
pub async fn partitions(client: &impl GenericClient) -> StoreResult<Vec<(i64, String)>> {
    let rows = client
        .query(
            "SELECT c.relname::text, pg_get_expr(c.relpartbound, c.oid) \
             FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid \
             WHERE i.inhparent = 'events'::regclass",
            &[],
        )
        .await
        .map_err(pg_error)?;
    let mut found = Vec::new();
    for row in rows {
        let name: String = row.get(0);
        let bound: String = row.get(1);
        // FOR VALUES FROM ('…') TO ('…'): the lower bound is the day's first microsecond.
        let lower = bound
            .split(['(', ')', '\''])
            .find_map(|part| part.trim().parse::<i64>().ok());
        if let Some(lower) = lower {
            found.push((day_of(lower), name));
        }
    }
    found.sort();
    Ok(found)
}
