//! Starts the real server and a ChromeDriver, and cleans both up.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;
use tempfile::TempDir;

pub const ADMIN_PASSWORD: &str = "e2e-admin-password";
pub const AUDITOR: &str = "audrey";
pub const AUDITOR_PASSWORD: &str = "e2e-auditor-password";

/// Kills the child process when dropped, so a failing test leaves nothing running.
struct ChildGuard(Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub struct Harness {
    base_url: String,
    data_dir: PathBuf,
    driver_url: String,
    _server: ChildGuard,
    _driver: ChildGuard,
    _dirs: TempDir,
}

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn witness_binary() -> PathBuf {
    let path = std::env::var_os("WITNESS_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let target = std::env::var_os("CARGO_TARGET_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| workspace_root().join("target"));
            target.join("debug").join("witness")
        });
    assert!(
        path.is_file(),
        "the witness binary is missing at {}: build it with `cargo build -p witness-server` \
         (make test does)",
        path.display()
    );
    path
}

fn panel_dir() -> PathBuf {
    let dir = std::env::var_os("WITNESS_PANEL_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("dist"));
    assert!(
        dir.join("index.html").is_file(),
        "the built panel is missing at {}: build it with `make panel` (make test does)",
        dir.display()
    );
    dir
}

/// Reads a child's stdout until a line starting with `prefix`, returns the rest of that line,
/// and keeps draining the pipe in the background so the child never blocks on a full pipe or
/// fails writing to a closed one.
fn read_announcement(stdout: ChildStdout, prefix: &str, what: &str) -> String {
    announcement(stdout, prefix)
        .unwrap_or_else(|seen| panic!("{what} exited before announcing `{prefix}…`: {seen:?}"))
}

/// The rest of the line starting with `prefix`, or what the child printed before it exited.
fn announcement(stdout: ChildStdout, prefix: &str) -> Result<String, String> {
    let mut reader = BufReader::new(stdout);
    let mut line = String::new();
    let mut seen = String::new();
    loop {
        line.clear();
        match reader.read_line(&mut line) {
            Ok(0) => return Err(seen),
            Err(error) => return Err(format!("{seen}(reading its output: {error})")),
            Ok(_) => seen.push_str(&line),
        }
        if let Some(rest) = line.trim_end().strip_prefix(prefix) {
            let rest = rest.to_string();
            std::thread::spawn(move || {
                let mut sink = Vec::new();
                let _ = reader.read_to_end(&mut sink);
            });
            return Ok(rest);
        }
    }
}

/// Starts ChromeDriver on a port of its own choosing (port 0) and returns it with that port.
/// A start that fails before ChromeDriver announces its port changed nothing, so it is tried
/// again (twice at most), saying why: on a loaded machine ChromeDriver has exited during
/// start-up once in many runs, before it bound anything.
/// Its temporary files (and Chromium's: `org.chromium.Chromium.scoped_dir.*`, ~100 MB per
/// browser, which outlive a ChromeDriver that is killed rather than asked to quit) go to
/// `temp`, removed with the test's directories: in the system's /tmp they piled up by the
/// gigabyte over runs.
fn start_chromedriver(temp: &Path) -> (ChildGuard, u16) {
    let chromedriver = std::env::var("CHROMEDRIVER").unwrap_or("/usr/bin/chromedriver".into());
    let mut attempt = 1;
    loop {
        let mut driver = Command::new(&chromedriver)
            .arg("--port=0")
            .env("TMPDIR", temp)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|error| panic!("start {chromedriver}: {error}"));
        let stdout = driver.stdout.take().expect("chromedriver stdout");
        let stderr = driver.stderr.take().expect("chromedriver stderr");
        // Drained so that ChromeDriver never blocks on a full pipe; kept only for a failure.
        let errors = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = BufReader::new(stderr).read_to_string(&mut text);
            text
        });
        let mut driver = ChildGuard(driver);
        match announcement(stdout, "ChromeDriver was started successfully on port ") {
            Ok(announced) => {
                let port = announced
                    .trim_end_matches('.')
                    .parse()
                    .unwrap_or_else(|_| panic!("ChromeDriver announced port `{announced}`"));
                return (driver, port);
            }
            Err(seen) => {
                let status = driver.0.wait();
                let errors = errors.join().unwrap_or_default();
                let why = format!("{status:?}; stdout {seen:?}; stderr {errors:?}");
                assert!(
                    attempt < 3,
                    "ChromeDriver exited before announcing its port: {why}"
                );
                eprintln!(
                    "ChromeDriver exited before announcing its port (attempt {attempt}): {why}"
                );
                attempt += 1;
            }
        }
    }
}

