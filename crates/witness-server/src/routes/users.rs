//! `GET/POST /api/users`, `PUT/DELETE /api/users/{id}` (admins only, audited).

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Map, Value, json};
use witness_api::{NewUser, User, UserUpdate};

use crate::accounts::{Email, Username, new_user, optional_text};
use crate::auth::Admin;
use crate::details;
use crate::error::AppError;
use crate::passwords::{hash_password_off_thread, password_problem};
use crate::routes::json_body::JsonBody;
use crate::state::AppState;
use crate::store::{UserChanges, UserRecord};

pub async fn list(
    State(state): State<AppState>,
    Admin(caller): Admin,
) -> Result<Json<Vec<User>>, AppError> {
    let store = state.store();
    let users = state
        .auditor()
        .audited(&caller.context, "user.listed", details! {}, async {
            Ok(store.list_users().await?)
        })
        .await?;
    Ok(Json(users))
}

pub async fn create(
    State(state): State<AppState>,
    Admin(caller): Admin,
    JsonBody(new): JsonBody<NewUser>,
) -> Result<(StatusCode, Json<User>), AppError> {
    let mut problems = BTreeMap::new();
    let username = Username::parse(&new.username)
        .map_err(|problem| problems.insert("username".to_string(), problem))
        .ok();
    if let Some(problem) = password_problem(&new.password) {
        problems.insert("password".to_string(), problem);
    }
    let email = Email::parse_optional(new.email.as_deref())
        .map_err(|problem| problems.insert("email".to_string(), problem))
        .ok();
    let (Some(username), Some(email)) = (username, email) else {
        return Err(AppError::Validation(problems));
    };
    if !problems.is_empty() {
        return Err(AppError::Validation(problems));
    }
    let user = new_user(username, new.display_name, email, new.role);
    let operation = state
        .auditor()
        .begin(&caller.context, "user.created", user_details(&user))
        .await?;
    let outcome: Result<_, AppError> = async {
        let password_hash = hash_password_off_thread(new.password.clone()).await?;
        state
            .store()
            .create_user(UserRecord {
                user: user.clone(),
                password_hash,
            })
            .await?;
        Ok(user)
    }
    .await;
    let user = operation
        .finish_with(outcome, |user| details! {"user_id" => user.id})
        .await?;
    Ok((StatusCode::CREATED, Json(user)))
}

fn user_details(user: &User) -> Map<String, Value> {
    details! {
        "username" => user.username,
        "role" => user.role.as_str(),
        "display_name" => user.display_name,
        "email" => user.email,
    }
}

pub async fn update(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<String>,
    JsonBody(update): JsonBody<UserUpdate>,
) -> Result<Json<User>, AppError> {
    let mut problems = BTreeMap::new();
    if let Some(problem) = update.password.as_deref().and_then(password_problem) {
        problems.insert("password".to_string(), problem);
    }
    // Present and blank clears the address; absent leaves it.
    let email = match update
        .email
        .as_deref()
        .map(|email| Email::parse_optional(Some(email)))
    {
        Some(Ok(email)) => Some(email.map(Email::into_string)),
        Some(Err(problem)) => {
            problems.insert("email".to_string(), problem);
            None
        }
        None => None,
    };
    if !problems.is_empty() {
        return Err(AppError::Validation(problems));
    }
    let requested = details! {
        "user_id" => id,
        "role" => update.role.map(|r| r.as_str()),
        "password" => update.password.as_ref().map(|_| "changed"),
    };
    let operation = state
        .auditor()
        .begin(&caller.context, "user.changed", requested)
        .await?;
    let outcome: Result<_, AppError> = async {
        let password_hash = match &update.password {
            Some(password) => Some(hash_password_off_thread(password.clone()).await?),
            None => None,
        };
        let changes = UserChanges {
            role: update.role,
            password_hash,
            display_name: update.display_name.map(|name| optional_text(Some(name))),
            email,
        };
        Ok(state.store().update_user(&id, changes).await?)
    }
    .await;
    let password_changed = update.password.is_some();
    let (_, after) = operation
        .finish_with(outcome, |(before, after)| {
            let mut changes = Map::new();
            for (field, old, new) in [
                (
                    "role",
                    json!(before.role.as_str()),
                    json!(after.role.as_str()),
                ),
                (
                    "display_name",
                    json!(before.display_name),
                    json!(after.display_name),
                ),
                ("email", json!(before.email), json!(after.email)),
            ] {
                if old != new {
                    changes.insert(field.to_string(), json!({"old": old, "new": new}));
                }
            }
            if password_changed {
                // Never the password itself, nor its hash.
                changes.insert(
                    "password".to_string(),
                    json!({"old": "(hidden)", "new": "(changed)"}),
                );
            }
            changes
        })
        .await?;
    Ok(Json(after))
}

pub async fn remove(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    let operation = state
        .auditor()
        .begin(&caller.context, "user.removed", details! {"user_id" => id})
        .await?;
    let outcome = state.store().delete_user(&id).await.map_err(AppError::from);
    operation.finish_with(outcome, user_details).await?;
    Ok(StatusCode::NO_CONTENT)
}
