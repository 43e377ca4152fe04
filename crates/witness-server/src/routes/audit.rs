//! The audit query API: events, one event, histogram, export, live tail, verify.

use std::convert::Infallible;
use std::time::Duration;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderValue, Uri, header};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use futures_util::Stream;
use tokio::sync::broadcast::error::RecvError;
use witness_api::{AuditEvent, EventFilter, EventPage, Histogram, VerifyReport};

use crate::auth::{Principal, Reader};
use crate::details;
use crate::error::AppError;
use crate::state::AppState;
use crate::store::{Cursor, EventQuery};

pub const DEFAULT_LIMIT: usize = 100;
pub const MAX_LIMIT: usize = 1000;
/// Events per store page while exporting.
const EXPORT_PAGE: usize = 1000;

/// The decoded query string, in order, repeated keys kept.
fn query_pairs(uri: &Uri) -> Vec<(String, String)> {
    uri.query()
        .map(|query| {
            form_urlencoded::parse(query.as_bytes())
                .map(|(key, value)| (key.into_owned(), value.into_owned()))
                .collect()
        })
        .unwrap_or_default()
}

fn filter_from(pairs: &[(String, String)]) -> Result<EventFilter, AppError> {
    Ok(EventFilter::from_pairs(
        pairs
            .iter()
            .map(|(key, value)| (key.as_str(), value.as_str())),
    )?)
}

/// The filter as audit details: the query-string pairs, never event contents.
fn filter_details(filter: &EventFilter) -> serde_json::Map<String, serde_json::Value> {
    let mut pairs = serde_json::Map::new();
    for (key, value) in filter.to_pairs() {
        match pairs.get_mut(key) {
            Some(serde_json::Value::Array(values)) => values.push(value.into()),
            _ => {
                pairs.insert(key.to_string(), serde_json::json!([value]));
            }
        }
    }
    details! {"filter" => pairs}
}

fn single<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .rev()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

/// `GET /api/audit/events`
pub async fn list_events(
    Reader(caller): Reader,
    State(state): State<AppState>,
    uri: Uri,
) -> Result<Json<EventPage>, AppError> {
    let pairs = query_pairs(&uri);
    let filter = filter_from(&pairs)?;
    let limit = match single(&pairs, "limit").filter(|value| !value.is_empty()) {
        None => DEFAULT_LIMIT,
        Some(text) => match text.parse::<usize>() {
            Ok(limit) if (1..=MAX_LIMIT).contains(&limit) => limit,
            _ => {
                return Err(AppError::BadRequest(format!(
                    "Query parameter `limit`: `{text}` is not a whole number from 1 to {MAX_LIMIT}"
                )));
            }
        },
    };
    let cursor = match single(&pairs, "cursor").filter(|value| !value.is_empty()) {
        None => None,
        Some(text) => Some(Cursor::decode(text)?),
    };
    let operation = state
        .auditor()
        .begin(&caller.context, "audit.query", filter_details(&filter))
        .await?;
    let outcome = state
        .store()
        .query(EventQuery {
            filter,
            limit,
            cursor,
        })
        .await
        .map_err(AppError::from);
    let page = operation
        .finish_with(outcome, |page| details! {"returned" => page.events.len()})
        .await?;
    Ok(Json(page))
}

