//! Changes read from unified diff text (`git diff` output, or any `diff -u`), so
//! `git diff | forewarn check --patch -` works outside a repository.
//!
//! The parser is lenient the way `git apply --recount` is: rule examples are diffs written by
//! hand, so hunk counts that are off by a line or two are recounted from the `+`/`-`/` ` lines
//! that follow, and a missing final newline is fine. What it cannot read as a diff at all is an
//! error that says how to produce one.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{ChangeSet, ChangedFile, FileStatus, Lines, NewSide};
use crate::error::{Error, Result};

/// Parses unified diff text. `source` names it in messages (a file path, or `stdin`).
///
/// Empty input is an empty change. Input with no file header at all (neither `diff --git` nor a
/// `---`/`+++` pair) is a usage error, so a wrong file is not silently read as "no change".
pub fn parse(source: &str, text: &[u8]) -> Result<ChangeSet> {
    let lines: Vec<&[u8]> = split_lines(text);
    let mut parser = Parser {
        source,
        lines: &lines,
        files: Vec::new(),
        current: None,
        whole: Default::default(),
    };
    parser.run()?;
    let Parser {
        files,
        whole: (old_whole, new_whole),
        ..
    } = parser;
    if files.is_empty() && !text.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::usage(
            format!(
                "{source} does not look like a unified diff (no 'diff --git' or '---/+++' header found)"
            ),
            "produce one with: git diff > change.patch",
        ));
    }
    Ok(ChangeSet {
        files,
        commits: Vec::new(),
        new_side: if new_whole.is_empty() {
            NewSide::DiffOnly
        } else {
            NewSide::Patch(Arc::new(new_whole))
        },
        old_side: if old_whole.is_empty() {
            super::OldSide::DiffOnly
        } else {
            super::OldSide::Patch(Arc::new(old_whole))
        },
        description: format!("patch {source}"),
        head_commit: None,
    })
}

/// Parses the diff of a rule's `[[rule.example]]`, named in messages as `example "<name>"`.
pub fn parse_example(name: &str, diff: &str) -> Result<ChangeSet> {
    parse(&format!("example {name:?}"), diff.as_bytes())
}

/// Splits on `\n`, keeping any `\r` (content lines drop it in [`Lines::push`]); a final line with
/// no newline is kept.
fn split_lines(text: &[u8]) -> Vec<&[u8]> {
    let mut lines: Vec<&[u8]> = text.split(|&b| b == b'\n').collect();
    if lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    lines
}

fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Prefixes `git diff` puts on the old and new side: `a/`/`b/`, or with `diff.mnemonicPrefix`
/// `c/` (commit), `i/` (index), `w/` (worktree), `o/` (object), and `1/`/`2/` for `--no-index`.
const OLD_PREFIXES: [&[u8]; 5] = [b"a/", b"c/", b"i/", b"o/", b"1/"];
const GIT_PREFIXES: (&[u8], &[u8]) = (b"a/", b"b/");
const NEW_PREFIXES: [&[u8]; 4] = [b"b/", b"i/", b"w/", b"2/"];

/// The pair of prefixes `old` and `new` carry, if they look like `git diff`'s; `None` for
/// `--no-prefix` output.
fn prefix_pair(old: &[u8], new: &[u8]) -> Option<(&'static [u8], &'static [u8])> {
    let o = OLD_PREFIXES.iter().find(|p| old.starts_with(p))?;
    let n = NEW_PREFIXES.iter().find(|p| new.starts_with(p))?;
    (o != n).then_some((*o, *n))
}

/// One file section being read.
#[derive(Default)]
struct FileBuilder {
    /// Started by `diff --git` (or `diff --cc`), so extended headers may follow.
    git: bool,
    /// Started by `diff --cc`: its one name carries no prefix to learn from.
    combined: bool,
    /// Prefixes to strip from `---`/`+++` paths, decided from the `diff --git` line.
    prefixes: Option<(&'static [u8], &'static [u8])>,
    header_old: Option<Vec<u8>>,
    header_new: Option<Vec<u8>>,
    /// From `---`/`+++`: `Some(None)` is `/dev/null`.
    minus: Option<Option<Vec<u8>>>,
    plus: Option<Option<Vec<u8>>>,
    rename_from: Option<Vec<u8>>,
    rename_to: Option<Vec<u8>>,
    copy_from: Option<Vec<u8>>,
    copy_to: Option<Vec<u8>>,
    new_file: bool,
    deleted_file: bool,
    mode_changed: bool,
    /// A submodule (mode 160000): its "Subproject commit" lines are not content.
    gitlink: bool,
    binary: bool,
    hunks: usize,
    added: Lines,
    removed: Lines,
    /// Old and new text from line 1, while the file has one hunk that starts there.
    window: Option<(String, String)>,
}

