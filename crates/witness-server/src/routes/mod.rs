//! HTTP routes, one module per concern.

mod apikeys;
mod audit;
mod auth;
mod backups;
mod diagnostics;
mod health;
mod ingest;
pub mod json_body;
mod settings;
mod users;

use axum::Router;
use axum::extract::{DefaultBodyLimit, OriginalUri};
use axum::routing::{delete, get, post};

use crate::error::AppError;
use crate::state::AppState;

pub use audit::CSV_HEADER;

/// Everything under `/api`.
pub fn api() -> Router<AppState> {
    Router::new()
        .route(
            "/events/raw",
            // Ingestion enforces its own (larger, configurable) payload limit with a Seq answer.
            post(ingest::post_raw).layer(DefaultBodyLimit::disable()),
        )
        .route("/audit/events", get(audit::list_events))
        .route("/audit/events/{id}", get(audit::get_event))
        .route("/audit/histogram", get(audit::histogram))
        .route("/audit/export", get(audit::export))
        .route("/audit/stream", get(audit::stream))
        .route("/audit/verify", get(audit::verify))
        .route("/diagnostics", get(diagnostics::get_diagnostics))
        .route("/diagnostics/report", get(diagnostics::report))
        .route(
            "/settings",
            get(settings::get_settings).put(settings::put_settings),
        )
        .route("/backups", get(backups::list).post(backups::create))
        .route("/backups/{id}/download", get(backups::download))
        .route(
            "/auth/login",
            post(auth::login).layer(DefaultBodyLimit::max(json_body::MAX_LOGIN_BODY_BYTES)),
        )
        .route("/auth/logout", post(auth::logout))
        .route("/auth/me", get(auth::me))
        .route("/auth/password", axum::routing::put(auth::change_password))
        .route("/apikeys", get(apikeys::list).post(apikeys::create))
        .route("/apikeys/{id}", delete(apikeys::revoke))
        .route("/users", get(users::list).post(users::create))
        .route(
            "/users/{id}",
            axum::routing::put(users::update).delete(users::remove),
        )
        // An unknown API path is a JSON 404, never the panel's index.html.
        .fallback(api_not_found)
        // Route layers above (ingestion's) take precedence over this one.
        .layer(DefaultBodyLimit::max(json_body::MAX_JSON_BODY_BYTES))
}

/// Routes outside `/api` that are not the panel.
pub fn root() -> Router<AppState> {
    Router::new()
        .route("/health", get(health::get_health))
        .route(
            "/ingest/clef",
            post(ingest::post_clef).layer(DefaultBodyLimit::disable()),
        )
}

async fn api_not_found(OriginalUri(uri): OriginalUri) -> AppError {
    AppError::NotFound(format!("There is no API endpoint at {}.", uri.path()))
}
