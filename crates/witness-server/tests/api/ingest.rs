use serde_json::Value;
use witness_api::{EventPage, IngestError};
use witness_server::store::Permission;

use crate::helpers::{clef_line, spawn_app, spawn_app_with};

async fn stored_count(app: &crate::helpers::TestApp) -> usize {
    let key = app.read_key().await;
    let page: EventPage = app
        .get_json(&key, "/api/audit/events?limit=1000&action=!witness.*")
        .await;
    page.events.len()
}

async fn assert_seq_error(response: reqwest::Response, status: u16, needles: &[&str]) {
    assert_eq!(response.status(), status);
    let error: IngestError = response.json().await.expect("Seq error body");
    for needle in needles {
        assert!(
            error.error.contains(needle),
            "{needle:?} not in {:?}",
            error.error
        );
    }
}

#[tokio::test]
async fn clef_batch_is_stored_and_acknowledged_as_seq_does() {
    let app = spawn_app().await;
    let key = app.ingest_key().await;
    let body = format!(
        "{}\r\n\r\n{}\n",
        clef_line(
            "2026-11-20T10:00:00Z",
            "member.added",
            "alice",
            "repo-1",
            "success"
        ),
        clef_line(
            "2026-11-20T10:01:00Z",
            "member.removed",
            "bob",
            "repo-2",
            "failure"
        ),
    );
    let response = app.post_clef(&key, body).await;
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(body, serde_json::json!({"MinimumLevelAccepted": null}));
    assert_eq!(stored_count(&app).await, 2);
}

#[tokio::test]
async fn raw_endpoint_takes_clef_by_query_or_content_type_and_classic_otherwise() {
    let app = spawn_app().await;
    let key = app.ingest_key().await;
    let line = clef_line("2026-11-20T10:00:00Z", "a.b", "alice", "t", "success");

    let by_query = app
        .client
        .post(app.url(&format!("/api/events/raw?clef&apiKey={key}")))
        .body(line.clone())
        .send()
        .await
        .expect("request");
    assert_eq!(by_query.status(), 201);

    let by_type = app
        .client
        .post(app.url("/api/events/raw"))
        .header("X-Seq-ApiKey", &key)
        .header("Content-Type", "application/vnd.serilog.clef")
        .body(line)
        .send()
        .await
        .expect("request");
    assert_eq!(by_type.status(), 201);

    let classic = serde_json::json!({"Events": [{
        "Timestamp": "2026-11-20T10:02:00Z",
        "Level": "Warning",
        "MessageTemplate": "{User} signed in",
        "Properties": {"User": "carol", "Action": "user.signed_in", "Actor": "carol"}
    }]});
    let classic = app
        .client
        .post(app.url("/api/events/raw"))
        .header("X-Seq-ApiKey", &key)
        .json(&classic)
        .send()
        .await
        .expect("request");
    assert_eq!(classic.status(), 201);

    let read = app.read_key().await;
    let page: EventPage = app
        .get_json(&read, "/api/audit/events?action=!witness.*")
        .await;
    assert_eq!(page.events.len(), 3);
    let newest = &page.events[0];
    assert_eq!(newest.action, "user.signed_in");
    assert_eq!(newest.level, "Warning");
    assert_eq!(newest.message, "carol signed in");
}

#[tokio::test]
async fn a_bad_line_rejects_the_whole_batch_naming_the_line() {
    let app = spawn_app().await;
    let key = app.ingest_key().await;
    let good = clef_line("2026-11-20T10:00:00Z", "a.b", "alice", "t", "success");
    let cases: Vec<(String, Vec<&str>)> = vec![
        (format!("{good}\nthis is not json\n"), vec!["line 2"]),
        (
            format!("{good}\n{{\"@m\":\"no time\"}}\n"),
            vec!["line 2", "@t"],
        ),
        (
            format!("{good}\n{{\"@t\":\"yesterday\"}}\n"),
            vec!["line 2", "@t"],
        ),
        (
            format!("{good}\n{{\"@t\":\"2026-11-20T10:00:00Z\",\"@l\":3}}\n"),
            vec!["line 2", "@l"],
        ),
        (
            format!("{good}\n{{\"@t\":\"2026-11-20T10:00:00Z\",\"@m\":[1]}}\n"),
            vec!["line 2", "@m"],
        ),
        (
            format!("{good}\n{{\"@t\":\"2026-11-20T10:00:00Z\",\"@mt\":{{}}}}\n"),
            vec!["line 2", "@mt"],
        ),
        (
            format!("{good}\n{{\"@t\":\"2026-11-20T10:00:00Z\",\"@x\":false}}\n"),
            vec!["line 2", "@x"],
        ),
        (format!("{good}\n\n[1,2]\n"), vec!["line 3"]),
    ];
    for (body, needles) in cases {
        let response = app.post_clef(&key, body.clone()).await;
        assert_seq_error(response, 400, &needles).await;
    }
    assert_eq!(
        stored_count(&app).await,
        0,
        "nothing of a rejected batch is stored"
    );
}