impl FileBuilder {
    fn git(rest: &[u8]) -> Self {
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
    fn set_paths(&mut self, minus: Option<Vec<u8>>, plus: Option<Vec<u8>>) {
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
    fn extended_header(&mut self, line: &[u8]) {
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
        } else if let Some(mode) = line.strip_prefix(b"deleted file mode ") {
            self.deleted_file = true;
            self.gitlink |= mode.starts_with(b"160000");
        } else if let Some(mode) = line
            .strip_prefix(b"old mode ")
            .or_else(|| line.strip_prefix(b"new mode "))
        {
            self.mode_changed = true;
            self.gitlink |= mode.starts_with(b"160000");
        } else if let Some(rest) = line.strip_prefix(b"index ") {
            // `index abc..def 160000`
            self.gitlink |= rest.ends_with(b" 160000");
        } else if line.starts_with(b"Binary files ") || line == b"GIT binary patch" {
            self.binary = true;
        }
    }

    fn finish(self) -> ChangedFile {
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
        if !self.binary && !self.gitlink {
            file.added = self.added;
            file.removed = self.removed;
        }
        file
    }
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// What a line inside a hunk is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum BodyLine {
    Context,
    Added,
    Removed,
    /// `\ No newline at end of file`.
    Marker,
    /// An empty line: a context line whose leading space an editor stripped, or the end.
    Empty,
}

fn body_line(line: &[u8]) -> Option<BodyLine> {
    match trim_cr(line).first() {
        None => Some(BodyLine::Empty),
        Some(b' ') => Some(BodyLine::Context),
        Some(b'+') => Some(BodyLine::Added),
        Some(b'-') => Some(BodyLine::Removed),
        Some(b'\\') => Some(BodyLine::Marker),
        Some(_) => None,
    }
}

struct Parser<'a> {
    source: &'a str,
    lines: &'a [&'a [u8]],
    files: Vec<ChangedFile>,
    current: Option<FileBuilder>,
    /// Both sides of each file the patch shows whole (see [`super::PatchFiles`]): old, new.
    whole: (BTreeMap<String, String>, BTreeMap<String, String>),
}

