use serde_json::json;
use witness_api::{ApiErrorBody, Me};

use crate::helpers::{ADMIN_PASSWORD, spawn_app, spawn_app_with};

async fn try_login(
    app: &crate::helpers::TestApp,
    username: &str,
    password: &str,
) -> reqwest::Response {
    app.client
        .post(app.url("/api/auth/login"))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .expect("request")
}

#[tokio::test]
async fn login_sets_a_strict_http_only_cookie_and_me_and_logout_work() {
    let app = spawn_app().await;
    let response = try_login(&app, "admin", ADMIN_PASSWORD).await;
    assert_eq!(response.status(), 200);
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .expect("ascii")
        .to_string();
    assert!(cookie.starts_with("witness_session="), "{cookie}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let body: serde_json::Value = response.json().await.expect("JSON");
    assert!(body["csrf_token"].as_str().is_some_and(|t| t.len() >= 32));
    assert_eq!(body["user"]["username"], "admin");
    assert!(body["user"].get("password_hash").is_none());

    let session = app.admin().await;
    let me: Me = session.get("/api/auth/me").await.json().await.expect("me");
    assert_eq!(me.user.username, "admin");
    assert_eq!(me.csrf_token, session.csrf);

    assert_eq!(
        session.post("/api/auth/logout", json!({})).await.status(),
        204
    );
    assert_eq!(session.get("/api/auth/me").await.status(), 401);
    assert_eq!(session.get("/api/audit/events").await.status(), 401);
}

#[tokio::test]
async fn failed_logins_never_reveal_whether_the_user_exists() {
    let app = spawn_app().await;
    let wrong_password = try_login(&app, "admin", "not the password").await;
    let no_such_user = try_login(&app, "nobody", "not the password").await;
    assert_eq!(wrong_password.status(), 401);
    assert_eq!(no_such_user.status(), 401);
    let a: ApiErrorBody = wrong_password.json().await.expect("JSON");
    let b: ApiErrorBody = no_such_user.json().await.expect("JSON");
    assert_eq!(a, b);
}

#[tokio::test]
async fn bad_login_bodies_are_400() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/api/auth/login"))
        .json(&json!({"user": "admin"}))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 400);
    let error: ApiErrorBody = response.json().await.expect("JSON");
    assert!(error.message.contains("username"), "{}", error.message);
}

#[tokio::test]
async fn five_failed_logins_within_15_minutes_give_429_with_retry_after() {
    let app = spawn_app().await;
    for _ in 0..5 {
        assert_eq!(
            try_login(&app, "admin", "wrong password!").await.status(),
            401
        );
    }
    // Even the right password is refused now.
    let refused = try_login(&app, "admin", ADMIN_PASSWORD).await;
    assert_eq!(refused.status(), 429);
    let retry_after: u64 = refused.headers()["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!(retry_after > 0 && retry_after <= 15 * 60);
    // Unknown users are limited the same way.
    for _ in 0..5 {
        assert_eq!(
            try_login(&app, "ghost", "wrong password!").await.status(),
            401
        );
    }
    assert_eq!(
        try_login(&app, "ghost", "wrong password!").await.status(),
        429
    );
}

#[tokio::test]
async fn unsafe_methods_need_the_csrf_header() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let body = json!({"title": "ci", "permissions": ["ingest"]});
    let without = admin
        .client
        .post(admin.url("/api/apikeys"))
        .json(&body)
        .send()
        .await
        .expect("request");
    assert_eq!(without.status(), 403);
    let wrong = admin
        .client
        .post(admin.url("/api/apikeys"))
        .header("X-CSRF-Token", "forged")
        .json(&body)
        .send()
        .await
        .expect("request");
    assert_eq!(wrong.status(), 403);
    assert_eq!(admin.post("/api/apikeys", body).await.status(), 201);
    let keys = app.store.list_api_keys().await.expect("keys");
    assert_eq!(keys.len(), 1, "the refused requests created nothing");
}

#[tokio::test]
async fn sessions_expire_after_the_idle_time_and_slide_with_use() {
    let app = spawn_app_with(|config| config.session_idle_seconds = 2).await;
    let admin = app.admin().await;
    for _ in 0..3 {
        app.clock.advance(chrono::Duration::milliseconds(1200));
        assert_eq!(
            admin.get("/api/auth/me").await.status(),
            200,
            "use keeps it alive"
        );
    }
    app.clock.advance(chrono::Duration::milliseconds(2500));
    let expired = admin.get("/api/auth/me").await;
    assert_eq!(expired.status(), 401);
    let error: ApiErrorBody = expired.json().await.expect("JSON");
    assert!(error.message.contains("expired"), "{}", error.message);
}
