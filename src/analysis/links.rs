//! The links both ways between rules and analysis records: every rule's `findings` point at a
//! real finding, every culprit commit resolves in the repository, and which findings have no rule
//! yet.

use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use super::record::{Analyses, Analysis, AnalysisFinding, Culprit, split_link};
use crate::error::{Error, Result, SourceError};
use crate::rules::Rule;
use crate::rules::load::RuleFile;
use crate::workspace::Workspace;

/// What the link check found that does not stop the run.
#[derive(Debug, Clone, Default)]
pub struct Links {
    pub warnings: Vec<String>,
    /// Culprit commits resolved in this repository.
    pub culprits_resolved: usize,
    /// `(analysis, finding)` pairs no rule in force links to yet.
    pub unlinked: Vec<(String, AnalysisFinding)>,
}

/// Loads the workspace's analysis records.
pub fn load_analyses(workspace: &Workspace) -> Result<Analyses> {
    super::record::load(&workspace.analysis_files)
}

/// The rules in force that link to `link` (`ANALYSIS-ID#FINDING-ID`).
pub fn rules_for<'r>(rules: &'r [Rule], link: &str) -> Vec<&'r Rule> {
    rules
        .iter()
        .filter(|r| r.findings.iter().any(|f| f == link))
        .collect()
}

/// Whether any rule in force links to one of this record's findings.
pub fn finding_has_rule(rules: &[Rule], analysis: &Analysis, finding: &AnalysisFinding) -> bool {
    !rules_for(rules, &analysis.link(finding)).is_empty()
}

/// Just enough of a rule file to find where each finding link was written.
#[derive(Deserialize)]
struct LinkPack {
    #[serde(default)]
    rule: Vec<LinkRule>,
}

#[derive(Deserialize)]
struct LinkRule {
    id: String,
    #[serde(default)]
    findings: Vec<Spanned<String>>,
}

/// Checks the team's rule links against the records. Links in the built-in packs name analyses
/// of the incidents forewarn ships with, which a team's repository need not hold, so they are not
/// checked here.
pub fn check_rule_links(rule_files: &[RuleFile], analyses: &Analyses) -> Vec<SourceError> {
    let mut errors = Vec::new();
    for file in rule_files.iter().filter(|f| !f.builtin) {
        let Ok(pack) = toml::from_str::<LinkPack>(&file.text) else {
            // The rule loader already reported why this file does not parse.
            continue;
        };
        for rule in pack.rule {
            for link in &rule.findings {
                if let Some(e) = dangling(file, &rule.id, link.get_ref(), link.span(), analyses) {
                    errors.push(e);
                }
            }
        }
    }
    errors
}

fn dangling(
    file: &RuleFile,
    rule: &str,
    link: &str,
    span: Range<usize>,
    analyses: &Analyses,
) -> Option<SourceError> {
    // A link that is not `A#F` at all was already refused by the rule loader.
    let (analysis_id, finding_id) = split_link(link)?;
    let error = |message: String| SourceError::new(&file.path, &file.text, span.clone(), message);
    match analyses.get(analysis_id) {
        None => {
            let known: Vec<&str> = analyses.records.iter().map(|a| a.id.as_str()).collect();
            Some(
                error(format!("rule `{rule}` links to analysis `{analysis_id}`, which no record has"))
                    .label("no analysis record with this id")
                    .help(if known.is_empty() {
                        "no analysis records were found; write one with `forewarn analysis new \"<title>\"`, or check `analyses` in forewarn.toml".to_string()
                    } else {
                        format!("the analyses are: {}", known.join(", "))
                    }),
            )
        }
        Some(analysis) if analysis.finding(finding_id).is_none() => {
            let known: Vec<String> = analysis.findings.iter().map(|f| analysis.link(f)).collect();
            Some(
                error(format!(
                    "rule `{rule}` links to finding `{finding_id}` of `{analysis_id}`, which that record does not have"
                ))
                .label(format!("no [[finding]] with id \"{finding_id}\" in {}", analysis.file))
                .help(if known.is_empty() {
                    format!("{} has no findings yet; add one, or remove this link", analysis.file)
                } else {
                    format!("its findings are: {}", known.join(", "))
                }),
            )
        }
        Some(_) => None,
    }
}

/// How a culprit commit resolves in a repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    /// The full commit id.
    Commit(String),
    /// Recorded as living in another repository.
    Elsewhere(String),
    /// Not found (or ambiguous), with git's word on it.
    Missing(String),
}

/// Resolves one culprit commit.
pub fn resolve_culprit(repo: &git2::Repository, culprit: &Culprit) -> Resolved {
    if let Some(other) = &culprit.repository {
        return Resolved::Elsewhere(other.clone());
    }
    match repo
        .revparse_single(&culprit.commit)
        .and_then(|o| o.peel_to_commit())
    {
        Ok(commit) => Resolved::Commit(commit.id().to_string()),
        Err(e) => Resolved::Missing(e.message().to_string()),
    }
}

