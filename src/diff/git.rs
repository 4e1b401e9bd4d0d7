//! Changes read from a git repository with libgit2: a range, the merge base with the default
//! branch against the working tree, the index, or one commit.
//!
//! A change is planned first ([`plan`]): every changed file with its status, paths, blob ids and
//! how its lines are to be read, without reading any. The lines are then read in batches
//! ([`PlannedChange::read_batch`]), so a change of any size is never held in memory at once.
//! Every diff has zero context lines and rename detection on. Whole added and deleted files are
//! read straight from their blobs (libgit2's line-by-line diff of a file against nothing costs
//! three times as much); modified ones are diffed as buffers. When the new side is stored (not
//! the working tree), files are read on every thread, each with its own libgit2 handle. No line
//! is allocated beyond [`super::Lines`]'s buffer.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use git2::{
    Commit, Delta, Diff, DiffFindOptions, DiffOptions, ErrorCode, FileMode, ObjectType, Oid, Patch,
    Repository, Sort, Tree,
};

use super::{ChangeSet, ChangedFile, CommitInfo, FileStatus, Lines, NewSide, OldSide};
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

/// Branches tried, in order, when neither the command line, `forewarn.toml` nor HEAD's upstream
/// names a base.
const DEFAULT_BASES: [&str; 5] = [
    "origin/HEAD",
    "main",
    "master",
    "origin/main",
    "origin/master",
];

