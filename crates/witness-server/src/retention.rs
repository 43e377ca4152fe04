//! The retention job: hourly, deletes events received more than `retention_days` ago, reading
//! the current setting (`PUT /api/settings`) on each run.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;

use crate::audit::Auditor;
use crate::details;
use crate::error::AppError;
use crate::integrity::system_context;
use crate::store::Store;

const PERIOD: Duration = Duration::from_secs(3600);

/// `fallback_days` applies only while the store holds no settings; `min_days` is the host's
/// floor (`WITNESS_MIN_RETENTION_DAYS`), which no setting goes below. Each run is audited
/// (`witness.retention.run`, with the cutoff and how many events it removed) when it has
/// something to remove.
pub fn spawn(store: Arc<dyn Store>, auditor: Arc<Auditor>, fallback_days: u32, min_days: u32) {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(PERIOD);
        loop {
            ticker.tick().await;
            if crate::store::claim_scheduled_run(store.as_ref(), "retention", PERIOD.as_secs())
                .await
            {
                run_audited(store.as_ref(), &auditor, fallback_days, min_days).await;
            }
        }
    });
}

async fn run_audited(store: &dyn Store, auditor: &Arc<Auditor>, fallback_days: u32, min_days: u32) {
    let days = match retention_days(store, fallback_days, min_days).await {
        Some(days) => days,
        None => return,
    };
    let cutoff = Utc::now() - chrono::Duration::days(i64::from(days));
    // A run with nothing to remove changes nothing: it is not worth two records an hour.
    match store.oldest_received().await {
        Ok(Some(oldest)) if oldest < cutoff => {}
        Ok(_) => return,
        Err(error) => {
            tracing::error!(%error, "the retention job cannot read the store; skipped");
            return;
        }
    }
    let operation = match auditor
        .begin(
            &system_context("retention"),
            "retention.run",
            details! {"retention_days" => days, "cutoff" => cutoff.to_rfc3339()},
        )
        .await
    {
        Ok(operation) => operation,
        Err(error) => {
            tracing::error!(%error, "retention skipped: its run could not be audited");
            return;
        }
    };
    let outcome = delete_before(store, cutoff, days).await;
    let _ = operation
        .finish_with(outcome, |deleted| details! {"deleted" => deleted})
        .await;
}

/// The days to keep: the setting (or the fallback), never below the host's minimum.
async fn retention_days(store: &dyn Store, fallback_days: u32, min_days: u32) -> Option<u32> {
    match crate::settings::current(store, &crate::settings::defaults(fallback_days)).await {
        Ok(settings) => Some(settings.retention_days.max(min_days)),
        Err(error) => {
            tracing::error!(%error, "the retention job cannot read the settings; skipped");
            None
        }
    }
}

async fn delete_before(
    store: &dyn Store,
    cutoff: chrono::DateTime<Utc>,
    days: u32,
) -> Result<u64, AppError> {
    let deleted = store.delete_received_before(cutoff).await?;
    if deleted > 0 {
        tracing::info!(deleted, %cutoff, retention_days = days, "retention deleted old events");
    }
    Ok(deleted)
}

/// One pass without auditing (tests); returns how many events it deleted.
#[cfg(test)]
async fn run_once(store: &dyn Store, fallback_days: u32) -> u64 {
    let Some(days) = retention_days(store, fallback_days, 1).await else {
        return 0;
    };
    let cutoff = Utc::now() - chrono::Duration::days(i64::from(days));
    delete_before(store, cutoff, days)
        .await
        .unwrap_or_else(|error| {
            tracing::error!(%error, "the retention job failed");
            0
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::{BodyFormat, IngestLimits, parse_body};
    use crate::store::SqliteStore;

    /// A run that removes events is audited with how many; one with nothing to remove writes
    /// nothing; the host's minimum wins over a smaller setting.
    #[tokio::test]
    async fn a_run_that_removes_events_is_audited() {
        let dir = tempfile::tempdir().expect("dir");
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open_in(dir.path()).expect("store"));
        let body = "{\"@t\":\"2026-01-01T00:00:00Z\",\"@mt\":\"old\"}\n";
        let events = parse_body(BodyFormat::Clef, body.as_bytes(), &IngestLimits::default())
            .expect("events");
        store
            .append(crate::model::EventSource::api_key("key-test"), events)
            .await
            .expect("append");
        let forty_days_ago = (Utc::now() - chrono::Duration::days(40)).timestamp_micros();
        rusqlite::Connection::open(dir.path().join(crate::store::sqlite::DATABASE_FILE))
            .expect("open")
            .execute("UPDATE events_1 SET received = ?1", [forty_days_ago])
            .expect("backdate");
        let targets =
            crate::audit::parse_targets("local", None, store.clone(), "s").expect("targets");
        let auditor = Arc::new(Auditor::new("s".to_string(), targets));
        let records = |store: Arc<dyn Store>| async move {
            let filter =
                witness_api::EventFilter::from_pairs([("action", "witness.retention.run")])
                    .expect("filter");
            store
                .query(crate::store::EventQuery {
                    filter,
                    limit: 10,
                    cursor: None,
                })
                .await
                .expect("query")
                .events
        };
        // The host's minimum (60 days) keeps the 40-day-old event despite a 30-day fallback.
        run_audited(store.as_ref(), &auditor, 30, 60).await;
        assert!(records(store.clone()).await.is_empty());
        run_audited(store.as_ref(), &auditor, 30, 1).await;
        let written = records(store.clone()).await;
        assert_eq!(written.len(), 2, "Begin and Complete");
        assert_eq!(written[0].details["deleted"], 1);
        // Nothing left to remove: nothing more is written.
        run_audited(store.as_ref(), &auditor, 30, 1).await;
        assert_eq!(records(store.clone()).await.len(), 2);
    }

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
                "UPDATE events_1 SET received = ?1 WHERE seq = 1",
                [ten_days_ago],
            )
            .expect("backdate");

        // No settings stored yet: the configured fallback (30 days) keeps both.
        assert_eq!(run_once(&store, 30).await, 0);
        let mut settings = crate::settings::defaults(20);
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
