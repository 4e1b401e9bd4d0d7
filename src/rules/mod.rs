//! The rule model: what a rule says (from TOML), checked and ready for the engine.
//!
//! [`load`] turns rule files into [`Rule`]s, collecting every problem with its span;
//! [`builtin`] holds the packs compiled into the binary from the project's `rules/` folder.

pub mod builtin;
pub mod document;
pub mod load;
pub mod operation;
mod regex_size;
pub mod verify;

use serde::{Deserialize, Serialize};

pub use crate::config::Rollout;
use crate::diff::FileStatus;
pub use crate::severity::Severity;

/// What makes a rule fire.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Match {
    /// Globs on the repo-relative path; empty means every file.
    pub paths: Vec<String>,
    pub exclude: Vec<String>,
    /// Empty means any status.
    pub status: Vec<FileStatus>,
    /// Regexes on added lines; a match fires at that line.
    pub added: Vec<String>,
    /// Regexes on removed lines.
    pub removed: Vec<String>,
    /// Only files that belong to a component with one of these rollouts (from `forewarn.toml`).
    pub rollout: Vec<Rollout>,
    /// Match `added`/`removed` against whole statements instead of single lines: runs of
    /// consecutive changed lines, ended by `;` (or, outside `.sql` files, by balanced brackets
    /// at the end of a line) or a blank line. A statement written over several lines is found.
    pub statements: bool,
    /// Deploy configuration read as documents (`[rule.match.document]`): kinds, a key path and a
    /// comparison of old and new value. For a file that is not read as documents the rule's
    /// `added`/`removed` regexes, if any, apply instead.
    pub document: Option<document::DocumentMatch>,
    /// Migration operations (`drop-column`, ...), with conditions: one rule for every framework.
    /// For a migration that was parsed, these replace the line patterns; one the parser could
    /// not read is matched by the line patterns instead.
    pub operations: operation::OperationMatch,
    /// `understood = false`: fires on files in its paths whose structure could not be read
    /// (the note that says a migration was read as text only, and why).
    pub understood: Option<bool>,
    /// With `understood = false`, `invalid = true`: fires only on a YAML file whose new side is
    /// not valid as written (no template actions in it) where its old side was, or which is new:
    /// whatever applies it fails. The plain `understood = false` note then stays quiet for it.
    pub invalid: bool,
}

impl Match {
    pub fn has_line_patterns(&self) -> bool {
        !self.added.is_empty() || !self.removed.is_empty()
    }

    /// Whether the rule looks at single files at all (as opposed to only the size of the change).
    pub fn has_file_criteria(&self) -> bool {
        !self.paths.is_empty()
            || !self.status.is_empty()
            || self.has_line_patterns()
            || !self.rollout.is_empty()
            || self.document.is_some()
            || self.operations.is_set()
    }

    /// Whether the rule reads what a file means (operations) rather than only its lines.
    pub fn is_structured(&self) -> bool {
        self.operations.is_set() || self.understood.is_some() || self.document.is_some()
    }
}

/// What keeps a matching rule quiet.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Unless {
    /// Globs: if another file of the change matches one, the rule counts as handled.
    pub changed: Vec<String>,
    /// Regexes: if an added line of the same file matches one, that file counts as handled.
    pub added: Vec<String>,
    /// Regexes: a match is silenced when its own line (or statement) also matches one, e.g.
    /// `CREATE INDEX` unless the same statement says `CONCURRENTLY`.
    pub matched: Vec<String>,
    /// A match on an added line is silenced when a removed line of the same file holds the
    /// same matched text: the line was edited, what it matched was already there.
    pub kept: bool,
}

/// Fire on the size of a change instead of its content: more than N of these.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Threshold {
    pub files: Option<usize>,
    pub lines: Option<usize>,
    /// More than N components touched. `forewarn.toml`'s `max_components_per_change` replaces
    /// this number when set: the team's limit wins.
    pub components: Option<usize>,
}

impl Threshold {
    pub fn is_set(&self) -> bool {
        self.files.is_some() || self.lines.is_some() || self.components.is_some()
    }
}

/// Whether an example should make its rule fire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Expect {
    Fire,
    Pass,
}

/// A small unified diff that shows what the rule catches, or what it leaves alone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Example {
    pub name: String,
    pub expect: Expect,
    pub diff: String,
    /// A `forewarn.toml` for this example alone (components, limits), when it needs one.
    pub config: Option<String>,
    /// The repository around the diff, file by file (`[rule.example.tree]`), for rules that
    /// check the answer in it (`[[rule.verify]]`): the new side, and the old side too unless
    /// `old_tree` gives it. The diff's files shown whole are added to it. Without a tree the
    /// example has only its diff, as a patch has.
    pub tree: Option<std::collections::BTreeMap<String, String>>,
    pub old_tree: Option<std::collections::BTreeMap<String, String>>,
    /// The severity every finding must have (after checking the answer), when it fires.
    pub severity: Option<Severity>,
    /// Text every finding's message must hold, when it fires (what checking the answer said).
    pub message: Option<String>,
    /// Line of the example in its rule file, for `forewarn test` messages.
    pub line: usize,
}

/// Where a rule was defined.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Origin {
    /// `builtin:rules/migrations.toml`, or the path of a team rule file.
    pub file: String,
    pub line: usize,
    pub builtin: bool,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// A checked rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rule {
    pub id: String,
    pub title: String,
    pub severity: Severity,
    /// The severity the rule file gave, before `forewarn.toml` overrides.
    pub default_severity: Severity,
    pub category: String,
    pub message: String,
    pub ask: String,
    pub findings: Vec<String>,
    /// Why this is risky at deploy time (for `explain` and the docs).
    pub why: Option<String>,
    /// The safe procedure (for `explain` and the docs).
    pub procedure: Option<String>,
    /// Links to public guidance.
    pub docs: Vec<String>,
    #[serde(rename = "match")]
    pub matcher: Match,
    pub unless: Unless,
    pub threshold: Threshold,
    /// `[rule.verify]`: how to check the answer in the repository ([`crate::verify`]).
    pub verify: Vec<verify::Verify>,
    pub examples: Vec<Example>,
    pub origin: Origin,
}

impl Rule {
    /// The message with `{path}`, `{line}` and `{match}` filled in.
    pub fn render_message(
        &self,
        path: Option<&str>,
        line: Option<u32>,
        matched: Option<&str>,
    ) -> String {
        let line = line.map(|l| l.to_string());
        self.message
            .replace("{path}", path.unwrap_or("this change"))
            .replace("{line}", line.as_deref().unwrap_or("-"))
            .replace("{match}", matched.map(str::trim).unwrap_or(""))
            .replace("{table}", "this table")
            .replace("{column}", "this column")
            .replace("{operation}", "this operation")
            .replace("{reason}", "")
    }
}

/// The rules in force for a run, and what loading them noticed.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    pub rules: Vec<Rule>,
    /// Problems worth a word that do not stop the run (a disabled id that names no rule).
    pub warnings: Vec<String>,
}

impl RuleSet {
    pub fn get(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }
}
