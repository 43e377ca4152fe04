//! The typed client of the Witness API: one function per endpoint, one error type.
//!
//! Requests go to the origin that served the panel, so no base URL is configured. The
//! session cookie is HttpOnly; the CSRF token from the login (or `me`) is kept here and sent
//! on every unsafe request. A 401 anywhere but the login itself sends the user to the login
//! page, with the way back in `next`.

use std::cell::RefCell;

use gloo_net::http::{Request, RequestBuilder, Response};
use leptos::wasm_bindgen::JsCast;
use leptos::wasm_bindgen::closure::Closure;
use leptos::web_sys;
use serde::Serialize;
use serde::de::DeserializeOwned;
use witness_api::{Diagnostics, LoginRequest, LoginResponse, Me};

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
    /// The server refused some fields (422): a message per field, shown next to each. Kept
    /// as JSON values: the panel already carries that map for event details, and a second map
    /// type would add its own parser and tree code to the .wasm.
    #[error("{message}")]
    Invalid {
        message: String,
        fields: serde_json::Map<String, serde_json::Value>,
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
            ApiError::Invalid { .. } => Some(422),
            _ => None,
        }
    }

    /// The server's message for one field of a refused form, if it had one.
    pub fn field(&self, name: &str) -> Option<String> {
        match self {
            ApiError::Invalid { fields, .. } => fields
                .get(name)
                .and_then(serde_json::Value::as_str)
                .map(str::to_string),
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
    // Only a path on this origin: browsers read `//host` and `/\host` as another host, and
    // control characters can hide either.
    next.filter(|path| {
        path.starts_with('/')
            && !path.starts_with("//")
            && !path.starts_with("/login")
            && !path.contains('\\')
            && !path.chars().any(char::is_control)
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

// Every call below goes through the same two non-generic async functions (`send`,
// `fetch_text`); only the serializing and parsing around them is per type, so the panel carries
// one copy of the request-and-answer state machine instead of one per wire type.

async fn get_json<T: DeserializeOwned>(path: &str) -> Result<T, ApiError> {
    parse_json(&get_text(path).await?)
}

async fn get_text(path: &str) -> Result<String, ApiError> {
    let request = Request::get(path)
        .header("Accept", "application/json")
        .build();
    fetch_text(request, true).await
}

async fn send_json<B: Serialize, T: DeserializeOwned>(
    builder: RequestBuilder,
    body: &B,
    redirect_on_401: bool,
) -> Result<T, ApiError> {
    let body = serde_json::to_string(body).map_err(|error| ApiError::Network(error.to_string()))?;
    parse_json(&send_text(builder, body, redirect_on_401).await?)
}

/// Sends a JSON body (already written) and gives the answer's body.
async fn send_text(
    builder: RequestBuilder,
    body: String,
    redirect_on_401: bool,
) -> Result<String, ApiError> {
    let request = with_csrf(builder.header("Accept", "application/json"))
        .header("Content-Type", "application/json")
        .body(body);
    fetch_text(request, redirect_on_401).await
}

/// The body of a successful answer, or the error the answer stands for.
async fn fetch_text(
    request: Result<Request, gloo_net::Error>,
    redirect_on_401: bool,
) -> Result<String, ApiError> {
    let response = send(request).await?;
    if !response.ok() {
        return Err(error_from(response, redirect_on_401).await);
    }
    response
        .text()
        .await
        .map_err(|error| ApiError::Decode(error.to_string()))
}

fn parse_json<T: DeserializeOwned>(text: &str) -> Result<T, ApiError> {
    serde_json::from_str(text).map_err(|error| ApiError::Decode(error.to_string()))
}

async fn error_from(response: Response, redirect_on_401: bool) -> ApiError {
    let status = response.status();
    if status == 401 && redirect_on_401 {
        redirect_to_login();
    }
    let status_text = response.status_text();
    // An unreadable body reads as an empty one: it does not parse, so the status is the message.
    let text = response.text().await.unwrap_or_default();
    let body = serde_json::from_str::<ErrorBody>(&text).ok();
    if status == 422 {
        if let Some(ErrorBody {
            message,
            fields: Some(fields),
            ..
        }) = body
        {
            return ApiError::Invalid { message, fields };
        }
        return ApiError::Server {
            status,
            code: "validation_failed".to_string(),
            message: format!("The server answered {status} {status_text}."),
        };
    }
    match body {
        Some(body) => ApiError::Server {
            status,
            code: body.code,
            message: body.message,
        },
        None => ApiError::Server {
            status,
            code: "http_error".to_string(),
            message: format!("The server answered {status} {status_text}."),
        },
    }
}

/// An error answer: `witness_api::ApiErrorBody`, or for a refused form (422)
/// `witness_api::ValidationErrorBody`, which adds `fields`. Read as one type, so the panel
/// carries one parser for both.
#[derive(serde::Deserialize)]
struct ErrorBody {
    code: String,
    message: String,
    #[serde(default)]
    fields: Option<serde_json::Map<String, serde_json::Value>>,
}

/// `POST /api/auth/login`.
pub async fn login(request: &LoginRequest) -> Result<LoginResponse, ApiError> {
    let response: LoginResponse =
        send_json(Request::post("/api/auth/login"), request, false).await?;
    remember_csrf(&response.csrf_token);
    Ok(response)
}

/// `PUT /api/auth/password`: the caller's own password. Every session of theirs ends; the
/// answer is the new one, whose CSRF token is remembered.
pub async fn change_password(
    change: &witness_api::PasswordChange,
) -> Result<LoginResponse, ApiError> {
    let response: LoginResponse =
        send_json(Request::put("/api/auth/password"), change, true).await?;
    remember_csrf(&response.csrf_token);
    Ok(response)
}

/// `GET /api/auth/me`; a 401 (no session) sends the user to the login page.
pub async fn me() -> Result<Me, ApiError> {
    // Read as a `LoginResponse`, which has the same fields: one parser in the .wasm for both.
    let me: LoginResponse = get_json("/api/auth/me").await?;
    remember_csrf(&me.csrf_token);
    Ok(Me {
        user: me.user,
        csrf_token: me.csrf_token,
        expires_at: me.expires_at,
    })
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

/// `GET /api/audit/events/{id}`: the event, and its JSON as the server sent it, indented
/// (through `Value`, whose printing the panel has anyway, not a second serializer for
/// `AuditEvent`).
pub async fn event(id: &str) -> Result<(witness_api::AuditEvent, String), ApiError> {
    let id = String::from(leptos::web_sys::js_sys::encode_uri_component(id));
    let request = Request::get(&format!("/api/audit/events/{id}"))
        .header("Accept", "application/json")
        .build();
    let text = fetch_text(request, true).await?;
    let event = parse_json(&text)?;
    let raw = parse_json::<serde_json::Value>(&text)
        .ok()
        .and_then(|value| serde_json::to_string_pretty(&value).ok())
        .unwrap_or(text);
    Ok((event, raw))
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

/// A finished export, ready to save: the file name the server gave and its contents.
pub struct Download {
    pub file_name: String,
    pub blob: web_sys::Blob,
}

/// `GET` of an [`export_url`], read as it streams in: each chunk is handed to `on_chunk` (to
/// count what arrived) and kept for the file. `signal` aborts it; the answer is then an error.
pub async fn export(
    url: &str,
    signal: &web_sys::AbortSignal,
    mut on_chunk: impl FnMut(&[u8]),
) -> Result<Download, ApiError> {
    let response = send(Request::get(url).abort_signal(Some(signal)).build()).await?;
    if !response.ok() {
        return Err(error_from(response, true).await);
    }
    let content_type = response.headers().get("Content-Type").unwrap_or_default();
    let file_name = response
        .headers()
        .get("Content-Disposition")
        .and_then(|value| {
            let (_, name) = value.split_once("filename=\"")?;
            Some(name.split('"').next()?.to_string())
        })
        .unwrap_or_else(|| "witness-audit-export".to_string());
    let body = response
        .body()
        .ok_or_else(|| ApiError::Decode("the export had no body".into()))?;
    let reader: web_sys::ReadableStreamDefaultReader = body.get_reader().unchecked_into();
    let parts = web_sys::js_sys::Array::new();
    let broken = |error: leptos::wasm_bindgen::JsValue| {
        ApiError::Network(
            error
                .dyn_ref::<web_sys::js_sys::Error>()
                .map(|error| String::from(error.message()))
                .unwrap_or_else(|| "the download stopped".to_string()),
        )
    };
    loop {
        let read: web_sys::ReadableStreamReadResult =
            wasm_bindgen_futures::JsFuture::from(reader.read())
                .await
                .map_err(broken)?
                .unchecked_into();
        if read.get_done().unwrap_or(true) {
            break;
        }
        let chunk: web_sys::js_sys::Uint8Array = read.get_value().unchecked_into();
        on_chunk(&chunk.to_vec());
        parts.push(&chunk);
    }
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(&content_type);
    let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options)
        .map_err(|_| ApiError::Decode("the browser could not hold the export".into()))?;
    Ok(Download { file_name, blob })
}

/// A live tail: `GET /api/audit/stream` for the filter, as server-sent events. Each new
/// matching event is handed to `on_event`; the connection closes when this is dropped.
pub struct LiveTail {
    source: web_sys::EventSource,
    // The browser calls these for as long as the source is open.
    _on_event: Closure<dyn FnMut(web_sys::MessageEvent)>,
    _on_error: Closure<dyn FnMut(web_sys::Event)>,
    _on_open: Closure<dyn FnMut(web_sys::Event)>,
}

/// What the live tail's connection is doing, for the status line next to its toggle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LiveStatus {
    Connecting,
    Open,
    /// The browser lost the connection and is reconnecting by itself.
    Reconnecting,
    /// The server refused or ended it for good (session expired, server stopped).
    Stopped,
}

impl LiveTail {
    pub fn open(
        filter: &witness_api::EventFilter,
        on_event: impl Fn(witness_api::AuditEvent) + 'static,
        on_status: impl Fn(LiveStatus) + 'static,
    ) -> Result<Self, ApiError> {
        let url = format!(
            "/api/audit/stream?{}",
            crate::filters::query_from_filter(filter, &[])
        );
        let source = web_sys::EventSource::new(&url)
            .map_err(|_| ApiError::Network("the browser refused to open a live tail".into()))?;
        let on_event = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(
            move |message: web_sys::MessageEvent| {
                // A line that does not parse is skipped: the table shows only what it can read.
                if let Some(event) = message
                    .data()
                    .as_string()
                    .and_then(|text| serde_json::from_str(&text).ok())
                {
                    on_event(event);
                }
            },
        );
        source
            .add_event_listener_with_callback("audit", on_event.as_ref().unchecked_ref())
            .map_err(|_| ApiError::Network("the browser refused to open a live tail".into()))?;
        let on_status = std::rc::Rc::new(on_status);
        let opened = on_status.clone();
        let on_open = Closure::<dyn FnMut(web_sys::Event)>::new(move |_: web_sys::Event| {
            opened(LiveStatus::Open);
        });
        source.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        let watched = source.clone();
        let on_error = Closure::<dyn FnMut(web_sys::Event)>::new(move |_: web_sys::Event| {
            on_status(if watched.ready_state() == web_sys::EventSource::CLOSED {
                LiveStatus::Stopped
            } else {
                LiveStatus::Reconnecting
            });
        });
        source.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        Ok(LiveTail {
            source,
            _on_event: on_event,
            _on_error: on_error,
            _on_open: on_open,
        })
    }
}

impl Drop for LiveTail {
    fn drop(&mut self) {
        self.source.close();
    }
}

async fn send_empty(builder: RequestBuilder) -> Result<(), ApiError> {
    let response = send(with_csrf(builder).build()).await?;
    if response.ok() {
        Ok(())
    } else {
        Err(error_from(response, true).await)
    }
}

/// `GET /api/apikeys`.
pub async fn api_keys() -> Result<Vec<witness_api::ApiKey>, ApiError> {
    get_json("/api/apikeys").await
}

/// `POST /api/apikeys`: the answer holds the token, shown this once.
pub async fn create_api_key(
    new: &witness_api::NewApiKey,
) -> Result<witness_api::CreatedApiKey, ApiError> {
    send_json(Request::post("/api/apikeys"), new, true).await
}

/// `DELETE /api/apikeys/{id}`.
pub async fn revoke_api_key(id: &str) -> Result<(), ApiError> {
    let id = String::from(leptos::web_sys::js_sys::encode_uri_component(id));
    send_empty(Request::delete(&format!("/api/apikeys/{id}"))).await
}

/// `GET /api/users`.
pub async fn users() -> Result<Vec<witness_api::User>, ApiError> {
    get_json("/api/users").await
}

/// `POST /api/users`.
pub async fn create_user(new: &witness_api::NewUser) -> Result<witness_api::User, ApiError> {
    send_json(Request::post("/api/users"), new, true).await
}

/// `PUT /api/users/{id}`.
pub async fn update_user(
    id: &str,
    update: &witness_api::UserUpdate,
) -> Result<witness_api::User, ApiError> {
    let id = String::from(leptos::web_sys::js_sys::encode_uri_component(id));
    send_json(Request::put(&format!("/api/users/{id}")), update, true).await
}

/// `DELETE /api/users/{id}`.
pub async fn remove_user(id: &str) -> Result<(), ApiError> {
    let id = String::from(leptos::web_sys::js_sys::encode_uri_component(id));
    send_empty(Request::delete(&format!("/api/users/{id}"))).await
}

/// Asks the person to confirm a destructive action.
pub fn confirm(question: &str) -> bool {
    leptos::web_sys::window()
        .and_then(|window| window.confirm_with_message(question).ok())
        .unwrap_or(false)
}

/// `GET /api/settings`.
pub async fn settings() -> Result<witness_api::Settings, ApiError> {
    get_json("/api/settings").await
}

/// `PUT /api/settings`; a 422 carries a message per field.
pub async fn save_settings(
    update: &witness_api::SettingsUpdate,
) -> Result<witness_api::Settings, ApiError> {
    send_json(Request::put("/api/settings"), update, true).await
}

/// `GET /api/backups`, newest first.
pub async fn backups() -> Result<Vec<witness_api::BackupInfo>, ApiError> {
    get_json("/api/backups").await
}

/// `POST /api/backups`: back up now.
pub async fn create_backup() -> Result<witness_api::BackupInfo, ApiError> {
    parse_json(&send_text(Request::post("/api/backups"), "{}".to_string(), true).await?)
}

pub fn backup_download_url(id: &str) -> String {
    format!(
        "/api/backups/{}/download",
        String::from(leptos::web_sys::js_sys::encode_uri_component(id))
    )
}

/// `GET /api/views`: the logged-in user's saved views, by name.
pub async fn saved_views() -> Result<Vec<witness_api::SavedView>, ApiError> {
    get_json("/api/views").await
}

/// `POST /api/views`; a 422 carries a message for `name` or `query`, a 409 a taken name.
pub async fn create_saved_view(
    new: &witness_api::NewSavedView,
) -> Result<witness_api::SavedView, ApiError> {
    send_json(Request::post("/api/views"), new, true).await
}

/// `DELETE /api/views/{id}`.
pub async fn delete_saved_view(id: &str) -> Result<(), ApiError> {
    let id = String::from(leptos::web_sys::js_sys::encode_uri_component(id));
    send_empty(Request::delete(&format!("/api/views/{id}"))).await
}

pub const DIAGNOSTIC_REPORT_URL: &str = "/api/diagnostics/report";

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_is_only_ever_a_path_on_this_origin() {
        let go = |next: &str| safe_next(Some(next.to_string()));
        assert_eq!(go("/users?x=1"), "/users?x=1");
        for hostile in [
            "//evil.example",
            "/\\evil.example",
            "https://evil.example",
            "/\t/evil.example",
            "javascript:alert(1)",
            "/login?next=/x",
        ] {
            assert_eq!(go(hostile), "/audit", "{hostile}");
        }
        assert_eq!(safe_next(None), "/audit");
    }
}
