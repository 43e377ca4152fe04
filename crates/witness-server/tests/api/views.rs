//! Saved views of the Audit logs tab: each logged-in user's own, checked by the same rules as
//! everything else a user types, audited, and carried by backups through a restore.

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::{Value, json};
use witness_api::SavedView;
use witness_server::backup::format;
use witness_server::secret_key::SecretKey;

use crate::helpers::{Session, TestApp, spawn_app, spawn_app_with};
use crate::restore::back_up_now;
use crate::selfaudit::phases;

async fn save(session: &Session, name: &str, query: &str) -> reqwest::Response {
    session
        .post("/api/views", json!({"name": name, "query": query}))
        .await
}

async fn saved(session: &Session, name: &str, query: &str) -> SavedView {
    let response = save(session, name, query).await;
    assert_eq!(response.status(), 201, "{:?}", response.text().await);
    response.json().await.expect("the view")
}

async fn views(session: &Session) -> Vec<SavedView> {
    let response = session.get("/api/views").await;
    assert_eq!(response.status(), 200);
    response.json().await.expect("views")
}

async fn names(session: &Session) -> Vec<String> {
    views(session).await.into_iter().map(|v| v.name).collect()
}

/// The status and JSON body of an answer.
async fn answer(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    (status, response.json().await.expect("a JSON body"))
}

#[tokio::test]
async fn a_user_saves_lists_and_deletes_their_own_views() {
    let app = spawn_app().await;
    let auditor = app.user_with_role("audrey", "auditor").await;
    assert!(views(&auditor).await.is_empty());

    let failed = saved(
        &auditor,
        "  Failed logins  ",
        "?action=user.login&result=failure&from=2026-11-01&cursor=1.2.3",
    )
    .await;
    assert_eq!(failed.name, "Failed logins", "trimmed");
    assert_eq!(
        failed.query, "action=user.login&result=failure&from=2026-11-01",
        "without `?` and without the page position"
    );
    assert!(failed.id.starts_with("view-"));
    let all = saved(&auditor, "<b>Everything</b>", "").await;
    assert_eq!(all.query, "");
    assert_eq!(
        views(&auditor).await,
        vec![all.clone(), failed.clone()],
        "by name"
    );

    // One name per user.
    let (status, body) = answer(save(&auditor, "Failed logins", "actor=x").await).await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("Failed logins")),
        "{body}"
    );

    let response = auditor.delete(&format!("/api/views/{}", failed.id)).await;
    assert_eq!(response.status(), 204);
    assert_eq!(names(&auditor).await, ["<b>Everything</b>"]);
    let (status, body) = answer(auditor.delete(&format!("/api/views/{}", failed.id)).await).await;
    assert_eq!(status, 404, "{body}");

    // Created and removed, each Begin then Complete, by the user, naming the view.
    let created = app.audit_records("view.created").await;
    assert_eq!(
        phases(&created),
        ["Begin", "Complete", "Begin", "Complete", "Begin", "Fail"]
    );
    assert!(
        created
            .iter()
            .all(|r| r.actor.id.as_deref() == Some("audrey"))
    );
    assert!(
        created
            .iter()
            .any(|r| r.details.get("name") == Some(&json!("Failed logins")))
    );
    let removed = app.audit_records("view.removed").await;
    assert_eq!(phases(&removed), ["Begin", "Complete", "Begin", "Fail"]);
    assert!(
        removed
            .iter()
            .any(|r| r.details.get("view_id") == Some(&json!(failed.id)))
    );
}

#[tokio::test]
async fn bad_names_and_queries_are_refused_naming_the_field() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let long = "n".repeat(101);
    let long_query = format!("q={}", "a".repeat(4000));
    for (name, query, field) in [
        ("", "", "name"),
        ("   ", "actor=a", "name"),
        (long.as_str(), "", "name"),
        ("two\nlines", "", "name"),
        ("tab\there", "", "name"),
        ("ok", "from=2026-02-01&to=2026-01-01", "query"),
        ("ok", "result=maybe", "query"),
        ("ok", "from=%2B99999-01-01", "query"),
        ("ok", "q=a%00b", "query"),
        ("ok", long_query.as_str(), "query"),
    ] {
        let (status, body) = answer(save(&admin, name, query).await).await;
        assert_eq!(status, 422, "{name:?} {query:?}: {body}");
        assert!(
            body["fields"][field]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{name:?} {query:?} names `{field}`: {body}"
        );
    }
    let (status, body) = answer(
        admin
            .post(
                "/api/views",
                json!({"name": "x", "query": "", "owner": "someone"}),
            )
            .await,
    )
    .await;
    assert_eq!(status, 400, "unknown fields are refused: {body}");
    let (status, _) = answer(admin.post("/api/views", json!({"name": "x"})).await).await;
    assert_eq!(status, 400, "the query is required (empty for no filter)");
    assert!(views(&admin).await.is_empty(), "nothing was saved");
}

