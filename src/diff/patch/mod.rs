//! Changes read from unified diff text (`git diff` output, or any `diff -u`), so
//! `git diff | forewarn check --patch -` works outside a repository.
//!
//! A patch given to `check --patch` is read as strictly as `git apply --check` reads it: a line
//! inside a hunk with no ` `, `+`, `-` or `\` prefix, hunk counts that disagree with the lines
//! present (a truncated or hand-edited patch), and `diff --git` names that disagree with the
//! `---`/`+++` names are errors with the line number, since what is not read is not checked.
//! Rule examples are diffs written by hand, so [`parse_example`] is lenient the way
//! `git apply --recount` is: hunk counts that are off by a line or two are recounted from the
//! `+`/`-`/` ` lines that follow. A missing final newline is fine in both. What cannot be read
//! as a diff at all is an error that says how to produce one.

mod header;
mod parser;
mod section;
mod strict;
#[cfg(test)]
mod tests;

use parser::Parser;

use super::{ChangeSet, NewSide};
use crate::error::{Error, Result};
/// What an empty patch (nothing but whitespace) means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Empty {
    /// An error: `git diff <typo> | forewarn check --patch -` pipes nothing, and "no findings"
    /// about a change that never arrived would pass the gate.
    Refused,
    /// An empty change, said on purpose (`check --allow-empty`).
    Allowed,
}

/// Parses a unified diff given by the user, strictly; `source` names it in messages (a file
/// path, or `stdin`). Empty input is refused.
pub fn parse(source: &str, text: &[u8]) -> Result<ChangeSet> {
    parse_patch(source, text, Empty::Refused)
}

/// [`parse`], saying what empty input means.
pub fn parse_patch(source: &str, text: &[u8], empty: Empty) -> Result<ChangeSet> {
    if empty == Empty::Refused && text.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::usage(
            format!("{source} is empty: there is no change to check"),
            "when a diff is piped in, an empty pipe usually means the command before it failed (check its message, e.g. a misspelt revision in `git diff`); to check an empty change on purpose, add --allow-empty",
        ));
    }
    parse_with(source, text, true)
}

fn parse_with(source: &str, text: &[u8], strict: bool) -> Result<ChangeSet> {
    let lines: Vec<&[u8]> = split_lines(text);
    let (files, (old_whole, new_whole)) = Parser {
        source,
        lines: &lines,
        files: Vec::new(),
        current: None,
        strict,
        whole: Default::default(),
    }
    .run()?;
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
            NewSide::Patch(std::sync::Arc::new(new_whole))
        },
        old_side: if old_whole.is_empty() {
            super::OldSide::DiffOnly
        } else {
            super::OldSide::Patch(std::sync::Arc::new(old_whole))
        },
        description: format!("patch {source}"),
        head_commit: None,
    })
}

/// Parses the diff of a rule's `[[rule.example]]`, named in messages as `example "<name>"`:
/// leniently (hunk counts recounted), and an empty diff is an empty change.
pub fn parse_example(name: &str, diff: &str) -> Result<ChangeSet> {
    parse_with(&format!("example {name:?}"), diff.as_bytes(), false)
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
