//! Saved views on the Audit logs tab: a user names the filters shown, finds the view again
//! after logging out and in, opens it, and gets it back from a backup after deleting it.

use fantoccini::{Client, Locator, key::Key};

use crate::harness::Harness;

const NAME: &str = "Alice's member changes";

/// The XPath of a saved view's link in the list. The name has an apostrophe: the XPath
/// string literal is in double quotes.
fn view_link(name: &str) -> String {
    format!("//section[@class='saved-views']//ul[@class='views']/li/a[text()=\"{name}\"]")
}

/// Waits for the table to show `expected` rows (the tab's own helper, in main.rs).
async fn wait_for_rows(browser: &Client, expected: usize) {
    assert_eq!(crate::wait_for_rows(browser, expected).await, expected);
}

/// From the login page (after a logout or a restore ended the session): logs in, opens the
/// saved view from the list and answers the query string of the address it shows.
async fn log_in_again_and_open_the_view(
    harness: &Harness,
    browser: &Client,
    what: &str,
) -> Option<String> {
    crate::harness::wait_across_navigation(
        browser,
        Locator::Id("login-username"),
        &format!("the login page {what}"),
    )
    .await;
    harness.open_audit_as_auditor(browser).await;
    browser
        .wait()
        .for_element(Locator::XPath(&view_link(NAME)))
        .await
        .unwrap_or_else(|_| panic!("the view {what}"))
        .click()
        .await
        .expect("open the view");
    wait_for_rows(browser, 2).await;
    let url = browser.current_url().await.expect("url");
    assert_eq!(url.path(), "/audit");
    url.query().map(str::to_string)
}

async fn empty_state(browser: &Client) {
    let empty = browser
        .wait()
        .for_element(Locator::Css(".saved-views [data-field='no-views']"))
        .await
        .expect("the empty state");
    assert_eq!(empty.text().await.expect("text"), "No saved views yet");
}

/// Types a name into the save form and presses Enter (the keyboard's way to save).
async fn save_view(browser: &Client, name: &str) {
    let input = browser
        .find(Locator::Id("view-name"))
        .await
        .expect("the view name field");
    input.clear().await.expect("clear");
    input
        .send_keys(&format!("{name}{}", char::from(Key::Enter)))
        .await
        .expect("type the name and Enter");
}

#[tokio::test]
async fn a_saved_view_survives_logout_and_a_restore_from_backup() {
    let harness = Harness::start().await;
    let event = |minute: u32, actor: &str, action: &str| {
        serde_json::json!({
            "@t": format!("2026-11-20T10:{minute:02}:00Z"),
            "@mt": "{Actor} did {Action}",
            "Action": action, "Actor": actor, "Target": "acme",
        })
    };
    harness
        .ingest(&[
            event(1, "alice", "member.added"),
            event(2, "alice", "member.removed"),
            event(3, "bob", "member.added"),
            event(4, "alice", "repo.created"),
        ])
        .await;
    let browser = harness.browser().await;
    harness.open_audit_as_auditor(&browser).await;
    empty_state(&browser).await;
    harness.screenshot(&browser, "saved-views-empty").await;

    // Filter, then name the filters.
    crate::search(&browser, "actor:alice action:member.*").await;
    wait_for_rows(&browser, 2).await;
    let filtered = browser.current_url().await.expect("url");

    // A blank name is refused with the server's words, and nothing is saved.
    save_view(&browser, "   ").await;
    let error = browser
        .wait()
        .for_element(Locator::XPath(
            "//p[@id='view-name-error'][normalize-space(.) != '']",
        ))
        .await
        .expect("the name's error");
    assert_eq!(error.text().await.expect("text"), "Name is required.");
    harness.screenshot(&browser, "saved-views-bad-name").await;
    empty_state(&browser).await;

    save_view(&browser, NAME).await;
    let link = browser
        .wait()
        .for_element(Locator::XPath(&view_link(NAME)))
        .await
        .expect("the new view in the list");
    assert_eq!(
        link.attr("aria-current").await.expect("attr").as_deref(),
        Some("true"),
        "it is the view shown"
    );
    assert_eq!(
        browser
            .find(Locator::Id("view-name"))
            .await
            .expect("field")
            .prop("value")
            .await
            .expect("value")
            .as_deref(),
        Some(""),
        "the form is cleared"
    );
    harness.screenshot(&browser, "saved-views-saved").await;

    // The same name again: the server's conflict message.
    save_view(&browser, NAME).await;
    let conflict = browser
        .wait()
        .for_element(Locator::Css(".saved-views .error[role='alert']"))
        .await
        .expect("the conflict message");
    let text = conflict.text().await.expect("text");
    assert!(text.contains("already have a view named"), "{text}");

    // Log out, log in on the unfiltered tab: the view is there and opens the filters.
    browser
        .find(Locator::XPath("//button[text()='Log out']"))
        .await
        .expect("log out button")
        .click()
        .await
        .expect("log out");
    let opened = log_in_again_and_open_the_view(&harness, &browser, "after logging in again").await;
    assert_eq!(opened.as_deref(), filtered.query(), "the same filters");
    // The rows are drawn, so are the chips (they come from the same address).
    let mut chips = Vec::new();
    for chip in browser
        .find_all(Locator::Css("ul.chips li.chip > span"))
        .await
        .expect("the chips")
    {
        chips.push(chip.text().await.expect("chip text"));
    }
    chips.sort();
    assert_eq!(chips, ["action: member.*", "actor: alice"]);
    harness.screenshot(&browser, "saved-views-opened").await;

    // Back up, delete the view, restore: it is back.
    harness.witness(&["backup"]);
    browser
        .find(Locator::Css(&format!(
            ".saved-views button[aria-label=\"Delete view {NAME}\"]"
        )))
        .await
        .expect("the delete button")
        .click()
        .await
        .expect("delete");
    empty_state(&browser).await;
    let output = harness.witness(&["restore", "-y", "--from-latest"]);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("1 saved views"), "{text}");
    // The restore ended every session: the tab sends us to log in again.
    browser.refresh().await.expect("reload");
    let restored = log_in_again_and_open_the_view(&harness, &browser, "after the restore").await;
    assert_eq!(restored.as_deref(), filtered.query());
    harness.screenshot(&browser, "saved-views-restored").await;
    browser.close().await.expect("close the browser");
}
