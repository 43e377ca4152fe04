//! Building the application: the router that tests drive, and the listening server.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use axum::http::{HeaderName, HeaderValue, header};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::Digest;
use tokio::net::TcpListener;
use tower::limit::GlobalConcurrencyLimitLayer;
use tower_http::compression::CompressionLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::audit::{Auditor, RequestContext, file_target_dirs, parse_targets};
use crate::backup::{Backups, scheduler};
use crate::config::ServeConfig;
use crate::integrity::{self, Integrity};
use crate::passwords::{generate_password, hash_password, password_problem};
use crate::secret_key::{self, KeySource};
use crate::state::{AppState, StateParts};
use crate::store::{Store, UserRecord};
use crate::{panel, retention, routes};
use witness_api::Role;

/// Requests handled at once; more wait their turn instead of exhausting memory or file handles.
pub const MAX_CONCURRENT_REQUESTS: usize = 512;
/// The longest a handler may take to start answering (a streamed export or live tail is timed
/// only until its first byte).
pub const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);

/// The whole HTTP surface: API, health, and the panel with a fallback to `index.html` so that
/// client routes such as `/audit` load the app. The panel's files go out precompressed when
/// [`panel::precompress`] has written their `.br` and `.gz`; the compression layer then leaves
/// them alone and compresses only what is made per request (API answers).
pub fn app(state: AppState, panel_dir: &Path) -> Router {
    let index = panel_dir.join("index.html");
    let policy = content_security_policy(&std::fs::read_to_string(&index).unwrap_or_default());
    let panel = panel::service(panel_dir);

    Router::new()
        .merge(routes::root())
        .nest(
            "/api",
            // Audit data and tokens must never sit in a browser's or proxy's cache.
            routes::api().layer(SetResponseHeaderLayer::overriding(
                header::CACHE_CONTROL,
                HeaderValue::from_static("no-store"),
            )),
        )
        .fallback_service(panel)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            record_refusals,
        ))
        .with_state(state)
        .layer(CompressionLayer::new())
        .layer(security_header(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(security_header(header::X_FRAME_OPTIONS, "DENY"))
        .layer(security_header(header::REFERRER_POLICY, "no-referrer"))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_str(&policy).unwrap_or_else(|_| {
                HeaderValue::from_static(
                    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; frame-ancestors 'none'",
                )
            }),
        ))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(GlobalConcurrencyLimitLayer::new(MAX_CONCURRENT_REQUESTS))
        .layer(TraceLayer::new_for_http())
}

/// Writes an `access.refused` record for each request answered 401, 403 or 429 (at most
/// [`crate::audit::REFUSALS_PER_MINUTE`] a minute), after the answer, so that refusals never
/// wait on an audit target. A failed login is already audited as the login operation.
async fn record_refusals(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let method = request.method().to_string();
    let path = request.uri().path().to_string();
    let remote_address = request
        .extensions()
        .get::<axum::extract::ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip().to_string());
    let response = next.run(request).await;
    let status = response.status().as_u16();
    let audited_already = path == "/api/auth/login" && status != 429;
    if matches!(status, 401 | 403 | 429) && !audited_already {
        let context = RequestContext {
            principal: String::new(),
            principal_type: "anonymous",
            method,
            path,
            remote_address,
        };
        let auditor = state.auditor().clone();
        tokio::spawn(async move { auditor.refused(&context, status).await });
    }
    response
}

/// The panel's Content-Security-Policy: scripts only from this server (plus WebAssembly
/// compilation, and the inline start-up script trunk writes into `index.html`, allowed by
/// its hash and nothing else), no plugins, no framing, no foreign connections.
pub fn content_security_policy(index_html: &str) -> String {
    let mut script_src = String::from("'self' 'wasm-unsafe-eval'");
    for script in inline_scripts(index_html) {
        let digest = sha2::Sha256::digest(script.as_bytes());
        script_src.push_str(&format!(" 'sha256-{}'", STANDARD.encode(digest)));
    }
    format!(
        "default-src 'self'; script-src {script_src}; style-src 'self'; img-src 'self' data:; \
         connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; \
         form-action 'self'; frame-ancestors 'none'"
    )
}

