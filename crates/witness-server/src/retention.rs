//! The retention job: hourly, deletes events received more than `retention_days` ago, reading
//! the current setting (`PUT /api/settings`) on each run.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;

use crate::store::Store;

const PERIOD: Duration = Duration::from_secs(3600);

/// `fallback_days` applies only while the store holds no settings.
pub fn spawn(store: Arc<dyn Store>, fallback_days: u32) {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(PERIOD);
        loop {
            ticker.tick().await;
            run_once(store.as_ref(), fallback_days).await;
        }
    });
}

/// One pass; returns how many events it deleted.
pub async fn run_once(store: &dyn Store, fallback_days: u32) -> u64 {
    let days = match store.settings().await {
        Ok(Some(settings)) => settings.retention_days,
        Ok(None) => fallback_days,
        Err(error) => {
            tracing::error!(%error, "the retention job cannot read the settings; skipped");
            return 0;
        }
    };
    let cutoff = Utc::now() - chrono::Duration::days(i64::from(days));
    match store.delete_received_before(cutoff).await {
        Ok(0) => 0,
        Ok(deleted) => {
            tracing::info!(deleted, %cutoff, retention_days = days, "retention deleted old events");
            deleted
        }
        Err(error) => {
            tracing::error!(%error, "the retention job failed");
            0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::{BodyFormat, IngestLimits, parse_body};
    use crate::store::SqliteStore;

    #[tokio::test]
    async fn each_run_uses_the_current_retention_setting() {
        let dir = tempfile::tempdir().expect("dir");
        let store = SqliteStore::open_in(dir.path()).expect("store");
        let body = "{\"@t\":\"2026-01-01T00:00:00Z\",\"@mt\":\"old\"}\n\
                    {\"@t\":\"2026-01-02T00:00:00Z\",\"@mt\":\"new\"}\n";
        let events = parse_body(BodyFormat::Clef, body.as_bytes(), &IngestLimits::default())
            .expect("events");
        store
            .append(crate::model::EventSource::api_key("key-test"), events)
            .await
            .expect("append");
        // The first event arrived ten days ago (arrival time is what retention goes by).
        let ten_days_ago = (Utc::now() - chrono::Duration::days(10)).timestamp_micros();
        rusqlite::Connection::open(store.path())
            .expect("open")
            .execute(
                "UPDATE events SET received = ?1 WHERE seq = 1",
                [ten_days_ago],
            )
            .expect("backdate");

        // No settings stored yet: the configured fallback (30 days) keeps both.
        assert_eq!(run_once(&store, 30).await, 0);
        let mut settings = crate::backup::default_settings(20);
        store
            .init_settings(settings.clone())
            .await
            .expect("settings");
        assert_eq!(run_once(&store, 1).await, 0, "the setting (20 days) rules");
        settings.retention_days = 5;
        store.replace_settings(settings).await.expect("changed");
        assert_eq!(
            run_once(&store, 30).await,
            1,
            "the changed setting applies at once"
        );
        assert_eq!(store.verify(true).await.expect("verify").first_break, None);

        // The per-minute summaries lost the deleted event too.
        let kept = store
            .query(crate::store::EventQuery {
                filter: witness_api::EventFilter::default(),
                limit: 10,
                cursor: None,
            })
            .await
            .expect("query");
        assert_eq!(kept.events.len(), 1);
        let days = |action: Vec<witness_api::ValueMatch>| witness_api::EventFilter {
            from: Some("2025-12-31T00:00:00Z".parse().expect("time")),
            to: Some("2026-01-03T00:00:00Z".parse().expect("time")),
            action,
            ..witness_api::EventFilter::default()
        };
        let exact = witness_api::ValueMatch {
            value: kept.events[0].action.clone(),
            negated: false,
            prefix: false,
        };
        for filter in [days(Vec::new()), days(vec![exact])] {
            let histogram = store
                .histogram(filter, Some(86_400))
                .await
                .expect("histogram");
            assert_eq!(histogram.total, 1);
            assert_eq!(histogram.buckets[2].count, 1, "2026-01-02");
        }
    }
}
