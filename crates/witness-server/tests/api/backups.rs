//! `GET/POST /api/backups`, `GET /api/backups/{id}/download`: listing, backing up now,
//! pruning, downloading, unknown and malicious ids, audit records, auditing down.

use serde_json::json;
use witness_api::{AuditEvent, BackupInfo, Diagnostics};
use witness_server::backup;
use witness_server::secret_key;

use crate::helpers::{Session, TestApp, spawn_app, spawn_app_with};

async fn back_up_now(admin: &Session) -> BackupInfo {
    let response = admin.post("/api/backups", json!({})).await;
    assert_eq!(response.status(), 201);
    response.json().await.expect("backup entry")
}

async fn list(admin: &Session) -> Vec<BackupInfo> {
    let response = admin.get("/api/backups").await;
    assert_eq!(response.status(), 200);
    response.json().await.expect("list")
}

fn phases(mut records: Vec<AuditEvent>) -> Vec<(String, AuditEvent)> {
    records.sort_by(|a, b| a.id.cmp(&b.id));
    records
        .into_iter()
        .map(|r| (r.properties["Event"].as_str().unwrap_or("?").to_string(), r))
        .collect()
}

fn key_of(app: &TestApp) -> secret_key::SecretKey {
    secret_key::load(&app.data_dir, None)
        .expect("key file readable")
        .expect("the server generated a key")
        .0
}

#[tokio::test]
async fn back_up_now_lists_and_decrypts_with_the_key() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    assert!(list(&admin).await.is_empty());

    let before = chrono::Utc::now();
    let made = back_up_now(&admin).await;
    assert!(made.created_at >= before - chrono::Duration::seconds(1));
    assert!(made.file_name.starts_with("witness-backup-"));
    assert!(made.file_name.ends_with(".wbk"));
    assert_eq!(made.file_name, format!("witness-backup-{}.wbk", made.id));
    let path = app.data_dir.join("Backups").join(&made.file_name);
    let bytes = std::fs::read(&path).expect("the file is in <data>/Backups");
    assert_eq!(bytes.len() as u64, made.size_bytes);
    assert_eq!(&bytes[..9], b"WITNESSBK");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
        assert_eq!(mode & 0o077, 0, "owner only");
    }
    // No password hash or token digest in clear.
    let text = String::from_utf8_lossy(&bytes);
    assert!(!text.contains("argon2"));
    assert!(!text.contains("admin"));

    let (_, snapshot) = backup::read_file(&path, &key_of(&app)).expect("decrypts");
    assert_eq!(snapshot.users.len(), 1);
    assert_eq!(snapshot.users[0].user.username, "admin");
    assert!(snapshot.users[0].password_hash.starts_with("$argon2id$"));
    assert_eq!(
        snapshot.settings.map(|s| s.backups_to_keep),
        Some(7),
        "settings are in it"
    );

    let listed = list(&admin).await;
    assert_eq!(listed, vec![made.clone()]);

    let diagnostics: Diagnostics = admin
        .get("/api/diagnostics")
        .await
        .json()
        .await
        .expect("diagnostics");
    assert_eq!(diagnostics.last_backup_at, Some(made.created_at));
    assert!(diagnostics.next_backup_at.is_some());

    let records = phases(app.audit_records("backup.created").await);
    let names: Vec<&str> = records.iter().map(|(phase, _)| phase.as_str()).collect();
    assert_eq!(names, ["Begin", "Complete"]);
    assert_eq!(records[1].1.details["backup_id"], json!(made.id));
    assert_eq!(records[1].1.details["size_bytes"], json!(made.size_bytes));
    let all = serde_json::to_string(&app.audit_records("backup.created").await).expect("json");
    assert!(!all.contains(&key_of(&app).to_base64()), "never the key");
}

