//! The router and the layout every page shares.

use leptos::prelude::*;
use witness_api::{Role, User};

use crate::api;
use crate::components::shown_when;
use crate::pages::{
    AccountPage, ApiKeysPage, AuditPage, BackupsPage, DiagnosticsPage, EventPage, EventPageProps,
    LoginPage, NotFound, SettingsPage, UsersPage,
};
use crate::router::{Router, nav_link};

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
    let router = Router::start();
    // Drawn again only when the path names another page (a new query keeps the page).
    let page = Memo::new(move |_| Page::of(&router.path()));
    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <header class="topbar">
            <span class="brand">"Witness"</span>
            <Nav />
        </header>
        <main id="main" tabindex="-1">
            {move || {
                let page = page.get();
                untrack(|| page.view())
            }}
        </main>
    }
}

/// The page for a path.
#[derive(Clone, PartialEq, Eq)]
enum Page {
    Login,
    Audit,
    Event(String),
    Settings,
    Backups,
    Diagnostics,
    ApiKeys,
    Users,
    Account,
    NotFound,
}

impl Page {
    fn of(path: &str) -> Page {
        let path = match path.strip_suffix('/') {
            Some(stripped) if !stripped.is_empty() => stripped,
            _ => path,
        };
        match path {
            "/login" => Page::Login,
            "/audit" => Page::Audit,
            "/settings" => Page::Settings,
            "/backups" => Page::Backups,
            "/diagnostics" => Page::Diagnostics,
            "/apikeys" => Page::ApiKeys,
            "/users" => Page::Users,
            "/account" => Page::Account,
            _ => match path.strip_prefix("/audit/") {
                Some(id) if !id.is_empty() && !id.contains('/') => Page::Event(id.to_string()),
                _ => Page::NotFound,
            },
        }
    }

    fn view(self) -> AnyView {
        match self {
            Page::Login => LoginPage().into_any(),
            Page::Audit => AuditPage().into_any(),
            Page::Event(id) => {
                // The id as it is in the path, percent-decoded (the API client encodes it again).
                let id = leptos::web_sys::js_sys::decode_uri_component(&id)
                    .ok()
                    .and_then(|decoded| decoded.as_string())
                    .unwrap_or(id);
                EventPage(EventPageProps { id }).into_any()
            }
            Page::Settings => SettingsPage().into_any(),
            Page::Backups => BackupsPage().into_any(),
            Page::Diagnostics => DiagnosticsPage().into_any(),
            Page::ApiKeys => ApiKeysPage().into_any(),
            Page::Users => UsersPage().into_any(),
            Page::Account => AccountPage().into_any(),
            Page::NotFound => NotFound().into_any(),
        }
    }
}

/// The main navigation: what the logged-in user may use. `A` marks the current page with
/// `aria-current="page"`. Loading it asks the server who is logged in; without a session the
/// API client sends the user to the login page.
#[component]
pub fn Nav() -> impl IntoView {
    let session = expect_context::<SessionContext>();
    let router = crate::router::use_router();
    Effect::new(move |_| {
        let on_login = router.path().starts_with("/login");
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
    shown_when(
        move || session.user().is_some(),
        move || {
            view! {
                <nav aria-label="Main">
                    <ul>
                        <li>{nav_link("/audit", "Audit logs")}</li>
                        {shown_when(move || session.is_admin(), || view! {
                            <li>{nav_link("/settings", "Settings")}</li>
                            <li>{nav_link("/backups", "Backups")}</li>
                            <li>{nav_link("/diagnostics", "Diagnostics")}</li>
                            <li>{nav_link("/apikeys", "API keys")}</li>
                            <li>{nav_link("/users", "Users")}</li>
                        }.into_any())}
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
            }
            .into_any()
        },
    )
}

#[cfg(test)]
mod tests {
    use super::Page;

    #[test]
    fn each_path_has_its_page() {
        for (path, page) in [
            ("/login", Page::Login),
            ("/audit", Page::Audit),
            ("/audit/", Page::Audit),
            (
                "/audit/0000000000000007",
                Page::Event("0000000000000007".into()),
            ),
            (
                "/audit/0000000000000007/",
                Page::Event("0000000000000007".into()),
            ),
            ("/settings", Page::Settings),
            ("/backups", Page::Backups),
            ("/diagnostics", Page::Diagnostics),
            ("/apikeys", Page::ApiKeys),
            ("/users", Page::Users),
            ("/account", Page::Account),
            ("/audit/a/b", Page::NotFound),
            ("/auditx", Page::NotFound),
            ("/nothing", Page::NotFound),
            ("/", Page::NotFound),
        ] {
            assert!(Page::of(path) == page, "{path}");
        }
    }
}