/// Checks that every culprit commit resolves. Outside a repository, or in a shallow clone where
/// old commits are simply absent, a missing commit is a warning rather than an error.
pub fn check_culprits(
    repo: Option<&git2::Repository>,
    analyses: &Analyses,
    warnings: &mut Vec<String>,
) -> (usize, Vec<SourceError>) {
    let mut errors = Vec::new();
    let mut resolved = 0;
    let culprits: Vec<(&Analysis, &Culprit)> = analyses
        .records
        .iter()
        .flat_map(|a| a.culprits.iter().map(move |c| (a, c)))
        .collect();
    let Some(repo) = repo else {
        if !culprits.is_empty() {
            warnings.push(format!(
                "{} culprit commits were not checked: not inside a git repository",
                culprits.len()
            ));
        }
        return (0, errors);
    };
    for (analysis, culprit) in culprits {
        match resolve_culprit(repo, culprit) {
            Resolved::Commit(_) => resolved += 1,
            Resolved::Elsewhere(_) => {}
            Resolved::Missing(why) if repo.is_shallow() => {
                let (line, col) = crate::error::line_col(&analysis.text, culprit.span.start);
                warnings.push(format!(
                    "{}:{line}:{col}: culprit commit `{}` is not in this shallow clone ({why}); fetch the full history to check it: git fetch --unshallow",
                    analysis.file, culprit.commit
                ));
            }
            Resolved::Missing(why) => errors.push(
                SourceError::new(
                    &analysis.file,
                    &analysis.text,
                    culprit.span.clone(),
                    format!("culprit commit `{}` is not in this repository", culprit.commit),
                )
                .label(why)
                .help("check the id with `git log --oneline`; if the commit lives in another repository, add repository = \"<where>\" to this [[culprit]]"),
            ),
        }
    }
    (resolved, errors)
}

/// Everything `forewarn validate` checks about analyses: the records themselves, the rules' links
/// to them, the culprit commits; and which findings have no rule yet.
pub fn check(workspace: &Workspace) -> Result<(Analyses, Links)> {
    let analyses = load_analyses(workspace)?;
    let mut links = Links {
        warnings: analyses.warnings.clone(),
        ..Links::default()
    };
    let mut errors = check_rule_links(&workspace.rule_files, &analyses);
    let (resolved, mut culprit_errors) =
        check_culprits(workspace.repo.as_ref(), &analyses, &mut links.warnings);
    errors.append(&mut culprit_errors);
    if !errors.is_empty() {
        return Err(Error::Source(errors));
    }
    links.culprits_resolved = resolved;
    for analysis in &analyses.records {
        for finding in &analysis.findings {
            if !finding_has_rule(&workspace.rules.rules, analysis, finding) {
                links.unlinked.push((analysis.id.clone(), finding.clone()));
            }
        }
    }
    Ok((analyses, links))
}

/// The lines `forewarn validate` prints about analyses (stdout).
pub fn summary(analyses: &Analyses, links: &Links) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    if analyses.records.is_empty() {
        return out;
    }
    let findings: usize = analyses.records.iter().map(|a| a.findings.len()).sum();
    let culprits: usize = analyses.records.iter().map(|a| a.culprits.len()).sum();
    let _ = writeln!(
        out,
        "ok: {}, {} ({} with a rule), {} ({} found in this repository)",
        plural(analyses.records.len(), "analysis record"),
        plural(findings, "finding"),
        findings - links.unlinked.len(),
        plural(culprits, "culprit commit"),
        links.culprits_resolved,
    );
    if !links.unlinked.is_empty() {
        let _ = writeln!(
            out,
            "\nfindings with no rule yet (turn one into a rule with `forewarn rule new <rule-id> --finding <link>`):"
        );
        for (analysis, finding) in &links.unlinked {
            let text = one_line(&finding.text, 80);
            let _ = writeln!(
                out,
                "  {analysis}#{}  {}  {}",
                finding.id,
                finding.question.as_str(),
                if text.is_empty() {
                    "(no text yet)"
                } else {
                    &text
                }
            );
        }
    }
    out
}

/// `1 finding`, `2 findings`.
pub fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// The first line of `text`, cut to `max` characters with an ellipsis.
pub fn one_line(text: &str, max: usize) -> String {
    let first = text.trim().lines().next().unwrap_or("");
    if first.chars().count() <= max {
        first.to_string()
    } else {
        let cut: String = first.chars().take(max.saturating_sub(1)).collect();
        format!("{}…", cut.trim_end())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::record;

    fn analyses() -> Analyses {
        record::load(&[RuleFile {
            path: "a.toml".into(),
            text: include_str!("testdata/analysis.toml").into(),
            builtin: false,
        }])
        .unwrap()
    }

    #[test]
    fn dangling_links_point_at_the_link() {
        let text = "[[rule]]\nid = \"r\"\nfindings = [\"2019-07-payments-config-missing#F2\", \"2019-07-payments-config-missing#F9\", \"nope#F1\"]\n";
        let file = RuleFile {
            path: "team.toml".into(),
            text: text.into(),
            builtin: false,
        };
        let errors = check_rule_links(&[file], &analyses());
        let got: Vec<_> = errors
            .iter()
            .map(|e| (e.line_col(), e.message.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    (3, 51),
                    "rule `r` links to finding `F9` of `2019-07-payments-config-missing`, which that record does not have"
                ),
                (
                    (3, 89),
                    "rule `r` links to analysis `nope`, which no record has"
                ),
            ]
        );
        assert!(errors[0].help.as_deref().unwrap().contains("#F1"));
    }

    #[test]
    fn builtin_links_are_not_checked() {
        let file = RuleFile {
            path: "builtin:rules/x.toml".into(),
            text: "[[rule]]\nid = \"r\"\nfindings = [\"nope#F1\"]\n".into(),
            builtin: true,
        };
        assert!(check_rule_links(&[file], &analyses()).is_empty());
    }

    #[test]
    fn one_line_cuts() {
        assert_eq!(one_line("abc\ndef", 10), "abc");
        assert_eq!(one_line("abcdefghij", 5), "abcd…");
    }
}
