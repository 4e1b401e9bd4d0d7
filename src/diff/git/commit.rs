//! One commit against its first parent, and the many commits backtest replays: the two trees
//! compared directly, opening only the folders that differ.

use git2::{FileMode, Oid, Repository, Tree};

use super::base::{commit_info, is_shallow_boundary, resolve_commit, tree_of};
use super::content::attributes_may_set_diff;
use super::jobs::{Job, Jobs, Read, diff_options, find_renames, stored_jobs};
use super::open::SHALLOW_HELP;
use super::open::{diff_error, init, object_error, repo_root, short};
use super::{Plan, PlannedChange};
use crate::diff::{ChangeSet, ChangedFile, FileStatus, NewSide, OldSide, Unread};
use crate::error::{Error, Result};

/// Reads many single commits of one repository, as backtest does: what every commit would
/// otherwise work out again (whether any attributes file can set `diff`, which means reading
/// the config and looking through the index) is worked out once.
pub struct CommitReader {
    repo: Repository,
    attributes: std::cell::OnceCell<bool>,
}

impl CommitReader {
    pub fn new(repo: Repository) -> CommitReader {
        init();
        CommitReader {
            repo,
            attributes: std::cell::OnceCell::new(),
        }
    }

    pub fn repo(&self) -> &Repository {
        &self.repo
    }

    /// One commit against its first parent, as [`Input::Commit`] reads it.
    pub fn changes(&self, rev: &str) -> Result<ChangeSet> {
        let known = self
            .attributes
            .get_or_init(|| attributes_may_set_diff(&self.repo));
        let attributes = std::cell::OnceCell::from(*known);
        PlannedChange::new(&self.repo, one_commit(&self.repo, rev)?, attributes).read_all()
    }
}

pub(super) fn one_commit<'r>(repo: &'r Repository, rev: &str) -> Result<Plan<'r>> {
    let commit = resolve_commit(repo, rev)?;
    let parent = if commit.parent_count() > 0 {
        let parent = commit
            .parent(0)
            .map_err(|e| object_error(repo, &format!("the parent of {rev}"), &e))?;
        Some(tree_of(repo, &parent, &format!("{rev}^"))?)
    } else if is_shallow_boundary(repo, commit.id()) {
        return Err(Error::repository(
            format!(
                "cannot diff {rev} ({}) against its parent: the parent is not in this shallow clone",
                short(commit.id())
            ),
            SHALLOW_HELP,
        ));
    } else {
        None
    };
    let new_tree = tree_of(repo, &commit, rev)?;
    let description = match parent {
        Some(_) => format!("{rev} ({}) against its first parent", short(commit.id())),
        None => format!(
            "{rev} ({}), a root commit, against the empty tree",
            short(commit.id())
        ),
    };
    let old_side = match &parent {
        Some(_) => OldSide::Commit {
            repo: repo_root(repo),
            commit: commit
                .parent_id(0)
                .map(|id| id.to_string())
                .unwrap_or_default(),
        },
        None => OldSide::Empty,
    };
    let jobs = match &parent {
        Some(old_tree) => commit_jobs(repo, rev, old_tree, &new_tree)?,
        None => commit_jobs_via_diff(repo, rev, None, &new_tree)?,
    };
    let change = ChangeSet {
        files: Vec::new(),
        commits: vec![commit_info(&commit)],
        new_side: NewSide::Commit {
            repo: repo_root(repo),
            commit: commit.id().to_string(),
        },
        old_side,
        description,
        head_commit: Some(commit.id().to_string()),
    };
    Ok(Plan {
        change,
        jobs,
        diff: None,
    })
}

/// The files one commit changed against its parent. Backtest replays thousands of commits, so
/// this compares the two trees itself, opening only the folders whose ids differ, and reads the
/// changed blobs straight away. Only a commit that both adds and deletes files (a rename, which
/// needs libgit2's similarity detection) goes through a diff.
pub(super) fn commit_jobs(
    repo: &Repository,
    rev: &str,
    old_tree: &Tree<'_>,
    new_tree: &Tree<'_>,
) -> Result<Jobs> {
    let error = |e: git2::Error| diff_error(repo, rev, &e);
    let mut changes = Vec::new();
    tree_changes(repo, old_tree, new_tree, &mut Vec::new(), &mut changes).map_err(error)?;
    let adds = changes.iter().any(|c| c.old.is_none());
    let deletes = changes.iter().any(|c| c.new.is_none());
    if adds && deletes {
        return commit_jobs_via_diff(repo, rev, Some((old_tree, &changes)), new_tree);
    }
    let mut jobs = Jobs::default();
    for change in changes {
        expand_into_jobs(repo, change, &mut jobs).map_err(error)?;
    }
    Ok(jobs)
}

