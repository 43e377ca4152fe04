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

#[tokio::test]
async fn a_database_url_that_is_not_postgres_stops_the_start_naming_the_setting() {
    let dirs = tempfile::tempdir().expect("directory");
    let mut config = witness_server::config::ServeConfig::new(
        std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        dirs.path().join("data"),
        dirs.path().join("dist"),
    );
    config.data.database_url = Some("mysql://user:secret-password@db/witness".to_string());
    let error = match witness_server::startup::Application::build(config).await {
        Ok(_) => panic!("a server started on a database URL it cannot use"),
        Err(error) => format!("{error:#}"),
    };
    assert!(error.contains("WITNESS_DATABASE_URL"), "{error}");
    assert!(
        !error.contains("secret-password"),
        "the password is not repeated: {error}"
    );
    // Nothing was made in the data directory's place of a store.
    assert!(!dirs.path().join("data").join("witness.db").exists());
}
