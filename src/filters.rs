//! The Audit logs tab's filter logic, free of the browser so it is tested natively: the URL
//! query string, the chips, the GitHub-style search syntax and the quick ranges.

use chrono::{DateTime, Duration, Utc};
use witness_api::{AuditResult, EventFilter, FilterError, ValueMatch};

/// The filter in a query string (without the leading `?`); other parameters are ignored.
pub fn filter_from_query(query: &str) -> Result<EventFilter, FilterError> {
    let pairs: Vec<(String, String)> =
        form_urlencoded::parse(query.trim_start_matches('?').as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
    EventFilter::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
}

/// The filter as a query string (without `?`), in a stable order; extra pairs are appended.
pub fn query_from_filter(filter: &EventFilter, extra: &[(&str, &str)]) -> String {
    let mut serializer = form_urlencoded::Serializer::new(String::new());
    for (key, value) in filter.to_pairs() {
        serializer.append_pair(key, &value);
    }
    for (key, value) in extra {
        serializer.append_pair(key, value);
    }
    serializer.finish()
}

/// One removable filter, as shown above the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chip {
    pub field: &'static str,
    /// Which of a repeated field's values (0 for single fields).
    pub index: usize,
    /// e.g. `actor: alice`, `action ≠ member.*`.
    pub label: String,
}

pub fn chips(filter: &EventFilter) -> Vec<Chip> {
    let mut chips = Vec::new();
    for (field, matches) in [
        ("actor", &filter.actor),
        ("action", &filter.action),
        ("target", &filter.target),
    ] {
        for (index, m) in matches.iter().enumerate() {
            let value = format!("{}{}", m.value, if m.prefix { "*" } else { "" });
            let label = if m.negated {
                format!("{field} ≠ {value}")
            } else {
                format!("{field}: {value}")
            };
            chips.push(Chip {
                field,
                index,
                label,
            });
        }
    }
    let single = [
        ("result", filter.result.map(|r| r.as_str().to_string())),
        ("ip", filter.ip.clone()),
        ("organization", filter.organization.clone()),
        ("workspace", filter.workspace.clone()),
        ("source", filter.source.clone()),
        ("q", filter.q.clone()),
    ];
    for (field, value) in single {
        if let Some(value) = value {
            let label = if field == "q" {
                format!("text: {value}")
            } else {
                format!("{field}: {value}")
            };
            chips.push(Chip {
                field,
                index: 0,
                label,
            });
        }
    }
    chips
}

pub fn remove_chip(filter: &EventFilter, chip: &Chip) -> EventFilter {
    let mut filter = filter.clone();
    let remove_at = |list: &mut Vec<ValueMatch>| {
        if chip.index < list.len() {
            list.remove(chip.index);
        }
    };
    match chip.field {
        "actor" => remove_at(&mut filter.actor),
        "action" => remove_at(&mut filter.action),
        "target" => remove_at(&mut filter.target),
        "result" => filter.result = None,
        "ip" => filter.ip = None,
        "organization" => filter.organization = None,
        "workspace" => filter.workspace = None,
        "source" => filter.source = None,
        "q" => filter.q = None,
        _ => {}
    }
    filter
}

/// Adds what the search box says to the filter, GitHub style:
/// `actor:alice action:member.* -result:success "free words"`. `-field:value` excludes;
/// words without a field become free text. Errors name the token.
pub fn apply_search(filter: &EventFilter, text: &str) -> Result<EventFilter, String> {
    let mut filter = filter.clone();
    let mut free: Vec<String> = filter.q.iter().cloned().collect();
    for token in tokens(text) {
        let (negated, body) = match token.strip_prefix('-') {
            Some(rest) if rest.contains(':') => (true, rest),
            _ => (false, token.as_str()),
        };
        let Some((field, value)) = body.split_once(':') else {
            free.push(token.clone());
            continue;
        };
        let value = value.trim_matches('"');
        if value.is_empty() {
            return Err(format!("`{token}` needs a value after the colon"));
        }
        match field {
            "actor" | "action" | "target" => {
                let m = ValueMatch {
                    negated,
                    ..ValueMatch::parse(value, field == "action")
                };
                let list = match field {
                    "actor" => &mut filter.actor,
                    "action" => &mut filter.action,
                    _ => &mut filter.target,
                };
                if !list.contains(&m) {
                    list.push(m);
                }
            }
            "result" => {
                let result = match value {
                    "success" => AuditResult::Success,
                    "failure" => AuditResult::Failure,
                    _ => return Err(format!("`{token}`: a result is success or failure")),
                };
                filter.result = Some(if negated {
                    match result {
                        AuditResult::Success => AuditResult::Failure,
                        AuditResult::Failure => AuditResult::Success,
                    }
                } else {
                    result
                });
            }
            "ip" | "organization" | "workspace" | "source" => {
                if negated {
                    return Err(format!(
                        "`{token}`: only actor, action, target and result can be excluded"
                    ));
                }
                let slot = match field {
                    "ip" => &mut filter.ip,
                    "organization" => &mut filter.organization,
                    "source" => &mut filter.source,
                    _ => &mut filter.workspace,
                };
                *slot = Some(value.to_string());
            }
            "from" | "to" => {
                let parsed = EventFilter::from_pairs([(field, value)])
                    .map_err(|error| format!("`{token}`: {}", error.message))?;
                if field == "from" {
                    filter.from = parsed.from;
                } else {
                    filter.to = parsed.to;
                }
            }
            other => {
                return Err(format!(
                    "`{other}` is not a field; use actor, action, target, result, ip, organization, workspace, source, from or to"
                ));
            }
        }
    }
    let free = free.join(" ");
    filter.q = (!free.trim().is_empty()).then(|| free.trim().to_string());
    Ok(filter)
}

