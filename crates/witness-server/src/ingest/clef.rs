//! Newline-delimited CLEF (compact log event format), as Serilog's and Seq's clients send it.
//!
//! One JSON object per line; LF or CRLF line ends; blank or whitespace-only lines are skipped
//! (but still counted, so `line N` is the line an editor shows).
//!
//! Reserved fields:
//!
//! | field | meaning | where it goes |
//! |---|---|---|
//! | `@t` | timestamp, RFC 3339, required | `timestamp` |
//! | `@m` | rendered message | `message` |
//! | `@mt` | message template | rendered into `message` when `@m` is absent; not kept |
//! | `@l` | level, default `Information` | `level`, verbatim |
//! | `@x` | exception | property `Exception` |
//! | `@i` | event id | property `EventId` |
//! | `@tr` | trace id | property `TraceId` |
//! | `@sp` | span id | property `SpanId` |
//! | `@r` | renderings of the template's holes | dropped: derivable from template and properties |
//!
//! `@t`, `@m`, `@mt`, `@l` and `@x` must be strings (`null` counts as absent). When a sender
//! already has a property named `Exception`, `EventId`, `TraceId` or `SpanId`, theirs is kept
//! and the CLEF value goes under its CLEF name (`@x`, `@i`, `@tr`, `@sp`) instead.
//! Other `@` fields (newer CLEF additions such as `@ra` or `@sc`) are kept verbatim under
//! their own name. A key starting with `@@` is a property whose name starts with one `@`
//! (CLEF's escaping); such a property wins over an unknown `@` field of the same name.

use serde_json::{Map, Value};

use super::mapping::{self, SeqEvent, kind, put_aside, quote};
use super::{IngestLimits, IngestProblem, TIME_HINT, json_error_text, parse_time};
use crate::model::NewEvent;

/// Parses a CLEF body (already checked to be UTF-8 and within the payload limit).
pub fn parse(text: &str, limits: &IngestLimits) -> Result<Vec<NewEvent>, IngestProblem> {
    let mut events = Vec::new();
    for (index, line) in text.split('\n').enumerate() {
        let number = index + 1;
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() {
            continue;
        }
        if line.len() > limits.max_event_bytes {
            return Err(IngestProblem::BadRequest(format!(
                "line {number}: the event is {} bytes, over the limit of {} bytes for one event",
                line.len(),
                limits.max_event_bytes
            )));
        }
        let event = parse_line(line)
            .map_err(|problem| IngestProblem::BadRequest(format!("line {number}: {problem}")))?;
        events.push(event);
    }
    if events.is_empty() {
        return Err(IngestProblem::BadRequest(super::EMPTY_BODY.to_owned()));
    }
    Ok(events)
}

/// One non-blank line to an event; the error is the problem without the line number.
fn parse_line(line: &str) -> Result<NewEvent, String> {
    let object = match serde_json::from_str::<Value>(line) {
        Ok(Value::Object(object)) => object,
        Ok(other) => return Err(format!("not a JSON object (found {})", kind(&other))),
        Err(error) => {
            return Err(format!(
                "not JSON ({} at column {})",
                json_error_text(&error),
                error.column()
            ));
        }
    };
    clef_event(object)
}

fn clef_event(mut object: Map<String, Value>) -> Result<NewEvent, String> {
    let timestamp = match object.remove("@t") {
        None | Some(Value::Null) => return Err("\"@t\" is missing".to_owned()),
        Some(Value::String(text)) => {
            parse_time(&text).ok_or_else(|| format!("\"@t\": {} {TIME_HINT}", quote(&text)))?
        }
        Some(other) => return Err(format!("\"@t\" must be a string, not {}", kind(&other))),
    };
    let rendered_message = take_string(&mut object, "@m")?;
    let message_template = take_string(&mut object, "@mt")?;
    let level = take_string(&mut object, "@l")?;
    let exception = take_string(&mut object, "@x")?;
    object.remove("@r");
    let event_id = object.remove("@i");
    let trace_id = object.remove("@tr");
    let span_id = object.remove("@sp");

    let mut properties = if object.keys().any(|key| key.starts_with('@')) {
        unescape(object)
    } else {
        object
    };
    for (value, preferred, fallback) in [
        (event_id, "EventId", "@i"),
        (trace_id, "TraceId", "@tr"),
        (span_id, "SpanId", "@sp"),
    ] {
        if let Some(value) = value {
            put_aside(&mut properties, preferred, fallback, value);
        }
    }

    mapping::to_event(SeqEvent {
        timestamp,
        level,
        message_template,
        rendered_message,
        exception,
        properties,
    })
    .map_err(|problem| format!("\"{}\" {}", problem.property, problem.problem))
}

