//! One module per route.

mod audit;
mod backups;
mod coming_soon;
mod diagnostics;
mod event;
mod login;
mod not_found;
mod settings;

pub use audit::AuditPage;
pub use backups::BackupsPage;
pub use diagnostics::DiagnosticsPage;
pub use event::{EventDetails, EventPage};
pub use login::LoginPage;
pub use not_found::NotFound;
pub use settings::SettingsPage;
