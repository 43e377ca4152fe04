use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The source of Witness's own audit records (an API key id always starts with `key-`).
pub const SELF_AUDIT_SOURCE: &str = "witness";

/// One stored audit event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AuditEvent {
    /// Server-assigned, unique, sorts by arrival (zero-padded storage sequence number).
    pub id: String,
    /// When it happened, as the sender said (UTC).
    #[serde(deserialize_with = "crate::time::rfc3339")]
    pub timestamp: DateTime<Utc>,
    /// Dotted type such as `member.role_changed`; `event` when the sender gave none.
    pub action: String,
    pub actor: Actor,
    pub target: Target,
    pub result: AuditResult,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_ip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<Tenant>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace: Option<Tenant>,
    /// Context; changes as `{"field": {"old": …, "new": …}}`.
    pub details: Map<String, Value>,
    /// The rendered message template.
    pub message: String,
    /// Seq level, `Information` unless the sender said otherwise.
    pub level: String,
    /// Every other property received, verbatim.
    pub properties: Map<String, Value>,
    /// Who handed the event to Witness, set by the server and covered by the hash: the id of
    /// the API key that sent it, or `witness` (`SELF_AUDIT_SOURCE`) for Witness's own audit
    /// records. Absent only for events stored before Witness recorded sources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Hex SHA-256 of the previous event's hash and this event's canonical bytes.
    pub hash: String,
    pub prev_hash: String,
}

impl AuditEvent {
    /// The event's storage sequence number: its place in the chain (the id, read as a number).
    pub fn sequence(&self) -> Option<u64> {
        event_sequence(&self.id)
    }

    /// The id of the event just before this one in the chain, the one whose `hash` is this
    /// event's `prev_hash`; `None` for the first event. The chain links events in arrival
    /// order with consecutive sequence numbers, so it is the sequence number one lower. It may
    /// be gone: retention removes the oldest events (the chain then starts at an anchor).
    pub fn previous_id(&self) -> Option<String> {
        match self.sequence()? {
            0 | 1 => None,
            seq => Some(event_id(seq - 1)),
        }
    }
}

/// The sequence number an event id stands for (ids are zero-padded sequence numbers).
pub fn event_sequence(id: &str) -> Option<u64> {
    if id.is_empty() || id.len() > 19 || !id.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    id.parse().ok()
}

/// The id the API shows for a sequence number: fixed width, so ids sort by arrival.
pub fn event_id(seq: u64) -> String {
    format!("{seq:016}")
}

/// Who did it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Actor {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(rename = "type")]
    pub actor_type: ActorType,
}

impl Actor {
    /// The best single label for a person reading a table: name, else id, else email.
    pub fn label(&self) -> &str {
        self.name
            .as_deref()
            .or(self.id.as_deref())
            .or(self.email.as_deref())
            .unwrap_or("")
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum ActorType {
    User,
    ApiKey,
    System,
    #[default]
    Anonymous,
}

impl ActorType {
    pub fn as_str(self) -> &'static str {
        match self {
            ActorType::User => "user",
            ActorType::ApiKey => "api_key",
            ActorType::System => "system",
            ActorType::Anonymous => "anonymous",
        }
    }

    /// Accepts the snake_case names and the spellings Seq senders use (`ApiKey`, `api-key`).
    pub fn parse(text: &str) -> Option<Self> {
        let normal: String = text
            .chars()
            .filter(|c| *c != '_' && *c != '-' && *c != ' ')
            .flat_map(char::to_lowercase)
            .collect();
        match normal.as_str() {
            "user" => Some(ActorType::User),
            "apikey" => Some(ActorType::ApiKey),
            "system" | "service" => Some(ActorType::System),
            "anonymous" => Some(ActorType::Anonymous),
            _ => None,
        }
    }
}

/// What it was done to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Target {
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub target_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl Target {
    pub fn label(&self) -> &str {
        self.name.as_deref().or(self.id.as_deref()).unwrap_or("")
    }
}

/// An organization or workspace.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Tenant {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum AuditResult {
    #[default]
    Success,
    Failure,
}

