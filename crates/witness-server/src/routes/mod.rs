//! HTTP routes, one module per concern. Which route is served by which handler, and who may
//! call it, is in one place: [`table::ROUTES`].

mod apikeys;
mod audit;
mod auth;
mod backups;
mod diagnostics;
mod health;
mod ingest;
pub mod json_body;
pub mod openapi;
mod settings;
pub mod table;
mod users;
mod views;

use axum::Router;
use axum::extract::{DefaultBodyLimit, OriginalUri};
use axum::routing::{MethodFilter, MethodRouter, on};

use crate::error::AppError;
use crate::state::AppState;
use table::{Handler, Method, ROUTES, Route};

pub use audit::CSV_HEADER;

/// The handler of one route, with its own layers.
fn method_router(route: &Route) -> MethodRouter<AppState> {
    // The table's method is the one routed: a handler cannot be served under another.
    let method = match route.method {
        Method::Get => MethodFilter::GET,
        Method::Post => MethodFilter::POST,
        Method::Put => MethodFilter::PUT,
        Method::Delete => MethodFilter::DELETE,
    };
    match route.handler {
        Handler::Health => on(method, health::get_health),
        Handler::OpenApi => on(method, openapi::get_openapi),
        // Ingestion enforces its own (larger, configurable) payload limit with a Seq answer.
        Handler::IngestClef => on(method, ingest::post_clef).layer(DefaultBodyLimit::disable()),
        Handler::IngestRaw => on(method, ingest::post_raw).layer(DefaultBodyLimit::disable()),
        Handler::Login => {
            on(method, auth::login).layer(DefaultBodyLimit::max(json_body::MAX_LOGIN_BODY_BYTES))
        }
        Handler::Logout => on(method, auth::logout),
        Handler::Me => on(method, auth::me),
        Handler::ChangePassword => on(method, auth::change_password),
        Handler::ListEvents => on(method, audit::list_events),
        Handler::GetEvent => on(method, audit::get_event),
        Handler::Histogram => on(method, audit::histogram),
        Handler::Export => on(method, audit::export),
        Handler::Stream => on(method, audit::stream),
        Handler::Verify => on(method, audit::verify),
        Handler::Diagnostics => on(method, diagnostics::get_diagnostics),
        Handler::DiagnosticReport => on(method, diagnostics::report),
        Handler::GetSettings => on(method, settings::get_settings),
        Handler::PutSettings => on(method, settings::put_settings),
        Handler::ListBackups => on(method, backups::list),
        Handler::CreateBackup => on(method, backups::create),
        Handler::DownloadBackup => on(method, backups::download),
        Handler::ListApiKeys => on(method, apikeys::list),
        Handler::CreateApiKey => on(method, apikeys::create),
        Handler::RevokeApiKey => on(method, apikeys::revoke),
        Handler::ListUsers => on(method, users::list),
        Handler::CreateUser => on(method, users::create),
        Handler::UpdateUser => on(method, users::update),
        Handler::RemoveUser => on(method, users::remove),
        Handler::ListViews => on(method, views::list),
        Handler::CreateView => on(method, views::create),
        Handler::RemoveView => on(method, views::remove),
    }
}

/// A router of every route of [`ROUTES`] whose path starts with `prefix`, mounted without it.
fn routes_under(prefix: &str) -> Router<AppState> {
    ROUTES
        .iter()
        .filter_map(|route| Some((route.path.strip_prefix(prefix)?, route)))
        .filter(|(path, _)| path.starts_with('/'))
        .fold(Router::new(), |router, (path, route)| {
            // Another method on a path already routed is merged into its `MethodRouter`.
            router.route(path, method_router(route))
        })
}

/// Everything under `/api`.
pub fn api() -> Router<AppState> {
    routes_under("/api")
        // An unknown API path is a JSON 404, never the panel's index.html.
        .fallback(api_not_found)
        // Route layers (ingestion's, login's) take precedence over this one.
        .layer(DefaultBodyLimit::max(json_body::MAX_JSON_BODY_BYTES))
}

/// Routes outside `/api` that are not the panel.
pub fn root() -> Router<AppState> {
    ROUTES
        .iter()
        .filter(|route| !route.path.starts_with("/api/"))
        .fold(Router::new(), |router, route| {
            router.route(route.path, method_router(route))
        })
}

async fn api_not_found(OriginalUri(uri): OriginalUri) -> AppError {
    AppError::NotFound(format!("There is no API endpoint at {}.", uri.path()))
}
