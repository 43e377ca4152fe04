use witness_api::{AuditEvent, EventPage, VerifyReport};

use witness_server::store::EventQuery;

use crate::helpers::{TestApp, clef_line, spawn_app_auditing_to_a_file};

async fn with_events(n: usize) -> (TestApp, String) {
    let app = spawn_app_auditing_to_a_file().await;
    let ingest = app.ingest_key().await;
    let body: String = (0..n)
        .map(|i| {
            clef_line(
                &format!("2026-11-20T10:{:02}:00Z", i % 60),
                "chain.test",
                &format!("user-{i}"),
                "t",
                "success",
            ) + "\n"
        })
        .collect();
    assert_eq!(app.post_clef(&ingest, body).await.status(), 201);
    let read = app.read_key().await;
    (app, read)
}

async fn full_verify(app: &TestApp, key: &str) -> VerifyReport {
    app.get_json(key, "/api/audit/verify?full=true").await
}

fn broken_at(report: &VerifyReport) -> (String, String) {
    assert!(!report.ok, "the break is detected: {report:?}");
    let broken = report.first_break.clone().expect("a named break");
    (broken.event_id, broken.reason)
}

#[tokio::test]
async fn an_intact_chain_verifies_and_reports_its_head() {
    let (app, key) = with_events(10).await;
    let report = full_verify(&app, &key).await;
    assert!(report.ok, "{report:?}");
    assert_eq!(report.verified_count, 10);
    let page: EventPage = app
        .get_json(&key, "/api/audit/events?limit=1000&action=!witness.*")
        .await;
    let newest_stored = page
        .events
        .iter()
        .max_by_key(|e| e.id.clone())
        .expect("events");
    assert_eq!(report.head_id.as_deref(), Some(newest_stored.id.as_str()));
    assert_eq!(
        report.head_hash.as_deref(),
        Some(newest_stored.hash.as_str())
    );
    // Each event links to the one stored before it.
    let mut by_id = page.events.clone();
    by_id.sort_by(|a, b| a.id.cmp(&b.id));
    for pair in by_id.windows(2) {
        assert_eq!(pair[1].prev_hash, pair[0].hash);
    }
    assert_eq!(by_id[0].prev_hash, "0".repeat(64));
}

#[tokio::test]
async fn verify_is_incremental_from_the_last_verified_point() {
    let (app, key) = with_events(10).await;
    let first: VerifyReport = app.get_json(&key, "/api/audit/verify").await;
    assert!(first.ok);
    assert_eq!(first.newly_verified, 10);
    let again: VerifyReport = app.get_json(&key, "/api/audit/verify").await;
    assert_eq!(again.newly_verified, 0);
    assert_eq!(again.verified_count, 10);
    let ingest = app.ingest_key().await;
    let body = clef_line("2026-11-21T00:00:00Z", "more", "x", "t", "success");
    assert_eq!(app.post_clef(&ingest, body).await.status(), 201);
    let third: VerifyReport = app.get_json(&key, "/api/audit/verify").await;
    assert!(third.ok);
    assert_eq!(third.newly_verified, 1);
    assert_eq!(third.verified_count, 11);
}

#[tokio::test]
async fn a_changed_field_is_detected_and_named() {
    let (app, key) = with_events(10).await;
    app.tamper_event(3, "actor_id", "mallory").await;
    let (event, reason) = broken_at(&full_verify(&app, &key).await);
    assert_eq!(event, "0000000000000003");
    assert!(reason.contains("changed"), "{reason}");
}

#[tokio::test]
async fn a_stored_value_no_event_can_hold_is_an_error_never_a_default() {
    let (app, key) = with_events(10).await;
    app.tamper_event(5, "result", "maybe").await;
    // Shown as corrupt, not as a success.
    let one = app.get(&key, "/api/audit/events/0000000000000005").await;
    assert_eq!(one.status(), 500);
    let page = app.get(&key, "/api/audit/events?limit=1000").await;
    assert_eq!(page.status(), 500);
    // Events that are not on a corrupt page are still served.
    let other = app.get(&key, "/api/audit/events/0000000000000004").await;
    assert_eq!(other.status(), 200);
    // And verify names the event, as a change to its contents.
    let (event, reason) = broken_at(&full_verify(&app, &key).await);
    assert_eq!(event, "0000000000000005");
    assert!(reason.contains("changed"), "{reason}");
}

