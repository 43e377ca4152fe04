use crate::helpers::{INDEX_HTML, WASM_BYTES, spawn_app};

#[tokio::test]
async fn client_routes_fall_back_to_the_panel_index() {
    let app = spawn_app().await;
    for path in ["/", "/audit", "/diagnostics", "/audit/some-event-id"] {
        let response = app.client.get(app.url(path)).send().await.expect("request");
        assert_eq!(response.status(), 200, "{path}");
        let content_type = response.headers()["content-type"]
            .to_str()
            .unwrap_or_default()
            .to_string();
        assert!(
            content_type.starts_with("text/html"),
            "{path}: {content_type}"
        );
        assert_eq!(response.text().await.expect("body"), INDEX_HTML, "{path}");
    }
}

#[tokio::test]
async fn wasm_is_served_as_application_wasm() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(app.url("/witness-panel_bg.wasm"))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/wasm");
    assert_eq!(response.bytes().await.expect("body").as_ref(), WASM_BYTES);
}

#[tokio::test]
async fn responses_are_compressed_when_the_client_accepts_gzip() {
    let app = spawn_app().await;
    // reqwest with the gzip feature sends Accept-Encoding and decodes transparently; ask by hand
    // to see the raw header.
    let raw = reqwest::Client::builder()
        .no_gzip()
        .build()
        .expect("client");
    let response = raw
        .get(app.url("/witness-panel.js"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-encoding"], "gzip");
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap_or_default()
        .to_string();
    assert!(content_type.contains("javascript"), "{content_type}");
}

#[tokio::test]
async fn every_response_carries_security_headers() {
    let app = spawn_app().await;
    for path in ["/health", "/api/diagnostics", "/audit"] {
        let response = app.client.get(app.url(path)).send().await.expect("request");
        assert_eq!(
            response.headers()["x-content-type-options"],
            "nosniff",
            "{path}"
        );
        assert_eq!(response.headers()["x-frame-options"], "DENY", "{path}");
    }
}
