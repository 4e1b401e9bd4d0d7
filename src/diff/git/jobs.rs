//! Planning a read: for every delta of a diff, the file it changes and how its lines are to be
//! read (whole blobs, two blobs diffed, or the diff itself), decided before any blob is read.

use git2::{Delta, Diff, DiffFindOptions, DiffOptions, FileMode, Oid, Repository};

use super::open::diff_error;
use crate::diff::{ChangedFile, FileStatus, Unread};
use crate::error::Result;

/// How to read each file of a diff whose new side is stored.
pub(super) fn stored_jobs(diff: &Diff<'_>) -> Jobs {
    diff.deltas()
        .enumerate()
        .filter_map(|(idx, delta)| plan_delta(idx, &delta, NewBlobs::Stored))
        .collect()
}

pub(super) fn diff_options() -> DiffOptions {
    let mut opts = DiffOptions::new();
    opts.context_lines(0)
        .interhunk_lines(0)
        .ignore_submodules(false)
        .include_typechange(true);
    opts
}

/// Pairs deletions with additions so a moved file is one rename with only its edited lines; in
/// the working tree an untracked file counts as an addition.
pub(super) fn find_renames(repo: &Repository, diff: &mut Diff<'_>, untracked: bool) -> Result<()> {
    let mut find = DiffFindOptions::new();
    find.renames(true).copies(false).for_untracked(untracked);
    diff.find_similar(Some(&mut find))
        .map_err(|e| diff_error(repo, "renamed files", &e))
}

/// Where the new side of a diff lives: whole added files can then be read straight from their
/// blobs, which is about three times faster than running them through the diff machinery.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum NewBlobs {
    /// A tree or the index: every new file has a blob.
    Stored,
    /// The working tree: new files are read (and filtered) by libgit2.
    Worktree,
}

/// What reading one delta's lines takes, decided before any blob is read.
pub(super) enum Read {
    /// Nothing to read: a submodule, or no side with content.
    Nothing,
    /// Every line of whole blobs: an added file (old side `None`), a deleted one (new side
    /// `None`), or a file that became a symlink or the reverse (both).
    Whole {
        old: Option<Oid>,
        new: Option<Oid>,
        /// The new side is a file in the working tree, read (and filtered) from disk.
        new_from_worktree: bool,
    },
    /// The diff of two stored blobs.
    Blobs { old: Oid, new: Oid },
    /// A delta only the diff can produce (its new side is in the working tree).
    FromDiff(usize),
}

/// How to read one delta's lines (the file it describes is kept beside it, in [`Jobs`]).
pub(super) struct Job {
    pub(super) old_path: Vec<u8>,
    pub(super) new_path: Vec<u8>,
    pub(super) read: Read,
    /// Only the mode changed, if no line did (see [`mode_differs`]).
    pub(super) mode_differs: bool,
    /// The new side is a symbolic link: its one "line" is the target.
    pub(super) link: bool,
}

/// The files of a change and how to read each: two lists side by side, so that once planned
/// the files become the change's skeleton and are not held twice.
#[derive(Default)]
pub(super) struct Jobs {
    pub(super) files: Vec<ChangedFile>,
    pub(super) reads: Vec<Job>,
}

impl Jobs {
    pub(super) fn push(&mut self, file: ChangedFile, read: Job) {
        self.files.push(file);
        self.reads.push(read);
    }
}

impl FromIterator<(ChangedFile, Job)> for Jobs {
    fn from_iter<I: IntoIterator<Item = (ChangedFile, Job)>>(iter: I) -> Jobs {
        let mut jobs = Jobs::default();
        for (file, read) in iter {
            jobs.push(file, read);
        }
        jobs
    }
}

