//! One error type for Witness's own API, answered as `{"code", "message"}` with its status.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use witness_api::ApiErrorBody;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    NotFound(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl AppError {
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            AppError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            AppError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal_error"),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let message = match &self {
            AppError::Internal(error) => {
                // The details go to the log, not to the caller.
                tracing::error!(error = format!("{error:#}"), "request failed");
                "Witness hit an internal error; the server log has the details.".to_string()
            }
            other => other.to_string(),
        };
        let body = ApiErrorBody {
            code: code.to_string(),
            message,
        };
        (status, Json(body)).into_response()
    }
}
