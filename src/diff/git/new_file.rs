//! The new version of a file, read from wherever the change's new side lives (working tree,
//! index or commit), for rules that look at whole files.

use std::path::Path;

use git2::{ObjectType, Oid, Repository};

use super::index::current_index;
use super::open::init;
use crate::diff::NewSide;
use crate::diff::paths::{is_repo_relative, read_worktree_file};

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
            NewSide::Worktree(_) | NewSide::DiffOnly | NewSide::Patch(_) | NewSide::Files(_) => {}
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
            NewSide::Patch(files) | NewSide::Files(files) => {
                files.get(path).map(|t| t.as_bytes().to_vec())
            }
        }
    }
}
