//! What holders of keys and sessions cannot do: crash the server, pass off events as
//! Witness's own, or flood the audit trail (SECURITY.md).

use serde_json::json;
use witness_api::{AuditEvent, EventPage, Histogram};

use crate::helpers::{TestApp, clef_line, spawn_app, spawn_app_with};

async fn assert_alive(app: &TestApp) {
    let health = app
        .client
        .get(app.url("/health"))
        .send()
        .await
        .expect("the server still answers");
    assert_eq!(health.status(), 200);
}

/// The error message of a Witness API refusal.
async fn refusal(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body: serde_json::Value = response.json().await.expect("a JSON error");
    (
        status,
        body["message"].as_str().unwrap_or_default().to_string(),
    )
}

#[tokio::test]
async fn a_histogram_over_extreme_years_is_refused_and_the_server_lives() {
    let app = spawn_app().await;
    let key = app.read_key().await;
    // The request that aborted the process before years were bounded.
    let (status, message) = refusal(
        app.get(
            &key,
            "/api/audit/histogram?from=-262143-01-01&to=%2B262142-01-01",
        )
        .await,
    )
    .await;
    assert_eq!(status, 400);
    assert!(message.contains("`from`"), "{message}");
    assert!(message.contains("0000 to 9999"), "{message}");
    assert_alive(&app).await;

    // The widest range allowed picks a bucket that keeps the answer small.
    let histogram: Histogram = app
        .get_json(
            &key,
            "/api/audit/histogram?from=0000-01-01T00:00:00Z&to=9999-12-31T23:59:59Z",
        )
        .await;
    assert!(
        (1..=200).contains(&histogram.buckets.len()),
        "{} buckets",
        histogram.buckets.len()
    );
    // Its first bucket, aligned before the year 0000, starts at 0000-01-01: no time Witness
    // writes is outside the years it reads (the panel reads times as strict RFC 3339).
    assert_eq!(
        histogram.buckets[0].start.to_rfc3339(),
        "0000-01-01T00:00:00+00:00"
    );
    assert_eq!(histogram.from, histogram.buckets[0].start);
    // A chosen bucket that would make millions of them is refused by name.
    let (status, message) = refusal(
        app.get(
            &key,
            "/api/audit/histogram?from=0000-01-01&to=9999-12-31&bucket=1",
        )
        .await,
    )
    .await;
    assert_eq!(status, 400);
    assert!(message.contains("`bucket`"), "{message}");
    assert_alive(&app).await;
}

#[tokio::test]
async fn an_ingest_key_cannot_pass_off_events_as_witnesss_own() {
    let app = spawn_app().await;
    let ingest = app.ingest_key().await;
    let read = app.read_key().await;
    let forged = json!({
        "@t": "2020-01-01T00:00:00Z", "@mt": "{Principal} {Action}: {Event}",
        "Action": "witness.user.created", "Actor": "admin", "PrincipalType": "user",
        "Event": "Complete", "AuditSession": "0123456789abcdef",
    });
    // Stored as what it is: the key's claim (SECURITY.md says why it is not refused).
    let response = app.post_clef(&ingest, forged.to_string()).await;
    assert_eq!(response.status(), 201);

    let page: EventPage = app
        .get_json(&read, "/api/audit/events?action=witness.user.created")
        .await;
    assert_eq!(page.events.len(), 1);
    let event = &page.events[0];
    let source = event
        .source
        .as_deref()
        .expect("every new event has a source");
    assert!(source.starts_with("key-"), "{source}");
    assert_ne!(source, witness_api::SELF_AUDIT_SOURCE);

    // Witness's own records are told apart by their source, which no sender can set.
    let own: EventPage = app
        .get_json(
            &read,
            "/api/audit/events?source=witness&action=witness.user.created",
        )
        .await;
    assert!(own.events.is_empty(), "{:?}", own.events);
    let own: EventPage = app
        .get_json(&read, "/api/audit/events?source=witness")
        .await;
    assert!(!own.events.is_empty(), "the reads above were audited");
    assert!(
        own.events
            .iter()
            .all(|event| event.action.starts_with("witness.")
                && event.source.as_deref() == Some("witness"))
    );

    // A sender's own "source" property stays a property; it cannot set the source.
    let claim = json!({"@t": "2026-01-01T00:00:00Z", "@mt": "x", "Action": "a.b", "source": "witness", "Source": "witness"});
    assert_eq!(
        app.post_clef(&ingest, claim.to_string()).await.status(),
        201
    );
    let page: EventPage = app.get_json(&read, "/api/audit/events?action=a.b").await;
    assert_eq!(page.events[0].source.as_deref(), Some(source));
    assert_eq!(page.events[0].properties["Source"], "witness");

    // The source is in the hash: the chain verifies, and the export carries it.
    let report: witness_api::VerifyReport =
        app.get_json(&read, "/api/audit/verify?full=true").await;
    assert!(report.ok, "{report:?}");
    let csv = app
        .get(&read, "/api/audit/export?format=csv&action=a.b")
        .await
        .text()
        .await
        .expect("csv");
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let headers = reader.headers().expect("header").clone();
    let column = headers
        .iter()
        .position(|h| h == "source")
        .expect("a source column");
    let row = reader.records().next().expect("a row").expect("record");
    assert_eq!(&row[column], source);
    let ndjson = app
        .get(&read, "/api/audit/export?format=ndjson&action=a.b")
        .await
        .text()
        .await
        .expect("ndjson");
    let exported: AuditEvent =
        serde_json::from_str(ndjson.lines().next().expect("a line")).expect("an event");
    assert_eq!(exported.source.as_deref(), Some(source));
}

