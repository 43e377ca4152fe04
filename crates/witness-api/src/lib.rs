//! Every type that crosses the wire between the Witness server and its panel (or any client).
//!
//! Serde, serde_json (event details are JSON objects) and chrono only, so that it builds for
//! wasm32 as well as natively: the panel never hand-writes JSON and the server never defines a
//! response the panel cannot import. The optional `schema` feature, which only the server turns
//! on, derives `schemars::JsonSchema` for the types its OpenAPI document describes.

mod backups;
mod diagnostics;
mod error;
mod events;
mod filter;
mod health;
mod settings;
mod time;
mod users;
mod views;

pub use backups::BackupInfo;
pub use diagnostics::{AuditingStatus, Diagnostics, StorageStatus};
pub use error::ApiErrorBody;
pub use events::{
    Actor, ActorType, AuditEvent, AuditResult, ChainBreak, EventPage, Histogram, HistogramBucket,
    IngestError, IngestResponse, SELF_AUDIT_SOURCE, Target, Tenant, VerifyReport, event_id,
    event_sequence,
};
pub use filter::{
    EventFilter, FILTER_PARAMETERS, FilterError, MAX_TEXT_CHARS, SearchFields, TextMatcher,
    TextTerm, ValueMatch, YEARS, index_text, index_words, text_terms,
};
pub use health::Health;
pub use settings::{Settings, SettingsUpdate};
pub use users::{
    ApiKey, ApiKeyPermission, CreatedApiKey, LoginRequest, LoginResponse, Me, NewApiKey, NewUser,
    PasswordChange, Role, User, UserUpdate, ValidationErrorBody,
};
pub use views::{NewSavedView, SavedView};
