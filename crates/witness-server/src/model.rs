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

impl NewEvent {
    /// The first text field holding a NUL character (U+0000), named as the wire format names
    /// it. Such text is refused at ingestion: PostgreSQL cannot store it, and an event must be
    /// storable on either backend (in `details` and `properties` NUL is kept, as JSON escapes
    /// it).
    pub fn field_with_nul(&self) -> Option<&'static str> {
        let tenant = |tenant: &Option<Tenant>| {
            tenant
                .as_ref()
                .is_some_and(|t| has_nul(&t.id) || has_nul(&t.name))
        };
        let fields: [(&'static str, bool); 9] = [
            ("Action", self.action.contains('\0')),
            (
                "Actor",
                has_nul(&self.actor.id) || has_nul(&self.actor.name) || has_nul(&self.actor.email),
            ),
            (
                "Target",
                has_nul(&self.target.target_type)
                    || has_nul(&self.target.id)
                    || has_nul(&self.target.name),
            ),
            ("Status", has_nul(&self.status)),
            ("ClientIp", has_nul(&self.client_ip)),
            ("Organization", tenant(&self.organization)),
            ("Workspace", tenant(&self.workspace)),
            ("@m", self.message.contains('\0')),
            ("@l", self.level.contains('\0')),
        ];
        fields
            .into_iter()
            .find_map(|(name, nul)| nul.then_some(name))
    }
}

fn has_nul(text: &Option<String>) -> bool {
    text.as_deref().is_some_and(|text| text.contains('\0'))
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
