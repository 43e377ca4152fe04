//! The classic Seq body: `{"Events":[{"Timestamp", "Level", "MessageTemplate", "Properties",
//! "Exception"}, …]}`, as older Serilog Seq sinks send it.
//!
//! Per event: `Timestamp` (RFC 3339, required); `Level` (string, default `Information`);
//! `MessageTemplate` and `RenderedMessage` (strings, optional); `Properties` (object,
//! optional); `Exception` (string, optional, kept as the property `Exception`). `null` counts as
//! absent. `Renderings` is dropped (derivable from the template and properties). Any other field
//! of the event is kept as a property of the same name unless `Properties` already has one, so
//! nothing a sender wrote is lost. Other top-level fields of the body are ignored.
//!
//! The per-event size is the event's compact JSON length, measured only when the body itself is
//! over the per-event limit (otherwise no event can be) and only up to the limit.

use std::io;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::mapping::{self, SeqEvent, kind, quote};
use super::{IngestLimits, IngestProblem, TIME_HINT, json_error_text, parse_time};
use crate::model::NewEvent;

/// The body's top level; every other field is skipped without being built.
#[derive(Deserialize)]
struct Body {
    #[serde(rename = "Events", default)]
    events: Option<Value>,
}

const SHAPE_HINT: &str =
    "send {\"Events\":[…]}, or CLEF with ?clef or Content-Type: application/vnd.serilog.clef";

/// Parses a classic body (already checked to be UTF-8, non-blank and within the payload limit).
pub fn parse(text: &str, limits: &IngestLimits) -> Result<Vec<NewEvent>, IngestProblem> {
    let bad = |message: String| IngestProblem::BadRequest(message);
    if !text.trim_start().starts_with('{') {
        // Only the error path pays for parsing twice.
        return Err(bad(match serde_json::from_str::<Value>(text) {
            Ok(value) => format!(
                "the body must be a JSON object with an \"Events\" array, not {}; {SHAPE_HINT}",
                kind(&value)
            ),
            Err(error) => not_json(&error),
        }));
    }
    let body: Body = serde_json::from_str(text).map_err(|error| bad(not_json(&error)))?;
    let events = match body.events {
        None | Some(Value::Null) => {
            return Err(bad(format!(
                "the body has no \"Events\" array; {SHAPE_HINT}"
            )));
        }
        Some(Value::Array(events)) => events,
        Some(other) => {
            return Err(bad(format!(
                "\"Events\" must be an array, not {}",
                kind(&other)
            )));
        }
    };

    let measure = text.len() > limits.max_event_bytes;
    let mut parsed = Vec::with_capacity(events.len());
    for (index, event) in events.into_iter().enumerate() {
        if measure && let Some(size) = oversize(&event, limits.max_event_bytes) {
            return Err(bad(format!(
                "Events[{index}] is {size} bytes or more, over the limit of {} bytes for one event",
                limits.max_event_bytes
            )));
        }
        let Value::Object(object) = event else {
            return Err(bad(format!(
                "Events[{index}] must be a JSON object, not {}",
                kind(&event)
            )));
        };
        let event =
            classic_event(object).map_err(|problem| bad(format!("Events[{index}].{problem}")))?;
        parsed.push(event);
    }
    Ok(parsed)
}

fn not_json(error: &serde_json::Error) -> String {
    let hint = if json_error_text(error) == "trailing characters" {
        format!("; for one event per line, {SHAPE_HINT}")
    } else {
        String::new()
    };
    format!(
        "the body is not JSON ({} at line {} column {}){hint}",
        json_error_text(error),
        error.line(),
        error.column()
    )
}

