//! An event as every backend stores it: its columns, the canonical bytes it is hashed by, the
//! text free-text search finds it by, and the event the API shows.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use witness_api::{Actor, ActorType, AuditEvent, AuditResult, Target, Tenant};

use crate::model::{EventSource, NewEvent};
use crate::store::canonical::{CanonicalFields, canonical_json};
use crate::store::{StoreError, StoreResult, event_id};

/// The columns of an events table in table order, for SELECTs.
pub const COLUMNS: &str = "seq, ts, received, action, actor_type, actor_id, actor_name, \
    actor_email, target_type, target_id, target_name, result, status, client_ip, org_id, \
    org_name, ws_id, ws_name, level, message, details, properties, prev_hash, hash, source";

#[derive(Debug, Clone)]
pub struct EventRow {
    pub seq: i64,
    pub ts: i64,
    pub received: i64,
    pub action: String,
    pub actor_type: String,
    pub actor_id: Option<String>,
    pub actor_name: Option<String>,
    pub actor_email: Option<String>,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    pub target_name: Option<String>,
    pub result: String,
    pub status: Option<String>,
    pub client_ip: Option<String>,
    pub org_id: Option<String>,
    pub org_name: Option<String>,
    pub ws_id: Option<String>,
    pub ws_name: Option<String>,
    pub level: String,
    pub message: String,
    pub details: String,
    pub properties: String,
    pub prev_hash: Vec<u8>,
    pub hash: Vec<u8>,
    /// `None` only for rows stored before sources were recorded (hashed as version 1).
    pub source: Option<String>,
}

pub fn micros(time: DateTime<Utc>) -> i64 {
    time.timestamp_micros()
}

pub fn from_micros(micros: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(micros).unwrap_or_default()
}

impl EventRow {
    /// A row for a new event; `prev_hash` and `hash` are filled in by the writer.
    pub fn from_new(seq: i64, received: i64, source: &EventSource, event: NewEvent) -> Self {
        let (org_id, org_name) = split_tenant(event.organization);
        let (ws_id, ws_name) = split_tenant(event.workspace);
        EventRow {
            seq,
            ts: micros(event.timestamp),
            received,
            action: event.action,
            actor_type: event.actor.actor_type.as_str().to_string(),
            actor_id: event.actor.id,
            actor_name: event.actor.name,
            actor_email: event.actor.email,
            target_type: event.target.target_type,
            target_id: event.target.id,
            target_name: event.target.name,
            result: event.result.as_str().to_string(),
            status: event.status,
            client_ip: event.client_ip,
            org_id,
            org_name,
            ws_id,
            ws_name,
            level: event.level,
            message: event.message,
            details: canonical_json(&event.details),
            properties: canonical_json(&event.properties),
            prev_hash: Vec::new(),
            hash: Vec::new(),
            source: Some(source.as_str().to_string()),
        }
    }

    pub fn canonical(&self) -> CanonicalFields<'_> {
        CanonicalFields {
            seq: self.seq,
            ts_micros: self.ts,
            action: &self.action,
            actor_type: &self.actor_type,
            actor_id: self.actor_id.as_deref(),
            actor_name: self.actor_name.as_deref(),
            actor_email: self.actor_email.as_deref(),
            target_type: self.target_type.as_deref(),
            target_id: self.target_id.as_deref(),
            target_name: self.target_name.as_deref(),
            result: &self.result,
            status: self.status.as_deref(),
            client_ip: self.client_ip.as_deref(),
            org_id: self.org_id.as_deref(),
            org_name: self.org_name.as_deref(),
            ws_id: self.ws_id.as_deref(),
            ws_name: self.ws_name.as_deref(),
            level: &self.level,
            message: &self.message,
            details: &self.details,
            properties: &self.properties,
            source: self.source.as_deref(),
        }
    }

    /// The words free-text search finds this event by.
    pub fn search_text(&self) -> String {
        witness_api::SearchFields {
            message: &self.message,
            action: &self.action,
            actor_id: self.actor_id.as_deref(),
            actor_name: self.actor_name.as_deref(),
            actor_email: self.actor_email.as_deref(),
            target_type: self.target_type.as_deref(),
            target_id: self.target_id.as_deref(),
            target_name: self.target_name.as_deref(),
            status: self.status.as_deref(),
            client_ip: self.client_ip.as_deref(),
            org_id: self.org_id.as_deref(),
            org_name: self.org_name.as_deref(),
            ws_id: self.ws_id.as_deref(),
            ws_name: self.ws_name.as_deref(),
            details: &self.details,
            properties: &self.properties,
        }
        .text()
    }

    /// The event the API shows. A stored value the event cannot hold (a time out of range,
    /// an unknown result, details that are not a JSON object) is corrupt data, an error of
    /// its own — never silently replaced by a default.
    pub fn into_event(self) -> StoreResult<AuditEvent> {
        let seq = self.seq;
        let corrupt = |what: String| StoreError::Corrupt {
            event_id: event_id(seq),
            problem: what,
        };
        let timestamp = DateTime::from_timestamp_micros(self.ts)
            .ok_or_else(|| corrupt(format!("its time ({} µs) is out of range", self.ts)))?;
        let actor_type = ActorType::parse(&self.actor_type)
            .ok_or_else(|| corrupt(format!("its actor type `{}` is unknown", self.actor_type)))?;
        let result = AuditResult::parse(&self.result)
            .ok_or_else(|| corrupt(format!("its result `{}` is unknown", self.result)))?;
        let details = parse_object(&self.details)
            .ok_or_else(|| corrupt("its details are not a JSON object".to_string()))?;
        let properties = parse_object(&self.properties)
            .ok_or_else(|| corrupt("its properties are not a JSON object".to_string()))?;
        Ok(AuditEvent {
            id: event_id(self.seq),
            timestamp,
            action: self.action,
            actor: Actor {
                id: self.actor_id,
                name: self.actor_name,
                email: self.actor_email,
                actor_type,
            },
            target: Target {
                target_type: self.target_type,
                id: self.target_id,
                name: self.target_name,
            },
            result,
            status: self.status,
            client_ip: self.client_ip,
            organization: join_tenant(self.org_id, self.org_name),
            workspace: join_tenant(self.ws_id, self.ws_name),
            details,
            message: self.message,
            level: self.level,
            properties,
            source: self.source,
            hash: hex::encode(&self.hash),
            prev_hash: hex::encode(&self.prev_hash),
        })
    }
}

fn split_tenant(tenant: Option<Tenant>) -> (Option<String>, Option<String>) {
    match tenant {
        Some(tenant) => (tenant.id, tenant.name),
        None => (None, None),
    }
}

fn join_tenant(id: Option<String>, name: Option<String>) -> Option<Tenant> {
    if id.is_none() && name.is_none() {
        None
    } else {
        Some(Tenant { id, name })
    }
}

fn parse_object(text: &str) -> Option<Map<String, Value>> {
    match serde_json::from_str(text) {
        Ok(Value::Object(map)) => Some(map),
        _ => None,
    }
}
