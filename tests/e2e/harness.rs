//! Starts the real server and a ChromeDriver, and cleans both up.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

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

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
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
        let base_url = BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .find_map(|line| {
                line.strip_prefix("Witness is listening on ")
                    .map(str::to_string)
            })
            .expect("the server prints the address it listens on");

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

        let chromedriver = std::env::var("CHROMEDRIVER").unwrap_or("/usr/bin/chromedriver".into());
        let port = free_port();
        let driver = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| panic!("start {chromedriver}: {error}"));
        let driver = ChildGuard(driver);
        let driver_url = format!("http://127.0.0.1:{port}");
        wait_for_port(port).await;

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

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
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
        let profile = self._dirs.path().join(format!("chromium-{}", free_port()));
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
        ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&self.driver_url)
            .await
            .expect("ChromeDriver starts a headless Chromium")
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

async fn wait_for_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(
            Instant::now() < deadline,
            "ChromeDriver did not listen on port {port} within 20 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