#[tokio::test]
async fn an_over_long_login_is_refused_before_anything_is_written() {
    let app = spawn_app().await;
    let huge = "a".repeat(200_000);
    for (username, password, field) in [
        (huge.as_str(), "whatever-password", "username"),
        (&"b".repeat(65), "whatever-password", "username"),
        ("admin", &"p".repeat(1025), "password"),
    ] {
        let response = app
            .client
            .post(app.url("/api/auth/login"))
            .json(&json!({"username": username, "password": password}))
            .send()
            .await
            .expect("request");
        let (status, message) = refusal(response).await;
        assert_eq!(status, 400, "{message}");
        assert!(message.contains(&format!("`{field}`")), "{message}");
    }
    assert!(
        app.audit_records("user.login").await.is_empty(),
        "a refused login writes no audit record"
    );
    // A body over the login's size limit is refused whole.
    let response = app
        .client
        .post(app.url("/api/auth/login"))
        .json(&json!({"username": "x".repeat(300_000), "password": "y"}))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 413);
    assert_alive(&app).await;
    app.login("admin", crate::helpers::ADMIN_PASSWORD).await;
}

#[tokio::test]
async fn refused_logins_stop_being_audited_once_the_limit_is_reached() {
    let app = spawn_app().await;
    let attempt = |username: &'static str| {
        let app = &app;
        async move {
            app.client
                .post(app.url("/api/auth/login"))
                .json(&json!({"username": username, "password": "not-the-password"}))
                .send()
                .await
                .expect("request")
                .status()
                .as_u16()
        }
    };
    for _ in 0..5 {
        assert_eq!(attempt("admin").await, 401);
    }
    for _ in 0..3 {
        assert_eq!(attempt("admin").await, 429);
    }
    // Five attempts, each a Begin and a Fail; the refused ones cost nothing.
    assert_eq!(app.audit_records("user.login").await.len(), 10);
    // Another user is not locked out by admin's failures.
    assert_eq!(attempt("nobody").await, 401);
}

