use std::collections::HashSet;

use futures_util::StreamExt;
use witness_api::{ApiErrorBody, AuditEvent, EventPage, Histogram};

use crate::helpers::{TestApp, clef_line, spawn_app};

/// Ten events over ten minutes: alice, bob and carol doing member.* and repo.* things.
async fn seeded() -> (TestApp, String) {
    let app = spawn_app().await;
    let ingest = app.ingest_key().await;
    let rows = [
        ("alice", "member.added", "repo-1", "success"),
        ("bob", "member.removed", "repo-1", "failure"),
        ("carol", "repo.created", "repo-2", "success"),
        ("alice", "member.role_changed", "repo-2", "success"),
        ("bob", "repo.deleted", "repo-3", "failure"),
        ("alice", "repo.created", "repo-4", "success"),
        ("carol", "member.added", "repo-4", "success"),
        ("bob", "member.added", "repo-5", "success"),
        ("alice", "repo.archived", "repo-5", "failure"),
        ("carol", "member.removed", "repo-1", "success"),
    ];
    let body: String = rows
        .iter()
        .enumerate()
        .map(|(minute, (actor, action, target, result))| {
            clef_line(
                &format!("2026-11-20T10:{minute:02}:00Z"),
                action,
                actor,
                target,
                result,
            ) + "\n"
        })
        .collect();
    assert_eq!(app.post_clef(&ingest, body).await.status(), 201);
    let read = app.read_key().await;
    (app, read)
}

#[tokio::test]
async fn events_come_newest_first_with_every_field() {
    let (app, key) = seeded().await;
    let page: EventPage = app
        .get_json(&key, "/api/audit/events?action=!witness.*")
        .await;
    assert_eq!(page.events.len(), 10);
    assert!(page.next_cursor.is_none());
    let times: Vec<_> = page.events.iter().map(|e| e.timestamp).collect();
    let mut sorted = times.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(times, sorted);
    let newest = &page.events[0];
    assert_eq!(newest.actor.id.as_deref(), Some("carol"));
    assert_eq!(newest.action, "member.removed");
    assert_eq!(newest.target.id.as_deref(), Some("repo-1"));
    assert_eq!(newest.client_ip.as_deref(), Some("10.0.0.7"));
    assert_eq!(
        newest.organization.as_ref().and_then(|o| o.name.as_deref()),
        Some("Acme")
    );
    assert_eq!(newest.hash.len(), 64);
}

#[tokio::test]
async fn every_filter_narrows_the_set() {
    let (app, key) = seeded().await;
    let count = |query: &'static str| {
        let app = &app;
        let key = &key;
        async move {
            // Self-audit records of the queries themselves are left out.
            let page: EventPage = app
                .get_json(key, &format!("/api/audit/events?{query}&action=!witness.*"))
                .await;
            page.events.len()
        }
    };
    assert_eq!(count("actor=alice").await, 4);
    assert_eq!(count("actor=alice&actor=bob").await, 7);
    assert_eq!(count("actor=!alice").await, 6);
    assert_eq!(count("actor=!alice&actor=!bob").await, 3);
    assert_eq!(count("action=member.*").await, 6);
    assert_eq!(count("action=member.*&action=!member.added").await, 3);
    assert_eq!(count("action=repo.created").await, 2);
    assert_eq!(count("target=repo-1").await, 3);
    assert_eq!(count("target=!repo-1").await, 7);
    assert_eq!(count("result=failure").await, 3);
    assert_eq!(count("ip=10.0.0.7").await, 10);
    assert_eq!(count("ip=10.0.0.8").await, 0);
    assert_eq!(count("organization=Acme").await, 10);
    assert_eq!(count("organization=org-1").await, 10);
    assert_eq!(count("workspace=w").await, 0);
    assert_eq!(
        count("from=2026-11-20T10:03:00Z&to=2026-11-20T10:06:00Z").await,
        3
    );
    assert_eq!(
        count("to=2026-11-20").await,
        10,
        "a whole day includes its end"
    );
    assert_eq!(count("actor=alice&action=member.*&result=success").await, 2);
    assert_eq!(count("q=archived").await, 1);
    assert_eq!(count("q=role").await, 1);
    assert_eq!(count("q=rol").await, 0, "a word matches whole");
    assert_eq!(
        count("q=rol*").await,
        1,
        "a starred word matches as a prefix"
    );
    assert_eq!(count("q=ROLE ali*").await, 1);
    assert_eq!(count("q=alice repo").await, 4);
    assert_eq!(count("q=nobody").await, 0);
}

