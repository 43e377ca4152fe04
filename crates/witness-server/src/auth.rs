//! Who is calling: API keys for now (sessions come with users).

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;

use crate::apikeys::hash_token;
use crate::error::AppError;
use crate::state::AppState;
use crate::store::{ApiKeyRecord, Permission};

/// Why a request's API key was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyRefusal {
    Missing,
    Unknown,
    Revoked,
    NotPermitted(Permission),
    StoreFailed(String),
}

impl KeyRefusal {
    pub fn message(&self) -> String {
        match self {
            KeyRefusal::Missing => "An API key is required: send it in the X-Seq-ApiKey header \
                                    or the apiKey query parameter."
                .to_string(),
            KeyRefusal::Unknown => "The API key is not known to this server.".to_string(),
            KeyRefusal::Revoked => "The API key has been revoked.".to_string(),
            KeyRefusal::NotPermitted(permission) => format!(
                "The API key does not have the `{}` permission.",
                permission.as_str()
            ),
            KeyRefusal::StoreFailed(_) => {
                "The API key could not be checked; try again shortly.".to_string()
            }
        }
    }
}

/// The token from `X-Seq-ApiKey`, `Authorization: Bearer`, or `?apiKey=`.
pub fn presented_token(headers: &HeaderMap, query: Option<&str>) -> Option<String> {
    if let Some(value) = headers.get("x-seq-apikey").and_then(|v| v.to_str().ok()) {
        return Some(value.trim().to_string());
    }
    if let Some(value) = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    {
        return Some(value.trim().to_string());
    }
    query.and_then(|query| {
        form_urlencoded::parse(query.as_bytes())
            .find(|(key, _)| key == "apiKey")
            .map(|(_, value)| value.trim().to_string())
    })
}

pub async fn check_key(
    state: &AppState,
    headers: &HeaderMap,
    query: Option<&str>,
    permission: Permission,
) -> Result<ApiKeyRecord, KeyRefusal> {
    let token = presented_token(headers, query)
        .filter(|token| !token.is_empty())
        .ok_or(KeyRefusal::Missing)?;
    let key = state
        .store()
        .find_api_key(hash_token(&token))
        .await
        .map_err(|error| KeyRefusal::StoreFailed(error.to_string()))?
        .ok_or(KeyRefusal::Unknown)?;
    if key.revoked_at.is_some() {
        return Err(KeyRefusal::Revoked);
    }
    if !key.allows(permission) {
        return Err(KeyRefusal::NotPermitted(permission));
    }
    Ok(key)
}

/// A caller allowed to read audit events.
pub struct ReadAccess {
    pub key: ApiKeyRecord,
}

impl FromRequestParts<AppState> for ReadAccess {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        match check_key(state, &parts.headers, parts.uri.query(), Permission::Read).await {
            Ok(key) => Ok(ReadAccess { key }),
            Err(refusal @ KeyRefusal::NotPermitted(_)) => {
                Err(AppError::Forbidden(refusal.message()))
            }
            Err(KeyRefusal::StoreFailed(error)) => Err(AppError::Internal(anyhow::anyhow!(
                "checking an API key: {error}"
            ))),
            Err(refusal) => Err(AppError::Unauthorized(refusal.message())),
        }
    }
}