#[tokio::test]
async fn nobody_sees_or_deletes_another_users_views_and_keys_have_none() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let auditor = app.user_with_role("audrey", "auditor").await;
    let mine = saved(&auditor, "Mine", "actor=alice").await;
    // The same name is another user's own to take.
    saved(&admin, "Mine", "actor=bob").await;

    assert_eq!(names(&admin).await, ["Mine"]);
    assert_eq!(views(&admin).await[0].query, "actor=bob");
    let (status, body) = answer(admin.delete(&format!("/api/views/{}", mine.id)).await).await;
    assert_eq!(status, 404, "an admin cannot delete it either: {body}");
    assert_eq!(views(&auditor).await, vec![mine.clone()]);

    for key in [app.read_key().await, app.ingest_key().await] {
        for (method, path) in [
            (reqwest::Method::GET, "/api/views".to_string()),
            (reqwest::Method::POST, "/api/views".to_string()),
            (reqwest::Method::DELETE, format!("/api/views/{}", mine.id)),
        ] {
            let response = app
                .client
                .request(method.clone(), app.url(&path))
                .header("X-Seq-ApiKey", &key)
                .json(&json!({"name": "k", "query": ""}))
                .send()
                .await
                .expect("request");
            let (status, body) = answer(response).await;
            assert_eq!(status, 403, "{method} {path}: {body}");
            assert!(
                body["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("logged-in user")),
                "{method} {path}: {body}"
            );
        }
    }
    assert_eq!(views(&auditor).await, vec![mine]);

    // Removing a user removes their views.
    let response = admin
        .delete(&format!("/api/users/{}", auditor.user.id))
        .await;
    assert_eq!(response.status(), 204);
    let snapshot = app.store.export_config().await.expect("export");
    assert_eq!(snapshot.views.len(), 1);
    assert_eq!(snapshot.views[0].user_id, admin.user.id);
}

fn witness(app: &TestApp, args: &[&str]) -> Output {
    crate::restore::witness(&app.data_dir, app.database_url.as_deref(), args)
}

fn restore(app: &TestApp, file: &Path) -> String {
    let restored = witness(
        app,
        &["restore", "-y", "--backup", file.to_str().expect("path")],
    );
    assert!(restored.status.success(), "{restored:?}");
    String::from_utf8_lossy(&restored.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn views_are_backed_up_and_restored_with_their_users() {
    let app = spawn_app().await;
    let auditor = app.user_with_role("audrey", "auditor").await;
    let admin = app.admin().await;
    let kept = saved(&auditor, "Failed logins", "result=failure&action=user.*").await;
    let admins = saved(&admin, "Key changes", "action=witness.apikey.*").await;
    let backup = back_up_now(&app).await;

    // After the backup: one deleted, one added; the restore undoes both.
    assert_eq!(
        auditor
            .delete(&format!("/api/views/{}", kept.id))
            .await
            .status(),
        204
    );
    saved(&auditor, "Later", "actor=zoe").await;
    let text = restore(&app, &backup);
    assert!(text.contains("2 saved views"), "{text}");

    let auditor = app.login("audrey", "audrey-password-1").await;
    assert_eq!(views(&auditor).await, vec![kept]);
    assert_eq!(views(&app.admin().await).await, vec![admins]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_from_before_views_restores_with_none() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    saved(&admin, "Mine", "actor=alice").await;
    let backup = back_up_now(&app).await;
    let key_text = std::fs::read_to_string(app.data_dir.join("secret.key")).expect("key");
    let key = SecretKey::parse(&key_text, "the key file").expect("key");

    // What a Witness from before views wrote: payload version 1, no `saved_views`.
    let (header, plaintext) =
        format::open(&key, &std::fs::read(&backup).expect("read")).expect("open");
    let mut payload: Value = serde_json::from_slice(&plaintext).expect("JSON");
    assert_eq!(payload["payload_version"], 2);
    assert_eq!(payload["saved_views"].as_array().map(Vec::len), Some(1));
    let object = payload.as_object_mut().expect("object");
    object.remove("saved_views");
    object.insert("payload_version".into(), json!(1));
    let seal_as = |name: &str, payload: &Value| -> PathBuf {
        let path = app.data_dir.join(name);
        let plaintext = serde_json::to_vec(payload).expect("JSON");
        let sealed = format::seal(&key, header.created_at, &plaintext).expect("seal");
        std::fs::write(&path, sealed).expect("write");
        path
    };
    let text = restore(&app, &seal_as("old.wbk", &payload));
    assert!(text.contains(" 0 saved views"), "{text}");
    assert!(views(&app.admin().await).await.is_empty());

    // A version 1 payload cannot carry views: it is refused whole, nothing changes.
    saved(&app.admin().await, "Again", "").await;
    object_with_views(&mut payload);
    let odd = seal_as("odd.wbk", &payload);
    let refused = witness(
        &app,
        &["restore", "-y", "--backup", odd.to_str().expect("path")],
    );
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("version 1"), "{stderr}");
    assert_eq!(names(&app.admin().await).await, ["Again"]);
}

fn object_with_views(payload: &mut Value) {
    let user_id = payload["users"][0]["id"].clone();
    payload["saved_views"] = json!([{
        "id": "view-1", "user_id": user_id, "name": "x", "query": "",
        "created_at": "2026-11-20T10:00:00Z"
    }]);
}

/// A PostgreSQL database made before saved views existed (schema version 1) migrates when a
/// server opens it: its users stay, and they can save views. (SQLite's migration of an older
/// store is a unit test of its schema module.)
#[tokio::test]
async fn a_postgresql_database_from_before_views_migrates_when_a_server_opens_it() {
    let app = spawn_app().await;
    let Some(url) = app.database_url.clone() else {
        return;
    };
    app.user_with_role("ana", "auditor").await;
    // The database as a server from before views left it.
    let client = crate::helpers::connect_postgres(&url).await;
    client
        .batch_execute("DROP TABLE saved_views; UPDATE witness_schema SET version = 1;")
        .await
        .expect("take the schema back to version 1");

    let upgraded = spawn_app_with(|config| config.data.database_url = Some(url.clone())).await;
    let version: i32 = client
        .query_one("SELECT version FROM witness_schema", &[])
        .await
        .expect("the schema version")
        .get(0);
    assert_eq!(version, 2);
    let ana = upgraded.login("ana", "ana-password-1").await;
    assert!(names(&ana).await.is_empty());
    saved(&ana, "Failures", "result=failure").await;
    assert_eq!(names(&ana).await, ["Failures"]);
}
