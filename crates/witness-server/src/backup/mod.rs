//! Encrypted backups of users, API keys and settings in `<data>/Backups/`: made daily at the
//! configured UTC time, on demand (API, `witness backup`), pruned to the newest N, restored by
//! `witness restore`. Audit events are not in backups: they are in the store.

pub mod format;
pub mod payload;
pub mod scheduler;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::Context;
use chrono::{DateTime, NaiveDateTime, SubsecRound, Utc};
use witness_api::{BackupInfo, Settings};

pub use format::BackupError;
use format::{HEADER_LEN, Header};
use payload::BackupPayload;

use crate::secret_key::SecretKey;
use crate::store::{ConfigSnapshot, Store};

/// The folder inside the data directory.
pub const BACKUP_DIR: &str = "Backups";
pub const FILE_PREFIX: &str = "witness-backup-";
pub const FILE_EXTENSION: &str = ".wbk";
const TEMP_PREFIX: &str = ".witness-backup-";
const TEMP_SUFFIX: &str = ".tmp";

pub fn backup_dir(data_dir: &Path) -> PathBuf {
    data_dir.join(BACKUP_DIR)
}

/// Whether `id` is one this server could have made: `YYYYMMDDTHHMMSSZ`, optionally `-N`
/// (N of 1 to 3 digits) when several were made in one second. Nothing else, so an id can
/// never name a path outside the backup folder.
pub fn valid_id(id: &str) -> bool {
    let (stamp, suffix) = match id.split_once('-') {
        Some((stamp, suffix)) => (stamp, Some(suffix)),
        None => (id, None),
    };
    let b = stamp.as_bytes();
    let stamp_ok = b.len() == 16
        && b[..8].iter().all(u8::is_ascii_digit)
        && b[8] == b'T'
        && b[9..15].iter().all(u8::is_ascii_digit)
        && b[15] == b'Z';
    let suffix_ok =
        suffix.is_none_or(|s| (1..=3).contains(&s.len()) && s.bytes().all(|c| c.is_ascii_digit()));
    stamp_ok && suffix_ok
}

pub fn file_name(id: &str) -> String {
    format!("{FILE_PREFIX}{id}{FILE_EXTENSION}")
}

fn id_from_file_name(name: &str) -> Option<&str> {
    name.strip_prefix(FILE_PREFIX)?
        .strip_suffix(FILE_EXTENSION)
        .filter(|id| valid_id(id))
}

fn time_from_id(id: &str) -> Option<DateTime<Utc>> {
    let stamp = id.get(..15)?;
    NaiveDateTime::parse_from_str(stamp, "%Y%m%dT%H%M%S")
        .ok()
        .map(|naive| naive.and_utc())
}

/// The backups in `dir`, newest first. A missing folder has none.
pub fn list(dir: &Path) -> std::io::Result<Vec<BackupInfo>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(error),
    };
    let mut backups = Vec::new();
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some(id) = id_from_file_name(name) else {
            continue;
        };
        let metadata = entry.metadata()?;
        if !metadata.is_file() {
            continue;
        }
        let created_at = read_header(&entry.path())
            .map(|header| header.created_at)
            .ok()
            .or_else(|| time_from_id(id));
        let Some(created_at) = created_at else {
            continue;
        };
        backups.push(BackupInfo {
            id: id.to_string(),
            created_at,
            size_bytes: metadata.len(),
            file_name: name.to_string(),
        });
    }
    backups.sort_by(|a, b| {
        b.created_at
            .cmp(&a.created_at)
            .then_with(|| b.id.len().cmp(&a.id.len()))
            .then_with(|| b.id.cmp(&a.id))
    });
    Ok(backups)
}

fn read_header(path: &Path) -> anyhow::Result<Header> {
    let mut bytes = Vec::with_capacity(HEADER_LEN);
    std::fs::File::open(path)?
        .take(HEADER_LEN as u64)
        .read_to_end(&mut bytes)?;
    Ok(Header::parse(&bytes)?)
}

/// The backup with this id in `dir`, if the id is valid and the file exists.
pub fn find(dir: &Path, id: &str) -> Option<(PathBuf, BackupInfo)> {
    if !valid_id(id) {
        return None;
    }
    list(dir)
        .ok()?
        .into_iter()
        .find(|backup| backup.id == id)
        .map(|backup| (dir.join(&backup.file_name), backup))
}

