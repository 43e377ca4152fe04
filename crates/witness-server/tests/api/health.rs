use witness_api::Health;

use crate::helpers::spawn_app;

#[tokio::test]
async fn health_answers_ok() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(app.url("/health"))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200);
    let health: Health = response.json().await.expect("JSON body");
    assert_eq!(health.status, "ok");
}
