//! An `EventFilter` as an SQL condition on a partition's events table, with its parameters.

use rusqlite::types::Value as SqlValue;
use witness_api::{EventFilter, ValueMatch, text_terms};

use super::row::micros;

pub struct Condition {
    pub sql: String,
    pub params: Vec<SqlValue>,
}

impl Condition {
    pub fn new() -> Self {
        Self::continuing(Vec::new())
    }

    /// A condition whose parameters are numbered after `params`, so that several conditions
    /// can share one statement.
    pub fn continuing(params: Vec<SqlValue>) -> Self {
        Condition {
            sql: String::from("1"),
            params,
        }
    }

    pub fn and(&mut self, clause: &str) {
        self.sql.push_str(" AND ");
        self.sql.push_str(clause);
    }

    /// Adds a parameter and returns its placeholder.
    pub fn param(&mut self, value: impl Into<SqlValue>) -> String {
        self.params.push(value.into());
        format!("?{}", self.params.len())
    }
}

/// Whether `value` occurs in `column` at all (one index lookup). Filters that match a value
/// in any of several columns (id, name, email) then test only the columns that have it: a
/// single column lets SQLite walk its `(column, ts)` index newest first instead of collecting
/// and sorting every match of an OR (BENCHMARKS.md).
pub type ColumnProbe<'a> = &'a dyn Fn(&str, &str) -> bool;

/// Whether a word is rare enough in the store's text indexes that narrowing a text query by it
/// pays (see [`text_query`]); a guess, which changes only the speed of an answer.
pub type WordRarity<'a> = &'a dyn Fn(&str) -> bool;

/// How the free-text condition is handed to SQLite's planner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextPlan {
    /// Fetch each matching row by its rowid, then sort: fast when few rows match.
    Lookup,
    /// Walk an index in time order and test each row against the set of matches (`+seq`
    /// keeps SQLite from fetching by rowid): fast when many rows match, because a page
    /// stops after its first rows instead of sorting every match (BENCHMARKS.md).
    Scan,
    /// The partition has no text index yet: each row's text is matched as it is read.
    Unindexed,
}

impl TextPlan {
    /// How free text is matched in `partition`: `plan` if it is sealed.
    pub fn for_partition(partition: &super::partitions::Partition, plan: TextPlan) -> TextPlan {
        if partition.is_sealed() {
            plan
        } else {
            TextPlan::Unindexed
        }
    }
}

/// Builds the condition; `q` is matched through the text index `text_table` as `plan` says.
pub fn condition(
    filter: &EventFilter,
    probe: ColumnProbe<'_>,
    rare: WordRarity<'_>,
    plan: TextPlan,
    text_table: &str,
) -> Condition {
    let mut c = Condition::new();
    add_filter(&mut c, filter, probe, rare, plan, text_table);
    c
}

/// Adds `filter`'s clauses to `c`.
pub fn add_filter(
    c: &mut Condition,
    filter: &EventFilter,
    probe: ColumnProbe<'_>,
    rare: WordRarity<'_>,
    plan: TextPlan,
    text_table: &str,
) {
    if let Some(from) = filter.from {
        let p = c.param(micros(from));
        c.and(&format!("ts >= {p}"));
    }
    if let Some(to) = filter.to {
        let p = c.param(micros(to));
        c.and(&format!("ts < {p}"));
    }
    matches(c, &filter.actor, columns_of("actor"), probe);
    matches(c, &filter.action, columns_of("action"), probe);
    matches(c, &filter.target, columns_of("target"), probe);
    if let Some(result) = filter.result {
        let p = c.param(result.as_str().to_string());
        c.and(&format!("result = {p}"));
    }
    matches(c, &filter.ip, columns_of("ip"), probe);
    // `source=!witness` (the panel's default) walks the time index and skips Witness's own
    // rows: a NULL source (rows from before sources existed) is not Witness's.
    matches(c, &filter.source, columns_of("source"), probe);
    matches(c, &filter.organization, columns_of("organization"), probe);
    matches(c, &filter.workspace, columns_of("workspace"), probe);
    if let Some(q) = text_query(filter, rare) {
        let column = match plan {
            TextPlan::Lookup => "seq",
            TextPlan::Scan => "+seq",
            TextPlan::Unindexed => {
                let p = c.param(filter.q.clone().unwrap_or_default());
                c.and(&format!(
                    "witness_text_match({p}, {})",
                    witness_api::SearchFields::columns()
                ));
                return;
            }
        };
        let p = c.param(q);
        c.and(&format!(
            "{column} IN (SELECT rowid FROM {text_table} WHERE {} MATCH {p})",
            match_name(text_table)
        ));
    }
}

