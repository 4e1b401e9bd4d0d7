//! One file's section of a patch: its `diff --git`, extended and `---`/`+++` headers, the
//! prefixes `git diff` puts on names, and the [`ChangedFile`] it becomes.

use super::header::{find, split_git_header, unquote_path};
use crate::diff::{
    ChangedFile, FileStatus, Lines, Unread, is_lfs_pointer_lines, leaves_repository,
};

/// Prefixes `git diff` puts on the old and new side: `a/`/`b/`, or with `diff.mnemonicPrefix`
/// `c/` (commit), `i/` (index), `w/` (worktree), `o/` (object), and `1/`/`2/` for `--no-index`.
pub(super) const OLD_PREFIXES: [&[u8]; 5] = [b"a/", b"c/", b"i/", b"o/", b"1/"];
pub(super) const GIT_PREFIXES: (&[u8], &[u8]) = (b"a/", b"b/");
pub(super) const NEW_PREFIXES: [&[u8]; 4] = [b"b/", b"i/", b"w/", b"2/"];

/// The pair of prefixes `old` and `new` carry, if they look like `git diff`'s; `None` for
/// `--no-prefix` output.
pub(super) fn prefix_pair(old: &[u8], new: &[u8]) -> Option<(&'static [u8], &'static [u8])> {
    let o = OLD_PREFIXES.iter().find(|p| old.starts_with(p))?;
    let n = NEW_PREFIXES.iter().find(|p| new.starts_with(p))?;
    (o != n).then_some((*o, *n))
}

/// One file section being read.
#[derive(Default)]
pub(super) struct FileBuilder {
    /// Started by `diff --git` (or `diff --cc`), so extended headers may follow.
    pub(super) git: bool,
    /// Started by `diff --cc`: its one name carries no prefix to learn from.
    pub(super) combined: bool,
    /// Prefixes to strip from `---`/`+++` paths, decided from the `diff --git` line.
    pub(super) prefixes: Option<(&'static [u8], &'static [u8])>,
    pub(super) header_old: Option<Vec<u8>>,
    pub(super) header_new: Option<Vec<u8>>,
    /// From `---`/`+++`: `Some(None)` is `/dev/null`.
    pub(super) minus: Option<Option<Vec<u8>>>,
    pub(super) plus: Option<Option<Vec<u8>>>,
    pub(super) rename_from: Option<Vec<u8>>,
    pub(super) rename_to: Option<Vec<u8>>,
    pub(super) copy_from: Option<Vec<u8>>,
    pub(super) copy_to: Option<Vec<u8>>,
    pub(super) new_file: bool,
    pub(super) deleted_file: bool,
    pub(super) mode_changed: bool,
    /// A submodule (mode 160000): its "Subproject commit" lines are not content.
    pub(super) gitlink: bool,
    /// A symbolic link (mode 120000) on the new side: its one line is the target.
    pub(super) link: bool,
    pub(super) binary: bool,
    pub(super) hunks: usize,
    pub(super) added: Lines,
    pub(super) removed: Lines,
    /// Old and new text from line 1, while the file has one hunk that starts there.
    pub(super) window: Option<(String, String)>,
}

impl FileBuilder {
    pub(super) fn git(rest: &[u8]) -> Self {
        let mut f = FileBuilder {
            git: true,
            ..Default::default()
        };
        if let Some((old, new)) = split_git_header(rest) {
            f.prefixes = prefix_pair(&old, &new);
            let (po, pn) = f.prefixes.unwrap_or((b"", b""));
            f.header_old = Some(old[po.len()..].to_vec());
            f.header_new = Some(new[pn.len()..].to_vec());
        }
        f
    }

    /// Sets the `---`/`+++` paths, stripping the prefixes `git diff` (or `diff -u a/ b/`) adds.
    pub(super) fn set_paths(&mut self, minus: Option<Vec<u8>>, plus: Option<Vec<u8>>) {
        let prefixes = if self.git && !self.combined {
            self.prefixes
        } else {
            match (&minus, &plus) {
                (Some(o), Some(n)) => prefix_pair(o, n),
                (None, Some(n)) if n.starts_with(b"b/") => Some(GIT_PREFIXES),
                (Some(o), None) if o.starts_with(b"a/") => Some(GIT_PREFIXES),
                _ => None,
            }
        };
        let strip = |path: Vec<u8>, prefix: Option<&[u8]>| match prefix {
            Some(p) if path.starts_with(p) => path[p.len()..].to_vec(),
            _ => path,
        };
        self.minus = Some(minus.map(|p| strip(p, prefixes.map(|p| p.0))));
        self.plus = Some(plus.map(|p| strip(p, prefixes.map(|p| p.1))));
    }

