//! What a backup holds once decrypted: one JSON object (docs/backup-format.md, "Payload").

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use witness_api::{ApiKeyPermission, Role, SavedView, Settings, SettingsUpdate, User};

use super::format::BackupError;
use crate::store::{ApiKeyRecord, ApiKeyWithHash, ConfigSnapshot, OwnedView, UserRecord};
use crate::views::{ViewName, ViewQuery};

/// The `format` field of every payload.
pub const PAYLOAD_FORMAT: &str = "witness-backup";
/// Version 2 added `saved_views`. Backups are written as the newest version; every version
/// from [`OLDEST_PAYLOAD_VERSION`] on is read (a version 1 backup has no views).
pub const PAYLOAD_VERSION: u32 = 2;
pub const OLDEST_PAYLOAD_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupPayload {
    pub format: String,
    pub payload_version: u32,
    pub created_at: DateTime<Utc>,
    /// The version of Witness that made it.
    pub server_version: String,
    pub users: Vec<BackupUser>,
    pub api_keys: Vec<BackupApiKey>,
    pub settings: BackupSettings,
    /// Absent from version 1 payloads: no views.
    #[serde(default)]
    pub saved_views: Vec<BackupView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupUser {
    pub id: String,
    pub username: String,
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub role: Role,
    /// Argon2id in PHC string form; the password itself is never stored.
    pub password_hash: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupApiKey {
    pub id: String,
    pub title: String,
    pub permissions: Vec<ApiKeyPermission>,
    /// SHA-256 of the token, 64 lowercase hex digits; the token itself is never stored.
    pub token_hash: String,
    pub token_prefix: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupView {
    pub id: String,
    /// The id of the user whose view it is (one of `users`).
    pub user_id: String,
    pub name: String,
    pub query: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupSettings {
    pub backup_utc_time_of_day: String,
    pub backups_to_keep: u32,
    pub retention_days: u32,
}

impl BackupPayload {
    pub fn from_snapshot(
        snapshot: ConfigSnapshot,
        settings: Settings,
        created_at: DateTime<Utc>,
    ) -> Self {
        BackupPayload {
            format: PAYLOAD_FORMAT.to_string(),
            payload_version: PAYLOAD_VERSION,
            created_at,
            server_version: env!("CARGO_PKG_VERSION").to_string(),
            users: snapshot
                .users
                .into_iter()
                .map(|record| BackupUser {
                    id: record.user.id,
                    username: record.user.username,
                    display_name: record.user.display_name,
                    email: record.user.email,
                    role: record.user.role,
                    password_hash: record.password_hash,
                    created_at: record.user.created_at,
                })
                .collect(),
            api_keys: snapshot
                .api_keys
                .into_iter()
                .map(|ApiKeyWithHash { key, token_hash }| BackupApiKey {
                    id: key.id,
                    title: key.title,
                    permissions: key.permissions,
                    token_hash: hex::encode(token_hash),
                    token_prefix: key.token_prefix,
                    created_at: key.created_at,
                    revoked_at: key.revoked_at,
                })
                .collect(),
            settings: BackupSettings {
                backup_utc_time_of_day: settings.backup_utc_time_of_day,
                backups_to_keep: settings.backups_to_keep,
                retention_days: settings.retention_days,
            },
            saved_views: snapshot
                .views
                .into_iter()
                .map(|OwnedView { user_id, view }| BackupView {
                    id: view.id,
                    user_id,
                    name: view.name,
                    query: view.query,
                    created_at: view.created_at,
                })
                .collect(),
        }
    }

    /// Parses and checks a decrypted payload completely, so that a restore either has all of
    /// it or changes nothing.
    pub fn parse(plaintext: &[u8]) -> Result<ConfigSnapshot, BackupError> {
        let invalid = |message: String| BackupError::InvalidPayload(message);
        let payload: BackupPayload = serde_json::from_slice(plaintext)
            .map_err(|error| invalid(format!("not the expected JSON: {error}")))?;
        if payload.format != PAYLOAD_FORMAT {
            return Err(invalid(format!(
                "`format` is `{}`, not `{PAYLOAD_FORMAT}`",
                payload.format
            )));
        }
        if !(OLDEST_PAYLOAD_VERSION..=PAYLOAD_VERSION).contains(&payload.payload_version) {
            return Err(invalid(format!(
                "payload version {} is not known (this Witness reads \
                 {OLDEST_PAYLOAD_VERSION} to {PAYLOAD_VERSION})",
                payload.payload_version
            )));
        }
        if payload.payload_version < 2 && !payload.saved_views.is_empty() {
            return Err(invalid(
                "a version 1 payload has no `saved_views`".to_string(),
            ));
        }
        payload.into_snapshot().map_err(invalid)
    }

    fn into_snapshot(self) -> Result<ConfigSnapshot, String> {
        let mut ids = HashSet::new();
        let mut usernames = HashSet::new();
        let mut users = Vec::with_capacity(self.users.len());
        for user in self.users {
            if user.id.is_empty() || !ids.insert(user.id.clone()) {
                return Err(format!("user id `{}` is empty or repeated", user.id));
            }
            match crate::accounts::Username::parse(&user.username) {
                Ok(parsed) if parsed.as_str() == user.username => {}
                Ok(_) => {
                    return Err(format!("username `{}` has spaces around it", user.username));
                }
                Err(problem) => return Err(format!("username `{}` {problem}", user.username)),
            }
            if let Err(problem) = crate::accounts::Email::parse_optional(user.email.as_deref()) {
                return Err(format!("the email of user `{}` {problem}", user.username));
            }
            if !usernames.insert(user.username.clone()) {
                return Err(format!("username `{}` is repeated", user.username));
            }
            if !user.password_hash.starts_with('$') {
                return Err(format!(
                    "user `{}` has no password hash in PHC form",
                    user.username
                ));
            }
            users.push(UserRecord {
                user: User {
                    id: user.id,
                    username: user.username,
                    display_name: user.display_name,
                    email: user.email,
                    role: user.role,
                    created_at: user.created_at,
                },
                password_hash: user.password_hash,
            });
        }
        if !users.iter().any(|record| record.user.role == Role::Admin) {
            return Err("it has no admin user, so nobody could manage the server".to_string());
        }
        let mut key_ids = HashSet::new();
        let mut hashes = HashSet::new();
        let mut api_keys = Vec::with_capacity(self.api_keys.len());
        for key in self.api_keys {
            if key.id.is_empty() || !key_ids.insert(key.id.clone()) {
                return Err(format!("API key id `{}` is empty or repeated", key.id));
            }
            let token_hash: [u8; 32] = hex::decode(&key.token_hash)
                .ok()
                .and_then(|bytes| bytes.try_into().ok())
                .ok_or_else(|| {
                    format!(
                        "API key `{}` has a token hash that is not 64 hex digits",
                        key.id
                    )
                })?;
            if !hashes.insert(token_hash) {
                return Err(format!("API key `{}` repeats another key's token", key.id));
            }
            if key.permissions.is_empty() {
                return Err(format!("API key `{}` has no permissions", key.id));
            }
            api_keys.push(ApiKeyWithHash {
                key: ApiKeyRecord {
                    id: key.id,
                    title: key.title,
                    permissions: key.permissions,
                    created_at: key.created_at,
                    revoked_at: key.revoked_at,
                    token_prefix: key.token_prefix,
                },
                token_hash,
            });
        }
        let update = SettingsUpdate {
            backup_utc_time_of_day: self.settings.backup_utc_time_of_day,
            backups_to_keep: i64::from(self.settings.backups_to_keep),
            retention_days: i64::from(self.settings.retention_days),
        };
        let settings = Settings::from_update(&update).ok_or_else(|| {
            let problems: Vec<String> = Settings::problems(&update)
                .into_iter()
                .map(|(field, message)| format!("{field} {message}"))
                .collect();
            format!("its settings are not valid: {}", problems.join("; "))
        })?;
        let views = parse_views(self.saved_views, &ids)?;
        Ok(ConfigSnapshot {
            users,
            api_keys,
            settings: Some(settings),
            views,
        })
    }
}

/// The views of a payload, checked by the rules the API applies (`views.rs`), each belonging
/// to one of the payload's users (`user_ids`).
fn parse_views(
    views: Vec<BackupView>,
    user_ids: &HashSet<String>,
) -> Result<Vec<OwnedView>, String> {
    let mut ids = HashSet::new();
    let mut names = HashSet::new();
    let mut owned = Vec::with_capacity(views.len());
    for view in views {
        if view.id.is_empty() || !ids.insert(view.id.clone()) {
            return Err(format!("saved view id `{}` is empty or repeated", view.id));
        }
        if !user_ids.contains(&view.user_id) {
            return Err(format!(
                "saved view `{}` belongs to user `{}`, who is not in the backup",
                view.id, view.user_id
            ));
        }
        match ViewName::parse(&view.name) {
            Ok(parsed) if parsed.as_str() == view.name => {}
            Ok(_) => {
                return Err(format!(
                    "saved view `{}` has spaces around its name",
                    view.id
                ));
            }
            Err(problem) => return Err(format!("the name of saved view `{}` {problem}", view.id)),
        }
        if !names.insert((view.user_id.clone(), view.name.clone())) {
            return Err(format!(
                "user `{}` has two saved views named `{}`",
                view.user_id, view.name
            ));
        }
        let query = ViewQuery::parse(&view.query)
            .map_err(|problem| format!("the query of saved view `{}` {problem}", view.id))?;
        owned.push(OwnedView {
            user_id: view.user_id,
            view: SavedView {
                id: view.id,
                name: view.name,
                query: query.into_string(),
                created_at: view.created_at,
            },
        });
    }
    Ok(owned)
}
