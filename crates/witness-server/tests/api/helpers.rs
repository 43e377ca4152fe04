use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use tempfile::TempDir;
use witness_server::apikeys::{generate_token, hash_token, token_prefix};
use witness_server::config::ServeConfig;
use witness_server::startup::Application;
use witness_server::store::sqlite::DATABASE_FILE;
use witness_server::store::sqlite::row::{COLUMNS, EventRow};
use witness_server::store::{Permission, Store};

/// Which store the suite runs against, from `WITNESS_TEST_BACKEND`: SQLite in the data
/// directory (unset or `sqlite`), or a fresh PostgreSQL database per test (`postgres`), made in
/// the cluster at `WITNESS_TEST_POSTGRES_URL` (`scripts/postgres.sh run` starts one and sets
/// it; the Makefile's native-test runs the suite both ways).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub const BACKEND_ENV: &str = "WITNESS_TEST_BACKEND";
pub const POSTGRES_URL_ENV: &str = "WITNESS_TEST_POSTGRES_URL";

impl Backend {
    /// The backend this run of the suite is for; panics on a value it does not know.
    pub fn from_env() -> Backend {
        match std::env::var_os(BACKEND_ENV) {
            None => Backend::Sqlite,
            Some(value) if value == "sqlite" => Backend::Sqlite,
            Some(value) if value == "postgres" => Backend::Postgres,
            Some(other) => {
                panic!("{BACKEND_ENV} must be unset, `sqlite` or `postgres`, not {other:?}")
            }
        }
    }
}

/// A fresh, empty PostgreSQL database when the suite runs against PostgreSQL (its URL), `None`
/// on SQLite: for a test that runs the `witness` command line or builds a server without
/// [`spawn_app_with`], as `--database-url` / `WITNESS_DATABASE_URL`.
pub async fn test_database_url() -> Option<String> {
    match Backend::from_env() {
        Backend::Sqlite => None,
        Backend::Postgres => Some(create_database().await),
    }
}

/// `CREATE DATABASE witness_<random hex>` in the cluster at `WITNESS_TEST_POSTGRES_URL`; its
/// URL is that one with the database name replaced.
async fn create_database() -> String {
    let cluster = std::env::var(POSTGRES_URL_ENV).unwrap_or_else(|_| {
        panic!(
            "{BACKEND_ENV}=postgres needs {POSTGRES_URL_ENV}, the URL of a PostgreSQL cluster to \
             make test databases in; run the suite through `bash scripts/postgres.sh run cargo \
             test ...`, which starts a private cluster and sets it"
        )
    });
    let name = format!("witness_{}", hex::encode(rand::random::<[u8; 8]>()));
    connect_postgres(&cluster)
        .await
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap_or_else(|error| panic!("CREATE DATABASE {name} at {cluster}: {error:?}"));
    with_database_name(&cluster, &name)
}

/// Drops a database [`test_database_url`] made, closing any connection still open to it: for
/// tests that make many (one per generated case) and would otherwise fill the cluster.
pub async fn drop_test_database(url: &str) {
    let cluster = std::env::var(POSTGRES_URL_ENV).expect("the cluster the database is in");
    let (_, rest) = url.split_once("://").expect("a postgres:// URL");
    let path = rest.find('/').map_or("", |start| &rest[start + 1..]);
    let name = path.split('?').next().unwrap_or_default();
    assert!(
        name.starts_with("witness_")
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'),
        "not a test database: {url}"
    );
    connect_postgres(&cluster)
        .await
        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await
        .unwrap_or_else(|error| panic!("DROP DATABASE {name}: {error:?}"));
}

/// `url` (`postgres://[user@]host[:port][/database][?params]`) naming `database` instead.
fn with_database_name(url: &str, database: &str) -> String {
    let (scheme, rest) = url
        .split_once("://")
        .unwrap_or_else(|| panic!("{POSTGRES_URL_ENV} is not a postgres:// URL: {url}"));
    let (authority, tail) = rest.split_at(rest.find(['/', '?']).unwrap_or(rest.len()));
    let params = tail.find('?').map_or("", |start| &tail[start..]);
    format!("{scheme}://{authority}/{database}{params}")
}

/// A connection to the PostgreSQL database at `url`, driven on the test's runtime.
pub async fn connect_postgres(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|error| panic!("cannot connect to {url}: {error:?}"));
    tokio::spawn(async move {
        if let Err(error) = connection.await {
            eprintln!("test connection to PostgreSQL: {error}");
        }
    });
    client
}