/// `ip`, `organization`, `workspace` and `source` take several values and `!value` as actor
/// does; `ip=…` given once still means what it always did.
#[tokio::test]
async fn ip_tenant_and_source_take_several_values_and_exclusions() {
    let app = spawn_app().await;
    let ingest = app.ingest_key().await;
    let line = |minute: u32, ip: &str, org: &str, workspace: Option<&str>| {
        let mut event = serde_json::json!({
            "@t": format!("2026-11-20T10:{minute:02}:00Z"),
            "@mt": "{Actor} did {Action}",
            "Action": "doc.viewed",
            "Actor": format!("reader-{minute}"),
            "ClientIp": ip,
            "OrganizationName": org,
        });
        if let Some(workspace) = workspace {
            event["WorkspaceId"] = workspace.into();
        }
        event.to_string() + "\n"
    };
    let body = [
        line(0, "10.0.0.1", "Acme", Some("w-1")),
        line(1, "10.0.0.2", "Acme", None),
        line(2, "10.0.0.3", "Globex", Some("w-2")),
        line(3, "10.0.0.1", "Globex", Some("w-1")),
    ]
    .concat();
    assert_eq!(app.post_clef(&ingest, body).await.status(), 201);
    let read = app.read_key().await;
    let actors = |query: &'static str| {
        let (app, read) = (&app, &read);
        async move {
            let page: EventPage = app
                .get_json(
                    read,
                    &format!("/api/audit/events?action=doc.viewed&{query}"),
                )
                .await;
            let mut actors: Vec<String> = page
                .events
                .iter()
                .filter_map(|e| e.actor.id.clone())
                .collect();
            actors.sort();
            actors.join(",")
        }
    };
    assert_eq!(actors("ip=10.0.0.1").await, "reader-0,reader-3");
    assert_eq!(
        actors("ip=10.0.0.1&ip=10.0.0.2").await,
        "reader-0,reader-1,reader-3"
    );
    assert_eq!(actors("ip=!10.0.0.1").await, "reader-1,reader-2");
    assert_eq!(actors("ip=!10.0.0.1&ip=!10.0.0.2").await, "reader-2");
    assert_eq!(actors("organization=!Acme").await, "reader-2,reader-3");
    assert_eq!(
        actors("organization=Acme&organization=Globex").await,
        "reader-0,reader-1,reader-2,reader-3"
    );
    // An event without a workspace is "not w-1".
    assert_eq!(actors("workspace=!w-1").await, "reader-1,reader-2");
    assert_eq!(actors("workspace=w-1&ip=!10.0.0.1").await, "");
    let histogram: Histogram = app
        .get_json(
            &read,
            "/api/audit/histogram?action=doc.viewed&organization=!Acme&from=2026-11-20&to=2026-11-20",
        )
        .await;
    assert_eq!(histogram.buckets.iter().map(|b| b.count).sum::<u64>(), 2);
}

/// Every query an auditor makes is recorded with source `witness`: `source=!witness` (the
/// panel's default view) shows applications' events only, `source=witness` only Witness's own.
#[tokio::test]
async fn witness_own_records_are_a_source_to_leave_out_or_pick() {
    let (app, key) = seeded().await;
    // The queries themselves leave `witness.audit.query` records behind.
    for _ in 0..3 {
        let _: EventPage = app.get_json(&key, "/api/audit/events?actor=alice").await;
    }
    let everything: EventPage = app.get_json(&key, "/api/audit/events").await;
    assert!(
        everything
            .events
            .iter()
            .any(|e| e.source.as_deref() == Some(witness_api::SELF_AUDIT_SOURCE)),
        "the API's default still shows every source"
    );
    let apps: EventPage = app
        .get_json(&key, "/api/audit/events?source=!witness")
        .await;
    assert_eq!(apps.events.len(), 10);
    assert!(
        apps.events
            .iter()
            .all(|e| !e.action.starts_with("witness."))
    );
    let own: EventPage = app.get_json(&key, "/api/audit/events?source=witness").await;
    assert!(own.events.len() >= 3);
    assert!(own.events.iter().all(|e| e.action.starts_with("witness.")));
    let histogram: Histogram = app
        .get_json(&key, "/api/audit/histogram?source=!witness")
        .await;
    assert_eq!(histogram.buckets.iter().map(|b| b.count).sum::<u64>(), 10);
}

