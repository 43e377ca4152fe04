//! From a Seq event (timestamp, level, message, properties) to an audit event.
//!
//! The well-known Seq properties fill the audit fields and are removed from `properties`;
//! everything else stays verbatim. The rules, in the order they apply:
//!
//! - **Lookup order.** Where several properties can fill one field, the first one present (in
//!   the order listed below) wins and is removed; the others stay in `properties` untouched.
//! - **Scalars.** A field that holds text takes a JSON string, number or boolean (numbers and
//!   booleans become their JSON text, so `"ActorId": 42` gives id `"42"`). `null` and `""`
//!   count as absent and are removed. A property of the wrong shape (an object or array where
//!   text is expected) is not an error: it does not fill the field and stays in `properties`,
//!   because apps that already log to Seq use names like `Type` or `Status` freely.
//!   The exceptions, where a wrong value would silently change what the audit log claims, are
//!   errors that reject the batch: `Result` that is not a success/failure word or boolean,
//!   and `Details` that is not an object.
//! - **action**: `Action`, `Type`; `event` when neither is present.
//! - **actor**: id from `ActorId`, `PrincipalId`, `Actor`, `Principal` (when a scalar); name
//!   from `ActorName`; email from `ActorEmail`; type from `ActorType`, `PrincipalType`
//!   (via [`ActorType::parse`]; an unknown word stays in `properties`). `Actor` or `Principal`
//!   may be an object `{id, name, email, type}` (keys matched case-insensitively) that fills
//!   whatever the flat properties left empty; it is removed only when every key in it is one
//!   of those four and its values all agree with the resulting actor, so nothing is lost.
//!   The type defaults to `user` when the actor has an id, name or email, else `anonymous`.
//! - **target**: id from `TargetId`, `Target` (scalar); type from `TargetType`; name from
//!   `TargetName`; `Target` may be an object `{type, id, name}`, treated like `Actor`.
//! - **result**: `Result` (a word [`AuditResult::parse`] knows, or a boolean), else
//!   `Succeeded` (boolean, or the strings `true`/`false`), else `success`.
//! - **status**: `Status`. **client_ip**: `ClientIp`, `ClientIP`, `RemoteIPAddress`,
//!   `RemoteIpAddress`.
//! - **organization** / **workspace**: `OrganizationId`/`OrganizationName`,
//!   `WorkspaceId`/`WorkspaceName`; absent unless one of the pair is present.
//! - **details**: `Details` (an object). `OldValue`/`NewValue` become the change
//!   `{"value": {"old": OldValue, "new": NewValue}}` (a missing side is `null`), following the
//!   `{"field": {"old", "new"}}` shape with the generic field name `value`. When
//!   `Details` already has a `value` entry, `OldValue`/`NewValue` stay in `properties` instead.
//! - **exception**: kept as the property `Exception` (or `@x` if the sender already has an
//!   `Exception` property).
//! - **message**: the rendered message when the sender gave a non-empty one, else the template
//!   rendered with the properties as received (before any are removed), else empty.
//!   The template itself is not kept.
//! - **level**: verbatim; `Information` when absent.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use witness_api::{Actor, ActorType, AuditResult, Target, Tenant};

use crate::model::NewEvent;

/// The level of an event that names none (Seq's default).
pub const DEFAULT_LEVEL: &str = "Information";

/// The action of an event whose sender named none.
pub const DEFAULT_ACTION: &str = "event";

/// A Seq event as either wire format delivers it, before mapping.
#[derive(Debug, Clone, PartialEq)]
pub struct SeqEvent {
    pub timestamp: DateTime<Utc>,
    /// `None` means [`DEFAULT_LEVEL`].
    pub level: Option<String>,
    pub message_template: Option<String>,
    pub rendered_message: Option<String>,
    pub exception: Option<String>,
    pub properties: Map<String, Value>,
}

/// A property whose value cannot be mapped; the batch holding it is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropertyProblem {
    /// The property's name as the sender wrote it.
    pub property: &'static str,
    /// What is wrong, to follow the name: `must be "success" or "failure", not "maybe"`.
    pub problem: String,
}

