//! `--format sarif`: SARIF 2.1.0, for GitHub code scanning and any other SARIF viewer.
//!
//! One run. `tool.driver.rules` describes every rule in force (and any rule a finding names that
//! is not, so `ruleIndex` always points somewhere): short and full description, help with the safe
//! procedure, `helpUri` and the default level. Each finding is a result with its location and a
//! content-based `partialFingerprints` entry (rule, path, matched text — never line numbers), so
//! code scanning follows a finding across rebases. An acknowledged finding is a result with an
//! external suppression whose justification is the author's reason. Every result has a location
//! (GitHub rejects the whole log otherwise): one on the whole change points at `forewarn.toml`.
//!
//! The document goes through the same terminal-safe JSON writer as `--format json`.

use std::collections::HashMap;
use std::fmt::Write as _;

use serde::Serialize;

use super::human::neutralise;
use super::{Report, WHOLE_CHANGE_PATH};
use crate::finding::{AckSource, Finding};
use crate::rules::{Rule, Severity};

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
/// The key of forewarn's fingerprint in `partialFingerprints`; bumped if the hash ever changes.
pub const FINGERPRINT_KEY: &str = "forewarn/v1";

#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: [Run<'a>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run<'a> {
    tool: Tool<'a>,
    invocations: [Invocation; 1],
    results: Vec<SarifResult>,
    properties: RunProperties<'a>,
}

#[derive(Serialize)]
struct RunProperties<'a> {
    /// What was compared.
    comparison: &'a str,
    #[serde(rename = "failOn")]
    fail_on: &'static str,
    fails: bool,
}

#[derive(Serialize)]
struct Tool<'a> {
    driver: Driver<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver<'a> {
    name: &'static str,
    version: &'static str,
    semantic_version: &'static str,
    rules: Vec<ReportingDescriptor<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ReportingDescriptor<'a> {
    id: String,
    short_description: Text,
    full_description: Text,
    help: Help,
    #[serde(skip_serializing_if = "Option::is_none")]
    help_uri: Option<&'a str>,
    default_configuration: Configuration,
    properties: RuleProperties,
}

#[derive(Serialize)]
struct RuleProperties {
    category: String,
    tags: Vec<String>,
    /// `ANALYSIS-ID#FINDING-ID` links that motivated the rule.
    findings: Vec<String>,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
struct Text {
    text: String,
}

#[derive(Serialize)]
struct Help {
    text: String,
    markdown: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Invocation {
    execution_successful: bool,
    tool_execution_notifications: Vec<Notification>,
}

#[derive(Serialize)]
struct Notification {
    level: &'static str,
    message: Text,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult {
    rule_id: String,
    rule_index: usize,
    level: &'static str,
    message: Text,
    locations: Vec<Location>,
    partial_fingerprints: HashMap<&'static str, String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    suppressions: Vec<Suppression>,
    properties: ResultProperties,
}

#[derive(Serialize)]
struct ResultProperties {
    category: String,
    findings: Vec<String>,
    /// The question the author should answer.
    ask: String,
    /// For a removed line: its number in the old version of the file (the location names the
    /// file only, since the line is gone from the new version).
    #[serde(rename = "removedLine", skip_serializing_if = "Option::is_none")]
    removed_line: Option<u32>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    physical_location: PhysicalLocation,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<Region>,
}

#[derive(Serialize)]
struct ArtifactLocation {
    uri: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: u32,
}

#[derive(Serialize)]
struct Suppression {
    kind: &'static str,
    status: &'static str,
    justification: String,
}

/// The report as a SARIF 2.1.0 log, ending in a newline.
pub fn render(report: &Report, rules: &[Rule]) -> String {
    let mut descriptors: Vec<ReportingDescriptor<'_>> = rules.iter().map(descriptor).collect();
    let mut index: HashMap<&str, usize> = rules
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id.as_str(), i))
        .collect();
    // A finding whose rule is not among `rules` still gets a descriptor to point at.
    for f in &report.findings {
        if !index.contains_key(&*f.rule_id) {
            index.insert(&f.rule_id, descriptors.len());
            descriptors.push(descriptor_from_finding(f));
        }
    }
    let results = report
        .findings
        .iter()
        .map(|f| result(f, index[&*f.rule_id]))
        .collect();

