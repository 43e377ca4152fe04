use std::io::Read;

use crate::helpers::{INDEX_HTML, WASM_BYTES, spawn_app, spawn_app_with};

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

/// A stand-in for the built panel's wasm large enough to be worth compressing: the module
/// header, then a custom section of varied but repetitive bytes.
fn large_wasm() -> Vec<u8> {
    let mut bytes = WASM_BYTES.to_vec();
    for i in 0..40_000u32 {
        bytes.extend_from_slice(&(i % 251).to_le_bytes()[..1]);
        bytes.extend_from_slice(b"witness");
    }
    bytes
}

#[tokio::test]
async fn the_wasm_is_sent_precompressed_as_the_client_accepts() {
    let wasm = large_wasm();
    let mut dist = std::path::PathBuf::new();
    let app = spawn_app_with(|config| {
        dist = config.panel_dir.clone();
        std::fs::write(dist.join("witness-panel_bg.wasm"), &wasm).expect("wasm");
    })
    .await;
    // A client that decodes nothing by itself, so that the raw answer is seen.
    let raw = reqwest::Client::builder()
        .no_gzip()
        .build()
        .expect("client");

    for accept in [Some("br"), Some("gzip"), Some("gzip, deflate, br"), None] {
        let mut request = raw.get(app.url("/witness-panel_bg.wasm"));
        if let Some(accept) = accept {
            request = request.header("accept-encoding", accept);
        }
        let response = request.send().await.expect("request");
        assert_eq!(response.status(), 200, "{accept:?}");
        let headers = response.headers().clone();
        assert_eq!(headers["content-type"], "application/wasm", "{accept:?}");
        assert_eq!(headers["vary"], "accept-encoding", "{accept:?}");
        let encoding = headers
            .get("content-encoding")
            .map(|value| value.to_str().expect("ascii").to_string());
        let body = response.bytes().await.expect("body");
        let mut decoded = Vec::new();
        match accept {
            Some("gzip") => {
                assert_eq!(encoding.as_deref(), Some("gzip"));
                flate2::read::GzDecoder::new(body.as_ref())
                    .read_to_end(&mut decoded)
                    .expect("gzip body");
            }
            Some(_) => {
                assert_eq!(encoding.as_deref(), Some("br"), "{accept:?}");
                brotli::Decompressor::new(body.as_ref(), 4096)
                    .read_to_end(&mut decoded)
                    .expect("brotli body");
            }
            None => {
                assert_eq!(encoding, None);
                decoded = body.to_vec();
            }
        }
        assert!(body.len() < wasm.len() || accept.is_none(), "{accept:?}");
        assert_eq!(decoded, wasm, "{accept:?}");
    }
    // Written once, next to the file, at start-up.
    assert!(dist.join("witness-panel_bg.wasm.br").is_file());
    assert!(dist.join("witness-panel_bg.wasm.gz").is_file());
}
