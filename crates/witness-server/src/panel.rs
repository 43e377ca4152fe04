//! The built panel (trunk's `dist`): served as static files, each also as a brotli and a gzip
//! file written next to it once, so that no request compresses the panel.
//!
//! [`precompress`] runs at start-up: for every asset it writes `NAME.br` and `NAME.gz` when they
//! are missing or stale (their modification time differs from the asset's, which they are
//! given when written). [`service`] answers with `NAME.br` or `NAME.gz` when the request's
//! `Accept-Encoding` allows it and the file exists, otherwise with the asset itself, and says
//! `Vary: Accept-Encoding` on every answer.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use axum::http::{HeaderValue, header};
use tower::Layer;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::{SetResponseHeader, SetResponseHeaderLayer};

/// Brotli's densest setting and its largest standard window: written once, read many times.
const BROTLI_QUALITY: u32 = 11;
const BROTLI_WINDOW_BITS: u32 = 24;
/// The kinds of file worth compressing (the rest of a `dist`, if any, is already compressed).
const COMPRESSIBLE: &[&str] = &[
    "html", "js", "mjs", "css", "wasm", "json", "svg", "txt", "map", "xml",
];

/// The two encodings written next to each asset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Brotli,
    Gzip,
}

impl Encoding {
    pub const ALL: [Encoding; 2] = [Encoding::Brotli, Encoding::Gzip];

    /// The suffix of the file holding an asset in this encoding (as `ServeDir` looks for it).
    pub fn extension(self) -> &'static str {
        match self {
            Encoding::Brotli => "br",
            Encoding::Gzip => "gz",
        }
    }

    fn compress(self, input: &[u8]) -> io::Result<Vec<u8>> {
        match self {
            Encoding::Brotli => {
                let mut output = Vec::with_capacity(input.len() / 3);
                {
                    let mut writer = brotli::CompressorWriter::new(
                        &mut output,
                        64 * 1024,
                        BROTLI_QUALITY,
                        BROTLI_WINDOW_BITS,
                    );
                    writer.write_all(input)?;
                }
                Ok(output)
            }
            Encoding::Gzip => {
                let mut writer = flate2::write::GzEncoder::new(
                    Vec::with_capacity(input.len() / 3),
                    flate2::Compression::best(),
                );
                writer.write_all(input)?;
                writer.finish()
            }
        }
    }
}

/// What [`precompress`] did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Precompressed {
    /// Compressed files written (missing or stale before).
    pub written: usize,
    /// Compressed files already up to date.
    pub fresh: usize,
}

/// The file holding `asset` in `encoding`: `app.wasm` → `app.wasm.br`.
pub fn encoded_path(asset: &Path, encoding: Encoding) -> PathBuf {
    let mut name = asset.as_os_str().to_owned();
    name.push(".");
    name.push(encoding.extension());
    PathBuf::from(name)
}

/// Writes the missing or stale `.br` and `.gz` of every compressible asset under `dir`
/// (recursively). A compressed file is written to a temporary name and renamed into place, so
/// a concurrent reader (another server on the same `dist`, a request) sees the old file or the
/// whole new one. An encoding that would not make an asset smaller is not written (and a stale
/// one is removed), so such an asset is served as it is.
pub fn precompress(dir: &Path) -> io::Result<Precompressed> {
    let mut done = Precompressed::default();
    for asset in assets(dir)? {
        let modified = std::fs::metadata(&asset)?.modified()?;
        let mut contents = None;
        for encoding in Encoding::ALL {
            let target = encoded_path(&asset, encoding);
            if modified_time(&target) == Some(modified) {
                done.fresh += 1;
                continue;
            }
            if contents.is_none() {
                contents = Some(std::fs::read(&asset)?);
            }
            let input = contents.as_deref().unwrap_or_default();
            let compressed = encoding.compress(input)?;
            if compressed.len() < input.len() {
                write_replacing(&target, &compressed, modified)?;
                done.written += 1;
            } else if target.exists() {
                std::fs::remove_file(&target)?;
            }
        }
    }
    Ok(done)
}

fn modified_time(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path)
        .and_then(|meta| meta.modified())
        .ok()
}

/// Every regular file under `dir` whose extension is in [`COMPRESSIBLE`].
fn assets(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        for entry in std::fs::read_dir(&current)? {
            let entry = entry?;
            let kind = entry.file_type()?;
            let path = entry.path();
            if kind.is_dir() {
                pending.push(path);
            } else if kind.is_file()
                && path
                    .extension()
                    .and_then(|extension| extension.to_str())
                    .is_some_and(|extension| COMPRESSIBLE.contains(&extension))
            {
                found.push(path);
            }
        }
    }
    found.sort();
    Ok(found)
}

