//! API keys: stored with the SHA-256 of their token, never the token.

use rusqlite::{Connection, OptionalExtension, params};

use super::row::{from_micros, micros};
use crate::store::{ApiKeyRecord, Permission, StoreResult};

pub fn read_api_key(row: &rusqlite::Row<'_>) -> rusqlite::Result<ApiKeyRecord> {
    let permissions: String = row.get(2)?;
    Ok(ApiKeyRecord {
        id: row.get(0)?,
        title: row.get(1)?,
        permissions: permissions
            .split(',')
            .filter_map(Permission::parse)
            .collect(),
        token_prefix: row.get(3)?,
        created_at: from_micros(row.get(4)?),
        revoked_at: row.get::<_, Option<i64>>(5)?.map(from_micros),
    })
}

pub const API_KEY_COLUMNS: &str = "id, title, permissions, token_prefix, created_at, revoked_at";

/// Stores a key as it is (a new one, or one restored from a backup, revoked or not).
pub fn insert(conn: &Connection, key: &ApiKeyRecord, token_hash: [u8; 32]) -> StoreResult<()> {
    let permissions: Vec<&str> = key.permissions.iter().map(|p| p.as_str()).collect();
    conn.execute(
        "INSERT INTO api_keys (id, title, permissions, token_hash, token_prefix, created_at, \
         revoked_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            key.id,
            key.title,
            permissions.join(","),
            token_hash.to_vec(),
            key.token_prefix,
            micros(key.created_at),
            key.revoked_at.map(micros)
        ],
    )?;
    Ok(())
}

pub fn list(conn: &Connection) -> StoreResult<Vec<ApiKeyRecord>> {
    let mut statement = conn.prepare_cached(&format!(
        "SELECT {API_KEY_COLUMNS} FROM api_keys ORDER BY created_at, id"
    ))?;
    let keys = statement
        .query_map([], read_api_key)?
        .collect::<Result<_, _>>()?;
    Ok(keys)
}

/// Whether the key exists (revoking twice is not an error).
pub fn revoke(conn: &Connection, id: &str, now: i64) -> StoreResult<bool> {
    let exists = conn
        .query_row("SELECT 1 FROM api_keys WHERE id = ?1", params![id], |_| {
            Ok(())
        })
        .optional()?
        .is_some();
    conn.execute(
        "UPDATE api_keys SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
        params![id, now],
    )?;
    Ok(exists)
}

pub fn find(conn: &Connection, token_hash: [u8; 32]) -> StoreResult<Option<ApiKeyRecord>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {API_KEY_COLUMNS} FROM api_keys WHERE token_hash = ?1"
        ))?
        .query_row(params![token_hash.to_vec()], read_api_key)
        .optional()?)
}
