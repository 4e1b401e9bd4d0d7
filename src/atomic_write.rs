//! Writing a file whole or not at all, the one way every writer does it (reports, records,
//! ledger events, git hooks, the hotspots cache): the bytes go to a temporary file in the same
//! folder, are synced, and the temporary file is renamed into place, so a reader sees the old
//! file or the whole new one, never a part.
//!
//! Callers keep their own text: line endings and a byte-order mark are whatever the caller
//! wrote (records keep CRLF and BOM), and each caller says what failed in its own words, so the
//! functions here return plain `io::Error`s.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

use crate::error::{Error, Result};

/// Refuses a path inside a `.git` folder (after following links): a file written there could
/// replace a hook or the config git runs, so `-o .git/hooks/pre-commit` is an error.
pub fn refuse_git_dir(path: &Path) -> Result<()> {
    let dir = folder_of(path);
    let real = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    let named = path.file_name().is_some_and(|n| n == ".git");
    if named || real.components().any(|c| c.as_os_str() == ".git") {
        return Err(Error::usage(
            format!(
                "{} is inside a .git folder; forewarn does not write reports there",
                path.display()
            ),
            "write the report into the working tree or a temporary folder, e.g. -o forewarn-report.txt",
        ));
    }
    Ok(())
}

/// Replaces `path` with `bytes` through a temporary file in the same folder and a rename. A
/// file already there keeps its mode (its owner chose it); a new one is 0644, for everyone who
/// can read the folder (not tempfile's 0600). A symbolic link at `path` is replaced, not
/// written through.
pub fn replace(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let kept = std::fs::symlink_metadata(path)
        .ok()
        .filter(|m| m.is_file())
        .map(|m| m.permissions());
    let tmp = written(folder_of(path), ".forewarn-", bytes, kept)?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Writes `bytes` to a new file in `dir`, named by `name`, never replacing one: the rename fails
/// rather than replace a file, and another name is tried (up to 16 times) when one is taken, so
/// any number of writers at once lose nothing. The file is 0644. Returns the path written.
pub fn create_new(
    dir: &Path,
    prefix: &str,
    bytes: &[u8],
    mut name: impl FnMut() -> PathBuf,
) -> std::io::Result<PathBuf> {
    let mut tmp = written(dir, prefix, bytes, None)?;
    let mut attempt = 0;
    loop {
        let path = dir.join(name());
        match tmp.persist_noclobber(&path) {
            Ok(_) => return Ok(path),
            Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists && attempt < 16 => {
                attempt += 1;
                tmp = e.file;
            }
            Err(e) => return Err(e.error),
        }
    }
}

/// A temporary file in `dir` holding `bytes`, synced, with `permissions` (or 0644), ready to be
/// renamed into place.
fn written(
    dir: &Path,
    prefix: &str,
    bytes: &[u8],
    permissions: Option<std::fs::Permissions>,
) -> std::io::Result<NamedTempFile> {
    let mut tmp = tempfile::Builder::new()
        .prefix(prefix)
        .suffix(".tmp")
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    #[cfg(unix)]
    let permissions = permissions.or_else(|| {
        use std::os::unix::fs::PermissionsExt;
        Some(std::fs::Permissions::from_mode(0o644))
    });
    if let Some(permissions) = permissions {
        tmp.as_file().set_permissions(permissions)?;
    }
    Ok(tmp)
}

/// The folder `path` is in; `.` for a bare file name.
fn folder_of(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_new_never_replaces_a_file_and_tries_another_name() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("taken.json"), "old").unwrap();
        let mut names = ["taken.json", "free.json"].into_iter().map(PathBuf::from);
        let written = create_new(dir.path(), ".event-", b"new", || names.next().unwrap()).unwrap();
        assert_eq!(written, dir.path().join("free.json"));
        assert_eq!(
            std::fs::read_to_string(dir.path().join("taken.json")).unwrap(),
            "old"
        );
        assert_eq!(std::fs::read_to_string(&written).unwrap(), "new");
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 2, "no temporary file is left behind");
    }

    #[test]
    fn replace_keeps_the_bytes_as_given() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("record.toml");
        let text = "\u{feff}id = \"x\"\r\n";
        replace(&path, text.as_bytes()).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), text.as_bytes());
    }
}
