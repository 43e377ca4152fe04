//! Users, sessions, API keys, saved views and settings in PostgreSQL: the same rules as
//! SQLite's.

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use tokio_postgres::Row;
use witness_api::{Role, SavedView, Settings, User};

use super::{pg_error, to_hash};
use crate::store::event_row::{from_micros, micros};
use crate::store::{
    ApiKeyRecord, ApiKeyWithHash, ConfigSnapshot, OwnedView, Permission, SessionRecord, StoreError,
    StoreResult, UserChanges, UserRecord, view_name_taken, view_not_found,
};

pub const USER_COLUMNS: &str = "id, username, display_name, email, role, password_hash, created_at";
pub const API_KEY_COLUMNS: &str = "id, title, permissions, token_prefix, created_at, revoked_at";

/// PostgreSQL text cannot hold NUL: such a value is refused by name instead of failing in
/// the database.
pub fn refuse_nul(parameter: &str, value: Option<&str>) -> StoreResult<()> {
    if value.is_some_and(|value| value.contains('\0')) {
        return Err(StoreError::Invalid {
            parameter: parameter.to_string(),
            message: "must not contain a NUL character (U+0000)".to_string(),
        });
    }
    Ok(())
}

pub fn read_user(row: &Row) -> UserRecord {
    let role: String = row.get(4);
    UserRecord {
        user: User {
            id: row.get(0),
            username: row.get(1),
            display_name: row.get(2),
            email: row.get(3),
            role: Role::parse(&role).unwrap_or(Role::Auditor),
            created_at: from_micros(row.get(6)),
        },
        password_hash: row.get(5),
    }
}

pub fn read_api_key(row: &Row) -> ApiKeyRecord {
    let permissions: String = row.get(2);
    ApiKeyRecord {
        id: row.get(0),
        title: row.get(1),
        permissions: permissions
            .split(',')
            .filter_map(Permission::parse)
            .collect(),
        token_prefix: row.get(3),
        created_at: from_micros(row.get(4)),
        revoked_at: row.get::<_, Option<i64>>(5).map(from_micros),
    }
}

pub async fn insert_user(client: &impl GenericClient, record: &UserRecord) -> StoreResult<()> {
    let user = &record.user;
    refuse_nul("username", Some(&user.username))?;
    refuse_nul("display_name", user.display_name.as_deref())?;
    refuse_nul("email", user.email.as_deref())?;
    let inserted = client
        .execute(
            "INSERT INTO users (id, username, display_name, email, role, password_hash, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (username) DO NOTHING",
            &[
                &user.id,
                &user.username,
                &user.display_name,
                &user.email,
                &user.role.as_str(),
                &record.password_hash,
                &micros(user.created_at),
            ],
        )
        .await
        .map_err(pg_error)?;
    if inserted == 0 {
        return Err(StoreError::Conflict(format!(
            "The username `{}` is already taken.",
            user.username
        )));
    }
    Ok(())
}

pub async fn list_users(client: &impl GenericClient) -> StoreResult<Vec<UserRecord>> {
    let rows = client
        .query(
            &format!("SELECT {USER_COLUMNS} FROM users ORDER BY username"),
            &[],
        )
        .await
        .map_err(pg_error)?;
    Ok(rows.iter().map(read_user).collect())
}

pub async fn user_where(
    client: &impl GenericClient,
    column: &str,
    value: &str,
) -> StoreResult<Option<UserRecord>> {
    if value.contains('\0') {
        return Ok(None);
    }
    let row = client
        .query_opt(
            &format!("SELECT {USER_COLUMNS} FROM users WHERE {column} = $1"),
            &[&value],
        )
        .await
        .map_err(pg_error)?;
    Ok(row.as_ref().map(read_user))
}

async fn other_admins(client: &impl GenericClient, id: &str) -> StoreResult<i64> {
    Ok(client
        .query_one(
            "SELECT count(*) FROM users WHERE role = 'admin' AND id <> $1",
            &[&id],
        )
        .await
        .map_err(pg_error)?
        .get(0))
}

fn not_found(id: &str) -> StoreError {
    StoreError::NotFound(format!("There is no user with id `{id}`."))
}

/// Changes to users are serialised (across servers too), so that two admins demoted at once
/// cannot leave none.
async fn lock_users(client: &impl GenericClient) -> StoreResult<()> {
    client
        .batch_execute("LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE")
        .await
        .map_err(pg_error)
}

