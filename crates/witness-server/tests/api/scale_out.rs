//! Several servers on one PostgreSQL database (run with the suite's PostgreSQL backend:
//! `WITNESS_TEST_BACKEND=postgres`, which `make test` does).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use serde_json::Value;
use witness_api::{EventPage, VerifyReport};
use witness_server::apikeys::{generate_token, hash_token, token_prefix};
use witness_server::ingest::{BodyFormat, IngestLimits, parse_body};
use witness_server::model::EventSource;
use witness_server::store::{Permission, PostgresStore, Store, event_id};

use crate::helpers::{ADMIN_PASSWORD, clef_line, test_database_url};

/// A `witness serve` process of its own, on a port it chose and printed.
struct Server {
    child: Child,
    address: String,
    _data: tempfile::TempDir,
}

impl Server {
    fn start(database_url: &str) -> Server {
        let data = tempfile::tempdir().expect("data directory");
        let mut child = Command::new(env!("CARGO_BIN_EXE_witness"))
            .args(["serve", "--listen", "127.0.0.1:0"])
            .env("WITNESS_DATA_DIR", data.path())
            .env("WITNESS_PANEL_DIR", data.path())
            .env("WITNESS_DATABASE_URL", database_url)
            .env("WITNESS_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("RUST_LOG", "error")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start witness");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let address = loop {
            let line = lines
                .next()
                .expect("the server prints where it listens before anything else fails")
                .expect("a line");
            if let Some(address) = line.strip_prefix("Witness is listening on ") {
                break address.trim().to_string();
            }
        };
        // Keep reading, so that the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Server {
            child,
            address,
            _data: data,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn key(store: &dyn Store, permission: Permission) -> String {
    let token = generate_token();
    store
        .create_api_key(
            "scale-out",
            &[permission],
            hash_token(&token),
            &token_prefix(&token),
        )
        .await
        .expect("API key");
    token
}

async fn post(client: &reqwest::Client, server: &str, key: &str, body: String) -> u16 {
    match client
        .post(format!("{server}/ingest/clef"))
        .header("X-Seq-ApiKey", key)
        .header("Content-Type", "application/vnd.serilog.clef")
        .body(body)
        .send()
        .await
    {
        Ok(response) => response.status().as_u16(),
        Err(_) => 0,
    }
}

fn batch(server: &str, batch: usize, size: usize) -> String {
    (0..size)
        .map(|i| {
            clef_line(
                &format!(
                    "2026-11-29T{:02}:{:02}:{:02}Z",
                    batch % 24,
                    i % 60,
                    batch % 60
                ),
                "scale.test",
                &format!("{server}-batch-{batch}"),
                &format!("target-{i}"),
                "success",
            ) + "\n"
        })
        .collect()
}

/// Every event matching `query`, walking the pages of one server.
async fn all_ids(client: &reqwest::Client, server: &Server, key: &str, query: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut url = server.url(&format!("/api/audit/events?limit=137&{query}"));
        if let Some(cursor) = &cursor {
            url.push_str(&format!("&cursor={cursor}"));
        }
        let page: EventPage = client
            .get(url)
            .header("X-Seq-ApiKey", key)
            .send()
            .await
            .expect("page")
            .json()
            .await
            .expect("page body");
        ids.extend(page.events.into_iter().map(|event| event.id));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return ids,
        }
    }
}

async fn full_verify(client: &reqwest::Client, server: &Server, key: &str) -> VerifyReport {
    client
        .get(server.url("/api/audit/verify?full=true"))
        .header("X-Seq-ApiKey", key)
        .send()
        .await
        .expect("verify")
        .json()
        .await
        .expect("report")
}

