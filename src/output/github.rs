//! `--format github`: GitHub Actions workflow commands, one annotation per finding, and a markdown
//! job summary (written by `check` to `$GITHUB_STEP_SUMMARY` when it is set).
//!
//! A workflow command is a line `::error file=..,line=..,title=..::message`. The runner decodes
//! `%25`, `%0D` and `%0A` in the message, and also `%3A` and `%2C` in property values, so every
//! value is encoded that way: a message holding `::error::`, a newline or `%0A` stays one command
//! with that text, and a path holding `:` or `,` cannot end its property early. Control
//! characters and bidirectional overrides are made visible first, as in the human format.
//!
//! GitHub shows at most [`MAX_PER_TYPE`] annotations of each type (error, warning, notice) per
//! step, so no more are written: one plain line says how many more of each type there are, and
//! that every finding is in the job summary.
//!
//! Nothing else is printed: a line of the report that began with `::` would be a command.

use std::fmt::Write as _;

use super::Report;
use super::human::neutralise;
use crate::finding::{AckSource, Finding};
use crate::rules::Severity;

/// GitHub shows this many annotations of each type per step.
pub const MAX_PER_TYPE: usize = 10;

/// The workflow commands for every finding (at most [`MAX_PER_TYPE`] of each type), then one
/// plain line on those left out, if any, and one summary line.
pub fn render(report: &Report) -> String {
    let mut commands: Vec<String> = report.findings.iter().map(annotation).collect();
    for a in &report.unused_acks {
        commands.push(format!(
            "::notice title={}::{}",
            property("forewarn: unused acknowledgement"),
            data(&format!(
                "The acknowledgement for `{}` ({}) matched no finding; is the rule id right?",
                a.rule_id,
                source(&a.source)
            ))
        ));
    }
    for w in &report.warnings {
        commands.push(format!(
            "::warning title={}::{}",
            property("forewarn"),
            data(w)
        ));
    }
    let mut out = String::new();
    // Errors, warnings, notices: how many were written, and how many left out.
    let kinds = ["error", "warning", "notice"];
    let mut written = [0usize; 3];
    let mut left_out = [0usize; 3];
    for command in &commands {
        let kind = kinds
            .iter()
            .position(|k| command[2..].starts_with(k))
            .unwrap_or(2);
        if written[kind] < MAX_PER_TYPE {
            written[kind] += 1;
            out.push_str(command);
            out.push('\n');
        } else {
            left_out[kind] += 1;
        }
    }
    if left_out.iter().any(|&n| n > 0) {
        let more: Vec<String> = left_out
            .iter()
            .zip(kinds)
            .filter(|(n, _)| **n > 0)
            .map(|(n, kind)| format!("{n} more {}", plural(*n, kind)))
            .collect();
        let _ = writeln!(
            out,
            "forewarn: {} not annotated (GitHub shows {MAX_PER_TYPE} annotations of each type per \
             step); every finding is in the job summary",
            join_and(&more)
        );
    }
    out.push_str(&summary_line(report));
    out.push('\n');
    out
}

/// One finding as `::error|warning|notice file=..,line=..,title=..::message`. Acknowledged
/// findings are notices, whatever their severity.
fn annotation(f: &Finding) -> String {
    let command = match (&f.acknowledged, f.severity) {
        (Some(_), _) | (None, Severity::Note) => "notice",
        (None, Severity::Error) => "error",
        (None, Severity::Warning) => "warning",
    };
    let mut properties = Vec::new();
    if let Some(path) = &f.path {
        properties.push(format!("file={}", property(path)));
        // A removed line counts in the old file; on the new one it would mark another line.
        if let Some(line) = f.line.filter(|_| !f.old_side) {
            properties.push(format!("line={}", line.max(1)));
        }
    }
    let title = match &f.acknowledged {
        Some(_) => format!("{} (acknowledged): {}", f.rule_id, f.title.trim()),
        None => format!("{}: {}", f.rule_id, f.title.trim()),
    };
    properties.push(format!("title={}", property(&title)));

    let mut message = f.message.trim().to_string();
    if let (Some(line), true) = (f.line, f.old_side) {
        let _ = write!(message, "\n(removed line {line} of the old version)");
    }
    if !f.ask.trim().is_empty() {
        let _ = write!(message, "\n\nQuestion: {}", f.ask.trim());
    }
    if !f.findings.is_empty() {
        let _ = write!(message, "\nLessons: {}", f.findings.join(", "));
    }
    match &f.acknowledged {
        Some(ack) => {
            let _ = write!(
                message,
                "\nAcknowledged ({}): {}",
                source(&ack.source),
                ack.reason
            );
        }
        None => {
            let _ = write!(
                message,
                "\nOnce handled, acknowledge it in the pull-request body or a commit: \
                 `Forewarn-Ack: {}: <reason>`",
                f.rule_id
            );
        }
    }
    format!("::{command} {}::{}", properties.join(","), data(&message))
}

