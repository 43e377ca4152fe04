//! The storage secret key: 32 random bytes, written as standard base64 (44 characters). It
//! encrypts backups. It comes from `WITNESS_STORAGE_SECRETKEY` when set, otherwise from
//! `<data>/secret.key`, which the first `witness serve` creates (mode 0600) and tells the
//! admin to save.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// The file name of the generated key inside the data directory.
pub const SECRET_KEY_FILE: &str = "secret.key";
/// The environment variable that, when set, holds the key.
pub const SECRET_KEY_ENV: &str = "WITNESS_STORAGE_SECRETKEY";
pub const KEY_LEN: usize = 32;

/// The key; `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretKey([u8; KEY_LEN]);

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(<hidden>)")
    }
}

/// Where the key in use came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// `WITNESS_STORAGE_SECRETKEY` or `--secret-key`.
    Given,
    /// `<data>/secret.key`, already there.
    File(PathBuf),
    /// `<data>/secret.key`, generated just now.
    Generated(PathBuf),
}

impl SecretKey {
    pub fn generate() -> Self {
        SecretKey(rand::random())
    }

    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        SecretKey(bytes)
    }

    pub fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    /// Standard base64 with padding, as `witness show-key` prints it.
    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.0)
    }

    /// Parses a key as base64 (surrounding whitespace ignored); `what` names where it came
    /// from in the error, which never repeats the value.
    pub fn parse(text: &str, what: &str) -> anyhow::Result<Self> {
        let text = text.trim();
        if text.is_empty() {
            bail!(
                "{what} is empty; it must be 32 random bytes in base64 (`witness show-key --generate` makes one)"
            );
        }
        let bytes = STANDARD.decode(text).map_err(|_| {
            anyhow::anyhow!(
                "{what} is not valid base64; it must be 32 random bytes in base64 \
                 (`witness show-key --generate` makes one)"
            )
        })?;
        let bytes: [u8; KEY_LEN] = bytes.as_slice().try_into().map_err(|_| {
            anyhow::anyhow!(
                "{what} decodes to {} bytes; the key must be exactly {KEY_LEN} bytes \
                 (`witness show-key --generate` makes one)",
                bytes.len()
            )
        })?;
        Ok(SecretKey(bytes))
    }
}

pub fn key_file(data_dir: &Path) -> PathBuf {
    data_dir.join(SECRET_KEY_FILE)
}

/// The key given on the command line or in the environment, else the one in the data
/// directory; `None` when there is neither.
pub fn load(
    data_dir: &Path,
    given: Option<&str>,
) -> anyhow::Result<Option<(SecretKey, KeySource)>> {
    if let Some(text) = given {
        let key = SecretKey::parse(text, &format!("{SECRET_KEY_ENV} (--secret-key)"))?;
        return Ok(Some((key, KeySource::Given)));
    }
    let path = key_file(data_dir);
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let key = SecretKey::parse(&text, &format!("the key file {}", path.display()))?;
            Ok(Some((key, KeySource::File(path))))
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => {
            Err(error).with_context(|| format!("cannot read the key file {}", path.display()))
        }
    }
}

/// Like [`load`], or, when there is no key at all, one generated into `<data>/secret.key`.
pub fn load_or_generate(
    data_dir: &Path,
    given: Option<&str>,
) -> anyhow::Result<(SecretKey, KeySource)> {
    if let Some(found) = load(data_dir, given)? {
        if found.1 == KeySource::Given {
            // A key file that disagrees with the given key would make for confusing backups.
            if let Ok(Some((file_key, _))) = load(data_dir, None)
                && file_key != found.0
            {
                tracing::warn!(
                    file = %key_file(data_dir).display(),
                    "{SECRET_KEY_ENV} differs from the key file; backups use {SECRET_KEY_ENV}"
                );
            }
        }
        return Ok(found);
    }
    let key = SecretKey::generate();
    let path = save(data_dir, &key)?;
    Ok((key, KeySource::Generated(path)))
}

/// Writes the key to `<data>/secret.key`, readable by its owner only; never replaces one.
pub fn save(data_dir: &Path, key: &SecretKey) -> anyhow::Result<PathBuf> {
    let path = key_file(data_dir);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(&path)
        .with_context(|| format!("cannot create the key file {}", path.display()))?;
    file.write_all(format!("{}\n", key.to_base64()).as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write the key file {}", path.display()))?;
    crate::files::sync_dir(data_dir);
    Ok(path)
}

/// The console warning printed when a key was generated.
pub fn generated_warning(path: &Path) -> String {
    format!(
        "Generated a new storage secret key in {} (readable only by this user). Backups are \
         encrypted with it and are useless without it: save it somewhere safe now (print it \
         with `witness show-key`), or set {SECRET_KEY_ENV} to it.",
        path.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_only_32_bytes_of_base64() {
        let key = SecretKey::generate();
        let text = key.to_base64();
        assert_eq!(text.len(), 44);
        assert_eq!(SecretKey::parse(&format!(" {text}\n"), "k").ok(), Some(key));
        let error = SecretKey::parse("not base64!", "KEY")
            .err()
            .map(|e| e.to_string());
        assert!(error.is_some_and(|e| e.contains("KEY is not valid base64")));
        let short = STANDARD.encode([1u8; 16]);
        let error = SecretKey::parse(&short, "KEY").err().map(|e| e.to_string());
        assert!(error.is_some_and(|e| e.contains("16 bytes")));
        assert!(SecretKey::parse("", "KEY").is_err());
    }

    #[test]
    fn debug_hides_the_key() {
        let key = SecretKey::from_bytes([7; 32]);
        assert!(!format!("{key:?}").contains(&key.to_base64()));
    }

    #[test]
    fn generates_once_with_owner_only_permissions() {
        let dir = tempfile::tempdir().expect("dir");
        let (key, source) = load_or_generate(dir.path(), None).expect("generated");
        assert!(matches!(source, KeySource::Generated(_)));
        let (again, source) = load_or_generate(dir.path(), None).expect("loaded");
        assert_eq!(again, key);
        assert!(matches!(source, KeySource::File(_)));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(key_file(dir.path()))
                .expect("metadata")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let given = SecretKey::generate();
        let (used, source) = load_or_generate(dir.path(), Some(&given.to_base64())).expect("given");
        assert_eq!((used, source), (given, KeySource::Given));
    }
}