/// Maps one Seq event onto an audit event (see the module documentation for the rules).
pub fn to_event(event: SeqEvent) -> Result<NewEvent, PropertyProblem> {
    let SeqEvent {
        timestamp,
        level,
        message_template,
        rendered_message,
        exception,
        mut properties,
    } = event;

    let message = match rendered_message.filter(|m| !m.is_empty()) {
        Some(rendered) => rendered,
        None => match message_template {
            Some(template) => render_owned(template, &properties),
            None => String::new(),
        },
    };

    let result = take_result(&mut properties)?;
    let details = take_details(&mut properties)?;

    let mut action = None;
    fill(&mut action, &mut properties, "Action");
    fill(&mut action, &mut properties, "Type");

    let actor = take_actor(&mut properties);
    let target = take_target(&mut properties);

    let mut status = None;
    fill(&mut status, &mut properties, "Status");
    let mut client_ip = None;
    for key in ["ClientIp", "ClientIP", "RemoteIPAddress", "RemoteIpAddress"] {
        fill(&mut client_ip, &mut properties, key);
    }
    let organization = take_tenant(&mut properties, "OrganizationId", "OrganizationName");
    let workspace = take_tenant(&mut properties, "WorkspaceId", "WorkspaceName");

    if let Some(exception) = exception {
        put_aside(&mut properties, "Exception", "@x", Value::String(exception));
    }

    let event = NewEvent {
        timestamp,
        action: action.unwrap_or_else(|| DEFAULT_ACTION.to_owned()),
        actor,
        target,
        result,
        status,
        client_ip,
        organization,
        workspace,
        details,
        message,
        level: level.unwrap_or_else(|| DEFAULT_LEVEL.to_owned()),
        properties,
    };
    match event.field_with_nul() {
        Some(property) => Err(PropertyProblem {
            property,
            problem: "contains a NUL character (U+0000), which Witness does not store".to_string(),
        }),
        None => Ok(event),
    }
}

/// Stores a value the wire format carries outside the properties (an exception, a trace id)
/// under `preferred`, or `fallback` when the sender already has a property of that name.
/// When both names are taken the sender's own properties win.
pub(crate) fn put_aside(
    properties: &mut Map<String, Value>,
    preferred: &str,
    fallback: &str,
    value: Value,
) {
    if !properties.contains_key(preferred) {
        properties.insert(preferred.to_owned(), value);
    } else if !properties.contains_key(fallback) {
        properties.insert(fallback.to_owned(), value);
    }
}

/// Renders a Serilog message template: `{Name}`, `{@Name}`, `{$Name}`, `{Name:format}` and
/// `{Name,alignment}` holes take the property's value (a string as is, anything else as
/// compact JSON; formats and alignments are ignored); holes naming no property are left as
/// written; `{{` and `}}` are literal braces.
pub fn render_template(template: &str, properties: &Map<String, Value>) -> String {
    if !template.contains(['{', '}']) {
        return template.to_owned();
    }
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(at) = rest.find(['{', '}']) {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        if let Some(after) = tail.strip_prefix("{{") {
            out.push('{');
            rest = after;
        } else if let Some(after) = tail.strip_prefix("}}") {
            out.push('}');
            rest = after;
        } else if let Some(after) = tail.strip_prefix('}') {
            out.push('}');
            rest = after;
        } else if let Some(after) = tail.strip_prefix('{') {
            // A hole runs to the next closing brace, unless another opening brace comes first
            // (then this one is text).
            match after.find(['{', '}']) {
                Some(end) if after[end..].starts_with('}') => {
                    let inside = &after[..end];
                    match hole_value(inside, properties) {
                        Some(Value::String(text)) => out.push_str(text),
                        Some(value) => {
                            // Writing to a String cannot fail.
                            let _ = write!(out, "{value}");
                        }
                        None => {
                            out.push('{');
                            out.push_str(inside);
                            out.push('}');
                        }
                    }
                    rest = &after[end + 1..];
                }
                _ => {
                    out.push('{');
                    rest = after;
                }
            }
        } else {
            // Not reached: `find` stopped at a brace.
            rest = tail;
            break;
        }
    }
    out.push_str(rest);
    out
}

fn render_owned(template: String, properties: &Map<String, Value>) -> String {
    if template.contains(['{', '}']) {
        render_template(&template, properties)
    } else {
        template
    }
}

/// The property a hole's text (between the braces) names, if it is a well-formed hole.
fn hole_value<'a>(hole: &str, properties: &'a Map<String, Value>) -> Option<&'a Value> {
    let hole = hole
        .strip_prefix('@')
        .or_else(|| hole.strip_prefix('$'))
        .unwrap_or(hole);
    let name = match hole.find([',', ':']) {
        Some(end) => &hole[..end],
        None => hole,
    };
    let well_formed = !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_');
    if well_formed {
        properties.get(name)
    } else {
        None
    }
}

