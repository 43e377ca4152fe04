//! Component tests, run in headless Chromium by wasm-bindgen-test (`make test`).
#![cfg(target_arch = "wasm32")]

use chrono::{TimeZone, Utc};
use leptos::prelude::*;
use leptos::wasm_bindgen::JsCast;
use leptos::web_sys::{self, HtmlElement};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use witness_api::{AuditingStatus, Diagnostics, StorageStatus};
use witness_panel::components::DiagnosticsCard;

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

fn field(container: &HtmlElement, name: &str) -> String {
    container
        .query_selector(&format!("[data-field='{name}']"))
        .expect("valid selector")
        .unwrap_or_else(|| panic!("field {name} is rendered"))
        .text_content()
        .unwrap_or_default()
}

#[wasm_bindgen_test]
fn diagnostics_card_shows_version_uptime_and_data_directory() {
    let container = fresh_container();
    let diagnostics = Diagnostics {
        version: "9.8.7".into(),
        started_at: Utc.with_ymd_and_hms(2026, 11, 22, 8, 0, 0).unwrap(),
        uptime_seconds: 3 * 3600 + 120,
        data_dir: "/var/lib/witness".into(),
        auditing: AuditingStatus {
            enabled: true,
            summary: "Auditing is enabled".into(),
            targets: vec!["local".into(), "file:/var/log/witness".into()],
        },
        last_backup_at: Some(Utc.with_ymd_and_hms(2026, 11, 22, 2, 0, 0).unwrap()),
        next_backup_at: Some(Utc.with_ymd_and_hms(2026, 11, 23, 2, 0, 0).unwrap()),
        storage: Some(StorageStatus {
            backend: "SQLite".into(),
            location: "/var/lib/witness/witness.db".into(),
            size_bytes: 3 * 1024 * 1024,
            event_count: 1_234_567,
            oldest_event: Some(Utc.with_ymd_and_hms(2026, 10, 1, 0, 0, 0).unwrap()),
            newest_event: Some(Utc.with_ymd_and_hms(2026, 11, 22, 7, 59, 0).unwrap()),
        }),
        last_full_verify: None,
    };
    let handle = leptos::mount::mount_to(container.clone(), move || {
        view! { <DiagnosticsCard diagnostics=diagnostics.clone() /> }
    });
    assert_eq!(field(&container, "version"), "9.8.7");
    assert_eq!(field(&container, "data_dir"), "/var/lib/witness");
    let uptime = field(&container, "uptime");
    assert!(uptime.contains("3 h 2 min"), "{uptime}");
    assert!(uptime.contains("2026-11-22 08:00:00 UTC"), "{uptime}");
    let auditing = field(&container, "auditing");
    assert!(auditing.contains("Auditing is enabled"), "{auditing}");
    assert!(auditing.contains("file:/var/log/witness"), "{auditing}");
    let storage = field(&container, "storage");
    assert!(storage.contains("SQLite"), "{storage}");
    assert!(storage.contains("1,234,567 events"), "{storage}");
    assert!(storage.contains("3.0 MiB"), "{storage}");
    assert!(storage.contains("2026-10-01 00:00 UTC"), "{storage}");
    drop(handle);
}

#[wasm_bindgen_test]
fn server_strings_are_rendered_as_text_never_as_html() {
    let container = fresh_container();
    let hostile = "<img src=x onerror=alert(1)><b>bold</b>";
    let diagnostics = Diagnostics {
        version: hostile.into(),
        started_at: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
        uptime_seconds: 1,
        data_dir: hostile.into(),
        auditing: AuditingStatus {
            enabled: true,
            summary: "Auditing is enabled".into(),
            targets: vec![hostile.into()],
        },
        last_backup_at: None,
        next_backup_at: None,
        storage: Some(StorageStatus {
            backend: hostile.into(),
            location: hostile.into(),
            size_bytes: 0,
            event_count: 0,
            oldest_event: None,
            newest_event: None,
        }),
        last_full_verify: None,
    };
    let handle = leptos::mount::mount_to(container.clone(), move || {
        view! { <DiagnosticsCard diagnostics=diagnostics.clone() /> }
    });
    assert_eq!(field(&container, "version"), hostile);
    assert_eq!(field(&container, "data_dir"), hostile);
    let injected = container.query_selector("img, b").expect("valid selector");
    assert!(injected.is_none(), "a server string became markup");
    drop(handle);
}
