//! The Audit logs tab's filters (issue 15 part 2): Witness's own activity kept apart from
//! applications' events, "only this" / "exclude this" on the table's values, relative times
//! with the exact instant, and the time zone in the URL.

use chrono::{Duration, SecondsFormat, Utc};
use fantoccini::{Client, Locator};

use crate::harness::Harness;

/// The Enter and Tab keys as WebDriver types them.
const ENTER: &str = "\u{E007}";
const TAB: &str = "\u{E004}";

fn event(minutes_ago: i64, actor: &str, action: &str) -> serde_json::Value {
    let at = Utc::now() - Duration::minutes(minutes_ago);
    serde_json::json!({
        "@t": at.to_rfc3339_opts(SecondsFormat::Secs, true),
        "@mt": "{Actor} did {Action}",
        "Action": action, "Actor": actor, "Target": "handbook", "ClientIp": "203.0.113.9",
    })
}

/// The text of every cell of column `col`, once the table shows exactly `expected` rows
/// whose cells satisfy `check` (or after 20 s: the assertion then shows what was there).
async fn column_when(
    browser: &Client,
    col: &str,
    check: impl Fn(&[String]) -> bool,
) -> Vec<String> {
    let mut texts = Vec::new();
    for _ in 0..200 {
        texts.clear();
        if let Ok(cells) = browser
            .find_all(Locator::Css(&format!(
                "table.events tbody td[data-col='{col}']"
            )))
            .await
        {
            for cell in cells {
                texts.push(cell.text().await.unwrap_or_default());
            }
        }
        if check(&texts) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    texts
}

async fn chip(browser: &Client, label: &str) {
    browser
        .wait()
        .for_element(Locator::XPath(&format!(
            "//li[contains(@class,'chip')]/span[text()='{label}']"
        )))
        .await
        .unwrap_or_else(|_| panic!("the chip {label}"));
}

async fn query(browser: &Client) -> String {
    let url = browser.current_url().await.expect("url");
    url.query().unwrap_or("").to_string()
}

#[tokio::test]
async fn a_search_leaves_no_witness_row_in_the_default_view_and_the_toggle_shows_them() {
    let harness = Harness::start().await;
    harness
        .ingest(&[
            event(9, "alice", "doc.viewed"),
            event(8, "bob", "doc.edited"),
            event(7, "alice", "doc.shared"),
        ])
        .await;
    let browser = harness.browser().await;
    harness.open_audit_as_auditor(&browser).await;
    // Searches: each is recorded by Witness as `witness.audit.query`.
    crate::search(&browser, "actor:alice").await;
    chip(&browser, "actor: alice").await;
    browser
        .find(Locator::Css(
            "button[aria-label='Remove filter actor: alice']",
        ))
        .await
        .expect("the chip's remove button")
        .click()
        .await
        .expect("remove the chip");
    let actions = column_when(&browser, "action", |a| a.len() == 3).await;
    assert_eq!(actions, ["doc.shared", "doc.edited", "doc.viewed"]);
    assert_eq!(
        query(&browser).await,
        "",
        "the default view has no parameter"
    );
    let pressed = browser
        .find(Locator::Css(".activity button[aria-pressed='true']"))
        .await
        .expect("the pressed choice")
        .text()
        .await
        .expect("text");
    assert_eq!(pressed, "Applications");
    harness
        .screenshot(&browser, "audit-applications-only")
        .await;

    // Witness's own activity is one keyboard press away, and in the URL.
    browser
        .find(Locator::Css("button[data-activity='witness']"))
        .await
        .expect("the Witness activity toggle")
        .send_keys(ENTER)
        .await
        .expect("press it");
    let own = column_when(&browser, "action", |a| {
        !a.is_empty() && a.iter().all(|action| action.starts_with("witness."))
    })
    .await;
    assert!(
        own.iter().any(|a| a == "witness.audit.query"),
        "the searches are there: {own:?}"
    );
    assert!(own.iter().all(|a| a.starts_with("witness.")), "{own:?}");
    assert_eq!(query(&browser).await, "activity=witness");
    harness.screenshot(&browser, "audit-witness-activity").await;

    // Reloaded, the choice holds; "All" shows both.
    browser.refresh().await.expect("reload");
    column_when(&browser, "action", |a| {
        !a.is_empty() && a.iter().all(|action| action.starts_with("witness."))
    })
    .await;
    browser
        .find(Locator::Css("button[data-activity='all']"))
        .await
        .expect("the All toggle")
        .click()
        .await
        .expect("click it");
    let all = column_when(&browser, "action", |a| {
        a.iter().any(|action| action.starts_with("witness.")) && a.iter().any(|x| x == "doc.viewed")
    })
    .await;
    assert!(all.iter().any(|a| a == "doc.viewed"), "{all:?}");
    assert!(all.iter().any(|a| a.starts_with("witness.")), "{all:?}");
    browser.close().await.expect("close the browser");
}

#[tokio::test]
async fn exclude_this_on_an_actor_removes_their_rows_and_adds_a_chip() {
    let harness = Harness::start().await;
    harness
        .ingest(&[
            event(9, "alice", "doc.viewed"),
            event(8, "bob", "doc.edited"),
            event(7, "alice", "doc.shared"),
            event(6, "carol", "doc.viewed"),
        ])
        .await;
    let browser = harness.browser().await;
    harness.open_audit_as_auditor(&browser).await;
    let actors = column_when(&browser, "actor", |a| a.len() == 4).await;
    assert_eq!(actors, ["carol", "alice", "bob", "alice"]);

    // From the newest alice row's time link, Tab reaches "only" then "exclude" on her name.
    browser
        .execute(
            "document.querySelector('table.events tbody tr:nth-child(2) td.time a').focus()",
            vec![],
        )
        .await
        .expect("focus the time link");
    let label_of_focused = || async {
        browser
            .execute(
                "return document.activeElement.getAttribute('aria-label')",
                vec![],
            )
            .await
            .expect("the focused element")
    };
    browser
        .active_element()
        .await
        .expect("focused")
        .send_keys(TAB)
        .await
        .expect("tab");
    assert_eq!(label_of_focused().await, "Only actor alice");
    browser
        .active_element()
        .await
        .expect("focused")
        .send_keys(TAB)
        .await
        .expect("tab");
    assert_eq!(label_of_focused().await, "Exclude actor alice");
    let shown = browser
        .execute(
            "return getComputedStyle(document.activeElement.parentElement).opacity",
            vec![],
        )
        .await
        .expect("opacity");
    assert_eq!(shown, "1", "the controls show while focused");
    harness
        .screenshot(&browser, "audit-cell-filter-focused")
        .await;
    browser
        .active_element()
        .await
        .expect("focused")
        .send_keys(ENTER)
        .await
        .expect("exclude alice");
    chip(&browser, "actor ≠ alice").await;
    let actors = column_when(&browser, "actor", |a| a.len() == 2).await;
    assert_eq!(actors, ["carol", "bob"]);
    assert_eq!(query(&browser).await, "actor=%21alice");
    harness.screenshot(&browser, "audit-excluded-actor").await;

    // "Only this" on bob: his rows, with both chips.
    browser
        .find(Locator::Css("button[aria-label='Only actor bob']"))
        .await
        .expect("only bob")
        .send_keys(ENTER)
        .await
        .expect("only bob");
    chip(&browser, "actor: bob").await;
    let actors = column_when(&browser, "actor", |a| a.len() == 1).await;
    assert_eq!(actors, ["bob"]);
    chip(&browser, "actor ≠ alice").await;
    harness.screenshot(&browser, "audit-only-actor").await;

    // Exclude an IP (a single-value field until now): no rows left, one more chip.
    browser
        .find(Locator::Css("button[aria-label='Exclude IP 203.0.113.9']"))
        .await
        .expect("exclude the IP")
        .send_keys(ENTER)
        .await
        .expect("exclude the IP");
    chip(&browser, "ip ≠ 203.0.113.9").await;
    browser
        .wait()
        .for_element(Locator::Css("p.empty"))
        .await
        .expect("the empty state");
    browser.close().await.expect("close the browser");
}

#[tokio::test]
async fn times_are_relative_with_the_exact_instant_in_the_zone_of_the_url() {
    let harness = Harness::start().await;
    let at = Utc::now() - Duration::minutes(5);
    let at = at.with_nanosecond_zero();
    harness
        .ingest(&[serde_json::json!({
            "@t": at.to_rfc3339_opts(SecondsFormat::Secs, true),
            "@mt": "{Actor} did {Action}", "Action": "doc.viewed", "Actor": "alice",
        })])
        .await;
    let browser = harness.browser().await;
    harness.open_audit_as_auditor(&browser).await;
    let header = || async {
        browser
            .find(Locator::Css("table.events thead th"))
            .await
            .expect("the time header")
            .text()
            .await
            .expect("text")
    };
    let time = browser
        .wait()
        .for_element(Locator::Css("table.events tbody td.time time"))
        .await
        .expect("the time");
    let utc = at.to_rfc3339_opts(SecondsFormat::AutoSi, true);
    assert_eq!(
        time.attr("datetime").await.expect("attr").as_deref(),
        Some(utc.as_str())
    );
    assert_eq!(
        time.attr("title").await.expect("attr").as_deref(),
        Some(utc.as_str())
    );
    let shown = time.text().await.expect("text");
    assert!(
        shown == "5 min ago" || shown == "6 min ago",
        "a relative time: {shown}"
    );
    assert_eq!(header().await, "Time (UTC)");
    let link = browser
        .find(Locator::Css("table.events tbody td.time a"))
        .await
        .expect("the link");
    let name = link
        .attr("aria-label")
        .await
        .expect("attr")
        .unwrap_or_default();
    assert!(name.contains(&utc) && name.contains("min ago"), "{name}");
    // On focus the exact instant shows next to the relative time.
    browser
        .execute(
            "document.querySelector('table.events tbody td.time a').focus()",
            vec![],
        )
        .await
        .expect("focus");
    harness
        .screenshot(&browser, "audit-relative-time-focused")
        .await;

    // A named zone, chosen in the toolbar: in the URL, the header and the exact times.
    let zone = browser
        .find(Locator::Id("audit-tz"))
        .await
        .expect("zone field");
    zone.clear().await.expect("clear");
    zone.send_keys("Asia/Tokyo").await.expect("type");
    zone.send_keys(ENTER).await.expect("submit");
    let tokyo = (at + Duration::hours(9))
        .naive_utc()
        .format("%Y-%m-%dT%H:%M:%S+09:00")
        .to_string();
    browser
        .wait()
        .for_element(Locator::Css(&format!("td.time time[title='{tokyo}']")))
        .await
        .expect("the time in Tokyo");
    assert_eq!(header().await, "Time (Asia/Tokyo)");
    assert_eq!(query(&browser).await, "tz=Asia%2FTokyo");
    harness.screenshot(&browser, "audit-zone-tokyo").await;

    // The zone stays when the filter changes.
    crate::search(&browser, "actor:alice").await;
    chip(&browser, "actor: alice").await;
    assert_eq!(query(&browser).await, "actor=alice&tz=Asia%2FTokyo");

    // An unknown zone: said so, and times in UTC.
    browser
        .goto(&harness.url("/audit?tz=Mars%2FOlympus"))
        .await
        .expect("open");
    let alert = browser
        .wait()
        .for_element(Locator::Css("p.error[role='alert']"))
        .await
        .expect("the message")
        .text()
        .await
        .expect("text");
    assert!(
        alert.contains("Mars/Olympus") && alert.contains("UTC"),
        "{alert}"
    );
    browser
        .wait()
        .for_element(Locator::Css(&format!("td.time time[title='{utc}']")))
        .await
        .expect("the time in UTC");
    assert_eq!(header().await, "Time (UTC)");
    harness.screenshot(&browser, "audit-zone-unknown").await;
    browser.close().await.expect("close the browser");
}

trait WholeSeconds {
    fn with_nanosecond_zero(self) -> Self;
}

impl WholeSeconds for chrono::DateTime<Utc> {
    fn with_nanosecond_zero(self) -> Self {
        use chrono::Timelike;
        self.with_nanosecond(0).unwrap_or(self)
    }
}