/// `Some(bytes written)` when the event's compact JSON is over `limit` bytes. Stops writing as
/// soon as it is.
fn oversize(event: &Value, limit: usize) -> Option<usize> {
    struct Counter {
        count: usize,
        limit: usize,
    }
    impl io::Write for Counter {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            self.count += bytes.len();
            if self.count > self.limit {
                Err(io::Error::other("over the limit"))
            } else {
                Ok(bytes.len())
            }
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let mut counter = Counter { count: 0, limit };
    match serde_json::to_writer(&mut counter, event) {
        Ok(()) => None,
        Err(_) => Some(counter.count),
    }
}

/// One event object to an event; the error is the problem after `Events[i].`.
fn classic_event(mut object: Map<String, Value>) -> Result<NewEvent, String> {
    let timestamp = match object.remove("Timestamp") {
        None | Some(Value::Null) => return Err("Timestamp is missing".to_owned()),
        Some(Value::String(text)) => {
            parse_time(&text).ok_or_else(|| format!("Timestamp: {} {TIME_HINT}", quote(&text)))?
        }
        Some(other) => {
            return Err(format!("Timestamp must be a string, not {}", kind(&other)));
        }
    };
    let level = take_string(&mut object, "Level")?;
    let message_template = take_string(&mut object, "MessageTemplate")?;
    let rendered_message = take_string(&mut object, "RenderedMessage")?;
    let exception = take_string(&mut object, "Exception")?;
    let mut properties = match object.remove("Properties") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(properties)) => properties,
        Some(other) => {
            return Err(format!(
                "Properties must be a JSON object, not {}",
                kind(&other)
            ));
        }
    };
    object.remove("Renderings");
    for (key, value) in object {
        properties.entry(key).or_insert(value);
    }

    mapping::to_event(SeqEvent {
        timestamp,
        level,
        message_template,
        rendered_message,
        exception,
        properties,
    })
    .map_err(|problem| format!("Properties.{} {}", problem.property, problem.problem))
}

