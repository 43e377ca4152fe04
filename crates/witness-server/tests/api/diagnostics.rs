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
