//! The partitioned store against an in-memory model: pages, filters, free text, histograms,
//! retention and restarts give the answers `EventFilter::matches` gives over the events stored,
//! whatever partitions the events landed in and however far sealing got.

use std::path::Path;

use chrono::{DateTime, Duration, TimeZone, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rusqlite::Connection;
use witness_api::{AuditEvent, EventFilter};

use super::partitions::{self, PartitionOptions};
use super::text_index;
use super::{DATABASE_FILE, SqliteStore};
use crate::ingest::{BodyFormat, IngestLimits, parse_body};
use crate::model::EventSource;
use crate::store::{Cursor, EventQuery, Store};

const ACTIONS: [&str; 6] = [
    "user.login",
    "user.logout",
    "repo.pushed",
    "repo.created",
    "member.added",
    "billing.paid",
];
const ACTORS: [&str; 5] = ["alice", "bob", "carol", "dave", "erin"];
const WORDS: [&str; 10] = [
    "deploy",
    "café",
    "Rollback",
    "token",
    "denied",
    "east",
    "west",
    "naïve",
    "cafe\u{301}",
    "İstanbul",
];

fn base_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0)
        .single()
        .expect("a valid time")
}

/// `count` CLEF lines; `minutes` gives each one's event time (minutes after the base time).
fn clef(rng: &mut StdRng, count: usize, minutes: impl Fn(usize) -> i64) -> String {
    (0..count)
        .map(|i| {
            let word = |rng: &mut StdRng| WORDS[rng.random_range(0..WORDS.len())];
            let line = serde_json::json!({
                "@t": (base_time() + Duration::minutes(minutes(i))).to_rfc3339(),
                "@mt": format!("{} {} {{Action}}", word(rng), word(rng)),
                "Action": ACTIONS[rng.random_range(0..ACTIONS.len())],
                "Actor": ACTORS[rng.random_range(0..ACTORS.len())],
                "Target": format!("repo-{}", rng.random_range(0..4)),
                "Result": if rng.random_bool(0.2) { "failure" } else { "success" },
                "ClientIp": format!("10.0.0.{}", rng.random_range(1..4)),
                "OrganizationId": format!("org-{}", rng.random_range(1..3)),
            });
            format!("{line}\n")
        })
        .collect()
}

async fn append(store: &SqliteStore, body: &str) {
    let events =
        parse_body(BodyFormat::Clef, body.as_bytes(), &IngestLimits::default()).expect("parse");
    store
        .append(EventSource::api_key("key-test"), events)
        .await
        .expect("append");
}

fn small(events_per_partition: i64, seal: bool) -> PartitionOptions {
    PartitionOptions {
        events_per_partition,
        seal,
    }
}

/// Every page of `filter` at `limit` rows, followed by cursor.
async fn walk(store: &SqliteStore, filter: &EventFilter, limit: usize) -> Vec<AuditEvent> {
    let mut events = Vec::new();
    let mut cursor: Option<Cursor> = None;
    loop {
        let page = store
            .query(EventQuery {
                filter: filter.clone(),
                limit,
                cursor,
            })
            .await
            .expect("page");
        assert!(page.events.len() <= limit);
        events.extend(page.events);
        match page.next_cursor {
            Some(next) => cursor = Some(Cursor::decode(&next).expect("cursor")),
            None => return events,
        }
    }
}

/// What the store should answer: the matching events, newest event time first (ties: newest
/// stored first).
fn expected(all: &[AuditEvent], filter: &EventFilter) -> Vec<String> {
    let mut matching: Vec<&AuditEvent> = all.iter().filter(|e| filter.matches(e)).collect();
    matching.sort_by(|a, b| (b.timestamp, &b.id).cmp(&(a.timestamp, &a.id)));
    matching.iter().map(|e| e.id.clone()).collect()
}

fn ids(events: &[AuditEvent]) -> Vec<String> {
    events.iter().map(|e| e.id.clone()).collect()
}