#[tokio::test]
async fn bad_filter_values_are_400_naming_the_parameter() {
    let (app, key) = seeded().await;
    for (query, parameter) in [
        ("from=last-week", "from"),
        ("to=2026-13-01", "to"),
        ("result=perhaps", "result"),
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("limit=ten", "limit"),
        ("cursor=garbage", "cursor"),
        ("actor=!", "actor"),
        ("from=2026-11-21&to=2026-11-20T00:00:00Z", "to"),
    ] {
        let response = app.get(&key, &format!("/api/audit/events?{query}")).await;
        assert_eq!(response.status(), 400, "{query}");
        let error: ApiErrorBody = response.json().await.expect("error body");
        assert!(
            error.message.contains(&format!("`{parameter}`")),
            "{query}: {}",
            error.message
        );
    }
    let response = app.get(&key, "/api/audit/histogram?bucket=fortnight").await;
    assert_eq!(response.status(), 400);
    let response = app.get(&key, "/api/audit/export?format=xlsx").await;
    assert_eq!(response.status(), 400);
}

#[tokio::test]
async fn read_endpoints_need_a_read_key() {
    let (app, _) = seeded().await;
    let ingest_only = app.ingest_key().await;
    for path in [
        "/api/audit/events",
        "/api/audit/events/0000000000000001",
        "/api/audit/histogram",
        "/api/audit/export",
        "/api/audit/verify",
    ] {
        let anonymous = app.client.get(app.url(path)).send().await.expect("request");
        assert_eq!(anonymous.status(), 401, "{path}");
        assert_eq!(app.get(&ingest_only, path).await.status(), 403, "{path}");
    }
}

#[tokio::test]
async fn cursor_paging_has_no_duplicates_or_gaps_while_ingestion_goes_on() {
    let (app, key) = seeded().await;
    let ingest = app.ingest_key().await;
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/audit/events?limit=3&action=!witness.*&cursor={c}"),
            None => "/api/audit/events?limit=3&action=!witness.*".to_string(),
        };
        let page: EventPage = app.get_json(&key, &path).await;
        seen.extend(page.events.iter().map(|e| e.id.clone()));
        // New events arrive between pages, some newer and some older than what we have seen.
        let body = clef_line(
            "2026-11-20T10:04:30Z",
            "late.arrival",
            "dave",
            "x",
            "success",
        ) + "\n"
            + &clef_line(
                "2026-11-21T00:00:00Z",
                "new.arrival",
                "dave",
                "x",
                "success",
            );
        assert_eq!(app.post_clef(&ingest, body).await.status(), 201);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let unique: HashSet<_> = seen.iter().collect();
    assert_eq!(
        seen.len(),
        10,
        "exactly the events present at the first page: {seen:?}"
    );
    assert_eq!(unique.len(), 10);
}

#[tokio::test]
async fn one_event_by_id_and_404_for_unknown_ids() {
    let (app, key) = seeded().await;
    let page: EventPage = app
        .get_json(&key, "/api/audit/events?limit=1&action=!witness.*")
        .await;
    let first = &page.events[0];
    let one: AuditEvent = app
        .get_json(&key, &format!("/api/audit/events/{}", first.id))
        .await;
    assert_eq!(&one, first);
    for id in ["9999999999999999", "not-an-id"] {
        let response = app.get(&key, &format!("/api/audit/events/{id}")).await;
        assert_eq!(response.status(), 404);
        let error: ApiErrorBody = response.json().await.expect("error body");
        assert_eq!(error.code, "not_found");
    }
}