impl Parser<'_> {
    /// Finishes a file, keeping its text when the patch shows it whole.
    fn push(&mut self, mut f: FileBuilder) {
        let window = f.window.take();
        let file = f.finish();
        if let Some((old, new)) = window.filter(|_| !file.binary) {
            if file.status != FileStatus::Added {
                let old_path = file.old_path.clone().unwrap_or_else(|| file.path.clone());
                self.whole.0.insert(old_path, old);
            }
            if file.status != FileStatus::Deleted {
                self.whole.1.insert(file.path.clone(), new);
            }
        }
        self.files.push(file);
    }

    fn run(&mut self) -> Result<()> {
        let mut i = 0;
        while i < self.lines.len() {
            let line = trim_cr(self.lines[i]);
            if let Some(rest) = line.strip_prefix(b"diff --git ") {
                self.start(FileBuilder::git(rest));
            } else if let Some(rest) = line
                .strip_prefix(b"diff --cc ")
                .or_else(|| line.strip_prefix(b"diff --combined "))
            {
                let path = unquote_path(rest);
                self.start(FileBuilder {
                    git: true,
                    combined: true,
                    header_old: Some(path.clone()),
                    header_new: Some(path),
                    ..Default::default()
                });
            } else if self.is_file_header_pair(i) {
                let minus = header_path(&line[4..]);
                let plus = header_path(&trim_cr(self.lines[i + 1])[4..]);
                match self.current.as_mut() {
                    Some(f) if f.git && f.minus.is_none() && f.hunks == 0 => {
                        f.set_paths(minus, plus)
                    }
                    _ => {
                        let mut f = FileBuilder::default();
                        f.set_paths(minus, plus);
                        self.start(f);
                    }
                }
                i += 2;
                continue;
            } else if line.starts_with(b"@@") {
                if self.current.is_some() {
                    i = self.hunk(i)?;
                    continue;
                }
            } else if let Some(f) = self.current.as_mut().filter(|f| f.git && f.hunks == 0) {
                f.extended_header(line);
            } else if line.len() >= b"Binary files  differ".len()
                && line.starts_with(b"Binary files ")
                && line.ends_with(b" differ")
            {
                // `diff -r` on binary files prints only this line.
                self.start(plain_binary(line));
            }
            i += 1;
        }
        if let Some(f) = self.current.take() {
            self.push(f);
        }
        Ok(())
    }

    fn start(&mut self, file: FileBuilder) {
        if let Some(f) = self.current.replace(file) {
            self.push(f);
        }
    }

    /// A `--- path` line directly followed by `+++ path`.
    fn is_file_header_pair(&self, i: usize) -> bool {
        trim_cr(self.lines[i]).starts_with(b"--- ")
            && self
                .lines
                .get(i + 1)
                .is_some_and(|l| trim_cr(l).starts_with(b"+++ "))
    }

    /// A `---`/`+++` pair followed by a hunk header: the next file, even where a hunk's counts
    /// (written by hand) say more lines are due.
    fn is_next_file(&self, i: usize) -> bool {
        self.is_file_header_pair(i) && self.lines.get(i + 2).is_some_and(|l| l.starts_with(b"@@ "))
    }

    /// Whether a hunk whose counts are used up continues at line `i`: hand-written hunks often
    /// undercount, so further `+`/`-`/` ` lines still belong to it unless they start the next
    /// file or are a `git format-patch` signature (`-- `).
    fn continues_after_counts(&self, i: usize) -> bool {
        let line = trim_cr(self.lines[i]);
        match body_line(line) {
            Some(BodyLine::Context | BodyLine::Added | BodyLine::Marker) => {
                !(line.starts_with(b"+++ ") && i > 0 && self.is_file_header_pair(i - 1))
            }
            Some(BodyLine::Removed) => {
                line != b"--" && line != b"-- " && !self.is_file_header_pair(i)
            }
            // A blank line inside a hunk is a context line only if the hunk goes on after it.
            Some(BodyLine::Empty) => {
                i + 1 < self.lines.len()
                    && !trim_cr(self.lines[i + 1]).is_empty()
                    && self.continues_after_counts(i + 1)
            }
            None => false,
        }
    }

    /// Reads the hunk whose header is line `at`; returns the index of the line after it.
    fn hunk(&mut self, at: usize) -> Result<usize> {
        let header = trim_cr(self.lines[at]);
        let Some(ranges) = hunk_ranges(header) else {
            return Err(Error::usage(
                format!(
                    "{}:{}: malformed hunk header '{}'",
                    self.source,
                    at + 1,
                    String::from_utf8_lossy(header)
                ),
                "a hunk header looks like '@@ -12,3 +12,4 @@'; regenerate the patch with: git diff > change.patch",
            ));
        };
        let parents = ranges.len() - 1;
        if parents > 1 {
            return Ok(self.combined_hunk(at, &ranges));
        }
        let (old_start, old_count) = ranges[0];
        let (new_start, new_count) = ranges[1];
        let (mut old_no, mut new_no) = (old_start.max(1), new_start.max(1));
        let (mut old_left, mut new_left) = (old_count, new_count);
        // Taken out while reading so the look-ahead helpers can borrow `self`.
        let mut f = self
            .current
            .take()
            .expect("hunk() is only called inside a file");
        let mut i = at + 1;
        // The file's only hunk, from line 1 on both sides: its lines are the file's start.
        let mut window = (f.hunks == 0 && old_start <= 1 && new_start <= 1)
            .then(|| (String::new(), String::new()));
        while i < self.lines.len() {
            let raw = self.lines[i];
            let Some(kind) = body_line(raw) else { break };
            let counted = old_left > 0 || new_left > 0;
            if counted {
                // Overcounted by hand: the next file starts here anyway. When exactly one old
                // and one new line are due, `--- x` / `+++ y` are those lines, as git reads them.
                if self.is_next_file(i) && !(old_left == 1 && new_left == 1) {
                    break;
                }
            } else if !self.continues_after_counts(i) {
                break;
            }
            if let Some((old, new)) = window.as_mut() {
                let text = String::from_utf8_lossy(trim_cr(raw).get(1..).unwrap_or_default());
                for (side, keep) in [
                    (old, !matches!(kind, BodyLine::Added)),
                    (new, !matches!(kind, BodyLine::Removed)),
                ] {
                    if keep && !matches!(kind, BodyLine::Marker) {
                        side.push_str(&text);
                        side.push('\n');
                    }
                }
            }
            match kind {
                BodyLine::Context | BodyLine::Empty => {
                    old_no = old_no.saturating_add(1);
                    new_no = new_no.saturating_add(1);
                    old_left = old_left.saturating_sub(1);
                    new_left = new_left.saturating_sub(1);
                }
                BodyLine::Added => {
                    f.added.push_bytes(new_no, &raw[1..]);
                    new_no = new_no.saturating_add(1);
                    new_left = new_left.saturating_sub(1);
                }
                BodyLine::Removed => {
                    f.removed.push_bytes(old_no, &raw[1..]);
                    old_no = old_no.saturating_add(1);
                    old_left = old_left.saturating_sub(1);
                }
                BodyLine::Marker => {}
            }
            i += 1;
        }
        f.hunks += 1;
        f.window = window;
        self.current = Some(f);
        Ok(i)
    }

    /// A hunk of a combined diff (`git show` of a merge: `@@@ -a,b -c,d +e,f @@@`), where each
    /// line carries one marker column per parent. Lines in the result that some parent lacks are
    /// added; lines some parent had and the result lacks are removed (numbered in that parent).
    fn combined_hunk(&mut self, at: usize, ranges: &[(u32, u32)]) -> usize {
        let parents = ranges.len() - 1;
        let mut old_no: Vec<u32> = ranges[..parents].iter().map(|r| r.0.max(1)).collect();
        let mut new_no = ranges[parents].0.max(1);
        let f = self
            .current
            .as_mut()
            .expect("hunk() is only called inside a file");
        f.hunks += 1;
        let mut i = at + 1;
        while i < self.lines.len() {
            let raw = self.lines[i];
            let line = trim_cr(raw);
            if line.starts_with(b"\\") {
                i += 1;
                continue;
            }
            if line.len() < parents
                || !line[..parents]
                    .iter()
                    .all(|b| matches!(b, b' ' | b'+' | b'-'))
                || line.starts_with(b"--- ")
                    && self
                        .lines
                        .get(i + 1)
                        .is_some_and(|l| l.starts_with(b"+++ "))
            {
                break;
            }
            let marks = &line[..parents];
            let content = &raw[parents..];
            if let Some(k) = marks.iter().position(|&b| b == b'-') {
                f.removed.push_bytes(old_no[k], content);
                for (n, _) in old_no.iter_mut().zip(marks).filter(|(_, m)| **m == b'-') {
                    *n = n.saturating_add(1);
                }
            } else {
                if marks.contains(&b'+') {
                    f.added.push_bytes(new_no, content);
                }
                new_no = new_no.saturating_add(1);
                for (n, _) in old_no.iter_mut().zip(marks).filter(|(_, m)| **m == b' ') {
                    *n = n.saturating_add(1);
                }
            }
            i += 1;
        }
        i
    }
}