fn filters() -> Vec<EventFilter> {
    let pairs: Vec<Vec<(&str, &str)>> = vec![
        vec![],
        vec![("actor", "alice")],
        vec![("actor", "!bob")],
        vec![("action", "repo.*")],
        vec![("action", "user.login"), ("action", "member.added")],
        vec![("action", "!user.*")],
        vec![("result", "failure")],
        vec![("ip", "10.0.0.2")],
        vec![("organization", "org-1"), ("target", "repo-3")],
        vec![("q", "café")],
        vec![("q", "cafe")],
        vec![("q", "rollback deploy")],
        vec![("q", "NAÏVE")],
        vec![("q", "tok*")],
        vec![("q", "İstanbul")],
        vec![("q", "denied"), ("actor", "carol")],
        vec![("q", "east"), ("action", "!repo.pushed")],
        vec![
            ("from", "2026-03-01T02:00:00Z"),
            ("to", "2026-03-01T05:00:00Z"),
        ],
        vec![
            ("from", "2026-03-01T01:00:00Z"),
            ("q", "west"),
            ("result", "success"),
        ],
        vec![("source", "key-test")],
        vec![("source", "witness")],
    ];
    pairs
        .into_iter()
        .map(|pairs| EventFilter::from_pairs(pairs).expect("filter"))
        .collect()
}

/// Checks every filter's pages (and histogram total) against the model.
async fn check_against_model(store: &SqliteStore, all: &[AuditEvent], limit: usize) {
    for filter in filters() {
        let got = ids(&walk(store, &filter, limit).await);
        assert_eq!(
            got,
            expected(all, &filter),
            "filter {:?}",
            filter.to_pairs()
        );
        let counted = EventFilter {
            from: Some(filter.from.unwrap_or(base_time() - Duration::days(3))),
            to: Some(filter.to.unwrap_or(base_time() + Duration::days(3))),
            ..filter.clone()
        };
        let histogram = store
            .histogram(counted.clone(), None)
            .await
            .expect("histogram");
        let in_range = all.iter().filter(|e| counted.matches(e)).count() as u64;
        assert_eq!(
            histogram.total,
            in_range,
            "histogram {:?}",
            filter.to_pairs()
        );
    }
}

async fn everything(store: &SqliteStore) -> Vec<AuditEvent> {
    walk(store, &EventFilter::default(), 1000).await
}

fn catalog(path: &Path) -> Vec<partitions::Partition> {
    let conn = Connection::open(path).expect("open");
    partitions::load(&conn).expect("catalog")
}

/// The sealed partitions of the catalog, oldest first.
fn sealed(path: &Path) -> Vec<partitions::Partition> {
    catalog(path)
        .into_iter()
        .filter(|p| p.is_sealed())
        .collect()
}

/// Waits (up to 10 s) until the catalog is as `done` says.
async fn wait_until(path: &Path, done: impl Fn(&[partitions::Partition]) -> bool) {
    for _ in 0..500 {
        if done(&catalog(path)) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let catalog = catalog(path);
    assert!(done(&catalog), "{catalog:?}");
}

/// `batches` batches of 10 events, 10 minutes apart, into a store at `path` that does not seal
/// (partitions of 10: each batch fills one); every event, as stored.
async fn partitions_of_ten(path: &Path, seed: u64, batches: i64) -> Vec<AuditEvent> {
    let mut rng = StdRng::seed_from_u64(seed);
    let store = SqliteStore::open_with(path, small(10, false)).expect("store");
    for batch in 0..batches {
        append(&store, &clef(&mut rng, 10, |i| batch * 10 + i as i64)).await;
    }
    everything(&store).await
}

/// Runs the writer's sealing steps and the text indexer's on connections of their own until
/// nothing is left.
fn seal_all(path: &Path) {
    let mut sealer = partitions::Sealer::open(path).expect("sealer");
    while sealer.step().expect("seal step") {}
}

/// Events in time order, late events (a day in the past) and early ones (a clock ahead),
/// across many small partitions, some sealed and some not: every filter's pages, in both
/// page sizes, agree with the model before and after sealing.
#[tokio::test]
async fn pages_across_partitions_agree_with_the_model_before_and_after_sealing() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join(DATABASE_FILE);
    let mut rng = StdRng::seed_from_u64(7);
    let store = SqliteStore::open_with(&path, small(20, false)).expect("store");
    // Arrival in time order, then a backfill of older events, then a clock ahead, then in
    // order again: later partitions hold older events and the other way round.
    for batch in 0..6 {
        append(&store, &clef(&mut rng, 9, |i| batch * 30 + i as i64 * 3)).await;
    }
    append(&store, &clef(&mut rng, 25, |i| -1440 + i as i64)).await;
    append(&store, &clef(&mut rng, 7, |i| 2 * 1440 + i as i64)).await;
    for batch in 6..9 {
        append(&store, &clef(&mut rng, 9, |i| batch * 30 + i as i64 * 3)).await;
    }
    // Same event time, different arrival: the tie is broken by arrival, newest first.
    append(&store, &clef(&mut rng, 4, |_| 100)).await;
    let all = everything(&store).await;
    assert_eq!(all.len(), 6 * 9 + 25 + 7 + 3 * 9 + 4);
    let before = catalog(&path);
    assert!(before.len() >= 5, "{before:?}");
    assert!(before.iter().all(|p| !p.is_sealed()));

    check_against_model(&store, &all, 7).await;
    check_against_model(&store, &all, 100).await;

    seal_all(&path);
    let after = catalog(&path);
    assert_eq!(
        after.iter().filter(|p| p.is_sealed()).count(),
        after.len() - 1,
        "all but the hot one: {after:?}"
    );
    check_against_model(&store, &all, 7).await;
    check_against_model(&store, &all, 100).await;
    assert!(store.verify(true).await.expect("verify").ok);
}

