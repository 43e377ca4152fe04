//! `POST /api/auth/login`, `POST /api/auth/logout`, `GET /api/auth/me`.

use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use witness_api::{LoginRequest, LoginResponse, Me, PasswordChange};

use crate::apikeys::hash_token;
use crate::audit::RequestContext;
use crate::auth::{SessionUser, request_context};
use crate::details;
use crate::error::AppError;
use crate::passwords::{
    MAX_PASSWORD_BYTES, hash_password_off_thread, password_problem, verify_login,
};
use crate::routes::json_body::JsonBody;
use crate::sessions::{clearing_cookie, random_token, session_cookie};
use crate::state::AppState;
use crate::store::{SessionRecord, UserChanges};

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

/// The longest username a login may send.
pub const MAX_LOGIN_USERNAME_CHARS: usize = LoginRequest::MAX_USERNAME_CHARS;

/// Refuses what no account could match, before the attempt costs an audit write or a hash.
fn check_login_fields(request: &LoginRequest) -> Result<&str, AppError> {
    let username = request.username.trim();
    if username.is_empty() {
        return Err(AppError::BadRequest(
            "Field `username`: is required.".to_string(),
        ));
    }
    if username.chars().count() > MAX_LOGIN_USERNAME_CHARS {
        return Err(AppError::BadRequest(format!(
            "Field `username`: is longer than {MAX_LOGIN_USERNAME_CHARS} characters."
        )));
    }
    if request.password.len() > MAX_PASSWORD_BYTES {
        return Err(AppError::BadRequest(format!(
            "Field `password`: is longer than {MAX_PASSWORD_BYTES} bytes."
        )));
    }
    Ok(username)
}

pub async fn login(
    State(state): State<AppState>,
    Anonymous(mut context, headers): Anonymous,
    JsonBody(request): JsonBody<LoginRequest>,
) -> Result<Response, AppError> {
    let username = check_login_fields(&request)?.to_string();
    let address = context.remote_address.clone();
    // Before the audit write: a flood of refused attempts must not become a flood of records.
    if let Some((retry_after_seconds, _)) = state
        .login_limiter()
        .blocked_for(&username, address.as_deref())
    {
        return Err(AppError::TooManyRequests {
            retry_after_seconds,
        });
    }
    context.principal = username.clone();
    let operation = state
        .auditor()
        .begin(&context, "user.login", details! {"username" => username})
        .await?;

    let user = match state.store().find_user(&username).await {
        Ok(user) => user,
        Err(error) => {
            operation.fail("the user could not be looked up").await;
            return Err(error.into());
        }
    };
    let verified = verify_login(
        request.password,
        user.as_ref().map(|record| record.password_hash.clone()),
    )
    .await;
    let Some(record) = user.filter(|_| verified) else {
        state
            .login_limiter()
            .record_failure(&username, address.as_deref());
        operation.fail(BAD_LOGIN).await;
        return Err(AppError::Unauthorized(BAD_LOGIN.to_string()));
    };
    state.login_limiter().clear(&username);

    match start_session(&state, record.user.clone(), &headers).await {
        Ok(response) => {
            operation
                .complete(
                    details! {"user_id" => record.user.id, "role" => record.user.role.as_str()},
                )
                .await;
            Ok(response)
        }
        Err(error) => {
            operation.fail("the session could not be stored").await;
            Err(error)
        }
    }
}

/// Stores a new session for `user` and answers with it: the cookie and the CSRF token.
async fn start_session(
    state: &AppState,
    user: witness_api::User,
    headers: &HeaderMap,
) -> Result<Response, AppError> {
    let token = random_token();
    let now = state.now();
    let idle = state.session_idle().min(state.session_max());
    let session = SessionRecord {
        token_hash: hash_token(&token),
        user_id: user.id.clone(),
        csrf_token: random_token(),
        created_at: now,
        expires_at: now + chrono::Duration::from_std(idle).unwrap_or(chrono::Duration::hours(8)),
    };
    state.store().create_session(session.clone()).await?;
    let body = LoginResponse {
        user,
        csrf_token: session.csrf_token,
        expires_at: session.expires_at,
    };
    let mut response = (StatusCode::OK, Json(body)).into_response();
    if let Some(cookie) = session_cookie(&token, headers) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

/// `PUT /api/auth/password`: the caller's own password, the current one required. Wrong
/// current passwords count as failed logins (the same limiter), so a stolen session cannot
/// be used to guess it.
pub async fn change_password(
    State(state): State<AppState>,
    SessionUser(caller): SessionUser,
    headers: HeaderMap,
    JsonBody(change): JsonBody<PasswordChange>,
) -> Result<Response, AppError> {
    let crate::auth::Principal::User(user) = &caller.principal else {
        return Err(AppError::Unauthorized("You are not logged in.".to_string()));
    };
    if change.current_password.len() > MAX_PASSWORD_BYTES {
        return Err(AppError::field(
            "current_password",
            format!("is longer than {MAX_PASSWORD_BYTES} bytes"),
        ));
    }
    if let Some(problem) = password_problem(&change.new_password) {
        return Err(AppError::field("new_password", problem));
    }
    let address = caller.context.remote_address.clone();
    if let Some((retry_after_seconds, _)) = state
        .login_limiter()
        .blocked_for(&user.username, address.as_deref())
    {
        return Err(AppError::TooManyRequests {
            retry_after_seconds,
        });
    }
    let operation = state
        .auditor()
        .begin(
            &caller.context,
            "user.password_changed",
            details! {"user_id" => user.id},
        )
        .await?;
    let outcome = async {
        let record = state
            .store()
            .get_user(&user.id)
            .await?
            .ok_or_else(|| AppError::Unauthorized("You are not logged in.".to_string()))?;
        if !verify_login(change.current_password, Some(record.password_hash)).await {
            state
                .login_limiter()
                .record_failure(&user.username, address.as_deref());
            return Err(AppError::field(
                "current_password",
                "is not your current password",
            ));
        }
        let password_hash = hash_password_off_thread(change.new_password).await?;
        // Ends every session of this user, this one included; a new one follows.
        state
            .store()
            .update_user(
                &user.id,
                UserChanges {
                    password_hash: Some(password_hash),
                    ..UserChanges::default()
                },
            )
            .await?;
        start_session(&state, record.user, &headers).await
    }
    .await;
    operation.finish_with(outcome, |_| details! {}).await
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
