//! Component tests of the Audit logs tab's pieces, in headless Chromium (`make test`).
#![cfg(target_arch = "wasm32")]

use chrono::{TimeZone, Utc};
use leptos::prelude::*;
use leptos::wasm_bindgen::JsCast;
use leptos::web_sys::{self, HtmlElement};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use witness_api::{Actor, ActorType, AuditEvent, AuditResult, Target, Tenant};
use witness_panel::components::EventTable;
use witness_panel::filters::{
    apply_search, chips, filter_from_query, query_from_filter, remove_chip,
};
use witness_panel::format::Zone;
use witness_panel::pages::EventDetails;

wasm_bindgen_test_configure!(run_in_browser);

fn fresh_container() -> HtmlElement {
    let document = web_sys::window()
        .expect("window")
        .document()
        .expect("document");
    let container = document.create_element("div").expect("div");
    document
        .body()
        .expect("body")
        .append_child(&container)
        .expect("append");
    container.unchecked_into()
}

fn event(actor: &str, action: &str, target: &str) -> AuditEvent {
    let mut details = serde_json::Map::new();
    details.insert(
        "role".into(),
        serde_json::json!({"old": "read", "new": "<b>admin</b>"}),
    );
    AuditEvent {
        id: "0000000000000007".into(),
        timestamp: Utc.with_ymd_and_hms(2026, 11, 20, 10, 1, 0).unwrap(),
        action: action.into(),
        actor: Actor {
            id: Some(actor.into()),
            name: None,
            email: None,
            actor_type: ActorType::User,
        },
        target: Target {
            target_type: None,
            id: Some(target.into()),
            name: None,
        },
        result: AuditResult::Failure,
        status: None,
        client_ip: Some("203.0.113.9".into()),
        organization: Some(Tenant {
            id: None,
            name: Some("Acme".into()),
        }),
        workspace: None,
        details,
        message: "m".into(),
        level: "Information".into(),
        properties: Default::default(),
        source: Some("key-0123456789ab".into()),
        hash: "ab".into(),
        prev_hash: "cd".into(),
    }
}

fn cells(container: &HtmlElement) -> Vec<String> {
    (1..=7)
        .filter_map(|i| {
            container
                .query_selector(&format!("tbody tr:first-child td:nth-child({i})"))
                .expect("selector")
        })
        .map(|node| node.text_content().unwrap_or_default())
        .collect()
}

#[wasm_bindgen_test]
async fn the_table_shows_every_field_as_text_with_the_zone_in_the_header() {
    let container = fresh_container();
    let zone = RwSignal::new(Zone::Utc);
    let hostile = "<img src=x onerror=alert(1)>";
    let events = vec![event(hostile, "member.role_changed", "<b>repo</b>")];
    let handle = leptos::mount::mount_to(container.clone(), move || {
        view! { <EventTable events=events.clone() zone=zone /> }
    });
    let cells = cells(&container);
    // The time is relative ("… ago"); its exact instant is checked below.
    assert_eq!(
        cells[1..],
        vec![
            hostile,
            "member.role_changed",
            "<b>repo</b>",
            "failure",
            "203.0.113.9",
            "Acme"
        ]
    );
    assert!(
        container
            .query_selector("tbody img, tbody b")
            .expect("selector")
            .is_none()
    );
    let header = container
        .query_selector("thead th")
        .expect("selector")
        .expect("th");
    assert_eq!(header.text_content().unwrap_or_default(), "Time (UTC)");
    let time = container
        .query_selector("td.time time")
        .expect("selector")
        .expect("time");
    assert_eq!(
        time.get_attribute("datetime").as_deref(),
        Some("2026-11-20T10:01:00Z")
    );
    assert_eq!(
        time.get_attribute("title").as_deref(),
        Some("2026-11-20T10:01:00Z")
    );
    zone.set(Zone::Local);
    // Effects run on the next tick.
    leptos::task::tick().await;
    let header = container
        .query_selector("thead th")
        .expect("selector")
        .expect("th");
    assert!(
        header
            .text_content()
            .unwrap_or_default()
            .starts_with("Time (Local, UTC")
    );
    // A named zone comes from the browser's Intl: Tokyo is UTC+09:00 all year.
    zone.set(Zone::Named("Asia/Tokyo".into()));
    leptos::task::tick().await;
    assert_eq!(
        time.get_attribute("title").as_deref(),
        Some("2026-11-20T19:01:00+09:00")
    );
    assert!(!witness_panel::zone::known("Mars/Olympus_Mons"));
    let link = container
        .query_selector("td.time a")
        .expect("selector")
        .expect("link");
    assert_eq!(
        link.get_attribute("href").as_deref(),
        Some("/audit/0000000000000007")
    );
    drop(handle);
}

#[wasm_bindgen_test]
fn event_details_show_changes_old_to_new_as_text() {
    let container = fresh_container();
    let e = event("alice", "member.role_changed", "bob");
    let handle = leptos::mount::mount_to(container.clone(), move || {
        view! { <EventDetails event=e.clone() /> }
    });
    let row = container
        .query_selector("tr[data-diff='role']")
        .expect("selector")
        .expect("the role change");
    let text = |selector: &str| {
        row.query_selector(selector)
            .expect("selector")
            .and_then(|n| n.text_content())
            .unwrap_or_default()
    };
    assert_eq!(text(".old"), "read");
    assert_eq!(text(".new"), "<b>admin</b>");
    assert!(
        container
            .query_selector("table.diff b")
            .expect("selector")
            .is_none()
    );
    drop(handle);
}

#[wasm_bindgen_test]
fn filter_chip_search_and_url_logic_in_the_browser() {
    let filter = filter_from_query("actor=alice&action=member.*").expect("valid");
    let filter = apply_search(&filter, "-actor:bob -result:success words").expect("valid");
    let labels: Vec<String> = chips(&filter).into_iter().map(|c| c.label).collect();
    assert_eq!(
        labels,
        vec![
            "actor: alice",
            "actor ≠ bob",
            "action: member.*",
            "result: failure",
            "text: words"
        ]
    );
    let query = query_from_filter(&filter, &[]);
    assert_eq!(filter_from_query(&query).expect("round trip"), filter);
    let chip = chips(&filter).remove(0);
    assert_eq!(remove_chip(&filter, &chip).actor.len(), 1);
}
