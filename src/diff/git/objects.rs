//! Reading blobs from the object database. Content is decoded with gitoxide's object store
//! (`gix-odb`): on the benchmark's 17,010 blobs it reads them in 9 ms on two threads where
//! libgit2 takes 70 to 80 ms, because libgit2 serialises every thread on its pack windows and
//! delta cache, and sets up a new zlib stream for every object. Whatever gix cannot read as a
//! blob (a missing object in a partial clone, an object of another kind, a store it cannot
//! open) is read by libgit2 instead, so every error says what it said before.
//!
//! Loose objects are left to libgit2: gix maps each loose file into memory and unmaps it, and
//! every unmapping interrupts the other threads to flush their address translations (on the
//! migrations benchmark's 6,000 loose blobs that made reading 60 ms slower than libgit2's reads).
//!
//! Each thread keeps one reader per repository (a store handle and a small cache of delta
//! bases), so readers are never shared between threads.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use git2::{Oid, Repository};

/// Delta bases kept per thread, found by hash (a list of a few dozen, searched in turn, cost
/// more than it saved on a history of small commits), bounded in memory as libgit2 bounds its
/// own (16 MiB).
const DELTA_CACHE_BYTES: usize = 16 * 1024 * 1024;

/// A thread's reader of one object database.
struct Reader {
    store: gix_odb::Cache<gix_odb::store::Handle<std::sync::Arc<gix_odb::Store>>>,
    /// The `objects` folder, when it holds loose objects (a folder named by two hex digits):
    /// each blob is then looked for there first, and read by libgit2 when found.
    loose: Option<PathBuf>,
}

impl Reader {
    fn is_loose(&self, id: Oid) -> bool {
        let Some(objects) = &self.loose else {
            return false;
        };
        let hex = id.to_string();
        objects.join(&hex[..2]).join(&hex[2..]).exists()
    }
}

/// The largest scratch buffer a thread keeps between blobs.
const SCRATCH_KEPT_BYTES: usize = 8 * 1024 * 1024;

thread_local! {
    /// Where this thread decodes blobs (see `read_fast`).
    static SCRATCH: std::cell::Cell<Vec<u8>> = const { std::cell::Cell::new(Vec::new()) };
    /// This thread's reader of each object database, by its directory; `None` where gix could
    /// not open it (libgit2 reads everything then).
    static READERS: RefCell<HashMap<PathBuf, Option<Reader>>> = RefCell::new(HashMap::new());
}

/// The content of blob `id` of `repo`.
pub(crate) fn read_blob(repo: &Repository, id: Oid) -> Result<Vec<u8>, git2::Error> {
    if let Some(content) = read_fast(repo.commondir(), id) {
        return Ok(content);
    }
    repo.find_blob(id).map(|blob| blob.content().to_vec())
}

/// Blob `id` read by gix, or `None` when gix cannot read it as a blob.
fn read_fast(git_dir: &Path, id: Oid) -> Option<Vec<u8>> {
    use gix_object::Find;
    READERS.with(|readers| {
        let mut readers = readers.borrow_mut();
        if !readers.contains_key(git_dir) {
            readers.insert(git_dir.to_path_buf(), open(git_dir));
        }
        let reader = readers.get(git_dir)?.as_ref()?;
        if reader.is_loose(id) {
            return None;
        }
        let id = gix_hash::ObjectId::try_from(id.as_bytes()).ok()?;
        // Decoded into this thread's scratch buffer, then copied out at its size: a blob
        // decoded from a delta needs room for its base as well, several times its own size,
        // and a fresh buffer each time cost more in new pages than the copy does.
        let mut buffer = SCRATCH.take();
        let found = reader
            .store
            .try_find(&id, &mut buffer)
            .ok()
            .flatten()
            .map(|data| (data.kind, data.data.as_ptr(), data.data.len()));
        // The content is the start of `buffer` (a packed object). Anything else is not worked
        // out from pointers: an empty blob is empty, and other content is libgit2's to read.
        let content = match found {
            Some((gix_object::Kind::Blob, _, 0)) => Some(Vec::new()),
            Some((gix_object::Kind::Blob, start, len)) if std::ptr::eq(start, buffer.as_ptr()) => {
                Some(buffer[..len].to_vec())
            }
            _ => None,
        };
        if buffer.capacity() <= SCRATCH_KEPT_BYTES {
            SCRATCH.set(buffer);
        }
        content
    })
}

