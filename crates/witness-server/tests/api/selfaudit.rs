//! Self-audit: Begin before, Complete or Fail after, refused when auditing is down.

use serde_json::json;
use witness_api::{AuditEvent, CreatedApiKey, User};

use crate::helpers::{ADMIN_PASSWORD, TestApp, clef_line, spawn_app, spawn_app_with};

/// The `Event` of each record (Begin, Complete, Fail), in the order they were written.
pub fn phases(records: &[AuditEvent]) -> Vec<String> {
    let mut records: Vec<&AuditEvent> = records.iter().collect();
    records.sort_by(|a, b| a.id.cmp(&b.id));
    records
        .iter()
        .map(|r| r.properties["Event"].as_str().unwrap_or("?").to_string())
        .collect()
}

async fn assert_begin_then(app: &TestApp, action: &str, last: &str) -> Vec<AuditEvent> {
    let records = app.audit_records(action).await;
    let phases = phases(&records);
    assert!(phases.len() >= 2, "{action}: {phases:?}");
    assert_eq!(phases[phases.len() - 2], "Begin", "{action}: {phases:?}");
    assert_eq!(phases[phases.len() - 1], last, "{action}: {phases:?}");
    records
}

#[tokio::test]
async fn every_audited_action_leaves_begin_and_complete() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let login = assert_begin_then(&app, "user.login", "Complete").await;
    let begin = login.iter().min_by_key(|r| r.id.clone()).expect("begin");
    assert_eq!(begin.actor.actor_type, witness_api::ActorType::Anonymous);
    assert_eq!(
        begin.actor.id.as_deref(),
        Some("admin"),
        "the username tried"
    );
    assert!(
        begin.properties["AuditSession"]
            .as_str()
            .is_some_and(|s| !s.is_empty())
    );
    assert!(begin.properties["SequenceNumber"].as_u64().is_some());
    assert_eq!(begin.properties["Method"], "POST");
    assert_eq!(begin.properties["Path"], "/api/auth/login");
    assert_eq!(begin.client_ip.as_deref(), Some("127.0.0.1"));

    let bad = app
        .client
        .post(app.url("/api/auth/login"))
        .json(&json!({"username": "admin", "password": "wrong password"}))
        .send()
        .await
        .expect("request");
    assert_eq!(bad.status(), 401);
    let failed = assert_begin_then(&app, "user.login", "Fail").await;
    assert!(
        failed.iter().all(|r| !serde_json::to_string(r)
            .unwrap_or_default()
            .contains("wrong password")),
        "no password in audit records"
    );

    admin.get("/api/audit/events?actor=alice").await;
    let query = assert_begin_then(&app, "audit.query", "Complete").await;
    assert_eq!(query[0].actor.id.as_deref(), Some("admin"));
    assert_eq!(query[0].actor.actor_type, witness_api::ActorType::User);
    // The export's outcome is written when its stream ends.
    admin
        .get("/api/audit/export?format=csv")
        .await
        .text()
        .await
        .expect("export");
    let export = wait_for_outcome(&app, "audit.export").await;
    assert_eq!(phases(&export).last().map(String::as_str), Some("Complete"));

    let created: CreatedApiKey = admin
        .post(
            "/api/apikeys",
            json!({"title": "ci", "permissions": ["ingest"]}),
        )
        .await
        .json()
        .await
        .expect("key");
    let records = assert_begin_then(&app, "apikey.created", "Complete").await;
    let all = serde_json::to_string(&records).unwrap_or_default();
    assert!(!all.contains(&created.token), "never the token");
    admin
        .delete(&format!("/api/apikeys/{}", created.key.id))
        .await;
    assert_begin_then(&app, "apikey.revoked", "Complete").await;

    let user: User = admin
        .post(
            "/api/users",
            json!({"username": "erin", "password": "erin-password-1", "role": "auditor"}),
        )
        .await
        .json()
        .await
        .expect("user");
    let created_records = assert_begin_then(&app, "user.created", "Complete").await;
    assert!(
        !serde_json::to_string(&created_records)
            .unwrap_or_default()
            .contains("erin-password-1")
    );
    admin
        .put(
            &format!("/api/users/{}", user.id),
            json!({"role": "admin", "password": "erin-password-2"}),
        )
        .await;
    let changed = assert_begin_then(&app, "user.changed", "Complete").await;
    let complete = changed
        .iter()
        .max_by_key(|r| r.id.clone())
        .expect("complete");
    assert_eq!(
        complete.details["role"],
        json!({"old": "auditor", "new": "admin"})
    );
    assert!(
        !serde_json::to_string(&changed)
            .unwrap_or_default()
            .contains("erin-password-2")
    );
    admin.delete(&format!("/api/users/{}", user.id)).await;
    assert_begin_then(&app, "user.removed", "Complete").await;

    admin.post("/api/auth/logout", json!({})).await;
    assert_begin_then(&app, "user.logout", "Complete").await;
}

#[tokio::test]
async fn a_refused_operation_is_recorded_as_fail() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let id = admin.user.id.clone();
    assert_eq!(
        admin.delete(&format!("/api/users/{id}")).await.status(),
        409
    );
    let records = assert_begin_then(&app, "user.removed", "Fail").await;
    let fail = records.iter().max_by_key(|r| r.id.clone()).expect("fail");
    assert_eq!(fail.result, witness_api::AuditResult::Failure);
}

