//! What matching one file remembers: which rules its added lines answer, and where each
//! pattern of a combined set matched a line, found once for every rule that shares it.

use std::collections::HashMap;

use std::sync::Arc;

use rayon::prelude::*;

use super::{CompiledRule, LineSet};
use crate::diff::ChangedFile;
use crate::finding::{Finding, fingerprint};

/// Whether `unless.added` says the file handled what the rule asks about.
pub(super) fn is_handled(rule: &CompiledRule<'_>, file: &ChangedFile) -> bool {
    !rule.rule.unless.added.is_empty()
        && file
            .added
            .iter()
            .any(|(_, text)| rule.unless_added.is_match(text))
}

/// Each matched rule with its first matching pattern, ascending by rule, from the patterns a
/// set matched: `(rule, the pattern's index in the rule's list, its index in the set)`.
pub(super) fn first_pattern_per_rule(
    set: &LineSet,
    matches: regex::SetMatches,
    out: &mut Vec<(usize, usize, usize)>,
) {
    out.clear();
    for p in matches.into_iter() {
        out.extend(set.rule_of[p].iter().map(|&(rule, at)| (rule, at, p)));
    }
    out.sort_unstable();
    out.dedup_by_key(|&mut (rule, _, _)| rule);
}

/// What matching one file remembers across its lines and statements.
#[derive(Default)]
pub(super) struct FileState {
    /// Whether the file answers `unless.added`, by the rules' shared list of patterns.
    handled: HashMap<usize, bool>,
    pub(super) found: FoundOnce,
}

impl FileState {
    /// [`is_handled`], asked once per list of patterns (rules may share one).
    pub(super) fn is_handled(&mut self, rule: &CompiledRule<'_>, file: &ChangedFile) -> bool {
        *self
            .handled
            .entry(rule.unless_added.id())
            .or_insert_with(|| is_handled(rule, file))
    }
}

/// Where each pattern of a combined set matched one text, found once: rules that share a
/// pattern (a team's renamed copy of a pack) share the answer.
#[derive(Default)]
pub(super) struct FoundOnce {
    by_pattern: Vec<(usize, Option<(usize, usize)>)>,
}

impl FoundOnce {
    pub(super) fn clear(&mut self) {
        self.by_pattern.clear();
    }

    /// The match of `rule`'s pattern `at` (the set's pattern `pattern`) in `text`.
    pub(super) fn find<'t>(
        &mut self,
        rule: &CompiledRule<'_>,
        removed: bool,
        at: usize,
        pattern: usize,
        text: &'t str,
    ) -> Option<Found<'t>> {
        let span = match self.by_pattern.iter().find(|(p, _)| *p == pattern) {
            Some(&(_, span)) => span,
            None => {
                let matcher = if removed { &rule.removed } else { &rule.added };
                let span = matcher.find_with(at, text).map(|m| (m.start(), m.end()));
                self.by_pattern.push((pattern, span));
                span
            }
        };
        let (start, end) = span?;
        Some(Found {
            start,
            text: &text[start..end],
        })
    }
}

/// What a pattern matched, and where.
pub(super) struct Found<'t> {
    pub(super) start: usize,
    pub(super) text: &'t str,
}

/// Findings in report order: by path (change-wide ones last), line, rule.
pub fn sort_findings(findings: &mut [Finding]) {
    // Stable, on every thread: a change can have a hundred thousand findings.
    findings.par_sort_by(|a, b| {
        (a.path.is_none(), &a.path, a.line, &a.rule_id).cmp(&(
            b.path.is_none(),
            &b.path,
            b.line,
            &b.rule_id,
        ))
    });
}

pub(super) fn finding(
    compiled: &CompiledRule<'_>,
    path: Option<Arc<str>>,
    line: Option<u32>,
    old_side: bool,
    line_text: Option<&str>,
    matched: Option<&str>,
) -> Finding {
    let rule = compiled.rule;
    let shared = &compiled.shared;
    let shown = line_text.map(|t| t.trim().to_string());
    let path_text = path.as_deref();
    Finding {
        rule_id: shared.id.clone(),
        title: shared.title.clone(),
        severity: rule.severity,
        category: shared.category.clone(),
        message: rule.render_message(path_text, line, matched),
        ask: shared.ask.clone(),
        findings: shared.findings.clone(),
        fingerprint: fingerprint(&rule.id, path_text, shown.as_deref()),
        path,
        line,
        old_side,
        matched: shown,
        snippet: None,
        acknowledged: None,
        operation: None,
        subject: None,
    }
}

/// `unless.kept`: every added line of `file` holding `text` is matched by a removed line that
/// holds it too (a line or block moved or edited in place: what it matched was already there).
/// Counted, so a second reference added beside a moved one still fires.
pub(super) fn kept(file: &ChangedFile, text: &str) -> bool {
    let holding =
        |lines: &crate::diff::Lines| lines.iter().filter(|(_, t)| t.contains(text)).count();
    holding(&file.added) <= holding(&file.removed)
}