/// A fresh Chromium profile directory name per browser in this test binary.
fn next_profile_number() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// Where the end-to-end run leaves its screenshots (named in the README).
pub fn screenshot_dir() -> PathBuf {
    workspace_root().join("target").join("e2e-screenshots")
}

impl Harness {
    pub async fn start() -> Self {
        let dirs = tempfile::tempdir().expect("temporary directory");
        let data_dir = dirs.path().join("data");

        let mut server = Command::new(witness_binary())
            .arg("serve")
            .env("WITNESS_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .args(["--listen", "127.0.0.1:0"])
            .arg("--data-dir")
            .arg(&data_dir)
            .arg("--panel-dir")
            .arg(panel_dir())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the witness server");
        let stdout = server.stdout.take().expect("server stdout");
        let server = ChildGuard(server);
        let base_url = read_announcement(stdout, "Witness is listening on ", "the witness server");

        // An auditor besides the first admin (whom the server made at its first start), added
        // the way an operator would, while the server runs.
        let added = Command::new(witness_binary())
            .args([
                "user",
                "add",
                AUDITOR,
                "--role",
                "auditor",
                "--password",
                AUDITOR_PASSWORD,
            ])
            .arg("--data-dir")
            .arg(&data_dir)
            .env("RUST_LOG", "warn")
            .output()
            .expect("run witness user add");
        assert!(added.status.success(), "witness user add: {added:?}");

        // Port 0: ChromeDriver binds a port of its own choosing and announces it, so no other
        // process (a parallel test's server or driver) can take it in between.
        let temp = dirs.path().join("tmp");
        std::fs::create_dir_all(&temp).expect("a temporary directory for ChromeDriver");
        let (driver, port) = start_chromedriver(&temp);
        let driver_url = format!("http://127.0.0.1:{port}");

        Self {
            base_url,
            data_dir: data_dir
                .canonicalize()
                .expect("the server created its data directory"),
            driver_url,
            _server: server,
            _driver: driver,
            _dirs: dirs,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    /// Creates an ingest key with the CLI and posts these CLEF lines to the server.
    pub async fn ingest(&self, lines: &[serde_json::Value]) {
        let created = Command::new(witness_binary())
            .args([
                "apikey",
                "create",
                "--title",
                "e2e",
                "--permissions",
                "ingest",
            ])
            .arg("--data-dir")
            .arg(&self.data_dir)
            .env("RUST_LOG", "warn")
            .output()
            .expect("run witness apikey create");
        assert!(created.status.success(), "{created:?}");
        let text = String::from_utf8_lossy(&created.stdout).into_owned();
        let token = text
            .lines()
            .find_map(|line| line.split("safely): ").nth(1))
            .expect("the token")
            .trim()
            .to_string();
        let body: String = lines.iter().map(|line| format!("{line}\n")).collect();
        let response = reqwest::Client::new()
            .post(self.url("/ingest/clef"))
            .header("X-Seq-ApiKey", token)
            .body(body)
            .send()
            .await
            .expect("ingest");
        assert_eq!(response.status(), 201);
    }

    /// The ChromeDriver this harness started, for its commands fantoccini has no call for.
    pub fn driver_url(&self) -> &str {
        &self.driver_url
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Runs the `witness` command line on this server's data directory (as an operator on
    /// the host would) and answers its output; fails the test unless it succeeds.
    pub fn witness(&self, args: &[&str]) -> std::process::Output {
        let output = Command::new(witness_binary())
            .args(args)
            .arg("--data-dir")
            .arg(&self.data_dir)
            .env_remove("WITNESS_STORAGE_SECRETKEY")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .output()
            .expect("run witness");
        assert!(output.status.success(), "witness {args:?}: {output:?}");
        output
    }

    /// A fresh headless Chromium with its own profile.
    pub async fn browser(&self) -> Client {
        self.browser_with(false).await
    }

    /// A fresh headless Chromium that prefers a dark colour scheme.
    pub async fn dark_browser(&self) -> Client {
        self.browser_with(true).await
    }

    async fn browser_with(&self, dark: bool) -> Client {
        let profile = self
            ._dirs
            .path()
            .join(format!("chromium-{}", next_profile_number()));
        let chromium = std::env::var("CHROMIUM").unwrap_or("/usr/bin/chromium".into());
        let mut args = vec![
            "--headless".to_string(),
            "--no-sandbox".to_string(),
            "--disable-gpu".to_string(),
            "--disable-quic".to_string(),
            "--disable-dev-shm-usage".to_string(),
            "--disable-background-networking".to_string(),
            "--disable-component-update".to_string(),
            "--disable-sync".to_string(),
            "--no-first-run".to_string(),
            "--window-size=1280,900".to_string(),
            format!("--user-data-dir={}", profile.display()),
        ];
        if dark {
            args.push("--force-dark-mode".to_string());
        }
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".to_string(),
            json!({
                "binary": chromium,
                "args": args,
            }),
        );
        // A new session changes nothing when it fails, so it is safe to ask again: a busy
        // machine can make Chromium miss ChromeDriver's start-up deadline.
        let mut attempt = 1;
        loop {
            match ClientBuilder::new(HttpConnector::new())
                .capabilities(capabilities.clone())
                .connect(&self.driver_url)
                .await
            {
                Ok(client) => return client,
                Err(error) if attempt < 3 => {
                    eprintln!("ChromeDriver could not start Chromium (attempt {attempt}): {error}");
                    attempt += 1;
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                Err(error) => panic!("ChromeDriver starts a headless Chromium: {error}"),
            }
        }
    }

    /// Opens the login page and waits for its form.
    pub async fn open_login(&self, browser: &Client) {
        browser.goto(&self.url("/login")).await.expect("open login");
        browser
            .wait()
            .for_element(Locator::Id("login-username"))
            .await
            .expect("login page");
    }

    /// Logs the auditor in and waits for the first rows of the Audit logs tab.
    pub async fn open_audit_as_auditor(&self, browser: &Client) {
        browser
            .goto(&self.url("/login?next=%2Faudit"))
            .await
            .expect("open login");
        self.log_in(browser, AUDITOR, AUDITOR_PASSWORD).await;
        browser
            .wait()
            .for_element(Locator::Css("table.events tbody tr"))
            .await
            .expect("the audit table");
    }

    /// Fills in and submits the login form (the browser must be on the login page).
    pub async fn log_in(&self, browser: &Client, username: &str, password: &str) {
        let form = browser
            .wait()
            .for_element(Locator::Css("form"))
            .await
            .expect("the login form");
        let user = browser
            .find(Locator::Id("login-username"))
            .await
            .expect("username field");
        user.send_keys(username).await.expect("type username");
        browser
            .find(Locator::Id("login-password"))
            .await
            .expect("password field")
            .send_keys(password)
            .await
            .expect("type password");
        form.find(Locator::Css("button[type='submit']"))
            .await
            .expect("submit button")
            .click()
            .await
            .expect("submit");
    }

    pub async fn screenshot(&self, browser: &Client, name: &str) {
        let png = browser.screenshot().await.expect("screenshot");
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).expect("screenshot directory");
        std::fs::write(dir.join(format!("{name}.png")), png).expect("save screenshot");
    }
}

/// An application's event with every field the panel shows: a role change with old and new
/// values, an IP, an organization and a workspace.
pub fn role_change_event() -> serde_json::Value {
    json!({
        "@t": "2026-11-20T10:00:00Z", "@mt": "{Actor} changed a role",
        "Action": "member.role_changed", "Actor": "alice", "Target": "bob",
        "OldValue": "read", "NewValue": "admin", "ClientIp": "203.0.113.9",
        "OrganizationName": "Acme", "WorkspaceName": "Platform",
    })
}

/// Waits up to 30 s for an element on a page that may still be navigating (a 401 sends the
/// panel to the login page by a full navigation): ChromeDriver answers a lookup made while the
/// document is being replaced with an error that is not "no such element", which fantoccini's
/// `wait()` returns at once, so every error here means "not yet". The last one is reported if
/// the element never comes.
pub async fn wait_across_navigation(
    browser: &Client,
    locator: Locator<'_>,
    what: &str,
) -> fantoccini::elements::Element {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        match browser.find(locator).await {
            Ok(element) => return element,
            Err(error) if std::time::Instant::now() >= deadline => {
                let url = browser.current_url().await.map(|u| u.to_string());
                panic!("{what} never appeared (at {url:?}): {error}");
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}
