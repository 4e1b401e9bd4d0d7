//! What `git apply --check` refuses, refused in a strict read with the line it is on: lines
//! that are no diff line, hunks cut short, and `diff --git` names that disagree with the
//! `---`/`+++` names.

use super::parser::{BodyLine, Parser, body_line};
use super::section::{FileBuilder, lossy};
use crate::error::{Error, Result};

impl Parser<'_> {
    /// What `git apply --check` would refuse at line `i` of the hunk whose header is line `at`.
    pub(super) fn strict_line(
        &self,
        i: usize,
        at: usize,
        counted: bool,
        old_left: u32,
        new_left: u32,
    ) -> Result<()> {
        if !counted {
            // Lines past the counts are not part of the change; `+`/`-` lines there (before a
            // blank line, the next header or a mail signature) were meant to be, and would be
            // dropped unread.
            let mut j = i;
            while j < self.lines.len() && self.continues_after_counts(j) {
                let kind = body_line(self.lines[j]);
                if matches!(kind, Some(BodyLine::Added | BodyLine::Removed)) {
                    return Err(self.corrupt(
                        j,
                        format!(
                            "this line is past the counts of the hunk at line {} (its header says fewer lines)",
                            at + 1
                        ),
                    ));
                }
                if kind == Some(BodyLine::Empty) {
                    break;
                }
                j += 1;
            }
            return Ok(());
        }
        if body_line(self.lines[i]).is_none() {
            return Err(self.corrupt(
                i,
                format!(
                    "a line inside the hunk at line {} starts with neither ' ', '+', '-' nor '\\'",
                    at + 1
                ),
            ));
        }
        if self.is_next_file(i) && !(old_left == 1 && new_left == 1) {
            return Err(self.truncated(i, at, old_left, new_left));
        }
        Ok(())
    }

    /// An error at line `i` (0-based) of a patch `git apply` would call corrupt.
    pub(super) fn corrupt(&self, i: usize, what: String) -> Error {
        Error::usage(
            format!("{}:{}: corrupt patch: {what}", self.source, i + 1),
            format!(
                "lines left unread are not checked, so the patch is refused, as `git apply --check {}` refuses it; regenerate it with: git diff > change.patch",
                self.source
            ),
        )
    }

    /// The hunk at line `at` ended (at line `i`) with lines still due.
    pub(super) fn truncated(&self, i: usize, at: usize, old_left: u32, new_left: u32) -> Error {
        self.corrupt(
            i,
            format!(
                "the hunk at line {} ends here with {old_left} old and {new_left} new lines fewer than its header counts (the patch is cut short, or was edited)",
                at + 1
            ),
        )
    }

    /// In a strict read: the `diff --git` names of the file section must be the `---`/`+++`
    /// names (or `rename from`/`rename to`, `copy from`/`copy to`), as `git apply` requires.
    pub(super) fn check_names(&self, f: &FileBuilder, at: usize) -> Result<()> {
        if !self.strict || !f.git || f.combined {
            return Ok(());
        }
        let sides = [
            (
                f.minus.as_ref(),
                f.rename_from
                    .as_ref()
                    .or(f.copy_from.as_ref())
                    .or(f.header_old.as_ref()),
                "---",
                at,
            ),
            (
                f.plus.as_ref(),
                f.rename_to
                    .as_ref()
                    .or(f.copy_to.as_ref())
                    .or(f.header_new.as_ref()),
                "+++",
                at + 1,
            ),
        ];
        for (named, expected, marker, line) in sides {
            let (Some(Some(named)), Some(expected)) = (named, expected) else {
                continue;
            };
            if named != expected {
                return Err(self.corrupt(
                    line,
                    format!(
                        "`{marker}` names `{}`, but the `diff --git` header names `{}`",
                        lossy(named),
                        lossy(expected)
                    ),
                ));
            }
        }
        Ok(())
    }
}
