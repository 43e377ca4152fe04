//! Building the application: the router that tests drive, and the listening server.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use axum::http::{HeaderName, HeaderValue, header};
use tokio::net::TcpListener;
use tower_http::compression::CompressionLayer;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::audit::{Auditor, parse_targets};
use crate::backup::{Backups, default_settings, scheduler};
use crate::config::ServeConfig;
use crate::passwords::{generate_password, hash_password, password_problem};
use crate::secret_key::{self, KeySource};
use crate::state::{AppState, StateParts};
use crate::store::{SqliteStore, Store, UserRecord};
use crate::{retention, routes};
use witness_api::{Role, User};

/// The whole HTTP surface: API, health, and the panel with a fallback to `index.html` so that
/// client routes such as `/audit` load the app.
pub fn app(state: AppState, panel_dir: &Path) -> Router {
    let index = panel_dir.join("index.html");
    let panel = ServeDir::new(panel_dir).fallback(ServeFile::new(index));

    Router::new()
        .merge(routes::root())
        .nest("/api", routes::api())
        .fallback_service(panel)
        .with_state(state)
        .layer(CompressionLayer::new())
        .layer(security_header(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(security_header(header::X_FRAME_OPTIONS, "DENY"))
        .layer(security_header(header::REFERRER_POLICY, "no-referrer"))
        .layer(TraceLayer::new_for_http())
}

fn security_header(name: HeaderName, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
}

pub struct Application {
    listener: TcpListener,
    router: Router,
    store: Arc<dyn Store>,
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
        if !config.panel_dir.join("index.html").is_file() {
            tracing::warn!(
                panel_dir = %config.panel_dir.display(),
                "the built panel is missing (no index.html); build it with `make panel`"
            );
        }
        let listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.listen))?;
        let store: Arc<dyn Store> = Arc::new(
            SqliteStore::open_in(&data_dir)
                .with_context(|| format!("cannot open the store in {}", data_dir.display()))?,
        );
        let session = Auditor::new_session_id();
        let targets = parse_targets(
            &config.audit_targets,
            config.audit_api_key.as_deref(),
            store.clone(),
            &session,
        )?;
        let auditor = Arc::new(Auditor::new(session, targets));
        tracing::info!(targets = ?auditor.target_names(), session = auditor.session(), "Auditing is enabled");
        bootstrap_admin(store.as_ref(), config.admin_password.as_deref()).await?;
        let defaults = default_settings(config.retention_days);
        let settings = store
            .init_settings(defaults.clone())
            .await
            .context("cannot read the settings")?;
        let (settings_sender, settings_receiver) = tokio::sync::watch::channel(settings);
        let backups = Arc::new(Backups::new(&data_dir, key, defaults));
        scheduler::spawn(store.clone(), backups.clone(), settings_receiver);
        retention::spawn(store.clone(), config.retention_days);
        let state = AppState::new(StateParts {
            backups,
            settings: settings_sender,
            data_dir: data_dir.clone(),
            store: store.clone(),
            auditor,
            ingest_limits: config.ingest_limits(),
            session_idle: std::time::Duration::from_secs(config.session_idle_seconds.max(1)),
        });
        let router = app(state, &config.panel_dir);
        tracing::info!(data_dir = %data_dir.display(), "Witness started");
        Ok(Self {
            listener,
            router,
            store,
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

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        axum::serve(
            self.listener,
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown_signal())
        .await
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
    store
        .create_user(UserRecord {
            user: User {
                id: format!("user-{}", hex::encode(rand::random::<[u8; 6]>())),
                username: "admin".to_string(),
                display_name: Some("Administrator".to_string()),
                email: None,
                role: Role::Admin,
                created_at: chrono::Utc::now(),
            },
            password_hash: hash_password(&password)?,
        })
        .await?;
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
