//! Whole files of either side of a change, and the folders around them.
//!
//! Lines added and removed are not enough to understand a migration or a deployment: an
//! `AlterField` is judged against the field it replaces, which lives in an earlier migration, and
//! a Deployment's probe is judged against the probe it had. A [`SideReader`] reads whole files
//! from one side of the change (a commit's tree, the index, or the working tree) and lists
//! folders, without ever leaving the repository.

use std::path::{Path, PathBuf};

use git2::{ObjectType, Oid, Repository};

use super::paths::{SKIP_WORKTREE, is_repo_relative};
use super::{NewSide, OldSide};

/// Folders a listing of the whole tree never enters: vendored code holds other projects'
/// settings and migrations.
const SKIPPED_FOLDERS: [&str; 5] = ["node_modules", "vendor", ".git", "target", "dist"];

/// What reading one file of a side gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Read {
    /// The side has no such file.
    Absent,
    Bytes(Vec<u8>),
    /// The side cannot be read at all (a patch has no trees), or this object could not be read:
    /// the reason, for a message. Never taken for "no such file".
    Unreadable(String),
}

enum Source {
    Tree {
        repo: std::rc::Rc<Repository>,
        tree: Oid,
    },
    Index {
        repo: Repository,
        index: git2::Index,
    },
    /// The working tree, and (opened when first needed) the index, which holds the files a
    /// sparse checkout leaves out of it.
    Worktree(PathBuf, SparseIndex),
    Empty,
    /// A patch's files shown whole; any other file is unknown, for the reason given.
    Patch(super::PatchFiles, &'static str),
    /// A whole tree given file by file: any other file is absent.
    Files(super::PatchFiles),
    Unknown(String),
}

/// Reads whole files of one side of a change (see the module documentation).
pub struct SideReader {
    source: Source,
}

/// Lets libgit2 keep large trees in its object cache. Its default keeps none over 4 KiB, so a
/// folder of a few thousand migrations was read, inflated and parsed again for every file looked
/// up in it (quadratic in the folder's size).
fn cache_large_trees() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: sets a process-wide libgit2 option, once, before this module reads any tree;
        // libgit2 reads the limit under its cache lock.
        let _ = unsafe { git2::opts::set_cache_object_limit(ObjectType::Tree, 16 << 20) };
    });
}

impl SideReader {
    /// The side a change starts from.
    pub fn old(side: &OldSide) -> SideReader {
        cache_large_trees();
        let source = match side {
            OldSide::Commit { repo, commit } => tree_source(repo, commit),
            OldSide::Empty => Source::Empty,
            OldSide::DiffOnly => {
                Source::Unknown("a patch holds only the changed lines of the old side".into())
            }
            OldSide::Files(files) => Source::Files(files.clone()),
            OldSide::Patch(files) => Source::Patch(
                files.clone(),
                "the patch shows only part of the old side (a file is read whole from a patch when its one hunk starts at line 1, as `git diff -U99999` writes it)",
            ),
        };
        SideReader { source }
    }

    /// The side a change ends at.
    pub fn new(side: &NewSide) -> SideReader {
        cache_large_trees();
        let source = match side {
            NewSide::Commit { repo, commit } => tree_source(repo, commit),
            NewSide::Index(root) => match Repository::open(root).and_then(|r| {
                let index = r.index()?;
                Ok((r, index))
            }) {
                Ok((repo, index)) => Source::Index { repo, index },
                Err(e) => Source::Unknown(format!("the index could not be read: {}", e.message())),
            },
            NewSide::Worktree(root) => Source::Worktree(root.clone(), std::cell::OnceCell::new()),
            NewSide::DiffOnly => {
                Source::Unknown("a patch holds only the changed lines of the new side".into())
            }
            NewSide::Files(files) => Source::Files(files.clone()),
            NewSide::Patch(files) => Source::Patch(
                files.clone(),
                "the patch shows only part of the new side (a file is read whole from a patch when its one hunk starts at line 1, as `git diff -U99999` writes it)",
            ),
        };
        SideReader { source }
    }

    /// Whether every file of this side can be read: not a patch, which shows some files whole
    /// and leaves the rest unknown (a search of it that finds nothing proves nothing).
    pub fn is_complete(&self) -> bool {
        !matches!(self.source, Source::Unknown(_) | Source::Patch(..))
    }

    /// Whether files of this side can be read at all.
    pub fn is_known(&self) -> bool {
        !matches!(self.source, Source::Unknown(_))
    }