    let mut notifications: Vec<Notification> = report
        .warnings
        .iter()
        .map(|w| Notification {
            level: "warning",
            message: text(w),
        })
        .collect();
    notifications.extend(report.unused_acks.iter().map(|a| Notification {
        level: "note",
        message: text(&format!(
            "the acknowledgement for `{}` ({}) matched no finding; is the rule id right?",
            a.rule_id,
            ack_source(&a.source)
        )),
    }));

    let log = Log {
        schema: SCHEMA,
        version: "2.1.0",
        runs: [Run {
            tool: Tool {
                driver: Driver {
                    name: "forewarn",
                    version: env!("CARGO_PKG_VERSION"),
                    semantic_version: env!("CARGO_PKG_VERSION"),
                    rules: descriptors,
                },
            },
            invocations: [Invocation {
                execution_successful: true,
                tool_execution_notifications: notifications,
            }],
            results,
            properties: RunProperties {
                comparison: &report.description,
                fail_on: report.fail_on.map_or("never", Severity::as_str),
                fails: report.fails(),
            },
        }],
    };
    match super::json::to_json(&log) {
        Ok(mut out) => {
            out.push('\n');
            out
        }
        // Cannot happen with these types; still, a viewer gets a valid, empty log.
        Err(e) => format!(
            "{}\n",
            serde_json::json!({
                "$schema": SCHEMA,
                "version": "2.1.0",
                "runs": [{
                    "tool": {"driver": {"name": "forewarn"}},
                    "invocations": [{
                        "executionSuccessful": false,
                        "toolExecutionNotifications": [{
                            "level": "error",
                            "message": {"text": format!("the report could not be written as SARIF: {e}")},
                        }],
                    }],
                    "results": [],
                }],
            })
        ),
    }
}

/// SARIF's three levels are forewarn's three severities.
pub fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}

/// Text with control characters and bidirectional overrides made visible (newlines kept).
fn clean(s: &str) -> String {
    neutralise(s, true).into_owned()
}

fn text(s: &str) -> Text {
    Text { text: clean(s) }
}

fn descriptor(rule: &Rule) -> ReportingDescriptor<'_> {
    let full = match &rule.why {
        Some(why) if !why.trim().is_empty() => why.trim().to_string(),
        _ => format!("{} {}", rule.title.trim(), rule.ask.trim()),
    };
    ReportingDescriptor {
        id: clean(&rule.id),
        short_description: text(rule.title.trim()),
        full_description: text(&full),
        help: Help {
            text: clean(&help_text(rule)),
            markdown: clean(&help_markdown(rule)),
        },
        help_uri: rule
            .docs
            .first()
            .map(String::as_str)
            .filter(|u| is_web_url(u)),
        default_configuration: Configuration {
            level: level(rule.severity),
        },
        properties: RuleProperties {
            category: clean(&rule.category),
            tags: tags(&rule.category),
            findings: rule.findings.iter().map(|l| clean(l)).collect(),
        },
    }
}

fn descriptor_from_finding(f: &Finding) -> ReportingDescriptor<'static> {
    let help = format!("Question: {}", f.ask.trim());
    ReportingDescriptor {
        id: clean(&f.rule_id),
        short_description: text(f.title.trim()),
        full_description: text(&format!("{} {}", f.title.trim(), f.ask.trim())),
        help: Help {
            text: clean(&help),
            markdown: clean(&format!("**Question:** {}", f.ask.trim())),
        },
        help_uri: None,
        default_configuration: Configuration {
            level: level(f.severity),
        },
        properties: RuleProperties {
            category: clean(&f.category),
            tags: tags(&f.category),
            findings: f.findings.iter().map(|l| clean(l)).collect(),
        },
    }
}

fn tags(category: &str) -> Vec<String> {
    let mut tags = vec!["deploy-risk".to_string()];
    if !category.is_empty() {
        tags.push(clean(category));
    }
    tags
}