#[tokio::test]
async fn histogram_counts_the_filtered_events_per_bucket() {
    let (app, key) = seeded().await;
    let all: Histogram = app
        .get_json(
            &key,
            "/api/audit/histogram?from=2026-11-20T10:00:00Z&to=2026-11-20T10:10:00Z",
        )
        .await;
    assert_eq!(all.total, 10);
    assert_eq!(all.bucket_seconds, 10, "10 minutes make 60 buckets of 10 s");
    assert_eq!(all.buckets.len(), 60);

    let by_minute: Histogram = app
        .get_json(
            &key,
            "/api/audit/histogram?from=2026-11-20T10:00:00Z&to=2026-11-20T10:10:00Z&bucket=1m",
        )
        .await;
    assert_eq!(by_minute.buckets.len(), 10);
    assert!(by_minute.buckets.iter().all(|b| b.count == 1));

    let failures: Histogram = app
        .get_json(
            &key,
            "/api/audit/histogram?from=2026-11-20T10:00:00Z&to=2026-11-20T10:10:00Z&bucket=5m&result=failure",
        )
        .await;
    let counts: Vec<u64> = failures.buckets.iter().map(|b| b.count).collect();
    assert_eq!(counts, vec![2, 1]);
}

/// Several actions (a prefix, or values) page as one merged list, newest first, in any page size.
#[tokio::test]
async fn several_actions_page_as_one_list() {
    let (app, key) = seeded().await;
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = "/api/audit/events?action=member.*&action=repo.created&action=repo.archived\
                        &action=!member.removed&limit=2"
            .to_string();
        if let Some(cursor) = &cursor {
            path.push_str(&format!("&cursor={cursor}"));
        }
        let page: EventPage = app.get_json(&key, &path).await;
        assert!(page.events.len() <= 2);
        seen.extend(page.events.into_iter().map(|e| (e.timestamp, e.action)));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let minutes: Vec<u32> = seen
        .iter()
        .map(|(time, _)| chrono::Timelike::minute(time))
        .collect();
    assert_eq!(minutes, vec![8, 7, 6, 5, 3, 2, 0], "{seen:?}");
}

#[tokio::test]
async fn histogram_by_action_counts_per_bucket() {
    let (app, key) = seeded().await;
    let counts = |query: &'static str| {
        let app = &app;
        let key = &key;
        async move {
            let histogram: Histogram = app
                .get_json(
                    key,
                    &format!(
                        "/api/audit/histogram?from=2026-11-20T10:00:00Z&to=2026-11-20T10:10:00Z\
                         &bucket=5m&{query}"
                    ),
                )
                .await;
            histogram
                .buckets
                .iter()
                .map(|b| b.count)
                .collect::<Vec<u64>>()
        }
    };
    // member.* at minutes 0 1 3 6 7 9, repo.* at 2 4 5 8.
    assert_eq!(counts("action=member.*").await, vec![3, 3]);
    assert_eq!(counts("action=member.added").await, vec![1, 2]);
    assert_eq!(
        counts("action=member.*&action=!member.added").await,
        vec![2, 1]
    );
    assert_eq!(counts("action=!member.*").await, vec![2, 2]);
    assert_eq!(
        counts("action=repo.*&action=member.removed").await,
        vec![3, 3]
    );
    assert_eq!(counts("action=nothing.*").await, vec![0, 0]);
    assert_eq!(
        counts("action=member.*&actor=alice").await,
        vec![2, 0],
        "with other filters too"
    );
}