/// A reader of the object database under `git_dir`, with a delta-base cache of its own.
fn open(git_dir: &Path) -> Option<Reader> {
    let objects = git_dir.join("objects");
    if !objects.is_dir() {
        return None;
    }
    let has_loose = std::fs::read_dir(&objects).ok()?.flatten().any(|entry| {
        let name = entry.file_name();
        let name = name.as_encoded_bytes();
        name.len() == 2 && name.iter().all(u8::is_ascii_hexdigit)
    });
    let store = gix_odb::at(&objects, gix_hash::Kind::Sha1)
        .ok()?
        .into_arc()
        .ok()?;
    let mut store = store.store().to_cache_arc();
    store.set_pack_cache(|| {
        Box::new(gix_pack::cache::lru::MemoryCappedHashmap::new(
            DELTA_CACHE_BYTES,
        ))
    });
    Some(Reader {
        store,
        loose: has_loose.then_some(objects),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    fn git(dir: &Path, args: &[&str]) -> String {
        let out = Command::new("git")
            .current_dir(dir)
            .args(args)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .output()
            .expect("git runs");
        assert!(out.status.success(), "git {args:?}: {out:?}");
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    }

    /// Loose and packed blobs (deltas among them) read the same as libgit2 reads them; a tree
    /// is no blob, and an object that is not there is libgit2's error.
    #[test]
    fn reads_what_libgit2_reads() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        git(root, &["init", "-q"]);
        let mut ids = Vec::new();
        std::fs::write(root.join("empty.txt"), "").unwrap();
        for round in 0..3 {
            let body: String = (0..200)
                .map(|i| format!("line {i} of round {}\n", if i == 7 { round } else { 0 }))
                .collect();
            std::fs::write(root.join("f.txt"), body).unwrap();
            git(root, &["add", "f.txt", "empty.txt"]);
            git(
                root,
                &[
                    "-c",
                    "user.name=t",
                    "-c",
                    "user.email=t@t",
                    "commit",
                    "-qm",
                    "c",
                ],
            );
            ids.push(git(root, &["rev-parse", "HEAD:f.txt"]));
        }
        ids.push(git(root, &["rev-parse", "HEAD:empty.txt"]));
        let loose = git(root, &["rev-parse", "HEAD:f.txt"]);
        let repo = Repository::open(root).unwrap();
        let check = |repo: &Repository, packed: bool| {
            for id in &ids {
                let id = Oid::from_str(id).unwrap();
                let content = read_blob(repo, id).unwrap();
                assert_eq!(content, repo.find_blob(id).unwrap().content());
                // Loose objects are libgit2's to read; packed ones gix's.
                let fast = read_fast(repo.commondir(), id);
                assert_eq!(fast.is_some(), packed, "{id}");
                if let Some(fast) = fast {
                    assert_eq!(fast, content);
                }
            }
        };
        check(&repo, false);
        assert_eq!(loose, ids[2]);
        assert_eq!(
            read_blob(&repo, Oid::from_str(&ids[3]).unwrap()).unwrap(),
            b""
        );
        // Packed, with deltas against each other; no loose object left.
        git(root, &["gc", "-q", "--aggressive", "--prune=now"]);
        let repo = Repository::open(root).unwrap();
        READERS.with(|r| r.borrow_mut().clear());
        check(&repo, true);
        let tree = Oid::from_str(&git(root, &["rev-parse", "HEAD^{tree}"])).unwrap();
        assert_eq!(read_fast(repo.commondir(), tree), None);
        assert!(read_blob(&repo, tree).is_err());
        let missing = Oid::from_str("0123456789012345678901234567890123456789").unwrap();
        assert_eq!(read_fast(repo.commondir(), missing), None);
        let err = read_blob(&repo, missing).unwrap_err();
        assert_eq!(err.code(), git2::ErrorCode::NotFound);
    }
}
