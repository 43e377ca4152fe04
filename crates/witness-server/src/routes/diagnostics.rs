//! `GET /api/diagnostics` (the panel's status page) and `GET /api/diagnostics/report` (the
//! full report as a text download, audited). Admins only.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use witness_api::Diagnostics;

use crate::auth::Admin;
use crate::details;
use crate::error::AppError;
use crate::state::AppState;

pub async fn get_diagnostics(
    State(state): State<AppState>,
    Admin(caller): Admin,
) -> Result<Json<Diagnostics>, AppError> {
    let backups = state.backups();
    let last_backup_at = state
        .auditor()
        .audited(&caller.context, "diagnostics.viewed", details! {}, async {
            Ok(backups.list().await?)
        })
        .await?
        .first()
        .map(|backup| backup.created_at);
    Ok(Json(Diagnostics {
        version: env!("CARGO_PKG_VERSION").to_string(),
        started_at: state.started_at(),
        uptime_seconds: state.uptime_seconds(),
        data_dir: state.data_dir().display().to_string(),
        auditing: state.auditor().status(),
        last_backup_at,
        next_backup_at: state.backups().next_scheduled(),
        // The page still shows everything else when the store cannot be read.
        storage: state.store().stats().await.ok(),
        last_full_verify: state.integrity().last_scheduled(),
    }))
}

/// Auditing cannot be switched off (there is always at least one target), so it is enabled
/// whenever the server runs; the targets say where records go.
/// `GET /api/diagnostics/report`: `witness-diagnostics-<UTC time>.txt`.
pub async fn report(
    State(state): State<AppState>,
    Admin(caller): Admin,
) -> Result<Response, AppError> {
    let operation = state
        .auditor()
        .begin(&caller.context, "diagnostics.downloaded", details! {})
        .await?;
    let text = crate::diagnostics::report(&state).await;
    let file_name = format!(
        "witness-diagnostics-{}.txt",
        Utc::now().format("%Y%m%dT%H%M%SZ")
    );
    operation
        .complete(details! {"file_name" => file_name, "size_bytes" => text.len()})
        .await;
    let mut response = text.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
