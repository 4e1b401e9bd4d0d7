//! A range: the merge base of a base and a head against the head, as a pull request shows it.

use git2::Repository;

use super::Plan;
use super::base::{commits_between, merge_base, resolve_base, resolve_commit, tree_of};
use super::jobs::{diff_options, find_renames, stored_jobs};
use super::open::{diff_error, object_error, repo_root, short};
use crate::diff::{ChangeSet, NewSide, OldSide};
use crate::error::Result;

pub(super) fn range<'r>(repo: &'r Repository, base_rev: &str, head_rev: &str) -> Result<Plan<'r>> {
    let (base_label, base) = resolve_base(repo, base_rev)?;
    let head = resolve_commit(repo, head_rev)?;
    let merge_base = merge_base(repo, head.id(), head_rev, base.id(), &base_label)?;
    let old_tree = repo
        .find_commit(merge_base)
        .and_then(|c| c.tree())
        .map_err(|e| object_error(repo, &format!("merge base {merge_base}"), &e))?;
    let new_tree = tree_of(repo, &head, head_rev)?;
    let mut diff = repo
        .diff_tree_to_tree(Some(&old_tree), Some(&new_tree), Some(&mut diff_options()))
        .map_err(|e| diff_error(repo, &format!("{base_label}...{head_rev}"), &e))?;
    find_renames(repo, &mut diff, false)?;
    let change = ChangeSet {
        files: Vec::new(),
        commits: commits_between(repo, merge_base, head.id())?,
        new_side: NewSide::Commit {
            repo: repo_root(repo),
            commit: head.id().to_string(),
        },
        old_side: OldSide::Commit {
            repo: repo_root(repo),
            commit: merge_base.to_string(),
        },
        description: format!(
            "merge base of {base_label} and {head_rev} ({}) → {head_rev} ({})",
            short(merge_base),
            short(head.id())
        ),
        head_commit: Some(head.id().to_string()),
    };
    Ok(Plan {
        change,
        jobs: stored_jobs(&diff),
        diff: None,
    })
}