/// Plain help: the question, why it is risky, the safe procedure, the lessons and links.
fn help_text(rule: &Rule) -> String {
    let mut out = format!("{}\n\nQuestion: {}\n", rule.title.trim(), rule.ask.trim());
    if let Some(why) = rule.why.as_deref().filter(|w| !w.trim().is_empty()) {
        let _ = write!(out, "\nWhy it is risky at deploy time:\n{}\n", why.trim());
    }
    if let Some(procedure) = rule.procedure.as_deref().filter(|p| !p.trim().is_empty()) {
        let _ = write!(out, "\nSafe procedure:\n{}\n", procedure.trim());
    }
    if !rule.findings.is_empty() {
        let _ = write!(out, "\nLessons: {}\n", rule.findings.join(", "));
    }
    if !rule.docs.is_empty() {
        let _ = write!(out, "\nMore: {}\n", rule.docs.join(" "));
    }
    out
}

/// The same help as markdown. `why` and `procedure` are markdown already (the rule author wrote
/// them, and the gate decides which rules are in force), so they pass through.
fn help_markdown(rule: &Rule) -> String {
    let mut out = format!(
        "**{}**\n\n**Question:** {}\n",
        rule.title.trim(),
        rule.ask.trim()
    );
    if let Some(why) = rule.why.as_deref().filter(|w| !w.trim().is_empty()) {
        let _ = write!(
            out,
            "\n### Why it is risky at deploy time\n\n{}\n",
            why.trim()
        );
    }
    if let Some(procedure) = rule.procedure.as_deref().filter(|p| !p.trim().is_empty()) {
        let _ = write!(out, "\n### Safe procedure\n\n{}\n", procedure.trim());
    }
    if !rule.findings.is_empty() {
        let links: Vec<String> = rule.findings.iter().map(|l| format!("`{l}`")).collect();
        let _ = write!(out, "\n**Lessons:** {}\n", links.join(", "));
    }
    let docs: Vec<&String> = rule.docs.iter().filter(|d| is_web_url(d)).collect();
    if !docs.is_empty() {
        out.push_str("\n**More:**\n\n");
        for d in docs {
            let _ = writeln!(out, "- <{d}>");
        }
    }
    out
}

/// Only absolute http(s) URLs without spaces or angle brackets become `helpUri` and links: the
/// schema requires a URI there, and a viewer opens it.
fn is_web_url(s: &str) -> bool {
    (s.starts_with("https://") || s.starts_with("http://"))
        && s.len() > "https://".len()
        && !s
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | '"'))
}

fn result(f: &Finding, rule_index: usize) -> SarifResult {
    let mut message = f.message.trim().to_string();
    if !f.ask.trim().is_empty() {
        let _ = write!(message, "\nQuestion: {}", f.ask.trim());
    }
    if let Some(ack) = &f.acknowledged {
        let _ = write!(
            message,
            "\nAcknowledged ({}): {}",
            ack_source(&ack.source),
            ack.reason
        );
    }
    // GitHub code scanning rejects a whole log if one result has no location, so a finding on
    // the change as a whole is anchored at the file that sets the team's limits.
    let locations = vec![Location {
        physical_location: PhysicalLocation {
            artifact_location: ArtifactLocation {
                uri: relative_uri(f.path.as_deref().unwrap_or(WHOLE_CHANGE_PATH)),
            },
            // A removed line's number counts in the old file: in the new one it would point at
            // some other line.
            region: f
                .line
                .filter(|_| !f.old_side && f.path.is_some())
                .map(|l| Region {
                    start_line: l.max(1),
                }),
        },
    }];
    SarifResult {
        rule_id: clean(&f.rule_id),
        rule_index,
        level: level(f.severity),
        message: text(&message),
        locations,
        partial_fingerprints: HashMap::from([(FINGERPRINT_KEY, f.fingerprint.clone())]),
        suppressions: f
            .acknowledged
            .iter()
            .map(|a| Suppression {
                kind: "external",
                status: "accepted",
                justification: clean(&a.reason),
            })
            .collect(),
        properties: ResultProperties {
            category: clean(&f.category),
            findings: f.findings.iter().map(|l| clean(l)).collect(),
            ask: clean(f.ask.trim()),
            removed_line: f.line.filter(|_| f.old_side),
        },
    }
}