/// Tests that run the command line while their own server runs in this process use the
/// multi-thread runtime: waiting for the command blocks a thread, and on a current-thread
/// runtime that thread is the server's too — a command waiting for something the server
/// holds (on PostgreSQL, the schema lock while it makes partitions) would wait forever.
/// The `witness` command line for the store in `data_dir` (and, on PostgreSQL, the database
/// at `database_url`): `WITNESS_DATABASE_URL` is set to it, or removed when `None` so that
/// the environment the tests run in cannot point the command elsewhere.
pub fn witness_command(data_dir: &Path, database_url: Option<&str>) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_witness"));
    command.env("WITNESS_DATA_DIR", data_dir);
    match database_url {
        Some(url) => command.env("WITNESS_DATABASE_URL", url),
        None => command.env_remove("WITNESS_DATABASE_URL"),
    };
    command
}

/// A running server on a free port with its own data and panel directories, and on the
/// PostgreSQL run its own database.
pub struct TestApp {
    pub address: String,
    pub data_dir: PathBuf,
    pub client: reqwest::Client,
    pub store: Arc<dyn Store>,
    /// The store the server runs on: PostgreSQL when its configuration has a database URL.
    pub backend: Backend,
    /// That database's URL (`None` on SQLite, whose store is in `data_dir`).
    pub database_url: Option<String>,
    /// The server's clock: tests move it forward instead of sleeping.
    pub clock: witness_server::clock::Clock,
    _dirs: TempDir,
}

/// The panel the server serves in these tests: a tiny stand-in for trunk's `dist`, enough to
/// check content types, compression and the client-route fallback.
pub const INDEX_HTML: &str =
    "<!DOCTYPE html><html><head><title>Witness</title></head><body></body></html>";
pub const WASM_BYTES: &[u8] = b"\0asm\x01\0\0\0";

pub const ADMIN_PASSWORD: &str = "admin-password-123";

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(configure: impl FnOnce(&mut ServeConfig)) -> TestApp {
    let dirs = tempfile::tempdir().expect("temporary directory");
    let data_dir = dirs.path().join("data");
    let panel_dir = dirs.path().join("dist");
    std::fs::create_dir_all(&panel_dir).expect("panel directory");
    std::fs::write(panel_dir.join("index.html"), INDEX_HTML).expect("index.html");
    std::fs::write(panel_dir.join("witness-panel_bg.wasm"), WASM_BYTES).expect("wasm");
    // Large enough that the compression layer bothers with it.
    let script = "console.log('witness panel');\n".repeat(200);
    std::fs::write(panel_dir.join("witness-panel.js"), script).expect("js");

    let mut config = ServeConfig::new(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        data_dir.clone(),
        panel_dir,
    );
    config.admin_password = Some(ADMIN_PASSWORD.to_string());
    // Before `configure`, which may point the server at a database of its own.
    config.data.database_url = test_database_url().await;
    configure(&mut config);
    // The configuration may point at a data directory of its own (a restored one, say).
    let data_dir = config.data.data_dir.clone();
    let database_url = config.data.database_url.clone();
    let clock = config.clock.clone();
    let backend = match database_url {
        Some(_) => Backend::Postgres,
        None => Backend::Sqlite,
    };
    let app = Application::build(config).await.expect("server builds");
    let address = format!("http://{}", app.local_addr());
    let store = app.store();
    tokio::spawn(app.run_until_stopped());

    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("HTTP client");
    TestApp {
        address,
        data_dir: data_dir.canonicalize().expect("data directory exists"),
        client,
        store,
        backend,
        database_url,
        clock,
        _dirs: dirs,
    }
}

/// A server whose self-audit goes only to a `file:` target beside its data directory, so the
/// store's chain holds exactly what a test ingested (verify and queries are audited too).
pub async fn spawn_app_auditing_to_a_file() -> TestApp {
    spawn_app_with(|config| {
        let dir = config
            .data
            .data_dir
            .parent()
            .map(|parent| parent.join("audit"))
            .expect("the data directory has a parent");
        config.audit.audit_targets = format!("file:{}", dir.display());
    })
    .await
}

/// A logged-in browser-like client: keeps the session cookie, sends the CSRF token.
pub struct Session {
    pub client: reqwest::Client,
    pub csrf: String,
    pub base: String,
    pub user: witness_api::User,
}

impl Session {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request")
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> reqwest::Response {
        let mut request = self
            .client
            .request(method, self.url(path))
            .header("X-CSRF-Token", &self.csrf);
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.expect("request")
    }

