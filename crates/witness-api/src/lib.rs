//! Every type that crosses the wire between the Witness server and its panel (or any client).
//!
//! Serde and chrono only, so that it builds for wasm32 as well as natively: the panel never
//! hand-writes JSON and the server never defines a response the panel cannot import.

mod diagnostics;
mod error;
mod health;

pub use diagnostics::Diagnostics;
pub use error::ApiErrorBody;
pub use health::Health;