    /// The whole file at `path` (repo-relative, `/`-separated). A symbolic link is read as the
    /// file it names when that is inside the repository (as the tools that run the file would
    /// read it); a link out of the repository, or a loop of links, is unreadable.
    pub fn read(&self, path: &str) -> Read {
        let mut path = path.to_string();
        for _ in 0..LINK_HOPS {
            match self.read_entry(&path) {
                Entry::File(read) => return read,
                Entry::Link(target) => {
                    let target = String::from_utf8_lossy(&target).into_owned();
                    match crate::diff::resolve_link(&path, &target) {
                        Some(next) if !next.is_empty() => path = next,
                        _ => {
                            return Read::Unreadable(format!(
                                "{path} is a symbolic link to `{target}`, outside the repository"
                            ));
                        }
                    }
                }
            }
        }
        Read::Unreadable(format!(
            "{path} is reached through more than {LINK_HOPS} symbolic links (a loop?)"
        ))
    }

    /// One entry at `path`, a link not followed.
    fn read_entry(&self, path: &str) -> Entry {
        if !is_repo_relative(path) {
            return Entry::File(Read::Unreadable(format!(
                "{path} is not a path inside the repository"
            )));
        }
        let file = match &self.source {
            Source::Tree { repo, tree } => {
                let entry = match repo
                    .find_tree(*tree)
                    .and_then(|t| t.get_path(Path::new(path)))
                {
                    Ok(entry) => entry,
                    Err(e) if e.code() == git2::ErrorCode::NotFound => {
                        return Entry::File(Read::Absent);
                    }
                    Err(e) => return Entry::File(Read::Unreadable(e.message().to_string())),
                };
                if entry.kind() != Some(ObjectType::Blob) {
                    return Entry::File(Read::Absent);
                }
                let read = blob(repo, entry.id());
                return link_or_file(entry.filemode() & 0o170000 == 0o120000, read);
            }
            Source::Index { repo, index } => match index.get_path(Path::new(path), 0) {
                // 0o160000 is a gitlink (submodule); 0o040000 a sparse-index directory.
                Some(e) if matches!(e.mode & 0o170000, 0o160000 | 0o040000) => Read::Absent,
                Some(e) => return link_or_file(e.mode & 0o170000 == 0o120000, blob(repo, e.id)),
                None => Read::Absent,
            },
            Source::Worktree(root, index) => {
                let Ok(meta) = std::fs::symlink_metadata(root.join(path)) else {
                    return skipped_worktree_file(root, index, path);
                };
                let read =
                    super::paths::read_worktree_file(root, path).map_or(Read::Absent, Read::Bytes);
                return link_or_file(meta.file_type().is_symlink(), read);
            }
            Source::Empty => Read::Absent,
            Source::Unknown(why) => Read::Unreadable(why.clone()),
            Source::Files(files) => files
                .get(path)
                .map_or(Read::Absent, |text| Read::Bytes(text.as_bytes().to_vec())),
            Source::Patch(files, why) => match files.get(path) {
                Some(text) => Read::Bytes(text.as_bytes().to_vec()),
                None => Read::Unreadable(why.to_string()),
            },
        };
        Entry::File(file)
    }

    /// The files directly inside `dir` (repo-relative paths, sorted); `None` when the side
    /// cannot be listed.
    pub fn list(&self, dir: &str) -> Option<Vec<String>> {
        let dir = dir.trim_end_matches('/');
        let prefix = if dir.is_empty() {
            String::new()
        } else {
            format!("{dir}/")
        };
        let mut out = match &self.source {
            Source::Tree { repo, tree } => {
                let tree = repo.find_tree(*tree).ok()?;
                let folder = if dir.is_empty() {
                    tree
                } else {
                    match tree.get_path(Path::new(dir)) {
                        Ok(e) if e.kind() == Some(ObjectType::Tree) => {
                            repo.find_tree(e.id()).ok()?
                        }
                        _ => return Some(Vec::new()),
                    }
                };
                folder
                    .iter()
                    .filter(|e| e.kind() == Some(ObjectType::Blob))
                    .filter_map(|e| Some(format!("{prefix}{}", e.name().ok()?)))
                    .collect()
            }
            Source::Index { index, .. } => index
                .iter()
                .filter_map(|e| {
                    let path = std::str::from_utf8(&e.path).ok()?;
                    let rest = path.strip_prefix(&prefix)?;
                    (!rest.contains('/')).then(|| path.to_string())
                })
                .collect(),
            Source::Worktree(root, index) => {
                if !is_repo_relative(dir) && !dir.is_empty() {
                    return None;
                }
                let full = root.join(dir);
                // Never list through a link that leads out of the repository.
                let (real_root, real) = (root.canonicalize().ok()?, full.canonicalize().ok());
                let mut files: Vec<String> = match real {
                    Some(real) if real.starts_with(&real_root) => std::fs::read_dir(real)
                        .ok()?
                        .flatten()
                        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
                        .filter_map(|e| Some(format!("{prefix}{}", e.file_name().to_str()?)))
                        .collect(),
                    _ => Vec::new(),
                };
                files.extend(
                    skipped_entries(root, index, dir)
                        .into_iter()
                        .filter(|(_, is_dir)| !is_dir)
                        .map(|(name, _)| format!("{prefix}{name}")),
                );
                files
            }
            Source::Empty => Vec::new(),
            // A patch cannot list a folder: the files it does not show are unknown.
            Source::Files(files) => files
                .keys()
                .filter(|p| {
                    p.strip_prefix(&prefix)
                        .is_some_and(|rest| !rest.contains('/'))
                })
                .cloned()
                .collect(),
            Source::Unknown(_) | Source::Patch(..) => return None,
        };
        out.sort();
        out.dedup();
        Some(out)
    }

