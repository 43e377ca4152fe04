//! A JSON body extractor whose rejection uses Witness's error shape and says what was wrong.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

use crate::error::AppError;

/// The largest JSON body Witness's own API takes (logins, users, keys, settings are small);
/// ingestion has its own, configurable limit.
pub const MAX_JSON_BODY_BYTES: usize = 64 * 1024;
/// A login's body may be larger, so that an over-long username is refused by name (400)
/// rather than by size; it is still read whole before anything else happens.
pub const MAX_LOGIN_BODY_BYTES: usize = 256 * 1024;

pub struct JsonBody<T>(pub T);

impl<S, T> FromRequest<S> for JsonBody<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(request: Request, state: &S) -> Result<Self, AppError> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(JsonBody(value)),
            Err(JsonRejection::MissingJsonContentType(_)) => Err(AppError::BadRequest(
                "Send the body as JSON with Content-Type: application/json.".to_string(),
            )),
            Err(JsonRejection::JsonDataError(error)) => Err(AppError::BadRequest(format!(
                "The JSON body does not have the expected fields: {}",
                error.body_text()
            ))),
            Err(JsonRejection::JsonSyntaxError(error)) => Err(AppError::BadRequest(format!(
                "The body is not valid JSON: {}",
                error.body_text()
            ))),
            Err(other) if other.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => {
                Err(AppError::PayloadTooLarge(
                    "The request body is larger than this endpoint accepts.".to_string(),
                ))
            }
            Err(other) => Err(AppError::BadRequest(other.body_text())),
        }
    }
}
