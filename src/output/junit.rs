//! `--format junit`: JUnit XML, for CI systems that show test reports (GitLab, Jenkins, Azure).
//!
//! One test case per rule and file (`classname` the rule id, `name` the path, or `(whole change)`
//! for a finding on the change as a whole). A case fails when it holds an unacknowledged finding
//! at or above the gate (the failure lists those findings); a case whose findings are all
//! acknowledged is skipped, with the reasons; the case's other findings are listed in
//! `system-out`. Rules in force that found nothing are one passing case each, so the report
//! counts what was checked.
//!
//! The document is valid against Jenkins' JUnit schema (junit-10.xsd, vendored as
//! tests/schemas/junit-10.xsd): `testsuites` carries no `skipped` count (the one `testsuite`
//! does), and a test case no `file` or `line` (its name is the path; each finding's text says
//! where it is).
//!
//! Every value is XML-escaped; characters XML 1.0 cannot hold at all (most control characters)
//! are written as visible escapes first, as in the human format.

use std::fmt::Write as _;

use super::Report;
use super::human::neutralise;
use crate::finding::{AckSource, Finding};
use crate::rules::{Rule, Severity};

/// The `name` of a case for findings that belong to no one file.
const WHOLE_CHANGE: &str = "(whole change)";

struct Case<'a> {
    rule_id: &'a str,
    path: Option<&'a str>,
    findings: Vec<&'a Finding>,
}

