//! The diff model every input produces and every later stage reads.
//!
//! A [`ChangeSet`] is what one run of `check` looks at: the files a change touches, with the lines
//! it adds and removes, plus the commit messages of the range (for acknowledgement trailers).
//! Sources live beside it: [`git`] (range, merge base, staged, working tree, one commit) and
//! [`patch`] (unified diff text).

mod attributes;
pub mod git;
pub mod patch;
pub mod paths;
pub mod revision;
pub mod snippet;

use serde::{Deserialize, Serialize};

/// How a file changed. Names follow `git diff --name-status`, spelled out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum FileStatus {
    Added,
    Modified,
    Deleted,
    Renamed,
    Copied,
    /// Only the file mode changed (e.g. the executable bit).
    Mode,
}

impl FileStatus {
    pub const ALL: [FileStatus; 6] = [
        FileStatus::Added,
        FileStatus::Modified,
        FileStatus::Deleted,
        FileStatus::Renamed,
        FileStatus::Copied,
        FileStatus::Mode,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FileStatus::Added => "added",
            FileStatus::Modified => "modified",
            FileStatus::Deleted => "deleted",
            FileStatus::Renamed => "renamed",
            FileStatus::Copied => "copied",
            FileStatus::Mode => "mode",
        }
    }
}

impl std::fmt::Display for FileStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One side of a change: the lines a file gained or lost, with their line numbers.
///
/// Lines are kept in one buffer per side so a file with a million added lines costs two
/// allocations, not a million. Line text never holds the line terminator (`\n` or `\r\n`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lines {
    text: String,
    /// (line number in its side of the file, start, end) into `text`.
    spans: Vec<(u32, u32, u32)>,
}

impl Lines {
    pub fn new() -> Self {
        Self::default()
    }

    /// The lines of a whole file's text, numbered from 1, the text kept as the buffer (a
    /// `\n` is added after the last line when the file does not end with one). Only `\n`
    /// ends a line: text with carriage returns goes through [`Lines::push`].
    pub fn from_text(mut text: String) -> Lines {
        if text.is_empty() {
            return Lines::default();
        }
        if !text.ends_with('\n') {
            text.push('\n');
        }
        let mut spans = Vec::with_capacity(memchr::memchr_iter(b'\n', text.as_bytes()).count());
        let mut start = 0u32;
        let mut number = 1u32;
        for end in memchr::memchr_iter(b'\n', text.as_bytes()) {
            spans.push((number, start, end as u32));
            start = end as u32 + 1;
            number = number.saturating_add(1);
        }
        Lines { text, spans }
    }

    /// Makes room for `bytes` more bytes of text in `lines` more lines.
    pub fn reserve(&mut self, bytes: usize, lines: usize) {
        self.text.reserve(bytes);
        self.spans.reserve(lines);
    }

    /// Appends a line. A trailing `\r` or `\n` is dropped, so CRLF files match like LF files.
    pub fn push(&mut self, number: u32, line: &str) {
        let line = line.strip_suffix('\n').unwrap_or(line);
        let line = line.strip_suffix('\r').unwrap_or(line);
        let start = self.text.len() as u32;
        self.text.push_str(line);
        self.spans.push((number, start, self.text.len() as u32));
        // Lines stay `\n`-separated in the buffer, so a run of them is one slice (a statement).
        self.text.push('\n');
    }

    /// Appends a line given as raw bytes; invalid UTF-8 is replaced, never rejected.
    pub fn push_bytes(&mut self, number: u32, line: &[u8]) {
        self.push(number, &String::from_utf8_lossy(line));
    }

    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// Whether a buffer of `len` bytes holds so much more room than it needs (a blob decoded
    /// from a delta keeps the room its base took) that keeping it would cost more than a copy.
    pub fn roomy(len: usize, capacity: usize) -> bool {
        capacity > len + len / 4 + 64
    }

    /// Every line, each ended by `\n`: the whole file when the lines are all of it (an added
    /// or deleted file), borrowed, not copied.
    pub fn all_text(&self) -> &str {
        match self.spans.first() {
            Some(&(_, start, _)) => &self.text[start as usize..],
            None => "",
        }
    }

    /// Bytes of text held, terminators included.
    pub fn text_len(&self) -> usize {
        self.text.len()
    }

    /// Lines `first..=last` (indices in push order) as one `\n`-joined slice, no copy.
    pub fn joined(&self, first: usize, last: usize) -> &str {
        &self.text[self.spans[first].1 as usize..self.spans[last].2 as usize]
    }

    /// `(line number, start offset in the buffer)` of the line at push index `index`.
    pub fn position(&self, index: usize) -> (u32, usize) {
        let (n, start, _) = self.spans[index];
        (n, start as usize)
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// `(line number, text)` for each line, in the order they were pushed.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &str)> + '_ {
        self.spans
            .iter()
            .map(|&(n, s, e)| (n, &self.text[s as usize..e as usize]))
    }