fn ack_source(source: &AckSource) -> String {
    match source {
        AckSource::Trailer { commit } => {
            let short: String = commit.chars().take(12).collect();
            format!("trailer in commit {short}")
        }
        other => other.to_string(),
    }
}

/// A repository-relative path as a relative URI reference: every byte but unreserved characters
/// and `/` percent-encoded, so `:` cannot start a scheme, `#` a fragment or `?` a query, and a
/// leading `/` is encoded so the reference stays relative.
pub fn relative_uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for (i, b) in path.bytes().enumerate() {
        let keep = b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'.' | b'_' | b'~')
            || (b == b'/' && i > 0);
        if keep {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::output::fixtures::{self, HOSTILE, MIGRATION_PATH};

    fn parse(report: &Report, rules: &[Rule]) -> Value {
        let text = render(report, rules);
        assert!(text.ends_with('\n'));
        serde_json::from_str(&text).expect("valid JSON")
    }

    #[test]
    fn one_run_with_every_rule_in_force_and_the_missing_ones() {
        let doc = parse(&fixtures::report(), &fixtures::rules());
        assert_eq!(doc["version"], "2.1.0");
        let runs = doc["runs"].as_array().unwrap();
        assert_eq!(runs.len(), 1);
        let rules = runs[0]["tool"]["driver"]["rules"].as_array().unwrap();
        let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
        assert_eq!(
            ids,
            [
                "new-migration-needs-deploy-step",
                "migration-without-schema-dump",
                "dropped-column",
                "global-config-change",
                "k8s-recreate-strategy",
                "too-many-components",
            ]
        );
        let rule = &rules[0];
        assert_eq!(
            rule["shortDescription"]["text"],
            "A new migration needs a deploy step"
        );
        assert_eq!(
            rule["fullDescription"]["text"],
            "The new code can start before the step has run."
        );
        assert_eq!(rule["helpUri"], "https://example.com/deploy-steps");
        assert_eq!(rule["defaultConfiguration"]["level"], "error");
        let help = rule["help"]["text"].as_str().unwrap();
        assert!(
            help.contains("Safe procedure:\n1. Run the migration in a pre-deploy job."),
            "{help}"
        );
        let markdown = rule["help"]["markdown"].as_str().unwrap();
        assert!(markdown.contains("### Safe procedure"), "{markdown}");
        // A docs entry that is not a URL is not a helpUri.
        assert!(rules[3].get("helpUri").is_none());
    }

    #[test]
    fn results_point_at_rules_lines_and_fingerprints() {
        let report = fixtures::report();
        let doc = parse(&report, &fixtures::rules());
        let rules = &doc["runs"][0]["tool"]["driver"]["rules"];
        let results = doc["runs"][0]["results"].as_array().unwrap();
        assert_eq!(results.len(), report.findings.len());
        for (r, f) in results.iter().zip(&report.findings) {
            let index = r["ruleIndex"].as_u64().unwrap() as usize;
            assert_eq!(rules[index]["id"], r["ruleId"]);
            assert_eq!(r["ruleId"], &*f.rule_id);
            assert_eq!(
                r["partialFingerprints"][FINGERPRINT_KEY],
                f.fingerprint.as_str()
            );
        }
        let line = &results[2];
        assert_eq!(line["level"], "error");
        assert_eq!(
            line["locations"][0]["physicalLocation"],
            json!({"artifactLocation": {"uri": MIGRATION_PATH}, "region": {"startLine": 4}})
        );
        // A removed line names the file, not a line of the new version.
        let removed = &results[1];
        assert!(removed["locations"][0]["physicalLocation"]["region"].is_null());
        assert_eq!(removed["properties"]["removedLine"], 12);
        // A change-wide finding is anchored at forewarn.toml: GitHub needs a location.
        assert_eq!(
            results[4]["locations"][0]["physicalLocation"],
            json!({"artifactLocation": {"uri": "forewarn.toml"}})
        );
    }

    #[test]
    fn fingerprints_ignore_line_numbers() {
        let mut moved = fixtures::report();
        moved.findings[2].line = Some(40);
        let a = parse(&fixtures::report(), &[]);
        let b = parse(&moved, &[]);
        assert_eq!(
            a["runs"][0]["results"][2]["partialFingerprints"],
            b["runs"][0]["results"][2]["partialFingerprints"]
        );
    }

    #[test]
    fn acknowledged_findings_are_external_suppressions() {
        let doc = parse(&fixtures::report(), &fixtures::rules());
        let results = doc["runs"][0]["results"].as_array().unwrap();
        assert_eq!(
            results[3]["suppressions"],
            json!([{"kind": "external", "status": "accepted",
                    "justification": "the schema dump is generated in CI"}])
        );
        assert!(results[2].get("suppressions").is_none());
    }

    #[test]
    fn warnings_and_unused_acknowledgements_are_notifications() {
        let doc = parse(&fixtures::report(), &[]);
        let notes = &doc["runs"][0]["invocations"][0]["toolExecutionNotifications"];
        assert_eq!(notes[0]["level"], "warning");
        assert_eq!(notes[1]["level"], "note");
        assert!(
            notes[1]["message"]["text"]
                .as_str()
                .unwrap()
                .contains("no-such-rule")
        );
    }

    #[test]
    fn paths_become_relative_uri_references() {
        assert_eq!(relative_uri("src/a b.py"), "src/a%20b.py");
        assert_eq!(relative_uri("c:/x#y?z"), "c%3A/x%23y%3Fz");
        assert_eq!(relative_uri("/etc/passwd"), "%2Fetc/passwd");
        assert_eq!(relative_uri("é"), "%C3%A9");
        assert_eq!(relative_uri("100%"), "100%25");
    }

    #[test]
    fn hostile_text_stays_data() {
        let text = render(&fixtures::hostile_report(), &fixtures::rules());
        assert!(
            !text.contains('\x1b') && !text.contains('\u{202e}'),
            "{text}"
        );
        let doc: Value = serde_json::from_str(&text).unwrap();
        let result = &doc["runs"][0]["results"][2];
        let message = result["message"]["text"].as_str().unwrap();
        assert!(
            message.contains("::error::pwned %0A%25 a\nb\\r\n"),
            "{message}"
        );
        assert_eq!(
            result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "evil%3Adir%2Cname/%250A/a%20b%0A%3A%3Aerror%3A%3Ax.py"
        );
        assert!(HOSTILE.contains('\x1b'));
    }

    /// Validates against the official SARIF 2.1.0 schema (vendored in tests/schemas), offline: the
    /// schema's own `$ref`s are local, and nothing is fetched.
    fn assert_valid_sarif(doc: &Value) {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/schemas/sarif-2.1.0.json"
        );
        let schema: Value = serde_json::from_str(
            &std::fs::read_to_string(path).expect("the SARIF schema vendored in tests/schemas"),
        )
        .expect("the schema is JSON");
        let validator = jsonschema::options()
            .offline()
            .should_validate_formats(true)
            .build(&schema)
            .expect("the schema compiles offline");
        let errors: Vec<String> = validator
            .iter_errors(doc)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{errors:#?}\n{doc:#}");
    }

    #[test]
    fn validates_against_the_sarif_schema() {
        assert_valid_sarif(&parse(&fixtures::report(), &fixtures::rules()));
        assert_valid_sarif(&parse(&fixtures::hostile_report(), &fixtures::rules()));
        assert_valid_sarif(&parse(&fixtures::report(), &[]));
        let mut empty = fixtures::report();
        empty.findings.clear();
        empty.unused_acks.clear();
        empty.warnings.clear();
        assert_valid_sarif(&parse(&empty, &[]));
        // The validator does catch a broken log.
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/schemas/sarif-2.1.0.json"
        );
        let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let validator = jsonschema::options().offline().build(&schema).unwrap();
        let mut broken = parse(&fixtures::report(), &[]);
        broken["runs"][0]["results"][0]["level"] = json!("fatal");
        assert!(!validator.is_valid(&broken));
    }

    #[test]
    fn snapshot() {
        insta::assert_snapshot!(render(&fixtures::report(), &fixtures::rules()));
    }
}
