//! The working tree: the merge base with the base branch against every staged, unstaged and
//! untracked file, and reading a working-tree file without leaving the repository.

use git2::Repository;

use super::Plan;
use super::base::{commits_between, default_base, head_commit, merge_base, resolve_base};
use super::index::current_index;
use super::jobs::{Jobs, NewBlobs, diff_options, find_renames, plan_delta};
use super::open::{diff_error, object_error, repo_root, short, workdir};
use crate::diff::{ChangeSet, NewSide, OldSide};
use crate::error::Result;

/// Paths the index marks skip-worktree (left out of a sparse checkout).
fn skip_worktree_paths(index: &git2::Index) -> std::collections::HashSet<Vec<u8>> {
    index
        .iter()
        .filter(|e| e.flags_extended & crate::diff::paths::SKIP_WORKTREE != 0)
        .map(|e| e.path)
        .collect()
}

pub(super) fn working_tree<'r>(repo: &'r Repository, base: Option<&str>) -> Result<Plan<'r>> {
    let workdir = workdir(repo, "the working tree")?;
    let head = head_commit(repo)?;
    let (old_tree, commits, description, old_side) = match &head {
        None => (
            None,
            Vec::new(),
            "empty tree (no commits yet) → working tree".to_string(),
            OldSide::Empty,
        ),
        Some(head) => {
            let (label, base) = match base {
                Some(rev) => resolve_base(repo, rev)?,
                None => default_base(repo).unwrap_or_else(|| ("HEAD".into(), head.clone())),
            };
            let merge_base = merge_base(repo, head.id(), "HEAD", base.id(), &label)?;
            let description = if base.id() == head.id() && label == "HEAD" {
                format!("HEAD ({}) → working tree", short(head.id()))
            } else {
                format!(
                    "merge base of HEAD and {label} ({}) → working tree",
                    short(merge_base)
                )
            };
            let tree = repo
                .find_commit(merge_base)
                .and_then(|c| c.tree())
                .map_err(|e| object_error(repo, &format!("merge base {merge_base}"), &e))?;
            let commits = commits_between(repo, merge_base, head.id())?;
            let old_side = OldSide::Commit {
                repo: repo_root(repo),
                commit: merge_base.to_string(),
            };
            (Some(tree), commits, description, old_side)
        }
    };
    let mut opts = diff_options();
    opts.include_untracked(true)
        .recurse_untracked_dirs(true)
        .show_untracked_content(true);
    let mut diff = repo
        .diff_tree_to_workdir_with_index(old_tree.as_ref(), Some(&mut opts))
        .map_err(|e| diff_error(repo, "the working tree", &e))?;
    find_renames(repo, &mut diff, true)?;
    // A sparse checkout leaves files out of the working tree on purpose (git marks them
    // skip-worktree in the index): their committed and staged versions are read from the index,
    // not taken for deleted or unchanged.
    let index = current_index(repo).map_err(|e| diff_error(repo, "the index", &e))?;
    let skipped = skip_worktree_paths(&index);
    let mut jobs: Jobs = diff
        .deltas()
        .enumerate()
        .filter(|(_, delta)| {
            skipped.is_empty()
                || ![delta.old_file(), delta.new_file()]
                    .iter()
                    .any(|f| f.path_bytes().is_some_and(|p| skipped.contains(p)))
        })
        .filter_map(|(idx, delta)| plan_delta(idx, &delta, NewBlobs::Worktree))
        .collect();
    if !skipped.is_empty() {
        let mut opts = diff_options();
        opts.disable_pathspec_match(true);
        for path in &skipped {
            opts.pathspec(crate::diff::paths::path_of(path));
        }
        let stored = repo
            .diff_tree_to_index(old_tree.as_ref(), Some(&index), Some(&mut opts))
            .map_err(|e| diff_error(repo, "the sparse checkout's index", &e))?;
        for (file, job) in stored
            .deltas()
            .enumerate()
            .filter_map(|(idx, delta)| plan_delta(idx, &delta, NewBlobs::Stored))
        {
            jobs.push(file, job);
        }
    }
    let change = ChangeSet {
        files: Vec::new(),
        commits,
        new_side: NewSide::Worktree(workdir),
        old_side,
        description,
        head_commit: head.map(|c| c.id().to_string()),
    };
    Ok(Plan {
        change,
        jobs,
        diff: Some(diff),
    })
}
