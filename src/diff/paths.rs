//! Paths as a diff names them: repo-relative, `/`-separated, sometimes not UTF-8. Turning them
//! into file-system paths, and reading a working-tree file without leaving the repository.

use std::path::{Component, Path, PathBuf};

/// `GIT_INDEX_ENTRY_SKIP_WORKTREE`, in an index entry's extended flags: a file a sparse
/// checkout leaves out of the working tree.
pub const SKIP_WORKTREE: u16 = 1 << 14;

/// A path named by its bytes, as git stores it.
#[cfg(unix)]
pub fn path_of(bytes: &[u8]) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    PathBuf::from(std::ffi::OsStr::from_bytes(bytes))
}

#[cfg(not(unix))]
pub fn path_of(bytes: &[u8]) -> PathBuf {
    PathBuf::from(String::from_utf8_lossy(bytes).into_owned())
}

/// A relative path with no `..`: the only kind a diff can name.
pub fn is_repo_relative(path: &str) -> bool {
    !path.is_empty()
        && Path::new(path)
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
}

/// Reads a working-tree file without ever leaving `root`: a symlink yields its target text (what
/// git stores for it), not the file it points to, and a path through a symlinked folder that
/// leads outside is refused.
pub fn read_worktree_file(root: &Path, path: &str) -> Option<Vec<u8>> {
    let full = root.join(path);
    let meta = std::fs::symlink_metadata(&full).ok()?;
    let root = root.canonicalize().ok()?;
    let parent = full.parent()?.canonicalize().ok()?;
    if !parent.starts_with(&root) {
        return None;
    }
    if meta.file_type().is_symlink() {
        return Some(
            std::fs::read_link(&full)
                .ok()?
                .into_os_string()
                .into_encoded_bytes(),
        );
    }
    if !meta.is_file() {
        return None;
    }
    std::fs::read(parent.join(full.file_name()?)).ok()
}