#[tokio::test]
async fn hostile_values_get_a_4xx_that_names_them_and_change_nothing() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let read = app.read_key().await;
    let ingest = app.ingest_key().await;
    let long = "x".repeat(5000);
    let many_actors: String = (0..150).map(|n| format!("actor=a{n}&")).collect();
    // `ip` takes several values (OR'ed), as many as any repeatable field.
    let many_ips: String = (0..150).map(|n| format!("ip=10.0.0.{n}&")).collect();
    let queries: Vec<(String, &str)> = vec![
        ("/api/audit/events?from=%2B99999-01-01".into(), "from"),
        ("/api/audit/events?to=-0001-01-01".into(), "to"),
        ("/api/audit/events?from=2026-13-45".into(), "from"),
        (
            "/api/audit/events?from=2026-02-01&to=2026-01-01".into(),
            "to",
        ),
        (format!("/api/audit/events?actor={long}"), "actor"),
        (format!("/api/audit/events?{many_actors}"), "actor"),
        (format!("/api/audit/events?q={long}"), "q"),
        ("/api/audit/events?limit=0".into(), "limit"),
        (
            "/api/audit/events?limit=99999999999999999999999".into(),
            "limit",
        ),
        ("/api/audit/events?cursor=%00%FF".into(), "cursor"),
        ("/api/audit/events?result=maybe".into(), "result"),
        (format!("/api/audit/events?{many_ips}"), "ip"),
        (
            "/api/audit/events?result=success&result=failure".into(),
            "result",
        ),
        ("/api/audit/histogram?bucket=-5m".into(), "bucket"),
        (
            "/api/audit/histogram?bucket=99999999999999999999d".into(),
            "bucket",
        ),
        ("/api/audit/export?format=xlsx".into(), "format"),
        ("/api/audit/verify?full=maybe".into(), "full"),
        ("/api/audit/stream?from=%2B99999-01-01".into(), "from"),
    ];
    for (path, parameter) in &queries {
        let (status, message) = refusal(app.get(&read, path).await).await;
        assert_eq!(status, 400, "{path}: {message}");
        assert!(
            message.contains(&format!("`{parameter}`")),
            "{path}: {message}"
        );
    }

    let bodies: Vec<(reqwest::Method, &str, serde_json::Value, u16)> = vec![
        (
            reqwest::Method::PUT,
            "/api/settings",
            json!({"backups_to_keep": "many"}),
            400,
        ),
        (
            reqwest::Method::PUT,
            "/api/settings",
            json!({"backup_utc_time_of_day": "25:00", "backups_to_keep": 0, "retention_days": 99999}),
            422,
        ),
        (
            reqwest::Method::POST,
            "/api/users",
            json!({"username": long, "password": "p", "role": "admin"}),
            422,
        ),
        (
            reqwest::Method::POST,
            "/api/users",
            json!({"username": "<script>", "password": "long-enough-pw", "role": "root"}),
            400,
        ),
        (
            reqwest::Method::POST,
            "/api/apikeys",
            json!({"title": long, "permissions": ["ingest"]}),
            422,
        ),
        (
            reqwest::Method::POST,
            "/api/apikeys",
            json!({"title": "t", "permissions": ["everything"]}),
            400,
        ),
        (
            reqwest::Method::PUT,
            "/api/users/user-nope",
            json!({"role": "admin"}),
            404,
        ),
        (
            reqwest::Method::PUT,
            "/api/auth/password",
            json!({"current_password": "x", "new_password": "short"}),
            422,
        ),
        (
            reqwest::Method::POST,
            "/api/apikeys",
            json!({"title": "x".repeat(70_000), "permissions": ["read"]}),
            413,
        ),
    ];
    for (method, path, body, expected) in bodies {
        let response = admin.send(method.clone(), path, Some(body)).await;
        let (status, message) = refusal(response).await;
        assert_eq!(status, expected, "{method} {path}: {message}");
        assert!(!message.is_empty(), "{method} {path} says why");
    }
    // Nothing of the refused changes happened.
    let users: Vec<witness_api::User> = admin.get("/api/users").await.json().await.expect("users");
    assert_eq!(users.len(), 1);
    let keys: Vec<witness_api::ApiKey> =
        admin.get("/api/apikeys").await.json().await.expect("keys");
    assert_eq!(keys.len(), 2, "the two keys this test made");

    // Ingestion: bad lines are refused whole, naming the line; nothing is stored.
    let good = clef_line("2026-11-20T10:00:00Z", "a.b", "alice", "t", "success");
    for (body, expected) in [
        (
            format!("{good}\n{{\"@t\":\"+99999-01-01T00:00:00Z\"}}"),
            "line 2",
        ),
        (
            format!("{good}\n{{\"@t\":\"2026-11-20T10:00:00Z\",\"Result\":\"maybe\"}}"),
            "line 2",
        ),
        (format!("{good}\n[1,2]"), "line 2"),
        (
            format!(
                "{good}\n{{\"@t\":\"2026-11-20T10:00:00Z\",\"x\":\"{}\"}}",
                "y".repeat(300_000)
            ),
            "line 2",
        ),
    ] {
        let response = app.post_clef(&ingest, body).await;
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        assert_eq!(status, 400, "{text}");
        assert!(text.contains(expected), "{text}");
    }
    let page: EventPage = app.get_json(&read, "/api/audit/events?action=a.b").await;
    assert!(page.events.is_empty());
    assert_alive(&app).await;
}

