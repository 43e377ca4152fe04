//! HTTP routes, one module per concern.

mod diagnostics;
mod health;

use axum::Router;
use axum::extract::OriginalUri;
use axum::routing::get;

use crate::error::AppError;
use crate::state::AppState;

/// Everything under `/api`.
pub fn api() -> Router<AppState> {
    Router::new()
        .route("/diagnostics", get(diagnostics::get_diagnostics))
        // An unknown API path is a JSON 404, never the panel's index.html.
        .fallback(api_not_found)
}

/// Routes outside `/api` that are not the panel.
pub fn root() -> Router<AppState> {
    Router::new().route("/health", get(health::get_health))
}

async fn api_not_found(OriginalUri(uri): OriginalUri) -> AppError {
    AppError::NotFound(format!("There is no API endpoint at {}.", uri.path()))
}
