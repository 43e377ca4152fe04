//! Pages of events: each partition that may hold a row of the page is asked for its own best
//! rows, newest partitions first, and the walk stops as soon as no partition left can hold a
//! row newer than the page's last.

use std::cell::RefCell;
use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension, params, params_from_iter};
use witness_api::{EventFilter, EventPage};

use super::filter_sql::{self, TextPlan};
use super::partitions::{self, Partition};
use super::row::{COLUMNS, EventRow, micros};
use super::text_walk;
use crate::store::{EventQuery, StoreResult};

/// Probes whether a value occurs in a column of a sealed partition, through the column's index.
/// Unsealed partitions (and errors) answer yes, which only costs speed.
pub fn column_probe<'a>(
    conn: &'a Connection,
    partition: &'a Partition,
) -> impl Fn(&str, &str) -> bool + 'a {
    let table = partition.filter_table();
    let sealed = partition.is_sealed();
    move |column: &str, value: &str| {
        if !sealed {
            return true;
        }
        conn.prepare_cached(&format!(
            "SELECT 1 FROM {table} WHERE {column} = ?1 LIMIT 1"
        ))
        .and_then(|mut statement| statement.exists(params![value]))
        .unwrap_or(true)
    }
}

/// A word held by fewer rows than this is rare in a partition of any size.
const ALWAYS_RARE_MATCHES: i64 = 64;

/// Whether a word is rare enough to narrow free text by (`filter_sql::text_query`): it is held
/// by under a tenth of the rows of `reference` (a sealed partition, the newest a query reads:
/// words are about as common in one partition as in the next), or by under
/// `ALWAYS_RARE_MATCHES` of them (in a small partition narrowing costs nothing either way).
/// Counted once per word, and only up to that bound, so asking costs at most ~0.3 ms a word.
/// Without a sealed partition no word narrows.
pub fn word_rarity<'a>(
    conn: &'a Connection,
    reference: Option<&'a Partition>,
) -> impl Fn(&str) -> bool + 'a {
    let known: RefCell<HashMap<String, bool>> = RefCell::new(HashMap::new());
    move |word: &str| {
        let Some(partition) = reference.filter(|p| p.is_sealed()) else {
            return false;
        };
        if let Some(&rare) = known.borrow().get(word) {
            return rare;
        }
        let tenth = ((partition.last_seq - partition.first_seq + 1) / 10).max(ALWAYS_RARE_MATCHES);
        let text_table = partition.text_table();
        let rare = conn
            .prepare_cached(&format!(
                "SELECT count(*) FROM (SELECT 1 FROM {text_table} WHERE {} MATCH ?1 LIMIT ?2)",
                filter_sql::match_name(&text_table)
            ))
            .and_then(|mut statement| {
                statement.query_row(params![filter_sql::quoted(word), tenth], |row| {
                    row.get::<_, i64>(0)
                })
            })
            .is_ok_and(|count| count < tenth);
        known.borrow_mut().insert(word.to_string(), rare);
        rare
    }
}

/// Above this many free-text matches a page walks in time order instead of fetching and
/// sorting every match. Counting stops here, so the probe itself stays cheap.
const COMMON_TEXT_MATCHES: i64 = 10_000;

/// The plan for a page's free-text condition in one partition, from a count of its matches
/// that stops at `COMMON_TEXT_MATCHES`; `None` when the text index holds no match at all, so
/// that the partition need not be read (with a rare actor, most are like that). On an error
/// it answers `Lookup`, which is always correct.
fn text_plan(
    conn: &Connection,
    partition: &Partition,
    filter: &EventFilter,
    rare: filter_sql::WordRarity<'_>,
) -> Option<TextPlan> {
    if !partition.is_sealed() {
        return Some(TextPlan::Unindexed);
    }
    let Some(q) = filter_sql::text_query(filter, rare) else {
        return Some(TextPlan::Lookup);
    };
    let text_table = partition.text_table();
    let text_column = filter_sql::match_name(&text_table);
    let matches = conn
        .prepare_cached(&format!(
            "SELECT count(*) FROM (SELECT 1 FROM {text_table} WHERE {text_column} MATCH ?1 \
             LIMIT ?2)"
        ))
        .and_then(|mut statement| {
            statement.query_row(params![q, COMMON_TEXT_MATCHES], |row| row.get::<_, i64>(0))
        });
    match matches {
        Ok(0) => None,
        Ok(matches) if matches >= COMMON_TEXT_MATCHES => Some(TextPlan::Scan),
        _ => Some(TextPlan::Lookup),
    }
}

