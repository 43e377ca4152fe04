//! Settings, and the users/API keys/settings/views snapshot that backups export and restore.

use rusqlite::{Connection, OptionalExtension, params};
use witness_api::Settings;

use super::accounts;
use super::keys::{self, API_KEY_COLUMNS, read_api_key};
use super::views;
use crate::store::{ApiKeyWithHash, ConfigSnapshot, StoreError, StoreResult};

pub fn read_settings(conn: &Connection) -> StoreResult<Option<Settings>> {
    let row: Option<(String, i64, i64)> = conn
        .query_row(
            "SELECT backup_utc_time_of_day, backups_to_keep, retention_days FROM settings \
             WHERE id = 1",
            [],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
        .optional()?;
    row.map(|(time, keep, days)| {
        let number = |value: i64, what: &str| {
            u32::try_from(value).map_err(|_| {
                StoreError::Backend(format!(
                    "the stored setting {what} ({value}) is out of range"
                ))
            })
        };
        Ok(Settings {
            backup_utc_time_of_day: time,
            backups_to_keep: number(keep, "backups_to_keep")?,
            retention_days: number(days, "retention_days")?,
        })
    })
    .transpose()
}

pub fn write_settings(conn: &Connection, settings: &Settings) -> StoreResult<()> {
    conn.execute(
        "INSERT INTO settings (id, backup_utc_time_of_day, backups_to_keep, retention_days) \
         VALUES (1, ?1, ?2, ?3) ON CONFLICT (id) DO UPDATE SET \
         backup_utc_time_of_day = excluded.backup_utc_time_of_day, \
         backups_to_keep = excluded.backups_to_keep, retention_days = excluded.retention_days",
        params![
            settings.backup_utc_time_of_day,
            settings.backups_to_keep,
            settings.retention_days
        ],
    )?;
    Ok(())
}

pub fn init_settings(conn: &mut Connection, defaults: &Settings) -> StoreResult<Settings> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let current = match read_settings(&tx)? {
        Some(current) => current,
        None => {
            write_settings(&tx, defaults)?;
            defaults.clone()
        }
    };
    tx.commit()?;
    Ok(current)
}

pub fn replace_settings(
    conn: &mut Connection,
    settings: &Settings,
) -> StoreResult<Option<Settings>> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let before = read_settings(&tx)?;
    write_settings(&tx, settings)?;
    tx.commit()?;
    Ok(before)
}

/// Everything in one read transaction, so users, keys, settings and views are of one moment.
pub fn export(conn: &Connection) -> StoreResult<ConfigSnapshot> {
    let tx = conn.unchecked_transaction()?;
    let users = tx
        .prepare(&format!(
            "SELECT {} FROM users ORDER BY username",
            accounts::USER_COLUMNS
        ))?
        .query_map([], accounts::read_user)?
        .collect::<Result<Vec<_>, _>>()?;
    let api_keys = tx
        .prepare(&format!(
            "SELECT {API_KEY_COLUMNS}, token_hash FROM api_keys ORDER BY created_at, id"
        ))?
        .query_map([], |row| {
            let key = read_api_key(row)?;
            let hash: Vec<u8> = row.get(6)?;
            Ok((key, hash))
        })?
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .map(|(key, hash)| {
            let token_hash = hash.as_slice().try_into().map_err(|_| {
                StoreError::Backend(format!(
                    "API key {} has a token hash of {} bytes",
                    key.id,
                    hash.len()
                ))
            })?;
            Ok(ApiKeyWithHash { key, token_hash })
        })
        .collect::<StoreResult<Vec<_>>>()?;
    let settings = read_settings(&tx)?;
    let views = views::list_all(&tx)?;
    tx.commit()?;
    Ok(ConfigSnapshot {
        users,
        api_keys,
        settings,
        views,
    })
}

/// Replaces users, keys, views and settings with the snapshot's and ends every session.
pub fn import(conn: &mut Connection, snapshot: &ConfigSnapshot) -> StoreResult<()> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    tx.execute("DELETE FROM sessions", [])?;
    tx.execute("DELETE FROM saved_views", [])?;
    tx.execute("DELETE FROM users", [])?;
    tx.execute("DELETE FROM api_keys", [])?;
    for user in &snapshot.users {
        accounts::insert_user(&tx, user)?;
    }
    for ApiKeyWithHash { key, token_hash } in &snapshot.api_keys {
        keys::insert(&tx, key, *token_hash)?;
    }
    for view in &snapshot.views {
        views::insert(&tx, &view.user_id, &view.view)?;
    }
    match &snapshot.settings {
        Some(settings) => write_settings(&tx, settings)?,
        None => {
            tx.execute("DELETE FROM settings", [])?;
        }
    }
    tx.commit()?;
    Ok(())
}
