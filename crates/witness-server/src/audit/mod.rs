//! Self-audit: every user-initiated operation writes a Begin record, durably, to every target
//! before it runs, then Complete or Fail. When a Begin cannot be written the operation is
//! refused (503) and does not happen. Targets come only from the host's configuration.

mod record;
mod targets;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use futures_util::future::join_all;
use serde_json::{Map, Value};

pub use record::{AuditPhase, AuditRecord, RequestContext};
pub use targets::{AuditTarget, parse_targets};

use crate::error::AppError;

pub struct Auditor {
    session: String,
    sequence: AtomicU64,
    targets: Vec<Arc<dyn AuditTarget>>,
}

impl Auditor {
    pub fn new(session: String, targets: Vec<Arc<dyn AuditTarget>>) -> Self {
        Auditor {
            session,
            sequence: AtomicU64::new(0),
            targets,
        }
    }

    /// A random id for this server run.
    pub fn new_session_id() -> String {
        hex::encode(rand::random::<[u8; 8]>())
    }

    pub fn session(&self) -> &str {
        &self.session
    }

    pub fn target_names(&self) -> Vec<String> {
        self.targets
            .iter()
            .map(|target| target.describe())
            .collect()
    }

    fn record(
        &self,
        operation_id: &str,
        phase: AuditPhase,
        action: &str,
        context: &RequestContext,
        details: Map<String, Value>,
        error: Option<String>,
    ) -> AuditRecord {
        AuditRecord {
            timestamp: chrono::Utc::now(),
            session: self.session.clone(),
            sequence: self.sequence.fetch_add(1, Ordering::SeqCst) + 1,
            operation_id: operation_id.to_string(),
            phase,
            action: action.to_string(),
            context: context.clone(),
            details,
            error,
        }
    }

    async fn write_all(&self, record: &AuditRecord) -> Result<(), String> {
        let results = join_all(self.targets.iter().map(|target| async move {
            target
                .write(record)
                .await
                .map_err(|error| format!("{}: {error:#}", target.describe()))
        }))
        .await;
        let failures: Vec<String> = results.into_iter().filter_map(Result::err).collect();
        if failures.is_empty() {
            Ok(())
        } else {
            Err(failures.join("; "))
        }
    }

    /// Writes the Begin record to every target. Only when all have it does the operation
    /// go ahead; otherwise the caller gets 503 and must not perform it.
    pub async fn begin(
        self: &Arc<Self>,
        context: &RequestContext,
        action: &str,
        details: Map<String, Value>,
    ) -> Result<Operation, AppError> {
        let operation_id = hex::encode(rand::random::<[u8; 8]>());
        let record = self.record(
            &operation_id,
            AuditPhase::Begin,
            action,
            context,
            details,
            None,
        );
        if let Err(error) = self.write_all(&record).await {
            tracing::error!(%error, action, "auditing is unavailable; the operation was refused");
            return Err(AppError::Unavailable(
                "Auditing is unavailable, so the operation was not performed. An administrator \
                 must check the audit targets (see the server log)."
                    .to_string(),
            ));
        }
        Ok(Operation {
            auditor: self.clone(),
            operation_id,
            action: action.to_string(),
            context: context.clone(),
        })
    }
}

/// An operation whose Begin is on record; finish it with `complete` or `fail`.
pub struct Operation {
    auditor: Arc<Auditor>,
    operation_id: String,
    action: String,
    context: RequestContext,
}

impl Operation {
    pub async fn complete(self, details: Map<String, Value>) {
        self.finish(AuditPhase::Complete, details, None).await;
    }

    pub async fn fail(self, error: &str) {
        self.finish(AuditPhase::Fail, Map::new(), Some(error.to_string()))
            .await;
    }

    /// Completes or fails the operation by its outcome, and passes the outcome on.
    pub async fn finish_with<T>(
        self,
        outcome: Result<T, AppError>,
        details: impl FnOnce(&T) -> Map<String, Value>,
    ) -> Result<T, AppError> {
        match &outcome {
            Ok(value) => self.complete(details(value)).await,
            Err(error) => self.fail(&error.to_string()).await,
        }
        outcome
    }

    async fn finish(self, phase: AuditPhase, details: Map<String, Value>, error: Option<String>) {
        let record = self.auditor.record(
            &self.operation_id,
            phase,
            &self.action,
            &self.context,
            details,
            error,
        );
        // The operation has happened; a target failing now can only be logged.
        if let Err(error) = self.auditor.write_all(&record).await {
            tracing::error!(%error, action = %self.action, "an audit record could not be written");
        }
    }
}

/// `{"key": value, …}` for audit details.
#[macro_export]
macro_rules! details {
    () => { serde_json::Map::new() };
    ($($key:expr => $value:expr),+ $(,)?) => {{
        let mut map = serde_json::Map::new();
        $( map.insert($key.to_string(), serde_json::json!($value)); )+
        map
    }};
}
