//! The backup file format (docs/backup-format.md is the specification):
//!
//! ```text
//! offset  size  field
//!      0     9  magic, ASCII "WITNESSBK"
//!      9     1  format version, 1
//!     10     8  created_at: Unix time in milliseconds, signed, big-endian
//!     18     8  key check: SHA-256("witness-backup-key-check-v1" || key), first 8 bytes
//!     26     8  sealed length: bytes of ciphertext + tag that follow, unsigned, big-endian
//!     34    12  nonce (random)
//!     46     n  AES-256-GCM ciphertext of the JSON payload, then its 16-byte tag
//! ```
//!
//! The associated data is the whole 46-byte header, so no header byte can change unnoticed.

use aes_gcm::aead::Aead;
use aes_gcm::aead::Payload;
use aes_gcm::{Aes256Gcm, KeyInit};
use chrono::{DateTime, TimeZone, Utc};
use sha2::{Digest, Sha256};

use crate::secret_key::SecretKey;

pub const MAGIC: &[u8; 9] = b"WITNESSBK";
pub const VERSION: u8 = 1;
pub const NONCE_LEN: usize = 12;
pub const TAG_LEN: usize = 16;
pub const HEADER_LEN: usize = 46;
/// Prefixed to the key before hashing it into the key check.
pub const KEY_CHECK_CONTEXT: &[u8] = b"witness-backup-key-check-v1";

/// Why a backup file cannot be read. Each names the problem; none reveals the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BackupError {
    #[error("this is not a Witness backup file: it does not start with `WITNESSBK`")]
    BadMagic,
    #[error(
        "this backup uses format version {0}, which this Witness does not know (it reads \
         version {VERSION}); use the Witness version that made it"
    )]
    UnknownVersion(u8),
    #[error("the backup file is truncated: {actual} bytes where {expected} were expected")]
    Truncated { expected: u64, actual: u64 },
    #[error(
        "the backup file has {0} unexpected bytes after its end; it is damaged or not one file"
    )]
    TrailingBytes(u64),
    #[error(
        "wrong secret key: this backup was encrypted with a different key (or its header is \
         damaged); give the key of the server that made it"
    )]
    WrongKey,
    #[error(
        "the backup file is damaged: its contents do not match their authentication tag (a byte \
         was changed), so nothing in it can be trusted"
    )]
    Damaged,
    #[error("the backup decrypted but its contents are not valid: {0}")]
    InvalidPayload(String),
}

/// The unencrypted header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub version: u8,
    pub created_at: DateTime<Utc>,
    pub key_check: [u8; 8],
    pub sealed_len: u64,
    pub nonce: [u8; NONCE_LEN],
}

impl Header {
    pub fn to_bytes(&self) -> [u8; HEADER_LEN] {
        let mut bytes = [0u8; HEADER_LEN];
        bytes[0..9].copy_from_slice(MAGIC);
        bytes[9] = self.version;
        bytes[10..18].copy_from_slice(&self.created_at.timestamp_millis().to_be_bytes());
        bytes[18..26].copy_from_slice(&self.key_check);
        bytes[26..34].copy_from_slice(&self.sealed_len.to_be_bytes());
        bytes[34..46].copy_from_slice(&self.nonce);
        bytes
    }

    /// Reads and checks the header at the start of `bytes` (which may be only the header or
    /// the whole file).
    pub fn parse(bytes: &[u8]) -> Result<Self, BackupError> {
        let magic_part = &bytes[..bytes.len().min(MAGIC.len())];
        if magic_part != &MAGIC[..magic_part.len()] {
            return Err(BackupError::BadMagic);
        }
        let truncated = || BackupError::Truncated {
            expected: HEADER_LEN as u64,
            actual: bytes.len() as u64,
        };
        let version = *bytes.get(9).ok_or_else(truncated)?;
        if version != VERSION {
            return Err(BackupError::UnknownVersion(version));
        }
        let header = bytes.get(..HEADER_LEN).ok_or_else(truncated)?;
        let array = |range: std::ops::Range<usize>| -> [u8; 8] {
            let mut out = [0u8; 8];
            out.copy_from_slice(&header[range]);
            out
        };
        let millis = i64::from_be_bytes(array(10..18));
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&header[34..46]);
        Ok(Header {
            version,
            // A damaged time that no calendar holds is caught by the tag; show the epoch.
            created_at: Utc
                .timestamp_millis_opt(millis)
                .single()
                .unwrap_or(DateTime::UNIX_EPOCH),
            key_check: array(18..26),
            sealed_len: u64::from_be_bytes(array(26..34)),
            nonce,
        })
    }
}

pub fn key_check(key: &SecretKey) -> [u8; 8] {
    let digest = Sha256::new()
        .chain_update(KEY_CHECK_CONTEXT)
        .chain_update(key.as_bytes())
        .finalize();
    let mut check = [0u8; 8];
    check.copy_from_slice(&digest[..8]);
    check
}

fn cipher(key: &SecretKey) -> Aes256Gcm {
    Aes256Gcm::new(&(*key.as_bytes()).into())
}