    /// Every file of the side down to `max_depth` folders, at most `limit` of them, skipping
    /// vendored folders: where to look for a project's settings. Iterative, so no tree is deep
    /// enough to overflow the stack.
    pub fn walk(&self, max_depth: usize, limit: usize) -> Vec<String> {
        let mut out = Vec::new();
        let mut folders = vec![(String::new(), 0usize)];
        while let Some((dir, depth)) = folders.pop() {
            if out.len() >= limit {
                break;
            }
            for (name, is_dir) in self.entries(&dir) {
                let path = if dir.is_empty() {
                    name.clone()
                } else {
                    format!("{dir}/{name}")
                };
                if is_dir {
                    if depth < max_depth && !SKIPPED_FOLDERS.contains(&name.as_str()) {
                        folders.push((path, depth + 1));
                    }
                } else if out.len() < limit {
                    out.push(path);
                }
            }
        }
        out.sort();
        out
    }

    /// `(name, is a folder)` of each entry directly inside `dir`.
    fn entries(&self, dir: &str) -> Vec<(String, bool)> {
        match &self.source {
            Source::Tree { repo, tree } => {
                let Ok(tree) = repo.find_tree(*tree) else {
                    return Vec::new();
                };
                let folder = if dir.is_empty() {
                    tree
                } else {
                    match tree
                        .get_path(Path::new(dir))
                        .ok()
                        .filter(|e| e.kind() == Some(ObjectType::Tree))
                        .and_then(|e| repo.find_tree(e.id()).ok())
                    {
                        Some(t) => t,
                        None => return Vec::new(),
                    }
                };
                folder
                    .iter()
                    .filter_map(|e| {
                        let is_dir = match e.kind() {
                            Some(ObjectType::Tree) => true,
                            Some(ObjectType::Blob) => false,
                            _ => return None,
                        };
                        Some((e.name().ok()?.to_string(), is_dir))
                    })
                    .collect()
            }
            Source::Index { index, .. } => {
                let prefix = if dir.is_empty() {
                    String::new()
                } else {
                    format!("{dir}/")
                };
                let mut seen = std::collections::BTreeMap::new();
                for e in index.iter() {
                    let Ok(path) = std::str::from_utf8(&e.path) else {
                        continue;
                    };
                    if let Some(rest) = path.strip_prefix(&prefix) {
                        match rest.split_once('/') {
                            Some((folder, _)) => seen.insert(folder.to_string(), true),
                            None => seen.insert(rest.to_string(), false),
                        };
                    }
                }
                seen.into_iter().collect()
            }
            Source::Worktree(root, index) => {
                let mut found = skipped_entries(root, index, dir);
                let Ok(read) = std::fs::read_dir(root.join(dir)) else {
                    return found;
                };
                found.extend(read.flatten().filter_map(|e| {
                    // Links are not followed: a folder link could lead anywhere.
                    let kind = e.file_type().ok()?;
                    let name = e.file_name().to_str()?.to_string();
                    if kind.is_dir() {
                        Some((name, true))
                    } else if kind.is_file() {
                        Some((name, false))
                    } else {
                        None
                    }
                }));
                found.sort();
                found.dedup();
                found
            }
            Source::Files(files) => {
                let prefix = if dir.is_empty() {
                    String::new()
                } else {
                    format!("{dir}/")
                };
                let mut seen = std::collections::BTreeMap::new();
                for rest in files.keys().filter_map(|p| p.strip_prefix(&prefix)) {
                    match rest.split_once('/') {
                        Some((folder, _)) => seen.insert(folder.to_string(), true),
                        None => seen.insert(rest.to_string(), false),
                    };
                }
                seen.into_iter().collect()
            }
            Source::Empty | Source::Unknown(_) | Source::Patch(..) => Vec::new(),
        }
    }
}