/// The writer seals in steps between group commits; stopped half way (some indexes built),
/// the store opens again, answers the same, and finishes sealing on its own.
#[tokio::test]
async fn a_restart_in_the_middle_of_sealing_resumes_it() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join(DATABASE_FILE);
    let all = partitions_of_ten(&path, 11, 4).await;
    {
        let mut sealer = partitions::Sealer::open(&path).expect("sealer");
        for _ in 0..5 {
            assert!(sealer.step().expect("step"));
        }
    }
    let half = catalog(&path);
    assert!(half.iter().all(|p| !p.is_sealed()), "{half:?}");
    let store = SqliteStore::open_with(&path, small(10, false)).expect("reopen");
    check_against_model(&store, &all, 6).await;
    drop(store);

    // A store that seals finishes the job by itself.
    let store = SqliteStore::open_with(&path, small(10, true)).expect("reopen sealing");
    // (Counts of partitions are not fixed: a UTC midnight during the test opens one more.)
    let all_but_hot_sealed = |catalog: &[partitions::Partition]| {
        catalog
            .iter()
            .all(|p| p.is_sealed() || p.state == partitions::PartitionState::Hot)
    };
    wait_until(&path, all_but_hot_sealed).await;
    let sealed = catalog(&path);
    assert!(
        sealed.iter().filter(|p| p.is_sealed()).count() >= 3,
        "{sealed:?}"
    );
    check_against_model(&store, &all, 6).await;
    assert!(store.verify(true).await.expect("verify").ok);
}

fn text_file(path: &Path) -> Connection {
    Connection::open(text_index::path_for(path)).expect("open the text file")
}