/// What kind of JSON value this is, for messages: "a string", "an object".
pub(crate) fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A sender's text quoted for a message, shortened if long.
pub(crate) fn quote(text: &str) -> String {
    const MAX_CHARS: usize = 60;
    match text.char_indices().nth(MAX_CHARS) {
        Some((cut, _)) => format!("{}…", Value::String(text[..cut].to_owned())),
        None => Value::String(text.to_owned()).to_string(),
    }
}

/// A scalar's text; `Some(None)` for null or empty; `None` for an object or array.
fn scalar_text(value: &Value) -> Option<Option<String>> {
    match value {
        Value::Null => Some(None),
        Value::String(text) if text.is_empty() => Some(None),
        Value::String(text) => Some(Some(text.clone())),
        Value::Number(number) => Some(Some(number.to_string())),
        Value::Bool(flag) => Some(Some(flag.to_string())),
        Value::Array(_) | Value::Object(_) => None,
    }
}

/// Fills an empty slot from a scalar property, removing the property. A filled slot leaves the
/// property alone; so does an object or array.
fn fill(slot: &mut Option<String>, properties: &mut Map<String, Value>, key: &str) {
    if slot.is_some() {
        return;
    }
    match properties.get(key) {
        None | Some(Value::Array(_)) | Some(Value::Object(_)) => {}
        Some(Value::String(_)) => {
            if let Some(Value::String(text)) = properties.remove(key)
                && !text.is_empty()
            {
                *slot = Some(text);
            }
        }
        Some(other) => {
            *slot = scalar_text(other).flatten();
            properties.remove(key);
        }
    }
}

fn take_result(properties: &mut Map<String, Value>) -> Result<AuditResult, PropertyProblem> {
    let problem = |value: &Value| PropertyProblem {
        property: "Result",
        problem: match value {
            Value::String(text) => format!(
                "must be \"success\" or \"failure\" (or true/false), not {}",
                quote(text)
            ),
            other => format!(
                "must be \"success\" or \"failure\" (or true/false), not {}",
                kind(other)
            ),
        },
    };
    match properties.get("Result") {
        None => {}
        Some(Value::Null) => {
            properties.remove("Result");
        }
        Some(value) => {
            let parsed = match value {
                Value::String(text) => AuditResult::parse(text.trim()),
                Value::Bool(true) => Some(AuditResult::Success),
                Value::Bool(false) => Some(AuditResult::Failure),
                _ => None,
            };
            let Some(result) = parsed else {
                return Err(problem(value));
            };
            properties.remove("Result");
            return Ok(result);
        }
    }
    let succeeded = match properties.get("Succeeded") {
        Some(Value::Bool(flag)) => Some(*flag),
        Some(Value::String(text)) if text.eq_ignore_ascii_case("true") => Some(true),
        Some(Value::String(text)) if text.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    };
    match succeeded {
        Some(flag) => {
            properties.remove("Succeeded");
            Ok(if flag {
                AuditResult::Success
            } else {
                AuditResult::Failure
            })
        }
        None => Ok(AuditResult::Success),
    }
}

fn take_details(
    properties: &mut Map<String, Value>,
) -> Result<Map<String, Value>, PropertyProblem> {
    let mut details = match properties.remove("Details") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(details)) => details,
        Some(other) => {
            return Err(PropertyProblem {
                property: "Details",
                problem: format!("must be a JSON object, not {}", kind(&other)),
            });
        }
    };
    let has_change = properties.contains_key("OldValue") || properties.contains_key("NewValue");
    if has_change && !details.contains_key("value") {
        let old = properties.remove("OldValue").unwrap_or(Value::Null);
        let new = properties.remove("NewValue").unwrap_or(Value::Null);
        let mut change = Map::new();
        change.insert("old".to_owned(), old);
        change.insert("new".to_owned(), new);
        details.insert("value".to_owned(), Value::Object(change));
    }
    Ok(details)
}

/// One field of a party (actor or target) that an object-valued property can fill: the key
/// (matched case-insensitively), the slot, and which texts the field accepts.
struct PartyField<'a> {
    key: &'static str,
    slot: &'a mut Option<String>,
    accepts: fn(&str) -> bool,
}

