//! Where audit records go: this server's own store, NDJSON files, or a second Witness.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use async_trait::async_trait;
use tokio::io::AsyncWriteExt;
use tokio::sync::Mutex;

use super::record::{AuditPhase, AuditRecord};
use crate::ingest::{BodyFormat, IngestLimits, parse_body};
use crate::store::Store;

#[async_trait]
pub trait AuditTarget: Send + Sync {
    /// How the target was configured, for diagnostics (never a secret).
    fn describe(&self) -> String;

    /// Returns only once the record is durable at the target.
    async fn write(&self, record: &AuditRecord) -> anyhow::Result<()>;
}

/// Parses `WITNESS_AUDIT_TARGETS`: comma-separated `local`, `file:DIR`, `http(s)://…`.
pub fn parse_targets(
    spec: &str,
    api_key: Option<&str>,
    store: Arc<dyn Store>,
    session: &str,
) -> anyhow::Result<Vec<Arc<dyn AuditTarget>>> {
    let mut targets: Vec<Arc<dyn AuditTarget>> = Vec::new();
    for part in spec
        .split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
    {
        if part == "local" {
            targets.push(Arc::new(LocalTarget {
                store: store.clone(),
            }));
        } else if let Some(dir) = part.strip_prefix("file:") {
            if dir.is_empty() {
                bail!("audit target `{part}`: give a directory after `file:`");
            }
            targets.push(Arc::new(FileTarget::new(PathBuf::from(dir), session)));
        } else if part.starts_with("http://") || part.starts_with("https://") {
            let Some(key) = api_key.filter(|key| !key.is_empty()) else {
                bail!("audit target `{part}` needs WITNESS_AUDIT_API_KEY (an ingest key there)");
            };
            targets.push(Arc::new(RemoteTarget::new(part, key)?));
        } else {
            bail!(
                "audit target `{part}` is not one of `local`, `file:DIR`, `http://…`, `https://…`"
            );
        }
    }
    if targets.is_empty() {
        bail!("WITNESS_AUDIT_TARGETS names no target; use at least `local`");
    }
    Ok(targets)
}

/// This server's own store, so the panel shows the records.
struct LocalTarget {
    store: Arc<dyn Store>,
}

#[async_trait]
impl AuditTarget for LocalTarget {
    fn describe(&self) -> String {
        "local".to_string()
    }

    async fn write(&self, record: &AuditRecord) -> anyhow::Result<()> {
        // Through the ingestion mapping, so the record is stored exactly as a second Witness
        // would store it.
        let line = record.to_clef().to_string();
        let events = parse_body(BodyFormat::Clef, line.as_bytes(), &IngestLimits::default())
            .map_err(|problem| anyhow::anyhow!("mapping the record: {problem}"))?;
        self.store
            .append(events)
            .await
            .context("storing the record")?;
        Ok(())
    }
}

/// `witness-audit-YYYYMMDD-SESSION.ndjson` in a directory: one file per server run, fsynced
/// after every Begin.
struct FileTarget {
    dir: PathBuf,
    path: PathBuf,
    file: Mutex<Option<tokio::fs::File>>,
}

impl FileTarget {
    fn new(dir: PathBuf, session: &str) -> Self {
        let name = format!(
            "witness-audit-{}-{session}.ndjson",
            chrono::Utc::now().format("%Y%m%d")
        );
        FileTarget {
            path: dir.join(name),
            dir,
            file: Mutex::new(None),
        }
    }
}

#[async_trait]
impl AuditTarget for FileTarget {
    fn describe(&self) -> String {
        format!("file:{}", self.dir.display())
    }

    async fn write(&self, record: &AuditRecord) -> anyhow::Result<()> {
        let mut line = record.to_clef().to_string();
        line.push('\n');
        let mut guard = self.file.lock().await;
        if guard.is_none() {
            tokio::fs::create_dir_all(&self.dir)
                .await
                .with_context(|| format!("creating {}", self.dir.display()))?;
            let file = tokio::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)
                .await
                .with_context(|| format!("opening {}", self.path.display()))?;
            *guard = Some(file);
        }
        let Some(file) = guard.as_mut() else {
            bail!("the audit file is not open");
        };
        let written = async {
            file.write_all(line.as_bytes()).await?;
            file.flush().await?;
            if record.phase == AuditPhase::Begin {
                file.sync_data().await?;
            }
            std::io::Result::Ok(())
        }
        .await;
        if let Err(error) = written {
            // Reopen next time: the file may have been removed or the disk remounted.
            *guard = None;
            return Err(error).with_context(|| format!("writing {}", self.path.display()));
        }
        Ok(())
    }
}

/// A second Witness (or Seq): CLEF posted to `/ingest/clef`; only a 201 counts.
struct RemoteTarget {
    base: String,
    url: String,
    api_key: String,
    client: reqwest::Client,
}

impl RemoteTarget {
    fn new(base: &str, api_key: &str) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .context("building the HTTP client for the audit target")?;
        Ok(RemoteTarget {
            base: base.to_string(),
            url: format!("{}/ingest/clef", base.trim_end_matches('/')),
            api_key: api_key.to_string(),
            client,
        })
    }
}

#[async_trait]
impl AuditTarget for RemoteTarget {
    fn describe(&self) -> String {
        self.base.clone()
    }

    async fn write(&self, record: &AuditRecord) -> anyhow::Result<()> {
        let response = self
            .client
            .post(&self.url)
            .header("X-Seq-ApiKey", &self.api_key)
            .header("Content-Type", "application/vnd.serilog.clef")
            .body(record.to_clef().to_string())
            .send()
            .await
            .with_context(|| format!("posting to {}", self.url))?;
        if response.status() != reqwest::StatusCode::CREATED {
            bail!("{} answered {}", self.url, response.status());
        }
        Ok(())
    }
}
