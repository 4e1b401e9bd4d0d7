//! Changes read from a git repository with libgit2: a range, the merge base with the default
//! branch against the working tree, the index, or one commit.

use std::path::Path;

use super::{ChangeSet, NewSide};
use crate::error::{Error, Result};

/// Which change to read from the repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// The merge base of HEAD with `base` (or, when `None`, with the upstream or default branch)
    /// against the working tree: staged, unstaged and untracked-but-not-ignored files.
    WorkingTree { base: Option<String> },
    /// The merge base of `base` and `head` against `head` (what a pull request shows).
    Range { base: String, head: String },
    /// The index against HEAD (what `git commit` would record).
    Staged,
    /// One commit against its first parent.
    Commit(String),
}

/// Opens the repository containing `start`.
pub fn discover(start: &Path) -> Result<git2::Repository> {
    git2::Repository::discover(start).map_err(|e| {
        Error::repository(
            format!("{} is not inside a git repository ({})", start.display(), e.message()),
            "run forewarn inside a git checkout, or pipe a diff in: git diff | forewarn check --patch -",
        )
    })
}

/// Reads the change `input` names. `default_base` is `forewarn.toml`'s `base`, if any.
pub fn changes(
    _repo: &git2::Repository,
    _input: &Input,
    _default_base: Option<&str>,
) -> Result<ChangeSet> {
    Err(Error::usage("git input is not built yet", "use --patch"))
}

/// The bytes of the new version of `path`, read from where `new_side` says.
pub fn read_new_file(_new_side: &NewSide, _path: &str) -> Option<Vec<u8>> {
    None
}