/// One entry that differs between two trees: a file, or a whole folder on one side only.
pub(super) struct TreeChange {
    pub(super) path: Vec<u8>,
    /// (id, mode) on each side; `None` where the side has no such entry.
    pub(super) old: Option<(Oid, i32)>,
    pub(super) new: Option<(Oid, i32)>,
}

pub(super) const TREE_MODE: i32 = 0o040000;
pub(super) const SUBMODULE_MODE: i32 = 0o160000;

/// The entries that differ between two trees, in path order. Folders with the same id on both
/// sides are not opened; a folder on one side only is one change (see [`expand_into_jobs`]).
/// Trees list entries in git's order (a folder sorts as if its name ended in `/`), which is the
/// order of full paths, so one merge pass pairs them.
pub(super) fn tree_changes(
    repo: &Repository,
    old: &Tree<'_>,
    new: &Tree<'_>,
    prefix: &mut Vec<u8>,
    out: &mut Vec<TreeChange>,
) -> std::result::Result<(), git2::Error> {
    use std::cmp::Ordering;
    /// One folder's entries on both sides, and how far the merge has got. Folders are opened
    /// with a stack of these, not by recursion: a tree can nest folders deeper than any
    /// thread's stack (20,000 levels abort a recursive walk).
    struct Frame {
        old: Vec<(Vec<u8>, Oid, i32)>,
        new: Vec<(Vec<u8>, Oid, i32)>,
        at: (usize, usize),
        /// Length of `prefix` before this folder's name was added.
        prefix_len: usize,
    }
    let entries = |tree: &Tree<'_>| -> Vec<(Vec<u8>, Oid, i32)> {
        tree.iter()
            .map(|e| (e.name_bytes().to_vec(), e.id(), e.filemode()))
            .collect()
    };
    // git's order: a folder's name compares as if it ended in `/`.
    let key = |e: &(Vec<u8>, Oid, i32)| -> Vec<u8> {
        let mut k = e.0.clone();
        if e.2 == TREE_MODE {
            k.push(b'/');
        }
        k
    };
    let mut stack = vec![Frame {
        old: entries(old),
        new: entries(new),
        at: (0, 0),
        prefix_len: prefix.len(),
    }];
    while let Some(frame) = stack.last_mut() {
        let (i, j) = frame.at;
        let order = match (frame.old.get(i), frame.new.get(j)) {
            (None, None) => {
                prefix.truncate(frame.prefix_len);
                stack.pop();
                continue;
            }
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (Some(x), Some(y)) => key(x).cmp(&key(y)),
        };
        let (x, y) = match order {
            Ordering::Less => (frame.old.get(i), None),
            Ordering::Greater => (None, frame.new.get(j)),
            Ordering::Equal => (frame.old.get(i), frame.new.get(j)),
        };
        frame.at = (
            i + usize::from(order != Ordering::Greater),
            j + usize::from(order != Ordering::Less),
        );
        let side = |e: Option<&(Vec<u8>, Oid, i32)>| e.map(|e| (e.1, e.2));
        let (old_side, new_side) = (side(x), side(y));
        if old_side == new_side {
            continue;
        }
        let name = x.or(y).map(|e| e.0.clone()).unwrap_or_default();
        let len = prefix.len();
        prefix.extend_from_slice(&name);
        match (old_side, new_side) {
            (Some((a_id, TREE_MODE)), Some((b_id, TREE_MODE))) => {
                prefix.push(b'/');
                let (a_tree, b_tree) = (repo.find_tree(a_id)?, repo.find_tree(b_id)?);
                stack.push(Frame {
                    old: entries(&a_tree),
                    new: entries(&b_tree),
                    at: (0, 0),
                    prefix_len: len,
                });
            }
            _ => {
                out.push(TreeChange {
                    path: prefix.clone(),
                    old: old_side,
                    new: new_side,
                });
                prefix.truncate(len);
            }
        }
    }
    Ok(())
}

