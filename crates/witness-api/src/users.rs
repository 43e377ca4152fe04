use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What a user may do: auditors read audit logs; admins also manage Witness.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Auditor,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Auditor => "auditor",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text.trim() {
            "admin" => Some(Role::Admin),
            "auditor" => Some(Role::Auditor),
            _ => None,
        }
    }
}

/// A user as the API shows it (never the password hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct User {
    pub id: String,
    pub username: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    pub role: Role,
    #[serde(deserialize_with = "crate::time::rfc3339")]
    pub created_at: DateTime<Utc>,
}

/// `POST /api/users`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct NewUser {
    pub username: String,
    pub password: String,
    pub role: Role,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// `PUT /api/users/{id}`: only the fields given change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct UserUpdate {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// `POST /api/auth/login`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct LoginRequest {
    /// At most 64 characters, once trimmed.
    #[cfg_attr(feature = "schema", schemars(length(max = LoginRequest::MAX_USERNAME_CHARS)))]
    pub username: String,
    pub password: String,
}

impl LoginRequest {
    /// The longest username a login may send (usernames are at most 64 characters when made).
    pub const MAX_USERNAME_CHARS: usize = 64;
}

/// `PUT /api/auth/password`: a logged-in user changes their own password. Every session of
/// theirs ends; the answer is a fresh session (as a login's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
}

/// The answer to a login: who you are and the token to send back as `X-CSRF-Token` on every
/// POST, PUT, PATCH and DELETE of this session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct LoginResponse {
    pub user: User,
    pub csrf_token: String,
    #[serde(deserialize_with = "crate::time::rfc3339")]
    pub expires_at: DateTime<Utc>,
}

/// `GET /api/auth/me`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Me {
    pub user: User,
    pub csrf_token: String,
    #[serde(deserialize_with = "crate::time::rfc3339")]
    pub expires_at: DateTime<Utc>,
}

/// An API key as the API shows it (never the token, only its first characters).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ApiKey {
    pub id: String,
    pub title: String,
    pub permissions: Vec<ApiKeyPermission>,
    pub token_prefix: String,
    #[serde(deserialize_with = "crate::time::rfc3339")]
    pub created_at: DateTime<Utc>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::time::rfc3339_opt"
    )]
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum ApiKeyPermission {
    Ingest,
    Read,
}

/// `POST /api/apikeys`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct NewApiKey {
    pub title: String,
    pub permissions: Vec<ApiKeyPermission>,
}

/// The answer to creating a key: the token, shown this once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct CreatedApiKey {
    pub key: ApiKey,
    pub token: String,
}

/// A 422's body: the one error shape plus a message per field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "ValidationError")
)]
pub struct ValidationErrorBody {
    pub code: String,
    pub message: String,
    pub fields: std::collections::BTreeMap<String, String>,
}

impl ApiKeyPermission {
    pub fn as_str(self) -> &'static str {
        match self {
            ApiKeyPermission::Ingest => "ingest",
            ApiKeyPermission::Read => "read",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text.trim() {
            "ingest" => Some(ApiKeyPermission::Ingest),
            "read" => Some(ApiKeyPermission::Read),
            _ => None,
        }
    }
}