#[tokio::test]
async fn file_target_writes_one_ndjson_file_per_run() {
    let audit_dir = tempfile::tempdir().expect("dir");
    let spec = format!("local,file:{}", audit_dir.path().display());
    let app = spawn_app_with(|config| config.audit.audit_targets = spec).await;
    let admin = app.admin().await;
    admin
        .post(
            "/api/apikeys",
            json!({"title": "ci", "permissions": ["read"]}),
        )
        .await;

    let files: Vec<_> = std::fs::read_dir(audit_dir.path())
        .expect("audit dir")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let today = chrono::Utc::now().format("%Y%m%d").to_string();
    assert!(
        files[0].starts_with(&format!("witness-audit-{today}-")),
        "{files:?}"
    );
    assert!(files[0].ends_with(".ndjson"));
    let text = std::fs::read_to_string(audit_dir.path().join(&files[0])).expect("read");
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    let key_records: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|l| l["Action"] == "witness.apikey.created")
        .collect();
    assert_eq!(key_records.len(), 2);
    assert_eq!(key_records[0]["Event"], "Begin");
    assert_eq!(key_records[1]["Event"], "Complete");
    assert_eq!(key_records[0]["OperationId"], key_records[1]["OperationId"]);
    let diagnostics: witness_api::Diagnostics = admin
        .get("/api/diagnostics")
        .await
        .json()
        .await
        .expect("diagnostics");
    assert_eq!(diagnostics.auditing.targets.len(), 2);
    assert!(diagnostics.auditing.targets[1].starts_with("file:"));
}

#[tokio::test]
async fn an_unwritable_target_refuses_admin_actions_but_never_ingestion() {
    let blocker = tempfile::NamedTempFile::new().expect("file");
    // A directory path below a regular file can never be created.
    let spec = format!("local,file:{}/audit", blocker.path().display());
    let app = spawn_app_with(|config| config.audit.audit_targets = spec).await;

    let login = app
        .client
        .post(app.url("/api/auth/login"))
        .json(&json!({"username": "admin", "password": ADMIN_PASSWORD}))
        .send()
        .await
        .expect("request");
    assert_eq!(login.status(), 503, "even a login needs its Begin record");
    let error: witness_api::ApiErrorBody = login.json().await.expect("JSON");
    assert!(
        error.message.contains("Auditing is unavailable"),
        "{}",
        error.message
    );

    let read_key = app.read_key().await;
    assert_eq!(app.get(&read_key, "/api/audit/events").await.status(), 503);

    let ingest = app.ingest_key().await;
    let line = clef_line(
        "2026-11-20T10:00:00Z",
        "still.accepted",
        "x",
        "t",
        "success",
    );
    assert_eq!(app.post_clef(&ingest, line).await.status(), 201);
}

#[tokio::test]
async fn one_witness_audits_into_another_and_refuses_when_it_is_down() {
    // B is the audit server; A sends its records there.
    let b = spawn_app().await;
    let b_key = b.ingest_key().await;
    let a_spec = format!("local,{}", b.address);
    let a = spawn_app_with(|config| {
        config.audit.audit_targets = a_spec;
        config.audit.audit_api_key = Some(b_key);
    })
    .await;
    let admin = a.admin().await;
    assert_eq!(
        admin
            .post(
                "/api/apikeys",
                json!({"title": "x", "permissions": ["read"]})
            )
            .await
            .status(),
        201
    );
    let at_b = b.audit_records("apikey.created").await;
    assert_eq!(phases(&at_b), vec!["Begin", "Complete"]);
    assert_eq!(at_b[0].actor.id.as_deref(), Some("admin"));

    // An audit server that is not running (nothing listens on port 9 here): admin actions
    // are refused, ingestion goes on.
    let a2 = spawn_app_with(|config| {
        config.audit.audit_targets = "local,http://127.0.0.1:9".to_string();
        config.audit.audit_api_key = Some("unused-key".to_string());
    })
    .await;
    let login = a2
        .client
        .post(a2.url("/api/auth/login"))
        .json(&json!({"username": "admin", "password": ADMIN_PASSWORD}))
        .send()
        .await
        .expect("request");
    assert_eq!(login.status(), 503);
    let ingest = a2.ingest_key().await;
    let line = clef_line(
        "2026-11-20T10:00:00Z",
        "still.accepted",
        "x",
        "t",
        "success",
    );
    assert_eq!(a2.post_clef(&ingest, line).await.status(), 201);
}

/// The records of `action` once its newest operation has an outcome (an outcome written by a
/// task of its own, as for a stream, comes a moment after the response).
async fn wait_for_outcome(app: &TestApp, action: &str) -> Vec<AuditEvent> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let records = app.audit_records(action).await;
        if phases(&records)
            .last()
            .is_some_and(|phase| *phase != "Begin")
        {
            return records;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{action}: no outcome after its Begin"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn an_export_its_client_abandons_is_recorded_as_failed() {
    let app = spawn_app().await;
    let ingest = app.ingest_key().await;
    // Far more than the connection buffers hold, so the export is still running when the
    // client goes away.
    for part in 0..8 {
        let body: String = (0..5000)
            .map(|i| {
                crate::helpers::clef_line(
                    "2026-11-20T10:00:00Z",
                    "bulk.event",
                    &format!("user-{part}-{i}"),
                    &"t".repeat(200),
                    "success",
                ) + "\n"
            })
            .collect();
        assert_eq!(app.post_clef(&ingest, body).await.status(), 201);
    }
    let admin = app.admin().await;
    let mut response = admin.get("/api/audit/export?format=ndjson").await;
    assert_eq!(response.status(), 200);
    assert!(response.chunk().await.expect("a first chunk").is_some());
    drop(response);
    let records = wait_for_outcome(&app, "audit.export").await;
    assert_eq!(
        phases(&records).last().map(String::as_str),
        Some("Fail"),
        "{records:?}"
    );
}
