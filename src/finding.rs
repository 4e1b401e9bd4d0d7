//! The one finding type: produced by the engine, annotated by acknowledgements, drawn by every
//! output format.

use std::sync::Arc;

use serde::Serialize;

pub use crate::diff::snippet::Snippet;
use crate::severity::Severity;

/// Where an acknowledgement came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum AckSource {
    /// A `Forewarn-Ack:` trailer in a commit of the range.
    Trailer { commit: String },
    /// The pull-request body from the CI event payload.
    PullRequest,
    /// A `forewarn-ack:` comment on or above the matched line.
    Inline { line: u32 },
    /// `--ack` on the command line.
    CommandLine,
}

impl std::fmt::Display for AckSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AckSource::Trailer { commit } => {
                let short: String = commit.chars().take(12).collect();
                write!(f, "trailer in commit {short}")
            }
            AckSource::PullRequest => f.write_str("pull-request body"),
            AckSource::Inline { line } => write!(f, "inline comment on line {line}"),
            AckSource::CommandLine => f.write_str("--ack"),
        }
    }
}

/// An author's answer to a finding's question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Acknowledgement {
    pub rule_id: String,
    pub reason: String,
    pub source: AckSource,
}

/// One thing a rule found in a change.
///
/// What comes from the rule (id, title, category, ask, links) is shared with the rule's other
/// findings, not copied: a change can have a hundred thousand findings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub rule_id: Arc<str>,
    pub title: Arc<str>,
    pub severity: Severity,
    pub category: Arc<str>,
    /// The rule's message with `{path}`, `{line}` and `{match}` filled in.
    pub message: String,
    /// The question the author should answer.
    pub ask: Arc<str>,
    /// `ANALYSIS-ID#FINDING-ID` links that motivated the rule.
    pub findings: Arc<[String]>,
    /// The file the finding is about; `None` for a finding on the change as a whole (a threshold).
    /// Shared by the file's findings.
    pub path: Option<Arc<str>>,
    /// The matched line in the new version (added lines) or old version (removed lines).
    pub line: Option<u32>,
    /// Whether `line` counts in the old version of the file (a removed-line match).
    pub old_side: bool,
    /// The text that matched: the whole matched line, trimmed.
    pub matched: Option<String>,
    /// Content-based identity: rule id, path and matched text; never line numbers or commits.
    pub fingerprint: String,
    /// Lines around the match from the new version of the file, when they could be read.
    pub snippet: Option<Snippet>,
    /// Boxed: most findings have none, and a finding is kept for every match of a change.
    pub acknowledged: Option<Box<Acknowledgement>>,
    /// The migration operation the finding is about (`drop-column`), for operation rules.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation: Option<&'static str>,
    /// `(table, column)` the operation is about, for checking the answer ([`crate::verify`]).
    #[serde(skip)]
    pub subject: Option<Box<(String, String)>>,
}

impl Finding {
    /// Whether this finding should fail a gate set at `fail_on`.
    pub fn fails(&self, fail_on: Option<Severity>) -> bool {
        match fail_on {
            None => false,
            Some(gate) => self.acknowledged.is_none() && self.severity >= gate,
        }
    }
}

/// A stable, content-based fingerprint: FNV-1a 64 over the parts, hex.
///
/// Line numbers and commit ids are left out on purpose, so a rebase or an unrelated edit above the
/// match keeps the same identity in every output format.
pub fn fingerprint(rule_id: &str, path: Option<&str>, matched: Option<&str>) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in [
        rule_id,
        path.unwrap_or(""),
        matched.map(str::trim).unwrap_or(""),
    ] {
        for byte in part.bytes().chain(std::iter::once(0xff)) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{hash:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_ignores_surrounding_whitespace_but_not_content() {
        let a = fingerprint("r", Some("a.sql"), Some("  DROP TABLE x;"));
        let b = fingerprint("r", Some("a.sql"), Some("DROP TABLE x;  "));
        let c = fingerprint("r", Some("a.sql"), Some("DROP TABLE y;"));
        let d = fingerprint("r", Some("b.sql"), Some("DROP TABLE x;"));
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, d);
        assert_eq!(a.len(), 16);
    }

    #[test]
    fn parts_do_not_run_together() {
        assert_ne!(
            fingerprint("ab", Some("c"), None),
            fingerprint("a", Some("bc"), None)
        );
    }
}
