//! The Audit logs tab's filter logic, free of the browser so it is tested natively: the URL
//! query string, the chips, the GitHub-style search syntax and the quick ranges.

use chrono::{DateTime, Duration, Utc};
use witness_api::{AuditResult, EventFilter, FilterError, SELF_AUDIT_SOURCE, ValueMatch};

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
    let [actor, action, target, ip, organization, workspace, source] = filter.repeatable();
    let push_values = |chips: &mut Vec<Chip>,
                       (field, matches): (&'static str, &Vec<ValueMatch>)| {
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
    };
    for field in [actor, action, target] {
        push_values(&mut chips, field);
    }
    if let Some(result) = filter.result {
        chips.push(Chip {
            field: "result",
            index: 0,
            label: format!("result: {}", result.as_str()),
        });
    }
    for field in [ip, organization, workspace, source] {
        push_values(&mut chips, field);
    }
    if let Some(q) = &filter.q {
        chips.push(Chip {
            field: "q",
            index: 0,
            label: format!("text: {q}"),
        });
    }
    chips
}

pub fn remove_chip(filter: &EventFilter, chip: &Chip) -> EventFilter {
    let mut filter = filter.clone();
    match chip.field {
        "result" => filter.result = None,
        "q" => filter.q = None,
        field => {
            if let Some(list) = filter.repeatable_mut(field)
                && chip.index < list.len()
            {
                list.remove(chip.index);
            }
        }
    }
    filter
}

/// "Only this" on a value shown in the table or on an event page: the field keeps its
/// exclusions (but not of this value) and includes this value alone.
pub fn only_this(filter: &EventFilter, field: &str, value: &str) -> EventFilter {
    let mut filter = filter.clone();
    if let Some(list) = filter.repeatable_mut(field) {
        list.retain(|m| m.negated && m.value != value);
        list.push(ValueMatch::exact(value));
    }
    filter
}

/// "Exclude this": the value is left out (and no longer included, if it was).
pub fn exclude_this(filter: &EventFilter, field: &str, value: &str) -> EventFilter {
    let mut filter = filter.clone();
    if let Some(list) = filter.repeatable_mut(field) {
        list.retain(|m| m.value != value || m.prefix);
        list.push(ValueMatch {
            negated: true,
            ..ValueMatch::exact(value)
        });
    }
    filter
}

/// Whose events the Audit logs tab shows: the panel's `activity` URL parameter. Every query an
/// auditor makes is itself recorded (source `witness`), so by default the tab shows
/// applications' events and Witness's own activity is a place to switch to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activity {
    /// No parameter: every source but Witness.
    Applications,
    /// `activity=witness`
    Witness,
    /// `activity=all`
    All,
}

impl Activity {
    pub const ALL: [Activity; 3] = [Activity::Applications, Activity::Witness, Activity::All];

    /// From the URL's `activity` value; anything unknown is the default.
    pub fn from_param(value: Option<&str>) -> Self {
        match value {
            Some("witness") => Activity::Witness,
            Some("all") => Activity::All,
            _ => Activity::Applications,
        }
    }