/// Free text `q` matched row by row in `events`, for a query over an index table (which has no
/// text) named `alias`: the row of `events` with the same seq is the one matched.
pub fn text_match_beside(c: &mut Condition, q: &str, events: &str, alias: &str) {
    let p = c.param(q.to_string());
    c.and(&format!(
        "EXISTS (SELECT 1 FROM main.{events} AS row WHERE row.seq = {alias}.seq \
         AND witness_text_match({p}, {}))",
        witness_api::SearchFields::columns()
    ));
}

/// The columns a repeatable filter field (`EventFilter::repeatable`) matches its values in.
pub fn columns_of(field: &str) -> &'static [&'static str] {
    match field {
        "actor" => &["actor_id", "actor_name", "actor_email"],
        "action" => &["action"],
        "target" => &["target_id", "target_name"],
        "ip" => &["client_ip"],
        "organization" => &["org_id", "org_name"],
        "workspace" => &["ws_id", "ws_name"],
        "source" => &["source"],
        _ => &[],
    }
}

/// A filter's free text as an FTS5 query for a sealed partition's text index, narrowed by the
/// words of the values the filter selects rows by: every column of an actor, a target, an
/// address, a tenant or an action is among the fields free text searches
/// (`witness_api::SearchFields`), so a row whose actor is `alice@example.com` holds the words
/// `alice`, `example` and `com` in its text index. The narrowing only leaves out rows the
/// filter's SQL conditions leave out anyway (they are still tested), and it turns a common
/// word with a rare actor into one intersection inside the index instead of a walk of every
/// row of the actor, each matched by hand (`q = common word + actor` at 10 M events: p95
/// 757 ms before, BENCHMARKS.md). Only `rare` words narrow: intersecting with a word most
/// rows hold (`example`, the `u` of `u-0806`) costs a read of its whole list in every
/// partition and leaves out nothing. `None` when the filter has no free text.
pub fn text_query(filter: &EventFilter, rare: WordRarity<'_>) -> Option<String> {
    let mut query = fts_query(filter.q.as_deref()?)?;
    let searched = witness_api::SearchFields::default()
        .named()
        .map(|(name, _)| name);
    for (name, values) in filter.repeatable() {
        if !columns_of(name)
            .iter()
            .all(|column| searched.contains(column))
        {
            continue;
        }
        let included: Vec<&ValueMatch> = values.iter().filter(|m| !m.negated).collect();
        if included.is_empty() {
            continue;
        }
        // Any of the values, each as all of its rare words; an action prefix without its last
        // word when that may be cut short (`user.log*`). A value without a rare word narrows
        // nothing, and so neither do the others.
        let alternatives: Option<Vec<String>> = included
            .iter()
            .map(|m| {
                let mut words: Vec<String> = text_terms(&m.value)
                    .into_iter()
                    .map(|term| term.word)
                    .collect();
                if m.prefix && m.value.ends_with(char::is_alphanumeric) {
                    words.pop();
                }
                words.sort_unstable();
                words.dedup();
                words.retain(|word| rare(word));
                (!words.is_empty()).then(|| {
                    let words: Vec<String> = words.iter().map(|word| quoted(word)).collect();
                    format!("({})", words.join(" AND "))
                })
            })
            .collect();
        if let Some(alternatives) = alternatives {
            query = format!("{query} AND ({})", alternatives.join(" OR "));
        }
    }
    Some(query)
}

