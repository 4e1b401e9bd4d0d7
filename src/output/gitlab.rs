//! `--format gitlab`: a GitLab Code Quality report (`artifacts:reports:codequality`).
//!
//! A JSON array, one issue per finding: `description`, `check_name` (the rule id), `fingerprint`,
//! `severity` and `location.path` + `location.lines.begin`. Severities map error → `critical`,
//! warning → `minor`, note → `info`; an acknowledged finding stays in the report as `info` with its
//! reason, so the merge-request widget still shows what was answered.
//!
//! GitLab needs a path and a line for every issue: a finding on the whole change points at
//! `forewarn.toml`, and one on a removed line at line 1 of its file (the line is gone). GitLab
//! also keys issues by fingerprint, so a second finding with the same content fingerprint (the
//! same rule, file and matched text twice) gets `-2`, `-3` appended rather than vanish.

use std::collections::HashMap;

use serde::Serialize;

use super::human::neutralise;
use super::{Report, WHOLE_CHANGE_PATH};
use crate::finding::Finding;
use crate::rules::Severity;

#[derive(Serialize)]
struct Issue {
    #[serde(rename = "type")]
    kind: &'static str,
    description: String,
    check_name: String,
    fingerprint: String,
    severity: &'static str,
    categories: [&'static str; 1],
    location: Location,
}

#[derive(Serialize)]
struct Location {
    path: String,
    lines: Lines,
}

#[derive(Serialize)]
struct Lines {
    begin: u32,
}

/// The report as a Code Quality JSON array, ending in a newline.
pub fn render(report: &Report) -> String {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let issues: Vec<Issue> = report
        .findings
        .iter()
        .map(|f| {
            let n = seen.entry(f.fingerprint.as_str()).or_insert(0);
            *n += 1;
            let fingerprint = if *n == 1 {
                f.fingerprint.clone()
            } else {
                format!("{}-{n}", f.fingerprint)
            };
            issue(f, fingerprint)
        })
        .collect();
    match super::json::to_json(&issues) {
        Ok(mut out) => {
            out.push('\n');
            out
        }
        // Cannot happen with these types; an empty report is still a valid one.
        Err(_) => "[]\n".to_string(),
    }
}

/// GitLab's severity for a finding.
pub fn severity(f: &Finding) -> &'static str {
    match (&f.acknowledged, f.severity) {
        (Some(_), _) | (None, Severity::Note) => "info",
        (None, Severity::Warning) => "minor",
        (None, Severity::Error) => "critical",
    }
}

fn issue(f: &Finding, fingerprint: String) -> Issue {
    let mut description = format!("{}: {}", f.title.trim(), f.message.trim());
    if let (Some(line), true) = (f.line, f.old_side) {
        description.push_str(&format!(" (removed line {line})"));
    }
    if !f.ask.trim().is_empty() {
        description.push_str(&format!(" Question: {}", f.ask.trim()));
    }
    if let Some(ack) = &f.acknowledged {
        description.push_str(&format!(" Acknowledged: {}", ack.reason.trim()));
    }
    Issue {
        kind: "issue",
        description: neutralise(&description, true).into_owned(),
        check_name: neutralise(&f.rule_id, false).into_owned(),
        fingerprint,
        severity: severity(f),
        categories: ["Bug Risk"],
        location: Location {
            path: neutralise(f.path.as_deref().unwrap_or(WHOLE_CHANGE_PATH), false).into_owned(),
            lines: Lines {
                begin: f.line.filter(|_| !f.old_side).unwrap_or(1).max(1),
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::output::fixtures::{self, MIGRATION_PATH};

    fn parse(report: &Report) -> Vec<Value> {
        let text = render(report);
        serde_json::from_str(&text).expect("a JSON array")
    }

    #[test]
    fn one_issue_per_finding() {
        let report = fixtures::report();
        let issues = parse(&report);
        assert_eq!(issues.len(), 5);
        assert_eq!(
            issues[2],
            json!({
                "type": "issue",
                "description": format!("A new migration needs a deploy step: {MIGRATION_PATH} adds a migration; in 2019-07 one ran by hand after the code that needed it Question: Does this migration have to run before the new code starts?"),
                "check_name": "new-migration-needs-deploy-step",
                "fingerprint": report.findings[2].fingerprint,
                "severity": "critical",
                "categories": ["Bug Risk"],
                "location": {"path": MIGRATION_PATH, "lines": {"begin": 4}},
            })
        );
        let severities: Vec<&str> = issues
            .iter()
            .map(|i| i["severity"].as_str().unwrap())
            .collect();
        assert_eq!(severities, ["minor", "minor", "critical", "info", "info"]);
        assert_eq!(issues[1]["location"]["lines"]["begin"], 1);
        assert_eq!(issues[4]["location"]["path"], "forewarn.toml");
        assert!(
            issues[3]["description"]
                .as_str()
                .unwrap()
                .contains("Acknowledged: the schema dump")
        );
    }

    #[test]
    fn fingerprints_stay_unique() {
        let mut report = fixtures::report();
        report.findings.push(report.findings[2].clone());
        let issues = parse(&report);
        let first = issues[2]["fingerprint"].as_str().unwrap().to_string();
        assert_eq!(issues[5]["fingerprint"], format!("{first}-2"));
    }

    #[test]
    fn hostile_text_stays_data() {
        let report = fixtures::hostile_report();
        let text = render(&report);
        assert!(!text.contains('\x1b') && !text.contains('\u{202e}'));
        let issues = parse(&report);
        assert_eq!(
            issues[2]["location"]["path"],
            "evil:dir,name/%0A/a b\\n::error::x.py"
        );
    }

    #[test]
    fn snapshot() {
        insta::assert_snapshot!(render(&fixtures::report()));
    }
}
