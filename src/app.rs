//! The router and the layout every page shares.

use leptos::prelude::*;
use leptos_router::components::{A, Redirect, Route, Router, Routes};
use leptos_router::hooks::use_location;
use leptos_router::path;
use witness_api::{Role, User};

use crate::api;
use crate::pages::{
    AccountPage, ApiKeysPage, AuditPage, BackupsPage, DiagnosticsPage, EventPage, LoginPage,
    NotFound, SettingsPage, UsersPage,
};

/// Who is logged in, shared by the layout and the pages.
#[derive(Clone, Copy)]
pub struct SessionContext {
    user: RwSignal<Option<User>>,
}

impl SessionContext {
    pub fn user(&self) -> Option<User> {
        self.user.get()
    }

    pub fn set_user(&self, user: User) {
        self.user.set(Some(user));
    }

    pub fn is_admin(&self) -> bool {
        self.user
            .with(|user| user.as_ref().is_some_and(|u| u.role == Role::Admin))
    }
}

#[component]
pub fn App() -> impl IntoView {
    let session = SessionContext {
        user: RwSignal::new(None),
    };
    provide_context(session);
    view! {
        <Router>
            <a class="skip-link" href="#main">"Skip to content"</a>
            <header class="topbar">
                <span class="brand">"Witness"</span>
                <Nav />
            </header>
            <main id="main" tabindex="-1">
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=|| view! { <Redirect path="/audit" /> }.into_any() />
                    <Route path=path!("/login") view=LoginPage />
                    <Route path=path!("/audit") view=AuditPage />
                    <Route path=path!("/audit/:id") view=EventPage />
                    <Route path=path!("/settings") view=SettingsPage />
                    <Route path=path!("/backups") view=BackupsPage />
                    <Route path=path!("/diagnostics") view=DiagnosticsPage />
                    <Route path=path!("/apikeys") view=ApiKeysPage />
                    <Route path=path!("/users") view=UsersPage />
                    <Route path=path!("/account") view=AccountPage />
                </Routes>
            </main>
        </Router>
    }
}

/// The main navigation: what the logged-in user may use. `A` marks the current page with
/// `aria-current="page"`. Loading it asks the server who is logged in; without a session the
/// API client sends the user to the login page.
#[component]
pub fn Nav() -> impl IntoView {
    let session = expect_context::<SessionContext>();
    let location = use_location();
    Effect::new(move |_| {
        let on_login = location.pathname.get().starts_with("/login");
        if !on_login && session.user.get_untracked().is_none() {
            leptos::task::spawn_local(async move {
                if let Ok(me) = api::me().await {
                    session.set_user(me.user);
                }
            });
        }
    });
    let logout = move |_| {
        leptos::task::spawn_local(async {
            if api::logout().await.is_ok()
                && let Some(window) = leptos::web_sys::window()
            {
                let _ = window.location().set_href("/login");
            }
        })
    };
    view! {
        <Show when=move || session.user().is_some()>
            <nav aria-label="Main">
                <ul>
                    <li><A href="/audit">"Audit logs"</A></li>
                    <Show when=move || session.is_admin()>
                        <li><A href="/settings">"Settings"</A></li>
                        <li><A href="/backups">"Backups"</A></li>
                        <li><A href="/diagnostics">"Diagnostics"</A></li>
                        <li><A href="/apikeys">"API keys"</A></li>
                        <li><A href="/users">"Users"</A></li>
                    </Show>
                </ul>
            </nav>
            <div class="whoami">
                <a href="/account" data-field="whoami" title="Your account: change your password">
                    {move || {
                        session
                            .user()
                            .map(|u| format!("{} ({})", u.username, u.role.as_str()))
                            .unwrap_or_default()
                    }}
                </a>
                <button type="button" class="secondary" on:click=logout>
                    "Log out"
                </button>
            </div>
        </Show>
    }
}