/// The whole file for `plaintext`, made at `created_at` (kept to the millisecond).
pub fn seal(
    key: &SecretKey,
    created_at: DateTime<Utc>,
    plaintext: &[u8],
) -> anyhow::Result<Vec<u8>> {
    let mut header = Header {
        version: VERSION,
        created_at,
        key_check: key_check(key),
        sealed_len: (plaintext.len() + TAG_LEN) as u64,
        nonce: rand::random(),
    };
    header.created_at = Utc
        .timestamp_millis_opt(created_at.timestamp_millis())
        .single()
        .unwrap_or(created_at);
    let header_bytes = header.to_bytes();
    let sealed = cipher(key)
        .encrypt(
            &header.nonce.into(),
            Payload {
                msg: plaintext,
                aad: &header_bytes,
            },
        )
        .map_err(|_| anyhow::anyhow!("encrypting the backup failed"))?;
    let mut file = Vec::with_capacity(HEADER_LEN + sealed.len());
    file.extend_from_slice(&header_bytes);
    file.extend_from_slice(&sealed);
    Ok(file)
}

/// Checks everything and decrypts: the header, the key, the length, the tag.
pub fn open(key: &SecretKey, file: &[u8]) -> Result<(Header, Vec<u8>), BackupError> {
    let header = Header::parse(file)?;
    let body = &file[HEADER_LEN..];
    if header.key_check != key_check(key) {
        return Err(BackupError::WrongKey);
    }
    let actual = body.len() as u64;
    if actual < header.sealed_len {
        return Err(BackupError::Truncated {
            expected: HEADER_LEN as u64 + header.sealed_len,
            actual: file.len() as u64,
        });
    }
    if actual > header.sealed_len {
        return Err(BackupError::TrailingBytes(actual - header.sealed_len));
    }
    if header.sealed_len < TAG_LEN as u64 {
        return Err(BackupError::Damaged);
    }
    // Authenticate the header bytes exactly as they are in the file.
    let aad = &file[..HEADER_LEN];
    let plaintext = cipher(key)
        .decrypt(&header.nonce.into(), Payload { msg: body, aad })
        .map_err(|_| BackupError::Damaged)?;
    Ok((header, plaintext))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> (SecretKey, Vec<u8>) {
        let key = SecretKey::generate();
        let file = seal(&key, Utc::now(), br#"{"hello":"world"}"#).expect("sealed");
        (key, file)
    }

    #[test]
    fn round_trips_and_keeps_the_time_to_the_millisecond() {
        let key = SecretKey::generate();
        let at = Utc
            .timestamp_millis_opt(1_795_000_000_123)
            .single()
            .expect("time");
        let file = seal(&key, at, b"payload").expect("sealed");
        assert_eq!(&file[..9], b"WITNESSBK");
        assert_eq!(file.len(), HEADER_LEN + 7 + TAG_LEN);
        let (header, plaintext) = open(&key, &file).expect("opens");
        assert_eq!(plaintext, b"payload");
        assert_eq!(header.created_at, at);
        assert_eq!(Header::parse(&file[..HEADER_LEN]).expect("header"), header);
    }

    #[test]
    fn two_backups_of_the_same_data_use_different_nonces() {
        let key = SecretKey::generate();
        let at = Utc::now();
        let a = seal(&key, at, b"same").expect("a");
        let b = seal(&key, at, b"same").expect("b");
        assert_ne!(a[34..46], b[34..46]);
        assert_ne!(a[HEADER_LEN..], b[HEADER_LEN..]);
    }

    #[test]
    fn every_kind_of_damage_is_named() {
        let (key, file) = sample();
        assert_eq!(
            open(&SecretKey::generate(), &file),
            Err(BackupError::WrongKey)
        );
        assert!(matches!(
            open(&key, &file[..file.len() - 1]),
            Err(BackupError::Truncated { .. })
        ));
        assert!(matches!(
            open(&key, &file[..20]),
            Err(BackupError::Truncated { .. })
        ));
        assert!(matches!(
            open(&key, &file[..5]),
            Err(BackupError::Truncated { .. })
        ));
        let mut longer = file.clone();
        longer.push(0);
        assert_eq!(open(&key, &longer), Err(BackupError::TrailingBytes(1)));
        let mut magic = file.clone();
        magic[0] ^= 1;
        assert_eq!(open(&key, &magic), Err(BackupError::BadMagic));
        let mut version = file.clone();
        version[9] = 2;
        assert_eq!(open(&key, &version), Err(BackupError::UnknownVersion(2)));
        // Every byte of the time, the nonce, the ciphertext and the tag is authenticated.
        for index in (10..18).chain(34..file.len()) {
            let mut flipped = file.clone();
            flipped[index] ^= 0x40;
            assert_eq!(
                open(&key, &flipped),
                Err(BackupError::Damaged),
                "byte {index}"
            );
        }
        assert_eq!(
            open(&key, b""),
            Err(BackupError::Truncated {
                expected: 46,
                actual: 0
            })
        );
    }
}