fn take_string(object: &mut Map<String, Value>, field: &str) -> Result<Option<String>, String> {
    match object.remove(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(other) => Err(format!("{field} must be a string, not {}", kind(&other))),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use witness_api::{ActorType, AuditResult};

    use super::*;
    use crate::ingest::{BodyFormat, parse_body};

    fn parse_ok(body: &Value) -> Vec<NewEvent> {
        parse_body(
            BodyFormat::Classic,
            body.to_string().as_bytes(),
            &IngestLimits::default(),
        )
        .expect("parses")
    }

    fn problem(body: &str) -> String {
        match parse_body(
            BodyFormat::Classic,
            body.as_bytes(),
            &IngestLimits::default(),
        ) {
            Ok(events) => panic!("expected a problem, got {events:?}"),
            Err(IngestProblem::BadRequest(message)) => message,
            Err(other) => panic!("expected BadRequest, got {other:?}"),
        }
    }

    fn good() -> Value {
        json!({"Timestamp": "2024-05-01T12:00:00Z", "MessageTemplate": "ok"})
    }

    #[test]
    fn a_valid_body() {
        let events = parse_ok(&json!({"Events": [
            {
                "Timestamp": "2024-05-01T12:00:00.1234567+01:00",
                "Level": "Warning",
                "MessageTemplate": "{User} changed {Setting}",
                "Properties": {"User": "alice", "Setting": "retention", "Action": "settings.changed",
                               "ActorId": 7, "OldValue": 30, "NewValue": 90, "Extra": [1, 2]},
                "Renderings": {"User": [{"Format": "l", "Rendering": "alice"}]},
                "Exception": "System.Exception: x",
            },
            {"Timestamp": "2024-05-01T12:00:01Z", "Custom": "top-level", "Properties": null},
        ]}));
        assert_eq!(events.len(), 2);
        let first = &events[0];
        assert_eq!(
            first.timestamp.to_rfc3339(),
            "2024-05-01T11:00:00.123456700+00:00"
        );
        assert_eq!(first.level, "Warning");
        assert_eq!(first.message, "alice changed retention");
        assert_eq!(first.action, "settings.changed");
        assert_eq!(first.actor.id.as_deref(), Some("7"));
        assert_eq!(first.actor.actor_type, ActorType::User);
        assert_eq!(first.result, AuditResult::Success);
        assert_eq!(
            Value::Object(first.details.clone()),
            json!({"value": {"old": 30, "new": 90}})
        );
        assert_eq!(
            Value::Object(first.properties.clone()),
            json!({"User": "alice", "Setting": "retention", "Extra": [1, 2],
                   "Exception": "System.Exception: x"})
        );
        let second = &events[1];
        assert_eq!(second.level, "Information");
        assert_eq!(second.message, "");
        assert_eq!(
            Value::Object(second.properties.clone()),
            json!({"Custom": "top-level"})
        );
    }

    #[test]
    fn an_empty_events_array_gives_no_events() {
        assert!(parse_ok(&json!({"Events": []})).is_empty());
    }

    #[test]
    fn a_body_without_events() {
        let message = problem(r#"{"events":[]}"#);
        assert!(
            message.starts_with("the body has no \"Events\" array; send {\"Events\":[…]}"),
            "{message}"
        );
        assert_eq!(
            problem(r#"{"Events":{}}"#),
            "\"Events\" must be an array, not an object"
        );
        assert!(
            problem("[1]").starts_with(
                "the body must be a JSON object with an \"Events\" array, not an array"
            )
        );
        assert!(problem("{\"Events\":[").starts_with("the body is not JSON (EOF while parsing"));
        assert!(
            problem("hello")
                .starts_with("the body is not JSON (expected value at line 1 column 1)")
        );
    }

    #[test]
    fn a_clef_body_sent_as_classic_gets_a_hint() {
        let message =
            problem("{\"@t\":\"2024-05-01T12:00:00Z\"}\n{\"@t\":\"2024-05-01T12:00:00Z\"}");
        assert!(
            message.contains("trailing characters at line 2 column 1"),
            "{message}"
        );
        assert!(message.contains("?clef"), "{message}");
    }

    #[test]
    fn an_event_with_a_bad_timestamp() {
        let mut bad = good();
        bad["Timestamp"] = json!("yesterday");
        let body = json!({"Events": [good(), good(), bad]}).to_string();
        assert_eq!(
            problem(&body),
            "Events[2].Timestamp: \"yesterday\" is not an RFC 3339 time (for example 2024-05-01T12:00:00Z)"
        );
        let body = json!({"Events": [{"MessageTemplate": "x"}]}).to_string();
        assert_eq!(problem(&body), "Events[0].Timestamp is missing");
        let body = json!({"Events": [good(), {"Timestamp": 5}]}).to_string();
        assert_eq!(
            problem(&body),
            "Events[1].Timestamp must be a string, not a number"
        );
    }

    #[test]
    fn events_fields_of_the_wrong_type() {
        for (field, value, expected) in [
            (
                "Level",
                json!(3),
                "Events[1].Level must be a string, not a number",
            ),
            (
                "MessageTemplate",
                json!({}),
                "Events[1].MessageTemplate must be a string, not an object",
            ),
            (
                "RenderedMessage",
                json!([]),
                "Events[1].RenderedMessage must be a string, not an array",
            ),
            (
                "Exception",
                json!(true),
                "Events[1].Exception must be a string, not a boolean",
            ),
            (
                "Properties",
                json!("x"),
                "Events[1].Properties must be a JSON object, not a string",
            ),
        ] {
            let mut bad = good();
            bad[field] = value;
            assert_eq!(
                problem(&json!({"Events": [good(), bad]}).to_string()),
                expected
            );
        }
        assert_eq!(
            problem(&json!({"Events": [good(), "x"]}).to_string()),
            "Events[1] must be a JSON object, not a string"
        );
        let mut bad = good();
        bad["Properties"] = json!({"Details": "text"});
        assert_eq!(
            problem(&json!({"Events": [bad]}).to_string()),
            "Events[0].Properties.Details must be a JSON object, not a string"
        );
    }

    #[test]
    fn one_event_over_the_event_limit() {
        let limits = IngestLimits {
            max_payload_bytes: 10_000,
            max_event_bytes: 200,
        };
        let mut big = good();
        big["Properties"] = json!({"pad": "x".repeat(300)});
        let body = json!({"Events": [good(), good(), good(), big]}).to_string();
        let problem = parse_body(BodyFormat::Classic, body.as_bytes(), &limits).unwrap_err();
        let IngestProblem::BadRequest(message) = problem else {
            panic!("expected BadRequest, got {problem:?}");
        };
        assert!(
            message.starts_with("Events[3] is ")
                && message.ends_with("over the limit of 200 bytes for one event"),
            "{message}"
        );
        // Several events each under the limit are fine even when the body is over it.
        let body = json!({"Events": [good(), good(), good(), good(), good()]}).to_string();
        assert!(body.len() > 200);
        assert_eq!(
            parse_body(BodyFormat::Classic, body.as_bytes(), &limits)
                .unwrap()
                .len(),
            5
        );
    }

    #[test]
    fn the_payload_limit_applies() {
        let limits = IngestLimits {
            max_payload_bytes: 50,
            max_event_bytes: 50,
        };
        let body = json!({"Events": [good(), good()]}).to_string();
        assert!(matches!(
            parse_body(BodyFormat::Classic, body.as_bytes(), &limits),
            Err(IngestProblem::PayloadTooLarge(_))
        ));
    }
}
