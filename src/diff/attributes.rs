//! The `diff` attribute read from a git revision's `.gitattributes` files, not from the working
//! tree or index: with `check --rules-from REV` the pull request's own attributes must not
//! decide what is read as text (a `*.sql -diff` line would hide every migration's lines).
//!
//! git's rules, for the one attribute: `.gitattributes` files from the root down to the file's
//! folder, later lines and deeper files winning; a pattern without `/` matches the name at any
//! depth below its file's folder, one with `/` the path relative to that folder; `binary` is
//! `-diff`, `!diff` makes it unspecified again. Macros other than `binary` are not expanded.

use std::collections::HashMap;
use std::rc::Rc;

use git2::{Oid, Repository};

/// What a line says about `diff`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Diff {
    /// `-diff` or `binary`, as written.
    Unset(String),
    /// `diff`: text.
    Set,
    /// `diff=<driver>`.
    Driver(String),
    /// `!diff`.
    Unspecified,
}

struct Line {
    glob: globset::GlobMatcher,
    /// The pattern has no `/`: it matches the file name at any depth.
    name_only: bool,
    diff: Diff,
}

/// The `.gitattributes` files of one revision, each parsed when first needed.
pub struct RevisionAttributes {
    tree: Oid,
    /// The revision as the user named it, for messages.
    pub rev: String,
    files: HashMap<Vec<u8>, Rc<Vec<Line>>>,
}

impl RevisionAttributes {
    pub fn new(tree: Oid, rev: String) -> Self {
        RevisionAttributes {
            tree,
            rev,
            files: HashMap::new(),
        }
    }

    /// The `diff` attribute of `path` in the revision; `None` when unspecified.
    pub fn diff(
        &mut self,
        repo: &Repository,
        path: &[u8],
    ) -> std::result::Result<Option<Diff>, git2::Error> {
        let mut found = None;
        let folders = std::iter::once(0).chain(
            path.iter()
                .enumerate()
                .filter(|&(_, &b)| b == b'/')
                .map(|(i, _)| i),
        );
        for end in folders {
            let (folder, rel) = if end == 0 {
                (&path[..0], path)
            } else {
                (&path[..end], &path[end + 1..])
            };
            let lines = self.file(repo, folder)?;
            let rel = String::from_utf8_lossy(rel);
            let name = rel.rsplit('/').next().unwrap_or(&rel);
            for line in lines.iter() {
                let subject: &str = if line.name_only { name } else { &rel };
                if line.glob.is_match(subject) {
                    found = match &line.diff {
                        Diff::Unspecified => None,
                        other => Some(other.clone()),
                    };
                }
            }
        }
        Ok(found)
    }

    /// The parsed `.gitattributes` of `folder` (`""` for the root); empty when there is none.
    fn file(
        &mut self,
        repo: &Repository,
        folder: &[u8],
    ) -> std::result::Result<Rc<Vec<Line>>, git2::Error> {
        if let Some(known) = self.files.get(folder) {
            return Ok(Rc::clone(known));
        }
        let mut at = folder.to_vec();
        if !at.is_empty() {
            at.push(b'/');
        }
        at.extend_from_slice(b".gitattributes");
        let tree = repo.find_tree(self.tree)?;
        let lines = match tree.get_path(&crate::diff::paths::path_of(&at)) {
            Ok(entry) => match entry.to_object(repo)?.into_blob() {
                Ok(blob) => parse(&String::from_utf8_lossy(blob.content())),
                Err(_) => Vec::new(),
            },
            Err(e) if e.code() == git2::ErrorCode::NotFound => Vec::new(),
            Err(e) => return Err(e),
        };
        let lines = Rc::new(lines);
        self.files.insert(folder.to_vec(), Rc::clone(&lines));
        Ok(lines)
    }
}

/// The lines of a `.gitattributes` file that say something about `diff`.
fn parse(text: &str) -> Vec<Line> {
    let mut out = Vec::new();
    for raw in text.lines() {
        let raw = raw.trim();
        if raw.is_empty() || raw.starts_with('#') || raw.starts_with("[attr]") {
            continue;
        }
        let mut tokens = raw.split_ascii_whitespace();
        let Some(pattern) = tokens.next() else {
            continue;
        };
        let mut diff = None;
        for token in tokens {
            diff = match token {
                "binary" | "-diff" => Some(Diff::Unset(token.to_string())),
                "diff" => Some(Diff::Set),
                "!diff" => Some(Diff::Unspecified),
                t => match t.strip_prefix("diff=") {
                    Some(driver) => Some(Diff::Driver(driver.to_string())),
                    None => diff,
                },
            };
        }
        let Some(diff) = diff else { continue };
        // A folder pattern (`dir/`) names no file; negative patterns are not allowed here.
        if pattern.ends_with('/') || pattern.starts_with('!') {
            continue;
        }
        let name_only = !pattern.contains('/');
        let pattern = pattern.strip_prefix('/').unwrap_or(pattern);
        let Ok(glob) = globset::GlobBuilder::new(pattern)
            .literal_separator(true)
            .backslash_escape(true)
            .build()
        else {
            continue;
        };
        out.push(Line {
            glob: glob.compile_matcher(),
            name_only,
            diff,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn diff_of(text: &str, path: &str) -> Option<Diff> {
        let mut found = None;
        for line in parse(text) {
            let name = path.rsplit('/').next().unwrap();
            if line.glob.is_match(if line.name_only { name } else { path }) {
                found = match line.diff {
                    Diff::Unspecified => None,
                    d => Some(d),
                };
            }
        }
        found
    }

    #[test]
    fn reads_the_diff_attribute_as_git_does() {
        let text = "# comment\n*.sql -diff\n*.png binary\ndb/keep.sql diff\n*.md diff=markdown\n*.txt text\n/top.sql !diff\n";
        assert_eq!(diff_of(text, "db/x.sql"), Some(Diff::Unset("-diff".into())));
        assert_eq!(
            diff_of(text, "a/b/logo.png"),
            Some(Diff::Unset("binary".into()))
        );
        assert_eq!(diff_of(text, "db/keep.sql"), Some(Diff::Set));
        assert_eq!(
            diff_of(text, "README.md"),
            Some(Diff::Driver("markdown".into()))
        );
        assert_eq!(diff_of(text, "notes.txt"), None);
        assert_eq!(diff_of(text, "top.sql"), None);
        assert_eq!(
            diff_of(text, "sub/top.sql"),
            Some(Diff::Unset("-diff".into()))
        );
    }
}
