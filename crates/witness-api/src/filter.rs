//! The audit filter: query parameters of the API and of the panel's URL.

use chrono::{DateTime, Datelike, Utc};
use serde::{Deserialize, Serialize};

use crate::events::AuditResult;

/// Which events to show. Values of one repeated field are OR'ed, exclusions are AND NOT'ed, and
/// different fields are AND'ed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventFilter {
    /// Inclusive lower bound on the event time.
    #[serde(default, deserialize_with = "crate::time::rfc3339_opt")]
    pub from: Option<DateTime<Utc>>,
    /// Exclusive upper bound on the event time.
    #[serde(default, deserialize_with = "crate::time::rfc3339_opt")]
    pub to: Option<DateTime<Utc>>,
    /// Matches the actor's id, name or email.
    pub actor: Vec<ValueMatch>,
    /// Matches the action; a trailing `*` matches a prefix (`member.*`).
    pub action: Vec<ValueMatch>,
    /// Matches the target's id or name.
    pub target: Vec<ValueMatch>,
    pub result: Option<AuditResult>,
    /// Matches the client IP exactly.
    pub ip: Vec<ValueMatch>,
    /// Matches the organization's id or name.
    pub organization: Vec<ValueMatch>,
    /// Matches the workspace's id or name.
    pub workspace: Vec<ValueMatch>,
    /// Who handed the event in: an API key id, or `witness` for Witness's own records
    /// ([`crate::SELF_AUDIT_SOURCE`]); `!witness` leaves Witness's own records out.
    pub source: Vec<ValueMatch>,
    /// Free text: every word must occur as a whole word somewhere in the event; a word
    /// followed by `*` matches as a prefix (`sign*`). See [`text_terms`].
    pub q: Option<String>,
}

/// One word of a free-text query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextTerm {
    /// Lowercase; letters and digits only (the search index splits words at anything else).
    pub word: String,
    /// Written with a trailing `*`: any word starting with `word` matches.
    pub prefix: bool,
}

/// The words of free text `q`, split where the search index splits (at anything but letters
/// and digits). Whole words, because the index finds a whole word at once while a prefix makes
/// it gather every word that starts with it (BENCHMARKS.md).
pub fn text_terms(q: &str) -> Vec<TextTerm> {
    let mut terms = Vec::new();
    let mut rest = q;
    while let Some(start) = rest.find(char::is_alphanumeric) {
        let tail = &rest[start..];
        let end = tail
            .find(|c: char| !c.is_alphanumeric())
            .unwrap_or(tail.len());
        terms.push(TextTerm {
            word: fold(&tail[..end]),
            prefix: tail[end..].starts_with('*'),
        });
        rest = &tail[end..];
    }
    terms
}

/// One value of a repeatable filter field.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ValueMatch {
    pub value: String,
    /// Written with a leading `!`: the event must not match.
    pub negated: bool,
    /// Written with a trailing `*` (action only): match values that start with `value`.
    pub prefix: bool,
}

impl ValueMatch {
    pub fn parse(text: &str, allow_prefix: bool) -> Self {
        let (negated, rest) = match text.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (prefix, value) = match rest.strip_suffix('*') {
            Some(value) if allow_prefix => (true, value),
            _ => (false, rest),
        };
        ValueMatch {
            value: value.to_string(),
            negated,
            prefix,
        }
    }

    /// One value matched exactly (no `!`, no `*`).
    pub fn exact(value: impl Into<String>) -> Self {
        ValueMatch {
            value: value.into(),
            negated: false,
            prefix: false,
        }
    }

    /// Back to the query-parameter form.
    pub fn to_param(&self) -> String {
        format!(
            "{}{}{}",
            if self.negated { "!" } else { "" },
            self.value,
            if self.prefix { "*" } else { "" }
        )
    }

    pub fn matches(&self, candidate: &str) -> bool {
        if self.prefix {
            candidate.starts_with(&self.value)
        } else {
            candidate == self.value
        }
    }
}

/// A query parameter whose value could not be understood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError {
    pub parameter: String,
    pub message: String,
}

impl std::fmt::Display for FilterError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Query parameter `{}`: {}", self.parameter, self.message)
    }
}

impl std::error::Error for FilterError {}

