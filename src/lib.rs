//! The Witness admin panel: a Leptos client-side app served by the Witness server.

pub mod api;
pub mod app;
pub mod components;
pub mod filters;
pub mod format;
pub mod load;
pub mod pages;
pub mod router;
pub mod zone;

/// Mounts the panel on `<body>`; the entry point trunk's bundle calls.
pub fn mount() {
    leptos::mount::mount_to_body(app::App);
}