/// The text index and the filter indexes of a partition opened today live in the text index
/// file (the filter indexes on its index table), not in the store's. The writer marks a
/// partition sealed only once the text indexer has built all of them: its own steps alone
/// build nothing and wait.
#[tokio::test]
async fn a_partition_is_sealed_only_once_its_text_index_and_index_table_are_complete() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join(DATABASE_FILE);
    let all = partitions_of_ten(&path, 17, 3).await;
    let full: Vec<partitions::Partition> = catalog(&path)
        .into_iter()
        .filter(|p| p.state == partitions::PartitionState::Full)
        .collect();
    assert!(full.len() >= 2, "{full:?}");
    {
        let mut conn = Connection::open(&path).expect("open");
        super::schema::configure(&conn).expect("configure");
        let texts = text_index::open(&path).expect("text file");
        assert_eq!(
            partitions::seal_step(&mut conn, &texts).expect("step"),
            partitions::Sealing::WaitingForText
        );
    }
    assert!(catalog(&path).iter().all(|p| !p.is_sealed()));
    // Half way through the text indexer's work (text indexes done, some index tables begun):
    // still not sealed, and every answer the same.
    {
        let mut indexer = text_index::indexer_connection(&path).expect("indexer");
        for _ in 0..full.len() + 4 {
            assert!(text_index::step(&mut indexer).expect("indexer step"));
        }
        let mut conn = Connection::open(&path).expect("open");
        super::schema::configure(&conn).expect("configure");
        let texts = text_index::open(&path).expect("text file");
        assert_eq!(
            partitions::seal_step(&mut conn, &texts).expect("step"),
            partitions::Sealing::WaitingForText
        );
    }
    assert!(catalog(&path).iter().all(|p| !p.is_sealed()));
    {
        let store = SqliteStore::open_with(&path, small(10, false)).expect("reopen");
        check_against_model(&store, &all, 8).await;
    }

    seal_all(&path);
    let sealed = sealed(&path);
    assert_eq!(sealed.len(), full.len(), "{sealed:?}");
    let (conn, texts) = (Connection::open(&path).expect("open"), text_file(&path));
    for partition in &sealed {
        assert!(partition.text_apart && partition.index_apart);
        let index_table = partition.index_table_name();
        for name in [format!("{}_fts", partition.table()), index_table.clone()] {
            assert!(!partitions::exists(&conn, &name).expect("exists"));
            assert!(partitions::exists(&texts, &name).expect("exists"));
            let indexed: i64 = texts
                .query_row(&format!("SELECT COUNT(*) FROM {name}"), [], |row| {
                    row.get(0)
                })
                .expect("count");
            assert_eq!(indexed, partition.len(), "{name} of {partition:?}");
        }
        for (suffix, _, _) in super::schema::PARTITION_INDEXES {
            assert!(
                partitions::exists(&texts, &format!("{index_table}_{suffix}")).expect("exists")
            );
        }
        // In the store's file, only the event-time index it had while hot.
        let indexes: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM pragma_index_list(?1)",
                [partition.table()],
                |row| row.get(0),
            )
            .expect("indexes");
        assert_eq!(indexes, 1, "{partition:?}");
    }
    let store = SqliteStore::open_with(&path, small(10, false)).expect("reopen");
    check_against_model(&store, &all, 7).await;
}

/// A partition opened before index tables existed (as a store from then has its hot and full
/// ones) is sealed as it was: its filter indexes on its events table, by the writer, and no
/// index table; the answers agree with the model before and after.
#[tokio::test]
async fn a_partition_from_before_index_tables_keeps_its_indexes_on_its_events_table() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join(DATABASE_FILE);
    let all = partitions_of_ten(&path, 23, 3).await;
    {
        let conn = Connection::open(&path).expect("open");
        conn.execute_batch("UPDATE partitions SET index_apart = 0")
            .expect("partitions from before index tables");
    }
    {
        let store = SqliteStore::open_with(&path, small(10, false)).expect("reopen");
        check_against_model(&store, &all, 7).await;
    }
    seal_all(&path);
    let sealed = sealed(&path);
    assert_eq!(sealed.len(), 2, "{sealed:?}");
    let (conn, texts) = (Connection::open(&path).expect("open"), text_file(&path));
    for partition in &sealed {
        assert!(!partition.index_apart);
        for (suffix, _, _) in super::schema::PARTITION_INDEXES {
            let index = format!("{}_{suffix}", partition.table());
            assert!(
                partitions::exists(&conn, &index).expect("exists"),
                "{index}"
            );
        }
        let index_table = partition.index_table_name();
        assert!(!partitions::exists(&texts, &index_table).expect("exists"));
        assert_eq!(partition.filter_table(), partition.table());
    }
    let store = SqliteStore::open_with(&path, small(10, false)).expect("reopen");
    check_against_model(&store, &all, 7).await;
    check_against_model(&store, &all, 100).await;
}

/// A word in more rows of a sealed partition than a page reads through its text index
/// (`repo`, in every target here) with a filter that selects rows: the filter's index in the
/// index table drives the page and each row's text is matched in the events table beside it.
/// Pages and counts agree with the model.
#[tokio::test]
async fn a_common_word_with_a_selecting_filter_pages_through_the_index_table() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join(DATABASE_FILE);
    let mut rng = StdRng::seed_from_u64(29);
    let store = SqliteStore::open_with(&path, small(12_000, false)).expect("store");
    for batch in 0..4 {
        append(&store, &clef(&mut rng, 3_000, |i| batch * 3_000 + i as i64)).await;
    }
    // The next event opens a new partition: the first is full.
    append(&store, &clef(&mut rng, 1, |_| 12_000)).await;
    let all = everything(&store).await;
    drop(store);
    seal_all(&path);
    let first = catalog(&path).remove(0);
    assert!(first.is_sealed() && first.index_apart, "{first:?}");
    assert!(first.len() > 10_000);

    let store = SqliteStore::open_with(&path, small(12_000, false)).expect("reopen");
    for pairs in [
        vec![("q", "repo"), ("actor", "alice")],
        vec![("q", "repo deploy"), ("result", "failure")],
        vec![("q", "repo"), ("action", "user.login"), ("ip", "10.0.0.2")],
    ] {
        let filter = EventFilter::from_pairs(pairs).expect("filter");
        let got = ids(&walk(&store, &filter, 50).await);
        assert_eq!(got, expected(&all, &filter), "{:?}", filter.to_pairs());
        let counted = EventFilter {
            from: Some(base_time() - Duration::days(1)),
            to: Some(base_time() + Duration::days(30)),
            ..filter.clone()
        };
        let histogram = store.histogram(counted.clone(), None).await.expect("count");
        let in_range = all.iter().filter(|e| counted.matches(e)).count() as u64;
        assert_eq!(histogram.total, in_range, "{:?}", filter.to_pairs());
    }
}

