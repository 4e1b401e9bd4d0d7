//! Matching: a [`ChangeSet`] and the rules in force give the findings. Pure, no I/O.
//!
//! Rules are compiled once ([`compile`]); every glob and regex was already checked by the loader,
//! so compiling here cannot fail on user input.

mod compile;
mod statement;

use std::collections::BTreeSet;

use crate::config::Config;
use crate::diff::{ChangeSet, ChangedFile, Lines};
use crate::finding::{Finding, fingerprint};
use crate::rules::Rule;

pub use compile::{CompiledRule, GlobMatcher};

/// Rules compiled for matching, with the config's exclusions and components.
pub struct Engine<'r> {
    rules: Vec<CompiledRule<'r>>,
    exclude: GlobMatcher,
    components: Vec<(String, crate::rules::Rollout, GlobMatcher)>,
    max_components: Option<usize>,
}

/// What one run of the engine found.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub findings: Vec<Finding>,
    /// Files not excluded by the config: what was actually looked at.
    pub files_checked: usize,
}

impl<'r> Engine<'r> {
    pub fn new(rules: &'r [Rule], config: &Config) -> Engine<'r> {
        Engine {
            rules: rules.iter().map(CompiledRule::new).collect(),
            exclude: GlobMatcher::new(&config.exclude),
            components: config
                .components
                .iter()
                .map(|c| (c.name.clone(), c.rollout, GlobMatcher::new(&c.paths)))
                .collect(),
            max_components: config.max_components_per_change,
        }
    }

    /// Names of the components `path` belongs to.
    fn components_of<'a>(
        &'a self,
        path: &'a str,
    ) -> impl Iterator<Item = &'a (String, crate::rules::Rollout, GlobMatcher)> + 'a {
        self.components
            .iter()
            .filter(move |(_, _, globs)| globs.is_match(path))
    }

    /// Runs every rule over the change.
    pub fn check(&self, changes: &ChangeSet) -> Outcome {
        let files: Vec<&ChangedFile> = changes
            .files
            .iter()
            .filter(|f| !self.exclude.is_match(&f.path))
            .collect();
        let mut findings = Vec::new();
        for rule in &self.rules {
            self.check_rule(rule, &files, &mut findings);
        }
        findings.sort_by(|a, b| {
            (a.path.is_none(), &a.path, a.line, &a.rule_id).cmp(&(
                b.path.is_none(),
                &b.path,
                b.line,
                &b.rule_id,
            ))
        });
        Outcome {
            findings,
            files_checked: files.len(),
        }
    }

    fn is_candidate(&self, rule: &CompiledRule, file: &ChangedFile) -> bool {
        let m = &rule.rule.matcher;
        if !m.status.is_empty() && !m.status.contains(&file.status) {
            return false;
        }
        let path_ok =
            |p: &str| (m.paths.is_empty() || rule.paths.is_match(p)) && !rule.exclude.is_match(p);
        // A renamed file counts by its new path; a deleted one by the path it had.
        if !path_ok(&file.path) {
            return false;
        }
        if !m.rollout.is_empty()
            && !self
                .components_of(&file.path)
                .any(|(_, rollout, _)| m.rollout.contains(rollout))
        {
            return false;
        }
        true
    }

    fn check_rule(&self, rule: &CompiledRule<'r>, files: &[&ChangedFile], out: &mut Vec<Finding>) {
        let candidates: Vec<&ChangedFile> = files
            .iter()
            .copied()
            .filter(|f| self.is_candidate(rule, f))
            .collect();
        if candidates.is_empty() {
            return;
        }
        // Co-change: another file of the change shows the step was taken.
        if !rule.rule.unless.changed.is_empty()
            && files.iter().any(|f| {
                rule.unless_changed.is_match(&f.path)
                    && !candidates.iter().any(|c| std::ptr::eq(*c, *f))
            })
        {
            return;
        }
        let handled = |file: &ChangedFile| {
            !rule.rule.unless.added.is_empty()
                && file
                    .added
                    .iter()
                    .any(|(_, text)| rule.unless_added.is_match(text))
        };
        if rule.rule.threshold.is_set() {
            self.check_threshold(rule, &candidates, &handled, out);
            return;
        }
        for file in candidates {
            if handled(file) {
                continue;
            }
            if rule.rule.matcher.has_line_patterns() {
                if file.binary {
                    continue;
                }
                let statements = rule.rule.matcher.statements;
                match_lines(rule, file, &file.added, &rule.added, false, statements, out);
                match_lines(
                    rule,
                    file,
                    &file.removed,
                    &rule.removed,
                    true,
                    statements,
                    out,
                );
            } else {
                out.push(finding(
                    rule.rule,
                    Some(&file.path),
                    None,
                    false,
                    None,
                    None,
                ));
            }
        }
    }