/// How to read one delta; `None` for deltas that are no change.
pub(super) fn plan_delta(
    idx: usize,
    delta: &git2::DiffDelta<'_>,
    new: NewBlobs,
) -> Option<(ChangedFile, Job)> {
    let mut file = changed_file(delta)?;
    let (old_file, new_file) = (delta.old_file(), delta.new_file());
    if old_file.mode() == FileMode::Commit || new_file.mode() == FileMode::Commit {
        file.unread = Some(Unread::Submodule);
    }
    let blob = |side: &git2::DiffFile<'_>| {
        let is_blob = is_blob_mode(side.mode()) || side.mode() == FileMode::Link;
        (is_blob && side.is_valid_id() && !side.id().is_zero()).then(|| side.id())
    };
    let read = if old_file.mode() == FileMode::Commit || new_file.mode() == FileMode::Commit {
        // A submodule's only "line" is `Subproject commit <id>`: not content.
        Read::Nothing
    } else if delta.status() == Delta::Typechange {
        // libgit2 gives no lines for a file that became a symlink (or the reverse); git shows
        // a deletion and an addition, and so does this.
        Read::Whole {
            old: blob(&old_file),
            new: blob(&new_file),
            new_from_worktree: new == NewBlobs::Worktree,
        }
    } else {
        match (file.status, new) {
            (FileStatus::Added, NewBlobs::Stored) => Read::Whole {
                old: None,
                new: blob(&new_file),
                new_from_worktree: false,
            },
            (FileStatus::Deleted, _) => Read::Whole {
                old: blob(&old_file),
                new: None,
                new_from_worktree: false,
            },
            (_, NewBlobs::Stored) => match (blob(&old_file), blob(&new_file)) {
                (Some(old), Some(new)) => Read::Blobs { old, new },
                (old, new) => Read::Whole {
                    old,
                    new,
                    new_from_worktree: false,
                },
            },
            (_, NewBlobs::Worktree) => Read::FromDiff(idx),
        }
    };
    let job = Job {
        old_path: old_file.path_bytes().unwrap_or_default().to_vec(),
        new_path: new_file.path_bytes().unwrap_or_default().to_vec(),
        mode_differs: mode_differs(delta),
        link: new_file.mode() == FileMode::Link,
        read,
    };
    Some((file, job))
}

/// The file a delta describes, before its lines are read; `None` for deltas that are no change.
pub(super) fn changed_file(delta: &git2::DiffDelta<'_>) -> Option<ChangedFile> {
    let path = |f: git2::DiffFile<'_>| {
        f.path_bytes()
            .map(|p| String::from_utf8_lossy(p).into_owned())
    };
    let old = path(delta.old_file());
    let new = path(delta.new_file());
    let (status, path) = match delta.status() {
        Delta::Added | Delta::Untracked => (FileStatus::Added, new.or(old.clone())),
        Delta::Deleted => (FileStatus::Deleted, old.clone().or(new)),
        Delta::Renamed => (FileStatus::Renamed, new.or(old.clone())),
        Delta::Copied => (FileStatus::Copied, new.or(old.clone())),
        // A file that became a symlink (or the reverse) is still "that path changed".
        Delta::Modified | Delta::Typechange | Delta::Conflicted => {
            (FileStatus::Modified, new.or(old.clone()))
        }
        Delta::Unmodified | Delta::Ignored | Delta::Unreadable => return None,
    };
    let mut file = ChangedFile::new(path?, status);
    if matches!(status, FileStatus::Renamed | FileStatus::Copied) {
        file.old_path = old;
    }
    file.binary = delta.flags().is_binary();
    Some(file)
}

/// The executable bit (or group-writable bit) flipped on a regular file.
pub(super) fn mode_differs(delta: &git2::DiffDelta<'_>) -> bool {
    let (old, new) = (delta.old_file().mode(), delta.new_file().mode());
    delta.status() == Delta::Modified && old != new && is_blob_mode(old) && is_blob_mode(new)
}

pub(super) fn is_blob_mode(mode: FileMode) -> bool {
    matches!(
        mode,
        FileMode::Blob | FileMode::BlobExecutable | FileMode::BlobGroupWritable
    )
}