    /// The URL value, `None` for the default.
    pub fn param(self) -> Option<&'static str> {
        match self {
            Activity::Applications => None,
            Activity::Witness => Some("witness"),
            Activity::All => Some("all"),
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Activity::Applications => "Applications",
            Activity::Witness => "Witness activity",
            Activity::All => "All",
        }
    }

    /// The filter the server is asked for: the URL's filter narrowed to these sources. A
    /// `source` the user named in the filter wins over the default.
    pub fn narrow(self, filter: &EventFilter) -> EventFilter {
        let mut filter = filter.clone();
        let own = |m: &ValueMatch| m.value == SELF_AUDIT_SOURCE;
        match self {
            Activity::All => {}
            Activity::Applications => {
                if !filter.source.iter().any(own) {
                    filter.source.push(ValueMatch {
                        negated: true,
                        ..ValueMatch::exact(SELF_AUDIT_SOURCE)
                    });
                }
            }
            Activity::Witness => {
                let included: Vec<&ValueMatch> =
                    filter.source.iter().filter(|m| !m.negated).collect();
                let possible = (included.is_empty() || included.iter().any(|m| own(m)))
                    && !filter.source.iter().any(|m| m.negated && own(m));
                filter.source = vec![ValueMatch::exact(SELF_AUDIT_SOURCE)];
                if !possible {
                    // The filter's sources leave Witness out: nothing is shown.
                    filter.source.push(ValueMatch {
                        negated: true,
                        ..ValueMatch::exact(SELF_AUDIT_SOURCE)
                    });
                }
            }
        }
        filter
    }
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
            "from" | "to" => {
                let parsed = EventFilter::from_pairs([(field, value)])
                    .map_err(|error| format!("`{token}`: {}", error.message))?;
                if field == "from" {
                    filter.from = parsed.from;
                } else {
                    filter.to = parsed.to;
                }
            }
            "actor" | "action" | "target" | "ip" | "organization" | "workspace" | "source" => {
                let m = ValueMatch {
                    negated,
                    ..ValueMatch::parse(value, field == "action")
                };
                if let Some(list) = filter.repeatable_mut(field)
                    && !list.contains(&m)
                {
                    list.push(m);
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
        let excluded = apply_search(&EventFilter::default(), "-ip:1.2.3.4").expect("valid");
        assert_eq!(excluded.ip, [ValueMatch::parse("!1.2.3.4", false)]);
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
    fn every_field_takes_only_this_and_exclude_this_as_chips() {
        let filter = filter_from_query("actor=alice&ip=10.0.0.1").expect("valid");
        let without_alice = exclude_this(&filter, "actor", "alice");
        assert_eq!(
            query_from_filter(&without_alice, &[]),
            "actor=%21alice&ip=10.0.0.1"
        );
        let only_bob = only_this(&without_alice, "actor", "bob");
        assert_eq!(
            query_from_filter(&only_bob, &[]),
            "actor=%21alice&actor=bob&ip=10.0.0.1"
        );
        let ip_out = exclude_this(&filter, "ip", "10.0.0.1");
        assert_eq!(ip_out.ip, [ValueMatch::parse("!10.0.0.1", false)]);
        let back_in = only_this(&ip_out, "ip", "10.0.0.1");
        assert_eq!(back_in.ip, [ValueMatch::exact("10.0.0.1")]);
        let tenants = exclude_this(
            &exclude_this(&EventFilter::default(), "organization", "Acme"),
            "workspace",
            "w-1",
        );
        let labels: Vec<String> = chips(&only_this(&tenants, "source", "key-1"))
            .into_iter()
            .map(|c| c.label)
            .collect();
        assert_eq!(
            labels,
            ["organization ≠ Acme", "workspace ≠ w-1", "source: key-1"]
        );
        let chip = &chips(&tenants)[1];
        assert_eq!(remove_chip(&tenants, chip).workspace, []);
        // Old URLs keep working: one `ip`, as before.
        assert_eq!(
            filter_from_query("ip=1.2.3.4").expect("valid").ip,
            [ValueMatch::exact("1.2.3.4")]
        );
    }

    #[test]
    fn the_default_view_leaves_witness_out_and_the_toggle_picks_it() {
        let none = EventFilter::default();
        let apps = Activity::from_param(None).narrow(&none);
        assert_eq!(query_from_filter(&apps, &[]), "source=%21witness");
        let own = Activity::from_param(Some("witness")).narrow(&none);
        assert_eq!(query_from_filter(&own, &[]), "source=witness");
        assert_eq!(Activity::from_param(Some("all")).narrow(&none), none);
        assert_eq!(Activity::from_param(Some("junk")), Activity::Applications);
        // A source the user named wins over the default.
        let named = filter_from_query("source=witness").expect("valid");
        assert_eq!(Activity::Applications.narrow(&named), named);
        let key = filter_from_query("source=key-1").expect("valid");
        assert_eq!(
            query_from_filter(&Activity::Applications.narrow(&key), &[]),
            "source=key-1&source=%21witness"
        );
        // Witness activity within a filter that names only other sources: nothing.
        let nothing = Activity::Witness.narrow(&key);
        let event = |source: &str| witness_api::AuditEvent {
            source: Some(source.to_string()),
            ..serde_json::from_value(serde_json::json!({
                "id": "1", "timestamp": "2026-11-20T10:00:00Z", "action": "a",
                "actor": {"type": "user"}, "target": {}, "result": "success",
                "message": "", "level": "Information", "hash": "", "prev_hash": "",
                "details": {}, "properties": {}
            }))
            .expect("an event")
        };
        assert!(!nothing.matches(&event("key-1")) && !nothing.matches(&event("witness")));
        assert!(Activity::Witness.narrow(&none).matches(&event("witness")));
        assert!(!apps.matches(&event("witness")) && apps.matches(&event("key-1")));
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