#[tokio::test]
async fn a_changed_field_after_the_verified_point_is_detected_incrementally() {
    let (app, key) = with_events(10).await;
    let ok: VerifyReport = app.get_json(&key, "/api/audit/verify").await;
    assert!(ok.ok);
    let ingest = app.ingest_key().await;
    let body = clef_line("2026-11-21T00:00:00Z", "more", "x", "t", "success");
    assert_eq!(app.post_clef(&ingest, body).await.status(), 201);
    app.tamper_event(11, "message", "nothing happened").await;
    let report: VerifyReport = app.get_json(&key, "/api/audit/verify").await;
    let (event, _) = broken_at(&report);
    assert_eq!(event, "0000000000000011");
}

#[tokio::test]
async fn a_deleted_row_is_detected_and_named() {
    let (app, key) = with_events(10).await;
    app.delete_event(4).await;
    let (event, reason) = broken_at(&full_verify(&app, &key).await);
    assert_eq!(event, "0000000000000005");
    assert!(
        reason.contains("0000000000000004") && reason.contains("missing"),
        "{reason}"
    );
}

#[tokio::test]
async fn swapped_rows_are_detected_and_named() {
    let (app, key) = with_events(10).await;
    // Swap everything but the sequence number between events 3 and 4.
    app.swap_events(3, 4).await;
    let (event, _reason) = broken_at(&full_verify(&app, &key).await);
    assert_eq!(event, "0000000000000003");
}

#[tokio::test]
async fn a_cut_tail_is_detected_and_named() {
    let (app, key) = with_events(10).await;
    assert_eq!(app.delete_events_after(8).await, 2);
    let report = full_verify(&app, &key).await;
    let (event, reason) = broken_at(&report);
    assert_eq!(event, "0000000000000008");
    assert!(
        reason.contains("tail was cut") && reason.contains("0000000000000010"),
        "{reason}"
    );
}

#[tokio::test]
async fn retention_deletes_a_prefix_and_the_chain_still_verifies() {
    let (app, key) = with_events(10).await;
    let cutoff = chrono::Utc::now() + chrono::Duration::seconds(1);
    let deleted = app
        .store
        .delete_received_before(cutoff)
        .await
        .expect("retention");
    assert_eq!(deleted, 10);
    let page = app
        .store
        .query(EventQuery {
            filter: Default::default(),
            limit: 100,
            cursor: None,
        })
        .await
        .expect("query");
    assert!(page.events.is_empty());
    let report = full_verify(&app, &key).await;
    assert!(report.ok, "{report:?}");
    assert_eq!(report.verified_count, 0);

    let ingest = app.ingest_key().await;
    let body = clef_line(
        "2026-11-22T00:00:00Z",
        "after.retention",
        "x",
        "t",
        "success",
    );
    assert_eq!(app.post_clef(&ingest, body).await.status(), 201);
    let report = full_verify(&app, &key).await;
    assert!(report.ok, "{report:?}");
    assert_eq!(report.verified_count, 1);
    assert_eq!(report.head_id.as_deref(), Some("0000000000000011"));
}

/// The panel's event page links an event to the one before it in the chain by
/// `AuditEvent::previous_id`: `GET /api/audit/events/{previous_id}` must answer the event
/// whose hash is this one's `prev_hash`, back to the first event, whose `prev_hash` is zeros.
#[tokio::test]
async fn each_event_addresses_the_one_before_it_in_the_chain() {
    let (app, key) = with_events(5).await;
    let report = full_verify(&app, &key).await;
    let mut id = report.head_id.expect("a head");
    let mut walked = 0;
    loop {
        let event: AuditEvent = app.get_json(&key, &format!("/api/audit/events/{id}")).await;
        assert_eq!(event.id, id);
        walked += 1;
        let Some(previous_id) = event.previous_id() else {
            assert_eq!(event.sequence(), Some(1));
            assert_eq!(event.prev_hash, "0".repeat(64));
            break;
        };
        let previous: AuditEvent = app
            .get_json(&key, &format!("/api/audit/events/{previous_id}"))
            .await;
        assert_eq!(
            previous.hash, event.prev_hash,
            "{previous_id} precedes {id}"
        );
        id = previous_id;
    }
    // Every event of the chain was reached: the five sent and Witness's own records between.
    assert_eq!(walked, report.verified_count);
}