/// Removes a reserved field that must be a string when present.
fn take_string(object: &mut Map<String, Value>, field: &str) -> Result<Option<String>, String> {
    match object.remove(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(other) => Err(format!(
            "\"{field}\" must be a string, not {}",
            kind(&other)
        )),
    }
}

/// Turns `@@name` keys into `@name` properties; other `@` keys (unknown reserved fields) are
/// kept as they are unless an escaped property took the name.
fn unescape(object: Map<String, Value>) -> Map<String, Value> {
    let mut properties = Map::new();
    let mut reserved = Vec::new();
    for (key, value) in object {
        if let Some(name) = key.strip_prefix('@') {
            if name.starts_with('@') {
                properties.insert(name.to_owned(), value);
            } else {
                reserved.push((key, value));
            }
        } else {
            properties.insert(key, value);
        }
    }
    for (key, value) in reserved {
        properties.entry(key).or_insert(value);
    }
    properties
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use witness_api::{ActorType, AuditResult};

    use super::*;
    use crate::ingest::{BodyFormat, parse_body};

    fn parse_ok(body: &str) -> Vec<NewEvent> {
        parse_body(BodyFormat::Clef, body.as_bytes(), &IngestLimits::default()).expect("parses")
    }

    fn problem(body: &str) -> String {
        match parse_body(BodyFormat::Clef, body.as_bytes(), &IngestLimits::default()) {
            Ok(events) => panic!("expected a problem, got {events:?}"),
            Err(IngestProblem::BadRequest(message)) => message,
            Err(other) => panic!("expected BadRequest, got {other:?}"),
        }
    }

    const GOOD: &str = r#"{"@t":"2024-05-01T12:00:00Z","@mt":"ok"}"#;

    #[test]
    fn a_valid_batch_with_crlf_and_blank_lines() {
        let body = concat!(
            "{\"@t\":\"2024-05-01T12:00:00.1234567+02:00\",\"@mt\":\"{User} signed in\",\"User\":\"alice\",\"Action\":\"user.login\",\"ActorId\":\"u1\"}\r\n",
            "\r\n",
            "   \t \n",
            "{\"@t\":\"2024-05-01T12:00:01Z\",\"@m\":\"Rendered\",\"@l\":\"Warning\",\"Result\":\"failure\"}\r\n",
            "\n",
        );
        let events = parse_ok(body);
        assert_eq!(events.len(), 2);

        let first = &events[0];
        assert_eq!(
            first.timestamp.to_rfc3339(),
            "2024-05-01T10:00:00.123456700+00:00"
        );
        assert_eq!(first.message, "alice signed in");
        assert_eq!(first.level, "Information");
        assert_eq!(first.action, "user.login");
        assert_eq!(first.actor.id.as_deref(), Some("u1"));
        assert_eq!(first.actor.actor_type, ActorType::User);
        assert_eq!(first.result, AuditResult::Success);
        assert_eq!(
            Value::Object(first.properties.clone()),
            json!({"User": "alice"})
        );

        let second = &events[1];
        assert_eq!(second.message, "Rendered");
        assert_eq!(second.level, "Warning");
        assert_eq!(second.action, "event");
        assert_eq!(second.result, AuditResult::Failure);
        assert!(second.properties.is_empty());
    }

    #[test]
    fn double_at_escapes_a_property_name() {
        let events = parse_ok(
            r#"{"@t":"2024-05-01T12:00:00Z","@@mt":"mine","@@x":1,"plain":true,"@ra":{"service":"a"}}"#,
        );
        assert_eq!(
            Value::Object(events[0].properties.clone()),
            json!({"@mt": "mine", "@x": 1, "plain": true, "@ra": {"service": "a"}})
        );
        assert_eq!(events[0].message, "");
    }

    #[test]
    fn reserved_fields_are_kept_as_properties() {
        let events = parse_ok(
            r#"{"@t":"2024-05-01T12:00:00Z","@mt":"boom","@x":"System.Exception: boom","@i":"a1e77001","@tr":"4bf92f3577b34da6a3ce929d0e0e4736","@sp":"00f067aa0ba902b7","@r":["x"]}"#,
        );
        assert_eq!(
            Value::Object(events[0].properties.clone()),
            json!({
                "Exception": "System.Exception: boom",
                "EventId": "a1e77001",
                "TraceId": "4bf92f3577b34da6a3ce929d0e0e4736",
                "SpanId": "00f067aa0ba902b7",
            })
        );
    }

    #[test]
    fn a_senders_own_property_wins_over_a_reserved_field() {
        let events = parse_ok(
            r#"{"@t":"2024-05-01T12:00:00Z","@x":"trace","Exception":"mine","@i":7,"EventId":{"Id":1}}"#,
        );
        assert_eq!(
            Value::Object(events[0].properties.clone()),
            json!({"Exception": "mine", "@x": "trace", "EventId": {"Id": 1}, "@i": 7})
        );
    }

    #[test]
    fn a_line_that_is_not_json() {
        let message = problem(&format!("{GOOD}\nhello\n"));
        assert_eq!(message, "line 2: not JSON (expected value at column 1)");
        let message = problem(&format!(
            "{GOOD}\n{GOOD}\n{{\"@t\":\"2024-05-01T12:00:00Z\"\n"
        ));
        assert!(
            message.starts_with("line 3: not JSON (EOF while parsing"),
            "{message}"
        );
    }

    #[test]
    fn a_line_that_is_json_but_not_an_object() {
        assert_eq!(
            problem(&format!("{GOOD}\n[1,2]")),
            "line 2: not a JSON object (found an array)"
        );
        assert_eq!(
            problem("\n\n42"),
            "line 3: not a JSON object (found a number)"
        );
    }

    #[test]
    fn a_missing_timestamp() {
        assert_eq!(
            problem(&format!("{GOOD}\n{GOOD}\n{{\"@mt\":\"x\"}}")),
            "line 3: \"@t\" is missing"
        );
    }

    #[test]
    fn an_unparsable_or_non_string_timestamp() {
        assert_eq!(
            problem(r#"{"@t":"yesterday"}"#),
            "line 1: \"@t\": \"yesterday\" is not an RFC 3339 time (for example 2024-05-01T12:00:00Z)"
        );
        assert!(
            problem(r#"{"@t":"2024-05-01 12:00:00"}"#)
                .starts_with("line 1: \"@t\": \"2024-05-01 12:00:00\" is not an RFC 3339 time")
        );
        assert_eq!(
            problem(r#"{"@t":1714564800}"#),
            "line 1: \"@t\" must be a string, not a number"
        );
    }

    #[test]
    fn non_string_reserved_fields() {
        for (field, value, found) in [
            ("@l", "3", "a number"),
            ("@m", "{}", "an object"),
            ("@mt", "[]", "an array"),
            ("@x", "true", "a boolean"),
        ] {
            let body = format!(
                "{GOOD}\n{GOOD}\n{GOOD}\n{{\"@t\":\"2024-05-01T12:00:00Z\",\"{field}\":{value}}}"
            );
            assert_eq!(
                problem(&body),
                format!("line 4: \"{field}\" must be a string, not {found}")
            );
        }
    }

    #[test]
    fn a_mapping_problem_names_the_line_and_property() {
        assert_eq!(
            problem(&format!(
                "{GOOD}\n{{\"@t\":\"2024-05-01T12:00:00Z\",\"Result\":\"maybe\"}}"
            )),
            "line 2: \"Result\" must be \"success\" or \"failure\" (or true/false), not \"maybe\""
        );
    }

    #[test]
    fn one_line_over_the_event_limit() {
        let limits = IngestLimits {
            max_payload_bytes: 10_000,
            max_event_bytes: 100,
        };
        let big = format!(
            "{{\"@t\":\"2024-05-01T12:00:00Z\",\"pad\":\"{}\"}}",
            "x".repeat(200)
        );
        let body = format!("{GOOD}\r\n{big}\r\n");
        let problem = parse_body(BodyFormat::Clef, body.as_bytes(), &limits).unwrap_err();
        let IngestProblem::BadRequest(message) = problem else {
            panic!("expected BadRequest, got {problem:?}");
        };
        assert_eq!(
            message,
            format!(
                "line 2: the event is {} bytes, over the limit of 100 bytes for one event",
                big.len()
            )
        );
        // A line exactly at the limit is fine, its CR not counted.
        let exact = format!("{GOOD}{}\r\n", " ".repeat(100 - GOOD.len()));
        assert_eq!(
            parse_body(BodyFormat::Clef, exact.as_bytes(), &limits)
                .unwrap()
                .len(),
            1
        );
    }

    #[test]
    fn the_whole_batch_is_refused_on_one_bad_line() {
        let body = format!("{GOOD}\n{GOOD}\n{{\"@t\":\"nope\"}}\n{GOOD}\n");
        assert!(parse_body(BodyFormat::Clef, body.as_bytes(), &IngestLimits::default()).is_err());
    }

    #[test]
    fn null_reserved_fields_count_as_absent() {
        let events = parse_ok(r#"{"@t":"2024-05-01T12:00:00Z","@l":null,"@m":null,"@mt":"hi"}"#);
        assert_eq!(events[0].level, "Information");
        assert_eq!(events[0].message, "hi");
    }
}
