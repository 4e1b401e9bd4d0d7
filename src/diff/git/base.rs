//! The revisions a change is read between: HEAD, the base (named, upstream or a default
//! branch, falling back to `origin/<name>`), their merge base, the commits in between, and what
//! a shallow clone lacks.

use git2::{Commit, ErrorCode, Oid, Repository, Sort, Tree};

use super::open::{SHALLOW_HELP, object_error, repo_root, short};
use crate::diff::CommitInfo;
use crate::error::{Error, Result};

/// Branches tried, in order, when neither the command line, `forewarn.toml` nor HEAD's upstream
/// names a base.
pub(super) const DEFAULT_BASES: [&str; 5] = [
    "origin/HEAD",
    "main",
    "master",
    "origin/main",
    "origin/master",
];

/// HEAD's commit, or `None` when HEAD is unborn (no commits yet).
pub(super) fn head_commit(repo: &Repository) -> Result<Option<Commit<'_>>> {
    match repo.head() {
        Ok(head) => head.peel_to_commit().map(Some).map_err(|e| {
            Error::repository(
                format!(
                    "HEAD of {} does not point at a commit: {}",
                    repo_root(repo).display(),
                    e.message()
                ),
                "HEAD must name a commit: check the repository with `git status` and `git log -1`",
            )
        }),
        Err(e) if matches!(e.code(), ErrorCode::UnbornBranch | ErrorCode::NotFound) => Ok(None),
        Err(e) => Err(Error::repository(
            format!(
                "cannot read HEAD of {}: {}",
                repo_root(repo).display(),
                e.message()
            ),
            "check the repository with `git status`",
        )),
    }
}

/// The base HEAD is compared against when none is named: HEAD's upstream, else the first of
/// [`DEFAULT_BASES`] that exists. `None` in a repository with neither (one local branch).
pub(super) fn default_base(repo: &Repository) -> Option<(String, Commit<'_>)> {
    if let Ok(head) = repo.head() {
        if head.is_branch() {
            if let Ok(upstream) = git2::Branch::wrap(head).upstream() {
                let name = String::from_utf8_lossy(upstream.get().shorthand_bytes()).into_owned();
                if let Ok(commit) = upstream.get().peel_to_commit() {
                    return Some((name, commit));
                }
            }
        }
    }
    for name in DEFAULT_BASES {
        if let Ok(commit) = repo.revparse_single(name).and_then(|o| o.peel_to_commit()) {
            return Some((name.to_string(), commit));
        }
    }
    None
}

/// Resolves a base branch. A name with no local branch falls back to `origin/<name>`: CI
/// checkouts often have only the remote-tracking branch. Returns the name actually used.
pub(super) fn resolve_base<'r>(repo: &'r Repository, rev: &str) -> Result<(String, Commit<'r>)> {
    match resolve_commit(repo, rev) {
        Ok(commit) => Ok((rev.to_string(), commit)),
        Err(e) => {
            let remote = format!("origin/{rev}");
            if rev.starts_with("origin/") {
                return Err(e);
            }
            match repo
                .revparse_single(&remote)
                .and_then(|o| o.peel_to_commit())
            {
                Ok(commit) => Ok((remote, commit)),
                Err(_) => Err(e),
            }
        }
    }
}

/// The command that fetches branch `branch` of `origin` so that `origin/<branch>` exists.
pub fn fetch_command(branch: &str) -> String {
    format!("git fetch origin +refs/heads/{branch}:refs/remotes/origin/{branch}")
}

pub(super) fn resolve_commit<'r>(repo: &'r Repository, rev: &str) -> Result<Commit<'r>> {
    let object = repo.revparse_single(rev).map_err(|e| {
        let branch = rev.strip_prefix("origin/").unwrap_or(rev);
        // A refspec naming the remote-tracking ref: `git fetch origin main` alone updates only
        // FETCH_HEAD in a single-branch clone (CI's default), and `origin/main` stays missing.
        let mut help = format!("check the spelling, or fetch it: {}", fetch_command(branch));
        if repo.is_shallow() {
            help.push_str(&format!("; this clone is shallow, so {SHALLOW_HELP}"));
        }
        Error::repository(
            format!(
                "unknown revision '{rev}': no branch, tag or commit of that name in {} ({})",
                repo_root(repo).display(),
                e.message()
            ),
            help,
        )
    })?;
    object.peel_to_commit().map_err(|_| {
        Error::repository(
            format!(
                "'{rev}' names a {}, not a commit, in {}",
                object.kind().map_or("object", |k| k.str()),
                repo_root(repo).display()
            ),
            "pass a branch, tag or commit id",
        )
    })
}

pub(super) fn merge_base(
    repo: &Repository,
    head: Oid,
    head_label: &str,
    base: Oid,
    base_label: &str,
) -> Result<Oid> {
    if head == base {
        return Ok(head);
    }
    repo.merge_base(head, base).map_err(|e| {
        if e.code() != ErrorCode::NotFound {
            return Error::repository(
                format!(
                    "cannot find the merge base of {head_label} and {base_label}: {}",
                    e.message()
                ),
                "check the repository with `git merge-base HEAD <base>`",
            );
        }
        if repo.is_shallow() {
            Error::repository(
                format!(
                    "{head_label} and {base_label} have no merge base in this shallow clone: the history that joins them was not fetched"
                ),
                SHALLOW_HELP,
            )
        } else {
            Error::repository(
                format!(
                    "{head_label} ({}) and {base_label} ({}) have no common history",
                    short(head),
                    short(base)
                ),
                "compare against a branch that shares history with HEAD: --base <branch>, or `base` in forewarn.toml",
            )
        }
    })
}

/// The commits in `from..to`, oldest first, merges included.
pub(super) fn commits_between(repo: &Repository, from: Oid, to: Oid) -> Result<Vec<CommitInfo>> {
    if from == to {
        return Ok(Vec::new());
    }
    let walk_error = |e: git2::Error| {
        Error::repository(
            format!(
                "cannot list the commits between {} and {}: {}",
                short(from),
                short(to),
                e.message()
            ),
            "check the history with `git log <base>..HEAD`; in a shallow clone, fetch more of it",
        )
    };
    let mut walk = repo.revwalk().map_err(walk_error)?;
    walk.set_sorting(Sort::TOPOLOGICAL | Sort::REVERSE)
        .map_err(walk_error)?;
    walk.push(to).map_err(walk_error)?;
    walk.hide(from).map_err(walk_error)?;
    let mut commits = Vec::new();
    for id in walk {
        let id = id.map_err(walk_error)?;
        let commit = repo.find_commit(id).map_err(walk_error)?;
        commits.push(commit_info(&commit));
    }
    Ok(commits)
}

pub(super) fn commit_info(commit: &Commit<'_>) -> CommitInfo {
    CommitInfo {
        id: commit.id().to_string(),
        message: String::from_utf8_lossy(commit.message_bytes()).into_owned(),
    }
}

pub(super) fn tree_of<'r>(
    repo: &'r Repository,
    commit: &Commit<'r>,
    label: &str,
) -> Result<Tree<'r>> {
    commit
        .tree()
        .map_err(|e| object_error(repo, &format!("the tree of {label}"), &e))
}

/// Whether `id` is listed in `.git/shallow`: its parents exist but were not fetched.
pub(super) fn is_shallow_boundary(repo: &Repository, id: Oid) -> bool {
    repo.is_shallow()
        && std::fs::read_to_string(repo.path().join("shallow"))
            .is_ok_and(|s| s.lines().any(|l| l.trim() == id.to_string()))
}
