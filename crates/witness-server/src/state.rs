//! What every request handler can reach.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use tokio::sync::watch;
use witness_api::Settings;

use crate::audit::Auditor;
use crate::backup::Backups;
use crate::error::AppError;
use crate::ingest::IngestLimits;
use crate::sessions::LoginLimiter;
use crate::store::{SessionRecord, Store};

#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

pub struct StateParts {
    pub data_dir: PathBuf,
    pub store: Arc<dyn Store>,
    pub auditor: Arc<Auditor>,
    pub ingest_limits: IngestLimits,
    pub session_idle: Duration,
    /// A session's absolute lifetime from its login.
    pub session_max: Duration,
    /// How often a live tail re-checks its caller.
    pub live_recheck: Duration,
    /// Checkpoints and verify (with the checkpoints).
    pub integrity: Arc<crate::integrity::Integrity>,
    /// The host's floor for the `retention_days` setting.
    pub min_retention_days: u32,
    pub backups: Arc<Backups>,
    /// The current settings; the backup scheduler watches it.
    pub settings: watch::Sender<Settings>,
    /// What time it is for sessions.
    pub clock: crate::clock::Clock,
}

/// Ingestion since this server started, for the diagnostic report.
#[derive(Debug, Default)]
pub struct IngestCounters {
    accepted_requests: AtomicU64,
    accepted_events: AtomicU64,
    rejected_requests: AtomicU64,
}

impl IngestCounters {
    pub fn accepted(&self, events: usize) {
        self.accepted_requests.fetch_add(1, Ordering::Relaxed);
        self.accepted_events
            .fetch_add(events as u64, Ordering::Relaxed);
    }

    pub fn rejected(&self) {
        self.rejected_requests.fetch_add(1, Ordering::Relaxed);
    }

    /// (accepted requests, accepted events, rejected requests).
    pub fn snapshot(&self) -> (u64, u64, u64) {
        (
            self.accepted_requests.load(Ordering::Relaxed),
            self.accepted_events.load(Ordering::Relaxed),
            self.rejected_requests.load(Ordering::Relaxed),
        )
    }
}

/// Live tails open at once; one more is refused (each holds a connection and a subscription).
pub const MAX_LIVE_TAILS: usize = 64;

struct Inner {
    parts: StateParts,
    live_tails: Arc<tokio::sync::Semaphore>,
    ingest_counters: IngestCounters,
    login_limiter: LoginLimiter,
    started_at: DateTime<Utc>,
    started: Instant,
}

impl AppState {
    pub fn new(parts: StateParts) -> Self {
        Self {
            inner: Arc::new(Inner {
                parts,
                live_tails: Arc::new(tokio::sync::Semaphore::new(MAX_LIVE_TAILS)),
                ingest_counters: IngestCounters::default(),
                login_limiter: LoginLimiter::default(),
                started_at: Utc::now(),
                started: Instant::now(),
            }),
        }
    }

    pub fn store(&self) -> &dyn Store {
        self.inner.parts.store.as_ref()
    }

    pub fn auditor(&self) -> &Arc<Auditor> {
        &self.inner.parts.auditor
    }

    pub fn backups(&self) -> &Arc<Backups> {
        &self.inner.parts.backups
    }

    /// The stored settings, or before any were stored the defaults this server started with.
    pub async fn current_settings(&self) -> crate::store::StoreResult<Settings> {
        let fallback = self.settings_sender().borrow().clone();
        crate::settings::current(self.store(), &fallback).await
    }

    pub fn settings_sender(&self) -> &watch::Sender<Settings> {
        &self.inner.parts.settings
    }

    pub fn ingest_counters(&self) -> &IngestCounters {
        &self.inner.ingest_counters
    }

    pub fn login_limiter(&self) -> &LoginLimiter {
        &self.inner.login_limiter
    }

    pub fn ingest_limits(&self) -> &IngestLimits {
        &self.inner.parts.ingest_limits
    }

    pub fn session_idle(&self) -> Duration {
        self.inner.parts.session_idle
    }

    pub fn integrity(&self) -> &Arc<crate::integrity::Integrity> {
        &self.inner.parts.integrity
    }

    pub fn min_retention_days(&self) -> u32 {
        self.inner.parts.min_retention_days
    }

    pub fn session_max(&self) -> Duration {
        self.inner.parts.session_max
    }

    pub fn live_recheck(&self) -> Duration {
        self.inner.parts.live_recheck
    }

    /// A place for one more live tail, held for as long as it is open; `None` when all
    /// [`MAX_LIVE_TAILS`] are taken.
    pub fn live_tail_permit(&self) -> Option<tokio::sync::OwnedSemaphorePermit> {
        self.inner.live_tails.clone().try_acquire_owned().ok()
    }

    pub fn data_dir(&self) -> &std::path::Path {
        &self.inner.parts.data_dir
    }

    pub fn started_at(&self) -> DateTime<Utc> {
        self.inner.started_at
    }

    pub fn uptime_seconds(&self) -> u64 {
        self.inner.started.elapsed().as_secs()
    }

    /// Moves a session's expiry to `now + idle`, writing only when it moved by more than a
    /// minute (or a tenth of the idle time), so that reads do not each cost a write.
    pub fn now(&self) -> DateTime<Utc> {
        self.inner.parts.clock.now()
    }

    pub async fn slide_session(
        &self,
        mut session: SessionRecord,
        now: DateTime<Utc>,
    ) -> Result<SessionRecord, AppError> {
        let idle = chrono::Duration::from_std(self.session_idle())
            .unwrap_or_else(|_| chrono::Duration::hours(8));
        let latest = session.created_at
            + chrono::Duration::from_std(self.session_max()).unwrap_or(chrono::Duration::hours(12));
        let wanted = (now + idle).min(latest);
        let step = (idle / 10).min(chrono::Duration::minutes(1));
        if wanted - session.expires_at > step {
            self.store()
                .extend_session(session.token_hash, wanted)
                .await?;
            session.expires_at = wanted;
        }
        Ok(session)
    }
}
