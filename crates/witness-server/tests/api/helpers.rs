use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use tempfile::TempDir;
use witness_server::apikeys::{generate_token, hash_token, token_prefix};
use witness_server::config::ServeConfig;
use witness_server::startup::Application;
use witness_server::store::{Permission, Store};

/// A running server on a free port with its own data and panel directories.
pub struct TestApp {
    pub address: String,
    pub data_dir: PathBuf,
    pub client: reqwest::Client,
    pub store: Arc<dyn Store>,
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
    configure(&mut config);
    // The configuration may point at a data directory of its own (a restored one, say).
    let data_dir = config.data.data_dir.clone();
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

/// A fresh database on the test cluster when the suite runs on PostgreSQL.
pub async fn fresh_postgres_database() -> Option<String> {
    if std::env::var("WITNESS_TEST_BACKEND").as_deref() != Ok("postgres") {
        return None;
    }
    let base = std::env::var("WITNESS_TEST_POSTGRES_URL").expect("url");
    let (client, connection) = tokio_postgres::connect(&base, tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(connection);
    let name = format!("witness_{}", hex::encode(rand::random::<[u8; 6]>()));
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create db");
    Some(format!("{}/{name}", base.rsplit_once('/').expect("db").0))
}
