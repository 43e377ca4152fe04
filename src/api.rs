//! The typed client of the Witness API: one function per endpoint, one error type.
//!
//! Requests go to the origin that served the panel, so no base URL is configured.

use gloo_net::http::{Request, Response};
use serde::de::DeserializeOwned;
use witness_api::{ApiErrorBody, Diagnostics};

/// Why a call to the server did not give the expected answer, phrased for the person reading it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// The request never got an answer (server down, network gone).
    #[error("Cannot reach the Witness server ({0}). Check that it is running, then try again.")]
    Network(String),
    /// The server answered with an error status.
    #[error("{message}")]
    Server {
        status: u16,
        code: String,
        message: String,
    },
    /// The answer came but was not what this panel expects (a version mismatch, usually).
    #[error(
        "The server's answer could not be read ({0}). Reload the page; if it persists, the panel and server versions may differ."
    )]
    Decode(String),
}

async fn get_json<T: DeserializeOwned>(path: &str) -> Result<T, ApiError> {
    let response = Request::get(path)
        .header("Accept", "application/json")
        .send()
        .await
        .map_err(|error| ApiError::Network(error.to_string()))?;
    read_json(response).await
}

async fn read_json<T: DeserializeOwned>(response: Response) -> Result<T, ApiError> {
    if !response.ok() {
        let status = response.status();
        let status_text = response.status_text();
        return Err(match response.json::<ApiErrorBody>().await {
            Ok(body) => ApiError::Server {
                status,
                code: body.code,
                message: body.message,
            },
            Err(_) => ApiError::Server {
                status,
                code: "http_error".to_string(),
                message: format!("The server answered {status} {status_text}."),
            },
        });
    }
    response
        .json::<T>()
        .await
        .map_err(|error| ApiError::Decode(error.to_string()))
}

/// `GET /api/diagnostics`.
pub async fn diagnostics() -> Result<Diagnostics, ApiError> {
    get_json("/api/diagnostics").await
}
