//! Reusable views.

mod diagnostics_card;
mod error_view;
mod event_table;
mod histogram_chart;
mod integrity_badge;
mod message;

pub use diagnostics_card::DiagnosticsCard;
pub use error_view::ErrorList;
pub use event_table::EventTable;
pub use histogram_chart::HistogramChart;
pub use integrity_badge::IntegrityBadge;
pub use message::{Alert, FieldError};
