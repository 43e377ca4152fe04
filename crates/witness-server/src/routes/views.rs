//! `GET/POST /api/views`, `DELETE /api/views/{id}`: each logged-in user's saved views of the
//! Audit logs tab (their own only; creating and deleting are audited).

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use witness_api::{NewSavedView, SavedView};

use crate::auth::Person;
use crate::details;
use crate::error::AppError;
use crate::routes::json_body::JsonBody;
use crate::state::AppState;
use crate::views::{ViewName, ViewQuery, new_view};

pub async fn list(
    State(state): State<AppState>,
    Person(_, user): Person,
) -> Result<Json<Vec<SavedView>>, AppError> {
    Ok(Json(state.store().list_views(&user.id).await?))
}

pub async fn create(
    State(state): State<AppState>,
    Person(caller, user): Person,
    JsonBody(new): JsonBody<NewSavedView>,
) -> Result<(StatusCode, Json<SavedView>), AppError> {
    let mut problems = BTreeMap::new();
    let name = ViewName::parse(&new.name)
        .map_err(|problem| problems.insert("name".to_string(), problem))
        .ok();
    let query = ViewQuery::parse(&new.query)
        .map_err(|problem| problems.insert("query".to_string(), problem))
        .ok();
    let (Some(name), Some(query)) = (name, query) else {
        return Err(AppError::Validation(problems));
    };
    let view = new_view(name, query);
    let operation = state
        .auditor()
        .begin(
            &caller.context,
            "view.created",
            details! {"name" => view.name, "query" => view.query},
        )
        .await?;
    let outcome = state
        .store()
        .create_view(&user.id, view.clone())
        .await
        .map(|()| view)
        .map_err(AppError::from);
    let view = operation
        .finish_with(outcome, |view| details! {"view_id" => view.id})
        .await?;
    Ok((StatusCode::CREATED, Json(view)))
}

pub async fn remove(
    State(state): State<AppState>,
    Person(caller, user): Person,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    let operation = state
        .auditor()
        .begin(&caller.context, "view.removed", details! {"view_id" => id})
        .await?;
    let outcome = state
        .store()
        .delete_view(&user.id, &id)
        .await
        .map_err(AppError::from);
    operation
        .finish_with(outcome, |view| {
            details! {"name" => view.name, "query" => view.query}
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
