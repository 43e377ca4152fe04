use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One backup file, as `GET /api/backups` lists it (newest first) and `POST /api/backups`
/// answers. The file is encrypted under the server's secret key, which is not in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct BackupInfo {
    /// Use it in `GET /api/backups/{id}/download`, e.g. `20261122T020000Z`.
    pub id: String,
    /// When the backup was made (from the file's header).
    #[serde(deserialize_with = "crate::time::rfc3339")]
    pub created_at: DateTime<Utc>,
    pub size_bytes: u64,
    /// The file's name in `<data>/Backups/`, e.g. `witness-backup-20261122T020000Z.wbk`.
    pub file_name: String,
}