/// `forewarn: 1 error, 2 warnings, 0 notes, 1 acknowledged — fails the gate (--fail-on error)`.
fn summary_line(report: &Report) -> String {
    let gate = report.fail_on.map_or("never", Severity::as_str);
    let verdict = if report.fails() {
        "fails the gate"
    } else {
        "passes"
    };
    format!(
        "forewarn: {}, {}, {}, {} acknowledged · {} checked · {} — {verdict} (--fail-on {gate})",
        count(report.count(Severity::Error), "error"),
        count(report.count(Severity::Warning), "warning"),
        count(report.count(Severity::Note), "note"),
        report.acknowledged(),
        count(report.files_checked, "file"),
        count(report.rules_checked, "rule"),
    )
}

fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        noun.to_string()
    } else {
        format!("{noun}s")
    }
}

/// `a`, `a and b`, `a, b and c`.
fn join_and(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

fn source(source: &AckSource) -> String {
    match source {
        AckSource::Trailer { commit } => {
            let short: String = commit.chars().take(12).collect();
            format!("trailer in commit {short}")
        }
        other => other.to_string(),
    }
}

/// A message, encoded as the runner decodes it: `%`, `\r`, `\n`. Other control characters and
/// bidirectional overrides are written as visible escapes (`\x1b`), as in the human format.
pub fn data(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut buf = [0u8; 4];
    for c in text.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            c => out.push_str(&neutralise(c.encode_utf8(&mut buf), false)),
        }
    }
    out
}

/// A property value, encoded as the runner decodes it: as [`data`], and `:` and `,`.
pub fn property(text: &str) -> String {
    data(text).replace(':', "%3A").replace(',', "%2C")
}