/// In a transaction.
pub async fn update_user(
    client: &impl GenericClient,
    id: &str,
    changes: UserChanges,
) -> StoreResult<(User, User)> {
    lock_users(client).await?;
    let before = user_where(client, "id", id)
        .await?
        .ok_or_else(|| not_found(id))?;
    refuse_nul(
        "display_name",
        changes
            .display_name
            .as_ref()
            .and_then(|name| name.as_deref()),
    )?;
    refuse_nul(
        "email",
        changes.email.as_ref().and_then(|email| email.as_deref()),
    )?;
    let after = crate::store::changed_user(&before, &changes, other_admins(client, id).await?)?;
    if changes.password_hash.is_some() {
        client
            .execute("DELETE FROM sessions WHERE user_id = $1", &[&id])
            .await
            .map_err(pg_error)?;
    }
    client
        .execute(
            "UPDATE users SET role = $2, display_name = $3, email = $4, password_hash = $5 \
             WHERE id = $1",
            &[
                &id,
                &after.user.role.as_str(),
                &after.user.display_name,
                &after.user.email,
                &after.password_hash,
            ],
        )
        .await
        .map_err(pg_error)?;
    Ok((before.user, after.user))
}

/// In a transaction.
pub async fn delete_user(client: &impl GenericClient, id: &str) -> StoreResult<User> {
    lock_users(client).await?;
    let user = user_where(client, "id", id)
        .await?
        .ok_or_else(|| not_found(id))?;
    crate::store::check_removal(&user, other_admins(client, id).await?)?;
    client
        .execute("DELETE FROM sessions WHERE user_id = $1", &[&id])
        .await
        .map_err(pg_error)?;
    client
        .execute("DELETE FROM users WHERE id = $1", &[&id])
        .await
        .map_err(pg_error)?;
    Ok(user.user)
}

pub async fn insert_session(
    client: &impl GenericClient,
    session: &SessionRecord,
) -> StoreResult<()> {
    client
        .execute(
            "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
            &[
                &session.token_hash.to_vec(),
                &session.user_id,
                &session.csrf_token,
                &micros(session.created_at),
                &micros(session.expires_at),
            ],
        )
        .await
        .map_err(pg_error)?;
    client
        .execute(
            "DELETE FROM sessions WHERE expires_at < $1",
            &[&micros(session.created_at)],
        )
        .await
        .map_err(pg_error)?;
    Ok(())
}

pub async fn find_session(
    client: &impl GenericClient,
    token_hash: [u8; 32],
    now: DateTime<Utc>,
) -> StoreResult<Option<(SessionRecord, UserRecord)>> {
    let row = client
        .query_opt(
            "SELECT user_id, csrf_token, created_at, expires_at FROM sessions \
             WHERE token_hash = $1 AND expires_at > $2",
            &[&token_hash.to_vec(), &micros(now)],
        )
        .await
        .map_err(pg_error)?;
    let Some(row) = row else {
        return Ok(None);
    };
    let session = SessionRecord {
        token_hash,
        user_id: row.get(0),
        csrf_token: row.get(1),
        created_at: from_micros(row.get(2)),
        expires_at: from_micros(row.get(3)),
    };
    Ok(user_where(client, "id", &session.user_id)
        .await?
        .map(|user| (session, user)))
}

pub async fn insert_api_key(
    client: &impl GenericClient,
    key: &ApiKeyRecord,
    token_hash: [u8; 32],
) -> StoreResult<()> {
    refuse_nul("title", Some(&key.title))?;
    let permissions: Vec<&str> = key.permissions.iter().map(|p| p.as_str()).collect();
    client
        .execute(
            "INSERT INTO api_keys (id, title, permissions, token_hash, token_prefix, \
             created_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[
                &key.id,
                &key.title,
                &permissions.join(","),
                &token_hash.to_vec(),
                &key.token_prefix,
                &micros(key.created_at),
                &key.revoked_at.map(micros),
            ],
        )
        .await
        .map_err(pg_error)?;
    Ok(())
}

pub async fn list_api_keys(client: &impl GenericClient) -> StoreResult<Vec<ApiKeyWithHash>> {
    let rows = client
        .query(
            &format!("SELECT {API_KEY_COLUMNS}, token_hash FROM api_keys ORDER BY created_at, id"),
            &[],
        )
        .await
        .map_err(pg_error)?;
    rows.iter()
        .map(|row| {
            Ok(ApiKeyWithHash {
                key: read_api_key(row),
                token_hash: to_hash(row.get(6))?,
            })
        })
        .collect()
}

pub async fn read_settings(client: &impl GenericClient) -> StoreResult<Option<Settings>> {
    let row = client
        .query_opt(
            "SELECT backup_utc_time_of_day, backups_to_keep, retention_days FROM settings \
             WHERE id = 1",
            &[],
        )
        .await
        .map_err(pg_error)?;
    row.map(|row| {
        let number = |value: i64, what: &str| {
            u32::try_from(value).map_err(|_| {
                StoreError::Backend(format!(
                    "the stored setting {what} ({value}) is out of range"
                ))
            })
        };
        Ok(Settings {
            backup_utc_time_of_day: row.get(0),
            backups_to_keep: number(row.get(1), "backups_to_keep")?,
            retention_days: number(row.get(2), "retention_days")?,
        })
    })
    .transpose()
}