/// `GET /api/audit/events/{id}`
pub async fn get_event(
    Reader(caller): Reader,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<AuditEvent>, AppError> {
    let operation = state
        .auditor()
        .begin(
            &caller.context,
            "audit.event_viewed",
            details! {"event_id" => id},
        )
        .await?;
    let outcome = match state.store().get(&id).await {
        Ok(Some(event)) => Ok(event),
        Ok(None) => Err(AppError::NotFound(format!(
            "There is no audit event with id `{id}`."
        ))),
        Err(error) => Err(error.into()),
    };
    Ok(Json(operation.finish_with(outcome, |_| details! {}).await?))
}

/// `GET /api/audit/histogram`; `bucket` is seconds or a duration such as `5m`, `1h`, `1d`.
pub async fn histogram(
    Reader(caller): Reader,
    State(state): State<AppState>,
    uri: Uri,
) -> Result<Json<Histogram>, AppError> {
    let pairs = query_pairs(&uri);
    let filter = filter_from(&pairs)?;
    let bucket = match single(&pairs, "bucket").filter(|value| !value.is_empty()) {
        None => None,
        Some(text) => Some(parse_bucket(text).ok_or_else(|| {
            AppError::BadRequest(format!(
                "Query parameter `bucket`: `{text}` is not a duration; use seconds or a number \
                 with s, m, h or d, such as 5m"
            ))
        })?),
    };
    let details = filter_details(&filter);
    let store = state.store();
    let histogram = state
        .auditor()
        .audited(&caller.context, "audit.histogram", details, async move {
            Ok(store.histogram(filter, bucket).await?)
        })
        .await?;
    Ok(Json(histogram))
}

fn parse_bucket(text: &str) -> Option<u64> {
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(index) => text.split_at(index),
        None => (text, "s"),
    };
    let scale = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return None,
    };
    number
        .parse::<u64>()
        .ok()
        .filter(|n| *n > 0)
        .and_then(|n| n.checked_mul(scale))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ExportFormat {
    Csv,
    Ndjson,
}

/// `GET /api/audit/export?format=csv|ndjson`: the whole filtered set, newest first, streamed
/// page by page from one snapshot.
pub async fn export(
    Reader(caller): Reader,
    State(state): State<AppState>,
    uri: Uri,
) -> Result<Response, AppError> {
    let pairs = query_pairs(&uri);
    let filter = filter_from(&pairs)?;
    let format = match single(&pairs, "format").unwrap_or("csv") {
        "csv" => ExportFormat::Csv,
        "ndjson" => ExportFormat::Ndjson,
        other => {
            return Err(AppError::BadRequest(format!(
                "Query parameter `format`: `{other}` is not an export format; use csv or ndjson"
            )));
        }
    };
    let (extension, content_type) = match format {
        ExportFormat::Csv => ("csv", "text/csv; charset=utf-8"),
        ExportFormat::Ndjson => ("ndjson", "application/x-ndjson"),
    };
    let mut requested = filter_details(&filter);
    requested.insert("format".to_string(), serde_json::json!(extension));
    // The export is streamed after this handler returns: its outcome is written when the
    // stream ends (Complete with the count), fails, or is cut off (the operation, dropped
    // unfinished, writes Fail).
    let operation = state
        .auditor()
        .begin(&caller.context, "audit.export", requested)
        .await?;
    let file_name = format!(
        "witness-audit-{}.{extension}",
        Utc::now().format("%Y%m%dT%H%M%SZ")
    );

    let stream = async_stream::try_stream! {
        let mut operation = Some(operation);
        let mut exported = 0usize;
        if format == ExportFormat::Csv {
            yield Bytes::from(csv_rows(&[], true)?);
        }
        let mut cursor = None;
        loop {
            let page = match state
                .store()
                .query(EventQuery { filter: filter.clone(), limit: EXPORT_PAGE, cursor })
                .await
            {
                Ok(page) => page,
                Err(error) => {
                    if let Some(operation) = operation.take() {
                        operation.fail(&error.to_string()).await;
                    }
                    Err(std::io::Error::other(error))?
                }
            };
            exported += page.events.len();
            let chunk = match format {
                ExportFormat::Csv => csv_rows(&page.events, false)?,
                ExportFormat::Ndjson => ndjson_rows(&page.events)?,
            };
            yield Bytes::from(chunk);
            match page.next_cursor {
                Some(next) => cursor = Some(Cursor::decode(&next).map_err(std::io::Error::other)?),
                None => break,
            }
        }
        if let Some(operation) = operation.take() {
            operation.complete(details! {"events" => exported}).await;
        }
    };
    let stream: std::pin::Pin<Box<dyn Stream<Item = std::io::Result<Bytes>> + Send>> =
        Box::pin(stream);
    let mut response = Body::from_stream(stream).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// The CSV columns of an export, in order.
pub const CSV_HEADER: [&str; 24] = [
    "id",
    "timestamp",
    "action",
    "actor_type",
    "actor_id",
    "actor_name",
    "actor_email",
    "target_type",
    "target_id",
    "target_name",
    "result",
    "status",
    "client_ip",
    "organization_id",
    "organization_name",
    "workspace_id",
    "workspace_name",
    "level",
    "message",
    "details",
    "properties",
    "source",
    "hash",
    "prev_hash",
];

/// A cell a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, carriage return at
/// the start) gets a leading `'`, which spreadsheets show as text: an exported event can
/// never execute anything on the reviewer's machine. Every other cell is written as stored.
pub fn spreadsheet_safe(cell: String) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell
    }
}

