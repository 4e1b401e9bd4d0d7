//! Whether a file's content is read as text, as git decides it: the `diff` attribute (from the
//! change or the `--rules-from` revision), size, NUL bytes, LFS pointers; UTF-16 decoded; and
//! content split into numbered lines.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use git2::{Oid, Patch, Repository};

use crate::diff::paths::path_of;
use crate::diff::{ChangedFile, Lines, Unread, attributes};

/// Decides, as diff would, whether a whole file read from its blob is binary: its `diff`
/// attribute (`-diff`, `binary`, or a driver with `diff.<name>.binary = true`), else a NUL byte
/// in its first 8000 bytes, as git checks. Whatever is not read says why ([`Unread`]); UTF-16
/// with a byte-order mark (SQL Server tools write migrations so) is decoded and read.
pub(super) struct BinaryCheck<'r> {
    repo: &'r Repository,
    /// Whether any attributes file could set `diff` at all. Looking attributes up costs more
    /// than reading the file, so repositories without such a line skip it. `None` until asked.
    attributes: Option<bool>,
    /// `diff.<driver>.binary` by driver name.
    drivers: HashMap<String, bool>,
    /// Files larger than this are not read (git's `core.bigFileThreshold`), once known.
    max_text_size: Option<u64>,
    /// The `.gitattributes` of the `--rules-from` revision, which decide instead of the
    /// change's own.
    revision: Option<attributes::RevisionAttributes>,
}

impl<'r> BinaryCheck<'r> {
    /// libgit2's default `max_size` and git's default `core.bigFileThreshold`: larger files are
    /// binary without being read.
    pub(super) const MAX_TEXT_SIZE: u64 = 512 * 1024 * 1024;

    /// `attributes`: whether any attributes file could set `diff` ([`attributes_may_set_diff`]),
    /// when already known.
    pub(super) fn new(repo: &'r Repository, attributes: Option<bool>) -> Self {
        BinaryCheck {
            repo,
            attributes,
            drivers: HashMap::new(),
            max_text_size: None,
            revision: None,
        }
    }

    /// Takes the `diff` attribute from the `.gitattributes` of a revision's tree.
    pub(super) fn with_revision_attributes(mut self, from: Option<&(Oid, String)>) -> Self {
        self.revision =
            from.map(|(tree, rev)| attributes::RevisionAttributes::new(*tree, rev.clone()));
        self
    }

    /// `diff.<driver>.binary` from the repository's config.
    pub(super) fn driver_is_binary(&mut self, driver: &str) -> bool {
        let repo = self.repo;
        *self.drivers.entry(driver.to_string()).or_insert_with(|| {
            let key = format!("diff.{driver}.binary");
            repo.config().and_then(|c| c.get_bool(&key)) == Ok(true)
        })
    }

    /// [`Self::by_attributes`] from the revision's `.gitattributes`. A file that cannot be read
    /// there leaves nothing unread: it is an error.
    pub(super) fn by_revision_attributes(
        &mut self,
        path: &[u8],
    ) -> Option<std::result::Result<(), Unread>> {
        use attributes::Diff;
        let revision = self.revision.as_mut()?;
        let from = format!("`.gitattributes` of {}", revision.rev);
        let found = match revision.diff(self.repo, path) {
            Ok(found) => found,
            Err(e) => {
                return Some(Err(Unread::Attributes {
                    attribute: format!("(unreadable: {})", e.message()),
                    from,
                }));
            }
        };
        let binary = |attribute: String| Some(Err(Unread::Attributes { attribute, from }));
        match found? {
            Diff::Unset(written) => binary(written),
            Diff::Set => Some(Ok(())),
            Diff::Driver(driver) => {
                if self.driver_is_binary(&driver) {
                    binary(format!("diff={driver}"))
                } else {
                    None
                }
            }
            Diff::Unspecified => None,
        }
    }

    /// The size limit: `core.bigFileThreshold` when set (git reads files over it as binary),
    /// else 512 MiB.
    pub(super) fn max_text_size(&mut self) -> u64 {
        let repo = self.repo;
        *self.max_text_size.get_or_insert_with(|| {
            repo.config()
                .and_then(|c| c.get_i64("core.bigFileThreshold"))
                .ok()
                .and_then(|n| u64::try_from(n).ok())
                .filter(|&n| n > 0)
                .map_or(Self::MAX_TEXT_SIZE, |n| n.min(Self::MAX_TEXT_SIZE))
        })
    }

    pub(super) fn too_large(&mut self, content: &[u8]) -> std::result::Result<(), Unread> {
        let (size, limit) = (content.len() as u64, self.max_text_size());
        if size > limit {
            return Err(Unread::TooLarge { size, limit });
        }
        Ok(())
    }

    /// What the `diff` attribute of `path` says: `Some(Ok(()))` text (forced), `Some(Err(_))`
    /// binary, `None` unset (the content decides).
    pub(super) fn by_attributes(&mut self, path: &[u8]) -> Option<std::result::Result<(), Unread>> {
        if self.revision.is_some() {
            return self.by_revision_attributes(path);
        }
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
        let binary = |attribute: String| {
            Err(Unread::Attributes {
                attribute,
                from: "`.gitattributes`".into(),
            })
        };
        match git2::AttrValue::from_bytes(attr) {
            git2::AttrValue::False => Some(binary("-diff".into())),
            git2::AttrValue::True => Some(Ok(())),
            git2::AttrValue::String(driver) => self
                .driver_is_binary(driver)
                .then(|| binary(format!("diff={driver}"))),
            _ => None,
        }
    }

