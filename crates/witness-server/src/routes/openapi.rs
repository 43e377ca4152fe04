//! `GET /api/openapi.json`: the API as an OpenAPI 3.1 document, made from [`ROUTES`].
//!
//! The paths, parameters and statuses come from the route table; the component schemas are
//! derived from the wire types of `witness_api` by schemars (its `schema` feature, which only
//! this crate turns on, so the wasm panel never compiles schemars) as JSON Schema 2020-12, the
//! dialect of OpenAPI 3.1. Answers are described as the server serializes them and request
//! bodies as it deserializes them (a field with a default is optional to send, an `Option`
//! the server always writes is required, as `null`); a type used both ways must come out the
//! same. The schemas keep the names the route table uses (`ApiErrorBody` is `ApiError`,
//! `ValidationErrorBody` is `ValidationError`).
//!
//! One schema is still written by hand: `ClassicIngestBody`, Seq's `{"Events": […]}` body,
//! which the server reads field by field from raw JSON (`ingest::classic`) rather than into a
//! wire type. CLEF bodies and exports are text and have no schema.
//!
//! `tests` below check that every `$ref` resolves, every route and schema is in the document,
//! and that sample values of the wire types (and no wrong ones) validate against the schemas
//! the document names for them.

use std::sync::OnceLock;

use axum::Json;
use axum::response::{IntoResponse, Response};
use schemars::JsonSchema;
use schemars::generate::{Contract, SchemaGenerator, SchemaSettings};
use serde_json::{Map, Value, json};

use super::table::{
    Access, CallerKind, Content, In, Method, ParamType, ROUTES, RequestBody, Route, Verdict,
};

/// `GET /api/openapi.json`. Public, like `/health`: it describes only the shape of the API,
/// which the README and the source already publish, and a client needs it before it has
/// credentials.
pub async fn get_openapi() -> Response {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    Json(DOCUMENT.get_or_init(document).clone()).into_response()
}

/// The whole document.
pub fn document() -> Value {
    let mut paths = Map::new();
    for route in ROUTES {
        let item = paths
            .entry(route.path.to_string())
            .or_insert_with(|| json!({}));
        item[route.method.openapi_name()] = operation(route);
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Witness",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The audit-log server's HTTP API. Errors of Witness's own API are \
                one JSON shape (`ApiError`); ingestion (Seq-compatible) answers errors as Seq \
                does (`IngestError`). Sessions: log in with `POST /api/auth/login`, then send \
                the cookie, and on POST, PUT and DELETE the `X-CSRF-Token` header with the \
                login's `csrf_token`. API keys: `X-Seq-ApiKey` header, `Authorization: Bearer`, \
                or the `apiKey` query parameter.",
        },
        "paths": paths,
        "components": {
            "schemas": Value::Object(schemas()),
            "securitySchemes": {
                "session": {
                    "type": "apiKey", "in": "cookie", "name": crate::sessions::COOKIE_NAME,
                    "description": "The session cookie set by `POST /api/auth/login`.",
                },
                "csrf": {
                    "type": "apiKey", "in": "header", "name": "X-CSRF-Token",
                    "description": "The session's `csrf_token`; needed with the session cookie \
                        on POST, PUT and DELETE.",
                },
                "apiKeyHeader": { "type": "apiKey", "in": "header", "name": "X-Seq-ApiKey" },
                "apiKeyQuery": { "type": "apiKey", "in": "query", "name": "apiKey" },
                "apiKeyBearer": {
                    "type": "http", "scheme": "bearer",
                    "description": "An API key as `Authorization: Bearer <token>`.",
                },
            },
        },
    })
}

fn operation(route: &Route) -> Value {
    let mut parameters: Vec<Value> = route.params.iter().map(parameter).collect();
    if route.filters {
        parameters.extend(
            witness_api::FILTER_PARAMETERS
                .iter()
                .map(|name| filter(name)),
        );
    }
    let mut operation = json!({
        "operationId": format!("{:?}", route.handler),
        "summary": route.summary,
        "description": format!("Who may call it: {}.", who(route.access)),
        "security": security(route.access, route.method),
        "responses": responses(route),
    });
    if !parameters.is_empty() {
        operation["parameters"] = Value::Array(parameters);
    }
    if let Some(body) = route.body {
        operation["requestBody"] = request_body(body);
    }
    operation
}

