//! The `witness` command line, run as a real process.

use crate::helpers::{clef_line, test_database_url, witness_command};

/// `witness` on the store in `data_dir`, or on PostgreSQL in the database at `database_url`.
fn witness(
    data_dir: &std::path::Path,
    database_url: Option<&str>,
    args: &[&str],
) -> std::process::Output {
    witness_command(data_dir, database_url)
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run witness")
}

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apikey_create_list_revoke() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let database = test_database_url().await;
    let witness = |args: &[&str]| witness(dir.path(), database.as_deref(), args);
    let created = witness(&[
        "apikey",
        "create",
        "--title",
        "billing app",
        "--permissions",
        "ingest,read",
    ]);
    assert!(created.status.success(), "{created:?}");
    let text = stdout(&created);
    let token = text
        .lines()
        .find_map(|line| line.split("safely): ").nth(1))
        .expect("the token is printed once")
        .trim()
        .to_string();
    let id = text
        .split_whitespace()
        .find(|word| word.starts_with("key-"))
        .expect("the key id is printed")
        .to_string();

    let listed = stdout(&witness(&["apikey", "list"]));
    assert!(
        listed.contains(&id) && listed.contains("billing app"),
        "{listed}"
    );
    assert!(
        listed.contains("ingest,read") && listed.contains("active"),
        "{listed}"
    );
    assert!(!listed.contains(&token), "list never shows tokens");

    let revoked = witness(&["apikey", "revoke", &id]);
    assert!(revoked.status.success(), "{revoked:?}");
    assert!(stdout(&witness(&["apikey", "list"])).contains("revoked"));

    let missing = witness(&["apikey", "revoke", "key-nope"]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("key-nope"));

    let bad = witness(&["apikey", "create", "--title", "x", "--permissions", "admin"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("admin"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_command_reports_the_head_and_names_a_break() {
    let app = crate::helpers::spawn_app_auditing_to_a_file().await;
    let audit_to_file = |args: &[&str]| {
        app.witness_command()
            .args(args)
            .env(
                "WITNESS_AUDIT_TARGETS",
                format!("file:{}", app.data_dir.with_file_name("audit").display()),
            )
            .env("RUST_LOG", "warn")
            .output()
            .expect("run witness")
    };
    let key = app.ingest_key().await;
    let body: String = (0..5)
        .map(|i| {
            clef_line(
                "2026-11-20T10:00:00Z",
                "cli.test",
                &format!("u{i}"),
                "t",
                "success",
            ) + "\n"
        })
        .collect();
    assert_eq!(app.post_clef(&key, body).await.status(), 201);

    // The verify runs are audited into the file target only, so the chain holds the 5 events.
    let ok = audit_to_file(&["verify", "--full"]);
    assert!(ok.status.success(), "{ok:?}");
    let text = stdout(&ok);
    assert!(
        text.contains("Verified 5 events") && text.contains("0000000000000005"),
        "{text}"
    );

    app.tamper_event(2, "action", "forged").await;
    let broken = audit_to_file(&["verify", "--full"]);
    assert!(!broken.status.success());
    let error = String::from_utf8_lossy(&broken.stderr);
    assert!(error.contains("0000000000000002"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_add_set_password_and_set_role() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let database = test_database_url().await;
    let witness = |args: &[&str]| witness(dir.path(), database.as_deref(), args);
    let added = witness(&[
        "user",
        "add",
        "frank",
        "--role",
        "auditor",
        "--password",
        "frank-password-1",
    ]);
    assert!(added.status.success(), "{added:?}");
    assert!(stdout(&added).contains("auditor `frank`"));
    let short = witness(&["user", "add", "gina", "--password", "short"]);
    assert!(!short.status.success());
    assert!(String::from_utf8_lossy(&short.stderr).contains("at least 10"));
    let duplicate = witness(&["user", "add", "frank", "--password", "frank-password-2"]);
    assert!(!duplicate.status.success());
    let promoted = witness(&["user", "set-role", "frank", "admin"]);
    assert!(promoted.status.success(), "{promoted:?}");
    let bad_role = witness(&["user", "set-role", "frank", "root"]);
    assert!(!bad_role.status.success());
    let demoted = witness(&["user", "set-role", "frank", "auditor"]);
    assert!(
        !demoted.status.success(),
        "the last admin cannot be demoted"
    );
    let changed = witness(&[
        "user",
        "set-password",
        "frank",
        "--password",
        "frank-password-3",
    ]);
    assert!(changed.status.success(), "{changed:?}");
    let missing = witness(&[
        "user",
        "set-password",
        "nobody",
        "--password",
        "whatever-123",
    ]);
    assert!(!missing.status.success());
}
