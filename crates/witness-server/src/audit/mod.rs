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
pub use targets::{AuditTarget, file_target_dirs, parse_targets};

pub struct Auditor {
    session: String,
    sequence: AtomicU64,
    targets: Vec<Arc<dyn AuditTarget>>,
    refusals: std::sync::Mutex<RefusalWindow>,
}

impl Auditor {
    pub fn new(session: String, targets: Vec<Arc<dyn AuditTarget>>) -> Self {
        Auditor {
            session,
            sequence: AtomicU64::new(0),
            targets,
            refusals: std::sync::Mutex::new(RefusalWindow {
                started: std::time::Instant::now(),
                written: 0,
                skipped: 0,
            }),
        }
    }

    /// A random id for this server run.
    pub fn new_session_id() -> String {
        hex::encode(rand::random::<[u8; 8]>())
    }

    pub fn session(&self) -> &str {
        &self.session
    }

    /// Whether auditing is on and where it goes, as Diagnostics shows it.
    pub fn status(&self) -> witness_api::AuditingStatus {
        let targets = self.target_names();
        witness_api::AuditingStatus {
            enabled: !targets.is_empty(),
            summary: if targets.is_empty() {
                "Auditing is disabled".to_string()
            } else {
                "Auditing is enabled".to_string()
            },
            targets,
        }
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
    ) -> Result<Operation, AuditError> {
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
            return Err(AuditError::Unavailable);
        }
        Ok(Operation {
            auditor: self.clone(),
            operation_id,
            action: action.to_string(),
            context: context.clone(),
            finished: false,
        })
    }
}

impl Auditor {
    /// Writes one record that is not part of an operation (a checkpoint, say) to every
    /// target; the error names the targets that failed.
    pub async fn note(
        &self,
        context: &RequestContext,
        phase: AuditPhase,
        action: &str,
        details: Map<String, Value>,
    ) -> Result<(), String> {
        self.write_one(context, phase, action, details, None).await
    }

    /// One record outside any operation (its own operation id), to every target.
    async fn write_one(
        &self,
        context: &RequestContext,
        phase: AuditPhase,
        action: &str,
        details: Map<String, Value>,
        error: Option<String>,
    ) -> Result<(), String> {
        let operation_id = hex::encode(rand::random::<[u8; 8]>());
        let record = self.record(&operation_id, phase, action, context, details, error);
        self.write_all(&record).await
    }

    /// Records a request refused before any operation began (401, 403, 429): one `Refused`
    /// record. At most [`REFUSALS_PER_MINUTE`] are written a minute; the next one written says
    /// how many were left out, so a flood of refusals cannot flood the audit trail.
    pub async fn refused(&self, context: &RequestContext, status: u16) {
        let skipped = {
            let Ok(mut window) = self.refusals.lock() else {
                return;
            };
            let now = std::time::Instant::now();
            if now.duration_since(window.started) >= std::time::Duration::from_secs(60) {
                window.started = now;
                window.written = 0;
            }
            if window.written >= REFUSALS_PER_MINUTE {
                window.skipped += 1;
                return;
            }
            window.written += 1;
            std::mem::take(&mut window.skipped)
        };
        let mut details = Map::new();
        details.insert("status".to_string(), Value::from(status));
        if skipped > 0 {
            details.insert("refusals_not_recorded".to_string(), Value::from(skipped));
        }
        let written = self
            .write_one(
                context,
                AuditPhase::Refused,
                "access.refused",
                details,
                Some(format!("refused with status {status}")),
            )
            .await;
        if let Err(error) = written {
            tracing::error!(%error, "a refused request could not be recorded");
        }
    }
}

/// What the audit layer can refuse: its own error, turned into the HTTP answer (503) at the
/// edge (`crate::error`) and into a message by the command line.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AuditError {
    /// A Begin record could not be written to every target: the operation must not happen.
    #[error(
        "Auditing is unavailable, so the operation was not performed. An administrator must \
         check the audit targets (see the server log)."
    )]
    Unavailable,
}

/// Refused requests recorded per minute at most (see [`Auditor::refused`]).
pub const REFUSALS_PER_MINUTE: u32 = 60;

struct RefusalWindow {
    started: std::time::Instant,
    written: u32,
    skipped: u64,
}

/// An operation whose Begin is on record; finish it with `complete` or `fail`. It cannot be
/// forgotten: dropped unfinished — a handler that returned early, a request whose client went
/// away, a stream cut off — it writes Fail itself, so every Begin gets an outcome.
pub struct Operation {
    auditor: Arc<Auditor>,
    operation_id: String,
    action: String,
    context: RequestContext,
    finished: bool,
}

/// The outcome an operation dropped unfinished gets.
pub const ABANDONED: &str =
    "the operation ended without an outcome: the request was cancelled or the client went away";

impl Operation {
    pub async fn complete(self, details: Map<String, Value>) {
        self.finish(AuditPhase::Complete, details, None).await;
    }

    pub async fn fail(self, error: &str) {
        self.finish(AuditPhase::Fail, Map::new(), Some(error.to_string()))
            .await;
    }

    /// Completes or fails the operation by its outcome, and passes the outcome on.
    pub async fn finish_with<T, E: std::fmt::Display>(
        self,
        outcome: Result<T, E>,
        details: impl FnOnce(&T) -> Map<String, Value>,
    ) -> Result<T, E> {
        match &outcome {
            Ok(value) => self.complete(details(value)).await,
            Err(error) => self.fail(&error.to_string()).await,
        }
        outcome
    }

    async fn finish(
        mut self,
        phase: AuditPhase,
        details: Map<String, Value>,
        error: Option<String>,
    ) {
        self.finished = true;
        // Written by a task of its own, so that a request dropped while its outcome is being
        // written (the client went away) still leaves the whole record.
        if let Some(write) = self.spawn_write(phase, details, error) {
            let _ = write.await;
        }
    }

    fn spawn_write(
        &self,
        phase: AuditPhase,
        details: Map<String, Value>,
        error: Option<String>,
    ) -> Option<tokio::task::JoinHandle<()>> {
        let record = self.auditor.record(
            &self.operation_id,
            phase,
            &self.action,
            &self.context,
            details,
            error,
        );
        let auditor = self.auditor.clone();
        let action = self.action.clone();
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::error!(action, "an audit record could not be written: no runtime");
            return None;
        };
        Some(runtime.spawn(async move {
            // The operation has happened; a target failing now can only be logged.
            if let Err(error) = auditor.write_all(&record).await {
                tracing::error!(%error, action, "an audit record could not be written");
            }
        }))
    }
}

impl Drop for Operation {
    fn drop(&mut self) {
        if !self.finished {
            self.finished = true;
            let _ = self.spawn_write(AuditPhase::Fail, Map::new(), Some(ABANDONED.to_string()));
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