/// The text index file is derived from the events: when it is lost, the store notices as it
/// opens, its sealed partitions go back to `full` (free text matched row by row, the same
/// answers) and the text indexer builds them again.
#[tokio::test]
async fn a_lost_text_file_is_built_again() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join(DATABASE_FILE);
    let all = partitions_of_ten(&path, 19, 3).await;
    seal_all(&path);
    let sealed = sealed(&path).len();
    assert!(sealed >= 2);
    for suffix in ["", "-wal", "-shm"] {
        let mut name = text_index::path_for(&path).into_os_string();
        name.push(suffix);
        let _ = std::fs::remove_file(name);
    }

    let store = SqliteStore::open_with(&path, small(10, false)).expect("reopen");
    let reopened = catalog(&path);
    assert!(reopened.iter().all(|p| !p.is_sealed()), "{reopened:?}");
    check_against_model(&store, &all, 7).await;
    drop(store);

    let store = SqliteStore::open_with(&path, small(10, true)).expect("reopen sealing");
    wait_until(&path, |catalog| {
        catalog.iter().filter(|p| p.is_sealed()).count() == sealed
    })
    .await;
    check_against_model(&store, &all, 7).await;
    assert!(store.verify(true).await.expect("verify").ok);
}

/// The arrival time of event `seq`, straight from its partition.
fn received_of(path: &Path, seq: i64) -> DateTime<Utc> {
    let conn = Connection::open(path).expect("open");
    let partition = partitions::containing(&conn, seq)
        .expect("catalog")
        .expect("partition");
    let micros: i64 = conn
        .query_row(
            &format!("SELECT received FROM {} WHERE seq = ?1", partition.table()),
            [seq],
            |row| row.get(0),
        )
        .expect("received");
    DateTime::from_timestamp_micros(micros).expect("time")
}

