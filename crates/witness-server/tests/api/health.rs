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

#[tokio::test]
async fn the_openapi_document_is_served_to_anyone_and_lists_every_route() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200);
    let document: serde_json::Value = response.json().await.expect("JSON body");
    assert_eq!(document["openapi"], "3.1.0");
    for route in witness_server::routes::table::ROUTES {
        assert!(
            document["paths"][route.path][route.method.openapi_name()].is_object(),
            "{} is not in the document",
            route.label()
        );
    }
}
