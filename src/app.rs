//! The router and the layout every page shares.

use leptos::prelude::*;
use leptos_router::components::{A, Redirect, Route, Router, Routes};
use leptos_router::path;

use crate::pages::{AuditPage, BackupsPage, DiagnosticsPage, NotFound, SettingsPage};

#[component]
pub fn App() -> impl IntoView {
    view! {
        <Router>
            <a class="skip-link" href="#main">"Skip to content"</a>
            <header class="topbar">
                <span class="brand">"Witness"</span>
                <Nav />
            </header>
            <main id="main" tabindex="-1">
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=|| view! { <Redirect path="/audit" /> } />
                    <Route path=path!("/audit") view=AuditPage />
                    <Route path=path!("/settings") view=SettingsPage />
                    <Route path=path!("/backups") view=BackupsPage />
                    <Route path=path!("/diagnostics") view=DiagnosticsPage />
                </Routes>
            </main>
        </Router>
    }
}

/// The main navigation. `A` marks the current page with `aria-current="page"`.
#[component]
pub fn Nav() -> impl IntoView {
    view! {
        <nav aria-label="Main">
            <ul>
                <li><A href="/audit">"Audit logs"</A></li>
                <li><A href="/settings">"Settings"</A></li>
                <li><A href="/backups">"Backups"</A></li>
                <li><A href="/diagnostics">"Diagnostics"</A></li>
            </ul>
        </nav>
    }
}