/// Retention drops whole partitions and trims one: what is left is exactly the newer arrivals,
/// the counts and the chain agree, and a store emptied by it keeps taking events.
#[tokio::test]
async fn retention_drops_whole_partitions_and_trims_one() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join(DATABASE_FILE);
    let mut rng = StdRng::seed_from_u64(5);
    let store = SqliteStore::open_with(&path, small(10, true)).expect("store");
    // Groups of 5, one at a time: partitions of 10 (two groups each), each group with its own
    // arrival time.
    for batch in 0..8 {
        append(&store, &clef(&mut rng, 5, |i| batch * 5 + i as i64)).await;
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    seal_all(&path);
    let before = catalog(&path);
    // Four partitions, or more if a UTC midnight fell during the test.
    assert!(before.len() >= 4, "{before:?}");
    let all = everything(&store).await;

    // Everything before event 26: partitions 1 and 2 go whole, partition 3 loses 21..=25.
    let cutoff = received_of(&path, 26);
    assert_eq!(
        store
            .delete_received_before(cutoff)
            .await
            .expect("retention"),
        25
    );
    let after = catalog(&path);
    assert_eq!(after[0].first_seq, 26, "{after:?}");
    assert_eq!(after.iter().map(|p| p.len()).sum::<i64>(), 15, "{after:?}");
    let conn = Connection::open(&path).expect("open");
    for gone in &before[..2] {
        assert!(!partitions::exists(&conn, &gone.table()).expect("exists"));
    }
    let kept: Vec<AuditEvent> = all
        .into_iter()
        .filter(|e| e.id.as_str() >= "0000000000000026")
        .collect();
    // Before the text file follows, the trimmed partition's index table still holds the rows
    // removed: answers leave them out all the same.
    assert!(after[0].is_sealed() && after[0].index_apart, "{after:?}");
    check_against_model(&store, &kept, 4).await;
    // The text file follows: text indexes of removed partitions go once no query can still
    // be reading them (no wait here), a trimmed partition's removed rows at once.
    {
        let mut indexer = text_index::indexer_connection(&path).expect("indexer");
        text_index::collect_garbage(
            &mut indexer,
            &mut text_index::Gone::new(),
            std::time::Duration::ZERO,
        )
        .expect("tidy");
        let texts = text_file(&path);
        for suffix in ["fts", "index"] {
            for gone in &before[..2] {
                let name = format!("{}_{suffix}", gone.table());
                assert!(!partitions::exists(&texts, &name).expect("exists"));
            }
            let trimmed: i64 = texts
                .query_row(
                    &format!("SELECT COUNT(*) FROM {}_{suffix}", after[0].table()),
                    [],
                    |row| row.get(0),
                )
                .expect("count");
            assert_eq!(trimmed, after[0].len(), "{suffix}: {after:?}");
        }
    }
    assert_eq!(ids(&everything(&store).await), ids(&kept));
    check_against_model(&store, &kept, 4).await;
    let report = store.verify(true).await.expect("verify");
    assert!(report.ok, "{report:?}");
    assert_eq!(report.verified_count, 15);

    // Everything, the hot partition included: the store is empty and still takes events.
    let now = Utc::now() + Duration::seconds(1);
    assert_eq!(
        store.delete_received_before(now).await.expect("retention"),
        15
    );
    assert!(everything(&store).await.is_empty());
    append(&store, &clef(&mut rng, 3, |i| i as i64)).await;
    let report = store.verify(true).await.expect("verify");
    assert!(report.ok, "{report:?}");
    assert_eq!(report.verified_count, 3);
    assert_eq!(everything(&store).await.len(), 3);
}

/// A store made before partitions: its single table is partition 0; new events go to new
/// partitions; pages, the chain and retention work across both.
#[tokio::test]
async fn a_store_from_before_partitions_migrates_and_retention_removes_its_old_table() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join(DATABASE_FILE);
    let mut rng = StdRng::seed_from_u64(3);
    {
        let store = SqliteStore::open_with(&path, small(1000, false)).expect("store");
        append(&store, &clef(&mut rng, 12, |i| i as i64 * 2)).await;
    }
    super::schema::tests::into_single_table_layout(&path);
    let store = SqliteStore::open_with(&path, small(5, true)).expect("migrated");
    let migrated = catalog(&path);
    assert_eq!(migrated.len(), 1);
    assert_eq!(
        (migrated[0].id, migrated[0].first_seq, migrated[0].last_seq),
        (0, 1, 12)
    );
    // Its text index (FTS5's own words: `cafe` found `café`) is built again, by the writer,
    // with Witness's words.
    wait_until(&path, |catalog| catalog[0].is_sealed()).await;
    tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    for batch in 0..3 {
        append(&store, &clef(&mut rng, 4, |i| 7 + batch * 4 + i as i64)).await;
    }
    let all = everything(&store).await;
    assert_eq!(all.len(), 24);
    check_against_model(&store, &all, 5).await;
    assert!(store.verify(true).await.expect("verify").ok);

    let cutoff = received_of(&path, 13);
    assert_eq!(
        store
            .delete_received_before(cutoff)
            .await
            .expect("retention"),
        12
    );
    let conn = Connection::open(&path).expect("open");
    assert!(!partitions::exists(&conn, "events").expect("exists"));
    let kept: Vec<AuditEvent> = all
        .into_iter()
        .filter(|e| e.id.as_str() >= "0000000000000013")
        .collect();
    check_against_model(&store, &kept, 5).await;
    let report = store.verify(true).await.expect("verify");
    assert!(report.ok, "{report:?}");
    drop(store);
    // Opening it again does not bring the old table back.
    let store = SqliteStore::open_with(&path, small(5, true)).expect("reopen");
    assert_eq!(everything(&store).await.len(), 12);
}