    /// Reads an extended header line of a `diff --git` section (`index`, `similarity index` and
    /// anything else unknown are skipped).
    pub(super) fn extended_header(&mut self, line: &[u8]) {
        let path = |rest: &[u8]| unquote_path(rest);
        if let Some(rest) = line.strip_prefix(b"rename from ") {
            self.rename_from = Some(path(rest));
        } else if let Some(rest) = line.strip_prefix(b"rename to ") {
            self.rename_to = Some(path(rest));
        } else if let Some(rest) = line.strip_prefix(b"copy from ") {
            self.copy_from = Some(path(rest));
        } else if let Some(rest) = line.strip_prefix(b"copy to ") {
            self.copy_to = Some(path(rest));
        } else if let Some(mode) = line.strip_prefix(b"new file mode ") {
            self.new_file = true;
            self.gitlink |= mode.starts_with(b"160000");
            self.link |= mode.starts_with(b"120000");
        } else if let Some(mode) = line.strip_prefix(b"deleted file mode ") {
            self.deleted_file = true;
            self.gitlink |= mode.starts_with(b"160000");
        } else if let Some(mode) = line
            .strip_prefix(b"old mode ")
            .or_else(|| line.strip_prefix(b"new mode "))
        {
            self.mode_changed = true;
            self.gitlink |= mode.starts_with(b"160000");
            self.link |= line.starts_with(b"new mode 120000");
        } else if let Some(rest) = line.strip_prefix(b"index ") {
            // `index abc..def 120000`: a link changed its target.
            self.link |= rest.ends_with(b" 120000");
            self.gitlink |= rest.ends_with(b" 160000");
        } else if line.starts_with(b"Binary files ") || line == b"GIT binary patch" {
            self.binary = true;
        }
    }

    pub(super) fn finish(self) -> ChangedFile {
        let old = self
            .rename_from
            .clone()
            .or_else(|| self.copy_from.clone())
            .or_else(|| self.minus.clone().flatten())
            .or_else(|| self.header_old.clone());
        let new = self
            .rename_to
            .clone()
            .or_else(|| self.copy_to.clone())
            .or_else(|| self.plus.clone().flatten())
            .or_else(|| self.header_new.clone());
        let added = self.new_file || matches!(self.minus, Some(None));
        let deleted = self.deleted_file || matches!(self.plus, Some(None));
        let status = if added {
            FileStatus::Added
        } else if deleted {
            FileStatus::Deleted
        } else if self.rename_from.is_some() || self.rename_to.is_some() {
            FileStatus::Renamed
        } else if self.copy_from.is_some() || self.copy_to.is_some() {
            FileStatus::Copied
        } else if self.mode_changed && self.hunks == 0 && !self.binary {
            FileStatus::Mode
        } else {
            FileStatus::Modified
        };
        let path = if status == FileStatus::Deleted {
            old.clone().or(new)
        } else {
            new.or_else(|| old.clone())
        };
        let mut file = ChangedFile::new(lossy(&path.unwrap_or_default()), status);
        if matches!(status, FileStatus::Renamed | FileStatus::Copied) {
            file.old_path = old.map(|p| lossy(&p));
        }
        file.binary = self.binary;
        if self.binary {
            file.unread = Some(Unread::BinaryPatch);
        } else if self.gitlink {
            file.unread = Some(Unread::Submodule);
        } else if let Some(target) = self
            .added
            .get(1)
            .filter(|t| self.link && leaves_repository(&file.path, t))
        {
            file.binary = true;
            file.unread = Some(Unread::SymlinkOutside(target.to_string()));
        } else if let Some(target) = self.added.get(1).filter(|_| self.link) {
            // A patch holds the link's target path, not the file it names.
            file.binary = true;
            file.unread = Some(Unread::SymlinkUnresolved {
                target: target.to_string(),
                why: "a patch holds the link, not the file it names".into(),
            });
        } else if is_lfs_pointer_lines(&self.added) {
            file.binary = true;
            file.unread = Some(Unread::LfsPointer);
        } else {
            file.added = self.added;
            file.removed = self.removed;
        }
        file
    }
}

pub(super) fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `Binary files a/x and b/x differ` on its own (from `diff -r`, not `git diff`).
pub(super) fn plain_binary(line: &[u8]) -> FileBuilder {
    let inner = &line[b"Binary files ".len()..line.len() - b" differ".len()];
    let (old, new) = match find(inner, b" and ") {
        Some(at) => (&inner[..at], &inner[at + 5..]),
        None => (inner, inner),
    };
    let path = |p: &[u8]| (p != b"/dev/null").then(|| unquote_path(p));
    let mut f = FileBuilder {
        binary: true,
        ..Default::default()
    };
    f.set_paths(path(old), path(new));
    f
}