/// The job summary: the pull-request comment body, which is what a reader of the run wants too.
pub fn step_summary(report: &Report) -> String {
    super::markdown::render(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::fixtures::{self, HOSTILE};

    /// (command, properties, message).
    type Annotation = (String, Vec<(String, String)>, String);

    /// Decodes a workflow command the way the runner does.
    fn parse(line: &str) -> Annotation {
        let rest = line.strip_prefix("::").expect("a command");
        let (head, message) = rest.split_once("::").expect("a `::` after the properties");
        let (command, props) = head.split_once(' ').unwrap_or((head, ""));
        let decode = |s: &str| {
            s.replace("%0D", "\r")
                .replace("%0A", "\n")
                .replace("%3A", ":")
                .replace("%2C", ",")
                .replace("%25", "%")
        };
        let props = props
            .split(',')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').expect("key=value");
                (k.to_string(), decode(v))
            })
            .collect();
        let message = message
            .replace("%0D", "\r")
            .replace("%0A", "\n")
            .replace("%25", "%");
        (command.to_string(), props, message)
    }

    #[test]
    fn one_annotation_per_finding_at_its_level() {
        let out = render(&fixtures::report());
        let lines: Vec<&str> = out.lines().collect();
        let commands: Vec<String> = lines
            .iter()
            .filter(|l| l.starts_with("::"))
            .map(|l| parse(l).0)
            .collect();
        assert_eq!(
            commands,
            [
                "warning", "warning", "error", "notice", "notice", "notice", "warning"
            ]
        );
        let (_, props, message) = parse(lines[2]);
        assert_eq!(
            props,
            [
                ("file".to_string(), fixtures::MIGRATION_PATH.to_string()),
                ("line".to_string(), "4".to_string()),
                (
                    "title".to_string(),
                    "new-migration-needs-deploy-step: A new migration needs a deploy step"
                        .to_string()
                ),
            ]
        );
        assert!(
            message.contains("\n\nQuestion: Does this migration"),
            "{message}"
        );
        // A removed line names the file but no line of the new version.
        let (_, props, message) = parse(lines[1]);
        assert!(props.iter().all(|(k, _)| k != "line"), "{props:?}");
        assert!(message.contains("removed line 12"), "{message}");
        assert!(
            lines
                .last()
                .unwrap()
                .starts_with("forewarn: 1 error, 2 warnings, 1 note, 1 acknowledged"),
            "{out}"
        );
    }

    #[test]
    fn hostile_text_cannot_inject_a_command() {
        let out = render(&fixtures::hostile_report());
        let mut commands = 0;
        for line in out.lines() {
            if !line.starts_with("::") {
                assert!(line.starts_with("forewarn: "), "stray line: {line:?}");
                continue;
            }
            commands += 1;
            let (command, props, message) = parse(line);
            assert!(["error", "warning", "notice"].contains(&command.as_str()));
            assert!(
                props
                    .iter()
                    .all(|(k, _)| ["file", "line", "title"].contains(&k.as_str()))
            );
            for (key, value) in &props {
                if key == "file" {
                    assert_eq!(value, "evil:dir,name/%0A/a b\n::error::x.py");
                }
            }
            assert!(!message.contains('\x1b') && !message.contains('\u{202e}'));
        }
        assert_eq!(commands, 7, "{out}");
        assert!(!out.contains('\r') && !out.contains('\x1b'));
        // The message keeps the hostile text, decoded back exactly (with controls made visible).
        let (_, _, message) = parse(out.lines().nth(2).unwrap());
        assert!(
            message.contains("message ::error::pwned %0A%25 a\nb\r\n::warning file=x::y"),
            "{message}"
        );
        assert!(HOSTILE.contains("%0A"));
    }

    #[test]
    fn at_most_ten_annotations_of_each_type_and_a_line_for_the_rest() {
        let mut report = fixtures::report();
        let error = report.findings[2].clone();
        let note = report.findings[4].clone();
        report.findings = std::iter::repeat_n(error, 13)
            .chain(std::iter::repeat_n(note, 11))
            .collect();
        let out = render(&report);
        let count = |kind: &str| {
            out.lines()
                .filter(|l| l.starts_with(&format!("::{kind} ")))
                .count()
        };
        // Ten errors of thirteen; ten notices of eleven findings and one unused acknowledgement;
        // the one warning (a refused acknowledgement) fits.
        assert_eq!(
            (count("error"), count("warning"), count("notice")),
            (10, 1, 10)
        );
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines[lines.len() - 2],
            "forewarn: 3 more errors and 2 more notices not annotated (GitHub shows 10 \
             annotations of each type per step); every finding is in the job summary"
        );
        assert!(lines[lines.len() - 1].starts_with("forewarn: 13 errors, 0 warnings, 11 notes"));
        // Under the limit, no such line.
        assert!(!render(&fixtures::report()).contains("not annotated"));
        assert_eq!(
            join_and(&["a".into(), "b".into(), "c".into()]),
            "a, b and c"
        );
    }

    #[test]
    fn encoding() {
        assert_eq!(data("100% a\r\nb::c,d"), "100%25 a%0D%0Ab::c,d");
        assert_eq!(data("\x1b[2J\u{202e}"), "\\x1b[2J\\u{202e}");
        assert_eq!(property("a:b,c%d\ne"), "a%3Ab%2Cc%25d%0Ae");
    }

    #[test]
    fn snapshot() {
        insta::assert_snapshot!(render(&fixtures::report()));
    }
}