/// The read jobs of one tree change: one for a file, one per file for a folder on one side.
/// Folders are opened with a stack, not by recursion (see [`tree_changes`]).
pub(super) fn expand_into_jobs(
    repo: &Repository,
    change: TreeChange,
    jobs: &mut Jobs,
) -> std::result::Result<(), git2::Error> {
    let mut pending = vec![change];
    while let Some(change) = pending.pop() {
        let folder = match (change.old, change.new) {
            (Some((id, TREE_MODE)), None) => Some((id, true)),
            (None, Some((id, TREE_MODE))) => Some((id, false)),
            _ => None,
        };
        let Some((id, deleted)) = folder else {
            push_file_job(change, jobs);
            continue;
        };
        let tree = repo.find_tree(id)?;
        let start = pending.len();
        for entry in tree.iter() {
            let mut path = change.path.clone();
            path.push(b'/');
            path.extend_from_slice(entry.name_bytes());
            let side = Some((entry.id(), entry.filemode()));
            let (old, new) = if deleted { (side, None) } else { (None, side) };
            pending.push(TreeChange { path, old, new });
        }
        // Taken from the end: the folder's first entry must come out first.
        pending[start..].reverse();
    }
    Ok(())
}

/// The read job of one file (or submodule, or link) of a tree change.
pub(super) fn push_file_job(change: TreeChange, jobs: &mut Jobs) {
    let is_content = |mode: i32| mode != TREE_MODE && mode != SUBMODULE_MODE;
    let status = match (change.old, change.new) {
        (None, _) => FileStatus::Added,
        (_, None) => FileStatus::Deleted,
        _ => FileStatus::Modified,
    };
    let blob = |side: Option<(Oid, i32)>| side.filter(|&(_, m)| is_content(m)).map(|(id, _)| id);
    let (old_blob, new_blob) = (blob(change.old), blob(change.new));
    let submodule = [change.old, change.new]
        .iter()
        .flatten()
        .any(|&(_, m)| m == SUBMODULE_MODE);
    let link = |side: Option<(Oid, i32)>| side.map(|(_, m)| m == i32::from(FileMode::Link));
    let typechange = status == FileStatus::Modified && link(change.old) != link(change.new);
    let mode_differs = status == FileStatus::Modified
        && !typechange
        && change.old.map(|(_, m)| m) != change.new.map(|(_, m)| m);
    let read = if submodule {
        Read::Nothing
    } else if typechange || status != FileStatus::Modified {
        Read::Whole {
            old: old_blob,
            new: new_blob,
            new_from_worktree: false,
        }
    } else {
        match (old_blob, new_blob) {
            (Some(old), Some(new)) if old == new => Read::Nothing,
            (Some(old), Some(new)) => Read::Blobs { old, new },
            (old, new) => Read::Whole {
                old,
                new,
                new_from_worktree: false,
            },
        }
    };
    let path = String::from_utf8_lossy(&change.path).into_owned();
    let mut file = ChangedFile::new(path, status);
    if submodule {
        file.unread = Some(Unread::Submodule);
    }
    jobs.push(
        file,
        Job {
            old_path: if change.old.is_some() {
                change.path.clone()
            } else {
                Vec::new()
            },
            new_path: change.path,
            read,
            mode_differs,
            link: change
                .new
                .is_some_and(|(_, m)| m == i32::from(FileMode::Link)),
        },
    );
}

/// [`commit_jobs`] through libgit2's diff, with rename detection. `parent` is the parent's tree
/// with the [`tree_changes`] against it; `None` for a root commit.
pub(super) fn commit_jobs_via_diff(
    repo: &Repository,
    rev: &str,
    parent: Option<(&Tree<'_>, &[TreeChange])>,
    new_tree: &Tree<'_>,
) -> Result<Jobs> {
    let mut opts = diff_options();
    if let Some((_, changes)) = parent {
        // libgit2 walks both whole trees; naming the changed paths lets its iterators skip every
        // unchanged folder, which is most of a commit in a large repository (backtest replays
        // thousands of them).
        let mut paths: Vec<&[u8]> = changes.iter().map(|c| c.path.as_slice()).collect();
        paths.dedup();
        if paths.is_empty() {
            // An empty pathspec would mean "everything"; an empty commit changes nothing, and
            // no tree can hold a `.git` entry.
            paths.push(b".git/no-such-path");
        }
        for path in paths {
            opts.pathspec(path);
        }
        opts.disable_pathspec_match(true);
    }
    let mut diff = repo
        .diff_tree_to_tree(
            parent.map(|(tree, _)| tree),
            Some(new_tree),
            Some(&mut opts),
        )
        .map_err(|e| diff_error(repo, rev, &e))?;
    find_renames(repo, &mut diff, false)?;
    Ok(stored_jobs(&diff))
}
