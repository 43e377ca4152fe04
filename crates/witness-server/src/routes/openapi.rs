//! `GET /api/openapi.json`: the API as an OpenAPI 3.1 document, made from [`ROUTES`].
//!
//! The component schemas of the wire types (`witness_api`) are written here by hand, as JSON
//! Schema 2020-12: `witness_api` is compiled to wasm for the panel and stays free of schema
//! derives. `tests` below check that every `$ref` resolves and every route is in the document.

use std::sync::OnceLock;

use axum::Json;
use axum::response::{IntoResponse, Response};
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
            "schemas": schemas(),
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
        Access::SessionUser | Access::Admin => json!([session]),
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
        "ip" => ("Client IP address", false),
        "organization" => ("Organization id or name", false),
        "workspace" => ("Workspace id or name", false),
        "source" => (
            "Who stored the event: an API key's id, or `witness` for Witness's own",
            false,
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
        401 => "No credentials, or not the kind this route takes",
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
    if route.method.is_unsafe() && matches!(route.access, Access::Reader | Access::SessionUser) {
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

fn string() -> Value {
    json!({ "type": "string" })
}

fn time() -> Value {
    json!({ "type": "string", "format": "date-time" })
}

fn nullable_time() -> Value {
    json!({ "type": ["string", "null"], "format": "date-time" })
}

fn count() -> Value {
    json!({ "type": "integer", "minimum": 0 })
}

fn object(required: &[&str], properties: Value) -> Value {
    json!({ "type": "object", "required": required, "properties": properties })
}

/// The wire types of `witness_api`, by hand (JSON Schema 2020-12).
fn schemas() -> Value {
    let mut all = Map::new();
    for part in [
        error_schemas(),
        user_schemas(),
        event_schemas(),
        diagnostics_schemas(),
    ] {
        if let Value::Object(part) = part {
            all.extend(part);
        }
    }
    Value::Object(all)
}

fn error_schemas() -> Value {
    json!({
        "ApiError": object(&["code", "message"], json!({
            "code": { "type": "string",
                      "description": "A stable snake_case code, e.g. `not_found`" },
            "message": { "type": "string", "description": "A sentence a person can act on" },
        })),
        "ValidationError": {
            "allOf": [reference("ApiError")],
            "type": "object",
            "properties": {
                "fields": { "type": "object", "additionalProperties": string(),
                            "description": "A message per invalid field" },
            },
        },
        "IngestError": object(&["Error"], json!({ "Error": string() })),
        "IngestResponse": object(&["MinimumLevelAccepted"], json!({
            "MinimumLevelAccepted": { "type": ["string", "null"] },
        })),
        "ClassicIngestBody": object(&["Events"], json!({
            "Events": { "type": "array", "items": {
                "type": "object",
                "description": "`Timestamp`, `Level`, `MessageTemplate`, `Properties`, …",
            } },
        })),
    })
}

fn user_schemas() -> Value {
    json!({
        "Health": object(&["status"], json!({ "status": { "const": "ok" } })),
        "Role": { "type": "string", "enum": ["admin", "auditor"] },
        "User": object(&["id", "username", "role", "created_at"], json!({
            "id": string(),
            "username": string(),
            "display_name": string(),
            "email": string(),
            "role": reference("Role"),
            "created_at": time(),
        })),
        "NewUser": object(&["username", "password", "role"], json!({
            "username": string(),
            "password": string(),
            "role": reference("Role"),
            "display_name": string(),
            "email": string(),
        })),
        "UserUpdate": object(&[], json!({
            "role": reference("Role"),
            "password": string(),
            "display_name": string(),
            "email": string(),
        })),
        "LoginRequest": object(&["username", "password"], json!({
            "username": { "type": "string", "maxLength": 64 },
            "password": string(),
        })),
        "PasswordChange": {
            "type": "object",
            "required": ["current_password", "new_password"],
            "properties": { "current_password": string(), "new_password": string() },
            "additionalProperties": false,
        },
        "LoginResponse": object(&["user", "csrf_token", "expires_at"], json!({
            "user": reference("User"),
            "csrf_token": string(),
            "expires_at": time(),
        })),
        "Me": object(&["user", "csrf_token", "expires_at"], json!({
            "user": reference("User"),
            "csrf_token": string(),
            "expires_at": time(),
        })),
        "ApiKeyPermission": { "type": "string", "enum": ["ingest", "read"] },
        "ApiKey": object(&["id", "title", "permissions", "token_prefix", "created_at"], json!({
            "id": string(),
            "title": string(),
            "permissions": { "type": "array", "items": reference("ApiKeyPermission") },
            "token_prefix": string(),
            "created_at": time(),
            "revoked_at": time(),
        })),
        "NewApiKey": object(&["title", "permissions"], json!({
            "title": string(),
            "permissions": { "type": "array", "items": reference("ApiKeyPermission") },
        })),
        "CreatedApiKey": object(&["key", "token"], json!({
            "key": reference("ApiKey"),
            "token": { "type": "string", "description": "Shown only in this answer" },
        })),
        "Settings": object(&["backup_utc_time_of_day", "backups_to_keep", "retention_days"], json!({
            "backup_utc_time_of_day": { "type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9]$" },
            "backups_to_keep": { "type": "integer", "minimum": 1, "maximum": 100 },
            "retention_days": { "type": "integer", "minimum": 1, "maximum": 3650 },
        })),
        "SettingsUpdate": {
            "allOf": [reference("Settings")],
            "unevaluatedProperties": false,
        },
        "BackupInfo": object(&["id", "created_at", "size_bytes", "file_name"], json!({
            "id": string(),
            "created_at": time(),
            "size_bytes": count(),
            "file_name": string(),
        })),
    })
}

fn event_schemas() -> Value {
    json!({
        "Actor": object(&["type"], json!({
            "id": string(),
            "name": string(),
            "email": string(),
            "type": { "type": "string", "enum": ["user", "api_key", "system", "anonymous"] },
        })),
        "Target": object(&[], json!({ "type": string(), "id": string(), "name": string() })),
        "Tenant": object(&[], json!({ "id": string(), "name": string() })),
        "AuditEvent": object(
            &["id", "timestamp", "action", "actor", "target", "result", "details", "message",
              "level", "properties", "hash", "prev_hash"],
            json!({
                "id": string(),
                "timestamp": time(),
                "action": string(),
                "actor": reference("Actor"),
                "target": reference("Target"),
                "result": { "type": "string", "enum": ["success", "failure"] },
                "status": string(),
                "client_ip": string(),
                "organization": reference("Tenant"),
                "workspace": reference("Tenant"),
                "details": { "type": "object" },
                "message": string(),
                "level": string(),
                "properties": { "type": "object" },
                "source": string(),
                "hash": string(),
                "prev_hash": string(),
            }),
        ),
        "EventPage": object(&["events"], json!({
            "events": { "type": "array", "items": reference("AuditEvent") },
            "next_cursor": string(),
        })),
        "HistogramBucket": object(&["start", "count"], json!({
            "start": time(), "count": count(),
        })),
        "Histogram": object(&["from", "to", "bucket_seconds", "buckets", "total"], json!({
            "from": time(),
            "to": time(),
            "bucket_seconds": count(),
            "buckets": { "type": "array", "items": reference("HistogramBucket") },
            "total": count(),
        })),
        "ChainBreak": object(&["event_id", "reason"], json!({
            "event_id": string(), "reason": string(),
        })),
        "VerifyReport": object(&["ok", "verified_count", "newly_verified", "checked_at"], json!({
            "ok": { "type": "boolean" },
            "verified_count": count(),
            "newly_verified": count(),
            "head_id": string(),
            "head_hash": string(),
            "first_break": reference("ChainBreak"),
            "checked_at": time(),
            "checkpoints_compared": count(),
            "newest_checkpoint_id": string(),
            "last_full_verify_at": time(),
        })),
    })
}

fn diagnostics_schemas() -> Value {
    json!({
        "AuditingStatus": object(&["enabled", "summary", "targets"], json!({
            "enabled": { "type": "boolean" },
            "summary": string(),
            "targets": { "type": "array", "items": string() },
        })),
        "StorageStatus": object(
            &["backend", "location", "size_bytes", "event_count", "oldest_event", "newest_event"],
            json!({
                "backend": string(),
                "location": string(),
                "size_bytes": count(),
                "event_count": count(),
                "oldest_event": nullable_time(),
                "newest_event": nullable_time(),
            }),
        ),
        "Diagnostics": object(
            &["version", "started_at", "uptime_seconds", "data_dir", "auditing"],
            json!({
                "version": string(),
                "started_at": time(),
                "uptime_seconds": count(),
                "data_dir": string(),
                "auditing": reference("AuditingStatus"),
                "last_backup_at": nullable_time(),
                "next_backup_at": nullable_time(),
                "storage": { "oneOf": [reference("StorageStatus"), { "type": "null" }] },
                "last_full_verify": { "oneOf": [reference("VerifyReport"), { "type": "null" }] },
            }),
        ),
    })
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
    fn every_schema_is_used_and_errors_have_the_api_error_shape() {
        let body = witness_api::ApiErrorBody {
            code: "not_found".into(),
            message: "m".into(),
        };
        let required = &schemas()["ApiError"]["required"];
        let value = serde_json::to_value(body).expect("serializes");
        for field in required.as_array().expect("required") {
            assert!(value.get(field.as_str().expect("name")).is_some());
        }
        let document = serde_json::to_string(&document()).expect("serializes");
        for name in schemas().as_object().expect("schemas").keys() {
            assert!(
                document.contains(&format!("\"#/components/schemas/{name}\"")),
                "{name} is never used"
            );
        }
    }
}