const SHALLOW_HELP: &str = "fetch the full history: in GitHub Actions set `fetch-depth: 0` on actions/checkout; elsewhere run `git fetch --unshallow`";

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
        Input::WorkingTree { base } => working_tree(repo, base.as_deref().or(default_base))?,
        Input::Range { base, head } => range(repo, base, head)?,
        Input::Staged => staged(repo)?,
        Input::Commit(rev) => one_commit(repo, rev)?,
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
        }
    }

    /// Reads the files from `start` on until about `budget` bytes of lines have been read (at
    /// least one file): on every thread when the new side is stored. Returns them, in order,
    /// and where the next batch starts.
    pub fn read_batch(&self, start: usize, budget: usize) -> Result<(Vec<ChangedFile>, usize)> {
        let attributes = *self
            .attributes
            .get_or_init(|| attributes_may_set_diff(self.repo));
        let parallel = self.diff.is_none() && worth_threads(self.jobs.len().saturating_sub(start));
        read_jobs_from(
            self.repo,
            self.diff.as_ref(),
            (&self.skeleton.files, &self.jobs),
            start,
            budget,
            parallel,
            Some(attributes),
        )
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

/// The bytes of the new version of `path`, read from where `new_side` says. `None` when there
/// is no such file (deleted, a directory, a submodule, outside the repository, unreadable).
/// To read many files, open a [`NewFileReader`] once instead.
pub fn read_new_file(new_side: &NewSide, path: &str) -> Option<Vec<u8>> {
    NewFileReader::open(new_side).read(path)
}

/// Reads new versions of files from one place, opening the repository once.
pub struct NewFileReader {
    side: NewSide,
    repo: Option<Repository>,
    /// The index, read once, for `NewSide::Index`.
    index: Option<git2::Index>,
    /// The commit's tree, for `NewSide::Commit`.
    tree: Option<Oid>,
}

impl NewFileReader {
    pub fn open(new_side: &NewSide) -> NewFileReader {
        init();
        let mut reader = NewFileReader {
            side: new_side.clone(),
            repo: None,
            index: None,
            tree: None,
        };
        match new_side {
            NewSide::Index(root) => {
                reader.repo = Repository::open(root).ok();
                reader.index = reader.repo.as_ref().and_then(|r| current_index(r).ok());
            }
            NewSide::Commit { repo, commit } => {
                reader.repo = Repository::open(repo).ok();
                reader.tree = reader.repo.as_ref().and_then(|r| {
                    let commit = r.find_commit(Oid::from_str(commit).ok()?).ok()?;
                    Some(commit.tree_id())
                });
            }
            NewSide::Worktree(_) | NewSide::DiffOnly | NewSide::Patch(_) => {}
        }
        reader
    }

    /// The bytes of the new version of `path`, or `None` (see [`read_new_file`]).
    pub fn read(&self, path: &str) -> Option<Vec<u8>> {
        if !is_repo_relative(path) {
            return None;
        }
        match &self.side {
            NewSide::Worktree(root) => read_worktree_file(root, path),
            NewSide::Index(_) => {
                let entry = self.index.as_ref()?.get_path(Path::new(path), 0)?;
                // 0o160000 is a gitlink (submodule); 0o040000 a sparse-index directory.
                if entry.mode & 0o170000 == 0o160000 || entry.mode & 0o170000 == 0o040000 {
                    return None;
                }
                Some(
                    self.repo
                        .as_ref()?
                        .find_blob(entry.id)
                        .ok()?
                        .content()
                        .to_vec(),
                )
            }
            NewSide::Commit { .. } => {
                let repo = self.repo.as_ref()?;
                let tree = repo.find_tree(self.tree?).ok()?;
                let entry = tree.get_path(Path::new(path)).ok()?;
                if entry.kind() != Some(ObjectType::Blob) {
                    return None;
                }
                Some(repo.find_blob(entry.id()).ok()?.content().to_vec())
            }
            NewSide::DiffOnly => None,
            NewSide::Patch(files) => files.get(path).map(|t| t.as_bytes().to_vec()),
        }
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
fn open_with_own_objects(git_dir: &Path, thread: usize) -> Option<(Repository, bool)> {
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
fn init() {
    static INIT: std::sync::Once = std::sync::Once::new();
    INIT.call_once(|| {
        // Objects are read from the local object store that git wrote; re-hashing every tree
        // and blob on read (SHA-1 with collision detection) was the largest single cost of a
        // large check. git itself does not verify on ordinary reads either.
        git2::opts::strict_hash_verification(false);
    });
}

/// A relative path with no `..`: the only kind a diff can name.
fn is_repo_relative(path: &str) -> bool {
    !path.is_empty()
        && Path::new(path)
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
}

/// Reads a working-tree file without ever leaving `root`: a symlink yields its target text (what
/// git stores for it), not the file it points to, and a path through a symlinked folder that
/// leads outside is refused.
pub(super) fn read_worktree_file(root: &Path, path: &str) -> Option<Vec<u8>> {
    let full = root.join(path);
    let meta = std::fs::symlink_metadata(&full).ok()?;
    let root = root.canonicalize().ok()?;
    let parent = full.parent()?.canonicalize().ok()?;
    if !parent.starts_with(&root) {
        return None;
    }
    if meta.file_type().is_symlink() {
        return Some(
            std::fs::read_link(&full)
                .ok()?
                .into_os_string()
                .into_encoded_bytes(),
        );
    }
    if !meta.is_file() {
        return None;
    }
    std::fs::read(parent.join(full.file_name()?)).ok()
}

fn working_tree<'r>(repo: &'r Repository, base: Option<&str>) -> Result<Plan<'r>> {
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
    let jobs = diff
        .deltas()
        .enumerate()
        .filter_map(|(idx, delta)| plan_delta(idx, &delta, NewBlobs::Worktree))
        .collect();
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

fn range<'r>(repo: &'r Repository, base_rev: &str, head_rev: &str) -> Result<Plan<'r>> {
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

/// How to read each file of a diff whose new side is stored.
fn stored_jobs(diff: &Diff<'_>) -> Jobs {
    diff.deltas()
        .enumerate()
        .filter_map(|(idx, delta)| plan_delta(idx, &delta, NewBlobs::Stored))
        .collect()
}

/// The index git itself would use: `GIT_INDEX_FILE` when set (a pre-commit hook of
/// `git commit -a` or `git commit <path>` stages into a temporary index), else `.git/index`.
fn current_index(repo: &Repository) -> std::result::Result<git2::Index, git2::Error> {
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

fn staged(repo: &Repository) -> Result<Plan<'_>> {
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

fn one_commit<'r>(repo: &'r Repository, rev: &str) -> Result<Plan<'r>> {
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
fn commit_jobs(
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
struct TreeChange {
    path: Vec<u8>,
    /// (id, mode) on each side; `None` where the side has no such entry.
    old: Option<(Oid, i32)>,
    new: Option<(Oid, i32)>,
}

const TREE_MODE: i32 = 0o040000;
const SUBMODULE_MODE: i32 = 0o160000;

/// The entries that differ between two trees, in path order. Folders with the same id on both
/// sides are not opened; a folder on one side only is one change (see [`expand_into_jobs`]).
/// Trees list entries in git's order (a folder sorts as if its name ended in `/`), which is the
/// order of full paths, so one merge pass pairs them.
fn tree_changes(
    repo: &Repository,
    old: &Tree<'_>,
    new: &Tree<'_>,
    prefix: &mut Vec<u8>,
    out: &mut Vec<TreeChange>,
) -> std::result::Result<(), git2::Error> {
    use std::cmp::Ordering;
    // git's order: a folder's name compares as if it ended in `/`.
    let slash = |e: &git2::TreeEntry<'_>| -> &'static [u8] {
        if e.filemode() == TREE_MODE { b"/" } else { b"" }
    };
    let git_order = |x: &git2::TreeEntry<'_>, y: &git2::TreeEntry<'_>| {
        let x_key = x.name_bytes().iter().chain(slash(x));
        x_key.cmp(y.name_bytes().iter().chain(slash(y)))
    };
    let (mut a, mut b) = (old.iter().peekable(), new.iter().peekable());
    loop {
        let order = match (a.peek(), b.peek()) {
            (None, None) => break,
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (Some(x), Some(y)) => git_order(x, y),
        };
        let (x, y) = match order {
            Ordering::Less => (a.next(), None),
            Ordering::Greater => (None, b.next()),
            Ordering::Equal => (a.next(), b.next()),
        };
        let side = |e: &Option<git2::TreeEntry<'_>>| e.as_ref().map(|e| (e.id(), e.filemode()));
        let (old_side, new_side) = (side(&x), side(&y));
        if old_side == new_side {
            continue;
        }
        let name = x
            .as_ref()
            .or(y.as_ref())
            .map(|e| e.name_bytes())
            .unwrap_or_default();
        let len = prefix.len();
        prefix.extend_from_slice(name);
        match (old_side, new_side) {
            (Some((a_id, TREE_MODE)), Some((b_id, TREE_MODE))) => {
                prefix.push(b'/');
                let (a_tree, b_tree) = (repo.find_tree(a_id)?, repo.find_tree(b_id)?);
                tree_changes(repo, &a_tree, &b_tree, prefix, out)?;
            }
            _ => out.push(TreeChange {
                path: prefix.clone(),
                old: old_side,
                new: new_side,
            }),
        }
        prefix.truncate(len);
    }
    Ok(())
}

/// The read jobs of one tree change: one for a file, one per file for a folder on one side.
fn expand_into_jobs(
    repo: &Repository,
    change: TreeChange,
    jobs: &mut Jobs,
) -> std::result::Result<(), git2::Error> {
    let folder = match (change.old, change.new) {
        (Some((id, TREE_MODE)), None) => Some((id, true)),
        (None, Some((id, TREE_MODE))) => Some((id, false)),
        _ => None,
    };
    if let Some((id, deleted)) = folder {
        let tree = repo.find_tree(id)?;
        for entry in tree.iter() {
            let mut path = change.path.clone();
            path.push(b'/');
            path.extend_from_slice(entry.name_bytes());
            let side = Some((entry.id(), entry.filemode()));
            let (old, new) = if deleted { (side, None) } else { (None, side) };
            expand_into_jobs(repo, TreeChange { path, old, new }, jobs)?;
        }
        return Ok(());
    }
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
    jobs.push(
        ChangedFile::new(path, status),
        Job {
            old_path: if change.old.is_some() {
                change.path.clone()
            } else {
                Vec::new()
            },
            new_path: change.path,
            read,
            mode_differs,
        },
    );
    Ok(())
}

/// [`commit_jobs`] through libgit2's diff, with rename detection. `parent` is the parent's tree
/// with the [`tree_changes`] against it; `None` for a root commit.
fn commit_jobs_via_diff(
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

fn diff_options() -> DiffOptions {
    let mut opts = DiffOptions::new();
    opts.context_lines(0)
        .interhunk_lines(0)
        .ignore_submodules(false)
        .include_typechange(true);
    opts
}

/// Pairs deletions with additions so a moved file is one rename with only its edited lines; in
/// the working tree an untracked file counts as an addition.
fn find_renames(repo: &Repository, diff: &mut Diff<'_>, untracked: bool) -> Result<()> {
    let mut find = DiffFindOptions::new();
    find.renames(true).copies(false).for_untracked(untracked);
    diff.find_similar(Some(&mut find))
        .map_err(|e| diff_error(repo, "renamed files", &e))
}

/// Where the new side of a diff lives: whole added files can then be read straight from their
/// blobs, which is about three times faster than running them through the diff machinery.
#[derive(Clone, Copy, PartialEq, Eq)]
enum NewBlobs {
    /// A tree or the index: every new file has a blob.
    Stored,
    /// The working tree: new files are read (and filtered) by libgit2.
    Worktree,
}

/// What reading one delta's lines takes, decided before any blob is read.
enum Read {
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
struct Job {
    old_path: Vec<u8>,
    new_path: Vec<u8>,
    read: Read,
    /// Only the mode changed, if no line did (see [`mode_differs`]).
    mode_differs: bool,
}

/// The files of a change and how to read each: two lists side by side, so that once planned
/// the files become the change's skeleton and are not held twice.
#[derive(Default)]
struct Jobs {
    files: Vec<ChangedFile>,
    reads: Vec<Job>,
}

impl Jobs {
    fn push(&mut self, file: ChangedFile, read: Job) {
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

/// Deltas below this many are read on the calling thread: opening a repository per thread
/// costs more than it saves on a small change.
const PARALLEL_READ_MIN: usize = 64;

/// Whether reading `files` files is worth every thread: enough of them, more than one thread,
/// and not already on a pool thread (backtest reads its commits in parallel already).
fn worth_threads(files: usize) -> bool {
    files >= PARALLEL_READ_MIN
        && rayon::current_thread_index().is_none()
        && rayon::current_num_threads() > 1
}

/// Reads jobs from `start` on, in order, until about `budget` bytes of lines have been read
/// (at least one job); returns them and the index of the first job not read.
fn read_jobs_from(
    repo: &Repository,
    diff: Option<&Diff<'_>>,
    (files, jobs): (&[ChangedFile], &[Job]),
    start: usize,
    budget: usize,
    parallel: bool,
    attributes: Option<bool>,
) -> Result<(Vec<ChangedFile>, usize)> {
    let error = |e: git2::Error| diff_error(repo, "the changed files", &e);
    let start = start.min(jobs.len());
    // Asked once here for every thread; otherwise when the first file needs it.
    let attributes = attributes.or_else(|| parallel.then(|| attributes_may_set_diff(repo)));
    if let Some(attributes) = attributes.filter(|_| parallel) {
        let (read, end) =
            read_in_parallel(repo, files, jobs, start, budget, attributes).map_err(error)?;
        if end > start && read.iter().all(Option::is_some) {
            return Ok((read.into_iter().flatten().collect(), end));
        }
    }
    // On this thread: a small change, or no other thread could open the repository.
    let mut binary = BinaryCheck::new(repo, attributes);
    let mut opts = diff_options();
    let mut read = Vec::new();
    let mut bytes = 0usize;
    for (file, job) in files[start..].iter().zip(&jobs[start..]) {
        let file = read_job(repo, diff, &mut binary, &mut opts, file, job).map_err(error)?;
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
fn read_in_parallel(
    repo: &Repository,
    files: &[ChangedFile],
    jobs: &[Job],
    start: usize,
    budget: usize,
    attributes: bool,
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
        let mut binary = BinaryCheck::new(&repo, Some(attributes));
        let mut opts = diff_options();
        let mut out = Vec::new();
        // Jobs are claimed in order, so those read always run from `start` without a gap.
        while !failed.load(Ordering::Relaxed) && bytes.load(Ordering::Relaxed) < budget {
            let at = next.fetch_add(1, Ordering::Relaxed);
            let (Some(file), Some(job)) = (files.get(at), jobs.get(at)) else {
                break;
            };
            match read_job(&repo, None, &mut binary, &mut opts, file, job) {
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

/// How to read one delta; `None` for deltas that are no change.
fn plan_delta(
    idx: usize,
    delta: &git2::DiffDelta<'_>,
    new: NewBlobs,
) -> Option<(ChangedFile, Job)> {
    let file = changed_file(delta)?;
    let (old_file, new_file) = (delta.old_file(), delta.new_file());
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
        read,
    };
    Some((file, job))
}

/// Reads one delta's lines. `diff` is needed only for [`Read::FromDiff`] (never on other
/// threads: a diff of the working tree is read on the calling thread).
fn read_job(
    repo: &Repository,
    diff: Option<&Diff<'_>>,
    binary: &mut BinaryCheck<'_>,
    opts: &mut DiffOptions,
    planned: &ChangedFile,
    job: &Job,
) -> std::result::Result<ChangedFile, git2::Error> {
    let mut file = planned.clone();
    match job.read {
        Read::Nothing => {}
        Read::Whole {
            old,
            new,
            new_from_worktree,
        } => {
            if let Some(id) = old {
                let blob = repo.find_blob(id)?;
                file.binary |= !binary.push_whole(&mut file.removed, &job.old_path, blob.content());
            }
            if let Some(id) = new {
                let blob = repo.find_blob(id)?;
                file.binary |= !binary.push_whole(&mut file.added, &job.new_path, blob.content());
            } else if new_from_worktree {
                let content = repo
                    .workdir()
                    .and_then(|w| read_worktree_file(w, &file.path));
                if let Some(content) = content {
                    file.binary |= !binary.push_whole(&mut file.added, &job.new_path, &content);
                }
            }
        }
        Read::Blobs { old, new } => {
            // The blobs are diffed as plain buffers, outside the repository, so libgit2 looks
            // no attributes up for them (it would for every file, statting every attributes
            // file on the way: more than the diff costs). `BinaryCheck` asks instead, and only
            // when some attributes file can set `diff`.
            match binary.by_attributes(&job.new_path) {
                Some(true) => file.binary = true,
                by_attributes => {
                    opts.force_text(by_attributes == Some(false));
                    let (old, new) = (repo.find_blob(old)?, repo.find_blob(new)?);
                    let (old, new) = (old.content(), new.content());
                    let too_large = |b: &[u8]| b.len() as u64 > BinaryCheck::MAX_TEXT_SIZE;
                    if too_large(old) || too_large(new) {
                        file.binary = true;
                    } else {
                        let patch = Patch::from_buffers(old, None, new, None, Some(opts))?;
                        push_patch(&mut file, &patch)?;
                    }
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
            }
        }
    }
    if file.binary {
        file.added = Lines::new();
        file.removed = Lines::new();
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

/// The added and removed lines of a patch, or the binary flag.
fn push_patch(file: &mut ChangedFile, patch: &Patch<'_>) -> std::result::Result<(), git2::Error> {
    if patch.delta().flags().is_binary() {
        file.binary = true;
        return Ok(());
    }
    for hunk in 0..patch.num_hunks() {
        for at in 0..patch.num_lines_in_hunk(hunk)? {
            let line = patch.line_in_hunk(hunk, at)?;
            match line.origin() {
                '+' => file
                    .added
                    .push_bytes(line.new_lineno().unwrap_or(0), line.content()),
                '-' => file
                    .removed
                    .push_bytes(line.old_lineno().unwrap_or(0), line.content()),
                // Context, and `\ No newline at end of file` (`=`, `>`, `<`).
                _ => {}
            }
        }
    }
    Ok(())
}

/// Every line of a whole file, numbered from 1, split the way diff splits: at `\n`, with a last
/// line that has no newline kept.
fn push_whole(lines: &mut Lines, content: &[u8]) {
    if content.is_empty() {
        return;
    }
    let content = content.strip_suffix(b"\n").unwrap_or(content);
    lines.reserve(content.len() + 1, count_newlines(content) + 1);
    for (i, line) in content.split(|&b| b == b'\n').enumerate() {
        lines.push_bytes(u32::try_from(i + 1).unwrap_or(u32::MAX), line);
    }
}

fn count_newlines(content: &[u8]) -> usize {
    content.iter().filter(|&&b| b == b'\n').count()
}

/// Decides, as diff would, whether a whole file read from its blob is binary: its `diff`
/// attribute (`-diff`, `binary`, or a driver with `diff.<name>.binary = true`), else a NUL byte
/// in its first 8000 bytes, as git checks.
struct BinaryCheck<'r> {
    repo: &'r Repository,
    /// Whether any attributes file could set `diff` at all. Looking attributes up costs more
    /// than reading the file, so repositories without such a line skip it. `None` until asked.
    attributes: Option<bool>,
    /// `diff.<driver>.binary` by driver name.
    drivers: HashMap<String, bool>,
}

impl<'r> BinaryCheck<'r> {
    /// libgit2's default `max_size`: larger files are binary without being read.
    const MAX_TEXT_SIZE: u64 = 512 * 1024 * 1024;

    /// `attributes`: whether any attributes file could set `diff` ([`attributes_may_set_diff`]),
    /// when already known.
    fn new(repo: &'r Repository, attributes: Option<bool>) -> Self {
        BinaryCheck {
            repo,
            attributes,
            drivers: HashMap::new(),
        }
    }

    fn by_attributes(&mut self, path: &[u8]) -> Option<bool> {
        let repo = self.repo;
        if !*self
            .attributes
            .get_or_insert_with(|| attributes_may_set_diff(repo))
        {
            return None;
        }
        let attr = repo
            .get_attr_bytes(
                &path_of(path),
                "diff",
                git2::AttrCheckFlags::FILE_THEN_INDEX,
            )
            .ok()
            .flatten();
        match git2::AttrValue::from_bytes(attr) {
            git2::AttrValue::False => Some(true),
            git2::AttrValue::True => Some(false),
            git2::AttrValue::String(driver) => {
                let binary = *self.drivers.entry(driver.to_string()).or_insert_with(|| {
                    let key = format!("diff.{driver}.binary");
                    repo.config().and_then(|c| c.get_bool(&key)) == Ok(true)
                });
                binary.then_some(true)
            }
            _ => None,
        }
    }

    /// Pushes every line of a whole file unless it is binary; returns whether it pushed them.
    fn push_whole(&mut self, lines: &mut Lines, path: &[u8], content: &[u8]) -> bool {
        if content.len() as u64 > Self::MAX_TEXT_SIZE || self.is_binary(path, content) {
            return false;
        }
        push_whole(lines, content);
        true
    }

    fn is_binary(&mut self, path: &[u8], content: &[u8]) -> bool {
        self.by_attributes(path)
            .unwrap_or_else(|| content[..content.len().min(8000)].contains(&0))
    }
}

/// Whether any attributes file libgit2 reads (`.gitattributes` in the index or working tree,
/// `.git/info/attributes`, the global attributes file) mentions `diff` or `binary`.
fn attributes_may_set_diff(repo: &Repository) -> bool {
    let mentions = |text: &[u8]| {
        text.windows(4).any(|w| w == b"diff") || text.windows(6).any(|w| w == b"binary")
    };
    let read = |path: &Path| std::fs::read(path).is_ok_and(|t| mentions(&t));
    if read(&repo.path().join("info").join("attributes")) {
        return true;
    }
    let global = repo
        .config()
        .and_then(|c| c.get_path("core.attributesFile"))
        .ok()
        .or_else(|| {
            let config = std::env::var_os("XDG_CONFIG_HOME")
                .map(PathBuf::from)
                .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".config")))?;
            Some(config.join("git").join("attributes"))
        });
    if global.is_some_and(|g| read(&g)) {
        return true;
    }
    let workdir = repo.workdir();
    if workdir.is_some_and(|w| read(&w.join(".gitattributes"))) {
        return true;
    }
    let Ok(index) = repo.index() else {
        return false;
    };
    index.iter().any(|entry| {
        let is_attributes =
            entry.path == b".gitattributes" || entry.path.ends_with(b"/.gitattributes");
        is_attributes
            && (repo
                .find_blob(entry.id)
                .is_ok_and(|b| mentions(b.content()))
                || workdir.is_some_and(|w| read(&w.join(path_of(&entry.path)))))
    })
}

#[cfg(unix)]
fn path_of(bytes: &[u8]) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    PathBuf::from(std::ffi::OsStr::from_bytes(bytes))
}

#[cfg(not(unix))]
fn path_of(bytes: &[u8]) -> PathBuf {
    PathBuf::from(String::from_utf8_lossy(bytes).into_owned())
}

/// The file a delta describes, before its lines are read; `None` for deltas that are no change.
fn changed_file(delta: &git2::DiffDelta<'_>) -> Option<ChangedFile> {
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
fn mode_differs(delta: &git2::DiffDelta<'_>) -> bool {
    let (old, new) = (delta.old_file().mode(), delta.new_file().mode());
    delta.status() == Delta::Modified && old != new && is_blob_mode(old) && is_blob_mode(new)
}

fn is_blob_mode(mode: FileMode) -> bool {
    matches!(
        mode,
        FileMode::Blob | FileMode::BlobExecutable | FileMode::BlobGroupWritable
    )
}

/// HEAD's commit, or `None` when HEAD is unborn (no commits yet).
fn head_commit(repo: &Repository) -> Result<Option<Commit<'_>>> {
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
fn default_base(repo: &Repository) -> Option<(String, Commit<'_>)> {
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
fn resolve_base<'r>(repo: &'r Repository, rev: &str) -> Result<(String, Commit<'r>)> {
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

fn resolve_commit<'r>(repo: &'r Repository, rev: &str) -> Result<Commit<'r>> {
    let object = repo.revparse_single(rev).map_err(|e| {
        let branch = rev.strip_prefix("origin/").unwrap_or(rev);
        let mut help = format!("check the spelling, or fetch it: git fetch origin {branch}");
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

fn merge_base(
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
fn commits_between(repo: &Repository, from: Oid, to: Oid) -> Result<Vec<CommitInfo>> {
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

fn commit_info(commit: &Commit<'_>) -> CommitInfo {
    CommitInfo {
        id: commit.id().to_string(),
        message: String::from_utf8_lossy(commit.message_bytes()).into_owned(),
    }
}

fn tree_of<'r>(repo: &'r Repository, commit: &Commit<'r>, label: &str) -> Result<Tree<'r>> {
    commit
        .tree()
        .map_err(|e| object_error(repo, &format!("the tree of {label}"), &e))
}

/// Whether `id` is listed in `.git/shallow`: its parents exist but were not fetched.
fn is_shallow_boundary(repo: &Repository, id: Oid) -> bool {
    repo.is_shallow()
        && std::fs::read_to_string(repo.path().join("shallow"))
            .is_ok_and(|s| s.lines().any(|l| l.trim() == id.to_string()))
}

fn workdir(repo: &Repository, what: &str) -> Result<PathBuf> {
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
fn repo_root(repo: &Repository) -> PathBuf {
    repo.workdir().unwrap_or(repo.path()).to_path_buf()
}

fn short(id: Oid) -> String {
    let mut s = id.to_string();
    s.truncate(8);
    s
}

fn object_error(repo: &Repository, what: &str, e: &git2::Error) -> Error {
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

fn diff_error(repo: &Repository, what: &str, e: &git2::Error) -> Error {
    Error::repository(
        format!(
            "cannot diff {what} in {}: {}",
            repo_root(repo).display(),
            e.message()
        ),
        "check that `git diff` works in this repository; a file that cannot be read (permissions) is a common cause",
    )
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::process::Command;

    use super::*;

    /// A scratch repository driven by the git CLI, isolated from the user's git config.
    struct Scratch {
        dir: tempfile::TempDir,
    }

    fn git_in(dir: &Path, args: &[&str]) -> String {
        let out = Command::new("git")
            .args([
                "-c",
                "init.defaultBranch=main",
                "-c",
                "commit.gpgsign=false",
                "-c",
                "core.autocrlf=false",
                "-c",
                "protocol.file.allow=always",
            ])
            .args(args)
            .current_dir(dir)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "Forewarn Test")
            .env("GIT_AUTHOR_EMAIL", "test@example.com")
            .env("GIT_COMMITTER_NAME", "Forewarn Test")
            .env("GIT_COMMITTER_EMAIL", "test@example.com")
            .output()
            .expect("git runs");
        assert!(
            out.status.success(),
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    impl Scratch {
        fn new() -> Self {
            let dir = tempfile::tempdir().unwrap();
            git_in(dir.path(), &["init", "-q"]);
            Scratch { dir }
        }

        fn path(&self) -> &Path {
            self.dir.path()
        }

        fn git(&self, args: &[&str]) -> String {
            git_in(self.path(), args)
        }

        fn write(&self, path: &str, content: impl AsRef<[u8]>) {
            let full = self.path().join(path);
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(full, content).unwrap();
        }

        /// Stages everything and commits; returns the new commit id.
        fn commit(&self, message: &str) -> String {
            self.git(&["add", "-A"]);
            self.git(&["commit", "-q", "--allow-empty", "-m", message]);
            self.git(&["rev-parse", "HEAD"])
        }

        fn repo(&self) -> Repository {
            Repository::open(self.path()).unwrap()
        }

        fn changes(&self, input: &Input) -> Result<ChangeSet> {
            changes(&self.repo(), input, None)
        }
    }

    fn worktree(base: Option<&str>) -> Input {
        Input::WorkingTree {
            base: base.map(String::from),
        }
    }

    fn file<'a>(set: &'a ChangeSet, path: &str) -> &'a ChangedFile {
        set.files
            .iter()
            .find(|f| f.path == path)
            .unwrap_or_else(|| {
                panic!(
                    "{path} not in {:?}",
                    set.files.iter().map(|f| &f.path).collect::<Vec<_>>()
                )
            })
    }

    fn lines(l: &Lines) -> Vec<(u32, &str)> {
        l.iter().collect()
    }

    fn numbered(n: usize) -> String {
        (1..=n).map(|i| format!("line {i}\n")).collect()
    }

    fn error_text(e: &Error) -> String {
        e.render(false)
    }

    #[test]
    fn a_thread_gets_objects_of_its_own_in_a_clone_a_worktree_and_with_alternates() {
        let s = Scratch::new();
        s.write("a.sql", "CREATE TABLE t (id int);\n");
        s.commit("one");
        s.git(&["gc", "-q"]);
        s.write("a.sql", "CREATE TABLE t (id int);\nDROP TABLE u;\n");
        let head = s.commit("two");
        s.git(&["worktree", "add", "-q", "linked"]);
        let shared = tempfile::tempdir().unwrap();
        git_in(
            shared.path(),
            &[
                "clone",
                "-q",
                "--shared",
                s.path().to_str().unwrap(),
                "clone",
            ],
        );
        let places = [
            s.path().join(".git"),
            s.path().join("linked"),
            shared.path().join("clone"),
        ];
        for place in &places {
            for thread in [0, 3] {
                let (repo, own) = open_with_own_objects(place, thread).unwrap();
                assert!(
                    own,
                    "{} on thread {thread} kept the shared objects",
                    place.display()
                );
                let reader = CommitReader::new(repo);
                let change = reader.changes(&head).unwrap();
                assert_eq!(
                    lines(&file(&change, "a.sql").added),
                    vec![(2, "DROP TABLE u;")],
                    "{}",
                    place.display()
                );
            }
        }
        // No commit yet: the shared database stays.
        let empty = Scratch::new();
        let (_, own) = open_with_own_objects(&empty.path().join(".git"), 1).unwrap();
        assert!(!own);
    }

    #[test]
    fn working_tree_has_committed_staged_unstaged_and_untracked_changes() {
        let s = Scratch::new();
        s.write("app.py", numbered(5));
        s.write(".gitignore", "*.log\n");
        let base = s.commit("init");
        s.git(&["checkout", "-q", "-b", "feature"]);
        s.write("committed.txt", "one\n");
        let first = s.commit("add committed.txt\n\nForewarn-Ack: some-rule: checked by hand");
        s.write("app.py", numbered(5).replace("line 3", "line three"));
        s.write("staged.txt", "staged\n");
        s.git(&["add", "staged.txt"]);
        s.write(
            "dir/deep/untracked.sql",
            "CREATE TABLE t ();\nDROP TABLE u;\n",
        );
        s.write("debug.log", "ignored\n");

        let set = s.changes(&worktree(None)).unwrap();
        let mut paths: Vec<&str> = set.files.iter().map(|f| f.path.as_str()).collect();
        paths.sort();
        assert_eq!(
            paths,
            [
                "app.py",
                "committed.txt",
                "dir/deep/untracked.sql",
                "staged.txt"
            ]
        );
        let app = file(&set, "app.py");
        assert_eq!(app.status, FileStatus::Modified);
        assert_eq!(lines(&app.added), [(3, "line three")]);
        assert_eq!(lines(&app.removed), [(3, "line 3")]);
        let untracked = file(&set, "dir/deep/untracked.sql");
        assert_eq!(untracked.status, FileStatus::Added);
        assert_eq!(
            lines(&untracked.added),
            [(1, "CREATE TABLE t ();"), (2, "DROP TABLE u;")]
        );
        assert_eq!(file(&set, "staged.txt").status, FileStatus::Added);
        assert_eq!(set.commits.len(), 1);
        assert_eq!(set.commits[0].id, first);
        assert!(set.commits[0].message.contains("Forewarn-Ack: some-rule"));
        assert_eq!(set.new_side, NewSide::Worktree(s.path().to_path_buf()));
        assert_eq!(
            set.description,
            format!(
                "merge base of HEAD and main ({}) → working tree",
                &base[..8]
            )
        );
        assert_eq!(set.head_commit.as_deref(), Some(first.as_str()));
    }

    #[test]
    fn working_tree_base_comes_from_argument_then_config_then_upstream() {
        let s = Scratch::new();
        s.write("a.txt", "a\n");
        s.commit("init");
        s.git(&["branch", "release"]);
        s.write("a.txt", "b\n");
        let second = s.commit("second");
        s.git(&["checkout", "-q", "-b", "feature"]);
        s.write("a.txt", "c\n");
        s.commit("third");

        // No argument, no config: `main` is the default.
        let set = s.changes(&worktree(None)).unwrap();
        assert!(
            set.description.contains("HEAD and main"),
            "{}",
            set.description
        );
        assert_eq!(set.commits.len(), 1);
        // The config's base.
        let set = changes(&s.repo(), &worktree(None), Some("release")).unwrap();
        assert!(
            set.description.contains("HEAD and release"),
            "{}",
            set.description
        );
        assert_eq!(set.commits.len(), 2);
        // The argument beats the config.
        let set = changes(&s.repo(), &worktree(Some(&second)), Some("release")).unwrap();
        assert_eq!(set.commits.len(), 1);
        // The upstream beats the default branches.
        s.git(&["branch", "--set-upstream-to=release"]);
        let set = s.changes(&worktree(None)).unwrap();
        assert!(
            set.description.contains("HEAD and release"),
            "{}",
            set.description
        );
    }

    #[test]
    fn base_falls_back_to_the_remote_tracking_branch() {
        let origin = Scratch::new();
        origin.write("a.txt", "a\n");
        origin.commit("init");
        origin.git(&["checkout", "-q", "-b", "develop"]);
        origin.write("a.txt", "b\n");
        origin.commit("on develop");
        origin.git(&["checkout", "-q", "main"]);
        let clone = tempfile::tempdir().unwrap();
        let url = format!("file://{}", origin.path().display());
        git_in(clone.path(), &["clone", "-q", &url, "."]);
        let repo = Repository::open(clone.path()).unwrap();
        // Only `origin/develop` exists locally.
        let set = changes(&repo, &worktree(Some("develop")), None).unwrap();
        assert!(
            set.description.contains("HEAD and origin/develop"),
            "{}",
            set.description
        );
    }

    #[test]
    fn a_repository_with_one_branch_compares_against_head() {
        let s = Scratch::new();
        s.write("a.txt", "a\n");
        s.git(&["add", "-A"]);
        s.git(&["commit", "-q", "-m", "init"]);
        s.git(&["branch", "-m", "trunk"]);
        s.write("a.txt", "a\nb\n");
        let set = s.changes(&worktree(None)).unwrap();
        assert_eq!(lines(&file(&set, "a.txt").added), [(2, "b")]);
        assert!(set.commits.is_empty());
        assert!(set.description.starts_with("HEAD ("), "{}", set.description);
        // On `main` itself, with nothing committed since: only the uncommitted work.
        s.git(&["branch", "-m", "main"]);
        let set = s.changes(&worktree(None)).unwrap();
        assert_eq!(set.files.len(), 1);
        assert!(set.commits.is_empty());
    }

    #[test]
    fn range_diffs_merge_base_against_head_with_every_commit() {
        let s = Scratch::new();
        s.write("app.py", numbered(3));
        s.commit("init");
        s.git(&["checkout", "-q", "-b", "feature"]);
        s.write("migrations/0001.py", "op = 1\n");
        let c1 = s.commit("migration");
        s.git(&["checkout", "-q", "main"]);
        s.write("other.txt", "x\n");
        s.commit("on main");
        s.git(&["checkout", "-q", "feature"]);
        s.git(&[
            "merge",
            "-q",
            "--no-edit",
            "-m",
            "merge main\n\nForewarn-Ack: r: merged",
            "main",
        ]);
        s.write("app.py", numbered(3).replace("line 2", "line two"));
        let head = s.commit("edit app");
        // The working tree differs from head: a range ignores it.
        s.write("app.py", "dirty\n");

        let set = s
            .changes(&Input::Range {
                base: "main".into(),
                head: "feature".into(),
            })
            .unwrap();
        let mut paths: Vec<&str> = set.files.iter().map(|f| f.path.as_str()).collect();
        paths.sort();
        assert_eq!(paths, ["app.py", "migrations/0001.py"]);
        assert_eq!(lines(&file(&set, "app.py").added), [(2, "line two")]);
        let messages: Vec<&str> = set.commits.iter().map(|c| c.message.as_str()).collect();
        assert_eq!(set.commits[0].id, c1);
        assert_eq!(messages.len(), 3);
        assert!(
            messages[1].contains("Forewarn-Ack: r: merged"),
            "{messages:?}"
        );
        assert_eq!(set.commits[2].id, head);
        assert_eq!(set.head_commit.as_deref(), Some(head.as_str()));
        assert_eq!(
            set.new_side,
            NewSide::Commit {
                repo: s.path().to_path_buf(),
                commit: head.clone()
            }
        );
        assert!(
            set.description
                .starts_with("merge base of main and feature (")
        );
        assert_eq!(
            read_new_file(&set.new_side, "app.py").as_deref(),
            Some(numbered(3).replace("line 2", "line two").as_bytes())
        );
    }

    #[test]
    fn staged_is_the_index_against_head() {
        let s = Scratch::new();
        s.write("a.txt", "a\n");
        let head = s.commit("init");
        s.write("a.txt", "a\nstaged\n");
        s.git(&["add", "a.txt"]);
        s.write("a.txt", "a\nstaged\nunstaged\n");
        s.write("untracked.txt", "u\n");
        let set = s.changes(&Input::Staged).unwrap();
        assert_eq!(set.files.len(), 1);
        assert_eq!(lines(&set.files[0].added), [(2, "staged")]);
        assert!(set.commits.is_empty());
        assert_eq!(set.new_side, NewSide::Index(s.path().to_path_buf()));
        assert_eq!(set.description, format!("HEAD ({}) → index", &head[..8]));
        assert_eq!(
            read_new_file(&set.new_side, "a.txt").as_deref(),
            Some(&b"a\nstaged\n"[..])
        );
        assert_eq!(read_new_file(&set.new_side, "untracked.txt"), None);
    }

    #[test]
    fn commit_is_diffed_against_its_first_parent() {
        let s = Scratch::new();
        s.write("a.txt", "a\n");
        let root = s.commit("root");
        s.write("a.txt", "a\nb\n");
        s.write("gone.txt", "");
        let second = s.commit("second\n\nbody");
        s.write("a.txt", "a\nb\nc\n");
        s.commit("third");

        let set = s.changes(&Input::Commit(second[..10].to_string())).unwrap();
        let a = file(&set, "a.txt");
        assert_eq!(a.status, FileStatus::Modified);
        assert_eq!(lines(&a.added), [(2, "b")]);
        assert_eq!(set.commits.len(), 1);
        assert_eq!(set.commits[0].message, "second\n\nbody\n");
        assert_eq!(set.head_commit.as_deref(), Some(second.as_str()));
        assert!(matches!(&set.new_side, NewSide::Commit { commit, .. } if *commit == second));
        assert_eq!(
            read_new_file(&set.new_side, "a.txt").as_deref(),
            Some(&b"a\nb\n"[..])
        );

        let set = s.changes(&Input::Commit(root.clone())).unwrap();
        assert_eq!(file(&set, "a.txt").status, FileStatus::Added);
        assert!(
            set.description.contains("root commit"),
            "{}",
            set.description
        );

        let set = s.changes(&Input::Commit("HEAD~1".into())).unwrap();
        assert_eq!(set.head_commit.as_deref(), Some(second.as_str()));
    }

    #[test]
    fn renames_keep_the_old_path_and_only_edited_lines() {
        let s = Scratch::new();
        s.write("db/0001_init.sql", numbered(20));
        s.write("docs/guide.md", numbered(20));
        s.commit("init");
        std::fs::create_dir_all(s.path().join("db/migrations")).unwrap();
        s.git(&["mv", "db/0001_init.sql", "db/migrations/0001_init.sql"]);
        s.write(
            "db/migrations/0001_init.sql",
            numbered(20).replace("line 7\n", "line seven\n"),
        );
        s.commit("move");
        let set = s.changes(&Input::Commit("HEAD".into())).unwrap();
        assert_eq!(set.files.len(), 1, "{:#?}", set.files);
        let f = &set.files[0];
        assert_eq!(f.status, FileStatus::Renamed);
        assert_eq!(f.path, "db/migrations/0001_init.sql");
        assert_eq!(f.old_path.as_deref(), Some("db/0001_init.sql"));
        assert_eq!(lines(&f.added), [(7, "line seven")]);
        assert_eq!(lines(&f.removed), [(7, "line 7")]);

        // In the working tree, a plain `mv` (deleted file + untracked file) is a rename too.
        std::fs::rename(
            s.path().join("docs/guide.md"),
            s.path().join("docs/handbook.md"),
        )
        .unwrap();
        let set = s.changes(&worktree(None)).unwrap();
        assert_eq!(set.files.len(), 1, "{:#?}", set.files);
        assert_eq!(set.files[0].status, FileStatus::Renamed);
        assert_eq!(set.files[0].path, "docs/handbook.md");
        assert_eq!(set.files[0].old_path.as_deref(), Some("docs/guide.md"));
        assert!(set.files[0].added.is_empty());
    }

    #[test]
    fn binary_deleted_and_crlf_files() {
        let s = Scratch::new();
        s.write("old.txt", "first\nsecond\n");
        s.commit("init");
        std::fs::remove_file(s.path().join("old.txt")).unwrap();
        s.write("logo.png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0");
        s.write("win.bat", "echo on\r\nset A=1\r\n");
        let set = s.changes(&worktree(None)).unwrap();
        let old = file(&set, "old.txt");
        assert_eq!(old.status, FileStatus::Deleted);
        assert_eq!(lines(&old.removed), [(1, "first"), (2, "second")]);
        let logo = file(&set, "logo.png");
        assert!(logo.binary);
        assert!(logo.added.is_empty());
        let win = file(&set, "win.bat");
        assert!(!win.binary);
        assert_eq!(lines(&win.added), [(1, "echo on"), (2, "set A=1")]);
        // Committed, the same holds.
        s.commit("second");
        let set = s.changes(&Input::Commit("HEAD".into())).unwrap();
        assert!(file(&set, "logo.png").binary);
        assert_eq!(file(&set, "old.txt").status, FileStatus::Deleted);
        assert_eq!(lines(&file(&set, "win.bat").added)[1], (2, "set A=1"));
    }

    #[test]
    fn whole_files_read_from_blobs_match_libgit2_lines() {
        let contents: [&[u8]; 9] = [
            b"",
            b"\n",
            b"\n\n",
            b"a",
            b"a\nb",
            b"a\r\nb\r\n",
            b"a\n\nb\n",
            b"\r\n",
            b"x\ry\n",
        ];
        let s = Scratch::new();
        s.write("keep.txt", "k\n");
        s.commit("init");
        for (i, c) in contents.iter().enumerate() {
            s.write(&format!("f{i}.txt"), c);
        }
        // Untracked: libgit2 reads them. Committed: read from their blobs.
        let from_libgit2 = s.changes(&worktree(None)).unwrap();
        s.commit("add");
        let from_blobs = s.changes(&Input::Commit("HEAD".into())).unwrap();
        for i in 0..contents.len() {
            let path = format!("f{i}.txt");
            let (a, b) = (file(&from_libgit2, &path), file(&from_blobs, &path));
            assert_eq!(lines(&a.added), lines(&b.added), "{path}");
            assert_eq!(a.binary, b.binary, "{path}");
        }
        // Deleted from the working tree (read from blobs) and in a commit.
        for i in 0..contents.len() {
            std::fs::remove_file(s.path().join(format!("f{i}.txt"))).unwrap();
        }
        let deleted = s.changes(&worktree(Some("HEAD"))).unwrap();
        for (i, c) in contents.iter().enumerate() {
            let f = file(&deleted, &format!("f{i}.txt"));
            assert_eq!(f.status, FileStatus::Deleted);
            let added = lines(&file(&from_blobs, &format!("f{i}.txt")).added);
            assert_eq!(lines(&f.removed), added, "{c:?}");
        }
    }

    #[test]
    fn gitattributes_can_mark_text_binary() {
        let s = Scratch::new();
        s.write(
            ".gitattributes",
            "*.lock -diff\n*.dat binary\n*.py diff=python\n*.enc diff=sops\n",
        );
        s.git(&["config", "diff.sops.binary", "true"]);
        s.write("a.txt", "a\n");
        s.commit("init");
        s.write("yarn.lock", "a@1:\n  version 1\n");
        s.write("blob.dat", "text really\n");
        s.write("app.py", "x = 1\n");
        s.write("secrets.enc", "ENC[abc]\n");
        s.write("old.lock", "x\n");
        s.commit("add");
        std::fs::remove_file(s.path().join("old.lock")).unwrap();
        s.write("new.lock", "untracked\n");
        s.write("plain.txt", "plain\n");
        for input in [Input::Commit("HEAD".into()), worktree(Some("HEAD~1"))] {
            let set = s.changes(&input).unwrap();
            for path in ["yarn.lock", "blob.dat", "secrets.enc"] {
                let f = file(&set, path);
                assert!(f.binary && f.added.is_empty(), "{path}: {f:?}");
            }
            assert_eq!(lines(&file(&set, "app.py").added), [(1, "x = 1")]);
        }
        let set = s.changes(&worktree(Some("HEAD"))).unwrap();
        assert!(file(&set, "old.lock").binary);
        assert!(file(&set, "new.lock").binary);
        assert!(!file(&set, "plain.txt").binary);
    }

    /// Stored changes are read on every thread past a size; the result must not depend on it.
    #[cfg(unix)]
    #[test]
    fn stored_changes_read_the_same_on_one_thread_and_on_many() {
        let s = Scratch::new();
        s.write(".gitattributes", "*.lock -diff\n*.forced diff\n");
        for i in 0..30 {
            s.write(&format!("src/m{i}.py"), numbered(20));
            s.write(&format!("gone/d{i}.txt"), format!("deleted {i}\n"));
        }
        s.write("deps.lock", "a 1\n");
        s.write("data.forced", "a\0b\n");
        s.write("raw.bin", "a\0b\n");
        s.write("crlf.txt", "one\r\ntwo\r\n");
        s.write("run.sh", "echo\n");
        s.write("link", "target\n");
        s.write("moved/before.rb", numbered(30));
        s.commit("base");
        for i in 0..30 {
            let mut text = numbered(20).replace("line 5\n", &format!("changed {i}\n"));
            text.push_str("appended\n");
            s.write(&format!("src/m{i}.py"), text);
            s.write(&format!("new/a{i}.sql"), format!("DROP TABLE t{i};\n"));
        }
        std::fs::remove_dir_all(s.path().join("gone")).unwrap();
        s.write("deps.lock", "a 2\n");
        s.write("data.forced", "a\0c\n");
        s.write("raw.bin", "a\0c\n");
        s.write("crlf.txt", "one\r\nTWO\r\n");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            s.path().join("run.sh"),
            std::fs::Permissions::from_mode(0o755),
        )
        .unwrap();
        std::fs::remove_file(s.path().join("link")).unwrap();
        std::os::unix::fs::symlink("elsewhere", s.path().join("link")).unwrap();
        std::fs::create_dir_all(s.path().join("moved/after")).unwrap();
        std::fs::rename(
            s.path().join("moved/before.rb"),
            s.path().join("moved/after/after.rb"),
        )
        .unwrap();
        s.write(
            "moved/after/after.rb",
            numbered(30).replace("line 3\n", "edited\n"),
        );
        s.commit("change");
        let repo = s.repo();
        let tree = |rev: &str| repo.revparse_single(rev).unwrap().peel_to_tree().unwrap();
        let (old, new) = (tree("HEAD~1"), tree("HEAD"));
        let mut diff = repo
            .diff_tree_to_tree(Some(&old), Some(&new), Some(&mut diff_options()))
            .unwrap();
        find_renames(&repo, &mut diff, false).unwrap();
        assert!(diff.deltas().len() >= PARALLEL_READ_MIN);
        let jobs = stored_jobs(&diff);
        let read = |parallel| {
            read_jobs_from(
                &repo,
                None,
                (&jobs.files, &jobs.reads),
                0,
                usize::MAX,
                parallel,
                None,
            )
        };
        let (one, _) = read(false).unwrap();
        let (many, _) = read(true).unwrap();
        assert_eq!(one, many);
        let set = ChangeSet {
            files: many,
            commits: Vec::new(),
            new_side: NewSide::DiffOnly,
            old_side: OldSide::DiffOnly,
            description: String::new(),
            head_commit: None,
        };
        assert_eq!(
            lines(&file(&set, "src/m7.py").added),
            [(5, "changed 7"), (21, "appended")]
        );
        assert_eq!(lines(&file(&set, "src/m7.py").removed), [(5, "line 5")]);
        assert_eq!(
            lines(&file(&set, "new/a3.sql").added),
            [(1, "DROP TABLE t3;")]
        );
        assert_eq!(
            lines(&file(&set, "gone/d4.txt").removed),
            [(1, "deleted 4")]
        );
        assert!(file(&set, "deps.lock").binary);
        assert!(file(&set, "raw.bin").binary);
        let forced = file(&set, "data.forced");
        assert!(!forced.binary);
        assert_eq!(lines(&forced.added), [(1, "a\0c")]);
        assert_eq!(lines(&file(&set, "crlf.txt").added), [(2, "TWO")]);
        assert_eq!(file(&set, "run.sh").status, FileStatus::Mode);
        let link = file(&set, "link");
        assert_eq!(lines(&link.added), [(1, "elsewhere")]);
        assert_eq!(lines(&link.removed), [(1, "target")]);
        let moved = file(&set, "moved/after/after.rb");
        assert_eq!(moved.status, FileStatus::Renamed);
        assert_eq!(moved.old_path.as_deref(), Some("moved/before.rb"));
        assert_eq!(lines(&moved.added), [(3, "edited")]);
    }

    /// A planned change read in small batches gives the same files as reading it at once.
    #[test]
    fn a_planned_change_reads_in_batches_without_gaps() {
        let s = Scratch::new();
        for i in 0..90 {
            s.write(&format!("src/f{i:02}.py"), numbered(8));
        }
        s.commit("base");
        for i in 0..90 {
            let text = numbered(8).replace("line 4\n", &format!("four {i}\n"));
            s.write(&format!("src/f{i:02}.py"), text);
            s.write(&format!("db/{i:02}.sql"), format!("DROP TABLE t{i};\n"));
        }
        s.commit("change");
        let repo = s.repo();
        let input = Input::Range {
            base: "HEAD~1".into(),
            head: "HEAD".into(),
        };
        let whole = changes(&repo, &input, None).unwrap();
        let planned = plan(&repo, &input, None).unwrap();
        assert_eq!(planned.skeleton.files.len(), 180);
        assert!(planned.skeleton.files.iter().all(|f| f.added.is_empty()));
        assert_eq!(planned.skeleton.commits, whole.commits);
        for budget in [1, 300, usize::MAX] {
            let (mut files, mut at, mut batches) = (Vec::new(), 0, 0);
            while at < planned.skeleton.files.len() {
                let (batch, next) = planned.read_batch(at, budget).unwrap();
                assert!(next > at && batch.len() == next - at, "{at} -> {next}");
                files.extend(batch);
                at = next;
                batches += 1;
            }
            assert_eq!(files, whole.files, "budget {budget}");
            if budget == 300 {
                assert!(batches > 2, "{batches} batches");
            }
        }
        // The working tree's lines come from its diff, on this thread, in batches too.
        for i in 0..30 {
            s.write(&format!("src/f{i:02}.py"), format!("edited {i}\n"));
            s.write(&format!("new/u{i:02}.sql"), format!("DROP TABLE u{i};\n"));
        }
        let input = worktree(Some("HEAD"));
        let whole = changes(&repo, &input, None).unwrap();
        let planned = plan(&repo, &input, None).unwrap();
        let (mut files, mut at) = (Vec::new(), 0);
        while at < planned.skeleton.files.len() {
            let (batch, next) = planned.read_batch(at, 40).unwrap();
            assert!(next > at && batch.len() == next - at, "{at} -> {next}");
            files.extend(batch);
            at = next;
        }
        assert_eq!(files.len(), 60);
        assert_eq!(files, whole.files);
        assert_eq!(
            lines(&file(&whole, "new/u07.sql").added),
            [(1, "DROP TABLE u7;")]
        );
    }

    /// One commit's files come from comparing its trees directly (backtest replays thousands);
    /// they must be what libgit2's diff gives.
    #[cfg(unix)]
    #[test]
    fn a_commit_read_from_its_trees_matches_the_diff() {
        use std::os::unix::ffi::OsStrExt;
        use std::os::unix::fs::PermissionsExt;
        let s = Scratch::new();
        s.write(".gitattributes", "*.lock -diff\n");
        s.write("a/b/c.txt", numbered(5));
        s.write("a/b.txt", "sorts after the folder a/b\n");
        s.write("a-b.txt", "sorts before a/\n");
        s.write("keep/x.py", "x = 1\n");
        s.write("doomed/deep/er/f.sql", "DROP TABLE t;\n");
        s.write("doomed/g.sql", "SELECT 1;\n");
        s.write("run.sh", "echo\n");
        s.write("link", "plain\n");
        s.write("deps.lock", "a 1\n");
        s.commit("base");
        // Additions and edits only: new nested folders, a mode flip, a symlink, binary files.
        s.write("a/b/c.txt", numbered(5).replace("line 2\n", "two\n"));
        s.write("a/b/new/inner/n.rb", "add_column :t, :c\n");
        s.write("fresh/one.sql", "CREATE TABLE x (id int);\n");
        s.write("deps.lock", "a 2\n");
        s.write("raw.bin", "a\0b\n");
        std::fs::set_permissions(
            s.path().join("run.sh"),
            std::fs::Permissions::from_mode(0o755),
        )
        .unwrap();
        std::fs::remove_file(s.path().join("link")).unwrap();
        std::os::unix::fs::symlink("target", s.path().join("link")).unwrap();
        let odd = std::ffi::OsStr::from_bytes(b"caf\xe9.txt");
        std::fs::write(s.path().join(odd), b"ok\n").unwrap();
        s.commit("adds");
        // A submodule entry, added to the index by hand.
        s.git(&[
            "update-index",
            "--add",
            "--cacheinfo",
            "160000,0123456789012345678901234567890123456789,vendor/sub",
        ]);
        s.git(&["commit", "-q", "-m", "submodule"]);
        // Deletions and edits only: a nested folder goes, the symlink turns back into a file.
        std::fs::remove_dir_all(s.path().join("doomed")).unwrap();
        std::fs::remove_file(s.path().join("link")).unwrap();
        s.write("link", "plain again\n");
        s.write("keep/x.py", "x = 2\n");
        s.commit("deletes");
        // A file that becomes a folder: an addition and a deletion, so the diff decides.
        std::fs::remove_file(s.path().join("a-b.txt")).unwrap();
        s.write("a-b.txt/inside.txt", "now a folder\n");
        s.commit("file to folder");
        let repo = s.repo();
        let tree = |rev: &str| repo.revparse_single(rev).unwrap().peel_to_tree().unwrap();
        for rev in ["HEAD~3", "HEAD~2", "HEAD~1", "HEAD"] {
            let (old, new) = (tree(&format!("{rev}^")), tree(rev));
            let read = |jobs: Jobs| {
                read_jobs_from(
                    &repo,
                    None,
                    (&jobs.files, &jobs.reads),
                    0,
                    usize::MAX,
                    false,
                    None,
                )
                .unwrap()
                .0
            };
            let direct = read(commit_jobs(&repo, rev, &old, &new).unwrap());
            let mut changes = Vec::new();
            tree_changes(&repo, &old, &new, &mut Vec::new(), &mut changes).unwrap();
            let parent = Some((&old, changes.as_slice()));
            let via_diff = read(commit_jobs_via_diff(&repo, rev, parent, &new).unwrap());
            assert_eq!(direct, via_diff, "{rev}");
            assert!(!direct.is_empty(), "{rev}");
        }
        let set = s.changes(&Input::Commit("HEAD~3".into())).unwrap();
        assert_eq!(file(&set, "run.sh").status, FileStatus::Mode);
        assert!(file(&set, "deps.lock").binary);
        assert_eq!(
            lines(&file(&set, "a/b/new/inner/n.rb").added),
            [(1, "add_column :t, :c")]
        );
        let set = s.changes(&Input::Commit("HEAD~1".into())).unwrap();
        assert_eq!(
            lines(&file(&set, "doomed/deep/er/f.sql").removed),
            [(1, "DROP TABLE t;")]
        );
    }

    #[cfg(unix)]
    #[test]
    fn non_utf8_names_and_content_do_not_panic() {
        use std::os::unix::ffi::OsStrExt;
        let s = Scratch::new();
        s.write("a.txt", "a\n");
        s.commit("init");
        let name = std::ffi::OsStr::from_bytes(b"caf\xe9.txt");
        std::fs::write(s.path().join(name), b"ok\n\xff\xfe latin\n").unwrap();
        s.write("latin1.txt", b"caf\xe9\n");
        let set = s.changes(&worktree(None)).unwrap();
        let f = file(&set, "caf\u{fffd}.txt");
        assert_eq!(lines(&f.added), [(1, "ok"), (2, "\u{fffd}\u{fffd} latin")]);
        assert_eq!(lines(&file(&set, "latin1.txt").added), [(1, "caf\u{fffd}")]);
        s.commit("names");
        let set = s.changes(&Input::Commit("HEAD".into())).unwrap();
        assert_eq!(set.files.len(), 2);
    }

    #[cfg(unix)]
    #[test]
    fn mode_only_changes_and_symlinks() {
        use std::os::unix::fs::PermissionsExt;
        let s = Scratch::new();
        s.write("run.sh", "echo hi\n");
        s.write("edit.sh", "echo a\n");
        s.write("became_link", "text\n");
        s.commit("init");
        for name in ["run.sh", "edit.sh"] {
            let path = s.path().join(name);
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        s.write("edit.sh", "echo b\n");
        std::os::unix::fs::symlink("run.sh", s.path().join("link")).unwrap();
        std::fs::remove_file(s.path().join("became_link")).unwrap();
        std::os::unix::fs::symlink("edit.sh", s.path().join("became_link")).unwrap();
        let set = s.changes(&worktree(None)).unwrap();
        assert_eq!(file(&set, "run.sh").status, FileStatus::Mode);
        assert_eq!(file(&set, "edit.sh").status, FileStatus::Modified);
        let link = file(&set, "link");
        assert_eq!(link.status, FileStatus::Added);
        assert_eq!(lines(&link.added), [(1, "run.sh")]);
        let typechange = file(&set, "became_link");
        assert_eq!(typechange.status, FileStatus::Modified);
        assert_eq!(lines(&typechange.added), [(1, "edit.sh")]);
        s.commit("modes");
        let set = s.changes(&Input::Commit("HEAD".into())).unwrap();
        assert_eq!(file(&set, "run.sh").status, FileStatus::Mode);
        assert_eq!(
            read_new_file(&set.new_side, "link").as_deref(),
            Some(&b"run.sh"[..])
        );
    }

    #[test]
    fn unborn_head_compares_the_empty_tree() {
        let s = Scratch::new();
        s.write("first.txt", "hello\n");
        let set = s.changes(&worktree(None)).unwrap();
        assert_eq!(file(&set, "first.txt").status, FileStatus::Added);
        assert_eq!(lines(&file(&set, "first.txt").added), [(1, "hello")]);
        assert_eq!(set.head_commit, None);
        assert!(set.commits.is_empty());
        assert!(set.description.contains("no commits yet"));
        // With a base named: still the empty tree.
        assert_eq!(s.changes(&worktree(Some("main"))).unwrap().files.len(), 1);

        assert!(s.changes(&Input::Staged).unwrap().files.is_empty());
        s.git(&["add", "first.txt"]);
        let set = s.changes(&Input::Staged).unwrap();
        assert_eq!(file(&set, "first.txt").status, FileStatus::Added);
    }

    #[test]
    fn shallow_clone_without_merge_base_names_fetch_depth() {
        let origin = Scratch::new();
        origin.write("a.txt", "a\n");
        origin.commit("one");
        origin.git(&["checkout", "-q", "-b", "feature"]);
        origin.write("f.txt", "f\n");
        origin.commit("feature");
        origin.git(&["checkout", "-q", "main"]);
        origin.write("a.txt", "b\n");
        origin.commit("two");
        origin.write("a.txt", "c\n");
        origin.commit("three");

        let clone = tempfile::tempdir().unwrap();
        let url = format!("file://{}", origin.path().display());
        git_in(
            clone.path(),
            &[
                "clone",
                "-q",
                "--depth",
                "1",
                "--no-single-branch",
                &url,
                ".",
            ],
        );
        let repo = Repository::open(clone.path()).unwrap();
        assert!(repo.is_shallow());
        for input in [
            Input::Range {
                base: "origin/main".into(),
                head: "origin/feature".into(),
            },
            worktree(Some("origin/feature")),
        ] {
            let err = changes(&repo, &input, None).unwrap_err();
            let text = error_text(&err);
            assert!(matches!(err, Error::Repository { .. }), "{text}");
            assert!(text.contains("shallow"), "{text}");
            assert!(text.contains("fetch-depth: 0"), "{text}");
            assert!(text.contains("git fetch --unshallow"), "{text}");
        }
        // The tip's parent was not fetched: not a root commit to show whole.
        let err = changes(&repo, &Input::Commit("HEAD".into()), None).unwrap_err();
        assert!(
            error_text(&err).contains("fetch-depth: 0"),
            "{}",
            error_text(&err)
        );
        // An unknown rev in a shallow clone also says so.
        let err = changes(&repo, &worktree(Some("v9.9")), None).unwrap_err();
        assert!(error_text(&err).contains("fetch-depth: 0"));
    }

    #[test]
    fn unknown_rev_names_the_rev_and_the_fix() {
        let s = Scratch::new();
        s.write("a.txt", "a\n");
        s.commit("init");
        for input in [
            worktree(Some("mian")),
            Input::Range {
                base: "mian".into(),
                head: "HEAD".into(),
            },
            Input::Range {
                base: "main".into(),
                head: "mian".into(),
            },
            Input::Commit("mian".into()),
        ] {
            let err = s.changes(&input).unwrap_err();
            let text = error_text(&err);
            assert!(matches!(err, Error::Repository { .. }), "{text}");
            assert!(
                err.to_string().contains("unknown revision 'mian'"),
                "{text}"
            );
            assert!(text.contains("git fetch origin mian"), "{text}");
            assert!(text.contains("spelling"), "{text}");
        }
        // A rev that is not a commit.
        let err = s.changes(&Input::Commit("HEAD:a.txt".into())).unwrap_err();
        assert!(err.to_string().contains("not a commit"), "{err}");
    }

    #[test]
    fn unrelated_history_is_explained() {
        let s = Scratch::new();
        s.write("a.txt", "a\n");
        s.commit("init");
        s.git(&["checkout", "-q", "--orphan", "other"]);
        s.write("b.txt", "b\n");
        s.commit("other root");
        let err = s.changes(&worktree(Some("main"))).unwrap_err();
        assert!(err.to_string().contains("no common history"), "{err}");
    }

    #[test]
    fn submodules_are_files_without_lines() {
        let sub = Scratch::new();
        sub.write("lib.txt", "v1\n");
        sub.commit("v1");
        let s = Scratch::new();
        s.write("a.txt", "a\n");
        s.commit("init");
        let url = sub.path().display().to_string();
        s.git(&["submodule", "add", "-q", &url, "vendor/lib"]);
        s.commit("add submodule");
        let set = s.changes(&Input::Commit("HEAD".into())).unwrap();
        let added = file(&set, "vendor/lib");
        assert_eq!(added.status, FileStatus::Added);
        assert!(added.added.is_empty() && !added.binary);
        assert_eq!(read_new_file(&set.new_side, "vendor/lib"), None);

        // Move the submodule to a new commit.
        let checkout = s.path().join("vendor/lib");
        std::fs::write(checkout.join("lib.txt"), "v2\n").unwrap();
        git_in(&checkout, &["commit", "-q", "-am", "v2"]);
        let set = s.changes(&worktree(None)).unwrap();
        let moved = file(&set, "vendor/lib");
        assert_eq!(moved.status, FileStatus::Modified);
        assert!(moved.added.is_empty() && moved.removed.is_empty());
        assert_eq!(read_new_file(&set.new_side, "vendor/lib"), None);
        s.git(&["add", "vendor/lib"]);
        let set = s.changes(&Input::Staged).unwrap();
        assert_eq!(file(&set, "vendor/lib").status, FileStatus::Modified);
        assert_eq!(read_new_file(&set.new_side, "vendor/lib"), None);
    }

    #[test]
    fn read_new_file_stays_inside_the_worktree() {
        let s = Scratch::new();
        s.write("dir/a.txt", "a\n");
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), "s\n").unwrap();
        let side = NewSide::Worktree(s.path().to_path_buf());
        assert_eq!(
            read_new_file(&side, "dir/a.txt").as_deref(),
            Some(&b"a\n"[..])
        );
        assert_eq!(read_new_file(&side, "dir"), None);
        assert_eq!(read_new_file(&side, "missing.txt"), None);
        assert_eq!(read_new_file(&side, "../x"), None);
        assert_eq!(read_new_file(&side, "/etc/passwd"), None);
        assert_eq!(read_new_file(&side, ""), None);
        assert_eq!(read_new_file(&NewSide::DiffOnly, "dir/a.txt"), None);
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(outside.path(), s.path().join("out")).unwrap();
            std::os::unix::fs::symlink(outside.path().join("secret"), s.path().join("link"))
                .unwrap();
            assert_eq!(read_new_file(&side, "out/secret"), None);
            let target = read_new_file(&side, "link").unwrap();
            assert_eq!(
                target,
                outside.path().join("secret").as_os_str().as_encoded_bytes()
            );
        }
        let gone = NewSide::Commit {
            repo: s.path().to_path_buf(),
            commit: "0".repeat(40),
        };
        assert_eq!(read_new_file(&gone, "dir/a.txt"), None);
        assert_eq!(
            read_new_file(&NewSide::Index(outside.path().into()), "x"),
            None
        );
    }

    #[test]
    fn bare_repository_has_no_working_tree() {
        let dir = tempfile::tempdir().unwrap();
        git_in(dir.path(), &["init", "-q", "--bare"]);
        let repo = Repository::open(dir.path()).unwrap();
        let err = changes(&repo, &worktree(None), None).unwrap_err();
        assert!(err.to_string().contains("bare repository"), "{err}");
        assert!(error_text(&err).contains("--commit"));
    }
}
