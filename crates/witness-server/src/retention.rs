//! The retention job: deletes events received more than `retention_days` ago, hourly.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;

use crate::store::Store;

const PERIOD: Duration = Duration::from_secs(3600);

pub fn spawn(store: Arc<dyn Store>, retention_days: u32) {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(PERIOD);
        loop {
            ticker.tick().await;
            let cutoff = Utc::now() - chrono::Duration::days(i64::from(retention_days));
            match store.delete_received_before(cutoff).await {
                Ok(0) => {}
                Ok(deleted) => tracing::info!(deleted, %cutoff, "retention deleted old events"),
                Err(error) => tracing::error!(%error, "the retention job failed"),
            }
        }
    });
}
