//! HTTP routes, one module per concern.

mod audit;
mod diagnostics;
mod health;
mod ingest;

use axum::Router;
use axum::extract::{DefaultBodyLimit, OriginalUri};
use axum::routing::{get, post};

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
        // An unknown API path is a JSON 404, never the panel's index.html.
        .fallback(api_not_found)
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