/// Two writers on one database (two stores, as two servers have) appending at once: each
/// batch gets a run of seqs of its own, the runs tile the chain with no gap and no overlap,
/// every seq holds its batch's event, and the chain verifies. A writer chains its next groups
/// onto the head it expects while earlier ones commit; here the other writer keeps moving the
/// head in between, so both keep finding it elsewhere and chaining again under the lock.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_writers_interleave_their_batches_into_one_gapless_chain() {
    let Some(url) = test_database_url().await else {
        eprintln!("not on the PostgreSQL backend: nothing to scale out");
        return;
    };
    let mut tasks = Vec::new();
    for writer in ["a", "b"] {
        let store = Arc::new(PostgresStore::connect(&url).await.expect("a store"));
        for worker in 0..4 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                let mut receipts = Vec::new();
                for n in 0..12 {
                    let size = 1 + (worker * 7 + n * 3) % 25;
                    let name = format!("{writer}-batch-{}", worker * 100 + n);
                    let receipt = append_batch(&store, writer, worker * 100 + n, size).await;
                    receipts.push((name, size, receipt));
                }
                receipts
            }));
        }
    }
    let mut receipts = Vec::new();
    for task in tasks {
        receipts.extend(task.await.expect("writer task"));
    }
    receipts.sort_by_key(|(_, _, receipt)| receipt.first_seq);

    let store = PostgresStore::connect(&url).await.expect("a reader");
    let ends = store.chain_ends().await.expect("chain ends");
    let mut expected_next = 1;
    for (name, size, receipt) in &receipts {
        assert_eq!(
            receipt.first_seq, expected_next,
            "{name} starts right after the batch before"
        );
        assert_eq!(
            receipt.last_seq - receipt.first_seq + 1,
            *size as i64,
            "{name} has its own seqs"
        );
        for seq in [receipt.first_seq, receipt.last_seq] {
            let event = store
                .get(&event_id(seq))
                .await
                .expect("get")
                .expect("stored");
            assert_eq!(
                event.actor.id.as_deref(),
                Some(name.as_str()),
                "seq {seq} holds {name}"
            );
        }
        expected_next = receipt.last_seq + 1;
    }
    let report = store.verify(true).await.expect("verify");
    assert!(report.ok, "one chain: {report:?}");
    assert_eq!(
        ends.head_seq,
        expected_next - 1,
        "the head is the last batch's last event"
    );
}

/// Retention dropping days' partitions while two writers ingest: every append succeeds, the
/// expired days go, and the chain verifies from its new anchor. Dropping a partition locks all
/// of `events`; a writer's group holds its rows there while it waits for the chain, or for the
/// group before it, so any lock taken out of order here is a deadlock that would hang (with the
/// groups' lock on `events` left unordered, one run in four of this test failed).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn retention_drops_days_while_two_writers_ingest() {
    let Some(url) = test_database_url().await else {
        eprintln!("not on the PostgreSQL backend: nothing to scale out");
        return;
    };
    let clock = witness_server::clock::Clock::default();
    let first_day = clock.now().date_naive();
    let first = Arc::new(
        PostgresStore::connect_with_clock(&url, clock.clone())
            .await
            .expect("a store"),
    );
    let mut expired = 0;
    for day in 0..5 {
        expired += append_batch(&first, "old", day, 60).await.last_seq - expired;
        clock.advance(chrono::Duration::days(1));
    }
    clock.advance(chrono::Duration::days(2));
    let second = Arc::new(
        PostgresStore::connect_with_clock(&url, clock.clone())
            .await
            .expect("a store"),
    );
    let mut tasks = Vec::new();
    for (writer, store) in [("a", first.clone()), ("b", second.clone())] {
        for worker in 0..3 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                for n in 0..12 {
                    append_batch(&store, writer, worker * 100 + n, 40).await;
                }
            }));
        }
    }
    // A deadlock would hang here for good: fail instead.
    let removed = tokio::time::timeout(std::time::Duration::from_secs(60), async {
        let mut removed = 0;
        for day in 1..=5 {
            tokio::time::sleep(std::time::Duration::from_millis(15)).await;
            let midnight = (first_day + chrono::Days::new(day))
                .and_hms_opt(0, 0, 0)
                .expect("midnight")
                .and_utc();
            removed += second
                .delete_received_before(midnight)
                .await
                .expect("retention");
        }
        for task in tasks {
            task.await.expect("every append succeeds");
        }
        removed
    })
    .await
    .expect("retention and ingestion finish (no deadlock)");
    assert_eq!(removed, expired as u64, "the expired days, whole");
    let report = second.verify(true).await.expect("verify");
    assert!(
        report.ok,
        "the chain verifies from its new anchor: {report:?}"
    );
    assert_eq!(report.verified_count, 3 * 2 * 12 * 40);
}

async fn append_batch(
    store: &PostgresStore,
    writer: &str,
    n: usize,
    size: usize,
) -> witness_server::store::AppendReceipt {
    let body = batch(writer, n, size);
    let events =
        parse_body(BodyFormat::Clef, body.as_bytes(), &IngestLimits::default()).expect("events");
    store
        .append(EventSource::api_key("key-test"), events)
        .await
        .expect("append")
}

