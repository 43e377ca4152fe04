//! Filesystem rules for the data directory: only the user running Witness may read it.

use std::path::Path;

/// Makes `dir` readable only by its owner (0700) and every file and directory inside it too
/// (files 0600, directories 0700), recursively. On other systems than Unix it does nothing.
pub fn make_private(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            let kind = entry.file_type()?;
            if kind.is_dir() {
                make_private(&entry.path())?;
            } else if kind.is_file() {
                std::fs::set_permissions(entry.path(), std::fs::Permissions::from_mode(0o600))?;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Creates `dir` (and missing parents) and makes it owner-only (0700).
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::make_private;

    #[test]
    fn everything_inside_becomes_owner_only() {
        let dir = tempfile::tempdir().expect("dir");
        let inner = dir.path().join("Backups");
        std::fs::create_dir(&inner).expect("inner");
        std::fs::write(dir.path().join("witness.db"), "x").expect("file");
        std::fs::write(inner.join("b.wbk"), "x").expect("file");
        make_private(dir.path()).expect("private");
        let mode = |path: &std::path::Path| {
            std::fs::metadata(path).expect("meta").permissions().mode() & 0o777
        };
        assert_eq!(mode(dir.path()), 0o700);
        assert_eq!(mode(&inner), 0o700);
        assert_eq!(mode(&dir.path().join("witness.db")), 0o600);
        assert_eq!(mode(&inner.join("b.wbk")), 0o600);
    }
}

/// Fsyncs a directory so that a file created or renamed in it survives a crash.
pub fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(handle) = std::fs::File::open(dir) {
        let _ = handle.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}