fn who(access: Access) -> String {
    let allowed: Vec<&str> = CallerKind::ALL
        .into_iter()
        .filter(|caller| access.verdict(*caller) == Verdict::Allowed)
        .map(CallerKind::heading)
        .collect();
    allowed.join(", ")
}

fn security(access: Access, method: Method) -> Value {
    let session = if method.is_unsafe() {
        json!({ "session": [], "csrf": [] })
    } else {
        json!({ "session": [] })
    };
    let keys = [
        json!({ "apiKeyHeader": [] }),
        json!({ "apiKeyQuery": [] }),
        json!({ "apiKeyBearer": [] }),
    ];
    match access {
        Access::Anyone => json!([]),
        Access::IngestKey => json!(keys),
        Access::Reader => {
            let mut all = vec![session];
            all.extend(keys);
            Value::Array(all)
        }
        Access::SessionUser | Access::Person | Access::Admin => json!([session]),
    }
}

fn schema_of(kind: ParamType) -> Value {
    match kind {
        ParamType::String => json!({ "type": "string" }),
        ParamType::Integer => json!({ "type": "integer" }),
        ParamType::Boolean => json!({ "type": "boolean" }),
        ParamType::OneOf(values) => json!({ "type": "string", "enum": values }),
    }
}

fn parameter(param: &super::table::Param) -> Value {
    let mut value = json!({
        "name": param.name,
        "in": match param.location { In::Path => "path", In::Query => "query" },
        "required": param.location == In::Path,
        "description": param.description,
        "schema": schema_of(param.kind),
    });
    if !param.example.is_empty() {
        value["example"] = json!(param.example);
    }
    value
}

/// One of `witness_api::FILTER_PARAMETERS`.
fn filter(name: &str) -> Value {
    let (description, repeatable) = match name {
        "from" => ("Events at or after this time (RFC 3339)", false),
        "to" => ("Events before this time (RFC 3339)", false),
        "actor" => (
            "Actor id, name or email; `x*` is a prefix, `!x` excludes",
            true,
        ),
        "action" => (
            "Action; `x*` is a prefix, `!x` excludes (`!witness.*`)",
            true,
        ),
        "target" => (
            "Target id, name or type; `x*` is a prefix, `!x` excludes",
            true,
        ),
        "result" => ("`success` or `failure`", false),
        "ip" => ("Client IP address; `!x` excludes", true),
        "organization" => ("Organization id or name; `!x` excludes", true),
        "workspace" => ("Workspace id or name; `!x` excludes", true),
        "source" => (
            "Who stored the event: an API key's id, or `witness` for Witness's own; `!witness` leaves Witness's own out",
            true,
        ),
        "q" => ("Free text: every word must occur", false),
        _ => ("An event filter", false),
    };
    let schema = if repeatable {
        json!({ "type": "array", "items": { "type": "string" } })
    } else {
        json!({ "type": "string" })
    };
    let mut value = json!({
        "name": name,
        "in": "query",
        "required": false,
        "description": description,
        "schema": schema,
    });
    if repeatable {
        value["style"] = json!("form");
        value["explode"] = json!(true);
    }
    value
}

