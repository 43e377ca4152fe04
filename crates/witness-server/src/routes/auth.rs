//! `POST /api/auth/login`, `POST /api/auth/logout`, `GET /api/auth/me`.

use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use witness_api::{LoginRequest, LoginResponse, Me};

use crate::apikeys::hash_token;
use crate::audit::RequestContext;
use crate::auth::{SessionUser, request_context};
use crate::details;
use crate::error::AppError;
use crate::passwords::{verify_against_nothing, verify_password};
use crate::routes::json_body::JsonBody;
use crate::sessions::{clearing_cookie, random_token, session_cookie};
use crate::state::AppState;
use crate::store::SessionRecord;

/// The request's audit context before anyone is authenticated.
pub struct Anonymous(RequestContext, HeaderMap);

impl FromRequestParts<AppState> for Anonymous {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &AppState) -> Result<Self, AppError> {
        Ok(Anonymous(
            request_context(parts, String::new(), "anonymous"),
            parts.headers.clone(),
        ))
    }
}

const BAD_LOGIN: &str = "Invalid username or password.";

pub async fn login(
    State(state): State<AppState>,
    Anonymous(mut context, headers): Anonymous,
    JsonBody(request): JsonBody<LoginRequest>,
) -> Result<Response, AppError> {
    let username = request.username.trim().to_string();
    context.principal = username.clone();
    let operation = state
        .auditor()
        .begin(&context, "user.login", details! {"username" => username})
        .await?;

    if let Some(retry_after_seconds) = state.login_limiter().blocked_for(&username) {
        let error = AppError::TooManyRequests {
            retry_after_seconds,
        };
        operation.fail("too many failed logins").await;
        return Err(error);
    }

    let user = state.store().find_user(&username).await?;
    let verified = match &user {
        Some(record) => verify_password(&request.password, &record.password_hash),
        None => {
            verify_against_nothing(&request.password);
            false
        }
    };
    let Some(record) = user.filter(|_| verified) else {
        state.login_limiter().record_failure(&username);
        operation.fail(BAD_LOGIN).await;
        return Err(AppError::Unauthorized(BAD_LOGIN.to_string()));
    };
    state.login_limiter().clear(&username);

    let token = random_token();
    let now = Utc::now();
    let idle = state.session_idle();
    let session = SessionRecord {
        token_hash: hash_token(&token),
        user_id: record.user.id.clone(),
        csrf_token: random_token(),
        created_at: now,
        expires_at: now + chrono::Duration::from_std(idle).unwrap_or(chrono::Duration::hours(8)),
    };
    if let Err(error) = state.store().create_session(session.clone()).await {
        operation.fail("the session could not be stored").await;
        return Err(error.into());
    }
    operation
        .complete(details! {"user_id" => record.user.id, "role" => record.user.role.as_str()})
        .await;

    let body = LoginResponse {
        user: record.user,
        csrf_token: session.csrf_token,
        expires_at: session.expires_at,
    };
    let mut response = (StatusCode::OK, Json(body)).into_response();
    if let Some(cookie) = session_cookie(&token, &headers) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

pub async fn logout(
    State(state): State<AppState>,
    SessionUser(caller): SessionUser,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let operation = state
        .auditor()
        .begin(&caller.context, "user.logout", details! {})
        .await?;
    let outcome = match &caller.session {
        Some(session) => state
            .store()
            .delete_session(session.token_hash)
            .await
            .map_err(AppError::from),
        None => Ok(()),
    };
    operation.finish_with(outcome, |_| details! {}).await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    if let Some(cookie) = clearing_cookie(&headers) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

pub async fn me(SessionUser(caller): SessionUser) -> Result<Json<Me>, AppError> {
    let (crate::auth::Principal::User(user), Some(session)) = (caller.principal, caller.session)
    else {
        return Err(AppError::Unauthorized("You are not logged in.".to_string()));
    };
    Ok(Json(Me {
        user,
        csrf_token: session.csrf_token,
        expires_at: session.expires_at,
    }))
}