#[tokio::test]
async fn export_streams_the_whole_filtered_set_as_csv_and_ndjson() {
    let (app, key) = seeded().await;
    let response = app
        .get(&key, "/api/audit/export?format=csv&actor=alice")
        .await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap_or("")
            .starts_with("text/csv")
    );
    let disposition = response.headers()["content-disposition"]
        .to_str()
        .unwrap_or("")
        .to_string();
    assert!(
        disposition.starts_with("attachment; filename=\"witness-audit-"),
        "{disposition}"
    );
    assert!(disposition.ends_with(".csv\""), "{disposition}");
    let text = response.text().await.expect("body");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader.headers().expect("header row").clone();
    assert_eq!(
        headers.iter().collect::<Vec<_>>(),
        witness_server::routes::CSV_HEADER.to_vec()
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
    assert_eq!(rows.len(), 4);
    assert!(rows.iter().all(|row| &row[4] == "alice"));
    // The message holds spaces and the details hold quotes and commas: quoted properly.
    assert_eq!(&rows[0][18], "alice did repo.archived on repo-5");

    let response = app
        .get(&key, "/api/audit/export?format=ndjson&result=failure")
        .await;
    assert_eq!(response.status(), 200);
    let text = response.text().await.expect("body");
    let events: Vec<AuditEvent> = text
        .lines()
        .map(|line| serde_json::from_str(line).expect("one event per line"))
        .collect();
    assert_eq!(events.len(), 3);
    assert!(
        events
            .iter()
            .all(|e| e.result == witness_api::AuditResult::Failure)
    );
}

#[tokio::test]
async fn export_is_not_capped_at_a_page() {
    let app = spawn_app().await;
    let ingest = app.ingest_key().await;
    let body: String = (0..2500)
        .map(|i| {
            clef_line(
                "2026-11-20T10:00:00Z",
                "bulk.event",
                &format!("u{i}"),
                "t",
                "success",
            ) + "\n"
        })
        .collect();
    assert_eq!(app.post_clef(&ingest, body).await.status(), 201);
    let key = app.read_key().await;
    let text = app
        .get(&key, "/api/audit/export?format=ndjson&action=!witness.*")
        .await
        .text()
        .await
        .expect("body");
    assert_eq!(text.lines().count(), 2500);
}

#[tokio::test]
async fn live_tail_streams_new_matching_events() {
    let (app, key) = seeded().await;
    let response = app.get(&key, "/api/audit/stream?actor=erin").await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap_or("")
            .starts_with("text/event-stream")
    );
    let mut body = response.bytes_stream();

    let ingest = app.ingest_key().await;
    let lines = clef_line(
        "2026-11-22T10:00:00Z",
        "other.event",
        "frank",
        "x",
        "success",
    ) + "\n"
        + &clef_line("2026-11-22T10:00:01Z", "tail.event", "erin", "x", "success");
    assert_eq!(app.post_clef(&ingest, lines).await.status(), 201);

    let mut received = String::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while !received.contains("\n\n") {
        let chunk = tokio::time::timeout_at(deadline, body.next())
            .await
            .expect("an event arrives")
            .expect("stream open")
            .expect("chunk");
        received.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(received.contains("event: audit"), "{received}");
    assert!(received.contains("tail.event"), "{received}");
    assert!(!received.contains("other.event"), "{received}");
}

/// A word in more events than the store's "common word" threshold (10,000) is searched by
/// walking the time index instead of sorting every match: the pages must be the same as the
/// other plan's, newest first by event time even when arrival order differs, with no gaps.
#[tokio::test]
async fn a_common_word_pages_in_time_order_without_gaps() {
    let app = spawn_app().await;
    let ingest = app.ingest_key().await;
    const EVENTS: usize = 10_500;
    let base = chrono::DateTime::parse_from_rfc3339("2026-11-01T00:00:00Z")
        .expect("a valid time")
        .with_timezone(&chrono::Utc);
    // Arrival order is a permutation of time order (7,919 is prime to 10,500).
    let lines: Vec<String> = (0..EVENTS)
        .map(|i| {
            let second = (i * 7_919) % EVENTS;
            let ts = base + chrono::Duration::seconds(second as i64);
            let actor = if second.is_multiple_of(3) {
                "alice"
            } else {
                "bob"
            };
            clef_line(
                &ts.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                "repo.commonplace",
                actor,
                &format!("repo-{second}"),
                "success",
            )
        })
        .collect();
    for chunk in lines.chunks(1_500) {
        let body = chunk.join("\n");
        assert_eq!(app.post_clef(&ingest, body).await.status(), 201);
    }
    let read = app.read_key().await;

    let walk = |query: &'static str| {
        let app = &app;
        let read = &read;
        async move {
            let mut seen = Vec::new();
            let mut cursor: Option<String> = None;
            loop {
                let mut path = format!("/api/audit/events?{query}&action=!witness.*&limit=1000");
                if let Some(cursor) = &cursor {
                    path.push_str(&format!("&cursor={cursor}"));
                }
                let page: EventPage = app.get_json(read, &path).await;
                seen.extend(page.events.into_iter().map(|e| e.timestamp));
                match page.next_cursor {
                    Some(next) => cursor = Some(next),
                    None => break,
                }
            }
            seen
        }
    };
    let all = walk("q=commonplace").await;
    assert_eq!(all.len(), EVENTS, "every match, once");
    let expected: Vec<_> = (0..EVENTS)
        .rev()
        .map(|second| base + chrono::Duration::seconds(second as i64))
        .collect();
    assert_eq!(all, expected, "newest first by event time");

    let alice = walk("q=commonplace alice").await;
    assert_eq!(alice.len(), EVENTS.div_ceil(3));
    assert!(alice.windows(2).all(|pair| pair[0] > pair[1]));

    let rare: EventPage = app
        .get_json(
            &read,
            "/api/audit/events?q=commonplace repo-4242&action=!witness.*",
        )
        .await;
    assert_eq!(rare.events.len(), 1);
    assert_eq!(rare.events[0].target.id.as_deref(), Some("repo-4242"));
}

