//! One module per route.

mod account;
mod apikeys;
mod audit;
mod backups;
mod diagnostics;
mod event;
mod login;
mod not_found;
mod settings;
mod users;

pub use account::AccountPage;
pub use apikeys::ApiKeysPage;
pub use audit::AuditPage;
pub use backups::BackupsPage;
pub use diagnostics::DiagnosticsPage;
pub use event::{EventDetails, EventPage, EventPageProps};
pub use login::LoginPage;
pub use not_found::NotFound;
pub use settings::SettingsPage;
pub use users::UsersPage;