fn reference(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn request_body(body: RequestBody) -> Value {
    match body {
        RequestBody::Json(name) => json!({
            "required": true,
            "content": { "application/json": { "schema": reference(name) } },
        }),
        RequestBody::Ingest { clef_only } => {
            let clef = json!({
                "schema": { "type": "string" },
                "description": "CLEF: one JSON event per line (`@t`, `@mt`, `@l`, properties)",
            });
            let mut content = Map::new();
            content.insert("application/vnd.serilog.clef".to_string(), clef);
            if !clef_only {
                content.insert(
                    "application/json".to_string(),
                    json!({ "schema": reference("ClassicIngestBody") }),
                );
            }
            json!({ "required": true, "content": content })
        }
    }
}

fn success(content: Content) -> Value {
    match content {
        Content::Json(name) => json!({
            "description": "OK",
            "content": { "application/json": { "schema": reference(name) } },
        }),
        Content::JsonArray(name) => json!({
            "description": "OK",
            "content": { "application/json": {
                "schema": { "type": "array", "items": reference(name) },
            } },
        }),
        Content::Other {
            media_type,
            description,
        } => json!({
            "description": description,
            "content": { media_type: { "schema": { "type": "string" } } },
        }),
        Content::Export => json!({
            "description": "The events, newest first, as an attachment",
            "content": {
                "text/csv": { "schema": { "type": "string" } },
                "application/x-ndjson": {
                    "schema": { "type": "string" },
                    "description": "One AuditEvent as JSON per line",
                },
            },
        }),
        Content::Empty => json!({ "description": "Done; no body" }),
    }
}

fn error_description(status: u16) -> &'static str {
    match status {
        400 => "The request is malformed (a bad parameter or body)",
        401 => "No credentials, wrong ones, or not the kind this route takes",
        403 => "The credentials are not enough (or a session call lacks X-CSRF-Token)",
        404 => "Not found",
        409 => "Conflicts with the current state",
        413 => "The body is too large",
        422 => "A field is invalid",
        429 => "Too many failed logins; retry after Retry-After seconds",
        500 => "An internal error",
        503 => "Unavailable: auditing (or the store) cannot be used right now",
        _ => "An error",
    }
}

/// Every status a route may answer: its success, its own errors, 401/403 by who may call it,
/// and 500.
pub fn statuses(route: &Route) -> Vec<u16> {
    let mut statuses = vec![route.answer.status];
    statuses.extend_from_slice(route.errors);
    for caller in CallerKind::ALL {
        match route.access.verdict(caller) {
            Verdict::Allowed => {}
            Verdict::Unauthorized => statuses.push(401),
            Verdict::Forbidden => statuses.push(403),
        }
    }
    // A session call without its CSRF token is 403 wherever a session is accepted.
    if route.method.is_unsafe()
        && matches!(
            route.access,
            Access::Reader | Access::SessionUser | Access::Person
        )
    {
        statuses.push(403);
    }
    statuses.push(500);
    statuses.sort_unstable();
    statuses.dedup();
    statuses
}

fn responses(route: &Route) -> Value {
    let ingestion = route.access == Access::IngestKey;
    let mut responses = Map::new();
    for status in statuses(route) {
        let response = if status == route.answer.status {
            success(route.answer.content)
        } else {
            let schema = match status {
                _ if ingestion => "IngestError",
                422 => "ValidationError",
                _ => "ApiError",
            };
            let mut response = json!({
                "description": error_description(status),
                "content": { "application/json": { "schema": reference(schema) } },
            });
            if status == 429 {
                response["headers"] = json!({
                    "Retry-After": { "schema": { "type": "integer" },
                                     "description": "Seconds to wait" },
                });
            }
            response
        };
        responses.insert(status.to_string(), response);
    }
    Value::Object(responses)
}

/// Where the component schemas live in the document; schemars writes its `$ref`s to point here.
const SCHEMAS_PATH: &str = "/components/schemas";

/// A JSON Schema 2020-12 generator (the dialect of OpenAPI 3.1) for one direction.
fn generator(contract: Contract) -> SchemaGenerator {
    SchemaSettings::draft2020_12()
        .with(|settings| {
            settings.definitions_path = SCHEMAS_PATH.into();
            settings.meta_schema = None;
            settings.contract = contract;
        })
        .into_generator()
}

/// Adds `T`'s schema (and those it refers to) to `generator`; answers its name.
fn add<T: JsonSchema>(generator: &mut SchemaGenerator) -> String {
    generator.subschema_for::<T>();
    T::schema_name().into_owned()
}

