use serde_json::json;
use witness_api::{ApiKey, CreatedApiKey, Role, User, ValidationErrorBody};

use crate::helpers::{clef_line, spawn_app};

#[tokio::test]
async fn admins_create_change_and_remove_users() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let response = admin
        .post(
            "/api/users",
            json!({"username": "carol", "password": "carol-password-1", "role": "auditor",
                   "display_name": "Carol C", "email": "carol@example.com"}),
        )
        .await;
    assert_eq!(response.status(), 201);
    let carol: User = response.json().await.expect("user");
    assert_eq!(carol.role, Role::Auditor);
    assert_eq!(carol.display_name.as_deref(), Some("Carol C"));

    let users: Vec<User> = admin.get("/api/users").await.json().await.expect("users");
    assert_eq!(users.len(), 2);
    let raw = admin.get("/api/users").await.text().await.expect("body");
    assert!(
        !raw.contains("argon2"),
        "password hashes never leave the server"
    );

    let duplicate = admin
        .post(
            "/api/users",
            json!({"username": "carol", "password": "another-password", "role": "admin"}),
        )
        .await;
    assert_eq!(duplicate.status(), 409);

    let promoted: User = admin
        .put(
            &format!("/api/users/{}", carol.id),
            json!({"role": "admin"}),
        )
        .await
        .json()
        .await
        .expect("user");
    assert_eq!(promoted.role, Role::Admin);

    // The new admin logs in with their password; a password change ends their sessions.
    let carol_session = app.login("carol", "carol-password-1").await;
    assert_eq!(carol_session.get("/api/users").await.status(), 200);
    let changed = admin
        .put(
            &format!("/api/users/{}", carol.id),
            json!({"password": "carol-password-2"}),
        )
        .await;
    assert_eq!(changed.status(), 200);
    assert_eq!(carol_session.get("/api/auth/me").await.status(), 401);
    app.login("carol", "carol-password-2").await;

    assert_eq!(
        admin
            .delete(&format!("/api/users/{}", carol.id))
            .await
            .status(),
        204
    );
    assert_eq!(
        admin
            .delete(&format!("/api/users/{}", carol.id))
            .await
            .status(),
        404
    );
    let users: Vec<User> = admin.get("/api/users").await.json().await.expect("users");
    assert_eq!(users.len(), 1);
}

#[tokio::test]
async fn the_last_admin_cannot_be_removed_or_demoted() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let id = admin.user.id.clone();
    let demote = admin
        .put(&format!("/api/users/{id}"), json!({"role": "auditor"}))
        .await;
    assert_eq!(demote.status(), 409);
    let remove = admin.delete(&format!("/api/users/{id}")).await;
    assert_eq!(remove.status(), 409);
    let users: Vec<User> = admin.get("/api/users").await.json().await.expect("users");
    assert_eq!(users[0].role, Role::Admin, "nothing changed");
}

#[tokio::test]
async fn bad_user_fields_are_422_naming_each_field() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let response = admin
        .post(
            "/api/users",
            json!({"username": "bad name!", "password": "short", "role": "auditor", "email": "nope"}),
        )
        .await;
    assert_eq!(response.status(), 422);
    let body: ValidationErrorBody = response.json().await.expect("JSON");
    assert_eq!(body.code, "validation_failed");
    for field in ["username", "password", "email"] {
        assert!(body.fields.contains_key(field), "{field}: {body:?}");
    }
    let unknown_role = admin
        .post(
            "/api/users",
            json!({"username": "dave", "password": "dave-password-1", "role": "root"}),
        )
        .await;
    assert_eq!(unknown_role.status(), 400);
    let users: Vec<User> = admin.get("/api/users").await.json().await.expect("users");
    assert_eq!(users.len(), 1, "nothing was created");
}

#[tokio::test]
async fn api_keys_are_shown_once_listed_without_tokens_and_revoked() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let response = admin
        .post(
            "/api/apikeys",
            json!({"title": "billing", "permissions": ["ingest", "read"]}),
        )
        .await;
    assert_eq!(response.status(), 201);
    let created: CreatedApiKey = response.json().await.expect("key");
    assert_eq!(created.token.len(), 32);
    assert!(created.token.starts_with(&created.key.token_prefix));

    let listed = admin.get("/api/apikeys").await.text().await.expect("body");
    assert!(!listed.contains(&created.token));
    let keys: Vec<ApiKey> = serde_json::from_str(&listed).expect("keys");
    assert_eq!(keys.len(), 1);

    let line = clef_line("2026-11-20T10:00:00Z", "a.b", "x", "t", "success");
    assert_eq!(
        app.post_clef(&created.token, line.clone()).await.status(),
        201
    );
    assert_eq!(
        admin
            .delete(&format!("/api/apikeys/{}", created.key.id))
            .await
            .status(),
        204
    );
    assert_eq!(app.post_clef(&created.token, line).await.status(), 401);
    assert_eq!(admin.delete("/api/apikeys/key-unknown").await.status(), 404);

    let invalid = admin
        .post("/api/apikeys", json!({"title": " ", "permissions": []}))
        .await;
    assert_eq!(invalid.status(), 422);
    let body: ValidationErrorBody = invalid.json().await.expect("JSON");
    assert!(body.fields.contains_key("title") && body.fields.contains_key("permissions"));
}
