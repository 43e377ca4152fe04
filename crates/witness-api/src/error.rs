use serde::{Deserialize, Serialize};

/// The one error shape of Witness's own API (ingestion answers as Seq does instead).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "ApiError")
)]
pub struct ApiErrorBody {
    /// A stable snake_case code that programs can match on, e.g. `not_found`.
    pub code: String,
    /// A sentence a person can act on.
    pub message: String,
}