/// The common-word walk reads matches in storage order and stops early: events stored far out of
/// time order (a late backfill, a clock a day ahead) must still be on their pages.
#[tokio::test]
async fn a_common_word_finds_events_stored_out_of_time_order() {
    let app = spawn_app().await;
    let ingest = app.ingest_key().await;
    let base = chrono::DateTime::parse_from_rfc3339("2026-11-01T00:00:00Z")
        .expect("a valid time")
        .with_timezone(&chrono::Utc);
    let line = |ts: chrono::DateTime<chrono::Utc>, n: usize| {
        clef_line(
            &ts.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "repo.commonplace",
            "bob",
            &format!("repo-{n}"),
            "success",
        )
    };
    let mut expected = Vec::new();
    // In time order, one a second: the walk stops after a block or two for a page...
    let in_order: Vec<String> = (0..12_000)
        .map(|i| {
            let ts = base + chrono::Duration::seconds(i);
            expected.push(ts);
            line(ts, i as usize)
        })
        .collect();
    // ...but one event from a clock a day ahead is stored early, among the oldest...
    let ahead = base + chrono::Duration::days(1);
    expected.push(ahead);
    let mut batches: Vec<String> = vec![in_order[..1_000].join("\n"), line(ahead, 30_000)];
    batches.extend(
        in_order[1_000..]
            .chunks(2_000)
            .map(|chunk| chunk.join("\n")),
    );
    // ...and late arrivals from all over the past are stored last.
    let late: Vec<String> = (0..30)
        .map(|k| {
            let ts = base + chrono::Duration::milliseconds(k * 400_000 + 500);
            expected.push(ts);
            line(ts, 20_000 + k as usize)
        })
        .collect();
    batches.push(late.join("\n"));
    for body in batches {
        assert_eq!(app.post_clef(&ingest, body).await.status(), 201);
    }
    expected.sort_unstable_by(|a, b| b.cmp(a));

    let read = app.read_key().await;
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = "/api/audit/events?q=commonplace&action=!witness.*&limit=250".to_string();
        if let Some(cursor) = &cursor {
            path.push_str(&format!("&cursor={cursor}"));
        }
        let page: EventPage = app.get_json(&read, &path).await;
        seen.extend(page.events.into_iter().map(|e| e.timestamp));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(seen.len(), expected.len(), "every match, once");
    assert!(seen == expected, "newest first by event time");

    // A time range: only its events, newest first.
    let page: EventPage = app
        .get_json(
            &read,
            "/api/audit/events?q=commonplace&action=!witness.*\
             &from=2026-11-01T00:00:00Z&to=2026-11-01T00:06:41Z&limit=1000",
        )
        .await;
    let in_range: Vec<_> = expected
        .iter()
        .copied()
        .filter(|ts| *ts < base + chrono::Duration::seconds(401))
        .collect();
    let got: Vec<_> = page.events.iter().map(|e| e.timestamp).collect();
    assert_eq!(got, in_range);
}

