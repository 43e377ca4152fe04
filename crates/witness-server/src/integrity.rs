//! The chain's guards that run on their own: signed checkpoints to every audit target, and
//! the scheduled full verify whose last result Diagnostics and the integrity badge show.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use witness_api::VerifyReport;

use crate::audit::{AuditPhase, Auditor, RequestContext};
use crate::checkpoints::{self, CHECKPOINT_ACTION, Checkpoint, CheckpointKey};
use crate::secret_key::SecretKey;
use crate::store::{Store, StoreResult};

/// How many of the store's own checkpoint records a verify compares (newest first).
const STORE_CHECKPOINTS: usize = 100;

pub struct Integrity {
    store: Arc<dyn Store>,
    auditor: Arc<Auditor>,
    key: CheckpointKey,
    /// The folders of `file:` audit targets, read back for their checkpoints.
    file_dirs: Vec<PathBuf>,
    /// The head the last checkpoint described.
    last_checkpoint_seq: Mutex<Option<i64>>,
    last_scheduled: Mutex<Option<VerifyReport>>,
}

/// The context of records Witness writes on its own behalf.
pub fn system_context(what: &str) -> RequestContext {
    RequestContext {
        principal: "witness".to_string(),
        principal_type: "system",
        method: "TASK".to_string(),
        path: what.to_string(),
        remote_address: None,
    }
}

impl Integrity {
    pub fn new(
        store: Arc<dyn Store>,
        auditor: Arc<Auditor>,
        secret: &SecretKey,
        file_dirs: Vec<PathBuf>,
    ) -> Self {
        Integrity {
            store,
            auditor,
            key: CheckpointKey::derive(secret),
            file_dirs,
            last_checkpoint_seq: Mutex::new(None),
            last_scheduled: Mutex::new(None),
        }
    }

    /// Signs the current head and writes it to every audit target, unless the last checkpoint
    /// already said it (or `always`). Returns the checkpoint written.
    pub async fn checkpoint(&self, always: bool) -> anyhow::Result<Option<Checkpoint>> {
        let ends = self.store.chain_ends().await?;
        let unchanged = self
            .last_checkpoint_seq
            .lock()
            .map(|last| *last == Some(ends.head_seq))
            .unwrap_or(false);
        if ends.head_seq == 0 || (unchanged && !always) {
            return Ok(None);
        }
        let checkpoint = self.key.sign(ends.head_seq, ends.head_hash, Utc::now());
        let details = match serde_json::to_value(&checkpoint)? {
            serde_json::Value::Object(map) => map,
            _ => anyhow::bail!("a checkpoint is a JSON object"),
        };
        self.auditor
            .note(
                &system_context("checkpoint"),
                AuditPhase::Checkpoint,
                CHECKPOINT_ACTION,
                details,
            )
            .await
            .map_err(|error| anyhow::anyhow!("writing a checkpoint: {error}"))?;
        // The checkpoint record itself moved the head when the store is a target: remember
        // the head after it, so an idle server does not checkpoint its own checkpoints.
        let after = self
            .store
            .chain_ends()
            .await
            .map_or(ends.head_seq, |e| e.head_seq);
        if let Ok(mut last) = self.last_checkpoint_seq.lock() {
            *last = Some(after);
        }
        Ok(Some(checkpoint))
    }

    /// Verifies the chain; a full verify also compares it with the checkpoints.
    pub async fn verify(&self, full: bool) -> StoreResult<VerifyReport> {
        let report = self.store.verify(full).await?;
        if !full {
            return Ok(report);
        }
        compare_with_checkpoints(self.store.as_ref(), &self.key, &self.file_dirs, report).await
    }

    /// The last scheduled verify's report, if one has run.
    pub fn last_scheduled(&self) -> Option<VerifyReport> {
        self.last_scheduled
            .lock()
            .ok()
            .and_then(|last| last.clone())
    }

    async fn scheduled_verify(&self) {
        let outcome = self
            .auditor
            .audited(
                &system_context("scheduled verify"),
                "chain.verified",
                crate::details! {"full" => true},
                async {
                    self.verify(true)
                        .await
                        .map_err(crate::error::AppError::from)
                },
            )
            .await;
        match outcome {
            Ok(report) => {
                if !report.ok {
                    tracing::error!(break_ = ?report.first_break, "the scheduled verify found a break in the chain");
                }
                if let Ok(mut last) = self.last_scheduled.lock() {
                    *last = Some(report);
                }
            }
            Err(error) => tracing::error!(%error, "the scheduled verify could not run"),
        }
    }

    /// Checkpoints every `checkpoint_every` (when the chain grew) and a full verify every
    /// `verify_every`.
    pub fn spawn(self: &Arc<Self>, checkpoint_every: Duration, verify_every: Duration) {
        let this = self.clone();
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(checkpoint_every);
            ticker.tick().await;
            loop {
                ticker.tick().await;
                if !crate::store::claim_scheduled_run(
                    this.store.as_ref(),
                    "checkpoint",
                    checkpoint_every.as_secs(),
                )
                .await
                {
                    continue;
                }
                if let Err(error) = this.checkpoint(false).await {
                    tracing::error!(
                        error = format!("{error:#}"),
                        "a checkpoint could not be written"
                    );
                }
            }
        });
        let this = self.clone();
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(verify_every);
            // The first run is one period after start: a restart does not cost a full walk.
            ticker.tick().await;
            loop {
                ticker.tick().await;
                if crate::store::claim_scheduled_run(
                    this.store.as_ref(),
                    "verify",
                    verify_every.as_secs(),
                )
                .await
                {
                    this.scheduled_verify().await;
                }
            }
        });
    }
}

/// Adds the checkpoint comparison to a full verify's report: the store's own checkpoints and
/// those in the `file:` targets' folders.
pub async fn compare_with_checkpoints(
    store: &dyn Store,
    key: &CheckpointKey,
    file_dirs: &[PathBuf],
    mut report: VerifyReport,
) -> StoreResult<VerifyReport> {
    let mut found = checkpoints::read_store(store, STORE_CHECKPOINTS).await?;
    for dir in file_dirs {
        let dir = dir.clone();
        found.extend(
            tokio::task::spawn_blocking(move || checkpoints::read_file_target(&dir))
                .await
                .unwrap_or_default(),
        );
    }
    let check = checkpoints::check(store, key, found).await?;
    report.checkpoints_compared = check.compared;
    report.newest_checkpoint_id = check.newest_seq.map(crate::store::event_id);
    if let Some(problem) = check.problem {
        report.ok = false;
        // The chain's own first break, when there is one, is the older fact.
        report.first_break.get_or_insert(problem);
    }
    Ok(report)
}

/// How often checkpoints and the scheduled verify run.
pub fn periods(checkpoint_seconds: u64, verify_hours: u64) -> (Duration, Duration) {
    (
        Duration::from_secs(checkpoint_seconds.max(1)),
        Duration::from_secs(verify_hours.max(1) * 3600),
    )
}