fn csv_rows(events: &[AuditEvent], header: bool) -> std::io::Result<Vec<u8>> {
    let mut writer = csv::Writer::from_writer(Vec::with_capacity(events.len() * 400));
    if header {
        writer.write_record(CSV_HEADER)?;
    }
    for event in events {
        let text = |value: &Option<String>| value.clone().unwrap_or_default();
        let tenant = |tenant: &Option<witness_api::Tenant>| {
            tenant
                .as_ref()
                .map(|t| (text(&t.id), text(&t.name)))
                .unwrap_or_default()
        };
        let (org_id, org_name) = tenant(&event.organization);
        let (ws_id, ws_name) = tenant(&event.workspace);
        let cells = [
            event.id.clone(),
            event
                .timestamp
                .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
            event.action.clone(),
            event.actor.actor_type.as_str().to_string(),
            text(&event.actor.id),
            text(&event.actor.name),
            text(&event.actor.email),
            text(&event.target.target_type),
            text(&event.target.id),
            text(&event.target.name),
            event.result.as_str().to_string(),
            text(&event.status),
            text(&event.client_ip),
            org_id,
            org_name,
            ws_id,
            ws_name,
            event.level.clone(),
            event.message.clone(),
            serde_json::Value::Object(event.details.clone()).to_string(),
            serde_json::Value::Object(event.properties.clone()).to_string(),
            text(&event.source),
            event.hash.clone(),
            event.prev_hash.clone(),
        ];
        writer.write_record(cells.map(spreadsheet_safe))?;
    }
    writer
        .into_inner()
        .map_err(|error| std::io::Error::other(error.to_string()))
}

fn ndjson_rows(events: &[AuditEvent]) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(events.len() * 600);
    for event in events {
        serde_json::to_writer(&mut out, event)?;
        out.push(b'\n');
    }
    Ok(out)
}