/// Writes `bytes` as a new backup file: a temporary file, fsynced, then linked to its final
/// name (which never replaces a file: a name taken in the same second gets `-1`, `-2`, …),
/// then the folder fsynced. Readers never see a partial backup.
fn write_new(dir: &Path, created_at: DateTime<Utc>, bytes: &[u8]) -> anyhow::Result<BackupInfo> {
    crate::files::create_private_dir(dir)
        .with_context(|| format!("cannot create the backup folder {}", dir.display()))?;
    let temp = dir.join(format!(
        "{TEMP_PREFIX}{}{TEMP_SUFFIX}",
        hex::encode(rand::random::<[u8; 8]>())
    ));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let written = options.open(&temp).and_then(|mut file| {
        file.write_all(bytes)?;
        file.sync_all()
    });
    if let Err(error) = written {
        let _ = std::fs::remove_file(&temp);
        return Err(error).with_context(|| format!("cannot write {}", temp.display()));
    }
    let stamp = created_at.format("%Y%m%dT%H%M%SZ").to_string();
    // Several backups in one second get -1, -2, …: after the highest suffix present, so that
    // an id is never reused for another backup (the newest is never pruned).
    let first_attempt = list(dir)
        .unwrap_or_default()
        .iter()
        .filter_map(|backup| {
            let rest = backup.id.strip_prefix(stamp.as_str())?;
            if rest.is_empty() {
                Some(1)
            } else {
                rest.strip_prefix('-')?.parse::<u32>().ok().map(|n| n + 1)
            }
        })
        .max()
        .unwrap_or(0);
    let mut placed = None;
    for attempt in first_attempt..1000u32 {
        let id = if attempt == 0 {
            stamp.clone()
        } else {
            format!("{stamp}-{attempt}")
        };
        let path = dir.join(file_name(&id));
        match std::fs::hard_link(&temp, &path) {
            Ok(()) => {
                placed = Some(id);
                break;
            }
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => continue,
            // A file system without hard links: rename, having checked the name is free.
            Err(_) if !path.exists() => match std::fs::rename(&temp, &path) {
                Ok(()) => {
                    placed = Some(id);
                    break;
                }
                Err(error) => {
                    let _ = std::fs::remove_file(&temp);
                    return Err(error).with_context(|| format!("cannot create {}", path.display()));
                }
            },
            Err(_) => continue,
        }
    }
    let _ = std::fs::remove_file(&temp);
    let id = placed.context("cannot find a free backup file name")?;
    crate::files::sync_dir(dir);
    Ok(BackupInfo {
        file_name: file_name(&id),
        id,
        created_at,
        size_bytes: bytes.len() as u64,
    })
}

/// Deletes all but the newest `keep` backups (at least one is always kept), and temporary
/// files an interrupted backup left behind over an hour ago. Returns the deleted backups.
pub fn prune(dir: &Path, keep: u32) -> std::io::Result<Vec<BackupInfo>> {
    let keep = usize::try_from(keep.max(1)).unwrap_or(usize::MAX);
    let backups = list(dir)?;
    let mut deleted = Vec::new();
    for backup in backups.into_iter().skip(keep) {
        std::fs::remove_file(dir.join(&backup.file_name))?;
        deleted.push(backup);
    }
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let name = entry.file_name();
            let stale = name
                .to_str()
                .is_some_and(|name| name.starts_with(TEMP_PREFIX) && name.ends_with(TEMP_SUFFIX))
                && entry
                    .metadata()
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|modified| modified.elapsed().ok())
                    .is_some_and(|age| age.as_secs() > 3600);
            if stale {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
    if !deleted.is_empty() {
        crate::files::sync_dir(dir);
    }
    Ok(deleted)
}

/// Makes one backup of `store` into `dir` under `key`, then prunes to the stored
/// `backups_to_keep`. Used by the server and by `witness backup`.
pub async fn create(
    store: &dyn Store,
    dir: &Path,
    key: &SecretKey,
    fallback_settings: Settings,
) -> anyhow::Result<(BackupInfo, Vec<BackupInfo>)> {
    let snapshot = store.export_config().await?;
    let settings = snapshot.settings.clone().unwrap_or(fallback_settings);
    let keep = settings.backups_to_keep;
    // Kept to the millisecond, as the file's header holds it.
    let created_at = Utc::now().trunc_subsecs(3);
    let payload = BackupPayload::from_snapshot(snapshot, settings, created_at);
    let plaintext = serde_json::to_vec(&payload)?;
    let sealed = format::seal(key, created_at, &plaintext)?;
    let dir = dir.to_path_buf();
    tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
        let info = write_new(&dir, created_at, &sealed)?;
        let pruned = prune(&dir, keep)
            .with_context(|| format!("cannot prune old backups in {}", dir.display()))?;
        Ok((info, pruned))
    })
    .await
    .context("the backup task failed")?
}

/// Reads, decrypts and checks a backup file completely.
pub fn read_file(path: &Path, key: &SecretKey) -> anyhow::Result<(Header, ConfigSnapshot)> {
    let bytes = std::fs::read(path)
        .with_context(|| format!("cannot read the backup {}", path.display()))?;
    let (header, plaintext) = format::open(key, &bytes)?;
    let snapshot = BackupPayload::parse(&plaintext)?;
    Ok((header, snapshot))
}

/// The server's backups: where they go, the key, and the schedule's next run.
pub struct Backups {
    dir: PathBuf,
    key: SecretKey,
    /// One backup (and prune) at a time within this process.
    lock: tokio::sync::Mutex<()>,
    next: Mutex<Option<DateTime<Utc>>>,
    fallback_settings: Settings,
}

