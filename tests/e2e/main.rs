//! End-to-end tests: the real `witness` binary serving the release-built panel, driven in
//! headless Chromium through ChromeDriver. `make test` builds both first.
#![cfg(not(target_arch = "wasm32"))]

mod harness;

use fantoccini::Locator;
use harness::Harness;

#[tokio::test]
async fn diagnostics_page_shows_the_servers_live_values() {
    let harness = Harness::start().await;
    let browser = harness.browser().await;

    browser
        .goto(&harness.url("/diagnostics"))
        .await
        .expect("open /diagnostics");
    let version = browser
        .wait()
        .for_element(Locator::Css("[data-field='version']"))
        .await
        .expect("the Diagnostics page shows the version")
        .text()
        .await
        .expect("version text");
    assert_eq!(version, env!("CARGO_PKG_VERSION"));

    let data_dir = browser
        .find(Locator::Css("[data-field='data_dir']"))
        .await
        .expect("the Diagnostics page shows the data directory")
        .text()
        .await
        .expect("data directory text");
    assert_eq!(data_dir, harness.data_dir().display().to_string());

    // The navigation marks where we are.
    let current = browser
        .find(Locator::Css("nav a[aria-current='page']"))
        .await
        .expect("a current navigation link")
        .text()
        .await
        .expect("link text");
    assert_eq!(current, "Diagnostics");

    harness.screenshot(&browser, "diagnostics").await;
    browser.close().await.expect("close the browser");
}

#[tokio::test]
async fn client_routes_load_the_panel_and_root_redirects_to_audit_logs() {
    let harness = Harness::start().await;
    let browser = harness.browser().await;

    browser.goto(&harness.url("/")).await.expect("open /");
    let heading = browser
        .wait()
        .for_element(Locator::Css("main h1"))
        .await
        .expect("a page heading")
        .text()
        .await
        .expect("heading text");
    assert_eq!(heading, "Audit logs");
    assert!(
        browser.current_url().await.expect("url").path() == "/audit",
        "/ redirects to /audit"
    );

    // Navigating through the menu, client side.
    browser
        .find(Locator::LinkText("Settings"))
        .await
        .expect("Settings link")
        .click()
        .await
        .expect("click Settings");
    let heading = browser
        .wait()
        .for_element(Locator::XPath("//main//h1[text()='Settings']"))
        .await
        .expect("the Settings page");
    assert_eq!(heading.text().await.expect("text"), "Settings");
    browser.close().await.expect("close the browser");
}
