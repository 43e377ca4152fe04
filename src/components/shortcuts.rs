//! Keyboard shortcuts of the Audit logs tab and the event page, and the help dialog that
//! lists them.
//!
//! One `keydown` listener on the window while the page is shown, removed when it is left, so
//! no other page reacts to these keys. Keys typed into a field are the field's (only Esc is
//! taken, to leave it), and a key held with Ctrl, Meta or Alt is the browser's.

use std::cell::RefCell;

use leptos::ev;
use leptos::html;
use leptos::prelude::*;
use leptos::wasm_bindgen::JsCast;
use leptos::web_sys;

use crate::router::use_router;

/// The rows of the page of events (not the live tail's).
const ROWS: &str = "section.audit > table.events > tbody > tr";
const SEARCH: &str = "audit-search";

thread_local! {
    /// The address of the Audit logs tab last shown (filters and page): where Esc and the
    /// back link of an event page return to.
    static LIST_URL: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Where an event page goes back to: the list as it was last shown, else the newest events.
pub fn list_url() -> String {
    LIST_URL
        .with(|url| url.borrow().clone())
        .unwrap_or_else(|| "/audit".to_string())
}

/// A key that is a shortcut, or `None` when it belongs to the browser or to a field (an Esc in
/// a field leaves the field).
fn shortcut_key(event: &web_sys::KeyboardEvent) -> Option<String> {
    if event.default_prevented()
        || event.ctrl_key()
        || event.meta_key()
        || event.alt_key()
        || event.is_composing()
    {
        return None;
    }
    let key = event.key();
    let focused = document().active_element();
    let typing = focused.as_ref().is_some_and(|element| {
        matches!(element.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT")
            || element
                .dyn_ref::<web_sys::HtmlElement>()
                .is_some_and(|element| element.is_content_editable())
    });
    if typing {
        if key == "Escape"
            && let Some(element) = focused.and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
        {
            let _ = element.blur();
        }
        return None;
    }
    Some(key)
}

fn rows() -> Vec<web_sys::HtmlElement> {
    let Ok(list) = document().query_selector_all(ROWS) else {
        return Vec::new();
    };
    (0..list.length())
        .filter_map(|index| list.item(index))
        .filter_map(|node| node.dyn_into::<web_sys::HtmlElement>().ok())
        .collect()
}

/// The row's link to its event.
fn row_link(row: &web_sys::HtmlElement) -> Option<web_sys::HtmlElement> {
    row.query_selector("a[href]")
        .ok()
        .flatten()
        .and_then(|link| link.dyn_into().ok())
}

/// Moves the selection `step` rows down (up when negative), from the selected row or the row
/// holding the focus; the first `j` or `k` selects the first row. The selected row is marked
/// and its link takes the focus, which scrolls it into view and makes Enter open it.
fn move_selection(step: isize) {
    let rows = rows();
    if rows.is_empty() {
        return;
    }
    let focused = document().active_element();
    let current = rows.iter().position(|row| {
        row.class_list().contains("selected")
            || focused
                .as_ref()
                .is_some_and(|element| row.contains(Some(element)))
    });
    let next = match current {
        None => 0,
        Some(index) => index.saturating_add_signed(step).min(rows.len() - 1),
    };
    for (index, row) in rows.iter().enumerate() {
        if index == next {
            let _ = row.class_list().add_1("selected");
            let _ = row.set_attribute("aria-current", "true");
        } else {
            let _ = row.class_list().remove_1("selected");
            let _ = row.remove_attribute("aria-current");
        }
    }
    if let Some(link) = row_link(&rows[next]) {
        let _ = link.focus();
    }
}

/// Enter with the focus outside any control opens the selected row's event (on a link or a
/// button, Enter is the control's own).
fn open_selected() -> bool {
    let on_control = document()
        .active_element()
        .is_some_and(|element| matches!(element.tag_name().as_str(), "A" | "BUTTON" | "SUMMARY"));
    if on_control {
        return false;
    }
    let selected = rows()
        .into_iter()
        .find(|row| row.class_list().contains("selected"));
    match selected.as_ref().and_then(row_link) {
        Some(link) => {
            link.click();
            true
        }
        None => false,
    }
}

/// Installs `on_key` as the window's `keydown` listener for as long as the calling component
/// is mounted.
fn while_mounted(on_key: impl Fn(web_sys::KeyboardEvent) + 'static) {
    let handle = window_event_listener(ev::keydown, on_key);
    on_cleanup(move || handle.remove());
}

/// The Audit logs tab's shortcuts: a button that opens their list, the list (a modal dialog),
/// and the listener. Also remembers the tab's address for the event page's way back.
#[component]
pub fn AuditShortcuts() -> impl IntoView {
    let router = use_router();
    Effect::new(move |_| {
        let search = router.search();
        // The query may change a moment before the page does (to an event's page).
        if matches!(router.path().as_str(), "/audit" | "/audit/") {
            let url = if search.is_empty() {
                "/audit".to_string()
            } else {
                format!("/audit?{search}")
            };
            LIST_URL.with(|slot| *slot.borrow_mut() = Some(url));
        }
    });

    let dialog = NodeRef::<html::Dialog>::new();
    let open_help = move || {
        if let Some(dialog) = dialog.get_untracked()
            && !dialog.open()
        {
            // A modal dialog keeps the focus inside it, closes on Esc, and gives the focus
            // back to where it was when it closes.
            let _ = dialog.show_modal();
        }
    };
    while_mounted(move |event| {
        if dialog.get_untracked().is_some_and(|dialog| dialog.open()) {
            return;
        }
        let Some(key) = shortcut_key(&event) else {
            return;
        };
        let handled = match key.as_str() {
            "/" => document()
                .get_element_by_id(SEARCH)
                .and_then(|element| element.dyn_into::<web_sys::HtmlElement>().ok())
                .map(|search| search.focus().is_ok())
                .is_some(),
            "j" => {
                move_selection(1);
                true
            }
            "k" => {
                move_selection(-1);
                true
            }
            "Enter" => open_selected(),
            "?" => {
                open_help();
                true
            }
            _ => false,
        };
        if handled {
            event.prevent_default();
        }
    });

    view! {
        <button
            type="button"
            class="secondary shortcuts-button"
            aria-haspopup="dialog"
            aria-keyshortcuts="?"
            on:click=move |_| open_help()
        >
            "Keyboard shortcuts"
        </button>
        <dialog node_ref=dialog class="shortcuts" aria-labelledby="shortcuts-title">
            <h2 id="shortcuts-title">"Keyboard shortcuts"</h2>
            <dl class="keys">
                {SHORTCUTS
                    .iter()
                    .map(|(key, what)| view! { <dt><kbd>{*key}</kbd></dt><dd>{*what}</dd> })
                    .collect_view()}
            </dl>
            <p class="muted">"Shortcuts do nothing while you type in a field; Esc leaves the field."</p>
            <form method="dialog">
                <button type="submit" autofocus>"Close"</button>
            </form>
        </dialog>
    }
    .into_any()
}

/// Every shortcut, as the help dialog lists it.
const SHORTCUTS: [(&str, &str); 6] = [
    ("/", "Search: move to the search box"),
    ("j", "Select the next event"),
    ("k", "Select the previous event"),
    ("Enter", "Open the selected event"),
    (
        "Esc",
        "On an event: back to the list, with its filters and page",
    ),
    ("?", "Show this list (Esc closes it)"),
];

/// The event page's shortcut: Esc returns to the list it was opened from.
pub fn escape_to_list() {
    let router = use_router();
    while_mounted(move |event| {
        if shortcut_key(&event).as_deref() == Some("Escape") {
            event.prevent_default();
            router.navigate(&list_url());
        }
    });
}