/// Writes `bytes` to `target` through a temporary file in the same directory, gives it the
/// asset's modification time (what marks it fresh), and renames it into place.
fn write_replacing(target: &Path, bytes: &[u8], modified: SystemTime) -> io::Result<()> {
    let mut temporary = target.as_os_str().to_owned();
    temporary.push(format!(".{}.tmp", std::process::id()));
    let temporary = PathBuf::from(temporary);
    let result = (|| {
        let mut file = File::create(&temporary)?;
        file.write_all(bytes)?;
        file.set_modified(modified)?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&temporary, target)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    result
}

/// The service answering every path the API does not: the file under `dir`, in the best
/// precompressed encoding the client accepts, or `index.html` for client routes such as
/// `/audit`.
pub fn service(dir: &Path) -> SetResponseHeader<ServeDir<ServeFile>, HeaderValue> {
    let index = ServeFile::new(dir.join("index.html"))
        .precompressed_br()
        .precompressed_gzip();
    let files = ServeDir::new(dir)
        .precompressed_br()
        .precompressed_gzip()
        .fallback(index);
    // The answer depends on Accept-Encoding whichever file was sent, so caches must key on it.
    SetResponseHeaderLayer::if_not_present(
        header::VARY,
        HeaderValue::from_static("accept-encoding"),
    )
    .layer(files)
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    fn decode(encoding: Encoding, bytes: &[u8]) -> Vec<u8> {
        let mut decoded = Vec::new();
        match encoding {
            Encoding::Brotli => {
                brotli::Decompressor::new(bytes, 4096)
                    .read_to_end(&mut decoded)
                    .expect("brotli");
            }
            Encoding::Gzip => {
                flate2::read::GzDecoder::new(bytes)
                    .read_to_end(&mut decoded)
                    .expect("gzip");
            }
        }
        decoded
    }

    #[test]
    fn writes_each_encoding_once_and_again_when_the_asset_changes() {
        let dir = tempfile::tempdir().expect("dir");
        let asset = dir.path().join("app.js");
        std::fs::write(&asset, "console.log('witness');\n".repeat(100)).expect("asset");
        std::fs::create_dir(dir.path().join("snippets")).expect("subdirectory");
        let nested = dir.path().join("snippets").join("inline0.js");
        std::fs::write(&nested, "export const a = 1;\n".repeat(50)).expect("nested");
        std::fs::write(dir.path().join("logo.png"), [0u8; 500]).expect("png");

        assert_eq!(precompress(dir.path()).expect("first").written, 4);
        for path in [&asset, &nested] {
            for encoding in Encoding::ALL {
                let bytes = std::fs::read(encoded_path(path, encoding)).expect("written");
                assert_eq!(
                    decode(encoding, &bytes),
                    std::fs::read(path).expect("asset")
                );
            }
        }
        assert!(!dir.path().join("logo.png.gz").exists());
        assert_eq!(
            precompress(dir.path()).expect("second"),
            Precompressed {
                written: 0,
                fresh: 4
            }
        );

        // A rebuilt asset (another modification time) makes both of its files stale.
        std::fs::write(&asset, "console.log('rebuilt');\n".repeat(100)).expect("rebuild");
        let later = SystemTime::now() + std::time::Duration::from_secs(5);
        File::options()
            .write(true)
            .open(&asset)
            .and_then(|file| file.set_modified(later))
            .expect("touch");
        assert_eq!(precompress(dir.path()).expect("third").written, 2);
        let gzip = std::fs::read(encoded_path(&asset, Encoding::Gzip)).expect("gz");
        assert_eq!(
            decode(Encoding::Gzip, &gzip),
            std::fs::read(&asset).expect("asset")
        );
    }

    #[test]
    fn an_asset_compression_cannot_shrink_is_served_as_it_is() {
        let dir = tempfile::tempdir().expect("dir");
        let asset = dir.path().join("tiny.wasm");
        std::fs::write(&asset, b"\0asm\x01\0\0\0").expect("asset");
        // Left by an earlier build (so with an older modification time).
        let stale = encoded_path(&asset, Encoding::Gzip);
        std::fs::write(&stale, b"stale").expect("stale");
        File::options()
            .write(true)
            .open(&stale)
            .and_then(|file| file.set_modified(SystemTime::UNIX_EPOCH))
            .expect("age");
        precompress(dir.path()).expect("precompress");
        for encoding in Encoding::ALL {
            assert!(!encoded_path(&asset, encoding).exists(), "{encoding:?}");
        }
    }
}