    pub async fn post(&self, path: &str, body: serde_json::Value) -> reqwest::Response {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }

    pub async fn put(&self, path: &str, body: serde_json::Value) -> reqwest::Response {
        self.send(reqwest::Method::PUT, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> reqwest::Response {
        self.send(reqwest::Method::DELETE, path, None).await
    }
}

impl TestApp {
    /// Logs in; panics unless the login succeeds.
    pub async fn login(&self, username: &str, password: &str) -> Session {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .build()
            .expect("HTTP client");
        let response = client
            .post(self.url("/api/auth/login"))
            .json(&serde_json::json!({"username": username, "password": password}))
            .send()
            .await
            .expect("request");
        let status = response.status();
        let text = response.text().await.expect("body");
        assert_eq!(status, 200, "login as {username}: {text}");
        let login: witness_api::LoginResponse = serde_json::from_str(&text).expect("login body");
        Session {
            client,
            csrf: login.csrf_token,
            base: self.address.clone(),
            user: login.user,
        }
    }

    pub async fn admin(&self) -> Session {
        self.login("admin", ADMIN_PASSWORD).await
    }

    /// An admin session made directly in the store, without a login (which is itself
    /// audited): for servers whose auditing is down.
    pub async fn admin_session_without_login(&self) -> Session {
        let record = self
            .store
            .find_user("admin")
            .await
            .expect("find admin")
            .expect("admin exists");
        let token = witness_server::sessions::random_token();
        let csrf = witness_server::sessions::random_token();
        let now = chrono::Utc::now();
        self.store
            .create_session(witness_server::store::SessionRecord {
                token_hash: hash_token(&token),
                user_id: record.user.id.clone(),
                csrf_token: csrf.clone(),
                created_at: now,
                expires_at: now + chrono::Duration::hours(1),
            })
            .await
            .expect("session");
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            reqwest::header::COOKIE,
            format!("{}={token}", witness_server::sessions::COOKIE_NAME)
                .parse()
                .expect("cookie header"),
        );
        let client = reqwest::Client::builder()
            .default_headers(headers)
            .build()
            .expect("HTTP client");
        Session {
            client,
            csrf,
            base: self.address.clone(),
            user: record.user,
        }
    }

    /// Creates a user through the API (as admin) and logs in as them.
    pub async fn user_with_role(&self, username: &str, role: &str) -> Session {
        let admin = self.admin().await;
        let password = format!("{username}-password-1");
        let response = admin
            .post(
                "/api/users",
                serde_json::json!({"username": username, "password": password, "role": role}),
            )
            .await;
        assert_eq!(response.status(), 201, "{:?}", response.text().await);
        self.login(username, &password).await
    }

    /// Self-audit records in the local store for `action` (without the `witness.` prefix).
    pub async fn audit_records(&self, action: &str) -> Vec<witness_api::AuditEvent> {
        let filter = witness_api::EventFilter::from_pairs([(
            "action",
            format!("witness.{action}").as_str(),
        )])
        .expect("filter");
        let page = self
            .store
            .query(witness_server::store::EventQuery {
                filter,
                limit: 1000,
                cursor: None,
            })
            .await
            .expect("query");
        page.events
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// The `witness` command line on this server's store: its data directory and, on
    /// PostgreSQL, its database.
    pub fn witness_command(&self) -> Command {
        witness_command(&self.data_dir, self.database_url.as_deref())
    }

    /// A new API key's token.
    pub async fn key(&self, permissions: &[Permission]) -> String {
        let token = generate_token();
        self.store
            .create_api_key(
                "test",
                permissions,
                hash_token(&token),
                &token_prefix(&token),
            )
            .await
            .expect("create API key");
        token
    }

    pub async fn ingest_key(&self) -> String {
        self.key(&[Permission::Ingest]).await
    }

    pub async fn read_key(&self) -> String {
        self.key(&[Permission::Read]).await
    }

    /// POSTs a CLEF body to `/ingest/clef`.
    pub async fn post_clef(&self, key: &str, body: impl Into<reqwest::Body>) -> reqwest::Response {
        self.client
            .post(self.url("/ingest/clef"))
            .header("X-Seq-ApiKey", key)
            .header("Content-Type", "application/vnd.serilog.clef")
            .body(body)
            .send()
            .await
            .expect("request")
    }

    pub async fn get(&self, key: &str, path_and_query: &str) -> reqwest::Response {
        self.client
            .get(self.url(path_and_query))
            .header("X-Seq-ApiKey", key)
            .send()
            .await
            .expect("request")
    }

    pub async fn get_json<T: DeserializeOwned>(&self, key: &str, path_and_query: &str) -> T {
        let response = self.get(key, path_and_query).await;
        let status = response.status();
        let text = response.text().await.expect("body");
        assert_eq!(status, 200, "GET {path_and_query}: {text}");
        serde_json::from_str(&text).unwrap_or_else(|error| panic!("{error}: {text}"))
    }
}

/// One CLEF line for an audit event.
pub fn clef_line(timestamp: &str, action: &str, actor: &str, target: &str, result: &str) -> String {
    serde_json::json!({
        "@t": timestamp,
        "@mt": "{Actor} did {Action} on {Target}",
        "Action": action,
        "Actor": actor,
        "Target": target,
        "Result": result,
        "ClientIp": "10.0.0.7",
        "OrganizationId": "org-1",
        "OrganizationName": "Acme",
    })
    .to_string()
}

/// The events table of the partition that holds `seq`, for tests that change the store behind
/// the server's back.
pub fn events_table(conn: &rusqlite::Connection, seq: i64) -> String {
    let id: i64 = conn
        .query_row(
            "SELECT id FROM partitions WHERE first_seq <= ?1 AND last_seq >= ?1",
            [seq],
            |row| row.get(0),
        )
        .expect("the partition that holds the event");
    witness_server::store::sqlite::partitions::table_name(id)
}

/// A direct connection to a test server's store, for tests that change it behind the
/// server's back as someone who can write the database could.
enum Database {
    Sqlite(rusqlite::Connection),
    Postgres(tokio_postgres::Client),
}

/// The columns of an event row but `seq`, in [`EventRow`]'s order.
fn columns_but_seq() -> Vec<&'static str> {
    COLUMNS
        .split(',')
        .map(str::trim)
        .filter(|column| *column != "seq")
        .collect()
}

/// Every SQLite partition's events table, oldest first.
fn sqlite_events_tables(conn: &rusqlite::Connection) -> Vec<String> {
    conn.prepare("SELECT id FROM partitions ORDER BY first_seq")
        .expect("list partitions")
        .query_map([], |row| row.get::<_, i64>(0))
        .expect("partitions")
        .map(|id| witness_server::store::sqlite::partitions::table_name(id.expect("partition")))
        .collect()
}

/// Reads an `events` row of PostgreSQL (the same column names as SQLite's).
fn postgres_event_row(row: &tokio_postgres::Row) -> EventRow {
    EventRow {
        seq: row.get("seq"),
        ts: row.get("ts"),
        received: row.get("received"),
        action: row.get("action"),
        actor_type: row.get("actor_type"),
        actor_id: row.get("actor_id"),
        actor_name: row.get("actor_name"),
        actor_email: row.get("actor_email"),
        target_type: row.get("target_type"),
        target_id: row.get("target_id"),
        target_name: row.get("target_name"),
        result: row.get("result"),
        status: row.get("status"),
        client_ip: row.get("client_ip"),
        org_id: row.get("org_id"),
        org_name: row.get("org_name"),
        ws_id: row.get("ws_id"),
        ws_name: row.get("ws_name"),
        level: row.get("level"),
        message: row.get("message"),
        details: row.get("details"),
        properties: row.get("properties"),
        prev_hash: row.get("prev_hash"),
        hash: row.get("hash"),
        source: row.get("source"),
    }
}

/// What `verified_hash` holds before verify has checked anything.
const NO_HASH: [u8; 32] = [0; 32];

/// Tampering with the store behind the server's back, as someone who can write its database
/// (but does not have the secret key) could: the same change on either backend. On SQLite the
/// events are in the partition tables (`events_table`), on PostgreSQL in `events`, which
/// routes rows to its partitions itself.
impl TestApp {
    async fn database(&self) -> Database {
        match (self.backend, &self.database_url) {
            (Backend::Postgres, Some(url)) => Database::Postgres(connect_postgres(url).await),
            (Backend::Postgres, None) => unreachable!("a PostgreSQL store has a database URL"),
            (Backend::Sqlite, _) => {
                let conn = rusqlite::Connection::open(self.data_dir.join(DATABASE_FILE))
                    .expect("open the store directly");
                conn.busy_timeout(std::time::Duration::from_secs(5))
                    .expect("busy timeout");
                Database::Sqlite(conn)
            }
        }
    }