/// At most this many values of one repeatable field (all but `from`, `to`, `result`, `q`).
pub const MAX_VALUES_PER_FIELD: usize = 100;
/// At most this many characters in one filter value.
pub const MAX_VALUE_CHARS: usize = 1000;
/// At most this many characters of free text `q`.
pub const MAX_TEXT_CHARS: usize = 500;
/// At most this many words in free text `q`.
pub const MAX_TEXT_TERMS: usize = 32;
/// Times are years 0000 to 9999, as RFC 3339 writes them; anything else is refused before it
/// costs anything (a histogram over a million years, an overflowing subtraction).
pub const YEARS: std::ops::RangeInclusive<i32> = 0..=9999;

/// The filter parameter names, in the order they are written back.
pub const FILTER_PARAMETERS: [&str; 11] = [
    "from",
    "to",
    "actor",
    "action",
    "target",
    "result",
    "ip",
    "organization",
    "workspace",
    "source",
    "q",
];

impl EventFilter {
    /// Reads the filter from decoded query pairs; parameters that are not filters are ignored.
    /// Empty values are ignored too, as an empty form field means "no filter".
    pub fn from_pairs<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, FilterError> {
        let mut filter = EventFilter::default();
        for (key, value) in pairs {
            let value = value.trim();
            if value.is_empty() || !FILTER_PARAMETERS.contains(&key) {
                continue;
            }
            let limit = if key == "q" {
                MAX_TEXT_CHARS
            } else {
                MAX_VALUE_CHARS
            };
            if value.chars().count() > limit {
                return Err(FilterError {
                    parameter: key.to_string(),
                    message: format!("is longer than {limit} characters"),
                });
            }
            let single = |slot: &Option<String>| -> Result<String, FilterError> {
                match slot {
                    Some(_) => Err(FilterError {
                        parameter: key.to_string(),
                        message: "may be given only once".to_string(),
                    }),
                    None => Ok(value.to_string()),
                }
            };
            match key {
                "from" => filter.from = Some(parse_time(key, value, false)?),
                "to" => filter.to = Some(parse_time(key, value, true)?),
                "actor" => filter
                    .actor
                    .push(non_empty(key, ValueMatch::parse(value, false))?),
                "action" => filter
                    .action
                    .push(non_empty(key, ValueMatch::parse(value, true))?),
                "target" => filter
                    .target
                    .push(non_empty(key, ValueMatch::parse(value, false))?),
                "result" => {
                    if filter.result.is_some() {
                        return Err(FilterError {
                            parameter: key.to_string(),
                            message: "may be given only once".to_string(),
                        });
                    }
                    filter.result = Some(match value {
                        "success" => AuditResult::Success,
                        "failure" => AuditResult::Failure,
                        other => {
                            return Err(FilterError {
                                parameter: key.to_string(),
                                message: format!(
                                    "`{other}` is not a result; use `success` or `failure`"
                                ),
                            });
                        }
                    })
                }
                "ip" => filter
                    .ip
                    .push(non_empty(key, ValueMatch::parse(value, false))?),
                "organization" => filter
                    .organization
                    .push(non_empty(key, ValueMatch::parse(value, false))?),
                "workspace" => filter
                    .workspace
                    .push(non_empty(key, ValueMatch::parse(value, false))?),
                "source" => filter
                    .source
                    .push(non_empty(key, ValueMatch::parse(value, false))?),
                "q" => filter.q = Some(single(&filter.q)?),
                _ => {}
            }
        }
        if let (Some(from), Some(to)) = (filter.from, filter.to)
            && from >= to
        {
            return Err(FilterError {
                parameter: "to".to_string(),
                message: "must be later than `from`".to_string(),
            });
        }
        for (name, values) in filter.repeatable() {
            if values.len() > MAX_VALUES_PER_FIELD {
                return Err(FilterError {
                    parameter: name.to_string(),
                    message: format!(
                        "is given {} times; at most {MAX_VALUES_PER_FIELD} values are allowed",
                        values.len()
                    ),
                });
            }
        }
        if let Some(q) = &filter.q
            && text_terms(q).len() > MAX_TEXT_TERMS
        {
            return Err(FilterError {
                parameter: "q".to_string(),
                message: format!("has more than {MAX_TEXT_TERMS} words"),
            });
        }
        Ok(filter)
    }

