//! End-to-end tests: the real `witness` binary serving the release-built panel, driven in
//! headless Chromium through ChromeDriver. `make test` builds both first.
#![cfg(not(target_arch = "wasm32"))]

mod harness;

use fantoccini::Locator;
use harness::{ADMIN_PASSWORD, AUDITOR, AUDITOR_PASSWORD, Harness};

#[tokio::test]
async fn admin_logs_in_and_lands_back_on_diagnostics_with_live_values() {
    let harness = Harness::start().await;
    let browser = harness.browser().await;

    // Not logged in: the page sends us to the login page, which remembers where we were.
    browser
        .goto(&harness.url("/diagnostics"))
        .await
        .expect("open /diagnostics");
    browser
        .wait()
        .for_element(Locator::Id("login-username"))
        .await
        .expect("the login page");
    let url = browser.current_url().await.expect("url");
    assert_eq!(url.path(), "/login");
    assert!(
        url.query().unwrap_or("").contains("next=%2Fdiagnostics"),
        "{url}"
    );
    harness.screenshot(&browser, "login").await;

    harness.log_in(&browser, "admin", ADMIN_PASSWORD).await;
    let version = browser
        .wait()
        .for_element(Locator::Css("[data-field='version']"))
        .await
        .expect("back on the Diagnostics page")
        .text()
        .await
        .expect("version text");
    assert_eq!(version, env!("CARGO_PKG_VERSION"));
    assert_eq!(
        browser.current_url().await.expect("url").path(),
        "/diagnostics"
    );

    let data_dir = browser
        .find(Locator::Css("[data-field='data_dir']"))
        .await
        .expect("the data directory")
        .text()
        .await
        .expect("text");
    assert_eq!(data_dir, harness.data_dir().display().to_string());
    let auditing = browser
        .find(Locator::Css("[data-field='auditing']"))
        .await
        .expect("the auditing status")
        .text()
        .await
        .expect("text");
    assert!(
        auditing.contains("Auditing is enabled") && auditing.contains("local"),
        "{auditing}"
    );

    let current = browser
        .wait()
        .for_element(Locator::Css("nav a[aria-current='page']"))
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
async fn auditors_see_only_the_audit_logs_in_the_navigation() {
    let harness = Harness::start().await;
    let browser = harness.browser().await;
    browser
        .goto(&harness.url("/login"))
        .await
        .expect("open /login");
    harness.log_in(&browser, AUDITOR, AUDITOR_PASSWORD).await;

    let whoami = browser
        .wait()
        .for_element(Locator::Css("[data-field='whoami']"))
        .await
        .expect("who is logged in")
        .text()
        .await
        .expect("text");
    assert_eq!(whoami, "audrey (auditor)");
    let heading = browser
        .find(Locator::Css("main h1"))
        .await
        .expect("a page heading")
        .text()
        .await
        .expect("text");
    assert_eq!(heading, "Audit logs");
    assert_eq!(browser.current_url().await.expect("url").path(), "/audit");
    let links: Vec<String> = {
        let mut texts = Vec::new();
        for link in browser
            .find_all(Locator::Css("nav a"))
            .await
            .expect("links")
        {
            texts.push(link.text().await.expect("text"));
        }
        texts
    };
    assert_eq!(links, vec!["Audit logs".to_string()]);
    harness.screenshot(&browser, "audit").await;
    browser.close().await.expect("close the browser");
}

#[tokio::test]
async fn a_wrong_password_shows_a_message_and_stays_on_the_login_page() {
    let harness = Harness::start().await;
    let browser = harness.browser().await;
    browser
        .goto(&harness.url("/login"))
        .await
        .expect("open /login");
    harness.log_in(&browser, "admin", "not the password").await;
    let alert = browser
        .wait()
        .for_element(Locator::Css("[role='alert']"))
        .await
        .expect("an error message")
        .text()
        .await
        .expect("text");
    assert_eq!(alert, "Invalid username or password.");
    assert_eq!(browser.current_url().await.expect("url").path(), "/login");
    browser.close().await.expect("close the browser");
}
