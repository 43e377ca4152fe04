//! The OpenAPI document against the server it describes: real requests and answers validate
//! against the schemas the document names for their route and status.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{ADMIN_PASSWORD, Session, TestApp, clef_line, spawn_app};

/// The served document, and a way to check bodies against what it says of a route.
struct Document(Value);

impl Document {
    async fn fetch(app: &TestApp) -> Document {
        let response = app.client.get(app.url("/api/openapi.json")).send().await;
        Document(response.expect("request").json().await.expect("JSON body"))
    }

    /// Validates `body` against `schema`, whose `$ref`s point into the document.
    fn validate(&self, what: &str, schema: &Value, body: &Value) {
        assert!(
            schema.is_object(),
            "{what} has no JSON schema in the document"
        );
        let mut root = schema.clone();
        root["components"] = self.0["components"].clone();
        let validator = jsonschema::draft202012::options()
            .should_validate_formats(true)
            .build(&root)
            .unwrap_or_else(|error| panic!("{what}: {error}"));
        let errors: Vec<String> = validator
            .iter_errors(body)
            .map(|error| format!("{error} at {}", error.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{what}: {errors:?} in {body}");
    }

    /// The operation of the document that `method path` is an instance of, and its route.
    fn operation(&self, method: &Method, path: &str) -> (&str, &Value) {
        let path = path.split('?').next().unwrap_or(path);
        let matches = |route: &str| {
            let (route, path) = (route.split('/'), path.split('/'));
            route.clone().count() == path.clone().count()
                && route.zip(path).all(|(r, p)| r == p || r.starts_with('{'))
        };
        let paths = self.0["paths"].as_object().expect("paths");
        let (route, item) = paths
            .iter()
            .find(|(route, _)| matches(route))
            .unwrap_or_else(|| panic!("no route of the document matches {path}"));
        let operation = &item[method.as_str().to_ascii_lowercase()];
        assert!(
            operation.is_object(),
            "{method} {route} is not in the document"
        );
        (route, operation)
    }

    /// Checks `body` against the request schema of `method path`.
    fn request(&self, method: &Method, path: &str, media_type: &str, body: &Value) {
        let (route, operation) = self.operation(method, path);
        let schema = &operation["requestBody"]["content"][media_type]["schema"];
        self.validate(&format!("{method} {route} request"), schema, body);
    }

    /// Checks `response` against the document's answer for `method path` and its status,
    /// which must be `status`; returns the body.
    async fn answer(
        &self,
        method: &Method,
        path: &str,
        response: reqwest::Response,
        status: u16,
    ) -> Value {
        let (route, operation) = self.operation(method, path);
        let got = response.status().as_u16();
        let answer: Value = response.json().await.expect("a JSON answer");
        assert_eq!(got, status, "{method} {path}: {answer}");
        let schema =
            &operation["responses"][status.to_string()]["content"]["application/json"]["schema"];
        self.validate(&format!("{method} {route} {status}"), schema, &answer);
        answer
    }

    /// Sends `body` as the session, checking the request and the answer against the document.
    async fn call(
        &self,
        session: &Session,
        method: Method,
        path: &str,
        body: Option<Value>,
        status: u16,
    ) -> Value {
        if let Some(body) = &body {
            self.request(&method, path, "application/json", body);
        }
        let response = session.send(method.clone(), path, body).await;
        self.answer(&method, path, response, status).await
    }
}

#[tokio::test]
async fn real_answers_and_requests_match_the_openapi_document() {
    let app = spawn_app().await;
    let document = Document::fetch(&app).await;
    let admin = app.admin().await;
    let login = |password: &str| Some(json!({ "username": "admin", "password": password }));
    let path = "/api/auth/login";
    document
        .call(&admin, Method::POST, path, login(ADMIN_PASSWORD), 200)
        .await;
    document
        .call(&admin, Method::POST, path, login("wrong"), 401)
        .await;
    let admin = app.admin().await;
    for path in [
        "/health",
        "/api/auth/me",
        "/api/settings",
        "/api/diagnostics",
    ] {
        document.call(&admin, Method::GET, path, None, 200).await;
    }

    let new_user = json!({ "username": "carol", "password": "carol-password-1",
                           "role": "auditor", "email": "carol@example.com" });
    let user = document
        .call(&admin, Method::POST, "/api/users", Some(new_user), 201)
        .await;
    let path = format!("/api/users/{}", user["id"].as_str().expect("id"));
    let update = json!({ "display_name": "Carol", "role": "admin" });
    document
        .call(&admin, Method::PUT, &path, Some(update), 200)
        .await;
    document
        .call(&admin, Method::GET, "/api/users", None, 200)
        .await;

    let new_key = json!({ "title": "both", "permissions": ["ingest", "read"] });
    let created = document
        .call(&admin, Method::POST, "/api/apikeys", Some(new_key), 201)
        .await;
    document
        .call(&admin, Method::GET, "/api/apikeys", None, 200)
        .await;

    // Ingestion answers as Seq does, success and refusal.
    let token = created["token"].as_str().expect("token");
    let line = clef_line(
        "2026-11-20T10:00:00Z",
        "member.invited",
        "alice",
        "bob",
        "ok",
    );
    for (body, status) in [(line, 201), ("not json".to_string(), 400)] {
        let response = app.post_clef(token, body).await;
        document
            .answer(&Method::POST, "/ingest/clef", response, status)
            .await;
    }
    let classic = json!({ "Events": [{ "Timestamp": "2026-11-20T11:00:00Z",
                                       "MessageTemplate": "Signed in",
                                       "Properties": { "Action": "user.signed_in" } }] });
    let path = "/api/events/raw";
    document.request(&Method::POST, path, "application/json", &classic);
    let response = app
        .client
        .post(app.url(path))
        .header("X-Seq-ApiKey", token)
        .json(&classic)
        .send()
        .await
        .expect("request");
    document.answer(&Method::POST, path, response, 201).await;

    let page = document
        .call(&admin, Method::GET, "/api/audit/events?limit=50", None, 200)
        .await;
    let events = page["events"].as_array().expect("events");
    assert!(events.len() >= 2, "{page}");
    let path = format!(
        "/api/audit/events/{}",
        events[0]["id"].as_str().expect("id")
    );
    document.call(&admin, Method::GET, &path, None, 200).await;
    let path = "/api/audit/events/9999";
    document.call(&admin, Method::GET, path, None, 404).await;
    for path in ["/api/audit/histogram", "/api/audit/verify"] {
        document.call(&admin, Method::GET, path, None, 200).await;
    }

    let settings = |keep: i64| {
        json!({ "backup_utc_time_of_day": "03:30", "backups_to_keep": keep,
                "retention_days": 90 })
    };
    let path = "/api/settings";
    document
        .call(&admin, Method::PUT, path, Some(settings(3)), 200)
        .await;
    // Out of range: the server answers 422 in the shape the document gives.
    let response = admin.put(path, settings(0)).await;
    document.answer(&Method::PUT, path, response, 422).await;

    document
        .call(&admin, Method::POST, "/api/backups", None, 201)
        .await;
    document
        .call(&admin, Method::GET, "/api/backups", None, 200)
        .await;
}
