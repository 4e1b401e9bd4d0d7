//! `content-not-checked`: a file that line rules watch, whose lines were not read as text,
//! is reported with the reason, never passed as if it had no lines (failing closed).

use std::sync::Arc;

use super::{Engine, FileFacts};
use crate::diff::ChangedFile;
use crate::finding::{Finding, fingerprint};
use crate::rules::Severity;

/// The id of the finding; it is no rule of a pack, so it cannot be disabled, only acknowledged.
pub const RULE_ID: &str = "content-not-checked";

/// Category of the rules whose candidates are migration paths.
const MIGRATION: &str = "migration";

/// The `content-not-checked` finding of `file`, if its content was not read and at least one
/// rule with line patterns names its path: a warning, or an error in a migration path (a path some
/// `migration` rule watches).
pub(super) fn finding(
    engine: &Engine<'_>,
    fact: &FileFacts,
    file: &ChangedFile,
    silenced: &[bool],
) -> Option<Finding> {
    let reason = file.unread.as_ref()?;
    let candidates = || {
        fact.candidates
            .iter()
            .map(|&i| i as usize)
            .filter(|&i| !silenced[i])
            .map(|i| engine.rules[i].rule)
    };
    // A rule watches the paths it names: a line rule with no `paths` reads every file (a
    // scheduled-job pattern, say), and every image of a change is no reason for a finding.
    let watching: Vec<&str> = candidates()
        .filter(|r| {
            r.matcher.has_line_patterns() && !r.matcher.paths.is_empty() && !r.threshold.is_set()
        })
        .map(|r| r.id.as_str())
        .collect();
    if watching.is_empty() {
        return None;
    }
    let migration = candidates().any(|r| r.category == MIGRATION);
    let shown: Vec<String> = watching
        .iter()
        .take(3)
        .map(|id| format!("`{id}`"))
        .collect();
    let more = match watching.len() {
        n if n > 3 => format!(" and {} more", n - 3),
        _ => String::new(),
    };
    let message = format!(
        "{path} was not read as text: {reason}. No line rule could check it, and {count} watch this path ({ids}{more}).",
        path = file.path,
        count = if watching.len() == 1 {
            "one rule".to_string()
        } else {
            format!("{} rules", watching.len())
        },
        ids = shown.join(", "),
    );
    let path: Arc<str> = Arc::from(file.path.as_str());
    Some(Finding {
        rule_id: Arc::from(RULE_ID),
        title: Arc::from("Content not checked"),
        severity: if migration {
            Severity::Error
        } else {
            Severity::Warning
        },
        category: Arc::from(if migration { MIGRATION } else { "process" }),
        message,
        ask: Arc::from(
            "Has someone read this file's content, since no rule could? If it should be text, fix what kept it from being read; if it is reviewed by hand, acknowledge with the reason.",
        ),
        findings: Arc::from(Vec::new()),
        fingerprint: fingerprint(RULE_ID, Some(&file.path), None),
        path: Some(path),
        line: None,
        old_side: false,
        matched: None,
        snippet: None,
        acknowledged: None,
        operation: None,
        subject: None,
    })
}