#[tokio::test]
async fn the_newest_backups_to_keep_are_kept_newest_first() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let response = admin
        .put(
            "/api/settings",
            json!({"backup_utc_time_of_day": "02:00", "backups_to_keep": 2, "retention_days": 365}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let mut made = Vec::new();
    for _ in 0..4 {
        made.push(back_up_now(&admin).await);
    }
    let ids: Vec<String> = made.iter().map(|b| b.id.clone()).collect();
    let mut unique = ids.clone();
    unique.dedup();
    assert_eq!(
        unique.len(),
        4,
        "distinct ids even within one second: {ids:?}"
    );
    let listed = list(&admin).await;
    assert_eq!(listed, vec![made[3].clone(), made[2].clone()]);
    let files = std::fs::read_dir(app.data_dir.join("Backups"))
        .expect("dir")
        .count();
    assert_eq!(files, 2, "the pruned files are gone");
}

#[tokio::test]
async fn download_streams_the_file_as_an_attachment_and_is_audited() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let made = back_up_now(&admin).await;
    let response = admin
        .get(&format!("/api/backups/{}/download", made.id))
        .await;
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    assert_eq!(headers["content-type"], "application/octet-stream");
    assert_eq!(
        headers["content-disposition"],
        format!("attachment; filename=\"{}\"", made.file_name).as_str()
    );
    let body = response.bytes().await.expect("body");
    let on_disk = std::fs::read(app.data_dir.join("Backups").join(&made.file_name)).expect("file");
    assert_eq!(body.as_ref(), on_disk.as_slice());

    let records = phases(app.audit_records("backup.downloaded").await);
    let names: Vec<&str> = records.iter().map(|(phase, _)| phase.as_str()).collect();
    assert_eq!(names, ["Begin", "Complete"]);
    assert_eq!(records[0].1.details["backup_id"], json!(made.id));
    assert_eq!(records[1].1.details["file_name"], json!(made.file_name));
}

#[tokio::test]
async fn unknown_ids_and_path_traversal_are_404() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    back_up_now(&admin).await;
    // Files that exist in or near the data directory must never be served.
    std::fs::write(app.data_dir.join("Backups").join("notes.wbk"), "x").expect("file");
    for id in [
        "20000101T000000Z",
        "20000101T000000Z-7",
        "nope",
        "..",
        "..%2Fsecret.key",
        "..%2F..%2Fwitness.db",
        "%2E%2E%2Fsecret.key",
        "..%5Csecret.key",
        "witness-backup-20000101T000000Z.wbk",
        "notes",
        "20000101T000000Z%2F..%2F..%2Fsecret.key",
        "%00",
    ] {
        let response = admin.get(&format!("/api/backups/{id}/download")).await;
        assert_eq!(response.status(), 404, "{id}");
        let body = response.text().await.expect("body");
        let error: witness_api::ApiErrorBody =
            serde_json::from_str(&body).unwrap_or_else(|_| panic!("{id}: {body}"));
        assert_eq!(error.code, "not_found", "{id}");
        assert!(
            !body.contains("argon2") && !body.contains("WITNESSBK"),
            "{id}"
        );
    }
    let records = phases(app.audit_records("backup.downloaded").await);
    assert!(
        records.iter().any(|(phase, _)| phase == "Fail"),
        "attempts are on record"
    );
}

#[tokio::test]
async fn auditors_get_403_everywhere() {
    let app = spawn_app().await;
    let made = back_up_now(&app.admin().await).await;
    let auditor = app.user_with_role("audrey", "auditor").await;
    assert_eq!(auditor.get("/api/backups").await.status(), 403);
    assert_eq!(auditor.post("/api/backups", json!({})).await.status(), 403);
    assert_eq!(
        auditor
            .get(&format!("/api/backups/{}/download", made.id))
            .await
            .status(),
        403
    );
    assert_eq!(list(&app.admin().await).await.len(), 1, "nothing made");
}

#[tokio::test]
async fn backing_up_and_downloading_are_refused_with_503_when_auditing_is_down() {
    let blocker = tempfile::NamedTempFile::new().expect("file");
    let spec = format!("local,file:{}/audit", blocker.path().display());
    let app = spawn_app_with(|config| config.audit.audit_targets = spec).await;
    // A backup made outside the API, to try downloading.
    let key = key_of(&app);
    let (made, _) = backup::create(
        app.store.as_ref(),
        &app.data_dir.join("Backups"),
        &key,
        witness_server::settings::defaults(365),
    )
    .await
    .expect("backup");

    let admin = app.admin_session_without_login().await;
    let response = admin.post("/api/backups", json!({})).await;
    assert_eq!(response.status(), 503);
    let error: witness_api::ApiErrorBody = response.json().await.expect("error");
    assert!(error.message.contains("Auditing is unavailable"));
    let response = admin
        .get(&format!("/api/backups/{}/download", made.id))
        .await;
    assert_eq!(response.status(), 503);
    // Listing is audited too, so it is refused as well; the folder says no backup was made.
    assert_eq!(admin.get("/api/backups").await.status(), 503);
    let files: Vec<_> = backup::list(&app.data_dir.join("Backups")).expect("list");
    assert_eq!(files, vec![made], "no backup was made");
}