    /// The filter as query pairs (undecoded), in a stable order.
    pub fn to_pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        if let Some(from) = self.from {
            pairs.push((
                "from",
                from.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
            ));
        }
        if let Some(to) = self.to {
            pairs.push((
                "to",
                to.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
            ));
        }
        let [actor, action, target, ip, organization, workspace, source] = self.repeatable();
        for (name, matches) in [actor, action, target] {
            pairs.extend(matches.iter().map(|m| (name, m.to_param())));
        }
        if let Some(result) = self.result {
            pairs.push(("result", result.as_str().to_string()));
        }
        for (name, matches) in [ip, organization, workspace, source] {
            pairs.extend(matches.iter().map(|m| (name, m.to_param())));
        }
        if let Some(q) = &self.q {
            pairs.push(("q", q.clone()));
        }
        pairs
    }

    /// The fields that take several values (OR'ed) and exclusions (`!value`), by name.
    pub fn repeatable(&self) -> [(&'static str, &Vec<ValueMatch>); 7] {
        [
            ("actor", &self.actor),
            ("action", &self.action),
            ("target", &self.target),
            ("ip", &self.ip),
            ("organization", &self.organization),
            ("workspace", &self.workspace),
            ("source", &self.source),
        ]
    }

    /// The repeatable field called `name`, to change.
    pub fn repeatable_mut(&mut self, name: &str) -> Option<&mut Vec<ValueMatch>> {
        Some(match name {
            "actor" => &mut self.actor,
            "action" => &mut self.action,
            "target" => &mut self.target,
            "ip" => &mut self.ip,
            "organization" => &mut self.organization,
            "workspace" => &mut self.workspace,
            "source" => &mut self.source,
            _ => return None,
        })
    }

    pub fn is_empty(&self) -> bool {
        *self == EventFilter::default()
    }
}

fn non_empty(parameter: &str, m: ValueMatch) -> Result<ValueMatch, FilterError> {
    if m.value.is_empty() {
        return Err(FilterError {
            parameter: parameter.to_string(),
            message: "needs a value after `!` or before `*`".to_string(),
        });
    }
    Ok(m)
}

/// RFC 3339, or a whole day `YYYY-MM-DD` (UTC): as `from` its start, as `to` the start of the
/// next day, so that a range picked in whole days includes the whole last day.
fn parse_time(parameter: &str, value: &str, end: bool) -> Result<DateTime<Utc>, FilterError> {
    let out_of_range = |year: i32| FilterError {
        parameter: parameter.to_string(),
        message: format!(
            "`{value}` is in the year {year}; times must be in the years {:04} to {:04}",
            YEARS.start(),
            YEARS.end()
        ),
    };
    if let Ok(time) = DateTime::parse_from_rfc3339(value) {
        let time = time.with_timezone(&Utc);
        if !YEARS.contains(&time.year()) {
            return Err(out_of_range(time.year()));
        }
        return Ok(time);
    }
    // A date is read as its midnight in RFC 3339, not with chrono's format strings: their
    // parser would be the panel's largest piece of date code (BENCHMARKS.md, issue 15).
    if let Ok(day) = DateTime::parse_from_rfc3339(&format!("{value}T00:00:00Z"))
        .map(|midnight| midnight.date_naive())
    {
        if !YEARS.contains(&day.year()) {
            return Err(out_of_range(day.year()));
        }
        let start = if end { day.succ_opt() } else { Some(day) }
            .filter(|next| YEARS.contains(&next.year()))
            .and_then(|day| day.and_hms_opt(0, 0, 0))
            .map(|start| start.and_utc());
        match start {
            Some(start) => return Ok(start),
            // The end of 9999-12-31: the last instant a time can name.
            None if end => {
                if let Some(last) = day.and_hms_micro_opt(23, 59, 59, 999_999) {
                    return Ok(last.and_utc());
                }
            }
            None => {}
        }
    }
    Err(FilterError {
        parameter: parameter.to_string(),
        message: format!(
            "`{value}` is not a time; use RFC 3339 such as 2026-11-22T08:00:00Z, or a date such as 2026-11-22, in the years {:04} to {:04}",
            YEARS.start(),
            YEARS.end()
        ),
    })
}

