//! `--format rdjsonl`: the Reviewdog Diagnostic Format, one JSON object a line, for
//! `forewarn check --format rdjsonl | reviewdog -f=rdjsonl -reporter=github-pr-review`.
//!
//! Each unacknowledged finding is one diagnostic: `message`, `location.path` and
//! `location.range.start` (line and column), `severity` (`ERROR`, `WARNING`, `INFO`),
//! `source.name` (`forewarn`) and `code.value` (the rule id, with `code.url` when the rule
//! names a web page). Reviewdog can only point at the new version of a file, so a finding on a
//! file as a whole is given line 1, one on a removed line the nearest line of the new version
//! (the message names the removed line), and one on the change as a whole `forewarn.toml`
//! line 1. Acknowledged findings are left out: their question has an answer.
//!
//! Text has control characters and bidirectional overrides made visible first, and each object
//! is written on one line (newlines in text are JSON escapes).

use std::fmt::Write as _;

use serde::Serialize;

use super::human::neutralise;
use super::{Report, WHOLE_CHANGE_PATH};
use crate::finding::Finding;
use crate::rules::{Rule, Severity};

#[derive(Serialize)]
struct Diagnostic<'a> {
    message: String,
    location: Location,
    severity: &'static str,
    source: Source,
    code: Code<'a>,
}

#[derive(Serialize)]
struct Location {
    path: String,
    range: Range,
}

#[derive(Serialize)]
struct Range {
    start: Position,
}

#[derive(Serialize)]
struct Position {
    line: u32,
    column: u32,
}

#[derive(Serialize)]
struct Source {
    name: &'static str,
}

#[derive(Serialize)]
struct Code<'a> {
    value: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<&'a str>,
}

/// One diagnostic a line for every unacknowledged finding; nothing at all when there is none.
pub fn render(report: &Report, rules: &[Rule]) -> String {
    let mut out = String::new();
    for f in report.findings.iter().filter(|f| f.acknowledged.is_none()) {
        let url = rules
            .iter()
            .find(|r| *r.id == *f.rule_id)
            .and_then(|r| r.docs.iter().find(|d| is_web_url(d)))
            .map(String::as_str);
        match serde_json::to_string(&diagnostic(report, f, url)) {
            Ok(line) => {
                out.push_str(&line);
                out.push('\n');
            }
            // Cannot happen with these types; a line that is not JSON would break the stream.
            Err(_) => continue,
        }
    }
    out
}

/// Reviewdog's severity for a finding.
pub fn severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "ERROR",
        Severity::Warning => "WARNING",
        Severity::Note => "INFO",
    }
}

fn diagnostic<'a>(report: &Report, f: &Finding, url: Option<&'a str>) -> Diagnostic<'a> {
    let line = report.new_side_line(f).unwrap_or(1).max(1);
    let mut message = format!("{}: {}", f.title.trim(), f.message.trim());
    super::push_where_and_question(&mut message, f, line);
    if !f.findings.is_empty() {
        let _ = write!(message, "\nLessons: {}", f.findings.join(", "));
    }
    let _ = write!(
        message,
        "\nOnce handled, acknowledge it: `Forewarn-Ack: {}: <reason>`",
        f.rule_id
    );
    Diagnostic {
        message: clean(&message),
        location: Location {
            path: clean(f.path.as_deref().unwrap_or(WHOLE_CHANGE_PATH)),
            range: Range {
                start: Position { line, column: 1 },
            },
        },
        severity: severity(f.severity),
        source: Source { name: "forewarn" },
        code: Code {
            value: clean(&f.rule_id),
            url,
        },
    }
}

fn clean(s: &str) -> String {
    neutralise(s, true).into_owned()
}

/// An absolute http(s) URL without spaces or quotes: what a reviewer can open.
fn is_web_url(s: &str) -> bool {
    (s.starts_with("https://") || s.starts_with("http://"))
        && s.len() > "https://".len()
        && !s
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | '"'))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::{Value, json};

    use super::*;
    use crate::output::fixtures::{self, HOSTILE, MIGRATION_PATH};

    fn parse(report: &Report) -> Vec<Value> {
        let out = render(report, &fixtures::rules());
        assert!(out.is_empty() || out.ends_with('\n'));
        out.lines()
            .map(|l| serde_json::from_str(l).expect("each line is one JSON object"))
            .collect()
    }

    #[test]
    fn one_diagnostic_a_line_for_each_unacknowledged_finding() {
        let report = fixtures::report();
        let lines = parse(&report);
        // Five findings, one acknowledged.
        assert_eq!(lines.len(), 4, "{lines:#?}");
        let codes: Vec<&str> = lines
            .iter()
            .map(|d| d["code"]["value"].as_str().unwrap())
            .collect();
        assert_eq!(
            codes,
            [
                "global-config-change",
                "dropped-column",
                "new-migration-needs-deploy-step",
                "too-many-components"
            ]
        );
        let line = &lines[2];
        assert_eq!(line["severity"], "ERROR");
        assert_eq!(line["source"], json!({"name": "forewarn"}));
        assert_eq!(line["code"]["url"], "https://example.com/deploy-steps");
        assert_eq!(
            line["location"],
            json!({"path": MIGRATION_PATH, "range": {"start": {"line": 4, "column": 1}}})
        );
        let message = line["message"].as_str().unwrap();
        assert!(
            message.starts_with("A new migration needs a deploy step: "),
            "{message}"
        );
        assert!(message.contains("\nQuestion: Does this migration"));
        // A file-level finding is given line 1, a change-wide one forewarn.toml line 1.
        assert_eq!(lines[0]["location"]["range"]["start"]["line"], 1);
        assert_eq!(lines[0]["severity"], "WARNING");
        assert!(lines[0]["code"].get("url").is_none());
        assert_eq!(lines[3]["location"]["path"], "forewarn.toml");
        assert_eq!(lines[3]["location"]["range"]["start"]["line"], 1);
        assert_eq!(lines[3]["severity"], "INFO");
    }

    #[test]
    fn a_removed_line_is_shown_at_the_nearest_new_line_and_named() {
        let mut report = fixtures::report();
        let lines = parse(&report);
        assert_eq!(lines[1]["location"]["range"]["start"]["line"], 1);
        report
            .removed_line_anchors
            .insert((Arc::from("db/schema.sql"), 12), 9);
        let lines = parse(&report);
        assert_eq!(lines[1]["location"]["range"]["start"]["line"], 9);
        let message = lines[1]["message"].as_str().unwrap();
        assert!(
            message.contains("removed line 12 of the old version; shown at line 9"),
            "{message}"
        );
    }

    #[test]
    fn nothing_to_say_is_no_line() {
        let mut report = fixtures::report();
        report.findings.retain(|f| f.acknowledged.is_some());
        assert_eq!(render(&report, &[]), "");
    }

    #[test]
    fn hostile_text_stays_one_line_of_data() {
        let out = render(&fixtures::hostile_report(), &fixtures::rules());
        assert_eq!(out.lines().count(), 4, "{out}");
        assert!(!out.contains('\x1b') && !out.contains('\u{202e}') && !out.contains('\r'));
        for line in out.lines() {
            let d: Value = serde_json::from_str(line).unwrap();
            let message = d["message"].as_str().unwrap();
            assert!(
                message.contains("::error::pwned %0A%25 a\nb\\r\n"),
                "{message}"
            );
        }
        assert!(HOSTILE.contains('\x1b'));
    }
}
