//! The daily backup: at `backup_utc_time_of_day` (UTC), re-armed at once when the setting
//! changes (a `watch` channel carries the settings from `PUT /api/settings`).

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, NaiveTime, Utc};
use tokio::sync::watch;
use witness_api::Settings;

use super::Backups;
use crate::store::Store;

/// The longest single sleep: the wall clock is checked again at least this often, so a clock
/// that jumps (NTP, suspend) delays a backup by at most this much.
const MAX_SLEEP: Duration = Duration::from_secs(30);

/// What "now" is; the real clock in the server, a shifted one in tests.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// The first moment strictly after `now` whose UTC time of day is `hour:minute`.
pub fn next_occurrence(now: DateTime<Utc>, hour: u32, minute: u32) -> Option<DateTime<Utc>> {
    let time = NaiveTime::from_hms_opt(hour, minute, 0)?;
    let today = now.date_naive().and_time(time).and_utc();
    if today > now {
        Some(today)
    } else {
        now.date_naive()
            .succ_opt()
            .map(|tomorrow| tomorrow.and_time(time).and_utc())
    }
}

pub fn spawn(store: Arc<dyn Store>, backups: Arc<Backups>, settings: watch::Receiver<Settings>) {
    spawn_with_clock(store, backups, settings, Arc::new(Utc::now));
}

pub fn spawn_with_clock(
    store: Arc<dyn Store>,
    backups: Arc<Backups>,
    mut settings: watch::Receiver<Settings>,
    clock: Clock,
) -> tokio::task::JoinHandle<()> {
    // Known before the task first runs, so the status page never shows a gap at start.
    let first = Settings::parse_time_of_day(&settings.borrow().backup_utc_time_of_day)
        .and_then(|(hour, minute)| next_occurrence(clock(), hour, minute));
    backups.set_next_scheduled(first);
    tokio::spawn(async move {
        'schedule: loop {
            let time = settings.borrow_and_update().backup_utc_time_of_day.clone();
            let next = Settings::parse_time_of_day(&time)
                .and_then(|(hour, minute)| next_occurrence(clock(), hour, minute));
            backups.set_next_scheduled(next);
            let Some(next) = next else {
                tracing::error!(time, "the backup time is not valid; no backup is scheduled");
                if settings.changed().await.is_err() {
                    return;
                }
                continue;
            };
            tracing::debug!(%next, "next backup scheduled");
            loop {
                let now = clock();
                if now >= next {
                    break;
                }
                let wait = (next - now).to_std().unwrap_or_default().min(MAX_SLEEP);
                tokio::select! {
                    () = tokio::time::sleep(wait) => {}
                    changed = settings.changed() => {
                        if changed.is_err() {
                            return;
                        }
                        continue 'schedule;
                    }
                }
            }
            // Every server sharing a database has this schedule; the first to claim the
            // occurrence backs up.
            let claimed = match store.claim_job("backup", next.timestamp()).await {
                Ok(claimed) => claimed,
                Err(error) => {
                    tracing::error!(%error, "cannot claim the scheduled backup; skipped");
                    false
                }
            };
            if claimed && let Err(error) = backups.create(store.as_ref()).await {
                tracing::error!(error = format!("{error:#}"), "the scheduled backup failed");
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::secret_key::SecretKey;
    use crate::store::SqliteStore;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .expect("time")
            .with_timezone(&Utc)
    }

    #[test]
    fn next_occurrence_is_today_or_tomorrow() {
        let now = at("2026-11-22T01:59:59Z");
        assert_eq!(next_occurrence(now, 2, 0), Some(at("2026-11-22T02:00:00Z")));
        let now = at("2026-11-22T02:00:00Z");
        assert_eq!(next_occurrence(now, 2, 0), Some(at("2026-11-23T02:00:00Z")));
        let now = at("2026-12-31T23:59:30Z");
        assert_eq!(next_occurrence(now, 0, 0), Some(at("2027-01-01T00:00:00Z")));
        assert_eq!(next_occurrence(now, 24, 0), None);
    }

    fn settings(time: &str) -> Settings {
        Settings {
            backup_utc_time_of_day: time.to_string(),
            backups_to_keep: 2,
            retention_days: 365,
        }
    }

    /// Waits (up to five seconds) until the schedule says `expected`.
    async fn wait_for_next(backups: &Backups, expected: DateTime<Utc>) {
        for _ in 0..100 {
            if backups.next_scheduled() == Some(expected) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(backups.next_scheduled(), Some(expected));
    }

    /// The real loop, with a clock shifted so that the scheduled moment is seconds away.
    #[tokio::test]
    async fn makes_a_backup_at_the_time_and_rearms_when_it_changes() {
        let dir = tempfile::tempdir().expect("dir");
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open_in(dir.path()).expect("store"));
        store
            .init_settings(settings("02:00"))
            .await
            .expect("settings");
        let backups = Arc::new(Backups::new(
            dir.path(),
            SecretKey::generate(),
            settings("02:00"),
        ));
        // "Now" is 01:59:57 on a fixed day, moving with the real clock.
        let real_start = Utc::now();
        let fake_start = Utc
            .with_ymd_and_hms(2026, 11, 22, 1, 59, 57)
            .single()
            .expect("time");
        let clock: Clock = Arc::new(move || fake_start + (Utc::now() - real_start));
        let (sender, receiver) = watch::channel(settings("05:00"));
        let task = spawn_with_clock(store.clone(), backups.clone(), receiver, clock);

        // Armed for 05:00 from the start …
        assert_eq!(backups.next_scheduled(), Some(at("2026-11-22T05:00:00Z")));
        // … re-armed at once for 02:00, seconds away.
        sender.send_replace(settings("02:00"));
        wait_for_next(&backups, at("2026-11-22T02:00:00Z")).await;
        assert!(backups.list().await.expect("list").is_empty(), "not yet");

        let mut made = Vec::new();
        for _ in 0..100 {
            made = backups.list().await.expect("list");
            if !made.is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(made.len(), 1, "one backup at 02:00");
        // Then tomorrow.
        wait_for_next(&backups, at("2026-11-23T02:00:00Z")).await;
        assert_eq!(backups.list().await.expect("list").len(), 1, "only one");
        task.abort();
    }
}