impl EventFilter {
    /// Whether one event matches, evaluated in memory (live tail, the panel). Agrees with the
    /// server's query for every field; free text is approximated by whole-word (or, for `word*`,
    /// word-prefix) matching over the event's text, case-insensitively, as the search index does.
    pub fn matches(&self, event: &crate::AuditEvent) -> bool {
        if self.from.is_some_and(|from| event.timestamp < from)
            || self.to.is_some_and(|to| event.timestamp >= to)
        {
            return false;
        }
        let actor = [
            event.actor.id.as_deref(),
            event.actor.name.as_deref(),
            event.actor.email.as_deref(),
        ];
        let target = [event.target.id.as_deref(), event.target.name.as_deref()];
        if !matches_values(&self.actor, &actor)
            || !matches_values(&self.action, &[Some(event.action.as_str())])
            || !matches_values(&self.target, &target)
        {
            return false;
        }
        if self.result.is_some_and(|result| result != event.result) {
            return false;
        }
        if !matches_values(&self.ip, &[event.client_ip.as_deref()])
            || !matches_values(&self.source, &[event.source.as_deref()])
        {
            return false;
        }
        for (wanted, tenant) in [
            (&self.organization, &event.organization),
            (&self.workspace, &event.workspace),
        ] {
            let tenant = tenant.as_ref();
            let names = [
                tenant.and_then(|t| t.id.as_deref()),
                tenant.and_then(|t| t.name.as_deref()),
            ];
            if !matches_values(wanted, &names) {
                return false;
            }
        }
        if let Some(q) = &self.q
            && !TextMatcher::new(q).matches_text(&searchable_text(event))
        {
            return false;
        }
        true
    }
}

fn matches_values(matches: &[ValueMatch], candidates: &[Option<&str>]) -> bool {
    let present = || candidates.iter().flatten();
    let mut included = matches.iter().filter(|m| !m.negated).peekable();
    if included.peek().is_some() && !included.any(|m| present().any(|c| m.matches(c))) {
        return false;
    }
    !matches
        .iter()
        .filter(|m| m.negated)
        .any(|m| present().any(|c| m.matches(c)))
}

/// Free text `q` as a matcher of words, the way the search index matches them: every word of
/// the query must occur as a whole word (or, written `word*`, as a word's start), compared
/// case-insensitively. Used wherever events are matched without the index: the live tail, the
/// panel, and the store's partitions whose index is not built yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextMatcher {
    terms: Vec<TextTerm>,
}

impl TextMatcher {
    pub fn new(q: &str) -> Self {
        TextMatcher {
            terms: text_terms(q),
        }
    }

    /// Whether every term occurs in some part of the text.
    pub fn matches_parts<'a>(&self, parts: impl IntoIterator<Item = &'a str>) -> bool {
        let mut found = vec![false; self.terms.len()];
        let mut lower = String::new();
        for part in parts {
            for word in split_words(part) {
                lower.clear();
                fold_into(word, &mut lower);
                for (term, found) in self.terms.iter().zip(found.iter_mut()) {
                    if !*found
                        && (lower == term.word || (term.prefix && lower.starts_with(&term.word)))
                    {
                        *found = true;
                    }
                }
            }
            if found.iter().all(|f| *f) {
                return true;
            }
        }
        found.iter().all(|f| *f)
    }

    pub fn matches_text(&self, text: &str) -> bool {
        self.matches_parts([text])
    }
}

/// The distinct words of `text` as free text matches them (lowercase, split at anything but
/// letters and digits), sorted: what a search index keeps for an event, so that an index and
/// [`TextMatcher`] always agree.
pub fn index_words(text: &str) -> Vec<String> {
    let document = index_text(text);
    let mut words: Vec<&str> = document
        .split(' ')
        .filter(|word| !word.is_empty())
        .collect();
    words.sort_unstable();
    words.dedup();
    words.into_iter().map(str::to_string).collect()
}

/// The words of `text` as [`index_words`] makes them, in the order they come and as often,
/// one space apart: a text index's document (the index keeps each word once per document, so
/// sorting and deduplicating here first only cost its builder time, BENCHMARKS.md session 12).
/// Folded into one buffer: no allocation per word (an event repeats many: JSON keys, its
/// actor in several fields), and the text indexer runs this for every event it indexes.
pub fn index_text(text: &str) -> String {
    let mut document = String::with_capacity(text.len());
    for word in split_words(text) {
        if !document.is_empty() {
            document.push(' ');
        }
        fold_into(word, &mut document);
    }
    document
}

/// A word as free text compares it: each character lowercased on its own. The same function
/// for the query's words and the text's, so that a word always finds itself (`str::to_lowercase`
/// would make a final `Σ` a `ς` in the query and a `σ` in the text).
fn fold(word: &str) -> String {
    let mut folded = String::with_capacity(word.len());
    fold_into(word, &mut folded);
    folded
}

