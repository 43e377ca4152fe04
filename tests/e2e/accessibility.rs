//! Accessibility, measured: axe-core runs on every page of the panel, in light and in dark
//! mode, and finds no serious or critical violation.

use std::path::PathBuf;

use fantoccini::{Client, Locator};

use crate::harness::{ADMIN_PASSWORD, Harness, role_change_event};

/// axe-core's own bundle, installed by `scripts/toolchain.sh --browser` (`make test` runs it).
fn axe_source() -> String {
    let tools = std::env::var_os("WITNESS_TOOLS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                .join(".local/share/witness-tools")
        });
    let path = tools.join("axe/node_modules/axe-core/axe.min.js");
    std::fs::read_to_string(&path).unwrap_or_else(|error| {
        panic!(
            "axe-core is missing at {} ({error}): install it with \
             `bash scripts/toolchain.sh --browser` (make test does)",
            path.display()
        )
    })
}

/// Runs axe-core on the page as it is now; returns one line per serious or critical violation
/// (rule, what it asks for, and the elements that break it).
async fn serious_violations(browser: &Client, axe: &str) -> Vec<String> {
    let present = browser
        .execute("return typeof window.axe !== 'undefined';", vec![])
        .await
        .expect("look for axe");
    if present != serde_json::Value::Bool(true) {
        browser.execute(axe, vec![]).await.expect("inject axe-core");
    }
    let result = browser
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, { resultTypes: ['violations'] })
               .then(r => done(r.violations.map(v => ({
                   id: v.id, impact: v.impact, help: v.help,
                   nodes: v.nodes.map(n => n.target.join(' ') + ' — ' + n.failureSummary),
               }))))
               .catch(e => done([{ id: 'axe-error', impact: 'critical', help: String(e), nodes: [] }]));",
            vec![],
        )
        .await
        .expect("run axe-core");
    let violations = result.as_array().cloned().unwrap_or_default();
    violations
        .iter()
        .filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")))
        .map(|v| {
            let nodes: Vec<String> = v["nodes"]
                .as_array()
                .map(|nodes| {
                    nodes
                        .iter()
                        .take(5)
                        .map(|n| n.as_str().unwrap_or_default().replace('\n', " "))
                        .collect()
                })
                .unwrap_or_default();
            format!(
                "{} ({}): {}\n      {}",
                v["id"].as_str().unwrap_or("?"),
                v["impact"].as_str().unwrap_or("?"),
                v["help"].as_str().unwrap_or("?"),
                nodes.join("\n      ")
            )
        })
        .collect()
}

async fn prefers_dark(browser: &Client) -> bool {
    browser
        .execute(
            "return window.matchMedia('(prefers-color-scheme: dark)').matches;",
            vec![],
        )
        .await
        .expect("read the colour scheme")
        == serde_json::Value::Bool(true)
}

/// Waits until the page has its heading and has finished loading (no "Loading…" left), so
/// that axe sees what a user sees.
async fn settle(browser: &Client) {
    browser
        .wait()
        .for_element(Locator::Css("main h1"))
        .await
        .expect("a heading");
    for _ in 0..100 {
        let busy = browser
            .execute(
                "return document.querySelector('[aria-busy=\"true\"], .loading') !== null;",
                vec![],
            )
            .await
            .expect("look for loading");
        if busy == serde_json::Value::Bool(false) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the page never finished loading");
}

#[tokio::test]
async fn every_page_has_no_serious_accessibility_violation_in_light_and_dark() {
    let harness = Harness::start().await;
    harness.ingest(&[role_change_event()]).await;
    let axe = axe_source();
    let mut report = Vec::new();
    for (scheme, browser) in [
        ("light", harness.browser().await),
        ("dark", harness.dark_browser().await),
    ] {
        harness.open_login(&browser).await;
        assert_eq!(
            prefers_dark(&browser).await,
            scheme == "dark",
            "the browser prefers the {scheme} scheme"
        );
        for violation in serious_violations(&browser, &axe).await {
            report.push(format!("[{scheme}] /login: {violation}"));
        }
        // The login page again, saying the password was wrong.
        harness.log_in(&browser, "admin", "not-the-password").await;
        browser
            .wait()
            .for_element(Locator::Css("[role='alert']"))
            .await
            .expect("the login error");
        for violation in serious_violations(&browser, &axe).await {
            report.push(format!("[{scheme}] /login (wrong password): {violation}"));
        }
        harness.open_login(&browser).await;
        harness.log_in(&browser, "admin", ADMIN_PASSWORD).await;
        browser
            .wait()
            .for_element(Locator::Css("table.events"))
            .await
            .expect("audit page");
        let mut pages: Vec<String> = [
            "/audit",
            "/audit?action=member.role_changed&q=nothing-matches-this",
            "/audit?from=not-a-time",
            "/settings",
            "/backups",
            "/diagnostics",
            "/apikeys",
            "/users",
            "/account",
            "/no-such-page",
        ]
        .iter()
        .map(|p| p.to_string())
        .collect();
        // The event page of the ingested event, found as a user would.
        browser
            .goto(&harness.url("/audit?action=member.role_changed"))
            .await
            .expect("open the filtered list");
        let href = browser
            .wait()
            .for_element(Locator::Css("table.events tbody tr td.time a"))
            .await
            .expect("the event's row")
            .attr("href")
            .await
            .expect("its link")
            .expect("an href");
        pages.push(href);
        for page in &pages {
            browser.goto(&harness.url(page)).await.expect("open page");
            settle(&browser).await;
            for violation in serious_violations(&browser, &axe).await {
                report.push(format!("[{scheme}] {page}: {violation}"));
            }
        }
        // The Audit logs tab with a row selected by keyboard (`j`) and the list of
        // shortcuts open (a modal dialog).
        browser
            .goto(&harness.url("/audit?activity=all"))
            .await
            .expect("open the audit logs");
        settle(&browser).await;
        browser
            .wait()
            .for_element(Locator::Css("table.events tbody tr"))
            .await
            .expect("rows");
        crate::keyboard_event::press(&browser, 'j').await;
        browser
            .wait()
            .for_element(Locator::Css("table.events tbody tr.selected"))
            .await
            .expect("a selected row");
        for violation in serious_violations(&browser, &axe).await {
            report.push(format!("[{scheme}] /audit (row selected): {violation}"));
        }
        crate::keyboard_event::press(&browser, '?').await;
        browser
            .wait()
            .for_element(Locator::Css("dialog.shortcuts[open]"))
            .await
            .expect("the shortcuts dialog");
        for violation in serious_violations(&browser, &axe).await {
            report.push(format!("[{scheme}] /audit (shortcuts dialog): {violation}"));
        }
        browser.close().await.expect("close the browser");
    }
    assert!(
        report.is_empty(),
        "axe-core found {} serious or critical violation(s):\n{}",
        report.len(),
        report.join("\n")
    );
}
