//! A JSON body extractor whose rejection uses Witness's error shape and says what was wrong.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

use crate::error::AppError;

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
            Err(other) => Err(AppError::BadRequest(other.body_text())),
        }
    }
}