#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let app = spawn_app().await;
    let read = app.read_key().await;
    let page = app
        .client
        .get(app.url("/audit"))
        .send()
        .await
        .expect("panel");
    let policy = page
        .headers()
        .get("content-security-policy")
        .expect("a CSP on the panel")
        .to_str()
        .expect("text")
        .to_string();
    assert!(
        policy.contains("script-src 'self' 'wasm-unsafe-eval'"),
        "{policy}"
    );
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    assert_eq!(page.headers()["x-content-type-options"], "nosniff");
    assert_eq!(page.headers()["referrer-policy"], "no-referrer");

    let api = app.get(&read, "/api/audit/events").await;
    assert_eq!(api.headers()["cache-control"], "no-store");
    assert!(api.headers().contains_key("content-security-policy"));
    let refused = app
        .client
        .get(app.url("/api/users"))
        .send()
        .await
        .expect("request");
    assert_eq!(refused.status(), 401);
    assert_eq!(refused.headers()["cache-control"], "no-store");
}

#[tokio::test]
async fn exported_cells_never_run_as_spreadsheet_formulas() {
    let app = spawn_app().await;
    let ingest = app.ingest_key().await;
    let read = app.read_key().await;
    let line = json!({
        "@t": "2026-11-20T10:00:00Z", "@mt": "=HYPERLINK(\"http://evil.example\")",
        "Action": "doc.shared", "Actor": "@alice", "Target": "+1-555", "Status": "-2+3",
    });
    assert_eq!(app.post_clef(&ingest, line.to_string()).await.status(), 201);
    let csv = app
        .get(&read, "/api/audit/export?format=csv&action=doc.shared")
        .await
        .text()
        .await
        .expect("csv");
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let headers = reader.headers().expect("header").clone();
    let row = reader.records().next().expect("a row").expect("record");
    let cell = |name: &str| row[headers.iter().position(|h| h == name).expect(name)].to_string();
    assert_eq!(cell("message"), "'=HYPERLINK(\"http://evil.example\")");
    assert_eq!(cell("actor_id"), "'@alice");
    assert_eq!(cell("target_id"), "'+1-555");
    assert_eq!(cell("status"), "'-2+3");
    assert_eq!(cell("action"), "doc.shared");
}

