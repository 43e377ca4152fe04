//! One error type for Witness's own API, answered as `{"code", "message"}` with its status
//! (422 adds `fields`, a message per field).

use std::collections::BTreeMap;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use witness_api::{ApiErrorBody, FilterError, ValidationErrorBody};

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
    #[error("{0}")]
    Conflict(String),
    /// A request body over its route's size limit.
    #[error("{0}")]
    PayloadTooLarge(String),
    /// Field name → what is wrong with it.
    #[error("Some fields are not valid: {}", describe_fields(.0))]
    Validation(BTreeMap<String, String>),
    #[error("Too many failed attempts; try again in {retry_after_seconds} seconds.")]
    TooManyRequests { retry_after_seconds: u64 },
    /// The operation was refused because something it depends on (auditing) is down.
    #[error("{0}")]
    Unavailable(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

fn describe_fields(fields: &BTreeMap<String, String>) -> String {
    fields
        .iter()
        .map(|(field, message)| format!("{field}: {message}"))
        .collect::<Vec<_>>()
        .join("; ")
}

impl AppError {
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        AppError::Validation(BTreeMap::from([(field.to_string(), message.into())]))
    }

    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            AppError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            AppError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
            AppError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            AppError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            AppError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            AppError::PayloadTooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            AppError::Validation(_) => (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"),
            AppError::TooManyRequests { .. } => {
                (StatusCode::TOO_MANY_REQUESTS, "too_many_requests")
            }
            AppError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
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
            StoreError::Conflict(message) => AppError::Conflict(message),
            StoreError::NotFound(message) => AppError::NotFound(message),
            StoreError::Backend(message) => AppError::Internal(anyhow::anyhow!(message)),
            // The source chain goes to the log with the error.
            failed @ (StoreError::Sqlite(_) | StoreError::Postgres { .. }) => {
                AppError::Internal(anyhow::Error::new(failed))
            }
            corrupt @ StoreError::Corrupt { .. } => AppError::Internal(corrupt.into()),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let retry_after = match &self {
            AppError::TooManyRequests {
                retry_after_seconds,
            } => Some(*retry_after_seconds),
            _ => None,
        };
        let message = match &self {
            AppError::Internal(error) => {
                // The details go to the log, not to the caller.
                tracing::error!(error = format!("{error:#}"), "request failed");
                "Witness hit an internal error; the server log has the details.".to_string()
            }
            other => other.to_string(),
        };
        let mut response = match self {
            AppError::Validation(fields) => (
                status,
                Json(ValidationErrorBody {
                    code: code.to_string(),
                    message,
                    fields,
                }),
            )
                .into_response(),
            _ => (
                status,
                Json(ApiErrorBody {
                    code: code.to_string(),
                    message,
                }),
            )
                .into_response(),
        };
        if let Some(value) = retry_after.and_then(|s| HeaderValue::from_str(&s.to_string()).ok()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

impl From<crate::audit::AuditError> for AppError {
    fn from(error: crate::audit::AuditError) -> Self {
        match error {
            crate::audit::AuditError::Unavailable => AppError::Unavailable(error.to_string()),
        }
    }
}

/// The audit layer's combinator for HTTP handlers, here at the edge where its errors become
/// HTTP answers.
impl crate::audit::Auditor {
    /// Runs `work` as one audited operation: Begin before it starts (refused with 503 when
    /// that cannot be written), then Complete or Fail by its outcome.
    pub async fn audited<T>(
        self: &std::sync::Arc<Self>,
        context: &crate::audit::RequestContext,
        action: &str,
        details: serde_json::Map<String, serde_json::Value>,
        work: impl std::future::Future<Output = Result<T, AppError>>,
    ) -> Result<T, AppError> {
        let operation = self.begin(context, action, details).await?;
        operation
            .finish_with(work.await, |_| serde_json::Map::new())
            .await
    }
}