fn fold_into(word: &str, out: &mut String) {
    // Most words are ASCII, whose characters `char::to_lowercase` maps one to one: lowercasing
    // the bytes in place gives the same text without decoding each character (the writer
    // folds every word of every event it seals).
    if word.is_ascii() {
        let start = out.len();
        out.push_str(word);
        out[start..].make_ascii_lowercase();
    } else {
        out.extend(word.chars().flat_map(char::to_lowercase));
    }
}

/// The words of `text`: its longest runs of letters and digits (`char::is_alphanumeric`).
fn split_words(text: &str) -> Words<'_> {
    Words { text, at: 0 }
}

/// [`split_words`]' iterator. It reads ASCII a byte at a time and decodes only other
/// characters: `str::split` with a `char` predicate decodes every one, which was most of the
/// cost of indexing an event's words.
struct Words<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Words<'a> {
    /// Moves past the characters at `self.at` that are (`in_word`) or are not part of a word.
    fn skip(&mut self, in_word: bool) {
        let bytes = self.text.as_bytes();
        while let Some(&byte) = bytes.get(self.at) {
            if byte.is_ascii() {
                if byte.is_ascii_alphanumeric() != in_word {
                    return;
                }
                self.at += 1;
            } else {
                match self.text[self.at..].chars().next() {
                    Some(c) if c.is_alphanumeric() == in_word => self.at += c.len_utf8(),
                    _ => return,
                }
            }
        }
    }
}

impl<'a> Iterator for Words<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        self.skip(false);
        let start = self.at;
        self.skip(true);
        (self.at > start).then(|| &self.text[start..self.at])
    }
}

/// The fields free text looks in — one list for the live tail's matcher, the panel and every
/// store's text index and row-by-row match. A field added here is searched everywhere at once.
#[derive(Debug, Default, Clone, Copy)]
pub struct SearchFields<'a> {
    pub message: &'a str,
    pub action: &'a str,
    pub actor_id: Option<&'a str>,
    pub actor_name: Option<&'a str>,
    pub actor_email: Option<&'a str>,
    pub target_type: Option<&'a str>,
    pub target_id: Option<&'a str>,
    pub target_name: Option<&'a str>,
    pub status: Option<&'a str>,
    pub client_ip: Option<&'a str>,
    pub org_id: Option<&'a str>,
    pub org_name: Option<&'a str>,
    pub ws_id: Option<&'a str>,
    pub ws_name: Option<&'a str>,
    /// `details` and `properties` as JSON text (their keys are searched too).
    pub details: &'a str,
    pub properties: &'a str,
}

impl<'a> SearchFields<'a> {
    /// Each field with the name of the column that holds it in the stores.
    pub fn named(&self) -> [(&'static str, Option<&'a str>); 16] {
        [
            ("message", Some(self.message)),
            ("action", Some(self.action)),
            ("actor_id", self.actor_id),
            ("actor_name", self.actor_name),
            ("actor_email", self.actor_email),
            ("target_type", self.target_type),
            ("target_id", self.target_id),
            ("target_name", self.target_name),
            ("status", self.status),
            ("client_ip", self.client_ip),
            ("org_id", self.org_id),
            ("org_name", self.org_name),
            ("ws_id", self.ws_id),
            ("ws_name", self.ws_name),
            ("details", Some(self.details)),
            ("properties", Some(self.properties)),
        ]
    }

    /// The columns, comma-separated, in [`SearchFields::named`]'s order.
    pub fn columns() -> String {
        SearchFields::default()
            .named()
            .map(|(name, _)| name)
            .join(", ")
    }

    /// The fields present, one space after each: what the text index splits into words.
    pub fn text(&self) -> String {
        let mut text = String::with_capacity(self.message.len() + self.details.len() + 128);
        for part in self.named().into_iter().filter_map(|(_, part)| part) {
            text.push_str(part);
            text.push(' ');
        }
        text
    }
}

