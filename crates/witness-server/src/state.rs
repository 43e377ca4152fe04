//! What every request handler can reach.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};

use crate::ingest::IngestLimits;
use crate::store::Store;

#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    data_dir: PathBuf,
    store: Arc<dyn Store>,
    ingest_limits: IngestLimits,
    started_at: DateTime<Utc>,
    started: Instant,
}

impl AppState {
    pub fn new(data_dir: PathBuf, store: Arc<dyn Store>, ingest_limits: IngestLimits) -> Self {
        Self {
            inner: Arc::new(Inner {
                data_dir,
                store,
                ingest_limits,
                started_at: Utc::now(),
                started: Instant::now(),
            }),
        }
    }

    pub fn store(&self) -> &dyn Store {
        self.inner.store.as_ref()
    }

    pub fn ingest_limits(&self) -> &IngestLimits {
        &self.inner.ingest_limits
    }

    pub fn data_dir(&self) -> &std::path::Path {
        &self.inner.data_dir
    }

    pub fn started_at(&self) -> DateTime<Utc> {
        self.inner.started_at
    }

    pub fn uptime_seconds(&self) -> u64 {
        self.inner.started.elapsed().as_secs()
    }
}
