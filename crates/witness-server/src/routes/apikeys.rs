//! `GET/POST /api/apikeys`, `DELETE /api/apikeys/{id}` (admins only, audited).

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use witness_api::{ApiKey, CreatedApiKey, NewApiKey};

use crate::apikeys::{generate_token, hash_token, token_prefix};
use crate::auth::Admin;
use crate::details;
use crate::error::AppError;
use crate::routes::json_body::JsonBody;
use crate::state::AppState;
use crate::store::ApiKeyRecord;

pub fn to_wire(record: ApiKeyRecord) -> ApiKey {
    ApiKey {
        id: record.id,
        title: record.title,
        permissions: record.permissions,
        token_prefix: record.token_prefix,
        created_at: record.created_at,
        revoked_at: record.revoked_at,
    }
}

pub async fn list(
    State(state): State<AppState>,
    Admin(caller): Admin,
) -> Result<Json<Vec<ApiKey>>, AppError> {
    let store = state.store();
    let keys = state
        .auditor()
        .audited(
            &caller.context,
            "apikey.listed",
            crate::details! {},
            async { Ok(store.list_api_keys().await?) },
        )
        .await?;
    Ok(Json(keys.into_iter().map(to_wire).collect()))
}

pub async fn create(
    State(state): State<AppState>,
    Admin(caller): Admin,
    JsonBody(new): JsonBody<NewApiKey>,
) -> Result<(StatusCode, Json<CreatedApiKey>), AppError> {
    let title = new.title.trim().to_string();
    let mut permissions = new.permissions.clone();
    permissions.sort_by_key(|p| p.as_str());
    permissions.dedup();
    let mut problems = BTreeMap::new();
    if title.is_empty() {
        problems.insert("title".to_string(), "is required".to_string());
    } else if title.chars().count() > 200 {
        problems.insert(
            "title".to_string(),
            "must be at most 200 characters".to_string(),
        );
    }
    if permissions.is_empty() {
        problems.insert(
            "permissions".to_string(),
            "give at least one of ingest, read".to_string(),
        );
    }
    if !problems.is_empty() {
        return Err(AppError::Validation(problems));
    }
    let permission_names: Vec<&str> = permissions.iter().map(|p| p.as_str()).collect();
    let operation = state
        .auditor()
        .begin(
            &caller.context,
            "apikey.created",
            details! {"title" => title, "permissions" => permission_names},
        )
        .await?;
    let token = generate_token();
    let outcome = state
        .store()
        .create_api_key(
            &title,
            &permissions,
            hash_token(&token),
            &token_prefix(&token),
        )
        .await
        .map_err(AppError::from);
    let record = operation
        .finish_with(outcome, |key| details! {"key_id" => key.id})
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedApiKey {
            key: to_wire(record),
            token,
        }),
    ))
}

pub async fn revoke(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    let operation = state
        .auditor()
        .begin(&caller.context, "apikey.revoked", details! {"key_id" => id})
        .await?;
    let outcome = match state.store().revoke_api_key(&id).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(AppError::NotFound(format!(
            "There is no API key with id `{id}`."
        ))),
        Err(error) => Err(error.into()),
    };
    operation.finish_with(outcome, |_| details! {}).await?;
    Ok(StatusCode::NO_CONTENT)
}
