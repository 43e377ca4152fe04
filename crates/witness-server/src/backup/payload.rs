//! What a backup holds once decrypted: one JSON object (docs/backup-format.md, "Payload").

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use witness_api::{ApiKeyPermission, Role, Settings, SettingsUpdate, User};

use super::format::BackupError;
use crate::store::{ApiKeyRecord, ApiKeyWithHash, ConfigSnapshot, UserRecord};

/// The `format` field of every payload.
pub const PAYLOAD_FORMAT: &str = "witness-backup";
pub const PAYLOAD_VERSION: u32 = 1;

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
        if payload.payload_version != PAYLOAD_VERSION {
            return Err(invalid(format!(
                "payload version {} is not known (this Witness reads {PAYLOAD_VERSION})",
                payload.payload_version
            )));
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
        Ok(ConfigSnapshot {
            users,
            api_keys,
            settings: Some(settings),
        })
    }
}