#[tokio::test]
async fn two_servers_share_one_chain_and_one_survives_the_other_killed() {
    let Some(url) = test_database_url().await else {
        eprintln!("not on the PostgreSQL backend: nothing to scale out");
        return;
    };
    // The schema is made by whichever server starts first; both start at once.
    let (a, b) = (
        std::thread::spawn({
            let url = url.clone();
            move || Server::start(&url)
        }),
        std::thread::spawn({
            let url = url.clone();
            move || Server::start(&url)
        }),
    );
    let (a, b) = (a.join().expect("server a"), b.join().expect("server b"));
    let store = PostgresStore::connect(&url)
        .await
        .expect("the shared store");
    let ingest = key(&store, Permission::Ingest).await;
    let read = key(&store, Permission::Read).await;
    let client = reqwest::Client::new();

    // Concurrent ingestion through both.
    let mut tasks = Vec::new();
    for (name, address) in [("a", a.address.clone()), ("b", b.address.clone())] {
        for worker in 0..3 {
            let (client, ingest) = (client.clone(), ingest.clone());
            let address = address.clone();
            tasks.push(tokio::spawn(async move {
                for n in 0..8 {
                    let body = batch(name, worker * 100 + n, 40);
                    assert_eq!(post(&client, &address, &ingest, body).await, 201);
                }
            }));
        }
    }
    for task in tasks {
        task.await.expect("ingestion task");
    }
    let from_a = all_ids(&client, &a, &read, "action=scale.test").await;
    let from_b = all_ids(&client, &b, &read, "action=scale.test").await;
    assert_eq!(from_a.len(), 2 * 3 * 8 * 40);
    assert_eq!(from_a, from_b, "every page is the same from either server");
    let mut unique = from_a.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), from_a.len(), "no event twice");
    let report = full_verify(&client, &b, &read).await;
    assert!(report.ok, "one chain that verifies: {report:?}");

    // Kill -9 one server while it ingests: every acknowledged batch is kept.
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let feeder = {
        let (client, ingest, address) = (client.clone(), ingest.clone(), b.address.clone());
        let acknowledged = acknowledged.clone();
        tokio::spawn(async move {
            for n in 1000.. {
                match post(&client, &address, &ingest, batch("b", n, 200)).await {
                    201 => acknowledged.lock().expect("list").push(n),
                    _ => return,
                }
            }
        })
    };
    while acknowledged.lock().expect("list").len() < 5 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let mut b = b;
    b.child.kill().expect("kill -9");
    b.child.wait().expect("killed");
    feeder.await.expect("feeder");

    // The other server keeps serving: ingestion, queries, verify.
    assert_eq!(
        post(&client, &a.address, &ingest, batch("a", 9999, 10)).await,
        201
    );
    let acknowledged = acknowledged.lock().expect("list").clone();
    assert!(acknowledged.len() >= 5);
    for n in acknowledged {
        let ids = all_ids(&client, &a, &read, &format!("actor=b-batch-{n}")).await;
        assert_eq!(ids.len(), 200, "acknowledged batch {n} is stored whole");
    }
    let report = full_verify(&client, &a, &read).await;
    assert!(report.ok, "the chain still verifies: {report:?}");
    let health: Value = client
        .get(a.url("/api/health"))
        .send()
        .await
        .expect("health")
        .json()
        .await
        .expect("health body");
    assert!(health.is_object());
}

#[tokio::test]
async fn a_scheduled_job_runs_on_one_server_per_period() {
    let Some(url) = test_database_url().await else {
        eprintln!("not on the PostgreSQL backend: nothing to scale out");
        return;
    };
    let one = PostgresStore::connect(&url)
        .await
        .expect("first server's store");
    let two = PostgresStore::connect(&url)
        .await
        .expect("second server's store");
    let (first, second) = tokio::join!(one.claim_job("backup", 42), two.claim_job("backup", 42));
    let claims = [first.expect("claim"), second.expect("claim")];
    assert_eq!(claims.iter().filter(|claimed| **claimed).count(), 1);
    assert!(two.claim_job("backup", 43).await.expect("next period"));
    assert!(one.claim_job("retention", 42).await.expect("another job"));
}
