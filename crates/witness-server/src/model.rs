//! The server's own view of an event before it is stored.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use witness_api::{Actor, AuditResult, Target, Tenant};

/// An event as ingestion produced it: everything of `witness_api::AuditEvent` except what the
/// store assigns (id, hash, prev_hash).
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub timestamp: DateTime<Utc>,
    pub action: String,
    pub actor: Actor,
    pub target: Target,
    pub result: AuditResult,
    pub status: Option<String>,
    pub client_ip: Option<String>,
    pub organization: Option<Tenant>,
    pub workspace: Option<Tenant>,
    pub details: Map<String, Value>,
    pub message: String,
    pub level: String,
    pub properties: Map<String, Value>,
}

/// Who handed a batch to Witness (`AuditEvent::source`): never taken from the sender's body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventSource(String);

impl EventSource {
    /// Witness's own audit records.
    pub fn witness() -> Self {
        EventSource(witness_api::SELF_AUDIT_SOURCE.to_string())
    }

    /// Events sent with this API key (its id).
    pub fn api_key(id: &str) -> Self {
        EventSource(id.to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}
