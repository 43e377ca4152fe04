//! Reusable views.

mod cell_filter;
mod diagnostics_card;
mod event_table;
mod event_tools;
mod export;
mod histogram_chart;
mod integrity_badge;
mod message;
mod rows;
mod saved_views;
mod shortcuts;

pub use cell_filter::{CellFilter, cell_filter_buttons, cell_filter_links};
pub use diagnostics_card::DiagnosticsCard;
pub use event_table::EventTable;
pub use event_tools::EventTools;
pub use export::ExportButtons;
pub use histogram_chart::HistogramChart;
pub use integrity_badge::IntegrityBadge;
pub use message::{alert, field_error, shown_when};
pub use rows::{Row, keyed_rows};
pub use saved_views::SavedViews;
pub use shortcuts::{AuditShortcuts, escape_to_list, list_url};
