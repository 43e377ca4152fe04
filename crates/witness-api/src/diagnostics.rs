use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// `GET /api/diagnostics`: the live status the panel's Diagnostics page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Diagnostics {
    /// The server's version (the `witness-server` crate version).
    pub version: String,
    /// When this server process started.
    #[serde(deserialize_with = "crate::time::rfc3339")]
    pub started_at: DateTime<Utc>,
    /// Whole seconds since `started_at`, measured by the server.
    pub uptime_seconds: u64,
    /// The data directory as the server resolved it (absolute).
    pub data_dir: String,
    pub auditing: AuditingStatus,
    /// When the newest backup in `<data>/Backups/` was made; none yet: `null`.
    #[serde(default, deserialize_with = "crate::time::rfc3339_opt")]
    pub last_backup_at: Option<DateTime<Utc>>,
    /// When the next scheduled backup will run (UTC); `null` when none is scheduled.
    #[serde(default, deserialize_with = "crate::time::rfc3339_opt")]
    pub next_backup_at: Option<DateTime<Utc>>,
    /// Where the events live and how many; `null` when the store could not be read.
    #[serde(default)]
    pub storage: Option<StorageStatus>,
    /// The last scheduled full verify of the chain (with the signed checkpoints); `null`
    /// until one has run since the server started.
    #[serde(default)]
    pub last_full_verify: Option<crate::VerifyReport>,
}

/// The event store's figures (also in the diagnostic report).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct StorageStatus {
    /// e.g. `SQLite`.
    pub backend: String,
    /// Where the data lives (a file path; never a password).
    pub location: String,
    /// Bytes on disk, including the write-ahead log.
    pub size_bytes: u64,
    pub event_count: u64,
    /// Event times (not arrival) of the oldest and newest stored events.
    #[serde(default, deserialize_with = "crate::time::rfc3339_opt")]
    pub oldest_event: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "crate::time::rfc3339_opt")]
    pub newest_event: Option<DateTime<Utc>>,
}

/// Whether Witness audits its own operations, and where to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AuditingStatus {
    pub enabled: bool,
    /// "Auditing is enabled" or "Auditing is disabled".
    pub summary: String,
    /// Each target as configured, e.g. `local`, `file:/var/log/witness`, a URL.
    pub targets: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_json_with_rfc3339_times() {
        let diagnostics = Diagnostics {
            version: "1.2.3".into(),
            started_at: DateTime::parse_from_rfc3339("2026-11-22T10:00:00Z")
                .expect("valid time")
                .with_timezone(&Utc),
            uptime_seconds: 42,
            data_dir: "/var/lib/witness".into(),
            auditing: AuditingStatus {
                enabled: true,
                summary: "Auditing is enabled".into(),
                targets: vec!["local".into()],
            },
            last_backup_at: None,
            next_backup_at: Some(
                DateTime::parse_from_rfc3339("2026-11-23T02:00:00Z")
                    .expect("valid time")
                    .with_timezone(&Utc),
            ),
            storage: Some(StorageStatus {
                backend: "SQLite".into(),
                location: "/var/lib/witness/witness.db".into(),
                size_bytes: 4096,
                event_count: 3,
                oldest_event: None,
                newest_event: None,
            }),
            last_full_verify: None,
        };
        let json = serde_json::to_value(&diagnostics).expect("serializes");
        assert_eq!(json["started_at"], "2026-11-22T10:00:00Z");
        assert_eq!(json["uptime_seconds"], 42);
        assert_eq!(json["last_backup_at"], serde_json::Value::Null);
        assert_eq!(json["next_backup_at"], "2026-11-23T02:00:00Z");
        assert_eq!(json["storage"]["event_count"], 3);
        let back: Diagnostics = serde_json::from_value(json).expect("deserializes");
        assert_eq!(back, diagnostics);
    }
}