/// The name a text index is matched by: `MATCH` takes the table's own name, without the
/// file it lives in (`text_index.events_7_fts` is matched as `events_7_fts`).
pub fn match_name(text_table: &str) -> &str {
    text_table.rsplit('.').next().unwrap_or(text_table)
}

/// The most actions a prefix is expanded to; beyond it the prefix stays a GLOB range.
pub const MAX_EXPANDED_ACTIONS: usize = 64;

/// The actions stored that start with a prefix, or `None` when there are more than
/// `MAX_EXPANDED_ACTIONS`.
pub type ActionLister<'a> = &'a dyn Fn(&str) -> Option<Vec<String>>;

/// The exact actions `filter` includes, with prefixes expanded through `list`: `None` when it
/// includes no action (every action) or a prefix has too many.
pub fn included_actions(filter: &EventFilter, list: ActionLister<'_>) -> Option<Vec<String>> {
    let mut actions: Vec<String> = Vec::new();
    let mut any = false;
    for m in filter.action.iter().filter(|m| !m.negated) {
        any = true;
        if m.prefix {
            actions.extend(list(&m.value)?);
        } else {
            actions.push(m.value.clone());
        }
    }
    if !any {
        return None;
    }
    actions.sort();
    actions.dedup();
    actions.retain(|action| !filter.action.iter().any(|m| m.negated && m.matches(action)));
    Some(actions)
}

/// Whether a filter selects rows by a value other than the action or the text (exclusions and
/// time ranges do not count): that value's index then drives a page.
pub fn selects_besides_action(filter: &EventFilter) -> bool {
    filter
        .repeatable()
        .iter()
        .filter(|(name, _)| *name != "action")
        .any(|(_, values)| values.iter().any(|m| !m.negated))
        || filter.result.is_some()
}

/// `filter` as one filter per included action (prefixes expanded), whose pages can be merged:
/// each walks its `(action, ts)` index newest first and stops after a page, where one
/// condition over several actions makes SQLite collect and sort every match (BENCHMARKS.md).
/// One filter when there is nothing to split, or when another condition selects rows too
/// (actor, target, result, ip, tenant, text): its index then drives the page, and a split would
/// walk that index once per action (BENCHMARKS.md).
pub fn split_by_action(filter: &EventFilter, list: ActionLister<'_>) -> Vec<EventFilter> {
    if selects_besides_action(filter) || filter.q.is_some() {
        return vec![filter.clone()];
    }
    let Some(actions) = included_actions(filter, list) else {
        return vec![filter.clone()];
    };
    if actions.is_empty() || actions.len() > MAX_EXPANDED_ACTIONS {
        return vec![filter.clone()];
    }
    actions
        .into_iter()
        .map(|action| EventFilter {
            action: vec![ValueMatch {
                value: action,
                negated: false,
                prefix: false,
            }],
            ..filter.clone()
        })
        .collect()
}

/// Included values: any of them, in any of the columns. Excluded values: none of them, in none
/// of the columns (a missing column value is not a match).
fn matches(c: &mut Condition, values: &[ValueMatch], columns: &[&str], probe: ColumnProbe<'_>) {
    let included: Vec<&ValueMatch> = values.iter().filter(|m| !m.negated).collect();
    if !included.is_empty() {
        let mut any = Vec::new();
        for m in &included {
            let present: Vec<&str> = if columns.len() > 1 && !m.prefix {
                columns
                    .iter()
                    .copied()
                    .filter(|column| probe(column, &m.value))
                    .collect()
            } else {
                columns.to_vec()
            };
            for column in present {
                any.push(one(c, m, column));
            }
        }
        if any.is_empty() {
            // No column holds any of the values: nothing matches.
            any.push("0".to_string());
        }
        c.and(&format!("({})", any.join(" OR ")));
    }
    for m in values.iter().filter(|m| m.negated) {
        for column in columns {
            let test = one(c, m, column);
            c.and(&format!("({column} IS NULL OR NOT ({test}))"));
        }
    }
}

