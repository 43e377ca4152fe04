use std::net::SocketAddr;
use std::path::PathBuf;

use tempfile::TempDir;
use witness_server::config::ServeConfig;
use witness_server::startup::Application;

/// A running server on a free port with its own data and panel directories.
pub struct TestApp {
    pub address: String,
    pub data_dir: PathBuf,
    pub client: reqwest::Client,
    _dirs: TempDir,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }
}

/// The panel the server serves in these tests: a tiny stand-in for trunk's `dist`, enough to
/// check content types, compression and the client-route fallback.
pub const INDEX_HTML: &str =
    "<!DOCTYPE html><html><head><title>Witness</title></head><body></body></html>";
pub const WASM_BYTES: &[u8] = b"\0asm\x01\0\0\0";

pub async fn spawn_app() -> TestApp {
    let dirs = tempfile::tempdir().expect("temporary directory");
    let data_dir = dirs.path().join("data");
    let panel_dir = dirs.path().join("dist");
    std::fs::create_dir_all(&panel_dir).expect("panel directory");
    std::fs::write(panel_dir.join("index.html"), INDEX_HTML).expect("index.html");
    std::fs::write(panel_dir.join("witness-panel_bg.wasm"), WASM_BYTES).expect("wasm");
    // Large enough that the compression layer bothers with it.
    let script = "console.log('witness panel');\n".repeat(200);
    std::fs::write(panel_dir.join("witness-panel.js"), script).expect("js");

    let config = ServeConfig {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        data_dir: data_dir.clone(),
        panel_dir,
    };
    let app = Application::build(config).await.expect("server builds");
    let address = format!("http://{}", app.local_addr());
    tokio::spawn(app.run_until_stopped());

    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("HTTP client");
    TestApp {
        address,
        data_dir: data_dir.canonicalize().expect("data directory exists"),
        client,
        _dirs: dirs,
    }
}