/// The stored actions starting with `prefix`, one seek each in the list of every action ever
/// stored (a superset only adds empty walks); `None` when there are more than `MAX_EXPANDED_ACTIONS` (or on
/// an error: the prefix then stays a GLOB range).
pub fn actions_with_prefix(conn: &Connection, prefix: &str) -> Option<Vec<String>> {
    let mut first = conn
        .prepare_cached("SELECT action FROM actions WHERE action >= ?1 ORDER BY action LIMIT 1")
        .ok()?;
    let mut next = conn
        .prepare_cached("SELECT action FROM actions WHERE action > ?1 ORDER BY action LIMIT 1")
        .ok()?;
    let mut actions: Vec<String> = Vec::new();
    let mut current: Option<String> = first
        .query_row(params![prefix], |row| row.get(0))
        .optional()
        .ok()?;
    while let Some(action) = current {
        if !action.starts_with(prefix) {
            break;
        }
        if actions.len() == filter_sql::MAX_EXPANDED_ACTIONS {
            return None;
        }
        current = next
            .query_row(params![action], |row| row.get(0))
            .optional()
            .ok()?;
        actions.push(action);
    }
    Some(actions)
}

/// The exact actions a filter of actions alone selects, for the per-action minute counts;
/// `None` when there are too many.
pub fn selected_actions(conn: &Connection, filter: &EventFilter) -> Option<Vec<String>> {
    if filter.action.iter().all(|m| m.negated) {
        let mut all = actions_with_prefix(conn, "")?;
        all.retain(|action| !filter.action.iter().any(|m| m.matches(action)));
        Some(all)
    } else {
        filter_sql::included_actions(filter, &|prefix| actions_with_prefix(conn, prefix))
    }
}

/// Where in the page order a page starts, and its snapshot.
struct PageBounds {
    max_seq: i64,
    after: Option<(i64, i64)>,
    wanted: usize,
}

pub fn query_page(conn: &Connection, query: &EventQuery) -> StoreResult<EventPage> {
    // One snapshot for the catalog, the probes, the expansions and every partition's rows.
    let snapshot = conn.unchecked_transaction()?;
    let filter = &query.filter;
    let max_seq = match query.cursor {
        Some(cursor) => cursor.max_seq,
        None => conn.query_row("SELECT head_seq FROM chain_state WHERE id = 1", [], |row| {
            row.get(0)
        })?,
    };
    let bounds = PageBounds {
        max_seq,
        after: query.cursor.map(|cursor| (cursor.ts_micros, cursor.seq)),
        wanted: query.limit + 1,
    };
    let (from, to) = (filter.from.map(micros), filter.to.map(micros));
    let mut candidates: Vec<Partition> = partitions::load(conn)?
        .into_iter()
        .filter(|p| !p.is_empty() && p.first_seq <= max_seq && p.overlaps(from, to))
        .filter(|p| match (bounds.after, p.min_ts) {
            (Some((ts, _)), Some(min_ts)) => min_ts <= ts,
            _ => true,
        })
        .collect();
    // Newest first by the newest event each may hold.
    candidates.sort_by_key(|p| std::cmp::Reverse((p.max_ts, p.id)));
    let rare = word_rarity(conn, candidates.iter().find(|p| p.is_sealed()));

    let mut rows: Vec<EventRow> = Vec::new();
    for partition in &candidates {
        if rows.len() >= bounds.wanted
            && let (Some(last), Some(max_ts)) = (rows.last(), partition.max_ts)
            && max_ts < last.ts
        {
            // This and every partition after it hold only rows older than the page's last.
            break;
        }
        rows.extend(partition_page(conn, partition, filter, &rare, &bounds)?);
        rows.sort_unstable_by_key(|row| std::cmp::Reverse((row.ts, row.seq)));
        rows.truncate(bounds.wanted);
    }
    drop(snapshot);
    crate::store::page_of(rows, query.limit, max_seq)
}

