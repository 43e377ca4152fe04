//! The secret key and backups from the command line: `witness show-key`, `witness backup`,
//! `witness restore`, run as real processes; a full round trip into a fresh directory; every
//! kind of bad file refused with nothing changed.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

use serde_json::json;
use witness_api::{ApiKey, BackupInfo, CreatedApiKey, Settings, User};
use witness_server::config::ServeConfig;
use witness_server::startup::Application;
use witness_server::store::{ConfigSnapshot, SqliteStore, Store};

use crate::helpers::{
    ADMIN_PASSWORD, TestApp, clef_line, connect_postgres, spawn_app, spawn_app_with,
    test_database_url, witness_command,
};

/// `witness` on the store in `data_dir`, or on PostgreSQL in the database at `database_url`.
pub fn witness(data_dir: &Path, database_url: Option<&str>, args: &[&str]) -> Output {
    witness_command(data_dir, database_url)
        .args(args)
        .env_remove("WITNESS_STORAGE_SECRETKEY")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .output()
        .expect("run witness")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn file_key(data_dir: &Path) -> String {
    std::fs::read_to_string(data_dir.join("secret.key"))
        .expect("key file")
        .trim()
        .to_string()
}

pub async fn back_up_now(app: &TestApp) -> PathBuf {
    let admin = app.admin().await;
    let response = admin.post("/api/backups", json!({})).await;
    assert_eq!(response.status(), 201);
    let info: BackupInfo = response.json().await.expect("backup");
    app.data_dir.join("Backups").join(info.file_name)
}

/// Users, keys and settings as the API shows them.
async fn configuration(app: &TestApp) -> (Vec<User>, Vec<ApiKey>, Settings) {
    let admin = app.admin().await;
    let users: Vec<User> = admin.get("/api/users").await.json().await.expect("users");
    let keys: Vec<ApiKey> = admin.get("/api/apikeys").await.json().await.expect("keys");
    let settings: Settings = admin
        .get("/api/settings")
        .await
        .json()
        .await
        .expect("settings");
    (users, keys, settings)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn round_trip_into_a_fresh_directory() {
    // The source: users, keys (one revoked), changed settings.
    let source = spawn_app().await;
    let admin = source.admin().await;
    for (name, role) in [("carol", "auditor"), ("dave", "admin")] {
        let response = admin
            .post(
                "/api/users",
                json!({"username": name, "password": format!("{name}-password-1"), "role": role,
                       "display_name": format!("{name} display"), "email": format!("{name}@example.com")}),
            )
            .await;
        assert_eq!(response.status(), 201);
    }
    let mut tokens = Vec::new();
    for (title, permission) in [
        ("ingest app", "ingest"),
        ("reader", "read"),
        ("old", "ingest"),
    ] {
        let created: CreatedApiKey = admin
            .post(
                "/api/apikeys",
                json!({"title": title, "permissions": [permission]}),
            )
            .await
            .json()
            .await
            .expect("key");
        tokens.push(created);
    }
    assert_eq!(
        admin
            .delete(&format!("/api/apikeys/{}", tokens[2].key.id))
            .await
            .status(),
        204
    );
    let response = admin
        .put(
            "/api/settings",
            json!({"backup_utc_time_of_day": "04:30", "backups_to_keep": 12, "retention_days": 99}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let before = configuration(&source).await;
    let backup = back_up_now(&source).await;

    // The key, as an admin would save it.
    let shown = witness(
        &source.data_dir,
        source.database_url.as_deref(),
        &["show-key"],
    );
    assert!(shown.status.success(), "{shown:?}");
    let key = stdout(&shown).trim().to_string();
    assert_eq!(key, file_key(&source.data_dir));

    let target_root = tempfile::tempdir().expect("dir");
    let target = target_root.path().join("restored");
    let target_database = test_database_url().await;
    let restored = witness(
        &target,
        target_database.as_deref(),
        &[
            "restore",
            "-y",
            "--backup",
            backup.to_str().expect("path"),
            "--secret-key",
            &key,
        ],
    );
    assert!(restored.status.success(), "{restored:?}");
    let text = stdout(&restored);
    assert!(text.contains("Restored 3 users, 3 API keys"), "{text}");
    assert_eq!(
        file_key(&target),
        key,
        "the key is kept with the restored data"
    );

    let app = spawn_app_with(|config| {
        config.data.data_dir = target.clone();
        config.data.database_url = target_database.clone();
    })
    .await;
    let after = configuration(&app).await;
    assert_eq!(after, before, "the same users, keys and settings");
    for (name, _) in [("carol", ""), ("dave", "")] {
        app.login(name, &format!("{name}-password-1")).await;
    }
    app.login("admin", ADMIN_PASSWORD).await;
    let line = clef_line(
        "2026-11-20T10:00:00Z",
        "restored.ingest",
        "x",
        "t",
        "success",
    );
    assert_eq!(
        app.post_clef(&tokens[0].token, line.clone()).await.status(),
        201
    );
    assert_eq!(
        app.get(&tokens[1].token, "/api/audit/events?action=restored.ingest")
            .await
            .status(),
        200
    );
    assert_eq!(
        app.post_clef(&tokens[2].token, line).await.status(),
        401,
        "a revoked key stays revoked"
    );
    let diagnostics: witness_api::Diagnostics = app
        .admin()
        .await
        .get("/api/diagnostics")
        .await
        .json()
        .await
        .expect("diagnostics");
    assert_eq!(
        diagnostics
            .next_backup_at
            .map(|t| t.format("%H:%M").to_string()),
        Some("04:30".to_string()),
        "the restored schedule is in force"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn from_latest_restores_the_newest_backup_with_the_key_file() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    back_up_now(&app).await;
    let response = admin
        .post(
            "/api/users",
            json!({"username": "eve", "password": "eve-password-1", "role": "auditor"}),
        )
        .await;
    assert_eq!(response.status(), 201);
    let newest = back_up_now(&app).await;
    let response = admin
        .post(
            "/api/users",
            json!({"username": "frank", "password": "frank-password-1", "role": "auditor"}),
        )
        .await;
    assert_eq!(response.status(), 201);

    let restored = witness(
        &app.data_dir,
        app.database_url.as_deref(),
        &["restore", "-y", "--from-latest"],
    );
    assert!(restored.status.success(), "{restored:?}");
    let text = stdout(&restored);
    assert!(
        text.contains(newest.to_str().expect("path")),
        "names the file it used: {text}"
    );
    let users: Vec<String> = configuration(&app)
        .await
        .0
        .into_iter()
        .map(|u| u.username)
        .collect();
    assert_eq!(
        users,
        ["admin", "eve"],
        "frank came after the newest backup"
    );
    // Sessions ended with the restore.
    assert_eq!(admin.get("/api/users").await.status(), 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_command_and_show_key() {
    let app = spawn_app().await;
    let witness_on_app = |args: &[&str]| witness(&app.data_dir, app.database_url.as_deref(), args);
    let made = witness_on_app(&["backup"]);
    assert!(made.status.success(), "{made:?}");
    assert!(
        stdout(&made).contains("Created backup witness-backup-"),
        "{made:?}"
    );
    let listed: Vec<BackupInfo> = app
        .admin()
        .await
        .get("/api/backups")
        .await
        .json()
        .await
        .expect("list");
    assert_eq!(listed.len(), 1);

    // The key from the environment wins over the file.
    let generated = witness_on_app(&["show-key", "--generate"]);
    assert!(generated.status.success());
    let fresh = stdout(&generated).trim().to_string();
    assert_eq!(fresh.len(), 44);
    assert_ne!(fresh, file_key(&app.data_dir), "--generate changes nothing");
    let again = stdout(&witness_on_app(&["show-key", "--generate"]));
    assert_ne!(again.trim(), fresh, "random every time");
    let from_env = app
        .witness_command()
        .args(["show-key"])
        .env("WITNESS_STORAGE_SECRETKEY", &fresh)
        .output()
        .expect("run");
    assert_eq!(stdout(&from_env).trim(), fresh);

    // An empty data directory (and on PostgreSQL an empty database): no key, no store.
    let empty = tempfile::tempdir().expect("dir");
    let empty_database = test_database_url().await;
    let witness = |args: &[&str]| witness(empty.path(), empty_database.as_deref(), args);
    let none = witness(&["show-key"]);
    assert!(!none.status.success());
    assert!(stderr(&none).contains("no secret key yet"), "{none:?}");
    let generated = witness(&["show-key", "--generate"]);
    assert!(generated.status.success());
    assert!(!empty.path().join("secret.key").exists(), "nothing written");
    let no_store = witness(&["backup"]);
    assert!(!no_store.status.success());
    assert!(
        stderr(&no_store).contains("no Witness store"),
        "{no_store:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_key_is_a_clear_startup_error() {
    let database = test_database_url().await;
    for (bad, expected) in [
        ("not base64 at all!", "not valid base64"),
        ("c2hvcnQ=", "decodes to 5 bytes"),
    ] {
        let dir = tempfile::tempdir().expect("dir");
        let mut config = ServeConfig::new(
            std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
            dir.path().join("data"),
            dir.path().join("dist"),
        );
        config.data.database_url = database.clone();
        config.secret.secret_key = Some(bad.to_string());
        let error = Application::build(config)
            .await
            .err()
            .map(|error| format!("{error:#}"))
            .expect("refused");
        assert!(
            error.contains("WITNESS_STORAGE_SECRETKEY") && error.contains(expected),
            "{error}"
        );
        assert!(!error.contains(bad), "the value is not repeated: {error}");
    }
    // The real binary says so and exits.
    let dir = tempfile::tempdir().expect("dir");
    let output = witness_command(dir.path(), database.as_deref())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("WITNESS_PANEL_DIR", dir.path())
        .env("WITNESS_STORAGE_SECRETKEY", "c2hvcnQ=")
        .env("RUST_LOG", "error")
        .output()
        .expect("run");
    assert!(!output.status.success());
    assert!(stderr(&output).contains("decodes to 5 bytes"), "{output:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_start_generates_the_key_and_says_to_save_it() {
    let dir = tempfile::tempdir().expect("dir");
    let database = test_database_url().await;
    let mut child = witness_command(dir.path(), database.as_deref())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("WITNESS_PANEL_DIR", dir.path())
        .env("WITNESS_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env_remove("WITNESS_STORAGE_SECRETKEY")
        .env("RUST_LOG", "error")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start");
    let mut lines = Vec::new();
    if let Some(out) = child.stdout.take() {
        for line in BufReader::new(out).lines().take(10) {
            let line = line.expect("line");
            let done = line.contains("Witness is listening");
            lines.push(line);
            if done {
                break;
            }
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let text = lines.join("\n");
    assert!(
        text.contains("Generated a new storage secret key"),
        "{text}"
    );
    assert!(text.contains("witness show-key"), "{text}");
    assert!(
        !text.contains(&file_key(dir.path())),
        "the key itself is not printed"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("secret.key"))
            .expect("key file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

/// A store to restore into: a data directory and, on PostgreSQL, a database.
struct Target {
    dir: tempfile::TempDir,
    database_url: Option<String>,
}

impl Target {
    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn witness(&self, args: &[&str]) -> Output {
        witness(self.path(), self.database_url.as_deref(), args)
    }
}

/// A store with one admin and one API key, made by the command line.
async fn target_with_data() -> Target {
    let target = Target {
        dir: tempfile::tempdir().expect("dir"),
        database_url: test_database_url().await,
    };
    let added = target.witness(&[
        "user",
        "add",
        "zoe",
        "--role",
        "admin",
        "--password",
        "zoe-password-1",
    ]);
    assert!(added.status.success(), "{added:?}");
    let key = target.witness(&["apikey", "create", "--title", "target key"]);
    assert!(key.status.success(), "{key:?}");
    target
}

/// The users, API keys and settings a target's store holds.
#[derive(Debug, PartialEq)]
enum Snapshot {
    /// As the SQLite store exports them.
    Sqlite(ConfigSnapshot),
    /// The rows of those tables in PostgreSQL, as JSON, by table.
    Postgres(BTreeMap<&'static str, Vec<String>>),
}

impl Snapshot {
    fn users(&self) -> usize {
        match self {
            Snapshot::Sqlite(snapshot) => snapshot.users.len(),
            Snapshot::Postgres(tables) => tables["users"].len(),
        }
    }
}

async fn snapshot(target: &Target) -> Snapshot {
    match &target.database_url {
        None => Snapshot::Sqlite(
            SqliteStore::open_in(target.path())
                .expect("store")
                .export_config()
                .await
                .expect("export"),
        ),
        Some(url) => {
            // What a backup holds (ConfigSnapshot), read without a store: every row of each
            // table, so that any change shows.
            let client = connect_postgres(url).await;
            let mut tables = BTreeMap::new();
            for table in ["users", "api_keys", "settings"] {
                let rows = client
                    .query(
                        &format!(
                            "SELECT row_to_json(t)::text FROM {table} AS t \
                             ORDER BY row_to_json(t)::text"
                        ),
                        &[],
                    )
                    .await
                    .unwrap_or_else(|error| panic!("read {table}: {error:?}"));
                tables.insert(table, rows.iter().map(|row| row.get(0)).collect());
            }
            Snapshot::Postgres(tables)
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_file_is_refused_by_name_and_nothing_changes() {
    let source = spawn_app().await;
    let good_path = back_up_now(&source).await;
    let good = std::fs::read(&good_path).expect("backup");
    let key = file_key(&source.data_dir);
    let other_key = stdout(&witness(
        &source.data_dir,
        source.database_url.as_deref(),
        &["show-key", "--generate"],
    ))
    .trim()
    .to_string();

    let target = target_with_data().await;
    let before = snapshot(&target).await;
    assert_eq!(before.users(), 1);
    let files = tempfile::tempdir().expect("dir");
    let write = |name: &str, bytes: &[u8]| {
        let path = files.path().join(name);
        std::fs::write(&path, bytes).expect("write");
        path
    };
    let flip = |index: usize| {
        let mut bytes = good.clone();
        bytes[index] ^= 0x01;
        bytes
    };
    let mut version = good.clone();
    version[9] = 7;
    let mut longer = good.clone();
    longer.extend_from_slice(b"extra");
    let cases: Vec<(&str, PathBuf, &str, &str)> = vec![
        (
            "wrong key",
            good_path.clone(),
            other_key.as_str(),
            "wrong secret key",
        ),
        (
            "truncated",
            write("truncated.wbk", &good[..good.len() - 10]),
            &key,
            "truncated",
        ),
        (
            "truncated header",
            write("short.wbk", &good[..30]),
            &key,
            "truncated",
        ),
        ("empty", write("empty.wbk", b""), &key, "truncated"),
        (
            "flipped ciphertext byte",
            write("flipped.wbk", &flip(good.len() / 2 + 23)),
            &key,
            "damaged",
        ),
        (
            "flipped tag byte",
            write("tag.wbk", &flip(good.len() - 1)),
            &key,
            "damaged",
        ),
        (
            "flipped time byte",
            write("time.wbk", &flip(15)),
            &key,
            "damaged",
        ),
        (
            "unknown version",
            write("version.wbk", &version),
            &key,
            "format version 7",
        ),
        (
            "bad magic",
            write("magic.wbk", &flip(0)),
            &key,
            "not a Witness backup",
        ),
        (
            "not a backup at all",
            write("text.wbk", b"hello, this is a text file"),
            &key,
            "not a Witness backup",
        ),
        (
            "trailing bytes",
            write("longer.wbk", &longer),
            &key,
            "unexpected bytes",
        ),
        (
            "missing file",
            files.path().join("missing.wbk"),
            &key,
            "cannot read the backup",
        ),
        (
            "not a key",
            good_path.clone(),
            "not-base64!",
            "not valid base64",
        ),
    ];
    for (what, path, key, expected) in cases {
        let output = target.witness(&[
            "restore",
            "-y",
            "--backup",
            path.to_str().expect("path"),
            "--secret-key",
            key,
        ]);
        assert!(!output.status.success(), "{what}: {output:?}");
        let error = stderr(&output);
        assert!(error.contains(expected), "{what}: {error}");
        assert_eq!(snapshot(&target).await, before, "{what}: nothing changed");
    }
    // A fresh directory is not even created by a failed restore.
    let fresh = files.path().join("fresh");
    let fresh_database = test_database_url().await;
    let output = witness(
        &fresh,
        fresh_database.as_deref(),
        &[
            "restore",
            "-y",
            "--backup",
            good_path.to_str().expect("path"),
            "--secret-key",
            &other_key,
        ],
    );
    assert!(!output.status.success());
    assert!(!fresh.exists(), "nothing written");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_yes_and_without_a_terminal_restore_refuses() {
    let source = spawn_app().await;
    let backup = back_up_now(&source).await;
    let key = file_key(&source.data_dir);
    let target = target_with_data().await;
    let before = snapshot(&target).await;
    let output = target.witness(&[
        "restore",
        "--backup",
        backup.to_str().expect("path"),
        "--secret-key",
        &key,
    ]);
    assert!(!output.status.success());
    let error = stderr(&output);
    assert!(
        error.contains("not a terminal") && error.contains("-y"),
        "{error}"
    );
    assert_eq!(snapshot(&target).await, before);

    let neither = target.witness(&["restore", "-y"]);
    assert!(!neither.status.success());
    let both = target.witness(&["restore", "-y", "--from-latest", "--backup", "x.wbk"]);
    assert!(!both.status.success());
    let none = target.witness(&["restore", "-y", "--from-latest", "--secret-key", &key]);
    assert!(!none.status.success());
    assert!(stderr(&none).contains("there is no backup"), "{none:?}");
    assert_eq!(snapshot(&target).await, before);
}
