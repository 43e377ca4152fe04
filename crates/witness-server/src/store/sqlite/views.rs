//! Users' saved views. Writes run on the writer thread, so a name is checked and taken at
//! once.

use rusqlite::{Connection, OptionalExtension, Row, params};
use witness_api::SavedView;

use super::row::{from_micros, micros};
use crate::store::{OwnedView, StoreError, StoreResult, view_name_taken, view_not_found};

const VIEW_COLUMNS: &str = "id, name, query, created_at, user_id";

fn read_view(row: &Row<'_>) -> rusqlite::Result<OwnedView> {
    Ok(OwnedView {
        view: SavedView {
            id: row.get(0)?,
            name: row.get(1)?,
            query: row.get(2)?,
            created_at: from_micros(row.get(3)?),
        },
        user_id: row.get(4)?,
    })
}

pub fn list(conn: &Connection, user_id: &str) -> StoreResult<Vec<SavedView>> {
    let views = conn
        .prepare_cached(&format!(
            "SELECT {VIEW_COLUMNS} FROM saved_views WHERE user_id = ?1 ORDER BY name, id"
        ))?
        .query_map(params![user_id], read_view)?
        .map(|view| view.map(|owned| owned.view))
        .collect::<Result<_, _>>()?;
    Ok(views)
}

/// Every user's views, for a backup.
pub fn list_all(conn: &Connection) -> StoreResult<Vec<OwnedView>> {
    let views = conn
        .prepare(&format!(
            "SELECT {VIEW_COLUMNS} FROM saved_views ORDER BY user_id, name, id"
        ))?
        .query_map([], read_view)?
        .collect::<Result<_, _>>()?;
    Ok(views)
}

pub fn insert(conn: &Connection, user_id: &str, view: &SavedView) -> StoreResult<()> {
    let taken = conn
        .query_row(
            "SELECT 1 FROM saved_views WHERE user_id = ?1 AND name = ?2",
            params![user_id, view.name],
            |_| Ok(()),
        )
        .optional()?
        .is_some();
    if taken {
        return Err(view_name_taken(&view.name));
    }
    let user_exists = conn
        .query_row(
            "SELECT 1 FROM users WHERE id = ?1",
            params![user_id],
            |_| Ok(()),
        )
        .optional()?
        .is_some();
    if !user_exists {
        return Err(StoreError::NotFound(format!(
            "There is no user with id `{user_id}`."
        )));
    }
    conn.execute(
        "INSERT INTO saved_views (id, user_id, name, query, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            view.id,
            user_id,
            view.name,
            view.query,
            micros(view.created_at)
        ],
    )?;
    Ok(())
}

pub fn delete(conn: &Connection, user_id: &str, id: &str) -> StoreResult<SavedView> {
    let view = conn
        .query_row(
            &format!("SELECT {VIEW_COLUMNS} FROM saved_views WHERE id = ?1 AND user_id = ?2"),
            params![id, user_id],
            read_view,
        )
        .optional()?
        .ok_or_else(|| view_not_found(id))?;
    conn.execute(
        "DELETE FROM saved_views WHERE id = ?1 AND user_id = ?2",
        params![id, user_id],
    )?;
    Ok(view.view)
}

#[cfg(test)]
mod tests {
    use witness_api::Role;

    use crate::store::{SqliteStore, Store, UserRecord};

    fn view(name: &str) -> witness_api::SavedView {
        witness_api::SavedView {
            id: format!("view-{name}"),
            name: name.to_string(),
            query: "actor=alice".to_string(),
            created_at: chrono::DateTime::from_timestamp(1_800_000_000, 0).expect("time"),
        }
    }

    /// A store from before views has no `saved_views` table: opening it adds one, and what
    /// else it held is still there.
    #[tokio::test]
    async fn a_store_from_before_views_gets_them_on_open() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("witness.db");
        let store = SqliteStore::open(&path).expect("open");
        let user = witness_api::User {
            id: "user-1".into(),
            username: "zoe".into(),
            display_name: None,
            email: None,
            role: Role::Admin,
            created_at: chrono::Utc::now(),
        };
        store
            .create_user(UserRecord {
                user,
                password_hash: "$argon2id$x".into(),
            })
            .await
            .expect("user");
        drop(store);
        rusqlite::Connection::open(&path)
            .expect("raw")
            .execute_batch("DROP TABLE saved_views")
            .expect("as before views");

        let store = SqliteStore::open(&path).expect("reopen");
        assert_eq!(store.count_users().await.expect("count"), 1);
        store
            .create_view("user-1", view("mine"))
            .await
            .expect("view");
        assert!(matches!(
            store.create_view("user-1", view("mine")).await,
            Err(crate::store::StoreError::Conflict(_))
        ));
        assert_eq!(
            store.list_views("user-1").await.expect("list"),
            vec![view("mine")]
        );
        assert!(matches!(
            store.delete_view("user-2", "view-mine").await,
            Err(crate::store::StoreError::NotFound(_))
        ));
        store
            .delete_view("user-1", "view-mine")
            .await
            .expect("delete");
        assert!(store.list_views("user-1").await.expect("list").is_empty());
    }
}
