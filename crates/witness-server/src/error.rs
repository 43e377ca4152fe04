//! One error type for Witness's own API, answered as `{"code", "message"}` with its status.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use witness_api::{ApiErrorBody, FilterError};

use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// A query parameter or body value the caller can fix; names the parameter.
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl AppError {
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            AppError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            AppError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
            AppError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            AppError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            AppError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal_error"),
        }
    }
}

impl From<FilterError> for AppError {
    fn from(error: FilterError) -> Self {
        AppError::BadRequest(error.to_string())
    }
}

impl From<StoreError> for AppError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Invalid { parameter, message } => {
                AppError::BadRequest(format!("Query parameter `{parameter}`: {message}"))
            }
            StoreError::Backend(message) => AppError::Internal(anyhow::anyhow!(message)),
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
