//! The panel's router: which page the address shows, links and Back/Forward without reloading.
//!
//! The panel has ten fixed routes and one parameter (`/audit/:id`); leptos_router's general
//! matching, nested routes and typed paths were some 70 KB of the .wasm for that. What it did
//! for the panel is done here the same way: a click on a link to this site (not a download,
//! not to another window, without a modifier key) pushes the address and shows its page
//! without a reload, scrolled to the top; Back and Forward show the page of the address; the
//! navigation link of the current section carries `aria-current="page"`; `/` goes to `/audit`.

use leptos::ev;
use leptos::prelude::*;
use leptos::wasm_bindgen::JsCast;
use leptos::web_sys;

/// Where the panel is: the address's path and its query string (without `?`).
#[derive(Clone, PartialEq, Eq)]
struct Address {
    path: String,
    search: String,
}

impl Address {
    fn current() -> Self {
        let location = window().location();
        Address {
            path: location.pathname().unwrap_or_default(),
            search: location
                .search()
                .unwrap_or_default()
                .trim_start_matches('?')
                .to_string(),
        }
    }
}

/// The router of the running panel: the current path and query, each tracked on its own (a
/// page that reads only the query is not redrawn when the path is the same).
#[derive(Clone, Copy)]
pub struct Router {
    address: RwSignal<Address>,
    path: Memo<String>,
    search: Memo<String>,
}

/// The router, provided by [`Router::start`] for the whole panel.
pub fn use_router() -> Router {
    expect_context::<Router>()
}

impl Router {
    /// Reads the address, starts following link clicks and Back/Forward, and provides the
    /// router to every page.
    pub fn start() -> Router {
        let address = RwSignal::new(Address::current());
        let router = Router {
            address,
            path: Memo::new(move |_| address.with(|a| a.path.clone())),
            search: Memo::new(move |_| address.with(|a| a.search.clone())),
        };
        router.redirect_home();
        provide_context(router);
        // Both listeners live as long as the panel.
        let _ = window_event_listener(ev::popstate, move |_| {
            router.address.set(Address::current());
            router.redirect_home();
        });
        let _ = window_event_listener(ev::click, move |event| router.follow(&event));
        router
    }

    /// `/` is the audit logs.
    fn redirect_home(self) {
        if self.address.with_untracked(|a| a.path == "/") {
            let _ = window().history().and_then(|history| {
                history.replace_state_with_url(
                    &leptos::wasm_bindgen::JsValue::NULL,
                    "",
                    Some("/audit"),
                )
            });
            self.address.set(Address::current());
        }
    }

    /// The path shown, such as `/audit/ev-1` (tracked).
    pub fn path(self) -> String {
        self.path.get()
    }

    /// The query string, without `?` (tracked).
    pub fn search(self) -> String {
        self.search.get()
    }

    /// The first value of a query parameter, decoded.
    pub fn query(self, name: &str) -> Option<String> {
        self.search.with(|search| query_values(search, name).next())
    }

    /// Every value of a query parameter, decoded, in order.
    pub fn query_all(self, name: &str) -> Vec<String> {
        self.search
            .with(|search| query_values(search, name).collect())
    }

    /// Shows `to` (a path on this site, with its query), as a new history entry unless it is
    /// the address already shown, and scrolls to the top.
    pub fn navigate(self, to: &str) {
        let here = self.address.with_untracked(|a| {
            if a.search.is_empty() {
                a.path.clone()
            } else {
                format!("{}?{}", a.path, a.search)
            }
        });
        if to != here {
            let _ = window().history().and_then(|history| {
                history.push_state_with_url(&leptos::wasm_bindgen::JsValue::NULL, "", Some(to))
            });
        }
        self.address.set(Address::current());
        self.redirect_home();
        window().scroll_to_with_x_and_y(0.0, 0.0);
    }

    /// A click anywhere: when it is a plain click on a link to another page of this site, that
    /// page is shown without a reload (as leptos_router did). Links within the same page
    /// (`#main`) are left to the browser, which moves the focus.
    fn follow(self, event: &web_sys::MouseEvent) {
        if event.default_prevented()
            || event.button() != 0
            || event.meta_key()
            || event.alt_key()
            || event.ctrl_key()
            || event.shift_key()
        {
            return;
        }
        let Some(link) = event
            .target()
            .and_then(|target| target.dyn_into::<web_sys::Element>().ok())
            .and_then(|element| element.closest("a[href]").ok().flatten())
            .and_then(|element| element.dyn_into::<web_sys::HtmlAnchorElement>().ok())
        else {
            return;
        };
        let external = link
            .get_attribute("rel")
            .is_some_and(|rel| rel.split_ascii_whitespace().any(|word| word == "external"));
        if !link.target().is_empty() || link.has_attribute("download") || external {
            return;
        }
        let Ok(url) = web_sys::Url::new(&link.href()) else {
            return;
        };
        let here = window().location();
        if Some(url.origin()) != here.origin().ok() {
            return;
        }
        let same_page = Some(url.pathname()) == here.pathname().ok()
            && Some(url.search()) == here.search().ok();
        if same_page && !url.hash().is_empty() {
            return;
        }
        event.prevent_default();
        self.navigate(&format!("{}{}", url.pathname(), url.search()));
    }
}

/// Whether `path` is `section` or a page below it.
fn in_section(section: &str, path: &str) -> bool {
    path.strip_prefix(section)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

fn query_values<'a>(search: &'a str, name: &'a str) -> impl Iterator<Item = String> + 'a {
    form_urlencoded::parse(search.as_bytes())
        .filter(move |(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

/// A link of the main navigation, marked `aria-current="page"` while the path is its path or
/// below it (`/audit` for `/audit/ev-1` too).
pub fn nav_link(href: &'static str, text: &'static str) -> AnyView {
    let router = use_router();
    let current = move || in_section(href, &router.path()).then_some("page");
    view! { <a href=href aria-current=current>{text}</a> }.into_any()
}

#[cfg(test)]
mod tests {
    use super::{in_section, query_values};

    #[test]
    fn a_section_is_its_path_and_the_pages_below_it() {
        assert!(in_section("/audit", "/audit"));
        assert!(in_section("/audit", "/audit/"));
        assert!(in_section("/audit", "/audit/0000000000000007"));
        assert!(!in_section("/audit", "/auditx"));
        assert!(!in_section("/audit", "/users"));
        assert!(!in_section("/users", "/"));
    }

    #[test]
    fn query_values_are_decoded_in_order() {
        let search = "cursor=a%2Fb&action=doc.viewed&cursor=c+d";
        assert_eq!(
            query_values(search, "cursor").collect::<Vec<_>>(),
            vec!["a/b".to_string(), "c d".to_string()]
        );
        assert_eq!(query_values(search, "next").next(), None);
    }
}
