//! Where audit records go: this server's own store, NDJSON files, or a second Witness.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use async_trait::async_trait;
use tokio::io::AsyncWriteExt;
use tokio::sync::Mutex;

use super::record::{AuditPhase, AuditRecord};
use crate::ingest::{BodyFormat, IngestLimits, parse_body};
use crate::model::EventSource;
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
                bail!(
                    "audit target `{}` needs WITNESS_AUDIT_API_KEY (an ingest key there)",
                    mask_url_credentials(part)
                );
            };
            targets.push(Arc::new(RemoteTarget::new(part, key)?));
        } else {
            bail!(
                "audit target `{}` is not one of `local`, `file:DIR`, `http://…`, `https://…`",
                mask_userinfo(part)
            );
        }
    }
    if targets.is_empty() {
        bail!("WITNESS_AUDIT_TARGETS names no target; use at least `local`");
    }
    Ok(targets)
}

/// The folders of the `file:` targets in a `WITNESS_AUDIT_TARGETS` value (read back by verify
/// for their checkpoints).
pub fn file_target_dirs(spec: &str) -> Vec<PathBuf> {
    spec.split(',')
        .filter_map(|part| part.trim().strip_prefix("file:"))
        .filter(|dir| !dir.is_empty())
        .map(PathBuf::from)
        .collect()
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
            .append(EventSource::witness(), events)
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
            // A folder Witness makes is owner-only; one the host made keeps its own mode.
            let dir = self.dir.clone();
            tokio::task::spawn_blocking(move || match dir.is_dir() {
                true => Ok(()),
                false => crate::files::create_private_dir(&dir),
            })
            .await
            .context("creating the audit folder")?
            .with_context(|| format!("creating {}", self.dir.display()))?;
            let mut options = tokio::fs::OpenOptions::new();
            options.create(true).append(true);
            #[cfg(unix)]
            options.mode(0o600);
            let file = options
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
    /// The URL with any credentials in it masked: what logs, Diagnostics and errors show.
    shown: String,
    url: reqwest::Url,
    api_key: String,
    client: reqwest::Client,
}

/// `text` with anything between `://` and a later `@` replaced by `***`: for showing a target
/// that did not parse as a URL without what may be a password in it.
fn mask_userinfo(text: &str) -> String {
    match (text.find("://"), text.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end + 3 => {
            format!("{}***{}", &text[..scheme_end + 3], &text[at..])
        }
        _ => text.to_string(),
    }
}

/// `base` with the user name and password of its authority (if any) replaced by `***`.
pub fn mask_url_credentials(base: &str) -> String {
    match reqwest::Url::parse(base) {
        Ok(mut url) => {
            if !url.username().is_empty() {
                let _ = url.set_username("***");
            }
            if url.password().is_some() {
                let _ = url.set_password(Some("***"));
            }
            url.to_string().trim_end_matches('/').to_string()
        }
        // Not a URL at all: show nothing of it that could be a secret.
        Err(_) => "(an unparsable URL)".to_string(),
    }
}

impl RemoteTarget {
    fn new(base: &str, api_key: &str) -> anyhow::Result<Self> {
        let shown = mask_url_credentials(base);
        let url = reqwest::Url::parse(&format!("{}/ingest/clef", base.trim_end_matches('/')))
            .map_err(|error| anyhow::anyhow!("audit target `{shown}` is not a URL: {error}"))?;
        // A redirect would send the records (and the key) somewhere the host did not name.
        let client = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .context("building the HTTP client for the audit target")?;
        Ok(RemoteTarget {
            shown,
            url,
            api_key: api_key.to_string(),
            client,
        })
    }
}

#[async_trait]
impl AuditTarget for RemoteTarget {
    fn describe(&self) -> String {
        self.shown.clone()
    }

    async fn write(&self, record: &AuditRecord) -> anyhow::Result<()> {
        let response = self
            .client
            .post(self.url.clone())
            .header("X-Seq-ApiKey", &self.api_key)
            .header("Content-Type", "application/vnd.serilog.clef")
            .body(record.to_clef().to_string())
            .send()
            .await
            // reqwest's errors carry the URL, credentials and all.
            .map_err(|error| {
                anyhow::anyhow!("posting to {}: {}", self.shown, error.without_url())
            })?;
        if response.status() != reqwest::StatusCode::CREATED {
            bail!("{} answered {}", self.shown, response.status());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::mask_url_credentials;

    #[test]
    fn credentials_in_target_urls_are_masked() {
        assert_eq!(
            mask_url_credentials("https://bob:s3cret@audit.example:5341/"),
            "https://***:***@audit.example:5341"
        );
        assert_eq!(
            mask_url_credentials("https://audit.example:5341"),
            "https://audit.example:5341"
        );
        assert!(!mask_url_credentials("https://s3cret@x").contains("s3cret"));
        assert!(!mask_url_credentials("http://[bad").contains("bad"));
        assert_eq!(
            super::mask_userinfo("htp://bob:s3cret@host"),
            "htp://***@host"
        );
        let error = super::parse_targets(
            "ftp://bob:s3cret@host",
            None,
            std::sync::Arc::new(
                crate::store::SqliteStore::open_in(tempfile::tempdir().expect("dir").path())
                    .expect("store"),
            ),
            "s",
        )
        .err()
        .expect("refused");
        assert!(!error.to_string().contains("s3cret"), "{error}");
    }
}