    /// Sets the text `column` of event `seq` to `value`.
    pub async fn tamper_event(&self, seq: i64, column: &str, value: &str) {
        let changed = match self.database().await {
            Database::Sqlite(conn) => {
                let table = events_table(&conn, seq);
                conn.execute(
                    &format!("UPDATE {table} SET {column} = ?1 WHERE seq = ?2"),
                    rusqlite::params![value, seq],
                )
                .expect("tamper") as u64
            }
            Database::Postgres(client) => client
                .execute(
                    &format!("UPDATE events SET {column} = $1 WHERE seq = $2"),
                    &[&value, &seq],
                )
                .await
                .expect("tamper"),
        };
        assert_eq!(changed, 1, "event {seq} is stored");
    }

    /// Deletes event `seq`.
    pub async fn delete_event(&self, seq: i64) {
        let deleted = match self.database().await {
            Database::Sqlite(conn) => {
                let table = events_table(&conn, seq);
                conn.execute(&format!("DELETE FROM {table} WHERE seq = ?1"), [seq])
                    .expect("delete") as u64
            }
            Database::Postgres(client) => client
                .execute("DELETE FROM events WHERE seq = $1", &[&seq])
                .await
                .expect("delete"),
        };
        assert_eq!(deleted, 1, "event {seq} is stored");
    }

