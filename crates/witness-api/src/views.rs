use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A saved view of the Audit logs tab: a name its owner gave to a set of filters and a time
/// range. Each user has their own; nobody else sees them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SavedView {
    pub id: String,
    /// 1 to 100 characters, no control characters; unique among its owner's views.
    pub name: String,
    /// The Audit logs tab's URL query string without `?` (filters and time range, as
    /// `EventFilter`'s parameters): the view opens as `/audit?{query}`.
    pub query: String,
    #[serde(deserialize_with = "crate::time::rfc3339")]
    pub created_at: DateTime<Utc>,
}

/// `POST /api/views`: name the filters of `query`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct NewSavedView {
    /// Trimmed; 1 to 100 characters, no control characters. Anything else is answered with
    /// 422 naming `name`.
    #[cfg_attr(feature = "schema", schemars(length(min = 1, max = SavedView::MAX_NAME_CHARS)))]
    pub name: String,
    /// A query string of the Audit logs tab (a leading `?` is dropped), at most 4000
    /// characters, whose filter parameters are valid; otherwise 422 naming `query`.
    #[cfg_attr(feature = "schema", schemars(length(max = SavedView::MAX_QUERY_CHARS)))]
    pub query: String,
}

impl SavedView {
    /// The longest view name, in characters once trimmed.
    pub const MAX_NAME_CHARS: usize = 100;
    /// The longest view query, in characters (bytes of the encoded query string).
    pub const MAX_QUERY_CHARS: usize = 4000;
}