/// The bodies of `<script>` elements without a `src`, exactly as the browser hashes them.
fn inline_scripts(html: &str) -> Vec<&str> {
    let mut scripts = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<script") {
        let after = &rest[start..];
        let Some(tag_end) = after.find('>') else {
            break;
        };
        let tag = &after[..tag_end];
        let body_and_rest = &after[tag_end + 1..];
        let Some(close) = body_and_rest.find("</script>") else {
            break;
        };
        if !tag.contains("src=") {
            scripts.push(&body_and_rest[..close]);
        }
        rest = &body_and_rest[close..];
    }
    scripts
}

/// Writes the panel's missing or stale `.br` and `.gz` files (seconds after a new build,
/// nothing to do after that). A panel directory Witness cannot write to is served as it is,
/// compressed per request.
async fn precompress_panel(panel_dir: PathBuf) {
    let dir = panel_dir.clone();
    match tokio::task::spawn_blocking(move || panel::precompress(&dir)).await {
        Ok(Ok(done)) => tracing::info!(
            panel_dir = %panel_dir.display(),
            written = done.written,
            up_to_date = done.fresh,
            "panel files precompressed (brotli, gzip)"
        ),
        Ok(Err(error)) => tracing::warn!(
            panel_dir = %panel_dir.display(),
            %error,
            "cannot precompress the panel's files; they will be compressed per request"
        ),
        Err(error) => tracing::warn!(%error, "the panel precompression task failed"),
    }
}

fn security_header(name: HeaderName, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
}

pub struct Application {
    listener: TcpListener,
    router: Router,
    store: Arc<dyn Store>,
    integrity: Arc<Integrity>,
}

impl Application {
    /// Prepares the data directory and binds the listener (port 0 picks a free port).
    pub async fn build(config: ServeConfig) -> anyhow::Result<Self> {
        let data_dir = prepare_data_dir(&config.data.data_dir)?;
        let (key, key_source) = secret_key::load_or_generate(&data_dir, config.secret.given())
            .context("cannot load the storage secret key")?;
        if let KeySource::Generated(path) = &key_source {
            println!("{}", secret_key::generated_warning(path));
        }
        if config.panel_dir.join("index.html").is_file() {
            precompress_panel(config.panel_dir.clone()).await;
        } else {
            tracing::warn!(
                panel_dir = %config.panel_dir.display(),
                "the built panel is missing (no index.html); build it with `make panel`"
            );
        }
        let listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.listen))?;
        let store: Arc<dyn Store> = crate::store::open(
            config.data.database_url.as_deref(),
            &data_dir,
            crate::store::sqlite::PartitionOptions {
                events_per_partition: config.partition_events,
                seal: true,
            },
            config.clock.clone(),
        )
        .await
        .with_context(|| match &config.data.database_url {
            Some(_) => "cannot open the PostgreSQL store (WITNESS_DATABASE_URL)".to_string(),
            None => format!("cannot open the store in {}", data_dir.display()),
        })?;
        // Again now that the store's files exist (SQLite gives its WAL the database's mode).
        crate::files::make_private(&data_dir)
            .with_context(|| format!("cannot restrict {}", data_dir.display()))?;
        let session = Auditor::new_session_id();
        let targets = parse_targets(
            &config.audit.audit_targets,
            config.audit.audit_api_key.as_deref(),
            store.clone(),
            &session,
        )?;
        let auditor = Arc::new(Auditor::new(session, targets));
        tracing::info!(targets = ?auditor.target_names(), session = auditor.session(), "Auditing is enabled");
        bootstrap_admin(store.as_ref(), config.admin_password.as_deref()).await?;
        let defaults = crate::settings::defaults(config.retention_days);
        let settings = store
            .init_settings(defaults.clone())
            .await
            .context("cannot read the settings")?;
        let (settings_sender, settings_receiver) = tokio::sync::watch::channel(settings);
        let integrity = Arc::new(Integrity::new(
            store.clone(),
            auditor.clone(),
            &key,
            file_target_dirs(&config.audit.audit_targets),
        ));
        let (checkpoint_every, verify_every) =
            integrity::periods(config.checkpoint_seconds, config.verify_interval_hours);
        integrity.spawn(checkpoint_every, verify_every);
        let backups = Arc::new(Backups::new(&data_dir, key, defaults));
        scheduler::spawn(store.clone(), backups.clone(), settings_receiver);
        retention::spawn(
            store.clone(),
            auditor.clone(),
            config.retention_days,
            config.min_retention_days,
        );
        let state = AppState::new(StateParts {
            backups,
            settings: settings_sender,
            data_dir: data_dir.clone(),
            store: store.clone(),
            auditor,
            ingest_limits: config.ingest_limits(),
            session_idle: std::time::Duration::from_secs(config.session_idle_seconds.max(1)),
            session_max: std::time::Duration::from_secs(config.session_max_seconds.max(1)),
            live_recheck: std::time::Duration::from_secs(config.live_recheck_seconds.max(1)),
            integrity: integrity.clone(),
            min_retention_days: config.min_retention_days,
            clock: config.clock.clone(),
        });
        let router = app(state, &config.panel_dir);
        tracing::info!(data_dir = %data_dir.display(), "Witness started");
        Ok(Self {
            listener,
            router,
            store,
            integrity,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound TCP listener has a local address")
    }

    /// The store this application serves (tests use it to set up keys).
    pub fn store(&self) -> Arc<dyn Store> {
        self.store.clone()
    }

    /// Serves until Ctrl-C or SIGTERM, then writes a last checkpoint of the chain's head.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        axum::serve(
            self.listener,
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown_signal())
        .await?;
        match self.integrity.checkpoint(true).await {
            Ok(Some(checkpoint)) => {
                tracing::info!(
                    head_seq = checkpoint.head_seq,
                    "wrote the shutdown checkpoint"
                )
            }
            Ok(None) => {}
            Err(error) => {
                tracing::error!(
                    error = format!("{error:#}"),
                    "the shutdown checkpoint failed"
                )
            }
        }
        Ok(())
    }
}