impl Backups {
    pub fn new(data_dir: &Path, key: SecretKey, fallback_settings: Settings) -> Self {
        Backups {
            dir: backup_dir(data_dir),
            key,
            lock: tokio::sync::Mutex::new(()),
            next: Mutex::new(None),
            fallback_settings,
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn key(&self) -> &SecretKey {
        &self.key
    }

    /// Makes a backup now and prunes; returns the new backup.
    pub async fn create(&self, store: &dyn Store) -> anyhow::Result<BackupInfo> {
        let _one_at_a_time = self.lock.lock().await;
        let (info, pruned) =
            create(store, &self.dir, &self.key, self.fallback_settings.clone()).await?;
        tracing::info!(file = %info.file_name, size = info.size_bytes, "backup created");
        for old in pruned {
            tracing::info!(file = %old.file_name, "old backup deleted (backups_to_keep)");
        }
        Ok(info)
    }

    pub async fn list(&self) -> anyhow::Result<Vec<BackupInfo>> {
        let dir = self.dir.clone();
        tokio::task::spawn_blocking(move || list(&dir))
            .await
            .context("listing backups failed")?
            .with_context(|| format!("cannot list the backups in {}", self.dir.display()))
    }

    pub async fn find(&self, id: &str) -> Option<(PathBuf, BackupInfo)> {
        if !valid_id(id) {
            return None;
        }
        let dir = self.dir.clone();
        let id = id.to_string();
        tokio::task::spawn_blocking(move || find(&dir, &id))
            .await
            .ok()
            .flatten()
    }

    pub fn next_scheduled(&self) -> Option<DateTime<Utc>> {
        self.next.lock().ok().and_then(|next| *next)
    }

    pub fn set_next_scheduled(&self, at: Option<DateTime<Utc>>) {
        if let Ok(mut next) = self.next.lock() {
            *next = at;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_strict() {
        for good in [
            "20261122T020000Z",
            "20261122T020000Z-1",
            "20261122T020000Z-999",
        ] {
            assert!(valid_id(good), "{good}");
        }
        for bad in [
            "",
            "..",
            "../witness.db",
            "20261122T020000Z/..",
            "20261122T020000Z-",
            "20261122T020000Z-1000",
            "20261122T020000Z-a",
            "20261122T020000",
            "2026112T020000Z",
            "20261122X020000Z",
            "20261122T020000Z.wbk",
            "..%2F..%2Fsecret.key",
            "20261122T020000Z-1-2",
        ] {
            assert!(!valid_id(bad), "{bad}");
        }
    }

    #[test]
    fn writes_lists_and_prunes_keeping_the_newest() {
        let dir = tempfile::tempdir().expect("dir");
        let key = SecretKey::generate();
        let base = Utc::now();
        let mut made = Vec::new();
        for seconds in 0..4 {
            let at = base + chrono::Duration::seconds(seconds);
            let bytes = format::seal(&key, at, b"{}").expect("seal");
            made.push(write_new(dir.path(), at, &bytes).expect("written"));
        }
        // Same second as the last: a suffixed name, never a replaced file.
        let at = base + chrono::Duration::seconds(3) + chrono::Duration::milliseconds(1);
        let bytes = format::seal(&key, at, b"{}").expect("seal");
        let same_second = write_new(dir.path(), at, &bytes).expect("written");
        assert!(same_second.id.ends_with("-1"), "{}", same_second.id);
        let listed = list(dir.path()).expect("list");
        assert_eq!(listed.len(), 5);
        assert_eq!(listed[0].id, same_second.id, "newest first");
        assert_eq!(listed[1].id, made[3].id);
        std::fs::write(dir.path().join("notes.txt"), "x").expect("other file");
        std::fs::write(dir.path().join(".witness-backup-abc.tmp"), "x").expect("temp");
        assert_eq!(list(dir.path()).expect("list").len(), 5, "only backups");

        let deleted = prune(dir.path(), 2).expect("prune");
        assert_eq!(deleted.len(), 3);
        let kept: Vec<String> = list(dir.path())
            .expect("list")
            .into_iter()
            .map(|b| b.id)
            .collect();
        assert_eq!(kept, vec![same_second.id.clone(), made[3].id.clone()]);
        // After pruning, a new backup in the same second still gets a new id.
        let at = base + chrono::Duration::seconds(3) + chrono::Duration::milliseconds(2);
        let bytes = format::seal(&key, at, b"{}").expect("seal");
        let later = write_new(dir.path(), at, &bytes).expect("written");
        assert!(later.id.ends_with("-2"), "{}", later.id);
        prune(dir.path(), 0).expect("prune");
        assert_eq!(
            list(dir.path()).expect("list").len(),
            1,
            "the newest always stays"
        );
        assert!(find(dir.path(), &later.id).is_some());
        assert!(find(dir.path(), &same_second.id).is_none());
        assert!(find(dir.path(), &made[0].id).is_none());
        assert!(find(dir.path(), "../Backups").is_none());
    }
}