/// `Binary files a/x and b/x differ` on its own (from `diff -r`, not `git diff`).
fn plain_binary(line: &[u8]) -> FileBuilder {
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

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The ranges of a hunk header: one `(start, count)` per old side, then the new side. A missing
/// count is 1, as in `@@ -3 +3 @@`.
fn hunk_ranges(header: &[u8]) -> Option<Vec<(u32, u32)>> {
    let ats = header.iter().take_while(|&&b| b == b'@').count();
    if ats < 2 {
        return None;
    }
    let text = std::str::from_utf8(&header[ats..]).ok().or_else(|| {
        // Section text after the closing `@@` may be any bytes; the ranges are ASCII.
        let close = find(&header[ats..], &header[..ats])?;
        std::str::from_utf8(&header[ats..ats + close]).ok()
    })?;
    let closing = "@".repeat(ats);
    let mut ranges = Vec::with_capacity(ats);
    let mut new_side = None;
    for token in text.split_ascii_whitespace() {
        if token == closing {
            break;
        }
        let range = |r: &str| -> Option<(u32, u32)> {
            match r.split_once(',') {
                Some((s, c)) => Some((s.parse().ok()?, c.parse().ok()?)),
                None => Some((r.parse().ok()?, 1)),
            }
        };
        if new_side.is_some() {
            return None;
        } else if let Some(old) = token.strip_prefix('-') {
            ranges.push(range(old)?);
        } else if let Some(new) = token.strip_prefix('+') {
            new_side = Some(range(new)?);
        } else {
            return None;
        }
    }
    if ranges.len() != ats - 1 {
        return None;
    }
    ranges.push(new_side?);
    Some(ranges)
}

/// The path of a `---`/`+++` line: unquoted, cut at a tab (GNU diff puts a timestamp there; git
/// puts a tab after names with spaces), `None` for `/dev/null`.
fn header_path(rest: &[u8]) -> Option<Vec<u8>> {
    let path = if rest.starts_with(b"\"") {
        match unquote(rest) {
            Some((path, _)) => path,
            None => rest.to_vec(),
        }
    } else {
        let end = rest.iter().position(|&b| b == b'\t').unwrap_or(rest.len());
        rest[..end].to_vec()
    };
    (path != b"/dev/null").then_some(path)
}

/// A path as git writes it in `rename from` and friends: C-quoted when it has special bytes.
fn unquote_path(rest: &[u8]) -> Vec<u8> {
    if rest.starts_with(b"\"") {
        if let Some((path, _)) = unquote(rest) {
            return path;
        }
    }
    rest.to_vec()
}

/// Decodes a C-quoted string starting at `s[0] == '"'`: returns the bytes and how many input
/// bytes it took, or `None` when it does not end.
fn unquote(s: &[u8]) -> Option<(Vec<u8>, usize)> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 1;
    while i < s.len() {
        match s[i] {
            b'"' => return Some((out, i + 1)),
            b'\\' => {
                let c = *s.get(i + 1)?;
                i += 2;
                match c {
                    b'n' => out.push(b'\n'),
                    b't' => out.push(b'\t'),
                    b'r' => out.push(b'\r'),
                    b'a' => out.push(0x07),
                    b'b' => out.push(0x08),
                    b'f' => out.push(0x0c),
                    b'v' => out.push(0x0b),
                    b'0'..=b'7' => {
                        let mut value = u32::from(c - b'0');
                        let mut taken = 1;
                        while taken < 3 && matches!(s.get(i), Some(b'0'..=b'7')) {
                            value = value * 8 + u32::from(s[i] - b'0');
                            i += 1;
                            taken += 1;
                        }
                        out.push(value as u8);
                    }
                    other => out.push(other),
                }
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    None
}

/// The two names of a `diff --git` line, each quoted or not. Unquoted names may hold spaces, so
/// the split is where both halves name the same file (`a/x y b/x y`), as git itself guesses.
fn split_git_header(rest: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    if rest.starts_with(b"\"") {
        let (old, used) = unquote(rest)?;
        let tail = rest[used..].strip_prefix(b" ").unwrap_or(&rest[used..]);
        return Some((old, unquote_path(tail)));
    }
    if rest.ends_with(b"\"") {
        for at in (1..rest.len()).rev() {
            if rest[at] == b'"' && rest[at - 1] == b' ' {
                if let Some((new, used)) = unquote(&rest[at..]) {
                    if at + used == rest.len() {
                        return Some((rest[..at - 1].to_vec(), new));
                    }
                }
            }
        }
    }
    let after_slash = |s: &'_ [u8]| -> Vec<u8> {
        match s.iter().position(|&b| b == b'/') {
            Some(i) => s[i + 1..].to_vec(),
            None => s.to_vec(),
        }
    };
    let spaces: Vec<usize> = (0..rest.len()).filter(|&i| rest[i] == b' ').collect();
    let split = spaces
        .iter()
        .copied()
        .find(|&i| after_slash(&rest[..i]) == after_slash(&rest[i + 1..]))
        .or_else(|| find(rest, b" b/"))
        .or_else(|| spaces.first().copied())?;
    Some((rest[..split].to_vec(), rest[split + 1..].to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(text: &str) -> ChangeSet {
        parse("test.patch", text.as_bytes()).unwrap()
    }

    fn lines(l: &Lines) -> Vec<(u32, String)> {
        l.iter().map(|(n, t)| (n, t.to_string())).collect()
    }

    fn one(text: &str) -> ChangedFile {
        let mut set = parse_ok(text);
        assert_eq!(set.files.len(), 1, "{:#?}", set.files);
        set.files.remove(0)
    }

    #[test]
    fn modified_file_records_line_numbers_of_each_side() {
        let f = one("diff --git a/src/app.py b/src/app.py
index 83db48f..bf269f4 100644
--- a/src/app.py
+++ b/src/app.py
@@ -10,4 +10,5 @@ def main():
 keep
-old one
-old two
+new one
+new two
+new three
 keep
@@ -40 +41 @@
-x
+y
");
        assert_eq!(f.path, "src/app.py");
        assert_eq!(f.status, FileStatus::Modified);
        assert_eq!(f.old_path, None);
        assert!(!f.binary);
        assert_eq!(
            lines(&f.added),
            vec![
                (11, "new one".into()),
                (12, "new two".into()),
                (13, "new three".into()),
                (41, "y".into())
            ]
        );
        assert_eq!(
            lines(&f.removed),
            vec![
                (11, "old one".into()),
                (12, "old two".into()),
                (40, "x".into())
            ]
        );
    }

    #[test]
    fn a_file_shown_from_line_1_in_one_hunk_is_known_whole() {
        let set = parse_ok(
            "--- a/k.yaml\n+++ b/k.yaml\n@@ -1,3 +1,3 @@\n kind: Deployment\n-replicas: 3\n+replicas: 1\n \n--- a/p.yaml\n+++ b/p.yaml\n@@ -1 +1 @@\n-a\n+b\n@@ -9 +9 @@\n-c\n+d\n",
        );
        let whole = |side: &str| match (side, &set.old_side, &set.new_side) {
            ("old", crate::diff::OldSide::Patch(files), _) => files.clone(),
            ("new", _, NewSide::Patch(files)) => files.clone(),
            _ => panic!("{side} side is not a patch with whole files"),
        };
        assert_eq!(whole("old")["k.yaml"], "kind: Deployment\nreplicas: 3\n\n");
        assert_eq!(whole("new")["k.yaml"], "kind: Deployment\nreplicas: 1\n\n");
        // Two hunks: only part of the file is shown.
        assert!(!whole("new").contains_key("p.yaml"));
    }

    #[test]
    fn result_names_the_source() {
        let set = parse_ok("--- a/x\n+++ b/x\n@@ -3 +3 @@\n-a\n+b\n");
        assert_eq!(set.description, "patch test.patch");
        assert_eq!(set.new_side, NewSide::DiffOnly);
        assert!(set.commits.is_empty());
        assert_eq!(set.head_commit, None);
    }

    #[test]
    fn new_and_deleted_files() {
        let set = parse_ok(
            "diff --git a/db/migrate/001.sql b/db/migrate/001.sql
new file mode 100644
index 0000000..e69de29
--- /dev/null
+++ b/db/migrate/001.sql
@@ -0,0 +1,2 @@
+CREATE TABLE t (id int);
+CREATE INDEX i ON t (id);
diff --git a/old.txt b/old.txt
deleted file mode 100644
index e69de29..0000000
--- a/old.txt
+++ /dev/null
@@ -1,2 +0,0 @@
-one
-two
diff --git a/empty b/empty
new file mode 100644
index 0000000..e69de29
",
        );
        let [add, del, empty] = &set.files[..] else {
            panic!("{:#?}", set.files)
        };
        assert_eq!(
            (add.path.as_str(), add.status),
            ("db/migrate/001.sql", FileStatus::Added)
        );
        assert_eq!(
            lines(&add.added)[1],
            (2, "CREATE INDEX i ON t (id);".into())
        );
        assert!(add.removed.is_empty());
        assert_eq!(
            (del.path.as_str(), del.status),
            ("old.txt", FileStatus::Deleted)
        );
        assert_eq!(
            lines(&del.removed),
            vec![(1, "one".into()), (2, "two".into())]
        );
        assert_eq!(
            (empty.path.as_str(), empty.status),
            ("empty", FileStatus::Added)
        );
        assert!(empty.added.is_empty());
    }

    #[test]
    fn renames_copies_and_mode_changes() {
        let set = parse_ok(
            r#"diff --git a/db/0001_init.sql b/db/migrations/0001_init.sql
similarity index 90%
rename from db/0001_init.sql
rename to db/migrations/0001_init.sql
index 1111111..2222222 100644
--- a/db/0001_init.sql
+++ b/db/migrations/0001_init.sql
@@ -3 +3 @@
-old
+new
diff --git a/a.txt b/a copy.txt
similarity index 100%
copy from a.txt
copy to a copy.txt
diff --git a/run.sh b/run.sh
old mode 100644
new mode 100755
diff --git a/tool.sh b/tool.sh
old mode 100644
new mode 100755
index 1111111..2222222
--- a/tool.sh
+++ b/tool.sh
@@ -1 +1 @@
-a
+b
diff --git a/x.txt b/y.txt
similarity index 100%
rename from x.txt
rename to y.txt
"#,
        );
        let [ren, copy, mode, mode_and_content, pure_rename] = &set.files[..] else {
            panic!("{:#?}", set.files)
        };
        assert_eq!(ren.status, FileStatus::Renamed);
        assert_eq!(ren.path, "db/migrations/0001_init.sql");
        assert_eq!(ren.old_path.as_deref(), Some("db/0001_init.sql"));
        assert_eq!(lines(&ren.added), vec![(3, "new".into())]);
        assert_eq!(copy.status, FileStatus::Copied);
        assert_eq!(copy.path, "a copy.txt");
        assert_eq!(copy.old_path.as_deref(), Some("a.txt"));
        assert_eq!(
            (mode.path.as_str(), mode.status),
            ("run.sh", FileStatus::Mode)
        );
        assert_eq!(mode_and_content.status, FileStatus::Modified);
        assert_eq!(pure_rename.status, FileStatus::Renamed);
        assert_eq!(pure_rename.path, "y.txt");
        assert_eq!(pure_rename.old_path.as_deref(), Some("x.txt"));
        assert!(pure_rename.added.is_empty());
    }

    #[test]
    fn binary_files_have_no_lines() {
        let set = parse_ok(
            "diff --git a/logo.png b/logo.png
index 1111111..2222222 100644
Binary files a/logo.png and b/logo.png differ
diff --git a/font.woff b/font.woff
new file mode 100644
index 0000000000000000000000000000000000000000..1111111111111111111111111111111111111111
GIT binary patch
literal 12
TcmZ?wbhEHbRA5kGU|;|M02crU

literal 0
HcmV?d00001

diff --git a/after.txt b/after.txt
--- a/after.txt
+++ b/after.txt
@@ -1 +1 @@
-a
+b
",
        );
        let [png, woff, after] = &set.files[..] else {
            panic!("{:#?}", set.files)
        };
        assert!(png.binary && woff.binary && !after.binary);
        assert_eq!(png.status, FileStatus::Modified);
        assert_eq!(
            (woff.path.as_str(), woff.status),
            ("font.woff", FileStatus::Added)
        );
        assert!(png.added.is_empty() && woff.added.is_empty());
        assert_eq!(lines(&after.added), vec![(1, "b".into())]);
    }

    #[test]
    fn plain_diff_u_with_timestamps_and_several_files() {
        let set = parse_ok(
            "--- config/app.yml\t2024-05-01 10:00:00.000000000 +0200
+++ config/app.yml\t2024-05-02 11:00:00.000000000 +0200
@@ -1,3 +1,3 @@
 a: 1
-b: 2
+b: 3
 c: 4
--- /dev/null\t1970-01-01 00:00:00.000000000 +0000
+++ config/new.yml\t2024-05-02 11:00:00.000000000 +0200
@@ -0,0 +1 @@
+d: 5
--- a/gone.txt
+++ /dev/null
@@ -1 +0,0 @@
-bye
Binary files old/img.png and new/img.png differ
",
        );
        let [app, new, gone, img] = &set.files[..] else {
            panic!("{:#?}", set.files)
        };
        assert_eq!(
            (app.path.as_str(), app.status),
            ("config/app.yml", FileStatus::Modified)
        );
        assert_eq!(lines(&app.added), vec![(2, "b: 3".into())]);
        assert_eq!(lines(&app.removed), vec![(2, "b: 2".into())]);
        assert_eq!(
            (new.path.as_str(), new.status),
            ("config/new.yml", FileStatus::Added)
        );
        assert_eq!(
            (gone.path.as_str(), gone.status),
            ("gone.txt", FileStatus::Deleted)
        );
        assert_eq!(img.path, "new/img.png");
        assert!(img.binary);
    }

    #[test]
    fn crlf_patches_store_lines_without_cr() {
        let text = "diff --git a/w.bat b/w.bat\r\n--- a/w.bat\r\n+++ b/w.bat\r\n@@ -1,2 +1,2 @@\r\n echo on\r\n-set A=1\r\n+set A=2\r\n";
        let f = one(text);
        assert_eq!(f.path, "w.bat");
        assert_eq!(lines(&f.added), vec![(2, "set A=2".into())]);
        assert_eq!(lines(&f.removed), vec![(2, "set A=1".into())]);
    }

    #[test]
    fn quoted_paths_with_escapes() {
        let set = parse_ok(
            r#"diff --git "a/caf\303\251.txt" "b/caf\303\251.txt"
index 1111111..2222222 100644
--- "a/caf\303\251.txt"
+++ "b/caf\303\251.txt"
@@ -1 +1 @@
-a
+b
diff --git a/tab "b/x\ty"
new file mode 100644
--- /dev/null
+++ "b/x\ty"
@@ -0,0 +1 @@
+z
diff --git "a/with \"quote\"" "b/with \"quote\""
deleted file mode 100644
"#,
        );
        assert_eq!(set.files[0].path, "café.txt");
        assert_eq!(set.files[1].path, "x\ty");
        assert_eq!(set.files[1].status, FileStatus::Added);
        assert_eq!(set.files[2].path, "with \"quote\"");
        assert_eq!(set.files[2].status, FileStatus::Deleted);
    }

    #[test]
    fn unquoted_names_with_spaces_split_where_both_sides_agree() {
        let set = parse_ok(
            "diff --git a/my dir/a b.txt b/my dir/a b.txt\nold mode 100644\nnew mode 100755\n",
        );
        assert_eq!(set.files[0].path, "my dir/a b.txt");
        assert_eq!(set.files[0].status, FileStatus::Mode);
        let f = one(
            "diff --git a/x y.txt b/x y.txt\n--- a/x y.txt\t\n+++ b/x y.txt\t\n@@ -1 +1 @@\n-a\n+b\n",
        );
        assert_eq!(f.path, "x y.txt");
    }

    #[test]
    fn no_prefix_output_keeps_paths() {
        let f = one(
            "diff --git src/lib.rs src/lib.rs\nindex 1..2 100644\n--- src/lib.rs\n+++ src/lib.rs\n@@ -1 +1 @@\n-a\n+b\n",
        );
        assert_eq!(f.path, "src/lib.rs");
        let f = one(
            "diff --git i/src/lib.rs w/src/lib.rs\n--- i/src/lib.rs\n+++ w/src/lib.rs\n@@ -1 +1 @@\n-a\n+b\n",
        );
        assert_eq!(f.path, "src/lib.rs");
    }

    #[test]
    fn no_newline_markers_are_skipped() {
        let f = one(
            "diff --git a/v b/v\n--- a/v\n+++ b/v\n@@ -1 +1 @@\n-1.0\n\\ No newline at end of file\n+1.1\n\\ No newline at end of file\n",
        );
        assert_eq!(lines(&f.removed), vec![(1, "1.0".into())]);
        assert_eq!(lines(&f.added), vec![(1, "1.1".into())]);
    }

    #[test]
    fn garbage_is_a_usage_error_naming_the_source() {
        let err = parse("notes.txt", b"hello\nthis is not a diff\n").unwrap_err();
        let text = err.to_string();
        assert_eq!(
            text,
            "notes.txt does not look like a unified diff (no 'diff --git' or '---/+++' header found)"
        );
        assert!(err.render(false).contains("git diff > change.patch"));
        assert!(parse("x", b"@@ -1 +1 @@\n-a\n+b\n").is_err());
    }

    #[test]
    fn empty_input_is_no_change() {
        assert!(parse_ok("").files.is_empty());
        assert!(parse_ok("\n\n").files.is_empty());
    }

    #[test]
    fn malformed_hunk_header_names_the_line() {
        let err = parse("p.diff", b"--- a/x\n+++ b/x\n@@ -a +b @@\n+x\n").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("p.diff:3: malformed hunk header"),
            "{err}"
        );
    }

    #[test]
    fn truncated_and_miscounted_hunks_do_not_panic() {
        // Overcounted and truncated: what is there is read.
        let f = one("--- a/x\n+++ b/x\n@@ -1,10 +1,10 @@\n a\n-b\n+c");
        assert_eq!(lines(&f.added), vec![(2, "c".into())]);
        // Counts near u32::MAX.
        let f = one("--- a/x\n+++ b/x\n@@ -4294967295,4294967295 +4294967295,2 @@\n a\n+b\n+c\n");
        assert_eq!(f.added.len(), 2);
        // Header only.
        let f = one("--- a/x\n+++ b/x\n@@ -1 +1 @@");
        assert!(f.added.is_empty());
        // Overcounted, then the next file of a plain diff.
        let set = parse_ok(
            "--- a/x\n+++ b/x\n@@ -1,5 +1,5 @@\n-a\n+b\n--- a/y\n+++ b/y\n@@ -1 +1 @@\n-c\n+d\n",
        );
        assert_eq!(set.files.len(), 2);
        assert_eq!(lines(&set.files[1].added), vec![(1, "d".into())]);
    }

    #[test]
    fn exact_counts_keep_dash_lines_as_content() {
        // A removed line `-- x` and an added `++ y` look like headers but the counts say they
        // are content.
        let f = one("--- a/x.sql\n+++ b/x.sql\n@@ -1 +1 @@\n--- x\n+++ y\n@@ -9 +9 @@\n-p\n+q\n");
        assert_eq!(lines(&f.removed), vec![(1, "-- x".into()), (9, "p".into())]);
        assert_eq!(lines(&f.added), vec![(1, "++ y".into()), (9, "q".into())]);
    }

    #[test]
    fn hand_written_example_with_wrong_counts_is_recounted() {
        // Says 1 new line, has 3, no trailing newline, and a blank context line with its space
        // stripped by an editor.
        let f = one("diff --git a/app/settings.py b/app/settings.py
--- a/app/settings.py
+++ b/app/settings.py
@@ -1,2 +1,1 @@
 import os

+PAYMENTS_URL = os.environ[\"PAYMENTS_URL\"]
+TIMEOUT = 3");
        assert_eq!(
            lines(&f.added),
            vec![
                (3, "PAYMENTS_URL = os.environ[\"PAYMENTS_URL\"]".into()),
                (4, "TIMEOUT = 3".into())
            ]
        );
    }

    #[test]
    fn rule_toml_examples_parse() {
        let example = "diff --git a/payments/migrations/0002_gateway_config.py b/payments/migrations/0002_gateway_config.py
new file mode 100644
--- /dev/null
+++ b/payments/migrations/0002_gateway_config.py
@@ -0,0 +1,2 @@
+from django.db import migrations
+class Migration(migrations.Migration): pass
diff --git a/docs/releases/4.2.md b/docs/releases/4.2.md
new file mode 100644
--- /dev/null
+++ b/docs/releases/4.2.md
@@ -0,0 +1 @@
+Run `manage.py migrate payments` before switching traffic.
";
        let set = parse_example("adds a migration", example).unwrap();
        assert_eq!(set.description, "patch example \"adds a migration\"");
        let [mig, note] = &set.files[..] else {
            panic!("{:#?}", set.files)
        };
        assert_eq!(mig.path, "payments/migrations/0002_gateway_config.py");
        assert_eq!(mig.status, FileStatus::Added);
        assert_eq!(mig.added.len(), 2);
        assert_eq!(note.path, "docs/releases/4.2.md");
        assert_eq!(
            lines(&note.added),
            vec![(
                1,
                "Run `manage.py migrate payments` before switching traffic.".into()
            )]
        );
        // Without `diff --git`, without a trailing newline, and counting one line too few.
        let f = one(
            "--- a/k8s/deploy.yaml\n+++ b/k8s/deploy.yaml\n@@ -5,1 +5,1 @@\n-  strategy: RollingUpdate\n+  strategy:\n+    type: Recreate",
        );
        assert_eq!(
            lines(&f.added),
            vec![(5, "  strategy:".into()), (6, "    type: Recreate".into())]
        );
    }

    #[test]
    fn non_utf8_bytes_are_replaced_not_rejected() {
        let text = b"diff --git a/caf\xe9.txt b/caf\xe9.txt\n--- a/caf\xe9.txt\n+++ b/caf\xe9.txt\n@@ -1 +1 @@\n-\xff\n+ok \xfe\n";
        let set = parse("latin1.patch", text).unwrap();
        assert_eq!(set.files[0].path, "caf\u{fffd}.txt");
        assert_eq!(set.files[0].added.get(1), Some("ok \u{fffd}"));
    }

    #[test]
    fn format_patch_mail_is_read_and_its_signature_ignored() {
        let set = parse_ok(
            "From 1234 Mon Sep 17 00:00:00 2001
From: A <a@example.com>
Subject: [PATCH] change

Forewarn-Ack: some-rule: reason
---
 x | 2 +-
 1 file changed, 1 insertion(+), 1 deletion(-)

diff --git a/x b/x
index 1..2 100644
--- a/x
+++ b/x
@@ -1 +1 @@
-a
+b
-- 
2.43.0

",
        );
        let f = &set.files[0];
        assert_eq!(set.files.len(), 1);
        assert_eq!(lines(&f.removed), vec![(1, "a".into())]);
        assert_eq!(lines(&f.added), vec![(1, "b".into())]);
    }

    #[test]
    fn submodule_changes_have_no_lines() {
        let f = one("diff --git a/vendor/lib b/vendor/lib
index 1111111..2222222 160000
--- a/vendor/lib
+++ b/vendor/lib
@@ -1 +1 @@
-Subproject commit 1111111111111111111111111111111111111111
+Subproject commit 2222222222222222222222222222222222222222
");
        assert_eq!(f.status, FileStatus::Modified);
        assert!(f.added.is_empty() && f.removed.is_empty());
    }

    #[test]
    fn combined_diff_of_a_merge() {
        let f = one("diff --cc src/a.rs
index 1111111,2222222..3333333
--- a/src/a.rs
+++ b/src/a.rs
@@@ -1,2 -1,2 +1,3 @@@
  same
- from one
 +from two
++resolved
");
        assert_eq!(f.path, "src/a.rs");
        assert_eq!(lines(&f.removed), vec![(2, "from one".into())]);
        assert_eq!(
            lines(&f.added),
            vec![(2, "from two".into()), (3, "resolved".into())]
        );
    }

    #[test]
    fn any_prefix_or_line_subset_of_a_diff_never_panics() {
        let text: &[u8] = b"diff --git \"a/q\\303\" b/q\nnew file mode 100644\n--- /dev/null\n+++ \"b/q\\303\"\n@@ -0,0 +1,2 @@\n+a\r\n+b\n\\ No newline at end of file\ndiff --cc m\n@@@ -1,1 -1,1 +1,2 @@@\n- x\n ++y\n--- a/p\n+++ b/p\n@@ -3,2 +3 @@ f\n-1\n-2\n+3\nBinary files a/z and b/z differ\n";
        for end in 0..=text.len() {
            let _ = parse("cut", &text[..end]);
        }
        for odd in [
            "Binary files differ\n",
            "Binary files  differ\n",
            "@@\n",
            "@@@ @@@\n",
        ] {
            let _ = parse("odd", odd.as_bytes());
            let _ = parse("odd", format!("--- a\n+++ b\n{odd}").as_bytes());
        }
        let lines: Vec<&[u8]> = text.split(|&b| b == b'\n').collect();
        for skip in 0..lines.len() {
            let kept: Vec<&[u8]> = lines
                .iter()
                .enumerate()
                .filter(|&(i, _)| i != skip)
                .map(|(_, l)| *l)
                .collect();
            let _ = parse("skip", &kept.join(&b'\n'));
        }
    }

    #[test]
    fn unquote_decodes_octal_and_rejects_unterminated() {
        assert_eq!(
            unquote(br#""a\303\251\\\"b" rest"#),
            Some(("aé\\\"b".as_bytes().to_vec(), 16))
        );
        assert_eq!(unquote(br#""abc"#), None);
        assert_eq!(unquote(br#""abc\"#), None);
    }
}
