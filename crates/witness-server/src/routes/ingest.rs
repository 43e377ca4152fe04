//! Seq-compatible ingestion: `POST /api/events/raw` and `POST /ingest/clef`.
//! Answers as Seq does (`201 {"MinimumLevelAccepted":null}`, errors as `{"Error": …}`), so
//! existing Seq clients understand it.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use witness_api::{IngestError, IngestResponse};

use crate::auth::{KeyRefusal, check_key};
use crate::ingest::{BodyFormat, IngestProblem, parse_body};
use crate::model::EventSource;
use crate::state::AppState;
use crate::store::Permission;

const CLEF_CONTENT_TYPE: &str = "application/vnd.serilog.clef";

/// A refused ingestion in Seq's error shape.
pub struct IngestFailure(StatusCode, String);

impl IntoResponse for IngestFailure {
    fn into_response(self) -> Response {
        (self.0, Json(IngestError { error: self.1 })).into_response()
    }
}

impl From<KeyRefusal> for IngestFailure {
    fn from(refusal: KeyRefusal) -> Self {
        let status = match &refusal {
            KeyRefusal::NotPermitted(_) => StatusCode::FORBIDDEN,
            KeyRefusal::StoreFailed(error) => {
                tracing::error!(%error, "checking an API key failed");
                StatusCode::SERVICE_UNAVAILABLE
            }
            _ => StatusCode::UNAUTHORIZED,
        };
        IngestFailure(status, refusal.message())
    }
}

impl From<IngestProblem> for IngestFailure {
    fn from(problem: IngestProblem) -> Self {
        let status = match problem {
            IngestProblem::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            IngestProblem::BadRequest(_) => StatusCode::BAD_REQUEST,
        };
        IngestFailure(status, problem.to_string())
    }
}

/// `POST /api/events/raw`: CLEF with `?clef` or the CLEF content type, the classic body
/// otherwise.
pub async fn post_raw(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<IngestResponse>), IngestFailure> {
    let clef_param = uri.query().is_some_and(|query| {
        form_urlencoded::parse(query.as_bytes()).any(|(key, _)| key.eq_ignore_ascii_case("clef"))
    });
    let format = if clef_param || is_clef_content_type(&headers) {
        BodyFormat::Clef
    } else {
        BodyFormat::Classic
    };
    ingest(state, uri, headers, body, format).await
}

/// `POST /ingest/clef`: CLEF only.
pub async fn post_clef(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<IngestResponse>), IngestFailure> {
    ingest(state, uri, headers, body, BodyFormat::Clef).await
}

fn is_clef_content_type(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| {
            value
                .trim()
                .to_ascii_lowercase()
                .starts_with(CLEF_CONTENT_TYPE)
        })
}

/// Counts the outcome (for the diagnostic report) and answers as Seq does.
async fn ingest(
    state: AppState,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
    format: BodyFormat,
) -> Result<(StatusCode, Json<IngestResponse>), IngestFailure> {
    match store_batch(&state, uri, headers, body, format).await {
        Ok(events) => {
            state.ingest_counters().accepted(events);
            Ok((
                StatusCode::CREATED,
                Json(IngestResponse {
                    minimum_level_accepted: None,
                }),
            ))
        }
        Err(failure) => {
            state.ingest_counters().rejected();
            Err(failure)
        }
    }
}

/// Stores the batch durably; returns how many events it held.
async fn store_batch(
    state: &AppState,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
    format: BodyFormat,
) -> Result<usize, IngestFailure> {
    let key = check_key(state, &headers, uri.query(), Permission::Ingest).await?;

    let limit = state.ingest_limits().max_payload_bytes;
    let too_large = || {
        IngestFailure(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("The payload is larger than the limit of {limit} bytes; send smaller batches."),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<usize>().ok());
    if declared.is_some_and(|length| length > limit) {
        return Err(too_large());
    }
    let bytes = axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| too_large())?;

    let events = parse_body(format, &bytes, state.ingest_limits())?;
    let count = events.len();
    let source = EventSource::api_key(&key.id);
    state
        .store()
        .append(source, events)
        .await
        .map_err(|error| {
            tracing::error!(%error, "storing an ingested batch failed");
            IngestFailure(
                StatusCode::SERVICE_UNAVAILABLE,
                "The events could not be stored; nothing of this batch was kept. Retry later."
                    .to_string(),
            )
        })?;
    Ok(count)
}
