//! Changes read from a git repository with libgit2: a range, the merge base with the default
//! branch against the working tree, the index, or one commit.
//!
//! A change is planned first ([`plan`]): every changed file with its status, paths, blob ids and
//! how its lines are to be read, without reading any. The lines are then read in batches
//! ([`PlannedChange::read_batch`]), so a change of any size is never held in memory at once.
//! Every diff has zero context lines and rename detection on. Whole added and deleted files are
//! read straight from their blobs (libgit2's line-by-line diff of a file against nothing costs
//! three times as much); modified ones are diffed as buffers (imara-diff's Myers, slid as git
//! slides hunks). Blob content is decoded by gitoxide's object store (`objects`), libgit2 reading
//! whatever it cannot. When the new side is stored (not the working tree), files are read on
//! every thread, each with its own handles. No line is allocated beyond [`super::Lines`]'s
//! buffer.
//!
//! One file per concern: `open` finds and opens the repository (and gives a worker thread its
//! own object database), `base` resolves revisions, merge bases and shallow clones; `worktree`,
//! `index`, `range` and `commit` plan one input each (`commit` with the tree comparison backtest
//! uses); `jobs` decides how each file is read, `read` reads them in batches (on every thread
//! when it can), `objects` reads blob content, `content` decides what is read as text
//! (attributes, LFS, UTF-16), `links` reads a symbolic link as the file it names, and
//! `new_file` reads whole new versions of files.

mod base;
mod commit;
mod content;
mod index;
mod jobs;
mod links;
mod new_file;
mod objects;
mod open;
mod range;
mod read;
#[cfg(test)]
mod tests;
mod worktree;

use git2::{Diff, Oid, Repository};

pub use base::fetch_command;
pub use commit::CommitReader;
pub(crate) use content::decode_utf16;
pub use new_file::{NewFileReader, read_new_file};
pub(crate) use objects::read_blob;
pub use open::{discover, find, open_for_thread};

use super::{ChangeSet, ChangedFile};
use crate::error::{Error, Result};
use content::attributes_may_set_diff;
use jobs::{Job, Jobs};
use open::init;
use read::{read_jobs_from, worth_threads};

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

/// Reads the change `input` names. `default_base` is `forewarn.toml`'s `base`, if any.
pub fn changes(
    repo: &git2::Repository,
    input: &Input,
    default_base: Option<&str>,
) -> Result<ChangeSet> {
    plan(repo, input, default_base)?.read_all()
}

/// Plans `input` without reading any file's lines: every changed file, and how to read it. Its
/// lines are then read in batches ([`PlannedChange::read_batch`]), so a change of any size is
/// never held in memory at once.
pub fn plan<'r>(
    repo: &'r Repository,
    input: &Input,
    default_base: Option<&str>,
) -> Result<PlannedChange<'r>> {
    init();
    let plan = match input {
        Input::WorkingTree { base } => {
            worktree::working_tree(repo, base.as_deref().or(default_base))?
        }
        Input::Range { base, head } => range::range(repo, base, head)?,
        Input::Staged => index::staged(repo)?,
        Input::Commit(rev) => commit::one_commit(repo, rev)?,
    };
    Ok(PlannedChange::new(repo, plan, std::cell::OnceCell::new()))
}

/// A change planned but not read (see [`plan`]).
pub struct PlannedChange<'r> {
    /// The change with every file, but no lines yet.
    pub skeleton: ChangeSet,
    repo: &'r Repository,
    /// The working tree's diff, which produces its files' lines; `None` when every new side is
    /// stored, so any thread can read it.
    diff: Option<Diff<'r>>,
    jobs: Vec<Job>,
    attributes: std::cell::OnceCell<bool>,
    /// Read the `diff` attribute from this revision's tree (`--rules-from`), not the change's.
    attributes_from: Option<(Oid, String)>,
}

impl<'r> PlannedChange<'r> {
    /// `attributes`: whether any attributes file can set `diff`, if already known.
    fn new(
        repo: &'r Repository,
        plan: Plan<'r>,
        attributes: std::cell::OnceCell<bool>,
    ) -> PlannedChange<'r> {
        let mut skeleton = plan.change;
        skeleton.files = plan.jobs.files;
        PlannedChange {
            skeleton,
            repo,
            diff: plan.diff,
            jobs: plan.jobs.reads,
            attributes,
            attributes_from: None,
        }
    }

    /// Reads `.gitattributes` from revision `rev` (the one `--rules-from` names) to decide
    /// which files are binary, so a change cannot mark its own files `-diff` to go unread.
    pub fn attributes_from(mut self, rev: Option<&str>) -> Result<Self> {
        if let Some(rev) = rev {
            let tree = self
                .repo
                .revparse_single(rev)
                .and_then(|o| o.peel_to_tree())
                .map_err(|e| {
                    Error::repository(
                        format!("cannot read the tree of {rev} for its .gitattributes: {}", e.message()),
                        "name a revision that exists here (git rev-parse --verify REV); in CI, fetch it first (git fetch origin REV)",
                    )
                })?;
            self.attributes_from = Some((tree.id(), rev.to_string()));
        }
        Ok(self)
    }

    /// Reads the files from `start` on until about `budget` bytes of lines have been read (at
    /// least one file): on every thread when the new side is stored. Returns them, in order,
    /// and where the next batch starts.
    pub fn read_batch(&self, start: usize, budget: usize) -> Result<(Vec<ChangedFile>, usize)> {
        let attributes = *self
            .attributes
            .get_or_init(|| attributes_may_set_diff(self.repo));
        let parallel = self.diff.is_none() && worth_threads(self.jobs.len().saturating_sub(start));
        let (mut files, end) = read_jobs_from(
            self.repo,
            self.diff.as_ref(),
            (&self.skeleton.files, &self.jobs),
            start,
            budget,
            parallel,
            (Some(attributes), self.attributes_from.as_ref()),
        )?;
        if self.jobs[start..end].iter().any(|j| j.link) {
            let links = self.jobs[start..end].iter().map(|j| j.link);
            links::read_through(self.repo, &self.skeleton, &mut files, links, attributes)
                .map_err(|e| open::diff_error(self.repo, "a symbolic link's target", &e))?;
        }
        Ok((files, end))
    }

    /// Every file read at once.
    pub fn read_all(self) -> Result<ChangeSet> {
        let (files, _) = self.read_batch(0, usize::MAX)?;
        let mut change = self.skeleton;
        change.files = files;
        Ok(change)
    }
}

/// A change before its files are read: what it is, and how to read each file.
struct Plan<'r> {
    /// The change, with no files yet.
    change: ChangeSet,
    jobs: Jobs,
    /// The diff, when some job reads from it (the working tree).
    diff: Option<Diff<'r>>,
}