    /// The text of line `number`, if this side has it. Lines arrive in file order from every
    /// source, so this is a binary search; out-of-order input falls back to a scan.
    pub fn get(&self, number: u32) -> Option<&str> {
        let at = match self.spans.binary_search_by_key(&number, |&(n, _, _)| n) {
            Ok(i) => Some(i),
            Err(_) if !self.spans.is_sorted_by_key(|&(n, _, _)| n) => {
                self.spans.iter().position(|&(n, _, _)| n == number)
            }
            Err(_) => None,
        };
        at.map(|i| {
            let (_, s, e) = self.spans[i];
            &self.text[s as usize..e as usize]
        })
    }
}

/// One file in a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangedFile {
    /// Repo-relative path with `/` separators: the new path, or the old one for a deletion.
    /// Paths that are not UTF-8 are converted lossily; they still match path globs.
    pub path: String,
    /// The path before a rename or copy.
    pub old_path: Option<String>,
    pub status: FileStatus,
    /// Binary files keep their path rules but have no lines to match.
    pub binary: bool,
    /// Why the file's content was not read as text, when it was not: a file that line rules
    /// watch is then reported (`content-not-checked`), never passed as if it had no lines.
    pub unread: Option<Unread>,
    /// Lines of the new version that the change added.
    pub added: Lines,
    /// Lines of the old version that the change removed.
    pub removed: Lines,
}

impl ChangedFile {
    pub fn new(path: impl Into<String>, status: FileStatus) -> Self {
        ChangedFile {
            path: path.into(),
            old_path: None,
            status,
            binary: false,
            unread: None,
            added: Lines::new(),
            removed: Lines::new(),
        }
    }

    /// Added plus removed lines: the size a `lines` threshold counts.
    pub fn changed_lines(&self) -> usize {
        self.added.len() + self.removed.len()
    }
}

/// Why a changed file's content was not read as lines of text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unread {
    /// A `diff` attribute makes it binary: `-diff`, `binary`, or a driver with
    /// `diff.<driver>.binary`. Holds the attribute as written, and where it was read from.
    Attributes { attribute: String, from: String },
    /// A NUL byte in its first 8000 bytes (git's own test for binary content).
    NulByte,
    /// The patch carries it as `GIT binary patch` or `Binary files ... differ`.
    BinaryPatch,
    /// A Git LFS pointer: the content itself is in LFS storage, not in the repository.
    LfsPointer,
    /// A submodule: its content is another repository's.
    Submodule,
    /// Larger than the size limit (bytes): git's `core.bigFileThreshold`, 512 MiB by default.
    TooLarge { size: u64, limit: u64 },
    /// A symbolic link whose target is outside the repository.
    SymlinkOutside(String),
    /// A symbolic link inside the repository whose target could not be read at this revision
    /// (no such file, a folder, a loop of links): the target as written, and why.
    SymlinkUnresolved { target: String, why: String },
}

impl std::fmt::Display for Unread {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unread::Attributes { attribute, from } => {
                write!(
                    f,
                    "{from} marks it `{attribute}`, so it is diffed as binary"
                )
            }
            Unread::NulByte => f.write_str("it holds a NUL byte, so it is diffed as binary"),
            Unread::BinaryPatch => {
                f.write_str("the patch carries it as a binary patch, with no lines")
            }
            Unread::LfsPointer => f.write_str(
                "it is a Git LFS pointer: the content is in LFS storage, not in the repository",
            ),
            Unread::Submodule => {
                f.write_str("it is a submodule: its content is another repository's")
            }
            Unread::TooLarge { size, limit } => write!(
                f,
                "it is {size} bytes, over the {limit}-byte limit for reading a file as text (git's core.bigFileThreshold)"
            ),
            Unread::SymlinkOutside(target) => write!(
                f,
                "it is a symbolic link to `{target}`, outside the repository"
            ),
            Unread::SymlinkUnresolved { target, why } => write!(
                f,
                "it is a symbolic link to `{target}`, whose content could not be read: {why}"
            ),
        }
    }
}

/// Whether `content` is a Git LFS pointer file: small, and starting with the spec's version
/// line (<https://github.com/git-lfs/git-lfs/blob/main/docs/spec.md>).
pub fn is_lfs_pointer(content: &[u8]) -> bool {
    content.len() < 1024 && content.starts_with(b"version https://git-lfs.github.com/spec/v1\n")
}

/// Whether a symbolic link at repository path `link` to `target` points outside the
/// repository: an absolute target, or one whose `..` climb above the root.
pub fn leaves_repository(link: &str, target: &str) -> bool {
    resolve_link(link, target).is_none()
}