type SparseIndex = std::cell::OnceCell<Option<(Repository, git2::Index)>>;

/// The repository and index of a working tree, opened once, when first needed.
fn sparse_index<'a>(root: &Path, index: &'a SparseIndex) -> Option<&'a (Repository, git2::Index)> {
    index
        .get_or_init(|| {
            let repo = Repository::open(root).ok()?;
            let index = repo.index().ok()?;
            Some((repo, index))
        })
        .as_ref()
}

/// A file absent from the working tree: the index's version when a sparse checkout left it
/// out, otherwise absent.
fn skipped_worktree_file(root: &Path, index: &SparseIndex, path: &str) -> Entry {
    match sparse_index(root, index)
        .and_then(|(repo, index)| Some((repo, index.get_path(Path::new(path), 0)?)))
    {
        Some((repo, e))
            if e.flags_extended & SKIP_WORKTREE != 0 && e.mode & 0o170000 != 0o160000 =>
        {
            link_or_file(e.mode & 0o170000 == 0o120000, blob(repo, e.id))
        }
        _ => Entry::File(Read::Absent),
    }
}

/// `(name, is a folder)` of the entries directly inside `dir` that a sparse checkout left out
/// of the working tree.
fn skipped_entries(root: &Path, index: &SparseIndex, dir: &str) -> Vec<(String, bool)> {
    let Some((_, index)) = sparse_index(root, index) else {
        return Vec::new();
    };
    let prefix = if dir.is_empty() {
        String::new()
    } else {
        format!("{dir}/")
    };
    let mut seen = std::collections::BTreeMap::new();
    for e in index
        .iter()
        .filter(|e| e.flags_extended & SKIP_WORKTREE != 0)
    {
        let Some(rest) = std::str::from_utf8(&e.path)
            .ok()
            .and_then(|p| p.strip_prefix(&prefix))
        else {
            continue;
        };
        match rest.split_once('/') {
            Some((folder, _)) => seen.insert(folder.to_string(), true),
            None => seen.insert(rest.to_string(), false),
        };
    }
    seen.into_iter().collect()
}

/// Links followed, at most, from one path to the file it names.
const LINK_HOPS: usize = 8;

/// One entry of a side: a file's content (or why there is none), or a link's target.
enum Entry {
    File(Read),
    Link(Vec<u8>),
}

fn link_or_file(link: bool, read: Read) -> Entry {
    match read {
        Read::Bytes(target) if link => Entry::Link(target),
        read => Entry::File(read),
    }
}

/// The repository at `path`, opened once a thread: a backtest reads both sides of thousands of
/// commits, and opening a repository (its config files, its object database) cost more than
/// reading a commit's files.
fn opened(path: &Path) -> Result<std::rc::Rc<Repository>, git2::Error> {
    thread_local! {
        static OPENED: std::cell::RefCell<std::collections::HashMap<PathBuf, std::rc::Rc<Repository>>> =
            std::cell::RefCell::new(std::collections::HashMap::new());
    }
    OPENED.with(|cell| {
        if let Some(repo) = cell.borrow().get(path) {
            return Ok(std::rc::Rc::clone(repo));
        }
        let repo = std::rc::Rc::new(Repository::open(path)?);
        cell.borrow_mut()
            .insert(path.to_path_buf(), std::rc::Rc::clone(&repo));
        Ok(repo)
    })
}

fn tree_source(repo: &Path, commit: &str) -> Source {
    let opened = opened(repo).and_then(|r| {
        let tree = r.find_commit(Oid::from_str(commit)?)?.tree_id();
        Ok((r, tree))
    });
    match opened {
        Ok((repo, tree)) => Source::Tree { repo, tree },
        Err(e) => Source::Unknown(format!(
            "commit {commit} could not be read: {}",
            e.message()
        )),
    }
}

fn blob(repo: &Repository, id: Oid) -> Read {
    match super::git::read_blob(repo, id) {
        Ok(content) => Read::Bytes(content),
        Err(e) => Read::Unreadable(format!(
            "object {id} could not be read ({}); in a partial clone, fetch it with `git fetch --refetch` or clone without --filter",
            e.message()
        )),
    }
}
