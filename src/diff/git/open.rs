//! Opening a repository: finding it from a folder or `GIT_DIR`, the errors that explain why it
//! does not open (another user's checkout and `safe.directory`), a handle per worker thread with
//! an object database of its own, and the errors every reader shares.

use std::path::{Path, PathBuf};

use git2::{Oid, Repository};

use crate::error::{Error, Result};

pub(super) const SHALLOW_HELP: &str = "fetch the full history: in GitHub Actions set `fetch-depth: 0` on actions/checkout; elsewhere run `git fetch --unshallow`";

/// Opens the repository containing `start`.
pub fn discover(start: &Path) -> Result<git2::Repository> {
    find(start)?.ok_or_else(|| {
        Error::repository(
            format!("{} is not inside a git repository", start.display()),
            "run forewarn inside a git checkout, or pipe a diff in: git diff | forewarn check --patch -",
        )
    })
}

/// The repository containing `start`, as git finds it: `GIT_DIR` (with `GIT_WORK_TREE`) when
/// set, else the nearest `.git` above `start`. `None` only when there is none; a repository
/// that is there but cannot be opened (owned by another user, a broken `GIT_DIR`) is an error
/// naming the cause, never "not a repository".
pub fn find(start: &Path) -> Result<Option<git2::Repository>> {
    let from_env = std::env::var_os("GIT_DIR").is_some_and(|d| !d.is_empty());
    let opened = if from_env {
        git2::Repository::open_from_env()
    } else {
        git2::Repository::discover(start)
    };
    match opened {
        Ok(repo) => Ok(Some(repo)),
        Err(e) if e.code() == git2::ErrorCode::Owner => Err(Error::repository(
            format!(
                "the repository at {} belongs to another user, and git does not open it ({})",
                start.display(),
                e.message()
            ),
            format!(
                "if you trust it, mark it safe: git config --global --add safe.directory '{}' (in a container, run as the owner of the checkout instead)",
                start.display()
            ),
        )),
        Err(e) if from_env => Err(Error::repository(
            format!(
                "GIT_DIR={} does not open as a git repository: {}",
                std::env::var_os("GIT_DIR")
                    .unwrap_or_default()
                    .to_string_lossy(),
                e.message()
            ),
            "point GIT_DIR at a repository's .git folder (and GIT_WORK_TREE at its working tree), or unset them",
        )),
        Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
        Err(e) => Err(Error::repository(
            format!(
                "cannot open the git repository at {}: {}",
                start.display(),
                e.message()
            ),
            "check that the .git folder is readable and whole (git status shows the same error)",
        )),
    }
}

/// Opens the repository at `git_dir` for one worker thread, with an object database of its
/// own.
///
/// libgit2 keeps one shared record per pack file in the process, keyed by the pack's path, and
/// every read from it takes that record's locks: threads reading the same pack through their
/// own handles still wait on each other (most of a parallel backtest's time went there). The
/// pack is keyed by the path exactly as given, so each thread names the objects folder its own
/// way (`objects/./././`, as many `./` as its index) and gets a record, and locks, of its own.
/// Only a short process-wide lock on the memory map remains shared. A path that is not UTF-8
/// keeps the shared database.
pub fn open_for_thread(git_dir: &Path) -> Option<Repository> {
    let thread = rayon::current_thread_index().unwrap_or(0);
    open_with_own_objects(git_dir, thread).map(|(repo, _)| repo)
}

/// [`open_for_thread`] for thread number `thread`; the flag says whether the repository got an
/// object database of its own.
pub(super) fn open_with_own_objects(git_dir: &Path, thread: usize) -> Option<(Repository, bool)> {
    init();
    let repo = Repository::open(git_dir).ok()?;
    // A linked worktree's objects live in the main repository's folder.
    let mut objects = repo.commondir().join("objects");
    for _ in 0..=thread {
        objects.push(".");
    }
    // The new database must find HEAD's commit before it replaces the shared one; an unborn
    // HEAD keeps the shared one.
    let head = repo.head().ok().and_then(|h| h.target());
    let own = match (objects.to_str(), head) {
        (Some(path), Some(head)) => git2::Odb::new().is_ok_and(|odb| {
            // Alternates (`objects/info/alternates`) are loaded along with it.
            odb.add_disk_alternate(path).is_ok() && odb.exists(head) && repo.set_odb(&odb).is_ok()
        }),
        _ => false,
    };
    Some((repo, own))
}

/// Process-wide libgit2 settings, set once before the first read.
pub(super) fn init() {
    static INIT: std::sync::Once = std::sync::Once::new();
    INIT.call_once(|| {
        // Objects are read from the local object store that git wrote; re-hashing every tree
        // and blob on read (SHA-1 with collision detection) was the largest single cost of a
        // large check. git itself does not verify on ordinary reads either.
        git2::opts::strict_hash_verification(false);
    });
}

pub(super) fn workdir(repo: &Repository, what: &str) -> Result<PathBuf> {
    repo.workdir().map(Path::to_path_buf).ok_or_else(|| {
        Error::repository(
            format!(
                "{} is a bare repository: it has no {what}",
                repo.path().display()
            ),
            "compare commits instead: --base <rev> --head <rev>, or --commit <rev>",
        )
    })
}

/// The working tree root, or the git directory of a bare repository.
pub(super) fn repo_root(repo: &Repository) -> PathBuf {
    repo.workdir().unwrap_or(repo.path()).to_path_buf()
}

pub(super) fn short(id: Oid) -> String {
    let mut s = id.to_string();
    s.truncate(8);
    s
}

pub(super) fn object_error(repo: &Repository, what: &str, e: &git2::Error) -> Error {
    let mut help = "check the repository with `git fsck`".to_string();
    if repo.is_shallow() {
        help = format!("this clone is shallow, so some objects are missing; {SHALLOW_HELP}");
    }
    Error::repository(
        format!(
            "cannot read {what} in {}: {}",
            repo_root(repo).display(),
            e.message()
        ),
        help,
    )
}

pub(super) fn diff_error(repo: &Repository, what: &str, e: &git2::Error) -> Error {
    Error::repository(
        format!(
            "cannot diff {what} in {}: {}",
            repo_root(repo).display(),
            e.message()
        ),
        "check that `git diff` works in this repository; a file that cannot be read (permissions) is a common cause",
    )
}