/// The request bodies of [`ROUTES`], as the server reads them: what a client may send.
fn request_schemas(generator: &mut SchemaGenerator) -> Vec<String> {
    use witness_api as api;
    vec![
        add::<api::LoginRequest>(generator),
        add::<api::PasswordChange>(generator),
        add::<api::SettingsUpdate>(generator),
        add::<api::NewApiKey>(generator),
        add::<api::NewUser>(generator),
        add::<api::UserUpdate>(generator),
        add::<api::NewSavedView>(generator),
    ]
}

/// The answers of [`ROUTES`] and their errors, as the server writes them.
fn response_schemas(generator: &mut SchemaGenerator) -> Vec<String> {
    use witness_api as api;
    vec![
        add::<api::ApiErrorBody>(generator),
        add::<api::ValidationErrorBody>(generator),
        add::<api::IngestError>(generator),
        add::<api::IngestResponse>(generator),
        add::<api::Health>(generator),
        add::<api::LoginResponse>(generator),
        add::<api::Me>(generator),
        add::<api::EventPage>(generator),
        add::<api::AuditEvent>(generator),
        add::<api::Histogram>(generator),
        add::<api::VerifyReport>(generator),
        add::<api::Diagnostics>(generator),
        add::<api::Settings>(generator),
        add::<api::BackupInfo>(generator),
        add::<api::ApiKey>(generator),
        add::<api::CreatedApiKey>(generator),
        add::<api::User>(generator),
        add::<api::SavedView>(generator),
    ]
}