/// A store whose text indexes hold FTS5's own words (before version 4): they are dropped when
/// it opens and their partitions are full again, answering free text row by row until the
/// writer has built them again with Witness's words; the answers agree with the model all along.
#[tokio::test]
async fn text_indexes_of_fts5_words_are_built_again() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join(DATABASE_FILE);
    let all = partitions_of_ten(&path, 13, 3).await;
    seal_all(&path);
    {
        // The text indexes as version 3 made them, in the store's file: the raw text, FTS5's
        // `unicode61` words.
        let conn = Connection::open(&path).expect("open");
        super::schema::configure(&conn).expect("configure");
        conn.execute_batch("UPDATE partitions SET text_apart = 0")
            .expect("text indexes in the store's file");
        for partition in catalog(&path).iter().filter(|p| p.is_sealed()) {
            let (table, text_table) = (partition.table(), partition.text_table());
            conn.execute_batch(&format!(
                "CREATE VIRTUAL TABLE {text_table} USING fts5(body, \
                 content='', contentless_delete=1, detail='none', \
                 tokenize='unicode61 remove_diacritics 0'); \
                 INSERT INTO {text_table} (rowid, body) SELECT seq, \
                 concat_ws(' ', {}) FROM {table};",
                witness_api::SearchFields::columns()
            ))
            .expect("old text index");
        }
        conn.execute_batch("PRAGMA user_version = 3;")
            .expect("version 3");
    }
    let before = catalog(&path);
    assert_eq!(
        before.iter().filter(|p| p.is_sealed()).count(),
        2,
        "{before:?}"
    );

    let store = SqliteStore::open_with(&path, small(10, false)).expect("reopen");
    let reopened = catalog(&path);
    assert!(
        reopened.iter().all(|p| !p.is_sealed()),
        "every text index is built again: {reopened:?}"
    );
    let conn = Connection::open(&path).expect("open");
    for partition in &reopened {
        assert!(!partitions::exists(&conn, &partition.text_table()).expect("exists"));
    }
    check_against_model(&store, &all, 7).await;
    drop(store);

    let store = SqliteStore::open_with(&path, small(10, true)).expect("reopen sealing");
    wait_until(&path, |catalog| {
        catalog.iter().filter(|p| p.is_sealed()).count() == 2
    })
    .await;
    check_against_model(&store, &all, 7).await;
}

/// The same free text through the text index (sealed) and through `witness_text_match`
/// (unsealed) for words with diacritics, mixed case and prefixes.
#[test]
fn the_sql_text_matcher_agrees_with_the_text_index() {
    let conn = Connection::open_in_memory().expect("db");
    super::schema::configure(&conn).expect("configure");
    conn.execute_batch(&super::schema::text_table_sql("t"))
        .expect("fts");
    let texts = [
        "Café au lait",
        "naïve approach",
        "ROLLBACK of deploy-42",
        "tokens: alice@example.com",
        "cafe\u{301} İstanbul",
        "ΣΊΣΥΦΟΣ हिन्दी x²",
    ];
    for (i, text) in texts.iter().enumerate() {
        conn.execute(
            "INSERT INTO t_fts (rowid, body) VALUES (?1, ?2)",
            rusqlite::params![i as i64 + 1, witness_api::index_words(text).join(" ")],
        )
        .expect("insert");
    }
    for q in [
        "café",
        "cafe",
        "CAFÉ",
        "naïve",
        "naive",
        "rollback",
        "deploy",
        "42",
        "tok*",
        "token",
        "alice example",
        "com",
        "lait café",
        "İstanbul",
        "istanbul",
        "i*",
        "ΣΊΣΥΦΟΣ",
        "σίσυφος",
        "σίσυφοσ",
        "हिन्दी",
        "x²",
        "x2",
    ] {
        let fts = super::filter_sql::fts_query(q).expect("words");
        let indexed: Vec<i64> = conn
            .prepare("SELECT rowid FROM t_fts WHERE t_fts MATCH ?1 ORDER BY rowid")
            .expect("prepare")
            .query_map([&fts], |row| row.get(0))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows");
        let scanned: Vec<i64> = texts
            .iter()
            .enumerate()
            .filter(|(_, text)| {
                conn.query_row("SELECT witness_text_match(?1, ?2)", [q, text], |row| {
                    row.get::<_, bool>(0)
                })
                .expect("match")
            })
            .map(|(i, _)| i as i64 + 1)
            .collect();
        assert_eq!(indexed, scanned, "{q}");
    }
}