/// The report as a JUnit XML document, ending in a newline.
pub fn render(report: &Report, rules: &[Rule]) -> String {
    let mut cases: Vec<Case<'_>> = Vec::new();
    for f in &report.findings {
        let path = f.path.as_deref();
        match cases
            .iter_mut()
            .find(|c| *c.rule_id == *f.rule_id && c.path == path)
        {
            Some(case) => case.findings.push(f),
            None => cases.push(Case {
                rule_id: &f.rule_id,
                path,
                findings: vec![f],
            }),
        }
    }
    let quiet: Vec<&Rule> = rules
        .iter()
        .filter(|r| !report.findings.iter().any(|f| *f.rule_id == *r.id))
        .collect();

    let failures = cases
        .iter()
        .filter(|c| c.findings.iter().any(|f| f.fails(report.fail_on)))
        .count();
    let skipped = cases
        .iter()
        .filter(|c| c.findings.iter().all(|f| f.acknowledged.is_some()))
        .count();
    let tests = cases.len() + quiet.len();
    let time = format!("{:.3}", report.elapsed.as_secs_f64());

    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"forewarn\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" time=\"{time}\">"
    );
    let _ = writeln!(
        out,
        "  <testsuite name=\"forewarn\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\" time=\"{time}\">"
    );
    let gate = report.fail_on.map_or("never", Severity::as_str);
    let _ = writeln!(
        out,
        "    <properties>\n      <property name=\"comparison\" value=\"{}\"/>\n      <property name=\"fail-on\" value=\"{gate}\"/>\n    </properties>",
        attr(&report.description)
    );
    for case in &cases {
        out.push_str(&test_case(case, report.fail_on));
    }
    for rule in quiet {
        let _ = writeln!(
            out,
            "    <testcase classname=\"{}\" name=\"{WHOLE_CHANGE}\" time=\"0\"/>",
            attr(&rule.id)
        );
    }
    let mut err = String::new();
    for a in &report.unused_acks {
        let _ = writeln!(
            err,
            "note: the acknowledgement for `{}` ({}) matched no finding; is the rule id right?",
            a.rule_id,
            source(&a.source)
        );
    }
    for w in &report.warnings {
        let _ = writeln!(err, "warning: {w}");
    }
    if !err.is_empty() {
        let _ = writeln!(out, "    <system-err>{}</system-err>", body(&err));
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

fn test_case(case: &Case<'_>, fail_on: Option<Severity>) -> String {
    let mut out = format!(
        "    <testcase classname=\"{}\" name=\"{}\" time=\"0\">\n",
        attr(case.rule_id),
        attr(case.path.unwrap_or(WHOLE_CHANGE))
    );

    let failing: Vec<&&Finding> = case.findings.iter().filter(|f| f.fails(fail_on)).collect();
    let first = case.findings[0];
    if let Some(worst) = failing.iter().map(|f| f.severity).max() {
        let text: String = failing
            .iter()
            .map(|f| describe(f))
            .collect::<Vec<_>>()
            .join("\n");
        let _ = writeln!(
            out,
            "      <failure type=\"{}\" message=\"{}\">{}</failure>",
            worst.as_str(),
            attr(&format!("{}: {}", first.rule_id, first.title.trim())),
            body(&text)
        );
    } else if case.findings.iter().all(|f| f.acknowledged.is_some()) {
        let reasons: Vec<&str> = case
            .findings
            .iter()
            .filter_map(|f| f.acknowledged.as_ref().map(|a| a.reason.trim()))
            .collect();
        let _ = writeln!(
            out,
            "      <skipped message=\"{}\"/>",
            attr(&format!("acknowledged: {}", reasons.join("; ")))
        );
    }
    // The rest of the case's findings (acknowledged, or below the gate), in full.
    let rest: Vec<String> = case
        .findings
        .iter()
        .filter(|f| !f.fails(fail_on))
        .map(|f| describe(f))
        .collect();
    if !rest.is_empty() {
        let _ = writeln!(
            out,
            "      <system-out>{}</system-out>",
            body(&rest.join("\n"))
        );
    }
    out.push_str("    </testcase>\n");
    out
}

/// One finding as plain text: where, what, the question, the lessons, the acknowledgement.
fn describe(f: &Finding) -> String {
    let mut out = format!("[{}] {}: {}\n", f.severity, f.rule_id, f.title.trim());
    match (&f.path, f.line, f.old_side) {
        (Some(path), Some(line), false) => {
            let _ = writeln!(out, "at {path}:{line}");
        }
        (Some(path), Some(line), true) => {
            let _ = writeln!(out, "at {path} (removed line {line})");
        }
        (Some(path), None, _) => {
            let _ = writeln!(out, "at {path}");
        }
        (None, _, _) => out.push_str("on the whole change\n"),
    }
    let _ = writeln!(out, "{}", f.message.trim());
    if !f.ask.trim().is_empty() {
        let _ = writeln!(out, "Question: {}", f.ask.trim());
    }
    if !f.findings.is_empty() {
        let _ = writeln!(out, "Lessons: {}", f.findings.join(", "));
    }
    match &f.acknowledged {
        Some(ack) => {
            let _ = writeln!(
                out,
                "Acknowledged ({}): {}",
                source(&ack.source),
                ack.reason.trim()
            );
        }
        None => {
            let _ = writeln!(
                out,
                "Once handled, acknowledge it: Forewarn-Ack: {}: <reason>",
                f.rule_id
            );
        }
    }
    out
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

/// Escapes for element text: `&`, `<`, `>`. Newlines and tabs stay.
fn body(s: &str) -> String {
    escape(s, false)
}

/// Escapes for an attribute value in double quotes; newlines and tabs as character references,
/// so attribute normalisation keeps them.
fn attr(s: &str) -> String {
    escape(s, true)
}

fn escape(s: &str, attribute: bool) -> String {
    let s = neutralise(s, true);
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attribute => out.push_str("&quot;"),
            '\'' if attribute => out.push_str("&apos;"),
            '\n' if attribute => out.push_str("&#10;"),
            '\t' if attribute => out.push_str("&#9;"),
            // Not characters XML can hold, even escaped.
            '\u{fffe}' | '\u{ffff}' => out.push_str("\\u{fffe}"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::fixtures::{self, HOSTILE};

    #[test]
    fn cases_per_rule_and_file_with_failures_and_skips() {
        let out = render(&fixtures::report(), &fixtures::rules());
        assert!(out.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"));
        // 5 cases with findings + 1 rule that found nothing.
        assert!(
            out.contains(
                "<testsuite name=\"forewarn\" tests=\"6\" failures=\"1\" errors=\"0\" skipped=\"1\""
            ),
            "{out}"
        );
        assert!(out.contains(
            "<testcase classname=\"new-migration-needs-deploy-step\" name=\"payments/migrations/0002_gateway_config.py\""
        ), "{out}");
        assert!(out.contains("<failure type=\"error\""), "{out}");
        assert!(
            out.contains("<skipped message=\"acknowledged: the schema dump is generated in CI\"/>"),
            "{out}"
        );
        assert!(
            out.contains(
                "<testcase classname=\"k8s-recreate-strategy\" name=\"(whole change)\" time=\"0\"/>"
            ),
            "{out}"
        );
    }

    #[test]
    fn findings_of_one_rule_and_file_share_a_case() {
        let mut report = fixtures::report();
        let mut second = report.findings[2].clone();
        second.line = Some(9);
        report.findings.push(second);
        let out = render(&report, &[]);
        assert_eq!(
            out.matches("classname=\"new-migration-needs-deploy-step\"")
                .count(),
            1
        );
        assert!(
            out.contains("at payments/migrations/0002_gateway_config.py:9"),
            "{out}"
        );
    }

    #[test]
    fn the_gate_decides_what_fails() {
        let mut report = fixtures::report();
        report.fail_on = Some(Severity::Warning);
        assert!(render(&report, &[]).contains("failures=\"3\""));
        report.fail_on = None;
        let out = render(&report, &[]);
        assert!(
            out.contains("failures=\"0\"") && !out.contains("<failure"),
            "{out}"
        );
    }

    #[test]
    fn hostile_text_is_escaped() {
        let out = render(&fixtures::hostile_report(), &fixtures::rules());
        assert!(!out.contains("<script>") && !out.contains("]]>"), "{out}");
        assert!(!out.contains('\x1b') && !out.contains('\u{202e}') && !out.contains('\r'));
        // Only our own elements: every `<` opens one of them.
        for (i, _) in out.match_indices('<') {
            let tag = &out[i + 1..];
            let name: String = tag
                .trim_start_matches(['/', '?'])
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
            assert!(
                [
                    "xml",
                    "testsuites",
                    "testsuite",
                    "properties",
                    "property",
                    "testcase",
                    "failure",
                    "skipped",
                    "system-out",
                    "system-err"
                ]
                .contains(&name.as_str()),
                "unexpected tag {name:?} in {out}"
            );
        }
        // Attribute values never hold a raw quote or newline.
        for line in out
            .lines()
            .filter(|l| l.trim_start().starts_with("<testcase"))
        {
            assert_eq!(line.matches('"').count() % 2, 0, "{line}");
        }
        assert!(HOSTILE.contains('"'));
    }

    /// Problems `xmllint --schema` finds in `xml` against Jenkins' JUnit schema
    /// (tests/schemas/junit-10.xsd); `None` when xmllint is not installed.
    fn xmllint_problems(xml: &str) -> Option<String> {
        let schema = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/schemas/junit-10.xsd");
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("report.xml");
        std::fs::write(&file, xml).unwrap();
        let out = match std::process::Command::new("xmllint")
            .args(["--noout", "--nonet", "--schema", schema])
            .arg(&file)
            .output()
        {
            Ok(out) => out,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
            Err(e) => panic!("xmllint could not run: {e}"),
        };
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        Some(if out.status.success() {
            String::new()
        } else {
            stderr
        })
    }

    #[test]
    #[allow(clippy::print_stderr)] // says why the check was skipped
    fn valid_against_the_jenkins_junit_schema() {
        let Some(problems) = xmllint_problems("<testsuites/>") else {
            eprintln!(
                "SKIPPED: xmllint is not installed (apt-get install libxml2-utils); \
                 the JUnit report was not checked against tests/schemas/junit-10.xsd"
            );
            return;
        };
        assert_eq!(problems, "");
        let mut empty = fixtures::report();
        empty.findings.clear();
        empty.unused_acks.clear();
        empty.warnings.clear();
        for (report, rules) in [
            (fixtures::report(), fixtures::rules()),
            (fixtures::hostile_report(), fixtures::rules()),
            (fixtures::report(), Vec::new()),
            (empty, fixtures::rules()),
        ] {
            let xml = render(&report, &rules);
            assert_eq!(xmllint_problems(&xml).unwrap(), "", "{xml}");
        }
        // The schema does refuse what Jenkins refuses: a `skipped` count on `testsuites`.
        let refused = xmllint_problems(
            "<testsuites skipped=\"1\"><testsuite name=\"a\" tests=\"0\" failures=\"0\" errors=\"0\"/></testsuites>",
        )
        .unwrap();
        assert!(refused.contains("skipped"), "{refused}");
    }

    #[test]
    fn snapshot() {
        insta::assert_snapshot!(render(&fixtures::report(), &fixtures::rules()));
    }
}
