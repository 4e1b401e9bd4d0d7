//! The index against HEAD: what `git commit` would record, from the index git itself would use.

use std::path::Path;

use git2::Repository;

use super::Plan;
use super::base::{head_commit, tree_of};
use super::jobs::{diff_options, find_renames, stored_jobs};
use super::open::{diff_error, repo_root, short, workdir};
use crate::diff::{ChangeSet, NewSide, OldSide};
use crate::error::{Error, Result};

/// The index git itself would use: `GIT_INDEX_FILE` when set (a pre-commit hook of
/// `git commit -a` or `git commit <path>` stages into a temporary index), else `.git/index`.
pub(super) fn current_index(repo: &Repository) -> std::result::Result<git2::Index, git2::Error> {
    match std::env::var_os("GIT_INDEX_FILE").filter(|p| !p.is_empty()) {
        Some(path) => {
            let path = Path::new(&path);
            // Hooks run at the top of the work tree, where a relative path is meant.
            let path = match (path.is_relative(), repo.workdir()) {
                (true, Some(root)) if !path.exists() => root.join(path),
                _ => path.to_path_buf(),
            };
            git2::Index::open(&path)
        }
        None => repo.index(),
    }
}

pub(super) fn staged(repo: &Repository) -> Result<Plan<'_>> {
    let workdir = workdir(repo, "an index")?;
    let head = head_commit(repo)?;
    let old_tree = head
        .as_ref()
        .map(|c| tree_of(repo, c, "HEAD"))
        .transpose()?;
    let index = current_index(repo).map_err(|e| {
        Error::repository(
            format!(
                "cannot read the index of {}: {}",
                workdir.display(),
                e.message()
            ),
            "check that .git/index is readable; `git status` shows whether git itself can read it",
        )
    })?;
    let mut diff = repo
        .diff_tree_to_index(old_tree.as_ref(), Some(&index), Some(&mut diff_options()))
        .map_err(|e| diff_error(repo, "the index", &e))?;
    find_renames(repo, &mut diff, false)?;
    let description = match &head {
        Some(c) => format!("HEAD ({}) → index", short(c.id())),
        None => "empty tree (no commits yet) → index".to_string(),
    };
    Ok(Plan {
        change: ChangeSet {
            files: Vec::new(),
            commits: Vec::new(),
            new_side: NewSide::Index(workdir),
            old_side: match &head {
                Some(c) => OldSide::Commit {
                    repo: repo_root(repo),
                    commit: c.id().to_string(),
                },
                None => OldSide::Empty,
            },
            description,
            head_commit: head.map(|c| c.id().to_string()),
        },
        jobs: stored_jobs(&diff),
        diff: None,
    })
}