pub async fn write_settings(client: &impl GenericClient, settings: &Settings) -> StoreResult<()> {
    client
        .execute(
            "INSERT INTO settings (id, backup_utc_time_of_day, backups_to_keep, retention_days) \
             VALUES (1, $1, $2, $3) ON CONFLICT (id) DO UPDATE SET \
             backup_utc_time_of_day = excluded.backup_utc_time_of_day, \
             backups_to_keep = excluded.backups_to_keep, retention_days = excluded.retention_days",
            &[
                &settings.backup_utc_time_of_day,
                &i64::from(settings.backups_to_keep),
                &i64::from(settings.retention_days),
            ],
        )
        .await
        .map_err(pg_error)?;
    Ok(())
}

const VIEW_COLUMNS: &str = "id, name, query, created_at, user_id";

fn read_view(row: &Row) -> OwnedView {
    OwnedView {
        view: SavedView {
            id: row.get(0),
            name: row.get(1),
            query: row.get(2),
            created_at: from_micros(row.get(3)),
        },
        user_id: row.get(4),
    }
}

pub async fn list_views(client: &impl GenericClient, user_id: &str) -> StoreResult<Vec<SavedView>> {
    if user_id.contains('\0') {
        return Ok(Vec::new());
    }
    let rows = client
        .query(
            &format!("SELECT {VIEW_COLUMNS} FROM saved_views WHERE user_id = $1 ORDER BY name, id"),
            &[&user_id],
        )
        .await
        .map_err(pg_error)?;
    Ok(rows.iter().map(|row| read_view(row).view).collect())
}

/// Every user's views, for a backup.
pub async fn list_all_views(client: &impl GenericClient) -> StoreResult<Vec<OwnedView>> {
    let rows = client
        .query(
            &format!("SELECT {VIEW_COLUMNS} FROM saved_views ORDER BY user_id, name, id"),
            &[],
        )
        .await
        .map_err(pg_error)?;
    Ok(rows.iter().map(read_view).collect())
}

pub async fn insert_view(
    client: &impl GenericClient,
    user_id: &str,
    view: &SavedView,
) -> StoreResult<()> {
    refuse_nul("name", Some(&view.name))?;
    refuse_nul("query", Some(&view.query))?;
    if user_where(client, "id", user_id).await?.is_none() {
        return Err(StoreError::NotFound(format!(
            "There is no user with id `{user_id}`."
        )));
    }
    let inserted = client
        .execute(
            "INSERT INTO saved_views (id, user_id, name, query, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (user_id, name) DO NOTHING",
            &[
                &view.id,
                &user_id,
                &view.name,
                &view.query,
                &micros(view.created_at),
            ],
        )
        .await
        .map_err(pg_error)?;
    if inserted == 0 {
        return Err(view_name_taken(&view.name));
    }
    Ok(())
}

pub async fn delete_view(
    client: &impl GenericClient,
    user_id: &str,
    id: &str,
) -> StoreResult<SavedView> {
    if id.contains('\0') || user_id.contains('\0') {
        return Err(view_not_found(id));
    }
    let row = client
        .query_opt(
            &format!(
                "DELETE FROM saved_views WHERE id = $1 AND user_id = $2 RETURNING {VIEW_COLUMNS}"
            ),
            &[&id, &user_id],
        )
        .await
        .map_err(pg_error)?;
    row.map(|row| read_view(&row).view)
        .ok_or_else(|| view_not_found(id))
}

/// In a repeatable-read transaction: one moment.
pub async fn export(client: &impl GenericClient) -> StoreResult<ConfigSnapshot> {
    Ok(ConfigSnapshot {
        users: list_users(client).await?,
        api_keys: list_api_keys(client).await?,
        settings: read_settings(client).await?,
        views: list_all_views(client).await?,
    })
}

/// In a transaction: all or nothing.
pub async fn import(client: &impl GenericClient, snapshot: &ConfigSnapshot) -> StoreResult<()> {
    lock_users(client).await?;
    client
        .batch_execute(
            "DELETE FROM sessions; DELETE FROM saved_views; DELETE FROM users; \
             DELETE FROM api_keys;",
        )
        .await
        .map_err(pg_error)?;
    for user in &snapshot.users {
        insert_user(client, user).await?;
    }
    for ApiKeyWithHash { key, token_hash } in &snapshot.api_keys {
        insert_api_key(client, key, *token_hash).await?;
    }
    for OwnedView { user_id, view } in &snapshot.views {
        insert_view(client, user_id, view).await?;
    }
    match &snapshot.settings {
        Some(settings) => write_settings(client, settings).await?,
        None => {
            client
                .execute("DELETE FROM settings", &[])
                .await
                .map_err(pg_error)?;
        }
    }
    Ok(())
}