/// The repo-relative path a symbolic link at `link` to `target` names, `None` when it leads
/// outside the repository (an absolute target, or `..` that climb above the root); the root
/// itself is the empty path.
pub fn resolve_link(link: &str, target: &str) -> Option<String> {
    if target.starts_with('/') || target.starts_with('\\') || target.get(1..3) == Some(":\\") {
        return None;
    }
    let mut parts: Vec<&str> = link.split('/').collect();
    parts.pop();
    for part in target.split(['/', '\\']) {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            _ => parts.push(part),
        }
    }
    Some(parts.join("/"))
}

/// Whether added lines are a whole Git LFS pointer file (its first line is line 1).
pub fn is_lfs_pointer_lines(added: &Lines) -> bool {
    let mut lines = added.iter();
    match lines.next() {
        Some((1, first)) => {
            let mut text = format!("{first}\n");
            for (_, line) in lines.take(8) {
                text.push_str(line);
                text.push('\n');
            }
            is_lfs_pointer(text.as_bytes())
        }
        _ => false,
    }
}

/// A commit in the checked range: its id and full message (for `Forewarn-Ack:` trailers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitInfo {
    pub id: String,
    pub message: String,
}

/// Where the new version of each file can be read, to show lines around a finding and to find
/// inline acknowledgements just above a matched line.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum NewSide {
    /// The working tree of the repository at this root.
    Worktree(std::path::PathBuf),
    /// The index (staging area) of the repository at this root.
    Index(std::path::PathBuf),
    /// A commit of the repository at this root, by full id.
    Commit {
        repo: std::path::PathBuf,
        commit: String,
    },
    /// Only the diff text is known (a patch): nothing beyond its added lines.
    #[default]
    DiffOnly,
    /// A patch that shows some files whole (see [`PatchFiles`]): those are known, others not.
    Patch(PatchFiles),
    /// A whole tree given file by file (a rule example's `tree`): these files and no others.
    Files(PatchFiles),
}

/// Files a patch shows whole, by path: each one's only hunk starts at line 1 on both sides, so
/// its lines (context, added, removed) are the file from its start. Deploy configuration in a
/// patch is read from these; a file shown only in part is read as lines.
pub type PatchFiles = std::sync::Arc<std::collections::BTreeMap<String, String>>;

/// Where the old version of each file can be read: the tree the change starts from. Migrations
/// and deploy configuration are compared old to new, and their history (a Django app's earlier
/// migrations) is read from here.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum OldSide {
    /// A commit of the repository at this root, by full id (the merge base, HEAD, a parent).
    Commit {
        repo: std::path::PathBuf,
        commit: String,
    },
    /// The change starts from nothing (a root commit, a repository with no commits yet).
    Empty,
    /// Only the diff text is known (a patch): nothing beyond its removed lines.
    #[default]
    DiffOnly,
    /// A patch that shows some files whole (see [`PatchFiles`]).
    Patch(PatchFiles),
    /// A whole tree given file by file (a rule example's `tree`): these files and no others.
    Files(PatchFiles),
}

/// Everything one run checks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChangeSet {
    pub files: Vec<ChangedFile>,
    /// Commits in the range, oldest first; empty for staged, working-tree-only and patch input.
    pub commits: Vec<CommitInfo>,
    /// Where to read the new version of files from.
    pub new_side: NewSide,
    /// Where to read the old version of files from.
    pub old_side: OldSide,
    /// A short human description of what was compared, e.g. `origin/main...working tree`.
    pub description: String,
    /// The commit the change ends at, when it is one (for ledger events and reports).
    pub head_commit: Option<String>,
}

impl ChangeSet {
    pub fn total_changed_lines(&self) -> usize {
        self.files.iter().map(ChangedFile::changed_lines).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::Lines;
    use proptest::prelude::*;

    /// What `push_whole` builds: the file split on `\n`, a last `\n` ending the last line.
    fn pushed(text: &str) -> Lines {
        let mut lines = Lines::new();
        if let Some(body) = (!text.is_empty()).then(|| text.strip_suffix('\n').unwrap_or(text)) {
            for (i, line) in body.split('\n').enumerate() {
                lines.push(i as u32 + 1, line);
            }
        }
        lines
    }

    #[test]
    fn a_whole_text_kept_as_the_buffer_reads_as_pushed_lines() {
        for text in ["", "a", "a\n", "a\n\n", "\n", "\n\nb", "x\ny\nz"] {
            let kept = Lines::from_text(text.to_string());
            assert_eq!(kept, pushed(text), "{text:?}");
            assert_eq!(kept.all_text(), pushed(text).all_text(), "{text:?}");
        }
    }

    proptest! {
        #[test]
        fn any_text_without_carriage_returns_reads_the_same(text in "[a-z\n é]{0,40}") {
            prop_assert_eq!(Lines::from_text(text.clone()), pushed(&text));
        }
    }
}
