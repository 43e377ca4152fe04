use axum::Json;
use axum::extract::State;
use witness_api::{AuditingStatus, Diagnostics};

use crate::auth::Admin;
use crate::state::AppState;

pub async fn get_diagnostics(State(state): State<AppState>, Admin(_): Admin) -> Json<Diagnostics> {
    Json(Diagnostics {
        version: env!("CARGO_PKG_VERSION").to_string(),
        started_at: state.started_at(),
        uptime_seconds: state.uptime_seconds(),
        data_dir: state.data_dir().display().to_string(),
        auditing: auditing_status(&state),
    })
}

/// Auditing cannot be switched off (there is always at least one target), so it is enabled
/// whenever the server runs; the targets say where records go.
pub fn auditing_status(state: &AppState) -> AuditingStatus {
    let targets = state.auditor().target_names();
    AuditingStatus {
        enabled: !targets.is_empty(),
        summary: if targets.is_empty() {
            "Auditing is disabled".to_string()
        } else {
            "Auditing is enabled".to_string()
        },
        targets,
    }
}
