//! The typed client of the Witness API: one function per endpoint, one error type.
//!
//! Requests go to the origin that served the panel, so no base URL is configured. The
//! session cookie is HttpOnly; the CSRF token from the login (or `me`) is kept here and sent
//! on every unsafe request. A 401 anywhere but the login itself sends the user to the login
//! page, with the way back in `next`.

use std::cell::RefCell;

use gloo_net::http::{Request, RequestBuilder, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use witness_api::{ApiErrorBody, Diagnostics, LoginRequest, LoginResponse, Me};

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

impl ApiError {
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Server { status, .. } => Some(*status),
            _ => None,
        }
    }
}

thread_local! {
    static CSRF_TOKEN: RefCell<Option<String>> = const { RefCell::new(None) };
}

fn remember_csrf(token: &str) {
    CSRF_TOKEN.with(|slot| *slot.borrow_mut() = Some(token.to_string()));
}

fn with_csrf(request: RequestBuilder) -> RequestBuilder {
    match CSRF_TOKEN.with(|slot| slot.borrow().clone()) {
        Some(token) => request.header("X-CSRF-Token", &token),
        None => request,
    }
}

/// Where the login page sends the user back to: a path on this site only.
pub fn safe_next(next: Option<String>) -> String {
    next.filter(|path| {
        path.starts_with('/') && !path.starts_with("//") && !path.starts_with("/login")
    })
    .unwrap_or_else(|| "/audit".to_string())
}

fn redirect_to_login() {
    let Some(window) = leptos::web_sys::window() else {
        return;
    };
    let location = window.location();
    let here = format!(
        "{}{}",
        location.pathname().unwrap_or_default(),
        location.search().unwrap_or_default()
    );
    if here.starts_with("/login") {
        return;
    }
    let next = String::from(leptos::web_sys::js_sys::encode_uri_component(&here));
    let _ = location.set_href(&format!("/login?next={next}"));
}

async fn send(request: Result<Request, gloo_net::Error>) -> Result<Response, ApiError> {
    request
        .map_err(|error| ApiError::Network(error.to_string()))?
        .send()
        .await
        .map_err(|error| ApiError::Network(error.to_string()))
}

async fn get_json<T: DeserializeOwned>(path: &str) -> Result<T, ApiError> {
    let response = send(
        Request::get(path)
            .header("Accept", "application/json")
            .build(),
    )
    .await?;
    read_json(response, true).await
}

async fn send_json<B: Serialize, T: DeserializeOwned>(
    builder: RequestBuilder,
    body: &B,
    redirect_on_401: bool,
) -> Result<T, ApiError> {
    let response = send(with_csrf(builder.header("Accept", "application/json")).json(body)).await?;
    read_json(response, redirect_on_401).await
}

async fn error_from(response: Response, redirect_on_401: bool) -> ApiError {
    let status = response.status();
    if status == 401 && redirect_on_401 {
        redirect_to_login();
    }
    let status_text = response.status_text();
    match response.json::<ApiErrorBody>().await {
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
    }
}

async fn read_json<T: DeserializeOwned>(
    response: Response,
    redirect_on_401: bool,
) -> Result<T, ApiError> {
    if !response.ok() {
        return Err(error_from(response, redirect_on_401).await);
    }
    response
        .json::<T>()
        .await
        .map_err(|error| ApiError::Decode(error.to_string()))
}

/// `POST /api/auth/login`.
pub async fn login(request: &LoginRequest) -> Result<LoginResponse, ApiError> {
    let response: LoginResponse =
        send_json(Request::post("/api/auth/login"), request, false).await?;
    remember_csrf(&response.csrf_token);
    Ok(response)
}

/// `GET /api/auth/me`; a 401 (no session) sends the user to the login page.
pub async fn me() -> Result<Me, ApiError> {
    let me: Me = get_json("/api/auth/me").await?;
    remember_csrf(&me.csrf_token);
    Ok(me)
}

/// `POST /api/auth/logout`.
pub async fn logout() -> Result<(), ApiError> {
    let response = send(with_csrf(Request::post("/api/auth/logout")).build()).await?;
    if response.ok() {
        CSRF_TOKEN.with(|slot| *slot.borrow_mut() = None);
        Ok(())
    } else {
        Err(error_from(response, false).await)
    }
}

/// `GET /api/diagnostics`.
pub async fn diagnostics() -> Result<Diagnostics, ApiError> {
    get_json("/api/diagnostics").await
}

/// `GET /api/audit/events`: one page of the filtered events, newest first.
pub async fn events(
    filter: &witness_api::EventFilter,
    cursor: Option<&str>,
    limit: usize,
) -> Result<witness_api::EventPage, ApiError> {
    let limit = limit.to_string();
    let mut extra = vec![("limit", limit.as_str())];
    if let Some(cursor) = cursor {
        extra.push(("cursor", cursor));
    }
    let query = crate::filters::query_from_filter(filter, &extra);
    get_json(&format!("/api/audit/events?{query}")).await
}

/// `GET /api/audit/events/{id}`.
pub async fn event(id: &str) -> Result<witness_api::AuditEvent, ApiError> {
    let id = String::from(leptos::web_sys::js_sys::encode_uri_component(id));
    get_json(&format!("/api/audit/events/{id}")).await
}

/// `GET /api/audit/histogram` for the same filter.
pub async fn histogram(
    filter: &witness_api::EventFilter,
) -> Result<witness_api::Histogram, ApiError> {
    let query = crate::filters::query_from_filter(filter, &[]);
    get_json(&format!("/api/audit/histogram?{query}")).await
}

/// `GET /api/audit/verify`.
pub async fn verify() -> Result<witness_api::VerifyReport, ApiError> {
    get_json("/api/audit/verify").await
}

/// The download link of an export of the filter (the session cookie authorizes it).
pub fn export_url(filter: &witness_api::EventFilter, format: &str) -> String {
    format!(
        "/api/audit/export?{}",
        crate::filters::query_from_filter(filter, &[("format", format)])
    )
}
