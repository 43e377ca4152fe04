//! The Audit logs tab by keyboard, the event page's tools (raw JSON, links, its place in the
//! chain), and an export's count, progress and Cancel.

use std::time::Duration;

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::key::Key;
use fantoccini::{Client, Locator};

use super::harness::{AUDITOR, AUDITOR_PASSWORD, Harness};
use super::{wait_for_first_row, wait_for_rows};

/// Presses one key (and lets it go) wherever the focus is, as a person at the keyboard.
pub async fn press(browser: &Client, key: char) {
    let keys = KeyActions::new("keyboard".to_string())
        .then(KeyAction::Down { value: key })
        .then(KeyAction::Up { value: key });
    browser.perform_actions(keys).await.expect("press a key");
}

/// Runs `script` (which returns a value) until it returns `expected`, or fails after 20 s.
async fn wait_for_value(browser: &Client, script: &str, expected: serde_json::Value) {
    let mut last = serde_json::Value::Null;
    for _ in 0..200 {
        last = browser.execute(script, vec![]).await.expect("run a script");
        if last == expected {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("`{script}` gave {last}, not {expected}");
}

/// The actor of the selected row, and whether the focus is on that row's link.
const SELECTED: &str = "const row = document.querySelector('table.events tr.selected'); \
    return row ? [row.querySelector('[data-col=actor]').textContent, \
    row.contains(document.activeElement) && document.activeElement.tagName === 'A'] : null;";

async fn wait_for_url(browser: &Client, expected: &str) {
    wait_for_value(
        browser,
        "return location.pathname + location.search;",
        serde_json::json!(expected),
    )
    .await;
}

fn minutes_ago(minutes: i64) -> String {
    (chrono::Utc::now() - chrono::Duration::minutes(minutes))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// j/k move the selection, Enter opens the event, Esc returns to the same list address, `/`
/// focuses the search (where j is typed, not a shortcut), `?` opens the list of keys and Esc
/// closes it. The event page shows its raw JSON, its links and its place in the chain, and
/// the previous hash opens the previous event.
#[tokio::test]
async fn the_audit_tab_by_keyboard_and_the_event_page_tools() {
    let harness = Harness::start().await;
    let lines: Vec<serde_json::Value> = ["ann", "ben", "cat", "dan"]
        .iter()
        .enumerate()
        .map(|(n, actor)| {
            serde_json::json!({
                "@t": minutes_ago(10 - n as i64), "@mt": "{Actor} signed {Target}",
                "Action": "kb.signed", "Actor": actor, "Target": "contract-7",
            })
        })
        .collect();
    harness.ingest(&lines).await;

    let browser = harness.browser().await;
    browser
        .goto(&harness.url("/login?next=%2Faudit%3Faction%3Dkb.signed"))
        .await
        .expect("open login");
    harness.log_in(&browser, AUDITOR, AUDITOR_PASSWORD).await;
    wait_for_first_row(&browser, "dan").await;
    assert_eq!(wait_for_rows(&browser, 4).await, 4);
    let list = "/audit?action=kb.signed";
    wait_for_url(&browser, list).await;

    // j selects the first row (newest first), j again the second, k back to the first.
    press(&browser, 'j').await;
    wait_for_value(&browser, SELECTED, serde_json::json!(["dan", true])).await;
    press(&browser, 'j').await;
    wait_for_value(&browser, SELECTED, serde_json::json!(["cat", true])).await;
    press(&browser, 'j').await;
    press(&browser, 'k').await;
    wait_for_value(&browser, SELECTED, serde_json::json!(["cat", true])).await;
    harness.screenshot(&browser, "keys-row-selected").await;

    // Enter opens cat's event.
    press(&browser, Key::Enter.into()).await;
    browser
        .wait()
        .for_element(Locator::Css("pre[data-field='raw-json']"))
        .await
        .expect("the event's raw JSON");
    let path = browser.current_url().await.expect("url").path().to_string();
    let id = path
        .strip_prefix("/audit/")
        .expect("an event page")
        .to_string();
    let raw = browser
        .find(Locator::Css("pre[data-field='raw-json']"))
        .await
        .expect("raw JSON")
        .text()
        .await
        .expect("text");
    let parsed: serde_json::Value = serde_json::from_str(&raw).expect("the raw JSON parses");
    assert_eq!(parsed["id"], serde_json::json!(id));
    assert_eq!(parsed["actor"]["id"], serde_json::json!("cat"));
    let sequence: u64 = id.parse().expect("a sequence number");
    let shown_sequence = browser
        .find(Locator::Css("[data-field='sequence']"))
        .await
        .expect("the sequence number")
        .text()
        .await
        .expect("text");
    assert_eq!(shown_sequence, sequence.to_string());
    let link = browser
        .find(Locator::Id("event-link"))
        .await
        .expect("the link field")
        .prop("value")
        .await
        .expect("value")
        .expect("a value");
    assert_eq!(link, harness.url(&format!("/audit/{id}")));
    harness.screenshot(&browser, "keys-event-tools").await;

    // Copy says whether it copied, in a live region.
    browser
        .find(Locator::Css("button[aria-label='Copy raw JSON']"))
        .await
        .expect("the copy button")
        .click()
        .await
        .expect("copy");
    wait_for_value(
        &browser,
        "const s = document.querySelector('.raw-tools .copy-status'); return s.textContent;",
        serde_json::json!("Copied"),
    )
    .await;
    harness.screenshot(&browser, "keys-event-copied").await;

    // Esc goes back to the list as it was (its address), and the list is there.
    press(&browser, Key::Escape.into()).await;
    wait_for_url(&browser, list).await;
    wait_for_first_row(&browser, "dan").await;

    // `/` focuses the search box; there j is typed, not a shortcut; Esc leaves the field.
    press(&browser, '/').await;
    wait_for_value(
        &browser,
        "return document.activeElement.id;",
        serde_json::json!("audit-search"),
    )
    .await;
    press(&browser, 'j').await;
    wait_for_value(
        &browser,
        "return [document.activeElement.value, document.querySelectorAll('tr.selected').length];",
        serde_json::json!(["j", 0]),
    )
    .await;
    press(&browser, Key::Escape.into()).await;
    wait_for_value(
        &browser,
        "return document.activeElement.id;",
        serde_json::json!(""),
    )
    .await;
    wait_for_url(&browser, list).await;

    // `?` opens the list of shortcuts, a modal dialog with the focus inside; Esc closes it.
    press(&browser, '?').await;
    wait_for_value(
        &browser,
        "const d = document.querySelector('dialog.shortcuts'); \
         return [d.open, d.contains(document.activeElement)];",
        serde_json::json!([true, true]),
    )
    .await;
    let keys = browser
        .find_all(Locator::Css("dialog.shortcuts kbd"))
        .await
        .expect("the keys");
    let mut listed = Vec::new();
    for key in keys {
        listed.push(key.text().await.expect("text"));
    }
    assert_eq!(listed, ["/", "j", "k", "Enter", "Esc", "?"]);
    harness.screenshot(&browser, "keys-help-dialog").await;
    press(&browser, Key::Escape.into()).await;
    wait_for_value(
        &browser,
        "return document.querySelector('dialog.shortcuts').open;",
        serde_json::json!(false),
    )
    .await;
    // Closing it changed nothing else: still the same list.
    wait_for_url(&browser, list).await;

    // The previous hash opens the event before this one in the chain.
    browser
        .goto(&harness.url(&format!("/audit/{id}")))
        .await
        .expect("open the event");
    let previous = browser
        .wait()
        .for_element(Locator::Css("a[data-field='previous-hash']"))
        .await
        .expect("the previous-hash link");
    let prev_hash = previous.text().await.expect("text");
    previous.click().await.expect("follow the previous hash");
    wait_for_url(&browser, &format!("/audit/{:016}", sequence - 1)).await;
    wait_for_value(
        &browser,
        "const h = document.querySelector(\"[data-field='hash']\"); return h && h.textContent;",
        serde_json::json!(prev_hash),
    )
    .await;
    harness.screenshot(&browser, "keys-previous-event").await;

    // "This actor, ±1 hour" lists that actor's events around this one.
    browser.back().await.expect("back");
    browser
        .wait()
        .for_element(Locator::LinkText("This actor, ±1 hour"))
        .await
        .expect("the actor link")
        .click()
        .await
        .expect("follow it");
    wait_for_first_row(&browser, "cat").await;
    assert_eq!(wait_for_rows(&browser, 1).await, 1);
    let url = browser.current_url().await.expect("url");
    let query = url.query().unwrap_or("").to_string();
    assert!(
        query.contains("actor=cat") && query.contains("from=") && query.contains("to="),
        "{query}"
    );
    browser.close().await.expect("close the browser");
}

/// Slows (or with `None`, stops slowing) the browser's downloads, through ChromeDriver's
/// network conditions: an export then takes long enough to watch and to cancel.
async fn throttle(harness: &Harness, browser: &Client, bytes_per_second: Option<u64>) {
    let session = browser
        .session_id()
        .await
        .expect("session id")
        .expect("a session");
    let url = format!(
        "{}/session/{session}/chromium/network_conditions",
        harness.driver_url()
    );
    let client = reqwest::Client::new();
    let response = match bytes_per_second {
        Some(rate) => {
            client
                .post(url)
                .json(&serde_json::json!({"network_conditions": {
                    "offline": false, "latency": 0,
                    "download_throughput": rate, "upload_throughput": 1_000_000,
                }}))
                .send()
                .await
        }
        None => client.delete(url).send().await,
    }
    .expect("ChromeDriver answers");
    assert!(response.status().is_success(), "{response:?}");
}

/// An export of 2,000 events says how many it exports, shows its progress as the file
/// arrives, and stops when cancelled; unhindered, it completes and says how many it saved.
#[tokio::test]
async fn an_export_counts_shows_progress_and_can_be_cancelled() {
    let harness = Harness::start().await;
    const EVENTS: usize = 2000;
    let lines: Vec<serde_json::Value> = (0..EVENTS)
        .map(|n| {
            serde_json::json!({
                "@t": minutes_ago(60 - (n / 40) as i64),
                "@mt": "{Actor} exported row {Row}", "Row": n,
                "Action": "bulk.row", "Actor": format!("loader-{}", n % 7), "Target": "sheet",
            })
        })
        .collect();
    harness.ingest(&lines).await;

    let browser = harness.browser().await;
    browser
        .goto(&harness.url("/login?next=%2Faudit%3Faction%3Dbulk.row"))
        .await
        .expect("open login");
    harness.log_in(&browser, AUDITOR, AUDITOR_PASSWORD).await;
    assert_eq!(wait_for_rows(&browser, 100).await, 100);

    // ~600 bytes an event at 20 KB/s: well over a minute for the whole export.
    throttle(&harness, &browser, Some(20_000)).await;
    browser
        .find(Locator::LinkText("Export NDJSON"))
        .await
        .expect("the export link")
        .click()
        .await
        .expect("export");
    let status = "return document.querySelector(\"[data-field='export-status']\").textContent;";
    // Some events have arrived (the bar moved) but not all.
    wait_for_value(
        &browser,
        "const p = document.querySelector('.export progress'); \
         return !!p && p.max === 2000 && p.value > 0 && p.value < 2000;",
        serde_json::json!(true),
    )
    .await;
    let text = browser.execute(status, vec![]).await.expect("status");
    let text = text.as_str().unwrap_or_default();
    assert!(text.starts_with("Exporting 2000 events…"), "{text}");
    harness.screenshot(&browser, "keys-export-progress").await;

    browser
        .find(Locator::Css("button[data-control='cancel-export']"))
        .await
        .expect("the cancel button")
        .click()
        .await
        .expect("cancel");
    wait_for_value(
        &browser,
        "const s = document.querySelector(\"[data-field='export-status']\").textContent; \
         return [s.startsWith('Export cancelled after '), s.endsWith('nothing was saved.'), \
         !!document.querySelector('.export progress'), \
         !!document.querySelector(\"[data-control='cancel-export']\")];",
        serde_json::json!([true, true, false, false]),
    )
    .await;
    harness.screenshot(&browser, "keys-export-cancelled").await;

    // At full speed the same export completes, every event counted.
    throttle(&harness, &browser, None).await;
    browser
        .find(Locator::LinkText("Export CSV"))
        .await
        .expect("the export link")
        .click()
        .await
        .expect("export");
    wait_for_value(&browser, status, serde_json::json!("Exported 2000 events.")).await;
    browser.close().await.expect("close the browser");
}