    /// Pushes every line of a whole file, or says why it cannot.
    pub(super) fn push_whole(
        &mut self,
        lines: &mut Lines,
        path: &[u8],
        content: Vec<u8>,
    ) -> std::result::Result<(), Unread> {
        self.too_large(&content)?;
        match self.by_attributes(path) {
            Some(Err(reason)) => return Err(reason),
            Some(Ok(())) => {}
            None => {
                if let Some(text) = decode_utf16(&content) {
                    push_whole(lines, text.as_bytes());
                    return Ok(());
                }
                if content[..content.len().min(8000)].contains(&0) {
                    return Err(Unread::NulByte);
                }
            }
        }
        if crate::diff::is_lfs_pointer(&content) {
            return Err(Unread::LfsPointer);
        }
        push_whole_owned(lines, content);
        Ok(())
    }

    /// Diffs two versions of a file held in memory into `file`'s lines; UTF-16 with a
    /// byte-order mark is decoded first. `forced_text`: the `diff` attribute says text.
    ///
    /// The lines are compared with imara-diff's Myers, its hunks slid as git's xdiff slides
    /// them: the same lines libgit2 would give, about five times faster (libgit2 hashes both
    /// buffers to name them before it diffs). A NUL byte in the first 8000 bytes of either side
    /// makes the file binary, as it does for git, unless the attribute says text.
    pub(super) fn diff_buffers(
        &mut self,
        file: &mut ChangedFile,
        (old, new): (&[u8], &[u8]),
        forced_text: bool,
    ) -> std::result::Result<(), Unread> {
        self.too_large(old)?;
        self.too_large(new)?;
        if crate::diff::is_lfs_pointer(new) || crate::diff::is_lfs_pointer(old) {
            return Err(Unread::LfsPointer);
        }
        let (old16, new16) = (decode_utf16(old), decode_utf16(new));
        let decoded = old16.is_some() || new16.is_some();
        let old = old16.as_ref().map_or(old, |t| t.as_bytes());
        let new = new16.as_ref().map_or(new, |t| t.as_bytes());
        let has_nul = |content: &[u8]| content[..content.len().min(8000)].contains(&0);
        if !(forced_text || decoded) && (has_nul(old) || has_nul(new)) {
            file.binary = true;
            return Err(Unread::NulByte);
        }
        push_diff(file, old, new);
        Ok(())
    }
}

/// The removed and added lines of `old` against `new`, numbered in their sides.
pub(super) fn push_diff(file: &mut ChangedFile, old: &[u8], new: &[u8]) {
    use imara_diff::{Algorithm, Diff, InternedInput};
    let input = InternedInput::new(old, new);
    let mut diff = Diff::compute(Algorithm::Myers, &input);
    diff.postprocess_no_heuristic(&input);
    let number = |at: u32| at.saturating_add(1);
    for hunk in diff.hunks() {
        for at in hunk.before {
            let line = input.interner[input.before[at as usize]];
            file.removed.push_bytes(number(at), line);
        }
        for at in hunk.after {
            let line = input.interner[input.after[at as usize]];
            file.added.push_bytes(number(at), line);
        }
    }
}

/// The added and removed lines of a patch, or the binary flag.
pub(super) fn push_patch(
    file: &mut ChangedFile,
    patch: &Patch<'_>,
) -> std::result::Result<(), git2::Error> {
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
pub(super) fn push_whole(lines: &mut Lines, content: &[u8]) {
    if content.is_empty() {
        return;
    }
    let content = content.strip_suffix(b"\n").unwrap_or(content);
    lines.reserve(content.len() + 1, count_newlines(content) + 1);
    for (i, line) in content.split(|&b| b == b'\n').enumerate() {
        lines.push_bytes(u32::try_from(i + 1).unwrap_or(u32::MAX), line);
    }
}

/// Like [`push_whole`], but the lines keep `content` itself as their text when it can stand
/// as it is (UTF-8, no carriage return, not much more room than it fills, nothing pushed
/// before): no copy of the file is made.
pub(super) fn push_whole_owned(lines: &mut Lines, content: Vec<u8>) {
    if lines.is_empty()
        && !Lines::roomy(content.len(), content.capacity())
        && memchr::memchr(b'\r', &content).is_none()
    {
        match String::from_utf8(content) {
            Ok(text) => *lines = Lines::from_text(text),
            Err(e) => push_whole(lines, e.as_bytes()),
        }
    } else {
        push_whole(lines, &content);
    }
}

pub(super) fn count_newlines(content: &[u8]) -> usize {
    content.iter().filter(|&&b| b == b'\n').count()
}

/// UTF-16 text with a byte-order mark, decoded (the mark dropped); `None` for anything else.
pub(crate) fn decode_utf16(content: &[u8]) -> Option<String> {
    let (body, little) = match content {
        [0xFF, 0xFE, rest @ ..] => (rest, true),
        [0xFE, 0xFF, rest @ ..] => (rest, false),
        _ => return None,
    };
    let units = body.chunks_exact(2).map(|pair| {
        let pair = [pair[0], pair[1]];
        if little {
            u16::from_le_bytes(pair)
        } else {
            u16::from_be_bytes(pair)
        }
    });
    Some(
        char::decode_utf16(units)
            .map(|c| c.unwrap_or('\u{FFFD}'))
            .collect(),
    )
}

/// Whether any attributes file libgit2 reads (`.gitattributes` in the index or working tree,
/// `.git/info/attributes`, the global attributes file) mentions `diff` or `binary`.
pub(super) fn attributes_may_set_diff(repo: &Repository) -> bool {
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
