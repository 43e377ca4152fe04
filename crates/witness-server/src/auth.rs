//! Who is calling: a login session (cookie + CSRF header on unsafe methods) or an API key.
//! Extractors state what a route needs: `Reader` (auditors, admins, read keys), `Admin`.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts, OriginalUri};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method};
use witness_api::{Role, User};

use crate::apikeys::hash_token;
use crate::audit::RequestContext;
use crate::error::AppError;
use crate::sessions::token_from_cookies;
use crate::state::AppState;
use crate::store::{ApiKeyRecord, Permission, SessionRecord};

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

/// The method, path and remote address of a request, for audit records.
pub fn request_context(
    parts: &Parts,
    principal: String,
    principal_type: &'static str,
) -> RequestContext {
    RequestContext {
        principal,
        principal_type,
        method: parts.method.to_string(),
        // Inside a nested router `uri` lost its prefix; the original has the whole path.
        path: parts
            .extensions
            .get::<OriginalUri>()
            .map(|OriginalUri(uri)| uri.path().to_string())
            .unwrap_or_else(|| parts.uri.path().to_string()),
        remote_address: parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(address)| address.ip().to_string()),
    }
}

pub enum Principal {
    User(User),
    ApiKey(ApiKeyRecord),
}

/// An authenticated caller and the context its audit records carry.
pub struct Caller {
    pub principal: Principal,
    pub session: Option<SessionRecord>,
    pub context: RequestContext,
}

impl Caller {
    pub fn is_admin(&self) -> bool {
        matches!(&self.principal, Principal::User(user) if user.role == Role::Admin)
    }
}

/// Compares in constant time, so the answer's timing says nothing about how much of a guessed
/// token was right.
fn csrf_matches(presented: Option<&str>, expected: &str) -> bool {
    use subtle::ConstantTimeEq;
    presented.is_some_and(|presented| bool::from(presented.as_bytes().ct_eq(expected.as_bytes())))
}

fn is_unsafe(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        if let Some(token) = token_from_cookies(&parts.headers) {
            let token_hash = hash_token(&token);
            let now = state.now();
            if let Some((session, user)) = state.store().find_session(token_hash, now).await? {
                if is_unsafe(&parts.method) {
                    let presented = parts
                        .headers
                        .get("x-csrf-token")
                        .and_then(|value| value.to_str().ok());
                    if !csrf_matches(presented, &session.csrf_token) {
                        return Err(AppError::Forbidden(
                            "This request needs the X-CSRF-Token header of your session; \
                             reload the page and try again."
                                .to_string(),
                        ));
                    }
                }
                let session = state.slide_session(session, now).await?;
                let context = request_context(parts, user.user.username.clone(), "user");
                return Ok(Caller {
                    principal: Principal::User(user.user),
                    session: Some(session),
                    context,
                });
            }
            // An expired or unknown session cookie: fall through to an API key, else 401.
            if presented_token(&parts.headers, parts.uri.query()).is_none() {
                return Err(AppError::Unauthorized(
                    "Your session has expired or ended; log in again.".to_string(),
                ));
            }
        }
        match check_key(state, &parts.headers, parts.uri.query(), Permission::Read).await {
            Ok(key) => {
                let context = request_context(parts, key.id.clone(), "api_key");
                Ok(Caller {
                    principal: Principal::ApiKey(key),
                    session: None,
                    context,
                })
            }
            Err(refusal @ KeyRefusal::NotPermitted(_)) => {
                Err(AppError::Forbidden(refusal.message()))
            }
            Err(KeyRefusal::StoreFailed(error)) => Err(AppError::Internal(anyhow::anyhow!(
                "checking an API key: {error}"
            ))),
            Err(KeyRefusal::Missing) => Err(AppError::Unauthorized(
                "Log in, or send an API key with the read permission.".to_string(),
            )),
            Err(refusal) => Err(AppError::Unauthorized(refusal.message())),
        }
    }
}

/// May read audit logs: any logged-in user, or an API key with the read permission.
pub struct Reader(pub Caller);

impl FromRequestParts<AppState> for Reader {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        Ok(Reader(Caller::from_request_parts(parts, state).await?))
    }
}

/// May manage Witness: a logged-in admin.
pub struct Admin(pub Caller);

impl FromRequestParts<AppState> for Admin {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let caller = Caller::from_request_parts(parts, state).await?;
        if !caller.is_admin() {
            return Err(AppError::Forbidden(
                "Only administrators may do this.".to_string(),
            ));
        }
        Ok(Admin(caller))
    }
}

/// A logged-in user (any role), through a session only.
pub struct SessionUser(pub Caller);

impl FromRequestParts<AppState> for SessionUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let caller = Caller::from_request_parts(parts, state).await?;
        if caller.session.is_none() {
            return Err(AppError::Unauthorized("You are not logged in.".to_string()));
        }
        Ok(SessionUser(caller))
    }
}

/// A logged-in user (any role), for what is their own (saved views): an API key, whatever its
/// permissions, belongs to no person, so it is refused with 403 saying so.
pub struct Person(pub Caller, pub User);

fn not_for_keys() -> AppError {
    AppError::Forbidden(
        "Saved views belong to a logged-in user; an API key has none. Log in to use them."
            .to_string(),
    )
}

impl FromRequestParts<AppState> for Person {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        match Caller::from_request_parts(parts, state).await {
            Ok(caller) => match (&caller.principal, &caller.session) {
                (Principal::User(user), Some(_)) => {
                    let user = user.clone();
                    Ok(Person(caller, user))
                }
                _ => Err(not_for_keys()),
            },
            // A key without the read permission is refused before it is known to be a key
            // here; without a session cookie the 403 can only be about that key.
            Err(AppError::Forbidden(_)) if token_from_cookies(&parts.headers).is_none() => {
                Err(not_for_keys())
            }
            Err(error) => Err(error),
        }
    }
}
