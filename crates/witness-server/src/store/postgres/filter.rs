//! An `EventFilter` as a PostgreSQL condition on `events`, with its parameters.

use tokio_postgres::types::ToSql;
use witness_api::{EventFilter, ValueMatch, text_terms};

use crate::store::event_row::micros;

pub type Param = Box<dyn ToSql + Sync + Send>;

#[derive(Default)]
pub struct Condition {
    pub sql: String,
    pub params: Vec<Param>,
}

impl Condition {
    pub fn new() -> Self {
        Self::continuing(Vec::new())
    }

    /// A condition whose parameters are numbered after `params`, so that several
    /// conditions can share one statement.
    pub fn continuing(params: Vec<Param>) -> Self {
        Condition {
            sql: "TRUE".to_string(),
            params,
        }
    }

    pub fn and(&mut self, clause: &str) {
        self.sql.push_str(" AND ");
        self.sql.push_str(clause);
    }

    /// Adds a parameter and returns its placeholder.
    pub fn param(&mut self, value: impl ToSql + Sync + Send + 'static) -> String {
        self.params.push(Box::new(value));
        format!("${}", self.params.len())
    }

    /// The parameters as tokio-postgres takes them.
    pub fn values(&self) -> Vec<&(dyn ToSql + Sync)> {
        self.params
            .iter()
            .map(|param| param.as_ref() as &(dyn ToSql + Sync))
            .collect()
    }
}

/// A value matched in one column only, of a field that names several (`actor` is its id,
/// name or email): one branch of a page, so that the column's `(column, ts)` index drives it
/// in time order instead of an OR that gathers and sorts every match (BENCHMARKS.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Focus {
    field: &'static str,
    column: &'static str,
}

const ACTOR_COLUMNS: [&str; 3] = ["actor_id", "actor_name", "actor_email"];
const TARGET_COLUMNS: [&str; 2] = ["target_id", "target_name"];
const ORG_COLUMNS: [&str; 2] = ["org_id", "org_name"];
const WS_COLUMNS: [&str; 2] = ["ws_id", "ws_name"];

/// The branches a page of `filter` is the union of: one per column of the first field that
/// selects one value in several columns, or the whole filter at once.
pub fn focuses(filter: &EventFilter) -> Vec<Option<Focus>> {
    let single = |matches: &[ValueMatch]| {
        let included: Vec<&ValueMatch> = matches.iter().filter(|m| !m.negated).collect();
        included.len() == 1 && !included[0].prefix
    };
    let field: Option<(&'static str, &'static [&'static str])> = if single(&filter.actor) {
        Some(("actor", &ACTOR_COLUMNS))
    } else if single(&filter.target) {
        Some(("target", &TARGET_COLUMNS))
    } else if single(&filter.organization) {
        Some(("organization", &ORG_COLUMNS))
    } else if single(&filter.workspace) {
        Some(("workspace", &WS_COLUMNS))
    } else {
        None
    };
    match field {
        Some((field, columns)) => columns
            .iter()
            .map(|column| Some(Focus { field, column }))
            .collect(),
        None => vec![None],
    }
}

/// The filter's clauses, on the columns of `events`.
pub fn condition(filter: &EventFilter) -> Condition {
    let mut c = Condition::new();
    add_filter(&mut c, filter, None);
    c
}

/// Adds the filter's clauses to `c`; with a focus, that field's included value is matched in
/// the focus's column only.
pub fn add_filter(c: &mut Condition, filter: &EventFilter, focus: Option<Focus>) {
    let columns_of = |field: &str, all: &'static [&'static str]| -> Vec<&'static str> {
        match focus {
            Some(focus) if focus.field == field => vec![focus.column],
            _ => all.to_vec(),
        }
    };
    if let Some(from) = filter.from {
        let p = c.param(micros(from));
        c.and(&format!("ts >= {p}"));
    }
    if let Some(to) = filter.to {
        let p = c.param(micros(to));
        c.and(&format!("ts < {p}"));
    }
    focused_matches(
        c,
        &filter.actor,
        &ACTOR_COLUMNS,
        &columns_of("actor", &ACTOR_COLUMNS),
    );
    value_matches(c, &filter.action, &["action"]);
    focused_matches(
        c,
        &filter.target,
        &TARGET_COLUMNS,
        &columns_of("target", &TARGET_COLUMNS),
    );
    if let Some(result) = filter.result {
        let p = c.param(result.as_str().to_string());
        c.and(&format!("result = {p}"));
    }
    value_matches(c, &filter.ip, &["client_ip"]);
    // `source=!witness` (the panel's default) walks the time index and skips Witness's own
    // rows: a NULL source (rows from before sources existed) is not Witness's.
    value_matches(c, &filter.source, &["source"]);
    for (field, matches, all) in [
        ("organization", &filter.organization, &ORG_COLUMNS),
        ("workspace", &filter.workspace, &WS_COLUMNS),
    ] {
        focused_matches(c, matches, all, &columns_of(field, all));
    }
    if let Some(query) = filter.q.as_deref().and_then(text_query) {
        let p = c.param(query);
        // The same expression as the index `events_words`, so that the index serves it.
        c.and(&format!("array_to_tsvector(words) @@ ({p}::text)::tsquery"));
    }
}

