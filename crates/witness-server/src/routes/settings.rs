//! `GET/PUT /api/settings`: backup time of day (UTC), backups kept, retention (admins only,
//! changes audited with old and new values).

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use serde_json::{Map, Value, json};
use witness_api::{Settings, SettingsUpdate};

use crate::auth::Admin;
use crate::error::AppError;
use crate::routes::json_body::JsonBody;
use crate::state::AppState;

/// The stored settings (what the scheduler runs on when none are stored yet).
pub async fn get_settings(
    State(state): State<AppState>,
    Admin(caller): Admin,
) -> Result<Json<Settings>, AppError> {
    let settings = state
        .auditor()
        .audited(&caller.context, "settings.viewed", Map::new(), async {
            Ok(state.current_settings().await?)
        })
        .await?;
    Ok(Json(settings))
}

/// Old → new for each field that differs.
fn changes(before: &Settings, after: &Settings) -> Map<String, Value> {
    let mut changes = Map::new();
    for (field, old, new) in [
        (
            "backup_utc_time_of_day",
            json!(before.backup_utc_time_of_day),
            json!(after.backup_utc_time_of_day),
        ),
        (
            "backups_to_keep",
            json!(before.backups_to_keep),
            json!(after.backups_to_keep),
        ),
        (
            "retention_days",
            json!(before.retention_days),
            json!(after.retention_days),
        ),
    ] {
        if old != new {
            changes.insert(field.to_string(), json!({"old": old, "new": new}));
        }
    }
    changes
}

pub async fn put_settings(
    State(state): State<AppState>,
    Admin(caller): Admin,
    JsonBody(update): JsonBody<SettingsUpdate>,
) -> Result<Json<Settings>, AppError> {
    let Some(wanted) = Settings::from_update(&update) else {
        let problems: BTreeMap<String, String> = Settings::problems(&update)
            .into_iter()
            .map(|(field, message)| (field.to_string(), message))
            .collect();
        return Err(AppError::Validation(problems));
    };
    let floor = state.min_retention_days();
    if wanted.retention_days < floor {
        return Err(AppError::field(
            "retention_days",
            format!(
                "must be at least {floor} days: the host's minimum (WITNESS_MIN_RETENTION_DAYS)"
            ),
        ));
    }
    let before = state.current_settings().await?;
    let operation = state
        .auditor()
        .begin(
            &caller.context,
            "settings.changed",
            changes(&before, &wanted),
        )
        .await?;
    let outcome = state
        .store()
        .replace_settings(wanted.clone())
        .await
        .map(|previous| (previous.unwrap_or(before), wanted))
        .map_err(AppError::from);
    let (_, after) = operation
        .finish_with(outcome, |(before, after)| changes(before, after))
        .await?;
    // Re-arms the backup schedule at once.
    state.settings_sender().send_replace(after.clone());
    Ok(Json(after))
}