/// On first start (no users), creates `admin` with the configured password, or a generated
/// one printed once to the console.
async fn bootstrap_admin(store: &dyn Store, password: Option<&str>) -> anyhow::Result<()> {
    if store.count_users().await? > 0 {
        return Ok(());
    }
    let (password, generated) = match password.filter(|p| !p.is_empty()) {
        Some(password) => {
            if let Some(problem) = password_problem(password) {
                anyhow::bail!("WITNESS_ADMIN_PASSWORD {problem}");
            }
            (password.to_string(), false)
        }
        None => (generate_password(), true),
    };
    let created = store
        .create_user(UserRecord {
            user: crate::accounts::new_user(
                crate::accounts::Username::parse("admin")
                    .map_err(|problem| anyhow::anyhow!("the first admin's username {problem}"))?,
                Some("Administrator".to_string()),
                None,
                Role::Admin,
            ),
            password_hash: hash_password(&password)?,
        })
        .await;
    match created {
        Ok(()) => {}
        // Another server sharing the database made the first admin at the same moment.
        Err(crate::store::StoreError::Conflict(_)) => return Ok(()),
        Err(error) => return Err(error.into()),
    }
    if generated {
        println!(
            "Created the first user `admin` with the password {password} (shown only now; change it with `witness user set-password admin`)."
        );
    } else {
        println!("Created the first user `admin` with the password from WITNESS_ADMIN_PASSWORD.");
    }
    Ok(())
}

pub fn prepare_data_dir(dir: &Path) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the data directory {}", dir.display()))?;
    crate::files::make_private(dir)
        .with_context(|| format!("cannot restrict the data directory {}", dir.display()))?;
    dir.canonicalize()
        .with_context(|| format!("cannot resolve the data directory {}", dir.display()))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down");
}

#[cfg(test)]
mod tests {
    use super::content_security_policy;

    #[test]
    fn the_policy_allows_exactly_the_inline_start_up_script() {
        let html = "<html><head><script type=\"module\">import init from '/a.js';</script>\
                    <script src=\"/b.js\"></script></head></html>";
        let policy = content_security_policy(html);
        // sha256 of "import init from '/a.js';", base64.
        let digest = {
            use base64::Engine;
            use sha2::Digest;
            base64::engine::general_purpose::STANDARD
                .encode(sha2::Sha256::digest(b"import init from '/a.js';"))
        };
        assert!(
            policy.contains(&format!(
                "script-src 'self' 'wasm-unsafe-eval' 'sha256-{digest}';"
            )),
            "{policy}"
        );
        assert!(policy.contains("frame-ancestors 'none'"));
        assert_eq!(policy.matches("'sha256-").count(), 1);
    }
}