fn searchable_text(event: &crate::AuditEvent) -> String {
    let details = serde_json::Value::Object(event.details.clone()).to_string();
    let properties = serde_json::Value::Object(event.properties.clone()).to_string();
    fn tenant(tenant: &Option<crate::Tenant>) -> (Option<&str>, Option<&str>) {
        let tenant = tenant.as_ref();
        (
            tenant.and_then(|t| t.id.as_deref()),
            tenant.and_then(|t| t.name.as_deref()),
        )
    }
    let ((org_id, org_name), (ws_id, ws_name)) =
        (tenant(&event.organization), tenant(&event.workspace));
    SearchFields {
        message: &event.message,
        action: &event.action,
        actor_id: event.actor.id.as_deref(),
        actor_name: event.actor.name.as_deref(),
        actor_email: event.actor.email.as_deref(),
        target_type: event.target.target_type.as_deref(),
        target_id: event.target.id.as_deref(),
        target_name: event.target.name.as_deref(),
        status: event.status.as_deref(),
        client_ip: event.client_ip.as_deref(),
        org_id,
        org_name,
        ws_id,
        ws_name,
        details: &details,
        properties: &properties,
    }
    .text()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the word index is defined as: the runs of `char::is_alphanumeric` characters,
    /// each character lowercased on its own, sorted, without repeats.
    fn words_by_definition(text: &str) -> Vec<String> {
        let mut words: Vec<String> = text
            .split(|c: char| !c.is_alphanumeric())
            .filter(|word| !word.is_empty())
            .map(|word| word.chars().flat_map(char::to_lowercase).collect())
            .collect();
        words.sort_unstable();
        words.dedup();
        words
    }

    #[test]
    fn the_word_index_is_its_definition_for_ascii_and_every_other_script() {
        // Letters and digits of several scripts, a combining mark (not alphanumeric), a
        // letter whose lowercase is two characters (İ), Σ, emoji, JSON punctuation.
        let alphabet: Vec<char> = "aZ9_-.@ {}\":,İΣσςßÄäé\u{301}٣日本ǅ🙂\t\n"
            .chars()
            .collect();
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..5_000 {
            let len = (seed % 24) as usize;
            let text: String = (0..len)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    alphabet[(seed % alphabet.len() as u64) as usize]
                })
                .collect();
            assert_eq!(index_words(&text), words_by_definition(&text), "{text:?}");
            let document = index_text(&text);
            let mut words: Vec<&str> = document.split(' ').filter(|w| !w.is_empty()).collect();
            words.sort_unstable();
            words.dedup();
            assert_eq!(words, words_by_definition(&text), "{text:?}");
            assert!(
                !document.contains("  ") && !document.ends_with(' '),
                "{document:?}"
            );
        }
        assert_eq!(
            index_words("Alice alice ALICE İstanbul x\u{301}y"),
            ["alice", "i\u{307}stanbul", "x", "y"]
        );
    }

    #[test]
    fn a_date_is_a_full_rfc_3339_date_and_anything_else_is_refused_by_name() {
        let day = EventFilter::from_pairs([("from", "2026-11-22"), ("to", "2026-11-22")])
            .expect("a date");
        assert_eq!(
            day.from.map(|t| t.to_rfc3339()).as_deref(),
            Some("2026-11-22T00:00:00+00:00")
        );
        assert_eq!(
            day.to.map(|t| t.to_rfc3339()).as_deref(),
            Some("2026-11-23T00:00:00+00:00")
        );
        for bad in ["2026-1-5", "22/11/2026", "2026-11-22T", "2026-13-01"] {
            let error = EventFilter::from_pairs([("from", bad)]).expect_err(bad);
            assert_eq!(error.parameter, "from");
            assert!(error.message.contains("is not a time"), "{error}");
        }
    }

    #[test]
    fn times_outside_the_years_0000_to_9999_are_refused() {
        for value in [
            "-262143-01-01",
            "+262142-01-01",
            "10000-01-01",
            "-0001-12-31",
        ] {
            let error = EventFilter::from_pairs([("from", value)]).expect_err(value);
            assert_eq!(error.parameter, "from");
        }
        let error = EventFilter::from_pairs([("to", "+262142-01-01")]).expect_err("to");
        assert!(error.message.contains("years 0000 to 9999"), "{error}");
        let widest = EventFilter::from_pairs([("from", "0000-01-01"), ("to", "9999-12-31")])
            .expect("the widest range");
        // It survives the round trip through the query string (the panel's URL).
        let pairs = widest.to_pairs();
        let again = EventFilter::from_pairs(pairs.iter().map(|(k, v)| (*k, v.as_str())))
            .expect("parses again");
        assert_eq!(again, widest);
        EventFilter::from_pairs([("to", "9999-12-31T23:59:59Z")]).expect("the last second");
    }

    #[test]
    fn oversized_filters_are_refused_naming_the_parameter() {
        let long = "a".repeat(MAX_VALUE_CHARS + 1);
        let error = EventFilter::from_pairs([("actor", long.as_str())]).expect_err("long");
        assert_eq!(error.parameter, "actor");
        let many: Vec<(&str, &str)> = (0..=MAX_VALUES_PER_FIELD)
            .map(|_| ("target", "x"))
            .collect();
        let error = EventFilter::from_pairs(many).expect_err("many");
        assert_eq!(error.parameter, "target");
        let words = "w ".repeat(MAX_TEXT_TERMS + 1);
        let error = EventFilter::from_pairs([("q", words.as_str())]).expect_err("words");
        assert_eq!(error.parameter, "q");
        let text = "w".repeat(MAX_TEXT_CHARS + 1);
        let error = EventFilter::from_pairs([("q", text.as_str())]).expect_err("text");
        assert!(error.message.contains("500 characters"), "{error}");
        // Parameters that are not filters are not this parser's business.
        EventFilter::from_pairs([("cursor", long.as_str())]).expect("ignored");
    }

    #[test]
    fn repeated_negated_and_prefix_values_parse() {
        let filter = EventFilter::from_pairs([
            ("actor", "alice"),
            ("actor", "!bob"),
            ("action", "member.*"),
            ("result", "failure"),
            ("limit", "5"),
        ])
        .expect("valid filter");
        assert_eq!(filter.actor.len(), 2);
        assert!(filter.actor[1].negated);
        assert_eq!(filter.actor[1].value, "bob");
        assert!(filter.action[0].prefix);
        assert_eq!(filter.action[0].value, "member.");
        assert_eq!(filter.result, Some(AuditResult::Failure));
    }

    #[test]
    fn free_text_splits_into_whole_words_and_starred_prefixes() {
        let terms = text_terms("Role_Changed  sign* a*b *x ...");
        let shown: Vec<(&str, bool)> = terms.iter().map(|t| (t.word.as_str(), t.prefix)).collect();
        assert_eq!(
            shown,
            [
                ("role", false),
                ("changed", false),
                ("sign", true),
                ("a", true),
                ("b", false),
                ("x", false),
            ]
        );
        assert!(text_terms(" *** ").is_empty());
    }

    #[test]
    fn a_day_as_to_includes_the_whole_day() {
        let filter =
            EventFilter::from_pairs([("from", "2026-11-20"), ("to", "2026-11-21")]).expect("valid");
        assert_eq!(
            filter.from.map(|t| t.to_rfc3339()),
            Some("2026-11-20T00:00:00+00:00".into())
        );
        assert_eq!(
            filter.to.map(|t| t.to_rfc3339()),
            Some("2026-11-22T00:00:00+00:00".into())
        );
    }

    #[test]
    fn bad_values_name_the_parameter() {
        let error = EventFilter::from_pairs([("from", "yesterday")]).expect_err("bad time");
        assert_eq!(error.parameter, "from");
        let error = EventFilter::from_pairs([("result", "maybe")]).expect_err("bad result");
        assert_eq!(error.parameter, "result");
        assert!(error.message.contains("maybe"));
        let error = EventFilter::from_pairs([("actor", "!")]).expect_err("empty negation");
        assert_eq!(error.parameter, "actor");
        let error = EventFilter::from_pairs([("from", "2026-11-22"), ("to", "2026-11-01")])
            .expect_err("inverted range");
        assert_eq!(error.parameter, "to");
    }

    #[test]
    fn pairs_round_trip() {
        let filter = EventFilter::from_pairs([
            ("from", "2026-11-20T10:00:00Z"),
            ("actor", "!bob"),
            ("action", "member.*"),
            ("q", "role changed"),
        ])
        .expect("valid");
        let pairs = filter.to_pairs();
        let back = EventFilter::from_pairs(pairs.iter().map(|(k, v)| (*k, v.as_str())))
            .expect("round trip");
        assert_eq!(back, filter);
    }

    #[test]
    fn every_word_finds_itself_whatever_its_script() {
        for text in [
            "ΣΊΣΥΦΟΣ",
            "σίσυφος",
            "İstanbul",
            "straße",
            "ǅemal",
            "Ⅻ",
            "cafe\u{301}",
            "日本語 x² ﬁle",
        ] {
            assert!(TextMatcher::new(text).matches_text(text), "{text}");
            for word in text.split(' ') {
                assert!(
                    TextMatcher::new(word).matches_text(text),
                    "{word} in {text}"
                );
            }
        }
        assert!(!TextMatcher::new("σίσυφος").matches_text("ΣΊΣΥΦΟΣ"));
    }

    fn event(actor: &str, action: &str) -> crate::AuditEvent {
        crate::AuditEvent {
            id: "0000000000000001".into(),
            timestamp: DateTime::parse_from_rfc3339("2026-11-20T10:00:00Z")
                .expect("time")
                .with_timezone(&Utc),
            action: action.into(),
            actor: crate::Actor {
                id: Some(actor.into()),
                name: None,
                email: Some(format!("{actor}@example.com")),
                actor_type: crate::ActorType::User,
            },
            target: crate::Target::default(),
            result: AuditResult::Success,
            status: None,
            client_ip: None,
            organization: None,
            workspace: None,
            details: Default::default(),
            message: format!("{actor} changed the role"),
            level: "Information".into(),
            properties: Default::default(),
            source: Some("key-0123456789ab".into()),
            hash: String::new(),
            prev_hash: String::new(),
        }
    }

    #[test]
    fn in_memory_matching_follows_the_query_rules() {
        let filter = |pairs: &[(&str, &str)]| {
            EventFilter::from_pairs(pairs.iter().copied()).expect("valid filter")
        };
        let alice = event("alice", "member.role_changed");
        assert!(filter(&[]).matches(&alice));
        assert!(filter(&[("actor", "alice")]).matches(&alice));
        assert!(filter(&[("actor", "alice@example.com")]).matches(&alice));
        assert!(filter(&[("actor", "bob"), ("actor", "alice")]).matches(&alice));
        assert!(!filter(&[("actor", "!alice")]).matches(&alice));
        assert!(filter(&[("action", "member.*")]).matches(&alice));
        assert!(
            !filter(&[("action", "member.*"), ("action", "!member.role_changed")]).matches(&alice)
        );
        assert!(!filter(&[("result", "failure")]).matches(&alice));
        assert!(filter(&[("q", "ROLE alice")]).matches(&alice));
        assert!(!filter(&[("q", "ROLE alic")]).matches(&alice));
        assert!(filter(&[("q", "ROLE alic*")]).matches(&alice));
        assert!(!filter(&[("q", "deleted")]).matches(&alice));
        assert!(!filter(&[("from", "2026-11-21")]).matches(&alice));
        assert!(!filter(&[("to", "2026-11-20T10:00:00Z")]).matches(&alice));
    }

    #[test]
    fn ip_tenant_and_source_take_several_values_and_exclusions() {
        let filter = |pairs: &[(&str, &str)]| {
            EventFilter::from_pairs(pairs.iter().copied()).expect("valid filter")
        };
        let mut alice = event("alice", "member.role_changed");
        alice.client_ip = Some("10.0.0.1".into());
        alice.organization = Some(crate::Tenant {
            id: Some("org-1".into()),
            name: Some("Acme".into()),
        });
        // `ip=…` as before: one value, matched exactly.
        assert!(filter(&[("ip", "10.0.0.1")]).matches(&alice));
        assert!(!filter(&[("ip", "10.0.0.2")]).matches(&alice));
        assert!(filter(&[("ip", "10.0.0.2"), ("ip", "10.0.0.1")]).matches(&alice));
        assert!(!filter(&[("ip", "!10.0.0.1")]).matches(&alice));
        assert!(filter(&[("organization", "!Globex")]).matches(&alice));
        assert!(!filter(&[("organization", "!Acme")]).matches(&alice));
        assert!(!filter(&[("organization", "!org-1")]).matches(&alice));
        // No workspace at all is "not this workspace".
        assert!(filter(&[("workspace", "!w-1")]).matches(&alice));
        assert!(!filter(&[("workspace", "w-1")]).matches(&alice));
        assert!(filter(&[("source", "!witness")]).matches(&alice));
        assert!(!filter(&[("source", "!key-0123456789ab")]).matches(&alice));
        // A value is never a prefix outside `action`.
        assert!(!filter(&[("ip", "10.*")]).matches(&alice));
        let parsed = filter(&[("ip", "!10.0.0.1"), ("source", "witness")]);
        assert!(parsed.ip[0].negated);
        let pairs = parsed.to_pairs();
        assert_eq!(
            pairs,
            [
                ("ip", "!10.0.0.1".to_string()),
                ("source", "witness".to_string())
            ]
        );
        let error = EventFilter::from_pairs([("source", "!")]).expect_err("empty");
        assert_eq!(error.parameter, "source");
    }
}