/// `GET /api/audit/stream`: server-sent events (`event: audit`, data = one event as JSON) for
/// every new event matching the filter. A client that falls behind gets `event: lagged` with
/// the number of events it missed.
pub async fn stream(
    Reader(caller): Reader,
    State(state): State<AppState>,
    uri: Uri,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, AppError> {
    let filter = filter_from(&query_pairs(&uri))?;
    let permit = state.live_tail_permit().ok_or_else(|| {
        AppError::Unavailable(format!(
            "{} live tails are open, the most this server allows; close one and try again.",
            crate::state::MAX_LIVE_TAILS
        ))
    })?;
    let operation = state
        .auditor()
        .begin(&caller.context, "audit.live_tail", filter_details(&filter))
        .await?;
    operation.complete(details! {}).await;
    let credential = match (&caller.session, &caller.principal) {
        (Some(session), _) => Credential::Session(session.token_hash),
        (None, Principal::ApiKey(key)) => Credential::ApiKey(key.id.clone()),
        (None, Principal::User(_)) => {
            return Err(AppError::Unauthorized("You are not logged in.".to_string()));
        }
    };
    let mut receiver = state.store().subscribe();
    let stream = async_stream::stream! {
        let _permit = permit;
        let mut recheck = tokio::time::interval(state.live_recheck());
        recheck.tick().await;
        loop {
            tokio::select! {
                received = receiver.recv() => match received {
                    Ok(batch) => {
                        for event in batch.iter().filter(|event| filter.matches(event)) {
                            let data = serde_json::to_string(event).unwrap_or_default();
                            yield Ok(SseEvent::default().event("audit").id(event.id.clone()).data(data));
                        }
                    }
                    Err(RecvError::Lagged(missed)) => {
                        yield Ok(SseEvent::default().event("lagged").data(missed.to_string()));
                    }
                    Err(RecvError::Closed) => break,
                },
                _ = recheck.tick() => {
                    if !credential.still_valid(&state).await {
                        yield Ok(SseEvent::default()
                            .event("closed")
                            .data("Your session ended or your API key was revoked."));
                        break;
                    }
                }
            }
        }
    };
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

/// What a live tail was opened with, checked again while it is open.
enum Credential {
    Session([u8; 32]),
    ApiKey(String),
}

impl Credential {
    /// A storage error counts as not valid: the tail closes and the client may reconnect.
    async fn still_valid(&self, state: &AppState) -> bool {
        match self {
            Credential::Session(token_hash) => matches!(
                state.store().find_session(*token_hash, state.now()).await,
                Ok(Some(_))
            ),
            Credential::ApiKey(id) => state.store().list_api_keys().await.is_ok_and(|keys| {
                keys.iter()
                    .any(|key| key.id == *id && key.revoked_at.is_none())
            }),
        }
    }
}

/// `GET /api/audit/verify[?full=true]`. A full verify also compares the store with the signed
/// checkpoints; an incremental one carries the last scheduled full verify's verdict, so a
/// break found there stays visible (the panel's badge).
pub async fn verify(
    Reader(caller): Reader,
    State(state): State<AppState>,
    uri: Uri,
) -> Result<Json<VerifyReport>, AppError> {
    let pairs = query_pairs(&uri);
    let full = match single(&pairs, "full") {
        None | Some("false") | Some("0") => false,
        Some("true") | Some("1") | Some("") => true,
        Some(other) => {
            return Err(AppError::BadRequest(format!(
                "Query parameter `full`: `{other}` is not true or false"
            )));
        }
    };
    let integrity = state.integrity().clone();
    let mut report = state
        .auditor()
        .audited(
            &caller.context,
            "audit.verified",
            details! {"full" => full},
            async move { Ok(integrity.verify(full).await?) },
        )
        .await?;
    if !full && let Some(last) = state.integrity().last_scheduled() {
        report.last_full_verify_at = Some(last.checked_at);
        report.checkpoints_compared = last.checkpoints_compared;
        report.newest_checkpoint_id = last.newest_checkpoint_id;
        if !last.ok {
            report.ok = false;
            report.first_break = report.first_break.or(last.first_break);
        }
    } else if full {
        report.last_full_verify_at = Some(report.checked_at);
    }
    Ok(Json(report))
}

#[cfg(test)]
mod tests {
    use super::{parse_bucket, spreadsheet_safe};

    #[test]
    fn formula_cells_are_written_as_text() {
        for cell in ["=1+2", "+1", "-2", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(spreadsheet_safe(cell.to_string()), format!("'{cell}"));
        }
        for cell in ["alice", "", "2026-11-22T10:00:00Z", "{\"a\":1}", " =x"] {
            assert_eq!(spreadsheet_safe(cell.to_string()), cell);
        }
    }

    #[test]
    fn bucket_durations() {
        assert_eq!(parse_bucket("90"), Some(90));
        assert_eq!(parse_bucket("5m"), Some(300));
        assert_eq!(parse_bucket("1d"), Some(86_400));
        assert_eq!(parse_bucket("0"), None);
        assert_eq!(parse_bucket("5w"), None);
        assert_eq!(parse_bucket("m"), None);
    }
}