impl AuditResult {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditResult::Success => "success",
            AuditResult::Failure => "failure",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text.to_ascii_lowercase().as_str() {
            "success" | "succeeded" | "ok" => Some(AuditResult::Success),
            "failure" | "failed" | "fail" | "error" => Some(AuditResult::Failure),
            _ => None,
        }
    }
}

/// `GET /api/audit/events`: one page, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct EventPage {
    pub events: Vec<AuditEvent>,
    /// Pass as `cursor` for the next (older) page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// `GET /api/audit/histogram`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Histogram {
    #[serde(deserialize_with = "crate::time::rfc3339")]
    pub from: DateTime<Utc>,
    #[serde(deserialize_with = "crate::time::rfc3339")]
    pub to: DateTime<Utc>,
    pub bucket_seconds: u64,
    /// Every bucket from `from` to `to`, empty ones included, oldest first.
    pub buckets: Vec<HistogramBucket>,
    pub total: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct HistogramBucket {
    #[serde(deserialize_with = "crate::time::rfc3339")]
    pub start: DateTime<Utc>,
    pub count: u64,
}

/// `GET /api/audit/verify`: the state of the tamper-evident chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct VerifyReport {
    /// True when every event from the anchor to the head links and hashes correctly.
    pub ok: bool,
    /// Events in the chain that are verified (from the anchor to the head when `ok`).
    pub verified_count: u64,
    /// Of those, how many this run had to check (the rest were verified before).
    pub newly_verified: u64,
    /// Id and hash of the newest event in the chain, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head_hash: Option<String>,
    /// The first break found, when not `ok`: in the chain, or against a signed checkpoint
    /// (a cut tail, a rewritten history, a forged checkpoint).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_break: Option<ChainBreak>,
    #[serde(deserialize_with = "crate::time::rfc3339")]
    pub checked_at: DateTime<Utc>,
    /// Signed checkpoints the store was compared with (a full verify only).
    #[serde(default)]
    pub checkpoints_compared: u64,
    /// The newest of them: the event whose hash it vouches for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub newest_checkpoint_id: Option<String>,
    /// When the last full verify (scheduled, with checkpoints) ran; its break, if any, is
    /// reported here too.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::time::rfc3339_opt"
    )]
    pub last_full_verify_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ChainBreak {
    /// The event where the chain breaks (for a cut tail, the last event still present).
    pub event_id: String,
    /// Why, in a sentence.
    pub reason: String,
}

/// Seq's answer to a successful ingestion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct IngestResponse {
    #[serde(rename = "MinimumLevelAccepted")]
    pub minimum_level_accepted: Option<String>,
}

/// Seq's answer to a refused ingestion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct IngestError {
    #[serde(rename = "Error")]
    pub error: String,
}

#[cfg(test)]
mod tests {
    use super::{AuditEvent, event_sequence};

    fn with_id(id: &str) -> AuditEvent {
        serde_json::from_value(serde_json::json!({
            "id": id, "timestamp": "2026-11-20T10:00:00Z", "action": "a",
            "actor": {"type": "user"}, "target": {}, "result": "success",
            "details": {}, "message": "", "level": "Information", "properties": {},
            "hash": "h", "prev_hash": "p",
        }))
        .expect("an event")
    }

    #[test]
    fn the_previous_event_is_one_sequence_number_lower() {
        assert_eq!(
            with_id("0000000000000007").previous_id().as_deref(),
            Some("0000000000000006")
        );
        assert_eq!(with_id("0000000000000007").sequence(), Some(7));
        assert_eq!(with_id("0000000000000001").previous_id(), None);
        assert_eq!(with_id("not-a-seq").previous_id(), None);
        assert_eq!(event_sequence(""), None);
        assert_eq!(event_sequence("12345678901234567890"), None);
        assert_eq!(event_sequence("+7"), None);
    }
}
