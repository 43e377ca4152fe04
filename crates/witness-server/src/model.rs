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