/// Splits on whitespace, keeping `"quoted words"` (also after `field:`) together.
fn tokens(text: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for ch in text.chars() {
        match ch {
            '"' => quoted = !quoted,
            c if c.is_whitespace() && !quoted => {
                if !current.is_empty() {
                    tokens.push(std::mem::take(&mut current));
                }
            }
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        tokens.push(current);
    }
    tokens
}

/// The quick time ranges above the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuickRange {
    Hour,
    Day,
    Week,
    Month,
}

impl QuickRange {
    pub const ALL: [QuickRange; 4] = [
        QuickRange::Hour,
        QuickRange::Day,
        QuickRange::Week,
        QuickRange::Month,
    ];

    pub fn label(self) -> &'static str {
        match self {
            QuickRange::Hour => "1 h",
            QuickRange::Day => "24 h",
            QuickRange::Week => "7 d",
            QuickRange::Month => "30 d",
        }
    }

    fn duration(self) -> Duration {
        match self {
            QuickRange::Hour => Duration::hours(1),
            QuickRange::Day => Duration::hours(24),
            QuickRange::Week => Duration::days(7),
            QuickRange::Month => Duration::days(30),
        }
    }

    /// The filter with `from` set to `now` minus the range and no `to`.
    pub fn apply(self, filter: &EventFilter, now: DateTime<Utc>) -> EventFilter {
        EventFilter {
            from: Some(now - self.duration()),
            to: None,
            ..filter.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_syntax_becomes_filters() {
        let filter = apply_search(
            &EventFilter::default(),
            r#"actor:alice action:member.* -result:success -actor:bob "role changed" admin"#,
        )
        .expect("valid search");
        assert_eq!(filter.actor.len(), 2);
        assert_eq!(filter.actor[0].value, "alice");
        assert!(!filter.actor[0].negated);
        assert!(filter.actor[1].negated);
        assert_eq!(filter.action[0].value, "member.");
        assert!(filter.action[0].prefix);
        assert_eq!(filter.result, Some(AuditResult::Failure));
        assert_eq!(filter.q.as_deref(), Some("role changed admin"));
    }

    #[test]
    fn bad_search_tokens_are_named() {
        assert!(
            apply_search(&EventFilter::default(), "colour:red")
                .unwrap_err()
                .contains("colour")
        );
        assert!(
            apply_search(&EventFilter::default(), "result:maybe")
                .unwrap_err()
                .contains("result:maybe")
        );
        assert!(
            apply_search(&EventFilter::default(), "actor:")
                .unwrap_err()
                .contains("actor:")
        );
        assert!(apply_search(&EventFilter::default(), "-ip:1.2.3.4").is_err());
    }

    #[test]
    fn chips_list_every_value_and_remove_one_at_a_time() {
        let filter =
            filter_from_query("actor=alice&actor=!bob&action=member.*&result=failure&q=role")
                .expect("valid");
        let chips = chips(&filter);
        let labels: Vec<&str> = chips.iter().map(|c| c.label.as_str()).collect();
        assert_eq!(
            labels,
            vec![
                "actor: alice",
                "actor ≠ bob",
                "action: member.*",
                "result: failure",
                "text: role"
            ]
        );
        let without_bob = remove_chip(&filter, &chips[1]);
        assert_eq!(without_bob.actor.len(), 1);
        assert_eq!(without_bob.actor[0].value, "alice");
        let without_result = remove_chip(&filter, &chips[3]);
        assert_eq!(without_result.result, None);
    }

    #[test]
    fn the_url_round_trips() {
        let query =
            "from=2026-11-20T10%3A00%3A00Z&actor=alice&actor=%21bob&action=member.*&q=role+changed";
        let filter = filter_from_query(query).expect("valid");
        assert_eq!(filter.q.as_deref(), Some("role changed"));
        let again = filter_from_query(&query_from_filter(&filter, &[])).expect("valid");
        assert_eq!(again, filter);
        assert!(query_from_filter(&filter, &[("format", "csv")]).ends_with("&format=csv"));
    }

    #[test]
    fn quick_ranges_set_from_and_clear_to() {
        let now = DateTime::parse_from_rfc3339("2026-11-22T12:00:00Z")
            .expect("time")
            .with_timezone(&Utc);
        let filter = filter_from_query("to=2026-11-01&actor=alice").expect("valid");
        let day = QuickRange::Day.apply(&filter, now);
        assert_eq!(
            day.from.map(|t| t.to_rfc3339()),
            Some("2026-11-21T12:00:00+00:00".into())
        );
        assert_eq!(day.to, None);
        assert_eq!(day.actor, filter.actor);
    }
}