fn any_text(_: &str) -> bool {
    true
}

fn actor_type_text(text: &str) -> bool {
    ActorType::parse(text).is_some()
}

/// Fills the empty slots of a party from an object-valued property, then removes the property
/// if nothing in it would be lost: every key is a known field and every value agrees with the
/// field's final text.
fn fill_from_object(properties: &mut Map<String, Value>, key: &str, fields: &mut [PartyField]) {
    let Some(Value::Object(object)) = properties.get(key) else {
        return;
    };
    for (name, value) in object {
        if let Some(field) = fields
            .iter_mut()
            .find(|field| name.eq_ignore_ascii_case(field.key))
            && field.slot.is_none()
            && let Some(text) = scalar_text(value).flatten()
            && (field.accepts)(&text)
        {
            *field.slot = Some(text);
        }
    }
    let nothing_lost = object.iter().all(|(name, value)| {
        fields
            .iter()
            .find(|field| name.eq_ignore_ascii_case(field.key))
            .is_some_and(|field| match scalar_text(value) {
                Some(None) => true,
                Some(Some(text)) => field.slot.as_deref() == Some(text.as_str()),
                None => false,
            })
    });
    if nothing_lost {
        properties.remove(key);
    }
}

fn take_actor(properties: &mut Map<String, Value>) -> Actor {
    let (mut id, mut name, mut email, mut type_text) = (None, None, None, None);
    for key in ["ActorId", "PrincipalId", "Actor", "Principal"] {
        fill(&mut id, properties, key);
    }
    fill(&mut name, properties, "ActorName");
    fill(&mut email, properties, "ActorEmail");
    // The type is only taken from a property naming a type we know; another word stays in
    // properties and the type falls back to the default.
    for key in ["ActorType", "PrincipalType"] {
        if type_text.is_none() {
            match properties.get(key) {
                Some(Value::Null) => {
                    properties.remove(key);
                }
                Some(Value::String(text)) if actor_type_text(text) => {
                    if let Some(Value::String(text)) = properties.remove(key) {
                        type_text = Some(text);
                    }
                }
                _ => {}
            }
        }
    }
    for key in ["Actor", "Principal"] {
        fill_from_object(
            properties,
            key,
            &mut [
                PartyField {
                    key: "id",
                    slot: &mut id,
                    accepts: any_text,
                },
                PartyField {
                    key: "name",
                    slot: &mut name,
                    accepts: any_text,
                },
                PartyField {
                    key: "email",
                    slot: &mut email,
                    accepts: any_text,
                },
                PartyField {
                    key: "type",
                    slot: &mut type_text,
                    accepts: actor_type_text,
                },
            ],
        );
    }
    let actor_type = type_text.as_deref().and_then(ActorType::parse).unwrap_or(
        if id.is_some() || name.is_some() || email.is_some() {
            ActorType::User
        } else {
            ActorType::Anonymous
        },
    );
    Actor {
        id,
        name,
        email,
        actor_type,
    }
}

fn take_target(properties: &mut Map<String, Value>) -> Target {
    let (mut id, mut target_type, mut name) = (None, None, None);
    fill(&mut id, properties, "TargetId");
    fill(&mut id, properties, "Target");
    fill(&mut target_type, properties, "TargetType");
    fill(&mut name, properties, "TargetName");
    fill_from_object(
        properties,
        "Target",
        &mut [
            PartyField {
                key: "type",
                slot: &mut target_type,
                accepts: any_text,
            },
            PartyField {
                key: "id",
                slot: &mut id,
                accepts: any_text,
            },
            PartyField {
                key: "name",
                slot: &mut name,
                accepts: any_text,
            },
        ],
    );
    Target {
        target_type,
        id,
        name,
    }
}

