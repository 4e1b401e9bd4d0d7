//! The parser: file sections, hunks (plain and combined) and their lines, read in one pass.

use super::header::{header_path, hunk_ranges, unquote_path};
use super::section::{FileBuilder, plain_binary};
use super::trim_cr;
use crate::diff::{ChangedFile, FileStatus};
use crate::error::{Error, Result};
use std::collections::BTreeMap;

/// What a line inside a hunk is.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum BodyLine {
    Context,
    Added,
    Removed,
    /// `\ No newline at end of file`.
    Marker,
    /// An empty line: a context line whose leading space an editor stripped, or the end.
    Empty,
}

pub(super) fn body_line(line: &[u8]) -> Option<BodyLine> {
    match trim_cr(line).first() {
        None => Some(BodyLine::Empty),
        Some(b' ') => Some(BodyLine::Context),
        Some(b'+') => Some(BodyLine::Added),
        Some(b'-') => Some(BodyLine::Removed),
        Some(b'\\') => Some(BodyLine::Marker),
        Some(_) => None,
    }
}

pub(super) struct Parser<'a> {
    pub(super) source: &'a str,
    pub(super) lines: &'a [&'a [u8]],
    pub(super) files: Vec<ChangedFile>,
    pub(super) current: Option<FileBuilder>,
    /// Refuse what `git apply --check` refuses (user input), or recount (rule examples).
    pub(super) strict: bool,
    /// Both sides of each file the patch shows from its first line in one hunk (see
    /// [`crate::diff::PatchFiles`]): old, new.
    pub(super) whole: (BTreeMap<String, String>, BTreeMap<String, String>),
}

/// What the parser read: the files, and the texts it saw from line 1 (old, new).
pub(super) type Read = (
    Vec<ChangedFile>,
    (BTreeMap<String, String>, BTreeMap<String, String>),
);

impl Parser<'_> {
    /// Finishes a file, keeping its text when the patch shows it from line 1 in one hunk.
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

    pub(super) fn run(mut self) -> Result<Read> {
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
                        f.set_paths(minus, plus);
                        if let Some(f) = self.current.as_ref() {
                            self.check_names(f, i)?;
                        }
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
        Ok((self.files, self.whole))
    }

    pub(super) fn start(&mut self, file: FileBuilder) {
        if let Some(f) = self.current.replace(file) {
            self.push(f);
        }
    }

    /// A `--- path` line directly followed by `+++ path`.
    pub(super) fn is_file_header_pair(&self, i: usize) -> bool {
        trim_cr(self.lines[i]).starts_with(b"--- ")
            && self
                .lines
                .get(i + 1)
                .is_some_and(|l| trim_cr(l).starts_with(b"+++ "))
    }

    /// A `---`/`+++` pair followed by a hunk header: the next file, even where a hunk's counts
    /// (written by hand) say more lines are due.
    pub(super) fn is_next_file(&self, i: usize) -> bool {
        self.is_file_header_pair(i) && self.lines.get(i + 2).is_some_and(|l| l.starts_with(b"@@ "))
    }

    /// Whether a hunk whose counts are used up continues at line `i`: hand-written hunks often
    /// undercount, so further `+`/`-`/` ` lines still belong to it unless they start the next
    /// file or are a `git format-patch` signature (`-- `).
    pub(super) fn continues_after_counts(&self, i: usize) -> bool {
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
    pub(super) fn hunk(&mut self, at: usize) -> Result<usize> {
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
            let counted = old_left > 0 || new_left > 0;
            if self.strict {
                if let Err(e) = self.strict_line(i, at, counted, old_left, new_left) {
                    self.current = Some(f);
                    return Err(e);
                }
                if !counted {
                    // Past the counts only a `\ No newline` marker belongs to the hunk.
                    if body_line(raw) == Some(BodyLine::Marker) {
                        i += 1;
                        continue;
                    }
                    break;
                }
            }
            let Some(kind) = body_line(raw) else { break };
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
        if self.strict && i >= self.lines.len() && (old_left > 0 || new_left > 0) {
            return Err(self.corrupt(
                self.lines.len() - 1,
                format!(
                    "the input ends inside the hunk at line {}, {old_left} old and {new_left} new lines short of its header's counts (the patch is cut short, or was edited)",
                    at + 1
                ),
            ));
        }
        Ok(i)
    }

    /// A hunk of a combined diff (`git show` of a merge: `@@@ -a,b -c,d +e,f @@@`), where each
    /// line carries one marker column per parent. Lines in the result that some parent lacks are
    /// added; lines some parent had and the result lacks are removed (numbered in that parent).
    pub(super) fn combined_hunk(&mut self, at: usize, ranges: &[(u32, u32)]) -> usize {
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
