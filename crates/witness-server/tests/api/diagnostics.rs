use witness_api::{ApiErrorBody, Diagnostics};

use crate::helpers::spawn_app;

#[tokio::test]
async fn diagnostics_reports_version_uptime_and_data_directory() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let response = admin.get("/api/diagnostics").await;
    assert_eq!(response.status(), 200);
    let diagnostics: Diagnostics = response.json().await.expect("JSON body");
    assert!(diagnostics.auditing.enabled);
    assert_eq!(diagnostics.auditing.summary, "Auditing is enabled");
    assert_eq!(diagnostics.auditing.targets, vec!["local".to_string()]);
    assert_eq!(diagnostics.version, env!("CARGO_PKG_VERSION"));
    assert_eq!(diagnostics.data_dir, app.data_dir.display().to_string());
    assert!(diagnostics.started_at <= chrono::Utc::now());
    assert_eq!(diagnostics.last_backup_at, None, "no backup yet");
    let next = diagnostics.next_backup_at.expect("a backup is scheduled");
    assert_eq!(next.format("%H:%M").to_string(), "02:00");
    assert!(next > chrono::Utc::now());
}

#[tokio::test]
async fn unknown_api_path_is_a_json_404_not_the_panel() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(app.url("/api/no-such-thing"))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 404);
    let error: ApiErrorBody = response.json().await.expect("JSON error body");
    assert_eq!(error.code, "not_found");
    assert!(
        error.message.contains("/api/no-such-thing"),
        "{}",
        error.message
    );
}

mod report {
    use serde_json::json;
    use witness_api::CreatedApiKey;
    use witness_server::diagnostics::SECTIONS;

    use crate::helpers::{ADMIN_PASSWORD, clef_line, spawn_app, spawn_app_with};

    #[tokio::test]
    async fn the_report_has_every_section_and_no_secret() {
        witness_server::telemetry::init_capture_only();
        let app = spawn_app().await;
        let admin = app.admin().await;
        let secret_key = std::fs::read_to_string(app.data_dir.join("secret.key"))
            .expect("key file")
            .trim()
            .to_string();

        // A session token, straight from the login's cookie.
        let login = app
            .client
            .post(app.url("/api/auth/login"))
            .json(&json!({"username": "admin", "password": ADMIN_PASSWORD}))
            .send()
            .await
            .expect("login");
        let cookie = login.headers()["set-cookie"]
            .to_str()
            .expect("cookie")
            .to_string();
        let session_token = cookie
            .split(';')
            .next()
            .and_then(|pair| pair.split_once('='))
            .map(|(_, value)| value.to_string())
            .expect("token");
        assert!(session_token.len() > 20);

        let created: CreatedApiKey = admin
            .post(
                "/api/apikeys",
                json!({"title": "ci", "permissions": ["ingest"]}),
            )
            .await
            .json()
            .await
            .expect("key");
        let token = created.token.clone();
        // Used, accepted and refused, with the key in the query string.
        let body = format!(
            "{}\n{}\n",
            clef_line("2026-11-20T10:00:00Z", "a.one", "x", "t", "success"),
            clef_line("2026-11-20T11:00:00Z", "a.two", "x", "t", "failure")
        );
        let accepted = app
            .client
            .post(app.url(&format!("/api/events/raw?clef&apiKey={token}")))
            .body(body)
            .send()
            .await
            .expect("ingest");
        assert_eq!(accepted.status(), 201);
        let refused = app
            .client
            .post(app.url(&format!("/api/events/raw?clef&apiKey={token}")))
            .body("not json")
            .send()
            .await
            .expect("ingest");
        assert_eq!(refused.status(), 400);
        // Warnings that quote secrets the way careless code might.
        tracing::warn!("request to /api/events/raw?apiKey={token} failed");
        tracing::warn!(password = ADMIN_PASSWORD, session_token = %session_token, "odd login");
        tracing::error!(api_key = %token, "test error line");
        // A backup, so that the report has one to describe.
        assert_eq!(admin.post("/api/backups", json!({})).await.status(), 201);

        let response = admin.get("/api/diagnostics/report").await;
        assert_eq!(response.status(), 200);
        let headers = response.headers().clone();
        assert!(
            headers["content-type"]
                .to_str()
                .expect("type")
                .starts_with("text/plain")
        );
        let disposition = headers["content-disposition"]
            .to_str()
            .expect("disposition");
        assert!(
            disposition.starts_with("attachment; filename=\"witness-diagnostics-")
                && disposition.ends_with("Z.txt\""),
            "{disposition}"
        );
        let report = response.text().await.expect("report");

        for section in SECTIONS {
            assert!(
                report.contains(&format!("== {section} ==")),
                "{section}:\n{report}"
            );
        }
        for secret in [
            secret_key.as_str(),
            ADMIN_PASSWORD,
            session_token.as_str(),
            token.as_str(),
        ] {
            assert!(!report.contains(secret), "a secret leaked:\n{report}");
        }
        assert!(report.contains("Auditing is enabled"), "{report}");
        assert!(report.contains("Targets: local"), "{report}");
        let backend = match app.backend {
            crate::helpers::Backend::Sqlite => "Backend: SQLite",
            crate::helpers::Backend::Postgres => "Backend: PostgreSQL",
        };
        assert!(report.contains(backend), "{report}");
        assert!(report.contains("Events stored: "), "{report}");
        assert!(
            report.contains("Oldest event: 2026-11-20T10:00:00Z"),
            "{report}"
        );
        assert!(
            report.contains("Accepted: 1 requests, 2 events"),
            "{report}"
        );
        assert!(report.contains("Rejected: 1 requests"), "{report}");
        assert!(
            report.contains("Backups kept: 1 (at most 7 kept)"),
            "{report}"
        );
        assert!(report.contains("Next scheduled backup: "), "{report}");
        assert!(
            report.contains("Backup time of day (UTC): 02:00"),
            "{report}"
        );
        assert!(report.contains("Retention days: 365"), "{report}");
        assert!(report.contains("Event chain: intact"), "{report}");
        assert!(report.contains("CPUs: "), "{report}");
        assert!(report.contains("Hostname: "), "{report}");
        assert!(report.contains("test error line"), "{report}");
        assert!(report.contains("apiKey=[hidden]"), "{report}");
        assert!(report.contains("password=[hidden]"), "{report}");

        let mut records = app.audit_records("diagnostics.downloaded").await;
        records.sort_by(|a, b| a.id.cmp(&b.id));
        let phases: Vec<&str> = records
            .iter()
            .map(|r| r.properties["Event"].as_str().unwrap_or("?"))
            .collect();
        assert_eq!(phases, ["Begin", "Complete"]);
    }

    #[tokio::test]
    async fn auditors_get_403_and_auditing_down_gets_503() {
        let app = spawn_app().await;
        let auditor = app.user_with_role("audrey", "auditor").await;
        assert_eq!(auditor.get("/api/diagnostics/report").await.status(), 403);

        let blocker = tempfile::NamedTempFile::new().expect("file");
        let spec = format!("local,file:{}/audit", blocker.path().display());
        let app = spawn_app_with(|config| config.audit.audit_targets = spec).await;
        let admin = app.admin_session_without_login().await;
        let response = admin.get("/api/diagnostics/report").await;
        assert_eq!(response.status(), 503);
        // The status page is audited too (an admin read), so it is refused as well.
        assert_eq!(admin.get("/api/diagnostics").await.status(), 503);
    }
}