/// Like [`value_matches`], but included values are looked for in `included_columns` only
/// (one column of a focused branch), excluded ones in every column of the field.
fn focused_matches(
    c: &mut Condition,
    matches: &[ValueMatch],
    all_columns: &[&str],
    included_columns: &[&str],
) {
    let (excluded, included): (Vec<ValueMatch>, Vec<ValueMatch>) =
        matches.iter().cloned().partition(|m| m.negated);
    value_matches(c, &excluded, all_columns);
    value_matches(c, &included, included_columns);
}

/// Matches on one field (any of `columns`): at least one of the included values, none of the
/// excluded ones — as `EventFilter::matches` decides.
pub fn value_matches(c: &mut Condition, matches: &[ValueMatch], columns: &[&str]) {
    let mut included = Vec::new();
    for m in matches {
        let clause = one_match(c, m, columns);
        if m.negated {
            // A NULL column is "not this value", never "unknown".
            c.and(&format!("NOT COALESCE({clause}, FALSE)"));
        } else {
            included.push(clause);
        }
    }
    if !included.is_empty() {
        c.and(&format!("({})", included.join(" OR ")));
    }
}

fn one_match(c: &mut Condition, m: &ValueMatch, columns: &[&str]) -> String {
    if m.value.contains('\0') {
        // No stored text holds NUL (ingestion refuses it), and PostgreSQL refuses it as a
        // parameter: such a value matches nothing.
        return "FALSE".to_string();
    }
    let clauses: Vec<String> = if m.prefix {
        let p = c.param(like_prefix(&m.value));
        columns
            .iter()
            .map(|column| format!("{column} LIKE {p}"))
            .collect()
    } else {
        let p = c.param(m.value.clone());
        columns
            .iter()
            .map(|column| format!("{column} = {p}"))
            .collect()
    };
    format!("({})", clauses.join(" OR "))
}

/// `value%` with LIKE's special characters escaped (backslash is LIKE's default escape).
fn like_prefix(value: &str) -> String {
    let mut pattern = String::with_capacity(value.len() + 1);
    for c in value.chars() {
        if matches!(c, '\\' | '%' | '_') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// Free text `q` as a `tsquery` over the words `witness_api::index_words` keeps: every term
/// must occur, `word*` as a prefix. Words hold letters and digits only, so quoting each one
/// is enough; `None` when `q` has no words (it then matches every event, as in memory).
pub fn text_query(q: &str) -> Option<String> {
    let terms: Vec<String> = text_terms(q)
        .into_iter()
        .map(|term| {
            format!(
                "'{}'{}",
                term.word.replace('\'', "''"),
                if term.prefix { ":*" } else { "" }
            )
        })
        .collect();
    (!terms.is_empty()).then(|| terms.join(" & "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_escape_like_wildcards() {
        assert_eq!(like_prefix("a_b%c\\"), "a\\_b\\%c\\\\%");
    }

    #[test]
    fn free_text_is_one_quoted_lexeme_per_word() {
        assert_eq!(
            text_query("Role_changed sign* alice@example.com").as_deref(),
            Some("'role' & 'changed' & 'sign':* & 'alice' & 'example' & 'com'")
        );
        assert_eq!(text_query("-- !"), None);
    }
}
