//! `GET/PUT /api/settings`: defaults, validation (422 per field, 400 for a wrong shape),
//! audit with old and new values, the schedule re-armed at once.

use serde_json::{Value, json};
use witness_api::{Diagnostics, Settings, ValidationErrorBody};

use crate::helpers::{TestApp, spawn_app, spawn_app_with};

async fn settings(admin: &crate::helpers::Session) -> Settings {
    let response = admin.get("/api/settings").await;
    assert_eq!(response.status(), 200);
    response.json().await.expect("settings")
}

fn valid() -> Value {
    json!({"backup_utc_time_of_day": "03:15", "backups_to_keep": 3, "retention_days": 30})
}

#[tokio::test]
async fn defaults_take_retention_from_the_configuration() {
    let app = spawn_app_with(|config| config.retention_days = 90).await;
    let admin = app.admin().await;
    assert_eq!(
        settings(&admin).await,
        Settings {
            backup_utc_time_of_day: "02:00".into(),
            backups_to_keep: 7,
            retention_days: 90,
        }
    );
    let app = spawn_app().await;
    assert_eq!(settings(&app.admin().await).await.retention_days, 365);
}

#[tokio::test]
async fn a_valid_change_is_saved_audited_with_old_and_new_and_rearms_the_schedule() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let response = admin.put("/api/settings", valid()).await;
    assert_eq!(response.status(), 200);
    let saved: Settings = response.json().await.expect("settings");
    let expected = Settings {
        backup_utc_time_of_day: "03:15".into(),
        backups_to_keep: 3,
        retention_days: 30,
    };
    assert_eq!(saved, expected);
    assert_eq!(settings(&admin).await, expected);
    assert_eq!(app.store.settings().await.expect("stored"), Some(expected));

    let mut records = app.audit_records("settings.changed").await;
    records.sort_by(|a, b| a.id.cmp(&b.id));
    let phases: Vec<&str> = records
        .iter()
        .map(|r| r.properties["Event"].as_str().unwrap_or("?"))
        .collect();
    assert_eq!(phases, ["Begin", "Complete"]);
    let complete = &records[1];
    assert_eq!(
        complete.details["backup_utc_time_of_day"],
        json!({"old": "02:00", "new": "03:15"})
    );
    assert_eq!(
        complete.details["backups_to_keep"],
        json!({"old": 7, "new": 3})
    );
    assert_eq!(
        complete.details["retention_days"],
        json!({"old": 365, "new": 30})
    );
    assert_eq!(
        records[0].details, complete.details,
        "Begin says what is asked"
    );

    // The next scheduled backup moved to 03:15 UTC at once.
    let diagnostics: Diagnostics = admin
        .get("/api/diagnostics")
        .await
        .json()
        .await
        .expect("diagnostics");
    let next = wait_for_next_backup(&admin, "03:15").await;
    assert!(next > chrono::Utc::now());
    assert!(next - chrono::Utc::now() <= chrono::Duration::days(1));
    assert!(diagnostics.next_backup_at.is_some());

    // Only the changed field is in the record of a second change.
    let response = admin
        .put(
            "/api/settings",
            json!({"backup_utc_time_of_day": "03:15", "backups_to_keep": 4, "retention_days": 30}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let records = app.audit_records("settings.changed").await;
    let latest = records.iter().max_by_key(|r| r.id.clone()).expect("latest");
    assert_eq!(
        latest.details.keys().collect::<Vec<_>>(),
        ["backups_to_keep"]
    );
    wait_for_next_backup(&admin, "03:15").await;
}

/// The schedule is re-armed by another task; give it a moment.
async fn wait_for_next_backup(
    admin: &crate::helpers::Session,
    time: &str,
) -> chrono::DateTime<chrono::Utc> {
    for _ in 0..50 {
        let diagnostics: Diagnostics = admin
            .get("/api/diagnostics")
            .await
            .json()
            .await
            .expect("diagnostics");
        if let Some(next) = diagnostics.next_backup_at
            && next.format("%H:%M").to_string() == time
        {
            return next;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the next backup was not re-armed for {time}");
}

async fn expect_422(app: &TestApp, body: Value, fields: &[&str]) {
    let admin = app.admin().await;
    let before = settings(&admin).await;
    let response = admin.put("/api/settings", body.clone()).await;
    assert_eq!(response.status(), 422, "{body}");
    let error: ValidationErrorBody = response.json().await.expect("validation body");
    assert_eq!(error.code, "validation_failed");
    let named: Vec<&str> = error.fields.keys().map(String::as_str).collect();
    assert_eq!(named, fields, "{body}");
    for message in error.fields.values() {
        assert!(message.starts_with("must be"), "{message}");
    }
    assert_eq!(settings(&admin).await, before, "nothing saved for {body}");
}

#[tokio::test]
async fn every_bad_value_is_a_422_naming_its_field_and_nothing_is_saved() {
    let app = spawn_app().await;
    let with = |field: &str, value: Value| {
        let mut body = valid();
        body[field] = value;
        body
    };
    for bad in [
        "24:00", "23:60", "2:00", "02:0", "0200", "02-00", " 02:00", "", "ab:cd", "02:00:00",
        "+1:30", "12:5x",
    ] {
        expect_422(
            &app,
            with("backup_utc_time_of_day", json!(bad)),
            &["backup_utc_time_of_day"],
        )
        .await;
    }
    for bad in [0i64, 101, -1, 1_000_000_000_000] {
        expect_422(
            &app,
            with("backups_to_keep", json!(bad)),
            &["backups_to_keep"],
        )
        .await;
    }
    for bad in [0, 3651, -5] {
        expect_422(
            &app,
            with("retention_days", json!(bad)),
            &["retention_days"],
        )
        .await;
    }
    expect_422(
        &app,
        json!({"backup_utc_time_of_day": "99:99", "backups_to_keep": 0, "retention_days": 4000}),
        &[
            "backup_utc_time_of_day",
            "backups_to_keep",
            "retention_days",
        ],
    )
    .await;
    // A good time with a bad count saves neither.
    expect_422(
        &app,
        json!({"backup_utc_time_of_day": "05:00", "backups_to_keep": 500, "retention_days": 10}),
        &["backups_to_keep"],
    )
    .await;
    assert!(
        app.audit_records("settings.changed").await.is_empty(),
        "refused before anything is begun"
    );

    // The edges are valid.
    let admin = app.admin().await;
    for body in [
        json!({"backup_utc_time_of_day": "00:00", "backups_to_keep": 1, "retention_days": 1}),
        json!({"backup_utc_time_of_day": "23:59", "backups_to_keep": 100, "retention_days": 3650}),
    ] {
        assert_eq!(
            admin.put("/api/settings", body.clone()).await.status(),
            200,
            "{body}"
        );
    }
}

#[tokio::test]
async fn a_body_of_the_wrong_shape_is_a_400() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let before = settings(&admin).await;
    for body in [
        json!({"backups_to_keep": 3, "retention_days": 30}),
        json!({"backup_utc_time_of_day": "03:00", "retention_days": 30}),
        json!({"backup_utc_time_of_day": 300, "backups_to_keep": 3, "retention_days": 30}),
        json!({"backup_utc_time_of_day": "03:00", "backups_to_keep": "3", "retention_days": 30}),
        json!({"backup_utc_time_of_day": "03:00", "backups_to_keep": 3.5, "retention_days": 30}),
        json!({"backup_utc_time_of_day": "03:00", "backups_to_keep": 3, "retention_days": null}),
        json!({"backup_utc_time_of_day": "03:00", "backups_to_keep": 3, "retention_days": 30, "extra": 1}),
        json!([1, 2, 3]),
        json!("03:00"),
    ] {
        let response = admin.put("/api/settings", body.clone()).await;
        assert_eq!(response.status(), 400, "{body}");
        let error: witness_api::ApiErrorBody = response.json().await.expect("error body");
        assert_eq!(error.code, "bad_request");
    }
    let not_json = admin
        .client
        .put(admin.url("/api/settings"))
        .header("X-CSRF-Token", &admin.csrf)
        .header("Content-Type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("request");
    assert_eq!(not_json.status(), 400);
    let no_content_type = admin
        .client
        .put(admin.url("/api/settings"))
        .header("X-CSRF-Token", &admin.csrf)
        .body(valid().to_string())
        .send()
        .await
        .expect("request");
    assert_eq!(no_content_type.status(), 400);
    assert_eq!(settings(&admin).await, before);
}

#[tokio::test]
async fn auditors_may_not_read_or_change_settings() {
    let app = spawn_app().await;
    let auditor = app.user_with_role("audrey", "auditor").await;
    assert_eq!(auditor.get("/api/settings").await.status(), 403);
    assert_eq!(auditor.put("/api/settings", valid()).await.status(), 403);
    let admin = app.admin().await;
    assert_eq!(settings(&admin).await.backups_to_keep, 7);
}

#[tokio::test]
async fn a_change_is_refused_with_503_when_auditing_is_down() {
    let blocker = tempfile::NamedTempFile::new().expect("file");
    let spec = format!("local,file:{}/audit", blocker.path().display());
    let app = spawn_app_with(|config| config.audit.audit_targets = spec).await;
    let admin = app.admin_session_without_login().await;
    let response = admin.put("/api/settings", valid()).await;
    assert_eq!(response.status(), 503);
    let error: witness_api::ApiErrorBody = response.json().await.expect("error");
    assert!(
        error.message.contains("Auditing is unavailable"),
        "{}",
        error.message
    );
    assert_eq!(
        app.store
            .settings()
            .await
            .expect("stored")
            .map(|s| s.backups_to_keep),
        Some(7),
        "nothing changed"
    );
    // Reading the settings is audited too, so it is refused as well.
    assert_eq!(admin.get("/api/settings").await.status(), 503);
}
