//! The settings in force: what a store that was never given any starts with, and the stored
//! value otherwise. Their rules (ranges, the time-of-day format) are `witness_api::Settings`'s,
//! shared with the panel; this is where the server, the CLI, backups and retention get them.

use witness_api::Settings;

use crate::store::{Store, StoreResult};

/// The settings a store has never been given: backups at 02:00 UTC, seven kept, and the
/// configured retention.
pub fn defaults(retention_days: u32) -> Settings {
    Settings {
        backup_utc_time_of_day: "02:00".to_string(),
        backups_to_keep: 7,
        retention_days,
    }
}

/// The stored settings, or `fallback` (the defaults the process started with) before any were
/// stored.
pub async fn current(store: &dyn Store, fallback: &Settings) -> StoreResult<Settings> {
    Ok(store.settings().await?.unwrap_or_else(|| fallback.clone()))
}
