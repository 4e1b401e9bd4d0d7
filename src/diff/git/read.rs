//! Reading planned jobs into lines, in batches: on the calling thread, or on every thread of the
//! pool, each with a libgit2 handle of its own, when the new side is stored.

use git2::{Diff, Oid, Patch, Repository};

use super::content::{BinaryCheck, attributes_may_set_diff, push_patch};
use super::jobs::{Job, Read};
use super::objects::read_blob;
use super::open::diff_error;
use crate::diff::paths::read_worktree_file;
use crate::diff::{ChangedFile, FileStatus, Lines, Unread};
use crate::error::Result;

/// Deltas below this many are read on the calling thread: opening a repository per thread
/// costs more than it saves on a small change.
pub(super) const PARALLEL_READ_MIN: usize = 64;

/// Whether reading `files` files is worth every thread: enough of them, more than one thread,
/// and not already on a pool thread (backtest reads its commits in parallel already).
pub(super) fn worth_threads(files: usize) -> bool {
    files >= PARALLEL_READ_MIN
        && rayon::current_thread_index().is_none()
        && rayon::current_num_threads() > 1
}

/// Reads jobs from `start` on, in order, until about `budget` bytes of lines have been read
/// (at least one job); returns them and the index of the first job not read.
pub(super) fn read_jobs_from(
    repo: &Repository,
    diff: Option<&Diff<'_>>,
    (files, jobs): (&[ChangedFile], &[Job]),
    start: usize,
    budget: usize,
    parallel: bool,
    (attributes, attributes_from): (Option<bool>, Option<&(Oid, String)>),
) -> Result<(Vec<ChangedFile>, usize)> {
    let error = |e: git2::Error| diff_error(repo, "the changed files", &e);
    let start = start.min(jobs.len());
    // Asked once here for every thread; otherwise when the first file needs it.
    let attributes = attributes.or_else(|| parallel.then(|| attributes_may_set_diff(repo)));
    if let Some(attributes) = attributes.filter(|_| parallel) {
        let (read, end) = read_in_parallel(
            repo,
            files,
            jobs,
            (start, budget),
            attributes,
            attributes_from,
        )
        .map_err(error)?;
        if end > start && read.iter().all(Option::is_some) {
            // Sized once: collecting through `flatten` grew the vector by doubling, moving
            // every file read so far each time.
            let mut files = Vec::with_capacity(read.len());
            files.extend(read.into_iter().flatten());
            return Ok((files, end));
        }
    }
    // On this thread: a small change, or no other thread could open the repository.
    let mut binary = BinaryCheck::new(repo, attributes).with_revision_attributes(attributes_from);
    let mut read = Vec::new();
    let mut bytes = 0usize;
    for (file, job) in files[start..].iter().zip(&jobs[start..]) {
        let file = read_job(repo, diff, &mut binary, file, job).map_err(error)?;
        bytes += file.added.text_len() + file.removed.text_len();
        read.push(file);
        if bytes >= budget {
            break;
        }
    }
    let end = start + read.len();
    Ok((read, end))
}

/// Reads jobs from `start` on, on every thread of the pool, until about `budget` bytes of lines
/// have been read. Returns the jobs read, in order (`None` where no thread got to one: every
/// thread failed to open the repository), and the index of the first job not read.
pub(super) fn read_in_parallel(
    repo: &Repository,
    files: &[ChangedFile],
    jobs: &[Job],
    (start, budget): (usize, usize),
    attributes: bool,
    attributes_from: Option<&(Oid, String)>,
) -> std::result::Result<(Vec<Option<ChangedFile>>, usize), git2::Error> {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    let next = AtomicUsize::new(start);
    let bytes = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let git_dir = repo.path().to_path_buf();
    let per_thread = rayon::broadcast(|_| {
        // libgit2 handles are not shared between threads: each opens its own.
        let Ok(repo) = Repository::open(&git_dir) else {
            return Ok(Vec::new());
        };
        let mut binary =
            BinaryCheck::new(&repo, Some(attributes)).with_revision_attributes(attributes_from);
        let mut out = Vec::new();
        // Jobs are claimed in order, so those read always run from `start` without a gap.
        while !failed.load(Ordering::Relaxed) && bytes.load(Ordering::Relaxed) < budget {
            let at = next.fetch_add(1, Ordering::Relaxed);
            let (Some(file), Some(job)) = (files.get(at), jobs.get(at)) else {
                break;
            };
            match read_job(&repo, None, &mut binary, file, job) {
                Ok(file) => {
                    let size = file.added.text_len() + file.removed.text_len();
                    bytes.fetch_add(size, Ordering::Relaxed);
                    out.push((at, file));
                }
                Err(e) => {
                    failed.store(true, Ordering::Relaxed);
                    return Err(e);
                }
            }
        }
        Ok(out)
    });
    let end = next.load(Ordering::Relaxed).min(jobs.len());
    let mut read: Vec<Option<ChangedFile>> = Vec::with_capacity(end - start);
    read.resize_with(end - start, || None);
    for files in per_thread {
        for (at, file) in files? {
            read[at - start] = Some(file);
        }
    }
    Ok((read, end))
}

