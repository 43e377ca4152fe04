//! Reusable views.

mod diagnostics_card;
mod error_view;

pub use diagnostics_card::DiagnosticsCard;
pub use error_view::ErrorList;