    fn check_threshold(
        &self,
        rule: &CompiledRule<'r>,
        candidates: &[&ChangedFile],
        handled: &dyn Fn(&ChangedFile) -> bool,
        out: &mut Vec<Finding>,
    ) {
        let counted: Vec<&ChangedFile> =
            candidates.iter().copied().filter(|f| !handled(f)).collect();
        if counted.is_empty() {
            return;
        }
        let t = &rule.rule.threshold;
        let lines: usize = counted.iter().map(|f| f.changed_lines()).sum();
        let components: BTreeSet<&str> = counted
            .iter()
            .flat_map(|f| {
                self.components_of(&f.path)
                    .map(|(name, _, _)| name.as_str())
            })
            .collect();
        let component_limit = t.components.map(|n| self.max_components.unwrap_or(n));
        let over = t.files.is_some_and(|n| counted.len() > n)
            || t.lines.is_some_and(|n| lines > n)
            || component_limit.is_some_and(|n| components.len() > n);
        if !over {
            return;
        }
        let summary = if t.components.is_some() || !rule.rule.matcher.rollout.is_empty() {
            let names: Vec<&str> = components.iter().copied().collect();
            format!(
                "{} component{}: {}",
                names.len(),
                if names.len() == 1 { "" } else { "s" },
                names.join(", ")
            )
        } else if t.lines.is_some() && t.files.is_none() {
            format!("{lines} changed lines in {} files", counted.len())
        } else {
            format!("{} files, {lines} changed lines", counted.len())
        };
        out.push(finding(
            rule.rule,
            None,
            None,
            false,
            Some(&summary),
            Some(&summary),
        ));
    }
}

/// Matches one side's lines (or statements) of a file, pushing a finding per match.
fn match_lines(
    rule: &CompiledRule<'_>,
    file: &ChangedFile,
    lines: &Lines,
    matcher: &compile::LineMatcher,
    old_side: bool,
    statements: bool,
    out: &mut Vec<Finding>,
) {
    if !matcher.is_active() {
        return;
    }
    let silenced =
        |text: &str| !rule.rule.unless.matched.is_empty() && rule.unless_matched.is_match(text);
    if statements {
        let sql = file.path.to_ascii_lowercase().ends_with(".sql");
        for stmt in statement::split(lines, sql) {
            let Some(m) = matcher.find(&stmt.text) else {
                continue;
            };
            if silenced(&stmt.text) {
                continue;
            }
            let (line, text) = stmt.line_at(m.start());
            out.push(finding(
                rule.rule,
                Some(&file.path),
                Some(line),
                old_side,
                Some(text),
                Some(m.as_str()),
            ));
        }
        return;
    }
    for (line, text) in lines.iter() {
        if let Some(m) = matcher.find(text) {
            if silenced(text) {
                continue;
            }
            out.push(finding(
                rule.rule,
                Some(&file.path),
                Some(line),
                old_side,
                Some(text),
                Some(m.as_str()),
            ));
        }
    }
}

fn finding(
    rule: &Rule,
    path: Option<&str>,
    line: Option<u32>,
    old_side: bool,
    line_text: Option<&str>,
    matched: Option<&str>,
) -> Finding {
    let shown = line_text.map(|t| t.trim().to_string());
    Finding {
        rule_id: rule.id.clone(),
        title: rule.title.clone(),
        severity: rule.severity,
        category: rule.category.clone(),
        message: rule.render_message(path, line, matched),
        ask: rule.ask.clone(),
        findings: rule.findings.clone(),
        path: path.map(str::to_string),
        line,
        old_side,
        fingerprint: fingerprint(&rule.id, path, shown.as_deref()),
        matched: shown,
        snippet: None,
        acknowledged: None,
    }
}

#[cfg(test)]
mod tests;