/// Reads one delta's lines. `diff` is needed only for [`Read::FromDiff`] (never on other
/// threads: a diff of the working tree is read on the calling thread).
pub(super) fn read_job(
    repo: &Repository,
    diff: Option<&Diff<'_>>,
    binary: &mut BinaryCheck<'_>,
    planned: &ChangedFile,
    job: &Job,
) -> std::result::Result<ChangedFile, git2::Error> {
    let mut file = planned.clone();
    // The first reason a side could not be read; the file then has no lines at all.
    let unread = |file: &mut ChangedFile, reason: std::result::Result<(), Unread>| {
        if let Err(reason) = reason {
            file.binary = true;
            file.unread.get_or_insert(reason);
        }
    };
    match job.read {
        Read::Nothing => {}
        Read::Whole {
            old,
            new,
            new_from_worktree,
        } => {
            if let Some(id) = old {
                let content = read_blob(repo, id)?;
                let read = binary.push_whole(&mut file.removed, &job.old_path, content);
                unread(&mut file, read);
            }
            if let Some(id) = new {
                let content = read_blob(repo, id)?;
                let read = binary.push_whole(&mut file.added, &job.new_path, content);
                unread(&mut file, read);
            } else if new_from_worktree {
                let content = repo
                    .workdir()
                    .and_then(|w| read_worktree_file(w, &file.path));
                if let Some(content) = content {
                    let read = binary.push_whole(&mut file.added, &job.new_path, content);
                    unread(&mut file, read);
                }
            }
        }
        Read::Blobs { old, new } => {
            // The blobs are diffed as plain buffers, outside the repository, so libgit2 looks
            // no attributes up for them (it would for every file, statting every attributes
            // file on the way: more than the diff costs). `BinaryCheck` asks instead, and only
            // when some attributes file can set `diff`.
            match binary.by_attributes(&job.new_path) {
                Some(Err(reason)) => unread(&mut file, Err(reason)),
                by_attributes => {
                    let (old, new) = (read_blob(repo, old)?, read_blob(repo, new)?);
                    let read =
                        binary.diff_buffers(&mut file, (&old, &new), by_attributes.is_some());
                    unread(&mut file, read);
                }
            }
        }
        Read::FromDiff(idx) => {
            if let Some(patch) = diff
                .map(|d| Patch::from_diff(d, idx))
                .transpose()?
                .flatten()
            {
                push_patch(&mut file, &patch)?;
                if file.binary {
                    // Binary to libgit2: UTF-16 is decoded and read after all; otherwise say why.
                    let read = reread_binary_worktree_file(repo, binary, &mut file, &patch)?;
                    unread(&mut file, read);
                } else if crate::diff::is_lfs_pointer_lines(&file.added) {
                    unread(&mut file, Err(Unread::LfsPointer));
                }
            }
        }
    }
    if job.link && file.unread.is_none() {
        // A link's content is elsewhere: out of the repository, it is nothing forewarn reads.
        if let Some(target) = file
            .added
            .get(1)
            .filter(|t| crate::diff::leaves_repository(&file.path, t))
        {
            file.unread = Some(Unread::SymlinkOutside(target.to_string()));
            file.binary = true;
        }
    }
    if file.binary {
        file.added = Lines::new();
        file.removed = Lines::new();
        if file.unread.is_none() {
            file.unread = Some(match binary.by_attributes(&job.new_path) {
                Some(Err(reason)) => reason,
                _ => Unread::NulByte,
            });
        }
    }
    // libgit2 calls a flipped executable bit Modified; with no content change it is Mode.
    if file.status == FileStatus::Modified
        && job.mode_differs
        && file.added.is_empty()
        && file.removed.is_empty()
        && !file.binary
    {
        file.status = FileStatus::Mode;
    }
    Ok(file)
}

/// A file libgit2 diffed as binary in the working tree, read again: UTF-16 with a byte-order
/// mark is decoded and diffed as text; anything else gets the reason it cannot be read.
pub(super) fn reread_binary_worktree_file(
    repo: &Repository,
    binary: &mut BinaryCheck<'_>,
    file: &mut ChangedFile,
    patch: &Patch<'_>,
) -> std::result::Result<std::result::Result<(), Unread>, git2::Error> {
    let delta = patch.delta();
    let path = delta
        .new_file()
        .path_bytes()
        .or_else(|| delta.old_file().path_bytes())
        .unwrap_or_default()
        .to_vec();
    if let Some(Err(reason)) = binary.by_attributes(&path) {
        return Ok(Err(reason));
    }
    let old = delta.old_file();
    let old = if old.is_valid_id() && !old.id().is_zero() {
        Some(repo.find_blob(old.id())?)
    } else {
        None
    };
    let new = repo
        .workdir()
        .and_then(|w| read_worktree_file(w, &file.path))
        .unwrap_or_default();
    let old: &[u8] = old.as_ref().map_or(&[], |b| b.content());
    file.binary = false;
    Ok(binary.diff_buffers(file, (old, &new), false))
}