fn one(c: &mut Condition, m: &ValueMatch, column: &str) -> String {
    if m.prefix {
        // GLOB is case-sensitive and uses the column's index for a prefix.
        let p = c.param(format!("{}*", escape_glob(&m.value)));
        format!("{column} GLOB {p}")
    } else {
        let p = c.param(m.value.clone());
        format!("{column} = {p}")
    }
}

fn escape_glob(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '*' | '?' | '[' => {
                out.push('[');
                out.push(ch);
                out.push(']');
            }
            _ => out.push(ch),
        }
    }
    out
}

/// Free text as an FTS5 query: every word (split where the index's tokenizer splits, at
/// anything but letters and digits) must occur as a whole word, or as a word prefix when
/// written with a trailing `*`. Each word is quoted, so no FTS5 syntax can come from the user.
/// `None` when there is no word at all.
pub fn fts_query(text: &str) -> Option<String> {
    let words: Vec<String> = text_terms(text)
        .into_iter()
        .map(|term| {
            let word = quoted(&term.word);
            if term.prefix { word + "*" } else { word }
        })
        .collect();
    if words.is_empty() {
        None
    } else {
        Some(words.join(" AND "))
    }
}

/// A word as an FTS5 string: no FTS5 syntax can come from it.
pub fn quoted(word: &str) -> String {
    format!("\"{}\"", word.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_text_is_quoted_word_by_word() {
        assert_eq!(
            fts_query("role_changed alice@example.com").as_deref(),
            Some("\"role\" AND \"changed\" AND \"alice\" AND \"example\" AND \"com\"")
        );
        assert_eq!(fts_query("  ... "), None);
        assert_eq!(
            fts_query("NEAR(a b*)").as_deref(),
            Some("\"near\" AND \"a\" AND \"b\"*")
        );
    }

    fn filter(pairs: &[(&str, &str)]) -> EventFilter {
        EventFilter::from_pairs(pairs.iter().copied()).expect("a valid filter")
    }

    #[test]
    fn free_text_is_narrowed_by_the_rare_words_of_selected_values() {
        let all = |_: &str| true;
        let not_example = |word: &str| word != "example";
        // Only the rare words of the actor; the source is not searched text.
        assert_eq!(
            text_query(
                &filter(&[
                    ("q", "signed"),
                    ("actor", "Alice.Smith@example.com"),
                    ("source", "app")
                ]),
                &not_example
            )
            .as_deref(),
            Some("\"signed\" AND ((\"alice\" AND \"com\" AND \"smith\"))")
        );
        // Any of several values; exclusions narrow nothing.
        assert_eq!(
            text_query(
                &filter(&[
                    ("q", "signed"),
                    ("actor", "u-1"),
                    ("actor", "bob"),
                    ("target", "!repo-9")
                ]),
                &all
            )
            .as_deref(),
            Some("\"signed\" AND ((\"1\" AND \"u\") OR (\"bob\"))")
        );
        // A value without a rare word: that field narrows nothing.
        assert_eq!(
            text_query(
                &filter(&[("q", "signed"), ("actor", "bob"), ("actor", "example")]),
                &not_example
            )
            .as_deref(),
            Some("\"signed\"")
        );
        // An action prefix without the word it may cut short.
        assert_eq!(
            text_query(&filter(&[("q", "x"), ("action", "user.log*")]), &all).as_deref(),
            Some("\"x\" AND ((\"user\"))")
        );
        assert_eq!(
            text_query(&filter(&[("q", "x"), ("action", "user.*")]), &all).as_deref(),
            Some("\"x\" AND ((\"user\"))")
        );
        assert_eq!(text_query(&filter(&[("actor", "bob")]), &all), None);
    }

    #[test]
    fn glob_metacharacters_are_escaped() {
        assert_eq!(escape_glob("a*b?c[d"), "a[*]b[?]c[[]d");
    }
}
