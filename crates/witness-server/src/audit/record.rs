//! One audit record and its CLEF form (the same for every target).

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditPhase {
    Begin,
    Complete,
    Fail,
    /// A request refused before any operation began (no Begin precedes it).
    Refused,
    /// A signed statement of the chain's head (no Begin precedes it).
    Checkpoint,
}

impl AuditPhase {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditPhase::Begin => "Begin",
            AuditPhase::Complete => "Complete",
            AuditPhase::Fail => "Fail",
            AuditPhase::Refused => "Refused",
            AuditPhase::Checkpoint => "Checkpoint",
        }
    }
}

/// Who asked for the operation, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestContext {
    /// A username, an API key id, or what an anonymous caller claimed (a login's username).
    pub principal: String,
    /// `user`, `api_key`, `anonymous` or `system`.
    pub principal_type: &'static str,
    pub method: String,
    pub path: String,
    pub remote_address: Option<String>,
}

#[derive(Debug, Clone)]
pub struct AuditRecord {
    pub timestamp: DateTime<Utc>,
    pub session: String,
    pub sequence: u64,
    pub operation_id: String,
    pub phase: AuditPhase,
    /// What was done, e.g. `user.created`; stored with a `witness.` prefix.
    pub action: String,
    pub context: RequestContext,
    /// Context, never secrets: changes as `{"field": {"old", "new"}}`.
    pub details: Map<String, Value>,
    pub error: Option<String>,
}

impl AuditRecord {
    fn failed(&self) -> bool {
        matches!(self.phase, AuditPhase::Fail | AuditPhase::Refused)
    }

    /// The dotted action under which the record is stored and shown.
    pub fn stored_action(&self) -> String {
        format!("witness.{}", self.action)
    }

    /// The record as one CLEF event, with the Seq property names Witness maps on ingestion, so
    /// a second Witness (or this one's own store) shows it as an audit event.
    pub fn to_clef(&self) -> Value {
        let mut event = json!({
            "@t": self.timestamp.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            "@mt": "{Principal} {Action}: {Event}",
            "@l": if self.failed() { "Warning" } else { "Information" },
            "Action": self.stored_action(),
            "Principal": self.context.principal,
            "PrincipalType": self.context.principal_type,
            "Result": if self.failed() { "failure" } else { "success" },
            "Status": self.phase.as_str(),
            "Event": self.phase.as_str(),
            "AuditSession": self.session,
            "SequenceNumber": self.sequence,
            "OperationId": self.operation_id,
            "Method": self.context.method,
            "Path": self.context.path,
            "Target": "witness",
            "TargetType": "witness",
            "Details": Value::Object(self.details.clone()),
        });
        if let Some(map) = event.as_object_mut() {
            if let Some(address) = &self.context.remote_address {
                map.insert("ClientIp".to_string(), json!(address));
                map.insert("RemoteAddress".to_string(), json!(address));
            }
            if let Some(error) = &self.error {
                map.insert("Error".to_string(), json!(error));
            }
        }
        event
    }
}