#[tokio::test]
async fn users_change_their_own_password_with_the_current_one() {
    let app = spawn_app().await;
    let auditor = app.user_with_role("audrey", "auditor").await;
    let (status, _) = refusal(
        auditor
            .put(
                "/api/auth/password",
                json!({"current_password": "wrong-password-1", "new_password": "a-new-password-9"}),
            )
            .await,
    )
    .await;
    assert_eq!(status, 422);
    let response = auditor
        .put(
            "/api/auth/password",
            json!({"current_password": "audrey-password-1", "new_password": "a-new-password-9"}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let fresh: witness_api::LoginResponse = response.json().await.expect("a new session");
    assert_eq!(fresh.user.username, "audrey");
    // The same client holds the new session's cookie; the old password is gone.
    let me = auditor.get("/api/auth/me").await;
    assert_eq!(me.status(), 200);
    let old = app
        .client
        .post(app.url("/api/auth/login"))
        .json(&json!({"username": "audrey", "password": "audrey-password-1"}))
        .send()
        .await
        .expect("request");
    assert_eq!(old.status(), 401);
    app.login("audrey", "a-new-password-9").await;
    let records = app.audit_records("user.password_changed").await;
    assert_eq!(records.len(), 4, "Begin and Fail, then Begin and Complete");
    assert!(records.iter().all(|record| {
        let text = serde_json::to_string(record).expect("json");
        !text.contains("a-new-password-9") && !text.contains("audrey-password-1")
    }));
}

#[tokio::test]
async fn a_session_ends_at_its_absolute_lifetime_however_busy() {
    let app = spawn_app_with(|config| config.session_max_seconds = 2).await;
    let admin = app.admin().await;
    assert_eq!(admin.get("/api/auth/me").await.status(), 200);
    app.clock.advance(chrono::Duration::milliseconds(1200));
    assert_eq!(admin.get("/api/auth/me").await.status(), 200);
    app.clock.advance(chrono::Duration::milliseconds(1200));
    assert_eq!(admin.get("/api/auth/me").await.status(), 401);
}

#[tokio::test]
async fn a_live_tail_closes_when_its_session_ends() {
    use futures_util::StreamExt;
    let app = spawn_app_with(|config| config.live_recheck_seconds = 1).await;
    let admin = app.admin().await;
    let response = admin.get("/api/audit/stream").await;
    assert_eq!(response.status(), 200);
    let mut body = response.bytes_stream();
    // Logging out through another request ends the session the tail was opened with.
    assert_eq!(
        admin
            .send(reqwest::Method::POST, "/api/auth/logout", None)
            .await
            .status(),
        204
    );
    let mut seen = String::new();
    let closed = tokio::time::timeout(std::time::Duration::from_secs(20), async {
        while let Some(chunk) = body.next().await {
            seen.push_str(&String::from_utf8_lossy(&chunk.expect("chunk")));
        }
    })
    .await;
    assert!(closed.is_ok(), "the stream ended; it said: {seen}");
    assert!(seen.contains("event: closed"), "{seen}");
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_data_directory_is_readable_only_by_its_owner() {
    use std::os::unix::fs::PermissionsExt;
    let app = spawn_app().await;
    let admin = app.admin().await;
    assert_eq!(admin.post("/api/backups", json!({})).await.status(), 201);
    let mode = |path: &std::path::Path| {
        std::fs::metadata(path)
            .expect("metadata")
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode(&app.data_dir), 0o700);
    for entry in walk(&app.data_dir) {
        let expected = if entry.is_dir() { 0o700 } else { 0o600 };
        assert_eq!(mode(&entry), expected, "{}", entry.display());
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            found.extend(walk(&path));
        }
        found.push(path);
    }
    found
}

/// `witness` on the store of `app`.
fn witness_cli(app: &TestApp, args: &[&str], envs: &[(&str, &str)]) -> std::process::Output {
    app.witness_command()
        .args(args)
        .env("RUST_LOG", "warn")
        .envs(envs.iter().copied())
        .output()
        .expect("run witness")
}

#[tokio::test]
async fn the_command_line_audits_itself_into_the_running_servers_chain() {
    let audit_dir = tempfile::tempdir().expect("audit dir");
    let spec = format!("local,file:{}", audit_dir.path().display());
    let app = spawn_app_with(|config| config.audit.audit_targets = spec.clone()).await;
    let read = app.read_key().await;
    let envs = [("WITNESS_AUDIT_TARGETS", spec.as_str())];
    let added = witness_cli(
        &app,
        &[
            "user",
            "add",
            "carol",
            "--role",
            "auditor",
            "--password",
            "carol-password-1",
        ],
        &envs,
    );
    assert!(added.status.success(), "{added:?}");
    let created = witness_cli(&app, &["apikey", "create", "--title", "cli"], &envs);
    assert!(created.status.success(), "{created:?}");
    // A failed operation is on record as a failure.
    let missing = witness_cli(&app, &["apikey", "revoke", "key-nope"], &envs);
    assert!(!missing.status.success());

    for (action, phases) in [
        ("user.created", vec!["Begin", "Complete"]),
        ("apikey.created", vec!["Begin", "Complete"]),
        ("apikey.revoked", vec!["Begin", "Fail"]),
    ] {
        let mut records = app.audit_records(action).await;
        records.reverse();
        let seen: Vec<&str> = records
            .iter()
            .map(|r| r.properties["Event"].as_str().unwrap_or_default())
            .collect();
        assert_eq!(seen, phases, "{action}");
        let record = &records[0];
        assert_eq!(record.source.as_deref(), Some("witness"));
        assert!(
            record.actor.label().starts_with("host:"),
            "{:?}",
            record.actor
        );
        assert!(
            !serde_json::to_string(record)
                .expect("json")
                .contains("carol-password-1")
        );
    }
    let file_text: String = std::fs::read_dir(audit_dir.path())
        .expect("audit files")
        .map(|entry| std::fs::read_to_string(entry.expect("entry").path()).expect("read"))
        .collect();
    assert!(file_text.contains("witness.user.created"), "{file_text}");

    // The server and the command line appended to one chain, which verifies.
    let ingest = app.ingest_key().await;
    let line = clef_line("2026-11-20T10:00:00Z", "a.b", "alice", "t", "success");
    assert_eq!(app.post_clef(&ingest, line).await.status(), 201);
    let report: witness_api::VerifyReport =
        app.get_json(&read, "/api/audit/verify?full=true").await;
    assert!(report.ok, "{report:?}");
}

/// The checkpoints a `file:` target holds, as (head_seq, line).
fn file_checkpoints(dir: &std::path::Path) -> Vec<i64> {
    let mut seqs = Vec::new();
    for entry in std::fs::read_dir(dir).expect("dir") {
        let text = std::fs::read_to_string(entry.expect("entry").path()).unwrap_or_default();
        for line in text.lines() {
            let value: serde_json::Value = serde_json::from_str(line).expect("json line");
            if value["Action"] == "witness.chain.checkpoint" {
                seqs.push(value["Details"]["head_seq"].as_i64().expect("seq"));
            }
        }
    }
    seqs
}

async fn wait_for_checkpoint(dir: &std::path::Path, at_least: i64) {
    for _ in 0..200 {
        if file_checkpoints(dir).iter().any(|seq| *seq >= at_least) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!(
        "no checkpoint reached event {at_least}: {:?}",
        file_checkpoints(dir)
    );
}

/// A server with a `file:` target that checkpoints every second, holding `n` ingested events.
async fn checkpointed_app(n: usize) -> (TestApp, tempfile::TempDir, String) {
    let audit_dir = tempfile::tempdir().expect("audit dir");
    let spec = format!("local,file:{}", audit_dir.path().display());
    let app = spawn_app_with(|config| {
        config.audit.audit_targets = spec.clone();
        config.checkpoint_seconds = 1;
    })
    .await;
    let ingest = app.ingest_key().await;
    let body: Vec<String> = (0..n)
        .map(|i| {
            clef_line(
                &format!("2026-11-20T10:00:{i:02}Z"),
                "a.b",
                "alice",
                "t",
                "success",
            )
        })
        .collect();
    assert_eq!(app.post_clef(&ingest, body.join("\n")).await.status(), 201);
    let read = app.read_key().await;
    (app, audit_dir, read)
}

#[tokio::test]
async fn a_full_verify_names_a_tail_cut_by_someone_who_can_write_the_database() {
    let (app, audit_dir, read) = checkpointed_app(6).await;
    wait_for_checkpoint(audit_dir.path(), 6).await;
    let clean: witness_api::VerifyReport = app.get_json(&read, "/api/audit/verify?full=true").await;
    assert!(clean.ok && clean.checkpoints_compared > 0, "{clean:?}");

    // Delete everything after event 3 and rewind the recorded head: the chain alone is
    // consistent again, and the store's own checkpoint records are gone with the tail.
    let hash = app.event_hash(3).await;
    app.delete_events_after(3).await;
    app.forget_verified_point().await;
    app.set_chain_head(3, &hash).await;

    let report: witness_api::VerifyReport =
        app.get_json(&read, "/api/audit/verify?full=true").await;
    assert!(!report.ok, "{report:?}");
    let reason = report.first_break.expect("a break").reason;
    assert!(reason.contains("the tail was cut"), "{reason}");

    // The command line says the same, with the key from the data directory.
    let cli = witness_cli(
        &app,
        &["verify", "--full"],
        &[(
            "WITNESS_AUDIT_TARGETS",
            &format!("file:{}", audit_dir.path().display()),
        )],
    );
    assert!(!cli.status.success(), "{cli:?}");
    assert!(
        String::from_utf8_lossy(&cli.stderr).contains("the tail was cut"),
        "{cli:?}"
    );
}

#[tokio::test]
async fn a_full_verify_names_history_rewritten_with_recomputed_hashes() {
    use witness_server::store::canonical::GENESIS_HASH;
    let (app, audit_dir, read) = checkpointed_app(4).await;
    wait_for_checkpoint(audit_dir.path(), 4).await;

    // Change event 2 and recompute every hash after it, as someone with the database (but
    // not the secret key) could.
    let mut rows = app.event_rows().await;
    rows[1].message = "nothing happened here".to_string();
    let mut prev = GENESIS_HASH;
    for row in &mut rows {
        let hash = row.canonical().hash(&prev);
        row.prev_hash = prev.to_vec();
        row.hash = hash.to_vec();
        app.overwrite_event(row).await;
        prev = hash;
    }
    app.set_chain_head_hash(&prev).await;
    app.forget_verified_point().await;

    let report: witness_api::VerifyReport =
        app.get_json(&read, "/api/audit/verify?full=true").await;
    assert!(!report.ok, "{report:?}");
    let reason = report.first_break.expect("a break").reason;
    assert!(reason.contains("history was rewritten"), "{reason}");
}

#[tokio::test]
async fn retention_cannot_go_below_the_hosts_minimum() {
    let app = spawn_app_with(|config| config.min_retention_days = 90).await;
    let admin = app.admin().await;
    let response = admin
        .put(
            "/api/settings",
            json!({"backup_utc_time_of_day": "02:00", "backups_to_keep": 7, "retention_days": 30}),
        )
        .await;
    assert_eq!(response.status(), 422);
    let body: witness_api::ValidationErrorBody = response.json().await.expect("fields");
    assert!(
        body.fields["retention_days"].contains("at least 90 days"),
        "{body:?}"
    );
    let response = admin
        .put(
            "/api/settings",
            json!({"backup_utc_time_of_day": "02:00", "backups_to_keep": 7, "retention_days": 90}),
        )
        .await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn refused_requests_are_recorded_without_flooding_the_trail() {
    let app = spawn_app().await;
    let ingest = app.ingest_key().await;
    // Far more refusals than a minute's allowance: an ingest key on a read route, no key.
    for _ in 0..40 {
        assert_eq!(app.get(&ingest, "/api/audit/events").await.status(), 403);
        let anonymous = app
            .client
            .get(app.url("/api/users"))
            .send()
            .await
            .expect("request");
        assert_eq!(anonymous.status(), 401);
    }
    let mut recorded = Vec::new();
    for _ in 0..100 {
        recorded = app.audit_records("access.refused").await;
        if recorded.len() >= witness_server::audit::REFUSALS_PER_MINUTE as usize {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(
        recorded.len(),
        witness_server::audit::REFUSALS_PER_MINUTE as usize,
        "at most the minute's allowance is written"
    );
    let record = &recorded[0];
    assert_eq!(record.properties["Event"], "Refused");
    assert_eq!(record.result, witness_api::AuditResult::Failure);
    assert!(
        recorded
            .iter()
            .any(|r| r.properties["Path"] == "/api/audit/events" && r.details["status"] == 403)
    );
}

#[tokio::test]
async fn hostile_path_values_on_every_route_with_an_id_are_a_4xx() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let read = app.read_key().await;
    let long = "k".repeat(5000);
    for id in [
        long.as_str(),
        "..%2F..%2Fsecret.key",
        "%00",
        "%E2%80%AE",
        "0000000000000001%27--",
    ] {
        for (method, path) in [
            (reqwest::Method::GET, format!("/api/audit/events/{id}")),
            (reqwest::Method::GET, format!("/api/backups/{id}/download")),
            (reqwest::Method::DELETE, format!("/api/apikeys/{id}")),
            (reqwest::Method::PUT, format!("/api/users/{id}")),
            (reqwest::Method::DELETE, format!("/api/users/{id}")),
            (reqwest::Method::DELETE, format!("/api/views/{id}")),
        ] {
            let response = if path.starts_with("/api/audit") {
                app.get(&read, &path).await
            } else {
                admin
                    .send(method.clone(), &path, Some(json!({"role": "admin"})))
                    .await
            };
            let status = response.status().as_u16();
            assert!((400..500).contains(&status), "{method} {path}: {status}");
            let body: serde_json::Value = response.json().await.expect("a JSON error");
            assert!(
                body["message"].as_str().is_some_and(|m| !m.is_empty()),
                "{body}"
            );
        }
    }
    // Nothing was removed or changed by any of it.
    let users: Vec<witness_api::User> = admin.get("/api/users").await.json().await.expect("users");
    assert_eq!(users.len(), 1);
    assert_alive(&app).await;
}