fn take_tenant(
    properties: &mut Map<String, Value>,
    id_key: &str,
    name_key: &str,
) -> Option<Tenant> {
    let (mut id, mut name) = (None, None);
    fill(&mut id, properties, id_key);
    fill(&mut name, properties, name_key);
    (id.is_some() || name.is_some()).then_some(Tenant { id, name })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn event(properties: Value) -> SeqEvent {
        let Value::Object(properties) = properties else {
            panic!("properties must be an object");
        };
        SeqEvent {
            timestamp: DateTime::parse_from_rfc3339("2024-05-01T12:00:00Z")
                .unwrap()
                .with_timezone(&Utc),
            level: None,
            message_template: None,
            rendered_message: None,
            exception: None,
            properties,
        }
    }

    fn map(properties: Value) -> NewEvent {
        to_event(event(properties)).expect("maps")
    }

    fn props(event: &NewEvent) -> Value {
        Value::Object(event.properties.clone())
    }

    #[test]
    fn every_seq_property_lands_in_its_field_and_leaves_properties() {
        let mapped = map(json!({
            "Action": "member.role_changed",
            "ActorId": "u1", "ActorName": "Alice", "ActorEmail": "alice@example.com",
            "PrincipalType": "user",
            "TargetType": "member", "TargetId": 42, "TargetName": "Bob",
            "Result": "failure",
            "Status": "password",
            "ClientIp": "203.0.113.9",
            "OrganizationId": "o1", "OrganizationName": "Acme",
            "WorkspaceId": "w1", "WorkspaceName": "Ops",
            "Details": {"role": {"old": "member", "new": "admin"}},
            "Unrelated": {"kept": [1, "two"]},
        }));
        assert_eq!(mapped.action, "member.role_changed");
        assert_eq!(
            mapped.actor,
            Actor {
                id: Some("u1".into()),
                name: Some("Alice".into()),
                email: Some("alice@example.com".into()),
                actor_type: ActorType::User,
            }
        );
        assert_eq!(
            mapped.target,
            Target {
                target_type: Some("member".into()),
                id: Some("42".into()),
                name: Some("Bob".into()),
            }
        );
        assert_eq!(mapped.result, AuditResult::Failure);
        assert_eq!(mapped.status.as_deref(), Some("password"));
        assert_eq!(mapped.client_ip.as_deref(), Some("203.0.113.9"));
        assert_eq!(
            mapped.organization,
            Some(Tenant {
                id: Some("o1".into()),
                name: Some("Acme".into())
            })
        );
        assert_eq!(
            mapped.workspace,
            Some(Tenant {
                id: Some("w1".into()),
                name: Some("Ops".into())
            })
        );
        assert_eq!(
            Value::Object(mapped.details.clone()),
            json!({"role": {"old": "member", "new": "admin"}})
        );
        assert_eq!(props(&mapped), json!({"Unrelated": {"kept": [1, "two"]}}));
        assert_eq!(mapped.level, "Information");
    }

    #[test]
    fn alternative_names() {
        let mapped = map(json!({
            "Type": "credentials.created",
            "Principal": "svc-backup", "ActorType": "ApiKey",
            "Target": "key-9",
            "Succeeded": false,
            "RemoteIPAddress": "::1",
            "OrganizationName": "Acme",
        }));
        assert_eq!(mapped.action, "credentials.created");
        assert_eq!(mapped.actor.id.as_deref(), Some("svc-backup"));
        assert_eq!(mapped.actor.actor_type, ActorType::ApiKey);
        assert_eq!(mapped.target.id.as_deref(), Some("key-9"));
        assert_eq!(mapped.result, AuditResult::Failure);
        assert_eq!(mapped.client_ip.as_deref(), Some("::1"));
        assert_eq!(
            mapped.organization,
            Some(Tenant {
                id: None,
                name: Some("Acme".into())
            })
        );
        assert_eq!(mapped.workspace, None);
        assert_eq!(props(&mapped), json!({}));

        let mapped = map(json!({"Actor": "alice", "PrincipalId": 5}));
        assert_eq!(mapped.actor.id.as_deref(), Some("5"));
        // The unused candidate stays verbatim.
        assert_eq!(props(&mapped), json!({"Actor": "alice"}));
    }

    #[test]
    fn the_first_candidate_wins_and_the_others_stay() {
        let mapped = map(
            json!({"Action": "a.b", "Type": "System.String", "ClientIp": "1.1.1.1", "RemoteIPAddress": "2.2.2.2"}),
        );
        assert_eq!(mapped.action, "a.b");
        assert_eq!(mapped.client_ip.as_deref(), Some("1.1.1.1"));
        assert_eq!(
            props(&mapped),
            json!({"Type": "System.String", "RemoteIPAddress": "2.2.2.2"})
        );
    }

    #[test]
    fn actor_and_target_objects() {
        let mapped = map(json!({
            "Actor": {"Id": 12, "Name": "Alice", "Email": "a@example.com", "Type": "system"},
            "Target": {"type": "repo", "id": "r1", "name": "witness"},
        }));
        assert_eq!(
            mapped.actor,
            Actor {
                id: Some("12".into()),
                name: Some("Alice".into()),
                email: Some("a@example.com".into()),
                actor_type: ActorType::System,
            }
        );
        assert_eq!(mapped.target.target_type.as_deref(), Some("repo"));
        assert_eq!(mapped.target.id.as_deref(), Some("r1"));
        assert_eq!(mapped.target.name.as_deref(), Some("witness"));
        assert_eq!(props(&mapped), json!({}));

        // An object with more in it than the mapping uses is kept whole.
        let mapped = map(json!({"Actor": {"id": "u1", "roles": ["admin"]}}));
        assert_eq!(mapped.actor.id.as_deref(), Some("u1"));
        assert_eq!(
            props(&mapped),
            json!({"Actor": {"id": "u1", "roles": ["admin"]}})
        );

        // So is one whose values disagree with flat properties that took precedence.
        let mapped = map(json!({"ActorId": "u2", "Actor": {"id": "u1"}}));
        assert_eq!(mapped.actor.id.as_deref(), Some("u2"));
        assert_eq!(props(&mapped), json!({"Actor": {"id": "u1"}}));

        // An unknown type word is not guessed at: default type, the object kept.
        let mapped = map(json!({"Actor": {"id": "u1", "type": "Group"}}));
        assert_eq!(mapped.actor.actor_type, ActorType::User);
        assert_eq!(
            props(&mapped),
            json!({"Actor": {"id": "u1", "type": "Group"}})
        );
    }

    #[test]
    fn actor_type_defaults() {
        assert_eq!(map(json!({})).actor.actor_type, ActorType::Anonymous);
        assert_eq!(
            map(json!({"ActorEmail": "x@y"})).actor.actor_type,
            ActorType::User
        );
        let mapped = map(json!({"PrincipalType": "robot"}));
        assert_eq!(mapped.actor.actor_type, ActorType::Anonymous);
        assert_eq!(props(&mapped), json!({"PrincipalType": "robot"}));
    }

    #[test]
    fn results() {
        for (value, expected) in [
            (json!("Success"), AuditResult::Success),
            (json!("failed"), AuditResult::Failure),
            (json!(true), AuditResult::Success),
            (json!(false), AuditResult::Failure),
        ] {
            let mapped = map(json!({"Result": value}));
            assert_eq!(mapped.result, expected);
            assert!(mapped.properties.is_empty());
        }
        assert_eq!(
            map(json!({"Succeeded": "true"})).result,
            AuditResult::Success
        );
        assert_eq!(map(json!({})).result, AuditResult::Success);
        let problem = to_event(event(json!({"Result": "maybe"}))).unwrap_err();
        assert_eq!(problem.property, "Result");
        assert_eq!(
            problem.problem,
            "must be \"success\" or \"failure\" (or true/false), not \"maybe\""
        );
        let problem = to_event(event(json!({"Result": 3}))).unwrap_err();
        assert!(problem.problem.ends_with("not a number"));
    }

    #[test]
    fn details_must_be_an_object() {
        let problem = to_event(event(json!({"Details": [1]}))).unwrap_err();
        assert_eq!(problem.property, "Details");
        assert_eq!(problem.problem, "must be a JSON object, not an array");
        assert!(map(json!({"Details": null})).details.is_empty());
    }

    #[test]
    fn old_and_new_values_become_a_change() {
        let mapped = map(
            json!({"OldValue": "7", "NewValue": "30", "Details": {"setting": "backups_to_keep"}}),
        );
        assert_eq!(
            Value::Object(mapped.details.clone()),
            json!({"setting": "backups_to_keep", "value": {"old": "7", "new": "30"}})
        );
        assert_eq!(props(&mapped), json!({}));

        let mapped = map(json!({"NewValue": {"a": 1}}));
        assert_eq!(
            Value::Object(mapped.details.clone()),
            json!({"value": {"old": null, "new": {"a": 1}}})
        );

        // Details that already say what the value was keep theirs; the pair stays a property.
        let mapped =
            map(json!({"OldValue": 1, "NewValue": 2, "Details": {"value": {"old": 0, "new": 1}}}));
        assert_eq!(
            Value::Object(mapped.details.clone()),
            json!({"value": {"old": 0, "new": 1}})
        );
        assert_eq!(props(&mapped), json!({"OldValue": 1, "NewValue": 2}));
    }

    #[test]
    fn a_nul_character_in_a_text_field_is_refused_naming_the_field() {
        let problem =
            to_event(event(json!({"Action": "a", "Actor": "bad\u{0}actor"}))).expect_err("refused");
        assert_eq!(problem.property, "Actor");
        assert!(problem.problem.contains("NUL"), "{}", problem.problem);
        // In properties (stored as JSON text, which escapes it) it is kept.
        let kept = map(json!({"Action": "a", "Note": "x\u{0}y"}));
        assert_eq!(props(&kept)["Note"], "x\u{0}y");
    }

    #[test]
    fn no_action_gives_event_and_keeps_the_message() {
        let mut seq = event(json!({"Elapsed": 12.5, "Path": "/x"}));
        seq.rendered_message = Some("GET /x took 12.5 ms".into());
        seq.message_template = Some("GET {Path} took {Elapsed} ms".into());
        seq.level = Some("Debug".into());
        let mapped = to_event(seq).unwrap();
        assert_eq!(mapped.action, "event");
        assert_eq!(mapped.message, "GET /x took 12.5 ms");
        assert_eq!(mapped.level, "Debug");
        assert_eq!(mapped.actor, Actor::default());
        assert_eq!(mapped.target, Target::default());
        assert_eq!(props(&mapped), json!({"Elapsed": 12.5, "Path": "/x"}));
    }

    #[test]
    fn the_template_is_rendered_with_properties_before_mapping_removes_them() {
        let mut seq = event(json!({"ActorName": "alice", "Role": "admin"}));
        seq.message_template = Some("{ActorName} became {Role}".into());
        let mapped = to_event(seq).unwrap();
        assert_eq!(mapped.message, "alice became admin");
        assert_eq!(mapped.actor.name.as_deref(), Some("alice"));
    }

    #[test]
    fn exceptions_become_a_property() {
        let mut seq = event(json!({}));
        seq.exception = Some("boom".into());
        assert_eq!(props(&to_event(seq).unwrap()), json!({"Exception": "boom"}));
    }

    #[test]
    fn scalars_become_ids_and_empty_ones_are_absent() {
        let mapped =
            map(json!({"ActorId": 3.5, "TargetId": true, "Status": "", "WorkspaceId": null}));
        assert_eq!(mapped.actor.id.as_deref(), Some("3.5"));
        assert_eq!(mapped.target.id.as_deref(), Some("true"));
        assert_eq!(mapped.status, None);
        assert_eq!(mapped.workspace, None);
        assert_eq!(props(&mapped), json!({}));
        // Objects where text is expected are left alone.
        let mapped = map(json!({"Status": {"Code": 200}, "Type": ["x"]}));
        assert_eq!(mapped.status, None);
        assert_eq!(mapped.action, "event");
        assert_eq!(
            props(&mapped),
            json!({"Status": {"Code": 200}, "Type": ["x"]})
        );
    }

    #[test]
    fn template_rendering() {
        let properties = match json!({
            "User": "alice", "Count": 3, "Obj": {"a": [1, true]}, "Nothing": null, "_x1": "y",
        }) {
            Value::Object(map) => map,
            _ => unreachable!(),
        };
        let render = |template: &str| render_template(template, &properties);
        assert_eq!(render("plain text"), "plain text");
        assert_eq!(render("{User} did {Count} things"), "alice did 3 things");
        assert_eq!(
            render("{@Obj} {$User} {Count:000} {User,10} {Nothing}"),
            "{\"a\":[1,true]} alice 3 alice null"
        );
        assert_eq!(render("{Unknown} and {User}"), "{Unknown} and alice");
        assert_eq!(render("{{User}} }} {{ {_x1}"), "{User} } { y");
        assert_eq!(render("open { brace {User"), "open { brace {User");
        assert_eq!(render("{ User } {} {a b}"), "{ User } {} {a b}");
        assert_eq!(render("{{{User}}}"), "{alice}");
        assert_eq!(render("stray } and {{"), "stray } and {");
        assert_eq!(render("ünï {User} çødé"), "ünï alice çødé");
    }

    #[test]
    fn long_values_are_shortened_in_messages() {
        let quoted = quote(&"é".repeat(100));
        assert_eq!(quoted, format!("\"{}\"…", "é".repeat(60)));
    }
}