#[tokio::test]
async fn empty_bodies_and_classic_bodies_without_events_are_refused() {
    let app = spawn_app().await;
    let key = app.ingest_key().await;
    assert_seq_error(app.post_clef(&key, "").await, 400, &["empty"]).await;
    assert_seq_error(app.post_clef(&key, "\n  \r\n").await, 400, &["empty"]).await;

    let response = app
        .client
        .post(app.url("/api/events/raw"))
        .header("X-Seq-ApiKey", &key)
        .json(&serde_json::json!({"Records": []}))
        .send()
        .await
        .expect("request");
    assert_seq_error(response, 400, &["Events"]).await;

    let response = app
        .client
        .post(app.url("/api/events/raw"))
        .header("X-Seq-ApiKey", &key)
        .json(&serde_json::json!({"Events": [
            {"Timestamp": "2026-11-20T10:00:00Z", "MessageTemplate": "ok"},
            {"Timestamp": "not a time", "MessageTemplate": "bad"}
        ]}))
        .send()
        .await
        .expect("request");
    assert_seq_error(response, 400, &["Events[1]", "Timestamp"]).await;
    assert_eq!(stored_count(&app).await, 0);
}

#[tokio::test]
async fn payloads_and_events_over_the_limits_are_refused() {
    let app = spawn_app_with(|config| {
        config.max_payload_bytes = 64 * 1024;
        config.max_event_bytes = 2 * 1024;
    })
    .await;
    let key = app.ingest_key().await;
    let good = clef_line("2026-11-20T10:00:00Z", "a.b", "alice", "t", "success");

    let huge = format!("{good}\n").repeat(64 * 1024 / good.len() + 10);
    assert_seq_error(app.post_clef(&key, huge).await, 413, &[]).await;

    let big_event = serde_json::json!({"@t": "2026-11-20T10:00:00Z", "Blob": "x".repeat(4096)});
    let body = format!("{good}\n{big_event}\n");
    assert_seq_error(app.post_clef(&key, body).await, 400, &["line 2"]).await;
    assert_eq!(stored_count(&app).await, 0);
}

#[tokio::test]
async fn keys_are_required_valid_unrevoked_and_permitted() {
    let app = spawn_app().await;
    let line = clef_line("2026-11-20T10:00:00Z", "a.b", "alice", "t", "success");

    let missing = app
        .client
        .post(app.url("/ingest/clef"))
        .body(line.clone())
        .send()
        .await
        .expect("request");
    assert_seq_error(missing, 401, &["API key"]).await;
    assert_seq_error(
        app.post_clef("not-a-key", line.clone()).await,
        401,
        &["not known"],
    )
    .await;

    let read_only = app.key(&[Permission::Read]).await;
    assert_seq_error(
        app.post_clef(&read_only, line.clone()).await,
        403,
        &["ingest"],
    )
    .await;

    let key = app.ingest_key().await;
    assert_eq!(app.post_clef(&key, line.clone()).await.status(), 201);
    let id = app
        .store
        .list_api_keys()
        .await
        .expect("keys")
        .into_iter()
        .find(|k| k.permissions == vec![Permission::Ingest])
        .expect("the ingest key")
        .id;
    assert!(app.store.revoke_api_key(&id).await.expect("revoke"));
    assert_seq_error(app.post_clef(&key, line).await, 401, &["revoked"]).await;
}

#[tokio::test]
async fn concurrent_batches_are_all_stored_and_chained() {
    let app = crate::helpers::spawn_app_auditing_to_a_file().await;
    let key = app.ingest_key().await;
    let mut tasks = Vec::new();
    for client in 0..8 {
        let url = app.url("/ingest/clef");
        let key = key.clone();
        let http = app.client.clone();
        tasks.push(tokio::spawn(async move {
            for batch in 0..5 {
                let body: String = (0..50)
                    .map(|i| {
                        clef_line(
                            "2026-11-20T10:00:00Z",
                            "load.test",
                            &format!("client-{client}"),
                            &format!("batch-{batch}-{i}"),
                            "success",
                        ) + "\n"
                    })
                    .collect();
                let response = http
                    .post(&url)
                    .header("X-Seq-ApiKey", &key)
                    .body(body)
                    .send()
                    .await
                    .expect("request");
                assert_eq!(response.status(), 201);
            }
        }));
    }
    for task in tasks {
        task.await.expect("client task");
    }
    let read = app.read_key().await;
    let report: witness_api::VerifyReport =
        app.get_json(&read, "/api/audit/verify?full=true").await;
    assert!(report.ok, "{report:?}");
    assert_eq!(report.verified_count, 8 * 5 * 50);
}
