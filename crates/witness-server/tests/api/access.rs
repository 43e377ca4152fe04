//! The route table (`src/routes/table.rs`, whose copy is the README's permission table),
//! proved against the real server: every route, called by every kind of caller, answers
//! exactly what the table says.

use reqwest::Method;
use serde_json::json;
use witness_server::routes::table::{CallerKind, ROUTES, Route, Verdict};

use crate::helpers::{Session, TestApp, spawn_app};

struct Callers {
    ingest_key: String,
    read_key: String,
    auditor: Session,
    admin: Session,
}

/// Calls `route` as `caller` with an empty JSON object as body; answers the status.
async fn call(app: &TestApp, callers: &Callers, route: &Route, caller: CallerKind) -> u16 {
    let method = Method::from_bytes(route.method.as_str().as_bytes()).expect("method");
    let path = route.example_path();
    let body = Some(json!({}));
    let with_key = |key: &str| {
        app.client
            .request(method.clone(), app.url(&path))
            .header("X-Seq-ApiKey", key)
            .json(&json!({}))
    };
    let response = match caller {
        CallerKind::Anonymous => app
            .client
            .request(method.clone(), app.url(&path))
            .json(&json!({}))
            .send()
            .await
            .expect("request"),
        CallerKind::IngestKey => with_key(&callers.ingest_key).send().await.expect("request"),
        CallerKind::ReadKey => with_key(&callers.read_key).send().await.expect("request"),
        // `send` carries the session's X-CSRF-Token.
        CallerKind::AuditorSession => callers.auditor.send(method, &path, body).await,
        CallerKind::AdminSession => callers.admin.send(method, &path, body).await,
    };
    response.status().as_u16()
}

fn matches(verdict: Verdict, status: u16) -> bool {
    match verdict {
        Verdict::Allowed => status != 401 && status != 403,
        Verdict::Unauthorized => status == 401,
        Verdict::Forbidden => status == 403,
    }
}

#[tokio::test]
async fn every_route_answers_every_caller_as_the_table_says() {
    let app = spawn_app().await;
    let callers = Callers {
        ingest_key: app.ingest_key().await,
        read_key: app.read_key().await,
        auditor: app.user_with_role("audrey", "auditor").await,
        admin: app.admin().await,
    };
    // Logout ends the sessions it is called with: last.
    let mut routes: Vec<&Route> = ROUTES.iter().collect();
    routes.sort_by_key(|route| route.path == "/api/auth/logout");

    let mut wrong = Vec::new();
    for route in routes {
        for caller in CallerKind::ALL {
            let verdict = route.access.verdict(caller);
            let status = call(&app, &callers, route, caller).await;
            if !matches(verdict, status) {
                wrong.push(format!(
                    "{} as {}: expected {}, got {status}",
                    route.label(),
                    caller.heading(),
                    verdict.cell()
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[tokio::test]
async fn a_session_without_its_csrf_token_is_refused_on_every_unsafe_route_it_may_call() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    for route in ROUTES {
        if !route.method.is_unsafe()
            || route.access.verdict(CallerKind::AdminSession) != Verdict::Allowed
            || route.access.verdict(CallerKind::Anonymous) == Verdict::Allowed
        {
            // Ingestion ignores sessions (401 as the table says); login needs none.
            continue;
        }
        let method = Method::from_bytes(route.method.as_str().as_bytes()).expect("method");
        let status = admin
            .client
            .request(method, admin.url(&route.example_path()))
            .json(&json!({}))
            .send()
            .await
            .expect("request")
            .status()
            .as_u16();
        assert_eq!(status, 403, "{} without X-CSRF-Token", route.label());
    }
}