    /// Deletes every event after `seq` (cuts the chain's tail); returns how many.
    pub async fn delete_events_after(&self, seq: i64) -> u64 {
        let deleted = match self.database().await {
            Database::Sqlite(conn) => sqlite_events_tables(&conn)
                .iter()
                .map(|table| {
                    conn.execute(&format!("DELETE FROM {table} WHERE seq > ?1"), [seq])
                        .expect("delete") as u64
                })
                .sum(),
            Database::Postgres(client) => client
                .execute("DELETE FROM events WHERE seq > $1", &[&seq])
                .await
                .expect("delete"),
        };
        assert!(deleted > 0, "there are events after {seq}");
        deleted
    }

    /// Swaps everything but the sequence number between events `a` and `b`.
    pub async fn swap_events(&self, a: i64, b: i64) {
        match self.database().await {
            Database::Sqlite(conn) => {
                // Both in one partition (the tests' events arrive in one batch).
                let table = events_table(&conn, a);
                conn.execute_batch(&format!(
                    "UPDATE {table} SET seq = -{a} WHERE seq = {a};
                     UPDATE {table} SET seq = {a} WHERE seq = {b};
                     UPDATE {table} SET seq = {b} WHERE seq = -{a};"
                ))
                .expect("swap");
            }
            Database::Postgres(client) => {
                // Every other column from the other row, in one statement (the rows keep their
                // seq, so the table's partitioning has nothing to move for it).
                let set = columns_but_seq()
                    .iter()
                    .map(|column| format!("{column} = other.{column}"))
                    .collect::<Vec<_>>()
                    .join(", ");
                let swapped = client
                    .execute(
                        &format!(
                            "UPDATE events AS e SET {set} FROM events AS other \
                             WHERE (e.seq = $1 AND other.seq = $2) \
                                OR (e.seq = $2 AND other.seq = $1)"
                        ),
                        &[&a, &b],
                    )
                    .await
                    .expect("swap");
                assert_eq!(swapped, 2, "events {a} and {b} are stored");
            }
        }
    }

    /// The stored hash of event `seq`.
    pub async fn event_hash(&self, seq: i64) -> Vec<u8> {
        match self.database().await {
            Database::Sqlite(conn) => {
                let table = events_table(&conn, seq);
                conn.query_row(
                    &format!("SELECT hash FROM {table} WHERE seq = ?1"),
                    [seq],
                    |row| row.get(0),
                )
                .expect("the event's hash")
            }
            Database::Postgres(client) => client
                .query_one("SELECT hash FROM events WHERE seq = $1", &[&seq])
                .await
                .expect("the event's hash")
                .get(0),
        }
    }

    /// Every stored event as its row, in storage order.
    pub async fn event_rows(&self) -> Vec<EventRow> {
        match self.database().await {
            Database::Sqlite(conn) => sqlite_events_tables(&conn)
                .iter()
                .flat_map(|table| {
                    conn.prepare(&format!("SELECT {COLUMNS} FROM {table} ORDER BY seq"))
                        .expect("select")
                        .query_map([], EventRow::read)
                        .expect("rows")
                        .collect::<Result<Vec<_>, _>>()
                        .expect("read")
                })
                .collect(),
            Database::Postgres(client) => client
                .query(&format!("SELECT {COLUMNS} FROM events ORDER BY seq"), &[])
                .await
                .expect("select")
                .iter()
                .map(postgres_event_row)
                .collect(),
        }
    }

