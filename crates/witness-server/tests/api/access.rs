//! One test per row of the README's route table: who may call what.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{TestApp, spawn_app};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Who {
    Anyone,
    IngestKey,
    Reader,
    Admin,
    SessionUser,
}

/// The route table: method, path, who may call it.
const ROUTES: &[(&str, &str, Who)] = &[
    ("GET", "/health", Who::Anyone),
    ("POST", "/api/auth/login", Who::Anyone),
    ("POST", "/ingest/clef", Who::IngestKey),
    ("POST", "/api/events/raw?clef", Who::IngestKey),
    ("GET", "/api/auth/me", Who::SessionUser),
    ("GET", "/api/audit/events", Who::Reader),
    ("GET", "/api/audit/events/0000000000000001", Who::Reader),
    ("GET", "/api/audit/histogram", Who::Reader),
    ("GET", "/api/audit/export?format=csv", Who::Reader),
    ("GET", "/api/audit/verify", Who::Reader),
    ("GET", "/api/audit/stream", Who::Reader),
    ("GET", "/api/diagnostics", Who::Admin),
    ("GET", "/api/diagnostics/report", Who::Admin),
    ("GET", "/api/settings", Who::Admin),
    ("PUT", "/api/settings", Who::Admin),
    ("GET", "/api/backups", Who::Admin),
    ("POST", "/api/backups", Who::Admin),
    ("GET", "/api/backups/20260101T000000Z/download", Who::Admin),
    ("GET", "/api/apikeys", Who::Admin),
    ("POST", "/api/apikeys", Who::Admin),
    ("DELETE", "/api/apikeys/key-x", Who::Admin),
    ("GET", "/api/users", Who::Admin),
    ("POST", "/api/users", Who::Admin),
    ("PUT", "/api/users/user-x", Who::Admin),
    ("DELETE", "/api/users/user-x", Who::Admin),
    ("PUT", "/api/auth/password", Who::SessionUser),
    // Last: it ends the auditor's session.
    ("POST", "/api/auth/logout", Who::SessionUser),
];

async fn anonymous(app: &TestApp, method: &str, path: &str) -> u16 {
    let method = Method::from_bytes(method.as_bytes()).expect("method");
    app.client
        .request(method, app.url(path))
        .json(&json!({}))
        .send()
        .await
        .expect("request")
        .status()
        .as_u16()
}

#[tokio::test]
async fn every_route_refuses_whoever_may_not_call_it() {
    let app = spawn_app().await;
    let auditor = app.user_with_role("audrey", "auditor").await;
    let read_key = app.read_key().await;
    for (method, path, who) in ROUTES {
        let http_method = Method::from_bytes(method.as_bytes()).expect("method");
        let status = anonymous(&app, method, path).await;
        if *who == Who::Anyone {
            assert!(
                status != 401 && status != 403,
                "{method} {path}: anyone may call it, got {status}"
            );
            continue;
        }
        assert_eq!(status, 401, "{method} {path} without credentials");

        let as_auditor = auditor
            .send(http_method.clone(), path, Some(json!({})))
            .await
            .status();
        match who {
            Who::Admin => assert_eq!(as_auditor, 403, "{method} {path} as auditor"),
            Who::IngestKey => assert_eq!(as_auditor, 401, "{method} {path} as auditor"),
            _ => assert!(
                as_auditor != 401 && as_auditor != 403,
                "{method} {path} as auditor: {as_auditor}"
            ),
        }

        let with_read_key = app
            .client
            .request(http_method, app.url(path))
            .header("X-Seq-ApiKey", &read_key)
            .json(&json!({}))
            .send()
            .await
            .expect("request")
            .status()
            .as_u16();
        match who {
            Who::Reader => assert!(
                with_read_key != 401 && with_read_key != 403,
                "{method} {path} with a read key: {with_read_key}"
            ),
            Who::IngestKey => assert_eq!(with_read_key, 403, "{method} {path} with a read key"),
            Who::SessionUser => assert_eq!(with_read_key, 401, "{method} {path} with a read key"),
            _ => assert_eq!(with_read_key, 403, "{method} {path} with a read key"),
        }
    }
}

#[tokio::test]
async fn admins_may_call_admin_routes() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    for (method, path, who) in ROUTES {
        if *who != Who::Admin {
            continue;
        }
        let http_method = Method::from_bytes(method.as_bytes()).expect("method");
        let status = admin
            .send(http_method, path, Some(json!({})))
            .await
            .status()
            .as_u16();
        assert!(
            status != 401 && status != 403,
            "{method} {path} as admin: {status}"
        );
    }
}
