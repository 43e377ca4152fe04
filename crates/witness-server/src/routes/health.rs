use axum::Json;
use witness_api::Health;

pub async fn get_health() -> Json<Health> {
    Json(Health {
        status: "ok".to_string(),
    })
}