    /// Stores `row` over the event with its seq: every column as the row has it.
    pub async fn overwrite_event(&self, row: &EventRow) {
        let columns = columns_but_seq();
        let set = |placeholder: &str| {
            columns
                .iter()
                .enumerate()
                .map(|(i, column)| format!("{column} = {placeholder}{}", i + 1))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let seq_param = columns.len() + 1;
        let changed = match self.database().await {
            Database::Sqlite(conn) => {
                let table = events_table(&conn, row.seq);
                conn.execute(
                    &format!("UPDATE {table} SET {} WHERE seq = ?{seq_param}", set("?")),
                    rusqlite::params![
                        row.ts,
                        row.received,
                        row.action,
                        row.actor_type,
                        row.actor_id,
                        row.actor_name,
                        row.actor_email,
                        row.target_type,
                        row.target_id,
                        row.target_name,
                        row.result,
                        row.status,
                        row.client_ip,
                        row.org_id,
                        row.org_name,
                        row.ws_id,
                        row.ws_name,
                        row.level,
                        row.message,
                        row.details,
                        row.properties,
                        row.prev_hash,
                        row.hash,
                        row.source,
                        row.seq,
                    ],
                )
                .expect("overwrite") as u64
            }
            Database::Postgres(client) => client
                .execute(
                    &format!("UPDATE events SET {} WHERE seq = ${seq_param}", set("$")),
                    &[
                        &row.ts,
                        &row.received,
                        &row.action,
                        &row.actor_type,
                        &row.actor_id,
                        &row.actor_name,
                        &row.actor_email,
                        &row.target_type,
                        &row.target_id,
                        &row.target_name,
                        &row.result,
                        &row.status,
                        &row.client_ip,
                        &row.org_id,
                        &row.org_name,
                        &row.ws_id,
                        &row.ws_name,
                        &row.level,
                        &row.message,
                        &row.details,
                        &row.properties,
                        &row.prev_hash,
                        &row.hash,
                        &row.source,
                        &row.seq,
                    ],
                )
                .await
                .expect("overwrite"),
        };
        assert_eq!(changed, 1, "event {} is stored", row.seq);
    }

    /// Sets the chain's recorded head (`chain_state.head_seq` and `head_hash`).
    pub async fn set_chain_head(&self, seq: i64, hash: &[u8]) {
        let changed = match self.database().await {
            Database::Sqlite(conn) => conn
                .execute(
                    "UPDATE chain_state SET head_seq = ?1, head_hash = ?2",
                    rusqlite::params![seq, hash],
                )
                .expect("set the head") as u64,
            Database::Postgres(client) => client
                .execute(
                    "UPDATE chain_state SET head_seq = $1, head_hash = $2",
                    &[&seq, &hash],
                )
                .await
                .expect("set the head"),
        };
        assert_eq!(changed, 1, "chain_state has its one row");
    }

    /// Sets the recorded head's hash only (`chain_state.head_hash`).
    pub async fn set_chain_head_hash(&self, hash: &[u8]) {
        let changed = match self.database().await {
            Database::Sqlite(conn) => conn
                .execute("UPDATE chain_state SET head_hash = ?1", [hash])
                .expect("set the head's hash") as u64,
            Database::Postgres(client) => client
                .execute("UPDATE chain_state SET head_hash = $1", &[&hash])
                .await
                .expect("set the head's hash"),
        };
        assert_eq!(changed, 1, "chain_state has its one row");
    }

    /// Forgets how far verify has checked (`chain_state.verified_seq` = 0 and
    /// `verified_hash` = zeros, as in a new store).
    pub async fn forget_verified_point(&self) {
        let zeros = NO_HASH.as_slice();
        let changed = match self.database().await {
            Database::Sqlite(conn) => conn
                .execute(
                    "UPDATE chain_state SET verified_seq = 0, verified_hash = ?1",
                    [zeros],
                )
                .expect("forget the verified point") as u64,
            Database::Postgres(client) => client
                .execute(
                    "UPDATE chain_state SET verified_seq = 0, verified_hash = $1",
                    &[&zeros],
                )
                .await
                .expect("forget the verified point"),
        };
        assert_eq!(changed, 1, "chain_state has its one row");
    }
}
