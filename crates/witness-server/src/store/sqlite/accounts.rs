//! Users and sessions in SQLite. Writes run on the writer thread, so the last-admin rule is
//! checked and applied atomically.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row, params};
use witness_api::{Role, User};

use super::row::{from_micros, micros};
use crate::store::{SessionRecord, StoreError, StoreResult, UserChanges, UserRecord};

pub const USER_COLUMNS: &str = "id, username, display_name, email, role, password_hash, created_at";

pub fn read_user(row: &Row<'_>) -> rusqlite::Result<UserRecord> {
    let role: String = row.get(4)?;
    Ok(UserRecord {
        user: User {
            id: row.get(0)?,
            username: row.get(1)?,
            display_name: row.get(2)?,
            email: row.get(3)?,
            role: Role::parse(&role).unwrap_or(Role::Auditor),
            created_at: from_micros(row.get(6)?),
        },
        password_hash: row.get(5)?,
    })
}

pub fn insert_user(conn: &Connection, record: &UserRecord) -> StoreResult<()> {
    let user = &record.user;
    let taken = conn
        .query_row(
            "SELECT 1 FROM users WHERE username = ?1",
            params![user.username],
            |_| Ok(()),
        )
        .optional()?
        .is_some();
    if taken {
        return Err(StoreError::Conflict(format!(
            "The username `{}` is already taken.",
            user.username
        )));
    }
    conn.execute(
        "INSERT INTO users (id, username, display_name, email, role, password_hash, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            user.id,
            user.username,
            user.display_name,
            user.email,
            user.role.as_str(),
            record.password_hash,
            micros(user.created_at)
        ],
    )?;
    Ok(())
}

pub fn get_user(conn: &Connection, id: &str) -> StoreResult<Option<UserRecord>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?1"))?
        .query_row(params![id], read_user)
        .optional()?)
}

fn other_admins(conn: &Connection, id: &str) -> StoreResult<i64> {
    Ok(conn.query_row(
        "SELECT COUNT(*) FROM users WHERE role = 'admin' AND id != ?1",
        params![id],
        |row| row.get(0),
    )?)
}

fn not_found(id: &str) -> StoreError {
    StoreError::NotFound(format!("There is no user with id `{id}`."))
}

pub fn update_user(
    conn: &mut Connection,
    id: &str,
    changes: UserChanges,
) -> StoreResult<(User, User)> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let before = get_user(&tx, id)?.ok_or_else(|| not_found(id))?;
    let after = crate::store::changed_user(&before, &changes, other_admins(&tx, id)?)?;
    if changes.password_hash.is_some() {
        tx.execute("DELETE FROM sessions WHERE user_id = ?1", params![id])?;
    }
    tx.execute(
        "UPDATE users SET role = ?2, display_name = ?3, email = ?4, password_hash = ?5 \
         WHERE id = ?1",
        params![
            id,
            after.user.role.as_str(),
            after.user.display_name,
            after.user.email,
            after.password_hash
        ],
    )?;
    tx.commit()?;
    Ok((before.user, after.user))
}

pub fn delete_user(conn: &mut Connection, id: &str) -> StoreResult<User> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let user = get_user(&tx, id)?.ok_or_else(|| not_found(id))?;
    crate::store::check_removal(&user, other_admins(&tx, id)?)?;
    tx.execute("DELETE FROM sessions WHERE user_id = ?1", params![id])?;
    tx.execute("DELETE FROM users WHERE id = ?1", params![id])?;
    tx.commit()?;
    Ok(user.user)
}

pub fn insert_session(conn: &Connection, session: &SessionRecord) -> StoreResult<()> {
    conn.execute(
        "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            session.token_hash.to_vec(),
            session.user_id,
            session.csrf_token,
            micros(session.created_at),
            micros(session.expires_at)
        ],
    )?;
    // Expired sessions are of no use to anyone: sweep them while we are writing anyway.
    conn.execute(
        "DELETE FROM sessions WHERE expires_at < ?1",
        params![micros(session.created_at)],
    )?;
    Ok(())
}

pub fn find_session(
    conn: &Connection,
    token_hash: [u8; 32],
    now: DateTime<Utc>,
) -> StoreResult<Option<(SessionRecord, UserRecord)>> {
    let found = conn
        .prepare_cached(
            "SELECT user_id, csrf_token, created_at, expires_at FROM sessions \
             WHERE token_hash = ?1 AND expires_at > ?2",
        )?
        .query_row(params![token_hash.to_vec(), micros(now)], |row| {
            Ok(SessionRecord {
                token_hash,
                user_id: row.get(0)?,
                csrf_token: row.get(1)?,
                created_at: from_micros(row.get(2)?),
                expires_at: from_micros(row.get(3)?),
            })
        })
        .optional()?;
    let Some(session) = found else {
        return Ok(None);
    };
    Ok(get_user(conn, &session.user_id)?.map(|user| (session, user)))
}