/// Pages through `/api/audit/events` with `filter`, `limit` rows at a time; the ids in order.
async fn all_pages(app: &TestApp, read: &str, filter: &str, limit: usize) -> Vec<AuditEvent> {
    let mut events = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/api/audit/events?{filter}&limit={limit}");
        if let Some(cursor) = &cursor {
            path.push_str(&format!("&cursor={cursor}"));
        }
        let page: EventPage = app.get_json(read, &path).await;
        assert!(page.events.len() <= limit);
        events.extend(page.events);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return events,
        }
    }
}

/// With partitions of three events, batches in time order, a late batch (a day in the past)
/// and an early one (a clock ahead) land in partitions (days of arrival) whose times overlap or
/// run backwards;
/// every page, filter and count over HTTP is as if they were one table.
#[tokio::test]
async fn pages_cross_partitions_whatever_order_events_arrive_in() {
    let app = crate::helpers::spawn_app_with(|config| config.partition_events = 3).await;
    let ingest = app.ingest_key().await;
    let read = app.read_key().await;
    let batches = [
        ("2026-11-20T10:0", "alice"),
        ("2026-11-19T10:0", "bob"),
        ("2026-11-22T10:0", "carol"),
        ("2026-11-20T10:1", "alice"),
    ];
    let mut sent = Vec::new();
    for (batch, (time, actor)) in batches.iter().enumerate() {
        let body: String = (0..4)
            .map(|i| {
                let timestamp = format!("{time}{i}:00Z");
                sent.push((timestamp.clone(), format!("batch.{batch}"), *actor));
                clef_line(
                    &timestamp,
                    &format!("batch.{batch}"),
                    actor,
                    "repo-1",
                    "success",
                ) + "\n"
            })
            .collect();
        assert_eq!(app.post_clef(&ingest, body).await.status(), 201);
        // Each batch arrives a day after the one before: a partition of its own on either
        // backend (PostgreSQL partitions by day of arrival only).
        app.clock.advance(chrono::Duration::days(1));
    }
    sent.sort_by(|a, b| b.0.cmp(&a.0));
    let expected: Vec<(String, String)> = sent
        .iter()
        .map(|(t, action, _)| (t.clone(), action.clone()))
        .collect();
    let seen = |events: &[AuditEvent]| -> Vec<(String, String)> {
        events
            .iter()
            .map(|e| {
                (
                    e.timestamp.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
                    e.action.clone(),
                )
            })
            .collect()
    };
    for limit in [1, 3, 5, 100] {
        let events = all_pages(&app, &read, "action=batch.*", limit).await;
        assert_eq!(seen(&events), expected, "limit {limit}");
    }
    let alice = all_pages(&app, &read, "action=batch.*&actor=alice", 2).await;
    assert_eq!(alice.len(), 8);
    assert!(alice.iter().all(|e| e.actor.id.as_deref() == Some("alice")));
    let bob_by_text = all_pages(&app, &read, "q=bob&action=batch.*", 3).await;
    assert_eq!(bob_by_text.len(), 4);
    let day = all_pages(
        &app,
        &read,
        "action=batch.*&from=2026-11-20T00:00:00Z&to=2026-11-21T00:00:00Z",
        3,
    )
    .await;
    assert_eq!(day.len(), 8);
    let histogram: Histogram = app
        .get_json(
            &read,
            "/api/audit/histogram?action=batch.*&from=2026-11-18T00:00:00Z&to=2026-11-23T00:00:00Z",
        )
        .await;
    assert_eq!(histogram.total, 16);
    let by_actor: Histogram = app
        .get_json(
            &read,
            "/api/audit/histogram?actor=alice&from=2026-11-18T00:00:00Z&to=2026-11-23T00:00:00Z",
        )
        .await;
    assert_eq!(by_actor.total, 8);
    // One event by id, from the first day's partition.
    let oldest = alice.last().expect("alice's events");
    let one: AuditEvent = app
        .get_json(&read, &format!("/api/audit/events/{}", oldest.id))
        .await;
    assert_eq!(one.id, oldest.id);
    let report: witness_api::VerifyReport =
        app.get_json(&read, "/api/audit/verify?full=true").await;
    assert!(report.ok, "{report:?}");
}