/// The component schemas: the wire types of `witness_api` as schemars derives them (responses
/// as serialized, requests as deserialized), and the one body that is no Rust type.
fn schemas() -> Map<String, Value> {
    let mut responses = generator(Contract::Serialize);
    response_schemas(&mut responses);
    let mut requests = generator(Contract::Deserialize);
    request_schemas(&mut requests);
    let mut all = responses.take_definitions(true);
    for (name, schema) in requests.take_definitions(true) {
        if let Some(written) = all.get(&name) {
            // One name, one schema: a type both sent and received must read as it is written.
            assert_eq!(
                written, &schema,
                "{name} differs as request and as response"
            );
        } else {
            all.insert(name, schema);
        }
    }
    all.insert(
        "ClassicIngestBody".to_string(),
        json!({
            "type": "object",
            "required": ["Events"],
            "properties": { "Events": { "type": "array", "items": {
                "type": "object",
                "description": "`Timestamp`, `Level`, `MessageTemplate`, `Properties`, …",
            } } },
        }),
    );
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refs<'a>(value: &'a Value, found: &mut Vec<&'a str>) {
        match value {
            Value::Object(map) => {
                for (key, value) in map {
                    match (key.as_str(), value) {
                        ("$ref", Value::String(target)) => found.push(target),
                        _ => refs(value, found),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|item| refs(item, found)),
            _ => {}
        }
    }

    #[test]
    fn the_document_is_openapi_3_1_and_lists_every_route() {
        let text = serde_json::to_string(&document()).expect("serializes");
        let document: Value = serde_json::from_str(&text).expect("valid JSON");
        assert_eq!(document["openapi"], "3.1.0");
        let mut operations = 0;
        for route in ROUTES {
            let operation = &document["paths"][route.path][route.method.openapi_name()];
            assert!(operation.is_object(), "{} is missing", route.label());
            for status in statuses(route) {
                assert!(
                    operation["responses"][status.to_string()].is_object(),
                    "{} {status}",
                    route.label()
                );
            }
            operations += 1;
        }
        let listed: usize = document["paths"]
            .as_object()
            .expect("paths")
            .values()
            .map(|item| item.as_object().expect("path item").len())
            .sum();
        assert_eq!(listed, operations, "operations that are not routes");
    }

    #[test]
    fn every_reference_resolves() {
        let document = document();
        let mut found = Vec::new();
        refs(&document, &mut found);
        assert!(!found.is_empty());
        for target in found {
            let pointer = target.strip_prefix('#').expect("local reference");
            assert!(
                document.pointer(pointer).is_some(),
                "{target} does not resolve"
            );
        }
    }

    #[test]
    fn every_schema_is_used() {
        let document = serde_json::to_string(&document()).expect("serializes");
        for name in schemas().keys() {
            assert!(
                document.contains(&format!("\"#/components/schemas/{name}\"")),
                "{name} is never used"
            );
        }
    }

    #[test]
    fn request_bodies_are_read_schemas_and_answers_written_ones() {
        let requests = request_schemas(&mut generator(Contract::Deserialize));
        let responses = response_schemas(&mut generator(Contract::Serialize));
        for route in ROUTES {
            if let Some(RequestBody::Json(name)) = route.body {
                assert!(
                    requests.iter().any(|n| n == name),
                    "{}: {name}",
                    route.label()
                );
            }
            if let Content::Json(name) | Content::JsonArray(name) = route.answer.content {
                assert!(
                    responses.iter().any(|n| n == name),
                    "{}: {name}",
                    route.label()
                );
            }
        }
    }

    /// A validator for the component schema `name` (its `$ref`s resolve in the document).
    fn validator(document: &Value, name: &str) -> jsonschema::Validator {
        let root = json!({
            "$ref": format!("#/components/schemas/{name}"),
            "components": document["components"].clone(),
        });
        jsonschema::draft202012::options()
            .should_validate_formats(true)
            .build(&root)
            .unwrap_or_else(|error| panic!("{name}: {error}"))
    }

    fn check(document: &Value, name: &str, value: impl serde::Serialize) {
        let value = serde_json::to_value(value).expect("serializes");
        let errors: Vec<String> = validator(document, name)
            .iter_errors(&value)
            .map(|error| format!("{error} at {}", error.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{name}: {errors:?} in {value}");
    }

    fn refused(document: &Value, name: &str, value: Value) {
        assert!(
            !validator(document, name).is_valid(&value),
            "{name} takes {value}"
        );
    }

    fn at(text: &str) -> chrono::DateTime<chrono::Utc> {
        text.parse().expect("RFC 3339")
    }

    fn user(full: bool) -> witness_api::User {
        witness_api::User {
            id: "u-1".into(),
            username: "alice".into(),
            display_name: full.then(|| "Alice".into()),
            email: full.then(|| "alice@example.com".into()),
            role: witness_api::Role::Auditor,
            created_at: at("2026-11-20T10:00:00Z"),
        }
    }

    fn event(full: bool) -> witness_api::AuditEvent {
        use witness_api::{Actor, ActorType, AuditEvent, AuditResult, Target, Tenant};
        let tenant = Tenant {
            id: Some("org-1".into()),
            name: Some("Acme".into()),
        };
        let mut details = Map::new();
        details.insert("role".into(), json!({ "old": "auditor", "new": "admin" }));
        AuditEvent {
            id: "0000000000000001".into(),
            timestamp: at("2026-11-20T10:00:00Z"),
            action: "member.role_changed".into(),
            actor: Actor {
                id: full.then(|| "u-1".into()),
                name: full.then(|| "alice".into()),
                email: None,
                actor_type: ActorType::ApiKey,
            },
            target: Target {
                target_type: full.then(|| "member".into()),
                id: None,
                name: full.then(|| "bob".into()),
            },
            result: AuditResult::Failure,
            status: full.then(|| "denied".into()),
            client_ip: full.then(|| "192.0.2.1".into()),
            organization: full.then(|| tenant.clone()),
            workspace: full.then_some(tenant),
            details,
            message: "alice changed bob's role".into(),
            level: "Information".into(),
            properties: Map::new(),
            source: full.then(|| "key-0123456789ab".into()),
            hash: "ab".repeat(32),
            prev_hash: "00".repeat(32),
        }
    }

    fn report(full: bool) -> witness_api::VerifyReport {
        witness_api::VerifyReport {
            ok: !full,
            verified_count: 2,
            newly_verified: 1,
            head_id: full.then(|| "0000000000000002".into()),
            head_hash: full.then(|| "ab".repeat(32)),
            first_break: full.then(|| witness_api::ChainBreak {
                event_id: "0000000000000002".into(),
                reason: "its hash does not match".into(),
            }),
            checked_at: at("2026-11-20T10:00:00Z"),
            checkpoints_compared: 1,
            newest_checkpoint_id: full.then(|| "0000000000000001".into()),
            last_full_verify_at: full.then(|| at("2026-11-20T09:00:00Z")),
        }
    }

    #[test]
    fn answers_match_the_schemas_the_document_names_for_them() {
        use witness_api as api;
        let document = document();
        let key = api::ApiKey {
            id: "key-0123456789ab".into(),
            title: "ingest".into(),
            permissions: vec![api::ApiKeyPermission::Ingest, api::ApiKeyPermission::Read],
            token_prefix: "wk_0123".into(),
            created_at: at("2026-11-20T10:00:00Z"),
            revoked_at: Some(at("2026-11-21T10:00:00Z")),
        };
        for full in [false, true] {
            check(&document, "AuditEvent", event(full));
            check(&document, "User", user(full));
            check(&document, "VerifyReport", report(full));
            check(
                &document,
                "EventPage",
                api::EventPage {
                    events: vec![event(full), event(!full)],
                    next_cursor: full.then(|| "0000000000000001".into()),
                },
            );
            check(
                &document,
                "Diagnostics",
                api::Diagnostics {
                    version: "0.1.0".into(),
                    started_at: at("2026-11-20T10:00:00Z"),
                    uptime_seconds: 5,
                    data_dir: "/var/lib/witness".into(),
                    auditing: api::AuditingStatus {
                        enabled: full,
                        summary: "Auditing is enabled".into(),
                        targets: vec!["local".into()],
                    },
                    last_backup_at: full.then(|| at("2026-11-20T02:00:00Z")),
                    next_backup_at: None,
                    storage: full.then(|| api::StorageStatus {
                        backend: "SQLite".into(),
                        location: "/var/lib/witness/witness.db".into(),
                        size_bytes: 4096,
                        event_count: 0,
                        oldest_event: None,
                        newest_event: Some(at("2026-11-20T10:00:00Z")),
                    }),
                    last_full_verify: full.then(|| report(true)),
                },
            );
        }
        check(
            &document,
            "ApiError",
            api::ApiErrorBody {
                code: "not_found".into(),
                message: "No such event.".into(),
            },
        );
        check(
            &document,
            "ValidationError",
            api::ValidationErrorBody {
                code: "validation_failed".into(),
                message: "A field is invalid.".into(),
                fields: [("role".to_string(), "is not a role".to_string())].into(),
            },
        );
        check(
            &document,
            "IngestError",
            api::IngestError {
                error: "bad".into(),
            },
        );
        check(
            &document,
            "IngestResponse",
            api::IngestResponse {
                minimum_level_accepted: None,
            },
        );
        check(
            &document,
            "Health",
            api::Health {
                status: "ok".into(),
            },
        );
        let login = api::LoginResponse {
            user: user(true),
            csrf_token: "t".into(),
            expires_at: at("2026-11-20T18:00:00Z"),
        };
        check(&document, "LoginResponse", &login);
        check(
            &document,
            "Me",
            api::Me {
                user: login.user,
                csrf_token: login.csrf_token,
                expires_at: login.expires_at,
            },
        );
        check(
            &document,
            "Histogram",
            api::Histogram {
                from: at("2026-11-20T10:00:00Z"),
                to: at("2026-11-20T11:00:00Z"),
                bucket_seconds: 3600,
                buckets: vec![api::HistogramBucket {
                    start: at("2026-11-20T10:00:00Z"),
                    count: 3,
                }],
                total: 3,
            },
        );
        check(
            &document,
            "Settings",
            api::Settings {
                backup_utc_time_of_day: "23:59".into(),
                backups_to_keep: 100,
                retention_days: 1,
            },
        );
        check(
            &document,
            "BackupInfo",
            api::BackupInfo {
                id: "20261122T020000Z".into(),
                created_at: at("2026-11-22T02:00:00Z"),
                size_bytes: 1 << 20,
                file_name: "witness-backup-20261122T020000Z.wbk".into(),
            },
        );
        check(&document, "ApiKey", &key);
        check(
            &document,
            "SavedView",
            api::SavedView {
                id: "view-0123456789ab".into(),
                name: "Failed logins".into(),
                query: "action=user.login&result=failure".into(),
                created_at: at("2026-11-20T10:00:00Z"),
            },
        );
        check(
            &document,
            "CreatedApiKey",
            api::CreatedApiKey {
                key,
                token: "wk_0123456789".into(),
            },
        );
        // What the server never writes is refused: a missing field, a wrong type or value.
        let mut value = serde_json::to_value(event(true)).expect("serializes");
        value.as_object_mut().expect("object").remove("hash");
        refused(&document, "AuditEvent", value);
        refused(
            &document,
            "User",
            json!({ "id": "u-1", "username": "a", "role": "root",
                                           "created_at": "2026-11-20T10:00:00Z" }),
        );
        refused(
            &document,
            "User",
            json!({ "id": "u-1", "username": "a", "role": "admin",
                                           "created_at": "yesterday" }),
        );
        refused(&document, "ApiError", json!({ "code": "not_found" }));
    }

    #[test]
    fn request_bodies_match_the_schemas_the_document_names_for_them() {
        use witness_api as api;
        let document = document();
        check(
            &document,
            "LoginRequest",
            api::LoginRequest {
                username: "a".repeat(api::LoginRequest::MAX_USERNAME_CHARS),
                password: "secret".into(),
            },
        );
        check(
            &document,
            "PasswordChange",
            api::PasswordChange {
                current_password: "old".into(),
                new_password: "new".into(),
            },
        );
        check(
            &document,
            "SettingsUpdate",
            api::SettingsUpdate {
                backup_utc_time_of_day: "00:00".into(),
                backups_to_keep: 1,
                retention_days: 3650,
            },
        );
        check(
            &document,
            "NewApiKey",
            api::NewApiKey {
                title: "reader".into(),
                permissions: vec![api::ApiKeyPermission::Read],
            },
        );
        for full in [false, true] {
            let user = user(full);
            check(
                &document,
                "NewUser",
                api::NewUser {
                    username: user.username,
                    password: "password-123".into(),
                    role: user.role,
                    display_name: user.display_name.clone(),
                    email: user.email.clone(),
                },
            );
            check(
                &document,
                "UserUpdate",
                api::UserUpdate {
                    role: full.then_some(api::Role::Admin),
                    password: full.then(|| "password-123".into()),
                    display_name: user.display_name,
                    email: user.email,
                },
            );
        }
        // What the server refuses (400 or 422) is refused by the schema too.
        refused(
            &document,
            "LoginRequest",
            json!({ "username": "a".repeat(65),
                                                   "password": "p" }),
        );
        refused(
            &document,
            "PasswordChange",
            json!({ "current_password": "a",
                                                     "new_password": "b", "other": 1 }),
        );
        for (time, keep, days) in [("24:00", 7, 30), ("02:00", 0, 30), ("02:00", 7, 3651)] {
            refused(
                &document,
                "SettingsUpdate",
                json!({ "backup_utc_time_of_day": time,
                "backups_to_keep": keep, "retention_days": days }),
            );
        }
        refused(
            &document,
            "NewApiKey",
            json!({ "title": "k", "permissions": ["write"] }),
        );
        refused(
            &document,
            "NewUser",
            json!({ "username": "a", "role": "admin" }),
        );
        check(
            &document,
            "NewSavedView",
            api::NewSavedView {
                name: "n".repeat(api::SavedView::MAX_NAME_CHARS),
                query: String::new(),
            },
        );
        for body in [
            json!({ "name": "", "query": "" }),
            json!({ "name": "n".repeat(101), "query": "" }),
            json!({ "name": "n" }),
            json!({ "name": "n", "query": "", "user_id": "someone" }),
        ] {
            refused(&document, "NewSavedView", body);
        }
    }
}