/// The first `bounds.wanted` rows of one partition in page order.
fn partition_page(
    conn: &Connection,
    partition: &Partition,
    filter: &EventFilter,
    rare: filter_sql::WordRarity<'_>,
    bounds: &PageBounds,
) -> StoreResult<Vec<EventRow>> {
    let table = partition.table();
    let text_table = partition.text_table();
    let max_seq = bounds.max_seq.min(partition.last_seq);
    let probe = column_probe(conn, partition);
    let Some(mut plan) = text_plan(conn, partition, filter, rare) else {
        return Ok(Vec::new());
    };
    // Besides the text, only a time range and exclusions: most matches are on the page, so
    // the walk in storage order stops early.
    let text_and_exclusions_only =
        filter.action.iter().all(|m| m.negated) && !filter_sql::selects_besides_action(filter);
    let fts = filter_sql::text_query(filter, rare);

    if let Some(fts) = fts
        && plan == TextPlan::Scan
        && text_and_exclusions_only
    {
        let others = EventFilter {
            q: None,
            ..filter.clone()
        };
        return text_walk::TextWalk {
            table: &table,
            text_table: &text_table,
            fts: &fts,
            condition: filter_sql::condition(&others, &probe, rare, plan, &text_table),
            from: filter.from.map(micros),
            to: filter.to.map(micros),
            max_seq,
            after: bounds.after,
            limit: bounds.wanted,
        }
        .rows(conn);
    }
    if plan == TextPlan::Scan {
        // A common word with a filter that selects rows (an actor, a result…): that filter's
        // index drives the page and each of its rows is matched as it is read, instead of
        // gathering every match of the word first (tens of thousands per partition, for a
        // page that may need only the actor's few rows: BENCHMARKS.md).
        plan = TextPlan::Unindexed;
    }
    // An unsealed partition has only its event-time index. For a filter that selects rows,
    // walking that index newest first and testing every row costs a random read per row until
    // the page fills, which for a rare value is the whole partition (a 6 s page at 10 M:
    // BENCHMARKS.md); reading the table in storage order and sorting the matches is ~30 ms.
    let by_column =
        filter_sql::selects_besides_action(filter) || filter.action.iter().any(|m| !m.negated);
    let selecting = by_column || filter.q.is_some();
    // A sealed partition's filter indexes may be on its index table: a page of a filter that
    // selects rows by a column is a page of seqs from there, then their rows. Anything else
    // (a time range, exclusions, free text alone) walks the events table's own event-time
    // index or looks rows up by seq: through the index table those pages took 20–40 ms
    // instead of 1 (BENCHMARKS.md).
    let through_index = partition.indexed_apart() && by_column;
    let source = if through_index {
        format!("{} AS indexed", partition.index_table())
    } else if !partition.is_sealed() && selecting {
        format!("{table} NOT INDEXED")
    } else {
        table.clone()
    };
    // Through an index table, free text matched row by row is matched in the events table
    // beside it (the index table has no text).
    let text_beside = through_index && plan == TextPlan::Unindexed;
    let branches = if partition.is_sealed() {
        filter_sql::split_by_action(filter, &|prefix| actions_with_prefix(conn, prefix))
    } else {
        // Without indexes every branch would scan the table again.
        vec![filter.clone()]
    };
    let mut params = Vec::new();
    let mut selects = Vec::new();
    for branch in &branches {
        let mut c = filter_sql::Condition::continuing(params);
        if text_beside {
            let without_text = EventFilter {
                q: None,
                ..branch.clone()
            };
            filter_sql::add_filter(&mut c, &without_text, &probe, rare, plan, &text_table);
            if let Some(q) = &branch.q {
                filter_sql::text_match_beside(&mut c, q, &table, "indexed");
            }
        } else {
            filter_sql::add_filter(&mut c, branch, &probe, rare, plan, &text_table);
        }
        let max = c.param(max_seq);
        c.and(&format!("seq <= {max}"));
        if through_index {
            // Rows retention removed may still be in the index table.
            let first = c.param(partition.first_seq);
            c.and(&format!("seq >= {first}"));
        }
        if let Some((ts, seq)) = bounds.after {
            // A row value, so that SQLite turns it into one range on the (ts, seq)
            // index: the spelled-out OR made every deep page cost in proportion to
            // its depth.
            let (ts, seq) = (c.param(ts), c.param(seq));
            c.and(&format!("(ts, seq) < ({ts}, {seq})"));
        }
        let limit = c.param(bounds.wanted as i64);
        selects.push(if through_index {
            // The page's seqs from the index table, then their rows by seq (`NOT INDEXED`: by
            // rowid, never by walking the event-time index and testing each row).
            format!(
                "SELECT {COLUMNS} FROM {table} NOT INDEXED WHERE seq IN \
                 (SELECT seq FROM {source} WHERE {} ORDER BY ts DESC, seq DESC LIMIT {limit}) \
                 ORDER BY ts DESC, seq DESC",
                c.sql
            )
        } else {
            format!(
                "SELECT {COLUMNS} FROM {source} WHERE {} ORDER BY ts DESC, seq DESC LIMIT {limit}",
                c.sql
            )
        });
        params = c.params;
    }
    let sql = if selects.len() == 1 {
        selects.remove(0)
    } else {
        // Each branch stops after its own page; the merge sorts only those rows.
        params.push((bounds.wanted as i64).into());
        format!(
            "{} ORDER BY ts DESC, seq DESC LIMIT ?{}",
            selects
                .iter()
                .map(|select| format!("SELECT * FROM ({select})"))
                .collect::<Vec<_>>()
                .join(" UNION ALL "),
            params.len()
        )
    };
    let mut statement = conn.prepare_cached(&sql)?;
    let rows = statement
        .query_map(params_from_iter(params.iter()), EventRow::read)?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// One event by its seq.
pub fn get(conn: &Connection, seq: i64) -> StoreResult<Option<EventRow>> {
    let Some(partition) = partitions::containing(conn, seq)? else {
        return Ok(None);
    };
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM {} WHERE seq = ?1",
            partition.table()
        ))?
        .query_row(params![seq], EventRow::read)
        .optional()?)
}
