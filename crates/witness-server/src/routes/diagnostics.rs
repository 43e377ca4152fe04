use axum::Json;
use axum::extract::State;
use witness_api::Diagnostics;

use crate::state::AppState;

pub async fn get_diagnostics(State(state): State<AppState>) -> Json<Diagnostics> {
    Json(Diagnostics {
        version: env!("CARGO_PKG_VERSION").to_string(),
        started_at: state.started_at(),
        uptime_seconds: state.uptime_seconds(),
        data_dir: state.data_dir().display().to_string(),
    })
}
